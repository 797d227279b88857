//! The canonical page builds the tree the raw page builds: checked on every HTML fixture of
//! the repository and on markup real forums, leak sites and t.me pages use (comments, inline
//! scripts comparing with `<`, quoted `>` in attributes, `<br/>`, unclosed `<p>` and `<li>`,
//! tables without `<tbody>`, entities, conditional comments, inline SVG icons).
//! Over the html5lib tree-construction tests, see `examples/fidelity.rs`.

mod support;

use scraper::Html;
use support::signature::signature;

fn same_tree(page: &str, what: &str) {
    let theirs = Html::parse_document(page);
    let ours = vigie_html::parse_document(page, vigie_html::DEFAULT_MAX_DEPTH)
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(signature(&ours, true), signature(&theirs, true), "{what}");
}

#[test]
fn repository_fixtures_parse_to_the_same_tree() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures");
    let mut pending = vec![std::path::PathBuf::from(root)];
    let mut seen = 0;
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "html" || e == "htm") {
                let bytes = std::fs::read(&path).unwrap();
                same_tree(
                    &String::from_utf8_lossy(&bytes),
                    &path.display().to_string(),
                );
                seen += 1;
            }
        }
    }
    assert!(seen >= 4, "{seen} fixtures");
}

#[test]
fn markup_real_pages_use_parses_to_the_same_tree() {
    let pages = [
        "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\" \
         \"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd\">\
         <html xmlns=\"http://www.w3.org/1999/xhtml\" dir=\"ltr\" lang=\"fr\"><head>\
         <meta http-equiv=\"content-type\" content=\"text/html; charset=UTF-8\" />\
         <!--[if lt IE 9]><script src=\"html5.js\"></script><![endif]-->\
         <script>var a = 1; if (a < 2 && a > 0) { document.write('<b>x</b>'); }</script>\
         </head><body id=\"phpbb\" class=\"section-viewtopic ltr\">\
         <div class=\"post bg2\" id=\"p1\"><div class=\"inner\"><span class=\"corners-top\"><span></span></span>\
         <p class=\"author\"><a href=\"./viewtopic.php?p=1#p1\"><img src=\"icon_post_target.gif\" \
         alt=\"Message\" title=\"Message\" /></a>par <strong><a href=\"./memberlist.php?mode=viewprofile&amp;u=2\" \
         style=\"color: #AA0000;\" class=\"username-coloured\">admin</a></strong> &raquo; 12 nov. 2026, 10:21 </p>\
         <div class=\"content\">Vends base CH <br />nom;prenom;nir<br />a;b;1 85 05<br/>\
         <dl class=\"codebox\"><dt>Code:</dt><dd><code>nom\tnir<br />x\t1</code></dd></dl>\
         <blockquote><div><cite>user a écrit :</cite>quoted</div></blockquote></div></div></div>\
         <ul><li>one<li>two</ul><p>para<p>next<table><tr><td>c1<td>c2</table>\
         <a title=\"a > b\" href='x?a=1&b=2'>link</a></body></html>",
        "<html><body><div class=\"card\"><h3>Hôpital X</h3><svg class=\"icon\" viewBox=\"0 0 24 24\">\
         <title>clock</title><path d=\"M12 2a10 10 0 1 0 0 20\"/></svg><span class=\"timer\" \
         data-end=\"1764500000\">2d 11h</span><p>Data: 120 GB</p><a href=\"/post/x\">Read more</a>\
         </div><noscript><img src=\"/pixel\"></noscript><div class=card>Next &amp; last</div>",
        "<div class=\"tgme_widget_message_text js-message_text\" dir=\"auto\">Base <b>CHU</b> \
         <a href=\"https://t.me/+AbCd\" target=\"_blank\" rel=\"noopener\">join</a><br/>\
         <i class=\"emoji\" style=\"background-image:url('//telegram.org/img/emoji/40/F09F94A5.png')\">\
         <b>🔥</b></i></div><div class=\"tgme_widget_message_footer\"><time datetime=\"2026-11-01T10:00:00+00:00\">10:00</time></div>",
    ];
    for (i, page) in pages.iter().enumerate() {
        same_tree(page, &format!("page {i}"));
    }
}

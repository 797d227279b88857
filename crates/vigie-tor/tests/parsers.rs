//! The shipped selector sets against markup in the shape each engine really produces.

use vigie_tor::{parse_page, CompiledSelectors, Selectors};

fn parse(engine: &str, html: &str) -> vigie_tor::ParsedPage {
    let sel = CompiledSelectors::new(&Selectors::preset(engine).unwrap()).unwrap();
    let base = url::Url::parse("http://forum.example.onion/threads/").unwrap();
    parse_page(html, &base, Some(&sel), vigie_html::DEFAULT_MAX_DEPTH).unwrap()
}

#[test]
fn xenforo_thread_list_and_posts() {
    let list = r#"<div class="structItem structItem--thread js-inlineModContainer">
      <div class="structItem-cell structItem-cell--main"><div class="structItem-title">
        <a href="/threads/ch-dax-database.1234/" data-tp-primary="on">CH Dax database 2024</a></div></div></div>
      <div class="structItem structItem--thread"><div class="structItem-title">
        <a href="/forums/selling/?prefix_id=3" class="labelLink"><span class="label">Selling</span></a>
        <a href="/threads/pharmacy-logins.1240/" data-tp-primary="on">pharmacy logins</a></div></div>
      <nav class="pageNavWrapper"><a href="/forums/databases.5/page-2" class="pageNav-jump pageNav-jump--next">Next</a></nav>"#;
    let p = parse("xenforo", list);
    let links: Vec<&str> = p.thread_links.iter().map(|u| u.path()).collect();
    assert_eq!(
        links,
        [
            "/threads/ch-dax-database.1234/",
            "/threads/pharmacy-logins.1240/"
        ]
    );
    assert_eq!(p.next_page.unwrap().path(), "/forums/databases.5/page-2");
    assert_eq!(p.counts["thread_link"], 2);

    let thread = r#"<h1 class="p-title-value">CH Dax database 2024</h1>
      <article class="message message--post js-post" data-author="darkmed" id="js-post-99881">
        <div class="message-user"><h4 class="message-name"><a href="/members/darkmed.77/" class="username">darkmed</a></h4></div>
        <div class="message-main"><div class="message-attribution"><time class="u-dt" datetime="2026-11-18T21:04:11+0300">Nov 18</time></div>
        <div class="message-body js-selectToQuote"><div class="bbWrapper">Selling CH Dax patient DB, 300k rows<br />sample:<br />id|nom|nir</div></div></div>
      </article>"#;
    let p = parse("xenforo", thread);
    assert_eq!(p.posts.len(), 1);
    let post = &p.posts[0];
    assert_eq!(post.id, "js-post-99881");
    assert_eq!(post.author, "darkmed");
    assert_eq!(post.date, "2026-11-18T21:04:11+0300");
    assert_eq!(post.title, "CH Dax database 2024");
    assert_eq!(
        post.body,
        "Selling CH Dax patient DB, 300k rows\nsample:\nid|nom|nir"
    );
}

#[test]
fn mybb_thread_list_and_posts() {
    let list = r#"<table><tr class="inline_row"><td><span class=" subject_new" id="tid_512"><a href="showthread.php?tid=512">[FR] Clinique leak</a></span></td></tr>
      <tr class="inline_row"><td><span class=" subject_old" id="tid_510"><a href="showthread.php?tid=510">Old thread</a></span></td></tr></table>
      <div class="pagination"><a href="forumdisplay.php?fid=2&amp;page=2" class="pagination_next">Next &raquo;</a></div>"#;
    let p = parse("mybb", list);
    assert_eq!(p.thread_links.len(), 2);
    assert_eq!(p.thread_links[0].query(), Some("tid=512"));
    assert_eq!(p.next_page.unwrap().query(), Some("fid=2&page=2"));
    let thread = r#"<table><tr><td class="thead"><strong>[FR] Clinique leak</strong></td></tr></table>
      <div class="post " style="" id="post_4411">
        <div class="post_author"><div class="author_information"><strong><span class="largetext"><a href="member.php?uid=9">vendeur</a></span></strong></div></div>
        <div class="post_content"><div class="post_head"><span class="post_date">19-11-2026, 10:12 PM</span></div>
        <div class="post_body scaleimages" id="pid_4411">Base clinique, 45 000 patients. Prix 1500$</div></div></div>"#;
    let p = parse("mybb", thread);
    assert_eq!(p.posts.len(), 1);
    let post = &p.posts[0];
    assert_eq!(
        (post.id.as_str(), post.author.as_str()),
        ("post_4411", "vendeur")
    );
    assert_eq!(post.date, "19-11-2026, 10:12 PM");
    assert_eq!(post.body, "Base clinique, 45 000 patients. Prix 1500$");
}

#[test]
fn leak_site_victims_and_the_generic_reader() {
    let html = r#"<html><head><title>Leaks</title><script>alert(1)</script></head><body>
      <div class="post-block"><div class="post-title">Hopital Exemple</div><div class="post-block-text">Patient records, 2 TB</div>
      <div class="post-date">2026-11-10</div><span class="data-size">2 TB</span></div>
      <table><tr><td>DUPONT</td><td>Jean</td><td>1850575123456 44</td></tr></table></body></html>"#;
    let p = parse("leak-site", html);
    assert_eq!(p.posts.len(), 1);
    assert_eq!(p.posts[0].title, "Hopital Exemple");
    assert_eq!(p.posts[0].data_size, "2 TB");
    assert_eq!(p.posts[0].date, "2026-11-10");
    assert!(!p.text.contains("alert(1)"), "scripts are not text");
    assert!(
        p.text
            .lines()
            .any(|l| l == "DUPONT\tJean\t1850575123456 44"),
        "table rows stay delimited: {}",
        p.text
    );
    assert_eq!(p.title, "Leaks");
}

#[test]
fn decoding_refuses_a_compression_bomb_but_reads_real_gzip() {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    for _ in 0..64 {
        gz.write_all(&[0u8; 1 << 20]).unwrap();
    }
    let bomb = gz.finish().unwrap();
    assert!(bomb.len() < 200_000);
    let err = vigie_tor::decode("gzip", &bomb, 8 << 20).unwrap_err();
    assert!(err.to_string().contains("compression bomb"), "{err}");
    assert_eq!(err.retry(), vigie_tor::Retry::Never);

    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    z.write_all(b"<p>hello</p>").unwrap();
    assert_eq!(
        vigie_tor::decode("deflate", &z.finish().unwrap(), 1024).unwrap(),
        b"<p>hello</p>"
    );
    let mut d = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
    d.write_all(b"raw deflate").unwrap();
    assert_eq!(
        vigie_tor::decode("deflate", &d.finish().unwrap(), 1024).unwrap(),
        b"raw deflate"
    );
    assert!(vigie_tor::decode("gzip", b"not gzip", 1024).is_err());
}

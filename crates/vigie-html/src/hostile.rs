//! Attacker-shaped pages, generated to a size, for the tests and the benchmark of every stage
//! that reads HTML. Each case targets a known weak point of HTML parsers: nesting the tree
//! builder cannot see closed, the adoption agency and formatting-element reconstruction, tables
//! and lists left open, sibling and attribute counts, huge text nodes, foreign content, broken
//! entities, NUL bytes and mixed encodings.

/// One generated page.
#[derive(Debug, Clone)]
pub struct Case {
    /// Short name, stable across runs (used in test messages and benchmark tables).
    pub name: &'static str,
    /// The page, at least the requested size.
    pub html: String,
}

/// Every case, each at least `bytes` long (a few hundred bytes more at most).
pub fn cases(bytes: usize) -> Vec<Case> {
    let case = |name, html| Case { name, html };
    vec![
        case("ignored-end-tags", repeat_to("<div></x>", bytes)),
        case("unclosed-divs", repeat_to("<div>", bytes)),
        // As deep as the default limit allows, then end tags that match nothing: each one
        // walks the whole stack of open elements.
        case(
            "spans-then-ignored-end-tags",
            "<span>".repeat(crate::DEFAULT_MAX_DEPTH - 4) + &repeat_to("</x>", bytes),
        ),
        case(
            "reconstructed-formatting",
            numbered_to(bytes, |i| format!("<p><b x={i}></p>")),
        ),
        case(
            "adoption-agency",
            numbered_to(bytes, |i| format!("<a id={i}><div><b>x</a>y</b>")),
        ),
        case("unclosed-formatting", repeat_to("<b><i><u><s>", bytes)),
        case("unclosed-tables", repeat_to("<table><tr><td>", bytes)),
        case("foster-parented-text", repeat_to("<table>text<tr>", bytes)),
        case("unclosed-lists", repeat_to("<ul><li>", bytes)),
        case("siblings", repeat_to("<p>x</p>", bytes)),
        case("one-huge-attribute-list", {
            let mut s = String::from("<div");
            let mut i = 0u64;
            while s.len() < bytes {
                s.push_str(&format!(" a{i}"));
                i += 1;
            }
            s + ">Hôpital</div>"
        }),
        case(
            "many-attribute-lists",
            numbered_to(bytes, |i| {
                let attrs: String = (0..200).map(|a| format!(" a{a}={i}")).collect();
                format!("<div{attrs}></div>")
            }),
        ),
        case(
            "huge-text-node",
            format!("<div>{}</div>", "CHU de Lyon vends ".repeat(bytes / 18 + 1)),
        ),
        case("nested-svg", repeat_to("<svg><g>", bytes)),
        case("nested-math", repeat_to("<math><mi>", bytes)),
        case("nested-templates", repeat_to("<template>", bytes)),
        case(
            "broken-entities",
            repeat_to("&#x110000;&#99999999999;&amp&bogus;&#;&", bytes),
        ),
        case("nul-bytes", repeat_to("<p\0 a\0=\0>\0text\0</p\0>", bytes)),
        case(
            "unclosed-comment",
            String::from("<!--") + &repeat_to("<div>-- -!>", bytes),
        ),
        case("lone-angle-brackets", repeat_to("<<<</><!<?>", bytes)),
        case("mixed-encodings", {
            // Windows-1252 and UTF-16 bytes spliced into UTF-8, decoded as a fetcher would.
            let mut raw = Vec::with_capacity(bytes + 64);
            while raw.len() < bytes {
                raw.extend_from_slice(b"<p>H\xf4pital \xe9t\xe9</p>");
                raw.extend_from_slice(&[0xff, 0xfe, b'<', 0, b'b', 0, b'>', 0]);
                raw.extend_from_slice("<p>Médecin</p>".as_bytes());
            }
            String::from_utf8_lossy(&raw).into_owned()
        }),
    ]
}

/// An ordinary forum page of about `bytes`, the baseline the hostile cases are compared to.
pub fn ordinary_forum_page(bytes: usize) -> String {
    let mut s = String::from(
        "<!DOCTYPE html><html><head><meta charset=utf-8><title>Forum</title>\
         <style>.post{margin:0}</style></head><body><div id=wrap><div class=page-body>",
    );
    let mut i = 0u64;
    while s.len() < bytes {
        s.push_str(&format!(
            "<div id=p{i} class=\"post bg2\"><div class=inner><div class=postbody>\
             <h3><a href=\"#p{i}\">Re: Vente base patients</a></h3>\
             <p class=author><a href=\"./memberlist.php?u={i}\" class=username>user{i}</a> \
             <time datetime=\"2026-11-0{d}T10:00:00+00:00\">Nov {d}</time></p>\
             <div class=content>Je vends la base du CH de <b>Valence</b>, {i} lignes.<br>\
             Contact en MP.<table><tr><td>nom</td><td>nir</td></tr></table></div>\
             </div></div></div>\n",
            d = i % 9 + 1
        ));
        i += 1;
    }
    s + "</div></div></body></html>"
}

fn repeat_to(unit: &str, bytes: usize) -> String {
    unit.repeat(bytes / unit.len().max(1) + 1)
}

fn numbered_to(bytes: usize, unit: impl Fn(u64) -> String) -> String {
    let mut s = String::with_capacity(bytes + 256);
    let mut i = 0u64;
    while s.len() < bytes {
        s.push_str(&unit(i));
        i += 1;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_case_reaches_its_size() {
        for c in cases(10_000) {
            assert!(
                c.html.len() >= 10_000,
                "{} is {} bytes",
                c.name,
                c.html.len()
            );
            assert!(
                c.html.len() < 14_200,
                "{} is {} bytes",
                c.name,
                c.html.len()
            );
        }
        assert!(ordinary_forum_page(10_000).len() >= 10_000);
    }
}

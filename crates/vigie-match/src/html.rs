//! HTML to text: scripts, styles and templates dropped, entities decoded, block elements and
//! table cells turned into line breaks and tabs (so a leaked table still reads as rows).

use ego_tree::iter::Edge;
use scraper::{Html, Node};

/// Whether the start of a document looks like HTML.
pub fn looks_like_html(head: &[u8]) -> bool {
    let head = &head[..head.len().min(2048)];
    let lower = String::from_utf8_lossy(head).to_ascii_lowercase();
    let trimmed = lower.trim_start_matches('\u{feff}').trim_start();
    trimmed.starts_with("<!doctype html")
        || trimmed.starts_with("<html")
        || trimmed.starts_with("<head")
        || trimmed.starts_with("<body")
        || (trimmed.starts_with('<') && (lower.contains("<div") || lower.contains("<p>")))
}

/// Documents nested deeper than this (or with more unclosed tags) are not given to the HTML
/// parser, whose tree-building is quadratic in nesting depth: they are stripped of tags instead.
pub const MAX_NESTING: usize = 1024;

/// Drops tags and the content of scripts and styles, in one linear pass (no tree building).
/// Entities are left for the normaliser, which decodes them.
pub fn strip_tags(html: &str) -> String {
    let b = html.as_bytes();
    let mut out = String::with_capacity(html.len() / 2);
    let mut i = 0;
    while i < b.len() {
        let Some(p) = memchr::memchr(b'<', &b[i..]) else {
            out.push_str(&html[i..]);
            break;
        };
        out.push_str(&html[i..i + p]);
        let tag_start = i + p;
        let Some(q) = memchr::memchr(b'>', &b[tag_start..]) else {
            break;
        };
        let tag_end = tag_start + q + 1;
        let name: String = html[tag_start + 1..tag_end]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        i = tag_end;
        if vigie_core::html_hidden_element(&name) {
            let close = format!("</{name}");
            let rest = html[i..].to_ascii_lowercase();
            i = rest.find(&close).map_or(b.len(), |c| i + c);
        } else if vigie_core::html_block_element(&name) || vigie_core::html_void_element(&name) {
            out.push('\n');
        }
    }
    out
}

/// The readable text of an HTML document.
pub fn html_to_text(html: &str) -> String {
    if vigie_core::html_nesting_exceeds(html, MAX_NESTING) {
        tracing::warn!(
            bytes = html.len(),
            "html nested too deep for the parser, stripping tags instead"
        );
        return strip_tags(html);
    }
    let doc = Html::parse_document(html);
    let mut out = String::with_capacity(html.len() / 2);
    let mut hidden = 0usize;
    for edge in doc.tree.root().traverse() {
        match edge {
            Edge::Open(node) => match node.value() {
                Node::Element(e) => {
                    let name = e.name();
                    if vigie_core::html_hidden_element(name) {
                        hidden += 1;
                    } else if hidden == 0 {
                        if vigie_core::html_block_element(name)
                            && !out.ends_with('\n')
                            && !out.is_empty()
                        {
                            out.push('\n');
                        } else if matches!(name, "td" | "th") && !out.ends_with(['\n', '\t']) {
                            out.push('\t');
                        }
                    }
                }
                Node::Text(t) if hidden == 0 => out.push_str(t),
                _ => {}
            },
            Edge::Close(node) => {
                if let Node::Element(e) = node.value() {
                    let name = e.name();
                    if vigie_core::html_hidden_element(name) {
                        hidden = hidden.saturating_sub(1);
                    } else if hidden == 0
                        && vigie_core::html_block_element(name)
                        && !out.ends_with('\n')
                    {
                        out.push('\n');
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_dropped_entities_decoded_cells_split() {
        let html = "<html><head><title>Vente</title><style>p{}</style></head><body>\
                    <script>var MedecinDirect = 1;</script><p>M&eacute;decin&nbsp;Direct</p>\
                    <table><tr><td>a</td><td>b</td></tr></table></body></html>";
        let text = html_to_text(html);
        assert!(text.contains("Vente"));
        assert!(text.contains("Médecin\u{a0}Direct"));
        assert!(!text.contains("var"));
        assert!(text.contains("a\tb"));
    }

    #[test]
    fn broken_and_deep_html_does_not_panic() {
        let deep = "<div>".repeat(100_000) + "CHU de Lyon" + &"</div>".repeat(10);
        assert!(html_to_text(&deep).contains("CHU de Lyon"));
        let unclosed = "<b><i>".repeat(50_000) + "Doctolib<script>x=1</script>";
        let text = html_to_text(&unclosed);
        assert!(text.contains("Doctolib") && !text.contains("x=1"));
        assert!(
            html_to_text("<p><b>unclosed <i>tags & stray </p></b> &bogus; <").contains("unclosed")
        );
    }

    #[test]
    fn sniffing() {
        assert!(looks_like_html(b"  <!DOCTYPE html><html>"));
        assert!(looks_like_html(b"<html lang=fr>"));
        assert!(!looks_like_html(b"Vends base <3 patients"));
    }
}

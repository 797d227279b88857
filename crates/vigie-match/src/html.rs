//! HTML to text for the matcher: `vigie_html`'s linear token reader (scripts, styles and
//! templates dropped, blocks as lines, table cells as tabs, so a leaked table still reads as
//! rows), then character references decoded.

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

/// The readable text of an HTML document, in time linear in its length whatever its markup.
pub fn html_to_text(html: &str) -> String {
    decode_entities(&vigie_html::html_to_text(html))
}

/// Character references decoded in one pass; an `&` that starts none stays as it is.
fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(p) = memchr::memchr(b'&', rest.as_bytes()) {
        out.push_str(&rest[..p]);
        let at = &rest[p..];
        match crate::normalize::decode_entity(at) {
            Some((c, len)) => {
                out.push(c);
                rest = &at[len..];
            }
            None => {
                out.push('&');
                rest = &at[1..];
            }
        }
    }
    out.push_str(rest);
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
    fn broken_and_deep_html_keeps_its_text() {
        let deep = "<div>".repeat(100_000) + "CHU de Lyon" + &"</div>".repeat(10);
        assert!(html_to_text(&deep).contains("CHU de Lyon"));
        let ignored = "<div></x>".repeat(100_000) + "Hôpital Foch";
        assert!(html_to_text(&ignored).contains("Hôpital Foch"));
        let unclosed = "<b><i>".repeat(50_000) + "Doctolib<script>x=1</script>";
        let text = html_to_text(&unclosed);
        assert!(text.contains("Doctolib") && !text.contains("x=1"));
        let text = html_to_text("<p><b>unclosed <i>tags & stray </p></b> &bogus; &amp <");
        assert!(text.contains("unclosed") && text.contains("& stray") && text.contains("&bogus;"));
    }

    #[test]
    fn sniffing() {
        assert!(looks_like_html(b"  <!DOCTYPE html><html>"));
        assert!(looks_like_html(b"<html lang=fr>"));
        assert!(!looks_like_html(b"Vends base <3 patients"));
    }
}

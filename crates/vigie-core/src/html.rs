//! A guard shared by every stage that parses HTML from hostile pages.

/// Whether `html` opens more than `limit` nested elements at some point (void elements do not
/// count). HTML parsers slow down badly on pathological nesting; callers strip tags instead
/// of parsing such a page. One pass over the `<` bytes.
pub fn html_nesting_exceeds(html: &str, limit: usize) -> bool {
    let b = html.as_bytes();
    let mut depth: usize = 0;
    for (at, _) in b.iter().enumerate().filter(|(_, c)| **c == b'<') {
        match b.get(at + 1) {
            Some(b'/') => depth = depth.saturating_sub(1),
            Some(c) if c.is_ascii_alphabetic() => {
                let name_end = b[at + 1..]
                    .iter()
                    .position(|c| !c.is_ascii_alphanumeric())
                    .map_or(b.len(), |p| at + 1 + p);
                let name = html[at + 1..name_end].to_ascii_lowercase();
                if !html_void_element(&name) {
                    depth += 1;
                    if depth > limit {
                        return true;
                    }
                }
            }
            _ => {}
        }
    }
    false
}

/// Whether an element never has content (`br`, `img`...).
pub fn html_void_element(name: &str) -> bool {
    matches!(
        name,
        "br" | "img"
            | "meta"
            | "link"
            | "input"
            | "hr"
            | "wbr"
            | "area"
            | "base"
            | "col"
            | "embed"
            | "source"
            | "track"
            | "param"
            | "p"
            | "li"
            | "td"
            | "tr"
            | "th"
            | "option"
    )
}

/// Whether an element's content is not text a reader sees (scripts, styles, templates...).
pub fn html_hidden_element(name: &str) -> bool {
    matches!(
        name,
        "script" | "style" | "noscript" | "template" | "svg" | "iframe"
    )
}

/// Whether an element ends a line of text (paragraphs, list items, rows, headings...).
pub fn html_block_element(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "br"
            | "li"
            | "tr"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "article"
            | "section"
            | "header"
            | "footer"
            | "blockquote"
            | "pre"
            | "title"
            | "table"
            | "ul"
            | "ol"
            | "dd"
            | "dt"
            | "hr"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_is_measured_on_elements_not_void_tags() {
        assert!(html_nesting_exceeds(&"<div>".repeat(11), 10));
        assert!(!html_nesting_exceeds(&"<div></div>".repeat(100), 10));
        assert!(!html_nesting_exceeds(&"<br>".repeat(100), 10));
        assert!(!html_nesting_exceeds("a < b and 3 < 4", 0));
    }
}

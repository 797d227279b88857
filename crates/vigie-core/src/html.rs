//! Element classes shared by every stage that reads HTML (the parsing itself is `vigie-html`'s).

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

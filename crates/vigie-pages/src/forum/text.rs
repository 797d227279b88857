//! A post's own text, with the structure the matcher needs: blocks and `<br>` end lines,
//! table cells end with a tab and rows with a line break, and `pre`/`code` keep their tabs
//! and line breaks as written, so delimited rows stay rows. Chosen subtrees (quotes,
//! signatures, code-box captions) are left out. One pass over the tree, no recursion.

use std::collections::HashSet;

use ego_tree::iter::Edge;
use ego_tree::NodeId;
use scraper::{ElementRef, Node};

/// Elements whose content a reader never sees as text.
fn hidden(name: &str) -> bool {
    matches!(
        name,
        "head"
            | "script"
            | "style"
            | "template"
            | "noscript"
            | "svg"
            | "math"
            | "iframe"
            | "object"
            | "embed"
            | "canvas"
            | "button"
            | "select"
            | "input"
            | "textarea"
            | "audio"
            | "video"
            | "map"
    )
}

/// Elements that start and end a line.
fn block(name: &str) -> bool {
    matches!(
        name,
        "address"
            | "article"
            | "aside"
            | "blockquote"
            | "caption"
            | "center"
            | "cite"
            | "dd"
            | "details"
            | "dialog"
            | "div"
            | "dl"
            | "dt"
            | "fieldset"
            | "figcaption"
            | "figure"
            | "footer"
            | "form"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "header"
            | "hr"
            | "legend"
            | "li"
            | "main"
            | "nav"
            | "ol"
            | "p"
            | "pre"
            | "section"
            | "summary"
            | "table"
            | "tbody"
            | "tfoot"
            | "thead"
            | "ul"
    )
}

/// Elements whose white space is content.
fn preformatted(name: &str) -> bool {
    matches!(name, "pre" | "code" | "xmp" | "listing" | "plaintext")
}

fn ends_with_space(out: &str) -> bool {
    out.is_empty() || out.ends_with([' ', '\n', '\t'])
}

/// Text outside `pre`: every run of white space (no-break spaces included) is one space.
fn push_collapsed(out: &mut String, text: &str) {
    let mut space = false;
    for c in text.chars() {
        if c.is_whitespace() || c == '\u{a0}' {
            space = true;
        } else {
            if space && !ends_with_space(out) {
                out.push(' ');
            }
            space = false;
            out.push(c);
        }
    }
    if space && !ends_with_space(out) {
        out.push(' ');
    }
}

/// The readable text of `root`, leaving out the subtrees rooted at `skip`.
pub(crate) fn text_of(root: ElementRef<'_>, skip: &HashSet<NodeId>) -> String {
    let mut out = String::new();
    let mut skipping: Option<NodeId> = None;
    let mut pre_depth = 0usize;
    // Set right after a `<br>` inside `pre`/`code`: the source line break that usually
    // follows it is the same line break, not a second one.
    let mut after_br = false;
    for edge in root.traverse() {
        match edge {
            Edge::Open(node) => {
                if skipping.is_some() || node.id() == root.id() {
                    continue;
                }
                match node.value() {
                    Node::Text(t) => {
                        if pre_depth > 0 {
                            let mut s: &str = t;
                            if after_br {
                                s = s
                                    .strip_prefix("\r\n")
                                    .or_else(|| s.strip_prefix('\n'))
                                    .unwrap_or(s);
                            }
                            for c in s.chars() {
                                match c {
                                    '\r' => {}
                                    '\u{a0}' => out.push(' '),
                                    c => out.push(c),
                                }
                            }
                        } else {
                            push_collapsed(&mut out, t);
                        }
                        if !t.is_empty() {
                            after_br = false;
                        }
                    }
                    Node::Element(e) => {
                        let name = e.name();
                        if skip.contains(&node.id()) || hidden(name) {
                            // A left-out block still separates what is around it.
                            if block(name) {
                                out.push('\n');
                            }
                            skipping = Some(node.id());
                            continue;
                        }
                        if name == "br" {
                            out.push('\n');
                            after_br = true;
                            continue;
                        }
                        if preformatted(name) {
                            pre_depth += 1;
                        }
                        if block(name) || name == "tr" {
                            out.push('\n');
                        }
                    }
                    _ => {}
                }
            }
            Edge::Close(node) => {
                if skipping == Some(node.id()) {
                    skipping = None;
                    if let Node::Element(e) = node.value() {
                        if block(e.name()) {
                            out.push('\n');
                        }
                    }
                    continue;
                }
                if skipping.is_some() || node.id() == root.id() {
                    continue;
                }
                if let Node::Element(e) = node.value() {
                    let name = e.name();
                    if preformatted(name) {
                        pre_depth = pre_depth.saturating_sub(1);
                    }
                    match name {
                        "td" | "th" => out.push('\t'),
                        "tr" => out.push('\n'),
                        n if block(n) => out.push('\n'),
                        _ => {}
                    }
                }
            }
        }
    }
    tidy(&out)
}

/// Lines without the spaces and tabs at their ends (tabs inside stay), empty lines dropped.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split('\n') {
        let line = line.trim_end_matches([' ', '\t']).trim_start_matches(' ');
        if line.trim().is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(line);
    }
    out
}

/// One line of text: every run of white space is one space (names, titles, dates).
pub(crate) fn inline_text(el: ElementRef<'_>) -> String {
    let mut out = String::new();
    for t in el.text() {
        push_collapsed(&mut out, t);
    }
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use scraper::{Html, Selector};

    fn body(html: &str) -> String {
        let doc = Html::parse_document(html);
        let sel = Selector::parse("#b").unwrap();
        let el = doc.select(&sel).next().unwrap();
        text_of(el, &HashSet::new())
    }

    #[test]
    fn code_keeps_tabs_and_lines() {
        let got = body(
            "<div id=b>Sample:<pre><code>nir\tnom\n185057800608436\tDUPONT\n</code></pre>end</div>",
        );
        assert_eq!(got, "Sample:\nnir\tnom\n185057800608436\tDUPONT\nend");
    }

    #[test]
    fn br_inside_code_is_one_line_break() {
        let got = body("<div id=b><code>a\tb<br />\nc\td<br />\ne</code></div>");
        assert_eq!(got, "a\tb\nc\td\ne");
    }

    #[test]
    fn table_rows_are_tab_delimited_lines() {
        let got = body(
            "<div id=b><table><tr><td>NIR</td><td>Nom</td></tr>\
             <tr><td>1 85 05 78</td><td>Martin</td></tr></table></div>",
        );
        assert_eq!(got, "NIR\tNom\n1 85 05 78\tMartin");
    }

    #[test]
    fn prose_white_space_collapses_and_blocks_break_lines() {
        let got = body(
            "<div id=b>  Hello,<br><br>  a&nbsp;&nbsp;b <p>para</p><script>x()</script></div>",
        );
        assert_eq!(got, "Hello,\na b\npara");
    }

    #[test]
    fn skipped_subtrees_are_left_out() {
        let doc =
            Html::parse_document("<div id=b>own<blockquote id=q>quoted</blockquote>after</div>");
        let el = doc.select(&Selector::parse("#b").unwrap()).next().unwrap();
        let q = doc.select(&Selector::parse("#q").unwrap()).next().unwrap();
        let skip: HashSet<NodeId> = [q.id()].into_iter().collect();
        assert_eq!(text_of(el, &skip), "own\nafter");
    }
}

//! Readable text: from a whole page's tokens (no tree), or from an element of a parsed tree.

use ego_tree::iter::Edge;
use scraper::{ElementRef, Node};
use vigie_core::{html_block_element, html_hidden_element};

use crate::tokens::{Token, Tokens};

/// The readable text of a page: scripts, styles, templates, frames and SVG dropped, block
/// elements and `<br>` ending lines, table cells separated by tabs (so a leaked table still
/// reads as rows), comments dropped, character references left as they are (the matcher's
/// normaliser decodes them). Works on the token stream, without building a tree: linear in the
/// page's length whatever its nesting.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    // The hidden element being skipped, and how many of its kind are open inside it.
    let mut hidden: Option<(&str, usize)> = None;
    for token in Tokens::new(html) {
        match token {
            Token::StartTag(tag) => {
                let name = tag.name;
                if let Some((skipped, open)) = &mut hidden {
                    if name.eq_ignore_ascii_case(skipped) {
                        *open = open.saturating_add(1);
                        continue;
                    }
                    // HTML elements end SVG content, as in the tree builder.
                    if skipped.eq_ignore_ascii_case("svg") && breaks_out_of_foreign_content(name) {
                        hidden = None;
                    } else {
                        continue;
                    }
                }
                let lower = name.to_ascii_lowercase();
                if html_hidden_element(&lower) {
                    hidden = Some((name, 1));
                } else if html_block_element(&lower) {
                    line_break(&mut out);
                } else if matches!(lower.as_str(), "td" | "th") && !out.ends_with(['\n', '\t']) {
                    out.push('\t');
                }
            }
            Token::EndTag(name) => {
                if let Some((skipped, open)) = &mut hidden {
                    if name.eq_ignore_ascii_case(skipped) {
                        *open = open.saturating_sub(1);
                        if *open == 0 {
                            hidden = None;
                        }
                    }
                    continue;
                }
                if html_block_element(&name.to_ascii_lowercase()) {
                    line_break(&mut out);
                }
            }
            Token::Text(text) if hidden.is_none() => {
                if text.contains('\0') {
                    out.push_str(&text.replace('\0', ""));
                } else {
                    out.push_str(text);
                }
            }
            _ => {}
        }
    }
    out
}

fn line_break(out: &mut String) {
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
}

/// Start tags that close open SVG or MathML elements (the HTML standard's "breakout" list).
fn breaks_out_of_foreign_content(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "b" | "big"
            | "blockquote"
            | "body"
            | "br"
            | "center"
            | "code"
            | "dd"
            | "div"
            | "dl"
            | "dt"
            | "em"
            | "embed"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "head"
            | "hr"
            | "i"
            | "img"
            | "li"
            | "listing"
            | "menu"
            | "meta"
            | "nobr"
            | "ol"
            | "p"
            | "pre"
            | "ruby"
            | "s"
            | "small"
            | "span"
            | "strong"
            | "strike"
            | "sub"
            | "sup"
            | "table"
            | "tt"
            | "u"
            | "ul"
            | "var"
    )
}

/// Text as a reader sees it, of one element of a parsed tree: block elements and `<br>` end
/// lines, table cells end with ` | `, the head, scripts and styles vanish; each line's white
/// space squashed, empty lines dropped. Iterative: depth costs no stack.
pub fn readable_text(root: ElementRef<'_>) -> String {
    let mut out = String::new();
    // Set while inside an element whose content is not read; its node id ends the skip.
    let mut skipping: Option<ego_tree::NodeId> = None;
    for edge in root.traverse() {
        match edge {
            Edge::Open(node) => {
                if skipping.is_some() || node.id() == root.id() {
                    continue;
                }
                match node.value() {
                    Node::Text(t) => out.push_str(t),
                    Node::Element(e) => {
                        let name = e.name();
                        if name == "head" || html_hidden_element(name) {
                            skipping = Some(node.id());
                        } else if name == "br" || html_block_element(name) {
                            out.push('\n');
                        }
                    }
                    _ => {}
                }
            }
            Edge::Close(node) => {
                if skipping == Some(node.id()) {
                    skipping = None;
                    continue;
                }
                if skipping.is_some() || node.id() == root.id() {
                    continue;
                }
                if let Node::Element(e) = node.value() {
                    let name = e.name();
                    if name != "br" && html_block_element(name) {
                        out.push('\n');
                    }
                    // Table cells keep a delimiter, so leaked rows shown as a table still read
                    // as delimited rows.
                    if matches!(name, "td" | "th") {
                        out.push_str(" | ");
                    }
                }
            }
        }
    }
    let lines: Vec<String> = out.lines().map(squash).filter(|l| !l.is_empty()).collect();
    lines.join("\n")
}

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
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
        assert!(text.contains("M&eacute;decin&nbsp;Direct"));
        assert!(!text.contains("var"));
        assert!(text.contains("a\tb"));
    }

    #[test]
    fn hidden_content_ends_where_its_element_ends() {
        let text = html_to_text(
            "<template><p>t1</p><template>t2</template>t3</template>after \
             <svg><text>drawn</text></svg>seen <svg><g>x</g><p>broke out</p>",
        );
        assert_eq!(text.trim(), "after seen \nbroke out");
    }

    #[test]
    fn element_text_keeps_lines_and_cells_without_recursion() {
        let deep = "<div>".repeat(100_000) + "CHU de Lyon" + &"</div>".repeat(100_000);
        let doc = scraper::Html::parse_fragment("<table><tr><td>1</td><td>2</td></tr></table>");
        assert_eq!(readable_text(doc.root_element()), "1 | 2 |");
        // A tree deeper than any stack, built by hand (the parser refuses such pages).
        let mut tree = scraper::Html::new_fragment();
        let mut at = tree.tree.root().id();
        for _ in 0..100_000 {
            let el = scraper::Html::parse_fragment("<div></div>");
            let div = el
                .select(&scraper::Selector::parse("div").unwrap())
                .next()
                .unwrap();
            let node = tree.tree.orphan(Node::Element(div.value().clone())).id();
            tree.tree.get_mut(at).unwrap().append_id(node);
            at = node;
        }
        tree.tree
            .get_mut(at)
            .unwrap()
            .append(Node::Text(scraper::node::Text {
                text: "CHU de Lyon".into(),
            }));
        let root = tree.root_element();
        assert_eq!(readable_text(root), "CHU de Lyon");
        assert!(html_to_text(&deep).contains("CHU de Lyon"));
    }
}

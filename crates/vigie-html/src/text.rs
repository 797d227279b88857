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

/// Text as a reader sees it, of one element of a parsed tree, keeping the structure the matcher
/// needs: block elements and `<br>` end lines; a table row is one line with its cells separated
/// by tabs (empty cells kept, so columns stay aligned); inside `pre`, `code`, `textarea`,
/// `listing` and `xmp` the text is kept as written (tabs, line breaks, indentation), so a
/// tab- or pipe-delimited dump stays one row per line. Elsewhere white space runs become one
/// space, lines are trimmed and empty lines dropped. The head, scripts and styles vanish.
/// Iterative and linear: depth costs no stack.
pub fn readable_text(root: ElementRef<'_>) -> String {
    let mut w = TextWriter::default();
    // Set while inside an element whose content is not read; its node id ends the skip.
    let mut skipping: Option<ego_tree::NodeId> = None;
    for edge in root.traverse() {
        match edge {
            Edge::Open(node) => {
                if skipping.is_some() || node.id() == root.id() {
                    continue;
                }
                match node.value() {
                    Node::Text(t) => {
                        if w.verbatim > 0 {
                            w.verbatim_text(t);
                        } else {
                            w.flowing_text(t);
                        }
                    }
                    Node::Element(e) => {
                        let name = e.name();
                        if name == "head" || html_hidden_element(name) {
                            skipping = Some(node.id());
                        } else if matches!(name, "td" | "th") {
                            w.cell();
                        } else if name == "tr" {
                            w.row();
                        } else if name == "br" || html_block_element(name) {
                            w.line_break();
                        }
                        if verbatim_element(name) {
                            w.verbatim = w.verbatim.saturating_add(1);
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
                    if verbatim_element(name) {
                        w.verbatim = w.verbatim.saturating_sub(1);
                    }
                    if name == "tr" {
                        w.row();
                    } else if name != "br" && html_block_element(name) {
                        w.line_break();
                    }
                }
            }
        }
    }
    w.finish()
}

/// Elements whose text keeps its white space (`code` too: inline code boxes of forums hold
/// dumps).
fn verbatim_element(name: &str) -> bool {
    matches!(
        name,
        "pre" | "code" | "textarea" | "listing" | "xmp" | "plaintext"
    )
}

/// Builds text line by line: flowing text squashed, verbatim text kept, cells tab-separated.
#[derive(Default)]
struct TextWriter {
    out: String,
    /// White space seen in flowing text, written as one space before the next word.
    space: bool,
    /// Cells opened in the current row.
    cells: usize,
    /// Open verbatim elements.
    verbatim: usize,
}

impl TextWriter {
    fn at_line_start(&self) -> bool {
        self.out.is_empty() || self.out.ends_with('\n')
    }

    fn flowing_text(&mut self, t: &str) {
        for c in t.chars() {
            if c.is_whitespace() {
                self.space = true;
                continue;
            }
            if self.space && !self.at_line_start() && !self.out.ends_with(['\t', ' ']) {
                self.out.push(' ');
            }
            self.space = false;
            self.out.push(c);
        }
    }

    fn verbatim_text(&mut self, t: &str) {
        if self.space && !self.at_line_start() && !self.out.ends_with(['\t', ' ']) {
            self.out.push(' ');
        }
        self.space = false;
        let mut chars = t.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\r' => {
                    if chars.peek() != Some(&'\n') {
                        self.hard_break();
                    }
                }
                '\n' => self.hard_break(),
                '\0' => {}
                c => self.out.push(c),
            }
        }
    }

    /// A line break written in verbatim text: kept, at most one empty line in a row.
    fn hard_break(&mut self) {
        if !self.out.is_empty() && !self.out.ends_with("\n\n") {
            self.trim_spaces();
            self.out.push('\n');
        }
    }

    fn line_break(&mut self) {
        self.space = false;
        self.trim_spaces();
        if !self.at_line_start() {
            self.out.push('\n');
        }
    }

    fn row(&mut self) {
        self.cells = 0;
        self.line_break();
    }

    fn cell(&mut self) {
        self.space = false;
        if self.cells > 0 {
            self.trim_spaces();
            self.out.push('\t');
        } else if !self.at_line_start() {
            // A cell after text outside any row (a table without `tr`) starts its own line.
            self.line_break();
        }
        self.cells = self.cells.saturating_add(1);
    }

    /// Trailing spaces of flowing text go; tabs stay (an empty last cell).
    fn trim_spaces(&mut self) {
        while self.out.ends_with(' ') {
            self.out.pop();
        }
    }

    fn finish(mut self) -> String {
        self.trim_spaces();
        let trimmed = self.out.trim_end_matches('\n').len();
        self.out.truncate(trimmed);
        let lead = self.out.len() - self.out.trim_start_matches('\n').len();
        self.out.drain(..lead);
        self.out
    }
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
        assert_eq!(readable_text(doc.root_element()), "1\t2");
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

    #[test]
    fn token_text_keeps_code_box_rows() {
        let text =
            html_to_text("<p>dump:</p><pre><code>nom\tnir\nDUPONT\t1 85</code></pre><p>fin</p>");
        assert!(text.contains("nom\tnir\nDUPONT\t1 85"), "{text:?}");
    }

    fn text_of(html: &str) -> String {
        readable_text(scraper::Html::parse_fragment(html).root_element())
    }

    #[test]
    fn code_boxes_keep_tabs_and_line_breaks() {
        // phpBB prosilver's code box: a "Code: Select all" header, then pre > code.
        let html = "<div class=\"content\">Sample:<br><div class=\"codebox\"><p>Code: \
                    <a href=\"#\">Select all</a></p><pre><code>nom\tprenom\tnir\r\n\
                    DUPONT\tJean\t1 85 05 75 123 456 44\n\n\nMARTIN\t\tx\n</code></pre></div>\
                    Prix   500 $</div>";
        assert_eq!(
            text_of(html),
            "Sample:\nCode: Select all\nnom\tprenom\tnir\nDUPONT\tJean\t1 85 05 75 123 456 44\n\nMARTIN\t\tx\nPrix 500 $"
        );
        let area = "<p>dump</p><textarea>  a;b\n  c;d</textarea><p>fin</p>";
        assert_eq!(text_of(area), "dump\n  a;b\n  c;d\nfin");
    }

    #[test]
    fn table_rows_are_lines_with_tab_separated_cells() {
        let html = "<p>Victims</p><table><thead><tr><th>Name</th><th>Size</th><th>Date</th></tr></thead>\
                    <tbody><tr><td> CHU   de Lyon </td><td></td><td>2026-11-02</td></tr>\
                    <tr><td><a href=\"/v/2\">Clinique</a></td><td>2 TB</td><td><span>2026</span>-11-03</td></tr>\
                    </tbody></table>after";
        assert_eq!(
            text_of(html),
            "Victims\nName\tSize\tDate\nCHU de Lyon\t\t2026-11-02\nClinique\t2 TB\t2026-11-03\nafter"
        );
    }

    #[test]
    fn flowing_text_is_squashed_per_line() {
        let html = "<div>  Vends   <b>base</b>\n CHU <i>Nantes</i> </div><p></p><div>\n\n</div>\
                    <ul><li>one</li><li>two<br>three</li></ul>";
        assert_eq!(text_of(html), "Vends base CHU Nantes\none\ntwo\nthree");
    }
}

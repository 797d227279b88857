//! Tree signatures shared by the fidelity test and the fidelity example.

use ego_tree::iter::Edge;
use scraper::{Html, Node};

/// The tree as lines: depth, element and sorted attributes, or text (adjacent runs merged,
/// comments left out). `visible_only` leaves out what is inside scripts, styles, `noscript`,
/// templates, SVG and MathML, and the fallback text of `iframe`, `noembed` and `noframes` (raw
/// text a browser never shows, which the text reader skips too; the canonical page escapes a `<`
/// in it, so it may read `&lt;` there).
pub fn signature(doc: &Html, visible_only: bool) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut depth = 0usize;
    let mut hidden_depth: Option<usize> = None;
    for edge in doc.tree.root().traverse() {
        match edge {
            Edge::Open(n) => {
                depth += 1;
                if hidden_depth.is_some() {
                    continue;
                }
                match n.value() {
                    Node::Element(el) => {
                        let mut attrs: Vec<String> =
                            el.attrs().map(|(k, v)| format!("{k}={v}")).collect();
                        attrs.sort();
                        out.push(format!("{depth} <{}> {}", el.name(), attrs.join(" ")));
                        let hidden = matches!(
                            el.name(),
                            "script"
                                | "style"
                                | "noscript"
                                | "template"
                                | "svg"
                                | "math"
                                | "iframe"
                                | "noembed"
                                | "noframes"
                        );
                        if visible_only && hidden {
                            hidden_depth = Some(depth);
                        }
                    }
                    Node::Text(t) => {
                        // Adjacent text merges once a comment between two runs is dropped.
                        let prefix = format!("{depth} \"");
                        match out.last_mut() {
                            Some(last) if last.starts_with(&prefix) => last.push_str(t),
                            _ => out.push(format!("{prefix}{}", &**t)),
                        }
                    }
                    _ => {}
                }
            }
            Edge::Close(_) => {
                if hidden_depth == Some(depth) {
                    hidden_depth = None;
                }
                depth -= 1;
            }
        }
    }
    out
}

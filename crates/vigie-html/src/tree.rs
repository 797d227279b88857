//! `html5ever`'s tree builder, fed in chunks through a sink that measures the depth of the tree
//! it builds and stops the parse when a page nests too deep.

use std::borrow::Cow;
use std::collections::HashMap;

use ego_tree::NodeId;
use html5ever::tendril::{StrTendril, TendrilSink};
use html5ever::tree_builder::{ElementFlags, NodeOrText, QuirksMode, TreeSink};
use html5ever::{Attribute, ExpandedName, QualName};
use scraper::Html;

/// Twice as deep as real pages go (forum and leak-site themes stay under 60), shallow enough
/// that `html5ever`'s scans of its open elements stay cheap: an end tag that matches nothing
/// walks the whole stack, so the worst page costs this many steps per tag.
pub const DEFAULT_MAX_DEPTH: usize = 128;

/// Bytes handed to the tree builder between two depth checks: the work done past the limit
/// before the parse stops is bounded by what one chunk can nest.
const CHUNK: usize = 8 * 1024;

/// Why a page was not parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HtmlRefused {
    /// The tree being built nested more than `limit` elements.
    #[error("HTML nested deeper than {limit} elements")]
    TooDeep {
        /// The depth limit in force.
        limit: usize,
    },
}

/// Parses `html` as a document, in time and memory linear in its length: at most
/// [`crate::MAX_ATTRIBUTES`] attributes per tag (see [`crate::canonicalize`]), and refused once
/// the tree being built is deeper than `max_depth` elements.
pub fn parse_document(html: &str, max_depth: usize) -> Result<Html, HtmlRefused> {
    let canonical = crate::canonicalize(html);
    let sink = DepthGuard {
        html: Html::new_document(),
        depth: HashMap::new(),
        limit: u32::try_from(max_depth).unwrap_or(u32::MAX),
        exceeded: false,
    };
    let mut parser = html5ever::parse_document(sink, Default::default());
    let mut rest = canonical.as_str();
    while !rest.is_empty() {
        let mut cut = rest.len().min(CHUNK);
        while !rest.is_char_boundary(cut) {
            cut += 1;
        }
        let (chunk, tail) = rest.split_at(cut);
        parser.process(StrTendril::from_slice(chunk));
        if parser.tokenizer.sink.sink.exceeded {
            return Err(HtmlRefused::TooDeep { limit: max_depth });
        }
        rest = tail;
    }
    let guard = parser.finish();
    if guard.exceeded {
        return Err(HtmlRefused::TooDeep { limit: max_depth });
    }
    Ok(guard.html)
}

/// `scraper`'s own sink, with the depth of every placed node recorded (a node's depth is its
/// parent's plus one, taken when it is placed).
struct DepthGuard {
    html: Html,
    depth: HashMap<NodeId, u32>,
    limit: u32,
    exceeded: bool,
}

impl DepthGuard {
    /// The recorded depth of `id`, or its parent's plus one for a node placed by `scraper`
    /// itself (a template's contents); the walk up is bounded by the limit.
    fn depth_of(&self, id: NodeId) -> u32 {
        let mut steps = 0u32;
        let mut node = self.html.tree.get(id);
        while let Some(n) = node {
            if let Some(d) = self.depth.get(&n.id()) {
                return d.saturating_add(steps);
            }
            if steps > self.limit {
                return steps;
            }
            steps = steps.saturating_add(1);
            node = n.parent();
        }
        steps
    }

    fn place(&mut self, id: NodeId, depth: u32) {
        if depth > self.limit {
            self.exceeded = true;
        }
        self.depth.insert(id, depth);
    }
}

impl TreeSink for DepthGuard {
    type Handle = NodeId;
    type Output = Self;

    fn finish(self) -> Self {
        self
    }

    fn parse_error(&mut self, msg: Cow<'static, str>) {
        self.html.parse_error(msg);
    }

    fn get_document(&mut self) -> NodeId {
        let id = self.html.get_document();
        self.depth.insert(id, 0);
        id
    }

    fn elem_name<'a>(&'a self, target: &'a NodeId) -> ExpandedName<'a> {
        self.html.elem_name(target)
    }

    fn create_element(
        &mut self,
        name: QualName,
        attrs: Vec<Attribute>,
        flags: ElementFlags,
    ) -> NodeId {
        self.html.create_element(name, attrs, flags)
    }

    fn create_comment(&mut self, text: StrTendril) -> NodeId {
        self.html.create_comment(text)
    }

    fn create_pi(&mut self, target: StrTendril, data: StrTendril) -> NodeId {
        self.html.create_pi(target, data)
    }

    fn append(&mut self, parent: &NodeId, child: NodeOrText<NodeId>) {
        if let NodeOrText::AppendNode(id) = &child {
            let depth = self.depth_of(*parent).saturating_add(1);
            self.place(*id, depth);
        }
        self.html.append(parent, child);
    }

    fn append_based_on_parent_node(
        &mut self,
        element: &NodeId,
        prev_element: &NodeId,
        child: NodeOrText<NodeId>,
    ) {
        // As scraper does, through this sink's own methods so that depths are recorded.
        let has_parent = self
            .html
            .tree
            .get(*element)
            .is_some_and(|e| e.parent().is_some());
        if has_parent {
            self.append_before_sibling(element, child);
        } else {
            self.append(prev_element, child);
        }
    }

    fn append_doctype_to_document(
        &mut self,
        name: StrTendril,
        public_id: StrTendril,
        system_id: StrTendril,
    ) {
        self.html
            .append_doctype_to_document(name, public_id, system_id);
    }

    fn get_template_contents(&mut self, target: &NodeId) -> NodeId {
        self.html.get_template_contents(target)
    }

    fn same_node(&self, x: &NodeId, y: &NodeId) -> bool {
        x == y
    }

    fn set_quirks_mode(&mut self, mode: QuirksMode) {
        self.html.set_quirks_mode(mode);
    }

    fn append_before_sibling(&mut self, sibling: &NodeId, new_node: NodeOrText<NodeId>) {
        if let NodeOrText::AppendNode(id) = &new_node {
            let depth = self.depth_of(*sibling);
            self.place(*id, depth);
        }
        self.html.append_before_sibling(sibling, new_node);
    }

    fn add_attrs_if_missing(&mut self, target: &NodeId, attrs: Vec<Attribute>) {
        self.html.add_attrs_if_missing(target, attrs);
    }

    fn remove_from_parent(&mut self, target: &NodeId) {
        self.html.remove_from_parent(target);
    }

    fn reparent_children(&mut self, node: &NodeId, new_parent: &NodeId) {
        // The moved children's own subtrees keep their recorded depth: the adoption agency
        // moves nodes one level at a time, and the limit has a wide margin over real pages.
        let depth = self.depth_of(*new_parent).saturating_add(1);
        let children: Vec<NodeId> = self
            .html
            .tree
            .get(*node)
            .map(|n| n.children().map(|c| c.id()).collect())
            .unwrap_or_default();
        for id in children {
            self.place(id, depth);
        }
        self.html.reparent_children(node, new_parent);
    }

    fn mark_script_already_started(&mut self, node: &NodeId) {
        self.html.mark_script_already_started(node);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn max_depth(html: &Html) -> usize {
        html.tree
            .nodes()
            .map(|n| n.ancestors().count())
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn ordinary_pages_parse_as_scraper_parses_them() {
        let page = "<html><body><div id=a><p>one<p>two<table><tr><td>x</table></div></body></html>";
        let ours = parse_document(page, DEFAULT_MAX_DEPTH).unwrap();
        let theirs = Html::parse_document(page);
        assert_eq!(ours.root_element().html(), theirs.root_element().html());
    }

    #[test]
    fn ignored_end_tags_do_not_hide_nesting() {
        // `</x>` closes nothing, so every `<div>` nests in the last: the tree is 3,000 deep
        // although tags open and close in equal numbers.
        let page = "<div></x>".repeat(3_000);
        assert_eq!(
            parse_document(&page, 256),
            Err(HtmlRefused::TooDeep { limit: 256 })
        );
        let shallow = "<div></x>".repeat(200);
        assert!(parse_document(&shallow, 256).is_ok());
    }

    #[test]
    fn reconstructed_formatting_elements_count_as_nesting() {
        // Each `<b>` re-opens every earlier one that `</p>` closed: the tree deepens by one
        // per repetition although the text never nests.
        let page: String = (0..2_000).map(|i| format!("<p><b x={i}></p>")).collect();
        assert!(parse_document(&page, 256).is_err());
    }

    #[test]
    fn the_limit_is_the_depth_of_the_tree_built() {
        let at_limit = "<div>".repeat(250);
        let parsed = parse_document(&at_limit, 256).unwrap();
        // document > html > body > 250 divs; text and the document node do not count.
        assert!(max_depth(&parsed) <= 256);
        assert!(parse_document(&"<div>".repeat(300), 256).is_err());
        // Closed elements do not add up.
        assert!(parse_document(&"<div></div>".repeat(10_000), 256).is_ok());
    }
}

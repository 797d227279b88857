//! The generic victim-list extractor: no configuration, no knowledge of the site.
//!
//! Leak sites list victims as repeated sibling blocks built from one template (cards, table
//! rows, blog posts). Every element's children are grouped by their shape (tag and classes);
//! a group is a victim list when most of its members carry a name and victim cues (a date, a
//! size, a website, a countdown, a status, a description). The best group wins; blocks of the
//! same shape under parents of the same shape elsewhere on the page (a "published" and an
//! "upcoming" section) join it. A page without such a group is read as one victim's detail
//! page, or as nothing.

use std::collections::{HashMap, HashSet};

use ego_tree::NodeId;
use scraper::{ElementRef, Html};

use super::fields::{el_text, elements, entry_from_block, find_name, read_cues, split_country};
use crate::{Entry, PageContext};

/// Classes that name one item, not the template: numbered ones (`post-1691`), and the
/// per-post taxonomy classes blog engines add (`category-tegut`, `tag-mcpsrvsllc`).
fn per_item_class(c: &str) -> bool {
    let l = c.to_ascii_lowercase();
    l.chars().filter(char::is_ascii_digit).count() >= 2
        || ["tag-", "category-", "author-", "post_tag-"]
            .iter()
            .any(|p| l.starts_with(p))
}

/// The shape of an element: its tag and its classes (sorted, per-item ones dropped).
fn shape(el: ElementRef<'_>) -> String {
    let mut classes: Vec<&str> = el
        .value()
        .classes()
        .filter(|c| !per_item_class(c))
        .collect();
    classes.sort_unstable();
    let mut s = el.value().name().to_string();
    for c in classes {
        s.push('.');
        s.push_str(c);
    }
    s
}

/// Inside site chrome: never victims. A sidebar ("Recent Posts", a side list of the same
/// names) repeats entries of the page: it is navigation too.
/// Inside a modal dialog: the detail a card's button opens, read with that card.
fn in_modal(el: ElementRef<'_>) -> bool {
    el.ancestors()
        .filter_map(ElementRef::wrap)
        .chain(std::iter::once(el))
        .any(is_modal)
}

fn is_modal(el: ElementRef<'_>) -> bool {
    el.value().classes().any(|c| c == "modal")
}

/// The modal dialog a block's button or link opens (`data-bs-target="#company_143"`).
fn modal_of<'a>(
    block: ElementRef<'a>,
    modals: &HashMap<&str, ElementRef<'a>>,
) -> Option<ElementRef<'a>> {
    elements(block).find_map(|e| {
        let v = e.value();
        let target = v
            .attr("data-bs-target")
            .or_else(|| v.attr("data-target"))
            .or_else(|| v.attr("href").filter(|h| h.starts_with('#')))?;
        modals.get(target.trim().trim_start_matches('#')).copied()
    })
}

fn in_chrome(el: ElementRef<'_>) -> bool {
    el.ancestors()
        .filter_map(ElementRef::wrap)
        .chain(std::iter::once(el))
        .any(|a| {
            matches!(
                a.value().name(),
                "nav" | "header" | "footer" | "form" | "select" | "head" | "aside"
            ) || a.value().classes().any(|c| {
                let c = c.to_ascii_lowercase();
                c == "sidebar" || c.starts_with("widget") || c.ends_with("-sidebar")
            })
        })
}

/// How a block looks as a victim entry: (victim cues, has a description, cues other than a
/// status word); `None` when it has no name or no cue at all.
fn block_cues(block: ElementRef<'_>, ctx: &PageContext) -> Option<(usize, bool, usize)> {
    let name = match find_name(block) {
        Some(el) => super::fields::name_text(el),
        None => super::fields::lead_text(block)
            .or_else(|| super::fields::link_slug_name(block, ctx).map(|(n, _)| n))?,
    };
    // "Why have I been blocked?": a question is page chrome, not a victim; so are the
    // group's own posts ("News", "Our first post", a sentence about its next leak).
    if name.ends_with('?') || is_notice(&name) {
        return None;
    }
    // A block holding several entries of one template (a row of two cards) is a container.
    if let Some(el) = find_name(block) {
        // A heading, or a classed name element (`div.card-title` in each card of a row).
        let titled = el.value().classes().any(|c| {
            let c = c.to_ascii_lowercase();
            c.contains("title") || c.contains("name")
        });
        if super::fields::is_heading_el(el) || titled {
            let s = shape(el);
            // A status heading ("SALE" under the name) is no second entry.
            let named = elements(block)
                .filter(|e| shape(*e) == s && !super::fields::is_status_text(&el_text(*e)))
                .count();
            if named >= 2 {
                return None;
            }
        }
    }
    let cues = read_cues(block, &name, ctx);
    let text = el_text(block);
    let rest = text.chars().count().saturating_sub(name.chars().count());
    let described = rest >= 40;
    let strong = cues.count() - usize::from(cues.fields.contains_key("status"));
    (cues.count() > 0 || described).then_some((cues.count(), described, strong))
}

/// Titles of a group's own posts, not victims: a bare section word, a greeting, a contact
/// address, a label, or a sentence (ends with a period or "!", eight words or more, mostly
/// lowercase words).
fn is_notice(name: &str) -> bool {
    let l = name.trim().to_lowercase();
    let l = l.trim_matches(|c: char| !c.is_alphanumeric());
    if matches!(
        l,
        "news"
            | "announcement"
            | "announcements"
            | "update"
            | "updates"
            | "our first post"
            | "hello world"
            | "data breach summary"
            | "rules"
            | "faq"
            | "about us"
            | "for press"
            | "press"
            | "terms and conditions"
            | "privacy policy"
            | "privacy and protection"
    ) || l.starts_with("welcome to")
        // Buttons of a ransom note: "CONTACT TELEGRAM MESSAGER", "DOWNLOAD APP …".
        || l.starts_with("contact ")
        || l.starts_with("download ")
    {
        return true;
    }
    // A contact address, or a label waiting for its value ("Download Tor Browser -",
    // "uTox ID:" in a ransom note's instructions).
    let t = name.trim();
    if (t.contains('@') && !t.contains(' ')) || t.ends_with(" -") || t.ends_with(':') {
        return true;
    }
    let words: Vec<&str> = name.split_whitespace().collect();
    let lower = words
        .iter()
        .filter(|w| w.chars().next().is_some_and(char::is_lowercase))
        .count();
    (t.ends_with('.') || t.ends_with('!')) && words.len() >= 8 && lower * 10 >= words.len() * 6
}

fn block_score(block: ElementRef<'_>, ctx: &PageContext) -> Option<usize> {
    block_cues(block, ctx).map(|(c, d, _)| c + usize::from(d))
}

struct Group {
    parent_shape: String,
    member_shape: String,
    members: Vec<NodeId>,
    score: usize,
}

/// Victim blocks of the page, in document order.
pub(crate) fn victim_blocks<'a>(doc: &'a Html, ctx: &PageContext) -> Vec<ElementRef<'a>> {
    let root = doc.root_element();
    let mut best: Option<Group> = None;
    for parent in elements(root) {
        if in_chrome(parent) || in_modal(parent) {
            continue;
        }
        let mut by_shape: HashMap<String, Vec<ElementRef<'a>>> = HashMap::new();
        for child in parent.children().filter_map(ElementRef::wrap) {
            if matches!(
                child.value().name(),
                "script" | "style" | "br" | "hr" | "img" | "input" | "option"
            ) {
                continue;
            }
            // Separators without text (`<tr><td><hr></td></tr>` between rows) are no members;
            // modal dialogs are read with the card that opens them.
            if child.text().all(|t| t.trim().is_empty()) || is_modal(child) {
                continue;
            }
            by_shape.entry(shape(child)).or_default().push(child);
        }
        for (member_shape, kids) in by_shape {
            if kids.len() < 2 {
                continue;
            }
            let scored: Vec<(ElementRef<'a>, (usize, bool, usize))> = kids
                .iter()
                .filter_map(|k| block_cues(*k, ctx).map(|s| (*k, s)))
                .collect();
            // Most members must look like victims: a menu or a list of links does not.
            if scored.len() < 2 || scored.len() * 10 < kids.len() * 6 {
                continue;
            }
            // Named paragraphs with no victim cue at all (an error page's two columns) need
            // numbers to be believed.
            let real_cues: usize = scored.iter().map(|(_, (c, _, _))| *c).sum();
            if real_cues == 0 && scored.len() < 3 {
                continue;
            }
            // Blocks with a description and at most a status word ("100% private FUD stubs"
            // in a ransomware seller's price list) need numbers to be a victim list.
            let strong: usize = scored.iter().map(|(_, (_, _, s))| *s).sum();
            if strong == 0 && scored.len() < 5 {
                continue;
            }
            let cue_sum: usize = scored
                .iter()
                .map(|(_, (c, d, _))| c + usize::from(*d))
                .sum();
            let score = scored.len() + cue_sum;
            if best.as_ref().is_none_or(|b| score > b.score) {
                best = Some(Group {
                    parent_shape: shape(parent),
                    member_shape,
                    members: scored.iter().map(|(k, _)| k.id()).collect(),
                    score,
                });
            }
        }
    }
    let Some(best) = best else {
        return single_blocks(doc, ctx);
    };
    // Same template elsewhere on the page (other sections, other columns), and its variants
    // beside it: `div.post-block.good` (published) next to `div.post-block.bad` (countdown
    // running), `div.one_third.first` opening each row of `div.one_third`: a tag, a parent
    // of the same shape and a class in common.
    let mut chosen: HashSet<NodeId> = best.members.iter().copied().collect();
    let member_parents: HashSet<String> = best
        .members
        .iter()
        .filter_map(|id| doc.tree.get(*id).and_then(|n| n.parent()))
        .filter_map(ElementRef::wrap)
        .map(shape)
        .collect();
    // What the members are made of: a card of the same make in another wrapper is one too.
    let member_kinds: HashSet<String> = best
        .members
        .iter()
        .filter_map(|id| doc.tree.get(*id).and_then(ElementRef::wrap))
        .map(kids_signature)
        .filter(|k| !k.is_empty())
        .collect();
    let (best_tag, best_classes) = match best.member_shape.split_once('.') {
        Some((t, c)) => (t.to_string(), c.split('.').map(str::to_string).collect()),
        None => (best.member_shape.clone(), Vec::new()),
    };
    // The card inside a wrapper: the members' single child, when they all have one of
    // one classed shape.
    let cores: HashSet<String> = best
        .members
        .iter()
        .filter_map(|id| doc.tree.get(*id).and_then(ElementRef::wrap))
        .map(|m| shape(core_of(m)))
        .collect();
    let best_core = match cores.into_iter().collect::<Vec<_>>().as_slice() {
        [one] if one.contains('.') && *one != best.member_shape => one.clone(),
        _ => String::new(),
    };
    // What the cards are made of: a side list in a box of the same class is not a card.
    let core_kinds: HashSet<String> = best
        .members
        .iter()
        .filter_map(|id| doc.tree.get(*id).and_then(ElementRef::wrap))
        .map(|m| kids_signature(core_of(m)))
        .collect();
    for el in elements(root) {
        if chosen.contains(&el.id()) || in_chrome(el) || in_modal(el) {
            continue;
        }
        let variant = el.value().name() == best_tag
            && (el
                .parent()
                .and_then(ElementRef::wrap)
                .is_some_and(|p| member_parents.contains(&shape(p)))
                || member_kinds.contains(&kids_signature(el)))
            && el
                .value()
                .classes()
                .any(|c| best_classes.iter().any(|b| b == c));
        if variant && block_score(el, ctx).is_some() {
            chosen.insert(el.id());
            continue;
        }
        // The same card inside another wrapper (`div.col-lg-6 > div.blog-one__single` in
        // one section, `div.col-lg-12 > div.blog-one__single` in the next).
        if !best_core.is_empty()
            && shape(el) == best_core
            && core_kinds.contains(&kids_signature(el))
            && block_score(el, ctx).is_some()
        {
            chosen.insert(el.id());
            continue;
        }
        if shape(el) != best.member_shape {
            continue;
        }
        let parent_ok = el
            .parent()
            .and_then(ElementRef::wrap)
            .is_some_and(|p| shape(p) == best.parent_shape);
        if parent_ok && block_score(el, ctx).is_some() {
            chosen.insert(el.id());
        }
    }
    innermost(root, &chosen)
}

/// The shapes of an element's children, each once, sorted.
fn kids_signature(el: ElementRef<'_>) -> String {
    let mut v: Vec<String> = el
        .children()
        .filter_map(ElementRef::wrap)
        .map(shape)
        .collect();
    v.sort_unstable();
    v.dedup();
    v.join(" ")
}

/// The element inside `el` that holds all of it: down through single element children.
fn core_of(el: ElementRef<'_>) -> ElementRef<'_> {
    let mut cur = el;
    for _ in 0..4 {
        let mut kids = cur
            .children()
            .filter_map(ElementRef::wrap)
            .filter(|k| !matches!(k.value().name(), "script" | "style" | "br" | "hr"));
        match (kids.next(), kids.next()) {
            (Some(only), None) => cur = only,
            _ => break,
        }
    }
    cur
}

/// The chosen blocks that hold no other chosen block, in document order.
fn innermost<'a>(root: ElementRef<'a>, chosen: &HashSet<NodeId>) -> Vec<ElementRef<'a>> {
    let mut has_chosen_inside: HashSet<NodeId> = HashSet::new();
    for el in elements(root) {
        if chosen.contains(&el.id()) {
            for anc in el.ancestors() {
                if chosen.contains(&anc.id()) {
                    has_chosen_inside.insert(anc.id());
                }
            }
        }
    }
    elements(root)
        .filter(|e| chosen.contains(&e.id()) && !has_chosen_inside.contains(&e.id()))
        .collect()
}

/// No repeated blocks: entry-like elements standing alone (a listing with one victim).
fn single_blocks<'a>(doc: &'a Html, ctx: &PageContext) -> Vec<ElementRef<'a>> {
    let root = doc.root_element();
    let mut chosen: HashSet<NodeId> = HashSet::new();
    for el in elements(root) {
        let v = el.value();
        let entry_like = v.name() == "article"
            || v.classes().any(|c| {
                let c = c.to_ascii_lowercase();
                ["post", "card", "victim", "company", "leak", "entry"]
                    .iter()
                    .any(|w| {
                        c == *w
                            || c.starts_with(&format!("{w}-"))
                                && !c.contains("title")
                                && !c.contains("content")
                                && !c.contains("meta")
                                && !c.contains("date")
                                && !c.contains("info")
                    })
            });
        if !entry_like || in_chrome(el) {
            continue;
        }
        if block_score(el, ctx).is_some_and(|s| s >= 2)
            && find_name(el).is_some_and(|n| n.id() != el.id())
        {
            chosen.insert(el.id());
        }
    }
    innermost(root, &chosen)
}

/// Reads the page as a list of victims, or as one victim's detail page.
pub(crate) fn extract(doc: &Html, ctx: &PageContext) -> Vec<Entry> {
    let blocks = victim_blocks(doc, ctx);
    if !blocks.is_empty() {
        let modals: HashMap<&str, ElementRef<'_>> = elements(doc.root_element())
            .filter(|e| is_modal(*e))
            .filter_map(|e| e.value().id().map(|id| (id, e)))
            .collect();
        // Elements holding a victim block: a section heading is none of them.
        let holders: HashSet<NodeId> = blocks
            .iter()
            .flat_map(|b| b.ancestors().chain(std::iter::once(**b)).map(|n| n.id()))
            .collect();
        let mut out: Vec<Entry> = blocks
            .into_iter()
            .filter_map(|b| {
                let mut e = entry_from_block(b, None, None, ctx)?;
                if !e.fields.contains_key("status") {
                    if let Some(st) = section_status(b, &holders) {
                        e.fields.insert("status".into(), st.to_string());
                    }
                }
                // The card's modal adds what the card does not show (a size, a description).
                if let Some(m) =
                    modal_of(b, &modals).filter(|m| !b.ancestors().any(|a| a.id() == m.id()))
                {
                    if let Some(more) = entry_from_block(m, None, None, ctx) {
                        for (k, v) in more.fields {
                            e.fields.entry(k).or_insert(v);
                        }
                        if e.date_text.is_empty() {
                            e.date_text = more.date_text;
                            e.date = more.date;
                        }
                        if !more.body.is_empty() && !e.body.contains(&more.body) {
                            if !e.body.is_empty() {
                                e.body.push('\n');
                            }
                            e.body.push_str(&more.body);
                        }
                    }
                }
                Some(e)
            })
            .collect();
        dedupe_ids(&mut out);
        return out;
    }
    detail_page(doc, ctx).into_iter().collect()
}

/// Words a section heading above the cards gives them all ("Free" / "Paid content",
/// "Published", "Upcoming").
const SECTION_WORDS: &[&str] = &[
    "free",
    "paid",
    "published",
    "upcoming",
    "pending",
    "sold",
    "leaked",
    "released",
    "private",
    "auction",
];

/// Preceding siblings looked at, per level, for a section heading.
const SECTION_LOOKBACK: usize = 64;

/// The status a section heading gives a block: the nearest short text before the block (or
/// before one of its three nearest ancestors) that holds no victim, when its first word is a
/// section word.
fn section_status(block: ElementRef<'_>, holders: &HashSet<NodeId>) -> Option<&'static str> {
    let mut cur = block;
    for _ in 0..3 {
        for sib in cur
            .prev_siblings()
            .filter_map(ElementRef::wrap)
            .take(SECTION_LOOKBACK)
        {
            if holders.contains(&sib.id()) || in_chrome(sib) {
                continue;
            }
            let t = el_text(sib);
            if t.is_empty() {
                continue;
            }
            if t.chars().count() > 25 {
                return None;
            }
            let first = t
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase();
            return SECTION_WORDS.iter().copied().find(|w| *w == first);
        }
        cur = cur.parent().and_then(ElementRef::wrap)?;
    }
    None
}

/// Two victims with one id (a name listed twice): the later ones get a suffix.
pub(crate) fn dedupe_ids(entries: &mut [Entry]) {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for e in entries.iter_mut() {
        let n = seen.entry(e.id.clone()).or_insert(0);
        *n += 1;
        if *n > 1 {
            e.id = format!("{}~{}", e.id, n);
        }
    }
}

/// One victim's page: a main heading with victim cues under it, and no form asking for a
/// password or an id (those are doors, not content).
fn detail_page(doc: &Html, ctx: &PageContext) -> Option<Entry> {
    let root = doc.root_element();
    if elements(root).any(|e| {
        e.value().name() == "input"
            && matches!(
                e.value()
                    .attr("type")
                    .unwrap_or("text")
                    .to_ascii_lowercase()
                    .as_str(),
                "password" | "text"
            )
    }) {
        return None;
    }
    let heading = elements(root)
        .filter(|e| matches!(e.value().name(), "h1" | "h2" | "h3") && !in_chrome(*e))
        .find(|e| {
            let t = el_text(*e);
            !t.is_empty() && t.chars().count() <= 160
        })?;
    // The block: the heading's nearest ancestor with enough text to be the victim's page.
    let block = heading
        .ancestors()
        .filter_map(ElementRef::wrap)
        .find(|a| el_text(*a).chars().count() >= 200 + el_text(heading).chars().count())?;
    let name = el_text(heading);
    let (plain, _) = split_country(&name);
    // "If you are reading this text, your files are encrypted!": a ransom note, not a victim.
    if plain.is_empty() || is_notice(&plain) {
        return None;
    }
    let cues = read_cues(block, &name, ctx);
    // A detail page shows what was taken or when: a size, a countdown, a status. A website
    // alone is not enough (an error page links to its vendor).
    let strong = ["data_size", "countdown", "status", "deadline"];
    if !strong.iter().any(|k| cues.fields.contains_key(*k)) {
        return None;
    }
    let mut e = entry_from_block(block, Some(heading), None, ctx)?;
    // The page itself is the victim's page.
    e.detail_link = Some(ctx.base.to_string());
    if e.id.is_empty() || e.id == super::fields::slug(&e.title) {
        e.id = super::fields::slug(&e.title);
    }
    Some(e)
}

//! Forum pages of the common engines.
//!
//! CONTRACT (vigie-tor codes against it; the forum engineer fills it in, keeping these names):
//! `Engine`, `Engine::from_name`, `Engine::name`, `detect`, `ForumPage`, `ThreadLink`,
//! `read_forum_page`.
//!
//! Each engine is a table of selectors ([`engines`]): what a post is, where its author, date,
//! own text, quotes and signature are, where a listing's threads and sub-forums are. The
//! reading is the same for all: a block is a post only if it holds the engine's post text
//! element (so theme headers, login boxes and announcements outside the post list are never
//! posts); the author is the first user name found outside the post's text that is not a
//! post number, a rank or "Post"; the date comes from a machine attribute when there is one,
//! else from the text shown (read by [`crate::dates`] in the time zone the page states, or
//! the site's); quoted posts go to `quoted`, signatures nowhere.

mod engines;
mod text;

use std::collections::HashSet;

use ego_tree::NodeId;
use scraper::{ElementRef, Html, Selector};
use url::Url;

use crate::dates;
use crate::urlkey::without_session;
use crate::{Entry, PageContext};

pub use engines::detect;
use engines::{spec, DateSrc, Spec};

/// The forum engines Vigie reads without configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Engine {
    PhpBb,
    MyBb,
    XenForo,
    VBulletin,
    Smf,
    Invision,
}

impl Engine {
    /// The engine named in a config (`phpbb`, `mybb`, `xenforo`, `vbulletin`, `smf`, `invision`).
    pub fn from_name(name: &str) -> Option<Engine> {
        Some(match name {
            "phpbb" => Engine::PhpBb,
            "mybb" => Engine::MyBb,
            "xenforo" => Engine::XenForo,
            "vbulletin" => Engine::VBulletin,
            "smf" => Engine::Smf,
            "invision" => Engine::Invision,
            _ => return None,
        })
    }

    /// The config name.
    pub fn name(self) -> &'static str {
        match self {
            Engine::PhpBb => "phpbb",
            Engine::MyBb => "mybb",
            Engine::XenForo => "xenforo",
            Engine::VBulletin => "vbulletin",
            Engine::Smf => "smf",
            Engine::Invision => "invision",
        }
    }

    /// Every engine, in a fixed order.
    pub const ALL: [Engine; 6] = [
        Engine::PhpBb,
        Engine::MyBb,
        Engine::XenForo,
        Engine::VBulletin,
        Engine::Smf,
        Engine::Invision,
    ];
}

/// A thread as a listing (forum index, sub-forum, search page) shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadLink {
    /// Its first page, session parameters removed.
    pub url: Url,
    pub title: String,
    /// What changes when someone posts in it (last post id, date or reply count as shown);
    /// empty when the listing shows nothing of the kind.
    pub last_post: String,
}

/// What a forum page holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ForumPage {
    pub engine: Option<Engine>,
    /// The thread's title on a thread page.
    pub thread_title: String,
    /// The posts of a thread page, in page order; never theme headers, ads or announcements.
    pub posts: Vec<Entry>,
    /// Threads listed on an index or sub-forum page.
    pub threads: Vec<ThreadLink>,
    /// Sub-forums linked from an index or forum page.
    pub subforums: Vec<Url>,
    /// The next page of this thread or listing.
    pub next_page: Option<Url>,
}

/// Reads a forum page; `engine` forces an engine, `None` detects it.
pub fn read_forum_page(doc: &Html, engine: Option<Engine>, ctx: &PageContext) -> ForumPage {
    let engine = engine.or_else(|| detect(doc));
    let mut page = ForumPage {
        engine,
        ..ForumPage::default()
    };
    let Some(engine) = engine else {
        return page;
    };
    let spec = spec(engine);
    // The page's own statement of its time zone ("All times are UTC + 1 hour") wins over the
    // configured one: it is what the dates on this page were written in.
    let page_ctx_base = ctx.base.clone();
    let mut ctx = ctx.clone();
    if let Some(offset) = engines::stated_offset(doc) {
        ctx.site_offset = offset;
    }
    // Relative links resolve against the page's `<base href>` when it has one.
    if let Some(base) = first(doc.root_element(), "base[href]")
        .and_then(|b| b.value().attr("href"))
        .and_then(|h| ctx.base.join(h.trim()).ok())
    {
        ctx.base = base;
    }
    page.thread_title = thread_title(doc, spec);
    let page_url = without_session(&page_ctx_base);
    page.posts = read_posts(doc, spec, &ctx, &page.thread_title, &page_url);
    // A thread page's links to other threads (similar threads, signatures) are not a
    // listing: threads are read from pages without posts only.
    if page.posts.is_empty() {
        page.threads = read_threads(doc, spec, &ctx);
    }
    page.subforums = read_subforums(doc, spec, &ctx);
    page.next_page = next_page(doc, spec, &ctx);
    page
}

thread_local! {
    /// Selectors already parsed: the engine tables are a few dozen literals, each used once
    /// per post; parsing them once keeps a page's cost in reading it.
    static SELECTORS: std::cell::RefCell<std::collections::HashMap<String, Selector>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// A selector from the engine tables (all literals, checked by the tests).
fn sel(s: &str) -> Option<Selector> {
    SELECTORS.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some(found) = cache.get(s) {
            return Some(found.clone());
        }
        let parsed = Selector::parse(s).ok()?;
        // The tables are bounded; anything else (never) would not grow the cache much.
        if cache.len() < 512 {
            cache.insert(s.to_string(), parsed.clone());
        }
        Some(parsed)
    })
}

fn first<'a>(scope: ElementRef<'a>, selector: &str) -> Option<ElementRef<'a>> {
    let s = sel(selector)?;
    scope.select(&s).next()
}

fn is_inside(el: ElementRef<'_>, ancestor: NodeId) -> bool {
    el.ancestors().any(|a| a.id() == ancestor)
}

/// A URL from a page, absolute, without session parameters.
fn resolve(href: &str, ctx: &PageContext) -> Option<Url> {
    let href = href.trim();
    if href.is_empty() || href.starts_with("javascript:") || href.starts_with('#') {
        return None;
    }
    let u = ctx.base.join(href).ok()?;
    if !matches!(u.scheme(), "http" | "https") {
        return None;
    }
    Some(without_session(&u))
}

/// Whether `name` can be a user name and not something near it in the markup: a post
/// number ("#7"), the "Post" icon's text, or nothing.
fn plausible_author(name: &str) -> bool {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 64 {
        return false;
    }
    // A post number is written "#7"; a user may well be called "13295".
    if let Some(digits) = n.strip_prefix('#') {
        if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
            return false;
        }
    }
    !matches!(
        n.to_lowercase().as_str(),
        "post" | "posts" | "quote" | "reply" | "report" | "offline" | "online" | "permalink"
    )
}

fn thread_title(doc: &Html, spec: &Spec) -> String {
    let root = doc.root_element();
    for s in spec.title {
        if let Some(el) = first(root, s) {
            let t = text::inline_text(el);
            if !t.is_empty() {
                return t;
            }
        }
    }
    // The document title, without the site's name around it.
    let Some(t) = first(root, "title").map(text::inline_text) else {
        return String::new();
    };
    if let Some((_, after)) = t.split_once("View topic - ") {
        return after.trim().to_string();
    }
    for sep in spec.title_separators {
        if let Some((before, _)) = t.rsplit_once(sep) {
            if !before.trim().is_empty() {
                return before.trim().to_string();
            }
        }
    }
    t
}

/// Reads every post of a thread page.
fn read_posts(
    doc: &Html,
    spec: &Spec,
    ctx: &PageContext,
    title: &str,
    page_url: &Url,
) -> Vec<Entry> {
    let Some(post_sel) = sel(spec.post) else {
        return Vec::new();
    };
    // A set, so that checking a block's ancestors costs the depth of the tree, not the
    // number of posts: a page of many post-like blocks stays linear.
    let mut accepted: HashSet<NodeId> = HashSet::new();
    let mut raw: Vec<RawPost> = Vec::new();
    for post in doc.select(&post_sel) {
        // A post inside an accepted post (a quoted post's own markup) is not another post.
        if post.ancestors().any(|a| accepted.contains(&a.id())) {
            continue;
        }
        // No post text, no post: theme headers, login boxes, ads and announcement boxes
        // have the look of a post but none of its text element.
        let Some(body) = spec.body.iter().find_map(|b| first(post, b)) else {
            continue;
        };
        accepted.insert(post.id());
        raw.push(read_one(post, body, spec));
    }
    // One date order for the page: a date that can only be read one way settles it.
    let order = raw
        .iter()
        .filter(|p| p.date_machine.is_none())
        .find_map(|p| dates::order_hint(&p.date_text))
        .unwrap_or(spec.order);
    raw.into_iter()
        .map(|p| {
            let date = match &p.date_machine {
                Some(m) => Some(m.clone()),
                None => dates::parse_date_with(&p.date_text, ctx, order),
            };
            let links = p
                .links
                .iter()
                .filter_map(|h| resolve(h, ctx))
                .map(|u| u.to_string())
                .collect();
            let detail_link = p.anchor.as_ref().map(|a| {
                let mut u = page_url.clone();
                u.set_fragment(Some(a));
                u.to_string()
            });
            Entry {
                id: p.id,
                title: title.to_string(),
                author: p.author,
                date,
                date_text: p.date_text,
                body: p.body,
                quoted: p.quoted,
                links,
                detail_link,
                ..Entry::default()
            }
        })
        .collect()
}

struct RawPost {
    id: String,
    anchor: Option<String>,
    author: String,
    date_text: String,
    /// A date already read from a machine attribute (`datetime`, `data-time`).
    date_machine: Option<String>,
    body: String,
    quoted: Vec<String>,
    links: Vec<String>,
}

fn read_one(post: ElementRef<'_>, body: ElementRef<'_>, spec: &Spec) -> RawPost {
    let (id, anchor) = post_id(post, body, spec);
    let author = author(post, body, spec);
    let (date_text, date_machine) = date(post, body, spec);

    // Quotes: the outermost quote blocks inside the post text.
    let mut quote_ids: HashSet<NodeId> = HashSet::new();
    let mut quoted = Vec::new();
    for q in quotes(body, spec) {
        if q.ancestors().any(|a| quote_ids.contains(&a.id())) {
            continue;
        }
        quote_ids.insert(q.id());
        let t = text::text_of(q, &HashSet::new());
        if !t.is_empty() {
            quoted.push(t);
        }
    }
    let mut skip = quote_ids.clone();
    if let Some(d) = sel(spec.drop) {
        for el in body.select(&d) {
            skip.insert(el.id());
        }
    }
    let text = text::text_of(body, &skip);

    let mut links = Vec::new();
    if let Some(a) = sel("a[href]") {
        for el in body.select(&a) {
            if el.ancestors().any(|x| skip.contains(&x.id())) {
                continue;
            }
            if let Some(h) = el.value().attr("href") {
                links.push(h.to_string());
            }
        }
    }
    RawPost {
        id,
        anchor,
        author,
        date_text,
        date_machine,
        body: text,
        quoted,
        links,
    }
}

/// The last run of digits in `s`.
fn trailing_number(s: &str) -> Option<&str> {
    let end = s.rfind(|c: char| c.is_ascii_digit())? + 1;
    let start = s[..end]
        .rfind(|c: char| !c.is_ascii_digit())
        .map_or(0, |i| i + 1);
    Some(&s[start..end])
}

/// The post's id in the engine's own form (`p123`, `post_123`, `post-123`, `msg123`,
/// `comment-123`), and the page anchor that reaches it.
fn post_id(post: ElementRef<'_>, body: ElementRef<'_>, spec: &Spec) -> (String, Option<String>) {
    for (on_post, attr) in spec.id_attrs {
        let el = if *on_post { post } else { body };
        if let Some(v) = el.value().attr(attr) {
            if let Some(n) = trailing_number(v) {
                let anchor = post.value().attr("id").map(str::to_string);
                return (format!("{}{}", spec.id_prefix, n), anchor);
            }
        }
    }
    if let Some(a) = spec.id_anchor.and_then(|s| first(post, s)) {
        if let Some(name) = a.value().attr("name") {
            if let Some(n) = trailing_number(name) {
                return (format!("{}{}", spec.id_prefix, n), Some(name.to_string()));
            }
        }
    }
    (String::new(), None)
}

fn author(post: ElementRef<'_>, body: ElementRef<'_>, spec: &Spec) -> String {
    for a in spec.author {
        if let Some(attr) = a.strip_prefix('@') {
            if let Some(v) = post.value().attr(attr) {
                if plausible_author(v) {
                    return v.trim().to_string();
                }
            }
            continue;
        }
        let Some(s) = sel(a) else { continue };
        for el in post.select(&s) {
            // A name inside the post text belongs to a quote or a mention.
            if is_inside(el, body.id()) || el.id() == body.id() {
                continue;
            }
            let name = text::inline_text(el);
            if plausible_author(&name) {
                return name;
            }
        }
    }
    String::new()
}

/// The date as shown, and the instant when a machine attribute gives it.
fn date(post: ElementRef<'_>, body: ElementRef<'_>, spec: &Spec) -> (String, Option<String>) {
    for src in spec.date {
        let (selector, how) = match src {
            DateSrc::Attr(s, a) => (*s, Some(*a)),
            DateSrc::Text(s) => (*s, None),
        };
        let Some(s) = sel(selector) else { continue };
        for el in post.select(&s) {
            if is_inside(el, body.id()) {
                continue;
            }
            // An edit note inside the date line ("last modified: ...") is another date.
            let mut skip = HashSet::new();
            if let Some(d) = sel(spec.drop) {
                skip.extend(el.select(&d).map(|x| x.id()));
            }
            let shown = text::text_of(el, &skip)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            match how {
                Some(attr) => {
                    let Some(v) = el.value().attr(attr) else {
                        continue;
                    };
                    let machine = if attr.starts_with("data-time")
                        || attr == "data-timestamp"
                        || attr == "data-node-publishdate"
                    {
                        dates::from_unix(v)
                    } else {
                        machine_datetime(v)
                    };
                    match machine {
                        Some(m) => {
                            let shown = if shown.is_empty() {
                                v.to_string()
                            } else {
                                shown
                            };
                            return (shown, Some(m));
                        }
                        // A `title` is text for people ("Oct 30, 2014 at 10:48 PM").
                        None => return (v.trim().to_string(), None),
                    }
                }
                None => {
                    let shown = date_part(&shown);
                    if !shown.is_empty() {
                        return (shown, None);
                    }
                }
            }
        }
    }
    (String::new(), None)
}

/// A `datetime` attribute: ISO 8601; without a zone it is UTC (vBulletin 5 writes UTC
/// there while the text shows the board's time).
fn machine_datetime(v: &str) -> Option<String> {
    let utc = PageContext {
        base: Url::parse("http://localhost/").ok()?,
        fetched_at: time::OffsetDateTime::UNIX_EPOCH,
        site_offset: time::UtcOffset::UTC,
    };
    let v = v.trim();
    // Only the ISO shapes: a datetime attribute is never relative.
    if v.len() < 10 || !v.as_bytes()[..4].iter().all(u8::is_ascii_digit) {
        return None;
    }
    dates::parse_date(v, &utc)
}

/// The date in an author line: what follows "»" ("by admin » Thu Jun 22, 2017 9:38 am"),
/// or after "on:" (SMF's "« Reply #1 on: September 19, 2007, 02:16:51 PM »").
fn date_part(line: &str) -> String {
    let mut s = line.trim();
    if let Some((_, after)) = s.rsplit_once('»') {
        if !after.trim().is_empty() {
            s = after.trim();
        } else if let Some((before, _)) = s.rsplit_once('»') {
            s = before.trim();
        }
    }
    if let Some((_, after)) = s.split_once("on:") {
        s = after.trim();
    }
    s.trim_start_matches('«')
        .trim_end_matches('»')
        .trim()
        .to_string()
}

fn quotes<'a>(body: ElementRef<'a>, spec: &Spec) -> Vec<ElementRef<'a>> {
    let mut out = Vec::new();
    if let Some(q) = sel(spec.quote) {
        out.extend(body.select(&q));
    }
    if spec.quote_by_caption {
        // vBulletin 3's quote: a block whose first child is a small caption ending with ':'
        // ("Quote:", "Zitat:", "Цитата:") followed by a table holding the quoted text.
        if let (Some(div), Some(table)) = (sel("div"), sel("table")) {
            for d in body.select(&div) {
                let caption = d.children().filter_map(ElementRef::wrap).next();
                let is_quote = caption.is_some_and(|c| {
                    let t = text::inline_text(c);
                    c.value().name() == "div"
                        && c.value().classes().any(|k| k == "smallfont")
                        && t.ends_with(':')
                        && t.chars().count() <= 30
                }) && d.select(&table).next().is_some();
                if is_quote {
                    out.push(d);
                }
            }
        }
    }
    // Page order, each once.
    let ids: HashSet<NodeId> = out.iter().map(|e| e.id()).collect();
    body.descendants()
        .filter(|n| ids.contains(&n.id()))
        .filter_map(ElementRef::wrap)
        .collect()
}

/// Threads of a listing page, each once, in page order.
fn read_threads(doc: &Html, spec: &Spec, ctx: &PageContext) -> Vec<ThreadLink> {
    let mut out = threads_from(doc, spec, ctx, |_| true, spec.thread_link);
    if out.is_empty() {
        // A theme without the engine's classes: the links that look like a thread's URL.
        let looks_like_thread = |href: &str| {
            spec.thread_href.iter().any(|x| href.contains(x))
                && !spec.thread_href_not.iter().any(|x| href.contains(x))
        };
        out = threads_from(doc, spec, ctx, looks_like_thread, "a[href]");
    }
    out
}

fn threads_from(
    doc: &Html,
    spec: &Spec,
    ctx: &PageContext,
    keep: impl Fn(&str) -> bool,
    selector: &str,
) -> Vec<ThreadLink> {
    let Some(s) = sel(selector) else {
        return Vec::new();
    };
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for a in doc.select(&s) {
        let Some(href) = a.value().attr("href") else {
            continue;
        };
        if !keep(href) {
            continue;
        }
        let Some(url) = resolve(href, ctx) else {
            continue;
        };
        let title = text::inline_text(a);
        // Page-number links ("1", "2") and empty icon links are not the thread's title.
        if title.is_empty()
            || title.chars().all(|c| c.is_ascii_digit())
            || !seen.insert(url.to_string())
        {
            continue;
        }
        let last_post = last_post_marker(a, spec, ctx);
        out.push(ThreadLink {
            url,
            title,
            last_post,
        });
    }
    out
}

/// What changes in a listing row when someone posts: the last-post cell, the reply count,
/// and the link to the last post (its URL carries the post's id).
fn last_post_marker(link: ElementRef<'_>, spec: &Spec, ctx: &PageContext) -> String {
    let Some(row_sel) = sel(spec.thread_row) else {
        return String::new();
    };
    let Some(row) = link
        .ancestors()
        .filter_map(ElementRef::wrap)
        .find(|a| row_sel.matches(a))
    else {
        return String::new();
    };
    let mut parts = Vec::new();
    for s in spec.last_post {
        if let Some(el) = first(row, s) {
            let t = el
                .value()
                .attr("datetime")
                .or_else(|| el.value().attr("data-time"))
                .map(str::to_string)
                .unwrap_or_else(|| text::inline_text(el));
            if !t.is_empty() {
                parts.push(t);
            }
        }
    }
    if let Some(a) = sel("a[href*='#']") {
        let last = row
            .select(&a)
            .filter_map(|x| x.value().attr("href"))
            .filter(|h| {
                h.rsplit_once('#')
                    .is_some_and(|(_, f)| f.chars().any(|c| c.is_ascii_digit()))
            })
            .last();
        if let Some(u) = last.and_then(|h| resolve(h, ctx)) {
            parts.push(u.to_string());
        }
    }
    parts.join(" | ")
}

fn read_subforums(doc: &Html, spec: &Spec, ctx: &PageContext) -> Vec<Url> {
    let Some(s) = sel(spec.subforum_link) else {
        return Vec::new();
    };
    let mut seen = HashSet::new();
    doc.select(&s)
        .filter_map(|a| a.value().attr("href").and_then(|h| resolve(h, ctx)))
        .filter(|u| seen.insert(u.to_string()))
        .collect()
}

fn next_page(doc: &Html, spec: &Spec, ctx: &PageContext) -> Option<Url> {
    let root = doc.root_element();
    for s in spec.next {
        if let Some(el) = first(root, s) {
            if let Some(u) = el.value().attr("href").and_then(|h| resolve(h, ctx)) {
                return Some(u);
            }
        }
    }
    // A pagination block: the link to the page numbered one more than the current page's
    // marker (a number not in a link: `<strong>2</strong>`, `<span class="current">2</span>`).
    let s = sel(spec.pagination)?;
    for block in doc.select(&s) {
        let mut current: Option<u64> = None;
        for node in block.descendants() {
            let Some(el) = ElementRef::wrap(node) else {
                continue;
            };
            let name = el.value().name();
            let label = text::inline_text(el);
            let number = label.parse::<u64>().ok();
            let in_link = el
                .ancestors()
                .filter_map(ElementRef::wrap)
                .any(|a| a.value().name() == "a");
            if name != "a" && !in_link {
                let marker = name == "strong"
                    || el
                        .value()
                        .classes()
                        .any(|c| c == "active" || c == "current" || c.contains("current"));
                if marker && number.is_some() {
                    current = number;
                }
                continue;
            }
            if let (Some(c), Some(n), "a") = (current, number, name) {
                if n == c + 1 {
                    return el.value().attr("href").and_then(|h| resolve(h, ctx));
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for e in Engine::ALL {
            assert_eq!(Engine::from_name(e.name()), Some(e));
        }
        assert_eq!(Engine::from_name("discourse"), None);
    }

    #[test]
    fn post_numbers_and_icons_are_not_authors() {
        for bad in ["#1", "#17", "Post", "", "   "] {
            assert!(!plausible_author(bad), "{bad:?}");
        }
        for good in [
            "admin",
            "Max",
            "l33t",
            "#hashtag",
            "Jean-Michel Dupont",
            "13295",
        ] {
            assert!(plausible_author(good), "{good:?}");
        }
    }

    #[test]
    fn date_part_of_author_lines() {
        assert_eq!(
            date_part("by admin » Thu Jun 22, 2017 9:38 am"),
            "Thu Jun 22, 2017 9:38 am"
        );
        assert_eq!(
            date_part("« Reply #1 on: September 19, 2007, 02:16:51 PM »"),
            "September 19, 2007, 02:16:51 PM"
        );
        assert_eq!(date_part("2016-02-01, 02:21"), "2016-02-01, 02:21");
    }

    #[test]
    fn trailing_numbers() {
        assert_eq!(trailing_number("js-post-114210"), Some("114210"));
        assert_eq!(trailing_number("p4"), Some("4"));
        assert_eq!(trailing_number("msg_174916"), Some("174916"));
        assert_eq!(trailing_number("post"), None);
    }
}

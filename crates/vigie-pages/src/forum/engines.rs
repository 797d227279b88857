//! The engines as data: where each one puts a post's parts and a listing's links, and the
//! signs that a page was rendered by it.

use scraper::{Html, Selector};
use time::UtcOffset;

use super::{text, Engine};
use crate::dates::DateOrder;

/// Where a post's date is.
pub(super) enum DateSrc {
    /// An attribute of the first element matching the selector (`datetime`, `data-time`,
    /// or a `title` written for people).
    Attr(&'static str, &'static str),
    /// The text of the first element matching the selector (after "»" or "on:" if any).
    Text(&'static str),
}

/// What one engine's pages look like.
pub(super) struct Spec {
    /// A post's container.
    pub post: &'static str,
    /// The post's own text inside the container, in order of preference: a container
    /// without one is not a post.
    pub body: &'static [&'static str],
    /// Where the author's name is, in order; `@attr` is an attribute of the container.
    pub author: &'static [&'static str],
    pub date: &'static [DateSrc],
    /// Quoted posts inside the text.
    pub quote: &'static str,
    /// vBulletin 3's quotes have no class: a caption ending with ':' and a table.
    pub quote_by_caption: bool,
    /// Inside the text but not the post's words: signatures, code-box captions, edit notes.
    pub drop: &'static str,
    /// Where the post's number is (`true`: on the container, `false`: on the text element).
    pub id_attrs: &'static [(bool, &'static str)],
    /// An anchor inside the post whose `name` carries the number (subsilver2's
    /// `<a name="p123">`), when the container has none.
    pub id_anchor: Option<&'static str>,
    /// The engine's own prefix for a post id.
    pub id_prefix: &'static str,
    /// The thread's title on a thread page, in order; then the document title.
    pub title: &'static [&'static str],
    /// What separates the thread title from the site name in the document title.
    pub title_separators: &'static [&'static str],
    /// How the engine writes all-numeric dates by default.
    pub order: DateOrder,
    /// Thread links on a listing.
    pub thread_link: &'static str,
    /// When no link matches `thread_link` (a theme without the engine's classes): links
    /// whose URL has one of these, and none of `thread_href_not`, are thread links.
    pub thread_href: &'static [&'static str],
    pub thread_href_not: &'static [&'static str],
    /// The listing row holding a thread link.
    pub thread_row: &'static str,
    /// The row's cells that change when someone posts (last post, reply count).
    pub last_post: &'static [&'static str],
    pub subforum_link: &'static str,
    /// Links to the next page, in order.
    pub next: &'static [&'static str],
    /// Pagination blocks: the link after the current page's number is the next page.
    pub pagination: &'static str,
}

static PHPBB: Spec = Spec {
    // prosilver and its derivatives: `div.post`; subsilver2: one `table.tablebg` per post.
    post: "div.post, table.tablebg",
    body: &["div.content", "div.postbody"],
    author: &[
        ".author strong",
        ".postprofile dt a.username-coloured",
        ".postprofile dt a.username",
        ".postprofile dt strong",
        "b.postauthor",
    ],
    date: &[
        DateSrc::Attr(".author time", "datetime"),
        DateSrc::Text(".author"),
        // subsilver2: "Post subject: ..." then "Posted: Tue Jan 29, 2013 3:04 pm".
        DateSrc::Text("td.gensmall > div + div"),
    ],
    quote: "blockquote, div.quotecontent",
    quote_by_caption: false,
    drop: "dl.codebox > dt, div.codebox > p, .signature, div.quotetitle, div.codetitle",
    id_attrs: &[(true, "id")],
    id_anchor: Some("a[name^='p']"),
    id_prefix: "p",
    title: &[
        "h2.topic-title",
        "h2 > a[href*='viewtopic.php']",
        "#page-body > h2",
    ],
    title_separators: &[" - ", " • "],
    order: DateOrder::DayFirst,
    thread_link: "a.topictitle",
    thread_href: &["viewtopic.php?"],
    thread_href_not: &["p=", "#", "start=", "view=", "mode=", "hilit="],
    thread_row: "li.row, tr",
    last_post: &["dd.lastpost", "dd.posts", "td.row3Right", "p.topicdetails"],
    subforum_link: "a.forumtitle, a.subforum, a.forumlink",
    next: &[
        ".pagination a.next",
        ".pagination .next a",
        "a[rel='next']",
        "fieldset.display-options a.right-box",
    ],
    pagination: ".pagination, .paging",
};

static MYBB: Spec = Spec {
    post: "div.post",
    body: &["div.post_body"],
    author: &[
        ".post_author .largetext a",
        ".post_author .largetext",
        ".author_information strong",
        ".post_author strong",
    ],
    date: &[DateSrc::Text(".post_date")],
    quote: "blockquote",
    quote_by_caption: false,
    drop: ".codeblock > .title, .signature, .post_edit",
    id_attrs: &[(true, "id"), (false, "id")],
    id_anchor: None,
    id_prefix: "post_",
    title: &[".navigation .active", "li > a.active"],
    title_separators: &[],
    order: DateOrder::MonthFirst,
    thread_link: "span[id^='tid_'] > a, a[id^='tid_']",
    thread_href: &["showthread.php?tid=", "/Thread-", "Thread-"],
    thread_href_not: &["pid=", "#", "page=", "action="],
    thread_row: "tr, .inline_row",
    last_post: &[".lastpost", "a[href*='whoposted']"],
    subforum_link: "strong > a[href*='forumdisplay.php?fid='], strong > a[href^='Forum-']",
    next: &["a.pagination_next"],
    pagination: ".pagination",
};

static XENFORO: Spec = Spec {
    post: "article.message--post, li.message[id^='post-']",
    body: &[".bbWrapper", "blockquote.messageText"],
    author: &[
        "@data-author",
        ".message-name .username",
        ".messageUserBlock a.username",
        "a.username",
    ],
    date: &[
        DateSrc::Attr(".message-attribution time", "datetime"),
        DateSrc::Attr("time.u-dt", "datetime"),
        DateSrc::Attr(".messageMeta abbr.DateTime", "data-time"),
        DateSrc::Attr(".messageMeta span.DateTime", "title"),
        DateSrc::Attr("abbr.DateTime", "data-time"),
        DateSrc::Attr("span.DateTime", "title"),
    ],
    quote: ".bbCodeBlock--quote, .bbCodeQuote",
    quote_by_caption: false,
    drop: ".bbCodeBlock-title, .bbCodeBlock-expandLink, .bbCodeCode > .type, \
           .bbCodePHP > .type, .bbCodeHtml > .type, .messageTextEndMarker",
    id_attrs: &[(true, "data-content"), (true, "id")],
    id_anchor: None,
    id_prefix: "post-",
    title: &["h1.p-title-value", ".titleBar h1"],
    title_separators: &[" | "],
    order: DateOrder::DayFirst,
    thread_link:
        ".structItem-title a[href*='threads/'], li.discussionListItem h3.title a[href*='threads/']",
    thread_href: &["/threads/"],
    thread_href_not: &["/post-", "#", "/page-", "/latest", "/unread", "/reply"],
    thread_row: ".structItem, li.discussionListItem",
    last_post: &[
        ".structItem-latestDate",
        ".structItem-cell--meta dd",
        ".lastPostInfo .DateTime",
        ".stats .major dd",
    ],
    subforum_link: ".node-title a, h3.nodeTitle a",
    next: &["a.pageNav-jump--next", "link[rel='next']"],
    pagination: ".pageNav-main, .PageNav",
};

static VBULLETIN: Spec = Spec {
    post:
        "li.b-post[data-node-id], li.postcontainer[id^='post_'], div[id^='edit'], table[id^='post']",
    body: &[
        "div[id^='post_message_']",
        ".js-post__content-text",
        "blockquote.postcontent",
    ],
    author: &[
        ".b-post__author .author strong",
        ".author strong",
        "a.bigusername",
        ".username_container .username",
        "a.username",
    ],
    date: &[
        DateSrc::Attr("time[datetime]", "datetime"),
        DateSrc::Text(".postdate .date"),
        DateSrc::Text("span.date"),
        DateSrc::Text("td.thead"),
    ],
    quote: ".bbcode_container, .bbcode_quote",
    quote_by_caption: true,
    drop: ".bbcode_description, .signature, .b-post__signature",
    id_attrs: &[(true, "data-node-id"), (true, "id"), (false, "id")],
    id_anchor: None,
    id_prefix: "post_",
    title: &["h1.main-title", "span.threadtitle", "td.navbar strong"],
    title_separators: &[" - Page ", " - "],
    order: DateOrder::MonthFirst,
    thread_link: "a[id^='thread_title_'], a.topic-title",
    thread_href: &["showthread.php?t=", "showthread.php/"],
    thread_href_not: &["p=", "#", "page=", "goto="],
    thread_row: "tr, li.threadbit, tr.topic-item",
    last_post: &[
        "dl.threadlastpost",
        ".threadstats",
        ".lastpost-by",
        ".topic-lastpost",
    ],
    subforum_link: "h2.forumtitle a, a.forum-title, td.alt1Active a[href*='forumdisplay.php']",
    next: &["a[rel='next']", "link[rel='next']"],
    pagination: ".pagenav",
};

static SMF: Spec = Spec {
    post: "div.windowbg, div.windowbg2, div.post_wrapper",
    body: &["div.inner[id^='msg_']", "div.post > div.inner"],
    author: &[".poster h4 a", ".poster h4", ".poster a"],
    date: &[
        DateSrc::Text(".keyinfo .smalltext"),
        DateSrc::Text(".postinfo .smalltext"),
        DateSrc::Text(".keyinfo a.smalltext"),
    ],
    quote: "blockquote, div.quote",
    quote_by_caption: false,
    drop: ".quoteheader, .quotefooter, .codeheader, .signature",
    id_attrs: &[(false, "id"), (true, "id")],
    id_anchor: None,
    id_prefix: "msg",
    title: &[],
    title_separators: &[],
    order: DateOrder::DayFirst,
    thread_link: "span[id^='msg_'] > a, td.subject a[href*='topic=']",
    thread_href: &["topic="],
    thread_href_not: &["msg", "#", "action="],
    thread_row: "tr",
    last_post: &["td.lastpost", "td.stats"],
    subforum_link: "a.subject[name^='b'], td.children a[href*='board=']",
    next: &[],
    pagination: ".pagelinks, div.middletext, .pagesection",
};

static INVISION: Spec = Spec {
    post: "article.cPost, article[id^='elComment_']",
    body: &["[data-role='commentContent']"],
    author: &[
        ".cAuthorPane_author strong",
        ".cAuthorPane_author",
        "[itemprop='author'] [itemprop='name']",
    ],
    date: &[DateSrc::Attr("time[datetime]", "datetime")],
    quote: "blockquote.ipsQuote, blockquote",
    quote_by_caption: false,
    drop: "[data-excludequote], [data-role='memberSignature']",
    id_attrs: &[(true, "id")],
    id_anchor: None,
    id_prefix: "comment-",
    title: &["h1.ipsType_pageTitle"],
    title_separators: &[" - "],
    order: DateOrder::MonthFirst,
    thread_link: "li.ipsDataItem .ipsDataItem_title a[href*='topic']",
    thread_href: &["/topic/", "showtopic="],
    thread_href_not: &["comment=", "#", "/page/", "do="],
    thread_row: "li.ipsDataItem",
    last_post: &[".ipsDataItem_lastPoster time", ".ipsDataItem_stats"],
    subforum_link: "li.cForumRow .ipsDataItem_title a",
    next: &["li.ipsPagination_next a", "link[rel='next']"],
    pagination: ".ipsPagination",
};

pub(super) fn spec(e: Engine) -> &'static Spec {
    match e {
        Engine::PhpBb => &PHPBB,
        Engine::MyBb => &MYBB,
        Engine::XenForo => &XENFORO,
        Engine::VBulletin => &VBULLETIN,
        Engine::Smf => &SMF,
        Engine::Invision => &INVISION,
    }
}

/// Signs of each engine: selectors, each worth one point (the generator meta is worth
/// three: it names the engine).
const SIGNS: &[(Engine, &str)] = &[
    (Engine::PhpBb, "body#phpbb"),
    (Engine::PhpBb, "dl.postprofile"),
    (Engine::PhpBb, "a.topictitle"),
    (Engine::PhpBb, "a[href*='viewtopic.php']"),
    (Engine::PhpBb, "a[href*='viewforum.php']"),
    (Engine::PhpBb, "b.postauthor"),
    (Engine::MyBb, "script[src*='jscripts/general.js']"),
    (Engine::MyBb, "div.post_author"),
    (Engine::MyBb, "div.post_body"),
    (Engine::MyBb, "span[id^='tid_']"),
    (Engine::MyBb, "a[href*='syndication.php']"),
    (Engine::XenForo, "html#XF"),
    (Engine::XenForo, "html#XenForo"),
    (Engine::XenForo, "[data-xf-init]"),
    (Engine::XenForo, ".bbWrapper"),
    (Engine::XenForo, "blockquote.messageText"),
    (Engine::VBulletin, "[id^='post_message_']"),
    (Engine::VBulletin, "li.postbitlegacy"),
    (Engine::VBulletin, "li.b-post"),
    (Engine::VBulletin, "a[id^='thread_title_']"),
    (Engine::VBulletin, "script[src*='vbulletin']"),
    (Engine::Smf, "#forumposts"),
    (Engine::Smf, "div.inner[id^='msg_']"),
    (Engine::Smf, "#smflogo"),
    (Engine::Smf, "script[src*='Themes/default/scripts']"),
    (Engine::Smf, "span[id^='msg_'] > a"),
    (Engine::Invision, "body.ipsApp"),
    (Engine::Invision, "[data-role='commentContent']"),
    (Engine::Invision, "li.ipsDataItem"),
    (Engine::Invision, "article.ipsComment"),
    (Engine::Invision, "#ipboard_body"),
];

/// The engine named by a generator meta or a "Powered by" line.
fn named(doc: &Html) -> Option<Engine> {
    let meta = Selector::parse("meta[name='generator']").ok()?;
    for m in doc.select(&meta) {
        let c = m.value().attr("content").unwrap_or("").to_lowercase();
        for (needle, e) in NAMES {
            if c.contains(needle) {
                return Some(*e);
            }
        }
    }
    None
}

const NAMES: &[(&str, Engine)] = &[
    ("vbulletin", Engine::VBulletin),
    ("xenforo", Engine::XenForo),
    ("phpbb", Engine::PhpBb),
    ("mybb", Engine::MyBb),
    ("simple machines", Engine::Smf),
    ("smf", Engine::Smf),
    ("invision", Engine::Invision),
    ("ip.board", Engine::Invision),
];

/// The engine that rendered a page (generator meta, class names, script names), if one is
/// recognised.
pub fn detect(doc: &Html) -> Option<Engine> {
    let mut score = [0u32; 6];
    let slot = |e: Engine| Engine::ALL.iter().position(|x| *x == e).unwrap_or(0);
    if let Some(e) = named(doc) {
        score[slot(e)] += 3;
    }
    for (e, s) in SIGNS {
        if let Ok(sel) = Selector::parse(s) {
            if doc.select(&sel).next().is_some() {
                score[slot(*e)] += 1;
            }
        }
    }
    let (best, points) = score
        .iter()
        .enumerate()
        .max_by_key(|(i, p)| (**p, std::cmp::Reverse(*i)))?;
    (*points > 0).then(|| Engine::ALL[best])
}

/// The time zone a page says its dates are in: phpBB's "All times are UTC + 1 hour [ DST ]"
/// or "UTC+01:00", vBulletin's "All times are GMT -5".
pub(super) fn stated_offset(doc: &Html) -> Option<UtcOffset> {
    // The statement sits in the footer, in a small element: read the small elements only.
    let s = Selector::parse("p, div, span, li, td").ok()?;
    for el in doc.select(&s) {
        let own: String = el
            .children()
            .filter_map(|c| c.value().as_text().map(|t| t.to_string()))
            .collect();
        let Some(at) = own.find("All times are") else {
            continue;
        };
        // The statement may continue in child elements (`<span title="UTC+1">`).
        let full = text::inline_text(el);
        let from = full.find("All times are").unwrap_or(at);
        return parse_offset(&full[from + "All times are".len()..]);
    }
    None
}

/// "UTC + 1 hour [ DST ]", "GMT -5.", "UTC+01:00", "UTC".
fn parse_offset(s: &str) -> Option<UtcOffset> {
    let s = s.trim_start();
    let rest = s
        .strip_prefix("UTC")
        .or_else(|| s.strip_prefix("GMT"))?
        .trim_start();
    let mut seconds: i32 = 0;
    let mut chars = rest.char_indices().peekable();
    if let Some((_, sign @ ('+' | '-' | '−'))) = chars.peek().copied() {
        chars.next();
        let num: String = rest[sign.len_utf8()..]
            .trim_start()
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == ':' || *c == '.')
            .collect();
        let (h, m) = match num.split_once([':', '.']) {
            Some((h, m)) if !m.is_empty() => (h.parse::<i32>().ok()?, m.parse::<i32>().ok()?),
            _ => (num.trim_end_matches(['.', ':']).parse::<i32>().ok()?, 0),
        };
        // "5.5" is five and a half hours; "05:30" five hours thirty.
        let minutes = if num.contains('.') && !num.ends_with('.') {
            m * 6
        } else {
            m
        };
        seconds = h * 3600 + minutes * 60;
        if sign != '+' {
            seconds = -seconds;
        }
    }
    if rest.contains("DST") {
        seconds += 3600;
    }
    UtcOffset::from_whole_seconds(seconds).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_selector_parses() {
        for e in Engine::ALL {
            let s = spec(e);
            let mut all: Vec<&str> = vec![
                s.post,
                s.quote,
                s.drop,
                s.thread_link,
                s.thread_row,
                s.subforum_link,
                s.pagination,
            ];
            all.extend(s.body);
            all.extend(s.id_anchor);
            all.extend(s.author.iter().filter(|a| !a.starts_with('@')));
            all.extend(s.title);
            all.extend(s.last_post);
            all.extend(s.next);
            for d in s.date {
                all.push(match d {
                    DateSrc::Attr(x, _) | DateSrc::Text(x) => x,
                });
            }
            for x in all {
                assert!(Selector::parse(x).is_ok(), "{e:?}: {x}");
            }
        }
        for (_, x) in SIGNS {
            assert!(Selector::parse(x).is_ok(), "{x}");
        }
    }

    #[test]
    fn stated_offsets() {
        let h = |n: i32| UtcOffset::from_whole_seconds(n * 3600).ok();
        assert_eq!(parse_offset(" UTC "), h(0));
        assert_eq!(parse_offset(" UTC [ DST ]"), h(1));
        assert_eq!(parse_offset(" UTC + 1 hour [ DST ]"), h(2));
        assert_eq!(parse_offset(" GMT -5. The time now is 00:08."), h(-5));
        assert_eq!(parse_offset(" UTC+01:00"), h(1));
        assert_eq!(
            parse_offset(" UTC + 5.5 hours"),
            UtcOffset::from_whole_seconds(5 * 3600 + 1800).ok()
        );
        assert_eq!(parse_offset(" Paris time"), None);
    }

    #[test]
    fn footer_statement_is_found() {
        let doc = Html::parse_document(
            "<html><body><div class=copyright>Powered by phpBB | All times are \
             <span title=\"UTC+2\">UTC+02:00</span></div></body></html>",
        );
        assert_eq!(
            stated_offset(&doc),
            UtcOffset::from_whole_seconds(7200).ok()
        );
    }
}

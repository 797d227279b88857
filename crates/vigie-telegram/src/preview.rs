//! A public channel's web preview (`https://t.me/s/NAME`): no account, no API. Each post is a
//! `div.tgme_widget_message` with `data-post="NAME/ID"`; the page lists about twenty posts,
//! oldest first, and `?before=ID` pages back in time.

use scraper::{ElementRef, Selector};

use crate::links::{tme_reference, TmeRef};
use crate::{Attachment, Link, LinkKind, Media, Poll, TelegramMessage};

/// One preview page: its posts (oldest first) and whether an older page exists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PreviewPage {
    /// Posts on the page.
    pub messages: Vec<TelegramMessage>,
    /// The `?before=` id of the previous (older) page, when the page links one.
    pub older: Option<i64>,
    /// `tgme_widget_message` blocks that could not be read (no `data-post` id).
    pub unreadable: usize,
    /// Service messages ("Channel created", "pinned a message"): recognised, not posts.
    pub service: usize,
}

fn sel(s: &str) -> Selector {
    // The selectors are literals checked by the tests; a typo would fail every test.
    Selector::parse(s).unwrap_or_else(|_| unreachable!("invalid selector literal {s}"))
}

fn text_of(e: ElementRef<'_>) -> String {
    // `<br>` is a line break in posts.
    let mut out = String::new();
    for node in e.descendants() {
        if let Some(t) = node.value().as_text() {
            out.push_str(t);
        } else if node
            .value()
            .as_element()
            .is_some_and(|el| el.name() == "br")
        {
            out.push('\n');
        }
    }
    out.trim().to_string()
}

/// Reads `1.2K`, `3M`, `845` as counts.
pub fn parse_count(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, mult) = match s.chars().last()? {
        'K' | 'k' => (&s[..s.len() - 1], 1_000.0),
        'M' | 'm' => (&s[..s.len() - 1], 1_000_000.0),
        _ => (s, 1.0),
    };
    let v: f64 = num.replace(',', ".").parse().ok()?;
    (v >= 0.0).then(|| (v * mult).round() as u64)
}

/// The selectors of a post's parts, parsed once per page.
struct Parts {
    text: Selector,
    date: Selector,
    views: Selector,
    signature: Selector,
    sender: Selector,
    owner: Selector,
    fwd: Selector,
    reply: Selector,
    document: Selector,
    doc_title: Selector,
    doc_extra: Selector,
    text_link: Selector,
    button: Selector,
    preview: Selector,
    preview_title: Selector,
    preview_site: Selector,
    preview_desc: Selector,
    poll: Selector,
    poll_question: Selector,
    poll_option: Selector,
    media: Selector,
    service: Selector,
}

impl Parts {
    fn new() -> Parts {
        Parts {
            text: sel(".tgme_widget_message_text"),
            date: sel(".tgme_widget_message_date time[datetime]"),
            views: sel(".tgme_widget_message_views"),
            signature: sel(".tgme_widget_message_from_author"),
            sender: sel(".tgme_widget_message_author_name"),
            owner: sel(".tgme_widget_message_owner_name"),
            fwd: sel(".tgme_widget_message_forwarded_from_name"),
            reply: sel("a.tgme_widget_message_reply[href]"),
            document: sel(".tgme_widget_message_document"),
            doc_title: sel(".tgme_widget_message_document_title"),
            doc_extra: sel(".tgme_widget_message_document_extra"),
            text_link: sel("a[href]"),
            button: sel("a.tgme_widget_message_inline_button[href]"),
            preview: sel("a.tgme_widget_message_link_preview[href]"),
            preview_title: sel(".link_preview_title"),
            preview_site: sel(".link_preview_site_name"),
            preview_desc: sel(".link_preview_description"),
            poll: sel(".tgme_widget_message_poll"),
            poll_question: sel(".tgme_widget_message_poll_question"),
            poll_option: sel(".tgme_widget_message_poll_option_text"),
            media: sel(
                ".tgme_widget_message_photo_wrap, .tgme_widget_message_video_player, \
                 .tgme_widget_message_roundvideo_player",
            ),
            service: sel("[class*=tgme_widget_message_service]"),
        }
    }
}

fn has_class(e: ElementRef<'_>, class: &str) -> bool {
    e.value().classes().any(|c| c == class)
}

/// Whether `e` sits in the quoted parent of a reply (or in a link preview card) within the
/// post `post`: those blocks reuse the post's own classes. Bounded by the page's depth cap.
fn quoted(e: ElementRef<'_>, post: ElementRef<'_>) -> bool {
    if has_class(e, "js-message_reply_text") {
        return true;
    }
    for a in e.ancestors() {
        if a.id() == post.id() {
            return false;
        }
        if let Some(el) = a.value().as_element() {
            if el.classes().any(|c| {
                c == "tgme_widget_message_reply" || c == "tgme_widget_message_link_preview"
            }) {
                return true;
            }
        }
    }
    false
}

/// The first element of the post itself matching `s`, outside a quoted parent.
fn own<'a>(post: ElementRef<'a>, s: &Selector) -> Option<ElementRef<'a>> {
    post.select(s).find(|e| !quoted(*e, post))
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

/// Parses a preview page of `channel`, in time linear in its length. Posts of other channels
/// (never expected) are skipped; service messages are counted, not returned; a page nested
/// deeper than any real preview page is refused (logged, counted unreadable) instead of parsed.
pub fn parse_preview(html: &str, channel: &str) -> PreviewPage {
    let doc = match vigie_html::parse_document(html, vigie_html::DEFAULT_MAX_DEPTH) {
        Ok(doc) => doc,
        Err(e) => {
            tracing::warn!(channel, bytes = html.len(), error = %e, "preview page not parsed");
            return PreviewPage {
                unreadable: 1,
                ..PreviewPage::default()
            };
        }
    };
    let parts = Parts::new();
    let (msg, prev) = (
        sel("div.tgme_widget_message[data-post]"),
        sel("link[rel=prev][href]"),
    );
    let mut page = PreviewPage::default();
    let blocks = sel("div.tgme_widget_message");
    page.unreadable = doc.select(&blocks).count() - doc.select(&msg).count();
    for m in doc.select(&msg) {
        let post = m.value().attr("data-post").unwrap_or("");
        let Some((name, id)) = post.rsplit_once('/') else {
            page.unreadable += 1;
            continue;
        };
        let Ok(id) = id.parse::<i64>() else {
            page.unreadable += 1;
            continue;
        };
        if !name.eq_ignore_ascii_case(channel) {
            continue;
        }
        if has_class(m, "service_message") || m.select(&parts.service).next().is_some() {
            page.service += 1;
            continue;
        }
        page.messages.push(read_post(m, name, id, &parts));
    }
    page.messages.sort_by_key(|m| m.id);
    page.messages.dedup_by_key(|m| m.id);
    page.older = doc
        .select(&prev)
        .next()
        .and_then(|l| l.value().attr("href"))
        .and_then(|h| h.split("before=").nth(1))
        .and_then(|v| v.split('&').next())
        .and_then(|v| v.parse().ok());
    page
}

/// One post block: its own words and parts, never the quoted parent's.
fn read_post(m: ElementRef<'_>, name: &str, id: i64, p: &Parts) -> TelegramMessage {
    let date = m
        .select(&p.date)
        .next()
        .and_then(|t| t.value().attr("datetime"))
        .and_then(parse_rfc3339)
        .unwrap_or(0);
    let own_text = own(m, &p.text);
    let mut text = own_text.map(text_of).unwrap_or_default();
    let mut links = Vec::new();
    if let Some(t) = own_text {
        for a in t.select(&p.text_link) {
            let href = a.value().attr("href").unwrap_or("").trim();
            // `?q=%23tag` is a hashtag search on the page itself, not a target.
            if href.is_empty() || href.starts_with('?') || href.starts_with("javascript:") {
                continue;
            }
            links.push(Link {
                url: href.to_string(),
                kind: LinkKind::Text,
                title: non_empty(text_of(a)).filter(|t| t != href),
                description: None,
            });
        }
    }
    for b in m.select(&p.button).filter(|b| !quoted(*b, m)) {
        links.push(Link {
            url: b.value().attr("href").unwrap_or("").trim().to_string(),
            kind: LinkKind::Button,
            title: non_empty(text_of(b)),
            description: None,
        });
    }
    for card in m.select(&p.preview) {
        let title = card
            .select(&p.preview_title)
            .next()
            .or_else(|| card.select(&p.preview_site).next())
            .map(text_of)
            .and_then(non_empty);
        links.push(Link {
            url: card.value().attr("href").unwrap_or("").trim().to_string(),
            kind: LinkKind::Preview,
            title,
            description: card
                .select(&p.preview_desc)
                .next()
                .map(text_of)
                .and_then(non_empty),
        });
    }
    let poll = own(m, &p.poll).map(|poll| Poll {
        question: poll
            .select(&p.poll_question)
            .next()
            .map(text_of)
            .unwrap_or_default(),
        options: poll.select(&p.poll_option).map(text_of).collect(),
    });
    if let Some(poll) = &poll {
        // The matcher reads `text`: a poll's words are the post's words.
        for line in std::iter::once(&poll.question).chain(&poll.options) {
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(line);
        }
    }
    let attachments = m
        .select(&p.document)
        .filter(|d| !quoted(*d, m))
        .filter_map(|d| {
            let title = d.select(&p.doc_title).next().map(text_of)?;
            Some(Attachment {
                file_name: Some(title),
                mime_type: None,
                size: None,
                path: None,
                missing: Some("web preview: the file is only listed".into()),
                // An audio file's extra line is its performer, not a size.
                size_shown: d
                    .select(&p.doc_extra)
                    .next()
                    .map(text_of)
                    .filter(|s| looks_like_size(s)),
            })
        })
        .collect();
    let media = m
        .select(&p.media)
        .filter(|e| !quoted(*e, m))
        .map(|e| Media {
            kind: if has_class(e, "tgme_widget_message_photo_wrap") {
                "photo".into()
            } else {
                "video".into()
            },
            url: e.value().attr("href").map(str::to_string),
        })
        .collect();
    let (forwarded_from, forwarded_message) = match own(m, &p.fwd) {
        Some(f) => {
            let linked = f.value().attr("href").and_then(tme_reference);
            match linked {
                Some(TmeRef::Name { name, message }) => (Some(name), message),
                _ => (non_empty(text_of(f)), None),
            }
        }
        None => (None, None),
    };
    let (reply_to, reply_channel) = match m
        .select(&p.reply)
        .next()
        .and_then(|r| r.value().attr("href"))
        .and_then(tme_reference)
    {
        Some(TmeRef::Name { name, message }) => (message, Some(name)),
        _ => (None, None),
    };
    let author = own(m, &p.signature)
        .or_else(|| own(m, &p.sender))
        .or_else(|| own(m, &p.owner))
        .map(text_of)
        .and_then(non_empty);
    TelegramMessage {
        channel: name.to_string(),
        id,
        date,
        edited: None,
        author,
        views: m
            .select(&p.views)
            .next()
            .and_then(|v| parse_count(&text_of(v))),
        forwards: None,
        text,
        forwarded_from,
        forwarded_message,
        reply_to,
        reply_channel,
        attachments,
        links,
        poll,
        media,
    }
}

/// Whether a document's extra line is a size as t.me shows it (`2.1 MB`, `113.9 KB`, `845 B`).
fn looks_like_size(s: &str) -> bool {
    let Some((num, unit)) = s.trim().rsplit_once(' ') else {
        return false;
    };
    let num = num.trim();
    !num.is_empty()
        && num
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
        && num.chars().any(|c| c.is_ascii_digit())
        && matches!(unit, "B" | "KB" | "MB" | "GB" | "TB")
}

/// `2026-11-20T14:03:11+00:00` → Unix seconds.
fn parse_rfc3339(s: &str) -> Option<i64> {
    crate::export::parse_datetime(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_sizes_and_times() {
        assert_eq!(parse_count("1.2K"), Some(1200));
        assert_eq!(parse_count("845"), Some(845));
        assert_eq!(parse_count("3M"), Some(3_000_000));
        assert_eq!(parse_count("many"), None);
        assert_eq!(parse_rfc3339("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(parse_rfc3339("1970-01-01T00:00:10Z"), Some(10));
        assert_eq!(parse_rfc3339("garbage"), None);
    }

    #[test]
    fn document_sizes_as_shown_and_performers_are_not_sizes() {
        assert!(looks_like_size("2.1 MB"));
        assert!(looks_like_size("113.9 KB"));
        assert!(looks_like_size("845 B"));
        // The real audio document on t.me/s/tchantest (post 12) shows its performer there.
        assert!(!looks_like_size("portadosfundos"));
        assert!(!looks_like_size("MB"));
        assert!(!looks_like_size("Queen 2 MB"));
        assert!(!looks_like_size(". MB"));
    }

    #[test]
    fn hostile_datetimes_are_refused_not_a_panic() {
        // Six bytes from the end falls inside `é` (two bytes): `split_at` panicked there.
        assert_eq!(parse_rfc3339("é12345"), None);
        assert_eq!(parse_rfc3339("2026-11-20T14:03:11+0é:0"), None);
        assert_eq!(parse_rfc3339("2026-11-20T14:03:11+-1:00"), None);
        assert_eq!(parse_rfc3339("2026-11-20T14:03:11+99:99"), None);
        assert_eq!(parse_rfc3339("99999999999-11-20T14:03:11Z"), None);
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00-00:30"), Some(1800));
    }
}

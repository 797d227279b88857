//! A public channel's web preview (`https://t.me/s/NAME`): no account, no API. Each post is a
//! `div.tgme_widget_message` with `data-post="NAME/ID"`; the page lists about twenty posts,
//! oldest first, and `?before=ID` pages back in time.

use scraper::{ElementRef, Selector};

use crate::{Attachment, TelegramMessage};

/// One preview page: its posts (oldest first) and whether an older page exists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PreviewPage {
    /// Posts on the page.
    pub messages: Vec<TelegramMessage>,
    /// The `?before=` id of the previous (older) page, when the page links one.
    pub older: Option<i64>,
    /// `tgme_widget_message` blocks that could not be read (no `data-post` id).
    pub unreadable: usize,
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

/// Parses a preview page of `channel`, in time linear in its length. Posts of other channels
/// (never expected) are skipped; a page nested deeper than any real preview page is refused
/// (logged, counted unreadable) instead of parsed.
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
    let (msg, text, date, views, author, fwd, doc_title, doc_extra, prev) = (
        sel("div.tgme_widget_message[data-post]"),
        sel(".tgme_widget_message_text"),
        sel(".tgme_widget_message_date time[datetime]"),
        sel(".tgme_widget_message_views"),
        sel(".tgme_widget_message_from_author, .tgme_widget_message_owner_name"),
        sel(".tgme_widget_message_forwarded_from_name"),
        sel(".tgme_widget_message_document_title"),
        sel(".tgme_widget_message_document_extra"),
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
        let date = m
            .select(&date)
            .next()
            .and_then(|t| t.value().attr("datetime"))
            .and_then(parse_rfc3339)
            .unwrap_or(0);
        let attachments = m
            .select(&doc_title)
            .zip(
                m.select(&doc_extra)
                    .map(Some)
                    .chain(std::iter::repeat(None)),
            )
            .map(|(title, extra)| Attachment {
                file_name: Some(text_of(title)),
                mime_type: None,
                size: extra.and_then(|e| parse_size(&text_of(e))),
                path: None,
                missing: Some("web preview: the file is only listed".into()),
            })
            .collect();
        page.messages.push(TelegramMessage {
            channel: name.to_string(),
            id,
            date,
            edited: None,
            author: m.select(&author).next().map(text_of),
            views: m
                .select(&views)
                .next()
                .and_then(|v| parse_count(&text_of(v))),
            forwards: None,
            text: m.select(&text).next().map(text_of).unwrap_or_default(),
            forwarded_from: m.select(&fwd).next().map(|f| {
                f.value()
                    .attr("href")
                    .and_then(|h| h.rsplit('/').next())
                    .filter(|s| !s.is_empty())
                    .map_or_else(|| text_of(f), str::to_string)
            }),
            reply_to: None,
            attachments,
        });
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

/// `1.2 MB`, `845 KB`, `12 B` → bytes.
fn parse_size(s: &str) -> Option<u64> {
    let mut parts = s.split_whitespace();
    let v: f64 = parts.next()?.replace(',', ".").parse().ok()?;
    let mult = match parts.next()?.to_ascii_uppercase().as_str() {
        "B" => 1.0,
        "KB" => 1024.0,
        "MB" => 1024.0 * 1024.0,
        "GB" => 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    Some((v * mult).round() as u64)
}

/// `2026-11-20T14:03:11+00:00` → Unix seconds.
#[deny(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
fn parse_rfc3339(s: &str) -> Option<i64> {
    // Date and time, then an offset `Z` or `±HH:MM`.
    let (dt, offset_secs) = if let Some(stripped) = s.strip_suffix('Z') {
        (stripped, 0)
    } else {
        // `get`, not `split_at`: the page's text may put a multi-byte character there.
        let split = s.len().checked_sub(6)?;
        let (dt, off) = (s.get(..split)?, s.get(split..)?);
        let sign = match off.as_bytes().first()? {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let h: i64 = off.get(1..3)?.parse().ok()?;
        let m: i64 = off.get(4..6)?.parse().ok()?;
        if !(0..=23).contains(&h) || !(0..=59).contains(&m) {
            return None;
        }
        let offset = h.checked_mul(3600)?.checked_add(m.checked_mul(60)?)?;
        (dt, offset.checked_mul(sign)?)
    };
    let dt = dt.split('.').next()?;
    let local = crate::export::parse_local(dt)?;
    local.checked_sub(offset_secs)
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
        assert_eq!(parse_size("1.5 MB"), Some(1_572_864));
        assert_eq!(parse_size("12 B"), Some(12));
        assert_eq!(parse_rfc3339("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(parse_rfc3339("1970-01-01T00:00:10Z"), Some(10));
        assert_eq!(parse_rfc3339("garbage"), None);
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

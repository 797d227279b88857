//! Telegram Desktop's machine-readable export (`result.json`): a single chat, or a full
//! account with `chats.list` (and `left_chats.list`).
//!
//! Read as the format is, not as we would like it: `text` is a string or an array of strings
//! and entity objects (a `text_link` keeps its target as a link); `date_unixtime` may be
//! missing on old exports (then `date`, local time without zone, is read as UTC); files of the
//! same shape written by other tools carry ISO 8601 dates with fractional seconds and `Z` or an
//! offset, all read; service messages (joins, pins) and `unsupported` entries are counted
//! apart and skipped; a file that was
//! not exported carries a "(File not included...)" note instead of a path; albums are several
//! messages sharing a `media_group_id`-less date, each kept.
// Reads a file from outside: no arithmetic or slicing may panic.
#![deny(clippy::arithmetic_side_effects, clippy::indexing_slicing)]

use serde_json::Value;
use tracing::warn;

use crate::{Attachment, Link, LinkKind, TelegramError, TelegramMessage};

/// Messages of one export, chat by chat, with how many were skipped and why.
#[derive(Debug, Default)]
pub struct Export {
    /// Messages, in file order.
    pub messages: Vec<TelegramMessage>,
    /// Service messages skipped.
    pub service: u64,
    /// Entries Telegram Desktop marks `"type": "unsupported"` (it could not render them).
    pub unsupported: u64,
    /// Entries that were not messages we can read (logged).
    pub malformed: u64,
    /// Whether invalid UTF-8 was replaced while reading.
    pub lossy: bool,
}

/// Parses an export's bytes.
pub fn parse_export(bytes: &[u8]) -> Result<Export, TelegramError> {
    let (text, lossy) = match std::str::from_utf8(bytes) {
        Ok(t) => (std::borrow::Cow::Borrowed(t), false),
        Err(e) => {
            warn!(
                at = e.valid_up_to(),
                "export is not valid UTF-8; invalid bytes replaced"
            );
            (String::from_utf8_lossy(bytes), true)
        }
    };
    let root: Value =
        serde_json::from_str(&text).map_err(|e| TelegramError::Export(format!("not JSON: {e}")))?;
    let mut export = Export {
        lossy,
        ..Export::default()
    };
    let chats: Vec<&Value> = if root.get("messages").is_some() {
        vec![&root]
    } else {
        let mut list = Vec::new();
        for key in ["chats", "left_chats"] {
            if let Some(items) = root
                .get(key)
                .and_then(|c| c.get("list"))
                .and_then(Value::as_array)
            {
                list.extend(items.iter());
            }
        }
        if list.is_empty() {
            return Err(TelegramError::Export(
                "neither a chat export (\"messages\") nor a full-account export (\"chats\".\"list\")".into(),
            ));
        }
        list
    };
    for chat in chats {
        let channel = chat_name(chat);
        let Some(messages) = chat.get("messages").and_then(Value::as_array) else {
            export.malformed = export.malformed.saturating_add(1);
            continue;
        };
        for m in messages {
            match m.get("type").and_then(Value::as_str) {
                Some("message") => match message(&channel, m) {
                    Some(msg) => export.messages.push(msg),
                    None => export.malformed = export.malformed.saturating_add(1),
                },
                Some("service") => export.service = export.service.saturating_add(1),
                Some("unsupported") => export.unsupported = export.unsupported.saturating_add(1),
                _ => export.malformed = export.malformed.saturating_add(1),
            }
        }
    }
    if export.malformed > 0 {
        warn!(
            count = export.malformed,
            "export entries without a readable id or date skipped"
        );
    }
    Ok(export)
}

fn chat_name(chat: &Value) -> String {
    // Prefer a stable id over a title that the owner can rename.
    let name = chat.get("name").and_then(Value::as_str).unwrap_or("");
    match chat.get("id").and_then(Value::as_i64) {
        Some(id) if name.is_empty() => id.to_string(),
        Some(id) => format!("{name} ({id})"),
        None if name.is_empty() => "unnamed chat".into(),
        None => name.to_string(),
    }
}

/// Flattens `text`: a string, or an array of strings and `{"type": ..., "text": ...}`.
pub fn flatten_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .map(|p| match p {
                Value::String(s) => s.clone(),
                Value::Object(o) => o
                    .get("text")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                _ => String::new(),
            })
            .collect(),
        _ => String::new(),
    }
}

/// Unix seconds of years 0000 to 9999, the dates `parse_local` reads. Later a time in
/// milliseconds (`date * 1000`) overflows `i64`; such a date is read from `local_key` instead.
const UNIX_RANGE: std::ops::RangeInclusive<i64> = -62_167_219_200..=253_402_300_799;

fn unix_time(m: &Value, unix_key: &str, local_key: &str) -> Option<i64> {
    if let Some(v) = m.get(unix_key).filter(|v| !v.is_null()) {
        let secs = match v.as_str() {
            Some(s) => s.parse().ok(),
            None => v.as_i64(),
        };
        match secs {
            Some(t) if UNIX_RANGE.contains(&t) => return Some(t),
            // Out of range: the local date below, when there is one.
            Some(_) => {}
            None => return None,
        }
    }
    // `2026-11-20T14:03:11`, local time without zone: read as UTC (a few hours off at most);
    // other tools write `…T06:20:09.248Z` or an offset; some write Unix seconds.
    match m.get(local_key)? {
        Value::Number(n) => n.as_i64().filter(|t| UNIX_RANGE.contains(t)),
        v => parse_datetime(v.as_str()?),
    }
}

/// An ISO 8601 date and time: `2026-11-20T14:03:11` (or with a space), optional fractional
/// seconds (dropped), then nothing (read as UTC), `Z`, or an offset `±HH:MM`, `±HHMM`, `±HH`.
/// Unix seconds, or `None` for anything else (never a panic, whatever the bytes).
pub(crate) fn parse_datetime(s: &str) -> Option<i64> {
    let s = s.trim();
    // `split_at_checked`: a multi-byte character at the cut is a refusal, not a panic.
    let (date, rest) = s.split_at_checked(10)?;
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let (time, rest) = rest.split_at_checked(8)?;
    let rest = match rest.strip_prefix(['.', ',']) {
        Some(fraction) => {
            let digits = fraction.trim_start_matches(|c: char| c.is_ascii_digit());
            if digits.len() == fraction.len() {
                return None;
            }
            digits
        }
        None => rest,
    };
    let offset = match rest {
        "" | "Z" | "z" => 0,
        _ => parse_offset(rest)?,
    };
    let mut local = String::with_capacity(19);
    local.push_str(date);
    local.push('T');
    local.push_str(time);
    parse_local(&local)?.checked_sub(offset)
}

/// `+01:00`, `-0530`, `+02` → seconds east of UTC.
fn parse_offset(s: &str) -> Option<i64> {
    let sign = match s.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits = s.get(1..)?.replace(':', "");
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m) = match digits.len() {
        2 => (digits.parse::<i64>().ok()?, 0),
        4 => (
            digits.get(..2)?.parse::<i64>().ok()?,
            digits.get(2..)?.parse::<i64>().ok()?,
        ),
        _ => return None,
    };
    if !(0..=23).contains(&h) || !(0..=59).contains(&m) {
        return None;
    }
    h.checked_mul(3600)?
        .checked_add(m.checked_mul(60)?)?
        .checked_mul(sign)
}

// The range check below bounds every operand (|y| <= 9999): no operation can overflow.
#[allow(clippy::arithmetic_side_effects)]
pub(crate) fn parse_local(s: &str) -> Option<i64> {
    let (date, time) = s.split_once('T')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, mo, da) = (d.next()??, d.next()??, d.next()??);
    let mut t = time.split(':').map(|p| p.parse::<i64>().ok());
    let (h, mi, se) = (t.next()??, t.next()??, t.next()??);
    // Four-digit years, as in RFC 3339: bounds every product below, so none can overflow.
    if !(0..=9999).contains(&y)
        || !(1..=12).contains(&mo)
        || !(1..=31).contains(&da)
        || !(0..=23).contains(&h)
        || !(0..=59).contains(&mi)
        || !(0..=60).contains(&se)
    {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + da - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + mi * 60 + se)
}

fn message(channel: &str, m: &Value) -> Option<TelegramMessage> {
    let id = m.get("id")?.as_i64()?;
    let date = unix_time(m, "date_unixtime", "date")?;
    let edited = unix_time(m, "edited_unixtime", "edited");
    let text = m.get("text").map(flatten_text).unwrap_or_default();
    let mut attachments = Vec::new();
    for key in ["file", "photo"] {
        let Some(f) = m.get(key).and_then(Value::as_str) else {
            continue;
        };
        let not_included = f.starts_with('(');
        attachments.push(Attachment {
            file_name: m
                .get("file_name")
                .and_then(Value::as_str)
                .map(str::to_string)
                .or_else(|| (!not_included).then(|| f.rsplit('/').next().unwrap_or(f).to_string())),
            mime_type: m
                .get("mime_type")
                .and_then(Value::as_str)
                .map(str::to_string),
            size: m
                .get("file_size")
                .or_else(|| m.get("photo_file_size"))
                .and_then(Value::as_u64),
            path: (!not_included).then(|| f.to_string()),
            missing: not_included.then(|| f.trim_matches(['(', ')']).to_string()),
            size_shown: None,
        });
    }
    Some(TelegramMessage {
        links: links(m),
        channel: channel.to_string(),
        id,
        date,
        edited,
        author: m
            .get("author")
            .or_else(|| m.get("from"))
            .and_then(Value::as_str)
            .map(str::to_string),
        views: m.get("views").and_then(Value::as_u64),
        forwards: m.get("forwards").and_then(Value::as_u64),
        text,
        forwarded_from: m
            .get("forwarded_from")
            .and_then(Value::as_str)
            .map(str::to_string),
        reply_to: m.get("reply_to_message_id").and_then(Value::as_i64),
        attachments,
        ..TelegramMessage::default()
    })
}

/// A message's link targets: its text's, then its `url` buttons (`inline_bot_buttons`, rows
/// of `{"type": "url", "text": label, "data": url}`).
fn links(m: &Value) -> Vec<Link> {
    // Since 2021 exports carry `text_entities` beside `text` (which may then be a plain string).
    let mut links = m
        .get("text_entities")
        .filter(|v| v.is_array())
        .or_else(|| m.get("text"))
        .map(text_links)
        .unwrap_or_default();
    let rows = m.get("inline_bot_buttons").and_then(Value::as_array);
    for button in rows
        .into_iter()
        .flatten()
        .filter_map(Value::as_array)
        .flatten()
    {
        if button.get("type").and_then(Value::as_str) != Some("url") {
            continue;
        }
        if let Some(url) = button.get("data").and_then(Value::as_str) {
            links.push(Link {
                url: url.to_string(),
                kind: LinkKind::Button,
                title: button
                    .get("text")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                description: None,
            });
        }
    }
    links
}

/// The link targets of `text` (or `text_entities`): a `text_link` entity's `href` (the words
/// shown as its title), a `link` entity's text.
fn text_links(v: &Value) -> Vec<Link> {
    let Value::Array(parts) = v else {
        return Vec::new();
    };
    parts
        .iter()
        .filter_map(|p| {
            let kind = p.get("type")?.as_str()?;
            let text = p.get("text").and_then(Value::as_str);
            match kind {
                "text_link" => Some(Link {
                    url: p.get("href")?.as_str()?.to_string(),
                    kind: LinkKind::Text,
                    title: text.map(str::to_string),
                    description: None,
                }),
                "link" => Some(Link {
                    url: text?.to_string(),
                    kind: LinkKind::Text,
                    title: None,
                    description: None,
                }),
                _ => None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_dates_read_as_utc() {
        assert_eq!(parse_local("1970-01-01T00:00:00"), Some(0));
        assert_eq!(parse_local("2026-11-20T14:03:11"), Some(1_795_183_391));
        assert_eq!(parse_local("2024-02-29T00:00:00"), Some(1_709_164_800));
        assert_eq!(parse_local("2026-13-01T00:00:00"), None);
        assert_eq!(parse_local("yesterday"), None);
    }

    #[test]
    fn an_out_of_range_unix_date_falls_back_to_the_local_date() {
        let export = parse_export(
            br#"{"name": "c", "id": 7, "messages": [
                {"id": 1, "type": "message", "date": "2026-11-20T14:03:11",
                 "date_unixtime": "9223372036854775807", "text": "a"},
                {"id": 2, "type": "message", "date": "garbage",
                 "date_unixtime": 9223372036854775807, "text": "b"},
                {"id": 3, "type": "message", "date": "2026-11-20T14:03:11",
                 "date_unixtime": "1795183391", "text": "c",
                 "edited": "2026-11-20T15:03:11", "edited_unixtime": "-9223372036854775808"}
            ]}"#,
        )
        .unwrap();
        let dates: Vec<(i64, i64, Option<i64>)> = export
            .messages
            .iter()
            .map(|m| (m.id, m.date, m.edited))
            .collect();
        assert_eq!(
            dates,
            [
                (1, 1_795_183_391, None),
                (3, 1_795_183_391, Some(1_795_186_991))
            ]
        );
        assert_eq!(export.malformed, 1);
    }

    #[test]
    fn every_date_form_is_read() {
        // 2024-03-05T06:20:09Z is 1709619609 (from `date -u -d`).
        let at = Some(1_709_619_609);
        for form in [
            "2024-03-05T06:20:09",
            "2024-03-05 06:20:09",
            "2024-03-05T06:20:09Z",
            "2024-03-05T06:20:09.248Z",
            "2024-03-05T06:20:09.248123",
            "2024-03-05T06:20:09,5Z",
            "2024-03-05T08:20:09+02:00",
            "2024-03-05T08:20:09.1+0200",
            "2024-03-05T08:20:09+02",
            "2024-03-05T01:20:09-05:00",
        ] {
            assert_eq!(parse_datetime(form), at, "{form}");
        }
        for bad in [
            "2024-03-05T06:20:09.Z",
            "2024-03-05T06:20:09+2:00",
            "2024-03-05T06:20:09+02:0é",
            "2024-03-05T06:20:09 UTC",
            "2024-03-05",
            "le 5 mars",
            "é2024-03-05T06:20:09",
        ] {
            assert_eq!(parse_datetime(bad), None, "{bad}");
        }
    }

    #[test]
    fn other_tools_dates_unsupported_entries_and_links() {
        let export = parse_export(
            br#"{"name": "c", "id": 7, "messages": [
                {"id": 1, "type": "message", "date": "2024-03-05T06:20:09.248Z", "text": "a"},
                {"id": 2, "type": "message", "date": 1709619609, "text": "b"},
                {"id": 3, "type": "unsupported"},
                {"id": 4, "type": "service", "date": "2024-03-05T06:20:09", "action": "pin_message"},
                {"id": 5, "type": "message", "date": "2024-03-05T06:20:09", "text": "plain",
                 "text_entities": [{"type": "text_link", "text": "ici", "href": "https://t.me/+AbCdEfGh12345678"}],
                 "inline_bot_buttons": [[{"type": "url", "text": "Open", "data": "https://example.org"},
                                         {"type": "callback", "text": "cb", "data": ""}]]},
                {"id": 6, "type": "message", "date": "yesterday", "text": "c"}
            ]}"#,
        )
        .unwrap();
        let dates: Vec<(i64, i64)> = export.messages.iter().map(|m| (m.id, m.date)).collect();
        assert_eq!(
            dates,
            [(1, 1_709_619_609), (2, 1_709_619_609), (5, 1_709_619_609)]
        );
        assert_eq!(
            (export.unsupported, export.service, export.malformed),
            (1, 1, 1)
        );
        let with_links = export.messages.iter().find(|m| m.id == 5).unwrap();
        let links: Vec<(&str, LinkKind, Option<&str>)> = with_links
            .links
            .iter()
            .map(|l| (l.url.as_str(), l.kind, l.title.as_deref()))
            .collect();
        assert_eq!(
            links,
            [
                (
                    "https://t.me/+AbCdEfGh12345678",
                    LinkKind::Text,
                    Some("ici")
                ),
                ("https://example.org", LinkKind::Button, Some("Open")),
            ]
        );
    }

    #[test]
    fn out_of_range_dates_are_refused_not_wrapped() {
        // i64::MAX and a year whose seconds exceed i64: both overflowed the arithmetic.
        assert_eq!(parse_local("9223372036854775807-01-01T00:00:00"), None);
        assert_eq!(parse_local("200000000000000-01-01T00:00:00"), None);
        assert_eq!(parse_local("-5-01-01T00:00:00"), None);
        assert_eq!(parse_local("2026-01-01T-1:00:00"), None);
        assert_eq!(parse_local("2026-01-01T00:-5:00"), None);
        // The range's ends are still read: 9999-12-31T23:59:59Z is 253402300799.
        assert_eq!(parse_local("9999-12-31T23:59:59"), Some(253_402_300_799));
        assert_eq!(parse_local("0000-01-01T00:00:00"), Some(-62_167_219_200));
    }
}

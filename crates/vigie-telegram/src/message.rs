//! Vigie's Telegram message: what every Telegram source (live account, Desktop export, web
//! preview) turns a post into, and the text document the matcher and the store receive.

use serde::{Deserialize, Serialize};

/// A file attached to a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// The file name as sent (never used as a path).
    pub file_name: Option<String>,
    /// MIME type, when known.
    pub mime_type: Option<String>,
    /// Size in bytes, when known.
    pub size: Option<u64>,
    /// Where the bytes are, relative to the export directory (exports only).
    pub path: Option<String>,
    /// Why the bytes are not available ("File not included..." in exports, a size cap...).
    pub missing: Option<String>,
    /// The size as the source shows it (`2.1 MB` on a web preview), kept as text: a rounded
    /// size is never turned into a byte count it never had.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_shown: Option<String>,
}

/// Where a link was found in a post.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkKind {
    /// A link in the text (a URL, or a target behind words).
    Text,
    /// An inline button under the post.
    Button,
    /// The link preview card.
    Preview,
}

/// A link target of a post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// Where it points.
    pub url: String,
    /// Where it was found.
    pub kind: LinkKind,
    /// The words shown: the linked text, the button's label, the preview's title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// A link preview's description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A poll: its question and options.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Poll {
    /// The question.
    pub question: String,
    /// The options, in order.
    pub options: Vec<String>,
}

/// A photo or video shown in a post (an album lists several).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Media {
    /// `photo` or `video`.
    pub kind: String,
    /// The link to the single item, when shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// One message of a channel or chat.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TelegramMessage {
    /// The channel's username or title (exports), used in source ids and locators.
    pub channel: String,
    /// Message id in the channel.
    pub id: i64,
    /// Unix seconds.
    pub date: i64,
    /// Unix seconds of the last edit.
    pub edited: Option<i64>,
    /// Author or signature.
    pub author: Option<String>,
    /// Views, when known.
    pub views: Option<u64>,
    /// Forwards, when known.
    pub forwards: Option<u64>,
    /// The text, entities flattened.
    pub text: String,
    /// The channel or user it was forwarded from: a channel's username when the source
    /// links it, else the name shown.
    pub forwarded_from: Option<String>,
    /// The message id in `forwarded_from`, when known (never a channel name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forwarded_message: Option<i64>,
    /// The message it replies to.
    pub reply_to: Option<i64>,
    /// The channel of the message it replies to, when the source names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_channel: Option<String>,
    /// Attached files.
    pub attachments: Vec<Attachment>,
    /// Link targets: behind text, buttons, the link preview.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    /// The poll, when the post is one (its question and options are also in `text`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll: Option<Poll>,
    /// Photos and videos shown (an album is one post with several).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media: Vec<Media>,
}

impl TelegramMessage {
    /// The document recorded for the message: a short header (channel, id, author, forward,
    /// attachments) and the text. Deterministic, so the same message gives the same hash and
    /// a repeat import is a repeat sighting.
    pub fn document(&self) -> String {
        let mut d = format!("telegram {} message {}\n", self.channel, self.id);
        if let Some(a) = &self.author {
            d.push_str(&format!("from: {a}\n"));
        }
        if let Some(f) = &self.forwarded_from {
            match self.forwarded_message {
                Some(id) => d.push_str(&format!("forwarded from: {f} (message {id})\n")),
                None => d.push_str(&format!("forwarded from: {f}\n")),
            }
        }
        if let Some(r) = self.reply_to {
            match &self.reply_channel {
                Some(c) if !c.eq_ignore_ascii_case(&self.channel) => {
                    d.push_str(&format!("reply to: {c} message {r}\n"))
                }
                _ => d.push_str(&format!("reply to: {r}\n")),
            }
        }
        for a in &self.attachments {
            let size = match (a.size, &a.size_shown) {
                (Some(s), _) => format!("{s} bytes"),
                (None, Some(shown)) => format!("size shown {shown}"),
                (None, None) => "? bytes".to_string(),
            };
            d.push_str(&format!(
                "attachment: {} ({}, {}){}\n",
                a.file_name.as_deref().unwrap_or("unnamed"),
                a.mime_type.as_deref().unwrap_or("unknown type"),
                size,
                a.missing
                    .as_ref()
                    .map(|m| format!(" [not available: {m}]"))
                    .unwrap_or_default()
            ));
        }
        for m in &self.media {
            d.push_str(&format!("media: {}", m.kind));
            if let Some(u) = &m.url {
                d.push_str(&format!(" {u}"));
            }
            d.push('\n');
        }
        for l in &self.links {
            let kind = match l.kind {
                LinkKind::Text => "link",
                LinkKind::Button => "button",
                LinkKind::Preview => "link preview",
            };
            d.push_str(&format!("{kind}: {}", l.url));
            if let Some(t) = &l.title {
                d.push_str(&format!(" \"{t}\""));
            }
            if let Some(desc) = &l.description {
                d.push_str(&format!(" — {desc}"));
            }
            d.push('\n');
        }
        d.push('\n');
        d.push_str(&self.text);
        d.push('\n');
        d
    }
}

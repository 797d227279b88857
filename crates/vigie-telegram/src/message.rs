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
}

/// One message of a channel or chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    /// The channel or user it was forwarded from.
    pub forwarded_from: Option<String>,
    /// The message it replies to.
    pub reply_to: Option<i64>,
    /// Attached files.
    pub attachments: Vec<Attachment>,
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
            d.push_str(&format!("forwarded from: {f}\n"));
        }
        if let Some(r) = self.reply_to {
            d.push_str(&format!("reply to: {r}\n"));
        }
        for a in &self.attachments {
            d.push_str(&format!(
                "attachment: {} ({}, {} bytes){}\n",
                a.file_name.as_deref().unwrap_or("unnamed"),
                a.mime_type.as_deref().unwrap_or("unknown type"),
                a.size.map_or_else(|| "?".to_string(), |s| s.to_string()),
                a.missing
                    .as_ref()
                    .map(|m| format!(" [not available: {m}]"))
                    .unwrap_or_default()
            ));
        }
        d.push('\n');
        d.push_str(&self.text);
        d.push('\n');
        d
    }
}

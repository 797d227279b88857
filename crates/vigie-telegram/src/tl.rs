//! Pure conversions from Telegram's raw TL types (as `grammers` returns them from
//! `messages.getHistory`) into Vigie's [`TelegramMessage`]. The live adapter stays thin: it
//! invokes, then hands the raw answer here; tests build TL values directly.

use std::collections::HashMap;

use grammers_tl_types as tl;

use crate::{Attachment, Link, LinkKind, Poll, TelegramMessage};

/// What is needed to download a document later (`upload.getFile`).
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteDocument {
    /// Document id.
    pub id: i64,
    /// Its access hash.
    pub access_hash: i64,
    /// Its file reference (expires; refreshed by fetching the message again).
    pub file_reference: Vec<u8>,
    /// The data centre holding it.
    pub dc_id: i32,
    /// Size in bytes.
    pub size: i64,
    /// The raw media, as the client's downloader takes it.
    pub media: Option<tl::types::MessageMediaDocument>,
}

/// A converted message and the documents it carries.
#[derive(Debug, Clone, PartialEq)]
pub struct Converted {
    /// The message.
    pub message: TelegramMessage,
    /// Its documents, in the order of `message.attachments` (photos are not downloaded).
    pub documents: Vec<RemoteDocument>,
}

/// Usernames (or titles) of the channels in a response's `chats`, by channel id.
pub fn channel_names(chats: &[tl::enums::Chat]) -> HashMap<i64, String> {
    chats
        .iter()
        .filter_map(|c| match c {
            tl::enums::Chat::Channel(ch) => Some((
                ch.id,
                ch.username.clone().unwrap_or_else(|| ch.title.clone()),
            )),
            tl::enums::Chat::ChannelForbidden(ch) => Some((ch.id, ch.title.clone())),
            _ => None,
        })
        .collect()
}

fn peer_name(peer: &tl::enums::Peer, names: &HashMap<i64, String>) -> String {
    match peer {
        tl::enums::Peer::Channel(p) => names
            .get(&p.channel_id)
            .cloned()
            .unwrap_or_else(|| format!("channel:{}", p.channel_id)),
        tl::enums::Peer::Chat(p) => format!("chat:{}", p.chat_id),
        tl::enums::Peer::User(p) => format!("user:{}", p.user_id),
    }
}

/// One raw message of `channel`; `None` for empty and service messages (joins, pins...).
pub fn convert_message(
    channel: &str,
    raw: &tl::enums::Message,
    names: &HashMap<i64, String>,
) -> Option<Converted> {
    let tl::enums::Message::Message(m) = raw else {
        return None;
    };
    let mut attachments = Vec::new();
    let mut documents = Vec::new();
    match &m.media {
        Some(tl::enums::MessageMedia::Document(media)) => {
            if let Some(tl::enums::Document::Document(d)) = &media.document {
                let file_name = d.attributes.iter().find_map(|a| match a {
                    tl::enums::DocumentAttribute::Filename(f) => Some(f.file_name.clone()),
                    _ => None,
                });
                attachments.push(Attachment {
                    file_name,
                    mime_type: Some(d.mime_type.clone()),
                    size: u64::try_from(d.size).ok(),
                    path: None,
                    missing: None,
                    size_shown: None,
                });
                documents.push(RemoteDocument {
                    id: d.id,
                    access_hash: d.access_hash,
                    file_reference: d.file_reference.clone(),
                    dc_id: d.dc_id,
                    size: d.size,
                    media: Some(media.clone()),
                });
            } else {
                attachments.push(Attachment {
                    file_name: None,
                    mime_type: None,
                    size: None,
                    path: None,
                    missing: Some("document no longer available".into()),
                    size_shown: None,
                });
            }
        }
        Some(tl::enums::MessageMedia::Photo(_)) => attachments.push(Attachment {
            file_name: Some("photo".into()),
            mime_type: Some("image/jpeg".into()),
            size: None,
            path: None,
            missing: Some("photos are not downloaded".into()),
            size_shown: None,
        }),
        _ => {}
    }
    let mut links = message_links(m);
    let mut poll = None;
    match &m.media {
        Some(tl::enums::MessageMedia::WebPage(w)) => {
            if let tl::enums::WebPage::Page(p) = &w.webpage {
                links.push(Link {
                    url: p.url.clone(),
                    kind: LinkKind::Preview,
                    title: p.title.clone().or_else(|| p.site_name.clone()),
                    description: p.description.clone(),
                });
            }
        }
        Some(tl::enums::MessageMedia::Poll(media)) => {
            let tl::enums::Poll::Poll(p) = &media.poll;
            let tl::enums::TextWithEntities::Entities(q) = &p.question;
            poll = Some(Poll {
                question: q.text.clone(),
                options: p
                    .answers
                    .iter()
                    .filter_map(|a| match a {
                        tl::enums::PollAnswer::Answer(a) => {
                            let tl::enums::TextWithEntities::Entities(t) = &a.text;
                            Some(t.text.clone())
                        }
                        _ => None,
                    })
                    .collect(),
            });
        }
        _ => {}
    }
    let mut text = m.message.clone();
    if let Some(p) = &poll {
        // As on previews: the poll's words are the text the matcher reads.
        for line in std::iter::once(&p.question).chain(&p.options) {
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(line);
        }
    }
    let forwarded_message = m
        .fwd_from
        .as_ref()
        .and_then(|tl::enums::MessageFwdHeader::Header(h)| h.channel_post.map(i64::from));
    let forwarded_from = m
        .fwd_from
        .as_ref()
        .map(|tl::enums::MessageFwdHeader::Header(h)| {
            h.from_id
                .as_ref()
                .map(|p| peer_name(p, names))
                .or_else(|| h.from_name.clone())
                .unwrap_or_else(|| "hidden sender".into())
        });
    let (reply_to, reply_channel) = match &m.reply_to {
        Some(tl::enums::MessageReplyHeader::Header(h)) => (
            h.reply_to_msg_id.map(i64::from),
            // Set only when the parent is in another chat.
            h.reply_to_peer_id.as_ref().map(|p| peer_name(p, names)),
        ),
        _ => (None, None),
    };
    Some(Converted {
        message: TelegramMessage {
            channel: channel.to_string(),
            id: i64::from(m.id),
            date: i64::from(m.date),
            edited: m.edit_date.map(i64::from),
            author: m.post_author.clone(),
            views: m.views.and_then(|v| u64::try_from(v).ok()),
            forwards: m.forwards.and_then(|v| u64::try_from(v).ok()),
            text,
            forwarded_from,
            forwarded_message,
            reply_to,
            reply_channel,
            attachments,
            links,
            poll,
            ..TelegramMessage::default()
        },
        documents,
    })
}

/// A raw message's link targets: URLs behind words (`messageEntityTextUrl`, the words as the
/// title), URLs in the text, and `url` buttons under it.
fn message_links(m: &tl::types::Message) -> Vec<Link> {
    // Entity offsets count UTF-16 code units.
    let units: Vec<u16> = m.message.encode_utf16().collect();
    let slice = |offset: i32, length: i32| -> Option<String> {
        let start = usize::try_from(offset).ok()?;
        let end = start.checked_add(usize::try_from(length).ok()?)?;
        String::from_utf16(units.get(start..end)?).ok()
    };
    let mut links = Vec::new();
    for e in m.entities.iter().flatten() {
        match e {
            tl::enums::MessageEntity::TextUrl(t) => links.push(Link {
                url: t.url.clone(),
                kind: LinkKind::Text,
                title: slice(t.offset, t.length),
                description: None,
            }),
            tl::enums::MessageEntity::Url(u) => {
                if let Some(url) = slice(u.offset, u.length) {
                    links.push(Link {
                        url,
                        kind: LinkKind::Text,
                        title: None,
                        description: None,
                    });
                }
            }
            _ => {}
        }
    }
    if let Some(tl::enums::ReplyMarkup::ReplyInlineMarkup(markup)) = &m.reply_markup {
        for tl::enums::KeyboardInlineButtonRow::Row(row) in &markup.rows {
            for tl::enums::KeyboardInlineButton::Button(b) in &row.buttons {
                if let tl::enums::InlineButtonType::Url(u) = &b.r#type {
                    links.push(Link {
                        url: u.url.clone(),
                        kind: LinkKind::Button,
                        title: Some(b.text.clone()),
                        description: None,
                    });
                }
            }
        }
    }
    links
}

/// The messages and chats of a `messages.getHistory` answer (none when not modified).
pub fn history_parts(
    raw: &tl::enums::messages::Messages,
) -> (&[tl::enums::Message], &[tl::enums::Chat]) {
    match raw {
        tl::enums::messages::Messages::Messages(m) => (&m.messages, &m.chats),
        tl::enums::messages::Messages::Slice(m) => (&m.messages, &m.chats),
        tl::enums::messages::Messages::ChannelMessages(m) => (&m.messages, &m.chats),
        tl::enums::messages::Messages::NotModified(_) => (&[], &[]),
    }
}

/// Every readable message of a `messages.getHistory` answer, oldest first.
pub fn convert_history(channel: &str, raw: &tl::enums::messages::Messages) -> Vec<Converted> {
    let (messages, chats) = history_parts(raw);
    let names = channel_names(chats);
    let mut out: Vec<Converted> = messages
        .iter()
        .filter_map(|m| convert_message(channel, m, &names))
        .collect();
    out.sort_by_key(|c| c.message.id);
    out
}

/// What the updates stream says about a channel.
#[derive(Debug, Clone, PartialEq)]
pub enum ChannelUpdate {
    /// A new message, as the update carries it.
    New(Converted),
    /// A message edited (or its reactions changed: `edited` tells them apart).
    Edited(Converted),
    /// Telegram skipped updates for the channel (`updateChannelTooLong`): read history.
    Gap,
}

/// The channel id and what happened, for the updates Vigie acts on; `None` for the rest
/// (private chats, typing, read receipts...) and for service messages. `names`: channel
/// usernames by id (the update's peers), for forwards.
pub fn convert_update(
    raw: &tl::enums::Update,
    names: &HashMap<i64, String>,
) -> Option<(i64, ChannelUpdate)> {
    let of = |m: &tl::enums::Message| -> Option<(i64, Converted)> {
        let tl::enums::Message::Message(inner) = m else {
            return None;
        };
        let tl::enums::Peer::Channel(p) = &inner.peer_id else {
            return None;
        };
        let label = format!("channel:{}", p.channel_id);
        convert_message(&label, m, names).map(|c| (p.channel_id, c))
    };
    match raw {
        tl::enums::Update::NewChannelMessage(u) => {
            of(&u.message).map(|(id, c)| (id, ChannelUpdate::New(c)))
        }
        tl::enums::Update::EditChannelMessage(u) => {
            of(&u.message).map(|(id, c)| (id, ChannelUpdate::Edited(c)))
        }
        tl::enums::Update::ChannelTooLong(u) => Some((u.channel_id, ChannelUpdate::Gap)),
        _ => None,
    }
}

//! The Telegram sources of the pipeline, each a [`vigie_pipeline::Source`]:
//! [`PreviewSource`] (public channels' web previews), [`LiveChannels`] (channels read with a
//! user account) and [`ExportSource`] (a Telegram Desktop export, finite). They emit
//! documents, checkpoints and candidate channels; the recorder matches and stores them.
//!
//! Not here: matching, storing, alerting (the recorder), the Tor transport (a
//! [`crate::PageFetcher`] handed in by the caller).

mod config;
mod export;
mod live;
mod preview;

use std::collections::BTreeSet;

use vigie_pipeline::{Document, Event, MatchText};
use vigie_store::{Locator, PostDetails, Sighting, Timestamp};

use crate::{tme_reference, TelegramMessage, TmeRef};

pub use config::{url_origin, validate, ChannelConfig, ConfigError, LiveConfig, PreviewConfig};
pub use export::{ExportCounts, ExportError, ExportLimits, ExportSource};
pub use live::{LiveChannels, Ready};
pub use preview::{FetcherFactory, PreviewSource};

/// How a message is being recorded: by which collector, fetched when, and which channels
/// are followed (never candidates).
pub(crate) struct Recording<'a> {
    pub collector: &'a str,
    pub fetched_at: Timestamp,
    pub followed: &'a BTreeSet<String>,
}

/// A file of a message: its name, raw bytes (the evidence) and the text matched for it.
pub(crate) struct AttachmentDoc<'a> {
    pub name: &'a str,
    pub bytes: Vec<u8>,
    pub text: Vec<u8>,
}

/// The events of a message (or, with `attachment`, of one of its files, labelled
/// `telegram:CHANNEL/ID/NAME` and matched on its extracted text): its document, then the
/// channels it points at that are not followed, as candidates (messages only).
pub(crate) fn message_events(
    m: &TelegramMessage,
    attachment: Option<AttachmentDoc<'_>>,
    how: &Recording<'_>,
) -> Vec<Event> {
    let sighting = Sighting {
        source: format!("telegram:{}", m.channel),
        locator: Locator::Message {
            channel: m.channel.clone(),
            message_id: m.id,
        },
        fetched_at: how.fetched_at,
        collector: how.collector.into(),
        details: PostDetails {
            posted_at: Some(Timestamp(m.date.saturating_mul(1000))),
            edited_at: m.edited.map(|e| Timestamp(e.saturating_mul(1000))),
            author: m.author.clone(),
            views: m.views,
            forwards: m.forwards,
        },
    };
    let is_message = attachment.is_none();
    let document = match attachment {
        Some(a) => Document {
            label: format!("telegram:{}/{}/{}", m.channel, m.id, a.name),
            content: a.bytes,
            text: MatchText::Given(a.text),
            // Judged from the text alone, as before the pipeline.
            origin: vigie_core::Origin::Unknown,
            sighting,
        },
        None => Document::new(
            m.document().into_bytes(),
            format!("telegram:{}/{}", m.channel, m.id),
            sighting,
        ),
    };
    let at = document.sighting.fetched_at;
    let mut events = vec![Event::Document(document)];
    if is_message {
        let seen_in = format!("telegram:{}/{}", m.channel, m.id);
        for name in candidate_sources(m) {
            if !how.followed.contains(&name) && !name.eq_ignore_ascii_case(&m.channel) {
                events.push(Event::Candidate {
                    kind: "telegram".into(),
                    name,
                    seen_in: seen_in.clone(),
                    at,
                });
            }
        }
    }
    events
}

/// The channels a message points at: the one it was forwarded from, and every `t.me/NAME`
/// or invite (`+HASH`) among its links. Channel names only, never message numbers.
pub fn candidate_sources(m: &TelegramMessage) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    if let Some(from) = &m.forwarded_from {
        names.insert(from.to_lowercase());
    }
    for link in &m.links {
        match tme_reference(&link.url) {
            Some(TmeRef::Name { name, .. }) => names.insert(name),
            Some(TmeRef::Invite(hash)) => names.insert(hash),
            None => false,
        };
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Link, LinkKind};

    fn link(url: &str) -> Link {
        Link {
            url: url.into(),
            kind: LinkKind::Text,
            title: None,
            description: None,
        }
    }

    #[test]
    fn channels_and_invites_a_post_points_at_never_message_numbers() {
        let m = TelegramMessage {
            channel: "medleaks".into(),
            id: 900,
            forwarded_from: Some("pharma_dark".into()),
            forwarded_message: Some(1066),
            links: vec![
                link("https://t.me/+AbCdEfGh12345678"),
                link("https://t.me/Nantes_Dumps/12"),
                link("https://t.me/joinchat/ZyXwVu98765432"),
                link("https://t.me/c/1234567/89"),
                link("https://example.org/t.me/other"),
            ],
            ..TelegramMessage::default()
        };
        let names: Vec<String> = candidate_sources(&m).into_iter().collect();
        assert_eq!(
            names,
            [
                "+AbCdEfGh12345678",
                "+ZyXwVu98765432",
                "nantes_dumps",
                "pharma_dark"
            ]
        );
    }

    #[test]
    fn a_message_gives_its_document_then_candidates_not_followed_and_a_file_none() {
        let m = TelegramMessage {
            channel: "medleaks".into(),
            id: 7,
            date: 1_795_000_000,
            views: Some(12),
            text: "vente base".into(),
            forwarded_from: Some("Pharma_Dark".into()),
            links: vec![
                link("https://t.me/medleaks/3"),
                link("https://t.me/followed"),
            ],
            ..TelegramMessage::default()
        };
        let followed: BTreeSet<String> = ["followed".to_string()].into();
        let how = Recording {
            collector: "telegram-preview",
            fetched_at: Timestamp(5),
            followed: &followed,
        };
        let events = message_events(&m, None, &how);
        assert_eq!(events.len(), 2, "{events:?}");
        let Event::Document(d) = &events[0] else {
            panic!("{events:?}")
        };
        assert_eq!(d.label, "telegram:medleaks/7");
        assert_eq!(d.text, MatchText::Content);
        assert_eq!(d.sighting.source, "telegram:medleaks");
        assert_eq!(d.sighting.collector, "telegram-preview");
        assert_eq!(d.sighting.fetched_at, Timestamp(5));
        assert_eq!(
            d.sighting.details.posted_at,
            Some(Timestamp(1_795_000_000_000))
        );
        assert_eq!(d.sighting.details.views, Some(12));
        assert!(
            matches!(&events[1], Event::Candidate { kind, name, seen_in, at }
                if kind == "telegram" && name == "pharma_dark" && seen_in == "telegram:medleaks/7" && *at == Timestamp(5)),
            "{events:?}"
        );

        let file = AttachmentDoc {
            name: "patients.csv",
            bytes: b"raw".to_vec(),
            text: b"extracted".to_vec(),
        };
        let events = message_events(&m, Some(file), &how);
        assert_eq!(events.len(), 1, "no candidates for a file: {events:?}");
        let Event::Document(d) = &events[0] else {
            panic!("{events:?}")
        };
        assert_eq!(d.label, "telegram:medleaks/7/patients.csv");
        assert_eq!(d.content, b"raw");
        assert_eq!(d.text, MatchText::Given(b"extracted".to_vec()));
        assert_eq!(
            d.sighting.locator,
            Locator::Message {
                channel: "medleaks".into(),
                message_id: 7
            }
        );
    }
}

//! What a source emits. Events are plain data (serde), so the same values travel through an
//! in-process channel or, in distributed mode, through the bus.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use vigie_core::{HealthRecord, Origin};
use vigie_store::{content_hash, Locator, Sighting, Timestamp};

/// One thing a source hands the recorder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A document and where it was seen.
    Document(Document),
    /// How far a source has read. Emitted after the documents it covers, so a checkpoint is
    /// never stored ahead of them.
    Checkpoint {
        key: String,
        #[serde(with = "base64_bytes")]
        value: Vec<u8>,
    },
    /// The outcome of one run of a source (or of a crash).
    Health(HealthRecord),
    /// A place worth following that a source saw mentioned (an onion address, a channel).
    Candidate {
        /// `onion` or `telegram`.
        kind: String,
        name: String,
        /// Where it was seen (a URL, `telegram:channel/id`).
        seen_in: String,
        at: Timestamp,
    },
}

/// What the matcher reads for a document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "text", rename_all = "snake_case")]
pub enum MatchText {
    /// The content itself (a post, a page).
    #[default]
    Content,
    /// A file: the text vigie-unpack finds in it when it is an archive, workbook or PDF,
    /// else the content.
    Unpack,
    /// Text the source extracted (an attachment read with the post that carried it).
    Given(#[serde(with = "base64_bytes")] Vec<u8>),
}

/// A document: the bytes kept as evidence, what to match, and its sighting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    /// The bytes stored as the snapshot (hashed for deduplication).
    #[serde(with = "base64_bytes")]
    pub content: Vec<u8>,
    /// The name the matcher reports (a URL, `telegram:channel/id`, a file name).
    pub label: String,
    /// What the matcher reads.
    #[serde(default)]
    pub text: MatchText,
    /// Where it was collected, for the judgement (a leak-site entry is a claim).
    #[serde(default)]
    pub origin: Origin,
    pub sighting: Sighting,
}

impl Document {
    /// A document matched on its own bytes.
    pub fn new(content: Vec<u8>, label: String, sighting: Sighting) -> Document {
        Document {
            content,
            label,
            text: MatchText::Content,
            origin: Origin::Unknown,
            sighting,
        }
    }
}

impl Event {
    /// The bus subject suffix of this event (`document`, `checkpoint`, `health`, `candidate`).
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Document(_) => "document",
            Event::Checkpoint { .. } => "checkpoint",
            Event::Health(_) => "health",
            Event::Candidate { .. } => "candidate",
        }
    }

    /// A stable identity for deduplicating a republished event: the same document seen at the
    /// same place, the same checkpoint value, the same health record give the same id.
    /// (For documents: source, locator and content hash; the fetch time is left out, so a
    /// collector that restarts and reads the page again republishes the same id.)
    pub fn dedup_id(&self) -> String {
        let mut h = Sha256::new();
        let mut part = |bytes: &[u8]| {
            h.update((bytes.len() as u64).to_be_bytes());
            h.update(bytes);
        };
        part(self.kind().as_bytes());
        match self {
            Event::Document(d) => {
                part(d.sighting.source.as_bytes());
                part(locator_text(&d.sighting.locator).as_bytes());
                part(&content_hash(&d.content));
            }
            Event::Checkpoint { key, value } => {
                part(key.as_bytes());
                part(value);
            }
            Event::Health(r) => {
                part(r.source.as_bytes());
                part(&r.at_ms.to_be_bytes());
            }
            Event::Candidate {
                kind,
                name,
                seen_in,
                ..
            } => {
                part(kind.as_bytes());
                part(name.as_bytes());
                part(seen_in.as_bytes());
            }
        }
        hex::encode(h.finalize())
    }

    /// Encodes the event for the bus.
    pub fn encode(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(self)
    }

    /// Decodes an event from the bus.
    pub fn decode(bytes: &[u8]) -> Result<Event, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}

/// Called once a document's batch is in the store (or failed): a source that must act on
/// it (the spool removes its file) passes one with the document. Never sent over the bus.
#[derive(Clone)]
pub struct Receipt(Arc<dyn Fn(Result<(), String>) + Send + Sync>);

impl Receipt {
    pub fn new(f: impl Fn(Result<(), String>) + Send + Sync + 'static) -> Receipt {
        Receipt(Arc::new(f))
    }
    /// Tells the source how its document ended (the recorder or the bus forwarder calls it).
    pub fn settle(&self, result: Result<(), String>) {
        (self.0)(result)
    }
}

impl std::fmt::Debug for Receipt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Receipt")
    }
}

/// An event and, for documents, who wants to know when it is stored.
#[derive(Debug)]
pub struct Pending {
    pub event: Event,
    pub receipt: Option<Receipt>,
}

impl From<Event> for Pending {
    fn from(event: Event) -> Pending {
        Pending {
            event,
            receipt: None,
        }
    }
}

/// Bytes as a base64 string in the bus encoding.
mod base64_bytes {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        STANDARD
            .decode(text.as_bytes())
            .map_err(serde::de::Error::custom)
    }
}

fn locator_text(locator: &Locator) -> String {
    serde_json::to_string(locator).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigie_store::PostDetails;

    fn doc(content: &[u8], fetched_at: i64) -> Event {
        Event::Document(Document::new(
            content.to_vec(),
            "http://x.onion/t/1".into(),
            Sighting {
                source: "forum-x".into(),
                locator: Locator::Url {
                    url: "http://x.onion/t/1".into(),
                },
                fetched_at: Timestamp(fetched_at),
                collector: "tor".into(),
                details: PostDetails::default(),
            },
        ))
    }

    #[test]
    fn a_document_fetched_again_keeps_its_dedup_id_and_new_content_changes_it() {
        assert_eq!(doc(b"post", 1).dedup_id(), doc(b"post", 2).dedup_id());
        assert_ne!(doc(b"post", 1).dedup_id(), doc(b"post!", 1).dedup_id());
        assert_eq!(doc(b"post", 1).dedup_id().len(), 64);
    }

    #[test]
    fn events_survive_the_bus_encoding() {
        let mut d = doc(b"\xff\x00 not utf-8", 5);
        if let Event::Document(d) = &mut d {
            d.text = MatchText::Given(b"extracted".to_vec());
            d.origin = Origin::LeakSite;
        }
        let encoded = d.encode().unwrap();
        assert!(
            String::from_utf8_lossy(&encoded).contains("\"content\":\"/wAgbm90IHV0Zi04\""),
            "content as base64: {}",
            String::from_utf8_lossy(&encoded)
        );
        let back = Event::decode(&encoded).unwrap();
        assert_eq!(back, d);
        let c = Event::Checkpoint {
            key: "tor:x".into(),
            value: vec![1, 2, 3],
        };
        assert_eq!(Event::decode(&c.encode().unwrap()).unwrap(), c);
    }
}

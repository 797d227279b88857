//! The records the store keeps (serialised as JSON in RocksDB values).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use vigie_core::{Analysis, Category, IdentifierCount, IdentifierKind, Severity, Topic};

/// A UTC time in milliseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Now, from the system clock.
    pub fn now() -> Timestamp {
        let now = OffsetDateTime::now_utc();
        Timestamp((now.unix_timestamp_nanos() / 1_000_000) as i64)
    }

    /// Parses RFC 3339 (`2026-11-23T08:00:00Z`) or a date (`2026-11-23`, midnight UTC).
    pub fn parse(s: &str) -> Option<Timestamp> {
        let s = s.trim();
        if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
            return Some(Timestamp((t.unix_timestamp_nanos() / 1_000_000) as i64));
        }
        let format = time::macros::format_description!("[year]-[month]-[day]");
        let date = time::Date::parse(s, &format).ok()?;
        let t = date.midnight().assume_utc();
        Some(Timestamp(t.unix_timestamp() * 1000))
    }

    /// Seconds since the epoch (for file metadata).
    pub fn unix_seconds(self) -> i64 {
        self.0.div_euclid(1000)
    }

    /// This time minus a number of days.
    pub fn minus_days(self, days: u32) -> Timestamp {
        Timestamp(self.0 - i64::from(days) * 86_400_000)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let format = time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        );
        match t.format(&format) {
            Ok(s) => f.write_str(&s),
            Err(_) => write!(f, "@{}ms", self.0),
        }
    }
}

/// Where a document was seen, in the collector's terms.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Locator {
    /// A web page (onion or not).
    Url {
        /// The URL as fetched.
        url: String,
    },
    /// A message in a channel or chat.
    Message {
        /// Channel username or id.
        channel: String,
        /// Message id in that channel.
        message_id: i64,
    },
    /// A local file (offline ingest).
    File {
        /// The path as given.
        path: String,
    },
}

impl fmt::Display for Locator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Locator::Url { url } => f.write_str(url),
            Locator::Message {
                channel,
                message_id,
            } => write!(f, "{channel}/{message_id}"),
            Locator::File { path } => write!(f, "file:{path}"),
        }
    }
}

/// Where a document was seen, as a kind analysts sort by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// A forum on a Tor onion service.
    TorForum,
    /// A ransomware leak site (an onion page about ransomware).
    LeakSite,
    /// A Telegram channel or chat.
    Telegram,
    /// A clear-web page.
    Web,
    /// A file given to `vigie ingest` or dropped in `vigie run`'s spool.
    File,
}

impl SourceKind {
    /// The kind of a place, given the topics of what was seen there.
    pub fn of(locator: &Locator, topics: &[Topic]) -> SourceKind {
        match locator {
            Locator::Message { .. } => SourceKind::Telegram,
            Locator::File { .. } => SourceKind::File,
            Locator::Url { url } => {
                if !host_of(url).ends_with(".onion") {
                    SourceKind::Web
                } else if topics.contains(&Topic::Ransomware) {
                    SourceKind::LeakSite
                } else {
                    SourceKind::TorForum
                }
            }
        }
    }

    /// The snake-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::TorForum => "tor_forum",
            SourceKind::LeakSite => "leak_site",
            SourceKind::Telegram => "telegram",
            SourceKind::Web => "web",
            SourceKind::File => "file",
        }
    }
}

/// The host of a URL, without user or port.
pub fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    host.split(':').next().unwrap_or("")
}

/// One observation of a document: what a collector hands the store with the bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sighting {
    /// The configured source id (`forum-x`, `telegram:channel`, or the `--source` label).
    pub source: String,
    /// Where in that source.
    pub locator: Locator,
    /// When it was fetched.
    pub fetched_at: Timestamp,
    /// Which collector fetched it (`tor`, `telegram`, `ingest`...).
    pub collector: String,
    /// What the source said about the post at that fetch (views, forwards...).
    #[serde(default, skip_serializing_if = "PostDetails::is_empty")]
    pub details: PostDetails,
}

/// What a source says about a post besides its content. Counters grow between fetches
/// without changing the content hash, so they belong to the sighting, not the snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostDetails {
    /// When the post was published (by the source's clock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub posted_at: Option<Timestamp>,
    /// When it was last edited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<Timestamp>,
    /// Author or signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// Views, when the source counts them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub views: Option<u64>,
    /// Forwards or shares.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forwards: Option<u64>,
}

impl PostDetails {
    /// Nothing known.
    pub fn is_empty(&self) -> bool {
        *self == PostDetails::default()
    }

    /// Takes what a later fetch knows; what it does not say is kept.
    pub fn update_from(&mut self, later: &PostDetails) {
        fn take<T: Clone>(mine: &mut Option<T>, later: &Option<T>) {
            if later.is_some() {
                mine.clone_from(later);
            }
        }
        take(&mut self.posted_at, &later.posted_at);
        take(&mut self.edited_at, &later.edited_at);
        take(&mut self.author, &later.author);
        take(&mut self.views, &later.views);
        take(&mut self.forwards, &later.forwards);
    }
}

/// A sighting as stored: the same source and place showing the same content again updates
/// `last_seen` and `times_seen` instead of adding a row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SightingRecord {
    /// Monotonic id.
    pub id: u64,
    /// SHA-256 of the content, hex.
    pub snapshot: String,
    /// Source id.
    pub source: String,
    /// Where.
    pub locator: Locator,
    /// Collector.
    pub collector: String,
    /// First fetch that returned this content here.
    pub first_seen: Timestamp,
    /// Latest fetch that returned this content here.
    pub last_seen: Timestamp,
    /// How many fetches returned it.
    pub times_seen: u64,
    /// The source's details as of the latest fetch (views grow between fetches).
    #[serde(default, skip_serializing_if = "PostDetails::is_empty")]
    pub details: PostDetails,
}

/// What the store knows of one distinct content (the `findings` column family).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotRecord {
    /// SHA-256 of the original bytes, hex.
    pub hash: String,
    /// Size of the original bytes.
    pub size: u64,
    /// The fetch time of the sighting that first brought it (the source's clock for imports:
    /// a 2020 export's message date). Not when Vigie stored it: see `stored_at`.
    pub first_seen: Timestamp,
    /// When Vigie stored it: retention counts from here. Absent in records written before
    /// this field existed (see [`SnapshotRecord::stored_since`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stored_at: Option<Timestamp>,
    /// Whether the raw bytes are binary (a PDF, an archive, an image): the matcher saw at
    /// most the text extracted from them, so findings may miss personal data they hold, and
    /// retention covers them whatever was found. Absent in older records (retention then
    /// looks at the bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary: Option<bool>,
    /// The matcher's report and near-duplicate signature.
    pub analysis: Analysis,
    /// The incident it belongs to, if it rated medium or above.
    pub incident: Option<u64>,
    /// When retention deleted its raw bytes (hash, findings and custody stay).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purged_at: Option<Timestamp>,
}

impl SnapshotRecord {
    /// When retention starts counting: the storage time, or for records written before it
    /// was kept, the fetch time of the sighting that stored it (the earliest sighting known
    /// then). That fallback purges imported old content early, as older versions did.
    pub fn stored_since(&self) -> Timestamp {
        self.stored_at.unwrap_or(self.first_seen)
    }

    /// Whether the document carries personal data (any valid identifier but FINESS/SIRET, or a
    /// sample): its raw bytes fall under retention.
    pub fn holds_personal_data(&self) -> bool {
        let report = &self.analysis.report;
        report.sample.is_some()
            || report.identifiers.iter().any(|(kind, count)| {
                count.valid > 0 && !matches!(kind, IdentifierKind::Finess | IdentifierKind::Siret)
            })
    }
}

/// Whether raw bytes look binary rather than text: a PDF, or any NUL or C0 control byte
/// other than the whitespace and escape text uses (the test `git` and `file` make). Text in
/// any 8-bit encoding passes as text.
pub fn looks_binary(bytes: &[u8]) -> bool {
    bytes.starts_with(b"%PDF-")
        || bytes
            .iter()
            .any(|&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0b | 0x0c | 0x1b))
}

/// A watched organisation concerned by an incident.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EntityRef {
    /// Watchlist id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Category.
    pub category: Category,
}

/// One sale or leak, however many times and places it was posted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// Monotonic id, from 1.
    pub id: u64,
    /// When the store opened it.
    pub opened_at: Timestamp,
    /// Earliest sighting.
    pub first_seen: Timestamp,
    /// Latest sighting.
    pub last_seen: Timestamp,
    /// Highest severity of its snapshots.
    pub severity: Severity,
    /// Reasons for that severity (from the highest-rated snapshot).
    pub why: Vec<String>,
    /// Organisations named, over all snapshots.
    pub entities: Vec<EntityRef>,
    /// Identifier counts by kind: the largest seen in one snapshot (masked examples).
    pub identifiers: BTreeMap<IdentifierKind, IdentifierCount>,
    /// Largest sample, in rows.
    pub sample_rows: u64,
    /// Whether any snapshot is an offer.
    pub leak_offer: bool,
    /// What the incident is: the gravest document kind of its snapshots (a ransomware claim,
    /// then a sale, a free dump, a teaser, a request, news, discussion). Incidents stored
    /// before kinds existed read as `discussion`.
    #[serde(default)]
    pub kind: vigie_core::DocumentKind,
    /// Cues seen, over all snapshots.
    pub cues: Vec<String>,
    /// Topics, over all snapshots.
    pub topics: Vec<Topic>,
    /// Distinct contents (hex SHA-256), in the order they were stored.
    pub snapshots: Vec<String>,
    /// Distinct sightings (source and place).
    pub sightings: u64,
    /// Source ids it was seen on.
    pub sources: Vec<String>,
    /// Set when an analyst merged this incident into another: it then holds no snapshot and
    /// is left out of every list; its id leads to the incident that absorbed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<u64>,
}

/// A source seen in collected material but not followed yet (a channel posts were forwarded
/// from, an onion address linked from a page), for an analyst to approve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    /// `telegram` or `onion`.
    pub kind: String,
    /// Channel username or onion address.
    pub name: String,
    /// First time it was seen.
    pub first_seen: Timestamp,
    /// Latest time it was seen.
    pub last_seen: Timestamp,
    /// How many times it was seen.
    pub times: u64,
    /// Where (source ids), at most ten.
    pub seen_in: Vec<String>,
}

/// One link of the chain of custody.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustodyEntry {
    /// Position in the chain, from 1, without gaps.
    pub seq: u64,
    /// When the write happened.
    pub time: Timestamp,
    /// What was done.
    pub action: CustodyAction,
    /// The record concerned: a content hash, or a sighting key (hex).
    pub key: String,
    /// SHA-256 of the object as written (the content, or the sighting record's bytes), hex.
    pub object: String,
    /// Hash of the previous entry (64 zeros for the first).
    pub prev: String,
    /// SHA-256 of this entry's fields ([`CustodyEntry::compute_hash`]), hex.
    pub hash: String,
}

/// Custody actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CustodyAction {
    /// A new distinct content was stored.
    SnapshotAdded,
    /// A new sighting was recorded.
    SightingAdded,
    /// A sighting was seen again (its record changed).
    SightingUpdated,
    /// Retention deleted a snapshot's raw bytes.
    RawPurged,
    /// An entry was appended to the console's audit trail (key `audit:SEQ`, object the
    /// SHA-256 of the audit record as stored).
    AuditRecorded,
}

impl CustodyAction {
    /// The snake-case name, as hashed.
    pub fn as_str(self) -> &'static str {
        match self {
            CustodyAction::SnapshotAdded => "snapshot_added",
            CustodyAction::SightingAdded => "sighting_added",
            CustodyAction::SightingUpdated => "sighting_updated",
            CustodyAction::RawPurged => "raw_purged",
            CustodyAction::AuditRecorded => "audit_recorded",
        }
    }
}

/// The zero hash that precedes the first custody entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

impl CustodyEntry {
    /// SHA-256 over `vigie-custody-v1`, then seq, time (ms), action, key, object and prev, one
    /// per line. Any change to a field, or moving the entry, changes it or breaks `prev`.
    pub fn compute_hash(&self) -> String {
        use sha2::{Digest, Sha256};
        // The digest of "vigie-custody-v1\n{seq}\n{time}\n{action}\n{key}\n{object}\n{prev}\n",
        // fed piece by piece (two or more entries per recorded document).
        let mut h = Sha256::new();
        let (mut seq, mut time) = (itoa::Buffer::new(), itoa::Buffer::new());
        for piece in [
            "vigie-custody-v1",
            seq.format(self.seq),
            time.format(self.time.0),
            self.action.as_str(),
            &self.key,
            &self.object,
            &self.prev,
        ] {
            h.update(piece.as_bytes());
            h.update(b"\n");
        }
        hex::encode(h.finalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_parse_and_print() {
        let t = Timestamp::parse("2026-11-23").unwrap();
        assert_eq!(t.to_string(), "2026-11-23T00:00:00.000Z");
        let t2 = Timestamp::parse("2026-11-23T08:30:00.250Z").unwrap();
        assert_eq!(t2.0 - t.0, (8 * 3600 + 30 * 60) * 1000 + 250);
        assert_eq!(t2.to_string(), "2026-11-23T08:30:00.250Z");
        assert!(Timestamp::parse("23/11/2026").is_none());
        assert!(Timestamp::parse("").is_none());
        assert_eq!(t.minus_days(1).to_string(), "2026-11-22T00:00:00.000Z");
    }

    #[test]
    fn source_kinds_follow_the_place_and_topics() {
        assert_eq!(host_of("http://u@abc.onion:80/x"), "abc.onion");
        let url = |u: &str| Locator::Url { url: u.into() };
        assert_eq!(
            SourceKind::of(&url("http://abc.onion/t/1"), &[]),
            SourceKind::TorForum
        );
        assert_eq!(
            SourceKind::of(&url("http://abc.onion/"), &[Topic::Ransomware]),
            SourceKind::LeakSite
        );
        assert_eq!(
            SourceKind::of(&url("https://onion.example.fr/"), &[]),
            SourceKind::Web
        );
        let msg = Locator::Message {
            channel: "c".into(),
            message_id: 1,
        };
        assert_eq!(SourceKind::of(&msg, &[]), SourceKind::Telegram);
    }

    #[test]
    fn custody_hash_is_the_digest_of_the_documented_text() {
        // Stores written by every earlier version hold this digest: it must never change.
        // Expected value from `printf 'vigie-custody-v1\n18446744073709551615\n-62135596800\n
        // sighting_added\nkey-é\nobj\n<GENESIS>\n' | sha256sum`.
        let e = CustodyEntry {
            seq: u64::MAX,
            time: Timestamp(-62135596800),
            action: CustodyAction::SightingAdded,
            key: "key-é".into(),
            object: "obj".into(),
            prev: GENESIS.into(),
            hash: String::new(),
        };
        assert_eq!(
            e.compute_hash(),
            "507dd6e87ee93178b6d8f9f48369cc9bc451279e28703eb9fa723bac80070a2f"
        );
    }

    #[test]
    fn custody_hash_covers_every_field() {
        let e = CustodyEntry {
            seq: 1,
            time: Timestamp(5),
            action: CustodyAction::SnapshotAdded,
            key: "k".into(),
            object: "o".into(),
            prev: GENESIS.into(),
            hash: String::new(),
        };
        let base = e.compute_hash();
        let variants = [
            CustodyEntry {
                seq: 2,
                ..e.clone()
            },
            CustodyEntry {
                time: Timestamp(6),
                ..e.clone()
            },
            CustodyEntry {
                action: CustodyAction::RawPurged,
                ..e.clone()
            },
            CustodyEntry {
                key: "x".into(),
                ..e.clone()
            },
            CustodyEntry {
                object: "x".into(),
                ..e.clone()
            },
            CustodyEntry {
                prev: "x".into(),
                ..e.clone()
            },
        ];
        for v in variants {
            assert_ne!(v.compute_hash(), base, "{v:?}");
        }
    }
}

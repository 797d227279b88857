//! Vigie's evidence store, on RocksDB: every collected page or message once, where and when it
//! was seen, what the matcher found in it, the incidents it belongs to, and a chain of custody
//! that proves none of it was altered.
//!
//! Overview:
//! - [`Store::open`] (one writer process) and [`Store::open_read_only`] (queries while a
//!   writer runs). The store directory (default `storage/`) holds the RocksDB database in
//!   `db/`; a non-empty directory without it is refused, never written into.
//! - [`Store::record`] takes a document's bytes, its [`Sighting`] and the matcher's
//!   [`vigie_core::Analysis`], and writes in **one atomic batch** the snapshot if new, its
//!   findings, the sighting, the incident and index updates, and the custody entries.
//! - Incidents group reposts of one sale ([`incident`] explains the near-duplicate rule).
//! - [`Store::record_alerting`] also lets an [`AlertPolicy`] decide alerts in that batch;
//!   an [`AlertQueue`] serves delivery workers; [`Store::set_triage`] records analysts'
//!   decisions, and false positives suppress their look-alikes ([`alerts`]).
//! - [`Store::verify`] recomputes the chain and every snapshot hash; [`Store::export_incident`]
//!   writes a `.tar.gz` with a manifest and `SHA256SUMS`; [`Store::apply_retention`] deletes
//!   raw bytes holding personal data after N days, as custody entries.
//!
//! Not for: matching (the caller passes the [`vigie_core::Analysis`]), fetching, or alerting.
//!
//! # What survives a crash or a power cut
//!
//! Every write is one atomic RocksDB batch, appended to the write-ahead log before it
//! returns: a killed process loses nothing written, and never leaves half a batch. A power
//! cut (or a kernel crash) loses what the operating system had not yet put on disk, unless
//! the log was synced after it. The log is synced:
//! - by [`Store::set_checkpoint`], so a collector's cursor and the documents recorded before
//!   it reach the disk together (after a power cut a collector never resumes past a post it
//!   did not record);
//! - by every delivery state change ([`AlertQueue::update`]): an alert recorded as delivered
//!   is not sent again;
//! - by [`Store::sync`], which `vigie run` calls before it deletes recorded spool files and
//!   at shutdown (after the delivery threads have stopped), and `ingest`, `import` and
//!   `retention` call at the end; and by [`Store::add_timestamp_token`].
//!
//! What a power cut can lose is therefore the documents recorded since the last sync (the
//! collector reads them again from its saved cursor, the spool still holds its files) and
//! the alerts decided with them; the chain of custody stays whole and verifiable, because the
//! log is replayed in order up to its last complete batch.
//!
//! # Column families and key layouts
//!
//! Integers in keys are big-endian; hashes are raw 32-byte SHA-256; values are JSON unless
//! said otherwise.
//!
//! | column family | key | value |
//! |---|---|---|
//! | `meta` | `schema_version` | u32 BE ([`SCHEMA_VERSION`]) |
//! | | `custody_head` | [`Head`] |
//! | | `next_incident`, `next_sighting`, `next_alert` | u64 BE counters |
//! | `snapshots` | content hash | original bytes (zstd-compressed by RocksDB) |
//! | `findings` | content hash | [`SnapshotRecord`]: report, signature, incident, purge time |
//! | `sightings` | content hash ‖ sighting id u64 | [`SightingRecord`] |
//! | `incidents` | incident id u64 | [`Incident`] |
//! | `index` | `E` ‖ entity id ‖ 0 ‖ incident id | empty: incidents by entity |
//! | | `T` ‖ last seen (ms, sign bit flipped) ‖ incident id | empty: incidents by time |
//! | | `S` ‖ severity u8 ‖ incident id | empty: incidents by severity |
//! | | `K` ‖ SHA-256(source, locator, content hash) | sighting key: repeat sightings |
//! | | `A` ‖ incident id ‖ recipient id | [`AlertMark`]: what the recipient was last told |
//! | | `F` ‖ alias-in-context pattern | incident id u64: a false positive's pattern |
//! | | `C` ‖ kind ‖ 0 ‖ name | [`Candidate`]: a source seen but not followed |
//! | `checkpoints` | source id | collector cursor (opaque bytes) |
//! | `custody` | sequence number u64 | [`CustodyEntry`], binary (version byte 1; JSON in older stores, still read) |
//! | `timestamps` | custody sequence number u64 | RFC 3161 time-stamp token (DER) |
//! | `alerts` | alert id u64 | [`AlertRecord`] (immutable) |
//! | `outbox` | state byte (`P` pending, `S` delivered, `D` dead) ‖ alert id | [`OutboxEntry`] |
//! | `triage` | incident id u64 | [`Triage`] |
//! | `bands` | `L` ‖ band u8 ‖ band value u64 ‖ incident id ‖ content hash | empty: near-duplicate candidates (in `index` before schema 2; moved when a writer opens the store) |
//!
//! # Example
//!
//! ```
//! use vigie_core::{Analysis, Report, Severity, Signature, SIGNATURE_LEN};
//! use vigie_store::{Locator, Sighting, SnapshotOutcome, Store, Timestamp};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let mut store = Store::open(dir.path()).unwrap();
//! let report = Report {
//!     path: "post".into(), entities: vec![], identifiers: Default::default(), sample: None,
//!     leak_offer: false, kind: Default::default(), cues: vec![], topics: vec![], severity: Severity::Info, why: vec![], bytes: 5,
//! };
//! let analysis = Analysis { report, signature: Signature([0; SIGNATURE_LEN]) };
//! let sighting = Sighting {
//!     source: "forum".into(),
//!     locator: Locator::Url { url: "http://example.onion/t/1".into() },
//!     fetched_at: Timestamp::now(),
//!     collector: "doc".into(),
//!     details: Default::default(),
//! };
//! let first = store.record(b"hello", &sighting, Some(&analysis)).unwrap();
//! assert_eq!(first.snapshot, SnapshotOutcome::New);
//! let again = store.record(b"hello", &sighting, None).unwrap();
//! assert_eq!(again.snapshot, SnapshotOutcome::Known);
//! assert!(store.verify().unwrap().ok());
//! ```
#![deny(missing_docs)]

pub mod alerts;
pub mod audit;
mod batch;
mod browse;
mod codec;
mod error;
mod export;
mod health;
pub mod incident;
mod keys;
mod labels;
mod model;
pub mod regroup;
pub mod requests;
mod retention;
pub mod saved;
pub mod sessions;
mod store;
pub mod users;
mod verify;

pub use alerts::{
    alias_patterns, AlertDecision, AlertMark, AlertPolicy, AlertQueue, AlertRecord, NoAlerts,
    OutboxEntry, OutboxState, Triage, TriageState,
};
pub use audit::{AuditAction, AuditEntry};
pub use batch::BatchItem;
pub use browse::{IncidentPage, Order, PageCursor};
pub use error::StoreError;
pub use export::{ExportSummary, EXPORT_FORMAT};
pub use health::{HealthReader, HEALTH_HISTORY};
pub use incident::IncidentFilter;
pub use labels::{place, source_kind_label};
pub use model::{
    host_of, Candidate, CustodyAction, CustodyEntry, EntityRef, Incident, Locator, PostDetails,
    Sighting, SightingRecord, SnapshotRecord, SourceKind, Timestamp, GENESIS,
};
pub use regroup::Regrouped;
pub use requests::{QueueRun, Request, RequestError};
pub use retention::RetentionReport;
pub use saved::{SavedSearch, SavedSearchError};
pub use sessions::Session;
pub use store::{
    content_hash, parse_hash, ContentHash, Head, IncidentChange, Recorded, SightingOutcome,
    SnapshotOutcome, Stats, Store, StoreReader, MARKER_FILE, SCHEMA_VERSION,
};
pub use users::{LoginOutcome, Role, User, UserError};
pub use verify::VerifyReport;

/// Column family names, for tests and tools that inspect the database directly.
pub mod column_families {
    pub use crate::keys::{
        ALL_CFS, CF_ALERTS, CF_BANDS, CF_CHECKPOINTS, CF_CUSTODY, CF_FINDINGS, CF_INCIDENTS,
        CF_INDEX, CF_META, CF_OUTBOX, CF_SIGHTINGS, CF_SNAPSHOTS, CF_TIMESTAMPS, CF_TRIAGE,
    };
}

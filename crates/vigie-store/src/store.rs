//! Opening the store, and recording sightings.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rocksdb::{
    BlockBasedOptions, ColumnFamily, ColumnFamilyDescriptor, DBCompressionType, IteratorMode,
    MemtableFactory, Options, ReadOptions, SliceTransform, WriteBatch, DB,
};
use sha2::{Digest, Sha256};
use tracing::{debug, info};
use vigie_core::{Analysis, IdentifierKind, Severity};

use crate::alerts::{
    alias_patterns, put_triage, read_triage, AlertMark, AlertPolicy, AlertQueue, NoAlerts, Triage,
    TriageState,
};
use crate::batch::{BatchItem, NearDuplicate, Staged};
use crate::error::{bad, io, StoreError};
use crate::incident;
use crate::keys::*;
use crate::model::*;

/// The schema this build writes and the newest it reads. Schema 2 moved the band index from
/// `index` to its own family, `bands` (a writer opening a schema-1 store moves it).
pub const SCHEMA_VERSION: u32 = 2;
/// The RocksDB directory inside a store directory; its presence makes a directory a store.
pub const MARKER_FILE: &str = "db";
/// Files a fresh store directory may already hold: the repository's `storage/README.md`, and
/// the session `vigie telegram login` writes before the first run.
const IGNORABLE: [&str; 4] = ["README.md", ".gitkeep", ".gitignore", "telegram.session"];

/// Content hash: SHA-256 of the original bytes.
pub type ContentHash = [u8; 32];

/// The SHA-256 of some bytes.
pub fn content_hash(bytes: &[u8]) -> ContentHash {
    Sha256::digest(bytes).into()
}

/// Parses a 64-digit hex content hash.
pub fn parse_hash(hex_str: &str) -> Option<ContentHash> {
    let v = hex::decode(hex_str).ok()?;
    v.try_into().ok()
}

/// The evidence store. Open it with [`Store::open`] to write (one process at a time) or
/// [`Store::open_read_only`] to query while a writer runs.
pub struct Store {
    pub(crate) db: Arc<DB>,
    path: PathBuf,
    read_only: bool,
    pub(crate) head: Head,
    next_incident: u64,
    next_sighting: u64,
    next_alert: u64,
    /// Shared by every [`AlertQueue`] of this store: outbox compare-and-swap.
    outbox_lock: Arc<std::sync::Mutex<()>>,
}

/// The chain of custody's last entry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Head {
    /// Its sequence number (0 when the chain is empty).
    pub seq: u64,
    /// Its hash ([`GENESIS`] when the chain is empty).
    pub hash: String,
}

/// Whether a content was new to the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotOutcome {
    /// First time this content is stored.
    New,
    /// The content was already stored (only the sighting is recorded).
    Known,
}

/// Whether the sighting was new.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SightingOutcome {
    /// A new place or source for this content.
    New,
    /// The same source and place showing the same content again.
    Repeat,
}

/// What happened to an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncidentChange {
    /// A new incident was opened.
    Opened,
    /// The incident gained a snapshot or a sighting.
    Updated,
    /// Nothing changed (a repeat sighting).
    Unchanged,
}

/// The outcome of [`Store::record`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// SHA-256 of the content, hex.
    pub hash: String,
    /// New or known content.
    pub snapshot: SnapshotOutcome,
    /// New or repeated sighting.
    pub sighting: SightingOutcome,
    /// The incident the content belongs to, if any, and what happened to it.
    pub incident: Option<(u64, IncidentChange)>,
    /// The severity of the content's analysis.
    pub severity: Severity,
    /// Alerts decided in the same batch (ids).
    pub alerts: Vec<u64>,
    /// Set when the incident opened as a look-alike of a false positive.
    pub suppressed: Option<Triage>,
}

pub(crate) struct Cfs<'a> {
    pub meta: &'a ColumnFamily,
    pub snapshots: &'a ColumnFamily,
    pub findings: &'a ColumnFamily,
    pub sightings: &'a ColumnFamily,
    pub incidents: &'a ColumnFamily,
    pub index: &'a ColumnFamily,
    pub checkpoints: &'a ColumnFamily,
    pub custody: &'a ColumnFamily,
    pub timestamps: &'a ColumnFamily,
    pub alerts: &'a ColumnFamily,
    pub outbox: &'a ColumnFamily,
    pub triage: &'a ColumnFamily,
}

fn cf_options() -> Options {
    let mut o = Options::default();
    // zstd is the only codec compiled in (see Cargo.toml). Flushes write level 0 without
    // compression (the flush threads share the two cores with matching and zstd at its
    // default level was a seventh of an ingest's CPU); compactions compress, at zstd level
    // 1 on the way down and at the default level 3 in the bottommost level, where data stays.
    o.set_compression_type(DBCompressionType::Zstd);
    o.set_compression_per_level(&[
        DBCompressionType::None,
        DBCompressionType::Zstd,
        DBCompressionType::Zstd,
        DBCompressionType::Zstd,
        DBCompressionType::Zstd,
        DBCompressionType::Zstd,
        DBCompressionType::Zstd,
    ]);
    o.set_compression_options(-14, 1, 0, 0);
    o.set_bottommost_compression_type(DBCompressionType::Zstd);
    o.set_bottommost_compression_options(-14, 3, 0, 0, true);
    // Bloom filters: most point lookups of the record path miss (a new content's findings,
    // a new place's sighting identity) and then skip every table file instead of reading
    // its index. Tables written before keep working without.
    let mut table = BlockBasedOptions::default();
    table.set_bloom_filter(10.0, false);
    o.set_block_based_table_factory(&table);
    o
}

/// The options of column family `name`: [`cf_options`], and for the band index a memtable
/// hashed by band prefix with prefix bloom filters in its tables (see [`CF_BANDS`]).
fn cf_options_for(name: &str) -> Options {
    let mut o = cf_options();
    if name == CF_BANDS {
        o.set_prefix_extractor(SliceTransform::create_fixed_prefix(BAND_PREFIX_LEN));
        // 2^18 buckets (2 MiB per memtable, read-only opens included): as fast as 2^20 on
        // the 100,000-post ingest, where a memtable holds up to about a million band keys;
        // 2^16 was 12% slower.
        o.set_memtable_factory(MemtableFactory::HashSkipList {
            bucket_count: 1 << 18,
            height: 4,
            branching_factor: 4,
        });
        let mut table = BlockBasedOptions::default();
        table.set_bloom_filter(10.0, false);
        table.set_whole_key_filtering(false);
        o.set_block_based_table_factory(&table);
    }
    o
}

/// Read options for a seek within one band prefix of [`CF_BANDS`].
pub(crate) fn band_read_options() -> ReadOptions {
    let mut r = ReadOptions::default();
    r.set_prefix_same_as_start(true);
    r
}

/// Read options that see every key of a family in order, whatever its prefix extractor.
fn total_order() -> ReadOptions {
    let mut r = ReadOptions::default();
    r.set_total_order_seek(true);
    r
}

fn db_options() -> Options {
    let mut o = cf_options();
    // The band index's hashed memtable takes one writer at a time (RocksDB groups
    // concurrent writes instead); the store has a single writer anyway.
    o.set_allow_concurrent_memtable_write(false);
    o.create_if_missing(true);
    o.create_missing_column_families(true);
    o.set_keep_log_file_num(4);
    o.set_max_open_files(512);
    o.increase_parallelism(2);
    // One memory budget for the memtables of all column families, instead of 64 MiB each
    // (128 MiB: with 64, the twelve families flushed small files often enough for flushes,
    // compactions and the seeks through level 0 to cost an ingest a sixth of its time).
    o.set_db_write_buffer_size(128 << 20);
    o
}

/// No schema version and no key in any column family: a creation cut short.
fn unfinished_creation(db: &DB, dir: &Path) -> Result<bool, StoreError> {
    if db.iterator(IteratorMode::Start).next().is_some() {
        return Ok(false);
    }
    for name in ALL_CFS {
        let cf = db.cf_handle(name).ok_or_else(|| missing_cf(dir, name))?;
        if db
            .iterator_cf_opt(cf, total_order(), IteratorMode::Start)
            .next()
            .is_some()
        {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The store's schema version; an error when it has none or is newer than this build.
fn stored_schema(db: &DB, dir: &Path) -> Result<u32, StoreError> {
    let meta = db
        .cf_handle(CF_META)
        .ok_or_else(|| missing_cf(dir, CF_META))?;
    let schema = db.get_cf(meta, META_SCHEMA).map_err(io)?;
    let schema = match schema.as_deref().map(<[u8; 4]>::try_from) {
        Some(Ok(b)) => u32::from_be_bytes(b),
        _ => {
            return Err(StoreError::Corrupt {
                path: dir.to_path_buf(),
                detail: "no schema version: a RocksDB database, but not Vigie's".into(),
            })
        }
    };
    if schema > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            path: dir.to_path_buf(),
            found: schema,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(schema)
}

/// Schema 1 → 2: moves the band keys from `index` to `bands`, in batches that each put and
/// delete the same keys (a migration cut short is finished by the next open), then writes the
/// new schema version. One iterator for the whole walk: it reads the index as it was, so the
/// walk never steps over the deletions of earlier batches.
fn migrate_bands(db: &DB, dir: &Path) -> Result<(), StoreError> {
    const CHUNK: usize = 100_000;
    let cf = |name: &str| db.cf_handle(name).ok_or_else(|| missing_cf(dir, name));
    let (index, bands, meta) = (cf(CF_INDEX)?, cf(CF_BANDS)?, cf(CF_META)?);
    let mut moved = 0usize;
    let mut it = db.raw_iterator_cf_opt(index, total_order());
    it.seek([IDX_BAND]);
    loop {
        let mut batch = WriteBatch::default();
        let mut n = 0;
        while n < CHUNK && it.valid() {
            let Some(k) = it.key() else { break };
            if k.first() != Some(&IDX_BAND) {
                break;
            }
            if k.len() != BAND_KEY_LEN {
                return Err(StoreError::Corrupt {
                    path: dir.to_path_buf(),
                    detail: format!(
                        "a band index key of {} bytes ({BAND_KEY_LEN} expected)",
                        k.len()
                    ),
                });
            }
            batch.put_cf(bands, k, []);
            batch.delete_cf(index, k);
            n += 1;
            it.next();
        }
        it.status().map_err(io)?;
        if n == 0 {
            break;
        }
        db.write(batch).map_err(io)?;
        moved += n;
    }
    drop(it);
    db.put_cf(meta, META_SCHEMA, 2u32.to_be_bytes())
        .map_err(io)?;
    db.flush_wal(true).map_err(io)?;
    info!(path = %dir.display(), band_keys = moved, "evidence store upgraded to schema 2 (band index in its own column family)");
    Ok(())
}

fn directory_is_fresh(dir: &Path) -> Result<bool, StoreError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(true),
        Err(e) => return Err(StoreError::Io(format!("{}: {e}", dir.display()))),
    };
    for entry in entries {
        let entry = entry.map_err(|e| StoreError::Io(format!("{}: {e}", dir.display())))?;
        let name = entry.file_name();
        if !IGNORABLE.iter().any(|i| name == *i) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Mode 0700 (or leaves the directory as is on non-Unix systems).
fn owner_only(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

fn open_error(path: &Path, e: rocksdb::Error) -> StoreError {
    let detail = e.clone().into_string();
    if detail.contains("lock") || detail.contains("Resource temporarily unavailable") {
        return StoreError::Locked {
            path: path.to_path_buf(),
            detail,
        };
    }
    match e.kind() {
        rocksdb::ErrorKind::IOError if detail.contains("No space") => StoreError::Io(detail),
        _ => StoreError::Corrupt {
            path: path.to_path_buf(),
            detail,
        },
    }
}

impl Store {
    /// Opens the store in `dir` for writing, creating it if `dir` is missing or empty.
    ///
    /// A non-empty directory that is not a store is refused, as is a store written by a newer
    /// schema. Only one process may hold a store open for writing.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let db_path = dir.join(MARKER_FILE);
        let creating = !db_path.exists();
        if creating {
            if !directory_is_fresh(dir)? {
                return Err(StoreError::NotAStore {
                    path: dir.to_path_buf(),
                });
            }
            std::fs::create_dir_all(&db_path)
                .map_err(|e| StoreError::Io(format!("{}: {e}", db_path.display())))?;
            // Evidence holds personal data: the store is its owner's alone.
            owner_only(dir).map_err(|e| StoreError::Io(format!("{}: {e}", dir.display())))?;
        } else if !db_path.join("CURRENT").exists() && !directory_is_fresh(&db_path)? {
            return Err(StoreError::Corrupt {
                path: dir.to_path_buf(),
                detail: format!("{} has no CURRENT file", db_path.display()),
            });
        }
        let cfs = ALL_CFS
            .iter()
            .map(|name| ColumnFamilyDescriptor::new(*name, cf_options_for(name)));
        let db = DB::open_cf_descriptors(&db_options(), &db_path, cfs)
            .map_err(|e| open_error(dir, e))?;
        // A process killed while creating the store leaves an empty `db/` or a database
        // without its schema version: with nothing stored yet, the creation is finished here.
        if creating || unfinished_creation(&db, dir)? {
            // A creation cut short may have stopped before the mode was set.
            owner_only(dir).map_err(|e| StoreError::Io(format!("{}: {e}", dir.display())))?;
            db.put_cf(
                db.cf_handle(CF_META)
                    .ok_or_else(|| missing_cf(dir, CF_META))?,
                META_SCHEMA,
                SCHEMA_VERSION.to_be_bytes(),
            )
            .map_err(io)?;
            db.flush_wal(true).map_err(io)?;
            info!(path = %dir.display(), "created evidence store");
        } else {
            match stored_schema(&db, dir)? {
                1 => migrate_bands(&db, dir)?,
                SCHEMA_VERSION => {}
                other => {
                    return Err(StoreError::Corrupt {
                        path: dir.to_path_buf(),
                        detail: format!("schema version {other} never existed"),
                    })
                }
            }
        }
        Store::finish_open(db, dir, false)
    }

    /// Opens an existing store for queries. Works while another process writes (it sees the
    /// store as it was when opened).
    pub fn open_read_only(dir: &Path) -> Result<Store, StoreError> {
        let db_path = dir.join(MARKER_FILE);
        if !db_path.exists() {
            if dir.exists() && !directory_is_fresh(dir)? {
                return Err(StoreError::NotAStore {
                    path: dir.to_path_buf(),
                });
            }
            return Err(StoreError::Missing {
                path: dir.to_path_buf(),
            });
        }
        if !db_path.join("CURRENT").exists() {
            return Err(StoreError::Corrupt {
                path: dir.to_path_buf(),
                detail: format!("{} has no CURRENT file", db_path.display()),
            });
        }
        // A store written before a column family existed is still readable: open what it has
        // (queries that need a missing family fail with `Corrupt`, and the next writer adds it).
        let existing = DB::list_cf(&cf_options(), &db_path).map_err(|e| open_error(dir, e))?;
        let cfs = ALL_CFS
            .iter()
            .filter(|name| existing.iter().any(|e| e == *name))
            .map(|name| ColumnFamilyDescriptor::new(*name, cf_options_for(name)));
        let db = DB::open_cf_descriptors_read_only(&cf_options(), &db_path, cfs, false)
            .map_err(|e| open_error(dir, e))?;
        Store::finish_open(db, dir, true)
    }

    fn finish_open(db: DB, dir: &Path, read_only: bool) -> Result<Store, StoreError> {
        let meta = db
            .cf_handle(CF_META)
            .ok_or_else(|| missing_cf(dir, CF_META))?;
        stored_schema(&db, dir)?;
        let head = match db.get_cf(meta, META_HEAD).map_err(io)? {
            Some(v) => serde_json::from_slice(&v).map_err(|e| bad("custody head", e))?,
            None => Head {
                seq: 0,
                hash: GENESIS.to_string(),
            },
        };
        let counter = |key: &[u8]| -> Result<u64, StoreError> {
            Ok(db
                .get_cf(meta, key)
                .map_err(io)?
                .and_then(|v| read_u64(&v))
                .unwrap_or(1))
        };
        let next_incident = counter(META_NEXT_INCIDENT)?;
        let next_sighting = counter(META_NEXT_SIGHTING)?;
        let next_alert = counter(META_NEXT_ALERT)?;
        debug!(path = %dir.display(), read_only, custody_seq = head.seq, "opened evidence store");
        Ok(Store {
            db: Arc::new(db),
            path: dir.to_path_buf(),
            read_only,
            head,
            next_incident,
            next_sighting,
            next_alert,
            outbox_lock: Arc::default(),
        })
    }

    /// The store directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The chain of custody's head.
    pub fn custody_head(&self) -> &Head {
        &self.head
    }

    pub(crate) fn cfs(&self) -> Result<Cfs<'_>, StoreError> {
        let get = |name: &str| {
            self.db
                .cf_handle(name)
                .ok_or_else(|| missing_cf(&self.path, name))
        };
        Ok(Cfs {
            meta: get(CF_META)?,
            snapshots: get(CF_SNAPSHOTS)?,
            findings: get(CF_FINDINGS)?,
            sightings: get(CF_SIGHTINGS)?,
            incidents: get(CF_INCIDENTS)?,
            index: get(CF_INDEX)?,
            checkpoints: get(CF_CHECKPOINTS)?,
            custody: get(CF_CUSTODY)?,
            timestamps: get(CF_TIMESTAMPS)?,
            alerts: get(CF_ALERTS)?,
            outbox: get(CF_OUTBOX)?,
            triage: get(CF_TRIAGE)?,
        })
    }

    /// The band index family. Apart from [`Store::cfs`]: a read-only open of a schema-1 store
    /// has no such family, and only writers use it.
    pub(crate) fn bands_cf(&self) -> Result<&ColumnFamily, StoreError> {
        self.db
            .cf_handle(CF_BANDS)
            .ok_or_else(|| missing_cf(&self.path, CF_BANDS))
    }

    /// A handle that other threads can use to ask whether a content is already stored.
    pub fn reader(&self) -> StoreReader {
        StoreReader {
            db: Arc::clone(&self.db),
        }
    }

    /// Whether this content is already stored (collectors skip matching it again).
    pub fn contains(&self, hash: &ContentHash) -> Result<bool, StoreError> {
        let cfs = self.cfs()?;
        Ok(self
            .db
            .get_pinned_cf(cfs.findings, hash)
            .map_err(io)?
            .is_some())
    }

    /// The stored record of a content.
    pub fn snapshot_record(
        &self,
        hash: &ContentHash,
    ) -> Result<Option<SnapshotRecord>, StoreError> {
        let cfs = self.cfs()?;
        match self.db.get_pinned_cf(cfs.findings, hash).map_err(io)? {
            Some(v) => Ok(Some(crate::codec::decode_findings(&v)?)),
            None => Ok(None),
        }
    }

    /// The original bytes of a content (`None` if unknown or purged by retention).
    pub fn snapshot_bytes(&self, hash: &ContentHash) -> Result<Option<Vec<u8>>, StoreError> {
        let cfs = self.cfs()?;
        self.db.get_cf(cfs.snapshots, hash).map_err(io)
    }

    /// Records one sighting of `content`, in one atomic batch: the snapshot if new, its
    /// findings, the sighting, incident and index updates, and the custody entries.
    ///
    /// `analysis` is required when the content is new; for known content it is ignored (the
    /// stored analysis stands), so a caller may skip matching content that [`Store::contains`].
    pub fn record(
        &mut self,
        content: &[u8],
        sighting: &Sighting,
        analysis: Option<&Analysis>,
    ) -> Result<Recorded, StoreError> {
        self.record_alerting(content, sighting, analysis, &NoAlerts)
    }

    /// [`Store::record`], and when the incident opened or changed, the alerts `policy` decides
    /// with their outbox entries, in the same batch. Incidents triaged as false positives (or
    /// opened as look-alikes of one, see [`crate::alerts`]) get no alerts.
    pub fn record_alerting(
        &mut self,
        content: &[u8],
        sighting: &Sighting,
        analysis: Option<&Analysis>,
        policy: &dyn AlertPolicy,
    ) -> Result<Recorded, StoreError> {
        let item = BatchItem {
            content,
            sighting,
            analysis,
            hash: None,
        };
        self.record_batch(&[item], policy)?
            .pop()
            .ok_or_else(|| bad("record", "a batch of one recorded nothing"))
    }

    pub(crate) fn counters(&self) -> (u64, u64, u64) {
        (self.next_incident, self.next_sighting, self.next_alert)
    }

    pub(crate) fn set_counters(&mut self, incident: u64, sighting: u64, alert: u64) {
        self.next_incident = incident;
        self.next_sighting = sighting;
        self.next_alert = alert;
    }

    /// Whether a newly opened incident is a look-alike of a false positive: a near-duplicate
    /// of one, or a document whose every organisation mention repeats a false positive's
    /// alias-in-context pattern.
    pub(crate) fn suppression(
        &self,
        cfs: &Cfs<'_>,
        st: &Staged<'_>,
        near: &[NearDuplicate],
        content: &[u8],
        record: &SnapshotRecord,
    ) -> Result<Option<Triage>, StoreError> {
        // Same rule as grouping: a sale template reused for another organisation is not a
        // look-alike (a missed alert costs more than a repeated false positive).
        for &(incident, similarity, ref other) in near {
            if !incident::same_organisations(record, other) {
                continue;
            }
            if self
                .staged_triage(cfs, st, incident)?
                .is_some_and(|t| t.state.silences())
            {
                return Ok(Some(Triage {
                    state: TriageState::Suppressed,
                    reason: Some(format!(
                        "near-duplicate (similarity {similarity:.2}) of incident {incident}, a false positive"
                    )),
                    at: Timestamp::now(),
                    like_incident: Some(incident),
                }));
            }
        }
        if !self.any_false_positive(cfs, st)? {
            return Ok(None);
        }
        let patterns = alias_patterns(content, &record.analysis.report);
        if patterns.is_empty() {
            return Ok(None);
        }
        let mut like = None;
        for pattern in &patterns {
            match self
                .db
                .get_pinned_cf(cfs.index, false_positive_pattern(pattern))
                .map_err(io)?
            {
                Some(v) => like = read_u64(&v),
                None => return Ok(None),
            }
        }
        Ok(Some(Triage {
            state: TriageState::Suppressed,
            reason: Some(format!(
                "every organisation mention repeats incident {}'s false-positive pattern (same alias, same neighbouring words)",
                like.unwrap_or_default()
            )),
            at: Timestamp::now(),
            like_incident: like,
        }))
    }

    /// What each recipient was last told about an incident.
    pub fn alert_marks(&self, incident: u64) -> Result<Vec<AlertMark>, StoreError> {
        let cfs = self.cfs()?;
        let prefix = alert_mark_prefix(incident);
        let mut out = Vec::new();
        for item in self.db.iterator_cf(
            cfs.index,
            IteratorMode::From(&prefix, rocksdb::Direction::Forward),
        ) {
            let (k, v) = item.map_err(io)?;
            if !k.starts_with(&prefix) {
                break;
            }
            out.push(serde_json::from_slice(&v).map_err(|e| bad("alert mark", e))?);
        }
        Ok(out)
    }

    /// A handle on alerts and their outbox that delivery threads can share.
    pub fn alert_queue(&self) -> AlertQueue {
        AlertQueue::new(
            Arc::clone(&self.db),
            self.read_only,
            Arc::clone(&self.outbox_lock),
        )
    }

    /// The triage of an incident (`None` means new).
    pub fn triage(&self, incident: u64) -> Result<Option<Triage>, StoreError> {
        let cfs = self.cfs()?;
        read_triage(&self.db, cfs.triage, incident)
    }

    /// Sets an incident's triage. Marking a false positive records its alias-in-context
    /// patterns (from the raw snapshots still held) so that look-alikes are suppressed;
    /// leaving that state removes them.
    pub fn set_triage(
        &mut self,
        incident_id: u64,
        state: TriageState,
        reason: Option<String>,
    ) -> Result<Triage, StoreError> {
        self.ensure_writable()?;
        // An alert sent before a merge names the absorbed incident: decide on the survivor.
        let incident_id = self.live_incident_id(incident_id)?;
        let incident = self
            .incident(incident_id)?
            .ok_or(StoreError::NoIncident(incident_id))?;
        let previous = self.triage(incident_id)?;
        let cfs = self.cfs()?;
        let mut batch = WriteBatch::default();
        let was_fp = previous.is_some_and(|t| t.state == TriageState::FalsePositive);
        let is_fp = state == TriageState::FalsePositive;
        if was_fp != is_fp {
            for hex_hash in &incident.snapshots {
                let Some(hash) = parse_hash(hex_hash) else {
                    continue;
                };
                let (Some(record), Some(bytes)) =
                    (self.snapshot_record(&hash)?, self.snapshot_bytes(&hash)?)
                else {
                    continue;
                };
                for pattern in alias_patterns(&bytes, &record.analysis.report) {
                    let key = false_positive_pattern(&pattern);
                    if is_fp {
                        batch.put_cf(cfs.index, key, u64_key(incident_id));
                    } else {
                        batch.delete_cf(cfs.index, key);
                    }
                }
            }
        }
        let triage = Triage {
            state,
            reason,
            at: Timestamp::now(),
            like_incident: None,
        };
        put_triage(&mut batch, cfs.triage, incident_id, &triage)?;
        self.db.write(batch).map_err(io)?;
        Ok(triage)
    }

    /// Forces the write-ahead log to disk: every batch written so far then survives a power
    /// cut (each batch is already durable against a crash of the process as soon as it is
    /// written). See the crate documentation for when Vigie syncs.
    pub fn sync(&self) -> Result<(), StoreError> {
        if self.read_only {
            return Ok(());
        }
        self.db.flush_wal(true).map_err(io)
    }

    /// Flushes memtables into compressed table files (at the end of a run: the store on disk
    /// is then compact, and reopening it replays no log).
    pub fn flush(&self) -> Result<(), StoreError> {
        if self.read_only {
            return Ok(());
        }
        let cfs = self.cfs()?;
        let all = [
            cfs.meta,
            cfs.snapshots,
            cfs.findings,
            cfs.sightings,
            cfs.incidents,
            cfs.index,
            cfs.checkpoints,
            cfs.custody,
            cfs.timestamps,
            cfs.alerts,
            cfs.outbox,
            cfs.triage,
            self.bands_cf()?,
        ];
        self.db
            .flush_cfs_opt(&all, &rocksdb::FlushOptions::default())
            .map_err(io)
    }

    /// A collector's saved cursor.
    pub fn checkpoint(&self, source: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let cfs = self.cfs()?;
        self.db
            .get_cf(cfs.checkpoints, source.as_bytes())
            .map_err(io)
    }

    /// Every checkpoint whose key starts with `prefix` (a collector's records for all its
    /// sources, e.g. `tor-health:`), by key.
    pub fn checkpoints_with_prefix(
        &self,
        prefix: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let cfs = self.cfs()?;
        Ok(prefix_scan(&self.db, cfs.checkpoints, prefix.as_bytes())?
            .into_iter()
            .map(|(k, v)| (String::from_utf8_lossy(&k).into_owned(), v.into_vec()))
            .collect())
    }

    /// Compacts every column family down to its last level (compressed with zstd): gives
    /// back the space of purged raw bytes and of level-0 files, which flushes write
    /// uncompressed. Takes seconds per hundred megabytes; the store stays usable meanwhile.
    pub fn compact(&self) -> Result<(), StoreError> {
        self.ensure_writable()?;
        for name in ALL_CFS {
            let cf = self
                .db
                .cf_handle(name)
                .ok_or_else(|| StoreError::Io(format!("column family {name} is missing")))?;
            let mut options = rocksdb::CompactOptions::default();
            options.set_bottommost_level_compaction(
                rocksdb::BottommostLevelCompaction::ForceOptimized,
            );
            self.db
                .compact_range_cf_opt(cf, None::<&[u8]>, None::<&[u8]>, &options);
        }
        Ok(())
    }

    /// Every key and value of `cf` whose key starts with `prefix`, in key order.
    pub(crate) fn prefix_scan(
        &self,
        cf: &ColumnFamily,
        prefix: &[u8],
    ) -> Result<KeyValues, StoreError> {
        prefix_scan(&self.db, cf, prefix)
    }

    /// Saves a collector's cursor, and syncs the write-ahead log: the cursor, and every
    /// document recorded before it, survive a power cut together (a cursor on disk never
    /// points past documents that are not).
    pub fn set_checkpoint(&mut self, source: &str, cursor: &[u8]) -> Result<(), StoreError> {
        if self.read_only {
            return Err(StoreError::ReadOnly);
        }
        let cfs = self.cfs()?;
        let mut sync = rocksdb::WriteOptions::default();
        sync.set_sync(true);
        self.db
            .put_cf_opt(cfs.checkpoints, source.as_bytes(), cursor, &sync)
            .map_err(io)
    }

    /// One incident.
    pub fn incident(&self, id: u64) -> Result<Option<Incident>, StoreError> {
        let cfs = self.cfs()?;
        match self
            .db
            .get_pinned_cf(cfs.incidents, u64_key(id))
            .map_err(io)?
        {
            Some(v) => Ok(Some(
                serde_json::from_slice(&v).map_err(|e| bad("incident", e))?,
            )),
            None => Ok(None),
        }
    }

    /// The sightings of one content, oldest id first.
    pub fn sightings_of(&self, hash: &ContentHash) -> Result<Vec<SightingRecord>, StoreError> {
        let cfs = self.cfs()?;
        let mut out = Vec::new();
        for item in self.db.iterator_cf(
            cfs.sightings,
            IteratorMode::From(hash, rocksdb::Direction::Forward),
        ) {
            let (k, v) = item.map_err(io)?;
            if !k.starts_with(hash) {
                break;
            }
            out.push(serde_json::from_slice(&v).map_err(|e| bad("sighting", e))?);
        }
        Ok(out)
    }

    /// Records that a source not followed yet was seen (`kind` `telegram` or `onion`).
    pub fn note_candidate(
        &mut self,
        kind: &str,
        name: &str,
        seen_in: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        self.ensure_writable()?;
        let cfs = self.cfs()?;
        let key = candidate_key(kind, name);
        let mut c = match self.db.get_cf(cfs.index, &key).map_err(io)? {
            Some(v) => serde_json::from_slice(&v).map_err(|e| bad("candidate", e))?,
            None => Candidate {
                kind: kind.to_string(),
                name: name.to_string(),
                first_seen: at,
                last_seen: at,
                times: 0,
                seen_in: Vec::new(),
            },
        };
        c.times += 1;
        c.first_seen = c.first_seen.min(at);
        c.last_seen = c.last_seen.max(at);
        if c.seen_in.len() < 10 && !c.seen_in.iter().any(|s| s == seen_in) {
            c.seen_in.push(seen_in.to_string());
        }
        let v = serde_json::to_vec(&c).map_err(|e| bad("candidate", e))?;
        self.db.put_cf(cfs.index, key, v).map_err(io)
    }

    /// Candidate sources, by kind then name.
    pub fn candidates(&self) -> Result<Vec<Candidate>, StoreError> {
        let cfs = self.cfs()?;
        let prefix = [IDX_CANDIDATE];
        let mut out = Vec::new();
        for item in self.db.iterator_cf(
            cfs.index,
            IteratorMode::From(&prefix, rocksdb::Direction::Forward),
        ) {
            let (k, v) = item.map_err(io)?;
            if k.first() != Some(&IDX_CANDIDATE) {
                break;
            }
            out.push(serde_json::from_slice(&v).map_err(|e| bad("candidate", e))?);
        }
        Ok(out)
    }

    /// Every sighting, in key order (for weekly reports; a full scan).
    pub fn sightings(&self) -> Result<Vec<SightingRecord>, StoreError> {
        let cfs = self.cfs()?;
        let mut out = Vec::new();
        for item in self.db.iterator_cf(cfs.sightings, IteratorMode::Start) {
            let (_, v) = item.map_err(io)?;
            out.push(serde_json::from_slice(&v).map_err(|e| bad("sighting", e))?);
        }
        Ok(out)
    }

    /// Store-wide counts.
    pub fn stats(&self) -> Result<Stats, StoreError> {
        let cfs = self.cfs()?;
        let count = |cf: &ColumnFamily| -> Result<u64, StoreError> {
            let mut n = 0;
            for item in self.db.iterator_cf(cf, IteratorMode::Start) {
                item.map_err(io)?;
                n += 1;
            }
            Ok(n)
        };
        Ok(Stats {
            snapshots: count(cfs.findings)?,
            raw_snapshots: count(cfs.snapshots)?,
            sightings: count(cfs.sightings)?,
            incidents: count(cfs.incidents)?,
            custody_entries: self.head.seq,
        })
    }

    /// All custody entries, in chain order (as stored: [`crate::verify`] checks them).
    pub fn custody_entries(&self) -> Result<Vec<CustodyEntry>, StoreError> {
        let cfs = self.cfs()?;
        let mut out = Vec::new();
        for item in self.db.iterator_cf(cfs.custody, IteratorMode::Start) {
            let (_, v) = item.map_err(io)?;
            out.push(crate::codec::decode_custody(&v)?);
        }
        Ok(out)
    }

    pub(crate) fn write_batch(
        &mut self,
        batch: WriteBatch,
        chain: Chain,
    ) -> Result<(), StoreError> {
        self.db.write(batch).map_err(io)?;
        self.head = chain.head;
        Ok(())
    }

    pub(crate) fn ensure_writable(&self) -> Result<(), StoreError> {
        if self.read_only {
            Err(StoreError::ReadOnly)
        } else {
            Ok(())
        }
    }
}

/// A cheap, thread-safe handle for the one question workers ask before matching a document.
#[derive(Clone)]
pub struct StoreReader {
    db: Arc<DB>,
}

impl StoreReader {
    /// Whether this content is already stored (then it need not be matched again).
    pub fn contains(&self, hash: &ContentHash) -> Result<bool, StoreError> {
        let cf = self
            .db
            .cf_handle(CF_FINDINGS)
            .ok_or_else(|| StoreError::Io("column family findings is missing".into()))?;
        Ok(self.db.get_pinned_cf(cf, hash).map_err(io)?.is_some())
    }

    /// A collector's checkpoint, as last written (sources read theirs when they start).
    pub fn checkpoint(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let cf = self
            .db
            .cf_handle(CF_CHECKPOINTS)
            .ok_or_else(|| StoreError::Io("column family checkpoints is missing".into()))?;
        self.db.get_cf(cf, key.as_bytes()).map_err(io)
    }

    /// Every checkpoint whose key starts with `prefix`, by key.
    pub fn checkpoints_with_prefix(
        &self,
        prefix: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let cf = self
            .db
            .cf_handle(CF_CHECKPOINTS)
            .ok_or_else(|| StoreError::Io("column family checkpoints is missing".into()))?;
        Ok(prefix_scan(&self.db, cf, prefix.as_bytes())?
            .into_iter()
            .map(|(k, v)| (String::from_utf8_lossy(&k).into_owned(), v.into_vec()))
            .collect())
    }
}

/// Keys and values read by [`prefix_scan`].
pub(crate) type KeyValues = Vec<(Box<[u8]>, Box<[u8]>)>;

/// Every key and value of `cf` whose key starts with `prefix`, in key order (the one loop
/// behind users, sessions, saved searches and checkpoints by prefix).
pub(crate) fn prefix_scan(
    db: &DB,
    cf: &ColumnFamily,
    prefix: &[u8],
) -> Result<KeyValues, StoreError> {
    let mut out = Vec::new();
    for item in db.iterator_cf(cf, IteratorMode::From(prefix, rocksdb::Direction::Forward)) {
        let (k, v) = item.map_err(io)?;
        if !k.starts_with(prefix) {
            break;
        }
        out.push((k, v));
    }
    Ok(out)
}

/// Store-wide counts.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    /// Distinct contents recorded.
    pub snapshots: u64,
    /// Of which raw bytes are still held.
    pub raw_snapshots: u64,
    /// Sightings.
    pub sightings: u64,
    /// Incident records, merged ones (kept as tombstones) included.
    pub incidents: u64,
    /// Custody entries.
    pub custody_entries: u64,
}

/// Custody entries staged for one batch.
pub(crate) struct Chain {
    pub head: Head,
}

impl Chain {
    pub fn new(head: &Head) -> Chain {
        Chain { head: head.clone() }
    }

    pub fn append(
        &mut self,
        batch: &mut WriteBatch,
        cf: &ColumnFamily,
        action: CustodyAction,
        key: &str,
        object: &str,
    ) {
        let mut entry = CustodyEntry {
            seq: self.head.seq + 1,
            time: Timestamp::now(),
            action,
            key: key.to_string(),
            object: object.to_string(),
            prev: self.head.hash.clone(),
            hash: String::new(),
        };
        entry.hash = entry.compute_hash();
        batch.put_cf(cf, u64_key(entry.seq), crate::codec::encode_custody(&entry));
        self.head = Head {
            seq: entry.seq,
            hash: entry.hash,
        };
    }

    pub fn put_head(&self, batch: &mut WriteBatch, meta: &ColumnFamily) -> Result<(), StoreError> {
        let v = serde_json::to_vec(&self.head).map_err(|e| bad("custody head", e))?;
        batch.put_cf(meta, META_HEAD, v);
        Ok(())
    }
}

pub(crate) fn sighting_identity_hash(sighting: &Sighting, hash: &ContentHash) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(sighting.source.as_bytes());
    h.update([0]);
    // Locator JSON is deterministic (derived field order).
    h.update(serde_json::to_vec(&sighting.locator).unwrap_or_default());
    h.update([0]);
    h.update(hash);
    h.finalize().into()
}

fn missing_cf(path: &Path, name: &str) -> StoreError {
    StoreError::Corrupt {
        path: path.to_path_buf(),
        detail: format!("column family {name} is missing"),
    }
}

pub(crate) fn valid_kinds(incident: &Incident) -> Vec<IdentifierKind> {
    incident
        .identifiers
        .iter()
        .filter(|(_, c)| c.valid > 0)
        .map(|(k, _)| *k)
        .collect()
}

/// Sorted, de-duplicated union.
pub(crate) fn union<T: Ord + Clone>(a: &mut Vec<T>, b: impl IntoIterator<Item = T>) {
    let mut set: BTreeSet<T> = a.drain(..).collect();
    set.extend(b);
    a.extend(set);
}

//! Typed health history: the last [`HEALTH_HISTORY`] runs of each source, kept as JSON under
//! the checkpoint key [`vigie_core::health_key`] (the layout every version has written, so
//! existing stores read unchanged).
//!
//! A record this build cannot decode (a status added by a newer Vigie) is skipped when read
//! and kept as it is when a new run is appended: one unknown record hides nothing else.

use std::sync::Arc;

use rocksdb::{IteratorMode, DB};
use vigie_core::{health_key, HealthRecord, HEALTH_KEY_PREFIX};

use crate::error::{bad, io, StoreError};
use crate::keys::CF_CHECKPOINTS;
use crate::store::Store;

/// Health records kept per source (older ones are dropped as new runs come).
pub const HEALTH_HISTORY: usize = 100;

impl Store {
    /// Appends a run to its source's history, keeping the last [`HEALTH_HISTORY`]. Synced like
    /// a checkpoint. A history that is not a JSON list at all is replaced.
    pub fn push_health(&mut self, record: HealthRecord) -> Result<(), StoreError> {
        let key = health_key(&record.source);
        let mut history: Vec<serde_json::Value> = self
            .checkpoint(&key)?
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        history.push(serde_json::to_value(&record).map_err(|e| bad("health", e))?);
        let excess = history.len().saturating_sub(HEALTH_HISTORY);
        history.drain(..excess);
        let bytes = serde_json::to_vec(&history).map_err(|e| bad("health", e))?;
        self.set_checkpoint(&key, &bytes)
    }

    /// A source's runs, oldest first (empty when it never ran).
    pub fn health_history(&self, source: &str) -> Result<Vec<HealthRecord>, StoreError> {
        history(&self.db, source)
    }

    /// Every source's runs, oldest first, by source id (Tor sources and `thread:NAME` failures
    /// of `vigie run`'s source threads).
    pub fn health_all(&self) -> Result<Vec<(String, Vec<HealthRecord>)>, StoreError> {
        all(&self.db)
    }

    /// A handle that other threads (the console) use to read health while this store writes.
    pub fn health_reader(&self) -> HealthReader {
        HealthReader {
            db: Arc::clone(&self.db),
        }
    }
}

/// Reads health history from another thread while the [`Store`] that made it keeps writing
/// (each read sees the latest runs). Cheap to clone.
#[derive(Clone)]
pub struct HealthReader {
    db: Arc<DB>,
}

impl HealthReader {
    /// Same as [`Store::health_history`].
    pub fn history(&self, source: &str) -> Result<Vec<HealthRecord>, StoreError> {
        history(&self.db, source)
    }

    /// Same as [`Store::health_all`].
    pub fn all(&self) -> Result<Vec<(String, Vec<HealthRecord>)>, StoreError> {
        all(&self.db)
    }
}

fn history(db: &DB, source: &str) -> Result<Vec<HealthRecord>, StoreError> {
    let cf = checkpoints(db)?;
    Ok(db
        .get_cf(cf, health_key(source).as_bytes())
        .map_err(io)?
        .map(|b| decode(&b))
        .unwrap_or_default())
}

fn all(db: &DB) -> Result<Vec<(String, Vec<HealthRecord>)>, StoreError> {
    let cf = checkpoints(db)?;
    let prefix = HEALTH_KEY_PREFIX.as_bytes();
    let mut out = Vec::new();
    for item in db.iterator_cf(cf, IteratorMode::From(prefix, rocksdb::Direction::Forward)) {
        let (k, v) = item.map_err(io)?;
        let Some(source) = k.strip_prefix(prefix) else {
            break;
        };
        out.push((String::from_utf8_lossy(source).into_owned(), decode(&v)));
    }
    Ok(out)
}

fn checkpoints(db: &DB) -> Result<&rocksdb::ColumnFamily, StoreError> {
    db.cf_handle(CF_CHECKPOINTS)
        .ok_or_else(|| StoreError::Io("column family checkpoints is missing".into()))
}

/// The records of one history that this build reads; the others are skipped.
fn decode(bytes: &[u8]) -> Vec<HealthRecord> {
    let Ok(values) = serde_json::from_slice::<Vec<serde_json::Value>>(bytes) else {
        return Vec::new();
    };
    values
        .into_iter()
        .filter_map(|v| serde_json::from_value(v).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigie_core::HealthStatus;

    fn run(source: &str, at_ms: i64, status: HealthStatus) -> HealthRecord {
        HealthRecord {
            source: source.into(),
            at_ms,
            status,
            mirror: None,
            mirrors_failed: vec![],
            pages_ok: 1,
            pages_failed: 0,
            documents: 0,
            counts: Default::default(),
            blind: vec![],
            errors: vec![],
            elapsed_ms: 10,
        }
    }

    #[test]
    fn history_keeps_the_last_runs_per_source() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        for i in 0..(HEALTH_HISTORY as i64 + 5) {
            store.push_health(run("a", i, HealthStatus::Ok)).unwrap();
        }
        store
            .push_health(run("b", 7, HealthStatus::Captcha))
            .unwrap();
        let a = store.health_history("a").unwrap();
        assert_eq!(a.len(), HEALTH_HISTORY);
        assert_eq!(a.first().unwrap().at_ms, 5);
        assert_eq!(a.last().unwrap().at_ms, HEALTH_HISTORY as i64 + 4);
        assert_eq!(
            store.health_history("b").unwrap(),
            vec![run("b", 7, HealthStatus::Captcha)]
        );
        assert!(store.health_history("never").unwrap().is_empty());
        let all = store.health_all().unwrap();
        let names: Vec<&str> = all.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(all[1].1[0].status, HealthStatus::Captcha);
    }

    #[test]
    fn an_old_store_history_reads_and_grows() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        // Written by hand as `vigie run` wrote it before this module: a JSON list under the
        // checkpoint key `tor-health:SOURCE`.
        let old = br#"[{"source":"forum","at_ms":1000,"status":"unreachable","mirror":null,"mirrors_failed":["x.onion"],"pages_ok":0,"pages_failed":0,"documents":0,"counts":{},"blind":[],"errors":["timeout"],"elapsed_ms":30000}]"#;
        store.set_checkpoint("tor-health:forum", old).unwrap();
        // Other checkpoints (a collector's cursor) are not health.
        store.set_checkpoint("tor:forum", b"{}").unwrap();
        let h = store.health_history("forum").unwrap();
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].status, HealthStatus::Unreachable);
        assert_eq!(h[0].mirrors_failed, vec!["x.onion".to_string()]);
        store
            .push_health(run("forum", 2000, HealthStatus::Maintenance))
            .unwrap();
        let h = store.health_history("forum").unwrap();
        assert_eq!(
            h.iter().map(|r| r.at_ms).collect::<Vec<_>>(),
            vec![1000, 2000]
        );
        assert_eq!(store.health_all().unwrap().len(), 1);
    }

    #[test]
    fn a_record_from_a_newer_version_is_skipped_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let newer = br#"[{"source":"forum","at_ms":1,"status":"quantum_wall","mirror":null,"mirrors_failed":[],"pages_ok":0,"pages_failed":0,"documents":0,"counts":{},"blind":[],"errors":[],"elapsed_ms":0}]"#;
        store.set_checkpoint("tor-health:forum", newer).unwrap();
        assert!(store.health_history("forum").unwrap().is_empty());
        store
            .push_health(run("forum", 2, HealthStatus::Ok))
            .unwrap();
        assert_eq!(store.health_history("forum").unwrap().len(), 1);
        let raw = store.checkpoint("tor-health:forum").unwrap().unwrap();
        assert!(String::from_utf8_lossy(&raw).contains("quantum_wall"));
    }

    #[test]
    fn a_reader_sees_runs_written_after_it_was_made() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let reader = store.health_reader();
        assert!(reader.all().unwrap().is_empty());
        store
            .push_health(run("forum", 1, HealthStatus::RateLimited))
            .unwrap();
        let seen = std::thread::spawn(move || reader.history("forum").unwrap())
            .join()
            .unwrap();
        assert_eq!(seen, vec![run("forum", 1, HealthStatus::RateLimited)]);
    }
}

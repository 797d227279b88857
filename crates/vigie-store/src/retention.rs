//! Retention: raw bytes of snapshots that hold personal data are deleted after a while;
//! hashes, findings, sightings and the chain of custody stay.

use rocksdb::{IteratorMode, WriteBatch};
use tracing::info;

use crate::error::{bad, io, StoreError};
use crate::keys::*;
use crate::model::*;
use crate::store::{Chain, Store};

/// Purges per atomic batch.
const PURGES_PER_BATCH: usize = 500;

/// What [`Store::apply_retention`] did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct RetentionReport {
    /// Snapshots whose raw bytes were deleted now.
    pub purged: Vec<String>,
    /// Snapshots with personal data, or binary, still within the retention period.
    pub kept_personal: u64,
    /// Text snapshots without personal data (kept whole).
    pub kept_other: u64,
}

impl Store {
    /// Deletes the raw bytes of every snapshot holding personal data, or binary (a PDF, an
    /// archive: the matcher could not read all of it), stored more than `raw_days` days
    /// before `now`. The period counts from when Vigie stored the content, not from when it
    /// was posted: an old export imported today is kept `raw_days` from today. Each purge
    /// is a custody entry, written in the same batch.
    pub fn apply_retention(
        &mut self,
        raw_days: u32,
        now: Timestamp,
    ) -> Result<RetentionReport, StoreError> {
        self.ensure_writable()?;
        let cutoff = now.minus_days(raw_days);
        let mut report = RetentionReport::default();
        let mut due: Vec<SnapshotRecord> = Vec::new();
        {
            let cfs = self.cfs()?;
            for item in self.db.iterator_cf(cfs.findings, IteratorMode::Start) {
                let (_, v) = item.map_err(io)?;
                let record: SnapshotRecord = crate::codec::decode_findings(&v)?;
                if record.purged_at.is_some() {
                    continue;
                }
                if !record.holds_personal_data() && !self.is_binary(&record)? {
                    report.kept_other += 1;
                } else if record.stored_since() < cutoff {
                    due.push(record);
                } else {
                    report.kept_personal += 1;
                }
            }
        }
        for chunk in due.chunks(PURGES_PER_BATCH) {
            let cfs = self.cfs()?;
            let mut batch = WriteBatch::default();
            let mut chain = Chain::new(&self.head);
            for record in chunk {
                let hash = crate::store::parse_hash(&record.hash)
                    .ok_or_else(|| bad("findings", "bad hash"))?;
                let mut record = record.clone();
                record.purged_at = Some(now);
                batch.delete_cf(cfs.snapshots, hash);
                let value = crate::codec::encode_findings(&record)?;
                batch.put_cf(cfs.findings, hash, value);
                chain.append(
                    &mut batch,
                    cfs.custody,
                    CustodyAction::RawPurged,
                    &record.hash,
                    &record.hash,
                );
            }
            chain.put_head(&mut batch, cfs.meta)?;
            self.write_batch(batch, chain)?;
            report.purged.extend(chunk.iter().map(|r| r.hash.clone()));
        }
        self.sync()?;
        info!(purged = report.purged.len(), raw_days, "retention applied");
        Ok(report)
    }

    /// Whether a snapshot's raw bytes are binary; records written before the flag was kept
    /// are looked at (bytes already purged need no answer).
    fn is_binary(&self, record: &SnapshotRecord) -> Result<bool, StoreError> {
        if let Some(binary) = record.binary {
            return Ok(binary);
        }
        let hash =
            crate::store::parse_hash(&record.hash).ok_or_else(|| bad("findings", "bad hash"))?;
        Ok(self
            .snapshot_bytes(&hash)?
            .is_some_and(|bytes| looks_binary(&bytes)))
    }

    /// Stores an RFC 3161 time-stamp token over the custody entry `seq`'s hash.
    pub fn add_timestamp_token(&mut self, seq: u64, token: &[u8]) -> Result<(), StoreError> {
        self.ensure_writable()?;
        let cfs = self.cfs()?;
        self.db
            .put_cf(cfs.timestamps, u64_key(seq), token)
            .map_err(io)?;
        self.db.flush_wal(true).map_err(io)
    }

    /// The first time-stamp token over the chain at or after custody entry `seq` (a token
    /// over entry N vouches, through the hash chain, for every entry up to N), with the
    /// position it covers; `None` while no token has been taken since.
    pub fn timestamp_token_covering(&self, seq: u64) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        let cfs = self.cfs()?;
        let from = u64_key(seq);
        let first = self
            .db
            .iterator_cf(
                cfs.timestamps,
                IteratorMode::From(&from, rocksdb::Direction::Forward),
            )
            .next();
        match first {
            Some(item) => {
                let (k, v) = item.map_err(io)?;
                let at = read_u64(&k).ok_or_else(|| bad("timestamp", "short key"))?;
                Ok(Some((at, v.to_vec())))
            }
            None => Ok(None),
        }
    }

    /// Every stored time-stamp token, with the custody position it covers, oldest first.
    pub fn timestamp_tokens(&self) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let cfs = self.cfs()?;
        let mut out = Vec::new();
        for item in self.db.iterator_cf(cfs.timestamps, IteratorMode::Start) {
            let (k, v) = item.map_err(io)?;
            out.push((
                read_u64(&k).ok_or_else(|| bad("timestamp", "short key"))?,
                v.to_vec(),
            ));
        }
        Ok(out)
    }
}

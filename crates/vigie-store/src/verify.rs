//! `verify`: recompute the chain of custody and every snapshot hash.

use std::collections::{HashMap, HashSet};

use rocksdb::IteratorMode;
use sha2::{Digest, Sha256};

use crate::codec::decode_custody;
use crate::error::{io, StoreError};
use crate::keys::*;
use crate::model::*;
use crate::store::{content_hash, Head, Store};

/// What `verify` checked and what it found wrong.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct VerifyReport {
    /// Custody entries read.
    pub custody_entries: u64,
    /// Distinct contents checked.
    pub snapshots: u64,
    /// Of which raw bytes were purged by retention (with a custody entry saying so).
    pub purged: u64,
    /// Sightings checked.
    pub sightings: u64,
    /// Problems, the first broken link first.
    pub problems: Vec<String>,
}

impl VerifyReport {
    /// Whether everything checked out.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

impl Store {
    /// Recomputes the chain of custody (sequence, links, entry hashes, head) and every
    /// snapshot's hash, and checks that every stored snapshot and sighting is the object its
    /// latest custody entry names.
    pub fn verify(&self) -> Result<VerifyReport, StoreError> {
        let cfs = self.cfs()?;
        let mut report = VerifyReport::default();
        let mut added: HashSet<String> = HashSet::new();
        let mut purged: HashSet<String> = HashSet::new();
        let mut sighting_objects: HashMap<String, String> = HashMap::new();

        // 1. The chain, in key order.
        let mut prev = Head {
            seq: 0,
            hash: GENESIS.to_string(),
        };
        for item in self.db.iterator_cf(cfs.custody, IteratorMode::Start) {
            let (k, v) = item.map_err(io)?;
            report.custody_entries += 1;
            let position = read_u64(&k).unwrap_or(0);
            let entry: CustodyEntry = match decode_custody(&v) {
                Ok(e) => e,
                Err(e) => {
                    report
                        .problems
                        .push(format!("custody entry at key {position}: unreadable ({e})"));
                    continue;
                }
            };
            if position != prev.seq + 1 {
                report.problems.push(format!(
                    "custody entry {} missing: the chain jumps from {} to {position}",
                    prev.seq + 1,
                    prev.seq
                ));
            }
            if entry.seq != position {
                report.problems.push(format!(
                    "custody entry at position {position} says it is entry {} (entries moved or reordered)",
                    entry.seq
                ));
            }
            if entry.prev != prev.hash {
                report.problems.push(format!(
                    "custody entry {position}: link to the previous entry is broken (prev {} but entry {} hashes to {})",
                    short(&entry.prev),
                    prev.seq,
                    short(&prev.hash)
                ));
            }
            let recomputed = entry.compute_hash();
            if recomputed != entry.hash {
                report.problems.push(format!(
                    "custody entry {position}: its fields were altered (hash {} recomputes to {})",
                    short(&entry.hash),
                    short(&recomputed)
                ));
            }
            match entry.action {
                CustodyAction::SnapshotAdded => {
                    added.insert(entry.object.clone());
                }
                CustodyAction::RawPurged => {
                    purged.insert(entry.object.clone());
                }
                CustodyAction::SightingAdded | CustodyAction::SightingUpdated => {
                    sighting_objects.insert(entry.key.clone(), entry.object.clone());
                }
                CustodyAction::AuditRecorded => {}
            }
            prev = Head {
                seq: position,
                hash: recomputed,
            };
        }
        if prev.seq != self.head.seq || prev.hash != self.head.hash {
            report.problems.push(format!(
                "the chain ends at entry {} ({}) but the recorded head is entry {} ({}): entries were removed from the end",
                prev.seq,
                short(&prev.hash),
                self.head.seq,
                short(&self.head.hash)
            ));
        }

        // 2. Every snapshot's bytes hash to their key, and were added through the chain.
        let mut raw: HashSet<String> = HashSet::new();
        for item in self.db.iterator_cf(cfs.snapshots, IteratorMode::Start) {
            let (k, v) = item.map_err(io)?;
            let key = hex::encode(&k);
            let actual = hex::encode(content_hash(&v));
            if actual != key {
                report.problems.push(format!(
                    "snapshot {}: its bytes were altered (they hash to {})",
                    short(&key),
                    short(&actual)
                ));
            }
            if !added.contains(&key) {
                report.problems.push(format!(
                    "snapshot {}: no custody entry added it",
                    short(&key)
                ));
            }
            raw.insert(key);
        }

        // 3. Every finding has its bytes, or a custody entry for their purge.
        for item in self.db.iterator_cf(cfs.findings, IteratorMode::Start) {
            let (k, v) = item.map_err(io)?;
            report.snapshots += 1;
            let key = hex::encode(&k);
            let record: Option<SnapshotRecord> = crate::codec::decode_findings(&v).ok();
            if record.is_none() {
                report
                    .problems
                    .push(format!("findings of {}: unreadable", short(&key)));
            }
            if !added.contains(&key) {
                report.problems.push(format!(
                    "findings of {}: no custody entry added the snapshot",
                    short(&key)
                ));
            }
            if !raw.contains(&key) {
                if purged.contains(&key) && record.as_ref().is_some_and(|r| r.purged_at.is_some()) {
                    report.purged += 1;
                } else {
                    report.problems.push(format!(
                        "snapshot {}: its bytes are missing and no custody entry purged them",
                        short(&key)
                    ));
                }
            }
        }
        for key in &added {
            if !raw.contains(key) && !purged.contains(key) {
                // Reported above when findings exist; this catches a deleted findings record too.
                let hash = crate::store::parse_hash(key);
                let has_findings = match hash {
                    Some(h) => self
                        .db
                        .get_pinned_cf(cfs.findings, h)
                        .map_err(io)?
                        .is_some(),
                    None => false,
                };
                if !has_findings {
                    report.problems.push(format!(
                        "snapshot {}: added in the chain but gone from the store",
                        short(key)
                    ));
                }
            }
        }

        // 4. Every sighting is the record its latest custody entry hashed.
        let mut seen_keys: HashSet<String> = HashSet::new();
        for item in self.db.iterator_cf(cfs.sightings, IteratorMode::Start) {
            let (k, v) = item.map_err(io)?;
            report.sightings += 1;
            let key = hex::encode(&k);
            let actual = hex::encode(Sha256::digest(&v));
            match sighting_objects.get(&key) {
                Some(expected) if *expected == actual => {}
                Some(_) => report
                    .problems
                    .push(format!("sighting {}: its record was altered", short(&key))),
                None => report.problems.push(format!(
                    "sighting {}: no custody entry recorded it",
                    short(&key)
                )),
            }
            if k.len() >= 32
                && self
                    .db
                    .get_pinned_cf(cfs.findings, &k[..32])
                    .map_err(io)?
                    .is_none()
            {
                report.problems.push(format!(
                    "sighting {}: its snapshot is not in the store",
                    short(&key)
                ));
            }
            seen_keys.insert(key);
        }
        for key in sighting_objects.keys() {
            if !seen_keys.contains(key) {
                report.problems.push(format!(
                    "sighting {}: recorded in the chain but gone from the store",
                    short(key)
                ));
            }
        }
        Ok(report)
    }

    /// The custody entry at a position.
    pub fn custody_entry(&self, seq: u64) -> Result<Option<CustodyEntry>, StoreError> {
        let cfs = self.cfs()?;
        match self
            .db
            .get_pinned_cf(cfs.custody, u64_key(seq))
            .map_err(io)?
        {
            Some(v) => Ok(decode_custody(&v).ok()),
            None => Ok(None),
        }
    }
}

fn short(hash: &str) -> &str {
    hash.get(..16).unwrap_or(hash)
}

//! Analysts correcting the grouping: merging two incidents that are one sale, splitting
//! snapshots that are another sale out of an incident.
//!
//! The recorder groups near-duplicates automatically (see [`crate::incident`]); an analyst
//! who knows better overrides it here. Each change is one RocksDB batch holding everything
//! it touches and the audit entries that trace it (with their custody entries):
//! - the snapshot records point at their new incident;
//! - the LSH band keys of moved snapshots name the new incident, so later reposts of them
//!   join where the analyst put them;
//! - both incidents are rebuilt from their snapshot records and sightings, and their time,
//!   severity and organisation index entries follow;
//! - what recipients were told (alert marks) is carried over, so a merge or split does not
//!   alert anyone twice about content they were already sent.
//!
//! A merged incident stays as a tombstone (`merged_into`, no snapshots, out of every list)
//! so that links to its id, in alerts already sent, still lead somewhere. False positives are
//! refused: their suppression patterns name the incident, and the analyst should clear the
//! false positive first.

use std::collections::{BTreeSet, HashSet};

use rocksdb::WriteBatch;

use crate::alerts::{read_triage, AlertMark, TriageState};
use crate::audit::{stage_audit, AuditAction, AuditEntry};
use crate::error::{bad, io, StoreError};
use crate::incident;
use crate::keys::*;
use crate::model::*;
use crate::store::{parse_hash, union, Cfs, Chain, ContentHash, Store};

/// Longest list of snapshots one split may move.
pub const MAX_SPLIT_SNAPSHOTS: usize = 10_000;

/// What a merge or split wrote.
#[derive(Debug, Clone)]
pub struct Regrouped {
    /// The incident that holds the snapshots now: the merge's survivor, or the split's new
    /// incident.
    pub target: Incident,
    /// The other one: the merged tombstone, or what the split incident kept.
    pub other: Incident,
    /// The audit entries written with the change.
    pub audit: Vec<AuditEntry>,
}

impl Store {
    /// Merges incident `from` into `into`: every snapshot and sighting of `from` joins
    /// `into`, and `from` becomes a tombstone pointing at `into`. `user` and `reason` go to
    /// the audit trail, in the same batch.
    pub fn merge_incidents(
        &mut self,
        into: u64,
        from: u64,
        user: &str,
        reason: &str,
    ) -> Result<Regrouped, StoreError> {
        self.ensure_writable()?;
        if into == from {
            return Err(StoreError::Regroup(format!(
                "incident {into} cannot be merged into itself"
            )));
        }
        let survivor = self.live_incident(into)?;
        let absorbed = self.live_incident(from)?;
        let mut hashes = survivor.snapshots.clone();
        let known: HashSet<&String> = survivor.snapshots.iter().collect();
        hashes.extend(
            absorbed
                .snapshots
                .iter()
                .filter(|h| !known.contains(h))
                .cloned(),
        );

        let cfs = self.cfs()?;
        let mut batch = WriteBatch::default();
        let rebuilt = self.rebuild(&cfs, &mut batch, &survivor, &hashes, &absorbed.snapshots)?;
        put_moved_incident(&mut batch, &cfs, &rebuilt, &survivor)?;
        let mut tombstone = absorbed.clone();
        tombstone.snapshots.clear();
        tombstone.sightings = 0;
        tombstone.merged_into = Some(into);
        delete_index_entries(&mut batch, &cfs, &absorbed);
        let value = serde_json::to_vec(&tombstone).map_err(|e| bad("incident", e))?;
        batch.put_cf(cfs.incidents, u64_key(from), value);
        self.carry_alert_marks(&cfs, &mut batch, from, into, true)?;

        let detail = format!("merged incident {from} into {into}: {reason}");
        let (audit, chain) = self.stage_regroup_audit(
            &cfs,
            &mut batch,
            user,
            AuditAction::Merge,
            &[(into, &detail), (from, &detail)],
        )?;
        self.write_batch(batch, chain)?;
        Ok(Regrouped {
            target: rebuilt,
            other: tombstone,
            audit,
        })
    }

    /// Splits the snapshots `moved` (hex SHA-256, as the incident lists them) out of
    /// incident `id` into a new incident; `id` keeps the rest. Returns the new incident as
    /// `target`.
    pub fn split_incident(
        &mut self,
        id: u64,
        moved: &[String],
        user: &str,
        reason: &str,
    ) -> Result<Regrouped, StoreError> {
        self.ensure_writable()?;
        let original = self.live_incident(id)?;
        if moved.is_empty() {
            return Err(StoreError::Regroup(format!(
                "choose the snapshots to split out of incident {id}"
            )));
        }
        if moved.len() > MAX_SPLIT_SNAPSHOTS {
            return Err(StoreError::Regroup(format!(
                "a split moves at most {MAX_SPLIT_SNAPSHOTS} snapshots"
            )));
        }
        let moved: BTreeSet<&str> = moved.iter().map(String::as_str).collect();
        let held: HashSet<&str> = original.snapshots.iter().map(String::as_str).collect();
        if let Some(stranger) = moved.iter().find(|h| !held.contains(*h)) {
            return Err(StoreError::Regroup(format!(
                "snapshot {} is not in incident {id}",
                stranger.get(..16).unwrap_or(stranger)
            )));
        }
        let (leaving, staying): (Vec<String>, Vec<String>) = original
            .snapshots
            .iter()
            .cloned()
            .partition(|h| moved.contains(h.as_str()));
        if staying.is_empty() {
            return Err(StoreError::Regroup(format!(
                "a split must leave at least one snapshot in incident {id}"
            )));
        }

        let cfs = self.cfs()?;
        let mut batch = WriteBatch::default();
        let (next_incident, next_sighting, next_alert) = self.counters();
        let new_id = next_incident;
        let shell = Incident {
            id: new_id,
            opened_at: Timestamp::now(),
            ..original.clone()
        };
        let created = self.rebuild(&cfs, &mut batch, &shell, &leaving, &leaving)?;
        let kept = self.rebuild(&cfs, &mut batch, &original, &staying, &[])?;
        put_moved_incident(&mut batch, &cfs, &kept, &original)?;
        incident::put_incident(&mut batch, &cfs, &created, None)?;
        self.carry_alert_marks(&cfs, &mut batch, id, new_id, false)?;
        let next = next_incident.saturating_add(1);
        batch.put_cf(cfs.meta, META_NEXT_INCIDENT, u64_key(next));

        let detail = format!(
            "split {} snapshot(s) of incident {id} into new incident {new_id}: {reason}",
            leaving.len()
        );
        let (audit, chain) = self.stage_regroup_audit(
            &cfs,
            &mut batch,
            user,
            AuditAction::Split,
            &[(id, &detail), (new_id, &detail)],
        )?;
        self.write_batch(batch, chain)?;
        self.set_counters(next, next_sighting, next_alert);
        Ok(Regrouped {
            target: created,
            other: kept,
            audit,
        })
    }

    /// The incident that holds `id`'s content now: `id` itself, or the incident it was merged
    /// into (followed through later merges). A decision about a merged incident's id (from
    /// an alert sent before the merge) belongs there.
    pub fn live_incident_id(&self, id: u64) -> Result<u64, StoreError> {
        let mut current = id;
        // Merges only point at live incidents, so a chain is short; the bound guards a
        // damaged store against a loop.
        for _ in 0..64 {
            let incident = self
                .incident(current)?
                .ok_or(StoreError::NoIncident(current))?;
            match incident.merged_into {
                Some(into) => current = into,
                None => return Ok(current),
            }
        }
        Err(bad(
            "incident",
            format!("merge chain from incident {id} does not end"),
        ))
    }

    /// An incident that exists and was not merged away.
    fn live_incident(&self, id: u64) -> Result<Incident, StoreError> {
        let incident = self.incident(id)?.ok_or(StoreError::NoIncident(id))?;
        if let Some(into) = incident.merged_into {
            return Err(StoreError::Regroup(format!(
                "incident {id} was merged into incident {into}"
            )));
        }
        let cfs = self.cfs()?;
        if read_triage(&self.db, cfs.triage, id)?
            .is_some_and(|t| t.state == TriageState::FalsePositive)
        {
            return Err(StoreError::Regroup(format!(
                "incident {id} is marked false positive: clear that first"
            )));
        }
        Ok(incident)
    }

    /// `base` rebuilt from the snapshots `hashes`; the snapshots in `moved` are re-pointed
    /// at `base.id` (their records and band keys).
    fn rebuild(
        &self,
        cfs: &Cfs<'_>,
        batch: &mut WriteBatch,
        base: &Incident,
        hashes: &[String],
        moved: &[String],
    ) -> Result<Incident, StoreError> {
        let moved: HashSet<&str> = moved.iter().map(String::as_str).collect();
        let mut records = Vec::with_capacity(hashes.len());
        for hex_hash in hashes {
            let hash = parse_hash(hex_hash).ok_or_else(|| bad("incident", "bad snapshot hash"))?;
            let record = self
                .snapshot_record(&hash)?
                .ok_or_else(|| bad("incident", format!("snapshot {hex_hash} has no record")))?;
            records.push((hash, record));
        }
        // Stored order, as the recorder lists snapshots.
        records.sort_by_key(|(_, r)| (r.stored_since(), r.first_seen));
        let mut rebuilt: Option<Incident> = None;
        for (hash, record) in &records {
            let incident = rebuilt.get_or_insert_with(|| {
                let mut fresh = incident::new_incident(base.id, record);
                fresh.opened_at = base.opened_at;
                fresh
            });
            incident::absorb_snapshot(incident, record, false);
            for sighting in self.sightings_of(hash)? {
                absorb_sighting_record(incident, &sighting);
            }
            if moved.contains(record.hash.as_str()) {
                self.repoint(cfs, batch, hash, record, base.id)?;
            }
        }
        rebuilt.ok_or_else(|| StoreError::Regroup(format!("incident {} has no snapshot", base.id)))
    }

    /// Points a snapshot's record and band keys at `incident`.
    fn repoint(
        &self,
        cfs: &Cfs<'_>,
        batch: &mut WriteBatch,
        hash: &ContentHash,
        record: &SnapshotRecord,
        incident: u64,
    ) -> Result<(), StoreError> {
        if let Some(old) = record.incident {
            let bands_cf = self.bands_cf()?;
            for (band, value) in record.analysis.signature.bands().into_iter().enumerate() {
                batch.delete_cf(bands_cf, band_index(band, value, old, hash));
                batch.put_cf(bands_cf, band_index(band, value, incident, hash), []);
            }
        }
        let mut record = record.clone();
        record.incident = Some(incident);
        let value = crate::codec::encode_findings(&record)?;
        batch.put_cf(cfs.findings, hash, value);
        Ok(())
    }

    /// Copies what recipients were told about `from` to `to`; where both incidents told the
    /// same recipient, the marks are combined (the higher severity, every identifier kind,
    /// the later alert), so that nothing already sent is announced again as new. `take`
    /// removes `from`'s marks.
    fn carry_alert_marks(
        &self,
        cfs: &Cfs<'_>,
        batch: &mut WriteBatch,
        from: u64,
        to: u64,
        take: bool,
    ) -> Result<(), StoreError> {
        let prefix = alert_mark_prefix(from);
        for (key, value) in self.prefix_scan(cfs.index, &prefix)? {
            let recipient = key.get(prefix.len()..).unwrap_or_default();
            let recipient = String::from_utf8_lossy(recipient);
            let target = alert_mark(to, &recipient);
            let carried: AlertMark =
                serde_json::from_slice(&value).map_err(|e| bad("alert mark", e))?;
            let combined = match self.db.get_pinned_cf(cfs.index, &target).map_err(io)? {
                None => carried,
                Some(existing) => {
                    let mut mark: AlertMark =
                        serde_json::from_slice(&existing).map_err(|e| bad("alert mark", e))?;
                    mark.severity = mark.severity.max(carried.severity);
                    union(&mut mark.kinds, carried.kinds);
                    if carried.alert > mark.alert {
                        mark.alert = carried.alert;
                    }
                    mark.revision = mark.revision.max(carried.revision);
                    mark
                }
            };
            let bytes = serde_json::to_vec(&combined).map_err(|e| bad("alert mark", e))?;
            batch.put_cf(cfs.index, &target, bytes);
            if take {
                batch.delete_cf(cfs.index, &key);
            }
        }
        Ok(())
    }

    /// Adds one audit entry per (incident, detail) to `batch`, with their custody entries and
    /// the new custody head; the caller writes the batch with the returned chain.
    fn stage_regroup_audit(
        &self,
        cfs: &Cfs<'_>,
        batch: &mut WriteBatch,
        user: &str,
        action: AuditAction,
        entries: &[(u64, &str)],
    ) -> Result<(Vec<AuditEntry>, Chain), StoreError> {
        let mut chain = Chain::new(self.custody_head());
        let mut seq = self.next_audit_seq()?;
        let mut out = Vec::with_capacity(entries.len());
        for &(incident, detail) in entries {
            out.push(stage_audit(
                batch,
                &mut chain,
                cfs,
                seq,
                (user, action, Some(incident), detail),
            )?);
            seq = seq.saturating_add(1);
        }
        chain.put_head(batch, cfs.meta)?;
        Ok((out, chain))
    }
}

/// A stored sighting's part in an incident (as [`incident::absorb_sighting`] for a new one).
fn absorb_sighting_record(incident: &mut Incident, sighting: &SightingRecord) {
    incident.sightings = incident.sightings.saturating_add(1);
    incident.first_seen = incident.first_seen.min(sighting.first_seen);
    incident.last_seen = incident.last_seen.max(sighting.last_seen);
    if !incident.sources.contains(&sighting.source) {
        union(&mut incident.sources, [sighting.source.clone()]);
    }
}

/// Removes every index entry of `incident` (time, severity, organisations).
fn delete_index_entries(batch: &mut WriteBatch, cfs: &Cfs<'_>, incident: &Incident) {
    batch.delete_cf(cfs.index, time_index(incident.last_seen.0, incident.id));
    batch.delete_cf(
        cfs.index,
        severity_index(incident.severity as u8, incident.id),
    );
    for e in &incident.entities {
        batch.delete_cf(cfs.index, entity_index(&e.id, incident.id));
    }
}

/// Writes a rebuilt incident whose organisations may have shrunk since `before`.
fn put_moved_incident(
    batch: &mut WriteBatch,
    cfs: &Cfs<'_>,
    incident: &Incident,
    before: &Incident,
) -> Result<(), StoreError> {
    delete_index_entries(batch, cfs, before);
    incident::put_incident(batch, cfs, incident, None)
}

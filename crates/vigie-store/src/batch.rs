//! Recording many sightings in one RocksDB write: the store writer of a pipeline batches
//! documents, and [`Store::record_alerting`] is a batch of one.
//!
//! Every read of the record path goes through [`Staged`], which holds what the earlier items
//! of the batch wrote: the same content twice in a batch is one snapshot and a repeat
//! sighting, an incident opened earlier in the batch is joined, custody entries follow each
//! other, counters move once.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use rocksdb::{DBRawIterator, WriteBatch, DB};
use sha2::{Digest, Sha256};
use vigie_core::Analysis;

use crate::alerts::{
    put_outbox, put_triage, read_triage, AlertMark, AlertPolicy, AlertRecord, OutboxEntry,
    OutboxState, Triage,
};
use crate::error::{bad, io, StoreError};
use crate::incident::{self, Grouping, MAX_CANDIDATES_PER_BAND};
use crate::keys::*;
use crate::model::*;
use crate::store::{
    content_hash, sighting_identity_hash, valid_kinds, Cfs, Chain, ContentHash, IncidentChange,
    Recorded, SightingOutcome, SnapshotOutcome, Store,
};

/// An index entry read back: its key and value.
type KeyValue = (Vec<u8>, Vec<u8>);

/// One document of a [`Store::record_batch`] call: the same arguments as
/// [`Store::record_alerting`].
#[derive(Debug, Clone, Copy)]
pub struct BatchItem<'a> {
    /// The document's original bytes.
    pub content: &'a [u8],
    /// Where and when it was seen.
    pub sighting: &'a Sighting,
    /// The matcher's analysis; required when the content is new to the store (and not
    /// earlier in the same batch).
    pub analysis: Option<&'a Analysis>,
    /// [`content_hash`] of `content` when the caller has it already (the recorder computes
    /// it to skip stored content); `None` computes it here.
    pub hash: Option<ContentHash>,
}

/// The writes of a batch so far, and what later items must read instead of the database.
pub(crate) struct Staged<'db> {
    pub batch: WriteBatch,
    pub chain: Chain,
    pub next_incident: u64,
    pub next_sighting: u64,
    pub next_alert: u64,
    findings: HashMap<ContentHash, SnapshotRecord>,
    /// Band index keys written (sorted, like the database's).
    bands: BTreeSet<[u8; BAND_KEY_LEN]>,
    identities: HashMap<[u8; 33], [u8; 40]>,
    sightings: HashMap<[u8; 40], SightingRecord>,
    incidents: HashMap<u64, Incident>,
    triage: HashMap<u64, Triage>,
    /// Alert marks by their index key.
    marks: BTreeMap<Vec<u8>, AlertMark>,
    /// One iterator on the index for the whole batch (opened on first use): the database
    /// does not change under a batch, and opening an iterator per band and document costs
    /// more than the seeks.
    index: RefCell<Option<DBRawIterator<'db>>>,
    /// The same for the band index, in prefix mode (each seek stays within one band value).
    band_iter: RefCell<Option<DBRawIterator<'db>>>,
    /// Whether the index holds any false-positive pattern (looked up once per batch: only
    /// analysts' triage writes them, never a batch).
    false_positives: Cell<Option<bool>>,
    db: &'db DB,
}

/// A near-duplicate: its incident, the similarity, its record.
pub(crate) type NearDuplicate = (u64, f64, SnapshotRecord);

impl<'db> Staged<'db> {
    fn new(store: &Store, db: &'db DB) -> Staged<'db> {
        let (next_incident, next_sighting, next_alert) = store.counters();
        Staged {
            batch: WriteBatch::default(),
            chain: Chain::new(&store.head),
            next_incident,
            next_sighting,
            next_alert,
            findings: HashMap::new(),
            bands: BTreeSet::new(),
            identities: HashMap::new(),
            sightings: HashMap::new(),
            incidents: HashMap::new(),
            triage: HashMap::new(),
            marks: BTreeMap::new(),
            index: RefCell::new(None),
            band_iter: RefCell::new(None),
            false_positives: Cell::new(None),
            db,
        }
    }
}

/// The entries of `it`'s family whose key starts with `prefix`, at most `limit`, in key order.
fn entries_under(
    it: &mut DBRawIterator<'_>,
    prefix: &[u8],
    limit: usize,
) -> Result<Vec<KeyValue>, StoreError> {
    let mut out = Vec::new();
    it.seek(prefix);
    while out.len() < limit && it.valid() {
        let (Some(k), Some(v)) = (it.key(), it.value()) else {
            break;
        };
        if !k.starts_with(prefix) {
            break;
        }
        out.push((k.to_vec(), v.to_vec()));
        it.next();
    }
    it.status().map_err(io)?;
    Ok(out)
}

impl Store {
    /// Records `items` in order in **one atomic RocksDB write**, with the same results as
    /// calling [`Store::record_alerting`] on each one in turn: each item sees what the items
    /// before it wrote (the same content twice is one snapshot and a repeat sighting; an
    /// incident opened by an earlier item is joined; custody entries follow in item order).
    ///
    /// All or nothing: on an error (e.g. a new content without its analysis) nothing of the
    /// batch is written and the store is unchanged. Like every record, the write is not
    /// synced: call [`Store::sync`] (or [`Store::set_checkpoint`]) when it must survive a
    /// power cut, once per batch rather than per document.
    pub fn record_batch(
        &mut self,
        items: &[BatchItem<'_>],
        policy: &dyn AlertPolicy,
    ) -> Result<Vec<Recorded>, StoreError> {
        self.ensure_writable()?;
        let cfs = self.cfs()?;
        // The batch's index iterator borrows this handle, not `self`.
        let db = Arc::clone(&self.db);
        let mut staged = Staged::new(self, &db);
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            out.push(self.stage_item(&cfs, &mut staged, item, policy)?);
        }
        if items.is_empty() {
            return Ok(out);
        }
        drop(staged.index);
        drop(staged.band_iter);
        let mut batch = staged.batch;
        batch.put_cf(cfs.meta, META_NEXT_INCIDENT, u64_key(staged.next_incident));
        batch.put_cf(cfs.meta, META_NEXT_SIGHTING, u64_key(staged.next_sighting));
        batch.put_cf(cfs.meta, META_NEXT_ALERT, u64_key(staged.next_alert));
        staged.chain.put_head(&mut batch, cfs.meta)?;
        self.db.write(batch).map_err(io)?;
        // Only now that the batch is in the log do the in-memory counters move.
        self.head = staged.chain.head;
        self.set_counters(
            staged.next_incident,
            staged.next_sighting,
            staged.next_alert,
        );
        Ok(out)
    }

    /// Keys of the index that start with `prefix`, at most `limit`, with their values, in
    /// key order, as the database held them when the batch began.
    fn index_range(
        &self,
        cfs: &Cfs<'_>,
        st: &Staged<'_>,
        prefix: &[u8],
        limit: usize,
    ) -> Result<Vec<KeyValue>, StoreError> {
        let mut slot = st.index.borrow_mut();
        let it = match slot.as_mut() {
            Some(it) => it,
            None => slot.insert(st.db.raw_iterator_cf(cfs.index)),
        };
        entries_under(it, prefix, limit)
    }

    /// Whether any false-positive pattern is stored (most stores have none: then a new
    /// incident's mentions need not be turned into patterns and looked up).
    pub(crate) fn any_false_positive(
        &self,
        cfs: &Cfs<'_>,
        st: &Staged<'_>,
    ) -> Result<bool, StoreError> {
        if let Some(known) = st.false_positives.get() {
            return Ok(known);
        }
        let any = !self
            .index_range(cfs, st, &[IDX_FALSE_POSITIVE], 1)?
            .is_empty();
        st.false_positives.set(Some(any));
        Ok(any)
    }

    /// The band keys of the database under `prefix` (one band value), at most `limit`, in
    /// key order, as the database held them when the batch began.
    fn band_range(
        &self,
        st: &Staged<'_>,
        prefix: &[u8; BAND_PREFIX_LEN],
        limit: usize,
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        let mut slot = st.band_iter.borrow_mut();
        let it = match slot.as_mut() {
            Some(it) => it,
            None => slot.insert(
                st.db
                    .raw_iterator_cf_opt(self.bands_cf()?, crate::store::band_read_options()),
            ),
        };
        Ok(entries_under(it, prefix, limit)?
            .into_iter()
            .map(|(k, _)| k)
            .collect())
    }

    /// One item of a batch: its writes go to `st.batch`, its reads see `st`.
    fn stage_item(
        &self,
        cfs: &Cfs<'_>,
        st: &mut Staged<'_>,
        item: &BatchItem<'_>,
        policy: &dyn AlertPolicy,
    ) -> Result<Recorded, StoreError> {
        let (content, sighting) = (item.content, item.sighting);
        let hash = item.hash.unwrap_or_else(|| content_hash(content));
        debug_assert_eq!(
            hash,
            content_hash(content),
            "BatchItem::hash is not the content's"
        );
        let hash_hex = hex::encode(hash);
        let existing = self.staged_snapshot_record(cfs, st, &hash)?;
        let snapshot_outcome = if existing.is_some() {
            SnapshotOutcome::Known
        } else {
            SnapshotOutcome::New
        };
        // Band keys of this item become visible to the next items only (as in one-by-one
        // recording, where they are not in the database until the item's batch is written).
        let mut new_bands: Vec<[u8; BAND_KEY_LEN]> = Vec::new();
        // Computed once: grouping and suppression both look at them.
        let mut near_duplicates: Vec<NearDuplicate> = Vec::new();

        // The snapshot, its findings and its incident.
        let (record, incident_change) = match existing {
            Some(record) => (record, None),
            None => {
                let analysis = item
                    .analysis
                    .ok_or_else(|| StoreError::MissingAnalysis(hash_hex.clone()))?;
                let mut record = SnapshotRecord {
                    hash: hash_hex.clone(),
                    size: content.len() as u64,
                    first_seen: sighting.fetched_at,
                    stored_at: Some(Timestamp::now()),
                    binary: Some(looks_binary(content)),
                    analysis: analysis.clone(),
                    incident: None,
                    purged_at: None,
                };
                st.batch.put_cf(cfs.snapshots, hash, content);
                st.chain.append(
                    &mut st.batch,
                    cfs.custody,
                    CustodyAction::SnapshotAdded,
                    &hash_hex,
                    &hash_hex,
                );
                let mut change = None;
                if incident::opens_incident(&analysis.report) {
                    let near = self.near_duplicates(cfs, st, &record)?;
                    let grouping = incident::find_group(&near, &record);
                    near_duplicates = near;
                    let (incident, opened) = match grouping {
                        Grouping::Join(id) => (
                            self.staged_incident(cfs, st, id)?
                                .ok_or(StoreError::NoIncident(id))?,
                            false,
                        ),
                        Grouping::Open => {
                            let id = st.next_incident;
                            st.next_incident += 1;
                            (incident::new_incident(id, &record), true)
                        }
                    };
                    let before = (!opened).then(|| incident.clone());
                    let mut incident = incident;
                    incident::absorb_snapshot(&mut incident, &record, opened);
                    record.incident = Some(incident.id);
                    let bands_cf = self.bands_cf()?;
                    for (band, value) in record.analysis.signature.bands().into_iter().enumerate() {
                        let key = band_index(band, value, incident.id, &hash);
                        st.batch.put_cf(bands_cf, key, []);
                        new_bands.push(key);
                    }
                    change = Some((incident, before, opened));
                }
                let value = crate::codec::encode_findings(&record)?;
                st.batch.put_cf(cfs.findings, hash, value);
                (record, change)
            }
        };

        // The sighting: new, or the same source and place again.
        let identity = sighting_identity_hash(sighting, &hash);
        let identity_key = sighting_identity(&identity);
        // The identity covers the content hash: new content has no sighting yet.
        let indexed = match snapshot_outcome {
            SnapshotOutcome::New => None,
            SnapshotOutcome::Known => self.staged_identity(cfs, st, &identity_key)?,
        };
        let (sighting_outcome, sighting_record, sighting_key) = match indexed {
            Some(key) => {
                let mut rec = self
                    .staged_sighting(cfs, st, &key)?
                    .ok_or_else(|| bad("sighting", "indexed sighting is missing"))?;
                if sighting.fetched_at >= rec.last_seen {
                    rec.details.update_from(&sighting.details);
                }
                rec.first_seen = rec.first_seen.min(sighting.fetched_at);
                rec.last_seen = rec.last_seen.max(sighting.fetched_at);
                rec.times_seen += 1;
                (SightingOutcome::Repeat, rec, key)
            }
            None => {
                let id = st.next_sighting;
                st.next_sighting += 1;
                let key = sighting_key(&hash, id);
                st.batch.put_cf(cfs.index, identity_key, key);
                st.identities.insert(identity_key, key);
                let rec = SightingRecord {
                    id,
                    snapshot: hash_hex.clone(),
                    source: sighting.source.clone(),
                    locator: sighting.locator.clone(),
                    collector: sighting.collector.clone(),
                    first_seen: sighting.fetched_at,
                    last_seen: sighting.fetched_at,
                    times_seen: 1,
                    details: sighting.details.clone(),
                };
                (SightingOutcome::New, rec, key)
            }
        };
        let sighting_bytes =
            serde_json::to_vec(&sighting_record).map_err(|e| bad("sighting", e))?;
        let action = match sighting_outcome {
            SightingOutcome::New => CustodyAction::SightingAdded,
            SightingOutcome::Repeat => CustodyAction::SightingUpdated,
        };
        st.chain.append(
            &mut st.batch,
            cfs.custody,
            action,
            &hex::encode(sighting_key),
            &hex::encode(Sha256::digest(&sighting_bytes)),
        );
        st.batch
            .put_cf(cfs.sightings, sighting_key, &sighting_bytes);
        st.sightings.insert(sighting_key, sighting_record.clone());

        // The incident gains the sighting.
        let mut changed_incident: Option<(Incident, bool)> = None;
        let incident_result = match (incident_change, record.incident) {
            (Some((mut incident, before, opened)), _) => {
                incident::absorb_sighting(&mut incident, sighting, sighting_outcome);
                incident::put_incident(&mut st.batch, cfs, &incident, before.as_ref())?;
                st.incidents.insert(incident.id, incident.clone());
                let id = incident.id;
                changed_incident = Some((incident, opened));
                Some((
                    id,
                    if opened {
                        IncidentChange::Opened
                    } else {
                        IncidentChange::Updated
                    },
                ))
            }
            (None, Some(id)) => {
                let before = self
                    .staged_incident(cfs, st, id)?
                    .ok_or(StoreError::NoIncident(id))?;
                let mut incident = before.clone();
                incident::absorb_sighting(&mut incident, sighting, sighting_outcome);
                let change = if sighting_outcome == SightingOutcome::New {
                    IncidentChange::Updated
                } else {
                    IncidentChange::Unchanged
                };
                if incident != before {
                    incident::put_incident(&mut st.batch, cfs, &incident, Some(&before))?;
                    st.incidents.insert(incident.id, incident.clone());
                    if change == IncidentChange::Updated {
                        changed_incident = Some((incident, false));
                    }
                }
                Some((id, change))
            }
            (None, None) => None,
        };

        // Alerts, decided on the incident as written, in the same batch.
        let mut alerts = Vec::new();
        let mut suppressed = None;
        if let Some((incident, opened)) = &changed_incident {
            // An incident opened just now has no triage nor alert marks: nothing to read.
            let mut triage = match opened {
                true => None,
                false => self.staged_triage(cfs, st, incident.id)?,
            };
            if *opened {
                if let Some(t) = self.suppression(cfs, st, &near_duplicates, content, &record)? {
                    put_triage(&mut st.batch, cfs.triage, incident.id, &t)?;
                    st.triage.insert(incident.id, t.clone());
                    suppressed = Some(t.clone());
                    triage = Some(t);
                }
            }
            if !triage.is_some_and(|t| t.state.silences()) {
                let marks = match opened {
                    true => Vec::new(),
                    false => self.staged_alert_marks(cfs, st, incident.id)?,
                };
                let now = Timestamp::now();
                for decision in policy.decide(incident, &marks) {
                    let id = st.next_alert;
                    st.next_alert += 1;
                    let revision = marks
                        .iter()
                        .find(|m| m.recipient == decision.recipient)
                        .map_or(1, |m| m.revision + 1);
                    let alert = AlertRecord {
                        id,
                        recipient: decision.recipient.clone(),
                        revision,
                        reason: decision.reason,
                        created_at: now,
                        incident: incident.clone(),
                        trigger: sighting_record.clone(),
                    };
                    let v = serde_json::to_vec(&alert).map_err(|e| bad("alert", e))?;
                    st.batch.put_cf(cfs.alerts, u64_key(id), v);
                    put_outbox(
                        &mut st.batch,
                        cfs.outbox,
                        &OutboxEntry {
                            alert: id,
                            recipient: decision.recipient.clone(),
                            state: OutboxState::Pending,
                            attempts: 0,
                            next_attempt: now,
                            last_error: None,
                            created_at: now,
                            delivered_at: None,
                        },
                    )?;
                    let mark = AlertMark {
                        recipient: decision.recipient.clone(),
                        alert: id,
                        revision,
                        severity: incident.severity,
                        kinds: valid_kinds(incident),
                    };
                    let v = serde_json::to_vec(&mark).map_err(|e| bad("alert mark", e))?;
                    let key = alert_mark(incident.id, &decision.recipient);
                    st.batch.put_cf(cfs.index, &key, v);
                    st.marks.insert(key, mark);
                    alerts.push(id);
                }
            }
        }
        st.bands.extend(new_bands);
        let severity = record.analysis.report.severity;
        if snapshot_outcome == SnapshotOutcome::New {
            // Seen by the next items of the batch (moved, not cloned: done with it here).
            st.findings.insert(hash, record);
        }

        Ok(Recorded {
            hash: hash_hex,
            snapshot: snapshot_outcome,
            sighting: sighting_outcome,
            incident: incident_result,
            severity,
            alerts,
            suppressed,
        })
    }

    pub(crate) fn staged_snapshot_record(
        &self,
        cfs: &Cfs<'_>,
        st: &Staged<'_>,
        hash: &ContentHash,
    ) -> Result<Option<SnapshotRecord>, StoreError> {
        if let Some(r) = st.findings.get(hash) {
            return Ok(Some(r.clone()));
        }
        match self.db.get_pinned_cf(cfs.findings, hash).map_err(io)? {
            Some(v) => Ok(Some(crate::codec::decode_findings(&v)?)),
            None => Ok(None),
        }
    }

    fn staged_incident(
        &self,
        cfs: &Cfs<'_>,
        st: &Staged<'_>,
        id: u64,
    ) -> Result<Option<Incident>, StoreError> {
        if let Some(i) = st.incidents.get(&id) {
            return Ok(Some(i.clone()));
        }
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

    fn staged_identity(
        &self,
        cfs: &Cfs<'_>,
        st: &Staged<'_>,
        identity_key: &[u8; 33],
    ) -> Result<Option<[u8; 40]>, StoreError> {
        if let Some(k) = st.identities.get(identity_key) {
            return Ok(Some(*k));
        }
        match self.db.get_pinned_cf(cfs.index, identity_key).map_err(io)? {
            Some(key) => Ok(Some(
                key.as_ref()
                    .try_into()
                    .map_err(|e| bad("sighting index", e))?,
            )),
            None => Ok(None),
        }
    }

    fn staged_sighting(
        &self,
        cfs: &Cfs<'_>,
        st: &Staged<'_>,
        key: &[u8; 40],
    ) -> Result<Option<SightingRecord>, StoreError> {
        if let Some(r) = st.sightings.get(key) {
            return Ok(Some(r.clone()));
        }
        match self.db.get_pinned_cf(cfs.sightings, key).map_err(io)? {
            Some(v) => Ok(Some(
                serde_json::from_slice(&v).map_err(|e| bad("sighting", e))?,
            )),
            None => Ok(None),
        }
    }

    pub(crate) fn staged_triage(
        &self,
        cfs: &Cfs<'_>,
        st: &Staged<'_>,
        incident: u64,
    ) -> Result<Option<Triage>, StoreError> {
        if let Some(t) = st.triage.get(&incident) {
            return Ok(Some(t.clone()));
        }
        read_triage(&self.db, cfs.triage, incident)
    }

    fn staged_alert_marks(
        &self,
        cfs: &Cfs<'_>,
        st: &Staged<'_>,
        incident: u64,
    ) -> Result<Vec<AlertMark>, StoreError> {
        let prefix = alert_mark_prefix(incident);
        let mut by_key: BTreeMap<Vec<u8>, AlertMark> = BTreeMap::new();
        for (k, v) in self.index_range(cfs, st, &prefix, usize::MAX)? {
            let mark = serde_json::from_slice(&v).map_err(|e| bad("alert mark", e))?;
            by_key.insert(k, mark);
        }
        for (k, m) in st.marks.range(prefix.to_vec()..) {
            if !k.starts_with(&prefix) {
                break;
            }
            by_key.insert(k.clone(), m.clone());
        }
        Ok(by_key.into_values().collect())
    }

    /// Near-duplicate candidates of `record` from the band index: per band, the first
    /// [`MAX_CANDIDATES_PER_BAND`] keys of the database and the batch together.
    pub(crate) fn staged_band_candidates(
        &self,
        st: &Staged<'_>,
        record: &SnapshotRecord,
    ) -> Result<BTreeSet<(u64, ContentHash)>, StoreError> {
        let mut candidates = BTreeSet::new();
        for (band, value) in record.analysis.signature.bands().into_iter().enumerate() {
            let prefix = band_prefix(band, value);
            let mut keys: BTreeSet<Vec<u8>> = self
                .band_range(st, &prefix, MAX_CANDIDATES_PER_BAND)?
                .into_iter()
                .collect();
            let mut from = [0u8; BAND_KEY_LEN];
            from[..BAND_PREFIX_LEN].copy_from_slice(&prefix);
            for k in st
                .bands
                .range(from..)
                .take_while(|k| k.starts_with(&prefix))
                .take(MAX_CANDIDATES_PER_BAND)
            {
                keys.insert(k.to_vec());
            }
            for k in keys.iter().take(MAX_CANDIDATES_PER_BAND) {
                // Keys are read with `get`: a damaged store is an error, not a panic.
                let incident = k
                    .get(10..)
                    .and_then(read_u64)
                    .ok_or_else(|| bad("band index", "short key"))?;
                let snapshot: ContentHash = k
                    .get(18..)
                    .ok_or_else(|| bad("band index", "short key"))?
                    .try_into()
                    .map_err(|e| bad("band index", e))?;
                candidates.insert((incident, snapshot));
            }
        }
        Ok(candidates)
    }

    /// Incidents holding a stored content whose signature agrees with `record`'s on at least
    /// [`incident::NEAR_DUP_THRESHOLD`], with that similarity and the content's record.
    pub(crate) fn near_duplicates(
        &self,
        cfs: &Cfs<'_>,
        st: &Staged<'_>,
        record: &SnapshotRecord,
    ) -> Result<Vec<NearDuplicate>, StoreError> {
        let mut out = Vec::new();
        for (incident, snapshot) in self.staged_band_candidates(st, record)? {
            let Some(other) = self.staged_snapshot_record(cfs, st, &snapshot)? else {
                continue;
            };
            let similarity = record
                .analysis
                .signature
                .similarity(&other.analysis.signature);
            if similarity >= incident::NEAR_DUP_THRESHOLD {
                out.push((incident, similarity, other));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {}

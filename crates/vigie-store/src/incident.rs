//! Grouping snapshots into incidents, and incident queries.
//!
//! A content that rates [`MIN_SEVERITY`] or above belongs to an incident. It joins the
//! incident of an already stored content when both hold:
//! - their near-duplicate signatures agree on at least [`NEAR_DUP_THRESHOLD`] of their values
//!   (estimated Jaccard similarity of word 3-shingles, after prices, handles and long tokens
//!   are reduced to their class by the matcher), and
//! - they are about the same organisation: the first organisation one names (the victim, in a
//!   title) is named by the other, or neither names any. A sale template reused for another
//!   hospital is another incident, even when both samples mention the same insurer.
//!
//! Candidates come from the LSH band index (16 bands of 4 values; see
//! [`vigie_core::Signature::bands`]), never from a scan of the store; at most
//! [`MAX_CANDIDATES_PER_BAND`] per band are compared, the most recent incidents first.
// Reads keys back from disk: no arithmetic or slicing may panic on a damaged store.
#![deny(clippy::arithmetic_side_effects, clippy::indexing_slicing)]

use rocksdb::{Direction, IteratorMode, WriteBatch};
use vigie_core::{Report, Severity};

use crate::error::{bad, io, StoreError};
use crate::keys::*;
use crate::model::*;
use crate::store::{union, Cfs, SightingOutcome, Store};

/// Contents below this severity are stored but open no incident (a bare mention of a
/// hospital is not an incident).
pub const MIN_SEVERITY: Severity = Severity::Medium;
/// Minimum signature agreement for two contents to be the same sale. Measured on
/// `tests/fixtures/reposts` (the store test `print_similarity_table` prints it): reposts with
/// edited prices, handles, contacts, intro lines and emoji keep 0.72 – 0.89; different sales
/// written on the same template share 0.48 – 0.64 (and are also told apart by their
/// organisations). 0.68 sits between the two; the LSH bands find a pair at 0.68 with
/// probability 0.98, at 0.72 with 0.99.
pub const NEAR_DUP_THRESHOLD: f64 = 0.68;
/// Candidates compared per band, at most.
pub const MAX_CANDIDATES_PER_BAND: usize = 16;

pub(crate) enum Grouping {
    Join(u64),
    Open,
}

pub(crate) fn opens_incident(report: &Report) -> bool {
    report.severity >= MIN_SEVERITY
}

/// Whether two contents are about the same organisation: the first organisation either names
/// (entities are sorted by first mention) is named by the other, or neither names any.
pub fn same_organisations(a: &SnapshotRecord, b: &SnapshotRecord) -> bool {
    let (ea, eb) = (&a.analysis.report.entities, &b.analysis.report.entities);
    let names = |list: &[vigie_core::EntityFinding], id: &str| list.iter().any(|e| e.id == id);
    match (ea.first(), eb.first()) {
        (None, None) => true,
        (Some(pa), Some(pb)) => names(eb, &pa.id) || names(ea, &pb.id),
        _ => false,
    }
}

/// The incident `record` joins among its near-duplicates (incident, similarity, record):
/// the most similar about the same organisation; on a tie, the most recent incident.
pub(crate) fn find_group(near: &[(u64, f64, SnapshotRecord)], record: &SnapshotRecord) -> Grouping {
    let mut best: Option<(f64, u64)> = None;
    for &(incident, similarity, ref other) in near {
        if !same_organisations(record, other) {
            continue;
        }
        // Highest similarity wins; on a tie, the most recent incident.
        if best.is_none_or(|(s, id)| similarity > s || (similarity == s && incident > id)) {
            best = Some((similarity, incident));
        }
    }
    match best {
        Some((_, id)) => Grouping::Join(id),
        None => Grouping::Open,
    }
}

pub(crate) fn new_incident(id: u64, record: &SnapshotRecord) -> Incident {
    Incident {
        id,
        opened_at: Timestamp::now(),
        first_seen: record.first_seen,
        last_seen: record.first_seen,
        severity: Severity::Info,
        why: Vec::new(),
        entities: Vec::new(),
        identifiers: Default::default(),
        sample_rows: 0,
        leak_offer: false,
        kind: Default::default(),
        cues: Vec::new(),
        topics: Vec::new(),
        snapshots: Vec::new(),
        sightings: 0,
        sources: Vec::new(),
        merged_into: None,
    }
}

/// How grave a document kind is, for the incident's kind.
fn kind_rank(kind: vigie_core::DocumentKind) -> u8 {
    use vigie_core::DocumentKind as K;
    match kind {
        K::Discussion => 0,
        K::News => 1,
        K::Request => 2,
        K::Teaser => 3,
        K::FreeDump => 4,
        K::Sale => 5,
        K::RansomwareClaim => 6,
    }
}

pub(crate) fn absorb_snapshot(incident: &mut Incident, record: &SnapshotRecord, _opened: bool) {
    let report = &record.analysis.report;
    if report.severity > incident.severity || incident.why.is_empty() {
        incident.severity = incident.severity.max(report.severity);
        incident.why = report.why.clone();
    }
    union(
        &mut incident.entities,
        report.entities.iter().map(|e| EntityRef {
            id: e.id.clone(),
            name: e.name.clone(),
            category: e.category,
        }),
    );
    for (kind, count) in &report.identifiers {
        let slot = incident.identifiers.entry(*kind).or_default();
        if count.valid > slot.valid {
            slot.valid = count.valid;
            slot.examples = count.examples.clone();
        }
        slot.invalid = slot.invalid.max(count.invalid);
    }
    if let Some(sample) = &report.sample {
        incident.sample_rows = incident.sample_rows.max(sample.rows);
    }
    incident.leak_offer |= report.leak_offer;
    if incident.snapshots.is_empty() || kind_rank(report.kind) > kind_rank(incident.kind) {
        incident.kind = report.kind;
    }
    union(&mut incident.cues, report.cues.iter().cloned());
    union(&mut incident.topics, report.topics.iter().copied());
    incident.snapshots.push(record.hash.clone());
}

pub(crate) fn absorb_sighting(
    incident: &mut Incident,
    sighting: &Sighting,
    outcome: SightingOutcome,
) {
    if outcome == SightingOutcome::New {
        incident.sightings = incident.sightings.saturating_add(1);
    }
    incident.first_seen = incident.first_seen.min(sighting.fetched_at);
    incident.last_seen = incident.last_seen.max(sighting.fetched_at);
    if !incident.sources.contains(&sighting.source) {
        union(&mut incident.sources, [sighting.source.clone()]);
    }
}

/// Writes an incident and moves its index entries (time, severity, entities) from `before`.
pub(crate) fn put_incident(
    batch: &mut WriteBatch,
    cfs: &Cfs<'_>,
    incident: &Incident,
    before: Option<&Incident>,
) -> Result<(), StoreError> {
    if let Some(old) = before {
        batch.delete_cf(cfs.index, time_index(old.last_seen.0, old.id));
        batch.delete_cf(cfs.index, severity_index(old.severity as u8, old.id));
    }
    batch.put_cf(cfs.index, time_index(incident.last_seen.0, incident.id), []);
    batch.put_cf(
        cfs.index,
        severity_index(incident.severity as u8, incident.id),
        [],
    );
    for e in &incident.entities {
        batch.put_cf(cfs.index, entity_index(&e.id, incident.id), []);
    }
    let value = serde_json::to_vec(incident).map_err(|e| bad("incident", e))?;
    batch.put_cf(cfs.incidents, u64_key(incident.id), value);
    Ok(())
}

/// Filters for [`Store::incidents`].
#[derive(Debug, Clone, Default)]
pub struct IncidentFilter {
    /// Only incidents seen at or after this time.
    pub since: Option<Timestamp>,
    /// Only incidents naming this watchlist id.
    pub entity: Option<String>,
    /// Only incidents at or above this severity.
    pub min_severity: Option<Severity>,
}

impl Store {
    /// Incidents matching the filter, most recently seen first. Uses the entity index when an
    /// entity is given, the time index otherwise.
    pub fn incidents(&self, filter: &IncidentFilter) -> Result<Vec<Incident>, StoreError> {
        let cfs = self.cfs()?;
        let mut ids: Vec<u64> = Vec::new();
        if let Some(entity) = &filter.entity {
            let prefix = entity_prefix(entity);
            for (k, _) in self.prefix_scan(cfs.index, &prefix)? {
                ids.push(
                    k.get(prefix.len()..)
                        .and_then(read_u64)
                        .ok_or_else(|| bad("entity index", "short key"))?,
                );
            }
        } else {
            let from = time_index(filter.since.map_or(i64::MIN, |t| t.0), 0);
            for item in self
                .db
                .iterator_cf(cfs.index, IteratorMode::From(&from, Direction::Forward))
            {
                let (k, _) = item.map_err(io)?;
                if k.first() != Some(&IDX_TIME) {
                    break;
                }
                ids.push(
                    k.get(9..)
                        .and_then(read_u64)
                        .ok_or_else(|| bad("time index", "short key"))?,
                );
            }
        }
        let mut out = Vec::new();
        for id in ids {
            let Some(incident) = self.incident(id)? else {
                continue;
            };
            if filter.since.is_some_and(|s| incident.last_seen < s) {
                continue;
            }
            if filter.min_severity.is_some_and(|s| incident.severity < s) {
                continue;
            }
            out.push(incident);
        }
        out.sort_by(|a, b| b.last_seen.cmp(&a.last_seen).then(b.id.cmp(&a.id)));
        out.dedup_by_key(|i| i.id);
        Ok(out)
    }

    /// Every sighting of an incident's snapshots.
    pub fn incident_sightings(
        &self,
        incident: &Incident,
    ) -> Result<Vec<SightingRecord>, StoreError> {
        let mut out = Vec::new();
        for h in &incident.snapshots {
            let hash =
                crate::store::parse_hash(h).ok_or_else(|| bad("incident", "bad snapshot hash"))?;
            out.extend(self.sightings_of(&hash)?);
        }
        out.sort_by_key(|s| (s.first_seen, s.id));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_time_index_key_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let cfs = store.cfs().unwrap();
        // A time-index key cut short (a damaged or hand-edited store): 2 bytes, not 17.
        store.db.put_cf(cfs.index, [IDX_TIME, 0xff], []).unwrap();
        let err = store.incidents(&IncidentFilter::default()).unwrap_err();
        assert!(err.to_string().contains("short key"), "{err}");
    }
}

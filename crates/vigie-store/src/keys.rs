//! Key layouts. Integers are big-endian so that RocksDB's byte order is numeric order.

/// Store metadata: schema version, custody head, counters.
pub const CF_META: &str = "meta";
/// Original bytes by content hash.
pub const CF_SNAPSHOTS: &str = "snapshots";
/// Snapshot records (analysis, incident, purge time) by content hash.
pub const CF_FINDINGS: &str = "findings";
/// Sightings by content hash and sighting id.
pub const CF_SIGHTINGS: &str = "sightings";
/// Incidents by id.
pub const CF_INCIDENTS: &str = "incidents";
/// Secondary indexes (entity, time, severity, sighting identity, alert marks).
pub const CF_INDEX: &str = "index";
/// The LSH band index of near-duplicate detection (schema 2; in `index` before). Its own
/// family because it is most of the record path's writes and seeks: memtables hashed by band
/// prefix and prefix bloom filters make a band that no stored content shares cost a hash
/// lookup instead of a skip-list search and a seek in every table file.
pub const CF_BANDS: &str = "bands";
/// Length of the prefix the band family is hashed and filtered by: `L` ‖ band ‖ value.
pub const BAND_PREFIX_LEN: usize = 10;
/// Length of a band key: the prefix ‖ incident id ‖ content hash.
pub const BAND_KEY_LEN: usize = BAND_PREFIX_LEN + 8 + 32;
/// Collector cursors by source id.
pub const CF_CHECKPOINTS: &str = "checkpoints";
/// Chain of custody by sequence number.
pub const CF_CUSTODY: &str = "custody";
/// RFC 3161 tokens by custody sequence number.
pub const CF_TIMESTAMPS: &str = "timestamps";

/// Alerts decided (immutable records) by alert id.
pub const CF_ALERTS: &str = "alerts";
/// Delivery state of alerts: state byte ‖ alert id.
pub const CF_OUTBOX: &str = "outbox";
/// Analysts' triage of incidents by incident id.
pub const CF_TRIAGE: &str = "triage";

/// Every column family, in creation order.
pub const ALL_CFS: [&str; 13] = [
    CF_META,
    CF_SNAPSHOTS,
    CF_FINDINGS,
    CF_SIGHTINGS,
    CF_INCIDENTS,
    CF_INDEX,
    CF_CHECKPOINTS,
    CF_CUSTODY,
    CF_TIMESTAMPS,
    CF_ALERTS,
    CF_OUTBOX,
    CF_TRIAGE,
    CF_BANDS,
];

pub const META_SCHEMA: &[u8] = b"schema_version";
pub const META_HEAD: &[u8] = b"custody_head";
pub const META_NEXT_INCIDENT: &[u8] = b"next_incident";
pub const META_NEXT_SIGHTING: &[u8] = b"next_sighting";
pub const META_NEXT_ALERT: &[u8] = b"next_alert";

pub const IDX_ENTITY: u8 = b'E';
pub const IDX_TIME: u8 = b'T';
pub const IDX_SEVERITY: u8 = b'S';
pub const IDX_BAND: u8 = b'L';
pub const IDX_SIGHTING: u8 = b'K';
pub const IDX_ALERT_MARK: u8 = b'A';
pub const IDX_FALSE_POSITIVE: u8 = b'F';
pub const IDX_CANDIDATE: u8 = b'C';

pub fn u64_key(n: u64) -> [u8; 8] {
    n.to_be_bytes()
}

pub fn read_u64(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.get(..8)?.try_into().ok()?))
}

/// Time keys: milliseconds shifted so that negative times still sort first.
pub fn time_bytes(ms: i64) -> [u8; 8] {
    ((ms as u64) ^ (1 << 63)).to_be_bytes()
}

pub fn sighting_key(hash: &[u8; 32], id: u64) -> [u8; 40] {
    let mut k = [0u8; 40];
    k[..32].copy_from_slice(hash);
    k[32..].copy_from_slice(&id.to_be_bytes());
    k
}

pub fn entity_index(entity: &str, incident: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(entity.len() + 10);
    k.push(IDX_ENTITY);
    k.extend_from_slice(entity.as_bytes());
    k.push(0);
    k.extend_from_slice(&incident.to_be_bytes());
    k
}

pub fn entity_prefix(entity: &str) -> Vec<u8> {
    let mut k = vec![IDX_ENTITY];
    k.extend_from_slice(entity.as_bytes());
    k.push(0);
    k
}

pub fn time_index(last_seen: i64, incident: u64) -> [u8; 17] {
    let mut k = [0u8; 17];
    k[0] = IDX_TIME;
    k[1..9].copy_from_slice(&time_bytes(last_seen));
    k[9..].copy_from_slice(&incident.to_be_bytes());
    k
}

pub fn severity_index(severity: u8, incident: u64) -> [u8; 10] {
    let mut k = [0u8; 10];
    k[0] = IDX_SEVERITY;
    k[1] = severity;
    k[2..].copy_from_slice(&incident.to_be_bytes());
    k
}

pub fn band_prefix(band: usize, value: u64) -> [u8; BAND_PREFIX_LEN] {
    let mut k = [0u8; BAND_PREFIX_LEN];
    k[0] = IDX_BAND;
    k[1] = band as u8;
    k[2..].copy_from_slice(&value.to_be_bytes());
    k
}

pub fn band_index(
    band: usize,
    value: u64,
    incident: u64,
    snapshot: &[u8; 32],
) -> [u8; BAND_KEY_LEN] {
    let mut k = [0u8; BAND_KEY_LEN];
    k[..10].copy_from_slice(&band_prefix(band, value));
    k[10..18].copy_from_slice(&incident.to_be_bytes());
    k[18..].copy_from_slice(snapshot);
    k
}

pub fn sighting_identity(identity: &[u8; 32]) -> [u8; 33] {
    let mut k = [0u8; 33];
    k[0] = IDX_SIGHTING;
    k[1..].copy_from_slice(identity);
    k
}

pub fn alert_mark_prefix(incident: u64) -> [u8; 9] {
    let mut k = [0u8; 9];
    k[0] = IDX_ALERT_MARK;
    k[1..].copy_from_slice(&incident.to_be_bytes());
    k
}

pub fn alert_mark(incident: u64, recipient: &str) -> Vec<u8> {
    let mut k = alert_mark_prefix(incident).to_vec();
    k.extend_from_slice(recipient.as_bytes());
    k
}

pub fn false_positive_pattern(pattern: &str) -> Vec<u8> {
    let mut k = vec![IDX_FALSE_POSITIVE];
    k.extend_from_slice(pattern.as_bytes());
    k
}

pub fn outbox_key(state: u8, alert: u64) -> [u8; 9] {
    let mut k = [0u8; 9];
    k[0] = state;
    k[1..].copy_from_slice(&alert.to_be_bytes());
    k
}

pub fn candidate_key(kind: &str, name: &str) -> Vec<u8> {
    let mut k = vec![IDX_CANDIDATE];
    k.extend_from_slice(kind.as_bytes());
    k.push(0);
    k.extend_from_slice(name.as_bytes());
    k
}

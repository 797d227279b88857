//! Binary encodings of hot records. A binary value starts with its version byte; a JSON value
//! (every record written before them) starts with `{`, so old stores stay readable.
//!
//! Findings record, version 1: `0x01`, content hash (32 bytes), size u64 BE, first seen (ms)
//! i64 BE, a flags byte (1 `stored_at`, 2 `binary` known, 4 `binary`, 8 `incident`, 16
//! `purged_at`), the fields the flags announce in that order (stored_at i64, incident u64,
//! purged_at i64), the near-duplicate signature (64 × u32 BE), then the matcher's report as
//! JSON: its shape grows with the matcher, and JSON keeps every version readable.
//!
//! Custody entry, version 1: `0x01`, seq u64 BE, time (ms) i64 BE, then action, key, object,
//! prev and hash as strings. A string is `0x00` ‖ length u8 ‖ raw bytes when it is lowercase
//! hex (hashes, sighting keys: half the size, and no hex text to parse), else `0x01` ‖
//! length u32 BE ‖ UTF-8.

use serde::de::IntoDeserializer;
use serde::Deserialize;

use vigie_core::{Analysis, Signature, SIGNATURE_LEN};

use crate::error::{bad, StoreError};
use crate::model::{CustodyAction, CustodyEntry, SnapshotRecord, Timestamp};

const CUSTODY_V1: u8 = 1;
const FINDINGS_V1: u8 = 1;
const HAS_STORED_AT: u8 = 1;
const BINARY_KNOWN: u8 = 2;
const IS_BINARY: u8 = 4;
const HAS_INCIDENT: u8 = 8;
const HAS_PURGED_AT: u8 = 16;

/// Encodes a findings record (version 1).
pub(crate) fn encode_findings(r: &SnapshotRecord) -> Result<Vec<u8>, StoreError> {
    let hash = crate::store::parse_hash(&r.hash)
        .ok_or_else(|| bad("findings", "the content hash is not 64 hex digits"))?;
    let report = serde_json::to_vec(&r.analysis.report).map_err(|e| bad("findings", e))?;
    let mut out = Vec::with_capacity(90 + 4 * SIGNATURE_LEN + report.len());
    out.push(FINDINGS_V1);
    out.extend_from_slice(&hash);
    out.extend_from_slice(&r.size.to_be_bytes());
    out.extend_from_slice(&r.first_seen.0.to_be_bytes());
    let mut flags = 0;
    if r.stored_at.is_some() {
        flags |= HAS_STORED_AT;
    }
    match r.binary {
        Some(true) => flags |= BINARY_KNOWN | IS_BINARY,
        Some(false) => flags |= BINARY_KNOWN,
        None => {}
    }
    if r.incident.is_some() {
        flags |= HAS_INCIDENT;
    }
    if r.purged_at.is_some() {
        flags |= HAS_PURGED_AT;
    }
    out.push(flags);
    if let Some(t) = r.stored_at {
        out.extend_from_slice(&t.0.to_be_bytes());
    }
    if let Some(id) = r.incident {
        out.extend_from_slice(&id.to_be_bytes());
    }
    if let Some(t) = r.purged_at {
        out.extend_from_slice(&t.0.to_be_bytes());
    }
    for v in &r.analysis.signature.0 {
        out.extend_from_slice(&v.to_be_bytes());
    }
    out.extend_from_slice(&report);
    Ok(out)
}

/// Decodes a findings record, binary or JSON.
pub(crate) fn decode_findings(v: &[u8]) -> Result<SnapshotRecord, StoreError> {
    match v.first() {
        Some(b'{') => serde_json::from_slice(v).map_err(|e| bad("findings", e)),
        Some(&FINDINGS_V1) => {
            let mut r = Reader::new(v.get(1..).unwrap_or_default(), "findings");
            let hash = hex::encode(r.array::<32>()?);
            let size = u64::from_be_bytes(r.array()?);
            let first_seen = Timestamp(i64::from_be_bytes(r.array()?));
            let [flags] = r.array::<1>()?;
            if flags & !(HAS_STORED_AT | BINARY_KNOWN | IS_BINARY | HAS_INCIDENT | HAS_PURGED_AT)
                != 0
                || (flags & IS_BINARY != 0 && flags & BINARY_KNOWN == 0)
            {
                return Err(bad("findings", format!("unknown flags {flags:#04x}")));
            }
            let stored_at = (flags & HAS_STORED_AT != 0)
                .then(|| r.array().map(|b| Timestamp(i64::from_be_bytes(b))))
                .transpose()?;
            let incident = (flags & HAS_INCIDENT != 0)
                .then(|| r.array().map(u64::from_be_bytes))
                .transpose()?;
            let purged_at = (flags & HAS_PURGED_AT != 0)
                .then(|| r.array().map(|b| Timestamp(i64::from_be_bytes(b))))
                .transpose()?;
            let mut signature = [0u32; SIGNATURE_LEN];
            for value in signature.iter_mut() {
                *value = u32::from_be_bytes(r.array()?);
            }
            let report = serde_json::from_slice(r.rest()).map_err(|e| bad("findings", e))?;
            Ok(SnapshotRecord {
                hash,
                size,
                first_seen,
                stored_at,
                binary: (flags & BINARY_KNOWN != 0).then_some(flags & IS_BINARY != 0),
                analysis: Analysis {
                    report,
                    signature: Signature(signature),
                },
                incident,
                purged_at,
            })
        }
        Some(other) => Err(bad("findings", format!("unknown encoding {other:#04x}"))),
        None => Err(bad("findings", "empty value")),
    }
}
const HEX: u8 = 0;
const TEXT: u8 = 1;

/// Encodes a custody entry (version 1).
pub(crate) fn encode_custody(e: &CustodyEntry) -> Vec<u8> {
    let mut out = Vec::with_capacity(160 + e.key.len());
    out.push(CUSTODY_V1);
    out.extend_from_slice(&e.seq.to_be_bytes());
    out.extend_from_slice(&e.time.0.to_be_bytes());
    for s in [e.action.as_str(), &e.key, &e.object, &e.prev, &e.hash] {
        put_str(&mut out, s);
    }
    out
}

/// Decodes a custody entry, binary or JSON.
pub(crate) fn decode_custody(v: &[u8]) -> Result<CustodyEntry, StoreError> {
    match v.first() {
        Some(b'{') => serde_json::from_slice(v).map_err(|e| bad("custody", e)),
        Some(&CUSTODY_V1) => {
            let mut r = Reader::new(v.get(1..).unwrap_or_default(), "custody");
            let seq = u64::from_be_bytes(r.array()?);
            let time = Timestamp(i64::from_be_bytes(r.array()?));
            let action = r.string()?;
            let action = CustodyAction::deserialize(action.as_str().into_deserializer())
                .map_err(|e: serde::de::value::Error| bad("custody", e))?;
            let entry = CustodyEntry {
                seq,
                time,
                action,
                key: r.string()?,
                object: r.string()?,
                prev: r.string()?,
                hash: r.string()?,
            };
            if !r.rest().is_empty() {
                return Err(bad("custody", "trailing bytes"));
            }
            Ok(entry)
        }
        Some(other) => Err(bad("custody", format!("unknown encoding {other:#04x}"))),
        None => Err(bad("custody", "empty value")),
    }
}

fn is_lower_hex(s: &str) -> bool {
    s.len().is_multiple_of(2)
        && s.len() <= 2 * usize::from(u8::MAX)
        && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    if is_lower_hex(s) {
        // On the stack: two or more of these per recorded document.
        let mut raw = [0u8; u8::MAX as usize];
        let raw = &mut raw[..s.len() / 2];
        if hex::decode_to_slice(s, raw).is_ok() {
            out.push(HEX);
            out.push(raw.len() as u8);
            out.extend_from_slice(raw);
            return;
        }
    }
    out.push(TEXT);
    out.extend_from_slice(&(s.len() as u32).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// Reads a value front to back; running short is an error, never a panic.
struct Reader<'a> {
    rest: &'a [u8],
    /// The kind of record, for errors.
    what: &'static str,
}

impl<'a> Reader<'a> {
    fn new(value: &'a [u8], what: &'static str) -> Reader<'a> {
        Reader { rest: value, what }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], StoreError> {
        if self.rest.len() < n {
            return Err(bad(self.what, "value cut short"));
        }
        let (head, rest) = self.rest.split_at(n);
        self.rest = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], StoreError> {
        self.take(N)?
            .try_into()
            .map_err(|_| bad(self.what, "value cut short"))
    }

    /// What is left.
    fn rest(&self) -> &'a [u8] {
        self.rest
    }

    fn string(&mut self) -> Result<String, StoreError> {
        let [tag] = self.array::<1>()?;
        match tag {
            HEX => {
                let [n] = self.array::<1>()?;
                Ok(hex::encode(self.take(usize::from(n))?))
            }
            TEXT => {
                let n = u32::from_be_bytes(self.array()?) as usize;
                String::from_utf8(self.take(n)?.to_vec()).map_err(|e| bad(self.what, e))
            }
            other => Err(bad(self.what, format!("unknown string tag {other}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::GENESIS;

    fn entry(key: &str) -> CustodyEntry {
        let mut e = CustodyEntry {
            seq: 7,
            time: Timestamp(1_780_000_000_123),
            action: CustodyAction::SightingAdded,
            key: key.into(),
            object: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
            prev: GENESIS.into(),
            hash: String::new(),
        };
        e.hash = e.compute_hash();
        e
    }

    #[test]
    fn custody_entries_round_trip_and_shrink() {
        // A sighting key (hex), and keys that are not lowercase hex.
        for key in [
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a080000000000000001",
            "audit:12",
            "ABCDEF",
            "abc",
            "",
        ] {
            let e = entry(key);
            let v = encode_custody(&e);
            assert_eq!(v[0], CUSTODY_V1);
            assert_eq!(decode_custody(&v).unwrap(), e);
            assert!(v.len() < serde_json::to_vec(&e).unwrap().len() / 2 + 40);
        }
    }

    fn findings(
        stored_at: Option<i64>,
        binary: Option<bool>,
        incident: Option<u64>,
        purged_at: Option<i64>,
    ) -> SnapshotRecord {
        let report = vigie_core::Report {
            path: "forum/t/1".into(),
            entities: vec![],
            identifiers: Default::default(),
            sample: None,
            leak_offer: true,
            kind: Default::default(),
            cues: vec!["à vendre".into()],
            topics: vec![],
            severity: vigie_core::Severity::High,
            why: vec!["named: CHU — \"x\"".into()],
            bytes: 2048,
        };
        let mut signature = [0u32; SIGNATURE_LEN];
        for (i, v) in signature.iter_mut().enumerate() {
            *v = (i as u32).wrapping_mul(0x9e37_79b9);
        }
        SnapshotRecord {
            hash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
            size: 2048,
            first_seen: Timestamp(1_780_000_000_123),
            stored_at: stored_at.map(Timestamp),
            binary,
            analysis: Analysis {
                report,
                signature: Signature(signature),
            },
            incident,
            purged_at: purged_at.map(Timestamp),
        }
    }

    #[test]
    fn findings_records_round_trip_with_every_optional_field_and_shrink() {
        for stored_at in [None, Some(1_780_000_000_999)] {
            for binary in [None, Some(false), Some(true)] {
                for incident in [None, Some(0), Some(u64::MAX)] {
                    for purged_at in [None, Some(-5)] {
                        let r = findings(stored_at, binary, incident, purged_at);
                        let v = encode_findings(&r).unwrap();
                        assert_eq!(v[0], FINDINGS_V1);
                        assert_eq!(decode_findings(&v).unwrap(), r);
                        let json = serde_json::to_vec(&r).unwrap();
                        assert!(v.len() + 300 < json.len(), "{} vs {}", v.len(), json.len());
                    }
                }
            }
        }
    }

    #[test]
    fn json_findings_records_are_still_read() {
        let r = findings(None, None, Some(4), None);
        assert_eq!(
            decode_findings(&serde_json::to_vec(&r).unwrap()).unwrap(),
            r
        );
    }

    #[test]
    fn damaged_findings_records_are_errors() {
        let v = encode_findings(&findings(Some(1), Some(true), Some(2), Some(3))).unwrap();
        for cut in 0..v.len() {
            assert!(decode_findings(&v[..cut]).is_err(), "cut at {cut}");
        }
        let mut flags = v.clone();
        flags[1 + 32 + 16] |= 0x80;
        assert!(decode_findings(&flags).is_err());
        // "Binary" without "known".
        let mut flags = v.clone();
        flags[1 + 32 + 16] &= !BINARY_KNOWN;
        assert!(decode_findings(&flags).is_err());
        assert!(decode_findings(&[7, 1, 2]).is_err());
        let mut bad_hash = findings(None, None, None, None);
        bad_hash.hash = "not hex".into();
        assert!(encode_findings(&bad_hash).is_err());
    }

    #[test]
    fn json_custody_entries_are_still_read() {
        let e = entry("k");
        let json = serde_json::to_vec(&e).unwrap();
        assert_eq!(decode_custody(&json).unwrap(), e);
    }

    #[test]
    fn damaged_custody_values_are_errors() {
        let v = encode_custody(&entry("k"));
        for cut in 0..v.len() {
            assert!(decode_custody(&v[..cut]).is_err(), "cut at {cut}");
        }
        let mut extra = v.clone();
        extra.push(0);
        assert!(decode_custody(&extra).is_err());
        assert!(decode_custody(&[9, 1, 2]).is_err());
    }
}

//! Binary encodings of hot records. A binary value starts with its version byte; a JSON value
//! (every record written before them) starts with `{`, so old stores stay readable.
//!
//! Custody entry, version 1: `0x01`, seq u64 BE, time (ms) i64 BE, then action, key, object,
//! prev and hash as strings. A string is `0x00` ‖ length u8 ‖ raw bytes when it is lowercase
//! hex (hashes, sighting keys: half the size, and no hex text to parse), else `0x01` ‖
//! length u32 BE ‖ UTF-8.

use serde::de::IntoDeserializer;
use serde::Deserialize;

use crate::error::{bad, StoreError};
use crate::model::{CustodyAction, CustodyEntry, Timestamp};

const CUSTODY_V1: u8 = 1;
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
            let mut r = Reader(v.get(1..).unwrap_or_default());
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
            if !r.0.is_empty() {
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
        if let Ok(raw) = hex::decode(s) {
            out.push(HEX);
            out.push(raw.len() as u8);
            out.extend_from_slice(&raw);
            return;
        }
    }
    out.push(TEXT);
    out.extend_from_slice(&(s.len() as u32).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// Reads a value front to back; running short is an error, never a panic.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], StoreError> {
        if self.0.len() < n {
            return Err(bad("custody", "value cut short"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], StoreError> {
        self.take(N)?
            .try_into()
            .map_err(|_| bad("custody", "value cut short"))
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
                String::from_utf8(self.take(n)?.to_vec()).map_err(|e| bad("custody", e))
            }
            other => Err(bad("custody", format!("unknown string tag {other}"))),
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

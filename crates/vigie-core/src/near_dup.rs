use std::fmt;

use serde::{Deserialize, Serialize};

/// Number of MinHash values in a [`Signature`].
pub const SIGNATURE_LEN: usize = 64;
/// Values per LSH band: two documents become candidates when one band is equal.
pub const BAND_ROWS: usize = 4;
/// Number of LSH bands.
pub const BANDS: usize = SIGNATURE_LEN / BAND_ROWS;

/// A near-duplicate fingerprint of a document's normalised text: a one-permutation MinHash
/// over word 3-shingles (computed by the matcher, compared by the store).
///
/// The share of equal values estimates the Jaccard similarity of the two shingle sets.
/// Banding ([`Signature::bands`]: 16 bands of 4 values) finds candidates without comparing
/// against every stored document: a pair with Jaccard similarity 0.5 shares at least one band
/// with probability 1 − (1 − 0.5⁴)¹⁶ ≈ 0.64, at 0.7 with 0.98, at 0.9 with ≈ 1.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature(#[serde(with = "hex_values")] pub [u32; SIGNATURE_LEN]);

impl Signature {
    /// Estimated Jaccard similarity of the two documents' shingle sets, in `[0, 1]`.
    pub fn similarity(&self, other: &Signature) -> f64 {
        let equal = self
            .0
            .iter()
            .zip(other.0.iter())
            .filter(|(a, b)| a == b)
            .count();
        equal as f64 / SIGNATURE_LEN as f64
    }

    /// One 64-bit key per band (the band's number is mixed in, so equal keys mean the same
    /// band).
    pub fn bands(&self) -> [u64; BANDS] {
        let mut out = [0u64; BANDS];
        for (band, chunk) in self.0.chunks_exact(BAND_ROWS).enumerate() {
            let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ band as u64;
            for v in chunk {
                h = (h ^ u64::from(*v)).wrapping_mul(0x0100_0000_01b3);
                h ^= h >> 29;
            }
            out[band] = h;
        }
        out
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({:08x}…)", self.0[0])
    }
}

mod hex_values {
    use super::SIGNATURE_LEN;
    use serde::de::Error;
    use serde::{Deserialize, Deserializer, Serializer};

    // Written and read on every stored document: no formatting machinery and no allocation
    // per value (one string per signature).
    pub fn serialize<S: Serializer>(v: &[u32; SIGNATURE_LEN], s: S) -> Result<S::Ok, S::Error> {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; SIGNATURE_LEN * 8];
        for (x, chunk) in v.iter().zip(out.chunks_exact_mut(8)) {
            for (i, digit) in chunk.iter_mut().enumerate() {
                *digit = DIGITS[((x >> (28 - 4 * i)) & 0xf) as usize];
            }
        }
        // Only ASCII digits were written.
        s.serialize_str(std::str::from_utf8(&out).map_err(serde::ser::Error::custom)?)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u32; SIGNATURE_LEN], D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        let bytes = s.as_bytes();
        if bytes.len() != SIGNATURE_LEN * 8 {
            return Err(D::Error::custom("a signature is 512 hex digits"));
        }
        let mut out = [0u32; SIGNATURE_LEN];
        for (v, chunk) in out.iter_mut().zip(bytes.chunks_exact(8)) {
            for &b in chunk {
                let digit = match b {
                    b'0'..=b'9' => b - b'0',
                    b'a'..=b'f' => b - b'a' + 10,
                    b'A'..=b'F' => b - b'A' + 10,
                    _ => return Err(D::Error::custom("a signature is 512 hex digits")),
                };
                *v = (*v << 4) | u32::from(digit);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similarity_counts_equal_values() {
        let a = Signature([7; SIGNATURE_LEN]);
        let mut b = a.clone();
        for v in b.0.iter_mut().take(16) {
            *v = 1;
        }
        assert_eq!(a.similarity(&a), 1.0);
        assert_eq!(a.similarity(&b), 0.75);
        // The first 4 bands differ, the other 12 are equal.
        let (ba, bb) = (a.bands(), b.bands());
        assert_eq!(ba.iter().zip(bb.iter()).filter(|(x, y)| x == y).count(), 12);
    }

    #[test]
    fn bands_differ_by_position() {
        let a = Signature([7; SIGNATURE_LEN]);
        let bands = a.bands();
        assert_ne!(bands[0], bands[1]);
    }

    #[test]
    fn serde_round_trip_and_bad_input() {
        let mut a = Signature([0; SIGNATURE_LEN]);
        a.0[3] = 0xdead_beef;
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(json.len(), 512 + 2);
        assert!(json.contains("deadbeef"));
        let back: Signature = serde_json::from_str(&json).unwrap();
        assert_eq!(back, a);
        assert!(serde_json::from_str::<Signature>("\"abc\"").is_err());
        // Every digit position and value, against the standard library's formatting.
        let mut b = Signature([0; SIGNATURE_LEN]);
        for (i, v) in b.0.iter_mut().enumerate() {
            *v = (i as u32).wrapping_mul(0x9e37_79b9) ^ 0x0123_4567;
        }
        b.0[0] = u32::MAX;
        let expected: String = b.0.iter().map(|x| format!("{x:08x}")).collect();
        assert_eq!(
            serde_json::to_string(&b).unwrap(),
            format!("\"{expected}\"")
        );
        let upper: Signature =
            serde_json::from_str(&format!("\"{}\"", expected.to_uppercase())).unwrap();
        assert_eq!(upper, b);
        let bad = format!("\"{}\"", "zz".repeat(256));
        assert!(serde_json::from_str::<Signature>(&bad).is_err());
    }
}

/// What the matcher says about one document, as the store records it: the report and the
/// near-duplicate signature of its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Analysis {
    /// The matcher's report (identifier examples masked).
    pub report: crate::Report,
    /// The near-duplicate fingerprint of the document's text.
    pub signature: Signature,
}

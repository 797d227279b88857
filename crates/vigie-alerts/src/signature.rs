//! Webhook signatures: `Vigie-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` where the
//! HMAC, keyed with the recipient's secret, covers `<t>.<body>` (the timestamp, a dot, then
//! the raw body bytes). A receiver recomputes it, compares in constant time, and refuses a
//! timestamp older than a few minutes (a replayed request). See the README for a receiver.
// Reads headers from outside: no arithmetic or slicing may panic.
#![deny(clippy::arithmetic_side_effects, clippy::indexing_slicing)]

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The signature header.
pub const SIGNATURE_HEADER: &str = "Vigie-Signature";

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length: `new_from_slice` cannot fail for it.
    let mut m = HmacSha256::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    m.update(timestamp.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    m
}

/// The header value for `body` sent at `timestamp` (Unix seconds).
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let tag = mac(secret, timestamp, body).finalize().into_bytes();
    format!("t={timestamp},v1={}", hex::encode(tag))
}

/// Why a signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The header is not `t=...,v1=...`.
    #[error("malformed signature header")]
    Malformed,
    /// The timestamp is outside the tolerance (a replay, or a wrong clock).
    #[error("signature timestamp outside the accepted window")]
    Stale,
    /// The HMAC does not match.
    #[error("signature mismatch")]
    Mismatch,
}

/// Checks a `Vigie-Signature` header against `body`, accepting timestamps within
/// `tolerance_secs` of `now` (Unix seconds).
pub fn verify(
    secret: &[u8],
    header: &str,
    body: &[u8],
    now: i64,
    tolerance_secs: i64,
) -> Result<(), SignatureError> {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => v1 = hex::decode(v).ok(),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return Err(SignatureError::Malformed);
    };
    // `t` is the sender's: `now - t` could overflow, the unsigned distance cannot.
    if now.abs_diff(t) > tolerance_secs.unsigned_abs() {
        return Err(SignatureError::Stale);
    }
    mac(secret, t, body)
        .verify_slice(&v1)
        .map_err(|_| SignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_round_trip_and_catch_tampering() {
        let h = sign(b"secret-secret-secret", 1_700_000_000, b"{\"a\":1}");
        assert!(h.starts_with("t=1700000000,v1="));
        assert_eq!(
            verify(
                b"secret-secret-secret",
                &h,
                b"{\"a\":1}",
                1_700_000_100,
                300
            ),
            Ok(())
        );
        assert_eq!(
            verify(
                b"secret-secret-secret",
                &h,
                b"{\"a\":2}",
                1_700_000_100,
                300
            ),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(
                b"other-secret-secret!",
                &h,
                b"{\"a\":1}",
                1_700_000_100,
                300
            ),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(
                b"secret-secret-secret",
                &h,
                b"{\"a\":1}",
                1_700_001_000,
                300
            ),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify(b"k", "v1=zz", b"", 0, 300),
            Err(SignatureError::Malformed)
        );
    }

    #[test]
    fn extreme_timestamps_are_stale_not_a_panic() {
        for t in [i64::MIN, i64::MAX] {
            let h = sign(b"secret-secret-secret", t, b"{}");
            assert_eq!(
                verify(b"secret-secret-secret", &h, b"{}", 1_700_000_000, 300),
                Err(SignatureError::Stale),
                "t={t}"
            );
        }
        assert_eq!(
            verify(
                b"k",
                "t=-9223372036854775808,v1=00",
                b"",
                i64::MAX,
                i64::MAX
            ),
            Err(SignatureError::Stale)
        );
    }

    #[test]
    fn matches_a_published_hmac_vector() {
        // RFC 4231 test case 2 (key "Jefe"): the primitive under `sign` is standard HMAC.
        let mut m = HmacSha256::new_from_slice(b"Jefe").unwrap();
        m.update(b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(m.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}

//! v3 onion addresses: found in text, checksum validated (a mistyped or invented address is
//! not a candidate source).

use std::sync::OnceLock;

use regex::Regex;
use sha3::{Digest, Sha3_256};

/// A valid v3 onion host name (`<56 base32 chars>.onion`, lowercase).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OnionAddress(String);

impl OnionAddress {
    /// Parses a host (any case, with or without subdomain labels); None unless the checksum
    /// and version byte are right.
    pub fn parse(host: &str) -> Option<OnionAddress> {
        let host = host.to_ascii_lowercase();
        let stem = host.strip_suffix(".onion")?;
        let label = stem.rsplit('.').next()?;
        if label.len() != 56 {
            return None;
        }
        let raw = data_encoding::BASE32_NOPAD
            .decode(label.to_ascii_uppercase().as_bytes())
            .ok()?;
        let (key, rest) = raw.split_at(32);
        let (checksum, version) = (&rest[..2], rest[2]);
        if version != 3 {
            return None;
        }
        let mut h = Sha3_256::new();
        h.update(b".onion checksum");
        h.update(key);
        h.update([version]);
        let digest = h.finalize();
        (digest[..2] == *checksum).then(|| OnionAddress(format!("{label}.onion")))
    }

    /// Builds the address of an ed25519 public key (tests and the lab use it).
    pub fn from_public_key(key: &[u8; 32]) -> OnionAddress {
        let mut h = Sha3_256::new();
        h.update(b".onion checksum");
        h.update(key);
        h.update([3u8]);
        let digest = h.finalize();
        let mut raw = key.to_vec();
        raw.extend_from_slice(&digest[..2]);
        raw.push(3);
        OnionAddress(format!(
            "{}.onion",
            data_encoding::BASE32_NOPAD
                .encode(&raw)
                .to_ascii_lowercase()
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for OnionAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Every distinct valid v3 onion address in `text`, in order of first appearance.
pub fn find_onions(text: &str) -> Vec<OnionAddress> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    let Some(re) = RE
        .get_or_init(|| Regex::new(r"(?i)\b[a-z2-7]{56}\.onion\b").ok())
        .as_ref()
    else {
        return Vec::new();
    };
    let mut seen = std::collections::HashSet::new();
    re.find_iter(text)
        .filter_map(|m| OnionAddress::parse(m.as_str()))
        .filter(|a| seen.insert(a.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_address_validates_and_a_typo_does_not() {
        // The Tor Project's own onion service.
        let good = "2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion";
        assert!(OnionAddress::parse(good).is_some());
        assert!(OnionAddress::parse(&good.to_uppercase()).is_some());
        let typo = good.replacen('2', "3", 1);
        assert!(OnionAddress::parse(&typo).is_none());
        assert!(OnionAddress::parse("facebookcorewwwi.onion").is_none());
        assert!(OnionAddress::parse(&format!("www.{good}")).is_some());
    }

    #[test]
    fn finds_addresses_in_prose_once() {
        let a = OnionAddress::from_public_key(&[7; 32]);
        let b = OnionAddress::from_public_key(&[9; 32]);
        let text = format!(
            "new mirror: http://{a}/forum and {b} (old {a}); fake: {}.onion",
            "a".repeat(56)
        );
        assert_eq!(find_onions(&text), vec![a, b]);
    }
}

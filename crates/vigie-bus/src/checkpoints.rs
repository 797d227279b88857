//! Remote collectors' checkpoints in a JetStream key-value bucket.

use async_nats::jetstream::kv;
use bytes::Bytes;

use std::time::Instant;

use crate::bus::Bus;
use crate::error::{BusError, Denials};

/// Checkpoints (opaque bytes under a string key) in the bucket named by
/// `checkpoint_bucket`, replicated like the stream. One value per key (history 1): a put
/// replaces the previous checkpoint.
///
/// Keys are mapped to NATS key-value keys by [`kv_key`]; callers use their own keys.
///
/// A collector moves its checkpoint only after [`crate::BufferedPublisher::flush`] returned
/// `Ok` for the events the checkpoint covers: until then they may still be in the buffer, and
/// a collector that dies would skip them on restart.
#[derive(Clone)]
pub struct KvCheckpoints {
    store: kv::Store,
    denials: Denials,
}

impl std::fmt::Debug for KvCheckpoints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KvCheckpoints")
            .field("bucket", &self.store.name)
            .finish()
    }
}

/// The NATS key for a checkpoint key. NATS keys allow `[-/_=.A-Za-z0-9]` and no leading or
/// trailing dot; Vigie's keys (source ids, onion addresses, channel names, any UTF-8) are
/// mapped one-to-one: ASCII letters, digits, `-` and `_` stay, every other byte becomes `=`
/// and two upper-case hex digits (`.` → `=2E`, `=` → `=3D`, `é` → `=C3=A9`). Distinct keys
/// give distinct NATS keys. The empty key is refused.
pub fn kv_key(key: &str) -> Result<String, BusError> {
    if key.is_empty() {
        return Err(BusError::Invalid {
            what: "checkpoint key",
            detail: "empty".to_string(),
        });
    }
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
            out.push(char::from(b));
        } else {
            out.push('=');
            out.push_str(&format!("{b:02X}"));
        }
    }
    Ok(out)
}

impl Bus {
    /// The checkpoint bucket (created at connect).
    pub async fn checkpoints(&self) -> Result<KvCheckpoints, BusError> {
        let since = Instant::now();
        Ok(KvCheckpoints {
            store: self
                .bucket()
                .await
                .map_err(|e| self.denials.refine(e, since))?,
            denials: self.denials.clone(),
        })
    }
}

impl KvCheckpoints {
    /// The checkpoint stored under `key`, if any.
    pub async fn get(&self, key: &str) -> Result<Option<Bytes>, BusError> {
        let k = kv_key(key)?;
        let since = Instant::now();
        let refine = |e| self.denials.refine(e, since);
        self.store
            .get(k)
            .await
            .map_err(|e| {
                use async_nats::jetstream::kv::EntryErrorKind as K;
                match e.kind() {
                    K::TimedOut => BusError::Timeout(format!("checkpoint get: {e}")),
                    K::InvalidKey => BusError::Invalid {
                        what: "checkpoint key",
                        detail: e.to_string(),
                    },
                    K::Other => BusError::Unavailable(format!("checkpoint get: {e}")),
                }
            })
            .map_err(refine)
    }

    /// Stores `value` under `key` and waits for the server to keep it; returns the bucket's
    /// revision for it.
    pub async fn put(&self, key: &str, value: Bytes) -> Result<u64, BusError> {
        let k = kv_key(key)?;
        let since = Instant::now();
        let refine = |e| self.denials.refine(e, since);
        self.store
            .put(k, value)
            .await
            .map_err(|e| {
                use async_nats::jetstream::kv::PutErrorKind as K;
                match e.kind() {
                    K::InvalidKey => BusError::Invalid {
                        what: "checkpoint key",
                        detail: e.to_string(),
                    },
                    K::Publish | K::Ack => BusError::Unavailable(format!("checkpoint put: {e}")),
                }
            })
            .map_err(refine)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_map_to_nats_key_alphabet() {
        assert_eq!(kv_key("tor-forum_1").unwrap(), "tor-forum_1");
        assert_eq!(kv_key("abc.onion/f").unwrap(), "abc=2Eonion=2Ff");
        assert_eq!(kv_key("a=b").unwrap(), "a=3Db");
        assert_eq!(kv_key(".x.").unwrap(), "=2Ex=2E");
        assert_eq!(kv_key("é").unwrap(), "=C3=A9");
        assert_eq!(kv_key("a b:c").unwrap(), "a=20b=3Ac");
        assert!(kv_key("").is_err());
    }

    #[test]
    fn mapping_is_one_to_one() {
        // '=' is always escaped, so a literal "=2E" cannot collide with an escaped '.'.
        assert_ne!(kv_key("=2E").unwrap(), kv_key(".").unwrap());
        assert_ne!(kv_key("a.b").unwrap(), kv_key("a/b").unwrap());
    }
}

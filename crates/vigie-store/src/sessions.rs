//! Console sessions: a random 256-bit token in the browser's cookie, its SHA-256 in the
//! store (a copy of the store does not hold usable cookies), an expiry, and the session's
//! CSRF token.
//!
//! Records live in the `index` column family under `0xC0 's'` ‖ SHA-256(token).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{bad, io, StoreError};
use crate::model::Timestamp;
use crate::store::Store;
use crate::users::{Role, CONSOLE_PREFIX};

const SESSION_TAG: u8 = b's';

/// A signed-in console session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The user.
    pub user: String,
    /// Their role when they signed in.
    pub role: Role,
    /// The token every POST of this session must carry (hex, 256 bits).
    pub csrf: String,
    /// When the session started.
    pub created_at: Timestamp,
    /// When it stops being accepted.
    pub expires_at: Timestamp,
}

fn session_key(token: &str) -> Vec<u8> {
    let mut k = vec![CONSOLE_PREFIX, SESSION_TAG];
    k.extend_from_slice(&Sha256::digest(token.as_bytes()));
    k
}

/// 256 random bits, hex.
pub fn random_token() -> Result<String, StoreError> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).map_err(|e| StoreError::Io(format!("random: {e}")))?;
    Ok(hex::encode(bytes))
}

impl Store {
    /// Starts a session for `user` lasting `ttl_ms` from `now`; returns the cookie token
    /// (only its hash is stored) and the session.
    pub fn create_session(
        &mut self,
        user: &str,
        role: Role,
        now: Timestamp,
        ttl_ms: i64,
    ) -> Result<(String, Session), StoreError> {
        self.ensure_writable()?;
        let token = random_token()?;
        let session = Session {
            user: user.to_string(),
            role,
            csrf: random_token()?,
            created_at: now,
            expires_at: Timestamp(now.0.saturating_add(ttl_ms)),
        };
        let v = serde_json::to_vec(&session).map_err(|e| bad("session", e))?;
        self.db
            .put_cf(self.console_cf()?, session_key(&token), v)
            .map_err(io)?;
        Ok((token, session))
    }

    /// The session of a cookie token, if it exists and has not expired at `now` (an expired
    /// one is deleted).
    pub fn session(&self, token: &str, now: Timestamp) -> Result<Option<Session>, StoreError> {
        // Tokens are 64 hex digits: anything else is not worth a lookup.
        if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let cf = self.console_cf()?;
        let key = session_key(token);
        let Some(v) = self.db.get_cf(cf, &key).map_err(io)? else {
            return Ok(None);
        };
        let session: Session = serde_json::from_slice(&v).map_err(|e| bad("session", e))?;
        if now >= session.expires_at {
            if !self.is_read_only() {
                self.db.delete_cf(cf, &key).map_err(io)?;
            }
            return Ok(None);
        }
        Ok(Some(session))
    }

    /// Ends a session (logout).
    pub fn delete_session(&mut self, token: &str) -> Result<(), StoreError> {
        self.ensure_writable()?;
        self.db
            .delete_cf(self.console_cf()?, session_key(token))
            .map_err(io)
    }

    /// Deletes every session expired at `now`; returns how many.
    pub fn purge_sessions(&mut self, now: Timestamp) -> Result<u64, StoreError> {
        self.ensure_writable()?;
        let cf = self.console_cf()?;
        let mut dead = Vec::new();
        for (k, v) in self.prefix_scan(cf, &[CONSOLE_PREFIX, SESSION_TAG])? {
            let expired =
                serde_json::from_slice::<Session>(&v).map_or(true, |s| now >= s.expires_at);
            if expired {
                dead.push(k);
            }
        }
        for k in &dead {
            self.db.delete_cf(cf, k).map_err(io)?;
        }
        Ok(dead.len() as u64)
    }

    /// Whether the store was opened read-only.
    pub fn is_read_only(&self) -> bool {
        self.ensure_writable().is_err()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rocksdb::IteratorMode;

    #[test]
    fn sessions_expire_and_are_stored_hashed() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let t = Timestamp(10_000);
        let (token, s) = store.create_session("ana", Role::Viewer, t, 1000).unwrap();
        assert_eq!(token.len(), 64);
        assert_ne!(s.csrf, token);
        assert_eq!(store.session(&token, Timestamp(10_999)).unwrap(), Some(s));
        // The raw token is nowhere in the database.
        let cf = store.console_cf().unwrap();
        for item in store.db.iterator_cf(cf, IteratorMode::Start) {
            let (k, v) = item.unwrap();
            assert!(!k.windows(64).any(|w| w == token.as_bytes()));
            assert!(!v.windows(64).any(|w| w == token.as_bytes()));
        }
        assert_eq!(store.session(&token, Timestamp(11_000)).unwrap(), None);
        assert_eq!(store.session("zz", t).unwrap(), None);
        let (other, _) = store.create_session("bo", Role::Admin, t, 10).unwrap();
        let (kept, _) = store.create_session("bo", Role::Admin, t, 100_000).unwrap();
        assert_eq!(store.purge_sessions(Timestamp(20_000)).unwrap(), 1);
        assert!(store.session(&other, t).unwrap().is_none());
        assert!(store.session(&kept, t).unwrap().is_some());
        store.delete_session(&kept).unwrap();
        assert!(store.session(&kept, t).unwrap().is_none());
    }
}

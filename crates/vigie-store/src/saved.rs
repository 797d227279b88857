//! Saved searches of the console: each user's named incident-list queries.
//!
//! Stored in the `index` column family under `0xC0 'q'` ‖ user ‖ `0x00` ‖ name, the value a
//! JSON [`SavedSearch`]. The query is the list's query string, kept as the user saved it;
//! the console checks it again when it runs it.

use serde::{Deserialize, Serialize};

use crate::error::{bad, io, StoreError};
use crate::model::Timestamp;
use crate::store::Store;
use crate::users::CONSOLE_PREFIX;

const SAVED_TAG: u8 = b'q';
/// Saved searches a user may keep.
pub const MAX_SAVED_PER_USER: usize = 50;
/// Characters of a saved search's name, at most.
pub const MAX_SAVED_NAME: usize = 80;
/// Bytes of a saved query string, at most.
pub const MAX_SAVED_QUERY: usize = 2048;

/// One saved search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedSearch {
    /// Its name, as the user typed it.
    pub name: String,
    /// The incident list's query string (`severity=high&org=weda`).
    pub query: String,
    /// When it was saved (or saved again).
    pub saved_at: Timestamp,
}

/// Why a search was not saved.
#[derive(Debug, thiserror::Error)]
pub enum SavedSearchError {
    /// Empty or too long name, or a control character in it.
    #[error(
        "a saved search's name is 1 to {MAX_SAVED_NAME} characters, without control characters"
    )]
    BadName,
    /// Query string too long.
    #[error("a saved query is at most {MAX_SAVED_QUERY} bytes")]
    QueryTooLong,
    /// The user has too many already.
    #[error("at most {MAX_SAVED_PER_USER} saved searches per user: delete one first")]
    TooMany,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn user_prefix(user: &str) -> Vec<u8> {
    let mut k = vec![CONSOLE_PREFIX, SAVED_TAG];
    k.extend_from_slice(user.as_bytes());
    k.push(0);
    k
}

fn key(user: &str, name: &str) -> Vec<u8> {
    let mut k = user_prefix(user);
    k.extend_from_slice(name.as_bytes());
    k
}

impl Store {
    /// Saves (or replaces) `user`'s search `name`.
    pub fn save_search(
        &mut self,
        user: &str,
        name: &str,
        query: &str,
        now: Timestamp,
    ) -> Result<(), SavedSearchError> {
        self.ensure_writable()?;
        let name = name.trim();
        if name.is_empty()
            || name.chars().count() > MAX_SAVED_NAME
            || name.chars().any(char::is_control)
        {
            return Err(SavedSearchError::BadName);
        }
        if query.len() > MAX_SAVED_QUERY {
            return Err(SavedSearchError::QueryTooLong);
        }
        let existing = self.saved_searches(user)?;
        if existing.len() >= MAX_SAVED_PER_USER && !existing.iter().any(|s| s.name == name) {
            return Err(SavedSearchError::TooMany);
        }
        let saved = SavedSearch {
            name: name.to_string(),
            query: query.to_string(),
            saved_at: now,
        };
        let value = serde_json::to_vec(&saved).map_err(|e| bad("saved search", e))?;
        let cf = self.console_cf()?;
        self.db.put_cf(cf, key(user, name), value).map_err(io)?;
        Ok(())
    }

    /// `user`'s saved searches, by name.
    pub fn saved_searches(&self, user: &str) -> Result<Vec<SavedSearch>, StoreError> {
        let cf = self.console_cf()?;
        self.prefix_scan(cf, &user_prefix(user))?
            .into_iter()
            .map(|(_, v)| serde_json::from_slice(&v).map_err(|e| bad("saved search", e)))
            .collect()
    }

    /// Deletes `user`'s search `name`; whether there was one.
    pub fn delete_saved_search(&mut self, user: &str, name: &str) -> Result<bool, StoreError> {
        self.ensure_writable()?;
        let cf = self.console_cf()?;
        let k = key(user, name.trim());
        let existed = self.db.get_cf(cf, &k).map_err(io)?.is_some();
        self.db.delete_cf(cf, k).map_err(io)?;
        Ok(existed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn searches_are_per_user_replaced_by_name_bounded_and_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let t = Timestamp(1_700_000_000_000);
        store
            .save_search("ana", "Weda critical", "severity=critical&org=weda", t)
            .unwrap();
        store
            .save_search("ana", "Labs", "org=cerballiance", t)
            .unwrap();
        // "ana" is a prefix of "anabelle": her searches stay hers.
        store
            .save_search("anabelle", "Mine", "q=escrow", t)
            .unwrap();
        store
            .save_search(
                "ana",
                "Weda critical",
                "severity=high&org=weda",
                Timestamp(t.0 + 1),
            )
            .unwrap();
        let ana = store.saved_searches("ana").unwrap();
        let names: Vec<_> = ana
            .iter()
            .map(|s| (s.name.as_str(), s.query.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("Labs", "org=cerballiance"),
                ("Weda critical", "severity=high&org=weda")
            ]
        );
        assert_eq!(store.saved_searches("anabelle").unwrap().len(), 1);
        assert!(store.saved_searches("vic").unwrap().is_empty());

        assert!(matches!(
            store.save_search("ana", "  ", "q=x", t),
            Err(SavedSearchError::BadName)
        ));
        assert!(matches!(
            store.save_search("ana", "a\nb", "q=x", t),
            Err(SavedSearchError::BadName)
        ));
        assert!(matches!(
            store.save_search("ana", "long", &"q".repeat(MAX_SAVED_QUERY + 1), t),
            Err(SavedSearchError::QueryTooLong)
        ));
        for n in 0..MAX_SAVED_PER_USER - 2 {
            store
                .save_search("ana", &format!("s{n}"), "q=x", t)
                .unwrap();
        }
        assert!(matches!(
            store.save_search("ana", "one more", "q=x", t),
            Err(SavedSearchError::TooMany)
        ));
        // Replacing one that exists is still allowed at the limit.
        store.save_search("ana", "Labs", "org=biogroup", t).unwrap();

        assert!(store.delete_saved_search("ana", "Labs").unwrap());
        assert!(!store.delete_saved_search("ana", "Labs").unwrap());
        assert_eq!(
            store.saved_searches("ana").unwrap().len(),
            MAX_SAVED_PER_USER - 1
        );
    }
}

//! Console accounts: local users with argon2id password hashes, a role, and a lock-out after
//! repeated failed logins.
//!
//! Accounts live in the `index` column family under the prefix `0xC0 'u'` followed by the
//! user name (no new column family: the store's open path stays as it is). A password is
//! never stored, only its PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`).

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use serde::{Deserialize, Serialize};

use crate::error::{bad, io, StoreError};
use crate::keys::CF_INDEX;
use crate::model::Timestamp;
use crate::store::Store;

/// Key prefix of console records in the `index` column family (users, sessions, audit).
pub(crate) const CONSOLE_PREFIX: u8 = 0xC0;
const USER_TAG: u8 = b'u';

/// Failed logins in a row that lock an account.
pub const MAX_FAILURES: u32 = 5;
/// How long a locked account stays locked.
pub const LOCKOUT_MS: i64 = 15 * 60 * 1000;
/// Longest accepted user name.
pub const MAX_NAME_LEN: usize = 64;
/// Shortest accepted password.
pub const MIN_PASSWORD_LEN: usize = 12;
/// Longest accepted password (argon2 hashes any length; this bounds the work per attempt).
pub const MAX_PASSWORD_LEN: usize = 1024;

/// What a console user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads incidents, masked identifiers only; changes nothing.
    Viewer,
    /// Triages incidents and reveals raw identifiers (with a typed reason).
    Analyst,
    /// What an analyst does, plus redelivery and user management.
    Admin,
}

impl Role {
    /// The snake-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Analyst => "analyst",
            Role::Admin => "admin",
        }
    }

    /// Parses `admin`, `analyst` or `viewer`.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "viewer" => Some(Role::Viewer),
            "analyst" => Some(Role::Analyst),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    /// Whether the role may change incidents and see raw identifiers.
    pub fn can_triage(self) -> bool {
        self >= Role::Analyst
    }
}

/// A console account as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Login name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Failed logins since the last success.
    pub failures: u32,
    /// Set while the account is locked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locked_until: Option<Timestamp>,
    /// When the account was created.
    pub created_at: Timestamp,
    /// Last successful login.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_login: Option<Timestamp>,
}

/// The result of a login attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginOutcome {
    /// Name and password match.
    Ok(User),
    /// Unknown name or wrong password (the caller must not say which).
    Refused,
    /// Too many failures: locked until then (the password was not checked).
    Locked(Timestamp),
}

/// Why a user could not be added.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// The name is empty, too long or holds characters other than letters, digits, `.-_@`.
    #[error("user names are 1 to {MAX_NAME_LEN} letters, digits or . - _ @")]
    BadName,
    /// Password too short or too long.
    #[error("passwords are {MIN_PASSWORD_LEN} to {MAX_PASSWORD_LEN} bytes")]
    BadPassword,
    /// Hashing failed.
    #[error("password hashing failed: {0}")]
    Hash(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn user_key(name: &str) -> Vec<u8> {
    let mut k = vec![CONSOLE_PREFIX, USER_TAG];
    k.extend_from_slice(name.as_bytes());
    k
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@'))
}

/// Hashes a password with argon2id and a random salt (the crate's default cost: 19 MiB, two
/// passes, OWASP's recommendation).
pub fn hash_password(password: &str) -> Result<String, UserError> {
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt).map_err(|e| UserError::Hash(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| UserError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| UserError::Hash(e.to_string()))
}

fn password_matches(hash: &str, password: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

impl Store {
    /// Adds a user, or replaces the password and role of an existing one (and unlocks it).
    /// Returns whether the user already existed.
    pub fn put_user(&mut self, name: &str, role: Role, password: &str) -> Result<bool, UserError> {
        self.ensure_writable()?;
        if !valid_name(name) {
            return Err(UserError::BadName);
        }
        if password.len() < MIN_PASSWORD_LEN || password.len() > MAX_PASSWORD_LEN {
            return Err(UserError::BadPassword);
        }
        let existing = self.user(name)?;
        let user = User {
            name: name.to_string(),
            role,
            password_hash: hash_password(password)?,
            failures: 0,
            locked_until: None,
            created_at: existing
                .as_ref()
                .map_or_else(Timestamp::now, |u| u.created_at),
            last_login: existing.as_ref().and_then(|u| u.last_login),
        };
        self.write_user(&user)?;
        Ok(existing.is_some())
    }

    /// One user.
    pub fn user(&self, name: &str) -> Result<Option<User>, StoreError> {
        let cf = self.console_cf()?;
        match self.db.get_cf(cf, user_key(name)).map_err(io)? {
            Some(v) => Ok(Some(
                serde_json::from_slice(&v).map_err(|e| bad("user", e))?,
            )),
            None => Ok(None),
        }
    }

    /// Every user, by name.
    pub fn users(&self) -> Result<Vec<User>, StoreError> {
        let cf = self.console_cf()?;
        self.prefix_scan(cf, &[CONSOLE_PREFIX, USER_TAG])?
            .into_iter()
            .map(|(_, v)| serde_json::from_slice(&v).map_err(|e| bad("user", e)))
            .collect()
    }

    /// Checks a login at `now`: counts failures, locks the account after [`MAX_FAILURES`] in
    /// a row for [`LOCKOUT_MS`], and resets the count on success. An unknown name costs a
    /// hash too, so timing does not tell which names exist.
    pub fn check_login(
        &mut self,
        name: &str,
        password: &str,
        now: Timestamp,
    ) -> Result<LoginOutcome, StoreError> {
        self.ensure_writable()?;
        if password.len() > MAX_PASSWORD_LEN || !valid_name(name) {
            return Ok(LoginOutcome::Refused);
        }
        let Some(mut user) = self.user(name)? else {
            // Same work as a wrong password.
            let _ = hash_password(password);
            return Ok(LoginOutcome::Refused);
        };
        if let Some(until) = user.locked_until {
            if now < until {
                return Ok(LoginOutcome::Locked(until));
            }
            user.locked_until = None;
            user.failures = 0;
        }
        if password_matches(&user.password_hash, password) {
            user.failures = 0;
            user.last_login = Some(now);
            self.write_user(&user)?;
            return Ok(LoginOutcome::Ok(user));
        }
        user.failures = user.failures.saturating_add(1);
        if user.failures >= MAX_FAILURES {
            user.locked_until = Some(Timestamp(now.0.saturating_add(LOCKOUT_MS)));
        }
        self.write_user(&user)?;
        Ok(match user.locked_until {
            Some(until) => LoginOutcome::Locked(until),
            None => LoginOutcome::Refused,
        })
    }

    fn write_user(&self, user: &User) -> Result<(), StoreError> {
        let cf = self.console_cf()?;
        let v = serde_json::to_vec(user).map_err(|e| bad("user", e))?;
        self.db.put_cf(cf, user_key(&user.name), v).map_err(io)
    }

    pub(crate) fn console_cf(&self) -> Result<&rocksdb::ColumnFamily, StoreError> {
        self.db
            .cf_handle(CF_INDEX)
            .ok_or_else(|| StoreError::Io("column family index is missing".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_log_in_and_lock_after_repeated_failures() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        assert!(matches!(
            store.put_user("a b", Role::Analyst, "long enough password"),
            Err(UserError::BadName)
        ));
        assert!(matches!(
            store.put_user("ana", Role::Analyst, "short"),
            Err(UserError::BadPassword)
        ));
        assert!(!store
            .put_user("ana", Role::Analyst, "correct horse battery")
            .unwrap());
        let stored = store.user("ana").unwrap().unwrap();
        assert!(stored.password_hash.starts_with("$argon2id$"));
        assert!(!stored.password_hash.contains("correct horse"));

        let t = Timestamp(1_000_000);
        assert!(matches!(
            store.check_login("ana", "correct horse battery", t).unwrap(),
            LoginOutcome::Ok(u) if u.role == Role::Analyst
        ));
        assert_eq!(
            store
                .check_login("nobody", "correct horse battery", t)
                .unwrap(),
            LoginOutcome::Refused
        );
        for _ in 0..MAX_FAILURES - 1 {
            assert_eq!(
                store.check_login("ana", "wrong", t).unwrap(),
                LoginOutcome::Refused
            );
        }
        let until = Timestamp(t.0 + LOCKOUT_MS);
        assert_eq!(
            store.check_login("ana", "wrong", t).unwrap(),
            LoginOutcome::Locked(until)
        );
        // Locked: even the right password is refused until the lock ends.
        assert_eq!(
            store
                .check_login("ana", "correct horse battery", Timestamp(until.0 - 1))
                .unwrap(),
            LoginOutcome::Locked(until)
        );
        assert!(matches!(
            store
                .check_login("ana", "correct horse battery", until)
                .unwrap(),
            LoginOutcome::Ok(_)
        ));
        assert_eq!(store.users().unwrap().len(), 1);
    }
}

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
    /// TOTP second factor (RFC 6238: SHA-1, 6 digits, 30 s), the secret in base32; when
    /// set, a login needs the current code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp_secret: Option<String>,
    /// The 30-second step of the last code accepted: a code is good once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp_last_step: Option<u64>,
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

/// TOTP as authenticator apps use it: SHA-1, 6 digits, 30-second steps, one step of drift.
fn totp(secret: Vec<u8>) -> Result<totp_rs::TOTP, totp_rs::TotpUrlError> {
    totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, secret)
}

/// The step whose code `code` is, among the current one and its neighbours, at `now`.
fn totp_step(secret_base32: &str, code: &str, now: Timestamp) -> Option<u64> {
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let secret = base32::decode(base32::Alphabet::Rfc4648 { padding: false }, secret_base32)?;
    let totp = totp(secret).ok()?;
    let step = u64::try_from(now.0 / 1000).ok()? / 30;
    [step.checked_sub(1), Some(step), step.checked_add(1)]
        .into_iter()
        .flatten()
        .find(|s| {
            let expected = totp.generate(s * 30);
            // Constant time: the comparison does not tell how many digits were right.
            expected
                .bytes()
                .zip(code.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
        })
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
            // A new password keeps the second factor.
            totp_secret: existing.as_ref().and_then(|u| u.totp_secret.clone()),
            totp_last_step: existing.as_ref().and_then(|u| u.totp_last_step),
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
        self.check_login_with_code(name, password, None, now)
    }

    /// [`Store::check_login`] with the TOTP code the user typed: an account with a second
    /// factor needs the code of the current 30-second step (or the one before or after, for
    /// clock drift), not used before. A missing or wrong code is refused like a wrong
    /// password (the answer does not tell that the password was right) and counts as a
    /// failure towards the lock.
    pub fn check_login_with_code(
        &mut self,
        name: &str,
        password: &str,
        code: Option<&str>,
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
        // Ok(step of the code used, if any) when the second factor is satisfied.
        let second_factor = match &user.totp_secret {
            None => Ok(None),
            Some(secret) => match code.and_then(|c| totp_step(secret, c.trim(), now)) {
                Some(step) if user.totp_last_step.is_none_or(|last| step > last) => Ok(Some(step)),
                _ => Err(()),
            },
        };
        if let (true, Ok(step)) = (
            password_matches(&user.password_hash, password),
            second_factor,
        ) {
            if step.is_some() {
                user.totp_last_step = step;
            }
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

    /// Gives `name` a new TOTP secret (any earlier one stops working) and returns the
    /// `otpauth://` URI to load into an authenticator app; `None` for an unknown user.
    pub fn enable_totp(&mut self, name: &str) -> Result<Option<String>, UserError> {
        self.ensure_writable()?;
        let Some(mut user) = self.user(name)? else {
            return Ok(None);
        };
        let mut secret = [0u8; 20];
        getrandom::getrandom(&mut secret).map_err(|e| UserError::Hash(e.to_string()))?;
        let totp = totp(secret.to_vec()).map_err(|e| UserError::Hash(e.to_string()))?;
        let encoded = totp.get_secret_base32();
        user.totp_secret = Some(encoded.clone());
        user.totp_last_step = None;
        self.write_user(&user)?;
        Ok(Some(format!(
            "otpauth://totp/Vigie:{name}?secret={encoded}&issuer=Vigie&algorithm=SHA1&digits=6&period=30"
        )))
    }

    /// Removes `name`'s second factor; whether the user exists.
    pub fn disable_totp(&mut self, name: &str) -> Result<bool, StoreError> {
        self.ensure_writable()?;
        let Some(mut user) = self.user(name)? else {
            return Ok(false);
        };
        user.totp_secret = None;
        user.totp_last_step = None;
        self.write_user(&user)?;
        Ok(true)
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

    /// RFC 6238, appendix B: the SHA-1 secret "12345678901234567890" and its codes (the last
    /// six of the eight digits listed there).
    const RFC_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

    #[test]
    fn totp_codes_are_those_of_rfc_6238() {
        for (seconds, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
        ] {
            let now = Timestamp(seconds * 1000);
            assert_eq!(
                totp_step(RFC_SECRET, code, now),
                Some(seconds as u64 / 30),
                "{seconds}"
            );
            // The same code 30 s later is still taken (drift), 60 s later no more.
            assert!(totp_step(RFC_SECRET, code, Timestamp(now.0 + 30_000)).is_some());
            assert!(totp_step(RFC_SECRET, code, Timestamp(now.0 + 61_000)).is_none());
        }
        assert!(totp_step(RFC_SECRET, "287083", Timestamp(59_000)).is_none());
        assert!(totp_step(RFC_SECRET, "28708", Timestamp(59_000)).is_none());
        assert!(totp_step(RFC_SECRET, "２８７０８２", Timestamp(59_000)).is_none());
        assert!(totp_step("not base32!", "287082", Timestamp(59_000)).is_none());
    }

    #[test]
    fn a_second_factor_is_needed_once_enabled_and_a_code_is_good_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        store
            .put_user("ana", Role::Analyst, "correct horse battery")
            .unwrap();
        let uri = store.enable_totp("ana").unwrap().unwrap();
        assert!(uri.starts_with("otpauth://totp/Vigie:ana?secret="), "{uri}");
        assert!(store.enable_totp("nobody").unwrap().is_none());
        // Put the RFC's secret in place, to know the codes.
        let mut user = store.user("ana").unwrap().unwrap();
        user.totp_secret = Some(RFC_SECRET.into());
        store.write_user(&user).unwrap();
        let t = Timestamp(1_111_111_109_000);
        let pw = "correct horse battery";
        let refused = |o: LoginOutcome| matches!(o, LoginOutcome::Refused);
        assert!(refused(store.check_login("ana", pw, t).unwrap()), "no code");
        assert!(refused(
            store
                .check_login_with_code("ana", pw, Some("000000"), t)
                .unwrap()
        ));
        assert!(refused(
            store
                .check_login_with_code("ana", "wrong", Some("081804"), t)
                .unwrap()
        ));
        assert_eq!(store.user("ana").unwrap().unwrap().failures, 3);
        assert!(matches!(
            store
                .check_login_with_code("ana", pw, Some(" 081804 "), t)
                .unwrap(),
            LoginOutcome::Ok(_)
        ));
        // The same code again (a replay, even a second later) is refused.
        assert!(refused(
            store
                .check_login_with_code("ana", pw, Some("081804"), Timestamp(t.0 + 1000))
                .unwrap()
        ));
        // A new password keeps the second factor; disabling it removes it.
        store.put_user("ana", Role::Analyst, pw).unwrap();
        assert!(store.user("ana").unwrap().unwrap().totp_secret.is_some());
        assert!(store.disable_totp("ana").unwrap());
        assert!(matches!(
            store.check_login("ana", pw, t).unwrap(),
            LoginOutcome::Ok(_)
        ));
    }
}

//! The console's audit trail: who signed in (or failed to), decided what about which
//! incident, revealed raw identifiers and why, exported, or changed users.
//!
//! Append-only: entries live in the `index` column family under `0xC0 'a'` ‖ sequence u64,
//! and each is written in one batch with a custody entry ([`CustodyAction::AuditRecorded`],
//! key `audit:SEQ`, object the SHA-256 of the entry's bytes), so removing or editing an
//! audit entry is seen by [`Store::verify_audit`] against the chain of custody. Entries
//! never hold raw identifiers: a reveal records the analyst's reason and what was shown
//! (kinds and counts), not the values.

use rocksdb::{Direction, IteratorMode, WriteBatch};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{bad, io, StoreError};
use crate::keys::read_u64;
use crate::model::{CustodyAction, Timestamp};
use crate::store::{Cfs, Chain, Store};
use crate::users::CONSOLE_PREFIX;

const AUDIT_TAG: u8 = b'a';
/// Current assignee of an incident: `0xC0 'g'` ‖ incident u64 → user name.
const ASSIGNEE_TAG: u8 = b'g';
/// Longest detail kept in an entry (a typed reason is cut there).
pub const MAX_DETAIL_LEN: usize = 2000;

/// What was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    /// A user signed in.
    Login,
    /// A sign-in was refused (wrong password, unknown user, locked account).
    LoginFailed,
    /// A user signed out.
    Logout,
    /// An incident's triage changed (acknowledged, false positive, new).
    Triage,
    /// A comment was added to an incident.
    Comment,
    /// An incident was assigned.
    Assign,
    /// Raw identifiers were shown to a user, with their reason.
    Reveal,
    /// A reveal was refused (role, missing reason).
    RevealRefused,
    /// Evidence or an incident was exported.
    Export,
    /// An alert was put back in the delivery queue.
    Redeliver,
    /// A user was added or changed.
    UserChanged,
    /// Two incidents were merged into one.
    Merge,
    /// Snapshots were split out of an incident into a new one.
    Split,
}

impl AuditAction {
    /// The snake-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Login => "login",
            AuditAction::LoginFailed => "login_failed",
            AuditAction::Logout => "logout",
            AuditAction::Triage => "triage",
            AuditAction::Comment => "comment",
            AuditAction::Assign => "assign",
            AuditAction::Reveal => "reveal",
            AuditAction::RevealRefused => "reveal_refused",
            AuditAction::Export => "export",
            AuditAction::Redeliver => "redeliver",
            AuditAction::UserChanged => "user_changed",
            AuditAction::Merge => "merge",
            AuditAction::Split => "split",
        }
    }
}

/// One audit entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Position in the trail, from 1.
    pub seq: u64,
    /// When.
    pub at: Timestamp,
    /// Who (the name typed, for a failed login).
    pub user: String,
    /// What.
    pub action: AuditAction,
    /// The incident concerned, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<u64>,
    /// Details: the new state, the reason typed, the comment (never a raw identifier).
    pub detail: String,
    /// The custody entry written with it.
    pub custody_seq: u64,
}

/// Who did what about which incident, and the detail: one audit entry before it is staged.
pub(crate) type AuditFacts<'a> = (&'a str, AuditAction, Option<u64>, &'a str);

/// Puts audit entry `seq` and its custody entry into `batch` (the caller writes the batch,
/// so a decision and its trace land together or not at all).
pub(crate) fn stage_audit(
    batch: &mut WriteBatch,
    chain: &mut Chain,
    cfs: &Cfs<'_>,
    seq: u64,
    (user, action, incident, detail): AuditFacts<'_>,
) -> Result<AuditEntry, StoreError> {
    let entry = AuditEntry {
        seq,
        at: Timestamp::now(),
        user: cut(user, 200),
        action,
        incident,
        detail: cut(detail, MAX_DETAIL_LEN),
        custody_seq: chain.head.seq.saturating_add(1),
    };
    let bytes = serde_json::to_vec(&entry).map_err(|e| bad("audit", e))?;
    batch.put_cf(cfs.index, audit_key(seq), &bytes);
    chain.append(
        batch,
        cfs.custody,
        CustodyAction::AuditRecorded,
        &format!("audit:{seq}"),
        &hex::encode(Sha256::digest(&bytes)),
    );
    Ok(entry)
}

fn assignee_key(incident: u64) -> [u8; 10] {
    let mut k = [0u8; 10];
    k[0] = CONSOLE_PREFIX;
    k[1] = ASSIGNEE_TAG;
    k[2..].copy_from_slice(&incident.to_be_bytes());
    k
}

fn audit_key(seq: u64) -> [u8; 10] {
    let mut k = [0u8; 10];
    k[0] = CONSOLE_PREFIX;
    k[1] = AUDIT_TAG;
    k[2..].copy_from_slice(&seq.to_be_bytes());
    k
}

fn cut(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

impl Store {
    /// Appends an audit entry and its custody entry in one batch; returns the entry.
    pub fn audit(
        &mut self,
        user: &str,
        action: AuditAction,
        incident: Option<u64>,
        detail: &str,
    ) -> Result<AuditEntry, StoreError> {
        self.ensure_writable()?;
        let seq = self.last_audit_seq()?.saturating_add(1);
        let cfs = self.cfs()?;
        let mut chain = Chain::new(&self.head);
        let mut batch = WriteBatch::default();
        let entry = stage_audit(
            &mut batch,
            &mut chain,
            &cfs,
            seq,
            (user, action, incident, detail),
        )?;
        chain.put_head(&mut batch, cfs.meta)?;
        self.write_batch(batch, chain)?;
        Ok(entry)
    }

    /// Assigns an incident to `assignee`, written with its audit entry (by `user`) in one
    /// batch. The incident list filters on it; the entry keeps the history.
    pub fn assign(
        &mut self,
        user: &str,
        incident: u64,
        assignee: &str,
    ) -> Result<AuditEntry, StoreError> {
        self.ensure_writable()?;
        let seq = self.next_audit_seq()?;
        let cfs = self.cfs()?;
        let mut chain = Chain::new(&self.head);
        let mut batch = WriteBatch::default();
        let assignee = cut(assignee, 200);
        batch.put_cf(cfs.index, assignee_key(incident), assignee.as_bytes());
        let entry = stage_audit(
            &mut batch,
            &mut chain,
            &cfs,
            seq,
            (user, AuditAction::Assign, Some(incident), &assignee),
        )?;
        chain.put_head(&mut batch, cfs.meta)?;
        self.write_batch(batch, chain)?;
        Ok(entry)
    }

    /// Who an incident is assigned to (one point read: the incident list filters on it).
    /// Assignments made before this key existed are only in the trail.
    pub fn assignee(&self, incident: u64) -> Result<Option<String>, StoreError> {
        let cf = self.console_cf()?;
        Ok(self
            .db
            .get_pinned_cf(cf, assignee_key(incident))
            .map_err(io)?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    /// The sequence number the next audit entry takes.
    pub(crate) fn next_audit_seq(&self) -> Result<u64, StoreError> {
        Ok(self.last_audit_seq()?.saturating_add(1))
    }

    fn last_audit_seq(&self) -> Result<u64, StoreError> {
        let cf = self.console_cf()?;
        let end = audit_key(u64::MAX);
        match self
            .db
            .iterator_cf(cf, IteratorMode::From(&end, Direction::Reverse))
            .next()
        {
            Some(item) => {
                let (k, _) = item.map_err(io)?;
                if k.starts_with(&[CONSOLE_PREFIX, AUDIT_TAG]) {
                    k.get(2..)
                        .and_then(read_u64)
                        .ok_or_else(|| bad("audit", "short key"))
                } else {
                    Ok(0)
                }
            }
            None => Ok(0),
        }
    }

    /// Audit entries, newest first: at most `limit` entries with `seq < before` (all when
    /// `before` is `None`), optionally only those about one incident or by one user.
    pub fn audit_entries(
        &self,
        before: Option<u64>,
        limit: usize,
        incident: Option<u64>,
        user: Option<&str>,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let cf = self.console_cf()?;
        let prefix = [CONSOLE_PREFIX, AUDIT_TAG];
        let start = audit_key(before.map_or(u64::MAX, |b| b.saturating_sub(1)));
        let mut out = Vec::new();
        for item in self
            .db
            .iterator_cf(cf, IteratorMode::From(&start, Direction::Reverse))
        {
            let (k, v) = item.map_err(io)?;
            if !k.starts_with(&prefix) || out.len() >= limit {
                break;
            }
            let entry: AuditEntry = serde_json::from_slice(&v).map_err(|e| bad("audit", e))?;
            if incident.is_some_and(|i| entry.incident != Some(i)) {
                continue;
            }
            if user.is_some_and(|u| entry.user != u) {
                continue;
            }
            out.push(entry);
        }
        Ok(out)
    }

    /// Checks every audit entry against the custody chain: each entry's bytes hash to the
    /// object of the custody entry `audit:SEQ`, and every such custody entry still has its
    /// audit entry. Returns the problems found (empty when whole).
    pub fn verify_audit(&self) -> Result<Vec<String>, StoreError> {
        let mut expected = std::collections::BTreeMap::new();
        for entry in self.custody_entries()? {
            if entry.action == CustodyAction::AuditRecorded {
                expected.insert(entry.key.clone(), entry.object.clone());
            }
        }
        let cf = self.console_cf()?;
        let prefix = [CONSOLE_PREFIX, AUDIT_TAG];
        let mut problems = Vec::new();
        for item in self
            .db
            .iterator_cf(cf, IteratorMode::From(&prefix, Direction::Forward))
        {
            let (k, v) = item.map_err(io)?;
            if !k.starts_with(&prefix) {
                break;
            }
            let seq = k.get(2..).and_then(read_u64).unwrap_or(0);
            let key = format!("audit:{seq}");
            match expected.remove(&key) {
                Some(object) if object == hex::encode(Sha256::digest(&v)) => {}
                Some(_) => problems.push(format!("audit entry {seq} was altered")),
                None => problems.push(format!("audit entry {seq} has no custody entry")),
            }
        }
        for key in expected.keys() {
            problems.push(format!("{key} is in the chain of custody but was removed"));
        }
        Ok(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_entries_are_chained_and_tampering_is_seen() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let a = store
            .audit("ana", AuditAction::Login, None, "password")
            .unwrap();
        let b = store
            .audit("ana", AuditAction::Reveal, Some(7), "reason: victim call")
            .unwrap();
        assert_eq!((a.seq, b.seq), (1, 2));
        assert_eq!(store.custody_head().seq, 2);
        assert!(store.verify().unwrap().ok());
        assert!(store.verify_audit().unwrap().is_empty());
        let newest = store.audit_entries(None, 10, None, None).unwrap();
        assert_eq!(newest, vec![b.clone(), a.clone()]);
        assert_eq!(
            store.audit_entries(Some(2), 10, None, None).unwrap(),
            vec![a]
        );
        assert_eq!(
            store.audit_entries(None, 10, Some(7), None).unwrap(),
            vec![b.clone()]
        );

        // Editing an entry in place is caught; deleting one too.
        let cf = store.console_cf().unwrap();
        let mut edited = b.clone();
        edited.detail = "reason: nothing".into();
        store
            .db
            .put_cf(cf, audit_key(2), serde_json::to_vec(&edited).unwrap())
            .unwrap();
        assert_eq!(
            store.verify_audit().unwrap(),
            vec!["audit entry 2 was altered"]
        );
        store.db.delete_cf(cf, audit_key(1)).unwrap();
        let problems = store.verify_audit().unwrap();
        assert!(
            problems.iter().any(|p| p.contains("audit:1")),
            "{problems:?}"
        );
    }
}

//! Alerts as the store keeps them, and the analysts' triage of incidents.
//!
//! Which recipient hears about which incident is not the store's business: an
//! [`AlertPolicy`] (the alerts crate) decides. What the store guarantees is that an alert and
//! its outbox entry are written **in the same batch** as the incident change that caused it
//! ([`crate::Store::record_alerting`]), so a crash can lose neither, and that delivery state
//! can be updated from other threads through an [`AlertQueue`] while the writer records.
//!
//! Triage lives here too, because it changes what is decided: an incident marked
//! [`TriageState::FalsePositive`] sends nothing more, and a new incident that is a
//! near-duplicate of one, or whose every organisation mention repeats a false positive's
//! alias-in-context pattern, opens as [`TriageState::Suppressed`].

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use rocksdb::{Direction, IteratorMode, WriteBatch, WriteOptions, DB};
use serde::{Deserialize, Serialize};
use vigie_core::{IdentifierKind, Report, Severity};

use crate::error::{bad, io, StoreError};
use crate::keys::*;
use crate::model::{Incident, SightingRecord, Timestamp};

/// Decides which recipients hear about an incident change.
pub trait AlertPolicy {
    /// `incident` is the incident as it is about to be written; `previous` holds the last
    /// alert each recipient received about it. Return one decision per recipient to alert.
    fn decide(&self, incident: &Incident, previous: &[AlertMark]) -> Vec<AlertDecision>;
}

/// A policy that never alerts (offline ingest without recipients).
pub struct NoAlerts;

impl AlertPolicy for NoAlerts {
    fn decide(&self, _: &Incident, _: &[AlertMark]) -> Vec<AlertDecision> {
        Vec::new()
    }
}

/// One recipient to alert, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertDecision {
    /// Recipient id.
    pub recipient: String,
    /// Why now (`new incident`, `severity rose to critical`, `new identifier kinds: nir`).
    pub reason: String,
}

/// What a recipient was last told about an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertMark {
    /// Recipient id.
    pub recipient: String,
    /// The last alert sent.
    pub alert: u64,
    /// Its revision (1 for the first alert).
    pub revision: u32,
    /// The incident's severity in it.
    pub severity: Severity,
    /// Identifier kinds with valid values in it.
    pub kinds: Vec<IdentifierKind>,
}

/// An alert as decided: immutable once written. The payload is rendered from it at delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertRecord {
    /// Monotonic id, from 1.
    pub id: u64,
    /// The recipient.
    pub recipient: String,
    /// 1 for the first alert about the incident to this recipient, then 2, 3... for updates.
    pub revision: u32,
    /// Why it was sent.
    pub reason: String,
    /// When it was decided.
    pub created_at: Timestamp,
    /// The incident as it was then.
    pub incident: Incident,
    /// The sighting that caused it.
    pub trigger: SightingRecord,
}

/// Where an alert stands in delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxState {
    /// Waiting for its next attempt.
    Pending,
    /// The receiver accepted it.
    Delivered,
    /// Every attempt failed; kept until an analyst redelivers it.
    Dead,
    /// Not sent: its incident became a false positive before delivery (`last_error` says
    /// why).
    Cancelled,
}

impl OutboxState {
    fn key_byte(self) -> u8 {
        match self {
            OutboxState::Pending => b'P',
            OutboxState::Delivered => b'S',
            OutboxState::Dead => b'D',
            OutboxState::Cancelled => b'C',
        }
    }

    /// The snake-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Pending => "pending",
            OutboxState::Delivered => "delivered",
            OutboxState::Dead => "dead",
            OutboxState::Cancelled => "cancelled",
        }
    }
}

/// An alert's delivery state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// The alert.
    pub alert: u64,
    /// Its recipient.
    pub recipient: String,
    /// Pending, delivered or dead.
    pub state: OutboxState,
    /// Attempts made so far.
    pub attempts: u32,
    /// Earliest time of the next attempt (pending entries).
    pub next_attempt: Timestamp,
    /// The last failure, for `vigie alerts outbox`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// When it was queued.
    pub created_at: Timestamp,
    /// When the receiver accepted it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<Timestamp>,
}

/// An analyst's view of an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriageState {
    /// Not looked at yet.
    New,
    /// Seen and being handled.
    Acknowledged,
    /// Not a real leak: sends nothing more, and suppresses look-alikes.
    FalsePositive,
    /// Opened as a look-alike of a false positive: sends nothing.
    Suppressed,
}

impl TriageState {
    /// The snake-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            TriageState::New => "new",
            TriageState::Acknowledged => "acknowledged",
            TriageState::FalsePositive => "false_positive",
            TriageState::Suppressed => "suppressed",
        }
    }

    /// Whether alerts about the incident are held back.
    pub fn silences(self) -> bool {
        matches!(self, TriageState::FalsePositive | TriageState::Suppressed)
    }
}

/// The triage record of an incident (absent means [`TriageState::New`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Triage {
    /// The state.
    pub state: TriageState,
    /// The analyst's reason, or what suppressed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When it was set.
    pub at: Timestamp,
    /// For a suppressed incident: the false positive it resembles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub like_incident: Option<u64>,
}

/// The alias-in-context patterns of a document: for each organisation mention, the entity,
/// the alias as written (lower-cased) and the words right before and after it. A false
/// positive's patterns (`Alan` in "alan turing") suppress later documents that mention
/// organisations only in those same ways.
pub fn alias_patterns(content: &[u8], report: &Report) -> BTreeSet<String> {
    let text = String::from_utf8_lossy(content);
    let mut out = BTreeSet::new();
    for entity in &report.entities {
        for span in &entity.matches {
            let (start, end) = (span.start as usize, span.end as usize);
            let (left, right) = match text.get(start..end) {
                Some(t) if t == span.text => (
                    neighbour_word(text[..start].chars().rev(), true),
                    neighbour_word(text[end..].chars(), false),
                ),
                // Offsets into a re-decoded text: no context, the alias alone.
                _ => (String::new(), String::new()),
            };
            out.insert(format!(
                "{}\u{1f}{}\u{1f}{left}\u{1f}{right}",
                entity.id,
                span.text.to_lowercase()
            ));
        }
    }
    out
}

/// The first word `chars` reach (lower-cased, at most 40 characters), `-` if none; `backwards`
/// when `chars` runs right to left (the word before a mention).
fn neighbour_word(chars: impl Iterator<Item = char>, backwards: bool) -> String {
    let mut word: Vec<char> = chars
        .skip_while(|c| !c.is_alphanumeric())
        .take_while(|c| c.is_alphanumeric())
        .take(40)
        .collect();
    if backwards {
        word.reverse();
    }
    let mut w: String = word.into_iter().collect::<String>().to_lowercase();
    if w.is_empty() {
        w.push('-');
    }
    w
}

pub(crate) fn put_triage(
    batch: &mut WriteBatch,
    cf: &rocksdb::ColumnFamily,
    incident: u64,
    triage: &Triage,
) -> Result<(), StoreError> {
    let v = serde_json::to_vec(triage).map_err(|e| bad("triage", e))?;
    batch.put_cf(cf, u64_key(incident), v);
    Ok(())
}

pub(crate) fn put_outbox(
    batch: &mut WriteBatch,
    cf: &rocksdb::ColumnFamily,
    entry: &OutboxEntry,
) -> Result<(), StoreError> {
    let v = serde_json::to_vec(entry).map_err(|e| bad("outbox", e))?;
    batch.put_cf(cf, outbox_key(entry.state.key_byte(), entry.alert), v);
    Ok(())
}

/// A thread-safe handle on the alerts and their outbox, for delivery workers and queries.
/// Only delivery state is written through it; alerts themselves are written by
/// [`crate::Store::record_alerting`].
///
/// Delivery state changes are compare-and-swap ([`AlertQueue::update`]): a worker holding a
/// stale copy of an entry cannot send it again nor roll its `attempts` back. Every queue
/// made from one [`crate::Store`] shares one lock, and one process writes a store.
#[derive(Clone)]
pub struct AlertQueue {
    db: Arc<DB>,
    read_only: bool,
    lock: Arc<Mutex<()>>,
}

impl AlertQueue {
    pub(crate) fn new(db: Arc<DB>, read_only: bool, lock: Arc<Mutex<()>>) -> AlertQueue {
        AlertQueue {
            db,
            read_only,
            lock,
        }
    }

    fn cf(&self, name: &str) -> Result<&rocksdb::ColumnFamily, StoreError> {
        self.db
            .cf_handle(name)
            .ok_or_else(|| StoreError::Io(format!("column family {name} is missing")))
    }

    /// One alert.
    pub fn alert(&self, id: u64) -> Result<Option<AlertRecord>, StoreError> {
        match self
            .db
            .get_cf(self.cf(CF_ALERTS)?, u64_key(id))
            .map_err(io)?
        {
            Some(v) => Ok(Some(
                serde_json::from_slice(&v).map_err(|e| bad("alert", e))?,
            )),
            None => Ok(None),
        }
    }

    /// Alerts, newest first, at most `limit`.
    pub fn alerts(&self, limit: usize) -> Result<Vec<AlertRecord>, StoreError> {
        let mut out = Vec::new();
        for item in self
            .db
            .iterator_cf(self.cf(CF_ALERTS)?, IteratorMode::End)
            .take(limit)
        {
            let (_, v) = item.map_err(io)?;
            out.push(serde_json::from_slice(&v).map_err(|e| bad("alert", e))?);
        }
        Ok(out)
    }

    /// Outbox entries in one state, oldest alert first, at most `limit`.
    pub fn entries(
        &self,
        state: OutboxState,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let cf = self.cf(CF_OUTBOX)?;
        let prefix = [state.key_byte()];
        let mut out = Vec::new();
        for item in self
            .db
            .iterator_cf(cf, IteratorMode::From(&prefix, Direction::Forward))
        {
            let (k, v) = item.map_err(io)?;
            if k.first() != Some(&prefix[0]) || out.len() >= limit {
                break;
            }
            out.push(serde_json::from_slice(&v).map_err(|e| bad("outbox", e))?);
        }
        Ok(out)
    }

    /// Pending entries whose next attempt is due at `now`, at most `limit`.
    pub fn due(&self, now: Timestamp, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
        Ok(self
            .entries(OutboxState::Pending, usize::MAX)?
            .into_iter()
            .filter(|e| e.next_attempt <= now)
            .take(limit)
            .collect())
    }

    /// The earliest next attempt among pending entries.
    pub fn next_due(&self) -> Result<Option<Timestamp>, StoreError> {
        Ok(self
            .entries(OutboxState::Pending, usize::MAX)?
            .iter()
            .map(|e| e.next_attempt)
            .min())
    }

    /// The outbox entry of an alert, whatever its state.
    pub fn entry(&self, alert: u64) -> Result<Option<OutboxEntry>, StoreError> {
        let cf = self.cf(CF_OUTBOX)?;
        for state in [
            OutboxState::Pending,
            OutboxState::Dead,
            OutboxState::Delivered,
            OutboxState::Cancelled,
        ] {
            if let Some(v) = self
                .db
                .get_cf(cf, outbox_key(state.key_byte(), alert))
                .map_err(io)?
            {
                return Ok(Some(
                    serde_json::from_slice(&v).map_err(|e| bad("outbox", e))?,
                ));
            }
        }
        Ok(None)
    }

    /// Replaces `expected` by `next` (moving it between states) in one atomic, synced
    /// write, if the stored entry is still in `expected`'s state with `expected`'s attempt
    /// count. Returns whether it was replaced: `false` means someone else moved it first
    /// (the caller's copy is stale and must not be acted on).
    pub fn update(&self, expected: &OutboxEntry, next: &OutboxEntry) -> Result<bool, StoreError> {
        if self.read_only {
            return Err(StoreError::ReadOnly);
        }
        // A poisoned lock only means another thread panicked between a read and a write of
        // its own; the stored entry is still whole.
        let _held = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        match self.entry(expected.alert)? {
            Some(current)
                if current.state == expected.state && current.attempts == expected.attempts => {}
            _ => return Ok(false),
        }
        let cf = self.cf(CF_OUTBOX)?;
        let mut batch = WriteBatch::default();
        if expected.state != next.state {
            batch.delete_cf(cf, outbox_key(expected.state.key_byte(), expected.alert));
        }
        put_outbox(&mut batch, cf, next)?;
        // A delivery result survives a power cut: an accepted alert is not sent again.
        let mut sync = WriteOptions::default();
        sync.set_sync(true);
        self.db.write_opt(batch, &sync).map_err(io)?;
        Ok(true)
    }

    /// Puts a dead, delivered or cancelled alert back in the queue, due now, and returns the
    /// entry. A pending entry is left as it is (it may be in flight: resetting it could send
    /// it twice or roll its attempts back).
    pub fn redeliver(&self, alert: u64, now: Timestamp) -> Result<Option<OutboxEntry>, StoreError> {
        // Only a delivery thread moving the entry at the same moment makes a swap fail.
        for _ in 0..8 {
            let Some(entry) = self.entry(alert)? else {
                return Ok(None);
            };
            if entry.state == OutboxState::Pending {
                return Ok(Some(entry));
            }
            let next = OutboxEntry {
                state: OutboxState::Pending,
                attempts: 0,
                next_attempt: now,
                delivered_at: None,
                ..entry.clone()
            };
            if self.update(&entry, &next)? {
                return Ok(Some(next));
            }
        }
        self.entry(alert)
    }

    /// How many alerts are in the dead-letter list.
    pub fn dead_letters(&self) -> Result<u64, StoreError> {
        Ok(self.entries(OutboxState::Dead, usize::MAX)?.len() as u64)
    }

    /// The triage of an incident (`None` means new).
    pub fn triage(&self, incident: u64) -> Result<Option<Triage>, StoreError> {
        read_triage(&self.db, self.cf(CF_TRIAGE)?, incident)
    }
}

pub(crate) fn read_triage(
    db: &DB,
    cf: &rocksdb::ColumnFamily,
    incident: u64,
) -> Result<Option<Triage>, StoreError> {
    match db.get_cf(cf, u64_key(incident)).map_err(io)? {
        Some(v) => Ok(Some(
            serde_json::from_slice(&v).map_err(|e| bad("triage", e))?,
        )),
        None => Ok(None),
    }
}

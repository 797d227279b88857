//! The live collector's logic, independent of the MTProto client: a [`TelegramSource`] (the
//! thin grammers adapter in production, a fake in tests) is driven under a request budget,
//! FLOOD_WAIT is honoured in full (never retried in a loop), a channel reference is resolved
//! once and kept in the checkpoint, history is backfilled on first sight (to a date or a
//! count) then read incrementally, updates from the stream are applied (an edit recorded, a new
//! message taken when it follows the checkpoint, anything else filled from history), and
//! attachments are downloaded up to a cap.

use std::future::Future;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::{sleep, Instant};
use tracing::{info, warn};

use crate::tl::{ChannelUpdate, RemoteDocument};
use crate::TelegramMessage;

/// A resolved channel: what `InputPeerChannel` needs. Resolving usernames is what gets
/// accounts flood-banned, so this is kept in the checkpoint and reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerRef {
    /// Channel id.
    pub id: i64,
    /// Its access hash for this account.
    pub access_hash: i64,
}

/// A message as a source returns it, with its downloadable documents: the TL conversion's
/// output, under the name the collector's trait uses.
pub use crate::tl::Converted as SourceMessage;

/// What a source call can fail with, by what the collector should do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    /// Telegram asked to wait this long before the next call (FLOOD_WAIT_X).
    #[error("FLOOD_WAIT {0:?}")]
    FloodWait(Duration),
    /// The kept channel reference is no longer valid: resolve again.
    #[error("peer reference invalid: {0}")]
    PeerInvalid(String),
    /// Network or server trouble: try again on the next poll.
    #[error("transient: {0}")]
    Transient(String),
    /// Will not work by retrying (channel private, banned, bad spec).
    #[error("{0}")]
    Fatal(String),
}

/// The calls the collector makes. One call each; the collector adds budget and retries.
pub trait TelegramSource {
    /// Resolves a public username or an invite link.
    fn resolve(&mut self, spec: &str) -> impl Future<Output = Result<PeerRef, SourceError>>;
    /// The `limit` messages just below id `before` (the newest when `None`), oldest first:
    /// how the first sight pages back.
    fn before(
        &mut self,
        peer: PeerRef,
        before: Option<i64>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<SourceMessage>, SourceError>>;
    /// Messages with an id above `after`, oldest first, at most `limit`.
    fn after(
        &mut self,
        peer: PeerRef,
        after: i64,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<SourceMessage>, SourceError>>;
    /// Up to `cap` bytes of a document; the bool says it was cut at the cap.
    fn download(
        &mut self,
        document: &RemoteDocument,
        cap: u64,
    ) -> impl Future<Output = Result<(Vec<u8>, bool), SourceError>>;
}

/// The per-channel checkpoint kept in the store.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelState {
    /// The resolved reference, once resolved.
    pub peer: Option<PeerRef>,
    /// The newest message id recorded (0: never read).
    pub last_id: i64,
}

/// Collector settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectorConfig {
    /// API calls per minute for the account.
    pub calls_per_minute: u32,
    /// Messages read on first sight at most.
    pub backfill: usize,
    /// On first sight, read back to this date (Unix seconds) rather than only `backfill`
    /// messages; `backfill` still caps how many.
    pub backfill_since: Option<i64>,
    /// Messages per history call.
    pub page: usize,
    /// Pages read in one poll at most (the rest on the next poll).
    pub max_pages: usize,
    /// Attachment bytes downloaded at most.
    pub attachment_cap: u64,
    /// A FLOOD_WAIT longer than this pauses the account instead of sleeping in the poll.
    pub max_inline_wait: Duration,
    /// Messages at the top of the channel read again on each poll (one call), so their views
    /// and forwards stay current and edits missed while offline are seen; 0: none.
    pub refresh: usize,
}

impl Default for CollectorConfig {
    fn default() -> Self {
        CollectorConfig {
            calls_per_minute: 20,
            backfill: 200,
            backfill_since: None,
            page: 100,
            max_pages: 10,
            attachment_cap: 20 * 1024 * 1024,
            max_inline_wait: Duration::from_secs(300),
            refresh: 20,
        }
    }
}

/// A downloaded attachment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downloaded {
    /// Index in the message's documents.
    pub index: usize,
    /// The bytes (at most the cap).
    pub bytes: Vec<u8>,
    /// Whether the file was cut at the cap.
    pub truncated: bool,
}

/// One message collected, with its downloads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collected {
    /// The message.
    pub message: TelegramMessage,
    /// Attachments downloaded.
    pub downloads: Vec<Downloaded>,
}

/// Why a poll stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CollectorError {
    /// Telegram asked for a long wait: the account pauses until then (the rest of Vigie runs).
    #[error("account paused by FLOOD_WAIT until {until:?} ({wait:?})")]
    Paused {
        /// When calls may resume.
        until: Instant,
        /// The wait asked.
        wait: Duration,
    },
    /// A source failure; what was collected before it is kept in the state.
    #[error(transparent)]
    Source(#[from] SourceError),
}

/// Spaces calls evenly: at most `calls_per_minute`.
struct Budget {
    interval: Duration,
    next: Option<Instant>,
}

impl Budget {
    async fn acquire(&mut self) {
        let now = Instant::now();
        if let Some(next) = self.next {
            if next > now {
                sleep(next - now).await;
            }
        }
        self.next = Some(Instant::now() + self.interval);
    }
}

/// Drives a [`TelegramSource`].
pub struct Collector<S> {
    source: S,
    config: CollectorConfig,
    budget: Budget,
    paused_until: Option<Instant>,
    /// Calls made (for logs and tests).
    pub calls: u64,
}

impl<S: TelegramSource> Collector<S> {
    /// A collector over `source`.
    pub fn new(source: S, config: CollectorConfig) -> Collector<S> {
        let per_minute = config.calls_per_minute.max(1);
        Collector {
            source,
            budget: Budget {
                interval: Duration::from_millis(60_000 / u64::from(per_minute)),
                next: None,
            },
            config,
            paused_until: None,
            calls: 0,
        }
    }

    /// The source (tests inspect their fake through it).
    pub fn source(&mut self) -> &mut S {
        &mut self.source
    }

    /// One call under the budget; short FLOOD_WAITs are slept through in full and the call
    /// made once more; long ones pause the account.
    async fn call<T, F>(&mut self, mut f: F) -> Result<T, CollectorError>
    where
        F: AsyncFnMut(&mut S) -> Result<T, SourceError>,
    {
        if let Some(until) = self.paused_until {
            if Instant::now() < until {
                return Err(CollectorError::Paused {
                    until,
                    wait: until - Instant::now(),
                });
            }
            self.paused_until = None;
        }
        loop {
            self.budget.acquire().await;
            self.calls += 1;
            match f(&mut self.source).await {
                Err(SourceError::FloodWait(wait)) if wait <= self.config.max_inline_wait => {
                    warn!(
                        ?wait,
                        "FLOOD_WAIT: waiting it out in full before the next call"
                    );
                    sleep(wait).await;
                }
                Err(SourceError::FloodWait(wait)) => {
                    let until = Instant::now() + wait;
                    warn!(?wait, "long FLOOD_WAIT: this account pauses");
                    self.paused_until = Some(until);
                    return Err(CollectorError::Paused { until, wait });
                }
                other => return other.map_err(CollectorError::from),
            }
        }
    }

    async fn peer(
        &mut self,
        spec: &str,
        state: &mut ChannelState,
    ) -> Result<PeerRef, CollectorError> {
        if let Some(p) = state.peer {
            return Ok(p);
        }
        let spec = spec.to_string();
        let peer = self.call(async |s: &mut S| s.resolve(&spec).await).await?;
        info!(channel = %spec, "resolved once; the reference is kept");
        state.peer = Some(peer);
        Ok(peer)
    }

    /// Reads what is new in a channel since `state` (backfill on first sight), oldest first,
    /// with attachments, and advances `state`; then, after the first sight, reads the latest
    /// `refresh` messages already recorded again (no downloads: their counters and text). On
    /// an error, `state` covers exactly what was returned before it (nothing is skipped or
    /// repeated on the next poll).
    pub async fn poll(
        &mut self,
        spec: &str,
        state: &mut ChannelState,
        out: &mut Vec<Collected>,
    ) -> Result<(), CollectorError> {
        let first = state.last_id == 0;
        self.read(spec, state, out).await?;
        let (refresh, last) = (self.config.refresh, state.last_id);
        if first || refresh == 0 || last == 0 {
            return Ok(());
        }
        let Some(peer) = state.peer else {
            return Ok(());
        };
        let recent = self
            .call(async |s: &mut S| s.before(peer, Some(last + 1), refresh).await)
            .await?;
        out.extend(recent.into_iter().map(|m| Collected {
            message: m.message,
            downloads: Vec::new(),
        }));
        Ok(())
    }

    /// The history read of [`Collector::poll`], without the refresh.
    async fn read(
        &mut self,
        spec: &str,
        state: &mut ChannelState,
        out: &mut Vec<Collected>,
    ) -> Result<(), CollectorError> {
        let mut reresolved = false;
        let mut pages = 0;
        loop {
            let peer = self.peer(spec, state).await?;
            let first = state.last_id == 0;
            let (page, after) = (self.config.page, state.last_id);
            let got = if first {
                self.backfill(peer).await
            } else {
                self.call(async |s: &mut S| s.after(peer, after, page).await)
                    .await
            };
            let messages = match got {
                Err(CollectorError::Source(SourceError::PeerInvalid(why))) if !reresolved => {
                    warn!(channel = %spec, %why, "channel reference invalid; resolving again");
                    state.peer = None;
                    reresolved = true;
                    continue;
                }
                other => other?,
            };
            pages += 1;
            let count = messages.len();
            for m in messages {
                if m.message.id <= state.last_id {
                    continue;
                }
                let collected = self.with_downloads(m).await?;
                state.last_id = collected.message.id;
                out.push(collected);
            }
            if first || count < page || pages >= self.config.max_pages {
                return Ok(());
            }
        }
    }

    /// First sight: pages back from the newest message until `backfill_since` or `backfill`
    /// messages, and returns them oldest first. Nothing is returned unless the whole backfill
    /// was read, so a failure half-way is simply retried on the next poll.
    async fn backfill(&mut self, peer: PeerRef) -> Result<Vec<SourceMessage>, CollectorError> {
        let since = self.config.backfill_since;
        let mut newest_first: Vec<SourceMessage> = Vec::new();
        let mut before = None;
        while newest_first.len() < self.config.backfill {
            let want = self
                .config
                .page
                .min(self.config.backfill - newest_first.len());
            let mut batch = self
                .call(async |s: &mut S| s.before(peer, before, want).await)
                .await?;
            let full = batch.len() >= want;
            batch.sort_by_key(|m| std::cmp::Reverse(m.message.id));
            let Some(oldest) = batch.last() else { break };
            before = Some(oldest.message.id);
            let reached = since.is_some_and(|d| oldest.message.date < d);
            newest_first.extend(
                batch
                    .into_iter()
                    .filter(|m| since.is_none_or(|d| m.message.date >= d)),
            );
            if reached || !full {
                break;
            }
        }
        newest_first.reverse();
        Ok(newest_first)
    }

    /// Applies one update from the stream. A new message right after the checkpoint is taken
    /// as it came (no history call); an edit of a message already read is recorded again (its
    /// attachments downloaded again only when the edit is a real edit, not a reaction); a new
    /// message after a gap, an edit of a message not read yet, or Telegram's "too long"
    /// notice reads history from the checkpoint, so nothing is skipped.
    pub async fn apply(
        &mut self,
        spec: &str,
        state: &mut ChannelState,
        update: ChannelUpdate,
        out: &mut Vec<Collected>,
    ) -> Result<(), CollectorError> {
        match update {
            ChannelUpdate::New(c) if c.message.id <= state.last_id => Ok(()),
            ChannelUpdate::New(c) if state.last_id != 0 && c.message.id == state.last_id + 1 => {
                let collected = self.with_downloads(c).await?;
                state.last_id = collected.message.id;
                out.push(collected);
                Ok(())
            }
            ChannelUpdate::Edited(c) if state.last_id != 0 && c.message.id <= state.last_id => {
                let mut m = c;
                if m.message.edited.is_none() {
                    m.documents.clear();
                }
                info!(channel = %spec, message = m.message.id, "edited message recorded again");
                out.push(self.with_downloads(m).await?);
                Ok(())
            }
            _ => self.read(spec, state, out).await,
        }
    }

    /// Downloads a message's documents under the budget, each cut at the cap. A document that
    /// cannot be downloaded keeps its metadata; any other failure stops the poll.
    async fn with_downloads(&mut self, m: SourceMessage) -> Result<Collected, CollectorError> {
        let mut downloads = Vec::new();
        for (index, doc) in m.documents.iter().enumerate() {
            let cap = self.config.attachment_cap;
            let doc = doc.clone();
            match self
                .call(async |s: &mut S| s.download(&doc, cap).await)
                .await
            {
                Ok((bytes, truncated)) => {
                    if truncated {
                        warn!(
                            message = m.message.id,
                            cap, "attachment cut at the size cap"
                        );
                    }
                    downloads.push(Downloaded {
                        index,
                        bytes,
                        truncated,
                    });
                }
                Err(CollectorError::Source(e @ SourceError::Fatal(_))) => {
                    warn!(message = m.message.id, error = %e, "attachment not downloadable; metadata kept");
                }
                Err(e) => return Err(e),
            }
        }
        Ok(Collected {
            message: m.message,
            downloads,
        })
    }
}

//! The collectors' side: a bounded buffer in front of the bus, drained by one task that
//! publishes with a window of unacknowledged messages and retries, in order, what the
//! server did not confirm.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream::context::PublishAckFuture;
use async_nats::jetstream::message::PublishMessage;
use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};
use tracing::{error, info, warn};

use crate::bus::Bus;
use crate::error::BusError;

/// Messages sent and not yet acknowledged at once: enough to keep loopback and LAN links
/// busy, small enough that an outage strands few in the client.
const WINDOW: usize = 256;
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Counts since the publisher started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PublishStats {
    /// Messages the server stored.
    pub published: u64,
    /// Messages the server dropped as duplicates of an id it had (a collector republishing,
    /// or a retry of a message whose first acknowledgement was lost).
    pub duplicates: u64,
    /// Sends repeated after a failure (timeouts, connection lost).
    pub retries: u64,
}

/// Publishes through a bounded buffer so collectors ride out a bus outage.
///
/// [`publish`](Self::publish) returns once the message is in the buffer; a background task
/// (on the runtime that created the publisher) sends it and waits for the server's
/// acknowledgement. While the bus is unreachable the task keeps the messages, retries with
/// backoff (0.2 s doubling to 5 s), logs one `warn!` per outage with the count buffered and
/// one `info!` when the bus is back; once `publish_buffer` messages wait, `publish` waits for
/// room, which pauses the collector that calls it (also logged once per outage). Nothing is
/// dropped for being late; a message resent after an unclear failure carries the same
/// `Nats-Msg-Id`, so the server keeps one copy. Order is kept except around retries.
///
/// [`flush`](Self::flush) waits until everything published before it is acknowledged: call
/// it before moving a checkpoint past the events (see [`crate::KvCheckpoints`]) and before
/// exiting (what is still buffered when the process ends is lost, and collected again from
/// the last checkpoint).
/// Dropping every clone lets the task finish sending what is buffered and stop (if the
/// runtime lives on); call `flush` first to know it arrived. Clones share one buffer.
#[derive(Clone)]
pub struct BufferedPublisher {
    bus: Bus,
    tx: mpsc::Sender<Cmd>,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for BufferedPublisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BufferedPublisher")
            .field("pending", &self.pending())
            .finish_non_exhaustive()
    }
}

struct Shared {
    /// Accepted by `publish` and not yet acknowledged or refused.
    pending: AtomicU64,
    /// Set while the task is in an outage.
    outage: AtomicBool,
}

enum Cmd {
    Msg(Outgoing),
    Flush(oneshot::Sender<Result<PublishStats, BusError>>),
}

struct Outgoing {
    subject: String,
    msg_id: String,
    payload: Bytes,
}

struct Item {
    seq: u64,
    msg: Outgoing,
}

impl Bus {
    /// A buffered publisher holding up to `publish_buffer` messages (from the section).
    /// Must be called inside a tokio runtime: it spawns the task that sends.
    pub fn publisher(&self) -> BufferedPublisher {
        let (tx, rx) = mpsc::channel(self.config.publish_buffer);
        let shared = Arc::new(Shared {
            pending: AtomicU64::new(0),
            outage: AtomicBool::new(false),
        });
        let task = Task {
            bus: self.clone(),
            rx,
            shared: shared.clone(),
            capacity: self.config.publish_buffer,
            seq: 0,
            queue: VecDeque::new(),
            inflight: VecDeque::new(),
            failed: Vec::new(),
            flushes: Vec::new(),
            stats: PublishStats::default(),
            rejected: 0,
            last_rejection: String::new(),
            outage_since: None,
            full_warned: false,
            backoff: FIRST_BACKOFF,
        };
        tokio::spawn(task.run());
        BufferedPublisher {
            bus: self.clone(),
            tx,
            shared,
        }
    }
}

impl BufferedPublisher {
    /// Puts one message in the buffer, waiting for room if it is full (the bus is down and
    /// `publish_buffer` messages wait). A wrong kind or an oversized payload is refused here,
    /// at once; failures to reach the server are never returned (they are retried).
    pub async fn publish(&self, kind: &str, msg_id: &str, payload: Bytes) -> Result<(), BusError> {
        let subject = self.bus.subject(kind)?;
        self.bus.check_size(msg_id, payload.len())?;
        let cmd = Cmd::Msg(Outgoing {
            subject,
            msg_id: msg_id.to_string(),
            payload,
        });
        self.shared.pending.fetch_add(1, Ordering::Relaxed);
        let sent = match self.tx.try_send(cmd) {
            Ok(()) => Ok(()),
            // Full while the bus is up is ordinary back-pressure; during an outage the task
            // says the collectors are paused.
            Err(mpsc::error::TrySendError::Full(cmd)) => {
                self.tx.send(cmd).await.map_err(|_| BusError::Closed)
            }
            Err(mpsc::error::TrySendError::Closed(_)) => Err(BusError::Closed),
        };
        if sent.is_err() {
            self.shared.pending.fetch_sub(1, Ordering::Relaxed);
        }
        sent
    }

    /// Waits until every message published before this call is stored by the server (or
    /// refused for good). Returns the counts so far, or [`BusError::Rejected`] if messages
    /// were refused since the last flush (they are not retried).
    pub async fn flush(&self) -> Result<PublishStats, BusError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Cmd::Flush(tx))
            .await
            .map_err(|_| BusError::Closed)?;
        rx.await.map_err(|_| BusError::Closed)?
    }

    /// Messages accepted and not yet acknowledged by the server.
    pub fn pending(&self) -> u64 {
        self.shared.pending.load(Ordering::Relaxed)
    }

    /// Whether the publisher is in an outage (retrying with backoff).
    pub fn is_degraded(&self) -> bool {
        self.shared.outage.load(Ordering::Relaxed)
    }
}

struct Task {
    bus: Bus,
    rx: mpsc::Receiver<Cmd>,
    shared: Arc<Shared>,
    capacity: usize,
    /// Sequence of the last message received, in channel order.
    seq: u64,
    /// Received, not yet sent (retries go first, in order).
    queue: VecDeque<Item>,
    /// Sent, with the time by which the acknowledgement must come (counted from the send,
    /// not from when it is awaited, so a lost connection costs one timeout, not one each).
    inflight: VecDeque<(Item, PublishAckFuture, Instant)>,
    /// Failed in the current round, resent after the backoff.
    failed: Vec<Item>,
    /// Flush requests waiting: everything up to this sequence must be done.
    flushes: Vec<(u64, oneshot::Sender<Result<PublishStats, BusError>>)>,
    stats: PublishStats,
    rejected: u64,
    last_rejection: String,
    outage_since: Option<Instant>,
    /// The "buffer full" warning was logged in this outage.
    full_warned: bool,
    backoff: Duration,
}

impl Task {
    async fn run(mut self) {
        let mut closed = false;
        loop {
            // Take what is waiting, without blocking, up to a window's worth; none during an
            // outage, so the channel fills and its `publish_buffer` bound pauses collectors.
            while !closed && self.outage_since.is_none() && self.queue.len() < WINDOW {
                match self.rx.try_recv() {
                    Ok(cmd) => self.take(cmd),
                    Err(mpsc::error::TryRecvError::Empty) => break,
                    Err(mpsc::error::TryRecvError::Disconnected) => closed = true,
                }
            }
            self.answer_flushes();
            if self.queue.is_empty() && self.inflight.is_empty() && self.failed.is_empty() {
                if closed {
                    break;
                }
                match self.rx.recv().await {
                    Some(cmd) => self.take(cmd),
                    None => closed = true,
                }
                continue;
            }
            // Send while the window has room and nothing failed in this round.
            while self.failed.is_empty() && self.inflight.len() < WINDOW {
                let Some(item) = self.queue.pop_front() else {
                    break;
                };
                if self.bus.client.connection_state() != async_nats::connection::State::Connected {
                    // Not connected: do not pile requests in the client; wait and retry.
                    self.failed.push(item);
                    break;
                }
                let publish = PublishMessage::build()
                    .message_id(&item.msg.msg_id)
                    .payload(item.msg.payload.clone());
                match self
                    .bus
                    .js
                    .send_publish(item.msg.subject.clone(), publish)
                    .await
                {
                    Ok(ack) => {
                        let deadline = Instant::now() + self.bus.request_timeout();
                        self.inflight.push_back((item, ack, deadline));
                    }
                    Err(e) => {
                        let e = self.bus.publish_error(e);
                        self.settle_failure(item, e, Instant::now());
                    }
                }
            }
            if let Some((item, ack, deadline)) = self.inflight.pop_front() {
                let answer = tokio::time::timeout_at(
                    deadline.into(),
                    std::future::IntoFuture::into_future(ack),
                )
                .await;
                match answer {
                    Ok(Ok(ack)) => {
                        if ack.duplicate {
                            self.stats.duplicates += 1;
                        } else {
                            self.stats.published += 1;
                        }
                        self.done();
                        if self.failed.is_empty() {
                            self.recovered();
                        }
                    }
                    Ok(Err(e)) => {
                        let e = self.bus.publish_error(e);
                        self.settle_failure(item, e, deadline - self.bus.request_timeout());
                    }
                    Err(_) => {
                        let e = BusError::Timeout("publish: no acknowledgement".to_string());
                        self.settle_failure(item, e, deadline - self.bus.request_timeout());
                    }
                }
                continue;
            }
            if !self.failed.is_empty() {
                self.back_off().await;
            }
        }
        self.answer_flushes();
    }

    fn take(&mut self, cmd: Cmd) {
        match cmd {
            Cmd::Msg(msg) => {
                self.seq += 1;
                self.queue.push_back(Item { seq: self.seq, msg });
            }
            Cmd::Flush(tx) => self.flushes.push((self.seq, tx)),
        }
    }

    fn done(&mut self) {
        self.shared.pending.fetch_sub(1, Ordering::Relaxed);
    }

    /// A failed send: kept for retry if transient (but a permission refusal noticed since
    /// `sent` is not), else counted as rejected.
    fn settle_failure(&mut self, item: Item, e: BusError, sent: Instant) {
        let e = self.bus.denials.refine(e, sent);
        if e.is_transient() {
            self.failed.push(item);
        } else {
            error!(error = %e, "bus refused a message; it is not retried");
            self.rejected += 1;
            self.last_rejection = e.to_string();
            self.done();
        }
    }

    /// All in flight are settled and some failed: wait, then put them back first in line.
    async fn back_off(&mut self) {
        let buffered = self.failed.len() + self.queue.len() + self.inflight.len() + self.rx.len();
        if self.outage_since.is_none() {
            self.outage_since = Some(Instant::now());
            self.shared.outage.store(true, Ordering::Relaxed);
            warn!(
                buffered,
                capacity = self.capacity,
                "bus unreachable: buffering events and retrying; collectors pause when the buffer is full"
            );
        }
        if self.rx.len() >= self.capacity && !self.full_warned {
            self.full_warned = true;
            warn!(
                buffered,
                "bus publish buffer full: collectors pause until the bus is back"
            );
        }
        self.stats.retries += self.failed.len() as u64;
        let mut failed = std::mem::take(&mut self.failed);
        failed.sort_by_key(|i| i.seq);
        for item in failed.into_iter().rev() {
            self.queue.push_front(item);
        }
        tokio::time::sleep(self.backoff).await;
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
    }

    fn recovered(&mut self) {
        self.backoff = FIRST_BACKOFF;
        if let Some(since) = self.outage_since.take() {
            self.shared.outage.store(false, Ordering::Relaxed);
            self.full_warned = false;
            info!(
                outage_secs = since.elapsed().as_secs(),
                buffered = self.queue.len() + self.inflight.len() + self.rx.len(),
                "bus reachable again: sending the buffered events"
            );
        }
    }

    fn answer_flushes(&mut self) {
        if self.flushes.is_empty() {
            return;
        }
        let oldest = self
            .queue
            .iter()
            .chain(self.inflight.iter().map(|(i, _, _)| i))
            .chain(self.failed.iter())
            .map(|i| i.seq)
            .min();
        let mut waiting = Vec::new();
        for (barrier, tx) in std::mem::take(&mut self.flushes) {
            if oldest.is_some_and(|o| o <= barrier) {
                waiting.push((barrier, tx));
                continue;
            }
            let answer = if self.rejected > 0 {
                let e = BusError::Rejected {
                    count: self.rejected,
                    last: std::mem::take(&mut self.last_rejection),
                };
                self.rejected = 0;
                Err(e)
            } else {
                Ok(self.stats)
            };
            let _ = tx.send(answer);
        }
        self.flushes = waiting;
    }
}

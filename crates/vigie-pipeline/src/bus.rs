//! Distributed mode: the pipeline's two ends joined by NATS JetStream (vigie-bus).
//!
//! - Collector hosts run sources and [`forward`] their events to the stream: each message's
//!   `Nats-Msg-Id` is [`Event::dedup_id`], so a collector that restarts and republishes is
//!   deduplicated by the server; checkpoints go to the key-value bucket instead, once every
//!   event before them is acknowledged by the server ([`BusCheckpoints`] reads them back).
//! - The recorder host [`consume`]s: a thread fetches, the recorder's pipeline matches and
//!   writes (matching the next batch while it writes the current one), and each message is
//!   acknowledged once its batch is written and synced. A recorder killed mid-batch loses nothing (the batch comes back), and the
//!   store's content-hash check makes a redelivery a repeat sighting, never a second snapshot.
//!
//! The async client runs on a tokio runtime owned by the caller; these functions run on
//! ordinary threads and wait on it, so no store write ever happens on an async task.

use std::time::{Duration, Instant};

use tokio::runtime::Handle;
use tracing::{error, info, warn};
use vigie_bus::{BufferedPublisher, Consumer, KvCheckpoints, PublishStats};
use vigie_store::Store;

use crate::event::{Event, Pending, Receipt};
use crate::recorder::{BatchOutcome, RecordError, Recorder, StoreSlot};
use crate::source::{Checkpoints, Shutdown};

/// Checkpoints of remote collectors, read from the bus's key-value bucket.
pub struct BusCheckpoints {
    kv: KvCheckpoints,
    runtime: Handle,
}

impl BusCheckpoints {
    pub fn new(kv: KvCheckpoints, runtime: Handle) -> BusCheckpoints {
        BusCheckpoints { kv, runtime }
    }
}

impl Checkpoints for BusCheckpoints {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        // Spawned on the bus runtime and waited for on a channel: a source may call this
        // from inside a runtime of its own, where `block_on` is not allowed.
        let (tx, rx) = std::sync::mpsc::channel();
        let (kv, key) = (self.kv.clone(), key.to_string());
        self.runtime.spawn(async move {
            let _ = tx.send(kv.get(&key).await);
        });
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(Ok(v)) => Ok(v.map(|b| b.to_vec())),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("the bus did not answer within 30 s".into()),
        }
    }

    fn with_prefix(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, String> {
        Err(format!(
            "listing checkpoints by prefix ({prefix}) is not available on the bus"
        ))
    }
}

/// What [`forward`] sent.
#[derive(Debug, Default, Clone, Copy)]
pub struct Forwarded {
    pub documents: u64,
    pub checkpoints: u64,
    /// Health records and candidates.
    pub other: u64,
    /// Events the bus refused for good (an oversized document): logged, not retried.
    pub refused: u64,
    pub stats: PublishStats,
}

/// Publishes every event from `events` until the channel closes (every source finished), or
/// `shutdown` is signalled and nothing more comes for a moment. Receipts are settled once the server has acknowledged the
/// document; a checkpoint is put in the bucket only after every event before it is
/// acknowledged. A bus outage pauses this loop (and, through backpressure, the sources).
pub fn forward(
    events: &flume::Receiver<Pending>,
    publisher: &BufferedPublisher,
    checkpoints: &KvCheckpoints,
    runtime: &Handle,
    shutdown: &Shutdown,
) -> Forwarded {
    let mut out = Forwarded::default();
    let mut unsettled: Vec<Receipt> = Vec::new();
    loop {
        let pending = match events.recv_timeout(Duration::from_millis(200)) {
            Ok(p) => p,
            Err(flume::RecvTimeoutError::Timeout) => {
                if !unsettled.is_empty() {
                    flush(publisher, runtime, &mut unsettled, &mut out);
                }
                if shutdown.is_signalled() {
                    break;
                }
                continue;
            }
            Err(flume::RecvTimeoutError::Disconnected) => break,
        };
        match &pending.event {
            Event::Checkpoint { key, value } => {
                flush(publisher, runtime, &mut unsettled, &mut out);
                put_checkpoint(checkpoints, runtime, key, value);
                out.checkpoints += 1;
            }
            event => {
                let payload = match event.encode() {
                    Ok(p) => p,
                    Err(e) => {
                        error!(error = %e, "event not encodable; not published");
                        continue;
                    }
                };
                let id = event.dedup_id();
                match runtime.block_on(publisher.publish(event.kind(), &id, payload.into())) {
                    Ok(()) => {
                        if matches!(event, Event::Document(_)) {
                            out.documents += 1;
                        } else {
                            out.other += 1;
                        }
                        if let Some(r) = pending.receipt {
                            unsettled.push(r);
                        }
                    }
                    Err(e) => {
                        out.refused += 1;
                        error!(kind = event.kind(), error = %e, "event refused by the bus; not published");
                        if let Some(r) = pending.receipt {
                            r.settle(Err(e.to_string()));
                        }
                    }
                }
            }
        }
    }
    flush(publisher, runtime, &mut unsettled, &mut out);
    out
}

/// Waits until everything published is acknowledged, then settles the receipts waiting.
fn flush(
    publisher: &BufferedPublisher,
    runtime: &Handle,
    unsettled: &mut Vec<Receipt>,
    out: &mut Forwarded,
) {
    match runtime.block_on(publisher.flush()) {
        Ok(stats) => out.stats = stats,
        // Refused messages were logged by the publisher; the rest are acknowledged.
        Err(e) => warn!(error = %e, "some events were refused by the bus"),
    }
    for r in unsettled.drain(..) {
        r.settle(Ok(()));
    }
}

/// Puts a checkpoint, retrying while the bus is away (the collector waits: a checkpoint
/// written late only means pages read again after a restart).
fn put_checkpoint(kv: &KvCheckpoints, runtime: &Handle, key: &str, value: &[u8]) {
    let mut wait = Duration::from_millis(200);
    let started = Instant::now();
    loop {
        match runtime.block_on(kv.put(key, value.to_vec().into())) {
            Ok(_) => return,
            Err(e) if e.is_transient() && started.elapsed() < Duration::from_secs(600) => {
                warn!(key, error = %e, retry_in_ms = wait.as_millis() as u64, "checkpoint not saved on the bus; retrying");
                std::thread::sleep(wait);
                wait = (wait * 2).min(Duration::from_secs(5));
            }
            Err(e) => {
                warn!(key, error = %e, "checkpoint not saved on the bus; the source reads again from the previous one");
                return;
            }
        }
    }
}

/// Why [`consume`] stopped early (a failed sync is a [`RecordError`] too: the recorder
/// syncs each batch whose messages wait for their acknowledgement).
#[derive(Debug, thiserror::Error)]
pub enum ConsumeError {
    #[error(transparent)]
    Record(#[from] RecordError),
}

/// What [`consume`] recorded.
#[derive(Debug, Default, Clone, Copy)]
pub struct Consumed {
    pub messages: u64,
    pub batches: u64,
    pub new_snapshots: u64,
    pub alerts: u64,
    /// Messages that were not events (terminated, logged).
    pub undecodable: u64,
    pub redelivered: u64,
}

/// Records events from the bus until `shutdown`. A fetching thread takes messages off the
/// bus and hands them to the recorder's pipeline (so the next batch is matched while the
/// current one is written), each with a receipt; once its batch is written and synced the
/// message is acknowledged by the fetching thread. `after` runs after each batch (wake the
/// deliverers, apply analysts' requests…). Bus outages are waited out (logged once per
/// outage); a store that cannot be written stops the loop with the batch unacknowledged, so
/// the bus keeps it.
pub fn consume(
    consumer: &Consumer,
    runtime: &Handle,
    recorder: &Recorder,
    store: &impl StoreSlot,
    shutdown: &Shutdown,
    mut after: impl FnMut(&mut Store, &BatchOutcome),
) -> Result<Consumed, ConsumeError> {
    let max = recorder.options().batch_max;
    // Two batches at most between the bus and the writer: that much is unacknowledged.
    let (events_tx, events) = flume::bounded::<Pending>(2 * max);
    let mut out = Consumed::default();
    let (recorded, fetched) = std::thread::scope(|s| {
        let fetcher = s.spawn(move || fetch(consumer, runtime, max, shutdown, events_tx));
        let recorded = recorder.run_shared(
            store,
            &events,
            shutdown,
            Duration::from_millis(500),
            CONSUME_GRACE,
            |store, outcome| {
                if !outcome.outcomes.is_empty() {
                    out.messages += outcome.outcomes.len() as u64;
                    out.batches += 1;
                    out.new_snapshots += outcome.new_snapshots as u64;
                    out.alerts += outcome.alerts as u64;
                }
                after(store, outcome);
            },
        );
        // Whatever is still queued goes back to the bus unacknowledged.
        drop(events);
        (recorded, fetcher.join())
    });
    let fetched = fetched.unwrap_or_default();
    out.redelivered = fetched.redelivered;
    out.undecodable = fetched.undecodable;
    recorded?;
    Ok(out)
}

/// How long a stopping recorder keeps recording what it already fetched.
const CONSUME_GRACE: Duration = Duration::from_secs(10);

/// What the fetching thread counted.
#[derive(Debug, Default)]
struct Fetched {
    redelivered: u64,
    undecodable: u64,
}

/// Fetches until `shutdown` (or the recorder stops taking events), then acknowledges what
/// the recorder stores until every receipt is gone.
fn fetch(
    consumer: &Consumer,
    runtime: &Handle,
    max: usize,
    shutdown: &Shutdown,
    events: flume::Sender<Pending>,
) -> Fetched {
    let (stored_tx, stored) = flume::unbounded::<vigie_bus::Delivery>();
    let acknowledge = |batch: Vec<vigie_bus::Delivery>| {
        if batch.is_empty() {
            return;
        }
        if let Err(e) = runtime.block_on(consumer.ack(&batch)) {
            // Redelivered later: repeat sightings, nothing doubled.
            warn!(error = %e, messages = batch.len(), "acknowledgement lost; the messages will be delivered again");
        }
    };
    let mut counts = Fetched::default();
    let mut outage: Option<Instant> = None;
    // Until a stop, or until the recorder stops taking events (a store error).
    'fetching: while !shutdown.is_signalled() && !events.is_disconnected() {
        acknowledge(stored.try_iter().collect());
        let deliveries = match runtime.block_on(consumer.fetch(max, Duration::from_millis(500))) {
            Ok(d) => {
                if let Some(since) = outage.take() {
                    info!(
                        down_ms = since.elapsed().as_millis() as u64,
                        "bus reachable again"
                    );
                }
                d
            }
            Err(e) => {
                if outage.is_none() {
                    warn!(error = %e, "bus unreachable; waiting for it (nothing is lost: unacknowledged events stay on the bus)");
                    outage = Some(Instant::now());
                }
                shutdown.sleep(Duration::from_secs(1));
                continue;
            }
        };
        for d in deliveries {
            if d.delivered() > 1 {
                counts.redelivered += 1;
            }
            match Event::decode(d.payload()) {
                Ok(event) => {
                    let slot = std::sync::Mutex::new(Some(d));
                    let stored_tx = stored_tx.clone();
                    let receipt = Receipt::new(move |result| {
                        if result.is_ok() {
                            let taken = slot.lock().ok().and_then(|mut s| s.take());
                            if let Some(d) = taken {
                                let _ = stored_tx.send(d);
                            }
                        }
                    });
                    let pending = Pending {
                        event,
                        receipt: Some(receipt),
                    };
                    if events.send(pending).is_err() {
                        break 'fetching; // the recorder stopped
                    }
                }
                Err(e) => {
                    counts.undecodable += 1;
                    error!(kind = d.kind(), sequence = d.sequence(), error = %e, "bus message is not a Vigie event; dropped");
                    if let Err(e) = runtime.block_on(consumer.term(&d)) {
                        warn!(error = %e, "could not drop an undecodable message; it will come back");
                    }
                }
            }
        }
    }
    // The recorder finishes what it has; its receipts come back until the last is dropped.
    drop(events);
    drop(stored_tx);
    while let Ok(first) = stored.recv() {
        let mut batch = vec![first];
        batch.extend(stored.try_iter());
        acknowledge(batch);
    }
    counts
}

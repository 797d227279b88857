//! The recorder: a matcher pool and the single store writer.
//!
//! Events come in batches (a channel drained for a few milliseconds, files read by a source, a
//! fetch from the bus). For each batch the documents whose content is not stored yet are
//! matched on a pool of threads (content already stored is never matched again), then the
//! whole batch is written with one [`Store::record_batch`] call, followed by the batch's
//! candidates, health records and checkpoints — checkpoints last, so a checkpoint is never
//! on disk ahead of the documents it covers.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tracing::{info, warn};
use vigie_core::Analysis;
use vigie_match::{Matcher, ScanOptions};
use vigie_store::{
    content_hash, AlertPolicy, BatchItem, ContentHash, Locator, Recorded, SnapshotOutcome, Store,
    StoreError, StoreReader,
};

use crate::event::{Document, Event, MatchText, Pending, Receipt};
use crate::source::Shutdown;

/// Why a batch was not recorded. Nothing of the batch's checkpoints was written.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("writing the store: {0}")]
    Store(#[from] StoreError),
}

impl RecordError {
    /// Worth trying the same batch again later (a full disk, a busy store).
    pub fn is_transient(&self) -> bool {
        match self {
            RecordError::Store(e) => e.is_transient(),
        }
    }
}

/// What recording one event gave.
#[derive(Debug)]
pub enum Outcome {
    Document {
        label: String,
        locator: Locator,
        recorded: Recorded,
    },
    Checkpoint {
        key: String,
    },
    Health {
        source: String,
    },
    Candidate {
        kind: String,
        name: String,
    },
}

/// Where the writer finds the store: lent by the caller for the whole run
/// (`Mutex<&mut Store>`), or shared with others of the process, such as the console
/// (`Mutex<Store>`), and then locked for each batch only.
pub trait StoreSlot: Sync {
    /// Runs `f` with the store locked.
    fn with<R>(&self, f: impl FnOnce(&mut Store) -> R) -> R;
}

impl StoreSlot for Mutex<Store> {
    fn with<R>(&self, f: impl FnOnce(&mut Store) -> R) -> R {
        // A poisoned lock means a panic elsewhere mid-call; RocksDB batches are atomic, so
        // the store itself is whole.
        f(&mut self.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl StoreSlot for Mutex<&mut Store> {
    fn with<R>(&self, f: impl FnOnce(&mut Store) -> R) -> R {
        f(&mut self.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// A batch taken off the channel and matched, waiting for the writer.
struct Prepared {
    events: Vec<Event>,
    receipts: Vec<Receipt>,
    analyses: Vec<(ContentHash, Option<Arc<Analysis>>)>,
}

fn documents_of(events: &[Event]) -> Vec<&Document> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Document(d) => Some(d),
            _ => None,
        })
        .collect()
}

/// What recording one batch gave, in the events' order.
#[derive(Debug, Default)]
pub struct BatchOutcome {
    pub outcomes: Vec<Outcome>,
    /// Alerts queued by the batch (the deliverers are woken when non-zero).
    pub alerts: usize,
    /// Documents new to the store.
    pub new_snapshots: usize,
}

/// Settings of a [`Recorder`].
#[derive(Debug, Clone, Copy)]
pub struct RecorderOptions {
    /// Matcher threads.
    pub workers: usize,
    /// Events per store write, at most.
    pub batch_max: usize,
    /// How long a partial batch waits for more events before it is written.
    pub linger: Duration,
}

impl Default for RecorderOptions {
    fn default() -> RecorderOptions {
        RecorderOptions {
            workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
            batch_max: 512,
            linger: Duration::from_millis(20),
        }
    }
}

/// The matcher pool and the policy deciding alerts; the store is passed to each call, so the
/// process that owns it (run, ingest, import, the bus consumer) keeps it.
pub struct Recorder {
    matcher: Arc<Matcher>,
    policy: Arc<dyn AlertPolicy + Send + Sync>,
    options: RecorderOptions,
}

impl Recorder {
    pub fn new(
        matcher: Arc<Matcher>,
        policy: Arc<dyn AlertPolicy + Send + Sync>,
        options: RecorderOptions,
    ) -> Recorder {
        Recorder {
            matcher,
            policy,
            options,
        }
    }

    pub fn options(&self) -> &RecorderOptions {
        &self.options
    }

    /// Waits up to `wait` for a first event, then takes what else is queued, up to
    /// `batch_max`, lingering briefly for more. Empty when nothing came (or the channel is
    /// closed: see `rx.is_disconnected()`).
    pub fn next_batch<T>(&self, rx: &flume::Receiver<T>, wait: Duration) -> Vec<T> {
        let mut batch = Vec::new();
        match rx.recv_timeout(wait) {
            Ok(e) => batch.push(e),
            Err(_) => return batch,
        }
        let until = Instant::now() + self.options.linger;
        while batch.len() < self.options.batch_max {
            match rx.try_recv() {
                Ok(e) => batch.push(e),
                Err(flume::TryRecvError::Empty) => {
                    let now = Instant::now();
                    if now >= until {
                        break;
                    }
                    match rx.recv_timeout(until - now) {
                        Ok(e) => batch.push(e),
                        Err(_) => break,
                    }
                }
                Err(flume::TryRecvError::Disconnected) => break,
            }
        }
        batch
    }

    /// Records what `events` brings until the channel closes, or until `shutdown` is
    /// signalled and then either the channel closes (every source stopped) or `grace` has
    /// passed. `after` runs after each batch, and at least every `poll` when nothing comes
    /// (the run's periodic jobs: waking deliverers, analysts' requests, time-stamps).
    ///
    /// Matching and writing overlap: the next batch is matched while the current one is
    /// written.
    pub fn run(
        &self,
        store: &mut Store,
        events: &flume::Receiver<Pending>,
        shutdown: &Shutdown,
        poll: Duration,
        grace: Duration,
        after: impl FnMut(&mut Store, &BatchOutcome),
    ) -> Result<(), RecordError> {
        self.run_shared(&Mutex::new(store), events, shutdown, poll, grace, after)
    }

    /// [`Recorder::run`] on a store the process shares (with the console): the lock is
    /// taken for each batch's write and for `after`, never while matching or waiting.
    pub fn run_shared(
        &self,
        store: &impl StoreSlot,
        events: &flume::Receiver<Pending>,
        shutdown: &Shutdown,
        poll: Duration,
        grace: Duration,
        mut after: impl FnMut(&mut Store, &BatchOutcome),
    ) -> Result<(), RecordError> {
        self.pipeline(
            store,
            events,
            Some((shutdown, grace)),
            poll,
            |store, out| {
                after(store, &out);
                ControlFlow::Continue(())
            },
        )
    }

    /// Records everything `events` brings until the channel closes (a finite source:
    /// ingest, an import, one crawl), matching the next batch while the current one is
    /// written. `each` gets every batch's outcome once it is stored; `Break` stops early
    /// (events not recorded yet are left in the channel, their receipts unsettled).
    pub fn drain(
        &self,
        store: &mut Store,
        events: &flume::Receiver<Pending>,
        mut each: impl FnMut(&mut Store, BatchOutcome) -> ControlFlow<()>,
    ) -> Result<(), RecordError> {
        self.pipeline(
            &Mutex::new(store),
            events,
            None,
            Duration::from_millis(200),
            |store, out| {
                if out.outcomes.is_empty() {
                    ControlFlow::Continue(())
                } else {
                    each(store, out)
                }
            },
        )
    }

    /// One thread takes batches off the channel and matches them (on the pool); this thread
    /// writes them, one behind. A batch is matched against the store as it was before the
    /// previous batch's write: content in both is matched twice, which the writer tolerates
    /// (it uses the analysis only for content it does not have).
    fn pipeline(
        &self,
        store: &impl StoreSlot,
        events: &flume::Receiver<Pending>,
        stopping: Option<(&Shutdown, Duration)>,
        poll: Duration,
        mut after: impl FnMut(&mut Store, BatchOutcome) -> ControlFlow<()>,
    ) -> Result<(), RecordError> {
        let reader = store.with(|s| s.reader());
        let quit = AtomicBool::new(false);
        // One matched batch waits while another is written: memory stays at two batches.
        let (matched_tx, matched) = flume::bounded::<Option<Prepared>>(1);
        std::thread::scope(|s| {
            let (reader, quit) = (&reader, &quit);
            s.spawn(move || {
                while !quit.load(Ordering::Relaxed) {
                    let batch = self.next_batch(events, poll);
                    let prepared = if batch.is_empty() {
                        if events.is_disconnected() && events.is_empty() {
                            break;
                        }
                        None
                    } else {
                        Some(self.prepare(reader, batch))
                    };
                    if matched_tx.send(prepared).is_err() {
                        break;
                    }
                }
            });
            let result = self.write_loop(store, &matched, events, stopping, poll, &mut after);
            quit.store(true, Ordering::Relaxed);
            drop(matched);
            result
        })
    }

    fn write_loop(
        &self,
        store: &impl StoreSlot,
        matched: &flume::Receiver<Option<Prepared>>,
        events: &flume::Receiver<Pending>,
        stopping: Option<(&Shutdown, Duration)>,
        poll: Duration,
        after: &mut impl FnMut(&mut Store, BatchOutcome) -> ControlFlow<()>,
    ) -> Result<(), RecordError> {
        let mut stopping_since: Option<Instant> = None;
        loop {
            if let Some((shutdown, grace)) = stopping {
                if stopping_since.is_none() && shutdown.is_signalled() {
                    stopping_since = Some(Instant::now());
                }
                if stopping_since.is_some_and(|t| t.elapsed() >= grace) {
                    let waiting = events.len() + matched.len();
                    if waiting > 0 {
                        warn!(
                            events = events.len(),
                            "stop grace period over; events not recorded are read again next run"
                        );
                    }
                    return Ok(());
                }
            }
            let step = match matched.recv_timeout(poll) {
                Ok(Some(prepared)) => store.with(|store| {
                    let out = self.write(store, prepared)?;
                    Ok::<_, RecordError>(after(store, out))
                })?,
                Ok(None) | Err(flume::RecvTimeoutError::Timeout) => {
                    store.with(|store| after(store, BatchOutcome::default()))
                }
                Err(flume::RecvTimeoutError::Disconnected) => return Ok(()),
            };
            if step.is_break() {
                return Ok(());
            }
        }
    }

    /// Matches the batch's new documents, then writes the batch. Receipts are settled after
    /// the write (and a sync when any document asked for one).
    pub fn record(
        &self,
        store: &mut Store,
        batch: Vec<Pending>,
    ) -> Result<BatchOutcome, RecordError> {
        let prepared = self.prepare(&store.reader(), batch);
        self.write(store, prepared)
    }

    /// [`Recorder::record`] without receipts.
    pub fn record_events(
        &self,
        store: &mut Store,
        events: &[Event],
    ) -> Result<BatchOutcome, RecordError> {
        let analyses = self.analyze(&store.reader(), &documents_of(events));
        self.write_events(store, events, &analyses)
    }

    fn prepare(&self, reader: &StoreReader, batch: Vec<Pending>) -> Prepared {
        let mut receipts = Vec::new();
        let mut events = Vec::with_capacity(batch.len());
        for p in batch {
            receipts.extend(p.receipt);
            events.push(p.event);
        }
        let analyses = self.analyze(reader, &documents_of(&events));
        Prepared {
            events,
            receipts,
            analyses,
        }
    }

    fn write(&self, store: &mut Store, prepared: Prepared) -> Result<BatchOutcome, RecordError> {
        let Prepared {
            events,
            receipts,
            analyses,
        } = prepared;
        let result = self
            .write_events(store, &events, &analyses)
            .and_then(|out| {
                if !receipts.is_empty() {
                    store.sync()?;
                }
                Ok(out)
            });
        match &result {
            Ok(_) => receipts.iter().for_each(|r| r.settle(Ok(()))),
            Err(e) => {
                let why = e.to_string();
                receipts.iter().for_each(|r| r.settle(Err(why.clone())));
            }
        }
        result
    }

    /// Writes the batch with the analyses of its documents (in the order of
    /// [`documents_of`]): one store batch, then candidates, health, checkpoints.
    fn write_events(
        &self,
        store: &mut Store,
        events: &[Event],
        analyses: &[(ContentHash, Option<Arc<Analysis>>)],
    ) -> Result<BatchOutcome, RecordError> {
        let documents = documents_of(events);
        let items: Vec<BatchItem<'_>> = documents
            .iter()
            .zip(analyses)
            .map(|(d, (hash, analysis))| BatchItem {
                content: &d.content,
                sighting: &d.sighting,
                analysis: analysis.as_deref(),
                hash: Some(*hash),
            })
            .collect();
        let recorded = store.record_batch(&items, self.policy.as_ref())?;
        let mut recorded = recorded.into_iter();
        let mut out = BatchOutcome::default();
        // Checkpoints are written last, the latest value of each key only.
        let mut checkpoints: Vec<(&str, &[u8])> = Vec::new();
        for event in events {
            match event {
                Event::Document(d) => {
                    let Some(r) = recorded.next() else { break };
                    out.alerts += r.alerts.len();
                    if r.snapshot == SnapshotOutcome::New {
                        out.new_snapshots += 1;
                        if let Some((incident, change)) = r.incident {
                            info!(source = %d.sighting.source, label = %d.label, incident, ?change, severity = %r.severity, alerts = r.alerts.len(), "recorded");
                        }
                    }
                    out.outcomes.push(Outcome::Document {
                        label: d.label.clone(),
                        locator: d.sighting.locator.clone(),
                        recorded: r,
                    });
                }
                Event::Candidate {
                    kind,
                    name,
                    seen_in,
                    at,
                } => {
                    store.note_candidate(kind, name, seen_in, *at)?;
                    out.outcomes.push(Outcome::Candidate {
                        kind: kind.clone(),
                        name: name.clone(),
                    });
                }
                Event::Health(h) => {
                    store.push_health(h.clone())?;
                    out.outcomes.push(Outcome::Health {
                        source: h.source.clone(),
                    });
                }
                Event::Checkpoint { key, value } => {
                    checkpoints.retain(|(k, _)| *k != key.as_str());
                    checkpoints.push((key, value));
                    out.outcomes.push(Outcome::Checkpoint { key: key.clone() });
                }
            }
        }
        for (key, value) in checkpoints {
            store.set_checkpoint(key, value)?;
        }
        Ok(out)
    }

    /// Analyses of `documents` (`None` for content already stored), on the pool. The same
    /// content twice in a batch is matched once.
    fn analyze(
        &self,
        reader: &StoreReader,
        documents: &[&Document],
    ) -> Vec<(ContentHash, Option<Arc<Analysis>>)> {
        let hashes: Vec<ContentHash> = documents.iter().map(|d| content_hash(&d.content)).collect();
        // First index of each distinct content: only those are matched.
        let mut first: HashMap<ContentHash, usize> = HashMap::new();
        let mut todo = Vec::new();
        for (i, h) in hashes.iter().enumerate() {
            if !first.contains_key(h) {
                first.insert(*h, i);
                todo.push(i);
            }
        }
        let results: Vec<Mutex<Option<Arc<Analysis>>>> =
            (0..documents.len()).map(|_| Mutex::new(None)).collect();
        let next = AtomicUsize::new(0);
        let workers = self.options.workers.clamp(1, todo.len().max(1));
        let work = || loop {
            let n = next.fetch_add(1, Ordering::Relaxed);
            let Some(&i) = todo.get(n) else { break };
            let (d, h) = (documents[i], &hashes[i]);
            let known = match reader.contains(h) {
                Ok(k) => k,
                Err(e) => {
                    // Matching anyway is safe: the writer ignores an analysis it does not need.
                    warn!(error = %e, "store unreadable while checking for known content");
                    false
                }
            };
            if !known {
                let analysis = self.analyze_one(d);
                if let Ok(mut slot) = results[i].lock() {
                    *slot = Some(Arc::new(analysis));
                }
            }
        };
        if workers <= 1 {
            work();
        } else {
            std::thread::scope(|s| {
                for _ in 0..workers {
                    s.spawn(work);
                }
            });
        }
        let results: Vec<Option<Arc<Analysis>>> = results
            .into_iter()
            .map(|m| m.into_inner().unwrap_or_else(|p| p.into_inner()))
            .collect();
        hashes
            .into_iter()
            .map(|h| {
                let analysis = first.get(&h).and_then(|&i| results[i].clone());
                (h, analysis)
            })
            .collect()
    }

    fn analyze_one(&self, d: &Document) -> Analysis {
        let options = ScanOptions {
            origin: d.origin,
            ..ScanOptions::default()
        };
        match &d.text {
            MatchText::Content => self.matcher.analyze(&d.label, &d.content, options),
            MatchText::Given(text) => self.matcher.analyze(&d.label, text, options),
            MatchText::Unpack => {
                let text = text_to_match(&d.label, &d.content);
                self.matcher.analyze(&d.label, &text, options)
            }
        }
    }
}

/// What to match for a file: the text vigie-unpack finds in an archive, workbook or PDF, else
/// the bytes as they are. The bytes themselves stay the evidence either way.
pub fn text_to_match<'a>(name: &str, bytes: &'a [u8]) -> std::borrow::Cow<'a, [u8]> {
    if vigie_unpack::worth_unpacking(&bytes[..bytes.len().min(2048)]) {
        match vigie_unpack::unpack(name, bytes, &vigie_unpack::Options::default()) {
            Ok(x) if x.entries > 0 => return std::borrow::Cow::Owned(x.text),
            Ok(_) => {}
            Err(e) => tracing::info!(file = name, error = %e, "archive not unpacked"),
        }
    }
    std::borrow::Cow::Borrowed(bytes)
}

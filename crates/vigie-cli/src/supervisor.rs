//! Supervision of `vigie run`'s source threads (the Tor collector, the Telegram previews, the
//! Telegram account). A thread that ends while the run is not stopping (a panic, an error, its
//! channel closed) is not silently gone: what it had handed over is recorded, the failure is
//! kept as a health record (`vigie sources health`, the digest), and the source is started
//! again from the store's checkpoints after a backoff (1 s doubling to 5 min, back to 1 s once
//! a thread has run for an hour).

use std::path::Path;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use tracing::{error, info, warn};
use vigie_alerts::Router;
use vigie_match::Matcher;
use vigie_store::{Store, Timestamp};
use vigie_tor::{HealthRecord, HealthStatus};

use crate::config::Config;

/// What a supervised source's thread needs to record its events (the store, at least).
pub trait Context {
    fn store(&mut self) -> &mut Store;
}

impl Context for Store {
    fn store(&mut self) -> &mut Store {
        self
    }
}

/// The run loop's recording context.
pub struct Recorder<'a> {
    pub store: &'a mut Store,
    pub matcher: &'a Matcher,
    pub router: &'a Router,
}

impl Context for Recorder<'_> {
    fn store(&mut self) -> &mut Store {
        self.store
    }
}

/// What one drain of a source's channel gave.
pub struct Drained {
    /// Alerts queued.
    pub alerts: usize,
    /// The channel is closed: the thread has gone (or is going).
    pub closed: bool,
}

/// A running source: a thread handing events over a channel.
pub trait SourceThread<C: ?Sized> {
    /// Records what the thread handed over since the last call.
    fn drain(&mut self, cx: &mut C) -> Result<Drained>;
    /// The thread's handle (`None` once taken).
    fn thread(&mut self) -> &mut Option<JoinHandle<()>>;
    /// Stops the thread and records what it had already handed over (bounded wait).
    fn stop(self, cx: &mut C) -> Result<()>;
}

/// Restart delays: `initial` doubling to `max`; a thread that ran `healthy` or longer
/// before failing starts again from `initial`.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
    pub healthy: Duration,
    next: Duration,
}

impl Backoff {
    pub fn new(initial: Duration, max: Duration, healthy: Duration) -> Backoff {
        Backoff {
            initial,
            max,
            healthy,
            next: initial,
        }
    }

    /// The wait before the next start, after a thread that ran `uptime` failed.
    pub fn after_failure(&mut self, uptime: Duration) -> Duration {
        if uptime >= self.healthy {
            self.next = self.initial;
        }
        let wait = self.next;
        self.next = self.next.saturating_mul(2).min(self.max);
        wait
    }
}

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff::new(
            Duration::from_secs(1),
            Duration::from_secs(300),
            Duration::from_secs(3600),
        )
    }
}

/// Starts a source again from the store's checkpoints.
type Start<'a, S> = Box<dyn FnMut(&Store) -> Result<S> + 'a>;

/// One supervised source.
pub struct Supervisor<'a, S> {
    /// Health-record name (`thread:…`, which no Tor source id can be).
    name: String,
    start: Start<'a, S>,
    running: Option<S>,
    started: Instant,
    backoff: Backoff,
    restart_at: Option<Instant>,
    restarts: u64,
}

impl<'a, S> Supervisor<'a, S> {
    /// Supervises `running`, started again with `start` whenever it dies.
    pub fn new(
        name: &str,
        running: S,
        backoff: Backoff,
        start: impl FnMut(&Store) -> Result<S> + 'a,
    ) -> Supervisor<'a, S> {
        Supervisor {
            name: format!("thread:{name}"),
            start: Box::new(start),
            running: Some(running),
            started: Instant::now(),
            backoff,
            restart_at: None,
            restarts: 0,
        }
    }

    /// How many times the source was started again.
    #[cfg(test)]
    pub fn restarts(&self) -> u64 {
        self.restarts
    }

    /// Records what the source handed over; a source found dead is recorded as a failure and
    /// restarted when its backoff has passed. Returns the alerts queued.
    pub fn drain<C: Context>(&mut self, cx: &mut C) -> Result<usize>
    where
        S: SourceThread<C>,
    {
        let mut alerts = 0;
        if let Some(source) = &mut self.running {
            let drained = source.drain(cx)?;
            alerts += drained.alerts;
            let finished = source.thread().as_ref().is_none_or(|t| t.is_finished());
            if drained.closed || finished {
                let why = match source.thread().take() {
                    Some(t) if t.is_finished() => match t.join() {
                        Ok(()) => "the thread ended unexpectedly".to_string(),
                        Err(payload) => format!("the thread panicked: {}", panic_text(&*payload)),
                    },
                    // Still running with its channel closed: stopped below, left to end.
                    Some(t) => {
                        *source.thread() = Some(t);
                        "the thread closed its channel".to_string()
                    }
                    None => "the thread is gone".to_string(),
                };
                // What it handed over before dying is recorded first.
                if let Some(source) = self.running.take() {
                    source.stop(cx)?;
                }
                self.failed(cx.store(), why)?;
            }
        }
        if self.running.is_none() && self.restart_at.is_some_and(|at| Instant::now() >= at) {
            match (self.start)(cx.store()) {
                Ok(source) => {
                    self.restarts += 1;
                    info!(source = %self.name, restarts = self.restarts, "source thread restarted");
                    self.running = Some(source);
                    self.started = Instant::now();
                    self.restart_at = None;
                }
                Err(e) => self.failed(cx.store(), format!("could not start again: {e:#}"))?,
            }
        }
        Ok(alerts)
    }

    /// Stops the source (the run is stopping).
    pub fn stop<C: Context>(mut self, cx: &mut C) -> Result<()>
    where
        S: SourceThread<C>,
    {
        match self.running.take() {
            Some(source) => source.stop(cx),
            None => Ok(()),
        }
    }

    /// Logs and records a failure; schedules the next start.
    fn failed(&mut self, store: &mut Store, why: String) -> Result<()> {
        let uptime = self.started.elapsed();
        let wait = self.backoff.after_failure(uptime);
        self.restart_at = Some(Instant::now() + wait);
        self.started = Instant::now() + wait;
        error!(source = %self.name, reason = %why, retry_in_ms = wait.as_millis() as u64, "source thread failed; restarting");
        let record = HealthRecord {
            source: self.name.clone(),
            at_ms: Timestamp::now().0,
            status: HealthStatus::Crashed,
            mirror: None,
            mirrors_failed: Vec::new(),
            pages_ok: 0,
            pages_failed: 0,
            documents: 0,
            counts: Default::default(),
            blind: Vec::new(),
            errors: vec![why, format!("restarting in {} ms", wait.as_millis())],
            elapsed_ms: uptime.as_millis() as u64,
        };
        crate::tor::push_health(store, record)
    }
}

/// `vigie run`'s sources, each supervised: the Tor collector, the Telegram previews (which
/// may fetch through the collector's transport) and the Telegram account.
pub struct Sources<'a> {
    tor: Option<Supervisor<'a, crate::tor::TorCollection>>,
    previews: Option<Supervisor<'a, crate::telegram::PreviewSources>>,
    live: Option<Supervisor<'a, crate::telegram_live::LiveChannels>>,
}

impl<'a> Sources<'a> {
    /// Starts the configured sources. Configuration problems fail here; a restart reads the
    /// same configuration and the store's checkpoints of the moment.
    pub fn start(config: &'a Config, store: &Store, store_dir: &Path) -> Result<Sources<'a>> {
        use crate::telegram::PreviewSources;
        use crate::telegram_live::LiveChannels;
        use crate::tor::TorCollection;
        let tor = TorCollection::start(config, store, store_dir)?;
        let access = tor.as_ref().map(|t| t.access());
        let previews = PreviewSources::start(&config.telegram_preview, access.clone(), store)?;
        let live = LiveChannels::start(config, store, store_dir)?;
        let dir = store_dir.to_path_buf();
        let tor = tor.map(|t| {
            let (access, dir) = (t.access(), dir.clone());
            Supervisor::new("tor", t, Backoff::default(), move |store: &Store| {
                TorCollection::start_with(config, store, &dir, Arc::clone(&access))
            })
        });
        let previews = previews.map(|p| {
            Supervisor::new(
                "telegram-preview",
                p,
                Backoff::default(),
                move |store: &Store| {
                    PreviewSources::start(&config.telegram_preview, access.clone(), store)?
                        .context("no [[telegram_preview]] configured")
                },
            )
        });
        let live = live.map(|l| {
            Supervisor::new("telegram", l, Backoff::default(), move |store: &Store| {
                LiveChannels::restart(config, store, &dir)
            })
        });
        Ok(Sources {
            tor,
            previews,
            live,
        })
    }

    /// Records what every source handed over (restarting any found dead); returns the
    /// alerts queued.
    pub fn drain(&mut self, cx: &mut Recorder<'_>) -> Result<usize> {
        let mut alerts = 0;
        if let Some(p) = &mut self.previews {
            alerts += p.drain(cx)?;
        }
        if let Some(l) = &mut self.live {
            alerts += l.drain(cx)?;
        }
        if let Some(t) = &mut self.tor {
            alerts += t.drain(cx)?;
        }
        Ok(alerts)
    }

    /// Stops every source, recording what each had handed over; the Tor collector last (the
    /// previews may fetch through it). A failure is logged and the others still stop.
    pub fn stop(self, cx: &mut Recorder<'_>) {
        if let Some(p) = self.previews {
            if let Err(e) = p.stop(cx) {
                warn!(error = %e, "recording the last Telegram preview posts failed");
            }
        }
        if let Some(l) = self.live {
            if let Err(e) = l.stop(cx) {
                warn!(error = %e, "recording the last Telegram messages failed");
            }
        }
        if let Some(t) = self.tor {
            if let Err(e) = t.stop(cx) {
                warn!(error = %e, "recording the Tor collector's last events failed");
            }
        }
    }
}

/// A panic's message, cut short, its digits masked: a panic on outside data may quote it
/// (a slice off a char boundary shows the text), and this record reaches the digest.
fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    let text = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into());
    text.chars()
        .take(160)
        .map(|c| if c.is_ascii_digit() { '#' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc;
    use std::sync::Arc;

    #[test]
    fn backoff_doubles_to_its_cap_and_resets_after_a_healthy_run() {
        let mut b = Backoff::new(
            Duration::from_secs(1),
            Duration::from_secs(300),
            Duration::from_secs(3600),
        );
        let short = Duration::from_secs(2);
        let waits: Vec<u64> = (0..11).map(|_| b.after_failure(short).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
        assert_eq!(b.after_failure(Duration::from_secs(3600)).as_secs(), 1);
        assert_eq!(b.after_failure(short).as_secs(), 2);
    }

    /// A fake source: a thread that sends `n` numbers, panicking first if it is told to.
    struct Fake {
        events: mpsc::Receiver<u32>,
        thread: Option<JoinHandle<()>>,
        got: Arc<std::sync::Mutex<Vec<u32>>>,
    }

    impl Fake {
        fn start(panic: bool, from: u32, got: &Arc<std::sync::Mutex<Vec<u32>>>) -> Fake {
            let (tx, rx) = mpsc::channel();
            let thread = std::thread::spawn(move || {
                tx.send(from).unwrap();
                if panic {
                    panic!("bad page: NIR 185057800608436 at byte 12");
                }
                tx.send(from + 1).unwrap();
                // A healthy source keeps running until stopped (its sender held open).
                std::thread::sleep(Duration::from_secs(3600));
            });
            Fake {
                events: rx,
                thread: Some(thread),
                got: Arc::clone(got),
            }
        }
    }

    impl SourceThread<Store> for Fake {
        fn drain(&mut self, _: &mut Store) -> Result<Drained> {
            let mut closed = false;
            loop {
                match self.events.try_recv() {
                    Ok(n) => self.got.lock().unwrap().push(n),
                    Err(mpsc::TryRecvError::Empty) => break,
                    Err(mpsc::TryRecvError::Disconnected) => {
                        closed = true;
                        break;
                    }
                }
            }
            Ok(Drained { alerts: 0, closed })
        }
        fn thread(&mut self) -> &mut Option<JoinHandle<()>> {
            &mut self.thread
        }
        fn stop(mut self, cx: &mut Store) -> Result<()> {
            self.drain(cx).map(|_| ())
        }
    }

    #[test]
    fn a_source_that_panics_is_recorded_and_restarted() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("store")).unwrap();
        let got = Arc::new(std::sync::Mutex::new(Vec::new()));
        let starts = Arc::new(AtomicUsize::new(0));
        let (g, s) = (Arc::clone(&got), Arc::clone(&starts));
        // The first thread panics after one event; the restarted ones work.
        let mut sup = Supervisor::new(
            "fake",
            Fake::start(true, 10, &got),
            Backoff::new(
                Duration::from_millis(20),
                Duration::from_millis(100),
                Duration::from_secs(60),
            ),
            move |_: &Store| {
                s.fetch_add(1, Ordering::SeqCst);
                Ok(Fake::start(false, 20, &g))
            },
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        while got.lock().unwrap().len() < 3 {
            assert!(Instant::now() < deadline, "not restarted: {:?}", got);
            sup.drain(&mut store).unwrap();
            std::thread::sleep(Duration::from_millis(5));
        }
        // The event before the panic was kept, then the restarted thread's.
        assert_eq!(*got.lock().unwrap(), [10, 20, 21]);
        assert_eq!(starts.load(Ordering::SeqCst), 1);
        assert_eq!(sup.restarts(), 1);
        let records: Vec<HealthRecord> = serde_json::from_slice(
            &store
                .checkpoint(&vigie_tor::health_key("thread:fake"))
                .unwrap()
                .expect("a health record"),
        )
        .unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].status, HealthStatus::Crashed);
        assert_eq!(records[0].source, "thread:fake");
        assert!(
            records[0].errors[0].starts_with("the thread panicked: bad page"),
            "{:?}",
            records[0].errors
        );
        // The panic quoted a NIR: its digits are not kept.
        assert!(!records[0].errors[0].contains("185057800608436"));
        assert_eq!(records[0].errors[1], "restarting in 20 ms");
        // Healthy now: further drains record nothing more.
        for _ in 0..5 {
            sup.drain(&mut store).unwrap();
            std::thread::sleep(Duration::from_millis(30));
        }
        assert_eq!(sup.restarts(), 1);
        sup.stop(&mut store).unwrap();
    }

    #[test]
    fn a_source_whose_thread_returns_is_restarted_after_its_backoff() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("store")).unwrap();
        let got = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel::<u32>();
        drop(tx);
        let thread = std::thread::spawn(|| {});
        while !thread.is_finished() {
            std::thread::sleep(Duration::from_millis(1));
        }
        let ended = Fake {
            events: rx,
            thread: Some(thread),
            got: Arc::clone(&got),
        };
        let g = Arc::clone(&got);
        let mut sup = Supervisor::new(
            "quits",
            ended,
            Backoff::new(
                Duration::from_millis(300),
                Duration::from_secs(1),
                Duration::from_secs(60),
            ),
            move |_: &Store| Ok(Fake::start(false, 1, &g)),
        );
        let failed_at = Instant::now();
        sup.drain(&mut store).unwrap();
        // Not before the backoff.
        while failed_at.elapsed() < Duration::from_millis(250) {
            sup.drain(&mut store).unwrap();
            assert_eq!(sup.restarts(), 0);
            std::thread::sleep(Duration::from_millis(10));
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while sup.restarts() == 0 {
            assert!(Instant::now() < deadline);
            sup.drain(&mut store).unwrap();
            std::thread::sleep(Duration::from_millis(10));
        }
        let records: Vec<HealthRecord> = serde_json::from_slice(
            &store
                .checkpoint(&vigie_tor::health_key("thread:quits"))
                .unwrap()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(records[0].errors[0], "the thread ended unexpectedly");
        sup.stop(&mut store).unwrap();
    }
}

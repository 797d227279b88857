//! `vigie run` and the two roles of distributed mode. The pipeline (vigie-pipeline) does the
//! work; this file assembles it from the configuration and reports.
//!
//! - `vigie run`: every configured source (Tor, Telegram previews and account, the spool)
//!   → the recorder (matcher pool, one batched store writer, alerts decided in the same
//!   write) → delivery threads.
//! - `vigie run --bus URL`: the recorder role, fed by the bus instead of local sources.
//! - `vigie collect --bus URL [SOURCE…]`: the collector role, sources → the bus.
//!
//! SIGINT or SIGTERM stops each of them between two batches: nothing is half-written,
//! pending alerts stay in the outbox for the next start, unacknowledged bus messages stay on
//! the bus.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use tracing::{info, warn};
use vigie_alerts::Deliverer;
use vigie_match::Matcher;
use vigie_pipeline::bus::{consume, forward, BusCheckpoints};
use vigie_pipeline::{
    BatchOutcome, Recorder, RecorderOptions, Shutdown, Supervisor, SupervisorOptions,
};
use vigie_store::Store;

use crate::config::Config;
use crate::console::Server;
use crate::{requests, shipped, Outcome};

/// How long a stopping run keeps recording what sources already read.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// A shutdown signalled by SIGINT or SIGTERM.
fn on_signals() -> Result<Shutdown> {
    let shutdown = Shutdown::new();
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, shutdown.flag())
            .context("installing the signal handlers")?;
    }
    Ok(shutdown)
}

/// The recording side of a run: the store, the recorder, the deliverers, the time-stamper.
struct RecordingSide {
    /// Shared with the console when it is served: the recorder locks it per batch.
    store: Arc<Mutex<Store>>,
    matcher: Arc<Matcher>,
    /// What the console's alerts screen shows of the recipients.
    recipients: Vec<vigie_console::RecipientSummary>,
    recorder: Recorder,
    wake: crossbeam_channel::Sender<()>,
    delivery_stop: Arc<std::sync::atomic::AtomicBool>,
    deliverers: Vec<std::thread::JoinHandle<()>>,
    stamper: Option<crate::timestamping::Stamper>,
}

impl RecordingSide {
    fn open(config: &Config, store_flag: Option<&Path>) -> Result<RecordingSide> {
        let watchlist = shipped::load(&config.watchlists)?;
        let matcher = Matcher::new(&watchlist).context("compiling the watchlists")?;
        let (router, recipients) = crate::alerting::setup(config, &watchlist)?;
        let summaries = crate::alerting::recipient_summaries(config, &watchlist);
        let dir = config.store_dir(store_flag);
        let store =
            Store::open(&dir).with_context(|| format!("opening the store {}", dir.display()))?;
        let (wake, wake_rx) = crossbeam_channel::bounded::<()>(1);
        let delivery_stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let deliverers = if recipients.is_empty() {
            warn!("no [[recipient]] configured: incidents are recorded, no alert is sent");
            Vec::new()
        } else {
            Deliverer::new(store.alert_queue(), recipients, config.delivery.clone())?
                .spawn(wake_rx, Arc::clone(&delivery_stop))
        };
        // Time-stamps are requested on a thread of their own: a TSA that hangs never holds
        // the documents waiting to be recorded.
        let stamper = crate::timestamping::Stamper::start(config.timestamping.as_ref(), &store)?;
        let matcher = Arc::new(matcher);
        let recorder = Recorder::new(
            Arc::clone(&matcher),
            Arc::new(router),
            RecorderOptions::default(),
        );
        info!(store = %dir.display(), "store open");
        Ok(RecordingSide {
            store: Arc::new(Mutex::new(store)),
            matcher,
            recipients: summaries,
            recorder,
            wake,
            delivery_stop,
            deliverers,
            stamper,
        })
    }

    /// After each batch, and every poll interval: wake the deliverers when alerts were
    /// queued, apply analysts' queued requests, ask for due time-stamps.
    fn after_batch(
        wake: &crossbeam_channel::Sender<()>,
        stamper: &mut Option<crate::timestamping::Stamper>,
        store: &mut Store,
        outcome: &BatchOutcome,
    ) {
        if outcome.alerts > 0 {
            let _ = wake.try_send(());
        }
        if requests::apply_queued(store) > 0 {
            let _ = wake.try_send(());
        }
        if let Some(stamper) = stamper {
            stamper.poll(store);
        }
    }

    /// The console on the run's store, when the configuration has a `[console]` section.
    fn serve_console(&self, config: &Config, shutdown: &Shutdown) -> Result<Option<Server>> {
        let Some(console) = config.console.clone() else {
            return Ok(None);
        };
        if self.lock().users()?.is_empty() {
            warn!("[console] is configured but has no user yet: add one with `vigie users add NAME --role admin` (password on stdin)");
        }
        let server = Server::start(
            console,
            Arc::clone(&self.store),
            Arc::clone(&self.matcher),
            self.recipients.clone(),
            shutdown.flag(),
        )?;
        Ok(Some(server))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Store> {
        // A poisoned lock means a console request panicked mid-call; RocksDB batches are
        // atomic, so the store itself is whole.
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn close(mut self, console: Option<Server>) -> Result<()> {
        info!("stopping: saving the store, letting deliveries in flight finish");
        if let Some(console) = console {
            if let Err(e) = console.join() {
                warn!(error = %format!("{e:#}"), "console stopped with an error");
            }
        }
        if let Some(stamper) = self.stamper.take() {
            stamper.stop(&mut self.lock());
        }
        self.delivery_stop
            .store(true, std::sync::atomic::Ordering::Relaxed);
        drop(self.wake);
        // The senders record their last results first; the sync then covers them too.
        for h in std::mem::take(&mut self.deliverers) {
            let _ = h.join();
        }
        let store = self.store.lock().unwrap_or_else(|p| p.into_inner());
        store.sync().context("syncing the store")?;
        store.flush().context("flushing the store")?;
        Ok(())
    }
}

/// `vigie run`: everything in one process.
pub fn run(config: &Config, store_flag: Option<&Path>) -> Result<Outcome> {
    let shutdown = on_signals()?;
    let mut side = RecordingSide::open(config, store_flag)?;
    let console = side.serve_console(config, &shutdown)?;
    let dir = config.store_dir(store_flag);
    let (sources, ready) = crate::assemble::sources(config, &dir, &[])?;
    let reader = side.lock().reader();
    let (supervisor, events) = Supervisor::start(
        sources,
        Arc::new(reader),
        shutdown.clone(),
        SupervisorOptions::default(),
    )
    .context("starting the sources")?;
    if let Some(ready) = ready {
        wait_for_sign_in(&ready, &supervisor)?;
    }
    info!("vigie run started; SIGINT or SIGTERM stops it");
    let poll = Duration::from_millis(config.run.poll_ms.max(10));
    let RecordingSide {
        store,
        recorder,
        wake,
        stamper,
        ..
    } = &mut side;
    let result = recorder.run_shared(
        store.as_ref(),
        &events,
        &shutdown,
        poll,
        STOP_GRACE,
        |store, out| RecordingSide::after_batch(wake, stamper, store, out),
    );
    supervisor.stop(Duration::from_millis(500));
    // An error stops the run: the console goes with it.
    shutdown.signal();
    let closed = side.close(console);
    result.context("recording")?;
    closed?;
    Ok(Outcome::Success)
}

/// `vigie run --bus URL`: the recorder role.
pub fn record_from_bus(config: &Config, store_flag: Option<&Path>, url: &str) -> Result<Outcome> {
    let shutdown = on_signals()?;
    let settings = crate::bus::settings(config, url)?;
    let runtime = crate::bus::runtime()?;
    let bus = crate::bus::connect(&runtime, &settings)?;
    // After a node loss the cluster answers "timed out" until a new leader is elected.
    let consumer = runtime
        .block_on(bus.consumer_with_retry(Some(Duration::from_secs(300))))
        .context("opening the bus consumer")?;
    let mut side = RecordingSide::open(config, store_flag)?;
    let console = side.serve_console(config, &shutdown)?;
    info!(bus = %settings.redacted_urls(), stream = %settings.stream, consumer = %settings.consumer, "recording from the bus; SIGINT or SIGTERM stops it");
    let RecordingSide {
        store,
        recorder,
        wake,
        stamper,
        ..
    } = &mut side;
    let result = consume(
        &consumer,
        runtime.handle(),
        recorder,
        store.as_ref(),
        &shutdown,
        |store, out| RecordingSide::after_batch(wake, stamper, store, out),
    );
    shutdown.signal();
    let closed = side.close(console);
    let consumed = result.context("recording from the bus")?;
    closed?;
    info!(
        messages = consumed.messages,
        batches = consumed.batches,
        new_snapshots = consumed.new_snapshots,
        redelivered = consumed.redelivered,
        undecodable = consumed.undecodable,
        "recorder stopped"
    );
    Ok(Outcome::Success)
}

/// `vigie collect --bus URL [SOURCE…]`: the collector role.
pub fn collect(
    config: &Config,
    store_flag: Option<&Path>,
    url: &str,
    names: &[String],
) -> Result<Outcome> {
    let shutdown = on_signals()?;
    let settings = crate::bus::settings(config, url)?;
    let runtime = crate::bus::runtime()?;
    let bus = crate::bus::connect(&runtime, &settings)?;
    let publisher = {
        let _in_runtime = runtime.enter();
        bus.publisher()
    };
    let kv = runtime
        .block_on(bus.checkpoints())
        .context("opening the checkpoint bucket")?;
    // The store directory only holds local state of the collectors (Tor's cache, the
    // Telegram session); evidence and checkpoints live on the recorder's side and the bus.
    let dir = config.store_dir(store_flag);
    let (sources, ready) = crate::assemble::sources(config, &dir, names)?;
    if sources.is_empty() {
        anyhow::bail!("no source to collect: configure [[tor_source]], [[telegram_preview]], [telegram] or run.spool, or name one");
    }
    let checkpoints = Arc::new(BusCheckpoints::new(kv.clone(), runtime.handle().clone()));
    let (supervisor, events) = Supervisor::start(
        sources,
        checkpoints,
        shutdown.clone(),
        SupervisorOptions::default(),
    )
    .context("starting the sources")?;
    if let Some(ready) = ready {
        wait_for_sign_in(&ready, &supervisor)?;
    }
    info!(bus = %settings.redacted_urls(), "collecting to the bus; SIGINT or SIGTERM stops it");
    let sent = forward(&events, &publisher, &kv, runtime.handle(), &shutdown);
    supervisor.stop(Duration::from_millis(500));
    crate::bus::print_forwarded(&sent, &settings);
    Ok(Outcome::Success)
}

/// A Telegram account that is not signed in fails the start (as a wrong config would), so
/// the operator learns it at once rather than from a health record.
fn wait_for_sign_in(ready: &vigie_telegram::source::Ready, supervisor: &Supervisor) -> Result<()> {
    match ready.wait(Duration::from_secs(60)) {
        Ok(true) => Ok(()),
        Ok(false) => {
            warn!("the Telegram account has not signed in within 60 s; it keeps trying");
            Ok(())
        }
        Err(e) => {
            supervisor.shutdown().signal();
            Err(anyhow::anyhow!("the Telegram account: {e}"))
        }
    }
}

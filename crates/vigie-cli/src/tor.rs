//! The Tor collector in `vigie run` and `vigie crawl`, and `vigie sources health`. The
//! collector runs on its own tokio runtime thread and hands its events over a channel; this
//! module records them in the store (the only writer), in the order they came.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use tokio::sync::{mpsc, watch};
use tracing::{error, info};
use vigie_alerts::Router;
use vigie_match::{Matcher, ScanOptions};
use vigie_store::{content_hash, Locator, Sighting, SnapshotOutcome, Store, Timestamp};
use vigie_telegram::{PageFetcher, TelegramError};
use vigie_tor::{
    checkpoint_key, Collector, CollectorEvent, HealthRecord, HealthStatus, HttpClient, Session,
    TorSource,
};

use crate::config::Config;
use crate::stopping::{reap, Drain, Received, TryReceive};
use crate::supervisor::{Drained, Recorder, SourceThread};
use crate::Outcome;

/// How long a stopping run keeps recording what the collector already fetched.
const DRAIN_GRACE: Duration = Duration::from_secs(8);

/// Checks `[tor]` and `[[tor_source]]` (cookie secrets from the environment included).
fn prepare(config: &Config) -> Result<(vigie_tor::TorSettings, Vec<TorSource>)> {
    let settings = config.tor.clone().unwrap_or_default();
    let sources = vigie_tor::validate(&settings, &config.tor_source, &|v| std::env::var(v).ok())?;
    if let Some(p) = &settings.arti_config {
        if !p.is_file() {
            bail!("[tor] arti_config {} does not exist", p.display());
        }
    }
    Ok((settings, sources))
}

fn tor_dir(store_dir: &Path) -> Result<PathBuf> {
    let dir = store_dir.join("tor");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("restricting {}", dir.display()))?;
    }
    Ok(dir)
}

fn checkpoints(store: &Store, sources: &[TorSource]) -> Result<HashMap<String, Vec<u8>>> {
    let mut out = HashMap::new();
    for s in sources {
        if let Some(b) = store.checkpoint(&checkpoint_key(&s.id))? {
            out.insert(s.id.clone(), b);
        }
    }
    Ok(out)
}

/// The collector's HTTP client and runtime while Tor is bootstrapped: how other sources
/// (Telegram previews with `via_tor`) fetch through the same transport and limits. Emptied
/// when the collector's thread ends, filled again by its restart.
pub type TorAccess = Arc<RwLock<Option<(tokio::runtime::Handle, Arc<HttpClient>)>>>;

/// Pages fetched through Tor for one Telegram preview channel, on a circuit of its own.
pub struct TorPages {
    access: TorAccess,
    session: Arc<Session>,
}

impl TorPages {
    pub fn new(access: TorAccess, label: &str) -> TorPages {
        TorPages {
            access,
            session: Arc::new(Session::new(label, None)),
        }
    }
}

impl PageFetcher for TorPages {
    fn get(&self, url: &str, max_body: u64) -> Result<Vec<u8>, TelegramError> {
        let current = self.access.read().ok().and_then(|a| a.clone());
        let Some((runtime, http)) = current else {
            return Err(TelegramError::Fetch(
                "Tor has not bootstrapped yet; retrying next interval".into(),
            ));
        };
        let parsed =
            url::Url::parse(url).map_err(|e| TelegramError::Fetch(format!("{url}: {e}")))?;
        // Run on the Tor runtime and wait for the answer here: if that runtime stops (the run
        // is stopping), the fetch is dropped and this returns an error instead of panicking.
        let (tx, rx) = std::sync::mpsc::channel();
        let session = Arc::clone(&self.session);
        runtime.spawn(async move {
            let _ = tx.send(http.get(&parsed, &session).await);
        });
        let page = rx
            .recv()
            .map_err(|_| TelegramError::Fetch(format!("{url}: Tor stopped during the fetch")))?
            .map_err(|e| TelegramError::Fetch(format!("{url} over Tor: {e}")))?;
        if page.body.len() as u64 > max_body {
            return Err(TelegramError::Fetch(format!(
                "{url}: body over {max_body} bytes, refused"
            )));
        }
        Ok(page.body)
    }
}

/// The collector running beside `vigie run`'s loop.
pub struct TorCollection {
    events: mpsc::Receiver<CollectorEvent>,
    stop: watch::Sender<bool>,
    thread: Option<std::thread::JoinHandle<()>>,
    access: TorAccess,
}

impl TorCollection {
    /// Starts the collector when sources are configured (or a Telegram preview goes through
    /// Tor). Configuration problems fail here; Tor bootstrap happens on the collector's thread
    /// (retried, logged) so the rest of the run is not held up.
    pub fn start(
        config: &Config,
        store: &Store,
        store_dir: &Path,
    ) -> Result<Option<TorCollection>> {
        if config.tor_source.is_empty() && !config.telegram_preview.iter().any(|p| p.via_tor) {
            return Ok(None);
        }
        TorCollection::start_with(config, store, store_dir, TorAccess::default()).map(Some)
    }

    /// Starts the collector publishing its transport in `access` (a restart keeps the
    /// access the previews already hold).
    pub fn start_with(
        config: &Config,
        store: &Store,
        store_dir: &Path,
        access: TorAccess,
    ) -> Result<TorCollection> {
        let (settings, sources) = prepare(config)?;
        let checkpoints = checkpoints(store, &sources)?;
        let dir = tor_dir(store_dir)?;
        let (tx, rx) = mpsc::channel(1024);
        let (stop_tx, stop_rx) = watch::channel(false);
        let published = Arc::clone(&access);
        let thread = std::thread::Builder::new()
            .name("vigie-tor".into())
            .spawn(move || {
                collector_thread(settings, sources, checkpoints, dir, tx, stop_rx, published)
            })
            .context("starting the Tor collector thread")?;
        Ok(TorCollection {
            events: rx,
            stop: stop_tx,
            thread: Some(thread),
            access,
        })
    }

    /// The transport for other sources, once bootstrapped.
    pub fn access(&self) -> TorAccess {
        Arc::clone(&self.access)
    }

    /// Records every event waiting; says how many alerts were queued and whether the
    /// collector's channel is closed (its thread gone).
    pub fn drain(
        &mut self,
        store: &mut Store,
        matcher: &Matcher,
        router: &Router,
    ) -> Result<Drained> {
        let mut alerts = 0;
        loop {
            match self.events.try_receive() {
                Received::Event(ev) => alerts += record_event(store, matcher, router, ev)?,
                Received::Empty => {
                    return Ok(Drained {
                        alerts,
                        closed: false,
                    })
                }
                Received::Closed => {
                    return Ok(Drained {
                        alerts,
                        closed: true,
                    })
                }
            }
        }
    }

    /// Stops the collector and records what it had already fetched (bounded wait).
    pub fn stop(mut self, store: &mut Store, matcher: &Matcher, router: &Router) -> Result<()> {
        let _ = self.stop.send(true);
        let drain = Drain::new(
            DRAIN_GRACE,
            "Tor collector still busy at shutdown; unfinished pages will be fetched next run",
        );
        while let Some(ev) = drain.next(&mut self.events) {
            record_event(store, matcher, router, ev)?;
        }
        reap(self.thread.take());
        Ok(())
    }
}

impl SourceThread<Recorder<'_>> for TorCollection {
    fn drain(&mut self, cx: &mut Recorder<'_>) -> Result<Drained> {
        TorCollection::drain(self, cx.store, cx.matcher, cx.router)
    }
    fn thread(&mut self) -> &mut Option<std::thread::JoinHandle<()>> {
        &mut self.thread
    }
    fn stop(self, cx: &mut Recorder<'_>) -> Result<()> {
        TorCollection::stop(self, cx.store, cx.matcher, cx.router)
    }
}

/// The collector's own runtime: two workers, so fetches wait on Tor while parsing runs.
fn collector_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
}

fn collector_thread(
    settings: vigie_tor::TorSettings,
    sources: Vec<TorSource>,
    checkpoints: HashMap<String, Vec<u8>>,
    dir: PathBuf,
    tx: mpsc::Sender<CollectorEvent>,
    mut stop: watch::Receiver<bool>,
    access: TorAccess,
) {
    let runtime = match collector_runtime() {
        Ok(r) => r,
        Err(e) => {
            error!(error = %e, "cannot start the Tor collector's runtime");
            return;
        }
    };
    // The channel stays open while this thread lives (a collector without sources of its own
    // drops its sender at once): a closed channel means the thread is gone.
    let _open = tx.clone();
    let _clear = ClearOnExit(Arc::clone(&access));
    runtime.block_on(async move {
        let mut wait = Duration::from_secs(5);
        let collector = loop {
            match Collector::start(settings.clone(), sources.clone(), &checkpoints, &dir).await {
                Ok(c) => break c,
                Err(e) => {
                    error!(error = %e, retry_in_secs = wait.as_secs(), "Tor collector could not start");
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = stop.changed() => return,
                    }
                    wait = (wait * 2).min(Duration::from_secs(300));
                }
            }
        };
        info!(sources = ?collector.source_ids(), "Tor collector running");
        if let Ok(mut a) = access.write() {
            *a = Some((tokio::runtime::Handle::current(), collector.http_client()));
        }
        // Without sources of its own the collector only serves other sources' fetches: the
        // runtime stays up until the run stops.
        let idle = collector.source_ids().is_empty();
        let until_stopped = {
            let mut stop = stop.clone();
            async move {
                while !*stop.borrow() {
                    if stop.changed().await.is_err() {
                        break;
                    }
                }
            }
        };
        let grace = {
            let mut stop = stop.clone();
            async move {
                while !*stop.borrow() {
                    if stop.changed().await.is_err() {
                        break;
                    }
                }
                tokio::time::sleep(DRAIN_GRACE / 2).await;
            }
        };
        let run = async {
            Arc::clone(&collector).run(tx, stop).await;
            if idle {
                until_stopped.await;
            }
        };
        tokio::select! {
            _ = run => {}
            _ = grace => {}
        }
    });
    runtime.shutdown_timeout(Duration::from_secs(1));
}

/// Empties the published transport when the collector's thread ends, a panic included.
struct ClearOnExit(TorAccess);

impl Drop for ClearOnExit {
    fn drop(&mut self) {
        if let Ok(mut a) = self.0.write() {
            *a = None;
        }
    }
}

/// Records one collector event; returns the alerts it queued.
pub fn record_event(
    store: &mut Store,
    matcher: &Matcher,
    router: &Router,
    ev: CollectorEvent,
) -> Result<usize> {
    match ev {
        CollectorEvent::Document(d) => {
            let bytes = d.document.as_bytes();
            let analysis = if store.contains(&content_hash(bytes))? {
                None
            } else {
                // A leak-site entry is a ransomware claim by construction (issue 16).
                let origin = match d.kind {
                    vigie_tor::SourceKind::LeakSite => vigie_core::Origin::LeakSite,
                    vigie_tor::SourceKind::Forum => vigie_core::Origin::Forum,
                    _ => vigie_core::Origin::Unknown,
                };
                let options = ScanOptions {
                    origin,
                    ..ScanOptions::default()
                };
                Some(matcher.analyze(&d.url, bytes, options))
            };
            let sighting = Sighting {
                source: d.source.clone(),
                locator: Locator::Url { url: d.url.clone() },
                fetched_at: Timestamp(d.fetched_at_ms),
                collector: "tor".into(),
                details: Default::default(),
            };
            let recorded = store
                .record_alerting(bytes, &sighting, analysis.as_ref(), router)
                .with_context(|| format!("recording {}", d.url))?;
            if recorded.snapshot == SnapshotOutcome::New {
                info!(
                    source = %d.source,
                    url = %d.url,
                    incident = ?recorded.incident.map(|(id, _)| id),
                    severity = %recorded.severity,
                    alerts = recorded.alerts.len(),
                    "tor post recorded"
                );
            }
            Ok(recorded.alerts.len())
        }
        CollectorEvent::Candidate {
            onion,
            seen_in,
            at_ms,
        } => {
            store.note_candidate("onion", &onion, &seen_in, Timestamp(at_ms))?;
            Ok(0)
        }
        CollectorEvent::Checkpoint { key, cursor } => {
            store.set_checkpoint(&key, &cursor)?;
            Ok(0)
        }
        CollectorEvent::Health(h) => {
            push_health(store, h)?;
            Ok(0)
        }
    }
}

/// Appends a health record to its source's history (the store keeps the last
/// [`vigie_store::HEALTH_HISTORY`]).
pub fn push_health(store: &mut Store, h: HealthRecord) -> Result<()> {
    store.push_health(h)?;
    Ok(())
}

/// `vigie crawl SOURCE...`: each source once, concurrently, recorded as `vigie run` would.
pub fn crawl(
    config: &Config,
    store_flag: Option<&Path>,
    ids: &[String],
    json: bool,
) -> Result<Outcome> {
    let (settings, sources) = prepare(config)?;
    for id in ids {
        if !sources.iter().any(|s| &s.id == id) {
            bail!("no [[tor_source]] with id {id:?} in the configuration");
        }
    }
    let watchlist = crate::shipped::load(&config.watchlists)?;
    let matcher = Matcher::new(&watchlist).context("compiling the watchlists")?;
    let (router, _) = crate::alerting::setup(config, &watchlist)?;
    let dir = config.store_dir(store_flag);
    let mut store =
        Store::open(&dir).with_context(|| format!("opening the store {}", dir.display()))?;
    let checkpoints = checkpoints(&store, &sources)?;
    let tor = tor_dir(&dir)?;
    let runtime = collector_runtime().context("starting the async runtime")?;
    let collector = runtime.block_on(Collector::start(settings, sources, &checkpoints, &tor))?;
    let (tx, mut rx) = mpsc::channel(1024);
    let (_stop_tx, stop_rx) = watch::channel(false);
    let started = Instant::now();
    let crawls = {
        let ids = ids.to_vec();
        let collector = Arc::clone(&collector);
        runtime.spawn(async move {
            let mut set = tokio::task::JoinSet::new();
            for id in ids {
                let (c, tx, stop) = (Arc::clone(&collector), tx.clone(), stop_rx.clone());
                set.spawn(async move { c.crawl(&id, &tx, &stop).await });
            }
            let mut out = Vec::new();
            while let Some(r) = set.join_next().await {
                if let Ok(Ok(h)) = r {
                    out.push(h);
                }
            }
            out
        })
    };
    let mut alerts = 0;
    while let Some(ev) = rx.blocking_recv() {
        alerts += record_event(&mut store, &matcher, &router, ev)?;
    }
    let mut healths = runtime.block_on(crawls).context("crawl task")?;
    let elapsed = started.elapsed();
    store.sync()?;
    healths.sort_by(|a, b| a.source.cmp(&b.source));
    let pages: usize = healths.iter().map(|h| h.pages_ok).sum();
    let mut out = std::io::stdout().lock();
    for h in &healths {
        if json {
            serde_json::to_writer(&mut out, h)?;
            writeln!(out)?;
        } else {
            print_health(&mut out, h)?;
        }
    }
    if !json {
        writeln!(
            out,
            "crawled {} source(s): {pages} page(s) in {:.1} s ({:.0} pages/min), {alerts} alert(s) queued",
            healths.len(),
            elapsed.as_secs_f64(),
            pages as f64 * 60.0 / elapsed.as_secs_f64().max(0.001)
        )?;
    }
    Ok(if healths.iter().all(|h| h.status == HealthStatus::Ok) {
        Outcome::Success
    } else {
        Outcome::CheckFailed
    })
}

fn print_health(out: &mut impl Write, h: &HealthRecord) -> Result<()> {
    if h.status == HealthStatus::Crashed {
        writeln!(
            out,
            "{:<24} CRASHED     at {}  after {} s running: {}",
            h.source,
            Timestamp(h.at_ms),
            h.elapsed_ms / 1000,
            h.errors.join("; ")
        )?;
        return Ok(());
    }
    let status = match h.status {
        HealthStatus::Ok => "ok",
        HealthStatus::Blind => "BLIND",
        HealthStatus::Partial => "partial",
        HealthStatus::Failed => "FAILED",
        HealthStatus::Unreachable => "UNREACHABLE",
        HealthStatus::Crashed => "CRASHED",
        HealthStatus::LoginWall => "LOGIN WALL",
        HealthStatus::Captcha => "CAPTCHA",
        HealthStatus::NotFound => "NOT FOUND",
        HealthStatus::Maintenance => "MAINTENANCE",
        HealthStatus::RateLimited => "RATE LIMITED",
    };
    writeln!(
        out,
        "{:<24} {:<11} at {}  mirror {}  pages {} ok / {} failed  documents {}  {} ms",
        h.source,
        status,
        Timestamp(h.at_ms),
        h.mirror.as_deref().unwrap_or("-"),
        h.pages_ok,
        h.pages_failed,
        h.documents,
        h.elapsed_ms
    )?;
    if !matches!(h.status, HealthStatus::Ok | HealthStatus::Partial) {
        writeln!(out, "    why: {}", h.status.explain())?;
    }
    let counts: Vec<String> = h.counts.iter().map(|(k, v)| format!("{k}={v}")).collect();
    if !counts.is_empty() {
        writeln!(out, "    found: {}", counts.join(" "))?;
    }
    if !h.blind.is_empty() {
        writeln!(
            out,
            "    found nothing with: {} (the pages answer: has the site's HTML changed?)",
            h.blind.join(", ")
        )?;
    }
    for e in h.errors.iter().take(5) {
        writeln!(out, "    error: {e}")?;
    }
    if !h.mirrors_failed.is_empty() {
        writeln!(out, "    mirrors failed: {}", h.mirrors_failed.join(", "))?;
    }
    Ok(())
}

/// A source thread's failure this recent makes `vigie sources health` exit 1.
const RECENT_CRASH_MS: i64 = 24 * 3600 * 1000;

/// `vigie sources health`: each configured Tor source's latest run (and, with `--history`,
/// the earlier ones), then the failures of `vigie run`'s source threads (Tor collector,
/// Telegram previews and account), restarted by its supervisor. Exit 1 when a source is
/// blind, unreachable, failed or kept from its content (login wall, CAPTCHA, not found,
/// maintenance, rate limit), or a source thread failed in the last 24 hours.
pub fn health(
    config: &Config,
    store_flag: Option<&Path>,
    history: usize,
    json: bool,
) -> Result<Outcome> {
    let store = crate::incidents::open_for_queries(config, store_flag)?;
    let threads: Vec<(String, Vec<HealthRecord>)> = store
        .health_all()?
        .into_iter()
        .filter(|(source, _)| source.starts_with("thread:"))
        .collect();
    if config.tor_source.is_empty() && threads.is_empty() {
        bail!("no [[tor_source]] in the configuration and no source thread failure recorded");
    }
    let mut out = std::io::stdout().lock();
    let mut bad = false;
    let show = |out: &mut std::io::StdoutLock<'_>, records: &[HealthRecord]| -> Result<()> {
        for h in records.iter().rev().take(history.max(1)) {
            if json {
                serde_json::to_writer(&mut *out, h)?;
                writeln!(out)?;
            } else {
                print_health(out, h)?;
            }
        }
        Ok(())
    };
    for s in &config.tor_source {
        let records = store.health_history(&s.id)?;
        let Some(last) = records.last() else {
            writeln!(out, "{:<24} never run", s.id)?;
            continue;
        };
        bad |= last.status.is_kept_out()
            || matches!(
                last.status,
                HealthStatus::Blind | HealthStatus::Unreachable | HealthStatus::Failed
            );
        show(&mut out, &records)?;
    }
    let now = Timestamp::now().0;
    for (_, records) in threads {
        if let Some(last) = records.last() {
            bad |= now.saturating_sub(last.at_ms) < RECENT_CRASH_MS;
        }
        show(&mut out, &records)?;
    }
    Ok(if bad {
        Outcome::CheckFailed
    } else {
        Outcome::Success
    })
}

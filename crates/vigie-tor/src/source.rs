//! The Tor collector as a pipeline [`Source`]: [`TorCollector`] runs every configured source on
//! its schedule until the run stops (`vigie run`), [`TorCrawl`] runs chosen sources once
//! (`vigie crawl`). Both own the collector's tokio runtime on the thread the supervisor gives
//! them and turn its [`CollectorEvent`]s into pipeline [`Event`]s; the recorder does the
//! matching and the storing.
//!
//! While Tor is bootstrapped, the collector's HTTP client is published in a [`TorAccess`], so
//! other sources (Telegram previews with `via_tor`) fetch through the same transport and limits.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tracing::{error, info, warn};
use url::Url;
use vigie_core::Origin;
use vigie_pipeline::{Document, Event, MatchText, Source, SourceContext, SourceError, Stopped};
use vigie_store::{Locator, Sighting, Timestamp};

use crate::collector::{checkpoint_key, Collector, CollectorEvent, HealthRecord};
use crate::config::{validate, SourceKind, TorSettings, TorSource, TorSourceConfig};
use crate::error::{ConfigError, FetchError, StartError};
use crate::http::{Fetched, HttpClient, Session};

/// How long a stopping run lets the collector finish the pages in flight.
const STOP_GRACE: Duration = Duration::from_secs(4);
/// How long the events already fetched may take to reach the pipeline once the collector ended.
const FORWARD_GRACE: Duration = Duration::from_secs(8);
/// First wait before bootstrapping Tor again; doubled up to [`BOOTSTRAP_RETRY_MAX`].
const BOOTSTRAP_RETRY: Duration = Duration::from_secs(5);
const BOOTSTRAP_RETRY_MAX: Duration = Duration::from_secs(300);
/// The name in logs and in the supervisor's health records (`thread:tor`).
const NAME: &str = "tor";
const CRAWL_NAME: &str = "tor-crawl";

/// The `[tor]` and `[[tor_source]]` sections, checked as a whole.
#[derive(Debug, Clone)]
pub struct TorPlan {
    pub settings: TorSettings,
    pub sources: Vec<TorSource>,
}

impl TorPlan {
    /// Checks the sections (every problem at once, cookie secrets read through `env`), then
    /// that the arti configuration file named in `[tor]` exists.
    pub fn from_config(
        settings: Option<&TorSettings>,
        sources: &[TorSourceConfig],
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<TorPlan, ConfigError> {
        let settings = settings.cloned().unwrap_or_default();
        let sources = validate(&settings, sources, env)?;
        if let Some(p) = &settings.arti_config {
            if !p.is_file() {
                return Err(ConfigError {
                    problems: vec![format!("[tor] arti_config {} does not exist", p.display())],
                });
            }
        }
        Ok(TorPlan { settings, sources })
    }

    /// Fails on an id that is not a configured source.
    pub fn check_ids(&self, ids: &[String]) -> Result<(), ConfigError> {
        let problems: Vec<String> = ids
            .iter()
            .filter(|id| !self.sources.iter().any(|s| &s.id == *id))
            .map(|id| format!("no [[tor_source]] with id {id:?} in the configuration"))
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError { problems })
        }
    }
}

/// Arti's state and cache directory under the store directory (`STORE/tor`, mode 0700).
pub fn tor_dir(store_dir: &Path) -> std::io::Result<PathBuf> {
    let dir = store_dir.join("tor");
    std::fs::create_dir_all(&dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(dir)
}

/// The collector's HTTP client and runtime while Tor is bootstrapped. Emptied when the
/// collector's thread ends, filled again by its restart.
#[derive(Default)]
pub struct PageAccess {
    current: RwLock<Option<(tokio::runtime::Handle, Arc<HttpClient>)>>,
}

/// A [`PageAccess`] shared between the Tor source and the sources fetching through it.
pub type TorAccess = Arc<PageAccess>;

/// Why a page could not be fetched through a [`PageAccess`].
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error("Tor has not bootstrapped yet")]
    NotBootstrapped,
    #[error("Tor stopped during the fetch")]
    Stopped,
    #[error(transparent)]
    Fetch(#[from] FetchError),
}

impl PageAccess {
    fn publish(&self, runtime: tokio::runtime::Handle, http: Arc<HttpClient>) {
        if let Ok(mut a) = self.current.write() {
            *a = Some((runtime, http));
        }
    }

    fn clear(&self) {
        if let Ok(mut a) = self.current.write() {
            *a = None;
        }
    }

    /// True while the collector's transport is up.
    pub fn is_ready(&self) -> bool {
        self.current.read().is_ok_and(|a| a.is_some())
    }

    /// Fetches `url` on the collector's runtime and waits for it here. For threads outside
    /// that runtime only (a Telegram preview source's): it blocks the calling thread. If the
    /// runtime stops (the run is stopping), the fetch is dropped and this returns
    /// [`AccessError::Stopped`] instead of panicking.
    pub fn get_blocking(&self, url: &Url, session: &Arc<Session>) -> Result<Fetched, AccessError> {
        let current = self.current.read().ok().and_then(|a| a.clone());
        let Some((runtime, http)) = current else {
            return Err(AccessError::NotBootstrapped);
        };
        let (tx, rx) = std::sync::mpsc::channel();
        let (url, session) = (url.clone(), Arc::clone(session));
        runtime.spawn(async move {
            let _ = tx.send(http.get(&url, &session).await);
        });
        let fetched = rx.recv().map_err(|_| AccessError::Stopped)?;
        fetched.map_err(AccessError::Fetch)
    }
}

/// Empties the published transport when the collector's thread ends, a panic included.
struct ClearOnExit(TorAccess);

impl Drop for ClearOnExit {
    fn drop(&mut self) {
        self.0.clear();
    }
}

/// The collector's own runtime: two workers, so fetches wait on Tor while parsing runs.
fn collector_runtime() -> Result<tokio::runtime::Runtime, SourceError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| SourceError::Failed(format!("starting the Tor collector's runtime: {e}")))
}

/// The pipeline event of a collector event. A leak-site entry is a ransomware claim by
/// construction, a forum post a forum post (the matcher's judgement reads the origin).
pub fn to_event(ev: CollectorEvent) -> Event {
    match ev {
        CollectorEvent::Document(d) => {
            let origin = match d.kind {
                SourceKind::LeakSite => Origin::LeakSite,
                SourceKind::Forum => Origin::Forum,
                _ => Origin::Unknown,
            };
            Event::Document(Document {
                content: d.document.into_bytes(),
                label: d.url.clone(),
                text: MatchText::Content,
                origin,
                sighting: Sighting {
                    source: d.source,
                    locator: Locator::Url { url: d.url },
                    fetched_at: Timestamp(d.fetched_at_ms),
                    collector: "tor".into(),
                    details: Default::default(),
                },
            })
        }
        CollectorEvent::Candidate {
            onion,
            seen_in,
            at_ms,
        } => Event::Candidate {
            kind: "onion".into(),
            name: onion,
            seen_in,
            at: Timestamp(at_ms),
        },
        CollectorEvent::Checkpoint { key, cursor } => Event::Checkpoint { key, value: cursor },
        CollectorEvent::Health(h) => Event::Health(h),
    }
}

/// Each source's checkpoint as stored when the source (re)starts.
fn checkpoints(cx: &SourceContext, sources: &[TorSource]) -> HashMap<String, Vec<u8>> {
    sources
        .iter()
        .filter_map(|s| Some((s.id.clone(), cx.checkpoint(&checkpoint_key(&s.id))?)))
        .collect()
}

/// Hands the collector's events to the pipeline in their order, until the collector's senders
/// are gone or the pipeline is. `Err` when the pipeline is gone.
async fn forward(mut rx: mpsc::Receiver<CollectorEvent>, cx: SourceContext) -> Result<(), Stopped> {
    while let Some(ev) = rx.recv().await {
        cx.emit_async(to_event(ev)).await?;
    }
    Ok(())
}

/// Turns the pipeline's stop signal into the collector's watch channel.
fn watch_shutdown(cx: &SourceContext) -> (watch::Receiver<bool>, tokio::task::JoinHandle<()>) {
    let (tx, rx) = watch::channel(cx.is_stopping());
    let cx = cx.clone();
    let task = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        loop {
            tick.tick().await;
            if cx.is_stopping() {
                let _ = tx.send(true);
                return;
            }
        }
    });
    (rx, task)
}

/// Resolves once `stop` turns true (or its sender is gone).
async fn stopped(mut stop: watch::Receiver<bool>) {
    while !*stop.borrow() {
        if stop.changed().await.is_err() {
            return;
        }
    }
}

/// Waits for the forwarder to hand over what was fetched, within `grace` if given.
async fn finish_forwarding(
    forwarder: tokio::task::JoinHandle<Result<(), Stopped>>,
    grace: Option<Duration>,
) -> bool {
    let ended = match grace {
        Some(grace) => tokio::time::timeout(grace, forwarder).await,
        None => Ok(forwarder.await),
    };
    match ended {
        Ok(Ok(Ok(()))) => true,
        Ok(Ok(Err(Stopped))) => false,
        Ok(Err(e)) => {
            warn!(error = %e, "Tor event forwarder ended abnormally");
            false
        }
        Err(_) => {
            warn!(
                "Tor collector still busy at shutdown; unfinished pages will be fetched next run"
            );
            false
        }
    }
}

/// Every configured Tor source, each on its schedule, until the run stops (`vigie run`). A
/// collector without sources of its own (Telegram previews going through Tor) only serves
/// their fetches. Bootstrap failures are logged and retried (5 s doubling to 5 min) without
/// failing the run.
pub struct TorCollector {
    plan: TorPlan,
    tor_dir: PathBuf,
    access: TorAccess,
}

impl TorCollector {
    /// A collector for `plan`, with arti's state in `tor_dir` (see [`tor_dir`]).
    pub fn new(plan: TorPlan, tor_dir: PathBuf) -> TorCollector {
        TorCollector::with_access(plan, tor_dir, TorAccess::default())
    }

    /// The same, publishing its transport in `access`.
    pub fn with_access(plan: TorPlan, tor_dir: PathBuf, access: TorAccess) -> TorCollector {
        TorCollector {
            plan,
            tor_dir,
            access,
        }
    }

    /// The transport for other sources, filled once Tor is bootstrapped (and again after a
    /// restart of this source).
    pub fn access(&self) -> TorAccess {
        Arc::clone(&self.access)
    }

    async fn run_async(&self, cx: &SourceContext) -> Result<(), SourceError> {
        let (stop, watcher) = watch_shutdown(cx);
        let result = self.collect(cx, stop).await;
        watcher.abort();
        result
    }

    async fn collect(
        &self,
        cx: &SourceContext,
        stop: watch::Receiver<bool>,
    ) -> Result<(), SourceError> {
        let checkpoints = checkpoints(cx, &self.plan.sources);
        let mut wait = BOOTSTRAP_RETRY;
        let collector = loop {
            let started = Collector::start(
                self.plan.settings.clone(),
                self.plan.sources.clone(),
                &checkpoints,
                &self.tor_dir,
            )
            .await;
            match started {
                Ok(c) => break c,
                Err(e) => {
                    error!(error = %e, retry_in_secs = wait.as_secs(), "Tor collector could not start");
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = stopped(stop.clone()) => return Ok(()),
                    }
                    wait = (wait * 2).min(BOOTSTRAP_RETRY_MAX);
                }
            }
        };
        info!(sources = ?collector.source_ids(), "Tor collector running");
        self.access
            .publish(tokio::runtime::Handle::current(), collector.http_client());
        let (tx, rx) = mpsc::channel(1024);
        let forwarder = tokio::spawn(forward(rx, cx.clone()));
        // Without sources of its own the collector only serves other sources' fetches: the
        // runtime stays up until the run stops.
        let idle = collector.source_ids().is_empty();
        let run = {
            let stop = stop.clone();
            async move {
                Arc::clone(&collector).run(tx, stop.clone()).await;
                if idle {
                    stopped(stop).await;
                }
            }
        };
        let grace = {
            let stop = stop.clone();
            async move {
                stopped(stop).await;
                tokio::time::sleep(STOP_GRACE).await;
            }
        };
        // Dropping `run` (grace over) drops the collector's tasks and so their senders.
        tokio::select! {
            _ = run => {}
            _ = grace => {}
        }
        let delivered = finish_forwarding(forwarder, Some(FORWARD_GRACE)).await;
        if cx.is_stopping() || !delivered {
            // Stopping, or the pipeline is gone: nothing to restart for.
            return Ok(());
        }
        Err(SourceError::Failed(
            "the Tor collector stopped unexpectedly".into(),
        ))
    }
}

impl Source for TorCollector {
    fn name(&self) -> &str {
        NAME
    }

    fn run(&mut self, cx: &SourceContext) -> Result<(), SourceError> {
        let _clear = ClearOnExit(Arc::clone(&self.access));
        let runtime = collector_runtime()?;
        let result = runtime.block_on(self.run_async(cx));
        runtime.shutdown_timeout(Duration::from_secs(1));
        result
    }
}

/// What a [`TorCrawl`] left: each source's health record, or why the collector did not start.
#[derive(Debug, Default)]
pub struct CrawlReport {
    pub healths: Vec<HealthRecord>,
    pub failure: Option<StartError>,
}

/// Chosen sources, each run once and concurrently (`vigie crawl`); finishes when all are done.
/// A collector that cannot start is not retried: the failure is in the report.
pub struct TorCrawl {
    plan: TorPlan,
    tor_dir: PathBuf,
    ids: Vec<String>,
    report: Arc<Mutex<CrawlReport>>,
}

impl TorCrawl {
    /// A crawl of `ids` (see [`TorPlan::check_ids`]); the report is filled when the source
    /// finishes.
    pub fn new(
        plan: TorPlan,
        tor_dir: PathBuf,
        ids: Vec<String>,
    ) -> (TorCrawl, Arc<Mutex<CrawlReport>>) {
        let report = Arc::new(Mutex::new(CrawlReport::default()));
        let crawl = TorCrawl {
            plan,
            tor_dir,
            ids,
            report: Arc::clone(&report),
        };
        (crawl, report)
    }

    async fn crawl(&self, cx: &SourceContext) -> CrawlReport {
        let checkpoints = checkpoints(cx, &self.plan.sources);
        let collector = match Collector::start(
            self.plan.settings.clone(),
            self.plan.sources.clone(),
            &checkpoints,
            &self.tor_dir,
        )
        .await
        {
            Ok(c) => c,
            Err(e) => {
                return CrawlReport {
                    healths: Vec::new(),
                    failure: Some(e),
                }
            }
        };
        let (stop, watcher) = watch_shutdown(cx);
        let (tx, rx) = mpsc::channel(1024);
        let forwarder = tokio::spawn(forward(rx, cx.clone()));
        let mut set = tokio::task::JoinSet::new();
        for id in &self.ids {
            let (c, tx, stop, id) = (Arc::clone(&collector), tx.clone(), stop.clone(), id.clone());
            set.spawn(async move { c.crawl(&id, &tx, &stop).await });
        }
        drop(tx);
        let mut healths = Vec::new();
        while let Some(r) = set.join_next().await {
            match r {
                Ok(Ok(h)) => healths.push(h),
                Ok(Err(e)) => warn!(error = %e, "crawl not run"),
                Err(e) => warn!(error = %e, "crawl task failed"),
            }
        }
        // A one-shot crawl hands over everything it fetched, however long the recorder takes.
        finish_forwarding(forwarder, None).await;
        watcher.abort();
        healths.sort_by(|a, b| a.source.cmp(&b.source));
        CrawlReport {
            healths,
            failure: None,
        }
    }
}

impl Source for TorCrawl {
    fn name(&self) -> &str {
        CRAWL_NAME
    }

    fn run(&mut self, cx: &SourceContext) -> Result<(), SourceError> {
        let runtime = collector_runtime()?;
        let report = runtime.block_on(self.crawl(cx));
        runtime.shutdown_timeout(Duration::from_secs(1));
        if let Ok(mut r) = self.report.lock() {
            *r = report;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collector::CollectedDocument;

    fn collected(kind: SourceKind) -> CollectorEvent {
        CollectorEvent::Document(CollectedDocument {
            source: "medleaks".into(),
            kind,
            url: "http://x.onion/viewtopic.php?t=4#p17".into(),
            document: "Tor forum: medleaks\n".into(),
            fetched_at_ms: 1_700_000_000_000,
        })
    }

    #[test]
    fn documents_keep_their_label_locator_and_the_origin_of_their_kind() {
        let Event::Document(d) = to_event(collected(SourceKind::LeakSite)) else {
            panic!("a document")
        };
        assert_eq!(d.label, "http://x.onion/viewtopic.php?t=4#p17");
        assert_eq!(d.content, b"Tor forum: medleaks\n");
        assert_eq!(d.text, MatchText::Content);
        assert_eq!(d.origin, Origin::LeakSite);
        assert_eq!(
            d.sighting,
            Sighting {
                source: "medleaks".into(),
                locator: Locator::Url {
                    url: "http://x.onion/viewtopic.php?t=4#p17".into()
                },
                fetched_at: Timestamp(1_700_000_000_000),
                collector: "tor".into(),
                details: Default::default(),
            }
        );
        for (kind, origin) in [
            (SourceKind::Forum, Origin::Forum),
            (SourceKind::Page, Origin::Unknown),
        ] {
            let Event::Document(d) = to_event(collected(kind)) else {
                panic!("a document")
            };
            assert_eq!(d.origin, origin, "{kind:?}");
        }
    }

    #[test]
    fn candidates_are_onions_and_checkpoints_keep_their_bytes() {
        let c = to_event(CollectorEvent::Candidate {
            onion: "abc.onion".into(),
            seen_in: "medleaks".into(),
            at_ms: 5,
        });
        assert_eq!(
            c,
            Event::Candidate {
                kind: "onion".into(),
                name: "abc.onion".into(),
                seen_in: "medleaks".into(),
                at: Timestamp(5),
            }
        );
        let k = to_event(CollectorEvent::Checkpoint {
            key: "tor:medleaks".into(),
            cursor: vec![1, 2],
        });
        assert_eq!(
            k,
            Event::Checkpoint {
                key: "tor:medleaks".into(),
                value: vec![1, 2]
            }
        );
    }

    #[test]
    fn the_plan_refuses_a_missing_arti_file_and_unknown_ids() {
        let settings = TorSettings {
            arti_config: Some("/nonexistent/vigie-arti.toml".into()),
            ..TorSettings::default()
        };
        let e = TorPlan::from_config(Some(&settings), &[], &|_| None).unwrap_err();
        assert_eq!(
            e.problems,
            ["[tor] arti_config /nonexistent/vigie-arti.toml does not exist"]
        );
        let plan = TorPlan::from_config(None, &[], &|_| None).unwrap();
        let e = plan.check_ids(&["a".into(), "b".into()]).unwrap_err();
        assert_eq!(
            e.problems,
            [
                "no [[tor_source]] with id \"a\" in the configuration",
                "no [[tor_source]] with id \"b\" in the configuration"
            ]
        );
    }
}

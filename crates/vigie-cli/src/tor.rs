//! The Tor source in the CLI: its constructor from the configuration (`vigie run`), the
//! adapter lending its transport to Telegram previews, `vigie crawl` (the crawl source run
//! through the pipeline's supervisor and recorder), and `vigie sources health`. The source
//! itself lives in `vigie-tor` (`TorCollector`, `TorCrawl`).

use std::io::Write;
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use vigie_match::Matcher;
use vigie_pipeline::{
    Recorder as PipelineRecorder, RecorderOptions, Shutdown, Supervisor as PipelineSupervisor,
    SupervisorOptions,
};
use vigie_store::{Store, Timestamp};
use vigie_telegram::{PageFetcher, TelegramError};
use vigie_tor::{AccessError, HealthRecord, HealthStatus, Session, TorCrawl, TorPlan};

pub use vigie_tor::TorAccess;

use crate::config::Config;
use crate::Outcome;

/// `[tor]` and `[[tor_source]]`, checked (cookie secrets from the environment included).
pub fn plan(config: &Config) -> Result<TorPlan> {
    Ok(TorPlan::from_config(
        config.tor.as_ref(),
        &config.tor_source,
        &|v| std::env::var(v).ok(),
    )?)
}

fn tor_state_dir(store_dir: &Path) -> Result<std::path::PathBuf> {
    vigie_tor::tor_dir(store_dir)
        .with_context(|| format!("preparing {}", store_dir.join("tor").display()))
}

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
        let parsed =
            url::Url::parse(url).map_err(|e| TelegramError::Fetch(format!("{url}: {e}")))?;
        let page = self
            .access
            .get_blocking(&parsed, &self.session)
            .map_err(|e| {
                TelegramError::Fetch(match e {
                    AccessError::NotBootstrapped => {
                        "Tor has not bootstrapped yet; retrying next interval".into()
                    }
                    AccessError::Stopped => format!("{url}: Tor stopped during the fetch"),
                    AccessError::Fetch(e) => format!("{url} over Tor: {e}"),
                })
            })?;
        if page.body.len() as u64 > max_body {
            return Err(TelegramError::Fetch(format!(
                "{url}: body over {max_body} bytes, refused"
            )));
        }
        Ok(page.body)
    }
}

/// `vigie crawl SOURCE...`: each source once, concurrently, recorded as `vigie run` would
/// (the crawl source through the pipeline's supervisor and recorder).
pub fn crawl(
    config: &Config,
    store_flag: Option<&Path>,
    ids: &[String],
    json: bool,
) -> Result<Outcome> {
    let plan = plan(config)?;
    plan.check_ids(ids)?;
    let watchlist = crate::shipped::load(&config.watchlists)?;
    let matcher = Matcher::new(&watchlist).context("compiling the watchlists")?;
    let (router, _) = crate::alerting::setup(config, &watchlist)?;
    let dir = config.store_dir(store_flag);
    let mut store =
        Store::open(&dir).with_context(|| format!("opening the store {}", dir.display()))?;
    let (source, report) = TorCrawl::new(plan, tor_state_dir(&dir)?, ids.to_vec());
    let recorder = PipelineRecorder::new(
        Arc::new(matcher),
        Arc::new(router),
        RecorderOptions::default(),
    );
    let started = Instant::now();
    let (supervisor, events) = PipelineSupervisor::start(
        vec![Box::new(source)],
        Arc::new(store.reader()),
        Shutdown::new(),
        SupervisorOptions::default(),
    )
    .context("starting the crawl")?;
    let mut alerts = 0;
    recorder.drain(&mut store, &events, |_, batch| {
        alerts += batch.alerts;
        ControlFlow::Continue(())
    })?;
    supervisor.stop(Duration::from_secs(1));
    let elapsed = started.elapsed();
    store.sync()?;
    let report = std::mem::take(&mut *report.lock().unwrap_or_else(|p| p.into_inner()));
    if let Some(e) = report.failure {
        return Err(e.into());
    }
    let healths = report.healths;
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

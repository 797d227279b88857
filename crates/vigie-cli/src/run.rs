//! `vigie run`: the main job. Collection (Tor sources, Telegram channels, the spool
//! directory) → matching → the store, which decides alerts in the same batch →
//! delivery threads. SIGINT or SIGTERM stops it between two documents: nothing is
//! half-written, pending alerts stay in the outbox for the next start.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use tracing::{info, warn};
use vigie_alerts::{Deliverer, Router};
use vigie_match::{Matcher, ScanOptions};
use vigie_store::{content_hash, Locator, Sighting, Store, Timestamp};

use crate::config::{Config, RunConfig};
use crate::supervisor::Recorder;
use crate::{requests, shipped, Outcome};

pub fn run(config: &Config, store_flag: Option<&Path>) -> Result<Outcome> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .context("installing the signal handlers")?;
    }
    let watchlist = shipped::load(&config.watchlists)?;
    let matcher = Matcher::new(&watchlist).context("compiling the watchlists")?;
    let (router, recipients) = crate::alerting::setup(config, &watchlist)?;
    let dir = config.store_dir(store_flag);
    let mut store =
        Store::open(&dir).with_context(|| format!("opening the store {}", dir.display()))?;
    let spool = config.run.spool.clone();
    if let Some(spool) = &spool {
        std::fs::create_dir_all(spool)
            .with_context(|| format!("creating the spool {}", spool.display()))?;
    }
    let (wake_tx, wake_rx) = crossbeam_channel::bounded::<()>(1);
    let delivery_stop = Arc::new(AtomicBool::new(false));
    let handles = if recipients.is_empty() {
        warn!("no [[recipient]] configured: incidents are recorded, no alert is sent");
        Vec::new()
    } else {
        Deliverer::new(store.alert_queue(), recipients, config.delivery.clone())?
            .spawn(wake_rx, Arc::clone(&delivery_stop))
    };
    info!(
        store = %dir.display(),
        spool = ?spool,
        "vigie run started; SIGINT or SIGTERM stops it"
    );
    let mut sources = crate::supervisor::Sources::start(config, &store, &dir)?;
    let result = (|| -> Result<()> {
        while !stop.load(Ordering::Relaxed) {
            let mut cx = Recorder {
                store: &mut store,
                matcher: &matcher,
                router: &router,
            };
            if sources.drain(&mut cx)? > 0 {
                let _ = wake_tx.try_send(());
            }
            if requests::apply_queued(&mut store) > 0 {
                let _ = wake_tx.try_send(());
            }
            if let Some(spool) = &spool {
                ingest_spool(
                    &mut store,
                    &matcher,
                    &router,
                    spool,
                    &config.run,
                    &stop,
                    &wake_tx,
                )?;
            }
            crate::timestamping::stamp_if_due(&mut store, config.timestamping.as_ref());
            sleep_unless_stopped(Duration::from_millis(config.run.poll_ms), &stop);
        }
        Ok(())
    })();
    info!("stopping: saving the store, letting deliveries in flight finish");
    sources.stop(&mut Recorder {
        store: &mut store,
        matcher: &matcher,
        router: &router,
    });
    delivery_stop.store(true, Ordering::Relaxed);
    drop(wake_tx);
    store.sync().context("syncing the store")?;
    store.flush().context("flushing the store")?;
    for h in handles {
        let _ = h.join();
    }
    result?;
    Ok(Outcome::Success)
}

fn sleep_unless_stopped(total: Duration, stop: &AtomicBool) {
    let step = Duration::from_millis(50);
    let mut left = total;
    while !left.is_zero() && !stop.load(Ordering::Relaxed) {
        let d = left.min(step);
        std::thread::sleep(d);
        left -= d;
    }
}

/// Records every complete file of the spool (names starting with `.` are being written),
/// oldest name first; removes each once its batch is synced to disk.
fn ingest_spool(
    store: &mut Store,
    matcher: &Matcher,
    router: &Router,
    spool: &Path,
    run: &RunConfig,
    stop: &AtomicBool,
    wake: &crossbeam_channel::Sender<()>,
) -> Result<()> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(spool)
        .with_context(|| format!("reading the spool {}", spool.display()))?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.path())
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    files.sort();
    let mut done = Vec::new();
    for path in files {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let bytes = match crate::files::read_bounded(&path, run.max_bytes) {
            Ok(Some(b)) => b,
            Ok(None) => {
                warn!(path = %path.display(), max = run.max_bytes, "spool file too large; moved to .rejected/");
                reject(spool, &path);
                continue;
            }
            Err(e) => {
                warn!(path = %path.display(), error = %e, "spool file unreadable; moved to .rejected/");
                reject(spool, &path);
                continue;
            }
        };
        let label = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let analysis = if store.contains(&content_hash(&bytes))? {
            None
        } else {
            Some(matcher.analyze(&label, &bytes, ScanOptions::default()))
        };
        let sighting = Sighting {
            source: run.spool_source.clone(),
            locator: Locator::File { path: label },
            fetched_at: Timestamp::now(),
            collector: "spool".into(),
            details: Default::default(),
        };
        let recorded = store
            .record_alerting(&bytes, &sighting, analysis.as_ref(), router)
            .with_context(|| format!("recording {}", path.display()))?;
        if let Some((incident, change)) = recorded.incident {
            info!(
                incident,
                ?change,
                severity = %recorded.severity,
                alerts = recorded.alerts.len(),
                suppressed = recorded.suppressed.is_some(),
                "recorded"
            );
        }
        if !recorded.alerts.is_empty() {
            let _ = wake.try_send(());
        }
        done.push(path);
    }
    if !done.is_empty() {
        // Durable against a power cut before the spool copies go.
        store.sync().context("syncing the store")?;
        for path in done {
            if let Err(e) = std::fs::remove_file(&path) {
                warn!(path = %path.display(), error = %e, "could not remove a recorded spool file");
            }
        }
    }
    Ok(())
}

fn reject(spool: &Path, path: &Path) {
    let dir = spool.join(".rejected");
    let moved = std::fs::create_dir_all(&dir).and_then(|()| {
        std::fs::rename(
            path,
            dir.join(path.file_name().unwrap_or_else(|| "unnamed".as_ref())),
        )
    });
    if let Err(e) = moved {
        warn!(path = %path.display(), error = %e, "could not move a rejected spool file");
    }
}

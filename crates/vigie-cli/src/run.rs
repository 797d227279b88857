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
    // Time-stamps are requested on a thread of their own: a TSA that hangs never holds the
    // documents waiting to be recorded.
    let mut stamper = crate::timestamping::Stamper::start(config.timestamping.as_ref(), &store)?;
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
            if let Some(stamper) = &mut stamper {
                stamper.poll(&mut store);
            }
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
    if let Some(stamper) = stamper {
        stamper.stop(&mut store);
    }
    delivery_stop.store(true, Ordering::Relaxed);
    drop(wake_tx);
    // The senders record their last results first; the sync then covers them too.
    for h in handles {
        let _ = h.join();
    }
    store.sync().context("syncing the store")?;
    store.flush().context("flushing the store")?;
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

/// Where spool files that could not be recorded go, each with a `NAME.reason` beside it.
/// (Versions before 0.2 moved them to `.rejected/` without a reason; that directory is left
/// as it is.)
pub const REJECTED_DIR: &str = "rejected";

/// Records every complete file of the spool (names starting with `.` are being written),
/// oldest name first; removes each once its batch is synced to disk. A file that cannot be
/// read or recorded goes to `rejected/` with its reason, and the others go on.
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
        match record_spool_file(store, matcher, router, &path, run) {
            Ok(alerts) => {
                if alerts > 0 {
                    let _ = wake.try_send(());
                }
                done.push(path);
            }
            Err(reason) => {
                warn!(path = %path.display(), reason = %reason, "spool file rejected; moved to rejected/");
                reject(spool, &path, &reason);
            }
        }
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

/// Reads, matches and records one spool file; returns the alerts queued, or why not.
fn record_spool_file(
    store: &mut Store,
    matcher: &Matcher,
    router: &Router,
    path: &Path,
    run: &RunConfig,
) -> std::result::Result<usize, String> {
    let bytes = match crate::files::read_bounded(path, run.max_bytes) {
        Ok(Some(b)) => b,
        Ok(None) => {
            return Err(format!(
                "larger than run.max_bytes ({} bytes)",
                run.max_bytes
            ))
        }
        Err(e) => return Err(format!("unreadable: {e}")),
    };
    let label = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let known = store
        .contains(&content_hash(&bytes))
        .map_err(|e| format!("reading the store failed: {e}"))?;
    let analysis = (!known).then(|| {
        let text = crate::scan::text_to_match(&label, &bytes);
        matcher.analyze(&label, &text, ScanOptions::default())
    });
    let sighting = Sighting {
        source: run.spool_source.clone(),
        locator: Locator::File { path: label },
        fetched_at: Timestamp::now(),
        collector: "spool".into(),
        details: Default::default(),
    };
    let recorded = store
        .record_alerting(&bytes, &sighting, analysis.as_ref(), router)
        .map_err(|e| format!("recording failed: {e}"))?;
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
    Ok(recorded.alerts.len())
}

/// Moves a spool file to `rejected/` under a name no other rejected file has, and writes
/// `reason` beside it (`NAME.reason`).
fn reject(spool: &Path, path: &Path, reason: &str) {
    let dir = spool.join(REJECTED_DIR);
    let name = path.file_name().map_or_else(
        || "unnamed".to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let moved =
        std::fs::create_dir_all(&dir).and_then(|()| move_without_overwriting(path, &dir, &name));
    match moved {
        Ok(target) => {
            let mut note = target.into_os_string();
            note.push(".reason");
            let text = format!("{}\n{reason}\n", Timestamp::now());
            if let Err(e) = std::fs::write(&note, text) {
                warn!(path = %path.display(), error = %e, "could not write why a spool file was rejected");
            }
        }
        Err(e) => {
            warn!(path = %path.display(), error = %e, "could not move a rejected spool file");
        }
    }
}

/// Moves `path` into `dir` as `name`, or `name.1`, `name.2`... whichever is free (a hard link
/// fails rather than replace a file, so nothing is overwritten). Returns the new path.
fn move_without_overwriting(path: &Path, dir: &Path, name: &str) -> std::io::Result<PathBuf> {
    for n in 0..10_000u32 {
        let candidate = if n == 0 {
            dir.join(name)
        } else {
            dir.join(format!("{name}.{n}"))
        };
        // `NAME.reason` files are not targets: a file named that way gets a suffix too.
        let mut reason = candidate.clone().into_os_string();
        reason.push(".reason");
        if Path::new(&reason).exists() {
            continue;
        }
        match std::fs::hard_link(path, &candidate) {
            Ok(()) => {
                std::fs::remove_file(path)?;
                return Ok(candidate);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other(
        "too many rejected files of that name",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_and_spool() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let spool = dir.path().join("spool");
        std::fs::create_dir_all(&spool).unwrap();
        (dir, spool)
    }

    fn rejected(spool: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(spool.join(REJECTED_DIR))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn ingest(store: &mut Store, spool: &Path, max_bytes: u64) {
        let matcher = Matcher::from_entities(vec![]).unwrap();
        let (router, _) = Router::new(&[], Vec::<(String, Vec<String>)>::new());
        let run = RunConfig {
            spool: Some(spool.to_path_buf()),
            max_bytes,
            ..RunConfig::default()
        };
        let (wake, _rx) = crossbeam_channel::bounded(1);
        ingest_spool(
            store,
            &matcher,
            &router,
            spool,
            &run,
            &AtomicBool::new(false),
            &wake,
        )
        .unwrap();
    }

    #[test]
    fn a_file_too_large_is_rejected_with_its_reason_and_the_others_go_on() {
        let (dir, spool) = store_and_spool();
        let mut store = Store::open(&dir.path().join("store")).unwrap();
        std::fs::write(spool.join("a-big.txt"), vec![b'x'; 100]).unwrap();
        std::fs::write(spool.join("b-small.txt"), b"small post").unwrap();
        ingest(&mut store, &spool, 50);
        assert!(
            !spool.join("b-small.txt").exists(),
            "the next file was recorded"
        );
        assert_eq!(store.stats().unwrap().snapshots, 1);
        assert_eq!(rejected(&spool), ["a-big.txt", "a-big.txt.reason"]);
        let reason = std::fs::read_to_string(spool.join("rejected/a-big.txt.reason")).unwrap();
        assert!(
            reason.contains("larger than run.max_bytes (50 bytes)"),
            "{reason}"
        );
        assert_eq!(
            std::fs::read(spool.join("rejected/a-big.txt")).unwrap(),
            vec![b'x'; 100],
            "moved whole"
        );

        // The same name rejected again keeps the first one.
        std::fs::write(spool.join("a-big.txt"), vec![b'y'; 100]).unwrap();
        ingest(&mut store, &spool, 50);
        assert_eq!(
            rejected(&spool),
            [
                "a-big.txt",
                "a-big.txt.1",
                "a-big.txt.1.reason",
                "a-big.txt.reason"
            ]
        );
        assert_eq!(
            std::fs::read(spool.join("rejected/a-big.txt")).unwrap()[0],
            b'x'
        );
        assert_eq!(
            std::fs::read(spool.join("rejected/a-big.txt.1")).unwrap()[0],
            b'y'
        );
    }

    #[test]
    fn a_file_that_fails_to_record_is_rejected_and_the_loop_goes_on() {
        let (dir, spool) = store_and_spool();
        let path = dir.path().join("store");
        drop(Store::open(&path).unwrap());
        // A read-only store refuses every write: recording fails for each file.
        let mut store = Store::open_read_only(&path).unwrap();
        std::fs::write(spool.join("one.txt"), b"first post").unwrap();
        std::fs::write(spool.join("two.txt"), b"second post").unwrap();
        ingest(&mut store, &spool, 1 << 20);
        assert_eq!(
            rejected(&spool),
            ["one.txt", "one.txt.reason", "two.txt", "two.txt.reason"]
        );
        let reason = std::fs::read_to_string(spool.join("rejected/two.txt.reason")).unwrap();
        assert!(reason.contains("recording failed"), "{reason}");
    }
}

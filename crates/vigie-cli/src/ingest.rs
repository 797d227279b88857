//! `vigie ingest`: files → matcher (on a thread pool, skipped for content already stored) →
//! the store, recorded in input order so that incident numbers do not depend on timing.

use std::collections::BTreeMap;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::thread;

use anyhow::{Context, Result};
use crossbeam_channel::bounded;
use serde::Serialize;
use vigie_alerts::Router;
use vigie_core::{Analysis, Severity};
use vigie_match::{Matcher, ScanOptions};
use vigie_store::{
    content_hash, IncidentChange, Locator, Sighting, SightingOutcome, SnapshotOutcome, Store,
    StoreReader, Timestamp,
};

use crate::args::IngestArgs;
use crate::config::Config;
use crate::{files, shipped, Outcome};

/// One file, read, hashed and (if new) analysed by a worker.
struct Prepared {
    index: usize,
    path: PathBuf,
    result: io::Result<Option<(Vec<u8>, Option<Analysis>)>>,
}

#[derive(Default, Serialize)]
struct Summary {
    files: u64,
    new_snapshots: u64,
    duplicates: u64,
    repeat_sightings: u64,
    skipped: u64,
    errors: u64,
    incidents_opened: Vec<u64>,
    incidents_updated: Vec<u64>,
    alerts_queued: u64,
}

#[derive(Serialize)]
struct FileLine<'a> {
    path: String,
    sha256: &'a str,
    snapshot: &'static str,
    sighting: &'static str,
    severity: Severity,
    incident: Option<u64>,
    incident_change: Option<&'static str>,
}

pub fn run(
    args: IngestArgs,
    config: &Config,
    store_flag: Option<&std::path::Path>,
) -> Result<Outcome> {
    let seen_at = match &args.seen_at {
        Some(s) => Timestamp::parse(s)
            .with_context(|| format!("--seen-at {s:?}: expected RFC 3339 or YYYY-MM-DD"))?,
        None => Timestamp::now(),
    };
    let watchlist = if args.watchlists.is_empty() {
        shipped::load(&config.watchlists)?
    } else {
        shipped::load(&args.watchlists)?
    };
    let matcher = Arc::new(Matcher::new(&watchlist).context("compiling the watchlists")?);
    let (router, _) = crate::alerting::setup(config, &watchlist)?;
    let dir = config.store_dir(store_flag);
    let mut store =
        Store::open(&dir).with_context(|| format!("opening the store {}", dir.display()))?;
    let mut paths = Vec::new();
    let mut summary = Summary::default();
    for p in &args.paths {
        if let Err(e) = files::collect(p, &mut paths) {
            eprintln!("vigie: {}: {e}", p.display());
            summary.errors += 1;
        }
    }
    let threads = args.threads.map_or_else(
        || thread::available_parallelism().map_or(1, |n| n.get()),
        usize::from,
    );
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let reader = store.reader();
    thread::scope(|scope| -> Result<()> {
        // Channels live inside the scope: when recording fails, dropping the receivers stops
        // the workers and the feeder instead of leaving them blocked on a full channel.
        let (job_tx, job_rx) = bounded::<(usize, PathBuf)>(threads * 4);
        let (done_tx, done_rx) = bounded::<Prepared>(threads * 4);
        for _ in 0..threads {
            let (job_rx, done_tx) = (job_rx.clone(), done_tx.clone());
            let (matcher, reader) = (Arc::clone(&matcher), reader.clone());
            let max = args.max_bytes;
            scope.spawn(move || {
                for (index, path) in job_rx {
                    let result = prepare(&matcher, &reader, &path, max);
                    if done_tx
                        .send(Prepared {
                            index,
                            path,
                            result,
                        })
                        .is_err()
                    {
                        break;
                    }
                }
            });
        }
        drop((job_rx, done_tx));
        let feeder_paths = paths.clone();
        scope.spawn(move || {
            for job in feeder_paths.into_iter().enumerate() {
                if job_tx.send(job).is_err() {
                    break;
                }
            }
        });
        // Record in input order.
        let mut pending: BTreeMap<usize, Prepared> = BTreeMap::new();
        let mut next = 0;
        for prepared in done_rx {
            pending.insert(prepared.index, prepared);
            while let Some(p) = pending.remove(&next) {
                next += 1;
                record_one(
                    &mut store,
                    &router,
                    p,
                    &args,
                    seen_at,
                    &mut summary,
                    &mut out,
                )?;
            }
        }
        Ok(())
    })?;
    store.sync().context("syncing the store")?;
    store.flush().context("flushing the store")?;
    crate::timestamping::stamp_if_due(&mut store, config.timestamping.as_ref());
    if args.json {
        serde_json::to_writer(&mut out, &summary)?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "{} files: {} new snapshots, {} duplicates ({} repeat sightings), {} skipped, {} errors; incidents: {} opened, {} updated; alerts queued: {}",
            summary.files,
            summary.new_snapshots,
            summary.duplicates,
            summary.repeat_sightings,
            summary.skipped,
            summary.errors,
            summary.incidents_opened.len(),
            summary.incidents_updated.len(),
            summary.alerts_queued
        )?;
        for (label, ids) in [
            ("opened", &summary.incidents_opened),
            ("updated", &summary.incidents_updated),
        ] {
            for id in ids {
                if let Some(i) = store.incident(*id)? {
                    let names: Vec<&str> = i.entities.iter().map(|e| e.name.as_str()).collect();
                    writeln!(
                        out,
                        "  {label:<7} incident {:<5} {:<8} {} sighting(s)  {}",
                        i.id,
                        i.severity.to_string(),
                        i.sightings,
                        if names.is_empty() {
                            "(no watched organisation)".to_string()
                        } else {
                            names.join(", ")
                        }
                    )?;
                }
            }
        }
    }
    out.flush()?;
    Ok(if summary.errors > 0 {
        Outcome::Error
    } else {
        Outcome::Success
    })
}

/// Reads a file; matches it only if its content is not stored yet. `Ok(None)`: skipped.
fn prepare(
    matcher: &Matcher,
    reader: &StoreReader,
    path: &std::path::Path,
    max: u64,
) -> io::Result<Option<(Vec<u8>, Option<Analysis>)>> {
    let Some(bytes) = files::read_bounded(path, max)? else {
        tracing::warn!(path = %path.display(), max, "file larger than --max-bytes, skipped");
        return Ok(None);
    };
    let known = reader
        .contains(&content_hash(&bytes))
        .map_err(|e| io::Error::other(e.to_string()))?;
    let analysis = (!known).then(|| {
        let label = path.display().to_string();
        let text = crate::scan::text_to_match(&label, &bytes);
        matcher.analyze(&label, &text, ScanOptions::default())
    });
    Ok(Some((bytes, analysis)))
}

fn record_one(
    store: &mut Store,
    router: &Router,
    prepared: Prepared,
    args: &IngestArgs,
    seen_at: Timestamp,
    summary: &mut Summary,
    out: &mut impl Write,
) -> Result<()> {
    let label = prepared.path.display().to_string();
    let (bytes, analysis) = match prepared.result {
        Ok(Some(x)) => x,
        Ok(None) => {
            summary.skipped += 1;
            return Ok(());
        }
        Err(e) => {
            eprintln!("vigie: {label}: {e}");
            summary.errors += 1;
            return Ok(());
        }
    };
    summary.files += 1;
    let sighting = Sighting {
        source: args.source.clone(),
        locator: Locator::File {
            path: label.clone(),
        },
        fetched_at: seen_at,
        collector: "ingest".into(),
        details: Default::default(),
    };
    let recorded = store
        .record_alerting(&bytes, &sighting, analysis.as_ref(), router)
        .with_context(|| format!("recording {label}"))?;
    summary.alerts_queued += recorded.alerts.len() as u64;
    match recorded.snapshot {
        SnapshotOutcome::New => summary.new_snapshots += 1,
        SnapshotOutcome::Known => summary.duplicates += 1,
    }
    if recorded.sighting == SightingOutcome::Repeat {
        summary.repeat_sightings += 1;
    }
    let change = recorded.incident.map(|(id, change)| {
        match change {
            IncidentChange::Opened => push_unique(&mut summary.incidents_opened, id),
            IncidentChange::Updated => {
                if !summary.incidents_opened.contains(&id) {
                    push_unique(&mut summary.incidents_updated, id)
                }
            }
            IncidentChange::Unchanged => {}
        }
        match change {
            IncidentChange::Opened => "opened",
            IncidentChange::Updated => "updated",
            IncidentChange::Unchanged => "unchanged",
        }
    });
    if args.json {
        let line = FileLine {
            path: label,
            sha256: &recorded.hash,
            snapshot: match recorded.snapshot {
                SnapshotOutcome::New => "new",
                SnapshotOutcome::Known => "duplicate",
            },
            sighting: match recorded.sighting {
                SightingOutcome::New => "new",
                SightingOutcome::Repeat => "repeat",
            },
            severity: recorded.severity,
            incident: recorded.incident.map(|(id, _)| id),
            incident_change: change,
        };
        serde_json::to_writer(&mut *out, &line)?;
        writeln!(out)?;
    }
    Ok(())
}

fn push_unique(v: &mut Vec<u64>, id: u64) {
    if !v.contains(&id) {
        v.push(id);
    }
}

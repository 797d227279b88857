//! `vigie ingest`: the files source (vigie-files) → the pipeline's recorder (matcher pool,
//! content already stored never matched again, batched store writes) → per-file lines and a
//! summary. Files are recorded in input order, so incident numbers do not depend on timing.
//! With `--bus`, the files are published to the bus instead, for a recorder elsewhere.

use std::io::{self, BufWriter, Write};
use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use serde::Serialize;
use vigie_core::Severity;
use vigie_files::{FilesOptions, FilesSource};
use vigie_match::Matcher;
use vigie_pipeline::{
    NoCheckpoints, Outcome as Recorded, Recorder, RecorderOptions, Shutdown, Source, Supervisor,
    SupervisorOptions,
};
use vigie_store::{IncidentChange, Locator, SightingOutcome, SnapshotOutcome, Store, Timestamp};

use crate::args::IngestArgs;
use crate::config::Config;
use crate::{shipped, Outcome};

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
    let files = FilesSource::new(
        args.paths.clone(),
        FilesOptions {
            source: args.source.clone(),
            max_bytes: args.max_bytes,
            seen_at: Some(seen_at),
            collector: "ingest".into(),
        },
    );
    let report = files.report();
    if let Some(url) = &args.bus {
        return crate::bus::ingest(config, url, Box::new(files), &report);
    }
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
    let mut options = RecorderOptions::default();
    if let Some(t) = args.threads {
        options.workers = usize::from(t);
    }
    let recorder = Recorder::new(matcher, Arc::new(router), options);
    let sources: Vec<Box<dyn Source>> = vec![Box::new(files)];
    // A finite source: its checkpoints are never read.
    let (supervisor, events) = Supervisor::start(
        sources,
        Arc::new(NoCheckpoints),
        Shutdown::new(),
        SupervisorOptions::default(),
    )
    .context("starting the files source")?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut summary = Summary::default();
    let mut failed: Option<anyhow::Error> = None;
    recorder
        .drain(&mut store, &events, |_, recorded| {
            for outcome in recorded.outcomes {
                if let Recorded::Document {
                    label,
                    locator,
                    recorded,
                } = outcome
                {
                    let label = match locator {
                        Locator::File { path } => path,
                        _ => label,
                    };
                    if let Err(e) = note(&label, &recorded, &args, &mut summary, &mut out) {
                        failed = Some(e);
                        return ControlFlow::Break(());
                    }
                }
            }
            ControlFlow::Continue(())
        })
        .context("recording the files")?;
    if let Some(e) = failed {
        return Err(e);
    }
    supervisor.stop(Duration::from_secs(5));
    {
        let report = report.lock().unwrap_or_else(|p| p.into_inner());
        summary.skipped += report.skipped;
        for (path, e) in &report.errors {
            eprintln!("vigie: {}: {e}", path.display());
            summary.errors += 1;
        }
    }
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

/// Counts one recorded file and prints its line (`--json`).
fn note(
    label: &str,
    recorded: &vigie_store::Recorded,
    args: &IngestArgs,
    summary: &mut Summary,
    out: &mut impl Write,
) -> Result<()> {
    summary.files += 1;
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
            path: label.to_string(),
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

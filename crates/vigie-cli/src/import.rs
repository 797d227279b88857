//! `vigie import telegram-export`: a Telegram Desktop export read by
//! `vigie_telegram::source::ExportSource`, recorded through the pipeline's recorder; prints
//! the summary.

use std::io::Write;
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use serde::Serialize;
use vigie_match::Matcher;
use vigie_pipeline::{Outcome as Recorded, Recorder, RecorderOptions, Shutdown, Supervisor};
use vigie_store::{SightingOutcome, SnapshotOutcome, Store};
use vigie_telegram::source::{ExportCounts, ExportLimits, ExportSource};

use crate::args::ImportCommand;
use crate::config::Config;
use crate::{shipped, Outcome};

/// What the source read (its counts) and what the recorder stored.
#[derive(Default, Serialize)]
struct Summary {
    #[serde(flatten)]
    read: ExportCounts,
    new_snapshots: u64,
    repeat_sightings: u64,
    incidents: Vec<u64>,
    alerts_queued: u64,
}

pub fn run(command: ImportCommand, config: &Config, store_flag: Option<&Path>) -> Result<Outcome> {
    let ImportCommand::TelegramExport {
        file,
        max_attachment_bytes,
        max_bytes,
        json,
    } = command;
    let watchlist = shipped::load(&config.watchlists)?;
    let matcher = Matcher::new(&watchlist).context("compiling the watchlists")?;
    let (router, _) = crate::alerting::setup(config, &watchlist)?;
    let limits = ExportLimits {
        max_bytes,
        max_attachment_bytes,
    };
    // Read and checked before the store is opened: a file that is no export changes nothing.
    let source = ExportSource::open(&file, limits)?;
    let counts = source.counts();
    let dir = config.store_dir(store_flag);
    let mut store =
        Store::open(&dir).with_context(|| format!("opening the store {}", dir.display()))?;
    let recorder = Recorder::new(
        Arc::new(matcher),
        Arc::new(router),
        RecorderOptions::default(),
    );
    let (supervisor, events) = Supervisor::start(
        vec![Box::new(source)],
        Arc::new(store.reader()),
        Shutdown::new(),
        Default::default(),
    )
    .context("starting the export reader")?;
    let mut summary = Summary::default();
    recorder.drain(&mut store, &events, |_, batch| {
        for outcome in batch.outcomes {
            let Recorded::Document { recorded, .. } = outcome else {
                continue;
            };
            if recorded.snapshot == SnapshotOutcome::New {
                summary.new_snapshots = summary.new_snapshots.saturating_add(1);
            }
            if recorded.sighting == SightingOutcome::Repeat {
                summary.repeat_sightings = summary.repeat_sightings.saturating_add(1);
            }
            if let Some((id, _)) = recorded.incident {
                if !summary.incidents.contains(&id) {
                    summary.incidents.push(id);
                }
            }
            summary.alerts_queued = summary
                .alerts_queued
                .saturating_add(recorded.alerts.len() as u64);
        }
        ControlFlow::Continue(())
    })?;
    supervisor.stop(Duration::from_secs(5));
    store.sync().context("syncing the store")?;
    summary.read = counts.lock().map(|c| c.clone()).unwrap_or_default();
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer(&mut out, &summary)?;
        writeln!(out)?;
    } else {
        let r = &summary.read;
        writeln!(
            out,
            "{} messages ({} service, {} unsupported, {} unreadable skipped): {} new snapshots, {} repeat sightings; attachments: {} recorded, {} not available, {} archives refused; incidents: {}; alerts queued: {}",
            r.messages, r.service_skipped, r.unsupported_skipped, r.malformed_skipped, summary.new_snapshots,
            summary.repeat_sightings, r.attachments_recorded, r.attachments_missing,
            r.archives_refused, summary.incidents.len(), summary.alerts_queued
        )?;
    }
    Ok(Outcome::Success)
}

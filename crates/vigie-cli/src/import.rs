//! `vigie import telegram-export`: a Telegram Desktop export → matcher → store (and alerts).
// Reads an export from outside: no arithmetic or slicing may panic.
#![deny(clippy::arithmetic_side_effects, clippy::indexing_slicing)]

use std::io::Write;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;
use tracing::warn;
use vigie_match::Matcher;
use vigie_store::{SightingOutcome, SnapshotOutcome, Store, Timestamp};
use vigie_telegram::{extract_with_post, parse_export, ArchiveLimits, TelegramMessage};

use crate::args::ImportCommand;
use crate::config::Config;
use crate::files::read_bounded;
use crate::telegram::{record_message, Recording};
use crate::{shipped, Outcome};

#[derive(Default, Serialize)]
struct Summary {
    messages: u64,
    service_skipped: u64,
    unsupported_skipped: u64,
    malformed_skipped: u64,
    new_snapshots: u64,
    repeat_sightings: u64,
    attachments_recorded: u64,
    attachments_missing: u64,
    archives_refused: u64,
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
    let bytes = read_bounded(&file, max_bytes)
        .with_context(|| format!("reading {}", file.display()))?
        .with_context(|| format!("{} is larger than --max-bytes {max_bytes}", file.display()))?;
    let export = parse_export(&bytes).with_context(|| format!("reading {}", file.display()))?;
    // An export with entries of which none is a message we can read is a failed import (a date
    // form not understood, a file of another shape), never a silent success.
    let skipped = export
        .service
        .saturating_add(export.unsupported)
        .saturating_add(export.malformed);
    if export.messages.is_empty() && skipped > 0 {
        anyhow::bail!(
            "{}: no message recorded: {} entries without a readable id or date ({} service, {} unsupported; {} in all)",
            file.display(),
            export.malformed,
            export.service,
            export.unsupported,
            skipped
        );
    }
    let base = file.parent().unwrap_or(Path::new(".")).to_path_buf();
    let dir = config.store_dir(store_flag);
    let mut store =
        Store::open(&dir).with_context(|| format!("opening the store {}", dir.display()))?;
    let mut summary = Summary {
        service_skipped: export.service,
        unsupported_skipped: export.unsupported,
        malformed_skipped: export.malformed,
        ..Summary::default()
    };
    for message in &export.messages {
        summary.messages = summary.messages.saturating_add(1);
        record(&mut store, &matcher, &router, message, None, &mut summary)?;
        for attachment in &message.attachments {
            let Some(rel) = attachment.path.as_deref() else {
                summary.attachments_missing = summary.attachments_missing.saturating_add(1);
                continue;
            };
            let Some(path) = inside(&base, rel) else {
                warn!(
                    message = message.id,
                    path = rel,
                    "attachment path leaves the export directory; not read"
                );
                summary.attachments_missing = summary.attachments_missing.saturating_add(1);
                continue;
            };
            let data = match read_bounded(&path, max_attachment_bytes)
                .with_context(|| format!("reading {}", path.display()))
            {
                Ok(Some(d)) => d,
                Ok(None) => {
                    warn!(
                        message = message.id,
                        path = rel,
                        max = max_attachment_bytes,
                        "attachment over the size cap; metadata only"
                    );
                    summary.attachments_missing = summary.attachments_missing.saturating_add(1);
                    continue;
                }
                Err(e) => {
                    warn!(message = message.id, path = rel, error = %format!("{e:#}"), "attachment unreadable");
                    summary.attachments_missing = summary.attachments_missing.saturating_add(1);
                    continue;
                }
            };
            let name = attachment
                .file_name
                .clone()
                .unwrap_or_else(|| rel.to_string());
            let text = match extract_with_post(
                &name,
                &data,
                ArchiveLimits::default(),
                &message.text,
            ) {
                Ok(x) => x.text,
                Err(e) => {
                    // The raw bytes are still evidence; only their contents are not matched.
                    warn!(message = message.id, attachment = %name, error = %e, "archive refused");
                    summary.archives_refused = summary.archives_refused.saturating_add(1);
                    Vec::new()
                }
            };
            let attachment = Some((name.as_str(), data.as_slice(), text.as_slice()));
            record(
                &mut store,
                &matcher,
                &router,
                message,
                attachment,
                &mut summary,
            )?;
            summary.attachments_recorded = summary.attachments_recorded.saturating_add(1);
        }
    }
    store.sync().context("syncing the store")?;
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer(&mut out, &summary)?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "{} messages ({} service, {} unsupported, {} unreadable skipped): {} new snapshots, {} repeat sightings; attachments: {} recorded, {} not available, {} archives refused; incidents: {}; alerts queued: {}",
            summary.messages, summary.service_skipped, summary.unsupported_skipped, summary.malformed_skipped, summary.new_snapshots,
            summary.repeat_sightings, summary.attachments_recorded, summary.attachments_missing,
            summary.archives_refused, summary.incidents.len(), summary.alerts_queued
        )?;
    }
    Ok(Outcome::Success)
}

/// `rel` under `base`, or `None` when it is absolute or climbs out (names in exports never
/// choose where Vigie reads).
fn inside(base: &Path, rel: &str) -> Option<PathBuf> {
    let p = Path::new(rel);
    if p.components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
    {
        Some(base.join(p))
    } else {
        None
    }
}

fn record(
    store: &mut Store,
    matcher: &Matcher,
    router: &vigie_alerts::Router,
    message: &TelegramMessage,
    attachment: Option<(&str, &[u8], &[u8])>,
    summary: &mut Summary,
) -> Result<()> {
    // An export names no followed channel: every forward is a candidate.
    let followed = std::collections::BTreeSet::new();
    let how = Recording {
        collector: "telegram-export",
        fetched_at: Timestamp(message.date.saturating_mul(1000)),
        followed: &followed,
    };
    let recorded = record_message(store, matcher, router, message, attachment, &how)?;
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
    Ok(())
}

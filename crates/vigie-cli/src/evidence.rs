//! `vigie evidence verify|compact|export|timestamp` and `vigie retention apply`.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use anyhow::{bail, Context, Result};
use vigie_store::{Store, Timestamp};

use crate::args::{EvidenceCommand, RetentionCommand};
use crate::config::Config;
use crate::incidents::open_for_queries;
use crate::{timestamping, Outcome};

pub fn run(
    command: EvidenceCommand,
    config: &Config,
    store_flag: Option<&Path>,
) -> Result<Outcome> {
    match command {
        EvidenceCommand::Verify { json } => verify(config, store_flag, json),
        EvidenceCommand::Export { id, out } => {
            let store = open_for_queries(config, store_flag)?;
            let tmp = out.with_extension("partial");
            let file =
                create_private(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
            let summary = store
                .export_incident(id, BufWriter::new(file))
                .with_context(|| format!("exporting incident {id}"));
            let summary = match summary {
                Ok(s) => s,
                Err(e) => {
                    let _ = std::fs::remove_file(&tmp);
                    return Err(e);
                }
            };
            std::fs::rename(&tmp, &out).with_context(|| format!("writing {}", out.display()))?;
            println!(
                "incident {id}: {} snapshot file(s), {} purged, {} sighting(s), {} custody entries → {}",
                summary.files,
                summary.purged,
                summary.sightings,
                summary.custody_entries,
                out.display()
            );
            Ok(Outcome::Success)
        }
        EvidenceCommand::Compact => {
            let dir = config.store_dir(store_flag);
            let store = Store::open(&dir)
                .with_context(|| format!("opening the store {}", dir.display()))?;
            let before = bytes_under(&dir);
            store.compact().context("compacting the store")?;
            store.flush().context("flushing the store")?;
            drop(store);
            println!(
                "store compacted: {} bytes before, {} after",
                before,
                bytes_under(&dir)
            );
            Ok(Outcome::Success)
        }
        EvidenceCommand::Timestamp => {
            let Some(tsa) = &config.timestamping else {
                bail!("no [timestamping] section in the config: set timestamping.url and ca_file");
            };
            let dir = config.store_dir(store_flag);
            let mut store = Store::open(&dir)
                .with_context(|| format!("opening the store {}", dir.display()))?;
            let stamped = timestamping::stamp_head(&mut store, tsa, true)?;
            match stamped {
                Some(seq) => println!("custody entry {seq} time-stamped by {}", tsa.url),
                None => println!("nothing to time-stamp: the chain is empty"),
            }
            Ok(Outcome::Success)
        }
    }
}

/// Bytes of the files under `dir` (one level of subdirectories: the store's layout).
fn bytes_under(dir: &Path) -> u64 {
    let size = |d: &Path| -> u64 {
        std::fs::read_dir(d)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok()?.metadata().ok())
                    .filter(|m| m.is_file())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0)
    };
    let subdirs: u64 = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .map(|e| size(&e.path()))
                .sum()
        })
        .unwrap_or(0);
    size(dir) + subdirs
}

/// A new file only its owner may read: a bundle holds the evidence, personal data included.
/// A leftover file of the same name gets the mode too.
fn create_private(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(file)
}

fn verify(config: &Config, store_flag: Option<&Path>, json: bool) -> Result<Outcome> {
    let store = open_for_queries(config, store_flag)?;
    let mut report = store.verify().context("reading the store")?;
    let tokens = timestamping::check_tokens(&store, config.timestamping.as_ref())?;
    report.problems.extend(tokens.problems.iter().cloned());
    if json {
        let value = serde_json::json!({
            "ok": report.ok(),
            "custody_entries": report.custody_entries,
            "snapshots": report.snapshots,
            "purged": report.purged,
            "sightings": report.sightings,
            "timestamp_tokens": tokens.checked,
            "problems": report.problems,
        });
        println!("{value}");
    } else if report.ok() {
        println!(
            "ok: {} custody entries, {} snapshots ({} purged by retention), {} sightings, {} time-stamp token(s) checked",
            report.custody_entries, report.snapshots, report.purged, report.sightings, tokens.checked
        );
    } else {
        println!("FAILED: first broken link: {}", report.problems[0]);
        for p in report.problems.iter().skip(1) {
            println!("  also: {p}");
        }
    }
    Ok(if report.ok() {
        Outcome::Success
    } else {
        Outcome::CheckFailed
    })
}

pub fn retention(
    command: RetentionCommand,
    config: &Config,
    store_flag: Option<&Path>,
) -> Result<Outcome> {
    match command {
        RetentionCommand::Apply { days } => {
            let Some(days) = days.or(config.retention.raw_days) else {
                bail!("no retention period: set retention.raw_days in the config or pass --days");
            };
            if days == 0 {
                bail!("--days must be at least 1");
            }
            let dir = config.store_dir(store_flag);
            let mut store = Store::open(&dir)
                .with_context(|| format!("opening the store {}", dir.display()))?;
            let report = store.apply_retention(days, Timestamp::now())?;
            println!(
                "retention {days} days: purged raw bytes of {} snapshot(s); kept {} with personal data still in period, {} without personal data",
                report.purged.len(),
                report.kept_personal,
                report.kept_other
            );
            Ok(Outcome::Success)
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn bundles_are_written_owner_only_even_over_a_leftover_file() {
        let dir = tempfile::tempdir().unwrap();
        let fresh = dir.path().join("fresh.partial");
        let leftover = dir.path().join("leftover.partial");
        std::fs::write(&leftover, b"old").unwrap();
        std::fs::set_permissions(&leftover, std::fs::Permissions::from_mode(0o644)).unwrap();
        for path in [&fresh, &leftover] {
            drop(create_private(path).unwrap());
            let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", path.display());
            assert_eq!(std::fs::metadata(path).unwrap().len(), 0);
        }
    }
}

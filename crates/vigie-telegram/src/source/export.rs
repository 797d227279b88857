//! [`ExportSource`]: a Telegram Desktop export as a finite source (`vigie import
//! telegram-export`): each message, then each of its files found under the export's
//! directory, as documents; it finishes when the export is read.
// Reads an export from outside: no arithmetic or slicing may panic.
#![deny(clippy::arithmetic_side_effects, clippy::indexing_slicing)]

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use tracing::warn;
use vigie_pipeline::{Source, SourceContext, SourceError};
use vigie_store::Timestamp;

use super::{message_events, AttachmentDoc, Recording};
use crate::{extract_with_post, parse_export, ArchiveLimits, Export, TelegramError};

/// Why an export cannot be imported (before anything is recorded).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// The file cannot be read.
    #[error("reading {}: {error}", path.display())]
    Read {
        /// The export file.
        path: PathBuf,
        /// The I/O error (in the message, not a separate cause).
        error: std::io::Error,
    },
    /// The file is over the size cap.
    #[error("{} is larger than --max-bytes {max}", path.display())]
    TooLarge {
        /// The export file.
        path: PathBuf,
        /// The cap, bytes.
        max: u64,
    },
    /// Not a Telegram Desktop export.
    #[error("reading {}: {error}", path.display())]
    Parse {
        /// The export file.
        path: PathBuf,
        /// What the parser said.
        error: TelegramError,
    },
    /// Entries, but none a message that can be read (a date form not understood, a file of
    /// another shape): a failed import, never a silent success.
    #[error("{}: no message recorded: {malformed} entries without a readable id or date ({service} service, {unsupported} unsupported; {all} in all)", path.display())]
    NothingReadable {
        /// The export file.
        path: PathBuf,
        /// Entries without a readable id or date.
        malformed: u64,
        /// Service messages.
        service: u64,
        /// Entries Telegram could not render.
        unsupported: u64,
        /// All entries skipped.
        all: u64,
    },
}

/// Size caps of an import.
#[derive(Debug, Clone, Copy)]
pub struct ExportLimits {
    /// The export file, bytes.
    pub max_bytes: u64,
    /// Each attachment, bytes (a larger one is counted as not available).
    pub max_attachment_bytes: u64,
}

/// What the source read and skipped; what was stored is the recorder's to count.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ExportCounts {
    /// Messages emitted.
    pub messages: u64,
    /// Service messages skipped.
    pub service_skipped: u64,
    /// Entries Telegram could not render, skipped.
    pub unsupported_skipped: u64,
    /// Entries without a readable id or date, skipped.
    pub malformed_skipped: u64,
    /// Attachments read and emitted.
    pub attachments_recorded: u64,
    /// Attachments not exported, over the cap, unreadable, or with a path leaving the export.
    pub attachments_missing: u64,
    /// Archives refused (limits, zip bomb): their bytes are still emitted, unmatched.
    pub archives_refused: u64,
}

/// A parsed Telegram Desktop export, emitted once.
pub struct ExportSource {
    export: Export,
    /// The export's directory: attachment paths are read under it only.
    base: PathBuf,
    max_attachment_bytes: u64,
    counts: Arc<Mutex<ExportCounts>>,
}

impl ExportSource {
    /// Reads and parses `file` (at most `limits.max_bytes`); fails when it is not an export
    /// or holds entries of which none is a readable message.
    pub fn open(file: &Path, limits: ExportLimits) -> Result<ExportSource, ExportError> {
        let bytes = read_bounded(file, limits.max_bytes)
            .map_err(|error| ExportError::Read {
                path: file.to_path_buf(),
                error,
            })?
            .ok_or_else(|| ExportError::TooLarge {
                path: file.to_path_buf(),
                max: limits.max_bytes,
            })?;
        let export = parse_export(&bytes).map_err(|error| ExportError::Parse {
            path: file.to_path_buf(),
            error,
        })?;
        let skipped = export
            .service
            .saturating_add(export.unsupported)
            .saturating_add(export.malformed);
        if export.messages.is_empty() && skipped > 0 {
            return Err(ExportError::NothingReadable {
                path: file.to_path_buf(),
                malformed: export.malformed,
                service: export.service,
                unsupported: export.unsupported,
                all: skipped,
            });
        }
        Ok(ExportSource {
            base: file.parent().unwrap_or(Path::new(".")).to_path_buf(),
            max_attachment_bytes: limits.max_attachment_bytes,
            counts: Arc::new(Mutex::new(ExportCounts::default())),
            export,
        })
    }

    /// The counts, shared: read them once the source has finished.
    pub fn counts(&self) -> Arc<Mutex<ExportCounts>> {
        Arc::clone(&self.counts)
    }

    /// The events of one message and its files, counting into `counts`.
    fn message(
        &self,
        message: &crate::TelegramMessage,
        counts: &mut ExportCounts,
    ) -> Vec<vigie_pipeline::Event> {
        // An export names no followed channel: every forward is a candidate.
        let followed = BTreeSet::new();
        let how = Recording {
            collector: "telegram-export",
            fetched_at: Timestamp(message.date.saturating_mul(1000)),
            followed: &followed,
        };
        counts.messages = counts.messages.saturating_add(1);
        let mut events = message_events(message, None, &how);
        for attachment in &message.attachments {
            let Some(rel) = attachment.path.as_deref() else {
                counts.attachments_missing = counts.attachments_missing.saturating_add(1);
                continue;
            };
            let Some(path) = inside(&self.base, rel) else {
                warn!(
                    message = message.id,
                    path = rel,
                    "attachment path leaves the export directory; not read"
                );
                counts.attachments_missing = counts.attachments_missing.saturating_add(1);
                continue;
            };
            let data = match read_bounded(&path, self.max_attachment_bytes) {
                Ok(Some(d)) => d,
                Ok(None) => {
                    warn!(
                        message = message.id,
                        path = rel,
                        max = self.max_attachment_bytes,
                        "attachment over the size cap; metadata only"
                    );
                    counts.attachments_missing = counts.attachments_missing.saturating_add(1);
                    continue;
                }
                Err(e) => {
                    warn!(message = message.id, path = rel, error = %format!("reading {}: {e}", path.display()), "attachment unreadable");
                    counts.attachments_missing = counts.attachments_missing.saturating_add(1);
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
                    counts.archives_refused = counts.archives_refused.saturating_add(1);
                    Vec::new()
                }
            };
            let file = AttachmentDoc {
                name: &name,
                bytes: data,
                text,
            };
            events.extend(message_events(message, Some(file), &how));
            counts.attachments_recorded = counts.attachments_recorded.saturating_add(1);
        }
        events
    }
}

impl Source for ExportSource {
    fn name(&self) -> &str {
        "telegram-export"
    }

    fn run(&mut self, cx: &SourceContext) -> Result<(), SourceError> {
        // A run again after a failure starts over: the store takes what it has as repeats.
        let mut counts = ExportCounts {
            service_skipped: self.export.service,
            unsupported_skipped: self.export.unsupported,
            malformed_skipped: self.export.malformed,
            ..ExportCounts::default()
        };
        for message in &self.export.messages {
            if cx.is_stopping() {
                break;
            }
            for event in self.message(message, &mut counts) {
                cx.emit(event)
                    .map_err(|e| SourceError::Failed(e.to_string()))?;
            }
        }
        if let Ok(mut shared) = self.counts.lock() {
            *shared = counts;
        }
        Ok(())
    }
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

/// The file's bytes, or `None` when it is larger than `max` (read stops at `max + 1` bytes,
/// so a huge file is never loaded whole).
fn read_bounded(path: &Path, max: u64) -> std::io::Result<Option<Vec<u8>>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(max.saturating_add(1))
        .read_to_end(&mut bytes)?;
    Ok((bytes.len() as u64 <= max).then_some(bytes))
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
mod tests {
    use super::*;
    use std::time::Duration;
    use vigie_pipeline::{
        Event, MatchText, NoCheckpoints, Shutdown, Supervisor, SupervisorOptions,
    };

    #[test]
    fn an_export_is_emitted_through_the_supervisor_with_its_files_and_counts() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("files")).unwrap();
        std::fs::write(dir.path().join("files/sample.csv"), "nom;nir\n").unwrap();
        std::fs::write(dir.path().join("files/big.bin"), vec![0u8; 100]).unwrap();
        let export = dir.path().join("result.json");
        std::fs::write(
            &export,
            r#"{"name": "medleaks", "id": 77, "messages": [
              {"id": 1, "type": "service", "date_unixtime": "1795183390", "action": "create_channel"},
              {"id": 5, "type": "message", "date_unixtime": "1795183391",
               "forwarded_from": "Pharma_Dark", "text": "Vente base CHU",
               "file": "files/sample.csv", "file_name": "sample.csv"},
              {"id": 6, "type": "message", "date_unixtime": "1795183392", "text": "big",
               "file": "files/big.bin"},
              {"id": 7, "type": "message", "date_unixtime": "1795183393", "text": "escape",
               "file": "../../etc/passwd"}]}"#,
        )
        .unwrap();
        let limits = ExportLimits {
            max_bytes: 1 << 20,
            max_attachment_bytes: 50,
        };
        let source = ExportSource::open(&export, limits).unwrap();
        let counts = source.counts();
        let (sup, rx) = Supervisor::start(
            vec![Box::new(source)],
            Arc::new(NoCheckpoints),
            Shutdown::new(),
            SupervisorOptions::default(),
        )
        .unwrap();
        // The receiver closes when the finite source is done.
        let events: Vec<Event> = rx.iter().map(|p| p.event).collect();
        sup.stop(Duration::from_secs(1));
        let summary: Vec<String> = events
            .iter()
            .map(|e| match e {
                Event::Document(d) => d.label.clone(),
                Event::Candidate { name, .. } => format!("candidate {name}"),
                other => format!("{other:?}"),
            })
            .collect();
        // The chat is named with its id ("name (id)"), as the export reader names it.
        assert_eq!(
            summary,
            [
                "telegram:medleaks (77)/5",
                "candidate pharma_dark",
                "telegram:medleaks (77)/5/sample.csv",
                "telegram:medleaks (77)/6",
                "telegram:medleaks (77)/7",
            ]
        );
        let Event::Document(file) = &events[2] else {
            panic!()
        };
        assert_eq!(file.content, b"nom;nir\n");
        assert!(matches!(&file.text, MatchText::Given(t) if t.starts_with(b"nom;nir")));
        assert_eq!(file.sighting.collector, "telegram-export");
        // Fetched "at" the message's date: an import says when the post was made.
        assert_eq!(file.sighting.fetched_at, Timestamp(1_795_183_391_000));
        let counts = counts.lock().unwrap().clone();
        assert_eq!(
            counts,
            ExportCounts {
                messages: 3,
                service_skipped: 1,
                attachments_recorded: 1,
                attachments_missing: 2,
                ..ExportCounts::default()
            }
        );
    }

    #[test]
    fn an_export_with_nothing_readable_is_refused_before_any_event() {
        let dir = tempfile::tempdir().unwrap();
        let export = dir.path().join("result.json");
        std::fs::write(
            &export,
            r#"{"name": "g", "id": 1, "messages": [
                {"id": 1, "type": "message", "date": "le 5 mars", "text": "a"},
                {"id": 2, "type": "unsupported"}]}"#,
        )
        .unwrap();
        let limits = ExportLimits {
            max_bytes: 1 << 20,
            max_attachment_bytes: 50,
        };
        let err = ExportSource::open(&export, limits)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("no message recorded: 1 entries"), "{err}");
        assert!(err.contains("1 unsupported; 2 in all"), "{err}");
        let small = ExportLimits {
            max_bytes: 10,
            max_attachment_bytes: 50,
        };
        let err = ExportSource::open(&export, small)
            .err()
            .unwrap()
            .to_string();
        assert!(err.ends_with("is larger than --max-bytes 10"), "{err}");
    }
}

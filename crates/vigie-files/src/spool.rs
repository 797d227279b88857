//! The spool directory of `vigie run`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Deserialize;
use tracing::{info, warn};
use vigie_pipeline::{Document, Event, MatchText, Receipt, Source, SourceContext, SourceError};
use vigie_store::{Locator, Sighting, Timestamp};

use crate::files::read_bounded;

/// Where spool files that could not be recorded go, each with a `NAME.reason` beside it.
/// (Versions before 0.2 moved them to `.rejected/` without a reason; that directory is left
/// as it is.)
pub const REJECTED_DIR: &str = "rejected";

/// The spool's settings (the `[run]` section's `spool*`, `poll_ms` and `max_bytes` keys).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpoolConfig {
    pub dir: PathBuf,
    /// Source id recorded for spool files.
    pub source: String,
    /// How often the spool is read, milliseconds.
    pub poll_ms: u64,
    /// Larger files are moved to `rejected/` with their reason, bytes.
    pub max_bytes: u64,
}

/// Emits each complete file of the spool (names starting with `.` are being written), oldest
/// name first, and removes it once its receipt says it is stored.
pub struct SpoolSource {
    config: SpoolConfig,
    /// Files emitted whose receipt has not come back.
    in_flight: Arc<Mutex<HashSet<PathBuf>>>,
}

impl SpoolSource {
    /// Creates the spool directory if needed.
    pub fn new(config: SpoolConfig) -> std::io::Result<SpoolSource> {
        std::fs::create_dir_all(&config.dir)?;
        Ok(SpoolSource {
            config,
            in_flight: Arc::default(),
        })
    }

    fn complete_files(&self) -> std::io::Result<Vec<PathBuf>> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.config.dir)?
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .map(|e| e.path())
            .filter(|p| {
                !p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            })
            .collect();
        files.sort();
        Ok(files)
    }

    /// One pass over the spool; false when the run is stopping.
    fn pass(&self, cx: &SourceContext) -> Result<bool, SourceError> {
        let files = self.complete_files().map_err(|e| {
            SourceError::Failed(format!(
                "reading the spool {}: {e}",
                self.config.dir.display()
            ))
        })?;
        for path in files {
            if cx.is_stopping() {
                return Ok(false);
            }
            if lock(&self.in_flight).contains(&path) {
                continue;
            }
            let bytes = match read_bounded(&path, self.config.max_bytes) {
                Ok(Some(b)) => b,
                Ok(None) => {
                    let why = format!(
                        "larger than run.max_bytes ({} bytes)",
                        self.config.max_bytes
                    );
                    warn!(path = %path.display(), reason = %why, "spool file rejected; moved to rejected/");
                    reject(&self.config.dir, &path, &why);
                    continue;
                }
                Err(e) => {
                    let why = format!("unreadable: {e}");
                    warn!(path = %path.display(), reason = %why, "spool file rejected; moved to rejected/");
                    reject(&self.config.dir, &path, &why);
                    continue;
                }
            };
            let label = path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            let sighting = Sighting {
                source: self.config.source.clone(),
                locator: Locator::File {
                    path: label.clone(),
                },
                fetched_at: Timestamp::now(),
                collector: "spool".into(),
                details: Default::default(),
            };
            let mut document = Document::new(bytes, label, sighting);
            document.text = MatchText::Unpack;
            lock(&self.in_flight).insert(path.clone());
            let receipt = {
                let (in_flight, dir, path) = (
                    Arc::clone(&self.in_flight),
                    self.config.dir.clone(),
                    path.clone(),
                );
                Receipt::new(move |result| {
                    match result {
                        // Durable (the recorder synced, or the bus acknowledged): the copy goes.
                        Ok(()) => {
                            if let Err(e) = std::fs::remove_file(&path) {
                                warn!(path = %path.display(), error = %e, "could not remove a recorded spool file");
                            }
                        }
                        Err(why) => {
                            let why = format!("recording failed: {why}");
                            warn!(path = %path.display(), reason = %why, "spool file rejected; moved to rejected/");
                            reject(&dir, &path, &why);
                        }
                    }
                    lock(&in_flight).remove(&path);
                })
            };
            if cx
                .emit_with_receipt(Event::Document(document), receipt)
                .is_err()
            {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

impl Source for SpoolSource {
    fn name(&self) -> &str {
        "spool"
    }

    fn run(&mut self, cx: &SourceContext) -> Result<(), SourceError> {
        info!(spool = %self.config.dir.display(), "reading the spool");
        let poll = Duration::from_millis(self.config.poll_ms.max(10));
        while self.pass(cx)? {
            if cx.shutdown().sleep(poll) {
                break;
            }
        }
        Ok(())
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
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
    use vigie_pipeline::{NoCheckpoints, Pending, Shutdown};

    fn spool() -> (tempfile::TempDir, SpoolSource) {
        let dir = tempfile::tempdir().unwrap();
        let source = SpoolSource::new(SpoolConfig {
            dir: dir.path().join("spool"),
            source: "spool".into(),
            poll_ms: 10,
            max_bytes: 50,
        })
        .unwrap();
        (dir, source)
    }

    fn pass(source: &SpoolSource) -> Vec<Pending> {
        let (tx, rx) = flume::unbounded();
        let cx = SourceContext::new(tx, Shutdown::new(), Arc::new(NoCheckpoints));
        assert!(source.pass(&cx).unwrap());
        rx.drain().collect()
    }

    fn rejected(spool: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(spool.join(REJECTED_DIR))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_file_too_large_is_rejected_with_its_reason_and_the_others_go_on() {
        let (_dir, source) = spool();
        let spool = source.config.dir.clone();
        std::fs::write(spool.join("a-big.txt"), vec![b'x'; 100]).unwrap();
        std::fs::write(spool.join("b-small.txt"), b"small post").unwrap();
        std::fs::write(spool.join(".c-partial.txt"), b"being written").unwrap();
        let emitted = pass(&source);
        assert_eq!(emitted.len(), 1, "only the small complete file");
        let Event::Document(d) = &emitted[0].event else {
            panic!()
        };
        assert_eq!(d.content, b"small post");
        assert_eq!(d.text, MatchText::Unpack);
        assert_eq!(rejected(&spool), ["a-big.txt", "a-big.txt.reason"]);
        let reason = std::fs::read_to_string(spool.join("rejected/a-big.txt.reason")).unwrap();
        assert!(
            reason.contains("larger than run.max_bytes (50 bytes)"),
            "{reason}"
        );

        // In flight: not emitted twice; stored: removed.
        assert!(pass(&source).is_empty());
        assert!(spool.join("b-small.txt").exists());
        emitted[0].receipt.as_ref().unwrap().settle(Ok(()));
        assert!(!spool.join("b-small.txt").exists());

        // The same name rejected again keeps the first one.
        std::fs::write(spool.join("a-big.txt"), vec![b'y'; 100]).unwrap();
        assert!(pass(&source).is_empty());
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
    }

    #[test]
    fn a_file_that_fails_to_record_is_rejected_with_the_reason() {
        let (_dir, source) = spool();
        let spool = source.config.dir.clone();
        std::fs::write(spool.join("one.txt"), b"first post").unwrap();
        let emitted = pass(&source);
        emitted[0]
            .receipt
            .as_ref()
            .unwrap()
            .settle(Err("writing the store: read-only".into()));
        assert_eq!(rejected(&spool), ["one.txt", "one.txt.reason"]);
        let reason = std::fs::read_to_string(spool.join("rejected/one.txt.reason")).unwrap();
        assert!(
            reason.contains("recording failed: writing the store"),
            "{reason}"
        );
        assert!(pass(&source).is_empty(), "gone from the spool");
    }
}

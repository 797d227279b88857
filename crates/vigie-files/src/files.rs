//! The files named to `vigie ingest`.

use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tracing::warn;
use vigie_pipeline::{Document, Event, MatchText, Source, SourceContext, SourceError};
use vigie_store::{Locator, Sighting, Timestamp};

/// Adds a file, or every file under a directory: entries sorted by name, a subdirectory
/// walked where it sorts (depth first); symlinks to directories are not followed. Walks with
/// an explicit stack: no recursion however deep the tree.
pub fn collect_files(path: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    if !std::fs::metadata(path)?.is_dir() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    // Each level: its sorted entries, reversed so that `pop` gives the next one.
    let mut stack = vec![sorted_entries(path)?];
    while let Some(level) = stack.last_mut() {
        let Some(entry) = level.pop() else {
            stack.pop();
            continue;
        };
        let p = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            stack.push(sorted_entries(&p)?);
        } else if kind.is_file() || (kind.is_symlink() && p.is_file()) {
            out.push(p);
        }
    }
    Ok(())
}

fn sorted_entries(dir: &Path) -> io::Result<Vec<std::fs::DirEntry>> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.filter_map(|e| e.ok()).collect();
    // `file_name` allocates: once per entry, not twice per comparison.
    entries.sort_by_cached_key(|e| std::cmp::Reverse(e.file_name()));
    Ok(entries)
}

/// The file's bytes, or `None` when it is larger than `max` (reading stops at `max + 1`
/// bytes, so a huge file is never loaded whole).
pub fn read_bounded(path: &Path, max: u64) -> io::Result<Option<Vec<u8>>> {
    let file = std::fs::File::open(path)?;
    // Sized from the file's length (a hint: the file may grow or shrink meanwhile), so that a
    // small post is read without the buffer growing step by step.
    let hint = file.metadata().map_or(0, |m| m.len().min(max).min(1 << 20));
    let mut bytes = Vec::with_capacity(hint as usize + 1);
    file
        // `max = u64::MAX` must not wrap to a limit of 0 bytes.
        .take(max.saturating_add(1))
        .read_to_end(&mut bytes)?;
    Ok((bytes.len() as u64 <= max).then_some(bytes))
}

/// Settings of a [`FilesSource`].
#[derive(Debug, Clone)]
pub struct FilesOptions {
    /// Source id recorded in each sighting.
    pub source: String,
    /// Files larger than this are skipped (logged).
    pub max_bytes: u64,
    /// When the files were seen (default: now).
    pub seen_at: Option<Timestamp>,
    /// Collector name in sightings.
    pub collector: String,
}

impl Default for FilesOptions {
    fn default() -> FilesOptions {
        FilesOptions {
            source: "ingest".into(),
            max_bytes: 64 * 1024 * 1024,
            seen_at: None,
            collector: "ingest".into(),
        }
    }
}

/// What a [`FilesSource`] could not read.
#[derive(Debug, Default, Clone)]
pub struct FilesReport {
    /// Files larger than the limit.
    pub skipped: u64,
    /// Paths that could not be listed or read, with why.
    pub errors: Vec<(PathBuf, String)>,
}

/// Reads each named file once and emits it as a document.
pub struct FilesSource {
    paths: Vec<PathBuf>,
    options: FilesOptions,
    report: Arc<Mutex<FilesReport>>,
}

impl FilesSource {
    pub fn new(paths: Vec<PathBuf>, options: FilesOptions) -> FilesSource {
        FilesSource {
            paths,
            options,
            report: Arc::default(),
        }
    }

    /// Shared view of what was skipped or failed (complete once the source has finished).
    pub fn report(&self) -> Arc<Mutex<FilesReport>> {
        Arc::clone(&self.report)
    }

    fn note(&self, f: impl FnOnce(&mut FilesReport)) {
        match self.report.lock() {
            Ok(mut r) => f(&mut r),
            Err(p) => f(&mut p.into_inner()),
        }
    }
}

impl Source for FilesSource {
    fn name(&self) -> &str {
        "files"
    }

    fn run(&mut self, cx: &SourceContext) -> Result<(), SourceError> {
        let mut files = Vec::new();
        for p in std::mem::take(&mut self.paths) {
            if let Err(e) = collect_files(&p, &mut files) {
                self.note(|r| r.errors.push((p, e.to_string())));
            }
        }
        let seen_at = self.options.seen_at.unwrap_or_else(Timestamp::now);
        for path in files {
            if cx.is_stopping() {
                break;
            }
            let bytes = match read_bounded(&path, self.options.max_bytes) {
                Ok(Some(b)) => b,
                Ok(None) => {
                    warn!(path = %path.display(), max = self.options.max_bytes, "file larger than the limit, skipped");
                    self.note(|r| r.skipped += 1);
                    continue;
                }
                Err(e) => {
                    self.note(|r| r.errors.push((path, e.to_string())));
                    continue;
                }
            };
            let label = path.display().to_string();
            let sighting = Sighting {
                source: self.options.source.clone(),
                locator: Locator::File {
                    path: label.clone(),
                },
                fetched_at: seen_at,
                collector: self.options.collector.clone(),
                details: Default::default(),
            };
            let mut document = Document::new(bytes, label, sighting);
            document.text = MatchText::Unpack;
            if cx.emit(Event::Document(document)).is_err() {
                break;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_limit_reads_the_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("post.txt");
        std::fs::write(&path, b"twelve bytes").unwrap();
        assert_eq!(
            read_bounded(&path, u64::MAX).unwrap().as_deref(),
            Some(&b"twelve bytes"[..])
        );
        assert_eq!(read_bounded(&path, 11).unwrap(), None);
    }

    #[test]
    fn a_deep_tree_is_walked_in_name_order_without_recursion() {
        let dir = tempfile::tempdir().unwrap();
        let mut deep = dir.path().to_path_buf();
        for i in 0..300 {
            deep = deep.join(format!("d{i}"));
        }
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::write(deep.join("bottom.txt"), b"x").unwrap();
        std::fs::write(dir.path().join("b.txt"), b"x").unwrap();
        std::fs::write(dir.path().join("a.txt"), b"x").unwrap();
        std::fs::create_dir(dir.path().join("c")).unwrap();
        std::fs::write(dir.path().join("c/z.txt"), b"x").unwrap();
        let mut out = Vec::new();
        collect_files(dir.path(), &mut out).unwrap();
        let names: Vec<String> = out
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.txt", "b.txt", "z.txt", "bottom.txt"]);
        // A directory is walked where its name sorts, before later files.
        std::fs::write(dir.path().join("ca.txt"), b"x").unwrap();
        let mut out = Vec::new();
        collect_files(dir.path(), &mut out).unwrap();
        let names: Vec<String> = out
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.txt", "b.txt", "z.txt", "ca.txt", "bottom.txt"]);
    }
}

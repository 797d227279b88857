//! Turning command-line paths into files, and reading them within a size limit.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// Adds a file, or every file under a directory (sorted, symlinks to directories not followed).
pub fn collect(path: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_dir() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<_> = std::fs::read_dir(path)?.filter_map(|e| e.ok()).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let p = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            collect(&p, out)?;
        } else if kind.is_file() || (kind.is_symlink() && p.is_file()) {
            out.push(p);
        }
    }
    Ok(())
}

/// The file's bytes, or `None` when it is larger than `max` (read stops at `max + 1` bytes, so
/// a huge file is never loaded whole).
pub fn read_bounded(path: &Path, max: u64) -> io::Result<Option<Vec<u8>>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        // `--max-bytes 18446744073709551615` must not wrap to a limit of 0 bytes.
        .take(max.saturating_add(1))
        .read_to_end(&mut bytes)?;
    Ok((bytes.len() as u64 <= max).then_some(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_limit_reads_the_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("post.txt");
        std::fs::write(&path, b"twelve bytes").unwrap();
        // `max + 1` overflowed here: a panic in debug, an empty read in release.
        assert_eq!(
            read_bounded(&path, u64::MAX).unwrap().as_deref(),
            Some(&b"twelve bytes"[..])
        );
        assert_eq!(
            read_bounded(&path, 12).unwrap().as_deref(),
            Some(&b"twelve bytes"[..])
        );
        assert_eq!(read_bounded(&path, 11).unwrap(), None);
    }
}

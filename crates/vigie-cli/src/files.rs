//! Turning command-line paths into files.

use std::io;
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

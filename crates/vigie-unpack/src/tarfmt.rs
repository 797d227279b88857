//! tar, and single compressed streams (gzip, bzip2, zstd) whose content goes back on the work
//! list (a `.tar.gz` is a gzip holding a tar).

use std::io::{Cursor, Read};

use crate::unpack::{extension, Budget, Opened, ReadFail};
use crate::Format;

/// A tar's regular files, each under the caps; links and devices are recorded, not followed.
pub(crate) fn open_tar(path: &str, bytes: &[u8], budget: &mut Budget) -> Result<Opened, ReadFail> {
    let mut archive = tar::Archive::new(Cursor::new(bytes));
    let entries = archive
        .entries()
        .map_err(|e| ReadFail::Broken(format!("not a readable tar: {e}")))?;
    let mut out = Opened {
        children: Vec::new(),
        skipped: Vec::new(),
    };
    for entry in entries {
        let mut entry = entry.map_err(|e| ReadFail::Broken(format!("tar entry: {e}")))?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).replace(['\n', '\r'], " ");
        let kind = entry.header().entry_type();
        if kind.is_dir() || kind.is_pax_global_extensions() || kind.is_pax_local_extensions() {
            continue;
        }
        budget.take_entry().map_err(ReadFail::Refused)?;
        if !kind.is_file() {
            out.skipped.push(crate::Skipped {
                path: format!("{path}/{name}"),
                reason: "not a regular file (link or device): not followed".into(),
            });
            continue;
        }
        let size = entry.size();
        // Tar stores entries as they are: the ratio is 1, the total cap does the work.
        budget
            .check_declared(&name, size, size)
            .map_err(ReadFail::Refused)?;
        let data = budget.read_capped(&mut entry, &name, size.max(1), true)?;
        out.children.push((name, data));
    }
    Ok(out)
}

/// One compressed stream: its content becomes the single child, named without the suffix.
pub(crate) fn open_stream(
    path: &str,
    bytes: &[u8],
    format: Format,
    budget: &mut Budget,
) -> Result<Opened, ReadFail> {
    let base = path.rsplit('/').next().unwrap_or(path);
    let ext = extension(base);
    let inner = match ext.as_str() {
        "tgz" | "tbz" | "tbz2" | "tzst" => format!("{}.tar", &base[..base.len() - ext.len() - 1]),
        "gz" | "bz2" | "zst" => base[..base.len() - ext.len() - 1].to_string(),
        _ => format!("{base}.content"),
    };
    let compressed = bytes.len() as u64;
    let mut decoder: Box<dyn Read + '_> = match format {
        Format::Gzip => Box::new(flate2::read::MultiGzDecoder::new(bytes)),
        Format::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(bytes)),
        _ => Box::new(
            ruzstd::decoding::StreamingDecoder::new(bytes)
                .map_err(|e| ReadFail::Broken(format!("zstd: {e}")))?,
        ),
    };
    let data = budget.read_capped(&mut decoder, &inner, compressed, true)?;
    Ok(Opened {
        children: vec![(inner, data)],
        skipped: Vec::new(),
    })
}

//! ZIP: stored, deflate, bzip2 and zstd entries; ZipCrypto and AES with a stated password.
//! Also tells an xlsx/xlsb/ods (a zip of XML parts) from a plain zip, and checks such a
//! workbook's parts against the caps before the spreadsheet reader inflates them.

use std::io::{Cursor, Read};

use zip::result::ZipError;
use zip::CompressionMethod;

use crate::unpack::{Budget, Opened, ReadFail};
use crate::{Format, Skipped, UnpackError};

const METHOD_BZIP2: u16 = 12;
const METHOD_ZSTD: u16 = 93;

/// A zip's flavour from its entry names (central directory only, nothing inflated).
pub(crate) fn flavour(bytes: &[u8]) -> Format {
    let Ok(archive) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return Format::Zip;
    };
    let mut format = Format::Zip;
    for name in archive.file_names() {
        match name {
            "xl/workbook.xml" => return Format::Xlsx,
            "xl/workbook.bin" => return Format::Xlsb,
            "content.xml" => format = Format::Ods,
            _ => {}
        }
    }
    let head = &bytes[..bytes.len().min(300)];
    if format == Format::Ods
        && crate::unpack::memfind(head, b"application/vnd.oasis.opendocument.spreadsheet").is_none()
    {
        // An .odt or .odp: its XML is read as a zip's text entries.
        return Format::Zip;
    }
    format
}

fn open_archive(bytes: &[u8]) -> Result<zip::ZipArchive<Cursor<&[u8]>>, ReadFail> {
    zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| ReadFail::Broken(format!("not a readable ZIP: {e}")))
}

/// The entries of a zip, each read under the caps.
pub(crate) fn open(path: &str, bytes: &[u8], budget: &mut Budget) -> Result<Opened, ReadFail> {
    let mut archive = open_archive(bytes)?;
    if archive.len() > budget.limits.max_entries {
        return Err(ReadFail::Refused(UnpackError::Refused(format!(
            "{} entries, more than the limit of {}",
            archive.len(),
            budget.limits.max_entries
        ))));
    }
    let mut out = Opened {
        children: Vec::new(),
        skipped: Vec::new(),
    };
    for index in 0..archive.len() {
        let (name, is_dir, declared, compressed, encrypted, method) = {
            let entry = archive
                .by_index_raw(index)
                .map_err(|e| ReadFail::Broken(format!("entry {index}: {e}")))?;
            (
                entry.name().replace(['\n', '\r'], " "),
                entry.is_dir(),
                entry.size(),
                entry.compressed_size().max(1),
                entry.encrypted(),
                entry.compression(),
            )
        };
        if is_dir {
            continue;
        }
        budget.take_entry().map_err(ReadFail::Refused)?;
        if budget.out_of_time() {
            out.skipped
                .push(skip(path, &name, "time cap reached: not read"));
            continue;
        }
        budget
            .check_declared(&name, declared, compressed)
            .map_err(ReadFail::Refused)?;
        let data = match raw_method(method) {
            Some(raw) if encrypted => {
                out.skipped.push(skip(
                    path,
                    &name,
                    &format!("encrypted {raw} entry: not read (only stored/deflate entries are decrypted)"),
                ));
                continue;
            }
            Some(raw) => read_raw(&mut archive, index, &name, raw, compressed, budget),
            None if encrypted => {
                match read_encrypted(&mut archive, index, &name, compressed, budget) {
                    Ok(Some(d)) => Ok(d),
                    Ok(None) => {
                        let tried = budget.passwords.len();
                        out.skipped.push(skip(
                        path,
                        &name,
                        &format!("encrypted: none of the {tried} stated or configured passwords opens it"),
                    ));
                        continue;
                    }
                    Err(e) => Err(e),
                }
            }
            None => match archive.by_index(index) {
                Ok(mut entry) => budget.read_capped(&mut entry, &name, compressed, true),
                Err(e) => Err(ReadFail::Broken(format!("{e}"))),
            },
        };
        match data {
            Ok(d) => out.children.push((name, d)),
            Err(ReadFail::Refused(e)) => return Err(ReadFail::Refused(e)),
            Err(ReadFail::Broken(reason)) => out.skipped.push(skip(path, &name, &reason)),
        }
    }
    Ok(out)
}

fn skip(path: &str, name: &str, reason: &str) -> Skipped {
    Skipped {
        path: format!("{path}/{name}"),
        reason: reason.to_string(),
    }
}

/// Methods decoded here from the raw stream (the zip crate is built without them).
fn raw_method(method: CompressionMethod) -> Option<&'static str> {
    #[allow(deprecated)]
    match method {
        CompressionMethod::Unsupported(METHOD_BZIP2) => Some("bzip2"),
        CompressionMethod::Unsupported(METHOD_ZSTD) => Some("zstd"),
        _ => None,
    }
}

fn read_raw(
    archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
    index: usize,
    name: &str,
    method: &str,
    compressed: u64,
    budget: &mut Budget,
) -> Result<Vec<u8>, ReadFail> {
    let raw = archive
        .by_index_raw(index)
        .map_err(|e| ReadFail::Broken(format!("{e}")))?;
    let mut decoder: Box<dyn Read + '_> = match method {
        "bzip2" => Box::new(bzip2::read::BzDecoder::new(raw)),
        _ => Box::new(
            ruzstd::decoding::StreamingDecoder::new(raw)
                .map_err(|e| ReadFail::Broken(format!("zstd: {e}")))?,
        ),
    };
    budget.read_capped(&mut decoder, name, compressed, true)
}

/// Tries each password; `Ok(None)` when none opens the entry.
fn read_encrypted(
    archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
    index: usize,
    name: &str,
    compressed: u64,
    budget: &mut Budget,
) -> Result<Option<Vec<u8>>, ReadFail> {
    let passwords = budget.passwords;
    for password in passwords {
        let mut entry = match archive.by_index_decrypt(index, password.as_bytes()) {
            Ok(e) => e,
            Err(ZipError::InvalidPassword) => continue,
            Err(e) => return Err(ReadFail::Broken(format!("{e}"))),
        };
        match budget.read_capped(&mut entry, name, compressed, true) {
            Ok(d) => return Ok(Some(d)),
            Err(ReadFail::Refused(e)) => return Err(ReadFail::Refused(e)),
            // ZipCrypto's check byte lets 1 wrong password in 256 through; the CRC or
            // the inflater then fails: try the next one.
            Err(ReadFail::Broken(_)) => continue,
        }
    }
    Ok(None)
}

/// Inflates every part of a workbook zip only to count it against the caps, so the
/// spreadsheet reader never inflates a bomb.
pub(crate) fn check_workbook(bytes: &[u8], budget: &mut Budget) -> Result<(), ReadFail> {
    let mut archive = open_archive(bytes)?;
    if archive.len() > budget.limits.max_entries {
        return Err(ReadFail::Refused(UnpackError::Refused(format!(
            "workbook of {} parts, more than the limit of {}",
            archive.len(),
            budget.limits.max_entries
        ))));
    }
    for index in 0..archive.len() {
        let mut entry = archive
            .by_index(index)
            .map_err(|e| ReadFail::Broken(format!("workbook part {index}: {e}")))?;
        let name = entry.name().to_string();
        let compressed = entry.compressed_size().max(1);
        budget
            .check_declared(&name, entry.size(), compressed)
            .map_err(ReadFail::Refused)?;
        budget.read_capped(&mut entry, &name, compressed, false)?;
    }
    Ok(())
}

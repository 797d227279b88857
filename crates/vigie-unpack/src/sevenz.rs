//! 7z (LZMA, LZMA2, bzip2, deflate, PPMd… as sevenz-rust2 reads them), AES-256 with a stated
//! password.

use std::io::Cursor;

use sevenz_rust2::{ArchiveReader, Error as SzError, Password};

use crate::unpack::{Budget, Opened, ReadFail};
use crate::{Skipped, UnpackError};

/// Memory the decoder may take for headers and dictionaries (KiB).
const MEMORY_KB: usize = 256 * 1024;

fn is_password_error(e: &SzError) -> bool {
    matches!(e, SzError::PasswordRequired | SzError::MaybeBadPassword(_))
        || matches!(e, SzError::ChecksumVerificationFailed)
}

/// The entries of a 7z, each under the caps, trying the passwords when it is encrypted.
pub(crate) fn open(path: &str, bytes: &[u8], budget: &mut Budget) -> Result<Opened, ReadFail> {
    let mut candidates: Vec<Password> = vec![Password::empty()];
    candidates.extend(budget.passwords.iter().map(|p| Password::new(p)));
    let tried = budget.passwords.len();
    let mut last_password_error = None;
    for password in candidates {
        match read_with(path, bytes, password, budget) {
            Ok(o) => return Ok(o),
            Err(Attempt::WrongPassword(e)) => last_password_error = Some(e),
            Err(Attempt::Fail(f)) => return Err(f),
        }
    }
    let detail = last_password_error.unwrap_or_default();
    Ok(Opened {
        children: Vec::new(),
        skipped: vec![Skipped {
            path: path.to_string(),
            reason: format!(
                "encrypted: none of the {tried} stated or configured passwords opens it ({detail})"
            ),
        }],
    })
}

enum Attempt {
    WrongPassword(String),
    Fail(ReadFail),
}

fn read_with(
    path: &str,
    bytes: &[u8],
    password: Password,
    budget: &mut Budget,
) -> Result<Opened, Attempt> {
    let mut reader =
        match ArchiveReader::new_with_memory_limit(Cursor::new(bytes), password, MEMORY_KB) {
            Ok(r) => r,
            Err(e) if is_password_error(&e) => return Err(Attempt::WrongPassword(e.to_string())),
            Err(e) => {
                return Err(Attempt::Fail(ReadFail::Broken(format!(
                    "not a readable 7z: {e}"
                ))))
            }
        };
    reader.set_thread_count(1);
    let files = &reader.archive().files;
    let count = files.iter().filter(|f| !f.is_directory).count();
    if count > budget.limits.max_entries {
        return Err(Attempt::Fail(ReadFail::Refused(UnpackError::Refused(
            format!(
                "{count} entries, more than the limit of {}",
                budget.limits.max_entries
            ),
        ))));
    }
    // Solid blocks pack many files together: judge the ratio on the whole archive.
    let declared: u64 = files.iter().map(|f| f.size).sum();
    budget
        .check_declared(path, declared, bytes.len() as u64)
        .map_err(|e| Attempt::Fail(ReadFail::Refused(e)))?;
    let mut out = Opened {
        children: Vec::new(),
        skipped: Vec::new(),
    };
    let mut refused: Option<ReadFail> = None;
    let compressed = bytes.len() as u64;
    let result = reader.for_each_entries(|entry, data| {
        if entry.is_directory {
            return Ok(true);
        }
        let name = entry.name.replace(['\n', '\r'], " ");
        if let Err(e) = budget.take_entry() {
            refused = Some(ReadFail::Refused(e));
            return Ok(false);
        }
        match budget.read_capped(data, &name, compressed, true) {
            Ok(d) => out.children.push((name, d)),
            Err(ReadFail::Refused(e)) => {
                refused = Some(ReadFail::Refused(e));
                return Ok(false);
            }
            Err(ReadFail::Broken(reason)) => {
                return Err(SzError::Other(reason.into()));
            }
        }
        Ok(true)
    });
    if let Some(r) = refused {
        return Err(Attempt::Fail(r));
    }
    match result {
        Ok(()) => Ok(out),
        Err(e) if is_password_error(&e) && out.children.is_empty() => {
            Err(Attempt::WrongPassword(e.to_string()))
        }
        Err(e) => {
            out.skipped.push(Skipped {
                path: path.to_string(),
                reason: format!("7z stopped after {} entries: {e}", out.children.len()),
            });
            Ok(out)
        }
    }
}

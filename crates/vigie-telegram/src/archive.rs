//! Attachment contents for matching, through `vigie-unpack`: archives (zip, 7z, tar, gzip),
//! spreadsheets, PDFs and text, unpacked **in memory** under hard caps; a bomb is refused and
//! reported, never expanded; entry names are only labels, never paths on disk. Encrypted
//! archives are opened with the passwords the message itself states.

use crate::TelegramError;

/// Limits on unpacking an attachment (the rest of `vigie_unpack::Limits` keeps its defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchiveLimits {
    /// Most entries read, at every level of nesting.
    pub max_entries: usize,
    /// Most decompressed bytes over all entries.
    pub max_total: u64,
    /// Largest decompressed ÷ compressed ratio of a stream past 1 MiB.
    pub max_ratio: u64,
}

impl Default for ArchiveLimits {
    fn default() -> Self {
        let d = vigie_unpack::Limits::default();
        ArchiveLimits {
            max_entries: d.max_entries,
            max_total: d.max_total,
            max_ratio: d.max_ratio,
        }
    }
}

/// The text of an attachment to match, and what was left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extracted {
    /// Text to match: the file itself, or each entry after a `--- entry PATH ---` line, each
    /// sheet after `--- sheet PATH#SHEET ---` (cells joined by tabs), each PDF after
    /// `--- pdf PATH ---`.
    pub text: Vec<u8>,
    /// Files whose content went into `text`.
    pub entries: usize,
    /// Entries left out, as `PATH: reason`.
    pub skipped: Vec<String>,
    /// Sheets as rows, for column-aware matching.
    pub tables: Vec<vigie_unpack::Table>,
}

/// What to match for an attachment's bytes, without passwords.
pub fn extract(
    name: &str,
    bytes: &[u8],
    limits: ArchiveLimits,
) -> Result<Extracted, TelegramError> {
    extract_with_post(name, bytes, limits, "")
}

/// What to match for an attachment's bytes, trying the passwords its message states
/// (`pass:`, `mot de passe :`, `пароль:` …).
pub fn extract_with_post(
    name: &str,
    bytes: &[u8],
    limits: ArchiveLimits,
    post: &str,
) -> Result<Extracted, TelegramError> {
    let options = vigie_unpack::Options {
        limits: vigie_unpack::Limits {
            max_entries: limits.max_entries,
            max_total: limits.max_total,
            max_ratio: limits.max_ratio,
            ..vigie_unpack::Limits::default()
        },
        passwords: Vec::new(),
    }
    .with_post_text(post);
    let x = vigie_unpack::unpack(name, bytes, &options)
        .map_err(|e| TelegramError::Archive(e.to_string()))?;
    Ok(Extracted {
        text: x.text,
        entries: x.entries,
        skipped: x
            .skipped
            .into_iter()
            .map(|s| format!("{}: {}", s.path, s.reason))
            .collect(),
        tables: x.tables,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_s_password_opens_its_archive() {
        let aes = include_bytes!("../../vigie-unpack/tests/fixtures/generated/aes.zip");
        let none = extract("aes.zip", aes, ArchiveLimits::default()).unwrap();
        assert_eq!(none.entries, 0);
        assert_eq!(none.skipped.len(), 1, "{:?}", none.skipped);
        let post = "Base CHU, mot de passe : Vigie-Test-2026!";
        let x = extract_with_post("aes.zip", aes, ArchiveLimits::default(), post).unwrap();
        assert_eq!(x.entries, 1);
        assert!(String::from_utf8_lossy(&x.text).contains("196026720540311"));
    }

    #[test]
    fn limits_reach_the_unpacker_and_refusals_are_errors() {
        let zeros = vec![0u8; 8 << 20];
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let o = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        w.start_file("z.bin", o).unwrap();
        std::io::Write::write_all(&mut w, &zeros).unwrap();
        let bomb = w.finish().unwrap().into_inner();
        let err = extract("z.zip", &bomb, ArchiveLimits::default()).unwrap_err();
        assert!(err.to_string().contains("zip bomb"), "{err}");
        let loose = ArchiveLimits {
            max_ratio: 100_000,
            ..ArchiveLimits::default()
        };
        let x = extract("z.zip", &bomb, loose).unwrap();
        assert_eq!(x.skipped, vec!["z.zip/z.bin: binary, not matched"]);
    }
}

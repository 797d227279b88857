//! Attachment contents for matching: text-like files as they are, ZIP archives unpacked **in
//! memory** under hard limits (entry count, total uncompressed size, per-entry compression
//! ratio). A zip bomb is refused and reported, never expanded; entry names are only labels,
//! never paths on disk.

use std::io::Read;

use crate::TelegramError;

/// Limits on unpacking an archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchiveLimits {
    /// Most entries read.
    pub max_entries: usize,
    /// Most uncompressed bytes over all entries.
    pub max_total: u64,
    /// Largest uncompressed ÷ compressed ratio of an entry (deflate rarely exceeds 20 on
    /// text dumps; bombs reach thousands).
    pub max_ratio: u64,
}

impl Default for ArchiveLimits {
    fn default() -> Self {
        ArchiveLimits {
            max_entries: 1_000,
            max_total: 64 * 1024 * 1024,
            max_ratio: 200,
        }
    }
}

/// The text of an attachment to match, and what was left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extracted {
    /// Text to match: the file itself, or the archive's text entries, each after a
    /// `--- entry NAME ---` line.
    pub text: Vec<u8>,
    /// Entries read.
    pub entries: usize,
    /// Entries skipped (binary, or beyond the limits), with why.
    pub skipped: Vec<String>,
}

const TEXT_EXTENSIONS: [&str; 9] = [
    "txt", "csv", "tsv", "json", "jsonl", "sql", "log", "xml", "html",
];

fn extension(name: &str) -> String {
    name.rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default()
}

/// Whether a name or content looks like text worth matching.
fn looks_textual(name: &str, bytes: &[u8]) -> bool {
    if TEXT_EXTENSIONS.contains(&extension(name).as_str()) {
        return true;
    }
    let head = &bytes[..bytes.len().min(4096)];
    !head.is_empty() && !head.contains(&0)
}

/// What to match for an attachment's bytes.
pub fn extract(
    name: &str,
    bytes: &[u8],
    limits: ArchiveLimits,
) -> Result<Extracted, TelegramError> {
    if bytes.starts_with(b"PK\x03\x04") || extension(name) == "zip" {
        return unzip(bytes, limits);
    }
    if looks_textual(name, bytes) {
        return Ok(Extracted {
            text: bytes.to_vec(),
            entries: 1,
            skipped: Vec::new(),
        });
    }
    Ok(Extracted {
        text: Vec::new(),
        entries: 0,
        skipped: vec![format!("{name}: binary, not matched")],
    })
}

fn unzip(bytes: &[u8], limits: ArchiveLimits) -> Result<Extracted, TelegramError> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| TelegramError::Archive(format!("not a readable ZIP: {e}")))?;
    if archive.len() > limits.max_entries {
        return Err(TelegramError::Archive(format!(
            "{} entries, more than the limit of {}: refused",
            archive.len(),
            limits.max_entries
        )));
    }
    let mut out = Extracted::default();
    let mut total: u64 = 0;
    for index in 0..archive.len() {
        let mut entry = archive
            .by_index(index)
            .map_err(|e| TelegramError::Archive(format!("entry {index}: {e}")))?;
        if entry.is_dir() {
            continue;
        }
        // The name is a label only: never joined to a path.
        let name = entry.name().replace(['\n', '\r'], " ");
        let declared = entry.size();
        let compressed = entry.compressed_size().max(1);
        if declared / compressed > limits.max_ratio {
            return Err(TelegramError::Archive(format!(
                "entry {name:?} expands {declared} bytes from {compressed} (ratio over {}): a zip bomb, refused",
                limits.max_ratio
            )));
        }
        let room = limits.max_total.saturating_sub(total);
        // Read one byte more than allowed: declared sizes can lie.
        let mut data = Vec::new();
        (&mut entry)
            .take(room + 1)
            .read_to_end(&mut data)
            .map_err(|e| TelegramError::Archive(format!("entry {name:?}: {e}")))?;
        if data.len() as u64 > room {
            return Err(TelegramError::Archive(format!(
                "more than {} bytes uncompressed: refused (at entry {name:?})",
                limits.max_total
            )));
        }
        if data.len() as u64 / compressed > limits.max_ratio {
            return Err(TelegramError::Archive(format!(
                "entry {name:?} expanded {} bytes from {compressed} (ratio over {}): a zip bomb, refused",
                data.len(),
                limits.max_ratio
            )));
        }
        total += data.len() as u64;
        if !looks_textual(&name, &data) {
            out.skipped.push(format!("{name}: binary, not matched"));
            continue;
        }
        out.entries += 1;
        out.text
            .extend_from_slice(format!("--- entry {name} ---\n").as_bytes());
        out.text.extend_from_slice(&data);
        out.text.push(b'\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in entries {
            w.start_file(*name, options).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn text_entries_are_read_and_names_stay_labels() {
        let z = zip_of(&[
            ("dump/patients.csv", b"nom;nir\nA;1"),
            ("../../etc/passwd", b"root:x:0:0"),
            ("photo.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"),
        ]);
        let x = extract("sample.zip", &z, ArchiveLimits::default()).unwrap();
        assert_eq!(x.entries, 2);
        let text = String::from_utf8(x.text).unwrap();
        assert!(text.contains("--- entry dump/patients.csv ---\nnom;nir\nA;1"));
        assert!(text.contains("--- entry ../../etc/passwd ---"));
        assert_eq!(x.skipped, vec!["photo.jpg: binary, not matched"]);
    }

    #[test]
    fn a_zip_bomb_is_refused_without_expanding_it() {
        // 64 MiB of zeros deflate to about 64 KiB: a ratio near 1,000.
        let zeros = vec![0u8; 64 << 20];
        let bomb = zip_of(&[("payload.bin", &zeros)]);
        assert!(bomb.len() < 200_000);
        let err = extract("cadeau.zip", &bomb, ArchiveLimits::default()).unwrap_err();
        assert!(err.to_string().contains("zip bomb"), "{err}");
    }

    #[test]
    fn entry_count_and_total_size_are_bounded() {
        let many: Vec<(String, Vec<u8>)> = (0..20)
            .map(|i| (format!("f{i}.txt"), vec![b'a' + (i % 26) as u8; 1000]))
            .collect();
        let refs: Vec<(&str, &[u8])> = many
            .iter()
            .map(|(n, d)| (n.as_str(), d.as_slice()))
            .collect();
        let z = zip_of(&refs);
        let tight = ArchiveLimits {
            max_entries: 10,
            ..ArchiveLimits::default()
        };
        assert!(extract("m.zip", &z, tight)
            .unwrap_err()
            .to_string()
            .contains("20 entries"));
        let small = ArchiveLimits {
            max_total: 5_000,
            ..ArchiveLimits::default()
        };
        let err = extract("m.zip", &z, small).unwrap_err().to_string();
        assert!(err.contains("more than 5000 bytes"), "{err}");
        assert!(extract("m.zip", &z, ArchiveLimits::default()).is_ok());
    }

    #[test]
    fn plain_files_and_broken_archives() {
        let x = extract("rows.csv", b"a;b\n1;2\n", ArchiveLimits::default()).unwrap();
        assert_eq!(x.text, b"a;b\n1;2\n");
        let bin = extract("x.bin", b"\x00\x01\x02", ArchiveLimits::default()).unwrap();
        assert!(bin.text.is_empty() && bin.skipped.len() == 1);
        let err =
            extract("broken.zip", b"PK\x03\x04garbage", ArchiveLimits::default()).unwrap_err();
        assert!(err.to_string().contains("not a readable ZIP"), "{err}");
    }
}

//! Delimited text (CSV and its cousins) read as rows: encoding, delimiter, quoting, header.
//!
//! [`decode`] turns bytes into text (UTF-8, UTF-16 with a byte-order mark, otherwise
//! Windows-1252 when the bytes are not UTF-8). [`sniff`] looks at the first lines of a window
//! for a delimiter (`,` `;` tab `|`) that splits nearly every line into the same number of
//! fields. The rows are then parsed with the `csv` crate (quotes, doubled quotes, CRLF,
//! quoted line breaks) and read cell by cell ([`crate::table`]). SQL dumps and JSON are
//! recognised first and read by their own readers.

use std::borrow::Cow;

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, UTF_8, WINDOWS_1252};

use crate::identifiers::IdentifierFindings;
use crate::scan::Window;
use crate::table::{looks_like_header, CellReader, TableStats};

/// Delimiters tried, in order of preference when two fit equally.
const DELIMITERS: [u8; 4] = [b';', b'\t', b'|', b','];
/// Lines looked at to choose a delimiter.
const SNIFF_LINES: usize = 200;
/// Bytes looked at to choose a delimiter.
const SNIFF_BYTES: usize = 64 * 1024;
/// Fewer consistent lines than this are not a table.
const MIN_TABLE_LINES: usize = 3;

/// Decodes a document's bytes: a byte-order mark decides (UTF-8, UTF-16 LE/BE); otherwise
/// UTF-8 when the bytes are UTF-8, or hold valid multi-byte characters (a few bad bytes are
/// replaced), UTF-16 when every other byte is NUL, and Windows-1252 otherwise (the usual
/// encoding of a CSV export from French Excel). Returns the text and the encoding's name.
pub fn decode(bytes: &[u8]) -> (Cow<'_, str>, &'static str) {
    if let Some((encoding, bom)) = Encoding::for_bom(bytes) {
        let (text, _) = encoding.decode_without_bom_handling(&bytes[bom..]);
        return (text, encoding.name());
    }
    // Before UTF-8: UTF-16 text in ASCII is valid UTF-8 with a NUL every other byte.
    if let Some(encoding) = utf16_without_bom(bytes) {
        let (text, _) = encoding.decode_without_bom_handling(bytes);
        return (text, encoding.name());
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return (Cow::Borrowed(text), UTF_8.name());
    }
    let multibyte = bytes
        .utf8_chunks()
        .any(|chunk| chunk.valid().bytes().any(|b| b >= 0x80));
    if multibyte {
        return (String::from_utf8_lossy(bytes), UTF_8.name());
    }
    let (text, _) = WINDOWS_1252.decode_without_bom_handling(bytes);
    (text, WINDOWS_1252.name())
}

/// Decodes one window of a stream that is not valid UTF-8. The first such window decides,
/// once, whether the stream is Windows-1252 (it holds no valid multi-byte character) or
/// damaged UTF-8 (bad bytes replaced).
pub(crate) fn decode_part<'a>(bytes: &'a [u8], legacy: &mut Option<bool>) -> Cow<'a, str> {
    let legacy = *legacy.get_or_insert_with(|| {
        !bytes
            .utf8_chunks()
            .any(|chunk| chunk.valid().bytes().any(|b| b >= 0x80))
    });
    if legacy {
        WINDOWS_1252.decode_without_bom_handling(bytes).0
    } else {
        String::from_utf8_lossy(bytes)
    }
}

/// UTF-16 without a byte-order mark: in the first 1 KiB, NUL on nearly every odd byte
/// (little-endian ASCII) or every even byte (big-endian).
fn utf16_without_bom(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(1024) & !1];
    if head.len() < 8 {
        return None;
    }
    let pairs = head.len() / 2;
    let odd = head.chunks(2).filter(|p| p[1] == 0 && p[0] != 0).count();
    let even = head.chunks(2).filter(|p| p[0] == 0 && p[1] != 0).count();
    if odd * 10 >= pairs * 9 {
        Some(UTF_16LE)
    } else if even * 10 >= pairs * 9 {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// A table's delimiter and its usual number of fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sniffed {
    /// The delimiter byte.
    pub delimiter: u8,
    /// Fields on most lines.
    pub fields: usize,
}

/// Fields per record of `head` split at `delim`, for the first [`SNIFF_LINES`] non-blank
/// records. Quotes are read as the `csv` crate reads them: a quote opens a quoted field only
/// at the start of a field (a quoted field may hold delimiters and line breaks), and `""`
/// inside is a quote. `complete` says whether `head` is the whole text (its last record then
/// counts; otherwise it may be cut).
fn record_fields(head: &[u8], delim: u8, complete: bool) -> Vec<usize> {
    let mut counts = Vec::new();
    let mut fields = 1;
    let mut quoted = false;
    let mut field_start = true;
    let mut blank = true;
    let mut i = 0;
    while i < head.len() && counts.len() < SNIFF_LINES {
        if quoted {
            // Inside quotes only a quote matters: `""` is a quote, a lone one closes.
            let Some(q) = memchr::memchr(b'"', &head[i..]) else {
                break;
            };
            i += q + 1;
            if head.get(i) == Some(&b'"') {
                i += 1;
            } else {
                quoted = false;
            }
            continue;
        }
        // The bytes before the next delimiter, line break or quote are field content.
        let next = memchr::memchr3(delim, b'\n', b'"', &head[i..]).map_or(head.len(), |p| i + p);
        let content = &head[i..next];
        if !content.is_empty() {
            field_start = false;
            blank = blank && content.iter().all(u8::is_ascii_whitespace);
        }
        let Some(&c) = head.get(next) else {
            break;
        };
        i = next + 1;
        if c == delim {
            fields += 1;
            field_start = true;
            blank = false;
        } else if c == b'\n' {
            if !blank {
                counts.push(fields);
            }
            fields = 1;
            field_start = true;
            blank = true;
        } else if field_start {
            quoted = true;
            field_start = false;
            blank = false;
        } else {
            field_start = false;
            blank = false;
        }
    }
    if complete && !blank && counts.len() < SNIFF_LINES {
        counts.push(fields);
    }
    counts
}

/// The delimiter that splits at least 80% of the first non-blank records (and at least
/// three) into the same number of fields, two or more; `None` when no delimiter does (free
/// text).
pub fn sniff(text: &str) -> Option<Sniffed> {
    let head = &text.as_bytes()[..text.len().min(SNIFF_BYTES)];
    let complete = head.len() == text.len();
    let mut best: Option<(usize, Sniffed)> = None;
    for delim in DELIMITERS {
        // Each consistent record holds the delimiter: fewer than MIN_TABLE_LINES of them in
        // the head and this delimiter cannot be chosen.
        if memchr::memchr_iter(delim, head)
            .take(MIN_TABLE_LINES)
            .count()
            < MIN_TABLE_LINES
        {
            continue;
        }
        let records = record_fields(head, delim, complete);
        let mut counts: Vec<(usize, usize)> = Vec::new();
        for &n in &records {
            match counts.iter_mut().find(|(f, _)| *f == n) {
                Some((_, c)) => *c += 1,
                None => counts.push((n, 1)),
            }
        }
        let Some(&(fields, consistent)) = counts
            .iter()
            .filter(|(f, _)| *f >= 2)
            .max_by_key(|(f, c)| (*c, *f))
        else {
            continue;
        };
        if consistent < MIN_TABLE_LINES || consistent * 10 < records.len() * 8 {
            continue;
        }
        if best.is_none_or(|(c, _)| consistent > c) {
            best = Some((
                consistent,
                Sniffed {
                    delimiter: delim,
                    fields,
                },
            ));
        }
    }
    best.map(|(_, s)| s)
}

/// What reading a window as rows gave: identifier values (digit kinds) and the table's
/// counts.
#[derive(Debug)]
pub(crate) struct WindowRows {
    pub(crate) found: IdentifierFindings,
    pub(crate) stats: TableStats,
}

/// How a window's text must be read, when the caller knows (rows it wrote itself).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Forced {
    /// The first line is the header.
    pub(crate) header: bool,
}

/// The first line start at or after `from`.
fn line_start_from(b: &[u8], from: usize) -> Option<usize> {
    if from == 0 || b.get(from - 1) == Some(&b'\n') {
        return (from <= b.len()).then_some(from);
    }
    memchr::memchr(b'\n', b.get(from..)?).map(|p| from + p + 1)
}

/// Reads the rows of a window that start in its accepted range, if the window is a table,
/// an SQL dump or JSON. `forced` is a tab-separated text without quoting written by
/// [`crate::Matcher::scan_rows`].
pub(crate) fn read_window(window: &Window, forced: Option<Forced>) -> Option<WindowRows> {
    let text = window.text.as_str();
    let b = text.as_bytes();
    let finess_context = window.finess_context || crate::identifiers::mentions_finess(b);
    let doc_start = window.base == 0 && window.accept_from == 0;
    if forced.is_none() {
        let whole = doc_start && window.accept_to == text.len();
        if whole {
            if let Some(rows) = crate::jsonrows::read(text, finess_context) {
                return Some(rows);
            }
        }
        // Before the line test: a dump's INSERT line can be longer than a window.
        if let Some(rows) = crate::sqldump::read(window, finess_context) {
            return Some(rows);
        }
    }
    let start = line_start_from(b, window.accept_from)?;
    if start >= window.accept_to {
        return None;
    }
    let (delimiter, quoting) = match forced {
        Some(_) => (b'\t', false),
        None => (sniff(&text[start..])?.delimiter, true),
    };
    let shown = if delimiter == b'\t' {
        "\t".to_string()
    } else {
        (delimiter as char).to_string()
    };
    let mut reader = CellReader::new(window.base + start as u64, &shown, finess_context);
    let mut csv = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .quoting(quoting)
        .has_headers(false)
        .flexible(true)
        .from_reader(&b[start..]);
    let mut record = csv::ByteRecord::new();
    let mut first = true;
    let mut pending_header: Option<csv::ByteRecord> = None;
    while let Ok(true) = csv.read_byte_record(&mut record) {
        let at = start + record.position().map_or(0, |p| p.byte() as usize);
        if at >= window.accept_to {
            break;
        }
        let cells = || record.iter().map(|c| std::str::from_utf8(c).unwrap_or(""));
        if first {
            first = false;
            let header = match forced {
                Some(f) => f.header,
                None => doc_start && looks_like_header(cells()),
            };
            if header {
                // Taken as the header unless the next row looks like labels too.
                pending_header = Some(record.clone());
                continue;
            }
        }
        if let Some(h) = pending_header.take() {
            let names = || h.iter().map(|c| std::str::from_utf8(c).unwrap_or(""));
            if forced.is_some()
                || !looks_like_header(cells())
                || names().any(|n| crate::table::header_kind(n).is_some())
            {
                reader.set_header(names());
            } else {
                reader.row(names());
            }
        }
        reader.row(cells());
    }
    if let Some(h) = pending_header {
        reader.set_header(h.iter().map(|c| std::str::from_utf8(c).unwrap_or("")));
    }
    Some(WindowRows {
        found: reader.found,
        stats: reader.stats,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiters_are_sniffed() {
        let s = sniff("a,b,c\n1,2,3\n4,5,6\n").unwrap();
        assert_eq!((s.delimiter, s.fields), (b',', 3));
        let s = sniff("nom;montant\nA;1,5\nB;2,5\nC;3,75\n").unwrap();
        assert_eq!((s.delimiter, s.fields), (b';', 2));
        let s = sniff("a\tb\n1\t2\n3\t4\n").unwrap();
        assert_eq!(s.delimiter, b'\t');
        let s = sniff("\"Dupont, Jean\"|x|y\nb|c|d\ne|f|g\n").unwrap();
        assert_eq!((s.delimiter, s.fields), (b'|', 3));
        // A quoted field over two lines is one record.
        let s = sniff("a;\"x\ny\";1\nb;\"z\";2\nc;\"\"\"q\"\"\";3\n").unwrap();
        assert_eq!((s.delimiter, s.fields), (b';', 3));
        assert!(
            sniff("Bonjour, voici le fichier.\nPrix: 2 BTC, escrow.\nMerci d'avance\n").is_none()
        );
        assert!(sniff("a,b\nc,d\n").is_none(), "two lines are not a table");
    }

    /// The byte-at-a-time reading `record_fields` replaced (reference for the property test).
    fn record_fields_bytewise(head: &[u8], delim: u8, complete: bool) -> Vec<usize> {
        let mut counts = Vec::new();
        let mut fields = 1;
        let mut quoted = false;
        let mut field_start = true;
        let mut blank = true;
        let mut i = 0;
        while i < head.len() && counts.len() < SNIFF_LINES {
            let c = head[i];
            i += 1;
            if quoted {
                if c == b'"' {
                    if head.get(i) == Some(&b'"') {
                        i += 1;
                    } else {
                        quoted = false;
                    }
                }
                continue;
            }
            if c == delim {
                fields += 1;
                field_start = true;
                blank = false;
            } else if c == b'\n' {
                if !blank {
                    counts.push(fields);
                }
                fields = 1;
                field_start = true;
                blank = true;
            } else if c == b'"' && field_start {
                quoted = true;
                field_start = false;
                blank = false;
            } else if c.is_ascii_whitespace() {
                field_start = false;
            } else {
                field_start = false;
                blank = false;
            }
        }
        if complete && !blank && counts.len() < SNIFF_LINES {
            counts.push(fields);
        }
        counts
    }

    proptest::proptest! {
        #[test]
        fn record_fields_reads_as_byte_at_a_time(
            bytes in proptest::collection::vec(
                proptest::sample::select(b"ab ;,|\t\n\r\"\x0c".to_vec()),
                0..400,
            ),
            complete: bool,
        ) {
            for delim in DELIMITERS {
                proptest::prop_assert_eq!(
                    record_fields(&bytes, delim, complete),
                    record_fields_bytewise(&bytes, delim, complete)
                );
            }
        }
    }

    #[test]
    fn encodings_are_decoded() {
        assert_eq!(decode(b"caf\xc3\xa9").0, "café");
        assert_eq!(
            decode(b"caf\xe9;n\xb0 s\xe9cu"),
            (Cow::Borrowed("café;n° sécu"), "windows-1252")
        );
        let utf16le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("nir;é".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(decode(&utf16le), (Cow::Borrowed("nir;é"), "UTF-16LE"));
        let utf16be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain("nir;é".encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        assert_eq!(decode(&utf16be).0, "nir;é");
        let no_bom: Vec<u8> = "nom;nir\nDupont;1"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert_eq!(decode(&no_bom).0, "nom;nir\nDupont;1");
        // Mostly UTF-8 with one bad byte stays UTF-8.
        assert_eq!(decode(b"\xc3\xa9t\xc3\xa9 \xff").0, "été \u{fffd}");
    }
}

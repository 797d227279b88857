//! The work list: each file is detected, then read as text, a table, a PDF, or opened as a
//! container whose entries go back on the list one level deeper.

use std::borrow::Cow;
use std::io::Read;
use std::time::{Duration, Instant};

use crate::error::UnpackError;
use crate::{pdf, sevenz, sheet, tarfmt, zipfmt};

/// Hard caps on one sample, all levels of nesting together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Most entries (files inside archives, at every level).
    pub max_entries: usize,
    /// Most decompressed bytes over everything inflated (archive entries, and the XML parts of
    /// a spreadsheet, checked before the spreadsheet reader inflates them again).
    pub max_total: u64,
    /// Largest decompressed ÷ compressed ratio of one stream once it passes 1 MiB (deflate
    /// rarely exceeds 20 on text dumps; bombs reach thousands).
    pub max_ratio: u64,
    /// Deepest nesting opened: the sample itself is depth 0, an archive inside it depth 1.
    pub max_depth: u32,
    /// Most cells kept over all sheets (empty cells padding a row count too).
    pub max_cells: usize,
    /// Most columns kept per row; cells to the right are dropped and recorded.
    pub max_columns: usize,
    /// Most pages of one PDF read.
    pub max_pdf_pages: usize,
    /// Longest time one PDF may take (it runs on its own thread; past this it is abandoned).
    pub pdf_time: Duration,
    /// Longest time for the whole sample; entries not reached by then are recorded as skipped.
    pub max_time: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entries: 1_000,
            max_total: 64 * 1024 * 1024,
            max_ratio: 200,
            max_depth: 3,
            max_cells: 2_000_000,
            max_columns: 512,
            max_pdf_pages: 200,
            pdf_time: Duration::from_secs(10),
            max_time: Duration::from_secs(60),
        }
    }
}

/// Caps plus the passwords to try on encrypted entries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// Caps.
    pub limits: Limits,
    /// Passwords tried in order on an encrypted archive or entry: the post's own (see
    /// [`crate::passwords_from_text`]) and a configured list. Never extended by guessing.
    pub passwords: Vec<String>,
}

impl Options {
    /// Adds the passwords a post states, after those already configured, without duplicates.
    pub fn with_post_text(mut self, post: &str) -> Self {
        for p in crate::passwords_from_text(post) {
            if !self.passwords.contains(&p) {
                self.passwords.push(p);
            }
        }
        self
    }
}

/// What kind of file an entry was read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    Text,
    Zip,
    SevenZ,
    Tar,
    Gzip,
    Bzip2,
    Zstd,
    Rar,
    Xlsx,
    Xlsb,
    Xls,
    Ods,
    Pdf,
    Binary,
}

/// A file that was opened or read, at any depth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRead {
    /// The sample's name, then entry names joined by `/`: a label, never a path on disk.
    pub path: String,
    /// How it was read.
    pub format: Format,
    /// Its size in bytes (decompressed).
    pub bytes: u64,
}

/// An entry left out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// Label of the entry (see [`FileRead::path`]).
    pub path: String,
    /// Why: binary, encrypted with no stated password, nested too deep, time cap, RAR, …
    pub reason: String,
}

/// One sheet of a spreadsheet as rows of cell text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    /// `PATH#SHEET`.
    pub source: String,
    /// The first row, when every cell of it is a non-numeric label.
    pub header: Option<Vec<String>>,
    /// The other rows, empty rows left out; cells keep their column (left-padded with "").
    pub rows: Vec<Vec<String>>,
}

/// Everything read from one sample.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unpacked {
    /// Text to match: a text sample as it is; otherwise each text entry after a
    /// `--- entry PATH ---` line, each sheet after `--- sheet PATH#SHEET ---` with its rows
    /// joined by tabs, each PDF after `--- pdf PATH ---`.
    pub text: Vec<u8>,
    /// Sheets read, for column-aware matching.
    pub tables: Vec<Table>,
    /// Files opened or read, containers included.
    pub files: Vec<FileRead>,
    /// Entries left out, with why.
    pub skipped: Vec<Skipped>,
    /// Files whose content went into `text` (text entries, sheets' workbooks, PDFs).
    pub entries: usize,
    /// Where each file's (each sheet's) text lies in `text`, without its `---` line: a caller
    /// that reads rows per document (header first) matches each section on its own.
    pub sections: Vec<Section>,
}

/// One file's or one sheet's text within [`Unpacked::text`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// [`FileRead::path`], or [`Table::source`] for a sheet.
    pub path: String,
    /// What it was read from.
    pub format: Format,
    /// Byte range in [`Unpacked::text`].
    pub range: std::ops::Range<usize>,
}

/// One file waiting to be looked at.
pub(crate) struct Item<'a> {
    pub path: String,
    pub bytes: Cow<'a, [u8]>,
    pub depth: u32,
}

/// Caps shared by every level.
pub(crate) struct Budget<'o> {
    pub limits: &'o Limits,
    pub passwords: &'o [String],
    total: u64,
    entries: usize,
    deadline: Instant,
}

/// Below this many output bytes the ratio is not judged: tiny files compress absurdly well.
const RATIO_FLOOR: u64 = 1 << 20;

impl Budget<'_> {
    /// Counts one more entry; past the cap the sample is refused.
    pub fn take_entry(&mut self) -> Result<(), UnpackError> {
        self.entries += 1;
        if self.entries > self.limits.max_entries {
            return Err(UnpackError::Refused(format!(
                "more than {} entries",
                self.limits.max_entries
            )));
        }
        Ok(())
    }

    pub fn out_of_time(&self) -> bool {
        Instant::now() >= self.deadline
    }

    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// Refuses a stream whose declared sizes already make it a bomb.
    pub fn check_declared(
        &self,
        name: &str,
        declared: u64,
        compressed: u64,
    ) -> Result<(), UnpackError> {
        let ratio = declared / compressed.max(1);
        if declared > RATIO_FLOOR && ratio > self.limits.max_ratio {
            return Err(UnpackError::Refused(format!(
                "entry {name:?} declares {declared} bytes from {compressed} (ratio over {}): a zip bomb",
                self.limits.max_ratio
            )));
        }
        if declared > self.limits.max_total.saturating_sub(self.total) {
            return Err(self.over_total(name));
        }
        Ok(())
    }

    fn over_total(&self, name: &str) -> UnpackError {
        UnpackError::Refused(format!(
            "more than {} bytes uncompressed (at entry {name:?})",
            self.limits.max_total
        ))
    }

    /// Reads a decompressing stream in chunks, refusing as soon as it passes the total cap or
    /// the ratio cap: declared sizes can lie. `compressed` is the stream's packed size.
    /// With `keep` false the bytes are only counted (a spreadsheet's parts checked before its
    /// reader inflates them).
    pub fn read_capped(
        &mut self,
        reader: &mut dyn Read,
        name: &str,
        compressed: u64,
        keep: bool,
    ) -> Result<Vec<u8>, ReadFail> {
        let room = self.limits.max_total.saturating_sub(self.total);
        let mut data = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        let mut count: u64 = 0;
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(ReadFail::Broken(e.to_string())),
            };
            count += n as u64;
            if count > room {
                return Err(ReadFail::Refused(self.over_total(name)));
            }
            if count > RATIO_FLOOR && count / compressed.max(1) > self.limits.max_ratio {
                return Err(ReadFail::Refused(UnpackError::Refused(format!(
                    "entry {name:?} expands past {count} bytes from {compressed} (ratio over {}): a zip bomb",
                    self.limits.max_ratio
                ))));
            }
            if keep {
                data.extend_from_slice(&buf[..n]);
            }
            if self.out_of_time() {
                return Err(ReadFail::Broken("time cap reached while inflating".into()));
            }
        }
        self.total += count;
        Ok(data)
    }
}

/// Why reading one stream stopped.
pub(crate) enum ReadFail {
    /// A cap that makes the sample a bomb.
    Refused(UnpackError),
    /// This entry only: corrupt, wrong password, unsupported method, time.
    Broken(String),
}

/// What a container yields.
pub(crate) struct Opened {
    pub children: Vec<(String, Vec<u8>)>,
    pub skipped: Vec<Skipped>,
}

const TEXT_EXTENSIONS: [&str; 10] = [
    "txt", "csv", "tsv", "json", "jsonl", "sql", "log", "xml", "html", "md",
];

pub(crate) fn extension(name: &str) -> String {
    let base = name.rsplit('/').next().unwrap_or(name);
    base.rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default()
}

fn looks_textual(name: &str, bytes: &[u8]) -> bool {
    if TEXT_EXTENSIONS.contains(&extension(name).as_str()) {
        return true;
    }
    let head = &bytes[..bytes.len().min(4096)];
    if head.starts_with(&[0xff, 0xfe]) || head.starts_with(&[0xfe, 0xff]) {
        return true; // UTF-16 with a BOM: text, NULs and all.
    }
    !head.is_empty() && !head.contains(&0)
}

/// The format by magic bytes first, the extension only where magic says nothing.
fn detect(name: &str, bytes: &[u8]) -> Format {
    let ext = extension(name);
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return zipfmt::flavour(bytes);
    }
    if bytes.starts_with(&[0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]) {
        return Format::SevenZ;
    }
    if bytes.starts_with(b"Rar!\x1a\x07") {
        return Format::Rar;
    }
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return Format::Gzip;
    }
    if bytes.starts_with(b"BZh") && matches!(ext.as_str(), "bz2" | "tbz" | "tbz2") {
        return Format::Bzip2;
    }
    if bytes.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return Format::Zstd;
    }
    if bytes.starts_with(&[0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]) {
        // OLE2 holds .xls, but also .doc and .msg: only the spreadsheet is read.
        return if ext == "doc" || ext == "msg" || ext == "ppt" {
            Format::Binary
        } else {
            Format::Xls
        };
    }
    if bytes.len() > 262 && &bytes[257..262] == b"ustar" {
        return Format::Tar;
    }
    let head = &bytes[..bytes.len().min(1024)];
    if memfind(head, b"%PDF-").is_some() {
        return Format::Pdf;
    }
    if ext == "zip" {
        return Format::Zip; // Says zip, is not: the reader says why.
    }
    if looks_textual(name, bytes) {
        Format::Text
    } else {
        Format::Binary
    }
}

/// Whether a file's first bytes (2 KiB are enough) announce something [`unpack`] opens rather
/// than text: an archive, a compressed stream, a workbook, a PDF. A caller that streams text
/// reads such a file whole (within its own size cap) and unpacks it instead.
pub fn worth_unpacking(head: &[u8]) -> bool {
    !matches!(
        detect("", head),
        Format::Text | Format::Binary | Format::Bzip2
    ) || head.starts_with(b"PK\x03\x04")
}

pub(crate) fn memfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Unpacks one sample: see the crate documentation.
///
/// Errors: [`UnpackError::Refused`] when a cap marks the sample (at any depth) as a bomb;
/// [`UnpackError::Unreadable`] when the sample itself is a broken container. Anything else
/// wrong with an entry is recorded in [`Unpacked::skipped`].
pub fn unpack(name: &str, bytes: &[u8], options: &Options) -> Result<Unpacked, UnpackError> {
    let limits = &options.limits;
    let mut budget = Budget {
        limits,
        passwords: &options.passwords,
        total: 0,
        entries: 0,
        deadline: Instant::now() + limits.max_time,
    };
    let mut out = Unpacked::default();
    let label = name.replace(['\n', '\r'], " ");
    let mut stack = vec![Item {
        path: label,
        bytes: Cow::Borrowed(bytes),
        depth: 0,
    }];
    while let Some(item) = stack.pop() {
        if budget.out_of_time() {
            out.skipped.push(Skipped {
                path: item.path,
                reason: format!("time cap of {:?} reached: not read", limits.max_time),
            });
            continue;
        }
        let format = detect(&item.path, &item.bytes);
        let size = item.bytes.len() as u64;
        let read = FileRead {
            path: item.path.clone(),
            format,
            bytes: size,
        };
        let opened = match format {
            Format::Text => {
                if item.depth == 0 {
                    let start = out.text.len();
                    out.text.extend_from_slice(&item.bytes);
                    out.sections.push(Section {
                        path: item.path.clone(),
                        format,
                        range: start..out.text.len(),
                    });
                } else {
                    push_section(&mut out, "entry", &item.path, format, &item.bytes);
                }
                out.entries += 1;
                out.files.push(read);
                continue;
            }
            Format::Binary => {
                out.skipped.push(Skipped {
                    path: item.path,
                    reason: "binary, not matched".into(),
                });
                continue;
            }
            Format::Rar => {
                out.skipped.push(Skipped {
                    path: item.path,
                    reason: "not read: RAR needs a proprietary library (no maintained pure-Rust reader); bytes kept".into(),
                });
                continue;
            }
            Format::Pdf => {
                match pdf::read(&item.bytes, &mut budget) {
                    Ok(text) => {
                        push_section(&mut out, "pdf", &item.path, format, text.as_bytes());
                        out.entries += 1;
                        out.files.push(read);
                    }
                    Err(reason) => out.skipped.push(Skipped {
                        path: item.path,
                        reason,
                    }),
                }
                continue;
            }
            Format::Xlsx | Format::Xlsb | Format::Xls | Format::Ods => {
                let result = guarded(|| sheet::read(&item.path, &item.bytes, format, &mut budget));
                match result {
                    Ok(read_sheets) => {
                        for t in &read_sheets.tables {
                            push_table_text(&mut out, t, format);
                        }
                        out.tables.extend(read_sheets.tables);
                        out.skipped.extend(read_sheets.skipped);
                        out.entries += 1;
                        out.files.push(read);
                    }
                    Err(ReadFail::Refused(e)) => return Err(e),
                    Err(ReadFail::Broken(reason)) => {
                        if item.depth == 0 && format != Format::Xls {
                            return Err(UnpackError::Unreadable(reason));
                        }
                        out.skipped.push(Skipped {
                            path: item.path,
                            reason,
                        });
                    }
                }
                continue;
            }
            Format::Zip
            | Format::SevenZ
            | Format::Tar
            | Format::Gzip
            | Format::Bzip2
            | Format::Zstd => {
                if item.depth >= limits.max_depth {
                    out.skipped.push(Skipped {
                        path: item.path,
                        reason: format!(
                            "nested deeper than {} archives: not opened",
                            limits.max_depth
                        ),
                    });
                    continue;
                }
                let result = guarded(|| match format {
                    Format::Zip => zipfmt::open(&item.path, &item.bytes, &mut budget),
                    Format::SevenZ => sevenz::open(&item.path, &item.bytes, &mut budget),
                    Format::Tar => tarfmt::open_tar(&item.path, &item.bytes, &mut budget),
                    _ => tarfmt::open_stream(&item.path, &item.bytes, format, &mut budget),
                });
                match result {
                    Ok(o) => o,
                    Err(ReadFail::Refused(e)) => return Err(e),
                    Err(ReadFail::Broken(reason)) => {
                        if item.depth == 0 {
                            return Err(UnpackError::Unreadable(reason));
                        }
                        out.skipped.push(Skipped {
                            path: item.path,
                            reason,
                        });
                        continue;
                    }
                }
            }
        };
        out.files.push(read);
        out.skipped.extend(opened.skipped);
        // Reversed so entries come out in archive order.
        for (child, bytes) in opened.children.into_iter().rev() {
            stack.push(Item {
                path: format!("{}/{}", item.path, child.replace(['\n', '\r'], " ")),
                bytes: Cow::Owned(bytes),
                depth: item.depth + 1,
            });
        }
    }
    Ok(out)
}

/// Runs a format reader; a panic inside it (the readers are third-party code facing hostile
/// bytes) fails this file only, with a reason, instead of the whole process.
fn guarded<T>(read: impl FnOnce() -> Result<T, ReadFail>) -> Result<T, ReadFail> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(read)).unwrap_or_else(|_| {
        Err(ReadFail::Broken(
            "not read: the reader failed on this file (panic caught)".into(),
        ))
    })
}

fn push_section(out: &mut Unpacked, kind: &str, path: &str, format: Format, body: &[u8]) {
    out.text
        .extend_from_slice(format!("--- {kind} {path} ---\n").as_bytes());
    let start = out.text.len();
    out.text.extend_from_slice(body);
    out.sections.push(Section {
        path: path.to_string(),
        format,
        range: start..out.text.len(),
    });
    out.text.push(b'\n');
}

fn push_table_text(out: &mut Unpacked, table: &Table, format: Format) {
    out.text
        .extend_from_slice(format!("--- sheet {} ---\n", table.source).as_bytes());
    let start = out.text.len();
    for row in table.header.iter().chain(table.rows.iter()) {
        for (i, cell) in row.iter().enumerate() {
            if i > 0 {
                out.text.push(b'\t');
            }
            // A tab or line break inside a cell would shift the columns of the text form.
            out.text.extend(cell.bytes().map(|b| {
                if matches!(b, b'\t' | b'\n' | b'\r') {
                    b' '
                } else {
                    b
                }
            }));
        }
        out.text.push(b'\n');
    }
    out.sections.push(Section {
        path: table.source.clone(),
        format,
        range: start..out.text.len(),
    });
}

//! Rows read cell by cell: the column-aware identifier pass.
//!
//! Every cell is read on its own with the free-text number reading
//! ([`IdentifierFindings::scan_cell`]), so digits are never glued across cells, and each
//! value found is counted against its column. A column's header says what it holds (`nir`,
//! `n° sécu`, `numéro de sécurité sociale`, `num_ss`, `INS`, `tel`, `iban`, `finess`,
//! `rpps`, `siret`), which settles numbers whose length alone is ambiguous (nine digits:
//! FINESS, SIREN, or a phone a spreadsheet stripped of its leading zero). Without a header,
//! a column is named after the identifier kind found most in it, or the kind of value in its
//! first data row.
//!
//! Delimited text, SQL dumps and JSON all end up here as rows; so do spreadsheets through
//! [`scan_rows`].

use std::collections::{BTreeMap, HashMap};

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;
use vigie_core::{ColumnCount, IdentifierCount, IdentifierKind, SampleFinding};

use crate::identifiers::{IdentifierFindings, KindValues};

/// Per-column counts are kept for this many columns; cells further right are still read.
pub const MAX_COLUMNS: usize = 256;
/// Bytes of a cell that are read; the rest of a longer cell is ignored.
pub const MAX_CELL_BYTES: usize = 64 * 1024;

/// The identifier kind a column's header names, if any.
pub fn header_kind(name: &str) -> Option<IdentifierKind> {
    use IdentifierKind as K;
    let folded: String = name
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    let words: Vec<&str> = folded.split_whitespace().collect();
    let has = |w: &str| words.contains(&w);
    let any = |f: &dyn Fn(&str) -> bool| words.iter().any(|w| f(w));
    if any(&|w| w.contains("finess")) {
        return Some(K::Finess);
    }
    if any(&|w| w.contains("rpps")) {
        return Some(K::Rpps);
    }
    if any(&|w| w.contains("siret") || w.contains("siren")) {
        return Some(K::Siret);
    }
    if any(&|w| w.contains("iban")) {
        return Some(K::Iban);
    }
    let nir = has("nir")
        || has("ins")
        || has("nss")
        || has("ssn")
        || has("ss")
        || any(&|w| w.contains("insee") || w.contains("secu") || w.starts_with("numss"))
        || (has("securite") && has("sociale"));
    if nir {
        return Some(K::Nir);
    }
    let phone = any(&|w| {
        w.starts_with("tel")
            || w.contains("phone")
            || matches!(w, "portable" | "mobile" | "gsm" | "fixe" | "fax")
    });
    phone.then_some(K::Phone)
}

/// Whether a row looks like a header: short labels, hardly any digits, no e-mail.
pub(crate) fn looks_like_header<'a>(cells: impl IntoIterator<Item = &'a str>) -> bool {
    let mut filled = 0;
    let mut total = 0;
    for cell in cells {
        let cell = cell.trim();
        total += 1;
        if cell.is_empty() {
            continue;
        }
        filled += 1;
        if cell.len() > 64
            || cell.contains('@')
            || cell.bytes().filter(u8::is_ascii_digit).count() > 2
        {
            return false;
        }
    }
    total >= 2 && filled * 2 >= total
}

/// Counts of one table, mergeable across windows of the same document.
#[derive(Debug, Default, Clone)]
pub struct TableStats {
    /// Offset of the first row read (the earliest window's header and first row win).
    first_at: u64,
    delimiter: String,
    /// Header names, lower case.
    header: Option<Vec<String>>,
    /// Kinds of value in the first data row, for columns with no header and no identifier.
    first_row: Vec<&'static str>,
    rows: u64,
    personal_rows: u64,
    /// (valid, invalid) cells per column and kind.
    tallies: Vec<BTreeMap<IdentifierKind, (u64, u64)>>,
}

impl TableStats {
    /// Adds another window's counts.
    pub fn merge(&mut self, other: TableStats) {
        let take_layout = self.rows == 0 && self.header.is_none()
            || (other.rows > 0 || other.header.is_some()) && other.first_at < self.first_at;
        if take_layout {
            self.first_at = other.first_at;
            self.delimiter = other.delimiter;
            self.header = other.header;
            self.first_row = other.first_row;
        }
        self.rows += other.rows;
        self.personal_rows += other.personal_rows;
        if self.tallies.len() < other.tallies.len() {
            self.tallies.resize_with(other.tallies.len(), BTreeMap::new);
        }
        for (mine, theirs) in self.tallies.iter_mut().zip(other.tallies) {
            for (kind, (v, i)) in theirs {
                let e = mine.entry(kind).or_default();
                e.0 += v;
                e.1 += i;
            }
        }
    }

    /// Data rows read (header excluded).
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The column names: header names where present, otherwise the kind found most in the
    /// column, otherwise the kind of value in the first data row.
    pub fn columns(&self) -> Vec<String> {
        let header = self.header.as_deref().unwrap_or(&[]);
        let n = header
            .len()
            .max(self.first_row.len())
            .max(self.tallies.len())
            .min(crate::sample::MAX_COLUMNS);
        (0..n)
            .map(|i| {
                if let Some(name) = header.get(i).filter(|h| !h.is_empty()) {
                    return name.clone();
                }
                let inferred = self.tallies.get(i).and_then(|t| {
                    t.iter()
                        .max_by_key(|(kind, (v, inv))| (v + inv, std::cmp::Reverse(**kind)))
                        .map(|(kind, _)| kind.as_str().to_string())
                });
                inferred
                    .or_else(|| self.first_row.get(i).map(|k| k.to_string()))
                    .unwrap_or_else(|| "empty".into())
            })
            .collect()
    }

    /// Per-column identifier counts, by column then kind.
    pub fn column_counts(&self) -> Vec<ColumnCount> {
        let names = self.columns();
        let mut out = Vec::new();
        for (i, tally) in self.tallies.iter().enumerate() {
            for (kind, (valid, invalid)) in tally {
                if valid + invalid == 0 {
                    continue;
                }
                out.push(ColumnCount {
                    column: i as u32,
                    name: names
                        .get(i)
                        .cloned()
                        .unwrap_or_else(|| kind.as_str().to_string()),
                    kind: *kind,
                    valid: *valid,
                    invalid: *invalid,
                });
            }
        }
        out
    }

    /// The sample these rows make, if enough of them carry personal data (an identifier of
    /// any validity, a date, an e-mail).
    pub fn finding(&self) -> Option<SampleFinding> {
        (self.personal_rows >= crate::sample::MIN_ROWS).then(|| SampleFinding {
            rows: self.rows,
            columns: self.columns(),
            delimiter: self.delimiter.clone(),
            column_counts: self.column_counts(),
        })
    }
}

/// Reads rows cell by cell into identifier values and per-column counts.
#[derive(Debug)]
pub(crate) struct CellReader {
    pub(crate) found: IdentifierFindings,
    pub(crate) stats: TableStats,
    hints: Vec<Option<IdentifierKind>>,
    finess_context: bool,
    /// Column index by name, for rows given as (name, value) pairs (SQL, JSON).
    names: HashMap<String, usize>,
}

impl CellReader {
    /// A reader for rows starting at `first_at`, separated by `delimiter` (shown in the
    /// report), in a document that mentions FINESS or not.
    pub(crate) fn new(first_at: u64, delimiter: &str, finess_context: bool) -> CellReader {
        let found = IdentifierFindings::recording();
        CellReader {
            found,
            stats: TableStats {
                first_at,
                delimiter: delimiter.to_string(),
                ..TableStats::default()
            },
            hints: Vec::new(),
            finess_context,
            names: HashMap::new(),
        }
    }

    /// Sets the header: column names, and the kinds they say the columns hold.
    pub(crate) fn set_header<'a>(&mut self, names: impl IntoIterator<Item = &'a str>) {
        let names: Vec<String> = names
            .into_iter()
            .take(MAX_COLUMNS)
            .map(|n| n.trim().to_lowercase())
            .collect();
        self.hints = names.iter().map(|n| header_kind(n)).collect();
        self.names = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect();
        self.stats.header = Some(names);
    }

    /// The column index of a named field (SQL, JSON), adding the column when new. `None` past
    /// [`MAX_COLUMNS`] names.
    pub(crate) fn column_of(&mut self, name: &str) -> Option<usize> {
        if let Some(&i) = self.names.get(name) {
            return Some(i);
        }
        let header = self.stats.header.get_or_insert_with(Vec::new);
        if header.len() >= MAX_COLUMNS {
            return None;
        }
        let i = header.len();
        let lower = name.to_lowercase();
        header.push(lower.clone());
        self.hints.push(header_kind(&lower));
        self.names.insert(name.to_string(), i);
        Some(i)
    }

    /// Reads one row given as cells in column order.
    pub(crate) fn row<'a>(&mut self, cells: impl IntoIterator<Item = &'a str>) {
        let mut n = 0;
        let mut personal = false;
        let first = self.stats.rows == 0 && self.stats.first_row.is_empty();
        for (i, cell) in cells.into_iter().enumerate() {
            n += 1;
            if first && i < crate::sample::MAX_COLUMNS {
                self.stats
                    .first_row
                    .push(crate::sample::value_kind(cell.trim()));
            }
            personal |= self.cell(i, cell);
        }
        self.end_row(n, personal);
    }

    /// Reads one row given as (column, cell) pairs.
    pub(crate) fn indexed_row<'a>(&mut self, cells: impl IntoIterator<Item = (usize, &'a str)>) {
        let mut n = 0;
        let mut personal = false;
        let first = self.stats.rows == 0 && self.stats.first_row.is_empty();
        for (i, cell) in cells {
            n += 1;
            if first && i < crate::sample::MAX_COLUMNS {
                if self.stats.first_row.len() <= i {
                    self.stats.first_row.resize(i + 1, "empty");
                }
                self.stats.first_row[i] = crate::sample::value_kind(cell.trim());
            }
            personal |= self.cell(i, cell);
        }
        self.end_row(n, personal);
    }

    /// Reads text that is not part of a row (between SQL statements, a teaser before the
    /// rows) with the free-text reading; nothing is counted against a column.
    pub(crate) fn free_text(&mut self, text: &str) {
        self.found.scan_cell(text, None, self.finess_context);
        if let Some(events) = self.found.events.as_mut() {
            events.clear();
        }
    }

    fn end_row(&mut self, cells: usize, personal: bool) {
        if cells >= 2 {
            self.stats.rows += 1;
            if personal {
                self.stats.personal_rows += 1;
            }
        }
    }

    /// Reads one cell of column `i`; returns whether it holds a personal field.
    fn cell(&mut self, i: usize, cell: &str) -> bool {
        let mut end = cell.len().min(MAX_CELL_BYTES);
        while !cell.is_char_boundary(end) {
            end -= 1;
        }
        let cell = &cell[..end];
        if !cell.bytes().any(|c| c.is_ascii_digit()) {
            // No number to read: only an e-mail makes it personal.
            return cell.contains('@');
        }
        let hint = self.hints.get(i).copied().flatten();
        // A column named for another kind does not hold FINESS numbers, whatever the text
        // around says.
        let finess_context = hint.is_none() && self.finess_context;
        let mut personal = self.found.scan_cell(cell, hint, finess_context);
        personal |= cell.contains('@');
        let Some(events) = self.found.events.as_mut() else {
            return personal;
        };
        if events.is_empty() {
            return personal;
        }
        if i < MAX_COLUMNS {
            if self.stats.tallies.len() <= i {
                self.stats.tallies.resize_with(i + 1, BTreeMap::new);
            }
            let tally = &mut self.stats.tallies[i];
            for (kind, valid) in events.drain(..) {
                let e = tally.entry(kind).or_default();
                if valid {
                    e.0 += 1;
                } else {
                    e.1 += 1;
                }
            }
        } else {
            events.clear();
        }
        personal
    }
}

/// What [`scan_rows`] found: identifier counts over every cell, and the sample the rows make.
#[derive(Debug, Clone, Default)]
pub struct RowScan {
    kinds: BTreeMap<IdentifierKind, KindValues>,
    stats: TableStats,
}

impl RowScan {
    /// Distinct valid and look-alike values by kind (no examples: raw values stay here).
    pub fn identifiers(&self) -> BTreeMap<IdentifierKind, IdentifierCount> {
        self.kinds
            .iter()
            .map(|(kind, values)| {
                (
                    *kind,
                    IdentifierCount {
                        valid: values.valid_count(),
                        invalid: values.invalid_count(),
                        examples: Vec::new(),
                    },
                )
            })
            .filter(|(_, c)| !c.is_empty())
            .collect()
    }

    /// Data rows read (header excluded).
    pub fn rows(&self) -> u64 {
        self.stats.rows
    }

    /// Column names and per-column counts, when the rows make a sample (at least
    /// [`crate::sample::MIN_ROWS`] rows with a personal field).
    pub fn sample(&self) -> Option<SampleFinding> {
        self.stats.finding()
    }

    /// Per-column identifier counts, whatever the number of rows.
    pub fn column_counts(&self) -> Vec<ColumnCount> {
        self.stats.column_counts()
    }

    /// Adds another part of the same data (the next sheet of a workbook, the next chunk).
    pub fn merge(&mut self, other: RowScan) {
        for (kind, values) in other.kinds {
            self.kinds.entry(kind).or_default().merge(values);
        }
        self.stats.merge(other.stats);
    }
}

/// Reads already-split rows (a spreadsheet's, an archive member's) cell by cell: the entry
/// point for rows that did not come as text.
///
/// `header` names the columns when the caller knows it; when it is `None` and the first row
/// looks like a header (short labels, no numbers), that row is taken as the header. Each
/// cell is read on its own — no number is ever glued across cells — and what it holds is
/// counted against its column. 9-digit numbers count as FINESS only in a column named so.
///
/// [`crate::Matcher::scan_rows`] does the same and also looks for watched names and offer
/// cues, returning a whole report.
pub fn scan_rows(header: Option<&[String]>, rows: &[Vec<String>]) -> RowScan {
    let mut reader = CellReader::new(0, "cells", false);
    let mut rows = rows.iter();
    match header {
        Some(h) => reader.set_header(h.iter().map(String::as_str)),
        None => {
            if let Some(first) = rows.clone().next() {
                if looks_like_header(first.iter().map(String::as_str)) {
                    reader.set_header(first.iter().map(String::as_str));
                    rows.next();
                }
            }
        }
    }
    for row in rows {
        reader.row(row.iter().map(String::as_str));
    }
    RowScan {
        kinds: reader.found.kinds.into_iter().collect(),
        stats: reader.stats,
    }
}

impl crate::Matcher {
    /// Scans already-split rows into a whole report: identifiers read cell by cell (as
    /// [`scan_rows`] does, per-column counts in the report's sample), and watched names, offer
    /// cues, e-mails and credentials in the cells' text. `header` as for [`scan_rows`].
    pub fn scan_rows(
        &self,
        path: &str,
        header: Option<&[String]>,
        rows: &[Vec<String>],
        options: crate::ScanOptions,
    ) -> vigie_core::Report {
        let mut rows = rows.iter();
        let header: Option<&[String]> = match header {
            Some(h) => Some(h),
            None => match rows.clone().next() {
                Some(first) if looks_like_header(first.iter().map(String::as_str)) => {
                    rows.next();
                    Some(first.as_slice())
                }
                _ => None,
            },
        };
        // Tab-separated, one row a line, without quoting: the cells come back as given.
        let mut text = String::new();
        let mut line = |cells: &[String]| {
            for (i, cell) in cells.iter().enumerate() {
                if i > 0 {
                    text.push('\t');
                }
                text.extend(cell.chars().map(|c| {
                    if matches!(c, '\t' | '\n' | '\r') {
                        ' '
                    } else {
                        c
                    }
                }));
            }
            text.push('\n');
        };
        if let Some(h) = header {
            line(h);
        }
        for row in rows {
            line(row);
        }
        let len = text.len();
        let window = crate::Window {
            text,
            base: 0,
            accept_from: 0,
            accept_to: len,
            finess_context: false,
        };
        let forced = crate::delimited::Forced {
            header: header.is_some(),
        };
        let partial = self.scan_window_forced(&window, forced);
        self.finish(path, partial, options)
    }
}

/// The identifier passes alone, for the benchmark that compares them on the same text. Not
/// part of the API.
#[doc(hidden)]
pub mod bench {
    use crate::identifiers::{self, IdentifierFindings};
    use crate::lexicon::Lexicon;

    fn valid(found: &IdentifierFindings) -> u64 {
        found.kinds.values().map(|v| v.valid_count()).sum()
    }

    /// The free-text identifier pass over `text` (how delimited rows were read before):
    /// distinct valid values found.
    pub fn free_text(text: &str) -> u64 {
        let Ok(lexicon) = Lexicon::build(&[]) else {
            return 0;
        };
        valid(&identifiers::scan(text, &lexicon, &[], false))
    }

    /// The row pass over `text` (sniff, parse, read cell by cell): distinct valid values.
    pub fn rows(text: &str) -> u64 {
        let window = crate::Window {
            text: text.to_string(),
            base: 0,
            accept_from: 0,
            accept_to: text.len(),
            finess_context: false,
        };
        crate::delimited::read_window(&window, None).map_or(0, |r| valid(&r.found))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use IdentifierKind as K;

    #[test]
    fn french_headers_name_their_kind() {
        for name in [
            "nir",
            "NIR",
            "INS",
            "n° sécu",
            "N° SECU",
            "numéro de sécurité sociale",
            "num_ss",
            "Numero_Securite_Sociale",
            "no_insee",
            "nss",
        ] {
            assert_eq!(header_kind(name), Some(K::Nir), "{name}");
        }
        for name in ["tel", "Téléphone", "portable", "phone_number", "num_tel"] {
            assert_eq!(header_kind(name), Some(K::Phone), "{name}");
        }
        assert_eq!(header_kind("IBAN"), Some(K::Iban));
        assert_eq!(header_kind("finess_et"), Some(K::Finess));
        assert_eq!(header_kind("n_rpps"), Some(K::Rpps));
        assert_eq!(header_kind("siret"), Some(K::Siret));
        for name in [
            "nom",
            "prenom",
            "date_naissance",
            "ville",
            "instance",
            "hotel",
        ] {
            assert_eq!(header_kind(name), None, "{name}");
        }
    }

    #[test]
    fn headers_are_labels() {
        assert!(looks_like_header(["nom", "prénom", "nir"]));
        assert!(looks_like_header(["", "nom", "nir"]));
        assert!(!looks_like_header(["Dupont", "185057512345642"]));
        assert!(!looks_like_header(["a@b.fr", "x"]));
        assert!(!looks_like_header(["nir"]));
    }
}

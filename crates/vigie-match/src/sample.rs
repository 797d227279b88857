//! Delimited rows that look like an extract of records.
//!
//! Only lines that carry a personal field (an identifier, a date, an e-mail, a phone) are
//! looked at. Each is reduced to its shape (delimiter, field count); the shape with the most
//! such lines is the sample. Its columns come from the header line just above its first row
//! when there is one, otherwise from the kind of value in each field of that row. Raw values
//! are never kept: only their kinds.

use std::collections::HashMap;

use vigie_core::SampleFinding;

use crate::table::TableStats;

/// Fewer rows than this are not a sample.
pub const MIN_ROWS: u64 = 3;

const DELIMITERS: [u8; 5] = [b';', b'\t', b'|', b',', b':'];
pub(crate) const MAX_COLUMNS: usize = 40;

#[derive(Debug, Clone)]
struct Shape {
    rows: u64,
    first_at: u64,
    columns: Vec<String>,
}

/// Row counts by shape, mergeable across windows.
#[derive(Debug, Default, Clone)]
pub struct SampleStats {
    shapes: HashMap<(u8, usize), Shape>,
    /// Rows read cell by cell, when the text was read as a table: they give the sample.
    table: Option<TableStats>,
}

fn shape_of(line: &str) -> Option<(u8, usize)> {
    let b = line.as_bytes();
    let counts: Vec<usize> = DELIMITERS
        .iter()
        .map(|&d| memchr::memchr_iter(d, b).count())
        .collect();
    let (i, &n) = counts
        .iter()
        .enumerate()
        .find(|(_, &n)| n >= 2)
        .or_else(|| counts.iter().enumerate().find(|(_, &n)| n == 1))?;
    let delim = DELIMITERS[i];
    let fields = n + 1;
    // Two fields only for the login:password / key;value shapes, on short lines.
    if fields == 2 && (delim == b',' || delim == b'\t' || b.len() > 200) {
        return None;
    }
    Some((delim, fields))
}

fn split_fields(line: &str, delim: u8) -> impl Iterator<Item = &str> {
    line.split(delim as char)
        .map(|f| f.trim().trim_matches(|c| c == '"' || c == '\''))
}

/// The kind of value in a field: never the value itself.
pub(crate) fn value_kind(field: &str) -> &'static str {
    if field.is_empty() {
        return "empty";
    }
    if field.contains('@') {
        return "email";
    }
    let compact: String = field
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '\u{a0}'))
        .collect();
    if compact.bytes().all(|b| b.is_ascii_digit()) {
        return match compact.len() {
            15 => "nir",
            10 if compact.starts_with('0') => "phone",
            11 if compact.starts_with("33") => "phone",
            11 => "rpps",
            9 => "finess",
            14 => "siret",
            5 => "postcode",
            _ => "number",
        };
    }
    if compact.starts_with('+') && compact[1..].bytes().all(|b| b.is_ascii_digit()) {
        return "phone";
    }
    let digits = field.bytes().filter(u8::is_ascii_digit).count();
    if (8..=10).contains(&field.len()) && digits >= 6 && field.contains(['/', '-']) {
        return "date";
    }
    if compact.len() >= 15
        && compact.as_bytes()[..2].iter().all(u8::is_ascii_uppercase)
        && compact.as_bytes()[2..4].iter().all(u8::is_ascii_digit)
    {
        return "iban";
    }
    if digits == 0
        && field
            .chars()
            .all(|c| c.is_alphabetic() || matches!(c, ' ' | '-' | '\''))
    {
        return "name";
    }
    "text"
}

fn is_header(fields: &[&str]) -> bool {
    fields.iter().all(|f| {
        !f.is_empty()
            && f.len() <= 40
            && !f.contains('@')
            && f.bytes().filter(u8::is_ascii_digit).count() <= 2
    })
}

impl SampleStats {
    /// Looks at the personal lines of a window. `base` is the window's absolute offset.
    pub fn observe(&mut self, text: &str, base: u64, personal_lines: &[usize]) {
        let b = text.as_bytes();
        for &ls in personal_lines {
            let le = memchr::memchr(b'\n', &b[ls..]).map_or(b.len(), |p| ls + p);
            let line = text[ls..le].trim_end_matches('\r');
            let Some(shape) = shape_of(line) else {
                continue;
            };
            if let Some(s) = self.shapes.get_mut(&shape) {
                s.rows += 1;
                continue;
            }
            let header = previous_line(text, ls)
                .filter(|prev| shape_of(prev) == Some(shape))
                .map(|prev| split_fields(prev, shape.0).collect::<Vec<_>>())
                .filter(|fields| is_header(fields));
            let json_keys = json_keys(line);
            let columns = match header {
                Some(fields) => fields
                    .iter()
                    .take(MAX_COLUMNS)
                    .map(|f| f.to_lowercase())
                    .collect(),
                None if !json_keys.is_empty() => json_keys,
                None => split_fields(line, shape.0)
                    .take(MAX_COLUMNS)
                    .map(|f| value_kind(f).to_string())
                    .collect(),
            };
            self.shapes.insert(
                shape,
                Shape {
                    rows: 1,
                    first_at: base + ls as u64,
                    columns,
                },
            );
        }
    }

    /// Adds the rows a window read cell by cell.
    pub(crate) fn add_table(&mut self, table: TableStats) {
        match &mut self.table {
            Some(mine) => mine.merge(table),
            None => self.table = Some(table),
        }
    }

    /// Adds another window's counts.
    pub fn merge(&mut self, other: SampleStats) {
        if let Some(table) = other.table {
            self.add_table(table);
        }
        for (key, shape) in other.shapes {
            match self.shapes.get_mut(&key) {
                Some(mine) => {
                    mine.rows += shape.rows;
                    if shape.first_at < mine.first_at {
                        mine.first_at = shape.first_at;
                        mine.columns = shape.columns;
                    }
                }
                None => {
                    self.shapes.insert(key, shape);
                }
            }
        }
    }

    /// The rows read as a table if they make a sample, otherwise the largest shape, if it
    /// has enough rows to be a sample.
    pub fn finding(&self) -> Option<SampleFinding> {
        if let Some(found) = self.table.as_ref().and_then(TableStats::finding) {
            return Some(found);
        }
        let ((delim, _), shape) = self
            .shapes
            .iter()
            .max_by_key(|((_, fields), s)| (s.rows, *fields, std::cmp::Reverse(s.first_at)))?;
        (shape.rows >= MIN_ROWS).then(|| SampleFinding {
            rows: shape.rows,
            columns: shape.columns.clone(),
            delimiter: (*delim as char).to_string(),
            column_counts: Vec::new(),
        })
    }
}

/// The keys of a JSON-lines record (`{"nom":"DUPONT","nir":"…"}`), in order; empty for
/// anything else.
fn json_keys(line: &str) -> Vec<String> {
    static KEY: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    let trimmed = line.trim_start();
    if !trimmed.starts_with('{') {
        return Vec::new();
    }
    let Some(key) = KEY.get_or_init(|| regex::Regex::new(r#"[{,]\s*"([^"]{1,40})"\s*:"#).ok())
    else {
        return Vec::new();
    };
    key.captures_iter(trimmed)
        .filter_map(|c| c.get(1))
        .take(MAX_COLUMNS)
        .map(|m| m.as_str().to_lowercase())
        .collect()
}

fn previous_line(text: &str, line_start: usize) -> Option<&str> {
    if line_start == 0 {
        return None;
    }
    let end = line_start - 1;
    let start = memchr::memrchr(b'\n', &text.as_bytes()[..end]).map_or(0, |p| p + 1);
    Some(text[start..end].trim_end_matches('\r'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<usize> {
        let mut v = vec![0];
        v.extend(
            text.match_indices('\n')
                .map(|(i, _)| i + 1)
                .filter(|&i| i < text.len()),
        );
        v
    }

    #[test]
    fn header_gives_column_names() {
        let text = "nom;prenom;nir;tel\nDupont;Jean;185057512345636;0612345678\nMartin;Anne;285057512345611;0612345679\nDurand;Paul;185057512345622;0612345670\n";
        let mut s = SampleStats::default();
        // The header carries no personal field, so it is not passed as a personal line.
        s.observe(text, 0, &lines(text)[1..]);
        let f = s.finding().unwrap();
        assert_eq!(f.rows, 3);
        assert_eq!(f.columns, ["nom", "prenom", "nir", "tel"]);
        assert_eq!(f.delimiter, ";");
    }

    #[test]
    fn without_header_columns_are_value_kinds() {
        let text = "Dupont|185057512345636|0612345678|01/02/1985\nMartin|285057512345611|0612345679|02/03/1986\nDurand|185057512345622|0612345670|03/04/1987\n";
        let mut s = SampleStats::default();
        s.observe(text, 0, &lines(text));
        let f = s.finding().unwrap();
        assert_eq!(f.columns, ["name", "nir", "phone", "date"]);
    }

    #[test]
    fn json_lines_give_their_keys() {
        let text = "{\"nom\":\"A\",\"nir\":\"185057512345673\",\"tel\":\"0612345678\"}\n".repeat(3);
        let mut s = SampleStats::default();
        s.observe(&text, 0, &lines(&text));
        assert_eq!(s.finding().unwrap().columns, ["nom", "nir", "tel"]);
    }

    #[test]
    fn two_rows_are_not_a_sample_and_windows_merge() {
        let text = "a;185057512345636;x\nb;285057512345611;y\n";
        let mut s = SampleStats::default();
        s.observe(text, 0, &lines(text));
        assert!(s.finding().is_none());
        let mut other = SampleStats::default();
        other.observe(text, 1000, &lines(text));
        s.merge(other);
        assert_eq!(s.finding().unwrap().rows, 4);
    }
}

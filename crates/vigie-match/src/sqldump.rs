//! SQL dumps read as rows: `INSERT INTO t (cols) VALUES (…),(…);` tuples and PostgreSQL
//! `COPY t (cols) FROM stdin;` blocks (tab-separated lines ending with `\.`).
//!
//! One forward pass with no recursion: quoted strings (`'…'` with `''` or backslash escapes,
//! `"…"`), parentheses inside a value (`NOW()`) counted, not descended into. Each tuple is a
//! row whose cells are named by the statement's column list. Text outside statements, and
//! the tail of a statement begun in an earlier window, are read as free text, so nothing in
//! the window goes unread.

use std::sync::OnceLock;

use regex::Regex;

use crate::delimited::WindowRows;
use crate::scan::Window;
use crate::table::CellReader;

/// Rows read per window; past it the rest of the window is read as free text.
pub const MAX_ROWS_PER_WINDOW: u64 = 2_000_000;
/// Columns named by one statement.
const MAX_STATEMENT_COLUMNS: usize = 256;

fn statement_start() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r#"(?i)\binsert\s+(?:ignore\s+)?into\s+([`"\[\]\w.]+)\s*(\(([^)]*)\))?\s*values\s*|(?m)^copy\s+([`"\w.]+)\s*(\(([^)]*)\))?\s+from\s+stdin[^\n]*\n"#,
        )
        .ok()
    })
    .as_ref()
}

/// Column names of a statement's list: unquoted, trimmed.
fn column_names(list: &str) -> Vec<String> {
    list.split(',')
        .take(MAX_STATEMENT_COLUMNS)
        .map(|c| {
            c.trim()
                .trim_matches(|ch| matches!(ch, '`' | '"' | '[' | ']'))
                .to_string()
        })
        .collect()
}

/// Bytes that end a token: a number or word cut by the window's border belongs to the window
/// in which it starts.
fn is_token_end(c: u8) -> bool {
    c.is_ascii_whitespace() || matches!(c, b',' | b';' | b'(' | b')' | b'\'' | b'"')
}

fn token_end(b: &[u8], mut at: usize) -> usize {
    while at < b.len() && !is_token_end(b[at]) {
        at += 1;
    }
    at
}

/// Reads the window as an SQL dump, if it holds an `INSERT … VALUES` or `COPY … FROM stdin`.
pub(crate) fn read(window: &Window, finess_context: bool) -> Option<WindowRows> {
    let text = window.text.as_str();
    let b = text.as_bytes();
    let re = statement_start()?;
    let doc_start = window.base == 0 && window.accept_from == 0;
    let from = if doc_start {
        0
    } else {
        // A token cut by the previous window's border is that window's.
        let at = window.accept_from;
        if at > 0 && !is_token_end(b[at - 1]) {
            token_end(b, at)
        } else {
            at
        }
    };
    let first = re
        .find_at(text, from)
        .map(|m| m.start())
        .filter(|&s| s < window.accept_to);
    // The tuples of a statement begun in an earlier window (a dump's INSERT lines run to
    // megabytes): rows whose column names that window saw.
    let tail = if doc_start {
        None
    } else {
        tail_start(text, from, window.accept_to).filter(|&t| first.is_none_or(|f| t < f))
    };
    let start = tail.or(first)?;
    let mut reader = CellReader::new(window.base + start as u64, "sql", finess_context);
    let mut p = from;
    let mut search = from;
    if let Some(t) = tail {
        if t > p {
            reader.free_text(&text[p..t]);
        }
        // Positions, not names: cells are read and rows counted, but not tallied by column.
        let unnamed: Vec<Option<usize>> = (0..MAX_STATEMENT_COLUMNS)
            .map(|i| Some(crate::table::MAX_COLUMNS + i))
            .collect();
        let (end, cut) = values_rows(text, t, window.accept_to, &unnamed, &mut reader);
        if cut {
            return Some(WindowRows {
                found: reader.found,
                stats: reader.stats,
            });
        }
        p = end;
        search = end;
    }
    while let Some(caps) = re.captures_at(text, search) {
        let Some(whole) = caps.get(0) else { break };
        if whole.start() >= window.accept_to || reader.stats.rows() >= MAX_ROWS_PER_WINDOW {
            break;
        }
        if whole.start() > p {
            reader.free_text(&text[p..whole.start()]);
        }
        let (list, copy) = match (caps.get(3), caps.get(6)) {
            (Some(l), _) => (Some(l.as_str()), false),
            (None, Some(l)) => (Some(l.as_str()), true),
            (None, None) => (None, caps.get(4).is_some()),
        };
        let columns: Vec<Option<usize>> = list
            .map(column_names)
            .unwrap_or_default()
            .iter()
            .map(|n| reader.column_of(n))
            .collect();
        let (end, cut) = if copy {
            copy_rows(text, whole.end(), window.accept_to, &columns, &mut reader)
        } else {
            values_rows(text, whole.end(), window.accept_to, &columns, &mut reader)
        };
        p = end;
        search = end.max(whole.end());
        if cut {
            return Some(WindowRows {
                found: reader.found,
                stats: reader.stats,
            });
        }
    }
    let end = token_end(b, window.accept_to).max(p);
    if end > p {
        reader.free_text(&text[p..end]);
    }
    Some(WindowRows {
        found: reader.found,
        stats: reader.stats,
    })
}

/// Where the first whole tuple of a statement begun before `from` starts: the `(` after a
/// `),(` at or after `from`, on the line `from` is in, with two more `),(` within 64 KiB
/// (the middle of an extended INSERT, not a parenthesis in prose).
fn tail_start(text: &str, from: usize, accept_to: usize) -> Option<usize> {
    let b = text.as_bytes();
    let look = &b[from.saturating_sub(2)..b.len().min(from + 64 * 1024)];
    let base = from.saturating_sub(2);
    let mut hits = memchr::memmem::find_iter(look, b"),(").map(|p| base + p + 2);
    let first = hits.find(|&t| t >= from)?;
    if first >= accept_to || memchr::memchr(b'\n', &b[from..first]).is_some() {
        return None;
    }
    (hits.take(2).count() == 2).then_some(first)
}

/// The column a cell at position `i` of a tuple falls in: the statement's list names it, or
/// its position does when the statement has no list.
fn column(columns: &[Option<usize>], i: usize) -> Option<usize> {
    if columns.is_empty() {
        Some(i)
    } else {
        columns.get(i).copied().flatten()
    }
}

/// Reads `(…),(…);` from `at`. Returns where reading stopped and whether it stopped at the
/// window's border (a tuple starting at or after `accept_to`).
fn values_rows(
    text: &str,
    mut at: usize,
    accept_to: usize,
    columns: &[Option<usize>],
    reader: &mut CellReader,
) -> (usize, bool) {
    let b = text.as_bytes();
    let mut cells: Vec<(usize, String)> = Vec::new();
    loop {
        while at < b.len() && (b[at].is_ascii_whitespace() || b[at] == b',') {
            at += 1;
        }
        if at >= b.len() {
            return (at, false);
        }
        if b[at] != b'(' {
            // `;` or anything else ends the statement.
            return (at, false);
        }
        if at >= accept_to {
            return (at, true);
        }
        at += 1;
        cells.clear();
        let mut i = 0;
        // One tuple: values separated by commas at depth 0, ended by `)`.
        loop {
            while at < b.len() && b[at].is_ascii_whitespace() {
                at += 1;
            }
            let (value, next) = read_value(text, at);
            at = next;
            match column(columns, i) {
                Some(col) => cells.push((col, value)),
                // Past the named columns: still read, as free text.
                None => reader.free_text(&value),
            }
            i += 1;
            match b.get(at) {
                Some(b',') => at += 1,
                Some(b')') => {
                    at += 1;
                    break;
                }
                _ => break,
            }
        }
        reader.indexed_row(cells.iter().map(|(c, v)| (*c, v.as_str())));
    }
}

/// One value of a tuple from `at`: a quoted string unescaped, or the raw text up to the next
/// comma or closing parenthesis at depth 0. Returns the value and where it ended.
fn read_value(text: &str, mut at: usize) -> (String, usize) {
    let b = text.as_bytes();
    let mut out = String::new();
    let mut depth = 0u32;
    let mut run_start = at;
    while at < b.len() {
        match b[at] {
            q @ (b'\'' | b'"') => {
                out.push_str(&text[run_start..at]);
                at += 1;
                let mut seg = at;
                while at < b.len() {
                    let c = b[at];
                    if c == b'\\' && at + 1 < b.len() {
                        out.push_str(&text[seg..at]);
                        let e = b[at + 1];
                        match e {
                            b'n' => out.push('\n'),
                            b't' => out.push('\t'),
                            b'r' => out.push('\r'),
                            b'0' => {}
                            _ if e.is_ascii() => out.push(e as char),
                            // A backslash before a multi-byte character: keep both whole.
                            _ => out.push('\\'),
                        }
                        at += if e.is_ascii() { 2 } else { 1 };
                        seg = at;
                    } else if c == q {
                        out.push_str(&text[seg..at]);
                        if b.get(at + 1) == Some(&q) {
                            out.push(q as char);
                            at += 2;
                            seg = at;
                        } else {
                            at += 1;
                            seg = at;
                            break;
                        }
                    } else {
                        at += 1;
                    }
                }
                if seg < at {
                    out.push_str(&text[seg..at]);
                }
                run_start = at;
            }
            b'(' => {
                depth += 1;
                at += 1;
            }
            b')' if depth > 0 => {
                depth -= 1;
                at += 1;
            }
            b')' | b',' if depth == 0 => break,
            _ => at += 1,
        }
    }
    out.push_str(&text[run_start..at]);
    let trimmed = out.trim();
    if trimmed.eq_ignore_ascii_case("null") {
        return (String::new(), at);
    }
    (trimmed.to_string(), at)
}

/// Reads the tab-separated lines of a `COPY … FROM stdin` block from `at` up to `\.`.
fn copy_rows(
    text: &str,
    mut at: usize,
    accept_to: usize,
    columns: &[Option<usize>],
    reader: &mut CellReader,
) -> (usize, bool) {
    let b = text.as_bytes();
    while at < b.len() {
        let end = memchr::memchr(b'\n', &b[at..]).map_or(b.len(), |p| at + p);
        let line = text[at..end].trim_end_matches('\r');
        if line == "\\." {
            return (end, false);
        }
        if at >= accept_to {
            return (at, true);
        }
        let mut unnamed = Vec::new();
        let mut cells = Vec::new();
        for (i, v) in line.split('\t').enumerate() {
            let v = if v == "\\N" { "" } else { v };
            match column(columns, i) {
                Some(c) => cells.push((c, v)),
                None => unnamed.push(v),
            }
        }
        reader.indexed_row(cells);
        for v in unnamed {
            reader.free_text(v);
        }
        at = end + 1;
    }
    (b.len(), false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_pattern_compiles() {
        assert!(statement_start().is_some());
    }

    #[test]
    fn values_unescape_quotes() {
        assert_eq!(read_value("'O''Brien', 2", 0), ("O'Brien".into(), 10));
        assert_eq!(read_value(r"'l\'hôpital')", 0).0, "l'hôpital");
        assert_eq!(read_value("NOW(), 3", 0), ("NOW()".into(), 5));
        assert_eq!(read_value("NULL)", 0), (String::new(), 4));
        assert_eq!(read_value("'a,b)c'", 0).0, "a,b)c");
    }
}

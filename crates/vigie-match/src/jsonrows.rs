//! JSON read as rows: an array of objects, JSON lines, or objects nested in either.
//!
//! Every object that is a top-level value or an element of an array is a row; the scalars
//! inside it, nested objects included, are its cells, named by their key path within the row
//! (`patient.nir`). Arrays of objects inside a row give rows of their own. One forward pass
//! with an explicit stack, capped in depth: no recursion on nesting an attacker chooses.

use crate::delimited::WindowRows;
use crate::table::CellReader;

/// Deeper nesting than this is not read as rows (the text is then read as free text).
pub const MAX_DEPTH: usize = 64;
/// Rows read; past it the rest of the document is not read as rows.
pub const MAX_ROWS: u64 = 5_000_000;
/// Key paths longer than this are not extended (the column keeps the shorter name).
const MAX_PATH: usize = 256;

#[derive(Debug)]
enum Frame {
    /// An object; `level` is the path length at its start, `row` whether it opened a row,
    /// `expect_key` whether the next string is a key.
    Object {
        level: usize,
        row: bool,
        expect_key: bool,
    },
    /// An array; `level` is the path length at its start.
    Array { level: usize },
}

/// An open row: the path length its column names start after, and its cells.
struct Row {
    base: usize,
    cells: Vec<(usize, String)>,
}

/// Reads `text` as JSON rows; `None` when it is not JSON (or nests deeper than
/// [`MAX_DEPTH`], or holds no object).
pub(crate) fn read(text: &str, finess_context: bool) -> Option<WindowRows> {
    let b = text.as_bytes();
    let first = b.iter().position(|c| !c.is_ascii_whitespace())?;
    if !matches!(b[first], b'[' | b'{') {
        return None;
    }
    let mut reader = CellReader::new(first as u64, "json", finess_context);
    let mut stack: Vec<Frame> = Vec::new();
    let mut rows: Vec<Row> = Vec::new();
    let mut path = String::new();
    let mut objects = 0u64;
    let mut at = first;
    while at < b.len() {
        let c = b[at];
        match c {
            b' ' | b'\t' | b'\r' | b'\n' => at += 1,
            b'{' | b'[' => {
                if stack.len() >= MAX_DEPTH {
                    return None;
                }
                let level = path.len();
                if c == b'[' {
                    stack.push(Frame::Array { level });
                } else {
                    let row = matches!(stack.last(), None | Some(Frame::Array { .. }))
                        && reader.stats.rows() < MAX_ROWS;
                    if row {
                        rows.push(Row {
                            base: level,
                            cells: Vec::new(),
                        });
                    }
                    objects += 1;
                    stack.push(Frame::Object {
                        level,
                        row,
                        expect_key: true,
                    });
                }
                at += 1;
            }
            b'}' | b']' => {
                match stack.pop() {
                    Some(Frame::Object { level, row, .. }) if c == b'}' => {
                        if row {
                            if let Some(done) = rows.pop() {
                                reader.indexed_row(
                                    done.cells.iter().map(|(col, v)| (*col, v.as_str())),
                                );
                            }
                        }
                        path.truncate(level);
                    }
                    Some(Frame::Array { level }) if c == b']' => path.truncate(level),
                    _ => return None,
                }
                at += 1;
                end_value(&mut stack, &mut path);
            }
            b',' => {
                if let Some(Frame::Object { expect_key, .. }) = stack.last_mut() {
                    *expect_key = true;
                }
                at += 1;
            }
            b':' => {
                if let Some(Frame::Object { expect_key, .. }) = stack.last_mut() {
                    *expect_key = false;
                }
                at += 1;
            }
            b'"' => {
                let (s, next) = read_string(text, at + 1);
                at = next;
                match stack.last_mut() {
                    Some(Frame::Object {
                        level, expect_key, ..
                    }) if *expect_key => {
                        path.truncate(*level);
                        if path.len() + s.len() < MAX_PATH {
                            if !path.is_empty() {
                                path.push('.');
                            }
                            path.push_str(&s);
                        }
                    }
                    _ => {
                        scalar(&s, &path, &mut rows, &mut reader);
                        end_value(&mut stack, &mut path);
                    }
                }
            }
            _ if c == b'-' || c.is_ascii_alphanumeric() => {
                let end = b[at..]
                    .iter()
                    .position(|&x| !(x.is_ascii_alphanumeric() || matches!(x, b'-' | b'+' | b'.')))
                    .map_or(b.len(), |p| at + p);
                let token = &text[at..end];
                if !matches!(token, "true" | "false" | "null") {
                    // Only JSON numbers: a bare word means this is not JSON (`[VENTE] …`).
                    let number = token.bytes().all(|x| {
                        x.is_ascii_digit() || matches!(x, b'-' | b'+' | b'.' | b'e' | b'E')
                    }) && token.bytes().any(|x| x.is_ascii_digit());
                    if !number {
                        return None;
                    }
                    scalar(token, &path, &mut rows, &mut reader);
                }
                at = end;
                end_value(&mut stack, &mut path);
            }
            _ => return None,
        }
    }
    if objects == 0 {
        return None;
    }
    // Rows left open by a truncated document still count.
    while let Some(done) = rows.pop() {
        reader.indexed_row(done.cells.iter().map(|(col, v)| (*col, v.as_str())));
    }
    Some(WindowRows {
        found: reader.found,
        stats: reader.stats,
    })
}

/// After a value inside an object, the key it was under no longer applies.
fn end_value(stack: &mut [Frame], path: &mut String) {
    if let Some(Frame::Object { level, .. }) = stack.last() {
        path.truncate(*level);
    }
}

/// A scalar: a cell of the innermost open row, named by its path within the row; outside any
/// row (an array of plain values), free text.
fn scalar(value: &str, path: &str, rows: &mut [Row], reader: &mut CellReader) {
    match rows.last_mut() {
        Some(row) => {
            let name = path.get(row.base..).unwrap_or("").trim_start_matches('.');
            let name = if name.is_empty() { "value" } else { name };
            if let Some(col) = reader.column_of(name) {
                row.cells.push((col, value.to_string()));
            }
        }
        None => reader.free_text(value),
    }
}

/// A JSON string from `at` (just after its opening quote), unescaped, and the position after
/// its closing quote.
fn read_string(text: &str, mut at: usize) -> (String, usize) {
    let b = text.as_bytes();
    let mut out = String::new();
    let mut seg = at;
    while at < b.len() {
        match b[at] {
            b'"' => {
                out.push_str(&text[seg..at]);
                return (out, at + 1);
            }
            b'\\' if at + 1 < b.len() => {
                out.push_str(&text[seg..at]);
                let e = b[at + 1];
                at += 2;
                match e {
                    b'n' => out.push('\n'),
                    b't' => out.push('\t'),
                    b'r' | b'b' | b'f' => out.push(' '),
                    b'u' => {
                        let hex = |from: usize| {
                            text.get(from..from + 4)
                                .and_then(|h| u32::from_str_radix(h, 16).ok())
                        };
                        match hex(at) {
                            Some(hi @ 0xD800..=0xDBFF) => {
                                let lo = (text.get(at + 4..at + 6) == Some("\\u"))
                                    .then(|| hex(at + 6))
                                    .flatten()
                                    .filter(|lo| (0xDC00..=0xDFFF).contains(lo));
                                match lo {
                                    Some(lo) => {
                                        let cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                                        out.push(char::from_u32(cp).unwrap_or('\u{fffd}'));
                                        at += 10;
                                    }
                                    None => {
                                        out.push('\u{fffd}');
                                        at += 4;
                                    }
                                }
                            }
                            Some(cp) => {
                                out.push(char::from_u32(cp).unwrap_or('\u{fffd}'));
                                at += 4;
                            }
                            None => out.push('\u{fffd}'),
                        }
                    }
                    e if e.is_ascii() => out.push(e as char),
                    // A backslash before a multi-byte character: keep the character whole.
                    _ => at -= 1,
                }
                seg = at;
            }
            _ => at += 1,
        }
    }
    out.push_str(&text[seg..]);
    (out, b.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_unescape() {
        assert_eq!(read_string(r#"a\"b\\c" x"#, 0), ("a\"b\\c".into(), 8));
        assert_eq!(read_string(r#"\u00e9t\u00e9""#, 0).0, "été");
        assert_eq!(read_string(r#"\ud83d\ude00""#, 0).0, "😀");
        assert_eq!(read_string("unterminated", 0), ("unterminated".into(), 12));
    }

    #[test]
    fn deep_nesting_is_refused_without_recursion() {
        let deep = "[".repeat(100_000) + &"]".repeat(100_000);
        assert!(read(&deep, false).is_none());
        assert!(read("not json", false).is_none());
        assert!(read("[1, 2, 3]", false).is_none(), "no object, no rows");
        assert!(read("[VENTE] {lot 1} 06 12 34 56 78", false).is_none());
    }
}

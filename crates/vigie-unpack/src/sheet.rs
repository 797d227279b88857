//! Spreadsheets through calamine. xlsx and xlsb are streamed cell by cell (a sheet whose
//! declared range is huge allocates nothing); xls and ods are read as ranges, bounded by the
//! formats themselves (xls: 65,536 × 256) and calamine's own cell cap (ods).

use std::io::Cursor;

use calamine::{Data, DataRef, Ods, Reader, Xls, Xlsb, Xlsx};

use crate::unpack::{Budget, ReadFail};
use crate::{cfb, zipfmt, Format, Skipped, Table};

pub(crate) struct Sheets {
    pub tables: Vec<Table>,
    pub skipped: Vec<Skipped>,
}

/// Cells of one sheet as (row, column, text), before they become rows.
struct Grid {
    max_columns: usize,
    max_cells: usize,
    cells: Vec<(u32, u32, String)>,
    dropped_columns: usize,
    full: bool,
    used: usize,
}

impl Grid {
    fn push(&mut self, row: u32, col: u32, text: String) {
        if text.is_empty() || self.full {
            return;
        }
        if col as usize >= self.max_columns {
            self.dropped_columns += 1;
            return;
        }
        if self.used >= self.max_cells {
            self.full = true;
            return;
        }
        self.used += 1;
        self.cells.push((row, col, text));
    }
}

fn cell_text(v: &DataRef<'_>) -> String {
    match v {
        DataRef::SharedString(s) => (*s).to_string(),
        DataRef::String(s) => s.clone(),
        other => Data::from(other.clone()).to_string(),
    }
}

/// A sheet's name, cells, cells dropped right of the column cap, and whether the cell cap hit.
type SheetCells = (String, Vec<(u32, u32, String)>, usize, bool);

/// Every sheet of a workbook as a table.
pub(crate) fn read(
    path: &str,
    bytes: &[u8],
    format: Format,
    budget: &mut Budget,
) -> Result<Sheets, ReadFail> {
    if matches!(format, Format::Xlsx | Format::Xlsb | Format::Ods) {
        zipfmt::check_workbook(bytes, budget)?;
    }
    if format == Format::Xls {
        // calamine follows the compound file's chains and allocates per counts in the file
        // without bounds; a crafted file aborts the process, so it is checked here first.
        let refuse = |reason: String| ReadFail::Broken(format!("xls not read: {reason}"));
        let cells_cap = cfb::BIFF8_GRID.max(budget.limits.max_cells as u64);
        if let Some(stream) =
            cfb::workbook_stream(bytes, budget.limits.max_total).map_err(refuse)?
        {
            cfb::check_workbook_records(&stream, cells_cap).map_err(refuse)?;
        }
    }
    let mut out = Sheets {
        tables: Vec::new(),
        skipped: Vec::new(),
    };
    let mut used = 0usize;
    let (max_columns, max_cells) = (budget.limits.max_columns, budget.limits.max_cells);
    let broken = |e: &dyn std::fmt::Display| ReadFail::Broken(format!("unreadable workbook: {e}"));
    let mut sheets: Vec<SheetCells> = Vec::new();
    match format {
        Format::Xlsx => {
            let mut wb: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|e| broken(&e))?;
            for name in wb.sheet_names() {
                let mut grid = Grid {
                    max_columns,
                    max_cells,
                    cells: Vec::new(),
                    dropped_columns: 0,
                    full: false,
                    used,
                };
                match wb.worksheet_cells_reader(&name) {
                    Ok(mut cells) => loop {
                        match cells.next_cell() {
                            Ok(Some(c)) => {
                                let (r, col) = c.get_position();
                                grid.push(r, col, cell_text(c.get_value()));
                                if grid.full {
                                    break;
                                }
                            }
                            Ok(None) => break,
                            Err(e) => {
                                out.skipped
                                    .push(sheet_skip(path, &name, &format!("stopped: {e}")));
                                break;
                            }
                        }
                    },
                    Err(e) => out.skipped.push(sheet_skip(path, &name, &format!("{e}"))),
                }
                used = grid.used;
                sheets.push((name, grid.cells, grid.dropped_columns, grid.full));
            }
        }
        Format::Xlsb => {
            let mut wb: Xlsb<_> = Xlsb::new(Cursor::new(bytes)).map_err(|e| broken(&e))?;
            for name in wb.sheet_names() {
                let mut grid = Grid {
                    max_columns,
                    max_cells,
                    cells: Vec::new(),
                    dropped_columns: 0,
                    full: false,
                    used,
                };
                match wb.worksheet_cells_reader(&name) {
                    Ok(mut cells) => loop {
                        match cells.next_cell() {
                            Ok(Some(c)) => {
                                let (r, col) = c.get_position();
                                grid.push(r, col, cell_text(c.get_value()));
                                if grid.full {
                                    break;
                                }
                            }
                            Ok(None) => break,
                            Err(e) => {
                                out.skipped
                                    .push(sheet_skip(path, &name, &format!("stopped: {e}")));
                                break;
                            }
                        }
                    },
                    Err(e) => out.skipped.push(sheet_skip(path, &name, &format!("{e}"))),
                }
                used = grid.used;
                sheets.push((name, grid.cells, grid.dropped_columns, grid.full));
            }
        }
        _ => {
            let ranges = if format == Format::Xls {
                let mut wb: Xls<_> = Xls::new(Cursor::new(bytes)).map_err(|e| broken(&e))?;
                ranges_of(&mut wb, path, &mut out.skipped)
            } else {
                let mut wb: Ods<_> = Ods::new(Cursor::new(bytes)).map_err(|e| broken(&e))?;
                ranges_of(&mut wb, path, &mut out.skipped)
            };
            for (name, range) in ranges {
                let mut grid = Grid {
                    max_columns,
                    max_cells,
                    cells: Vec::new(),
                    dropped_columns: 0,
                    full: false,
                    used,
                };
                for (r, c, v) in range.used_cells() {
                    let (r0, c0) = range.start().unwrap_or((0, 0));
                    let col = c0 as usize + c;
                    grid.push(r0 + r as u32, col as u32, v.to_string());
                    if grid.full {
                        break;
                    }
                }
                used = grid.used;
                sheets.push((name, grid.cells, grid.dropped_columns, grid.full));
            }
        }
    }
    let mut padded_room = max_cells;
    for (name, cells, dropped, full) in sheets {
        if dropped > 0 {
            out.skipped.push(sheet_skip(
                path,
                &name,
                &format!("{dropped} cells right of column {max_columns}: dropped"),
            ));
        }
        if full {
            out.skipped.push(sheet_skip(
                path,
                &name,
                &format!("cell cap of {max_cells} reached: the rest of the sheet is not read"),
            ));
        }
        let (table, truncated) = to_table(format!("{path}#{name}"), cells, &mut padded_room);
        if truncated {
            out.skipped.push(sheet_skip(
                path,
                &name,
                &format!("cell cap of {max_cells} reached (with padding): rows cut"),
            ));
        }
        out.tables.push(table);
    }
    Ok(out)
}

fn ranges_of<RS, R>(
    wb: &mut R,
    path: &str,
    skipped: &mut Vec<Skipped>,
) -> Vec<(String, calamine::Range<Data>)>
where
    RS: std::io::Read + std::io::Seek,
    R: Reader<RS>,
    R::Error: std::fmt::Display,
{
    let mut out = Vec::new();
    for name in wb.sheet_names() {
        match wb.worksheet_range(&name) {
            Ok(r) => out.push((name, r)),
            Err(e) => skipped.push(sheet_skip(path, &name, &format!("{e}"))),
        }
    }
    out
}

fn sheet_skip(path: &str, sheet: &str, reason: &str) -> Skipped {
    Skipped {
        path: format!("{path}#{sheet}"),
        reason: reason.to_string(),
    }
}

/// Rows from cells: sorted, empty rows left out, each row padded from the sheet's first
/// used column so a column keeps its index. Returns whether the padding cap cut rows.
fn to_table(source: String, mut cells: Vec<(u32, u32, String)>, room: &mut usize) -> (Table, bool) {
    cells.sort_by_key(|c| (c.0, c.1));
    let first_col = cells.iter().map(|c| c.1).min().unwrap_or(0);
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut current: Option<u32> = None;
    let mut truncated = false;
    for (r, c, text) in cells {
        if current != Some(r) {
            current = Some(r);
            rows.push(Vec::new());
        }
        let width = (c - first_col) as usize + 1;
        let Some(row) = rows.last_mut() else { continue };
        let extra = width.saturating_sub(row.len());
        if extra > *room {
            truncated = true;
            rows.pop();
            break;
        }
        *room -= extra;
        while row.len() + 1 < width {
            row.push(String::new());
        }
        row.push(text);
    }
    let header = match rows.first() {
        Some(first) if is_header(first) => Some(rows.remove(0)),
        _ => None,
    };
    (
        Table {
            source,
            header,
            rows,
        },
        truncated,
    )
}

/// A header row: at least two cells, each a label (non-empty, not a number or date).
fn is_header(row: &[String]) -> bool {
    row.len() >= 2
        && row.iter().all(|c| {
            let t = c.trim();
            !t.is_empty() && t.chars().any(char::is_alphabetic) && t.parse::<f64>().is_err()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_keep_columns_and_a_label_row_is_the_header() {
        let cells = vec![
            (3, 2, "x".to_string()),
            (0, 1, "nom".to_string()),
            (0, 2, "nir".to_string()),
            (1, 1, "Lucas".to_string()),
            (1, 2, "162049910999331".to_string()),
            (3, 1, "".to_string()),
        ];
        let mut room = 100;
        let (t, cut) = to_table("a#S".into(), cells, &mut room);
        assert!(!cut);
        assert_eq!(t.header, Some(vec!["nom".to_string(), "nir".to_string()]));
        assert_eq!(
            t.rows,
            vec![
                vec!["Lucas".to_string(), "162049910999331".to_string()],
                vec!["".to_string(), "x".to_string()],
            ]
        );
        assert!(!is_header(&["1962".to_string(), "nir".to_string()]));
    }

    #[test]
    fn padding_counts_against_the_cell_cap() {
        let cells = vec![(0, 0, "a".to_string()), (1, 500, "b".to_string())];
        let mut room = 10;
        let (t, cut) = to_table("a#S".into(), cells, &mut room);
        assert!(cut);
        assert_eq!(t.rows, vec![vec!["a".to_string()]]);
    }
}

//! A bounded check of an `.xls` compound file (MS-CFB) and of its workbook stream, run before
//! calamine sees the bytes. calamine 0.38 follows sector chains without a loop guard (the
//! directory chain is read with no length limit) and allocates per counts read from the file
//! (a sheet's `Dimensions`, the bounding box of its cells): on a crafted file the allocation
//! fails and the process aborts, which `catch_unwind` cannot stop. Here every chain calamine
//! will follow is walked once, each sector visited at most once (so at most file length ÷
//! sector size steps), and the file is refused on a loop, a sector outside the file, or a
//! declared size the file cannot hold. The walk mirrors calamine's reading so that what passes
//! here is what calamine reads. Linear in the file size, no recursion.

const ENDOFCHAIN: u32 = 0xFFFF_FFFE;
const DIFSECT: u32 = 0xFFFF_FFFC;
/// Ids from here up are markers, not sectors (calamine stops the DIFAT chain at the first).
const MAXREGSECT_END: u32 = 0xFFFF_FFFA;
const MAGIC: &[u8; 8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";
const MINI_SECTOR: usize = 64;
/// Streams shorter than this live in the mini stream (MS-CFB 2.6.3).
const MINI_CUTOFF: u64 = 4096;

/// Cells of one BIFF8 sheet: 65,536 rows × 256 columns.
pub(crate) const BIFF8_GRID: u64 = 65_536 * 256;

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

fn u32s(b: &[u8]) -> impl Iterator<Item = u32> + '_ {
    b.chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
}

/// One directory entry as calamine reads it: name (up to the first NUL), start, size.
struct Entry {
    name: String,
    start: u32,
    len: u64,
}

struct Compound<'a> {
    bytes: &'a [u8],
    sector: usize,
    fat: Vec<u32>,
}

impl<'a> Compound<'a> {
    /// A regular sector, whole inside the file. Sector `id` starts after the header, which
    /// takes one sector.
    fn sector(&self, id: u32, what: &str) -> Result<&'a [u8], String> {
        let start = (id as usize)
            .checked_add(1)
            .and_then(|n| n.checked_mul(self.sector));
        start
            .and_then(|s| self.bytes.get(s..s.checked_add(self.sector)?))
            .ok_or_else(|| format!("{what}: sector {id} lies past the end of the file"))
    }

    /// The sectors of a chain through the FAT, as calamine's `get_chain` follows it: stops at
    /// ENDOFCHAIN or once `len` bytes are covered. Each sector at most once, so the walk is
    /// bounded by the number of sectors in the file.
    fn chain(&self, start: u32, len: u64, what: &str) -> Result<Vec<u32>, String> {
        let mut seen = vec![false; self.bytes.len() / self.sector + 1];
        let mut out = Vec::new();
        let mut covered = 0u64;
        let mut id = start;
        while id != ENDOFCHAIN {
            self.sector(id, what)?;
            let slot = seen
                .get_mut(id as usize)
                .ok_or_else(|| format!("{what}: sector {id} lies past the end of the file"))?;
            if *slot {
                return Err(format!(
                    "{what}: the sector chain loops back to sector {id}"
                ));
            }
            *slot = true;
            out.push(id);
            covered += self.sector as u64;
            if covered >= len {
                break;
            }
            id = *self
                .fat
                .get(id as usize)
                .ok_or_else(|| format!("{what}: sector {id} has no FAT entry"))?;
        }
        Ok(out)
    }

    fn bytes_of(&self, chain: &[u32], len: u64, what: &str) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        for &id in chain {
            out.extend_from_slice(self.sector(id, what)?);
        }
        out.truncate(usize::try_from(len).unwrap_or(usize::MAX));
        Ok(out)
    }
}

/// Checks the compound file and returns the workbook stream ("Workbook", else "Book") as
/// calamine will read it, or `None` when neither exists (calamine reports that itself).
/// `cap` bounds any declared size (the unpack size cap).
pub(crate) fn workbook_stream(bytes: &[u8], cap: u64) -> Result<Option<Vec<u8>>, String> {
    let header = bytes
        .get(..512)
        .ok_or("compound file: shorter than its 512-byte header")?;
    if &header[..8] != MAGIC {
        return Err("compound file: bad signature".into());
    }
    let sector = match u16_at(header, 30) {
        Some(9) => 512usize,
        Some(12) => 4096,
        other => {
            return Err(format!(
                "compound file: sector shift {other:?} (not 9 or 12)"
            ))
        }
    };
    if u16_at(header, 32) != Some(6) {
        return Err("compound file: mini sector shift is not 6".into());
    }
    let field = |at| u32_at(header, at).unwrap_or(0);
    let (dir_start, mini_fat_start, mini_fat_len, difat_start) =
        (field(48), field(60), field(64), field(68));
    let file_len = bytes.len() as u64;
    let sectors_in_file = bytes.len() / sector;

    // DIFAT: 109 entries in the header, then a chain of DIFAT sectors whose last entry points
    // to the next one.
    let mut difat: Vec<u32> = u32s(&header[76..512]).collect();
    let mut cfb = Compound {
        bytes,
        sector,
        fat: Vec::new(),
    };
    let mut seen = vec![false; sectors_in_file + 1];
    let mut id = difat_start;
    while id < MAXREGSECT_END {
        let data = cfb.sector(id, "DIFAT")?;
        let slot = seen
            .get_mut(id as usize)
            .ok_or_else(|| format!("DIFAT: sector {id} lies past the end of the file"))?;
        if *slot {
            return Err(format!("DIFAT: the sector chain loops back to sector {id}"));
        }
        *slot = true;
        difat.extend(u32s(data));
        id = difat.pop().unwrap_or(ENDOFCHAIN);
    }
    // FAT sectors: each listed once and inside the file, so the FAT is no larger than the file
    // (calamine would load a sector listed twice twice over).
    let mut fat_seen = vec![false; sectors_in_file + 1];
    let mut fat = Vec::new();
    for fid in difat.into_iter().filter(|&f| f < DIFSECT) {
        let data = cfb.sector(fid, "FAT")?;
        let slot = fat_seen
            .get_mut(fid as usize)
            .ok_or_else(|| format!("FAT: sector {fid} lies past the end of the file"))?;
        if *slot {
            return Err(format!("FAT: sector {fid} is listed twice"));
        }
        *slot = true;
        fat.extend(u32s(data));
    }
    cfb.fat = fat;

    // Directory: read by calamine with no length limit, so the chain itself must end.
    let dir_chain = cfb.chain(dir_start, u64::MAX, "directory")?;
    let dir_bytes = cfb.bytes_of(&dir_chain, u64::MAX, "directory")?;
    let entries: Vec<Entry> = dir_bytes
        .chunks_exact(128)
        .map(|e| {
            let units: Vec<u16> = e[..64]
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect();
            let mut name = String::from_utf16_lossy(&units);
            if let Some(nul) = name.find('\0') {
                name.truncate(nul);
            }
            let len = if sector == 512 {
                u64::from(u32_at(e, 120).unwrap_or(0))
            } else {
                u64_at(e, 120).unwrap_or(0)
            };
            Entry {
                name,
                start: u32_at(e, 116).unwrap_or(ENDOFCHAIN),
                len,
            }
        })
        .collect();
    let Some(root) = entries.first() else {
        return Err("directory: no entry".into());
    };
    let too_big = |what: &str, len: u64| -> Result<(), String> {
        if len > file_len || len > cap {
            return Err(format!(
                "{what}: declares {len} bytes in a {file_len}-byte file (cap {cap})"
            ));
        }
        Ok(())
    };

    // Mini stream (the root entry's chain) and mini FAT, read when the header lists a mini FAT.
    let (mini_stream, mini_fat) = if mini_fat_len > 0 {
        too_big("mini stream", root.len)?;
        let mini_fat_bytes = u64::from(mini_fat_len) * sector as u64;
        too_big("mini FAT", mini_fat_bytes)?;
        let chain = cfb.chain(root.start, root.len, "mini stream")?;
        let stream = cfb.bytes_of(&chain, root.len, "mini stream")?;
        let chain = cfb.chain(mini_fat_start, mini_fat_bytes, "mini FAT")?;
        let fat: Vec<u32> = u32s(&cfb.bytes_of(&chain, mini_fat_bytes, "mini FAT")?).collect();
        (stream, fat)
    } else {
        (Vec::new(), Vec::new())
    };

    // The stream calamine opens first by name, then the next name if that one fails.
    for name in ["Workbook", "Book"] {
        let Some(e) = entries.iter().find(|e| e.name.eq_ignore_ascii_case(name)) else {
            continue;
        };
        too_big(name, e.len)?;
        let data = if e.len < MINI_CUTOFF {
            mini_chain(&mini_stream, &mini_fat, e.start, e.len, name)?
        } else {
            let chain = cfb.chain(e.start, e.len, name)?;
            cfb.bytes_of(&chain, e.len, name)?
        };
        return Ok(Some(data));
    }
    Ok(None)
}

/// A short stream from the mini stream, through the mini FAT, each mini sector at most once.
fn mini_chain(
    stream: &[u8],
    fat: &[u32],
    start: u32,
    len: u64,
    what: &str,
) -> Result<Vec<u8>, String> {
    let mut seen = vec![false; stream.len() / MINI_SECTOR + 1];
    let mut out = Vec::new();
    let mut id = start;
    while id != ENDOFCHAIN {
        let at = (id as usize).saturating_mul(MINI_SECTOR);
        let data = stream
            .get(at..at.saturating_add(MINI_SECTOR))
            .ok_or_else(|| format!("{what}: mini sector {id} lies past the mini stream"))?;
        let slot = seen
            .get_mut(id as usize)
            .ok_or_else(|| format!("{what}: mini sector {id} lies past the mini stream"))?;
        if *slot {
            return Err(format!("{what}: the mini sector chain loops back to {id}"));
        }
        *slot = true;
        out.extend_from_slice(data);
        if out.len() as u64 >= len {
            break;
        }
        id = *fat
            .get(id as usize)
            .ok_or_else(|| format!("{what}: mini sector {id} has no mini FAT entry"))?;
    }
    out.truncate(len as usize);
    Ok(out)
}

/// One BIFF record as calamine's `RecordIter` cuts it (Continue records folded in), or `None`
/// where calamine would stop with an error.
fn next_record(stream: &[u8], at: &mut usize) -> Option<(u16, usize, usize)> {
    let typ = u16_at(stream, *at)?;
    let len = usize::from(u16_at(stream, *at + 2)?);
    let data = *at + 4;
    if stream.len() < data + len {
        return None;
    }
    *at = data + len;
    while stream.len() > *at + 4 && u16_at(stream, *at) == Some(0x003C) {
        let clen = usize::from(u16_at(stream, *at + 2)?);
        if stream.len() < *at + 4 + clen {
            return None;
        }
        *at += 4 + clen;
    }
    Some((typ, data, len))
}

/// Row and column bounds of the cells seen.
#[derive(Default)]
struct Bounds(Option<(u32, u32, u32, u32)>);

impl Bounds {
    fn add(&mut self, row: u32, col: u32) {
        let b = self.0.get_or_insert((row, row, col, col));
        *b = (b.0.min(row), b.1.max(row), b.2.min(col), b.3.max(col));
    }

    /// Cells of the box calamine allocates for a sheet (`Range::from_sparse`).
    fn area(&self) -> u64 {
        self.0.map_or(0, |(r0, r1, c0, c1)| {
            (u64::from(r1 - r0) + 1) * (u64::from(c1 - c0) + 1)
        })
    }
}

/// Checks, record by record as calamine reads them, the allocations calamine makes per sheet
/// from counts in the file: `Dimensions` (reserved as rows × columns) and the bounding box of
/// the cells (filled as one dense grid, values and formulas, every sheet kept at once). Refuses
/// when one `Dimensions` exceeds a BIFF8 sheet or the boxes of all sheets exceed `max_area`
/// cells. Each sheet is scanned from where the workbook says it starts; the total scanned is
/// bounded so overlapping sheets cannot make this quadratic.
pub(crate) fn check_workbook_records(stream: &[u8], max_area: u64) -> Result<(), String> {
    let mut sheets = Vec::new();
    let mut at = 0;
    while let Some((typ, data, len)) = next_record(stream, &mut at) {
        match typ {
            0x0085 if len >= 6 => sheets.push(u32_at(stream, data).unwrap_or(0) as usize),
            0x000A => break,
            _ => {}
        }
    }
    let mut budget = stream.len().saturating_mul(8).saturating_add(1 << 20);
    let mut total = 0u64;
    for pos in sheets {
        let mut at = pos;
        if at > stream.len() {
            continue;
        }
        let (mut cells, mut formulas) = (Bounds::default(), Bounds::default());
        let (mut seen_bof, mut depth) = (false, 0usize);
        let mut fmla_pos = (0u32, 0u32);
        loop {
            let from = at;
            let Some((typ, data, len)) = next_record(stream, &mut at) else {
                break;
            };
            budget = budget.checked_sub(at - from).ok_or(
                "workbook: sheets overlap (the records were scanned more than 8 times over)",
            )?;
            let d = &stream[data..data + len];
            if depth > 0 {
                match typ {
                    0x0809 => depth += 1,
                    0x000A => depth -= 1,
                    _ => {}
                }
                continue;
            }
            let rc = || Some((u32::from(u16_at(d, 0)?), u32::from(u16_at(d, 2)?)));
            match typ {
                0x0809 if seen_bof => depth += 1,
                0x0809 => seen_bof = true,
                0x000A => break,
                0x0200 => {
                    let (rf, rl, cf, cl) = match len {
                        10 => (
                            u32::from(u16_at(d, 0).unwrap_or(0)),
                            u32::from(u16_at(d, 2).unwrap_or(0)),
                            u32::from(u16_at(d, 4).unwrap_or(0)),
                            u32::from(u16_at(d, 6).unwrap_or(0)),
                        ),
                        14 | 16 => (
                            u32_at(d, 0).unwrap_or(0),
                            u32_at(d, 4).unwrap_or(0),
                            u32::from(u16_at(d, 8).unwrap_or(0)),
                            u32::from(u16_at(d, 10).unwrap_or(0)),
                        ),
                        _ => break,
                    };
                    // As calamine computes it (its u32 arithmetic wraps in release builds).
                    let cf = if cf > 0xFF || cl < cf { 0 } else { cf };
                    let (end_r, end_c) = if rl >= 1 && cl >= 1 {
                        (rl - 1, cl - 1)
                    } else {
                        (rf, cf)
                    };
                    let rows = u64::from(end_r.wrapping_sub(rf).wrapping_add(1));
                    let cols = u64::from(end_c.wrapping_sub(cf).wrapping_add(1));
                    let declared = rows.saturating_mul(cols);
                    if declared > BIFF8_GRID {
                        return Err(format!(
                            "workbook: a sheet declares {declared} cells (Dimensions), more than the {BIFF8_GRID} of a BIFF8 sheet"
                        ));
                    }
                }
                0x0006 => {
                    if let Some(p) = rc() {
                        fmla_pos = p;
                        cells.add(p.0, p.1);
                        formulas.add(p.0, p.1);
                    }
                }
                0x0207 => cells.add(fmla_pos.0, fmla_pos.1),
                0x00BD => {
                    if let (Some((r, c0)), Some(c1)) =
                        (rc(), len.checked_sub(2).and_then(|l| u16_at(d, l)))
                    {
                        cells.add(r, c0);
                        cells.add(r, u32::from(c1).max(c0));
                    }
                }
                0x0203 | 0x0204 | 0x00D6 | 0x0205 | 0x027E | 0x00FD => {
                    if let Some((r, c)) = rc() {
                        cells.add(r, c);
                    }
                }
                _ => {}
            }
        }
        total = total
            .saturating_add(cells.area())
            .saturating_add(formulas.area());
        if total > max_area {
            return Err(format!(
                "workbook: its sheets span {total} cells once laid out as grids (cap {max_area})"
            ));
        }
    }
    Ok(())
}

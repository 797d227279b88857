//! Crafted .xls files that make calamine 0.38 allocate until the process aborts (a loop in a
//! compound-file sector chain, sizes and counts the file cannot back). Each is built here byte
//! by byte (MS-CFB, MS-XLS) and must be skipped with its reason, quickly, the process alive.
//! Without the check in `src/cfb.rs` these tests abort the test binary (exit 134).

use std::path::Path;
use std::time::{Duration, Instant};

use vigie_unpack::{unpack, Options};

const FREE: u32 = 0xFFFF_FFFF;
const END: u32 = 0xFFFF_FFFE;
const FATSECT: u32 = 0xFFFF_FFFD;

/// A version-3 compound file (512-byte sectors): header, then `sectors`. The header's DIFAT
/// lists `fat_sectors`; `dir` is the first directory sector; `mini` the first mini-FAT sector
/// and how many.
fn compound(fat_sectors: &[u32], dir: u32, mini: (u32, u32), sectors: &[Vec<u8>]) -> Vec<u8> {
    let mut h = Vec::with_capacity(512);
    h.extend_from_slice(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1");
    h.extend_from_slice(&[0; 16]); // CLSID
    for v in [0x3Eu16, 3, 0xFFFE, 9, 6] {
        h.extend_from_slice(&v.to_le_bytes()); // minor, major, byte order, shifts
    }
    h.extend_from_slice(&[0; 6]);
    let n_fat = fat_sectors.len() as u32;
    for v in [0u32, n_fat, dir, 0, 4096, mini.0, mini.1, END, 0] {
        h.extend_from_slice(&v.to_le_bytes());
    }
    for i in 0..109 {
        let v = fat_sectors.get(i).copied().unwrap_or(FREE);
        h.extend_from_slice(&v.to_le_bytes());
    }
    assert_eq!(h.len(), 512);
    for s in sectors {
        assert_eq!(s.len(), 512);
        h.extend_from_slice(s);
    }
    h
}

/// A sector of FAT entries, the rest free.
fn fat(entries: &[u32]) -> Vec<u8> {
    (0..128)
        .flat_map(|i| entries.get(i).copied().unwrap_or(FREE).to_le_bytes())
        .collect()
}

/// A 128-byte directory entry (name, object type, start sector, size).
fn entry(name: &str, kind: u8, start: u32, size: u32) -> Vec<u8> {
    let mut e = vec![0u8; 128];
    let units: Vec<u16> = name.encode_utf16().collect();
    for (i, u) in units.iter().enumerate() {
        e[2 * i..2 * i + 2].copy_from_slice(&u.to_le_bytes());
    }
    e[64..66].copy_from_slice(&((units.len() as u16 + 1) * 2).to_le_bytes());
    e[66] = kind;
    e[68..80].copy_from_slice(&[0xFF; 12]); // no siblings, no child
    e[116..120].copy_from_slice(&start.to_le_bytes());
    e[120..124].copy_from_slice(&size.to_le_bytes());
    e
}

/// A directory sector: root entry (empty mini stream) and a "Workbook" stream.
fn directory(workbook_start: u32, workbook_size: u32) -> Vec<u8> {
    let mut s = entry("Root Entry", 5, END, 0);
    s.extend(entry("Workbook", 2, workbook_start, workbook_size));
    s.resize(512, 0);
    s
}

/// Unpacks `bytes` as `name` and returns the one skip reason; fails on a panic, a slow read,
/// anything read, or another count of skips.
fn skipped_reason(name: &str, bytes: &[u8]) -> String {
    let start = Instant::now();
    let x = unpack(name, bytes, &Options::default()).expect("an xls that fails is skipped");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{name}: {:?}",
        start.elapsed()
    );
    assert!(x.tables.is_empty(), "{name}: {:?}", x.tables);
    assert_eq!(x.skipped.len(), 1, "{name}: {:?}", x.skipped);
    assert_eq!(x.skipped[0].path, name);
    x.skipped[0].reason.clone()
}

/// E3's file: 1,536 bytes whose FAT sends the directory sector (1) back to itself. calamine
/// reads the directory chain with no length limit: memory grows until the process aborts.
#[test]
fn a_directory_chain_that_loops_is_refused() {
    let bytes = compound(&[0], 1, (END, 0), &[fat(&[FATSECT, 1]), vec![0; 512]]);
    assert_eq!(bytes.len(), 1536);
    // make_fixtures.py writes the same file for the hostile-sample and damaged-copy tests.
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/generated/looping_dir.xls");
    assert_eq!(std::fs::read(path).expect("looping_dir.xls"), bytes);
    let reason = skipped_reason("loop.xls", &bytes);
    assert!(
        reason.contains("directory: the sector chain loops back to sector 1"),
        "{reason}"
    );
}

/// Same file inside a zip: only that entry is skipped, its neighbour is read.
#[test]
fn a_looping_xls_inside_an_archive_skips_only_itself() {
    use std::io::Write;
    let bad = compound(&[0], 1, (END, 0), &[fat(&[FATSECT, 1]), vec![0; 512]]);
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    w.start_file("a/loop.xls", options).unwrap();
    w.write_all(&bad).unwrap();
    w.start_file("a/b.csv", options).unwrap();
    w.write_all(b"nom;ville\nMartin;Lyon\n").unwrap();
    let zip = w.finish().unwrap().into_inner();
    let x = unpack("dump.zip", &zip, &Options::default()).unwrap();
    assert_eq!(x.skipped.len(), 1, "{:?}", x.skipped);
    assert_eq!(x.skipped[0].path, "dump.zip/a/loop.xls");
    assert!(x.skipped[0].reason.contains("loops"), "{:?}", x.skipped);
    assert!(
        String::from_utf8_lossy(&x.text).contains("Martin;Lyon"),
        "{:?}",
        String::from_utf8_lossy(&x.text)
    );
}

/// The Workbook stream's own chain loops (sectors 2 → 3 → 2) before its declared 4,096 bytes.
#[test]
fn a_stream_chain_that_loops_is_refused() {
    let mut sectors = vec![fat(&[FATSECT, END, 3, 2]), directory(2, 4096)];
    sectors.extend((0..8).map(|_| vec![0u8; 512]));
    let reason = skipped_reason("stream_loop.xls", &compound(&[0], 1, (END, 0), &sectors));
    assert!(
        reason.contains("Workbook: the sector chain loops back to sector 2"),
        "{reason}"
    );
}

/// A Workbook stream declaring 4 GiB through a self-looping sector: calamine would collect
/// 4 GiB from a 2 KiB file.
#[test]
fn a_stream_larger_than_the_file_is_refused() {
    let sectors = [
        fat(&[FATSECT, END, 2]),
        directory(2, u32::MAX),
        vec![0; 512],
    ];
    let reason = skipped_reason("huge_stream.xls", &compound(&[0], 1, (END, 0), &sectors));
    assert!(
        reason.contains("Workbook: declares 4294967295 bytes in a 2048-byte file"),
        "{reason}"
    );
}

/// A mini FAT declared 2^31−1 sectors long whose chain loops: calamine would collect 1 TiB.
#[test]
fn a_mini_fat_larger_than_the_file_is_refused() {
    let sectors = [fat(&[FATSECT, END, 2]), directory(END, 0), vec![0; 512]];
    let bytes = compound(&[0], 1, (2, 0x7FFF_FFFF), &sectors);
    let reason = skipped_reason("huge_minifat.xls", &bytes);
    assert!(
        reason.contains("mini FAT: declares 1099511627264 bytes in a 2048-byte file"),
        "{reason}"
    );
}

/// The same sector listed as a FAT sector again and again: calamine would load it each time
/// (with DIFAT sectors, 127 times the file's size).
#[test]
fn a_fat_sector_listed_twice_is_refused() {
    let sectors = [fat(&[FATSECT, END]), directory(END, 0)];
    let reason = skipped_reason("dup_fat.xls", &compound(&[0, 0], 1, (END, 0), &sectors));
    assert!(reason.contains("FAT: sector 0 is listed twice"), "{reason}");
}

/// A FAT entry pointing past the end of the file.
#[test]
fn a_chain_leaving_the_file_is_refused() {
    let sectors = [fat(&[FATSECT, 40]), vec![0; 512]];
    let reason = skipped_reason("out.xls", &compound(&[0], 1, (END, 0), &sectors));
    assert!(
        reason.contains("directory: sector 40 lies past the end of the file"),
        "{reason}"
    );
}

fn patients_xls() -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/generated/patients.xls");
    std::fs::read(path).expect("patients.xls")
}

/// Offset of the first BIFF record of type `typ` and length `len` in xlwt's Workbook stream,
/// which xlwt writes contiguously from sector 0 (offset 512). Walks records, not bytes.
fn record(xls: &[u8], typ: u16, len: u16, nth: usize) -> usize {
    let mut at = 512;
    let mut found = 0;
    while at + 4 <= xls.len() {
        let t = u16::from_le_bytes([xls[at], xls[at + 1]]);
        let l = u16::from_le_bytes([xls[at + 2], xls[at + 3]]);
        if t == typ && l == len {
            if found == nth {
                return at;
            }
            found += 1;
        }
        at += 4 + usize::from(l);
    }
    panic!("no record {typ:#x} of length {len} in patients.xls");
}

/// patients.xls with the first sheet's Dimensions (0x0200, BIFF8: rwMic, rwMac as u32) set to
/// 2^32−1 rows: calamine reserves rows × columns cells up front, terabytes, and aborts.
#[test]
fn a_dimensions_record_beyond_a_biff8_sheet_is_refused() {
    let mut xls = patients_xls();
    let at = record(&xls, 0x0200, 14, 0);
    xls[at + 8..at + 12].copy_from_slice(&u32::MAX.to_le_bytes());
    let reason = skipped_reason("dims.xls", &xls);
    assert!(
        reason.contains("a sheet declares") && reason.contains("(Dimensions)"),
        "{reason}"
    );
}

/// First row after the last one (rwMic 10, rwMac 5): calamine's `end - start + 1` in u32 wraps
/// in a release build to about 2^32 rows, reserved up front (a debug build panics instead).
#[test]
fn a_dimensions_record_with_rows_reversed_is_refused() {
    let mut xls = patients_xls();
    let at = record(&xls, 0x0200, 14, 0);
    xls[at + 4..at + 8].copy_from_slice(&10u32.to_le_bytes());
    xls[at + 8..at + 12].copy_from_slice(&5u32.to_le_bytes());
    let reason = skipped_reason("reversed.xls", &xls);
    assert!(
        reason.contains("a sheet declares 21474836455 cells (Dimensions)"),
        "{reason}"
    );
}

/// patients.xls with one LabelSst cell (0x00FD) moved to row 65,535, column 65,535: calamine
/// lays each sheet out as one dense grid of its cells' bounding box, 2^32 cells (128 GiB).
#[test]
fn cells_spanning_a_huge_grid_are_refused() {
    let mut xls = patients_xls();
    let at = record(&xls, 0x00FD, 10, 3);
    xls[at + 4..at + 8].copy_from_slice(&[0xFF; 4]);
    let reason = skipped_reason("span.xls", &xls);
    assert!(
        reason.contains("its sheets span") && reason.contains("cells once laid out as grids"),
        "{reason}"
    );
}

/// The unpatched file still reads: the checks refuse only what they should.
#[test]
fn the_generated_xls_passes_the_checks() {
    let x = unpack("patients.xls", &patients_xls(), &Options::default()).unwrap();
    assert!(x.skipped.is_empty(), "{:?}", x.skipped);
    assert_eq!(x.tables.len(), 2);
    assert_eq!(x.tables[0].rows.len(), 30);
}

/// A compound file holding one "Workbook" stream (at least 4,096 bytes, so in regular
/// sectors) with sectors of `1 << shift` bytes: FAT sectors first, then the directory, then the
/// stream. Version 3 for 512-byte sectors, version 4 (64-bit stream sizes) for 4,096.
fn compound_with_stream(shift: u16, stream: &[u8]) -> Vec<u8> {
    let size = 1usize << shift;
    let per_fat = size / 4;
    let n = stream.len().div_ceil(size);
    let mut k = 1;
    while k * per_fat < k + 1 + n {
        k += 1;
    }
    assert!(k <= 109, "stream too large for the header's DIFAT");
    let dir = k as u32;
    let mut fat_entries = vec![FATSECT; k];
    fat_entries.push(END); // directory
    fat_entries.extend((1..n).map(|i| (k + 1 + i) as u32));
    fat_entries.push(END);
    fat_entries.resize(k * per_fat, FREE);

    let mut h = Vec::new();
    h.extend_from_slice(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1");
    h.extend_from_slice(&[0; 16]);
    let major = if shift == 12 { 4u16 } else { 3 };
    for v in [0x3Eu16, major, 0xFFFE, shift, 6] {
        h.extend_from_slice(&v.to_le_bytes());
    }
    h.extend_from_slice(&[0; 6]);
    for v in [0u32, k as u32, dir, 0, 4096, END, 0, END, 0] {
        h.extend_from_slice(&v.to_le_bytes());
    }
    for i in 0..109 {
        let v = if i < k { i as u32 } else { FREE };
        h.extend_from_slice(&v.to_le_bytes());
    }
    h.resize(size, 0);
    h.extend(fat_entries.iter().flat_map(|v| v.to_le_bytes()));
    // calamine refuses a version-4 root entry without a start sector, even with no mini
    // stream: point it at sector 0 (nothing is read from it, the mini FAT being empty).
    let mut d = entry("Root Entry", 5, if shift == 12 { 0 } else { END }, 0);
    let mut wb = entry("Workbook", 2, dir + 1, stream.len() as u32);
    // Version 4 reads the size as 64 bits: the high half must be zero.
    wb[124..128].copy_from_slice(&[0; 4]);
    d.extend(wb);
    d.resize(size, 0);
    h.extend(d);
    h.extend_from_slice(stream);
    h.resize((k + 2 + n) * size, 0);
    h
}

/// patients.xls's Workbook stream (xlwt writes it from sector 0, 8,192 bytes).
fn patients_stream() -> Vec<u8> {
    patients_xls()[512..512 + 8192].to_vec()
}

/// The same workbook in a version-4 file (4,096-byte sectors) and re-laid in a version-3 one
/// passes the checks and reads as the original: two sheets, 30 patient rows.
#[test]
fn well_formed_compound_files_of_both_versions_read() {
    for shift in [9u16, 12] {
        let bytes = compound_with_stream(shift, &patients_stream());
        let x = unpack("v.xls", &bytes, &Options::default()).unwrap();
        assert!(x.skipped.is_empty(), "shift {shift}: {:?}", x.skipped);
        assert_eq!(x.tables.len(), 2, "shift {shift}");
        assert_eq!(x.tables[0].rows.len(), 30, "shift {shift}");
        assert_eq!(x.tables[0].rows[0][0], "Martin", "shift {shift}");
    }
}

/// A version-4 file whose Workbook chain loops (4,096-byte sectors, 64-bit sizes).
#[test]
fn a_loop_in_a_version_4_file_is_refused() {
    let mut bytes = compound_with_stream(12, &patients_stream());
    // FAT sector 0 lives at 4096; the stream's first sector (2) points to itself.
    bytes[4096 + 8..4096 + 12].copy_from_slice(&2u32.to_le_bytes());
    let reason = skipped_reason("v4_loop.xls", &bytes);
    assert!(
        reason.contains("Workbook: the sector chain loops back to sector 2"),
        "{reason}"
    );
}

/// Sixty thousand sheets that all start at offset 0 of a stream with no EOF record: calamine
/// reads the whole stream once per sheet (quadratic: billions of records, no time cap).
#[test]
fn sheets_that_overlap_are_refused() {
    let mut stream = Vec::new();
    for _ in 0..60_000 {
        // BoundSheet8: record 0x0085, 8 bytes: lbPlyPos 0, visible worksheet, empty name.
        stream.extend_from_slice(&[0x85, 0x00, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    }
    let bytes = compound_with_stream(9, &stream);
    let reason = skipped_reason("overlap.xls", &bytes);
    assert!(reason.contains("workbook: sheets overlap"), "{reason}");
}

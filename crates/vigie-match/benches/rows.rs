//! `cargo bench -p vigie-match --bench rows`: the row pass against the free-text pass on the
//! same 10 MB patient file.
//!
//! - `rows/free_text`: the free-text identifier reading over the file (how delimited rows
//!   were read before they were read cell by cell);
//! - `rows/cells`: delimiter sniffing, `csv` parsing and the cell-by-cell reading with
//!   per-column counts;
//! - `rows/scan_text`: the whole matcher on the file (names, cues, rows), shipped watchlists.
//!
//! The file is `;`-separated so that both passes find every NIR (the free-text pass misses
//! the comma-separated layouts this work fixes); both counts are checked equal. It is also
//! written to `$TMPDIR/vigie-rows-bench.csv` for a baseline run the same way, e.g. Python's
//! `csv` module:
//!
//! ```text
//! python3 -c "import csv,time,tempfile,os; p=os.path.join(tempfile.gettempdir(),'vigie-rows-bench.csv'); t=time.perf_counter(); n=sum(1 for _ in csv.reader(open(p,newline='',encoding='utf-8'),delimiter=';')); print(n, time.perf_counter()-t)"
//! ```

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use vigie_match::{row_bench, Matcher, ScanOptions, Watchlist};

/// A NIR from a 13-digit body: key = 97 - (body mod 97).
fn nir(body: u64) -> String {
    format!("{body:013}{:02}", 97 - body % 97)
}

fn patient_file(bytes: usize) -> (String, u64) {
    let mut out = String::from("nom;prenom;date_naissance;nir;telephone;ville;commentaire\r\n");
    let mut i = 0u64;
    while out.len() < bytes {
        // Sex 1-2, year, month 01-12, department 01-95 (not 20), commune, order 001-999.
        let body = (1 + i % 2) * 1_000_000_000_000
            + (40 + i % 60) * 10_000_000_000
            + (1 + i % 12) * 100_000_000
            + (1 + i % 19) * 1_000_000
            + (i / 999 % 1000) * 1000
            + (1 + i % 999);
        out.push_str(&format!(
            "NOM{i};\"Prénom {}\";{:02}/{:02}/19{:02};{};06{:08};Lyon;\"RAS, suivi\"\r\n",
            i % 97,
            1 + i % 28,
            1 + i % 12,
            40 + i % 60,
            nir(body),
            i % 100_000_000
        ));
        i += 1;
    }
    (out, i)
}

fn bench(c: &mut Criterion) {
    let (file, rows) = patient_file(10 << 20);
    let copy = std::env::temp_dir().join("vigie-rows-bench.csv");
    if let Err(e) = std::fs::write(&copy, &file) {
        eprintln!("{}: {e}", copy.display());
    }
    eprintln!("{rows} rows, {} bytes, in {}", file.len(), copy.display());
    let free = row_bench::free_text(&file);
    let cells = row_bench::rows(&file);
    assert_eq!(free, cells, "both passes find the same values");
    assert!(cells >= rows, "every NIR found");

    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../watchlists");
    let list = Watchlist::load(&[dir]).expect("shipped watchlists");
    let matcher = Matcher::new(&list).expect("compiles");

    let mut g = c.benchmark_group("rows");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(file.len() as u64));
    g.bench_function("free_text", |b| b.iter(|| row_bench::free_text(&file)));
    g.bench_function("cells", |b| b.iter(|| row_bench::rows(&file)));
    g.bench_function("scan_text", |b| {
        b.iter(|| matcher.scan_text("bench", &file, ScanOptions::default()))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Unpacks one file and prints what came out: files read, skipped entries, tables with their
//! row counts, the time taken. For benchmarks and for a look at a sample by hand:
//! `cargo run --release -p vigie-unpack --example unpack_file -- FILE [PASSWORD...]`.

use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: unpack_file FILE [PASSWORD...]")?;
    let bytes = std::fs::read(&path)?;
    let options = vigie_unpack::Options {
        passwords: args.collect(),
        ..vigie_unpack::Options::default()
    };
    let name = std::path::Path::new(&path)
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let start = Instant::now();
    let x = vigie_unpack::unpack(&name, &bytes, &options)?;
    let elapsed = start.elapsed();
    for f in &x.files {
        println!("read     {:?} {} ({} bytes)", f.format, f.path, f.bytes);
    }
    for s in &x.skipped {
        println!("skipped  {}: {}", s.path, s.reason);
    }
    let mut rows = 0;
    for t in &x.tables {
        rows += t.rows.len();
        println!(
            "table    {}: {} rows, header {:?}",
            t.source,
            t.rows.len(),
            t.header
        );
    }
    let secs = elapsed.as_secs_f64();
    println!(
        "{} bytes of text, {rows} rows in {secs:.3} s ({:.0} rows/s)",
        x.text.len(),
        rows as f64 / secs.max(1e-9)
    );
    Ok(())
}

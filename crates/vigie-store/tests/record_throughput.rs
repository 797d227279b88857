//! Store-writer throughput on the ingest benchmark's corpus (`ops/bench/gen_posts.py`), without
//! the pipeline: where the recorder's single writer spends its time.
//!
//! Ignored by default (it needs the generated corpus and a release build):
//! `VIGIE_BENCH_POSTS=ops/bench/out/posts-100000 cargo test --release --workspace --locked \
//!  --test record_throughput -- --ignored --nocapture`
//! Optional: `VIGIE_BENCH_BATCH` (items per `record_batch`, default 512),
//! `VIGIE_BENCH_ONE_BY_ONE=1` (also time `record_alerting` per document on a second store).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use vigie_core::Analysis;
use vigie_match::{Matcher, ScanOptions, Watchlist};
use vigie_store::*;

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// CPU seconds used by this process so far, every thread (RocksDB's flushes too): on a
/// shared machine, a steadier measure than elapsed time.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which ends with ')'): utime and stime are 14 and 15.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

#[test]
#[ignore = "benchmark: needs the generated corpus, run in release"]
fn record_throughput_on_the_ingest_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let posts = std::env::var("VIGIE_BENCH_POSTS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("ops/bench/out/posts-100000"));
    assert!(
        posts.is_dir(),
        "{}: generate it with ops/bench/gen_posts.py",
        posts.display()
    );
    let batch: usize = std::env::var("VIGIE_BENCH_BATCH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(512);
    let mut paths = Vec::new();
    files(&posts, &mut paths);
    let docs: Vec<(String, Vec<u8>)> = paths
        .iter()
        .map(|p| (p.display().to_string(), std::fs::read(p).unwrap()))
        .collect();

    // Matching, once per distinct content (the recorder skips stored content too).
    let matcher = Matcher::new(&Watchlist::load(&[root.join("watchlists")]).unwrap()).unwrap();
    let started = Instant::now();
    let mut analyses: HashMap<ContentHash, Analysis> = HashMap::new();
    for (path, bytes) in &docs {
        analyses
            .entry(content_hash(bytes))
            .or_insert_with(|| matcher.analyze(path, bytes, ScanOptions::default()));
    }
    let matching = started.elapsed().as_secs_f64();
    let sightings: Vec<Sighting> = docs
        .iter()
        .map(|(path, _)| Sighting {
            source: "files".into(),
            locator: Locator::File { path: path.clone() },
            fetched_at: Timestamp(1_780_000_000_000),
            collector: "bench".into(),
            details: Default::default(),
        })
        .collect();
    let n = docs.len() as f64;
    println!(
        "{} documents, {} distinct; matching (one thread): {matching:.2} s, {:.0} docs/s",
        docs.len(),
        analyses.len(),
        n / matching
    );

    let dir = tempfile::tempdir_in("/var/tmp").unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let started = Instant::now();
    let cpu = cpu_seconds();
    let mut given: std::collections::HashSet<ContentHash> = Default::default();
    let mut new_snapshots = 0;
    for chunk in docs
        .iter()
        .zip(&sightings)
        .collect::<Vec<_>>()
        .chunks(batch)
    {
        let items: Vec<BatchItem<'_>> = chunk
            .iter()
            .map(|((_, bytes), s)| {
                let hash = content_hash(bytes);
                BatchItem {
                    content: bytes,
                    sighting: s,
                    // Like the recorder: stored content is not matched again.
                    analysis: given.insert(hash).then(|| &analyses[&hash]),
                    hash: Some(hash),
                }
            })
            .collect();
        let recorded = store.record_batch(&items, &NoAlerts).unwrap();
        new_snapshots += recorded
            .iter()
            .filter(|r| r.snapshot == SnapshotOutcome::New)
            .count();
    }
    let recording = started.elapsed().as_secs_f64();
    let started = Instant::now();
    store.sync().unwrap();
    store.flush().unwrap();
    let closing = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu;
    println!(
        "record_batch ({batch} per call): {recording:.2} s, {:.0} docs/s, {:.1} µs/doc; sync+flush {closing:.2} s; CPU of all threads, recording to flushed: {cpu:.2} s = {:.1} µs/doc",
        n / recording,
        recording * 1e6 / n,
        cpu * 1e6 / n
    );
    assert_eq!(new_snapshots, analyses.len());

    if std::env::var("VIGIE_BENCH_ONE_BY_ONE").is_ok() {
        let dir = tempfile::tempdir_in("/var/tmp").unwrap();
        let mut one = Store::open(dir.path()).unwrap();
        let started = Instant::now();
        let cpu = cpu_seconds();
        for ((_, bytes), s) in docs.iter().zip(&sightings) {
            let hash = content_hash(bytes);
            one.record_alerting(bytes, s, analyses.get(&hash), &NoAlerts)
                .unwrap();
        }
        one.sync().unwrap();
        one.flush().unwrap();
        let elapsed = started.elapsed().as_secs_f64();
        let cpu = cpu_seconds() - cpu;
        println!(
            "record_alerting one by one: {elapsed:.2} s, {:.0} docs/s, {:.1} µs/doc; CPU of all threads, recording to flushed: {cpu:.2} s = {:.1} µs/doc",
            n / elapsed,
            elapsed * 1e6 / n,
            cpu * 1e6 / n
        );
    }
    let started = Instant::now();
    let report = store.verify().unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    println!(
        "verify: {:.2} s; {}",
        started.elapsed().as_secs_f64(),
        serde_json::to_string(&store.stats().unwrap()).unwrap()
    );
}

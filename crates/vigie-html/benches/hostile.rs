//! The two entry points every HTML-reading stage goes through, timed on every generated hostile
//! case (`vigie_html::hostile`), in seconds per MB, against the baseline of an ordinary forum
//! page of the same size through the same entry point:
//!
//! - `parse_document` (the canonical page written back, then html5ever behind the depth guard),
//!   which the Tor parsers and the Telegram preview parser start from;
//! - `html_to_text` (tokens only, no tree), the matcher's reader.
//!
//! `cargo bench -p vigie-html --bench hostile -- [SIZE_MB] [REPS]` (defaults: 8 MB, the Tor
//! collector's `max_body_bytes`; best of 3). One thread. The whole per-parser table (selectors
//! of every engine preset, the preview parser) is `cargo bench -p vigie-tor --bench
//! hostile_html`.

use std::time::{Duration, Instant};

use vigie_html::{hostile, html_to_text, parse_document, DEFAULT_MAX_DEPTH};

fn best_of<T>(reps: usize, f: impl Fn() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..reps.max(1) {
        let t = Instant::now();
        let out = f();
        best = best.min(t.elapsed());
        last = Some(out);
    }
    (best, last.expect("at least one run"))
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let size_mb: f64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(8.0);
    let reps: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(3);
    let bytes = (size_mb * 1024.0 * 1024.0) as usize;
    let mut cases = vec![hostile::Case {
        name: "ordinary forum page (baseline)",
        html: hostile::ordinary_forum_page(bytes),
    }];
    cases.extend(hostile::cases(bytes));
    println!("# {size_mb} MB per case, best of {reps}, seconds per MB, one thread\n");
    println!("| case | parse_document | html_to_text |");
    println!("|---|---|---|");
    let mut baseline = (0.0, 0.0);
    let mut worst = ((0.0f64, ""), (0.0f64, ""));
    for (i, case) in cases.iter().enumerate() {
        let mb = case.html.len() as f64 / (1024.0 * 1024.0);
        let (t, parsed) = best_of(reps, || {
            parse_document(&case.html, DEFAULT_MAX_DEPTH).is_ok()
        });
        let (x, _) = best_of(reps, || {
            std::hint::black_box(html_to_text(&case.html)).len()
        });
        let (p, x) = (t.as_secs_f64() / mb, x.as_secs_f64() / mb);
        let refused = if parsed { "" } else { " (refused)" };
        println!("| {} | {p:.3}{refused} | {x:.3} |", case.name);
        if i == 0 {
            baseline = (p, x);
            continue;
        }
        if p > worst.0 .0 {
            worst.0 = (p, case.name);
        }
        if x > worst.1 .0 {
            worst.1 = (x, case.name);
        }
    }
    println!(
        "| **worst** | **{:.3}** ({}) | **{:.3}** ({}) |",
        worst.0 .0, worst.0 .1, worst.1 .0, worst.1 .1
    );
    println!(
        "| worst ÷ baseline | {:.1}× | {:.1}× |",
        worst.0 .0 / baseline.0.max(f64::MIN_POSITIVE),
        worst.1 .0 / baseline.1.max(f64::MIN_POSITIVE)
    );
}

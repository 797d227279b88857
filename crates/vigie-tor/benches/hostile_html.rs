//! Hostile HTML, timed: every generated case (`vigie_html::hostile`) through every parser a
//! fetched page can reach — the matcher's text reader, the Tor collector's generic reader and
//! each engine preset, the Telegram preview parser — in seconds per MB, against the baseline of
//! an ordinary forum page of the same size through the same parser.
//!
//! `cargo bench -p vigie-tor --bench hostile_html -- [SIZE_MB] [REPS]` (defaults: 8, the Tor
//! collector's `max_body_bytes`, and best of 3). One thread.

use std::time::{Duration, Instant};

use vigie_html::{hostile, DEFAULT_MAX_DEPTH};
use vigie_tor::{parse_page, CompiledSelectors, Selectors};

type Parser = Box<dyn Fn(&str) -> &'static str>;

fn parsers() -> Vec<(&'static str, Parser)> {
    let base = url::Url::parse("http://forum.example.onion/t/").expect("url");
    let mut out: Vec<(&'static str, Parser)> = vec![
        (
            "matcher text",
            Box::new(|h: &str| {
                std::hint::black_box(vigie_match::html_to_text(h));
                "read"
            }),
        ),
        (
            "telegram preview",
            Box::new(|h: &str| {
                let page = vigie_telegram::parse_preview(h, "leaks");
                if page.unreadable > 0 {
                    "refused"
                } else {
                    "read"
                }
            }),
        ),
    ];
    let page_base = base.clone();
    out.push((
        "tor page",
        Box::new(move |h: &str| {
            outcome(parse_page(h, &page_base, None, DEFAULT_MAX_DEPTH).is_ok())
        }),
    ));
    for engine in ["phpbb", "xenforo", "mybb", "leak-site"] {
        let compiled =
            CompiledSelectors::new(&Selectors::preset(engine).expect("preset")).expect("compiles");
        let base = base.clone();
        out.push((
            engine,
            Box::new(move |h: &str| {
                outcome(parse_page(h, &base, Some(&compiled), DEFAULT_MAX_DEPTH).is_ok())
            }),
        ));
    }
    out
}

fn outcome(parsed: bool) -> &'static str {
    if parsed {
        "read"
    } else {
        "refused"
    }
}

fn best_of(reps: usize, f: impl Fn() -> &'static str) -> (Duration, &'static str) {
    let mut best = Duration::MAX;
    let mut what = "";
    for _ in 0..reps.max(1) {
        let t = Instant::now();
        what = f();
        best = best.min(t.elapsed());
    }
    (best, what)
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let size_mb: f64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(8.0);
    let reps: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(3);
    let bytes = (size_mb * 1024.0 * 1024.0) as usize;
    let parsers = parsers();
    let ordinary = hostile::ordinary_forum_page(bytes);
    let cases = hostile::cases(bytes);
    println!("# hostile HTML, {size_mb} MB per case, best of {reps}, seconds per MB");
    let mb = |len: usize| len as f64 / (1024.0 * 1024.0);
    let mut header = String::from("| case |");
    for (name, _) in &parsers {
        header.push_str(&format!(" {name} |"));
    }
    println!("{header}");
    println!("|---|{}", "---|".repeat(parsers.len()));
    let mut baseline = Vec::new();
    let mut row = String::from("| ordinary forum page (baseline) |");
    for (_, parse) in &parsers {
        let (t, _) = best_of(reps, || parse(&ordinary));
        let spm = t.as_secs_f64() / mb(ordinary.len());
        baseline.push(spm);
        row.push_str(&format!(" {spm:.3} |"));
    }
    println!("{row}");
    let mut worst = vec![(0.0f64, ""); parsers.len()];
    for case in &cases {
        let mut row = format!("| {} |", case.name);
        for (i, (_, parse)) in parsers.iter().enumerate() {
            let (t, what) = best_of(reps, || parse(&case.html));
            let spm = t.as_secs_f64() / mb(case.html.len());
            if spm > worst[i].0 {
                worst[i] = (spm, case.name);
            }
            let mark = if what == "refused" { " (refused)" } else { "" };
            row.push_str(&format!(" {spm:.3}{mark} |"));
        }
        println!("{row}");
    }
    let mut row = String::from("| **worst** |");
    for (spm, name) in &worst {
        row.push_str(&format!(" **{spm:.3}** ({name}) |"));
    }
    println!("{row}");
    let mut row = String::from("| worst ÷ baseline |");
    for (i, (spm, _)) in worst.iter().enumerate() {
        row.push_str(&format!(
            " {:.1}× |",
            spm / baseline[i].max(f64::MIN_POSITIVE)
        ));
    }
    println!("{row}");
    let overall = worst.iter().map(|w| w.0).fold(0.0, f64::max);
    println!("\nworst case overall: {overall:.3} s/MB (goal: under 1 s/MB)");
}

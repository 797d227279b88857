//! Scores the matcher on the labelled evaluation set and prints the confusion table of
//! document kinds and the alert precision and recall.
//!
//! ```sh
//! cargo run --locked -p vigie-match --example eval            # the table
//! cargo run --locked -p vigie-match --example eval -- -v      # and every mistake
//! cargo run --locked -p vigie-match --example eval -- FILE... # kind and severity of files
//! ```

#[path = "../eval/score.rs"]
#[allow(dead_code)]
mod score;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let files: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    if !files.is_empty() {
        let m = score::matcher();
        for f in files {
            let bytes = std::fs::read(f).expect("readable file");
            let r = m.scan_bytes(f, &bytes, vigie_match::ScanOptions::default());
            println!("{f}: {} {} [{}]", r.kind, r.severity, r.why.join("; "));
            if args.iter().any(|a| a == "-v") {
                println!("  cues: {}", r.cues.join(", "));
            }
        }
        return;
    }
    let dir = score::workspace().join("tests/fixtures/eval");
    let scored = score::run(&dir);
    let summary = score::summarise(&scored);
    print!("{}", score::table(&summary));
    if args.iter().any(|a| a == "-v") {
        for m in score::mistakes(&scored) {
            println!("{m}");
        }
    }
}

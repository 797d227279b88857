//! Runs Vigie's page readers over the real fixtures in `tests/fixtures/real/` and prints,
//! per fixture, what was found against what a reader of the page wrote down.
//!
//! `cargo run -p vigie-pages --example real_fixtures -- leak-sites [-v]`

#[path = "real_fixtures/leak.rs"]
mod leak;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let verbose = args.iter().any(|a| a == "-v" || a == "--verbose");
    match args.first().map(String::as_str) {
        Some("leak-sites") => {
            leak::run(verbose);
        }
        _ => {
            eprintln!("usage: real_fixtures leak-sites [-v]");
            std::process::exit(2);
        }
    }
}

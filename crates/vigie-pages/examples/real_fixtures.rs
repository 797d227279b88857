//! Runs Vigie's page readers over the real fixtures in `tests/fixtures/real/` and prints,
//! per fixture, what was found against what a reader of the page wrote down.
//!
//! `cargo run -p vigie-pages --example real_fixtures -- leak-sites [-v]`
//! `cargo run -p vigie-pages --example real_fixtures -- forums [-v]`

#[path = "real_fixtures/leak.rs"]
mod leak;

#[path = "real_fixtures/forums.rs"]
mod forums;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let verbose = args.iter().any(|a| a == "-v" || a == "--verbose");
    match args.first().map(String::as_str) {
        Some("leak-sites") => {
            leak::run(verbose);
        }
        Some("forums") => {
            if !forums::run(verbose) {
                std::process::exit(1);
            }
        }
        Some("forum-batch") => forums::batch(&args[1..]),
        Some("leak-batch") => leak::batch(&args[1..]),
        Some("forum-dump") => match (args.get(1), args.get(2)) {
            (Some(page), Some(url)) => forums::dump(std::path::Path::new(page), url),
            _ => eprintln!("usage: real_fixtures forum-dump PAGE URL"),
        },
        _ => {
            eprintln!("usage: real_fixtures leak-sites|forums [-v]");
            std::process::exit(2);
        }
    }
}

//! `vigie`: the command-line face of Vigie. This file only parses, dispatches and sets the
//! exit code; each command lives in its own module.

mod args;
mod scan;
mod shipped;
mod watchlist;

use std::process::ExitCode;

use clap::Parser;

/// Exit codes, as grep: something found, nothing found, error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Found,
    NothingFound,
    Error,
}

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    args::init_logging(cli.verbose);
    let outcome = match cli.command {
        args::Command::Scan(a) => scan::run(a),
        args::Command::Watchlist(a) => watchlist::run(a),
    };
    match outcome {
        Ok(Outcome::Found) => ExitCode::from(0),
        Ok(Outcome::NothingFound) => ExitCode::from(1),
        Ok(Outcome::Error) => ExitCode::from(2),
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::from(0);
            }
            eprintln!("vigie: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

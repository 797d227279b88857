//! `vigie`: the command-line face of Vigie. This file only parses, dispatches and sets the
//! exit code; each command lives in its own module.

mod alerting;
mod alerts;
mod args;
mod assemble;
mod bus;
mod config;
mod console;
mod digest;
mod evidence;
mod export;
mod import;
mod incidents;
mod ingest;
mod requests;
mod run;
mod scan;
mod shipped;
mod sources;
mod telegram_live;
mod timestamping;
mod tor;
mod watchlist;

use std::process::ExitCode;

use clap::Parser;

/// Exit codes, as grep: 0 something found (or done), 1 nothing found (or a check failed),
/// 2 error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Found,
    Success,
    NothingFound,
    CheckFailed,
    Error,
}

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    args::init_logging(cli.verbose);
    let outcome = config::Config::load(cli.config.as_deref()).and_then(|config| {
        let store = cli.store.as_deref();
        match cli.command {
            args::Command::Scan(a) => scan::run(a),
            args::Command::Watchlist(a) => watchlist::run(a),
            args::Command::Ingest(a) => ingest::run(a, &config, store),
            args::Command::Incidents(c) => incidents::run(c, &config, store),
            args::Command::Evidence(c) => evidence::run(c, &config, store),
            args::Command::Retention(c) => evidence::retention(c, &config, store),
            args::Command::Alerts(c) => alerts::run(c, &config, store),
            args::Command::Run { bus: None } => run::run(&config, store),
            args::Command::Run { bus: Some(url) } => run::record_from_bus(&config, store, &url),
            args::Command::Collect { bus, sources } => run::collect(&config, store, &bus, &sources),
            args::Command::Crawl { sources, json } => tor::crawl(&config, store, &sources, json),
            args::Command::Users(c) => console::users(c, &config, store),
            args::Command::Serve { listen } => console::serve(listen, &config, store),
            args::Command::Audit { limit, json } => console::audit(limit, json, &config, store),
            args::Command::Digest(a) => digest::run(a, &config, store),
            args::Command::Export(c) => export::run(c, &config, store),
            args::Command::Import(c) => import::run(c, &config, store),
            args::Command::Sources(c) => sources::run(c, &config, store),
            args::Command::Telegram(args::TelegramCommand::Login) => {
                telegram_live::login(&config, store)
            }
        }
    });
    match outcome {
        Ok(Outcome::Found | Outcome::Success) => ExitCode::from(0),
        Ok(Outcome::NothingFound | Outcome::CheckFailed) => ExitCode::from(1),
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

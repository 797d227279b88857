//! Command-line arguments. Parsing validates; it does not act.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Vigie watches leak forums, ransomware leak sites and Telegram channels for the French
/// health sector's stolen data.
#[derive(Debug, Parser)]
#[command(name = "vigie", version, about, propagate_version = true)]
pub struct Cli {
    /// More log output on stderr (-v: debug, -vv: trace). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan files, directories or stdin for watched organisations, identifiers and offers.
    Scan(ScanArgs),
    /// Check or build watchlists.
    #[command(subcommand)]
    Watchlist(WatchlistCommand),
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files, directories (recursed) or `-` for stdin.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Watchlist files or directories; replaces the shipped lists. Repeatable.
    #[arg(long = "watchlists", value_name = "DIR")]
    pub watchlists: Vec<PathBuf>,
    /// One JSON object per input file, one per line.
    #[arg(long)]
    pub json: bool,
    /// Show raw identifier values instead of masks.
    #[arg(long)]
    pub reveal: bool,
    /// Worker threads (default: the number of cores).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub threads: Option<u16>,
}

#[derive(Debug, Subcommand)]
pub enum WatchlistCommand {
    /// Report duplicate ids, shared aliases, names that fire on prose, invalid FINESS.
    Lint {
        /// Watchlist directory or files (default: the shipped lists).
        paths: Vec<PathBuf>,
    },
    /// Turn the FINESS etalab extract (semicolon CSV from data.gouv.fr) into a watchlist.
    ImportFiness {
        /// The extract.
        file: PathBuf,
        /// Write the watchlist here instead of stdout.
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
}

/// Logs go to stderr through `tracing`; RUST_LOG wins over -v.
pub fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

//! `vigie sources candidates` (and `health`, in `tor.rs`).

use std::io::Write;
use std::path::Path;

use anyhow::Result;

use crate::args::SourcesCommand;
use crate::config::Config;
use crate::incidents::open_for_queries;
use crate::Outcome;

pub fn run(command: SourcesCommand, config: &Config, store_flag: Option<&Path>) -> Result<Outcome> {
    let json = match command {
        SourcesCommand::Candidates { json } => json,
        SourcesCommand::Health { history, json } => {
            return crate::tor::health(config, store_flag, history, json)
        }
    };
    let store = open_for_queries(config, store_flag)?;
    let candidates = store.candidates()?;
    let mut out = std::io::stdout().lock();
    for c in &candidates {
        if json {
            serde_json::to_writer(&mut out, c)?;
            writeln!(out)?;
        } else {
            writeln!(
                out,
                "{:<9} {:<32} seen {} time(s), last {}  in {}",
                c.kind,
                c.name,
                c.times,
                c.last_seen,
                c.seen_in.join(", ")
            )?;
        }
    }
    Ok(if candidates.is_empty() {
        Outcome::NothingFound
    } else {
        Outcome::Found
    })
}

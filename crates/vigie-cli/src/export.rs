//! `vigie export misp|stix`: incidents for MISP and STIX tools.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use vigie_export::{load, misp_event, stix_bundle, ExportedIncident};
use vigie_store::{IncidentFilter, Store, Timestamp};

use crate::args::ExportCommand;
use crate::config::Config;
use crate::incidents::open_for_queries;
use crate::Outcome;

fn since(store: &Store, date: &str) -> Result<Vec<ExportedIncident>> {
    let since = Timestamp::parse(date)
        .with_context(|| format!("--since {date:?}: expected RFC 3339 or YYYY-MM-DD"))?;
    let filter = IncidentFilter {
        since: Some(since),
        ..Default::default()
    };
    let mut out = Vec::new();
    for i in store.incidents(&filter)? {
        if let Some(e) = load(store, i.id)? {
            out.push(e);
        }
    }
    Ok(out)
}

fn write(out: Option<&PathBuf>, value: &serde_json::Value) -> Result<()> {
    let mut text = serde_json::to_vec_pretty(value)?;
    text.push(b'\n');
    match out {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
        }
        None => Ok(std::io::stdout().lock().write_all(&text)?),
    }
}

pub fn run(command: ExportCommand, config: &Config, store_flag: Option<&Path>) -> Result<Outcome> {
    let store = open_for_queries(config, store_flag)?;
    match command {
        ExportCommand::Misp {
            incident,
            since: date,
            out,
        } => {
            let value = match (incident, date) {
                (Some(id), _) => {
                    let e = load(&store, id)?.with_context(|| format!("no incident {id}"))?;
                    misp_event(&e)
                }
                (None, Some(date)) => {
                    serde_json::Value::Array(since(&store, &date)?.iter().map(misp_event).collect())
                }
                (None, None) => anyhow::bail!("give --incident ID or --since DATE"),
            };
            write(out.as_ref(), &value)?;
        }
        ExportCommand::Stix { since: date, out } => {
            let incidents = since(&store, &date)?;
            write(out.as_ref(), &stix_bundle(&incidents, Timestamp::now()))?;
        }
    }
    Ok(Outcome::Success)
}

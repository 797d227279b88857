//! `vigie incidents list|show`: read-only queries, safe while a writer runs.

use std::io::{self, BufWriter, Write};
use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;
use vigie_store::{Incident, IncidentFilter, SightingRecord, SnapshotRecord, Store, Timestamp};

use crate::args::IncidentsCommand;
use crate::config::Config;
use crate::Outcome;

pub fn open_for_queries(config: &Config, store_flag: Option<&Path>) -> Result<Store> {
    let dir = config.store_dir(store_flag);
    Store::open_read_only(&dir).with_context(|| format!("opening the store {}", dir.display()))
}

#[derive(Serialize)]
struct Shown<'a> {
    incident: &'a Incident,
    snapshots: Vec<SnapshotRecord>,
    sightings: Vec<SightingRecord>,
    triage: Option<vigie_store::Triage>,
}

pub fn run(
    command: IncidentsCommand,
    config: &Config,
    store_flag: Option<&Path>,
) -> Result<Outcome> {
    let store = open_for_queries(config, store_flag)?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    match command {
        IncidentsCommand::List {
            since,
            entity,
            severity,
            json,
        } => {
            let since =
                match since {
                    Some(s) => Some(Timestamp::parse(&s).with_context(|| {
                        format!("--since {s:?}: expected RFC 3339 or YYYY-MM-DD")
                    })?),
                    None => None,
                };
            let filter = IncidentFilter {
                since,
                entity,
                min_severity: severity,
            };
            let mut incidents = store.incidents(&filter)?;
            for i in &mut incidents {
                cap_examples(&mut i.identifiers);
            }
            if json {
                for i in &incidents {
                    serde_json::to_writer(&mut out, i)?;
                    writeln!(out)?;
                }
            } else {
                if !incidents.is_empty() {
                    writeln!(
                        out,
                        "{:>6}  {:<8}  {:<24}  {:>9}  organisations",
                        "id", "severity", "last seen", "sightings"
                    )?;
                }
                for i in &incidents {
                    writeln!(
                        out,
                        "{:>6}  {:<8}  {:<24}  {:>9}  {}",
                        i.id,
                        i.severity.to_string(),
                        i.last_seen.to_string(),
                        i.sightings,
                        organisations(i)
                    )?;
                }
            }
            out.flush()?;
            Ok(if incidents.is_empty() {
                Outcome::NothingFound
            } else {
                Outcome::Found
            })
        }
        IncidentsCommand::Show { id, json } => {
            let mut incident = store
                .incident(id)?
                .with_context(|| format!("no incident {id} in {}", store.path().display()))?;
            cap_examples(&mut incident.identifiers);
            let mut snapshots = Vec::new();
            for h in &incident.snapshots {
                let hash =
                    vigie_store::parse_hash(h).context("damaged incident: bad snapshot hash")?;
                if let Some(mut r) = store.snapshot_record(&hash)? {
                    cap_examples(&mut r.analysis.report.identifiers);
                    snapshots.push(r);
                }
            }
            let sightings = store.incident_sightings(&incident)?;
            // A store written before triage existed has none to show.
            let triage = store.triage(id).ok().flatten();
            if json {
                let shown = Shown {
                    incident: &incident,
                    snapshots,
                    sightings,
                    triage,
                };
                serde_json::to_writer_pretty(&mut out, &shown)?;
                writeln!(out)?;
            } else {
                write_incident(&mut out, &incident, &snapshots, &sightings)?;
                match &triage {
                    Some(t) => writeln!(
                        out,
                        "triage: {}{}{}",
                        t.state.as_str(),
                        t.reason
                            .as_ref()
                            .map(|r| format!(" ({r})"))
                            .unwrap_or_default(),
                        t.like_incident
                            .map(|n| format!(", look-alike of incident {n}"))
                            .unwrap_or_default()
                    )?,
                    None => writeln!(out, "triage: new")?,
                }
            }
            out.flush()?;
            Ok(Outcome::Found)
        }
    }
}

/// Masks stored by an older version kept seven NIR digits: at most four are shown.
fn cap_examples(
    identifiers: &mut std::collections::BTreeMap<
        vigie_core::IdentifierKind,
        vigie_core::IdentifierCount,
    >,
) {
    for count in identifiers.values_mut() {
        for e in &mut count.examples {
            *e = vigie_core::cap_shown_digits(e);
        }
    }
}

fn organisations(i: &Incident) -> String {
    if i.entities.is_empty() {
        return "(no watched organisation)".into();
    }
    i.entities
        .iter()
        .map(|e| e.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn write_incident(
    out: &mut impl Write,
    i: &Incident,
    snapshots: &[SnapshotRecord],
    sightings: &[SightingRecord],
) -> io::Result<()> {
    writeln!(out, "incident {} — {}", i.id, i.severity)?;
    writeln!(out, "  opened      {}", i.opened_at)?;
    writeln!(out, "  first seen  {}", i.first_seen)?;
    writeln!(out, "  last seen   {}", i.last_seen)?;
    writeln!(out, "  why         {}", i.why.join("; "))?;
    for e in &i.entities {
        writeln!(out, "  organisation {} ({}, {})", e.name, e.category, e.id)?;
    }
    for (kind, count) in &i.identifiers {
        write!(
            out,
            "  identifiers {}: {} valid, {} look-alikes",
            kind.label(),
            count.valid,
            count.invalid
        )?;
        if !count.examples.is_empty() {
            write!(out, " (e.g. {})", count.examples.join(", "))?;
        }
        writeln!(out)?;
    }
    if i.sample_rows > 0 {
        writeln!(out, "  sample      {} rows", i.sample_rows)?;
    }
    writeln!(
        out,
        "  offer       {}",
        if i.leak_offer { "yes" } else { "no" }
    )?;
    if !i.cues.is_empty() {
        writeln!(out, "  cues        {}", i.cues.join(", "))?;
    }
    writeln!(out, "  snapshots ({}):", snapshots.len())?;
    for s in snapshots {
        write!(
            out,
            "    sha256:{}  {} bytes  first seen {}  {}",
            s.hash, s.size, s.first_seen, s.analysis.report.severity
        )?;
        if let Some(p) = s.purged_at {
            write!(out, "  raw bytes purged {p}")?;
        }
        writeln!(out)?;
    }
    writeln!(out, "  sightings ({}):", sightings.len())?;
    for s in sightings {
        writeln!(
            out,
            "    {}  {}  {}  sha256:{}…  seen {}×, last {}",
            s.first_seen,
            s.source,
            s.locator,
            &s.snapshot[..16.min(s.snapshot.len())],
            s.times_seen,
            s.last_seen
        )?;
        let d = &s.details;
        let mut said = Vec::new();
        if let Some(at) = d.posted_at {
            said.push(format!("posted {at}"));
        }
        if let Some(at) = d.edited_at {
            said.push(format!("edited {at}"));
        }
        if let Some(a) = &d.author {
            said.push(format!("by {a}"));
        }
        if let Some(v) = d.views {
            said.push(format!("{v} views"));
        }
        if let Some(f) = d.forwards {
            said.push(format!("{f} forwards"));
        }
        if !said.is_empty() {
            writeln!(out, "      {}", said.join(", "))?;
        }
    }
    Ok(())
}

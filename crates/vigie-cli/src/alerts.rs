//! `vigie alerts list|show|ack|false-positive|outbox|redeliver|deliver`.

use std::io::{self, Write};
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use serde::Serialize;
use vigie_alerts::{render, Deliverer, Round};
use vigie_store::{
    AlertQueue, AlertRecord, OutboxEntry, OutboxState, Store, Timestamp, Triage, TriageState,
};

use crate::args::AlertsCommand;
use crate::config::Config;
use crate::incidents::open_for_queries;
use crate::requests::{apply_or_queue, Request};
use crate::Outcome;

#[derive(Serialize)]
struct Line<'a> {
    alert: u64,
    incident: u64,
    severity: vigie_core::Severity,
    recipient: &'a str,
    revision: u32,
    reason: &'a str,
    created_at: String,
    delivery: Option<&'a OutboxEntry>,
    triage: TriageState,
}

fn triage_state(t: &Option<Triage>) -> TriageState {
    t.as_ref().map_or(TriageState::New, |t| t.state)
}

fn delivery_label(e: Option<&OutboxEntry>) -> &'static str {
    e.map_or("-", |e| e.state.as_str())
}

pub fn run(command: AlertsCommand, config: &Config, store_flag: Option<&Path>) -> Result<Outcome> {
    let dir = config.store_dir(store_flag);
    let stdout = io::stdout();
    let mut out = stdout.lock();
    match command {
        AlertsCommand::List { limit, json } => {
            let store = open_for_queries(config, store_flag)?;
            let queue = store.alert_queue();
            let alerts = queue.alerts(limit)?;
            for a in &alerts {
                let entry = queue.entry(a.id)?;
                let triage = queue.triage(a.incident.id)?;
                if json {
                    serde_json::to_writer(&mut out, &line(a, entry.as_ref(), &triage))?;
                    writeln!(out)?;
                } else {
                    writeln!(
                        out,
                        "{:<6} incident {:<5} {:<8} {:<16} rev {:<2} {:<9} {:<14} {}",
                        a.id,
                        a.incident.id,
                        a.incident.severity.as_str(),
                        a.recipient,
                        a.revision,
                        delivery_label(entry.as_ref()),
                        triage_state(&triage).as_str(),
                        a.reason
                    )?;
                }
            }
            Ok(if alerts.is_empty() {
                Outcome::NothingFound
            } else {
                Outcome::Found
            })
        }
        AlertsCommand::Show { id, json } => {
            let store = open_for_queries(config, store_flag)?;
            let queue = store.alert_queue();
            let alert = queue.alert(id)?.with_context(|| format!("no alert {id}"))?;
            let entry = queue.entry(id)?;
            let triage = queue.triage(alert.incident.id)?;
            show(&mut out, config, &alert, entry.as_ref(), &triage, json)?;
            Ok(Outcome::Found)
        }
        AlertsCommand::Ack { id, reason } => {
            let msg = apply_or_queue(
                &dir,
                &Request::Triage {
                    alert: id,
                    state: TriageState::Acknowledged,
                    reason,
                },
            )?;
            writeln!(out, "{msg}")?;
            Ok(Outcome::Success)
        }
        AlertsCommand::FalsePositive { id, reason } => {
            let msg = apply_or_queue(
                &dir,
                &Request::Triage {
                    alert: id,
                    state: TriageState::FalsePositive,
                    reason,
                },
            )?;
            writeln!(out, "{msg}")?;
            Ok(Outcome::Success)
        }
        AlertsCommand::Redeliver { id } => {
            let msg = apply_or_queue(&dir, &Request::Redeliver { alert: id })?;
            writeln!(out, "{msg}")?;
            Ok(Outcome::Success)
        }
        AlertsCommand::Outbox { json } => {
            let store = open_for_queries(config, store_flag)?;
            let queue = store.alert_queue();
            let mut any = false;
            let mut dead = 0;
            for state in [
                OutboxState::Pending,
                OutboxState::Dead,
                OutboxState::Cancelled,
            ] {
                for e in queue.entries(state, usize::MAX)? {
                    any = true;
                    if state == OutboxState::Dead {
                        dead += 1;
                    }
                    if json {
                        serde_json::to_writer(&mut out, &e)?;
                        writeln!(out)?;
                    } else {
                        writeln!(
                            out,
                            "{:<6} {:<9} {:<16} attempts {:<3} next {}  {}",
                            e.alert,
                            delivery_label(Some(&e)),
                            e.recipient,
                            e.attempts,
                            if e.state == OutboxState::Pending {
                                e.next_attempt.to_string()
                            } else {
                                "-".into()
                            },
                            e.last_error.as_deref().unwrap_or("")
                        )?;
                    }
                }
            }
            if dead > 0 && !json {
                writeln!(
                    out,
                    "{dead} alert(s) in the dead-letter list: their recipients never got them (fix the receiver, then `vigie alerts redeliver ID`)"
                )?;
            }
            Ok(if any {
                Outcome::Found
            } else {
                Outcome::NothingFound
            })
        }
        AlertsCommand::Deliver { wait } => {
            let watchlist = crate::shipped::load(&config.watchlists)?;
            let (_, recipients) = crate::alerting::setup(config, &watchlist)?;
            let store = Store::open(&dir)
                .with_context(|| format!("opening the store {}", dir.display()))?;
            let queue = store.alert_queue();
            let deliverer = Deliverer::new(queue.clone(), recipients, config.delivery.clone())?;
            let total = deliver_until(&deliverer, &queue, Duration::from_secs(wait))?;
            store.sync()?;
            let pending = queue.entries(OutboxState::Pending, usize::MAX)?.len();
            writeln!(
                out,
                "delivered {}, dead {}, still pending {pending}",
                total.delivered, total.dead
            )?;
            Ok(if total.dead > 0 || pending > 0 {
                Outcome::CheckFailed
            } else {
                Outcome::Success
            })
        }
    }
}

/// Delivers what is due, then keeps going while something comes due within `wait`.
fn deliver_until(deliverer: &Deliverer, queue: &AlertQueue, wait: Duration) -> Result<Round> {
    let deadline = Timestamp(Timestamp::now().0 + wait.as_millis() as i64);
    let mut total = Round::default();
    loop {
        let round = deliverer.run_once(usize::MAX)?;
        total.delivered += round.delivered;
        total.dead += round.dead;
        total.retried += round.retried;
        match queue.next_due()? {
            Some(next) if next <= deadline => {
                let ms = (next.0 - Timestamp::now().0).max(0) as u64;
                std::thread::sleep(Duration::from_millis(ms));
            }
            _ => return Ok(total),
        }
    }
}

fn line<'a>(
    a: &'a AlertRecord,
    entry: Option<&'a OutboxEntry>,
    triage: &Option<Triage>,
) -> Line<'a> {
    Line {
        alert: a.id,
        incident: a.incident.id,
        severity: a.incident.severity,
        recipient: &a.recipient,
        revision: a.revision,
        reason: &a.reason,
        created_at: a.created_at.to_string(),
        delivery: entry,
        triage: triage_state(triage),
    }
}

fn show(
    out: &mut impl Write,
    config: &Config,
    alert: &AlertRecord,
    entry: Option<&OutboxEntry>,
    triage: &Option<Triage>,
    json: bool,
) -> Result<()> {
    let recipient = config.recipient.iter().find(|r| r.id == alert.recipient);
    let payload: Option<serde_json::Value> =
        recipient.and_then(|r| serde_json::from_slice(&render(alert, r)).ok());
    if json {
        serde_json::to_writer_pretty(
            &mut *out,
            &serde_json::json!({
                "alert": line(alert, entry, triage),
                "triage": triage,
                "payload": payload,
            }),
        )?;
        writeln!(out)?;
        return Ok(());
    }
    let i = &alert.incident;
    writeln!(out, "alert {}  (revision {})", alert.id, alert.revision)?;
    writeln!(out, "  recipient  {}", alert.recipient)?;
    writeln!(out, "  reason     {}", alert.reason)?;
    writeln!(out, "  decided    {}", alert.created_at)?;
    writeln!(
        out,
        "  incident   {}  {}  {}",
        i.id,
        i.severity.as_str(),
        i.entities
            .iter()
            .map(|e| e.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    )?;
    match entry {
        Some(e) => {
            writeln!(
                out,
                "  delivery   {} after {} attempt(s){}{}",
                delivery_label(Some(e)),
                e.attempts,
                e.delivered_at
                    .map(|t| format!(", accepted {t}"))
                    .unwrap_or_default(),
                e.last_error
                    .as_ref()
                    .map(|err| format!(", last error: {err}"))
                    .unwrap_or_default()
            )?;
        }
        None => writeln!(out, "  delivery   no outbox entry")?,
    }
    match triage {
        Some(t) => {
            writeln!(out, "  triage     {} at {}", t.state.as_str(), t.at)?;
            if let Some(reason) = &t.reason {
                writeln!(out, "             {reason}")?;
            }
            if let Some(like) = t.like_incident {
                writeln!(
                    out,
                    "             suppressed as a look-alike of incident {like}"
                )?;
            }
            if t.state == TriageState::FalsePositive {
                writeln!(
                    out,
                    "             later near-duplicates and the same alias-in-context mentions are suppressed"
                )?;
            }
        }
        None => writeln!(out, "  triage     new")?,
    }
    match payload {
        Some(p) => {
            writeln!(out, "  payload (as sent):")?;
            writeln!(out, "{}", serde_json::to_string_pretty(&p)?)?;
        }
        None => writeln!(
            out,
            "  payload    recipient {} is not in this config",
            alert.recipient
        )?,
    }
    Ok(())
}

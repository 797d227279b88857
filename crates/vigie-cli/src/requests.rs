//! Changes an analyst asks for while `vigie run` holds the store (one writer at a time):
//! written as files under `STORE/requests/`, applied by the running process within a poll
//! interval. Without a running writer, commands apply them directly.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use vigie_store::{Store, StoreError, Timestamp, TriageState};

/// One change to the store.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    /// Set the triage of an alert's incident.
    Triage {
        alert: u64,
        state: TriageState,
        reason: Option<String>,
    },
    /// Queue an alert for delivery again.
    Redeliver { alert: u64 },
}

const DIR: &str = "requests";

/// Applies a request to a store open for writing; returns what was done.
pub fn apply(store: &mut Store, request: &Request) -> Result<String> {
    let queue = store.alert_queue();
    match request {
        Request::Triage {
            alert,
            state,
            reason,
        } => {
            let record = queue
                .alert(*alert)?
                .with_context(|| format!("no alert {alert}"))?;
            let incident = record.incident.id;
            store.set_triage(incident, *state, reason.clone())?;
            Ok(format!(
                "incident {incident} (alert {alert}) is now {}",
                state.as_str()
            ))
        }
        Request::Redeliver { alert } => match queue.redeliver(*alert, Timestamp::now())? {
            Some(_) => Ok(format!("alert {alert} queued for delivery")),
            None => bail!("no alert {alert} in the outbox"),
        },
    }
}

/// Applies the request now, or, when another process holds the store, leaves it for that
/// process. Returns the message to print.
pub fn apply_or_queue(dir: &Path, request: &Request) -> Result<String> {
    match Store::open(dir) {
        Ok(mut store) => {
            let done = apply(&mut store, request)?;
            store.sync()?;
            Ok(done)
        }
        Err(StoreError::Locked { .. }) => {
            let path = queue(dir, request)?;
            Ok(format!(
                "the store is held by a running vigie (vigie run); request queued as {} and applied within its next poll",
                path.display()
            ))
        }
        Err(e) => Err(e).with_context(|| format!("opening the store {}", dir.display())),
    }
}

fn queue(dir: &Path, request: &Request) -> Result<PathBuf> {
    let requests = dir.join(DIR);
    std::fs::create_dir_all(&requests)
        .with_context(|| format!("creating {}", requests.display()))?;
    let name = format!("{:016}-{}.json", Timestamp::now().0, std::process::id());
    let tmp = requests.join(format!(".{name}"));
    let path = requests.join(name);
    std::fs::write(&tmp, serde_json::to_vec(request)?)
        .with_context(|| format!("writing {}", tmp.display()))?;
    // Renamed when complete, so the writer never reads half a request.
    std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// Applies queued requests in order (called by `vigie run`); a bad request is logged and
/// moved aside, never retried forever. Returns how many were applied.
pub fn apply_queued(store: &mut Store) -> usize {
    let requests = store.path().join(DIR);
    let Ok(entries) = std::fs::read_dir(&requests) else {
        return 0;
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|x| x == "json")
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    paths.sort();
    let mut applied = 0;
    for path in paths {
        let result = std::fs::read(&path)
            .context("reading")
            .and_then(|b| serde_json::from_slice::<Request>(&b).context("parsing"))
            .and_then(|r| apply(store, &r));
        match result {
            Ok(done) => {
                tracing::info!(request = %path.display(), "{done}");
                applied += 1;
                if let Err(e) = std::fs::remove_file(&path) {
                    tracing::warn!(request = %path.display(), error = %e, "could not remove an applied request");
                }
            }
            Err(e) => {
                tracing::warn!(request = %path.display(), error = %format!("{e:#}"), "request refused; renamed to .failed");
                let _ = std::fs::rename(&path, path.with_extension("failed"));
            }
        }
    }
    applied
}

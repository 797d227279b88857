//! Changes an analyst asks for while another process (`vigie run`) holds the store: one
//! writer at a time, so a command that finds the store locked leaves its [`Request`] as a
//! JSON file under `STORE/requests/`, and the writer applies the queue within a poll
//! interval ([`Store::apply_queued_requests`]). Without a running writer the request is
//! applied at once ([`apply_or_queue`]).
//!
//! File format (unchanged since the CLI wrote it): one JSON object per file, tagged by `op`
//! (`{"op":"triage","alert":3,"state":"acknowledged","reason":null}`), named
//! `MILLIS-PID[-SEQ].json` so that names sort in the order requests were made. A file is
//! written under a dot name and renamed when complete, so a writer never reads half of one.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::alerts::TriageState;
use crate::error::StoreError;
use crate::model::Timestamp;
use crate::store::Store;

/// The queue's directory inside a store directory.
pub const REQUESTS_DIR: &str = "requests";

/// Larger request files are refused (a request is a few hundred bytes).
const MAX_REQUEST_BYTES: u64 = 64 * 1024;

/// One change to the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    /// Set the triage of an alert's incident.
    Triage {
        /// The alert.
        alert: u64,
        /// The new state.
        state: TriageState,
        /// The analyst's reason.
        #[serde(default)]
        reason: Option<String>,
    },
    /// Queue an alert for delivery again.
    Redeliver {
        /// The alert.
        alert: u64,
    },
    /// Set the triage of an incident (a false positive suppresses its look-alikes).
    TriageIncident {
        /// The incident.
        incident: u64,
        /// The new state.
        state: TriageState,
        /// The analyst's reason.
        #[serde(default)]
        reason: Option<String>,
    },
}

/// What a request did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// An incident's triage was set.
    Triaged {
        /// The incident.
        incident: u64,
        /// The alert named by the request, if it named one.
        alert: Option<u64>,
        /// Its new state.
        state: TriageState,
    },
    /// An alert was queued for delivery again.
    Requeued {
        /// The alert.
        alert: u64,
    },
}

impl std::fmt::Display for Applied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Applied::Triaged {
                incident,
                alert: Some(alert),
                state,
            } => write!(
                f,
                "incident {incident} (alert {alert}) is now {}",
                state.as_str()
            ),
            Applied::Triaged {
                incident,
                alert: None,
                state,
            } => write!(f, "incident {incident} is now {}", state.as_str()),
            Applied::Requeued { alert } => write!(f, "alert {alert} queued for delivery"),
        }
    }
}

/// What [`apply_or_queue`] did with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submitted {
    /// Applied now (no other process held the store).
    Applied(Applied),
    /// Left for the running writer, in this file.
    Queued(PathBuf),
}

/// Why a request was not applied or queued.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The alert does not exist.
    #[error("no alert {0}")]
    NoAlert(u64),
    /// The alert exists but has no delivery entry (nothing to send again).
    #[error("no alert {0} in the outbox")]
    NotInOutbox(u64),
    /// The store refused it (no such incident, read-only, I/O).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The store could not be opened.
    #[error("opening the store {path}: {source}")]
    Open {
        /// The store directory.
        path: PathBuf,
        /// Why.
        source: StoreError,
    },
    /// A queue file could not be written or read.
    #[error("{path}: {source}")]
    File {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A queued file is not a request this build knows.
    #[error("{path} is not a request: {detail}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// Why.
        detail: String,
    },
}

/// How a pass over the queue went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueRun {
    /// Requests applied (their files removed).
    pub applied: usize,
    /// Requests refused (their files renamed to `.failed`, never retried).
    pub refused: usize,
}

impl Store {
    /// Applies a request to this store (open for writing).
    pub fn apply_request(&mut self, request: &Request) -> Result<Applied, RequestError> {
        match request {
            Request::Triage {
                alert,
                state,
                reason,
            } => {
                let record = self
                    .alert_queue()
                    .alert(*alert)?
                    .ok_or(RequestError::NoAlert(*alert))?;
                let incident = record.incident.id;
                self.set_triage(incident, *state, reason.clone())?;
                Ok(Applied::Triaged {
                    incident,
                    alert: Some(*alert),
                    state: *state,
                })
            }
            Request::TriageIncident {
                incident,
                state,
                reason,
            } => {
                self.set_triage(*incident, *state, reason.clone())?;
                Ok(Applied::Triaged {
                    incident: *incident,
                    alert: None,
                    state: *state,
                })
            }
            Request::Redeliver { alert } => {
                match self.alert_queue().redeliver(*alert, Timestamp::now())? {
                    Some(_) => Ok(Applied::Requeued { alert: *alert }),
                    None => Err(RequestError::NotInOutbox(*alert)),
                }
            }
        }
    }

    /// Applies the queued requests in the order they were made; a request that fails is
    /// logged and renamed to `.failed`, never retried forever. Called by the writer
    /// (`vigie run`) at each poll.
    pub fn apply_queued_requests(&mut self) -> QueueRun {
        let mut run = QueueRun::default();
        for path in queued(&self.path().join(REQUESTS_DIR)) {
            match read_request(&path).and_then(|r| self.apply_request(&r)) {
                Ok(done) => {
                    tracing::info!(request = %path.display(), "{done}");
                    run.applied += 1;
                    if let Err(e) = std::fs::remove_file(&path) {
                        tracing::warn!(request = %path.display(), error = %e, "could not remove an applied request");
                    }
                }
                Err(e) => {
                    tracing::warn!(request = %path.display(), error = %e, "request refused; renamed to .failed");
                    run.refused += 1;
                    let _ = std::fs::rename(&path, path.with_extension("failed"));
                }
            }
        }
        run
    }
}

/// Applies the request now, or, when another process holds the store, queues it for that
/// process. An applied request is synced to disk before this returns.
pub fn apply_or_queue(dir: &Path, request: &Request) -> Result<Submitted, RequestError> {
    match Store::open(dir) {
        Ok(mut store) => {
            let done = store.apply_request(request)?;
            store.sync()?;
            Ok(Submitted::Applied(done))
        }
        Err(StoreError::Locked { .. }) => Ok(Submitted::Queued(queue_request(dir, request)?)),
        Err(source) => Err(RequestError::Open {
            path: dir.to_path_buf(),
            source,
        }),
    }
}

/// Writes a request into the queue of the store at `dir`; returns its file.
pub fn queue_request(dir: &Path, request: &Request) -> Result<PathBuf, RequestError> {
    // Several requests in one millisecond from one process keep distinct, ordered names.
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let requests = dir.join(REQUESTS_DIR);
    let file_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| RequestError::File { path, source }
    };
    std::fs::create_dir_all(&requests).map_err(file_err(&requests))?;
    let name = format!(
        "{:016}-{}-{:06}.json",
        Timestamp::now().0,
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    );
    let tmp = requests.join(format!(".{name}"));
    let path = requests.join(name);
    let bytes = serde_json::to_vec(request).map_err(|e| RequestError::Parse {
        path: path.clone(),
        detail: e.to_string(),
    })?;
    std::fs::write(&tmp, bytes).map_err(file_err(&tmp))?;
    std::fs::rename(&tmp, &path).map_err(file_err(&path))?;
    Ok(path)
}

/// The complete request files of a queue, in name order.
fn queued(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
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
    paths
}

fn read_request(path: &Path) -> Result<Request, RequestError> {
    let file_err = |source| RequestError::File {
        path: path.to_path_buf(),
        source,
    };
    let len = std::fs::metadata(path).map_err(file_err)?.len();
    if len > MAX_REQUEST_BYTES {
        return Err(RequestError::Parse {
            path: path.to_path_buf(),
            detail: format!("{len} bytes, more than {MAX_REQUEST_BYTES}"),
        });
    }
    let bytes = std::fs::read(path).map_err(file_err)?;
    serde_json::from_slice(&bytes).map_err(|e| RequestError::Parse {
        path: path.to_path_buf(),
        detail: e.to_string(),
    })
}

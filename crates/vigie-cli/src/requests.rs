//! Analysts' requests (`vigie alerts ack|fp|redeliver`): applied at once, or queued for the
//! running `vigie run` when it holds the store. The queue lives in `vigie_store::requests`;
//! this module only words the outcome.

use std::path::Path;

use anyhow::Result;
use vigie_store::requests::Submitted;
use vigie_store::Store;

pub use vigie_store::Request;

/// Applies the request now, or leaves it for the process holding the store. Returns the
/// message to print.
pub fn apply_or_queue(dir: &Path, request: &Request) -> Result<String> {
    Ok(match vigie_store::requests::apply_or_queue(dir, request)? {
        Submitted::Applied(done) => done.to_string(),
        Submitted::Queued(path) => format!(
            "the store is held by a running vigie (vigie run); request queued as {} and applied within its next poll",
            path.display()
        ),
    })
}

/// Applies queued requests in order (called by `vigie run`); returns how many were applied.
pub fn apply_queued(store: &mut Store) -> usize {
    store.apply_queued_requests().applied
}

//! Setting up alerting from the config: recipients with their secrets, and the router over
//! the watchlists' `notify` lists.

use anyhow::{Context, Result};
use vigie_alerts::{resolve, Recipient, Router};
use vigie_match::Watchlist;

use crate::config::Config;

/// The router and the resolved recipients. A bad URL or a missing secret variable fails here,
/// at start-up, with every problem listed.
pub fn setup(config: &Config, watchlist: &Watchlist) -> Result<(Router, Vec<Recipient>)> {
    let recipients = resolve(&config.recipient, |name| std::env::var(name).ok())
        .context("checking [[recipient]] entries")?;
    let notify = watchlist
        .entities()
        .iter()
        .filter(|e| !e.notify.is_empty())
        .map(|e| (e.id.clone(), e.notify.clone()));
    let (router, unknown) = Router::new(&recipients, notify);
    if !unknown.is_empty() {
        tracing::warn!(
            recipients = ?unknown,
            "watchlist notify lists name recipients that are not configured; they get nothing"
        );
    }
    Ok((router, recipients))
}

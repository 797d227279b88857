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

/// The configured recipients and the organisations routed to each, as the console's alerts
/// screen shows them (from the configuration: no secret is read, no URL path or query kept).
pub fn recipient_summaries(
    config: &Config,
    watchlist: &Watchlist,
) -> Vec<vigie_console::RecipientSummary> {
    config
        .recipient
        .iter()
        .map(|r| vigie_console::RecipientSummary {
            id: r.id.clone(),
            endpoint: vigie_alerts::url_origin(&r.url),
            format: match r.format {
                vigie_alerts::Format::Json => "json".into(),
                vigie_alerts::Format::Chat => "chat".into(),
            },
            min_severity: r.min_severity.as_str().into(),
            categories: r
                .categories
                .iter()
                .map(|c| c.as_str().to_string())
                .collect(),
            catch_all: r.catch_all,
            digest: r.digest,
            organisations: watchlist
                .entities()
                .iter()
                .filter(|e| e.notify.contains(&r.id))
                .map(|e| e.name.clone())
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_keep_the_origin_of_webhook_urls_and_the_organisations_routed() {
        let dir = tempfile::tempdir().unwrap();
        let watchlist = dir.path().join("w.toml");
        std::fs::write(
            &watchlist,
            "[[entity]]\nid = \"chu-nantes\"\nname = \"CHU de Nantes\"\ncategory = \"hospital\"\nnotify = [\"chu-nantes\"]\n\n\
             [[entity]]\nid = \"weda\"\nname = \"Weda\"\ncategory = \"software_vendor\"\n",
        )
        .unwrap();
        let config_file = dir.path().join("c.toml");
        std::fs::write(
            &config_file,
            "[[recipient]]\nid = \"chu-nantes\"\nurl = \"https://soc.chu-nantes.example:8443/hooks/T0KEN?secret=abc\"\nsecret_env = \"NOT_SET_ANYWHERE_42\"\nformat = \"chat\"\nmin_severity = \"high\"\ncategories = [\"hospital\"]\n",
        )
        .unwrap();
        let config = Config::load(Some(&config_file)).unwrap();
        let watchlist = vigie_match::Watchlist::load(&[&watchlist]).unwrap();
        // No secret is needed to describe a recipient.
        let summaries = recipient_summaries(&config, &watchlist);
        assert_eq!(summaries.len(), 1);
        let s = &summaries[0];
        assert_eq!(s.id, "chu-nantes");
        assert_eq!(s.endpoint, "https://soc.chu-nantes.example:8443/…");
        assert!(!format!("{s:?}").contains("T0KEN") && !format!("{s:?}").contains("abc"));
        assert_eq!(s.format, "chat");
        assert_eq!(s.min_severity, "high");
        assert_eq!(s.categories, ["hospital"]);
        assert_eq!(s.organisations, ["CHU de Nantes"]);
        assert!(!s.catch_all && !s.digest);
    }
}

//! Which sources a run has, built from the configuration's sections (each section is typed
//! and checked by the crate that owns the source).

use std::path::Path;

use anyhow::{bail, Context, Result};
use vigie_files::{SpoolConfig, SpoolSource};
use vigie_pipeline::Source;
use vigie_telegram::source::{FetcherFactory, LiveChannels, PreviewSource, Ready};

use crate::config::Config;
use crate::tor::TorPages;

/// Names of the sources that are not Tor sources (`vigie collect --bus URL NAME…`).
const PREVIEWS: &str = "telegram-preview";
const LIVE: &str = "telegram";
const SPOOL: &str = "spool";

/// The sources of a run, and the Telegram account's sign-in signal when it has one.
pub type Assembled = (Vec<Box<dyn Source>>, Option<Ready>);

/// The configured sources; with `names`, only those (`[[tor_source]]` ids, `telegram-preview`,
/// `telegram`, `spool`). Configuration problems fail here, before anything starts.
pub fn sources(config: &Config, store_dir: &Path, names: &[String]) -> Result<Assembled> {
    let wanted = |name: &str| names.is_empty() || names.iter().any(|n| n == name);
    let tor_ids: Vec<String> = names
        .iter()
        .filter(|n| ![PREVIEWS, LIVE, SPOOL].contains(&n.as_str()))
        .cloned()
        .collect();
    let mut sources: Vec<Box<dyn Source>> = Vec::new();

    let needs_tor = !config.tor_source.is_empty()
        || (wanted(PREVIEWS) && config.telegram_preview.iter().any(|p| p.via_tor));
    if !tor_ids.is_empty() && config.tor_source.is_empty() {
        bail!("no [[tor_source]] named {}", tor_ids.join(", "));
    }
    let tor = if needs_tor {
        let mut plan = crate::tor::plan(config)?;
        if !names.is_empty() {
            plan.check_ids(&tor_ids)?;
            plan.sources.retain(|s| tor_ids.contains(&s.id));
        }
        let dir = vigie_tor::tor_dir(store_dir)
            .with_context(|| format!("preparing {}", store_dir.join("tor").display()))?;
        Some(vigie_tor::TorCollector::new(plan, dir))
    } else {
        None
    };
    let access = tor.as_ref().map(|t| t.access());

    if wanted(PREVIEWS) {
        let factory: Option<FetcherFactory> = access.clone().map(|access| {
            Box::new(move |label: &str| {
                Box::new(TorPages::new(access.clone(), label))
                    as Box<dyn vigie_telegram::PageFetcher>
            }) as FetcherFactory
        });
        if let Some(p) = PreviewSource::new(&config.telegram_preview, factory) {
            sources.push(Box::new(p));
        }
    }
    let mut ready = None;
    if wanted(LIVE) {
        if let Some(account) = &config.telegram {
            if let Some((live, r)) =
                LiveChannels::new(account, &config.telegram_channels, store_dir)
                    .context("checking [telegram]")?
            {
                sources.push(Box::new(live));
                ready = Some(r);
            }
        }
    }
    if wanted(SPOOL) {
        if let Some(dir) = &config.run.spool {
            let spool = SpoolSource::new(SpoolConfig {
                dir: dir.clone(),
                source: config.run.spool_source.clone(),
                poll_ms: config.run.poll_ms,
                max_bytes: config.run.max_bytes,
            })
            .with_context(|| format!("creating the spool {}", dir.display()))?;
            sources.push(Box::new(spool));
        }
    }
    // The Tor source also serves the previews' fetches: it runs when it has sources of
    // its own or previews go through it.
    if let Some(t) = tor {
        let serves_previews = wanted(PREVIEWS) && config.telegram_preview.iter().any(|p| p.via_tor);
        if names.is_empty() || !tor_ids.is_empty() || serves_previews {
            sources.insert(0, Box::new(t));
        }
    }
    Ok((sources, ready))
}

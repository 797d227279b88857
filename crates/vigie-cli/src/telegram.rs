//! The `telegram-preview` sources of `vigie run`: each channel polled on its interval,
//! incremental from its checkpoint in the store; forwards from channels not followed become
//! candidate sources.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use tracing::{info, warn};
use vigie_alerts::Router;
use vigie_match::{Matcher, ScanOptions};
use vigie_store::{content_hash, Locator, PostDetails, Sighting, Store, Timestamp};
use vigie_telegram::{PreviewClient, TelegramMessage};

use crate::config::TelegramPreviewConfig;
use crate::tor::{TorAccess, TorPages};

/// The cursor kept in the store per channel.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Checkpoint {
    last_id: i64,
}

struct PreviewSource {
    config: TelegramPreviewConfig,
    client: PreviewClient,
    next: Instant,
}

/// Every configured preview channel and when it is next due.
pub struct PreviewSources {
    sources: Vec<PreviewSource>,
    followed: BTreeSet<String>,
}

fn checkpoint_key(channel: &str) -> String {
    format!("telegram-preview:{channel}")
}

/// Preview pages are small; anything bigger is refused.
const PREVIEW_MAX_BODY: u64 = 8 << 20;

impl PreviewSources {
    /// The configured channels; those with `via_tor` fetch through `tor` (the Tor
    /// collector's transport, present whenever one of them asks for it).
    pub fn new(configs: &[TelegramPreviewConfig], tor: Option<TorAccess>) -> PreviewSources {
        let client = |c: &TelegramPreviewConfig| match (&tor, c.via_tor) {
            (Some(access), true) => PreviewClient::with_fetcher(
                &c.base_url,
                Box::new(TorPages::new(
                    Arc::clone(access),
                    &format!("telegram-preview:{}", c.channel),
                )),
                PREVIEW_MAX_BODY,
                c.max_pages,
            ),
            _ => PreviewClient::new(
                &c.base_url,
                Duration::from_secs(20),
                PREVIEW_MAX_BODY,
                c.max_pages,
            ),
        };
        PreviewSources {
            followed: configs.iter().map(|c| c.channel.to_lowercase()).collect(),
            sources: configs
                .iter()
                .map(|c| PreviewSource {
                    config: c.clone(),
                    client: client(c),
                    next: Instant::now(),
                })
                .collect(),
        }
    }

    /// Polls the channels that are due; returns how many alerts were queued. A channel that
    /// fails is logged and retried on its next interval; a store failure stops the run.
    pub fn poll_due(
        &mut self,
        store: &mut Store,
        matcher: &Matcher,
        router: &Router,
        stop: &AtomicBool,
    ) -> Result<usize> {
        let mut alerts = 0;
        for source in &mut self.sources {
            if stop.load(Ordering::Relaxed) || source.next > Instant::now() {
                continue;
            }
            source.next = Instant::now() + Duration::from_secs(source.config.interval_secs);
            let channel = source.config.channel.clone();
            let key = checkpoint_key(&channel);
            let checkpoint: Option<Checkpoint> = store
                .checkpoint(&key)?
                .and_then(|b| serde_json::from_slice(&b).ok());
            let after = checkpoint.as_ref().map(|c| c.last_id);
            let messages = match source.client.poll(&channel, after, source.config.backfill) {
                Ok(m) => m,
                Err(e) => {
                    warn!(channel = %channel, error = %e, "telegram preview poll failed; retrying next interval");
                    continue;
                }
            };
            let mut last = after.unwrap_or(0);
            for m in &messages {
                let how = Recording {
                    collector: "telegram-preview",
                    fetched_at: Timestamp::now(),
                    followed: &self.followed,
                };
                alerts += record_message(store, matcher, router, m, None, &how)?
                    .alerts
                    .len();
                last = last.max(m.id);
                // The cursor moves with each message, so a stop loses nothing and repeats nothing.
                let cursor = serde_json::to_vec(&Checkpoint { last_id: last })?;
                store.set_checkpoint(&key, &cursor)?;
            }
            if !messages.is_empty() {
                info!(channel = %channel, new = messages.len(), last_id = last, "telegram preview polled");
            }
        }
        Ok(alerts)
    }
}

/// Records a Telegram message (or, with `attachment`, one of its files: raw bytes as evidence,
/// matched on `text`) as a sighting, deciding alerts; notes the channel a forward came from
/// as a candidate unless it is followed.
pub struct Recording<'a> {
    pub collector: &'a str,
    pub fetched_at: Timestamp,
    pub followed: &'a BTreeSet<String>,
}

pub fn record_message(
    store: &mut Store,
    matcher: &Matcher,
    router: &Router,
    m: &TelegramMessage,
    attachment: Option<(&str, &[u8], &[u8])>,
    how: &Recording<'_>,
) -> Result<vigie_store::Recorded> {
    let doc = m.document();
    let (label, content, text) = match attachment {
        Some((name, bytes, text)) => (
            format!("telegram:{}/{}/{name}", m.channel, m.id),
            bytes,
            text,
        ),
        None => (
            format!("telegram:{}/{}", m.channel, m.id),
            doc.as_bytes(),
            doc.as_bytes(),
        ),
    };
    let analysis = if store.contains(&content_hash(content))? {
        None
    } else {
        Some(matcher.analyze(&label, text, ScanOptions::default()))
    };
    let sighting = Sighting {
        source: format!("telegram:{}", m.channel),
        locator: Locator::Message {
            channel: m.channel.clone(),
            message_id: m.id,
        },
        fetched_at: how.fetched_at,
        collector: how.collector.into(),
        details: PostDetails {
            posted_at: Some(Timestamp(m.date.saturating_mul(1000))),
            edited_at: m.edited.map(|e| Timestamp(e.saturating_mul(1000))),
            author: m.author.clone(),
            views: m.views,
            forwards: m.forwards,
        },
    };
    let recorded = store
        .record_alerting(content, &sighting, analysis.as_ref(), router)
        .with_context(|| format!("recording {label}"))?;
    if attachment.is_none() {
        if let Some(from) = &m.forwarded_from {
            if !how.followed.contains(&from.to_lowercase()) {
                store.note_candidate("telegram", from, &sighting.source, sighting.fetched_at)?;
            }
        }
    }
    Ok(recorded)
}

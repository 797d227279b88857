//! Live Telegram collection with a user account: `vigie telegram login`, and the
//! `[[telegram_channel]]` sources of `vigie run`: updates from the stream as they come, and a
//! history read per channel on its interval (which also fills any gap after a disconnect).
//! The collector's logic and the grammers adapter live in `vigie-telegram`; this module reads
//! the config, keeps checkpoints and records what is collected.

use std::collections::{BTreeSet, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use tokio::sync::mpsc;
use tracing::{info, warn};
use vigie_alerts::Router;
use vigie_match::Matcher;
use vigie_store::{Store, Timestamp};
use vigie_telegram::collector::{
    ChannelState, Collected, Collector, CollectorConfig, CollectorError,
};
use vigie_telegram::live::LiveSource;
use vigie_telegram::tl::ChannelUpdate;
use vigie_telegram::{extract, ArchiveLimits};

use crate::config::{Config, TelegramConfig};
use crate::telegram::{record_message, Recording};
use crate::Outcome;

fn api_id(t: &TelegramConfig) -> Result<i32> {
    if let Some(id) = t.api_id {
        return Ok(id);
    }
    let v = std::env::var(&t.api_id_env)
        .with_context(|| format!("telegram.api_id is not set and ${} is empty", t.api_id_env))?;
    v.trim()
        .parse()
        .with_context(|| format!("${} is not a number", t.api_id_env))
}

fn session_path(t: &TelegramConfig, store_dir: &Path) -> PathBuf {
    t.session
        .clone()
        .unwrap_or_else(|| store_dir.join("telegram.session"))
}

/// One worker thread: the connection and the updates stream keep running between two polls
/// of the run loop (which blocks on the collector's calls from its own thread).
fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("vigie-telegram")
        .enable_all()
        .build()
        .context("starting the Telegram runtime")
}

/// Updates applied per turn of the run loop at most (the rest wait for the next turn).
const UPDATES_PER_TURN: usize = 64;

/// `vigie telegram login`: interactive; the session file is written 0600.
pub fn login(config: &Config, store_flag: Option<&Path>) -> Result<Outcome> {
    let Some(t) = &config.telegram else {
        bail!("no [telegram] section in the config (api_id, api_hash_env)");
    };
    let id = api_id(t)?;
    let hash = std::env::var(&t.api_hash_env).with_context(|| {
        format!(
            "the api_hash is read from ${}, which is not set",
            t.api_hash_env
        )
    })?;
    let dir = config.store_dir(store_flag);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = session_path(t, &dir);
    let rt = runtime()?;
    rt.block_on(async {
        let source = LiveSource::connect(&path, id)?;
        if source.is_authorized().await? {
            println!("already signed in (session {})", path.display());
            return Ok(Outcome::Success);
        }
        let name = source
            .login(&hash, |question, secret| {
                if secret {
                    rpassword::prompt_password(question)
                } else {
                    print!("{question}");
                    std::io::stdout().flush()?;
                    let mut line = String::new();
                    std::io::stdin().read_line(&mut line)?;
                    Ok(line)
                }
            })
            .await?;
        println!(
            "signed in as {name}; session saved to {} (mode 0600)",
            path.display()
        );
        Ok(Outcome::Success)
    })
}

/// The account's channels in `vigie run`.
pub struct LiveChannels {
    rt: tokio::runtime::Runtime,
    collector: Collector<LiveSource>,
    channels: Vec<(String, String)>,
    followed: BTreeSet<String>,
    interval: Duration,
    next: Instant,
    limits: ArchiveLimits,
    updates: Option<mpsc::Receiver<(i64, ChannelUpdate)>>,
    /// Channel index by Telegram channel id, learnt from the checkpoints.
    by_peer: HashMap<i64, usize>,
}

impl LiveChannels {
    /// Connects when channels are configured; `None` otherwise. Fails clearly when the
    /// account is not signed in.
    pub fn start(config: &Config, store_dir: &Path) -> Result<Option<LiveChannels>> {
        let (Some(t), false) = (&config.telegram, config.telegram_channels.is_empty()) else {
            return Ok(None);
        };
        let id = api_id(t)?;
        let path = session_path(t, store_dir);
        // Checked before any connection: without a session there is nothing to sign in with.
        if !path.exists() {
            bail!(
                "no Telegram session at {}: run `vigie telegram login` first",
                path.display()
            );
        }
        let rt = runtime()?;
        let (source, updates) = rt.block_on(async {
            let mut source = LiveSource::connect(&path, id)?;
            if !source.is_authorized().await? {
                bail!(
                    "the Telegram session {} is not signed in: run `vigie telegram login` first",
                    path.display()
                );
            }
            let updates = match source.follow_updates().await {
                Ok(rx) => Some(rx),
                Err(e) => {
                    warn!(error = %e, "no updates stream; channels are read on their interval only");
                    None
                }
            };
            Ok((source, updates))
        })?;
        let since = t
            .backfill_since
            .as_deref()
            .and_then(vigie_store::Timestamp::parse)
            .map(|d| d.unix_seconds());
        let collector = Collector::new(
            source,
            CollectorConfig {
                calls_per_minute: t.calls_per_minute,
                backfill: t.backfill,
                backfill_since: since,
                attachment_cap: t.attachment_cap_bytes,
                // Longer waits pause the account instead of holding the run loop.
                max_inline_wait: Duration::from_secs(30),
                ..CollectorConfig::default()
            },
        );
        let channels: Vec<(String, String)> = config
            .telegram_channels
            .iter()
            .map(|c| {
                let name = c
                    .name
                    .clone()
                    .unwrap_or_else(|| c.channel.trim_start_matches('@').to_string());
                (c.channel.clone(), name)
            })
            .collect();
        Ok(Some(LiveChannels {
            rt,
            collector,
            followed: channels.iter().map(|(_, n)| n.to_lowercase()).collect(),
            channels,
            interval: Duration::from_secs(t.interval_secs),
            next: Instant::now(),
            limits: ArchiveLimits::default(),
            updates,
            by_peer: HashMap::new(),
        }))
    }

    /// Applies the updates that arrived, then reads every channel's history when its interval
    /// is due; returns how many alerts were queued.
    pub fn poll_due(
        &mut self,
        store: &mut Store,
        matcher: &Matcher,
        router: &Router,
        stop: &AtomicBool,
    ) -> Result<usize> {
        let mut alerts = 0;
        let mut pending = Vec::new();
        if let Some(rx) = &mut self.updates {
            while pending.len() < UPDATES_PER_TURN {
                match rx.try_recv() {
                    Ok(u) => pending.push(u),
                    Err(_) => break,
                }
            }
        }
        for (peer, update) in pending {
            // Channels not followed (or not read yet: their first read comes) are ignored.
            let Some(&index) = self.by_peer.get(&peer) else {
                continue;
            };
            if stop.load(Ordering::Relaxed) {
                break;
            }
            let (n, _) = self.step(index, Some(update), store, matcher, router)?;
            alerts += n;
        }
        if Instant::now() < self.next {
            return Ok(alerts);
        }
        self.next = Instant::now() + self.interval;
        for index in 0..self.channels.len() {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            let (n, paused) = self.step(index, None, store, matcher, router)?;
            alerts += n;
            if paused {
                break;
            }
        }
        Ok(alerts)
    }

    /// One step for a channel — a history read, or one update from the stream: runs the
    /// collector, records what it returned, keeps the checkpoint. Returns the alerts queued
    /// and whether the account is paused.
    fn step(
        &mut self,
        index: usize,
        update: Option<ChannelUpdate>,
        store: &mut Store,
        matcher: &Matcher,
        router: &Router,
    ) -> Result<(usize, bool)> {
        let (spec, name) = self.channels[index].clone();
        let key = format!("telegram:{name}");
        let mut state: ChannelState = store
            .checkpoint(&key)?
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        let mut collected = Vec::new();
        let is_poll = update.is_none();
        let result = match update {
            None => self
                .rt
                .block_on(self.collector.poll(&spec, &mut state, &mut collected)),
            Some(u) => self
                .rt
                .block_on(self.collector.apply(&spec, &mut state, u, &mut collected)),
        };
        let mut alerts = 0;
        for c in &mut collected {
            c.message.channel = name.clone();
            alerts += self.record(store, matcher, router, c)?;
        }
        // The state covers exactly what was returned, also after an error.
        store.set_checkpoint(&key, &serde_json::to_vec(&state)?)?;
        if let Some(peer) = state.peer {
            self.by_peer.insert(peer.id, index);
        }
        match result {
            Ok(()) if !collected.is_empty() => {
                info!(channel = %name, new = collected.len(), last_id = state.last_id, "telegram channel read")
            }
            Ok(()) => {}
            Err(CollectorError::Paused { wait, .. }) => {
                if is_poll {
                    warn!(channel = %name, ?wait, "Telegram account paused by FLOOD_WAIT; other sources go on");
                }
                return Ok((alerts, true));
            }
            Err(e) => {
                warn!(channel = %name, error = %e, "telegram read failed; retrying next interval")
            }
        }
        Ok((alerts, false))
    }

    /// Records a message and its downloaded files (each file its own snapshot, matched on its
    /// extracted text, at the message's place).
    fn record(
        &self,
        store: &mut Store,
        matcher: &Matcher,
        router: &Router,
        c: &Collected,
    ) -> Result<usize> {
        let how = Recording {
            collector: "telegram",
            fetched_at: Timestamp::now(),
            followed: &self.followed,
        };
        let mut alerts = record_message(store, matcher, router, &c.message, None, &how)?
            .alerts
            .len();
        for d in &c.downloads {
            let file = c
                .message
                .attachments
                .iter()
                .filter(|a| a.file_name.is_some())
                .nth(d.index);
            let file_name = file
                .and_then(|a| a.file_name.clone())
                .unwrap_or_else(|| format!("attachment-{}", d.index));
            let text = match extract(&file_name, &d.bytes, self.limits) {
                Ok(x) => x.text,
                Err(e) => {
                    warn!(channel = %c.message.channel, message = c.message.id, error = %e, "archive refused");
                    Vec::new()
                }
            };
            let attachment = Some((file_name.as_str(), d.bytes.as_slice(), text.as_slice()));
            alerts += record_message(store, matcher, router, &c.message, attachment, &how)?
                .alerts
                .len();
        }
        Ok(alerts)
    }
}

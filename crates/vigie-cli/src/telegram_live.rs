//! Live Telegram collection with a user account: `vigie telegram login`, and the
//! `[[telegram_channel]]` sources of `vigie run`. The collector's logic and the grammers
//! adapter live in `vigie-telegram`; this module reads the config, keeps checkpoints and
//! records what is collected.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use tracing::{info, warn};
use vigie_alerts::Router;
use vigie_match::Matcher;
use vigie_store::{Store, Timestamp};
use vigie_telegram::collector::{ChannelState, Collector, CollectorConfig, CollectorError};
use vigie_telegram::live::LiveSource;
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

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the Telegram runtime")
}

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
        let source = rt.block_on(async {
            let source = LiveSource::connect(&path, id)?;
            if !source.is_authorized().await? {
                bail!(
                    "the Telegram session {} is not signed in: run `vigie telegram login` first",
                    path.display()
                );
            }
            Ok(source)
        })?;
        let collector = Collector::new(
            source,
            CollectorConfig {
                calls_per_minute: t.calls_per_minute,
                backfill: t.backfill,
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
        }))
    }

    /// Polls every channel when due; returns how many alerts were queued.
    pub fn poll_due(
        &mut self,
        store: &mut Store,
        matcher: &Matcher,
        router: &Router,
        stop: &AtomicBool,
    ) -> Result<usize> {
        if Instant::now() < self.next {
            return Ok(0);
        }
        self.next = Instant::now() + self.interval;
        let mut alerts = 0;
        for (spec, name) in &self.channels {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            let key = format!("telegram:{name}");
            let mut state: ChannelState = store
                .checkpoint(&key)?
                .and_then(|b| serde_json::from_slice(&b).ok())
                .unwrap_or_default();
            let mut collected = Vec::new();
            let result = self
                .rt
                .block_on(self.collector.poll(spec, &mut state, &mut collected));
            for c in &mut collected {
                c.message.channel = name.clone();
                let how = Recording {
                    collector: "telegram",
                    fetched_at: Timestamp::now(),
                    followed: &self.followed,
                };
                alerts += record_message(store, matcher, router, &c.message, None, &how)?
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
                            warn!(channel = %name, message = c.message.id, error = %e, "archive refused");
                            Vec::new()
                        }
                    };
                    let attachment =
                        Some((file_name.as_str(), d.bytes.as_slice(), text.as_slice()));
                    alerts += record_message(store, matcher, router, &c.message, attachment, &how)?
                        .alerts
                        .len();
                }
            }
            // The state covers exactly what was returned, also after an error.
            store.set_checkpoint(&key, &serde_json::to_vec(&state)?)?;
            match result {
                Ok(()) if !collected.is_empty() => {
                    info!(channel = %name, new = collected.len(), last_id = state.last_id, "telegram channel polled")
                }
                Ok(()) => {}
                Err(CollectorError::Paused { wait, .. }) => {
                    warn!(channel = %name, ?wait, "Telegram account paused by FLOOD_WAIT; other sources go on");
                    break;
                }
                Err(e) => {
                    warn!(channel = %name, error = %e, "telegram poll failed; retrying next interval")
                }
            }
        }
        Ok(alerts)
    }
}

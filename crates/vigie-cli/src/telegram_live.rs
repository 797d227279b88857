//! Live Telegram collection with a user account: `vigie telegram login`, and the
//! `[[telegram_channel]]` sources of `vigie run`: updates from the stream as they come, and a
//! history read per channel on its interval (which also fills any gap after a disconnect).
//! The collector's logic and the grammers adapter live in `vigie-telegram`. The account runs
//! on a thread of its own (its budget spacing and FLOOD_WAITs hold only that thread) and
//! hands messages and checkpoints over a channel; the run loop records them in order.

use std::collections::{BTreeSet, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use tokio::sync::{mpsc, watch};
use tracing::{info, warn};
use vigie_alerts::Router;
use vigie_match::Matcher;
use vigie_store::{Store, Timestamp};
use vigie_telegram::collector::{
    ChannelState, Collected, Collector, CollectorConfig, CollectorError, TelegramSource,
};
use vigie_telegram::live::LiveSource;
use vigie_telegram::tl::ChannelUpdate;
use vigie_telegram::{extract_with_post, ArchiveLimits};

use crate::config::{Config, TelegramConfig};
use crate::stopping::{reap, Drain, Received, TryReceive};
use crate::supervisor::{Drained, Recorder, SourceThread};
use crate::telegram::{record_message, Recording};
use crate::Outcome;

fn api_id(t: &TelegramConfig) -> Result<i32> {
    Ok(t.api_id()?)
}

fn session_path(t: &TelegramConfig, store_dir: &Path) -> PathBuf {
    t.session_path(store_dir)
}

/// The account's runtime: one thread, driving the connection, the updates stream and the
/// collector's calls together.
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

/// What the account's thread hands the run loop, in order: a channel's messages, then the
/// checkpoint that covers them.
enum LiveEvent {
    Message {
        channel: String,
        // Boxed: a message with its links and media is far larger than a checkpoint.
        collected: Box<Collected>,
    },
    Checkpoint {
        key: String,
        state: Vec<u8>,
    },
}

/// How long a stopping run keeps recording what the account already read.
const DRAIN_GRACE: Duration = Duration::from_secs(5);

/// The account's channels in `vigie run`.
pub struct LiveChannels {
    events: mpsc::Receiver<LiveEvent>,
    stop: watch::Sender<bool>,
    thread: Option<std::thread::JoinHandle<()>>,
    followed: BTreeSet<String>,
    limits: ArchiveLimits,
}

/// Everything the account's thread owns (generic so tests drive it with a fake source).
struct Account<S> {
    collector: Collector<S>,
    /// (spec, name, checkpoint key, state) per channel.
    channels: Vec<(String, String, String, ChannelState)>,
    interval: Duration,
    updates: Option<mpsc::Receiver<(i64, ChannelUpdate)>>,
    out: mpsc::Sender<LiveEvent>,
}

impl LiveChannels {
    /// Connects when channels are configured; `None` otherwise. Fails clearly, before the
    /// run starts, when the account is not signed in.
    pub fn start(config: &Config, store: &Store, store_dir: &Path) -> Result<Option<LiveChannels>> {
        LiveChannels::start_waiting(config, store, store_dir, Some(Duration::from_secs(60)))
    }

    /// Starts the account again after a failure, from the store's checkpoints, without
    /// waiting for Telegram (the run loop goes on; a failed sign-in ends the thread again).
    pub fn restart(config: &Config, store: &Store, store_dir: &Path) -> Result<LiveChannels> {
        LiveChannels::start_waiting(config, store, store_dir, None)?
            .context("no [[telegram_channel]] configured")
    }

    fn start_waiting(
        config: &Config,
        store: &Store,
        store_dir: &Path,
        ready_wait: Option<Duration>,
    ) -> Result<Option<LiveChannels>> {
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
        let mut channels = Vec::new();
        for c in &config.telegram_channels {
            let name = c
                .name
                .clone()
                .unwrap_or_else(|| c.channel.trim_start_matches('@').to_string());
            let key = format!("telegram:{name}");
            let state: ChannelState = store
                .checkpoint(&key)?
                .and_then(|b| serde_json::from_slice(&b).ok())
                .unwrap_or_default();
            channels.push((c.channel.clone(), name, key, state));
        }
        let followed = channels.iter().map(|c| c.1.to_lowercase()).collect();
        let settings = CollectorConfig {
            calls_per_minute: t.calls_per_minute,
            backfill: t.backfill,
            backfill_since: t
                .backfill_since
                .as_deref()
                .and_then(vigie_store::Timestamp::parse)
                .map(|d| d.unix_seconds()),
            attachment_cap: t.attachment_cap_bytes,
            // Longer waits pause the account; shorter ones are slept on its own thread.
            max_inline_wait: Duration::from_secs(30),
            refresh: t.refresh_recent,
            ..CollectorConfig::default()
        };
        let interval = Duration::from_secs(t.interval_secs);
        let (tx, rx) = mpsc::channel(64);
        let (stop_tx, stop_rx) = watch::channel(false);
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<()>>();
        let thread = std::thread::Builder::new()
            .name("vigie-telegram".into())
            .spawn(move || {
                let rt = match runtime() {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                rt.block_on(async move {
                    let Some((source, updates)) =
                        sign_in(&path, id, &ready_tx, stop_rx.clone()).await
                    else {
                        return;
                    };
                    let account = Account {
                        collector: Collector::new(source, settings),
                        channels,
                        interval,
                        updates,
                        out: tx,
                    };
                    account.run(stop_rx).await;
                });
                rt.shutdown_timeout(Duration::from_secs(1));
            })
            .context("starting the Telegram thread")?;
        // A session that is not signed in stops the run here; Telegram being unreachable
        // does not (the account keeps trying on its thread while the rest runs).
        if let Some(wait) = ready_wait {
            match ready_rx.recv_timeout(wait) {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(e),
                Err(_) => warn!("Telegram has not answered within 60 s; the account keeps trying"),
            }
        }
        Ok(Some(LiveChannels {
            events: rx,
            stop: stop_tx,
            thread: Some(thread),
            followed,
            limits: ArchiveLimits::default(),
        }))
    }

    /// Records what the account's thread handed over; says how many alerts were queued and
    /// whether the thread's channel is closed (the thread gone).
    pub fn drain(
        &mut self,
        store: &mut Store,
        matcher: &Matcher,
        router: &Router,
    ) -> Result<Drained> {
        let mut alerts = 0;
        loop {
            match self.events.try_receive() {
                Received::Event(event) => {
                    alerts += self.record_event(store, matcher, router, event)?;
                }
                Received::Empty => {
                    return Ok(Drained {
                        alerts,
                        closed: false,
                    })
                }
                Received::Closed => {
                    return Ok(Drained {
                        alerts,
                        closed: true,
                    })
                }
            }
        }
    }

    /// Stops the account's thread and records what it had already read (bounded wait).
    pub fn stop(mut self, store: &mut Store, matcher: &Matcher, router: &Router) -> Result<()> {
        let _ = self.stop.send(true);
        let drain = Drain::new(
            DRAIN_GRACE,
            "Telegram thread still busy at shutdown; the next run reads on from the checkpoint",
        );
        while let Some(event) = drain.next(&mut self.events) {
            self.record_event(store, matcher, router, event)?;
        }
        reap(self.thread.take());
        Ok(())
    }

    fn record_event(
        &self,
        store: &mut Store,
        matcher: &Matcher,
        router: &Router,
        event: LiveEvent,
    ) -> Result<usize> {
        match event {
            LiveEvent::Message {
                channel,
                mut collected,
            } => {
                collected.message.channel = channel;
                self.record(store, matcher, router, &collected)
            }
            LiveEvent::Checkpoint { key, state } => {
                store.set_checkpoint(&key, &state)?;
                Ok(0)
            }
        }
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
            let text = match extract_with_post(&file_name, &d.bytes, self.limits, &c.message.text) {
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

impl SourceThread<Recorder<'_>> for LiveChannels {
    fn drain(&mut self, cx: &mut Recorder<'_>) -> Result<Drained> {
        LiveChannels::drain(self, cx.store, cx.matcher, cx.router)
    }
    fn thread(&mut self) -> &mut Option<std::thread::JoinHandle<()>> {
        &mut self.thread
    }
    fn stop(self, cx: &mut Recorder<'_>) -> Result<()> {
        LiveChannels::stop(self, cx.store, cx.matcher, cx.router)
    }
}

/// Connects and checks the session is signed in, then follows the updates stream. A session
/// that is not signed in (or unreadable) is reported on `ready` and ends the account; an
/// unreachable Telegram is reported as ready (with a warning) and retried with doubling
/// waits until it answers or the run stops.
async fn sign_in(
    path: &Path,
    api_id: i32,
    ready: &std::sync::mpsc::Sender<Result<()>>,
    mut stop: watch::Receiver<bool>,
) -> Option<(LiveSource, Option<mpsc::Receiver<(i64, ChannelUpdate)>>)> {
    let mut wait = Duration::from_secs(5);
    let mut reported = false;
    loop {
        let mut source = match LiveSource::connect(path, api_id) {
            Ok(s) => s,
            Err(e) => {
                let _ = ready.send(Err(e.into()));
                return None;
            }
        };
        match source.is_authorized().await {
            Ok(true) => {
                let updates = match source.follow_updates().await {
                    Ok(rx) => Some(rx),
                    Err(e) => {
                        warn!(error = %e, "no updates stream; channels are read on their interval only");
                        None
                    }
                };
                if reported {
                    info!("Telegram reachable again; the account starts");
                } else {
                    let _ = ready.send(Ok(()));
                }
                return Some((source, updates));
            }
            Ok(false) => {
                let why = anyhow::anyhow!(
                    "the Telegram session {} is not signed in: run `vigie telegram login` first",
                    path.display()
                );
                if reported {
                    tracing::error!("{why:#}");
                }
                let _ = ready.send(Err(why));
                return None;
            }
            Err(e) => {
                warn!(error = %e, retry_in_secs = wait.as_secs(), "Telegram unreachable; the account retries, the rest of Vigie runs");
                if !reported {
                    let _ = ready.send(Ok(()));
                    reported = true;
                }
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = stop.changed() => return None,
                }
                wait = (wait * 2).min(Duration::from_secs(300));
            }
        }
    }
}

impl<S: TelegramSource> Account<S> {
    /// Applies updates as they come and reads every channel's history on the interval, until
    /// `stop`. A step interrupted by the stop hands nothing over: its checkpoint did not move.
    async fn run(mut self, mut stop: watch::Receiver<bool>) {
        let mut by_peer: HashMap<i64, usize> = HashMap::new();
        for (index, c) in self.channels.iter().enumerate() {
            if let Some(p) = c.3.peer {
                by_peer.insert(p.id, index);
            }
        }
        let mut next_read = tokio::time::Instant::now();
        loop {
            let update = async {
                match &mut self.updates {
                    Some(rx) => rx.recv().await,
                    None => std::future::pending().await,
                }
            };
            let work = tokio::select! {
                _ = stop.changed() => return,
                u = update => match u {
                    Some((peer, update)) => match by_peer.get(&peer) {
                        // Channels not followed (or not read yet: their first read comes).
                        Some(&index) => vec![(index, Some(update))],
                        None => continue,
                    },
                    None => {
                        self.updates = None;
                        continue;
                    }
                },
                _ = tokio::time::sleep_until(next_read) => {
                    next_read = tokio::time::Instant::now() + self.interval;
                    (0..self.channels.len()).map(|i| (i, None)).collect()
                }
            };
            for (index, update) in work {
                let is_read = update.is_none();
                let outcome = tokio::select! {
                    _ = stop.changed() => return,
                    o = self.step(index, update) => o,
                };
                match outcome {
                    Step::Done => {}
                    Step::Closed => return,
                    Step::Paused(wait) => {
                        if is_read {
                            warn!(
                                ?wait,
                                "Telegram account paused by FLOOD_WAIT; other sources go on"
                            );
                        }
                        break;
                    }
                }
                if let Some(p) = self.channels[index].3.peer {
                    by_peer.insert(p.id, index);
                }
            }
        }
    }

    /// One history read or update for a channel; hands over its messages then its checkpoint.
    async fn step(&mut self, index: usize, update: Option<ChannelUpdate>) -> Step {
        let (spec, name, key, state) = &mut self.channels[index];
        let mut collected = Vec::new();
        let result = match update {
            None => self.collector.poll(spec, state, &mut collected).await,
            Some(u) => self.collector.apply(spec, state, u, &mut collected).await,
        };
        let count = collected.len();
        for c in collected {
            let event = LiveEvent::Message {
                channel: name.clone(),
                collected: Box::new(c),
            };
            if self.out.send(event).await.is_err() {
                return Step::Closed;
            }
        }
        // The state covers exactly what was returned, also after an error.
        let Ok(bytes) = serde_json::to_vec(state) else {
            return Step::Closed;
        };
        let checkpoint = LiveEvent::Checkpoint {
            key: key.clone(),
            state: bytes,
        };
        if self.out.send(checkpoint).await.is_err() {
            return Step::Closed;
        }
        match result {
            Ok(()) if count > 0 => {
                info!(channel = %name, new = count, last_id = state.last_id, "telegram channel read")
            }
            Ok(()) => {}
            Err(CollectorError::Paused { wait, .. }) => return Step::Paused(wait),
            Err(e) => {
                warn!(channel = %name, error = %e, "telegram read failed; retrying next interval")
            }
        }
        Step::Done
    }
}

/// How a step ended.
enum Step {
    Done,
    Paused(Duration),
    /// The run loop is gone.
    Closed,
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigie_telegram::collector::{PeerRef, SourceError, SourceMessage};
    use vigie_telegram::tl::{Converted, RemoteDocument};
    use vigie_telegram::TelegramMessage;

    /// A channel of ids 1..=n; `flood` makes the next history call wait that long first.
    struct Fake {
        ids: Vec<i64>,
        flood: Option<Duration>,
        history_calls: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    }

    fn message(id: i64) -> SourceMessage {
        SourceMessage {
            message: TelegramMessage {
                channel: "channel:42".into(),
                id,
                date: 1_795_000_000 + id,
                edited: None,
                author: None,
                views: Some(10),
                forwards: None,
                text: format!("post {id}"),
                forwarded_from: None,
                reply_to: None,
                attachments: vec![],
                ..TelegramMessage::default()
            },
            documents: vec![],
        }
    }

    impl TelegramSource for Fake {
        async fn resolve(&mut self, _: &str) -> Result<PeerRef, SourceError> {
            Ok(PeerRef {
                id: 42,
                access_hash: 7,
            })
        }
        async fn before(
            &mut self,
            _: PeerRef,
            before: Option<i64>,
            limit: usize,
        ) -> Result<Vec<SourceMessage>, SourceError> {
            self.history_calls
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let below: Vec<i64> = self
                .ids
                .iter()
                .copied()
                .filter(|&i| before.is_none_or(|b| i < b))
                .collect();
            let start = below.len().saturating_sub(limit);
            Ok(below[start..].iter().map(|&i| message(i)).collect())
        }
        async fn after(
            &mut self,
            _: PeerRef,
            after: i64,
            limit: usize,
        ) -> Result<Vec<SourceMessage>, SourceError> {
            self.history_calls
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if let Some(wait) = self.flood.take() {
                return Err(SourceError::FloodWait(wait));
            }
            Ok(self
                .ids
                .iter()
                .filter(|&&i| i > after)
                .take(limit)
                .map(|&i| message(i))
                .collect())
        }
        async fn download(
            &mut self,
            _: &RemoteDocument,
            _: u64,
        ) -> Result<(Vec<u8>, bool), SourceError> {
            Err(SourceError::Fatal("no documents here".into()))
        }
    }

    fn ids(events: &[LiveEvent]) -> Vec<String> {
        events
            .iter()
            .map(|e| match e {
                LiveEvent::Message { collected, .. } => collected.message.id.to_string(),
                LiveEvent::Checkpoint { .. } => "checkpoint".into(),
            })
            .collect()
    }

    async fn take(rx: &mut mpsc::Receiver<LiveEvent>, n: usize) -> Vec<LiveEvent> {
        let mut out = Vec::new();
        while out.len() < n {
            out.push(rx.recv().await.expect("an event"));
        }
        out
    }

    #[tokio::test(start_paused = true)]
    async fn the_account_hands_over_messages_then_checkpoints_and_stops_during_a_flood_wait() {
        let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (out, mut rx) = mpsc::channel(64);
        let (updates_tx, updates_rx) = mpsc::channel(16);
        let (stop_tx, stop_rx) = watch::channel(false);
        let account = Account {
            collector: Collector::new(
                Fake {
                    ids: (1..=3).collect(),
                    flood: Some(Duration::from_secs(20)),
                    history_calls: std::sync::Arc::clone(&calls),
                },
                CollectorConfig {
                    calls_per_minute: 600,
                    ..CollectorConfig::default()
                },
            ),
            channels: vec![(
                "medleaks".into(),
                "medleaks".into(),
                "telegram:medleaks".into(),
                ChannelState::default(),
            )],
            interval: Duration::from_secs(300),
            updates: Some(updates_rx),
            out,
        };
        // The account's future is not Send (it runs on its own thread's runtime): a LocalSet.
        let local = tokio::task::LocalSet::new();
        local
            .run_until(async move {
                let task = tokio::task::spawn_local(account.run(stop_rx));
                // First read: the backfill, oldest first, then the checkpoint covering it.
                let first = take(&mut rx, 4).await;
                assert_eq!(ids(&first), ["1", "2", "3", "checkpoint"]);
                let LiveEvent::Checkpoint { state, .. } = &first[3] else {
                    panic!()
                };
                let state: ChannelState = serde_json::from_slice(state).unwrap();
                assert_eq!(state.last_id, 3);
                let reads = calls.load(std::sync::atomic::Ordering::SeqCst);

                // An update right after the checkpoint is handed over with no history call.
                let next = message(4);
                updates_tx
                    .send((
                        42,
                        ChannelUpdate::New(Converted {
                            message: next.message,
                            documents: vec![],
                        }),
                    ))
                    .await
                    .unwrap();
                let second = take(&mut rx, 2).await;
                assert_eq!(ids(&second), ["4", "checkpoint"]);
                assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), reads);
                // Updates about channels not followed are ignored.
                updates_tx.send((99, ChannelUpdate::Gap)).await.unwrap();

                // Telegram asks for a 20 s wait at the next read: the account sleeps it on its own
                // task; a stop during the wait ends the task at once, with nothing half-handed over.
                while calls.load(std::sync::atomic::Ordering::SeqCst) == reads {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                tokio::time::sleep(Duration::from_secs(5)).await;
                stop_tx.send(true).unwrap();
                let stopped_at = tokio::time::Instant::now();
                task.await.unwrap();
                assert!(
                    stopped_at.elapsed() < Duration::from_secs(1),
                    "stop waited for the FLOOD_WAIT"
                );
                assert!(
                    rx.try_recv().is_err(),
                    "nothing handed over from the cut step"
                );
            })
            .await;
    }
}

//! [`LiveChannels`]: the `telegram` source, the `[[telegram_channel]]`s read with a user
//! account: updates from the stream as they come, and each channel's history on the
//! interval (which also fills any gap after a disconnect). The source's thread runs the
//! account on a runtime of its own (budget spacing and FLOOD_WAITs hold only that thread);
//! each step hands over its messages (and their downloaded files), then the checkpoint
//! (`telegram:NAME`) covering them.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use tokio::sync::{mpsc as tokio_mpsc, watch};
use tracing::{info, warn};
use vigie_pipeline::{Event, Shutdown, Source, SourceContext, SourceError};
use vigie_store::Timestamp;

use super::{message_events, AttachmentDoc, ChannelConfig, ConfigError, LiveConfig, Recording};
use crate::collector::{
    ChannelState, Collected, Collector, CollectorConfig, CollectorError, TelegramSource,
};
use crate::live::LiveSource;
use crate::tl::ChannelUpdate;
use crate::{extract_with_post, ArchiveLimits};

/// The first sign-in's outcome, for a caller that must fail before the run starts when the
/// account is not signed in.
pub struct Ready(mpsc::Receiver<Result<(), String>>);

impl Ready {
    /// Waits up to `wait` for the first sign-in: `Ok(true)` signed in (or Telegram
    /// unreachable: the account keeps trying on its thread), `Ok(false)` no answer yet,
    /// `Err` the session is not signed in or unreadable.
    pub fn wait(&self, wait: Duration) -> Result<bool, SourceError> {
        match self.0.recv_timeout(wait) {
            Ok(Ok(())) => Ok(true),
            Ok(Err(why)) => Err(SourceError::Config(why)),
            Err(mpsc::RecvTimeoutError::Timeout) => Ok(false),
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(SourceError::Failed(
                "the Telegram source ended before signing in".into(),
            )),
        }
    }
}

/// One followed channel: (spec, name, checkpoint key).
type ChannelSpec = (String, String, String);

/// The account's channels.
pub struct LiveChannels {
    api_id: i32,
    session: PathBuf,
    channels: Vec<ChannelSpec>,
    followed: BTreeSet<String>,
    settings: CollectorConfig,
    interval: Duration,
    /// Told the first sign-in's outcome, once.
    ready: Option<mpsc::Sender<Result<(), String>>>,
}

impl LiveChannels {
    /// The source of `channels` read with `config`'s account (none: `None`), and the
    /// first sign-in's outcome. Fails at once, before any connection, when the api_id is
    /// missing or there is no session file (`session`, else `telegram.session` in
    /// `store_dir`).
    pub fn new(
        config: &LiveConfig,
        channels: &[ChannelConfig],
        store_dir: &Path,
    ) -> Result<Option<(LiveChannels, Ready)>, ConfigError> {
        if channels.is_empty() {
            return Ok(None);
        }
        let api_id = config.api_id()?;
        let session = config.session_path(store_dir);
        if !session.exists() {
            return Err(ConfigError(format!(
                "no Telegram session at {}: run `vigie telegram login` first",
                session.display()
            )));
        }
        let channels: Vec<ChannelSpec> = channels
            .iter()
            .map(|c| {
                let name = c.source_name();
                let key = format!("telegram:{name}");
                (c.channel.clone(), name, key)
            })
            .collect();
        let (tx, rx) = mpsc::channel();
        Ok(Some((
            LiveChannels {
                api_id,
                session,
                followed: channels.iter().map(|c| c.1.to_lowercase()).collect(),
                channels,
                settings: config.collector_config(),
                interval: Duration::from_secs(config.interval_secs),
                ready: Some(tx),
            },
            Ready(rx),
        )))
    }
}

impl Source for LiveChannels {
    fn name(&self) -> &str {
        "telegram"
    }

    fn run(&mut self, cx: &SourceContext) -> Result<(), SourceError> {
        let mut channels = Vec::new();
        for (spec, name, key) in &self.channels {
            let state: ChannelState = cx
                .checkpoint(key)
                .and_then(|b| serde_json::from_slice(&b).ok())
                .unwrap_or_default();
            channels.push((spec.clone(), name.clone(), key.clone(), state));
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| SourceError::Failed(format!("starting the Telegram runtime: {e}")))?;
        let ready = self.ready.take();
        let (path, api_id) = (self.session.clone(), self.api_id);
        let account = |source| Account {
            collector: Collector::new(source, self.settings.clone()),
            channels,
            interval: self.interval,
            followed: self.followed.clone(),
            limits: ArchiveLimits::default(),
            updates: None,
            out: cx.clone(),
        };
        let result = rt.block_on(async move {
            let stop = stop_watch(cx.shutdown().clone());
            let (source, updates) = sign_in(&path, api_id, ready, stop.clone()).await?;
            let mut account = account(source);
            account.updates = updates;
            account.run(stop).await;
            Ok::<(), SourceError>(())
        });
        rt.shutdown_timeout(Duration::from_secs(1));
        result
    }
}

/// A watch that turns true once `shutdown` is signalled (checked every 100 ms).
fn stop_watch(shutdown: Shutdown) -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(shutdown.is_signalled());
    tokio::spawn(async move {
        while !shutdown.is_signalled() {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                _ = tx.closed() => return,
            }
        }
        let _ = tx.send(true);
    });
    rx
}

/// Connects and checks the session is signed in, then follows the updates stream. A session
/// that is not signed in (or unreadable) is reported on `ready` and fails the run; an
/// unreachable Telegram is reported as ready (with a warning) and retried with doubling
/// waits until it answers or the run stops (then `Ok` is never returned: the run ends).
async fn sign_in(
    path: &Path,
    api_id: i32,
    mut ready: Option<mpsc::Sender<Result<(), String>>>,
    mut stop: watch::Receiver<bool>,
) -> Result<
    (
        LiveSource,
        Option<tokio_mpsc::Receiver<(i64, ChannelUpdate)>>,
    ),
    SourceError,
> {
    let report = |ready: &mut Option<mpsc::Sender<Result<(), String>>>, r| {
        if let Some(tx) = ready.take() {
            let _ = tx.send(r);
        }
    };
    let mut retried = false;
    let mut wait = Duration::from_secs(5);
    loop {
        let mut source = match LiveSource::connect(path, api_id) {
            Ok(s) => s,
            Err(e) => {
                report(&mut ready, Err(e.to_string()));
                return Err(SourceError::Config(e.to_string()));
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
                if retried {
                    info!("Telegram reachable again; the account starts");
                }
                report(&mut ready, Ok(()));
                return Ok((source, updates));
            }
            Ok(false) => {
                let why = format!(
                    "the Telegram session {} is not signed in: run `vigie telegram login` first",
                    path.display()
                );
                report(&mut ready, Err(why.clone()));
                return Err(SourceError::Config(why));
            }
            Err(e) => {
                warn!(error = %e, retry_in_secs = wait.as_secs(), "Telegram unreachable; the account retries, the rest of Vigie runs");
                report(&mut ready, Ok(()));
                retried = true;
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = stop.wait_for(|s| *s) => {
                        return Err(SourceError::Failed("stopped before Telegram answered".into()))
                    }
                }
                wait = (wait * 2).min(Duration::from_secs(300));
            }
        }
    }
}

/// Everything the account's thread owns (generic so tests drive it with a fake source).
struct Account<S> {
    collector: Collector<S>,
    /// (spec, name, checkpoint key, state) per channel.
    channels: Vec<(String, String, String, ChannelState)>,
    interval: Duration,
    followed: BTreeSet<String>,
    limits: ArchiveLimits,
    updates: Option<tokio_mpsc::Receiver<(i64, ChannelUpdate)>>,
    out: SourceContext,
}

/// How a step ended.
enum Step {
    Done,
    Paused(Duration),
    /// Nobody takes events any more.
    Closed,
}

impl<S: TelegramSource> Account<S> {
    /// Applies updates as they come and reads every channel's history on the interval, until
    /// `stop`. A step interrupted by the stop hands nothing more over: its checkpoint did not
    /// move.
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
                _ = stop.wait_for(|s| *s) => return,
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
                    _ = stop.wait_for(|s| *s) => return,
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
                if let Some(p) = self.channels.get(index).and_then(|c| c.3.peer) {
                    by_peer.insert(p.id, index);
                }
            }
        }
    }

    /// One history read or update for a channel; hands over its messages then its checkpoint.
    async fn step(&mut self, index: usize, update: Option<ChannelUpdate>) -> Step {
        let Some((spec, name, key, state)) = self.channels.get_mut(index) else {
            return Step::Done;
        };
        let mut collected = Vec::new();
        let result = match update {
            None => self.collector.poll(spec, state, &mut collected).await,
            Some(u) => self.collector.apply(spec, state, u, &mut collected).await,
        };
        let count = collected.len();
        for mut c in collected {
            c.message.channel = name.clone();
            for event in collected_events(&c, &self.followed, self.limits) {
                if self.out.emit_async(event).await.is_err() {
                    return Step::Closed;
                }
            }
        }
        // The state covers exactly what was returned, also after an error.
        let Ok(value) = serde_json::to_vec(state) else {
            return Step::Closed;
        };
        let checkpoint = Event::Checkpoint {
            key: key.clone(),
            value,
        };
        if self.out.emit_async(checkpoint).await.is_err() {
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

/// A message's events, then one document per downloaded file (its own snapshot, matched on
/// its extracted text, at the message's place).
fn collected_events(
    c: &Collected,
    followed: &BTreeSet<String>,
    limits: ArchiveLimits,
) -> Vec<Event> {
    let how = Recording {
        collector: "telegram",
        fetched_at: Timestamp::now(),
        followed,
    };
    let mut events = message_events(&c.message, None, &how);
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
        let text = match extract_with_post(&file_name, &d.bytes, limits, &c.message.text) {
            Ok(x) => x.text,
            Err(e) => {
                warn!(channel = %c.message.channel, message = c.message.id, error = %e, "archive refused");
                Vec::new()
            }
        };
        let attachment = AttachmentDoc {
            name: &file_name,
            bytes: d.bytes.clone(),
            text,
        };
        events.extend(message_events(&c.message, Some(attachment), &how));
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collector::{Downloaded, PeerRef, SourceError as CallError, SourceMessage};
    use crate::tl::{Converted, RemoteDocument};
    use crate::{Attachment, TelegramMessage};
    use std::sync::Arc;
    use vigie_pipeline::{MatchText, NoCheckpoints, Pending};

    /// A channel of ids 1..=n; `flood` makes the next history call wait that long first.
    struct Fake {
        ids: Vec<i64>,
        flood: Option<Duration>,
        history_calls: Arc<std::sync::atomic::AtomicUsize>,
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
        async fn resolve(&mut self, _: &str) -> Result<PeerRef, CallError> {
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
        ) -> Result<Vec<SourceMessage>, CallError> {
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
        ) -> Result<Vec<SourceMessage>, CallError> {
            self.history_calls
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if let Some(wait) = self.flood.take() {
                return Err(CallError::FloodWait(wait));
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
        ) -> Result<(Vec<u8>, bool), CallError> {
            Err(CallError::Fatal("no documents here".into()))
        }
    }

    fn ids(events: &[Event]) -> Vec<String> {
        events
            .iter()
            .map(|e| match e {
                Event::Document(d) => d.label.clone(),
                Event::Checkpoint { .. } => "checkpoint".into(),
                other => format!("{other:?}"),
            })
            .collect()
    }

    async fn take(rx: &flume::Receiver<Pending>, n: usize) -> Vec<Event> {
        let mut out = Vec::new();
        while out.len() < n {
            out.push(rx.recv_async().await.expect("an event").event);
        }
        out
    }

    #[tokio::test(start_paused = true)]
    async fn the_account_hands_over_messages_then_checkpoints_and_stops_during_a_flood_wait() {
        let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (out, rx) = flume::bounded(64);
        let cx = SourceContext::new(out, Shutdown::new(), Arc::new(NoCheckpoints));
        let (updates_tx, updates_rx) = tokio_mpsc::channel(16);
        let (stop_tx, stop_rx) = watch::channel(false);
        let account = Account {
            collector: Collector::new(
                Fake {
                    ids: (1..=3).collect(),
                    flood: Some(Duration::from_secs(20)),
                    history_calls: Arc::clone(&calls),
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
            followed: ["medleaks".to_string()].into(),
            limits: ArchiveLimits::default(),
            updates: Some(updates_rx),
            out: cx,
        };
        // The account's future is not Send (it runs on its own thread's runtime): a LocalSet.
        let local = tokio::task::LocalSet::new();
        local
            .run_until(async move {
                let task = tokio::task::spawn_local(account.run(stop_rx));
                // First read: the backfill, oldest first, then the checkpoint covering it.
                let first = take(&rx, 4).await;
                assert_eq!(
                    ids(&first),
                    [
                        "telegram:medleaks/1",
                        "telegram:medleaks/2",
                        "telegram:medleaks/3",
                        "checkpoint"
                    ]
                );
                let Event::Checkpoint { key, value } = &first[3] else {
                    panic!()
                };
                assert_eq!(key, "telegram:medleaks");
                let state: ChannelState = serde_json::from_slice(value).unwrap();
                assert_eq!(state.last_id, 3);
                let Event::Document(d) = &first[0] else {
                    panic!()
                };
                assert_eq!(d.sighting.collector, "telegram");
                assert_eq!(d.sighting.source, "telegram:medleaks");
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
                let second = take(&rx, 2).await;
                assert_eq!(ids(&second), ["telegram:medleaks/4", "checkpoint"]);
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

    fn attachment(name: Option<&str>) -> Attachment {
        Attachment {
            file_name: name.map(str::to_string),
            mime_type: None,
            size: None,
            path: None,
            missing: None,
            size_shown: None,
        }
    }

    #[test]
    fn downloaded_files_follow_their_message_matched_on_their_text() {
        let c = Collected {
            message: TelegramMessage {
                channel: "medleaks".into(),
                id: 9,
                text: "échantillon".into(),
                attachments: vec![attachment(None), attachment(Some("sample.csv"))],
                ..TelegramMessage::default()
            },
            downloads: vec![Downloaded {
                index: 0,
                bytes: b"nom;ville\nDupont;Rennes\n".to_vec(),
                truncated: false,
            }],
        };
        let events = collected_events(&c, &BTreeSet::new(), ArchiveLimits::default());
        assert_eq!(
            ids(&events),
            ["telegram:medleaks/9", "telegram:medleaks/9/sample.csv"]
        );
        let Event::Document(file) = &events[1] else {
            panic!()
        };
        assert_eq!(file.content, b"nom;ville\nDupont;Rennes\n");
        assert!(
            matches!(&file.text, MatchText::Given(t) if t.windows(6).any(|w| w == b"Dupont")),
            "{:?}",
            file.text
        );
    }
}

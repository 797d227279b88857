//! The `telegram-preview` sources of `vigie run`: each channel polled on its interval on a
//! thread of its own, incremental from its checkpoint in the store; channels not followed
//! that posts point at (forwards, `t.me/NAME` links, private invites) become candidate sources.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use tracing::{info, warn};
use vigie_alerts::Router;
use vigie_match::{Matcher, ScanOptions};
use vigie_store::{content_hash, Locator, PostDetails, Sighting, Store, Timestamp};
use vigie_telegram::{PreviewClient, PreviewCursor, TelegramMessage};

use crate::config::TelegramPreviewConfig;
use crate::stopping::{reap, Drain, Received, TryReceive};
use crate::supervisor::{Drained, Recorder, SourceThread};
use crate::tor::{TorAccess, TorPages};

struct PreviewSource {
    config: TelegramPreviewConfig,
    client: PreviewClient,
    next: Instant,
    /// How far the posts handed over reach (`None`: never read, backfill first).
    after: Option<PreviewCursor>,
}

/// What the previews' thread hands the run loop, in order: a post, then the cursor past it.
enum PreviewEvent {
    // Boxed: a post with its links and media is far larger than a cursor.
    Post(Box<TelegramMessage>),
    Cursor { key: String, cursor: PreviewCursor },
}

/// How long a stopping run keeps recording posts already fetched.
const DRAIN_GRACE: Duration = Duration::from_secs(2);

/// The configured preview channels, polled on a thread of their own (a slow or unreachable
/// preview, direct or through Tor, holds nothing else); posts come back over a channel.
pub struct PreviewSources {
    events: std::sync::mpsc::Receiver<PreviewEvent>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    followed: BTreeSet<String>,
}

fn checkpoint_key(channel: &str) -> String {
    format!("telegram-preview:{channel}")
}

/// Preview pages are small; anything bigger is refused.
const PREVIEW_MAX_BODY: u64 = 8 << 20;

impl PreviewSources {
    /// Starts polling the configured channels (none: `None`) from their checkpoints; those
    /// with `via_tor` fetch through `tor` (the Tor collector's transport, present whenever
    /// one of them asks for it).
    pub fn start(
        configs: &[TelegramPreviewConfig],
        tor: Option<TorAccess>,
        store: &Store,
    ) -> Result<Option<PreviewSources>> {
        if configs.is_empty() {
            return Ok(None);
        }
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
        let mut sources = Vec::new();
        for c in configs {
            let after = store
                .checkpoint(&checkpoint_key(&c.channel))?
                .and_then(|b| serde_json::from_slice::<PreviewCursor>(&b).ok());
            sources.push(PreviewSource {
                config: c.clone(),
                client: client(c),
                next: Instant::now(),
                after,
            });
        }
        let (tx, rx) = std::sync::mpsc::sync_channel(256);
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("vigie-previews".into())
            .spawn(move || poll_previews(sources, &tx, &stopping))
            .context("starting the Telegram preview thread")?;
        Ok(Some(PreviewSources {
            events: rx,
            stop,
            thread: Some(thread),
            followed: configs.iter().map(|c| c.channel.to_lowercase()).collect(),
        }))
    }

    /// Records the posts fetched since the last call; says how many alerts were queued and
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
                Received::Event(event) => alerts += self.record(store, matcher, router, event)?,
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

    /// Stops polling and records the posts already fetched (bounded wait: a fetch in flight
    /// is abandoned; its posts were not handed over, so the next run reads them).
    pub fn stop(mut self, store: &mut Store, matcher: &Matcher, router: &Router) -> Result<()> {
        self.stop.store(true, Ordering::Relaxed);
        let drain = Drain::new(
            DRAIN_GRACE,
            "a Telegram preview fetch is still in flight at shutdown; the next run reads it",
        );
        while let Some(event) = drain.next(&mut self.events) {
            self.record(store, matcher, router, event)?;
        }
        reap(self.thread.take());
        Ok(())
    }

    fn record(
        &self,
        store: &mut Store,
        matcher: &Matcher,
        router: &Router,
        event: PreviewEvent,
    ) -> Result<usize> {
        match event {
            PreviewEvent::Post(m) => {
                let how = Recording {
                    collector: "telegram-preview",
                    fetched_at: Timestamp::now(),
                    followed: &self.followed,
                };
                Ok(record_message(store, matcher, router, &m, None, &how)?
                    .alerts
                    .len())
            }
            PreviewEvent::Cursor { key, cursor } => {
                store.set_checkpoint(&key, &serde_json::to_vec(&cursor)?)?;
                Ok(0)
            }
        }
    }
}

impl SourceThread<Recorder<'_>> for PreviewSources {
    fn drain(&mut self, cx: &mut Recorder<'_>) -> Result<Drained> {
        PreviewSources::drain(self, cx.store, cx.matcher, cx.router)
    }
    fn thread(&mut self) -> &mut Option<std::thread::JoinHandle<()>> {
        &mut self.thread
    }
    fn stop(self, cx: &mut Recorder<'_>) -> Result<()> {
        PreviewSources::stop(self, cx.store, cx.matcher, cx.router)
    }
}

/// Test hook for the end-to-end tests: with `VIGIE_TEST_PREVIEW_PANICS=N`, the first N
/// preview threads of the process panic before their first poll (the supervisor must record
/// and restart them).
fn injected_panic() {
    static STARTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = std::env::var("VIGIE_TEST_PREVIEW_PANICS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    if STARTS.fetch_add(1, Ordering::SeqCst) < n {
        panic!("injected by VIGIE_TEST_PREVIEW_PANICS");
    }
}

/// The previews' thread: each channel when due; a failure is logged and retried on the next
/// interval. Each post is followed by the cursor past it, so a stop loses and repeats nothing.
fn poll_previews(
    mut sources: Vec<PreviewSource>,
    out: &std::sync::mpsc::SyncSender<PreviewEvent>,
    stop: &AtomicBool,
) {
    injected_panic();
    while !stop.load(Ordering::Relaxed) {
        for source in &mut sources {
            if stop.load(Ordering::Relaxed) || source.next > Instant::now() {
                continue;
            }
            source.next = Instant::now() + Duration::from_secs(source.config.interval_secs);
            let channel = source.config.channel.clone();
            let polled = match source
                .client
                .poll(&channel, source.after, source.config.backfill)
            {
                Ok(m) => m,
                Err(e) => {
                    warn!(channel = %channel, error = %e, "telegram preview poll failed; retrying next interval");
                    continue;
                }
            };
            if let Some(e) = &polled.failed {
                warn!(channel = %channel, error = %e, "telegram preview: an older page failed; the pages read are recorded, the next poll resumes there");
            }
            // Posts already recorded, shown again: their views and forwards now (no cursor).
            for m in polled.seen_again {
                if out.send(PreviewEvent::Post(Box::new(m))).is_err() {
                    return;
                }
            }
            let count = polled.new.len();
            let cursors = polled
                .new
                .into_iter()
                .map(|(m, c)| (Some(m), c))
                .chain(polled.cursor.map(|c| (None, c)));
            for (post, cursor) in cursors {
                // The run loop is gone: stop.
                if let Some(m) = post {
                    if out.send(PreviewEvent::Post(Box::new(m))).is_err() {
                        return;
                    }
                }
                if source.after != Some(cursor) {
                    let key = checkpoint_key(&channel);
                    if out.send(PreviewEvent::Cursor { key, cursor }).is_err() {
                        return;
                    }
                    source.after = Some(cursor);
                }
            }
            if count > 0 {
                info!(channel = %channel, new = count, last_id = ?source.after.map(|c| c.last_id), "telegram preview polled");
            }
            if let Some(gap) = source.after.and_then(|c| c.gap) {
                warn!(
                    channel = %channel,
                    max_pages = source.config.max_pages,
                    last_id = ?source.after.map(|c| c.last_id),
                    unread_before = gap.before,
                    "telegram preview: max_pages ran out before the checkpoint; the posts between are read next poll"
                );
            }
        }
        std::thread::sleep(Duration::from_millis(100));
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
        let seen_in = format!("telegram:{}/{}", m.channel, m.id);
        for name in candidate_sources(m) {
            if !how.followed.contains(&name) && !name.eq_ignore_ascii_case(&m.channel) {
                store.note_candidate("telegram", &name, &seen_in, sighting.fetched_at)?;
            }
        }
    }
    Ok(recorded)
}

pub use vigie_telegram::source::candidate_sources;

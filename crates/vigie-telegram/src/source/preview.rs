//! [`PreviewSource`]: the `telegram-preview` source. Each configured channel is polled on
//! its interval, incrementally from its checkpoint (`telegram-preview:CHANNEL`); every post
//! is followed by the cursor past it, so a stop loses and repeats nothing. Channels not
//! followed that posts point at become candidates.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tracing::{info, warn};
use vigie_pipeline::{Event, Source, SourceContext, SourceError, Stopped};
use vigie_store::Timestamp;

use super::{message_events, PreviewConfig, Recording};
use crate::{PageFetcher, PreviewClient, PreviewCursor, TelegramMessage};

/// Builds the fetcher of a `via_tor` channel, given its label (`telegram-preview:CHANNEL`,
/// for a circuit of its own): `vigie run` passes one over its Tor transport.
pub type FetcherFactory = Box<dyn Fn(&str) -> Box<dyn PageFetcher> + Send>;

/// Preview pages are small; anything bigger is refused.
const PREVIEW_MAX_BODY: u64 = 8 << 20;

/// One channel being followed.
struct Channel {
    config: PreviewConfig,
    client: PreviewClient,
    next: Instant,
    /// How far the posts handed over reach (`None`: never read, backfill first).
    after: Option<PreviewCursor>,
}

/// The configured preview channels, polled on the source's thread (a slow or unreachable
/// preview holds no other source).
pub struct PreviewSource {
    channels: Vec<Channel>,
    followed: BTreeSet<String>,
}

fn checkpoint_key(channel: &str) -> String {
    format!("telegram-preview:{channel}")
}

impl PreviewSource {
    /// The source of `configs` (none: `None`). Channels with `via_tor` fetch through a fetcher
    /// from `tor`; without one, directly (20 s per request).
    pub fn new(configs: &[PreviewConfig], tor: Option<FetcherFactory>) -> Option<PreviewSource> {
        if configs.is_empty() {
            return None;
        }
        let channels = configs
            .iter()
            .map(|c| {
                let client = match (&tor, c.via_tor) {
                    (Some(make), true) => PreviewClient::with_fetcher(
                        &c.base_url,
                        make(&checkpoint_key(&c.channel)),
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
                Channel {
                    config: c.clone(),
                    client,
                    next: Instant::now(),
                    after: None,
                }
            })
            .collect();
        Some(PreviewSource {
            channels,
            followed: configs.iter().map(|c| c.channel.to_lowercase()).collect(),
        })
    }

    /// Polls one channel; hands over its posts, each followed by the cursor past it.
    fn poll(&mut self, index: usize, cx: &SourceContext) -> Result<(), Stopped> {
        let Some(source) = self.channels.get_mut(index) else {
            return Ok(());
        };
        source.next = Instant::now() + Duration::from_secs(source.config.interval_secs);
        let channel = source.config.channel.clone();
        let polled = match source
            .client
            .poll(&channel, source.after, source.config.backfill)
        {
            Ok(m) => m,
            Err(e) => {
                warn!(channel = %channel, error = %e, "telegram preview poll failed; retrying next interval");
                return Ok(());
            }
        };
        if let Some(e) = &polled.failed {
            warn!(channel = %channel, error = %e, "telegram preview: an older page failed; the pages read are recorded, the next poll resumes there");
        }
        let post = |m: &TelegramMessage| {
            let how = Recording {
                collector: "telegram-preview",
                fetched_at: Timestamp::now(),
                followed: &self.followed,
            };
            message_events(m, None, &how)
        };
        // Posts already recorded, shown again: their views and forwards now (no cursor).
        for m in &polled.seen_again {
            for event in post(m) {
                cx.emit(event)?;
            }
        }
        let count = polled.new.len();
        let cursors = polled
            .new
            .into_iter()
            .map(|(m, c)| (Some(m), c))
            .chain(polled.cursor.map(|c| (None, c)));
        let Some(source) = self.channels.get_mut(index) else {
            return Ok(());
        };
        for (m, cursor) in cursors {
            if let Some(m) = m {
                let how = Recording {
                    collector: "telegram-preview",
                    fetched_at: Timestamp::now(),
                    followed: &self.followed,
                };
                for event in message_events(&m, None, &how) {
                    cx.emit(event)?;
                }
            }
            if source.after != Some(cursor) {
                let value = serde_json::to_vec(&cursor).map_err(|_| Stopped)?;
                cx.emit(Event::Checkpoint {
                    key: checkpoint_key(&channel),
                    value,
                })?;
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
        Ok(())
    }
}

impl Source for PreviewSource {
    fn name(&self) -> &str {
        "telegram-preview"
    }

    /// Polls each channel when due until the run stops. A failed poll is logged and tried
    /// again on the channel's next interval.
    fn run(&mut self, cx: &SourceContext) -> Result<(), SourceError> {
        for c in &mut self.channels {
            c.after = cx
                .checkpoint(&checkpoint_key(&c.config.channel))
                .and_then(|b| serde_json::from_slice::<PreviewCursor>(&b).ok());
            c.next = Instant::now();
        }
        injected_panic();
        while !cx.is_stopping() {
            for index in 0..self.channels.len() {
                let due = self
                    .channels
                    .get(index)
                    .is_some_and(|c| c.next <= Instant::now());
                if cx.is_stopping() || !due {
                    continue;
                }
                // Nobody takes events any more: the run is over.
                if self.poll(index, cx).is_err() {
                    return Ok(());
                }
            }
            cx.shutdown().sleep(Duration::from_millis(100));
        }
        Ok(())
    }
}

/// Test hook for the end-to-end tests: with `VIGIE_TEST_PREVIEW_PANICS=N`, the first N runs
/// of the preview source in the process panic before their first poll (the supervisor must
/// record and restart them).
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use vigie_pipeline::{Checkpoints, Shutdown, Supervisor, SupervisorOptions};

    /// Posts `1..=newest` of `medleaks`, 20 per page as t.me; each post forwarded from
    /// `pharma_dark`. Records the URLs asked for.
    struct Pages {
        newest: i64,
        asked: Arc<Mutex<Vec<String>>>,
    }

    impl PageFetcher for Pages {
        fn get(&self, url: &str, _: u64) -> Result<Vec<u8>, crate::TelegramError> {
            self.asked.lock().unwrap().push(url.to_string());
            let before = url
                .split_once("?before=")
                .and_then(|(_, b)| b.parse::<i64>().ok());
            let top = before.map_or(self.newest, |b| (b - 1).min(self.newest));
            let first = (top - 19).max(1);
            let mut html = String::from("<html><head>");
            if first > 1 {
                html += &format!("<link rel=\"prev\" href=\"/s/medleaks?before={first}\">");
            }
            html += "</head><body>";
            for id in first..=top {
                html += &format!(
                    "<div class=\"tgme_widget_message\" data-post=\"medleaks/{id}\"><div class=\"tgme_widget_message_forwarded_from\"><a class=\"tgme_widget_message_forwarded_from_name\" href=\"https://t.me/pharma_dark/{id}\">Pharma</a></div><div class=\"tgme_widget_message_text\">post {id}</div></div>"
                );
            }
            html += "</body></html>";
            Ok(html.into_bytes())
        }
    }

    /// One checkpoint: the channel was read up to post 3.
    struct ReadTo3;

    impl Checkpoints for ReadTo3 {
        fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
            Ok((key == "telegram-preview:medleaks").then(|| br#"{"last_id":3}"#.to_vec()))
        }
        fn with_prefix(&self, _: &str) -> Result<Vec<(String, Vec<u8>)>, String> {
            Ok(Vec::new())
        }
    }

    #[test]
    fn the_source_emits_new_posts_from_its_checkpoint_with_cursors_and_candidates() {
        let asked = Arc::new(Mutex::new(Vec::new()));
        let shared = Arc::clone(&asked);
        let tor: FetcherFactory = Box::new(move |label: &str| {
            assert_eq!(label, "telegram-preview:medleaks");
            Box::new(Pages {
                newest: 5,
                asked: Arc::clone(&shared),
            }) as Box<dyn PageFetcher>
        });
        let config = PreviewConfig {
            channel: "medleaks".into(),
            base_url: "http://127.0.0.1:9".into(),
            interval_secs: 3600,
            backfill: 100,
            max_pages: 5,
            via_tor: true,
        };
        let source = PreviewSource::new(&[config], Some(tor)).unwrap();
        let (sup, rx) = Supervisor::start(
            vec![Box::new(source)],
            Arc::new(ReadTo3),
            Shutdown::new(),
            SupervisorOptions::default(),
        )
        .unwrap();
        let mut seen = Vec::new();
        // 3 posts shown again, 2 new, each with a candidate, and 2 cursors.
        while seen.len() < 12 {
            let event = rx.recv_timeout(Duration::from_secs(10)).unwrap().event;
            seen.push(match event {
                Event::Document(d) => {
                    assert_eq!(d.sighting.collector, "telegram-preview");
                    assert_eq!(d.sighting.source, "telegram:medleaks");
                    d.label
                }
                Event::Candidate { name, seen_in, .. } => format!("{name} in {seen_in}"),
                Event::Checkpoint { key, value } => {
                    format!("{key} = {}", String::from_utf8(value).unwrap())
                }
                other => panic!("{other:?}"),
            });
        }
        sup.stop(Duration::from_secs(5));
        assert_eq!(
            seen,
            [
                "telegram:medleaks/1",
                "pharma_dark in telegram:medleaks/1",
                "telegram:medleaks/2",
                "pharma_dark in telegram:medleaks/2",
                "telegram:medleaks/3",
                "pharma_dark in telegram:medleaks/3",
                "telegram:medleaks/4",
                "pharma_dark in telegram:medleaks/4",
                "telegram-preview:medleaks = {\"last_id\":4}",
                "telegram:medleaks/5",
                "pharma_dark in telegram:medleaks/5",
                "telegram-preview:medleaks = {\"last_id\":5}",
            ]
        );
        // One page read, through the fetcher given, never the configured address directly.
        assert_eq!(*asked.lock().unwrap(), ["http://127.0.0.1:9/s/medleaks"]);
    }
}

//! The collector's logic against a fake source, on tokio's paused clock: backfill then
//! incremental reads, the request budget, FLOOD_WAIT honoured in full, long waits pausing the
//! account, re-resolving an invalid reference once, the attachment cap, backfill to a date,
//! and updates from the stream (taken, recorded as edits, or filled from history).

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;
use vigie_telegram::collector::*;
use vigie_telegram::tl::RemoteDocument;
use vigie_telegram::{Attachment, TelegramMessage};

#[derive(Default)]
struct Fake {
    /// Message ids in the channel; those in `with_doc` carry a 5 MB document.
    ids: Vec<i64>,
    with_doc: Vec<i64>,
    /// Errors returned by the next calls, in order.
    errors: VecDeque<SourceError>,
    resolves: u32,
    calls: Vec<(String, Instant)>,
    /// The call (1-based, counted over all calls) that fails, and how.
    fail_call: Option<(usize, SourceError)>,
}

impl Fake {
    fn msg(&self, id: i64) -> SourceMessage {
        let doc = self.with_doc.contains(&id);
        SourceMessage {
            message: TelegramMessage {
                channel: "medleaks".into(),
                id,
                date: 1_795_000_000 + id,
                edited: None,
                author: None,
                views: None,
                forwards: None,
                text: format!("post {id}"),
                forwarded_from: None,
                reply_to: None,
                attachments: if doc {
                    vec![Attachment {
                        file_name: Some("dump.csv".into()),
                        mime_type: Some("text/csv".into()),
                        size: Some(5 << 20),
                        path: None,
                        missing: None,
                        size_shown: None,
                    }]
                } else {
                    vec![]
                },
                ..TelegramMessage::default()
            },
            documents: if doc {
                vec![RemoteDocument {
                    id,
                    access_hash: 1,
                    file_reference: vec![],
                    dc_id: 2,
                    size: 5 << 20,
                    media: None,
                }]
            } else {
                vec![]
            },
        }
    }

    fn enter(&mut self, what: &str) -> Result<(), SourceError> {
        self.calls.push((what.to_string(), Instant::now()));
        if let Some((n, e)) = &self.fail_call {
            if *n == self.calls.len() {
                return Err(e.clone());
            }
        }
        match self.errors.pop_front() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

impl TelegramSource for Fake {
    async fn resolve(&mut self, _spec: &str) -> Result<PeerRef, SourceError> {
        self.enter("resolve")?;
        self.resolves += 1;
        Ok(PeerRef {
            id: 42,
            access_hash: i64::from(self.resolves),
        })
    }

    async fn before(
        &mut self,
        _peer: PeerRef,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<SourceMessage>, SourceError> {
        self.enter("before")?;
        let below: Vec<i64> = self
            .ids
            .iter()
            .copied()
            .filter(|&id| before.is_none_or(|b| id < b))
            .collect();
        let start = below.len().saturating_sub(limit);
        Ok(below[start..].iter().map(|&id| self.msg(id)).collect())
    }

    async fn after(
        &mut self,
        _peer: PeerRef,
        after: i64,
        limit: usize,
    ) -> Result<Vec<SourceMessage>, SourceError> {
        self.enter("after")?;
        Ok(self
            .ids
            .iter()
            .filter(|&&id| id > after)
            .take(limit)
            .map(|&id| self.msg(id))
            .collect())
    }

    async fn download(
        &mut self,
        document: &RemoteDocument,
        cap: u64,
    ) -> Result<(Vec<u8>, bool), SourceError> {
        self.enter("download")?;
        let size = document.size as u64;
        Ok((vec![b'x'; size.min(cap) as usize], size > cap))
    }
}

fn config() -> CollectorConfig {
    CollectorConfig {
        calls_per_minute: 30,
        backfill: 100,
        backfill_since: None,
        page: 50,
        max_pages: 10,
        attachment_cap: 1 << 20,
        max_inline_wait: Duration::from_secs(300),
        refresh: 0,
    }
}

#[tokio::test(start_paused = true)]
async fn backfill_then_incremental_reads_under_the_budget() {
    let fake = Fake {
        ids: (1..=250).collect(),
        ..Fake::default()
    };
    let mut c = Collector::new(fake, config());
    let mut state = ChannelState::default();
    let mut out = Vec::new();
    c.poll("medleaks", &mut state, &mut out).await.unwrap();
    let ids: Vec<i64> = out.iter().map(|m| m.message.id).collect();
    assert_eq!(
        ids,
        (151..=250).collect::<Vec<_>>(),
        "the latest 100, oldest first"
    );
    assert_eq!(state.last_id, 250);
    assert!(state.peer.is_some());

    // Nothing new: one call, nothing returned, and the reference is not resolved again.
    out.clear();
    c.poll("medleaks", &mut state, &mut out).await.unwrap();
    assert!(out.is_empty());
    // 120 new posts arrive: read in pages of 50, oldest first, no gap, no repeat.
    c.source().ids.extend(251..=370);
    c.poll("medleaks", &mut state, &mut out).await.unwrap();
    assert_eq!(out.first().unwrap().message.id, 251);
    assert_eq!(out.last().unwrap().message.id, 370);
    assert_eq!(out.len(), 120);
    assert_eq!(c.source().resolves, 1, "a channel is resolved once");
    // 30 calls per minute: consecutive calls at least 2 s apart.
    let times: Vec<Instant> = c.source().calls.iter().map(|(_, t)| *t).collect();
    for pair in times.windows(2) {
        assert!(
            pair[1] - pair[0] >= Duration::from_secs(2),
            "{:?}",
            pair[1] - pair[0]
        );
    }
}

#[tokio::test(start_paused = true)]
async fn flood_waits_are_honoured_in_full_and_long_ones_pause_the_account() {
    let mut fake = Fake {
        ids: (1..=10).collect(),
        ..Fake::default()
    };
    fake.errors
        .push_back(SourceError::FloodWait(Duration::from_secs(37)));
    let mut c = Collector::new(fake, config());
    let mut state = ChannelState::default();
    let mut out = Vec::new();
    let start = Instant::now();
    c.poll("medleaks", &mut state, &mut out).await.unwrap();
    assert!(
        Instant::now() - start >= Duration::from_secs(37),
        "the whole wait, then one retry"
    );
    let names: Vec<&str> = c.source().calls.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["resolve", "resolve", "before"],
        "refused once, made again once: no tight loop"
    );
    assert_eq!(out.len(), 10);

    // A two-hour wait pauses the account: the poll returns at once, and so does the next one.
    c.source().ids.push(11);
    c.source()
        .errors
        .push_back(SourceError::FloodWait(Duration::from_secs(7200)));
    let before = Instant::now();
    let err = c.poll("medleaks", &mut state, &mut out).await.unwrap_err();
    assert!(
        matches!(err, CollectorError::Paused { wait, .. } if wait == Duration::from_secs(7200))
    );
    assert!(Instant::now() - before < Duration::from_secs(10));
    let calls = c.source().calls.len();
    assert!(matches!(
        c.poll("medleaks", &mut state, &mut out).await,
        Err(CollectorError::Paused { .. })
    ));
    assert_eq!(c.source().calls.len(), calls, "no call while paused");
    // After the wait, reading resumes where it stopped.
    tokio::time::advance(Duration::from_secs(7200)).await;
    out.clear();
    c.poll("medleaks", &mut state, &mut out).await.unwrap();
    assert_eq!(
        out.iter().map(|m| m.message.id).collect::<Vec<_>>(),
        vec![11]
    );
}

#[tokio::test(start_paused = true)]
async fn an_invalid_reference_is_resolved_again_once() {
    let fake = Fake {
        ids: (1..=5).collect(),
        ..Fake::default()
    };
    let mut c = Collector::new(fake, config());
    let mut state = ChannelState::default();
    let mut out = Vec::new();
    c.poll("medleaks", &mut state, &mut out).await.unwrap();
    c.source().ids.push(6);
    c.source()
        .errors
        .push_back(SourceError::PeerInvalid("CHANNEL_INVALID".into()));
    c.poll("medleaks", &mut state, &mut out).await.unwrap();
    assert_eq!(c.source().resolves, 2);
    assert_eq!(state.peer.unwrap().access_hash, 2);
    assert_eq!(out.last().unwrap().message.id, 6);
    // Twice in a row: reported, not looped on.
    c.source()
        .errors
        .push_back(SourceError::PeerInvalid("CHANNEL_INVALID".into()));
    c.source()
        .errors
        .push_back(SourceError::PeerInvalid("CHANNEL_INVALID".into()));
    let err = c.poll("medleaks", &mut state, &mut out).await.unwrap_err();
    assert!(matches!(
        err,
        CollectorError::Source(SourceError::PeerInvalid(_))
    ));
}

#[tokio::test(start_paused = true)]
async fn attachments_stop_at_the_cap_and_failures_keep_the_checkpoint_exact() {
    let fake = Fake {
        ids: (1..=6).collect(),
        with_doc: vec![3, 5],
        ..Fake::default()
    };
    let mut c = Collector::new(fake, config());
    let mut state = ChannelState::default();
    let mut out = Vec::new();
    c.poll("medleaks", &mut state, &mut out).await.unwrap();
    let with_files: Vec<&Collected> = out.iter().filter(|m| !m.downloads.is_empty()).collect();
    assert_eq!(with_files.len(), 2);
    for m in with_files {
        assert_eq!(m.downloads[0].bytes.len(), 1 << 20, "cut at the 1 MiB cap");
        assert!(m.downloads[0].truncated);
    }
    // A network failure mid-poll: what came before is kept, the rest comes next time.
    c.source().ids.extend([7, 8, 9]);
    c.source().with_doc.push(8);
    out.clear();
    // Calls: after (ok), download of 8 fails.
    c.source()
        .errors
        .push_back(SourceError::Transient("ok".into()));
    let err = c.poll("medleaks", &mut state, &mut out).await.unwrap_err();
    assert!(matches!(
        err,
        CollectorError::Source(SourceError::Transient(_))
    ));
    assert!(out.is_empty());
    assert_eq!(state.last_id, 6);
    c.poll("medleaks", &mut state, &mut out).await.unwrap();
    assert_eq!(
        out.iter().map(|m| m.message.id).collect::<Vec<_>>(),
        vec![7, 8, 9]
    );
    assert_eq!(state.last_id, 9);
}

fn names(c: &mut Collector<Fake>) -> Vec<String> {
    c.source().calls.iter().map(|(n, _)| n.clone()).collect()
}

#[tokio::test(start_paused = true)]
async fn first_sight_reads_back_to_the_configured_date_within_the_cap() {
    // Message n is dated 1_795_000_000 + n: "since" at message 121.
    let since = Some(1_795_000_000 + 121);
    let fake = Fake {
        ids: (1..=250).collect(),
        ..Fake::default()
    };
    let mut c = Collector::new(
        fake,
        CollectorConfig {
            backfill: 1000,
            backfill_since: since,
            ..config()
        },
    );
    let mut state = ChannelState::default();
    let mut out = Vec::new();
    c.poll("medleaks", &mut state, &mut out).await.unwrap();
    let ids: Vec<i64> = out.iter().map(|m| m.message.id).collect();
    assert_eq!(
        ids,
        (121..=250).collect::<Vec<_>>(),
        "back to the date, oldest first"
    );
    assert_eq!(state.last_id, 250);
    // Pages of 50 going back, and it stops at the first page older than the date.
    assert_eq!(names(&mut c), ["resolve", "before", "before", "before"]);

    // The count still caps a date backfill.
    let mut capped = Collector::new(
        Fake {
            ids: (1..=250).collect(),
            ..Fake::default()
        },
        CollectorConfig {
            backfill: 60,
            backfill_since: since,
            ..config()
        },
    );
    let (mut state, mut out) = (ChannelState::default(), Vec::new());
    capped.poll("medleaks", &mut state, &mut out).await.unwrap();
    assert_eq!(out.len(), 60);
    assert_eq!(out[0].message.id, 191);

    // A short channel: everything it has.
    let date_config = CollectorConfig {
        backfill: 1000,
        backfill_since: Some(0),
        ..config()
    };
    let short = Fake {
        ids: (1..=120).collect(),
        ..Fake::default()
    };
    let mut c = Collector::new(short, date_config.clone());
    let (mut state, mut out) = (ChannelState::default(), Vec::new());
    c.poll("medleaks", &mut state, &mut out).await.unwrap();
    assert_eq!(out.len(), 120);

    // A failure half-way (the second page) records nothing and keeps the reference; the next
    // poll starts the backfill again and gets all of it.
    let flaky = Fake {
        ids: (1..=120).collect(),
        fail_call: Some((3, SourceError::Transient("connection reset".into()))),
        ..Fake::default()
    };
    let mut c = Collector::new(flaky, date_config);
    let (mut state, mut out) = (ChannelState::default(), Vec::new());
    let err = c.poll("medleaks", &mut state, &mut out).await.unwrap_err();
    assert!(
        matches!(err, CollectorError::Source(SourceError::Transient(_))),
        "{err}"
    );
    assert!(out.is_empty());
    assert_eq!(state.last_id, 0);
    assert!(state.peer.is_some());
    c.poll("medleaks", &mut state, &mut out).await.unwrap();
    assert_eq!(out.len(), 120);
    assert_eq!(c.source().resolves, 1);
}

#[tokio::test(start_paused = true)]
async fn stream_updates_are_taken_recorded_as_edits_or_filled_from_history() {
    use vigie_telegram::tl::{ChannelUpdate, Converted};
    let fake = Fake {
        ids: (1..=10).collect(),
        with_doc: vec![12, 14],
        ..Fake::default()
    };
    let mut c = Collector::new(fake, config());
    let mut state = ChannelState::default();
    let mut out = Vec::new();
    let converted = |c: &mut Collector<Fake>, id: i64| {
        let m = c.source().msg(id);
        Converted {
            message: m.message,
            documents: m.documents,
        }
    };
    // Before the first history read, an update triggers the backfill.
    let first = converted(&mut c, 10);
    c.apply("medleaks", &mut state, ChannelUpdate::New(first), &mut out)
        .await
        .unwrap();
    assert_eq!(state.last_id, 10);
    assert_eq!(out.len(), 10);
    c.source().calls.clear();
    out.clear();

    // 11 follows the checkpoint: taken as it came, no history call.
    c.source().ids.push(11);
    let m = converted(&mut c, 11);
    c.apply("medleaks", &mut state, ChannelUpdate::New(m), &mut out)
        .await
        .unwrap();
    assert_eq!((state.last_id, out.len()), (11, 1));
    assert!(names(&mut c).is_empty(), "{:?}", names(&mut c));
    // The same update again (a reconnect replays it): nothing.
    let again = converted(&mut c, 11);
    c.apply("medleaks", &mut state, ChannelUpdate::New(again), &mut out)
        .await
        .unwrap();
    assert_eq!(out.len(), 1);

    // 12 (with a document) was missed during a disconnect; 13 arrives: history fills 12 and 13
    // in order, the document downloaded.
    c.source().ids.extend([12, 13]);
    let m = converted(&mut c, 13);
    c.apply("medleaks", &mut state, ChannelUpdate::New(m), &mut out)
        .await
        .unwrap();
    let ids: Vec<i64> = out.iter().map(|m| m.message.id).collect();
    assert_eq!(ids, [11, 12, 13]);
    assert_eq!(out[1].downloads.len(), 1);
    assert_eq!(names(&mut c), ["after", "download"]);
    c.source().calls.clear();
    out.clear();

    // An edit of 12: recorded again with its new text and file, checkpoint unchanged.
    let mut edit = converted(&mut c, 12);
    edit.message.text = "post 12 — price lowered".into();
    edit.message.edited = Some(1_795_000_500);
    c.apply(
        "medleaks",
        &mut state,
        ChannelUpdate::Edited(edit),
        &mut out,
    )
    .await
    .unwrap();
    assert_eq!(state.last_id, 13);
    assert_eq!(out[0].message.text, "post 12 — price lowered");
    assert_eq!(names(&mut c), ["download"]);
    // A reaction changes the message without an edit date: text recorded, no new download.
    let reaction = converted(&mut c, 12);
    c.apply(
        "medleaks",
        &mut state,
        ChannelUpdate::Edited(reaction),
        &mut out,
    )
    .await
    .unwrap();
    assert_eq!(out.len(), 2);
    assert!(out[1].downloads.is_empty());
    assert_eq!(names(&mut c), ["download"]);
    c.source().calls.clear();
    out.clear();

    // An edit of a message not read yet, and Telegram's "too long": both read history.
    c.source().ids.extend([14, 15]);
    let unseen = converted(&mut c, 15);
    c.apply(
        "medleaks",
        &mut state,
        ChannelUpdate::Edited(unseen),
        &mut out,
    )
    .await
    .unwrap();
    assert_eq!(state.last_id, 15);
    c.source().ids.push(16);
    c.apply("medleaks", &mut state, ChannelUpdate::Gap, &mut out)
        .await
        .unwrap();
    let ids: Vec<i64> = out.iter().map(|m| m.message.id).collect();
    assert_eq!(ids, [14, 15, 16]);
    assert_eq!(names(&mut c), ["after", "download", "after"]);
    assert_eq!(c.source().resolves, 1);
}

#[tokio::test(start_paused = true)]
async fn each_poll_reads_the_latest_messages_again_for_their_counters() {
    let fake = Fake {
        ids: (1..=30).collect(),
        with_doc: vec![29],
        ..Fake::default()
    };
    let mut c = Collector::new(
        fake,
        CollectorConfig {
            refresh: 5,
            ..config()
        },
    );
    let (mut state, mut out) = (ChannelState::default(), Vec::new());
    // First sight: the backfill (29's file downloaded) and no refresh (it just read them).
    c.poll("medleaks", &mut state, &mut out).await.unwrap();
    assert_eq!(out.len(), 30);
    assert_eq!(names(&mut c), ["resolve", "before", "download"]);
    c.source().calls.clear();
    out.clear();
    // Next poll: two new messages, then the five latest again, without downloading 29's file.
    c.source().ids.extend([31, 32]);
    c.poll("medleaks", &mut state, &mut out).await.unwrap();
    let ids: Vec<i64> = out.iter().map(|m| m.message.id).collect();
    assert_eq!(ids, [31, 32, 28, 29, 30, 31, 32]);
    assert!(out.iter().all(|m| m.downloads.is_empty()));
    assert_eq!(names(&mut c), ["after", "before"]);
    assert_eq!(
        state.last_id, 32,
        "the refresh does not move the checkpoint"
    );
}

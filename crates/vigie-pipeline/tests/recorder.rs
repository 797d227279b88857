//! The recorder against a real store and matcher: batches, duplicates inside a batch,
//! checkpoints after their documents, receipts, and sources run by the supervisor.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use vigie_core::{Category, HealthRecord, HealthStatus, Origin};
use vigie_match::{Entity, Matcher};
use vigie_pipeline::{
    Document, Event, MatchText, NoCheckpoints, Outcome, Pending, Receipt, Recorder,
    RecorderOptions, Shutdown, Source, SourceContext, SourceError, Supervisor, SupervisorOptions,
};
use vigie_store::{
    Locator, NoAlerts, Sighting, SightingOutcome, SnapshotOutcome, Store, Timestamp,
};

fn matcher() -> Arc<Matcher> {
    Arc::new(
        Matcher::from_entities(vec![Entity {
            id: "weda".into(),
            name: "Weda".into(),
            category: Category::SoftwareVendor,
            aliases: vec!["Weda Médecin".into()],
            domains: vec!["weda.fr".into()],
            finess: vec![],
            strict: false,
            strict_aliases: vec![],
            notify: vec![],
        }])
        .unwrap(),
    )
}

fn recorder(workers: usize) -> Recorder {
    Recorder::new(
        matcher(),
        Arc::new(NoAlerts),
        RecorderOptions {
            workers,
            batch_max: 64,
            linger: Duration::from_millis(5),
        },
    )
}

fn post(n: u32, text: &str) -> Event {
    let url = format!("http://forum.onion/t/{n}");
    Event::Document(Document {
        content: text.as_bytes().to_vec(),
        label: url.clone(),
        text: MatchText::Content,
        origin: Origin::Forum,
        sighting: Sighting {
            source: "forum-a".into(),
            locator: Locator::Url { url },
            fetched_at: Timestamp(1_700_000_000_000 + i64::from(n)),
            collector: "tor".into(),
            details: Default::default(),
        },
    })
}

const SALE: &str = "Selling Weda database, 40k patients, sample inside, price 1 BTC";

#[test]
fn a_batch_is_matched_on_the_pool_and_written_with_duplicates_as_repeat_sightings() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let events = vec![
        post(1, SALE),
        post(2, "nothing to see here"),
        // The same content elsewhere in the same batch: one snapshot, a second sighting.
        post(3, SALE),
        Event::Checkpoint {
            key: "tor:forum-a".into(),
            value: b"page=2".to_vec(),
        },
        Event::Checkpoint {
            key: "tor:forum-a".into(),
            value: b"page=3".to_vec(),
        },
        Event::Candidate {
            kind: "onion".into(),
            name: "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz234567.onion".into(),
            seen_in: "http://forum.onion/t/1".into(),
            at: Timestamp(1_700_000_000_000),
        },
    ];
    let out = recorder(2).record_events(&mut store, &events).unwrap();
    assert_eq!(out.new_snapshots, 2);
    let docs: Vec<_> = out
        .outcomes
        .iter()
        .filter_map(|o| match o {
            Outcome::Document { recorded, .. } => Some(recorded),
            _ => None,
        })
        .collect();
    assert_eq!(docs.len(), 3);
    assert_eq!(docs[0].snapshot, SnapshotOutcome::New);
    assert_eq!(docs[2].snapshot, SnapshotOutcome::Known);
    assert_eq!(docs[2].sighting, SightingOutcome::New, "another URL");
    let incident = docs[0].incident.expect("the sale opened an incident").0;
    assert_eq!(docs[2].incident.map(|(id, _)| id), Some(incident));
    assert_eq!(store.checkpoint("tor:forum-a").unwrap().unwrap(), b"page=3");
    assert_eq!(store.candidates().unwrap().len(), 1);
    assert_eq!(store.stats().unwrap().snapshots, 2);

    // The same batch again (a collector that restarted): nothing new, only repeats.
    let again = recorder(1).record_events(&mut store, &events).unwrap();
    assert_eq!(again.new_snapshots, 0);
    assert_eq!(store.stats().unwrap().snapshots, 2);
    assert!(store.verify().unwrap().ok());
}

#[test]
fn one_worker_and_two_give_the_same_store() {
    let events: Vec<Event> = (0..40)
        .map(|n| {
            if n % 3 == 0 {
                post(n, SALE)
            } else {
                post(n, &format!("post number {n} about weda.fr maybe"))
            }
        })
        .collect();
    let mut heads = Vec::new();
    for workers in [1, 2] {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        for chunk in events.chunks(7) {
            recorder(workers).record_events(&mut store, chunk).unwrap();
        }
        let incidents: Vec<_> = store
            .incidents(&Default::default())
            .unwrap()
            .into_iter()
            .map(|i| (i.id, i.sightings, i.severity))
            .collect();
        heads.push((store.stats().unwrap(), incidents));
    }
    assert_eq!(heads[0], heads[1]);
}

#[test]
fn receipts_are_settled_after_the_write_and_failures_carry_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    drop(Store::open(&path).unwrap());
    let got: Arc<Mutex<Vec<Result<(), String>>>> = Arc::default();
    let receipt = {
        let got = Arc::clone(&got);
        Receipt::new(move |r| got.lock().unwrap().push(r))
    };
    let pending = || Pending {
        event: post(1, SALE),
        receipt: Some(receipt.clone()),
    };
    {
        let mut store = Store::open(&path).unwrap();
        recorder(1).record(&mut store, vec![pending()]).unwrap();
    }
    // A read-only store refuses the write: the receipt says why.
    let mut read_only = Store::open_read_only(&path).unwrap();
    assert!(recorder(1)
        .record(&mut read_only, vec![post(2, "new text").into(), pending()])
        .is_err());
    let got = got.lock().unwrap();
    assert_eq!(got[0], Ok(()));
    assert!(got[1].as_ref().unwrap_err().contains("writing the store"));
}

/// Emits five posts and a checkpoint, then health, then finishes.
struct Forum;

impl Source for Forum {
    fn name(&self) -> &str {
        "forum"
    }
    fn run(&mut self, cx: &SourceContext) -> Result<(), SourceError> {
        let stop = |_| SourceError::Failed("stopping".into());
        for n in 0..5 {
            cx.emit(post(n, &format!("{SALE} #{n}"))).map_err(stop)?;
        }
        cx.emit(Event::Checkpoint {
            key: "tor:forum-a".into(),
            value: b"5".to_vec(),
        })
        .map_err(stop)?;
        cx.emit(Event::Health(HealthRecord {
            source: "forum-a".into(),
            at_ms: 1,
            status: HealthStatus::LoginWall,
            mirror: None,
            mirrors_failed: vec![],
            pages_ok: 1,
            pages_failed: 0,
            documents: 5,
            counts: Default::default(),
            blind: vec![],
            errors: vec![],
            elapsed_ms: 3,
        }))
        .map_err(stop)?;
        Ok(())
    }
}

#[test]
fn a_source_under_the_supervisor_reaches_the_store_through_the_recorder() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let (supervisor, events) = Supervisor::start(
        vec![Box::new(Forum)],
        Arc::new(NoCheckpoints),
        Shutdown::new(),
        SupervisorOptions {
            capacity: 2, // backpressure: the source waits for the recorder
            ..SupervisorOptions::default()
        },
    )
    .unwrap();
    let mut batches = 0;
    recorder(2)
        .run(
            &mut store,
            &events,
            &Shutdown::new(),
            Duration::from_millis(50),
            Duration::from_secs(5),
            |_, _| batches += 1,
        )
        .unwrap();
    supervisor.stop(Duration::from_secs(1));
    assert!(batches >= 1);
    assert_eq!(store.stats().unwrap().snapshots, 5);
    assert_eq!(store.checkpoint("tor:forum-a").unwrap().unwrap(), b"5");
    let health = store.health_history("forum-a").unwrap();
    assert_eq!(health.len(), 1);
    assert_eq!(health[0].status, HealthStatus::LoginWall);
}

/// Posts where the same content comes back in the next batches (matched again while the
/// first copy is being written) and inside batches.
fn reposted_stream() -> Vec<Event> {
    (0..120u32)
        .map(|n| match n % 5 {
            0 | 1 => post(n, SALE),
            2 => post(
                n,
                &format!("post {} about weda.fr and its patients", n / 10),
            ),
            _ => post(n, &format!("chatter number {n}")),
        })
        .collect()
}

fn summary(store: &Store) -> impl PartialEq + std::fmt::Debug {
    let incidents: Vec<_> = store
        .incidents(&Default::default())
        .unwrap()
        .into_iter()
        .map(|i| (i.id, i.sightings, i.severity))
        .collect();
    (store.stats().unwrap(), incidents)
}

#[test]
fn drain_overlaps_matching_and_writing_and_records_what_one_batch_at_a_time_records() {
    let events = reposted_stream();
    let one_at_a_time = {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        for chunk in events.chunks(64) {
            recorder(2).record_events(&mut store, chunk).unwrap();
        }
        summary(&store)
    };
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let settled: Arc<Mutex<Vec<Result<(), String>>>> = Arc::default();
    let receipt = {
        let settled = Arc::clone(&settled);
        Receipt::new(move |r| settled.lock().unwrap().push(r))
    };
    let (tx, rx) = flume::unbounded();
    for event in events.iter().cloned() {
        tx.send(Pending {
            event,
            receipt: Some(receipt.clone()),
        })
        .unwrap();
    }
    drop(tx);
    let mut batches = 0;
    let mut documents = 0;
    recorder(2)
        .drain(&mut store, &rx, |_, out| {
            batches += 1;
            documents += out.outcomes.len();
            std::ops::ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(documents, 120);
    assert!(batches >= 2, "64 per batch: {batches} batches");
    assert_eq!(summary(&store), one_at_a_time);
    let settled = settled.lock().unwrap();
    assert_eq!(settled.len(), 120);
    assert!(settled.iter().all(|r| r.is_ok()));
    assert!(store.verify().unwrap().ok());
}

#[test]
fn drain_stops_when_told_and_leaves_the_rest_in_the_channel() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let (tx, rx) = flume::unbounded();
    for event in reposted_stream() {
        tx.send(Pending::from(event)).unwrap();
    }
    let mut seen = 0;
    recorder(1)
        .drain(&mut store, &rx, |_, out| {
            seen += out.outcomes.len();
            std::ops::ControlFlow::Break(())
        })
        .unwrap();
    assert_eq!(seen, 64, "one batch of 64 recorded");
    // The next batch may have been taken off the channel and matched: it was not written.
    let stored = store.stats().unwrap();
    let again_dir = tempfile::tempdir().unwrap();
    let mut again = Store::open(again_dir.path()).unwrap();
    recorder(1)
        .record_events(&mut again, &reposted_stream()[..64])
        .unwrap();
    assert_eq!(stored, again.stats().unwrap());
}

//! Delivery against a local receiver (127.0.0.1 only): stale copies racing on one alert send
//! it once, an alert whose incident became a false positive is cancelled, and the default
//! retry schedule outlasts a receiver down for 72 hours.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use vigie_alerts::{resolve, Attempt, Deliverer, DeliveryConfig, RecipientConfig};
use vigie_core::{Analysis, Report, Severity, Signature, SIGNATURE_LEN};
use vigie_store::*;

/// Alerts the one recipient about every incident change.
struct Always;

impl AlertPolicy for Always {
    fn decide(&self, _: &Incident, _: &[AlertMark]) -> Vec<AlertDecision> {
        vec![AlertDecision {
            recipient: "cert".into(),
            reason: "new incident".into(),
        }]
    }
}

/// A store holding one pending alert (id 1) about incident 1.
fn store_with_one_alert() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let report = Report {
        path: "post".into(),
        entities: vec![],
        identifiers: Default::default(),
        sample: None,
        leak_offer: true,
        kind: vigie_core::DocumentKind::Sale,
        cues: vec![],
        topics: vec![],
        severity: Severity::High,
        why: vec!["test".into()],
        bytes: 4,
    };
    let analysis = Analysis {
        report,
        signature: Signature([0; SIGNATURE_LEN]),
    };
    let sighting = Sighting {
        source: "forum".into(),
        locator: Locator::Url {
            url: "http://example.onion/t/1".into(),
        },
        fetched_at: Timestamp::now(),
        collector: "test".into(),
        details: Default::default(),
    };
    let r = store
        .record_alerting(b"sale", &sighting, Some(&analysis), &Always)
        .unwrap();
    assert_eq!(r.alerts, vec![1]);
    (dir, store)
}

/// A receiver answering every POST with `status` after `delay`; counts the POSTs.
fn receiver(status: u16, delay: Duration) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let posts = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&posts);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let counted = Arc::clone(&counted);
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream);
                let mut length = 0usize;
                let mut line = String::new();
                loop {
                    line.clear();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    if line == "\r\n" {
                        break;
                    }
                    let lower = line.to_ascii_lowercase();
                    if let Some(v) = lower.strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                counted.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(delay);
                let mut stream = reader.into_inner();
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
            });
        }
    });
    (url, posts)
}

fn deliverer(store: &Store, url: &str) -> Deliverer {
    // From JSON, so fields added to the config later take their defaults.
    let config: RecipientConfig = serde_json::from_value(serde_json::json!({
        "id": "cert",
        "url": url,
        "secret_env": "CERT_SECRET",
    }))
    .unwrap();
    let recipients = resolve(&[config], |_| Some("0123456789abcdef0123".into())).unwrap();
    let delivery = DeliveryConfig {
        timeout_secs: 5,
        ..DeliveryConfig::default()
    };
    Deliverer::new(store.alert_queue(), recipients, delivery).unwrap()
}

#[test]
fn a_stale_copy_is_not_sent_again_nor_rolls_attempts_back() {
    let (_dir, store) = store_with_one_alert();
    let (url, posts) = receiver(200, Duration::ZERO);
    let (a, b) = (deliverer(&store, &url), deliverer(&store, &url));
    let queue = store.alert_queue();
    let stale = queue.entry(1).unwrap().unwrap();
    assert_eq!((stale.state, stale.attempts), (OutboxState::Pending, 0));
    assert!(matches!(
        a.attempt(&stale).unwrap(),
        Attempt::Delivered { .. }
    ));
    // The dispatcher read the entry before the delivery was recorded: its copy is stale.
    assert_eq!(b.attempt(&stale).unwrap(), Attempt::Skipped);
    assert_eq!(a.attempt(&stale).unwrap(), Attempt::Skipped);
    assert_eq!(posts.load(Ordering::SeqCst), 1);
    let now = queue.entry(1).unwrap().unwrap();
    assert_eq!((now.state, now.attempts), (OutboxState::Delivered, 1));
}

#[test]
fn two_deliverers_racing_on_one_alert_send_it_once() {
    let (_dir, store) = store_with_one_alert();
    // A slow receiver keeps the first request in flight while the other worker tries.
    let (url, posts) = receiver(200, Duration::from_millis(300));
    let copy = store.alert_queue().entry(1).unwrap().unwrap();
    let barrier = Arc::new(Barrier::new(4));
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let (d, copy, barrier) = (deliverer(&store, &url), copy.clone(), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                d.attempt(&copy).unwrap()
            })
        })
        .collect();
    let results: Vec<Attempt> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let delivered = results
        .iter()
        .filter(|r| matches!(r, Attempt::Delivered { .. }))
        .count();
    assert_eq!(delivered, 1, "{results:?}");
    assert_eq!(
        results.iter().filter(|r| **r == Attempt::Skipped).count(),
        3
    );
    assert_eq!(posts.load(Ordering::SeqCst), 1);
    let entry = store.alert_queue().entry(1).unwrap().unwrap();
    assert_eq!((entry.state, entry.attempts), (OutboxState::Delivered, 1));
}

#[test]
fn a_failed_attempt_is_counted_once_whatever_copy_comes_back() {
    let (_dir, store) = store_with_one_alert();
    let (url, posts) = receiver(500, Duration::ZERO);
    let d = deliverer(&store, &url);
    let queue = store.alert_queue();
    let stale = queue.entry(1).unwrap().unwrap();
    assert!(matches!(d.attempt(&stale).unwrap(), Attempt::Retry { .. }));
    assert_eq!(d.attempt(&stale).unwrap(), Attempt::Skipped);
    assert_eq!(posts.load(Ordering::SeqCst), 1);
    let entry = queue.entry(1).unwrap().unwrap();
    assert_eq!((entry.state, entry.attempts), (OutboxState::Pending, 1));
    // Redelivering a pending entry leaves it alone (it may be in flight).
    let same = queue.redeliver(1, Timestamp::now()).unwrap().unwrap();
    assert_eq!(same.attempts, 1);
}

#[test]
fn a_pending_alert_about_a_false_positive_is_cancelled_not_sent() {
    let (_dir, mut store) = store_with_one_alert();
    let (url, posts) = receiver(200, Duration::ZERO);
    let d = deliverer(&store, &url);
    store
        .set_triage(1, TriageState::FalsePositive, Some("a job offer".into()))
        .unwrap();
    let entry = store.alert_queue().entry(1).unwrap().unwrap();
    let Attempt::Cancelled { reason } = d.attempt(&entry).unwrap() else {
        panic!("not cancelled");
    };
    assert!(reason.contains("false positive"), "{reason}");
    assert!(reason.contains("a job offer"), "{reason}");
    assert_eq!(posts.load(Ordering::SeqCst), 0);
    let entry = store.alert_queue().entry(1).unwrap().unwrap();
    assert_eq!((entry.state, entry.attempts), (OutboxState::Cancelled, 0));
    assert_eq!(entry.last_error.as_deref(), Some(reason.as_str()));
    assert!(store
        .alert_queue()
        .due(Timestamp(i64::MAX), 10)
        .unwrap()
        .is_empty());
}

#[test]
fn the_default_schedule_outlasts_a_receiver_down_for_72_hours() {
    let horizon = DeliveryConfig::default().min_retry_horizon();
    assert!(
        horizon >= Duration::from_secs(72 * 3600),
        "{} h",
        horizon.as_secs() / 3600
    );
    // The schedule the README and the example config describe: 5 s doubling to 1 h.
    let d = DeliveryConfig::default();
    assert_eq!((d.backoff_secs, d.max_backoff_secs), (5, 3600));
    // Twelve attempts (the old default) gave up after about 1 h 13 min at the earliest.
    let old = DeliveryConfig {
        max_attempts: 12,
        ..DeliveryConfig::default()
    };
    assert!(old.min_retry_horizon() < Duration::from_secs(3 * 3600));
}

//! The analyst request queue: requests applied at once or left for the running writer, and
//! queue files written by earlier versions still applied.

use vigie_core::Category;
use vigie_match::{Entity, Matcher, ScanOptions};
use vigie_store::requests::{
    apply_or_queue, queue_request, Applied, Request, RequestError, Submitted,
};
use vigie_store::*;

struct Everything;

impl AlertPolicy for Everything {
    fn decide(&self, _: &Incident, _: &[AlertMark]) -> Vec<AlertDecision> {
        vec![AlertDecision {
            recipient: "cert".into(),
            reason: "test".into(),
        }]
    }
}

/// A store holding one incident (id 1) with one alert (id 1).
fn store_with_alert(dir: &std::path::Path) -> Store {
    let matcher = Matcher::from_entities(vec![Entity {
        id: "chu-nantes".into(),
        name: "CHU de Nantes".into(),
        category: Category::Hospital,
        aliases: vec![],
        domains: vec![],
        finess: vec![],
        strict: false,
        strict_aliases: vec![],
        notify: vec![],
    }])
    .unwrap();
    let text = "[VENTE] Base patients CHU de Nantes, 300 000 dossiers. Prix : 5000 USD en BTC";
    let analysis = matcher.analyze("t", text.as_bytes(), ScanOptions::default());
    let mut store = Store::open(dir).unwrap();
    let sighting = Sighting {
        source: "forum".into(),
        locator: Locator::Url {
            url: "http://example.onion/t/1".into(),
        },
        fetched_at: Timestamp::now(),
        collector: "test".into(),
        details: Default::default(),
    };
    let recorded = store
        .record_alerting(text.as_bytes(), &sighting, Some(&analysis), &Everything)
        .unwrap();
    assert_eq!(recorded.incident.map(|(id, _)| id), Some(1));
    assert!(store.alert_queue().alert(1).unwrap().is_some());
    store
}

fn state(store: &Store, incident: u64) -> Option<TriageState> {
    store.triage(incident).unwrap().map(|t| t.state)
}

#[test]
fn a_queue_file_of_an_earlier_version_is_applied_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_alert(dir.path());
    let queue = dir.path().join("requests");
    std::fs::create_dir_all(&queue).unwrap();
    // Written by hand as `vigie alerts ack` queued it before the queue moved to the store:
    // `MILLIS-PID.json`, tagged by `op`.
    std::fs::write(
        queue.join("0001764000000000-4242.json"),
        r#"{"op":"triage","alert":1,"state":"acknowledged","reason":"seen by the CERT"}"#,
    )
    .unwrap();
    // Half-written (dot name): not read.
    std::fs::write(queue.join(".0001764000000001-4242.json"), "{").unwrap();
    let run = store.apply_queued_requests();
    assert_eq!(
        run,
        QueueRun {
            applied: 1,
            refused: 0
        }
    );
    let triage = store.triage(1).unwrap().unwrap();
    assert_eq!(triage.state, TriageState::Acknowledged);
    assert_eq!(triage.reason.as_deref(), Some("seen by the CERT"));
    assert!(!queue.join("0001764000000000-4242.json").exists());
    assert!(queue.join(".0001764000000001-4242.json").exists());
}

#[test]
fn a_bad_request_is_set_aside_and_the_next_ones_still_apply() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_alert(dir.path());
    let queue = dir.path().join("requests");
    std::fs::create_dir_all(&queue).unwrap();
    std::fs::write(queue.join("0001-1.json"), r#"{"op":"shred","alert":1}"#).unwrap();
    std::fs::write(
        queue.join("0002-1.json"),
        r#"{"op":"triage","alert":99,"state":"acknowledged","reason":null}"#,
    )
    .unwrap();
    std::fs::write(
        queue.join("0003-1.json"),
        r#"{"op":"triage_incident","incident":1,"state":"false_positive","reason":"a homonym"}"#,
    )
    .unwrap();
    let run = store.apply_queued_requests();
    assert_eq!(
        run,
        QueueRun {
            applied: 1,
            refused: 2
        }
    );
    assert!(queue.join("0001-1.failed").exists());
    assert!(queue.join("0002-1.failed").exists());
    assert!(!queue.join("0003-1.json").exists());
    assert_eq!(state(&store, 1), Some(TriageState::FalsePositive));
    // Refused files are not retried.
    assert_eq!(store.apply_queued_requests(), QueueRun::default());
}

#[test]
fn requests_apply_at_once_when_no_writer_holds_the_store() {
    let dir = tempfile::tempdir().unwrap();
    drop(store_with_alert(dir.path()));
    let done = apply_or_queue(
        dir.path(),
        &Request::Triage {
            alert: 1,
            state: TriageState::Acknowledged,
            reason: None,
        },
    )
    .unwrap();
    assert_eq!(
        done,
        Submitted::Applied(Applied::Triaged {
            incident: 1,
            alert: Some(1),
            state: TriageState::Acknowledged
        })
    );
    assert_eq!(done_text(&done), "incident 1 (alert 1) is now acknowledged");
    let store = Store::open_read_only(dir.path()).unwrap();
    assert_eq!(state(&store, 1), Some(TriageState::Acknowledged));
    assert!(!dir.path().join("requests").exists());
}

fn done_text(s: &Submitted) -> String {
    match s {
        Submitted::Applied(a) => a.to_string(),
        Submitted::Queued(p) => p.display().to_string(),
    }
}

#[test]
fn requests_wait_in_order_while_a_writer_holds_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = store_with_alert(dir.path());
    let first = apply_or_queue(
        dir.path(),
        &Request::TriageIncident {
            incident: 1,
            state: TriageState::FalsePositive,
            reason: Some("homonym".into()),
        },
    )
    .unwrap();
    let Submitted::Queued(first) = first else {
        panic!("applied although the store was held: {first:?}");
    };
    // Two requests in the same millisecond keep distinct names, in order.
    let second = queue_request(
        dir.path(),
        &Request::TriageIncident {
            incident: 1,
            state: TriageState::Acknowledged,
            reason: None,
        },
    )
    .unwrap();
    assert_ne!(first, second);
    assert!(first < second);
    assert_eq!(state(&writer, 1), None);
    let run = writer.apply_queued_requests();
    assert_eq!(
        run,
        QueueRun {
            applied: 2,
            refused: 0
        }
    );
    // The later request wins.
    assert_eq!(state(&writer, 1), Some(TriageState::Acknowledged));
}

#[test]
fn errors_say_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_alert(dir.path());
    let err = store
        .apply_request(&Request::Redeliver { alert: 7 })
        .unwrap_err();
    assert!(matches!(err, RequestError::NotInOutbox(7)), "{err}");
    let err = store
        .apply_request(&Request::Triage {
            alert: 7,
            state: TriageState::Acknowledged,
            reason: None,
        })
        .unwrap_err();
    assert!(matches!(err, RequestError::NoAlert(7)), "{err}");
    let err = store
        .apply_request(&Request::TriageIncident {
            incident: 9,
            state: TriageState::Acknowledged,
            reason: None,
        })
        .unwrap_err();
    assert!(
        matches!(err, RequestError::Store(StoreError::NoIncident(9))),
        "{err}"
    );
    assert_eq!(
        store
            .apply_request(&Request::Redeliver { alert: 1 })
            .unwrap(),
        Applied::Requeued { alert: 1 }
    );
}

#[test]
fn requests_serialize_as_earlier_versions_wrote_them() {
    let r = Request::Triage {
        alert: 3,
        state: TriageState::FalsePositive,
        reason: None,
    };
    assert_eq!(
        serde_json::to_string(&r).unwrap(),
        r#"{"op":"triage","alert":3,"state":"false_positive","reason":null}"#
    );
    assert_eq!(
        serde_json::to_string(&Request::Redeliver { alert: 4 }).unwrap(),
        r#"{"op":"redeliver","alert":4}"#
    );
}

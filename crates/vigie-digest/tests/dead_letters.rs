//! Alerts in the dead-letter list are a health event the digest reports.

use vigie_core::{Analysis, Language, Report, Severity, Signature, SIGNATURE_LEN};
use vigie_digest::{build, html, markdown, IsoWeek};
use vigie_store::*;

struct Always;

impl AlertPolicy for Always {
    fn decide(&self, _: &Incident, _: &[AlertMark]) -> Vec<AlertDecision> {
        vec![AlertDecision {
            recipient: "cert".into(),
            reason: "new incident".into(),
        }]
    }
}

#[test]
fn the_digest_counts_dead_letters() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let analysis = Analysis {
        report: Report {
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
        },
        signature: Signature([0; SIGNATURE_LEN]),
    };
    for n in 0..3u8 {
        let sighting = Sighting {
            source: "forum".into(),
            locator: Locator::Url {
                url: format!("http://example.onion/t/{n}"),
            },
            fetched_at: Timestamp::now(),
            collector: "test".into(),
            details: Default::default(),
        };
        store
            .record_alerting(&[b's', n], &sighting, Some(&analysis), &Always)
            .unwrap();
    }
    let week: IsoWeek = "2026-W47".parse().unwrap();
    let digest = build(&store, week, Timestamp::now()).unwrap();
    assert_eq!(digest.dead_letters, 0);
    assert!(!markdown(&digest, Language::En).contains("dead-letter"));

    let queue = store.alert_queue();
    let mut ids: Vec<u64> = queue.alerts(10).unwrap().iter().map(|a| a.id).collect();
    ids.sort();
    assert!(ids.len() >= 2, "{ids:?}");
    for id in &ids[..2] {
        let entry = queue.entry(*id).unwrap().unwrap();
        let dead = OutboxEntry {
            state: OutboxState::Dead,
            attempts: 160,
            ..entry.clone()
        };
        assert!(queue.update(&entry, &dead).unwrap());
    }
    let digest = build(&store, week, Timestamp::now()).unwrap();
    assert_eq!(digest.dead_letters, 2);
    let md = markdown(&digest, Language::En);
    assert!(md.contains("**2 alert(s) in the dead-letter list"), "{md}");
    assert!(html(&digest, Language::Fr).contains("2 alerte(s) en échec définitif"));
}

//! Alerts as the store writes them: decided in the incident's batch, marks for updates,
//! delivery state moves, and false positives suppressing their look-alikes.

use vigie_core::Severity;
use vigie_match::ScanOptions;
use vigie_store::*;

mod common;
use common::*;

#[test]
fn alerts_and_outbox_entries_are_written_with_the_incident() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let m = matcher();
    let r = record(
        &mut store,
        &m,
        &sale("CHU de Nantes", "a"),
        "http://a.onion/1",
    );
    assert!(r.severity >= Severity::High, "{r:?}");
    assert_eq!(r.alerts, vec![1]);
    let queue = store.alert_queue();
    let alert = queue.alert(1).unwrap().unwrap();
    assert_eq!(alert.revision, 1);
    assert_eq!(alert.incident.id, r.incident.unwrap().0);
    let entry = queue.entry(1).unwrap().unwrap();
    assert_eq!(entry.state, OutboxState::Pending);
    assert_eq!(queue.due(Timestamp::now(), 10).unwrap().len(), 1);
    // The same content at the same place again changes nothing: no alert.
    let again = record(
        &mut store,
        &m,
        &sale("CHU de Nantes", "a"),
        "http://a.onion/1",
    );
    assert!(again.alerts.is_empty());
    // A new place for it updates the incident; the policy sees the previous mark.
    let elsewhere = record(
        &mut store,
        &m,
        &sale("CHU de Nantes", "a"),
        "http://b.onion/9",
    );
    assert_eq!(elsewhere.alerts, vec![2]);
    let second = queue.alert(2).unwrap().unwrap();
    assert_eq!(second.revision, 2);
    assert!(second.reason.contains("after 1 marks"), "{}", second.reason);
    // Plain `record` decides nothing.
    let plain = m.analyze(
        "t",
        sale("CHU de Rennes", "z").as_bytes(),
        ScanOptions::default(),
    );
    let r = store
        .record(
            sale("CHU de Rennes", "z").as_bytes(),
            &sighting("http://c.onion/"),
            Some(&plain),
        )
        .unwrap();
    assert!(r.alerts.is_empty());

    // Delivery state moves between keyspaces; redelivery puts a dead entry back.
    let mut dead = entry.clone();
    dead.state = OutboxState::Dead;
    dead.attempts = 3;
    assert!(queue.update(&entry, &dead).unwrap());
    // A stale copy (still pending, no attempt) cannot move it again.
    assert!(!queue.update(&entry, &entry).unwrap());
    assert_eq!(queue.entry(1).unwrap().unwrap().attempts, 3);
    assert_eq!(queue.entries(OutboxState::Dead, 10).unwrap().len(), 1);
    assert_eq!(queue.entries(OutboxState::Pending, 10).unwrap().len(), 1);
    let back = queue.redeliver(1, Timestamp::now()).unwrap().unwrap();
    assert_eq!((back.state, back.attempts), (OutboxState::Pending, 0));
    assert!(queue.entries(OutboxState::Dead, 10).unwrap().is_empty());
    assert!(queue.redeliver(99, Timestamp::now()).unwrap().is_none());

    // All of it survives a reopen, and the custody chain still verifies.
    drop(queue);
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.alert_queue().alerts(10).unwrap().len(), 2);
    assert!(store.verify().unwrap().ok());
    let r = Store::open_read_only(dir.path()).unwrap();
    assert_eq!(
        r.alert_queue()
            .entries(OutboxState::Pending, 10)
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn a_false_positive_silences_its_incident_and_its_look_alikes() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let m = matcher();
    let first = record(
        &mut store,
        &m,
        &sale("CHU de Nantes", "a"),
        "http://a.onion/1",
    );
    let incident = first.incident.unwrap().0;
    store
        .set_triage(
            incident,
            TriageState::FalsePositive,
            Some("fake data".into()),
        )
        .unwrap();
    assert_eq!(
        store.triage(incident).unwrap().unwrap().state,
        TriageState::FalsePositive
    );
    // A repost joins the incident: nothing is sent.
    let repost = record(
        &mut store,
        &m,
        &sale("CHU de Nantes", "b"),
        "http://b.onion/2",
    );
    assert_eq!(repost.incident.unwrap().0, incident);
    assert!(repost.alerts.is_empty());

    // A different sale naming a different hospital alerts as usual.
    let other = record(
        &mut store,
        &m,
        &sale("CHU de Rennes", "c"),
        "http://c.onion/3",
    );
    assert_eq!(other.alerts.len(), 1);
    assert!(other.suppressed.is_none());

    // A different text whose only organisation mention repeats the false positive's alias in
    // the same context ("du CHU de Nantes, 300"): opened as suppressed, nothing sent.
    let lookalike = "Nouvelle annonce, tout autre texte. Je vends la base patients du CHU de Nantes, 300 000 dossiers.\n\
        Contact privé, paiement Monero uniquement, échantillon sur demande.\n\
        nom;prenom;nir\nMARTIN;Paul;176024439046178\nPETIT;Anne;146084431278175\n";
    let r = record(&mut store, &m, lookalike, "http://d.onion/4");
    let opened = r.incident.unwrap();
    assert_ne!(opened.0, incident, "not a near-duplicate: its own incident");
    let suppressed = r.suppressed.expect("suppressed as a look-alike");
    assert_eq!(suppressed.state, TriageState::Suppressed);
    assert_eq!(suppressed.like_incident, Some(incident));
    assert!(r.alerts.is_empty());
    assert_eq!(
        store.triage(opened.0).unwrap().unwrap().state,
        TriageState::Suppressed
    );

    // The same hospital in another context is not suppressed.
    let fresh = "Annonce : accès VPN au CHU de Nantes vendu avec la base, 300 000 dossiers.\n\
        nom;prenom;nir\nMARTIN;Paul;176024439046178\nPETIT;Anne;146084431278175\nPrix 900 USD\n";
    let r = record(&mut store, &m, fresh, "http://e.onion/5");
    assert!(r.suppressed.is_none(), "{r:?}");
    assert_eq!(r.alerts.len(), 1);

    // Lifting the false positive removes its patterns: the same mention alerts again.
    store
        .set_triage(incident, TriageState::Acknowledged, None)
        .unwrap();
    let again = "Question du jour : qui a la base du CHU de Nantes, 300 lits de plus cette année ?
        Je fournis aussi ceci : nom;prenom;nir
LEROY;Marc;286044401602373
GARNIER;Lea;146084431278175
Paiement BTC
";
    let r = record(&mut store, &m, again, "http://f.onion/6");
    assert!(r.suppressed.is_none(), "{r:?}");
    assert_eq!(r.alerts.len(), 1, "{r:?}");
}

#[test]
fn alias_patterns_use_the_words_around_each_mention() {
    let m = matcher();
    let text = "Vente: le CHU de Nantes publie. Rien sur CHU de Rennes!";
    let report = m
        .analyze("t", text.as_bytes(), ScanOptions::default())
        .report;
    let patterns = alias_patterns(text.as_bytes(), &report);
    let readable: Vec<String> = patterns.iter().map(|p| p.replace('\u{1f}', "|")).collect();
    assert!(
        readable.contains(&"chu-nantes|chu de nantes|le|publie".to_string()),
        "{readable:?}"
    );
    assert!(
        readable.contains(&"chu-rennes|chu de rennes|sur|-".to_string()),
        "{readable:?}"
    );
}

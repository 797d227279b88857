//! Analysts merging and splitting incidents: what moves, what later reposts join, what the
//! audit trail and the custody chain hold, and what is refused.

use vigie_store::*;

mod common;
use common::*;

fn ids(store: &Store, filter: &IncidentFilter) -> Vec<u64> {
    store
        .incidents(filter)
        .unwrap()
        .iter()
        .map(|i| i.id)
        .collect()
}

fn by_entity(entity: &str) -> IncidentFilter {
    IncidentFilter {
        entity: Some(entity.into()),
        ..Default::default()
    }
}

#[test]
fn a_merge_moves_snapshots_sightings_and_later_reposts_into_the_survivor() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let m = matcher();
    let nantes = record(
        &mut store,
        &m,
        &sale("CHU de Nantes", "a"),
        "http://a.onion/1",
    );
    let rennes_text = sale("CHU de Rennes", "b");
    let rennes = record(&mut store, &m, &rennes_text, "http://b.onion/2");
    let (a, b) = (nantes.incident.unwrap().0, rennes.incident.unwrap().0);
    assert_ne!(a, b, "two organisations: two incidents before the merge");
    assert_eq!(ids(&store, &IncidentFilter::default()).len(), 2);

    let done = store
        .merge_incidents(a, b, "alice", "same seller, same dump posted twice")
        .unwrap();
    assert_eq!(done.target.id, a);
    assert_eq!(
        done.target.snapshots,
        vec![nantes.hash.clone(), rennes.hash.clone()]
    );
    assert_eq!(done.target.sightings, 2);
    let entities: Vec<&str> = done.target.entities.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(entities, ["chu-nantes", "chu-rennes"]);
    assert_eq!(done.other.merged_into, Some(a));
    assert!(done.other.snapshots.is_empty());

    // Stored as returned; the absorbed incident is out of every list and index.
    assert_eq!(store.incident(a).unwrap().unwrap(), done.target);
    assert_eq!(store.incident(b).unwrap().unwrap().merged_into, Some(a));
    assert_eq!(ids(&store, &IncidentFilter::default()), vec![a]);
    assert_eq!(ids(&store, &by_entity("chu-rennes")), vec![a]);
    let record_b = store
        .snapshot_record(&parse_hash(&rennes.hash).unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(record_b.incident, Some(a));
    // What the recipient was told about both is combined on the survivor: the later alert,
    // the higher severity, every identifier kind (no "new" alert for what was sent).
    assert!(store.alert_marks(b).unwrap().is_empty());
    let marks = store.alert_marks(a).unwrap();
    assert_eq!(marks.len(), 1);
    assert_eq!(marks[0].alert, rennes.alerts[0].max(nantes.alerts[0]));
    assert!(!marks[0].kinds.is_empty());

    // The decision is in the audit trail of both incidents, written with custody entries.
    let trail = store.audit_entries(None, 10, None, None).unwrap();
    let merges: Vec<_> = trail
        .iter()
        .filter(|e| e.action == AuditAction::Merge)
        .collect();
    assert_eq!(merges.len(), 2);
    assert!(merges.iter().any(|e| e.incident == Some(a)));
    assert!(merges.iter().any(|e| e.incident == Some(b)));
    assert!(
        merges[0].detail.contains("same seller"),
        "{}",
        merges[0].detail
    );
    assert!(store.verify_audit().unwrap().is_empty());
    let report = store.verify().unwrap();
    assert!(report.ok(), "{:?}", report.problems);

    // The same content seen elsewhere, and an edited repost, join the survivor.
    let again = record(&mut store, &m, &rennes_text, "http://c.onion/3");
    assert_eq!(again.incident.unwrap().0, a);
    let repost = record(
        &mut store,
        &m,
        &sale("CHU de Rennes", "b2"),
        "http://d.onion/4",
    );
    assert_eq!(
        repost.incident.unwrap().0,
        a,
        "the band keys name the survivor"
    );
    assert_eq!(store.incident(a).unwrap().unwrap().sightings, 4);
    // The tombstone is untouched by later content.
    assert!(store.incident(b).unwrap().unwrap().snapshots.is_empty());
}

#[test]
fn a_split_moves_the_chosen_snapshots_to_a_new_incident() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let m = matcher();
    let first = record(
        &mut store,
        &m,
        &sale("CHU de Nantes", "a"),
        "http://a.onion/1",
    );
    // A near-duplicate that also names Rennes: the recorder groups it with the first.
    let second_text = format!(
        "{}Livraison aussi possible au CHU de Rennes.\n",
        sale("CHU de Nantes", "a")
    );
    let second = record(&mut store, &m, &second_text, "http://b.onion/2");
    let id = first.incident.unwrap().0;
    assert_eq!(second.incident.unwrap().0, id, "grouped by the recorder");
    assert_eq!(ids(&store, &by_entity("chu-rennes")), vec![id]);

    let done = store
        .split_incident(
            id,
            std::slice::from_ref(&second.hash),
            "bob",
            "a different seller's post",
        )
        .unwrap();
    let new_id = done.target.id;
    assert!(new_id > id);
    assert_eq!(done.target.snapshots, vec![second.hash.clone()]);
    assert_eq!(done.other.snapshots, vec![first.hash.clone()]);
    assert_eq!((done.target.sightings, done.other.sightings), (1, 1));
    let kept: Vec<&str> = done.other.entities.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(kept, ["chu-nantes"], "Rennes went with the split snapshot");
    assert_eq!(ids(&store, &by_entity("chu-rennes")), vec![new_id]);
    let mut all = ids(&store, &IncidentFilter::default());
    all.sort();
    assert_eq!(all, vec![id, new_id]);
    // Recipients told about the incident are not told again about the part split off.
    assert_eq!(store.alert_marks(new_id).unwrap().len(), 1);
    let trail = store.audit_entries(None, 10, Some(new_id), None).unwrap();
    assert_eq!(trail.len(), 1);
    assert_eq!(trail[0].action, AuditAction::Split);
    assert!(store.verify_audit().unwrap().is_empty());

    // The split content seen again joins the new incident; a new incident after the split
    // gets a fresh id (the counter moved on and was persisted).
    let again = record(&mut store, &m, &second_text, "http://c.onion/3");
    assert_eq!(again.incident.unwrap().0, new_id);
    drop(store);
    let mut store = Store::open(dir.path()).unwrap();
    let other = record(
        &mut store,
        &m,
        &sale("CHU de Rennes", "zz"),
        "http://d.onion/4",
    );
    assert!(other.incident.unwrap().0 > new_id);
}

#[test]
fn impossible_regroupings_are_refused_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let m = matcher();
    let a = record(
        &mut store,
        &m,
        &sale("CHU de Nantes", "a"),
        "http://a.onion/1",
    );
    let b = record(
        &mut store,
        &m,
        &sale("CHU de Rennes", "b"),
        "http://b.onion/2",
    );
    let (ia, ib) = (a.incident.unwrap().0, b.incident.unwrap().0);
    let head = store.custody_head().clone();
    let refused = |r: Result<Regrouped, StoreError>| match r {
        Err(StoreError::Regroup(why)) => why,
        other => panic!("expected a refusal, got {other:?}"),
    };

    assert!(refused(store.merge_incidents(ia, ia, "u", "reason")).contains("itself"));
    assert!(matches!(
        store.merge_incidents(ia, 999, "u", "reason"),
        Err(StoreError::NoIncident(999))
    ));
    assert!(refused(store.split_incident(ia, &[], "u", "reason")).contains("choose"));
    assert!(
        refused(store.split_incident(ia, std::slice::from_ref(&a.hash), "u", "reason"))
            .contains("at least one")
    );
    assert!(
        refused(store.split_incident(ia, std::slice::from_ref(&b.hash), "u", "reason"))
            .contains("not in incident")
    );
    assert_eq!(store.custody_head(), &head, "nothing written");

    store
        .set_triage(ib, TriageState::FalsePositive, None)
        .unwrap();
    assert!(refused(store.merge_incidents(ia, ib, "u", "reason")).contains("false positive"));
    store.set_triage(ib, TriageState::New, None).unwrap();
    store.merge_incidents(ia, ib, "u", "reason").unwrap();
    assert!(refused(store.merge_incidents(ia, ib, "u", "reason")).contains("merged into"));
    assert!(refused(store.merge_incidents(ib, ia, "u", "reason")).contains("merged into"));

    // A decision about the absorbed id (from an alert sent before the merge) lands on the
    // survivor, which holds the content.
    assert_eq!(store.live_incident_id(ib).unwrap(), ia);
    store
        .set_triage(ib, TriageState::FalsePositive, Some("old alert".into()))
        .unwrap();
    assert_eq!(
        store.triage(ia).unwrap().unwrap().state,
        TriageState::FalsePositive
    );
    // The tombstone keeps the state it had before the merge.
    assert_eq!(store.triage(ib).unwrap().unwrap().state, TriageState::New);
}

//! The store's behaviour an analyst relies on: one snapshot per content, repeat sightings,
//! reposts grouped into one incident, tamper detection, retention, export, bad directories.

use std::path::Path;

use rocksdb::{ColumnFamilyDescriptor, Options, DB};
use vigie_core::{Category, Severity};
use vigie_match::{Entity, Matcher, ScanOptions};
use vigie_store::column_families::*;
use vigie_store::*;

fn entity(id: &str, name: &str, aliases: &[&str], category: Category) -> Entity {
    Entity {
        id: id.into(),
        name: name.into(),
        category,
        aliases: aliases.iter().map(|s| s.to_string()).collect(),
        domains: vec![],
        finess: vec![],
        strict: false,
        strict_aliases: vec![],
        notify: vec![],
    }
}

fn matcher() -> Matcher {
    Matcher::from_entities(vec![
        entity("chu-nantes", "CHU de Nantes", &[], Category::Hospital),
        entity("chu-rennes", "CHU de Rennes", &[], Category::Hospital),
        entity("hcl", "Hospices Civils de Lyon", &[], Category::Hospital),
    ])
    .unwrap()
}

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/reposts")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn sighting(source: &str, url: &str, at: &str) -> Sighting {
    Sighting {
        source: source.into(),
        locator: Locator::Url { url: url.into() },
        fetched_at: Timestamp::parse(at).unwrap(),
        collector: "test".into(),
        details: Default::default(),
    }
}

fn record(store: &mut Store, m: &Matcher, text: &str, s: &Sighting) -> Recorded {
    let analysis = m.analyze("t", text.as_bytes(), ScanOptions::default());
    store.record(text.as_bytes(), s, Some(&analysis)).unwrap()
}

const REPOSTS: [(&str, &str, &str); 5] = [
    ("forum_a_original.txt", "forum-a", "http://aaaa.onion/t/1"),
    (
        "forum_b_repost_price.txt",
        "forum-b",
        "http://bbbb.onion/viewtopic.php?t=9",
    ),
    (
        "forum_c_new_handle.txt",
        "forum-c",
        "http://cccc.onion/threads/77",
    ),
    (
        "telegram_chan1_msg812.txt",
        "telegram:chan1",
        "https://t.me/chan1/812",
    ),
    (
        "telegram_chan2_msg77.txt",
        "telegram:chan2",
        "https://t.me/chan2/77",
    ),
];

#[test]
fn one_sale_reposted_on_three_forums_and_two_channels_is_one_incident() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let m = matcher();
    let mut incident_ids = Vec::new();
    for (i, (file, source, url)) in REPOSTS.iter().enumerate() {
        let r = record(
            &mut store,
            &m,
            &fixture(file),
            &sighting(source, url, &format!("2026-11-0{}", i + 1)),
        );
        assert_eq!(
            r.snapshot,
            SnapshotOutcome::New,
            "{file}: the reposts are edited, so distinct contents"
        );
        assert!(r.severity >= Severity::High, "{file}: {:?}", r.severity);
        incident_ids.push(r.incident.expect("a sale opens or joins an incident").0);
    }
    assert!(
        incident_ids.iter().all(|&id| id == incident_ids[0]),
        "{incident_ids:?}"
    );
    let incident = store.incident(incident_ids[0]).unwrap().unwrap();
    assert_eq!(incident.sightings, 5);
    assert_eq!(incident.snapshots.len(), 5);
    assert_eq!(incident.sources.len(), 5);
    assert_eq!(incident.entities[0].id, "chu-nantes");
    assert_eq!(incident.first_seen, Timestamp::parse("2026-11-01").unwrap());
    assert_eq!(incident.last_seen, Timestamp::parse("2026-11-05").unwrap());

    // The same template reused for other hospitals' data: other incidents.
    for (file, org) in [
        ("template_other_sale_rennes.txt", "chu-rennes"),
        ("template_other_sale_lyon.txt", "hcl"),
    ] {
        let r = record(
            &mut store,
            &m,
            &fixture(file),
            &sighting("forum-a", file, "2026-11-06"),
        );
        let (id, change) = r.incident.unwrap();
        assert_eq!(change, IncidentChange::Opened, "{file}");
        assert_ne!(id, incident_ids[0]);
        assert_eq!(store.incident(id).unwrap().unwrap().entities[0].id, org);
    }
    assert_eq!(
        store.incidents(&IncidentFilter::default()).unwrap().len(),
        3
    );
    assert!(store.verify().unwrap().ok());
}

#[test]
fn signature_similarity_of_the_fixtures_supports_the_threshold() {
    // Documents the measured margins behind incident::NEAR_DUP_THRESHOLD.
    let sig = |f: &str| vigie_match::near_dup::signature(&fixture(f));
    let original = sig(REPOSTS[0].0);
    for (file, _, _) in &REPOSTS[1..] {
        let s = original.similarity(&sig(file));
        assert!(s >= 0.75, "{file}: {s}");
    }
    // The same template filled in for another sale stays below the threshold on its own.
    for other in [
        "template_other_sale_rennes.txt",
        "template_other_sale_lyon.txt",
    ] {
        let s = original.similarity(&sig(other));
        assert!(s < incident::NEAR_DUP_THRESHOLD, "{other}: {s}");
    }
    let unrelated = vigie_match::near_dup::signature(
        "Selling access to a French clinic's VPN, domain admin, 3 sites, price 2k, escrow ok",
    );
    assert!(original.similarity(&unrelated) < incident::NEAR_DUP_THRESHOLD);
}

#[test]
fn identical_content_is_stored_once_and_repeat_sightings_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let m = matcher();
    let text = fixture("forum_a_original.txt");
    let a = record(
        &mut store,
        &m,
        &text,
        &sighting("forum-a", "http://aaaa.onion/t/1", "2026-11-01"),
    );
    // Known content needs no analysis.
    let b = store
        .record(
            text.as_bytes(),
            &sighting("forum-b", "http://bbbb.onion/t/2", "2026-11-02"),
            None,
        )
        .unwrap();
    let c = store
        .record(
            text.as_bytes(),
            &sighting("forum-a", "http://aaaa.onion/t/1", "2026-11-03"),
            None,
        )
        .unwrap();
    assert_eq!(
        (a.snapshot, a.sighting),
        (SnapshotOutcome::New, SightingOutcome::New)
    );
    assert_eq!(
        (b.snapshot, b.sighting),
        (SnapshotOutcome::Known, SightingOutcome::New)
    );
    assert_eq!(
        (c.snapshot, c.sighting),
        (SnapshotOutcome::Known, SightingOutcome::Repeat)
    );
    assert_eq!(c.incident.unwrap().1, IncidentChange::Unchanged);
    let stats = store.stats().unwrap();
    assert_eq!(
        (stats.snapshots, stats.sightings, stats.incidents),
        (1, 2, 1)
    );
    let sightings = store.sightings_of(&content_hash(text.as_bytes())).unwrap();
    let again = sightings.iter().find(|s| s.source == "forum-a").unwrap();
    assert_eq!(again.times_seen, 2);
    assert_eq!(again.last_seen, Timestamp::parse("2026-11-03").unwrap());
    let incident = store.incident(a.incident.unwrap().0).unwrap().unwrap();
    assert_eq!(incident.sightings, 2);
    assert_eq!(incident.last_seen, Timestamp::parse("2026-11-03").unwrap());
    // New content without its analysis is refused, and nothing is written.
    let err = store
        .record(b"never seen", &sighting("x", "y", "2026-11-04"), None)
        .unwrap_err();
    assert!(matches!(err, StoreError::MissingAnalysis(_)), "{err}");
    assert_eq!(store.stats().unwrap().sightings, 2);
    assert!(store.verify().unwrap().ok());
    // Original bytes come back unchanged.
    assert_eq!(
        store
            .snapshot_bytes(&content_hash(text.as_bytes()))
            .unwrap()
            .unwrap(),
        text.as_bytes()
    );
}

#[test]
fn a_repeat_sighting_keeps_the_latest_view_and_forward_counts() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let m = matcher();
    let text = fixture("telegram_chan1_msg812.txt");
    let at = |day: &str, views: Option<u64>, forwards: Option<u64>| {
        let mut s = sighting("telegram:chan1", "https://t.me/chan1/812", day);
        s.locator = Locator::Message {
            channel: "chan1".into(),
            message_id: 812,
        };
        s.details = PostDetails {
            posted_at: Timestamp::parse("2026-10-31"),
            author: Some("admin".into()),
            views,
            forwards,
            ..PostDetails::default()
        };
        s
    };
    record(&mut store, &m, &text, &at("2026-11-01", Some(120), Some(3)));
    let hash = content_hash(text.as_bytes());
    // Later fetch: more views; it does not say forwards, which are kept.
    store
        .record(text.as_bytes(), &at("2026-11-03", Some(4300), None), None)
        .unwrap();
    // A late-arriving older fetch does not roll the counters back.
    store
        .record(text.as_bytes(), &at("2026-11-02", Some(900), Some(9)), None)
        .unwrap();
    let rows = store.sightings_of(&hash).unwrap();
    assert_eq!(rows.len(), 1);
    let d = &rows[0].details;
    assert_eq!(
        (rows[0].times_seen, d.views, d.forwards),
        (3, Some(4300), Some(3))
    );
    assert_eq!(d.author.as_deref(), Some("admin"));
    assert_eq!(d.posted_at, Timestamp::parse("2026-10-31"));
    assert!(store.verify().unwrap().ok());
    // Sightings without details keep their old serialized form (custody hashes unchanged).
    let plain = sighting("forum-a", "http://aaaa.onion/t/1", "2026-11-01");
    assert!(!serde_json::to_string(&plain).unwrap().contains("details"));
}

#[test]
fn low_severity_content_is_kept_without_an_incident() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let m = matcher();
    let r = record(
        &mut store,
        &m,
        "Le CHU de Nantes ouvre un nouveau service de pédiatrie.",
        &sighting("news", "u", "2026-11-01"),
    );
    assert!(r.severity <= Severity::Low);
    assert!(r.incident.is_none());
    assert_eq!(store.stats().unwrap().snapshots, 1);
}

fn raw_db(dir: &Path) -> DB {
    let cfs = ALL_CFS
        .iter()
        .map(|n| ColumnFamilyDescriptor::new(*n, Options::default()));
    DB::open_cf_descriptors(&Options::default(), dir.join(MARKER_FILE), cfs).unwrap()
}

/// Overwrites the store's schema version, as another version of Vigie would have left it.
fn write_schema(db: &DB, version: u32) {
    db.put_cf(
        db.cf_handle(CF_META).unwrap(),
        b"schema_version",
        version.to_be_bytes(),
    )
    .unwrap();
}

/// A store with a few sightings, closed, for tampering.
fn populated() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let m = matcher();
    for (i, (file, source, url)) in REPOSTS.iter().enumerate() {
        record(
            &mut store,
            &m,
            &fixture(file),
            &sighting(source, url, &format!("2026-11-0{}", i + 1)),
        );
    }
    assert!(store.verify().unwrap().ok());
    dir
}

fn problems(dir: &Path) -> Vec<String> {
    Store::open_read_only(dir)
        .unwrap()
        .verify()
        .unwrap()
        .problems
}

#[test]
fn verify_catches_an_edited_snapshot_byte() {
    let dir = populated();
    {
        let db = raw_db(dir.path());
        let cf = db.cf_handle(CF_SNAPSHOTS).unwrap();
        let (k, v) = db
            .iterator_cf(cf, rocksdb::IteratorMode::Start)
            .next()
            .unwrap()
            .unwrap();
        let mut v = v.to_vec();
        v[10] ^= 0x01;
        db.put_cf(cf, k, v).unwrap();
    }
    let p = problems(dir.path());
    assert!(p[0].contains("bytes were altered"), "{p:?}");
}

#[test]
fn custody_entries_written_as_json_by_older_versions_still_verify() {
    let dir = populated();
    let entries = Store::open_read_only(dir.path())
        .unwrap()
        .custody_entries()
        .unwrap();
    {
        // Entries are binary now: rewrite every one as JSON, as older versions stored them.
        let db = raw_db(dir.path());
        let cf = db.cf_handle(CF_CUSTODY).unwrap();
        for e in &entries {
            let old = db.get_cf(cf, e.seq.to_be_bytes()).unwrap().unwrap();
            assert_ne!(old.first(), Some(&b'{'), "entry {} was JSON", e.seq);
            db.put_cf(cf, e.seq.to_be_bytes(), serde_json::to_vec(e).unwrap())
                .unwrap();
        }
    }
    let mut store = Store::open(dir.path()).unwrap();
    assert_eq!(store.custody_entries().unwrap(), entries);
    assert!(store.verify().unwrap().ok());
    // New entries (binary) chain onto the JSON ones.
    record(
        &mut store,
        &matcher(),
        &fixture("template_other_sale_lyon.txt"),
        &sighting("forum-d", "http://dddd.onion/t/5", "2026-11-09"),
    );
    assert_eq!(store.custody_entries().unwrap().len(), entries.len() + 2);
    let report = store.verify().unwrap();
    assert!(report.ok(), "{:?}", report.problems);
}

#[test]
fn verify_catches_a_deleted_custody_entry() {
    let dir = populated();
    {
        let db = raw_db(dir.path());
        db.delete_cf(db.cf_handle(CF_CUSTODY).unwrap(), 4u64.to_be_bytes())
            .unwrap();
    }
    let p = problems(dir.path());
    assert!(p[0].contains("custody entry 4 missing"), "{p:?}");
    // Deleting the last entry leaves no gap, but the recorded head disagrees.
    let dir = populated();
    let last = Store::open_read_only(dir.path())
        .unwrap()
        .custody_head()
        .seq;
    {
        let db = raw_db(dir.path());
        db.delete_cf(db.cf_handle(CF_CUSTODY).unwrap(), last.to_be_bytes())
            .unwrap();
    }
    let p = problems(dir.path());
    assert!(
        p.iter().any(|x| x.contains("removed from the end")),
        "{p:?}"
    );
}

#[test]
fn verify_catches_reordered_custody_entries() {
    let dir = populated();
    {
        let db = raw_db(dir.path());
        let cf = db.cf_handle(CF_CUSTODY).unwrap();
        let a = db.get_cf(cf, 2u64.to_be_bytes()).unwrap().unwrap();
        let b = db.get_cf(cf, 3u64.to_be_bytes()).unwrap().unwrap();
        db.put_cf(cf, 2u64.to_be_bytes(), b).unwrap();
        db.put_cf(cf, 3u64.to_be_bytes(), a).unwrap();
    }
    let p = problems(dir.path());
    assert!(p[0].contains("position 2 says it is entry 3"), "{p:?}");
}

#[test]
fn verify_catches_an_edited_sighting_and_a_rewritten_entry() {
    let dir = populated();
    let entry = Store::open_read_only(dir.path())
        .unwrap()
        .custody_entry(1)
        .unwrap()
        .unwrap();
    {
        let db = raw_db(dir.path());
        let cf = db.cf_handle(CF_SIGHTINGS).unwrap();
        let (k, v) = db
            .iterator_cf(cf, rocksdb::IteratorMode::Start)
            .next()
            .unwrap()
            .unwrap();
        let mut rec: serde_json::Value = serde_json::from_slice(&v).unwrap();
        rec["source"] = "somewhere-else".into();
        db.put_cf(cf, k, serde_json::to_vec(&rec).unwrap()).unwrap();
        // An entry rewritten with a consistent-looking but wrong object hash (as JSON, the
        // encoding of older stores, which is still read).
        let cf = db.cf_handle(CF_CUSTODY).unwrap();
        let mut e = entry.clone();
        e.object = "00".repeat(32);
        db.put_cf(cf, 1u64.to_be_bytes(), serde_json::to_vec(&e).unwrap())
            .unwrap();
    }
    let p = problems(dir.path());
    assert!(
        p[0].contains("custody entry 1: its fields were altered"),
        "{p:?}"
    );
    assert!(
        p.iter().any(|x| x.contains("its record was altered")),
        "{p:?}"
    );
}

/// `days` days after now.
fn days_from_now(days: i64) -> Timestamp {
    Timestamp(Timestamp::now().0 + days * 86_400_000)
}

#[test]
fn retention_counts_from_storage_and_verify_still_passes() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let m = matcher();
    // Posted and fetched in 2020 (an old Telegram export imported today), stored now.
    let old = record(
        &mut store,
        &m,
        &fixture("forum_a_original.txt"),
        &sighting("telegram:chan1", "old", "2020-03-01"),
    );
    let recent = record(
        &mut store,
        &m,
        &fixture("forum_b_repost_price.txt"),
        &sighting("f", "new", "2026-11-20"),
    );
    let harmless = record(
        &mut store,
        &m,
        "Le CHU de Nantes recrute.",
        &sighting("f", "x", "2020-01-01"),
    );
    let hash = |h: &str| parse_hash(h).unwrap();
    // Today and 29 days on, everything stays: the period counts from storage, not from 2020.
    for now in [Timestamp::now(), days_from_now(29)] {
        let report = store.apply_retention(30, now).unwrap();
        assert!(report.purged.is_empty(), "{report:?}");
        assert_eq!((report.kept_personal, report.kept_other), (2, 1));
    }
    assert!(store.snapshot_bytes(&hash(&old.hash)).unwrap().is_some());

    let now = days_from_now(31);
    let report = store.apply_retention(30, now).unwrap();
    let mut expected = vec![old.hash.clone(), recent.hash.clone()];
    expected.sort();
    let mut purged = report.purged.clone();
    purged.sort();
    assert_eq!(purged, expected);
    assert_eq!((report.kept_personal, report.kept_other), (0, 1));
    assert!(store.snapshot_bytes(&hash(&old.hash)).unwrap().is_none());
    assert!(store.snapshot_bytes(&hash(&recent.hash)).unwrap().is_none());
    assert!(store
        .snapshot_bytes(&hash(&harmless.hash))
        .unwrap()
        .is_some());
    let kept = store.snapshot_record(&hash(&old.hash)).unwrap().unwrap();
    assert_eq!(kept.purged_at, Some(now));
    assert!(
        kept.analysis.report.valid(vigie_core::IdentifierKind::Nir) > 0,
        "findings stay"
    );
    let last = store.custody_entries().unwrap().pop().unwrap();
    assert_eq!(last.action, CustodyAction::RawPurged);
    let v = store.verify().unwrap();
    assert!(v.ok(), "{:?}", v.problems);
    assert_eq!(v.purged, 2);
    // Idempotent.
    assert!(store.apply_retention(30, now).unwrap().purged.is_empty());
    // A re-sighting of purged content is still recorded (the bytes stay purged; the hash matches).
    let again = store
        .record(
            fixture("forum_a_original.txt").as_bytes(),
            &sighting("f", "again", "2026-11-23"),
            None,
        )
        .unwrap();
    assert_eq!(again.snapshot, SnapshotOutcome::Known);
    assert!(store.verify().unwrap().ok());
}

/// What `vigie import` records for an attachment whose contents it could not read.
fn record_unread(store: &mut Store, m: &Matcher, bytes: &[u8], s: &Sighting) -> Recorded {
    let analysis = m.analyze("attachment", b"", ScanOptions::default());
    store.record(bytes, s, Some(&analysis)).unwrap()
}

#[test]
fn retention_covers_binaries_the_matcher_could_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let m = matcher();
    // A refused archive (zip header, NUL bytes) and a PDF with an unreadable text layer: no
    // findings, but they may hold personal data.
    let zip = b"PK\x03\x04\x14\x00\x00\x00\x08\x00patients.csv\x00\xff\x10".to_vec();
    let pdf = b"%PDF-1.7\n1 0 obj << /Length 9 >> stream\nq 1 0 0 RG\nendstream\n".to_vec();
    // Text in Latin-1 (not UTF-8) is still text.
    let latin1 = b"Le CHU de Nantes recrute un infirmier \xe0 temps plein.\r\n".to_vec();
    let zip = record_unread(&mut store, &m, &zip, &sighting("t", "z", "2026-01-01"));
    let pdf = record_unread(&mut store, &m, &pdf, &sighting("t", "p", "2026-01-01"));
    let text = record_unread(&mut store, &m, &latin1, &sighting("t", "l", "2026-01-01"));
    let report = store.apply_retention(30, Timestamp::now()).unwrap();
    assert!(report.purged.is_empty(), "{report:?}");
    assert_eq!((report.kept_personal, report.kept_other), (2, 1));
    let report = store.apply_retention(30, days_from_now(31)).unwrap();
    let mut purged = report.purged.clone();
    purged.sort();
    let mut expected = vec![zip.hash.clone(), pdf.hash.clone()];
    expected.sort();
    assert_eq!(purged, expected);
    let hash = |h: &str| parse_hash(h).unwrap();
    assert!(store.snapshot_bytes(&hash(&text.hash)).unwrap().is_some());
    assert!(store.verify().unwrap().ok());
}

#[test]
fn records_without_a_storage_time_fall_back_to_their_first_fetch() {
    let dir = tempfile::tempdir().unwrap();
    let m = matcher();
    let (personal, binary, records) = {
        let mut store = Store::open(dir.path()).unwrap();
        let personal = record(
            &mut store,
            &m,
            &fixture("forum_a_original.txt"),
            &sighting("f", "a", "2026-01-01"),
        );
        let binary = record_unread(
            &mut store,
            &m,
            b"\x00\x01binary\x02",
            &sighting("f", "b", "2026-01-01"),
        );
        let records: Vec<SnapshotRecord> = [&personal, &binary]
            .iter()
            .map(|r| {
                let hash = parse_hash(&r.hash).unwrap();
                store.snapshot_record(&hash).unwrap().unwrap()
            })
            .collect();
        (personal, binary, records)
    };
    // Rewrite both findings records as an older version wrote them: JSON, without
    // `stored_at` and `binary`.
    {
        let db = raw_db(dir.path());
        let cf = db.cf_handle(CF_FINDINGS).unwrap();
        for r in &records {
            let key = parse_hash(&r.hash).unwrap();
            assert_ne!(
                db.get_cf(cf, key).unwrap().unwrap()[0],
                b'{',
                "written in the binary encoding"
            );
            let mut v = serde_json::to_value(r).unwrap();
            let o = v.as_object_mut().unwrap();
            assert!(o.remove("stored_at").is_some());
            assert!(o.remove("binary").is_some());
            db.put_cf(cf, key, serde_json::to_vec(&v).unwrap()).unwrap();
        }
    }
    let mut store = Store::open(dir.path()).unwrap();
    let report = store
        .apply_retention(30, Timestamp::parse("2026-01-20").unwrap())
        .unwrap();
    assert!(report.purged.is_empty(), "{report:?}");
    let report = store
        .apply_retention(30, Timestamp::parse("2026-02-15").unwrap())
        .unwrap();
    let mut purged = report.purged.clone();
    purged.sort();
    let mut expected = vec![personal.hash.clone(), binary.hash.clone()];
    expected.sort();
    assert_eq!(purged, expected);
    assert!(store.verify().unwrap().ok());
}

#[test]
fn export_holds_bytes_manifest_and_checksums() {
    let dir = populated();
    let store = Store::open_read_only(dir.path()).unwrap();
    let mut buf = Vec::new();
    let summary = store.export_incident(1, &mut buf).unwrap();
    assert_eq!((summary.files, summary.sightings), (5, 5));
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&buf[..]));
    let mut names = Vec::new();
    let mut manifest = None;
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().display().to_string();
        if name.ends_with("manifest.json") {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut entry, &mut s).unwrap();
            manifest = Some(serde_json::from_str::<serde_json::Value>(&s).unwrap());
        }
        names.push(name);
    }
    assert!(names.contains(&"incident-1/SHA256SUMS".to_string()));
    assert_eq!(
        names
            .iter()
            .filter(|n| n.starts_with("incident-1/snapshots/"))
            .count(),
        5
    );
    let manifest = manifest.unwrap();
    assert_eq!(manifest["format"], EXPORT_FORMAT);
    assert_eq!(manifest["sightings"].as_array().unwrap().len(), 5);
    // 5 snapshots added + 5 sightings added.
    assert_eq!(manifest["custody"].as_array().unwrap().len(), 10);
    assert!(matches!(
        store.export_incident(99, Vec::new()),
        Err(StoreError::NoIncident(99))
    ));
}

#[test]
fn incident_queries_filter_by_entity_severity_and_time() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let m = matcher();
    record(
        &mut store,
        &m,
        &fixture("forum_a_original.txt"),
        &sighting("f", "a", "2026-10-01"),
    );
    record(
        &mut store,
        &m,
        &fixture("template_other_sale_rennes.txt"),
        &sighting("f", "b", "2026-11-10"),
    );
    fn ids(store: &Store, filter: IncidentFilter) -> Vec<String> {
        store
            .incidents(&filter)
            .unwrap()
            .iter()
            .map(|i| i.entities[0].id.clone())
            .collect()
    }
    let by = |filter| ids(&store, filter);
    assert_eq!(by(IncidentFilter::default()), ["chu-rennes", "chu-nantes"]);
    assert_eq!(
        by(IncidentFilter {
            entity: Some("chu-nantes".into()),
            ..Default::default()
        }),
        ["chu-nantes"]
    );
    assert_eq!(
        by(IncidentFilter {
            since: Timestamp::parse("2026-11-01"),
            ..Default::default()
        }),
        ["chu-rennes"]
    );
    assert_eq!(
        by(IncidentFilter {
            min_severity: Some(Severity::Critical),
            ..Default::default()
        })
        .len(),
        2
    );
    assert!(by(IncidentFilter {
        entity: Some("nobody".into()),
        ..Default::default()
    })
    .is_empty());
    // A later sighting moves an incident in the time index.
    store
        .record(
            fixture("forum_a_original.txt").as_bytes(),
            &sighting("g", "c", "2026-11-20"),
            None,
        )
        .unwrap();
    assert_eq!(
        ids(
            &store,
            IncidentFilter {
                since: Timestamp::parse("2026-11-15"),
                ..Default::default()
            }
        ),
        ["chu-nantes"]
    );
}

#[test]
fn bad_directories_give_clear_errors() {
    // A foreign, non-empty directory is never written into.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "mine").unwrap();
    let err = Store::open(dir.path()).err().unwrap();
    assert!(matches!(err, StoreError::NotAStore { .. }), "{err}");
    assert!(!dir.path().join(MARKER_FILE).exists());
    assert!(matches!(
        Store::open_read_only(dir.path()).err().unwrap(),
        StoreError::NotAStore { .. }
    ));
    // Missing store for queries.
    let empty = tempfile::tempdir().unwrap();
    assert!(matches!(
        Store::open_read_only(&empty.path().join("nope"))
            .err()
            .unwrap(),
        StoreError::Missing { .. }
    ));
    // A corrupt database.
    let dir = populated();
    std::fs::write(dir.path().join(MARKER_FILE).join("CURRENT"), "garbage\n").unwrap();
    let err = Store::open(dir.path()).err().unwrap();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    // A RocksDB database that is not Vigie's.
    let dir = tempfile::tempdir().unwrap();
    {
        let mut o = Options::default();
        o.create_if_missing(true);
        DB::open(&o, dir.path().join(MARKER_FILE)).unwrap();
    }
    let err = Store::open_read_only(dir.path()).err().unwrap();
    assert!(
        err.to_string().contains("not a Vigie store") || matches!(err, StoreError::Corrupt { .. }),
        "{err}"
    );
    // The repository's storage/README.md does not make storage/ foreign.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("README.md"), "store lives here").unwrap();
    Store::open(dir.path()).unwrap();
}

#[test]
fn a_store_whose_creation_was_cut_short_is_finished_on_the_next_open() {
    // Killed after `db/` was made, before RocksDB wrote anything.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(MARKER_FILE)).unwrap();
    drop(Store::open(dir.path()).unwrap());
    Store::open(dir.path()).unwrap();
    // Killed after RocksDB created the database, before the schema version was written.
    let dir = tempfile::tempdir().unwrap();
    {
        let mut o = Options::default();
        o.create_if_missing(true);
        DB::open(&o, dir.path().join(MARKER_FILE)).unwrap();
    }
    drop(Store::open(dir.path()).unwrap());
    Store::open_read_only(dir.path()).unwrap();
    // A database holding data but no schema version is still not Vigie's.
    let dir = tempfile::tempdir().unwrap();
    {
        let mut o = Options::default();
        o.create_if_missing(true);
        let db = DB::open(&o, dir.path().join(MARKER_FILE)).unwrap();
        db.put(b"someone", b"else").unwrap();
    }
    let err = Store::open(dir.path()).err().unwrap();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = populated();
    {
        let db = raw_db(dir.path());
        write_schema(&db, 99);
    }
    let err = Store::open(dir.path()).err().unwrap();
    assert!(
        matches!(err, StoreError::SchemaTooNew { found: 99, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("upgrade Vigie"));
}

/// Keys of one column family, in order.
fn keys_of(db: &DB, cf: &str) -> Vec<Vec<u8>> {
    db.iterator_cf(db.cf_handle(cf).unwrap(), rocksdb::IteratorMode::Start)
        .map(|kv| kv.unwrap().0.to_vec())
        .collect()
}

#[test]
fn a_schema_1_store_is_upgraded_and_its_moved_band_index_still_groups_reposts() {
    let dir = tempfile::tempdir().unwrap();
    let m = matcher();
    let (file, source, url) = REPOSTS[0];
    let first = {
        let mut store = Store::open(dir.path()).unwrap();
        record(
            &mut store,
            &m,
            &fixture(file),
            &sighting(source, url, "2026-11-01"),
        )
    };
    let (incident, _) = first.incident.expect("a sale opens an incident");
    // Make it the store an older Vigie wrote: band keys in `index`, no `bands` family,
    // schema 1.
    let bands = {
        let db = raw_db(dir.path());
        let bands = keys_of(&db, CF_BANDS);
        let index = db.cf_handle(CF_INDEX).unwrap();
        for k in &bands {
            db.put_cf(index, k, []).unwrap();
        }
        write_schema(&db, 1);
        drop(db);
        let mut db = raw_db(dir.path());
        db.drop_cf(CF_BANDS).unwrap();
        bands
    };
    assert_eq!(bands.len(), 16, "one key per LSH band");
    assert!(bands.iter().all(|k| k[0] == b'L' && k.len() == 50));

    // Readable as it is, without upgrading it.
    let reader = Store::open_read_only(dir.path()).unwrap();
    assert_eq!(
        reader.incident(incident).unwrap().unwrap().snapshots.len(),
        1
    );
    drop(reader);

    // A writer moves the band keys and records the new schema.
    let mut store = Store::open(dir.path()).unwrap();
    let (file, source, url) = REPOSTS[1];
    let repost = record(
        &mut store,
        &m,
        &fixture(file),
        &sighting(source, url, "2026-11-02"),
    );
    assert_eq!(
        repost.incident,
        Some((incident, IncidentChange::Updated)),
        "the repost is found through the moved band index"
    );
    assert!(store.verify().unwrap().ok());
    drop(store);
    let db = raw_db(dir.path());
    assert!(
        keys_of(&db, CF_INDEX).iter().all(|k| k[0] != b'L'),
        "no band key is left in the index family"
    );
    let moved = keys_of(&db, CF_BANDS);
    assert_eq!(
        moved.len(),
        32,
        "the original's 16 band keys and the repost's"
    );
    assert!(bands.iter().all(|k| moved.contains(k)));
    assert_eq!(
        db.get_cf(db.cf_handle(CF_META).unwrap(), b"schema_version")
            .unwrap()
            .unwrap(),
        SCHEMA_VERSION.to_be_bytes()
    );
    assert_eq!(SCHEMA_VERSION, 2);
}

/// A store holding both reposts' band keys (32) back in `index`, as schema 1 kept them, with
/// the first `already_moved` of them in `bands` as a migration cut short leaves them.
fn schema_1_store(already_moved: usize) -> (tempfile::TempDir, Vec<Vec<u8>>) {
    let dir = tempfile::tempdir().unwrap();
    let m = matcher();
    {
        let mut store = Store::open(dir.path()).unwrap();
        for (i, (file, source, url)) in REPOSTS[..2].iter().enumerate() {
            record(
                &mut store,
                &m,
                &fixture(file),
                &sighting(source, url, &format!("2026-11-0{}", i + 1)),
            );
        }
    }
    let db = raw_db(dir.path());
    let (index, bands) = (
        db.cf_handle(CF_INDEX).unwrap(),
        db.cf_handle(CF_BANDS).unwrap(),
    );
    let keys = keys_of(&db, CF_BANDS);
    for (i, k) in keys.iter().enumerate() {
        if i >= already_moved {
            db.delete_cf(bands, k).unwrap();
            db.put_cf(index, k, []).unwrap();
        }
    }
    write_schema(&db, 1);
    (dir, keys)
}

#[test]
fn a_migration_cut_short_is_finished_by_the_next_open() {
    let (dir, keys) = schema_1_store(10);
    assert_eq!(keys.len(), 32);
    let mut store = Store::open(dir.path()).unwrap();
    assert!(store.verify().unwrap().ok());
    // The band index still groups: a third repost joins the incident of the first two.
    let (file, source, url) = REPOSTS[2];
    let before = store.incidents(&IncidentFilter::default()).unwrap();
    assert_eq!(before.len(), 1);
    let r = record(
        &mut store,
        &matcher(),
        &fixture(file),
        &sighting(source, url, "2026-11-03"),
    );
    assert_eq!(r.incident, Some((before[0].id, IncidentChange::Updated)));
    drop(store);
    let db = raw_db(dir.path());
    assert!(keys_of(&db, CF_INDEX).iter().all(|k| k[0] != b'L'));
    let moved = keys_of(&db, CF_BANDS);
    assert_eq!(moved.len(), 48);
    assert!(keys.iter().all(|k| moved.contains(k)));
}

#[test]
fn a_schema_version_that_never_existed_is_refused() {
    let (dir, _) = schema_1_store(0);
    {
        let db = raw_db(dir.path());
        write_schema(&db, 0);
    }
    let err = Store::open(dir.path()).err().unwrap();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("schema version 0"), "{err}");
}

#[test]
fn queries_work_while_a_writer_holds_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = Store::open(dir.path()).unwrap();
    let m = matcher();
    record(
        &mut writer,
        &m,
        &fixture("forum_a_original.txt"),
        &sighting("f", "a", "2026-11-01"),
    );
    // A second writer is refused with a clear error...
    let err = Store::open(dir.path()).err().unwrap();
    assert!(matches!(err, StoreError::Locked { .. }), "{err}");
    assert!(err.is_transient());
    // ...a reader sees what was written.
    let reader = Store::open_read_only(dir.path()).unwrap();
    assert_eq!(reader.stats().unwrap().sightings, 1);
    assert!(matches!(
        Store::open_read_only(dir.path())
            .unwrap()
            .set_checkpoint("s", b"1"),
        Err(StoreError::ReadOnly)
    ));
    // Writes go on while the reader is open.
    record(
        &mut writer,
        &m,
        &fixture("forum_b_repost_price.txt"),
        &sighting("f", "b", "2026-11-02"),
    );
    assert_eq!(
        Store::open_read_only(dir.path())
            .unwrap()
            .stats()
            .unwrap()
            .sightings,
        2
    );
}

#[test]
fn checkpoints_round_trip_and_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut store = Store::open(dir.path()).unwrap();
        assert_eq!(store.checkpoint("forum-a").unwrap(), None);
        store.set_checkpoint("forum-a", b"page=3;post=991").unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(
        store.checkpoint("forum-a").unwrap().as_deref(),
        Some(&b"page=3;post=991"[..])
    );
}

#[test]
#[ignore = "prints the similarity table behind NEAR_DUP_THRESHOLD; run with --ignored --nocapture"]
fn print_similarity_table() {
    let files = [
        "forum_a_original.txt",
        "forum_b_repost_price.txt",
        "forum_c_new_handle.txt",
        "telegram_chan1_msg812.txt",
        "telegram_chan2_msg77.txt",
        "template_other_sale_rennes.txt",
        "template_other_sale_lyon.txt",
    ];
    let sigs: Vec<_> = files
        .iter()
        .map(|f| vigie_match::near_dup::signature(&fixture(f)))
        .collect();
    for (i, f) in files.iter().enumerate() {
        let row: Vec<String> = sigs
            .iter()
            .map(|s| format!("{:.2}", sigs[i].similarity(s)))
            .collect();
        println!("{f:32} {}", row.join(" "));
    }
}

#[cfg(unix)]
#[test]
fn a_new_store_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let parent = tempfile::tempdir().unwrap();
    // A missing directory, and an existing empty one made with the usual 0755.
    let missing = parent.path().join("new-store");
    let existing = parent.path().join("empty");
    std::fs::create_dir(&existing).unwrap();
    std::fs::set_permissions(&existing, std::fs::Permissions::from_mode(0o755)).unwrap();
    for dir in [&missing, &existing] {
        drop(Store::open(dir).unwrap());
        let mode = std::fs::metadata(dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "{}", dir.display());
    }
}

/// Bytes of the files in the store directory and its subdirectories (one level).
fn disk(dir: &Path) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let meta = entry.metadata().unwrap();
        if meta.is_dir() {
            total += disk(&entry.path());
        } else {
            total += meta.len();
        }
    }
    total
}

#[test]
fn compaction_keeps_every_record_and_gives_back_the_space_of_uncompressed_flushes() {
    let dir = tempfile::tempdir().unwrap();
    let m = matcher();
    let mut store = Store::open(dir.path()).unwrap();
    for n in 0..300 {
        let text = format!(
            "Post {n}: discussion about the weather, the forum rules and nothing for sale. \
             The same long sentence comes back in every post so that it compresses well. {}",
            "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ".repeat(20)
        );
        let url = format!("http://forum.onion/t/{n}");
        record(
            &mut store,
            &m,
            &text,
            &sighting("forum-a", &url, "2026-11-01T10:00:00Z"),
        );
    }
    store.flush().unwrap();
    let stats = store.stats().unwrap();
    let before = disk(dir.path());
    store.compact().unwrap();
    store.flush().unwrap();
    let after = disk(dir.path());
    assert!(
        after < before,
        "{after} bytes after compaction, {before} before"
    );
    assert_eq!(store.stats().unwrap(), stats);
    assert!(store.verify().unwrap().ok());
    drop(store);
    let read_only = Store::open_read_only(dir.path()).unwrap();
    assert!(
        read_only.compact().is_err(),
        "a read-only store is not compacted"
    );
}

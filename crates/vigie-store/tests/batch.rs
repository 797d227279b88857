//! `Store::record_batch` (one RocksDB write per call) against `Store::record_alerting` one
//! document at a time: same outcomes, same store afterwards.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use vigie_core::Analysis;
use vigie_match::{Matcher, ScanOptions};
use vigie_store::*;

mod common;
use common::{matcher, Everything};

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/reposts")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn sale(org: &str, salt: &str) -> String {
    format!(
        "[VENTE] Base patients {org} — extraction complète {salt}\n\
         Je vends la base patients du {org}, 300 000 dossiers avec NIR, adresse, téléphone.\n\
         nom;prenom;nir;telephone\n\
         ROBERT;Jean;176024439046178;0673383683\n\
         DUPONT;Nadia;146084431278175;0610282669\n\
         Prix : 5000 USD en BTC, contact @seller_{salt}\n"
    )
}

/// Documents the sequences draw from: the real reposts of one sale (near duplicates of each
/// other), two sales on one template for other hospitals, generated sales and chatter.
fn texts() -> Vec<String> {
    let mut t: Vec<String> = [
        "forum_a_original.txt",
        "forum_b_repost_price.txt",
        "forum_c_new_handle.txt",
        "telegram_chan1_msg812.txt",
        "telegram_chan2_msg77.txt",
        "template_other_sale_lyon.txt",
        "template_other_sale_rennes.txt",
    ]
    .iter()
    .map(|f| fixture(f))
    .collect();
    for salt in ["a1", "b2", "c3"] {
        t.push(sale("CHU de Rennes", salt));
        t.push(sale("CHU de Nantes", salt));
    }
    // Look-alikes of the false positive of `setup`: only its alias in the same context.
    t.push(
        "Nouvelle annonce, tout autre texte. Je vends la base patients du CHU de Rennes, 300 000 dossiers.\n\
         Contact privé, paiement Monero uniquement, échantillon sur demande.\n\
         nom;prenom;nir\nMARTIN;Paul;176024439046178\nPETIT;Anne;146084431278175\n"
            .into(),
    );
    t.push(
        "Encore une offre sans rapport : la base patients du CHU de Rennes, 300 000 fiches, livrée par Tox.\n\
         nom;prenom;nir\nLEROY;Marc;286044401602373\nGARNIER;Lea;146084431278175\n"
            .into(),
    );
    t.push("salut, quelqu'un a un tuto pour configurer le proxy ?".into());
    t.push("merci pour le lien, ça marche".into());
    t.push("le CHU de Nantes recrute des infirmiers".into());
    t
}

/// A small deterministic generator (no external crate): xorshift64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

struct Doc {
    text: usize,
    sighting: Sighting,
    /// Whether the analysis is passed (always for a content not recorded before).
    with_analysis: bool,
}

fn sequence(rng: &mut Rng, n: usize, texts: usize) -> Vec<Doc> {
    let sources = ["forum-a", "forum-b", "telegram:chan1"];
    let mut known = HashSet::new();
    (0..n)
        .map(|_| {
            let text = rng.below(texts);
            let source = sources[rng.below(sources.len())];
            // Few places, so that the same content at the same place repeats.
            let url = format!("http://{source}.onion/t/{}", rng.below(3));
            let mut details = PostDetails::default();
            if rng.below(2) == 0 {
                details.views = Some(rng.below(1000) as u64);
            }
            let sighting = Sighting {
                source: source.into(),
                locator: Locator::Url { url },
                // Out of order on purpose: a repeat may be older than the stored sighting.
                fetched_at: Timestamp(1_780_000_000_000 + rng.below(100_000) as i64 * 1000),
                collector: "test".into(),
                details,
            };
            let with_analysis = !known.contains(&text) || rng.below(2) == 0;
            known.insert(text);
            Doc {
                text,
                sighting,
                with_analysis,
            }
        })
        .collect()
}

/// Marks a sale of the CHU de Rennes as a false positive, so that look-alikes recorded
/// afterwards are suppressed (the same on both stores).
fn setup(store: &mut Store, m: &Matcher) {
    let text = sale("CHU de Rennes", "fp0");
    let analysis = m.analyze("t", text.as_bytes(), ScanOptions::default());
    let s = Sighting {
        source: "forum-z".into(),
        locator: Locator::Url {
            url: "http://z.onion/1".into(),
        },
        fetched_at: Timestamp(1_779_000_000_000),
        collector: "test".into(),
        details: Default::default(),
    };
    let r = store
        .record_alerting(text.as_bytes(), &s, Some(&analysis), &Everything)
        .unwrap();
    let (incident, _) = r.incident.expect("a sale opens an incident");
    store
        .set_triage(incident, TriageState::FalsePositive, None)
        .unwrap();
}

/// Outcomes without their clock readings.
fn normalise(mut r: Recorded) -> Recorded {
    if let Some(t) = r.suppressed.as_mut() {
        t.at = Timestamp(0);
    }
    r
}

/// Everything the record path writes, without clock readings (opened, stored and custody
/// times differ between two runs, and so do the custody hashes that cover them).
/// An incident's triage as compared: id, state, reason, assignee.
type TriageRow = (u64, Option<TriageState>, Option<String>, Option<u64>);
/// An alert as compared: id, recipient, attempts, state, incident, sighting.
type AlertRow = (u64, String, u32, String, u64, SightingRecord);

#[derive(Debug, PartialEq)]
struct State {
    stats: Stats,
    head_seq: u64,
    custody: Vec<(u64, CustodyAction, String, String)>,
    sightings: Vec<SightingRecord>,
    snapshots: BTreeMap<String, SnapshotRecord>,
    incidents: Vec<Incident>,
    triage: Vec<TriageRow>,
    alerts: Vec<AlertRow>,
    marks: Vec<(u64, Vec<AlertMark>)>,
    pending: Vec<(u64, String)>,
}

fn state(store: &Store) -> State {
    let report = store.verify().unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    let sightings = store.sightings().unwrap();
    let mut snapshots = BTreeMap::new();
    for s in &sightings {
        let mut r = store
            .snapshot_record(&parse_hash(&s.snapshot).unwrap())
            .unwrap()
            .unwrap();
        r.stored_at = None;
        snapshots.insert(s.snapshot.clone(), r);
    }
    let mut incidents = store.incidents(&IncidentFilter::default()).unwrap();
    incidents.sort_by_key(|i| i.id);
    let triage = incidents
        .iter()
        .map(|i| {
            let t = store.triage(i.id).unwrap();
            (
                i.id,
                t.as_ref().map(|t| t.state),
                t.as_ref().and_then(|t| t.reason.clone()),
                t.as_ref().and_then(|t| t.like_incident),
            )
        })
        .collect();
    let marks = incidents
        .iter()
        .map(|i| (i.id, store.alert_marks(i.id).unwrap()))
        .collect();
    for i in incidents.iter_mut() {
        i.opened_at = Timestamp(0);
    }
    let queue = store.alert_queue();
    let alerts = queue
        .alerts(usize::MAX)
        .unwrap()
        .into_iter()
        .map(|a| {
            (
                a.id,
                a.recipient,
                a.revision,
                a.reason,
                a.incident.id,
                a.trigger,
            )
        })
        .collect();
    let pending = queue
        .entries(OutboxState::Pending, usize::MAX)
        .unwrap()
        .into_iter()
        .map(|e| (e.alert, e.recipient))
        .collect();
    State {
        stats: store.stats().unwrap(),
        head_seq: store.custody_head().seq,
        custody: store
            .custody_entries()
            .unwrap()
            .into_iter()
            .map(|e| (e.seq, e.action, e.key, e.object))
            .collect(),
        sightings,
        snapshots,
        incidents,
        triage,
        alerts,
        marks,
        pending,
    }
}

#[test]
fn batches_record_exactly_what_one_by_one_records() {
    let m = matcher();
    let texts = texts();
    let analyses: Vec<Analysis> = texts
        .iter()
        .map(|t| m.analyze("t", t.as_bytes(), ScanOptions::default()))
        .collect();
    let mut incidents_seen = 0;
    let mut suppressed_seen = 0;
    let mut repeats_in_a_batch = 0;
    for seed in 1..=12u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let docs = sequence(&mut rng, 40, texts.len());
        let (one_dir, batch_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let mut one = Store::open(one_dir.path()).unwrap();
        let mut batched = Store::open(batch_dir.path()).unwrap();
        setup(&mut one, &m);
        setup(&mut batched, &m);

        let mut expected = Vec::new();
        for d in &docs {
            let r = one
                .record_alerting(
                    texts[d.text].as_bytes(),
                    &d.sighting,
                    d.with_analysis.then(|| &analyses[d.text]),
                    &Everything,
                )
                .unwrap();
            expected.push(normalise(r));
        }
        let mut got = Vec::new();
        let mut start = 0;
        while start < docs.len() {
            // Seed 1 records everything in one batch; the others in random chunks.
            let len = if seed == 1 {
                docs.len()
            } else {
                1 + rng.below(15)
            };
            let chunk = &docs[start..(start + len).min(docs.len())];
            let items: Vec<BatchItem<'_>> = chunk
                .iter()
                .map(|d| BatchItem {
                    content: texts[d.text].as_bytes(),
                    sighting: &d.sighting,
                    analysis: d.with_analysis.then(|| &analyses[d.text]),
                    hash: None,
                })
                .collect();
            let mut hashes = HashSet::new();
            repeats_in_a_batch += chunk.iter().filter(|d| !hashes.insert(d.text)).count();
            got.extend(
                batched
                    .record_batch(&items, &Everything)
                    .unwrap()
                    .into_iter()
                    .map(normalise),
            );
            start += chunk.len();
        }
        assert_eq!(got, expected, "seed {seed}");
        let (a, b) = (state(&one), state(&batched));
        assert_eq!(a, b, "seed {seed}");
        incidents_seen += a.incidents.len();
        suppressed_seen += got.iter().filter(|r| r.suppressed.is_some()).count();
    }
    // The sequences exercised what they are meant to.
    assert!(incidents_seen >= 12 * 2, "{incidents_seen}");
    assert!(suppressed_seen > 0);
    assert!(repeats_in_a_batch > 50, "{repeats_in_a_batch}");
}

fn at(url: &str, ms: i64) -> Sighting {
    Sighting {
        source: "forum-a".into(),
        locator: Locator::Url { url: url.into() },
        fetched_at: Timestamp(ms),
        collector: "test".into(),
        details: Default::default(),
    }
}

#[test]
fn one_batch_sees_its_own_earlier_items() {
    let m = matcher();
    let original = fixture("forum_a_original.txt");
    let repost = fixture("forum_b_repost_price.txt");
    let (a1, a2) = (
        at("http://a.onion/t/1", 1_000),
        at("http://a.onion/t/2", 2_000),
    );
    let an_original = m.analyze("t", original.as_bytes(), ScanOptions::default());
    let an_repost = m.analyze("t", repost.as_bytes(), ScanOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let items = [
        BatchItem {
            content: original.as_bytes(),
            sighting: &a1,
            analysis: Some(&an_original),
            hash: None,
        },
        // The same content at the same place: a repeat, no analysis needed.
        BatchItem {
            content: original.as_bytes(),
            sighting: &a1,
            analysis: None,
            hash: None,
        },
        // The same content elsewhere: a new sighting of a known snapshot.
        BatchItem {
            content: original.as_bytes(),
            sighting: &a2,
            analysis: None,
            hash: None,
        },
        // A repost with another price: joins the incident opened by the first item.
        BatchItem {
            content: repost.as_bytes(),
            sighting: &a2,
            analysis: Some(&an_repost),
            hash: None,
        },
    ];
    let r = store.record_batch(&items, &Everything).unwrap();
    let outcomes: Vec<_> = r.iter().map(|r| (r.snapshot, r.sighting)).collect();
    assert_eq!(
        outcomes,
        [
            (SnapshotOutcome::New, SightingOutcome::New),
            (SnapshotOutcome::Known, SightingOutcome::Repeat),
            (SnapshotOutcome::Known, SightingOutcome::New),
            (SnapshotOutcome::New, SightingOutcome::New),
        ]
    );
    assert_eq!(r[0].incident, Some((1, IncidentChange::Opened)));
    assert_eq!(r[1].incident, Some((1, IncidentChange::Unchanged)));
    assert_eq!(r[2].incident, Some((1, IncidentChange::Updated)));
    assert_eq!(r[3].incident, Some((1, IncidentChange::Updated)));
    // Alerts: opened, then each update (the repeat changes nothing).
    assert_eq!(
        r.iter().map(|r| r.alerts.clone()).collect::<Vec<_>>(),
        [vec![1], vec![], vec![2], vec![3]]
    );
    let stats = store.stats().unwrap();
    assert_eq!(
        (stats.snapshots, stats.sightings, stats.incidents),
        (2, 3, 1)
    );
    // 2 snapshots added, 3 sightings added, 1 updated.
    assert_eq!(stats.custody_entries, 6);
    let incident = store.incident(1).unwrap().unwrap();
    assert_eq!(incident.sightings, 3);
    assert_eq!(incident.snapshots.len(), 2);
    assert!(store.verify().unwrap().ok());
}

#[test]
fn a_failing_batch_writes_nothing() {
    let m = matcher();
    let text = sale("CHU de Nantes", "x");
    let analysis = m.analyze("t", text.as_bytes(), ScanOptions::default());
    let s = at("http://a.onion/t/1", 1_000);
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let items = [
        BatchItem {
            content: text.as_bytes(),
            sighting: &s,
            analysis: Some(&analysis),
            hash: None,
        },
        // New content without its analysis.
        BatchItem {
            content: b"never seen before",
            sighting: &s,
            analysis: None,
            hash: None,
        },
    ];
    let err = store.record_batch(&items, &Everything).unwrap_err();
    assert!(matches!(err, StoreError::MissingAnalysis(_)), "{err}");
    let stats = store.stats().unwrap();
    assert_eq!(
        (stats.snapshots, stats.sightings, stats.incidents),
        (0, 0, 0)
    );
    assert_eq!(store.custody_head().seq, 0);
    assert!(store.alert_queue().alerts(10).unwrap().is_empty());
    // The counters did not move: the next record gets the first ids.
    let r = store.record_batch(&items[..1], &Everything).unwrap();
    assert_eq!(r[0].incident, Some((1, IncidentChange::Opened)));
    assert_eq!(r[0].alerts, [1]);
    assert_eq!(store.custody_head().seq, 2);
    assert!(store.verify().unwrap().ok());
}

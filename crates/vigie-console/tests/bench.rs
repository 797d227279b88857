//! Benchmark (ignored by default; `ops/bench/console.sh` runs it): the incident list and the
//! text search over a store of `VIGIE_BENCH_INCIDENTS` incidents (default 100,000), server
//! time per request measured around the router call, median and 90th percentile.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;
use vigie_console::{router, ConsoleConfig, ConsoleState};
use vigie_core::{
    Analysis, Category, DocumentKind, EntityFinding, Report, Severity, Signature, Span,
    SIGNATURE_LEN,
};
use vigie_store::{Locator, Role, Sighting, Store, Timestamp};

const WORDS: [&str; 16] = [
    "base",
    "patients",
    "dossiers",
    "clinique",
    "hopital",
    "laboratoire",
    "radiologie",
    "pharmacie",
    "mutuelle",
    "export",
    "comptes",
    "acces",
    "serveur",
    "sauvegarde",
    "fichier",
    "archive",
];

fn seed(store: &mut Store, n: u64) {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let start = Timestamp::now().0 - (n as i64) * 60_000;
    for i in 0..n {
        let org = i % 300;
        let w1 = WORDS[(next() % 16) as usize];
        let w2 = WORDS[(next() % 16) as usize];
        let name = format!("Organisation {org}");
        let text = format!(
            "Vends {w1} {w2} {name}, lot {i}, prix {} BTC, contact tox.",
            i % 9 + 1
        );
        let at = text.find(&name).unwrap_or(0) as u64;
        let report = Report {
            path: format!("post-{i}"),
            entities: vec![EntityFinding {
                id: format!("org{org}"),
                name: name.clone(),
                category: Category::Hospital,
                matches: vec![Span {
                    start: at,
                    end: at + name.len() as u64,
                    text: name.clone(),
                }],
            }],
            identifiers: Default::default(),
            sample: None,
            leak_offer: true,
            kind: if i % 3 == 0 {
                DocumentKind::RansomwareClaim
            } else {
                DocumentKind::Sale
            },
            cues: vec!["vends".into()],
            topics: vec![],
            severity: if i % 4 == 0 {
                Severity::Critical
            } else {
                Severity::High
            },
            why: vec!["bench".into()],
            bytes: text.len() as u64,
        };
        // Random signatures: no two documents are near-duplicates, every one opens an incident.
        let mut sig = [0u32; SIGNATURE_LEN];
        for v in &mut sig {
            *v = next() as u32;
        }
        let analysis = Analysis {
            report,
            signature: Signature(sig),
        };
        let sighting = Sighting {
            source: "forum-bench".into(),
            locator: Locator::Url {
                url: format!("http://bench.onion/t/{i}"),
            },
            fetched_at: Timestamp(start + i as i64 * 60_000),
            collector: "bench".into(),
            details: Default::default(),
        };
        store
            .record(text.as_bytes(), &sighting, Some(&analysis))
            .unwrap();
    }
}

fn stats(mut v: Vec<Duration>) -> (f64, f64) {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    (ms(v[v.len() / 2]), ms(v[v.len() * 9 / 10]))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: ops/bench/console.sh"]
async fn bench_list_and_search() {
    let n: u64 = std::env::var("VIGIE_BENCH_INCIDENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let t0 = Instant::now();
    seed(&mut store, n);
    let incidents = store.stats().unwrap().incidents;
    println!(
        "seeded {incidents} incidents in {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    assert_eq!(incidents, n);
    let (token, _) = store
        .create_session("bench", Role::Analyst, Timestamp::now(), 3_600_000)
        .unwrap();
    let store = Arc::new(Mutex::new(store));
    // The watchlist of the seeded organisations: the organisation filter reads the entity index.
    let entities = (0..300)
        .map(|org| vigie_match::Entity {
            id: format!("org{org}"),
            name: format!("Organisation {org}"),
            category: Category::Hospital,
            aliases: vec![],
            domains: vec![],
            finess: vec![],
            strict: false,
            strict_aliases: vec![],
            notify: vec![],
        })
        .collect();
    let matcher = Arc::new(vigie_match::Matcher::from_entities(entities).unwrap());
    let app = router(ConsoleState::new(store, matcher, ConsoleConfig::default()).unwrap());
    let cases = [
        ("list, first page", "/incidents".to_string()),
        (
            "list, severity critical",
            "/incidents?severity=critical".to_string(),
        ),
        ("list, one organisation", "/incidents?org=org17".to_string()),
        (
            "list, kind + date range",
            "/incidents?kind=ransomware_claim&since=2000-01-01&until=2999-01-01".to_string(),
        ),
        (
            "search, frequent word",
            "/incidents?q=radiologie".to_string(),
        ),
        (
            "search, rare phrase",
            "/incidents?q=lot%2099999,".to_string(),
        ),
        ("incident page", format!("/incidents/{}", n / 2)),
    ];
    println!("| request | median ms | p90 ms | rows |");
    println!("|---|---:|---:|---:|");
    for (name, uri) in cases {
        let mut times = Vec::new();
        let mut rows = 0;
        for _ in 0..21 {
            let req = Request::get(&uri)
                .header(header::COOKIE, format!("vigie_session={token}"))
                .body(Body::empty())
                .unwrap();
            let t = Instant::now();
            let res = app.clone().oneshot(req).await.unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{uri}");
            let body = res.into_body().collect().await.unwrap().to_bytes();
            times.push(t.elapsed());
            rows = String::from_utf8_lossy(&body)
                .matches("<td><a href=\"/incidents/")
                .count();
        }
        let (median, p90) = stats(times);
        println!("| {name} (`{uri}`) | {median:.1} | {p90:.1} | {rows} |");
    }
}

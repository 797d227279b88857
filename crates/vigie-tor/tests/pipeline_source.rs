//! The Tor sources through the pipeline's `Source` trait: started by `vigie_pipeline::Supervisor`
//! against a small site on 127.0.0.1 (loopback transport), their events read from the
//! supervisor's receiver. What they emit is what `vigie run` and `vigie crawl` record: documents
//! labelled by post URL with a URL locator, the origin of their source kind, onion candidates,
//! the checkpoint after the documents it covers, one health record per run.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use vigie_core::{HealthStatus, Origin};
use vigie_pipeline::{
    Checkpoints, Event, MatchText, NoCheckpoints, Shutdown, Supervisor, SupervisorOptions,
};
use vigie_store::Locator;
use vigie_tor::{TorCollector, TorCrawl, TorPlan, TorSettings, TorSourceConfig, TransportMode};

/// The Tor Project's own onion service (a valid v3 address, checksum included).
const ONION: &str = "2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion";

/// A one-thread HTTP server on 127.0.0.1 serving `pages` (path → HTML); records the paths asked.
fn serve(pages: HashMap<&'static str, String>) -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&hits);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            let req = String::from_utf8_lossy(&buf);
            let path = req.split_whitespace().nth(1).unwrap_or("/").to_string();
            seen.lock().unwrap().push(path.clone());
            let (status, body) = match pages.get(path.as_str()) {
                Some(b) => (200, b.clone()),
                None => (404, "<html><body>Not found</body></html>".to_string()),
            };
            let head = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(body.as_bytes());
        }
    });
    (port, hits)
}

/// A forum (listing → one thread of two posts, one naming an onion address) and a leak site
/// (one page of two victims), in the shapes their selectors below read.
fn site() -> (u16, Arc<Mutex<Vec<String>>>) {
    let mut pages = HashMap::new();
    pages.insert(
        "/forum/",
        "<html><body><h1>Bases</h1><a class=\"topic\" href=\"/forum/t/1\">Vente base clinique</a></body></html>"
            .to_string(),
    );
    pages.insert(
        "/forum/t/1",
        format!(
            "<html><body><h1>Vente base clinique</h1>\
             <div class=\"post\" id=\"p11\"><span class=\"who\">vendeur</span>\
             <div class=\"text\">Dossiers patients à vendre, miroir {ONION}</div></div>\
             <div class=\"post\" id=\"p12\"><span class=\"who\">acheteur</span>\
             <div class=\"text\">Intéressé, prix ?</div></div></body></html>"
        ),
    );
    pages.insert(
        "/leaks/",
        "<html><body>\
         <div class=\"victim\" id=\"v1\"><h3>Clinique des Lilas</h3><p>Données publiées: 40 GB</p></div>\
         <div class=\"victim\" id=\"v2\"><h3>Laboratoire Exemple</h3><p>Publication dans 5 jours</p></div>\
         </body></html>"
            .to_string(),
    );
    serve(pages)
}

fn plan(port: u16) -> TorPlan {
    let settings = TorSettings {
        mode: TransportMode::Loopback,
        attempts: 1,
        backoff_ms: 10,
        ..TorSettings::default()
    };
    let toml_src = format!(
        "[[tor_source]]\nid = \"forum\"\nkind = \"forum\"\nmirrors = [\"http://127.0.0.1:{port}/\"]\nstart = \"/forum/\"\ninterval_secs = 3600\n\
         [tor_source.selectors]\nthread_link = \"a.topic\"\npost = \"div.post\"\ntitle = \"h1\"\nauthor = \".who\"\nbody = \".text\"\n\n\
         [[tor_source]]\nid = \"leaks\"\nkind = \"leak-site\"\nengine = \"leak-site\"\nmirrors = [\"http://127.0.0.1:{port}/\"]\nstart = \"/leaks/\"\ninterval_secs = 3600\n"
    );
    let cfg: HashMap<String, Vec<TorSourceConfig>> = toml::from_str(&toml_src).unwrap();
    TorPlan::from_config(Some(&settings), &cfg["tor_source"], &|_| None).unwrap()
}

fn options() -> SupervisorOptions {
    SupervisorOptions {
        capacity: 16,
        ..SupervisorOptions::default()
    }
}

/// Checkpoints as a recorder would have stored them (the latest value per key).
struct Stored(HashMap<String, Vec<u8>>);

impl Checkpoints for Stored {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        Ok(self.0.get(key).cloned())
    }
    fn with_prefix(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, String> {
        Ok(self
            .0
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }
}

fn crawl(
    port: u16,
    ids: &[&str],
    checkpoints: Arc<dyn Checkpoints>,
) -> (Vec<Event>, vigie_tor::CrawlReport) {
    let dir = tempfile::tempdir().unwrap();
    let ids = ids.iter().map(|s| s.to_string()).collect();
    let (source, report) = TorCrawl::new(plan(port), dir.path().to_path_buf(), ids);
    let (sup, rx) = Supervisor::start(
        vec![Box::new(source)],
        checkpoints,
        Shutdown::new(),
        options(),
    )
    .unwrap();
    // The receiver closes when the crawl source has finished.
    let events: Vec<Event> = rx.iter().map(|p| p.event).collect();
    sup.stop(Duration::from_secs(1));
    let report = std::mem::take(&mut *report.lock().unwrap());
    (events, report)
}

#[test]
fn a_crawl_emits_documents_candidates_checkpoints_and_health_in_order() {
    let (port, _hits) = site();
    let (events, report) = crawl(port, &["forum", "leaks"], Arc::new(NoCheckpoints));
    assert!(report.failure.is_none(), "{:?}", report.failure);

    let docs: Vec<&vigie_pipeline::Document> = events
        .iter()
        .filter_map(|e| match e {
            Event::Document(d) => Some(d),
            _ => None,
        })
        .collect();
    let mut labels: Vec<&str> = docs.iter().map(|d| d.label.as_str()).collect();
    labels.sort();
    let base = format!("http://127.0.0.1:{port}");
    assert_eq!(
        labels,
        [
            format!("{base}/forum/t/1#p11"),
            format!("{base}/forum/t/1#p12"),
            format!("{base}/leaks/#v1"),
            format!("{base}/leaks/#v2"),
        ]
    );
    for d in &docs {
        assert_eq!(d.text, MatchText::Content, "{}", d.label);
        assert_eq!(d.sighting.collector, "tor");
        assert_eq!(
            d.sighting.locator,
            Locator::Url {
                url: d.label.clone()
            }
        );
        let (source, origin) = if d.label.contains("/forum/") {
            ("forum", Origin::Forum)
        } else {
            ("leaks", Origin::LeakSite)
        };
        assert_eq!(d.sighting.source, source, "{}", d.label);
        assert_eq!(d.origin, origin, "{}", d.label);
    }
    let first = docs.iter().find(|d| d.label.ends_with("#p11")).unwrap();
    let text = String::from_utf8_lossy(&first.content);
    assert!(
        text.starts_with("Tor forum: forum\nThread: Vente base clinique\n")
            && text.contains("Author: vendeur")
            && text.contains("Dossiers patients à vendre"),
        "{text}"
    );
    let victim = docs.iter().find(|d| d.label.ends_with("#v1")).unwrap();
    let text = String::from_utf8_lossy(&victim.content);
    assert!(
        text.starts_with("Ransomware leak site: leaks\nVictim: Clinique des Lilas\n"),
        "{text}"
    );

    // The onion address in the forum post: a candidate seen in that source.
    let candidates: Vec<(&str, &str, &str)> = events
        .iter()
        .filter_map(|e| match e {
            Event::Candidate {
                kind,
                name,
                seen_in,
                ..
            } => Some((kind.as_str(), name.as_str(), seen_in.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(candidates, [("onion", ONION, "forum")]);

    // Per source: its checkpoint comes after its documents, its health record last.
    for (id, n) in [("forum", 2), ("leaks", 2)] {
        let at = |f: &dyn Fn(&Event) -> bool| events.iter().rposition(f);
        let last_doc = at(&|e| matches!(e, Event::Document(d) if d.sighting.source == id)).unwrap();
        let key = format!("tor:{id}");
        let checkpoint = at(&|e| matches!(e, Event::Checkpoint { key: k, .. } if *k == key));
        let health = at(&|e| matches!(e, Event::Health(h) if h.source == id)).unwrap();
        assert!(checkpoint.unwrap() > last_doc, "{id}: {events:?}");
        assert!(health > checkpoint.unwrap());
        let runs = events
            .iter()
            .filter(|e| matches!(e, Event::Health(h) if h.source == id))
            .count();
        assert_eq!(runs, 1, "one health record per run");
        let Event::Health(h) = &events[health] else {
            unreachable!()
        };
        assert_eq!(h.status, HealthStatus::Ok, "{h:?}");
        assert_eq!(h.documents, n);
    }
    let ids: Vec<&str> = report.healths.iter().map(|h| h.source.as_str()).collect();
    assert_eq!(ids, ["forum", "leaks"], "the report, sorted by source");
}

#[test]
fn a_crawl_resumes_from_the_checkpoints_the_context_gives() {
    let (port, hits) = site();
    let (events, _) = crawl(port, &["forum"], Arc::new(NoCheckpoints));
    let stored: HashMap<String, Vec<u8>> = events
        .iter()
        .filter_map(|e| match e {
            Event::Checkpoint { key, value } => Some((key.clone(), value.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(stored.keys().collect::<Vec<_>>(), ["tor:forum"]);
    let runs = |events: &[Event]| {
        // The last one: the run's end, after its counter went up.
        let value = events
            .iter()
            .rev()
            .find_map(|e| match e {
                Event::Checkpoint { value, .. } => Some(value.clone()),
                _ => None,
            })
            .unwrap();
        serde_json::from_slice::<vigie_tor::SourceCheckpoint>(&value)
            .unwrap()
            .runs
    };
    assert_eq!(runs(&events), 1);
    assert_eq!(
        hits.lock()
            .unwrap()
            .iter()
            .filter(|p| *p == "/forum/t/1")
            .count(),
        1
    );

    // Started again with the checkpoints the context gives: the run counter goes on from the
    // first run's (from scratch it would say 1 again).
    let (events, report) = crawl(port, &["forum"], Arc::new(Stored(stored)));
    assert_eq!(runs(&events), 2);
    assert_eq!(report.healths[0].source, "forum");
}

#[test]
fn the_collector_runs_until_stopped_and_lends_its_transport_meanwhile() {
    let (port, _hits) = site();
    let dir = tempfile::tempdir().unwrap();
    let source = TorCollector::new(plan(port), dir.path().to_path_buf());
    let access = source.access();
    assert!(
        !access.is_ready(),
        "nothing published before the source runs"
    );
    let (sup, rx) = Supervisor::start(
        vec![Box::new(source)],
        Arc::new(NoCheckpoints),
        Shutdown::new(),
        options(),
    )
    .unwrap();
    // Both sources' first runs, each ending with its health record.
    let mut healths = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while healths.len() < 2 {
        let left = deadline.saturating_duration_since(Instant::now());
        let event = rx
            .recv_timeout(left)
            .expect("both first runs within a minute")
            .event;
        if let Event::Health(h) = event {
            healths.push(h.source);
        }
    }
    healths.sort();
    assert_eq!(healths, ["forum", "leaks"]);
    assert!(
        access.is_ready(),
        "the transport is lent while the collector runs"
    );
    // The page fetched through the lent transport, on a session of its own.
    let session = Arc::new(vigie_tor::Session::new("preview", None));
    let url = url::Url::parse(&format!("http://127.0.0.1:{port}/leaks/")).unwrap();
    let page = access.get_blocking(&url, &session).unwrap();
    assert!(String::from_utf8_lossy(&page.body).contains("Clinique des Lilas"));

    // Next runs are an hour away: the source waits, and stops when told.
    let stopping = Instant::now();
    sup.stop(Duration::from_secs(10));
    assert!(
        stopping.elapsed() < Duration::from_secs(10),
        "stopped within the grace"
    );
    assert!(rx
        .iter()
        .all(|p| !matches!(p.event, Event::Health(ref h) if h.status == HealthStatus::Crashed)));
    assert!(
        !access.is_ready(),
        "nothing lent once the collector is gone"
    );
    assert!(matches!(
        access.get_blocking(&url, &session),
        Err(vigie_tor::AccessError::NotBootstrapped)
    ));
}

//! Crawling and scheduling. A source's run fetches its listing (rotating mirrors when one is
//! unreachable), follows threads page by page up to its page budget, and emits one document
//! per post, the onion addresses it saw, its checkpoint and its parser-health record. The
//! collector never touches the matcher or the store: everything leaves through the output
//! channel, in order, so the consumer records a post before the checkpoint that passes it.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, watch, Mutex, Semaphore};
use tracing::{debug, info, warn};
use url::Url;

use crate::config::{SourceKind, TorSettings, TorSource};
use crate::error::{FetchError, Retry, StartError};
use crate::http::{Fetched, HttpClient, Session};
use crate::parse::{parse_page, CompiledSelectors, ParsedPage, Post};
use crate::transport::Transport;

/// What a collector hands downstream.
#[derive(Debug, Clone)]
pub enum CollectorEvent {
    /// One post, victim entry or page, as the text the matcher reads and the store keeps.
    Document(CollectedDocument),
    /// A valid onion address seen in a page, not one of the configured sources.
    Candidate {
        onion: String,
        seen_in: String,
        at_ms: i64,
    },
    /// The source's cursor, to keep under `key` (after the documents it covers).
    Checkpoint { key: String, cursor: Vec<u8> },
    /// The end of a source's run.
    Health(HealthRecord),
}

/// A document and where it was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectedDocument {
    pub source: String,
    pub kind: SourceKind,
    /// The page URL with the post's anchor.
    pub url: String,
    pub document: String,
    pub fetched_at_ms: i64,
}

/// The cursor kept in the store per source.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceCheckpoint {
    /// The mirror (host) that answered last.
    pub mirror: Option<String>,
    /// Per thread (path and query of its first page), the last page fetched: a restart or the
    /// next run resumes there instead of re-reading the whole thread.
    pub threads: BTreeMap<String, String>,
    /// Elements each selector found in the last run that reached the site.
    pub last_counts: BTreeMap<String, usize>,
    pub runs: u64,
}

/// How a source's last run went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    Ok,
    /// Pages answered but a selector that used to find elements found none.
    Blind,
    /// Some pages failed.
    Partial,
    /// A mirror answered but no page could be read (over a limit, refused, unparseable).
    Failed,
    /// No mirror answered.
    Unreachable,
    /// Not a run: a source thread of `vigie run` ended unexpectedly (panic, error) and is
    /// restarted; `errors` says why.
    Crashed,
}

/// One run of one source (kept in the store, read by `vigie sources health`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthRecord {
    pub source: String,
    pub at_ms: i64,
    pub status: HealthStatus,
    pub mirror: Option<String>,
    pub mirrors_failed: Vec<String>,
    pub pages_ok: usize,
    pub pages_failed: usize,
    pub documents: usize,
    /// Elements found per selector, over the run's pages.
    pub counts: BTreeMap<String, usize>,
    /// Selectors that found nothing on pages that answered.
    pub blind: Vec<String>,
    pub errors: Vec<String>,
    pub elapsed_ms: u64,
}

/// Store key of a source's checkpoint.
pub fn checkpoint_key(source: &str) -> String {
    format!("tor:{source}")
}

/// Store key of a source's health history.
pub fn health_key(source: &str) -> String {
    format!("tor-health:{source}")
}

struct SourceRuntime {
    source: TorSource,
    session: Session,
    selectors: Option<Arc<CompiledSelectors>>,
    checkpoint: Mutex<SourceCheckpoint>,
}

/// The Tor collector: sources, their sessions, and the shared limits.
pub struct Collector {
    http: Arc<HttpClient>,
    settings: TorSettings,
    sources: Vec<Arc<SourceRuntime>>,
    hosts: std::sync::Mutex<HashMap<String, Arc<Mutex<()>>>>,
    permits: Semaphore,
    /// Hosts of every configured mirror: not candidates.
    known: BTreeSet<String>,
}

impl Collector {
    /// Starts the transport (bootstrapping arti, state under `tor_dir`) and restores each
    /// source's checkpoint from `checkpoints` (store bytes by source id).
    pub async fn start(
        settings: TorSettings,
        sources: Vec<TorSource>,
        checkpoints: &HashMap<String, Vec<u8>>,
        tor_dir: &Path,
    ) -> Result<Arc<Collector>, StartError> {
        let transport = Transport::start(&settings, tor_dir).await?;
        Collector::with_transport(Arc::new(transport), settings, sources, checkpoints)
    }

    /// As [`Collector::start`] with a transport already made.
    pub fn with_transport(
        transport: Arc<Transport>,
        settings: TorSettings,
        sources: Vec<TorSource>,
        checkpoints: &HashMap<String, Vec<u8>>,
    ) -> Result<Arc<Collector>, StartError> {
        let known = sources
            .iter()
            .flat_map(|s| s.mirrors.iter())
            .filter_map(|m| m.host_str().map(str::to_string))
            .collect();
        let mut runtimes = Vec::new();
        for s in sources {
            let selectors = match &s.selectors {
                Some(sel) => Some(Arc::new(CompiledSelectors::new(sel).map_err(|e| {
                    StartError::Config(crate::ConfigError {
                        problems: vec![format!("[[tor_source]] {:?}: {e}", s.id)],
                    })
                })?)),
                None => None,
            };
            let checkpoint = checkpoints
                .get(&s.id)
                .and_then(|b| serde_json::from_slice(b).ok())
                .unwrap_or_default();
            runtimes.push(Arc::new(SourceRuntime {
                session: Session::new(&s.id, s.cookie.as_deref()),
                selectors,
                checkpoint: Mutex::new(checkpoint),
                source: s,
            }));
        }
        Ok(Arc::new(Collector {
            http: Arc::new(HttpClient::new(transport, settings.clone())),
            permits: Semaphore::new(settings.max_concurrent.max(1)),
            settings,
            sources: runtimes,
            hosts: std::sync::Mutex::new(HashMap::new()),
            known,
        }))
    }

    /// The configured source ids.
    /// The HTTP client over this collector's transport and limits, for other pages fetched
    /// through Tor (Telegram web previews).
    pub fn http_client(&self) -> Arc<HttpClient> {
        Arc::clone(&self.http)
    }

    pub fn source_ids(&self) -> Vec<String> {
        self.sources.iter().map(|s| s.source.id.clone()).collect()
    }

    /// Runs every source on its schedule until `shutdown` turns true; each source's first run
    /// starts at once. Returns when every source task has stopped.
    pub async fn run(
        self: Arc<Self>,
        out: mpsc::Sender<CollectorEvent>,
        shutdown: watch::Receiver<bool>,
    ) {
        let mut tasks = tokio::task::JoinSet::new();
        for rt in &self.sources {
            let (me, rt, out, mut shutdown) = (
                Arc::clone(&self),
                Arc::clone(rt),
                out.clone(),
                shutdown.clone(),
            );
            tasks.spawn(async move {
                loop {
                    if *shutdown.borrow() || out.is_closed() {
                        break;
                    }
                    me.crawl_source(&rt, &out, &shutdown).await;
                    let wait = jittered(rt.source.interval_secs, rt.source.jitter);
                    debug!(source = %rt.source.id, wait_secs = wait.as_secs(), "next run scheduled");
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = shutdown.changed() => {}
                    }
                }
            });
        }
        while tasks.join_next().await.is_some() {}
    }

    /// Runs one source once (`vigie crawl`).
    pub async fn crawl(
        &self,
        source_id: &str,
        out: &mpsc::Sender<CollectorEvent>,
        shutdown: &watch::Receiver<bool>,
    ) -> Result<HealthRecord, StartError> {
        let rt = self
            .sources
            .iter()
            .find(|s| s.source.id == source_id)
            .ok_or_else(|| StartError::UnknownSource(source_id.to_string()))?;
        Ok(self.crawl_source(rt, out, shutdown).await)
    }

    async fn crawl_source(
        &self,
        rt: &SourceRuntime,
        out: &mpsc::Sender<CollectorEvent>,
        shutdown: &watch::Receiver<bool>,
    ) -> HealthRecord {
        let started = std::time::Instant::now();
        let source = &rt.source;
        let mut cp = rt.checkpoint.lock().await.clone();
        let mut health = HealthRecord {
            source: source.id.clone(),
            at_ms: now_ms(),
            status: HealthStatus::Ok,
            mirror: None,
            mirrors_failed: Vec::new(),
            pages_ok: 0,
            pages_failed: 0,
            documents: 0,
            counts: BTreeMap::new(),
            blind: Vec::new(),
            errors: Vec::new(),
            elapsed_ms: 0,
        };
        // The mirror that answered last goes first.
        let mut mirrors = source.mirrors.clone();
        if let Some(pos) = cp
            .mirror
            .as_ref()
            .and_then(|h| mirrors.iter().position(|m| mirror_id(m) == *h))
        {
            mirrors.rotate_left(pos);
        }
        let mut listing: Option<(Url, Url, Fetched)> = None;
        for m in &mirrors {
            let Ok(url) = m.join(&source.start) else {
                continue;
            };
            match self.fetch(rt, &url).await {
                Ok(f) => {
                    listing = Some((m.clone(), url, f));
                    break;
                }
                Err(e) => {
                    let host = mirror_id(m);
                    warn!(source = %source.id, mirror = %host, error = %e, "mirror failed");
                    health.errors.push(format!("{host}: {e}"));
                    health.mirrors_failed.push(host);
                    health.pages_failed += 1;
                    if !e.is_unreachable() {
                        break;
                    }
                }
            }
        }
        let Some((mirror, start_url, first)) = listing else {
            health.status = HealthStatus::Unreachable;
            return self.finish(rt, cp, health, started, out).await;
        };
        let host = mirror_id(&mirror);
        if cp.mirror.as_deref() != Some(host.as_str()) {
            if cp.mirror.is_some() {
                info!(source = %source.id, mirror = %host, "rotated to another mirror");
            }
            cp.mirror = Some(host.clone());
        }
        health.mirror = Some(host);

        let mut budget = source.max_pages;
        let mut seen: BTreeSet<String> = BTreeSet::new();
        let mut candidates: BTreeSet<String> = BTreeSet::new();
        // (url, thread key) pairs; listing pages have no thread key.
        let mut queue: VecDeque<(Url, Option<String>)> = VecDeque::new();
        let mut prefetched = Some(first);
        queue.push_back((start_url, None));
        while let Some((url, thread)) = queue.pop_front() {
            if *shutdown.borrow() || out.is_closed() {
                break;
            }
            if !seen.insert(url.to_string()) {
                continue;
            }
            let fetched = match prefetched.take() {
                Some(f) => Ok(f),
                None if budget == 0 => break,
                None => self.fetch(rt, &url).await,
            };
            budget = budget.saturating_sub(1);
            let page = match fetched {
                Ok(f) => self.parse(rt, f).await,
                Err(e) => Err(e),
            };
            let (final_url, page) = match page {
                Ok(p) => p,
                Err(e) => {
                    warn!(source = %source.id, url = %url.path(), error = %e, "page skipped");
                    health.pages_failed += 1;
                    health.errors.push(format!("{}: {e}", url.path()));
                    continue;
                }
            };
            health.pages_ok += 1;
            for (k, v) in &page.counts {
                *health.counts.entry(k.clone()).or_default() += v;
            }
            for onion in &page.onions {
                if !self.known.contains(onion.as_str()) && candidates.insert(onion.to_string()) {
                    let ev = CollectorEvent::Candidate {
                        onion: onion.to_string(),
                        seen_in: source.id.clone(),
                        at_ms: now_ms(),
                    };
                    if out.send(ev).await.is_err() {
                        break;
                    }
                }
            }
            let key = thread.clone().unwrap_or_else(|| path_of(&url));
            let docs = documents(source, &key, &final_url, &page);
            health.documents += docs.len();
            for d in docs {
                if out.send(CollectorEvent::Document(d)).await.is_err() {
                    break;
                }
            }
            match &thread {
                Some(key) => {
                    cp.threads.insert(key.clone(), path_of(&final_url));
                    if let Some(next) = page.next_page {
                        queue.push_front((next, Some(key.clone())));
                    }
                    self.save(rt, &cp, out).await;
                }
                None => {
                    // Threads of this listing page first, then the next listing page.
                    for t in page.thread_links.iter().rev() {
                        let key = path_of(t);
                        let resume = cp
                            .threads
                            .get(&key)
                            .and_then(|p| mirror.join(p).ok())
                            .unwrap_or_else(|| t.clone());
                        queue.push_front((resume, Some(key)));
                    }
                    if let Some(next) = page.next_page {
                        queue.push_back((next, None));
                    }
                }
            }
        }
        // Blind selectors: nothing found on pages that answered, where the last run found
        // something (or, on a first run, the post selector itself finds nothing).
        if health.pages_ok > 0 {
            if let Some(sel) = &source.selectors {
                for (name, _) in sel.named() {
                    let now = health.counts.get(name).copied().unwrap_or(0);
                    let before = cp.last_counts.get(name).copied().unwrap_or(0);
                    let essential = name == "post" && cp.runs == 0;
                    if now == 0 && (before > 0 || essential) {
                        health.blind.push(name.to_string());
                    }
                }
            }
        }
        if !health.blind.is_empty() {
            warn!(
                source = %source.id,
                selectors = ?health.blind,
                pages_ok = health.pages_ok,
                "parser found nothing on pages that still answer: the site's HTML may have changed"
            );
            health.status = HealthStatus::Blind;
        } else if health.pages_ok == 0 {
            health.status = HealthStatus::Failed;
        } else if health.pages_failed > 0 {
            health.status = HealthStatus::Partial;
        }
        if health.pages_ok > 0 && health.blind.is_empty() {
            cp.last_counts = health.counts.clone();
        }
        self.finish(rt, cp, health, started, out).await
    }

    async fn finish(
        &self,
        rt: &SourceRuntime,
        mut cp: SourceCheckpoint,
        mut health: HealthRecord,
        started: std::time::Instant,
        out: &mpsc::Sender<CollectorEvent>,
    ) -> HealthRecord {
        cp.runs += 1;
        health.elapsed_ms = started.elapsed().as_millis() as u64;
        self.save(rt, &cp, out).await;
        info!(
            source = %health.source,
            status = ?health.status,
            pages_ok = health.pages_ok,
            pages_failed = health.pages_failed,
            documents = health.documents,
            elapsed_ms = health.elapsed_ms,
            "tor source run finished"
        );
        let _ = out.send(CollectorEvent::Health(health.clone())).await;
        health
    }

    async fn save(
        &self,
        rt: &SourceRuntime,
        cp: &SourceCheckpoint,
        out: &mpsc::Sender<CollectorEvent>,
    ) {
        *rt.checkpoint.lock().await = cp.clone();
        if let Ok(cursor) = serde_json::to_vec(cp) {
            let key = checkpoint_key(&rt.source.id);
            let _ = out.send(CollectorEvent::Checkpoint { key, cursor }).await;
        }
    }

    /// One page: one request at a time per host, a global limit, retries with backoff on
    /// circuit, descriptor and timeout failures.
    async fn fetch(&self, rt: &SourceRuntime, url: &Url) -> Result<Fetched, FetchError> {
        let host_lock = {
            let key = mirror_id(url);
            let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
            Arc::clone(hosts.entry(key).or_default())
        };
        let attempts = self.settings.attempts.max(1);
        let mut delay = Duration::from_millis(self.settings.backoff_ms);
        let mut attempt = 1;
        loop {
            let result = {
                let _host = host_lock.lock().await;
                let _permit = self.permits.acquire().await;
                self.http.get(url, &rt.session).await
            };
            match result {
                Err(e) if e.retry() == Retry::Soon && attempt < attempts => {
                    debug!(source = %rt.source.id, attempt, error = %e, "retrying");
                    let jitter = rand::thread_rng().gen_range(0.5..1.0);
                    tokio::time::sleep(delay.mul_f64(jitter)).await;
                    delay *= 2;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// Decodes and parses off the async threads; refuses pathologically nested HTML.
    async fn parse(&self, rt: &SourceRuntime, f: Fetched) -> Result<(Url, ParsedPage), FetchError> {
        let limit = self.settings.max_nesting;
        let source_id = rt.source.id.clone();
        let compiled = rt.selectors.clone();
        tokio::task::spawn_blocking(move || {
            let text = decode_text(&f, &source_id);
            let page = parse_page(&text, &f.url, compiled.as_deref(), limit)
                .map_err(|_| FetchError::TooDeep { limit })?;
            Ok((f.url.clone(), page))
        })
        .await
        .map_err(|e| FetchError::Http {
            host: String::new(),
            detail: e.to_string(),
        })?
    }
}

/// The body as text: charset from the header, else a `<meta charset>`, else UTF-8; bytes
/// that do not decode are replaced and logged.
fn decode_text(f: &Fetched, source: &str) -> String {
    let from_header = f
        .content_type
        .as_deref()
        .and_then(|ct| ct.split("charset=").nth(1))
        .map(|c| c.trim_matches(['"', ' ', ';']).to_string());
    let from_meta = || {
        let head = String::from_utf8_lossy(&f.body[..f.body.len().min(2048)]).to_ascii_lowercase();
        let at = head.find("charset=")?;
        let rest = head[at + 8..].trim_start_matches(['"', '\'']);
        let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))?;
        Some(rest[..end].to_string())
    };
    let label = from_header
        .or_else(from_meta)
        .unwrap_or_else(|| "utf-8".into());
    let encoding = encoding_rs::Encoding::for_label(label.as_bytes()).unwrap_or(encoding_rs::UTF_8);
    let (text, _, had_errors) = encoding.decode(&f.body);
    if had_errors {
        warn!(source, url = %f.url.path(), encoding = encoding.name(), "page has bytes invalid in its encoding; replaced");
    }
    text.into_owned()
}

/// A mirror's identity (and the key requests to one host are serialised on): its host, with
/// the port when not the default.
fn mirror_id(u: &Url) -> String {
    let host = u.host_str().unwrap_or("");
    match u.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    }
}

/// Path and query: the identity of a page across mirrors.
fn path_of(u: &Url) -> String {
    match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_string(),
    }
}

/// The documents of a page: one per post (listing pages usually have none), or the page
/// itself for `page` sources.
fn documents(
    source: &TorSource,
    thread: &str,
    url: &Url,
    page: &ParsedPage,
) -> Vec<CollectedDocument> {
    let at = now_ms();
    let make = |anchor: Option<&str>, document: String| CollectedDocument {
        source: source.id.clone(),
        kind: source.kind,
        url: match anchor {
            Some(a) => format!("{}#{a}", url.as_str().split('#').next().unwrap_or("")),
            None => url.to_string(),
        },
        document,
        fetched_at_ms: at,
    };
    if source.kind == SourceKind::Page || source.selectors.is_none() {
        return vec![make(None, page_document(source, url, page))];
    }
    page.posts
        .iter()
        .filter(|p| !p.body.is_empty() || !p.title.is_empty())
        .map(|p| make(Some(&p.id), post_document(source, thread, p)))
        .collect()
}

/// A post as deterministic text: the same post read again (from any mirror) is the same
/// bytes, so the store counts a repeat sighting rather than a new document.
pub fn post_document(source: &TorSource, thread: &str, p: &Post) -> String {
    let kind = match source.kind {
        SourceKind::LeakSite => "Ransomware leak site",
        SourceKind::Forum => "Tor forum",
        SourceKind::Page => "Onion page",
    };
    let mut d = format!("{kind}: {}\n", source.id);
    let title_label = if source.kind == SourceKind::LeakSite {
        "Victim"
    } else {
        "Thread"
    };
    d.push_str(&format!("{title_label}: {}\n", p.title));
    d.push_str(&format!("Post: {thread}#{}\n", p.id));
    if !p.author.is_empty() {
        d.push_str(&format!("Author: {}\n", p.author));
    }
    if !p.date.is_empty() {
        d.push_str(&format!("Date: {}\n", p.date));
    }
    if !p.data_size.is_empty() {
        d.push_str(&format!("Data size: {}\n", p.data_size));
    }
    d.push('\n');
    d.push_str(&p.body);
    d.push('\n');
    if !p.links.is_empty() {
        d.push_str("\nLinks:\n");
        for l in &p.links {
            d.push_str(&format!("- {}\n", path_or_foreign(l, source)));
        }
    }
    d
}

fn page_document(source: &TorSource, url: &Url, page: &ParsedPage) -> String {
    let mut d = format!(
        "Onion page: {}\nTitle: {}\nPath: {}\n\n{}\n",
        source.id,
        page.title,
        path_of(url),
        page.text
    );
    if !page.links.is_empty() {
        d.push_str("\nLinks:\n");
        for l in &page.links {
            d.push_str(&format!("- {}\n", path_or_foreign(l, source)));
        }
    }
    d
}

/// Links to the source's own mirrors are written as paths, so mirrors give equal documents.
fn path_or_foreign(link: &str, source: &TorSource) -> String {
    match Url::parse(link) {
        Ok(u) if source.mirrors.iter().any(|m| mirror_id(m) == mirror_id(&u)) => path_of(&u),
        _ => link.to_string(),
    }
}

fn jittered(interval: u64, jitter: f64) -> Duration {
    let f = if jitter > 0.0 {
        rand::thread_rng().gen_range(1.0 - jitter..=1.0 + jitter)
    } else {
        1.0
    };
    Duration::from_secs_f64((interval as f64 * f).max(1.0))
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

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

use vigie_pages::classify::{classify, PageClass};
use vigie_pages::leak::Profile;
use vigie_pages::urlkey::without_session;
use vigie_pages::{Entry, PageContext};

use crate::config::{Reader, SourceKind, TorSettings, TorSource};
use crate::error::{FetchError, Retry, StartError};
use crate::http::{Fetched, HttpClient, Session};
use crate::onion::{find_onions, OnionAddress};
use crate::parse::{parse_page, same_site, CompiledSelectors, ParsedPage, Post};
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
    /// Per thread, the listing's last-post marker when the thread was last read to its end:
    /// while the listing shows the same marker there is nothing new in it, and the page budget
    /// goes to other threads.
    #[serde(default)]
    pub markers: BTreeMap<String, String>,
    /// Victim detail pages already read (path and query): each is fetched once.
    #[serde(default)]
    pub details: BTreeSet<String>,
    /// Listing pages (sub-forums, next pages) queued but not read when the last run's budget
    /// ran out: the next run reads them before the others, so a forum with more sub-forums
    /// than `max_pages` is covered over successive runs.
    #[serde(default)]
    pub unreached: Vec<String>,
    /// Elements each selector found in the last run that reached the site.
    pub last_counts: BTreeMap<String, usize>,
    pub runs: u64,
}

/// Health records moved to `vigie-core` (the store and the digest read them); re-exported
/// so callers compile unchanged.
pub use vigie_core::{health_key, HealthRecord, HealthStatus};

/// The status a page class gives a run that read nothing else.
fn of_class(class: PageClass) -> HealthStatus {
    match class {
        PageClass::Content => HealthStatus::Blind,
        PageClass::LoginWall => HealthStatus::LoginWall,
        PageClass::Captcha => HealthStatus::Captcha,
        PageClass::NotFound => HealthStatus::NotFound,
        PageClass::Maintenance => HealthStatus::Maintenance,
        PageClass::RateLimited => HealthStatus::RateLimited,
    }
}

/// Store key of a source's checkpoint.
pub fn checkpoint_key(source: &str) -> String {
    format!("tor:{source}")
}

struct SourceRuntime {
    source: Arc<TorSource>,
    session: Session,
    selectors: Option<Arc<CompiledSelectors>>,
    /// The shipped leak-site profiles (leak-site reader only).
    profiles: Arc<Vec<Profile>>,
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
        let profiles = if sources.iter().any(|s| s.reader == Reader::LeakSite) {
            Arc::new(vigie_pages::leak::shipped_profiles().map_err(|e| {
                StartError::Config(crate::ConfigError {
                    problems: vec![format!("shipped leak-site profiles: {e}")],
                })
            })?)
        } else {
            Arc::new(Vec::new())
        };
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
                profiles: Arc::clone(&profiles),
                checkpoint: Mutex::new(checkpoint),
                source: Arc::new(s),
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
        let mut refused: Option<PageClass> = None;
        for m in &mirrors {
            let Ok(url) = m.join(&source.start) else {
                continue;
            };
            match self.fetch(rt, &url).await {
                Ok(f) => {
                    listing = Some((m.clone(), without_session(&url), f));
                    break;
                }
                Err(e) => {
                    let host = mirror_id(m);
                    warn!(source = %source.id, mirror = %host, error = %e, "mirror failed");
                    health.errors.push(format!("{host}: {e}"));
                    health.mirrors_failed.push(host);
                    health.pages_failed += 1;
                    if !e.is_unreachable() {
                        refused = class_of_status(&e);
                        break;
                    }
                }
            }
        }
        let Some((mirror, start_url, first)) = listing else {
            health.status = match refused {
                Some(class) => {
                    health.errors.push(of_class(class).explain().to_string());
                    of_class(class)
                }
                None => HealthStatus::Unreachable,
            };
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
        // Pages to read in order: new and changed threads of a listing go first, then the
        // remaining listings; threads whose change cannot be told (no last-post marker on
        // the listing) wait in `later`, after everything new.
        let mut queue: VecDeque<(Url, Visit)> = VecDeque::new();
        let mut later: VecDeque<(Url, Visit)> = VecDeque::new();
        let mut prefetched = Some(first);
        // Pages that gave nothing, by what they looked like.
        let mut empty_pages: BTreeMap<PageClass, usize> = BTreeMap::new();
        let mut yielded_pages = 0usize;
        let mut skipped_unchanged = 0usize;
        queue.push_back((start_url, Visit::Listing));
        while let Some((url, visit)) = queue.pop_front().or_else(|| later.pop_front()) {
            if *shutdown.borrow() || out.is_closed() {
                break;
            }
            if seen.contains(url.as_str()) {
                continue;
            }
            if budget == 0 && prefetched.is_none() {
                // Kept for the checkpoint's list of listings not reached.
                queue.push_front((url, visit));
                break;
            }
            seen.insert(url.to_string());
            let fetched = match prefetched.take() {
                Some(f) => Ok(f),
                None => self.fetch(rt, &url).await,
            };
            budget = budget.saturating_sub(1);
            let key = match &visit {
                Visit::Thread { key, .. } | Visit::Detail { key } => key.clone(),
                Visit::Listing => path_of(&url),
            };
            let detail = matches!(visit, Visit::Detail { .. });
            let page = match fetched {
                Ok(f) => self.parse(rt, f, key.clone(), detail).await,
                Err(e) => Err(e),
            };
            let page = match page {
                Ok(p) => p,
                Err(e) => {
                    warn!(source = %source.id, url = %url.path(), error = %e, "page skipped");
                    health.pages_failed += 1;
                    health.errors.push(format!("{}: {e}", path_of(&url)));
                    if let Some(class) = class_of_status(&e) {
                        *empty_pages.entry(class).or_default() += 1;
                    }
                    continue;
                }
            };
            health.pages_ok += 1;
            for (k, v) in &page.counts {
                *health.counts.entry(k.clone()).or_default() += v;
            }
            if page.yielded {
                yielded_pages += 1;
            } else {
                *empty_pages.entry(page.class).or_default() += 1;
                if page.class != PageClass::Content {
                    let status = of_class(page.class);
                    info!(source = %source.id, url = %url.path(), class = page.class.name(), "page holds no content");
                    health
                        .errors
                        .push(format!("{}: {}", path_of(&url), status.explain()));
                }
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
            health.documents += page.docs.len();
            for d in page.docs {
                if out.send(CollectorEvent::Document(d)).await.is_err() {
                    break;
                }
            }
            match visit {
                Visit::Thread { key, marker, from } => {
                    cp.threads.insert(key.clone(), path_of(&page.final_url));
                    match page.next_page {
                        Some(next) => queue.push_front((next, Visit::Thread { key, marker, from })),
                        // Read to its end: until the marker changes, nothing new here.
                        None if !marker.is_empty() && page.yielded => {
                            cp.markers.insert(key, marker);
                        }
                        None => {}
                    }
                    self.save(rt, &cp, out).await;
                }
                Visit::Detail { key } => {
                    if page.yielded {
                        cp.details.insert(key);
                        self.save(rt, &cp, out).await;
                    }
                }
                Visit::Listing => {
                    // Victims' detail pages, then threads of this listing page, in page order
                    // (pushed in reverse to the front), before the next listing page.
                    let mut fresh = 0usize;
                    for (t, marker) in page.threads.iter().rev() {
                        let key = path_of(t);
                        let resume = cp
                            .threads
                            .get(&key)
                            .and_then(|p| mirror.join(p).ok())
                            .unwrap_or_else(|| t.clone());
                        let visit = Visit::Thread {
                            key: key.clone(),
                            marker: marker.clone(),
                            from: path_of(&url),
                        };
                        if !cp.threads.contains_key(&key) {
                            fresh += 1;
                            queue.push_front((t.clone(), visit));
                        } else if marker.is_empty() {
                            later.push_front((resume, visit));
                        } else if cp.markers.get(&key) == Some(marker) {
                            skipped_unchanged += 1;
                        } else {
                            fresh += 1;
                            queue.push_front((resume, visit));
                        }
                    }
                    for d in page.details.iter().rev() {
                        let key = path_of(d);
                        if !cp.details.contains(&key) {
                            queue.push_front((d.clone(), Visit::Detail { key }));
                        }
                    }
                    // Those the last run did not reach first, in the order it left them.
                    let (mut first, rest): (Vec<Url>, Vec<Url>) = page
                        .listings
                        .into_iter()
                        .partition(|u| cp.unreached.contains(&path_of(u)));
                    first.sort_by_key(|u| {
                        let p = path_of(u);
                        cp.unreached.iter().position(|x| *x == p)
                    });
                    for sub in first.into_iter().chain(rest) {
                        queue.push_back((sub, Visit::Listing));
                    }
                    // Listings are sorted by last activity: past a page where every thread
                    // is unchanged, the next pages hold older, unchanged threads too.
                    let all_unchanged =
                        fresh == 0 && skipped_unchanged > 0 && !page.threads.is_empty();
                    if let Some(next) = page.next_page {
                        if !all_unchanged {
                            queue.push_back((next, Visit::Listing));
                        }
                    }
                }
            }
        }
        // Listings this run could not reach, or whose threads it could not reach, go first
        // next run.
        let mut unreached = Vec::new();
        for (u, v) in queue.iter().chain(later.iter()) {
            let path = match v {
                Visit::Listing if !seen.contains(u.as_str()) => path_of(u),
                Visit::Thread { from, .. } => from.clone(),
                _ => continue,
            };
            if !unreached.contains(&path) {
                unreached.push(path);
            }
        }
        cp.unreached = unreached;
        if skipped_unchanged > 0 {
            debug!(source = %source.id, threads = skipped_unchanged, "unchanged threads not re-read");
        }
        // Blind selectors: nothing found on pages that answered, where the last run found
        // something (or, on a first run, the post selector itself finds nothing).
        if health.pages_ok > 0 && source.reader == Reader::Selectors {
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
        // A built-in reader is blind when pages that look like content gave nothing at all.
        if health.pages_ok > 0
            && yielded_pages == 0
            && matches!(source.reader, Reader::Forum(_) | Reader::LeakSite)
            && empty_pages.get(&PageClass::Content).copied().unwrap_or(0) > 0
        {
            health.blind.push(match source.reader {
                Reader::LeakSite => "victims".to_string(),
                _ => "posts".to_string(),
            });
        }
        // Pages that stood in for content (login, CAPTCHA, not found...) explain an empty run
        // better than a changed layout does.
        let stand_in = empty_pages
            .iter()
            .filter(|(c, _)| **c != PageClass::Content)
            .max_by_key(|(_, n)| **n)
            .map(|(c, _)| *c);
        if yielded_pages == 0 && stand_in.is_some() && health.documents == 0 {
            let class = stand_in.unwrap_or(PageClass::Content);
            health.status = of_class(class);
            health.blind.clear();
            warn!(source = %source.id, class = class.name(), "{}", health.status.explain());
        } else if !health.blind.is_empty() {
            warn!(
                source = %source.id,
                selectors = ?health.blind,
                pages_ok = health.pages_ok,
                "parser found nothing on pages that still answer: the site's HTML may have changed"
            );
            health.status = HealthStatus::Blind;
        } else if health.pages_ok == 0 {
            health.status = HealthStatus::Failed;
        } else if health.pages_failed > 0 || stand_in.is_some() {
            health.status = HealthStatus::Partial;
        }
        if health.pages_ok > 0 && health.blind.is_empty() && yielded_pages > 0 {
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

    /// Decodes and reads a page off the async threads; refuses pathologically nested HTML.
    /// `key` is what its documents are filed under (the thread's first page, or the page).
    async fn parse(
        &self,
        rt: &SourceRuntime,
        f: Fetched,
        key: String,
        detail: bool,
    ) -> Result<PageRead, FetchError> {
        let limit = self.settings.max_nesting;
        let source = Arc::clone(&rt.source);
        let compiled = rt.selectors.clone();
        let profiles = Arc::clone(&rt.profiles);
        tokio::task::spawn_blocking(move || {
            let text = decode_text(&f, &source.id);
            let read = Read {
                source: &source,
                compiled: compiled.as_deref(),
                profiles: &profiles,
                key: &key,
                detail,
                limit,
            };
            read_page(&read, &f, &text).map_err(|_| FetchError::TooDeep { limit })
        })
        .await
        .map_err(|e| FetchError::Http {
            host: String::new(),
            detail: e.to_string(),
        })?
    }
}

/// What the crawl does with a page.
#[derive(Debug, Clone)]
enum Visit {
    /// A forum index, sub-forum or listing page, or a leak site's victim list.
    Listing,
    /// A page of a thread: `key` is its first page (path and query), `marker` what the
    /// listing showed of its last post.
    /// `from` is the listing page that showed it.
    Thread {
        key: String,
        marker: String,
        from: String,
    },
    /// A victim's detail page.
    Detail { key: String },
}

/// What one page gave, whatever read it.
struct PageRead {
    /// The page's URL, session parameters removed.
    final_url: Url,
    onions: Vec<OnionAddress>,
    counts: BTreeMap<String, usize>,
    docs: Vec<CollectedDocument>,
    /// Threads listed, with their last-post markers (empty when the listing shows none).
    threads: Vec<(Url, String)>,
    /// Sub-forums.
    listings: Vec<Url>,
    next_page: Option<Url>,
    /// Victims' detail pages.
    details: Vec<Url>,
    /// Whether the page gave documents or links to follow.
    yielded: bool,
    /// What a page that gave nothing looked like (`Content` otherwise).
    class: PageClass,
}

/// How to read a page.
struct Read<'a> {
    source: &'a TorSource,
    compiled: Option<&'a CompiledSelectors>,
    profiles: &'a [Profile],
    /// What its documents are filed under.
    key: &'a str,
    /// A victim's detail page (leak sites).
    detail: bool,
    limit: usize,
}

/// Reads one decoded page with the source's reader.
fn read_page(r: &Read<'_>, f: &Fetched, text: &str) -> Result<PageRead, vigie_html::HtmlRefused> {
    let (source, compiled, profiles, key, limit) =
        (r.source, r.compiled, r.profiles, r.key, r.limit);
    let base = without_session(&f.url);
    let clean = |u: &Url| without_session(u);
    match source.reader {
        Reader::Selectors | Reader::Page => {
            let page = parse_page(text, &f.url, compiled, limit)?;
            let docs = documents(source, key, &base, &page);
            let yielded = source.reader == Reader::Page
                || !page.posts.is_empty()
                || !page.thread_links.is_empty();
            let class = if yielded {
                PageClass::Content
            } else {
                let doc = vigie_html::parse_document(text, limit)?;
                classify(f.status, &doc, &page.text)
            };
            Ok(PageRead {
                threads: page
                    .thread_links
                    .iter()
                    .map(|u| (clean(u), String::new()))
                    .collect(),
                next_page: page.next_page.as_ref().map(clean),
                final_url: base,
                onions: page.onions,
                counts: page.counts,
                docs,
                listings: Vec::new(),
                details: Vec::new(),
                yielded,
                class,
            })
        }
        Reader::Forum(engine) => {
            let doc = vigie_html::parse_document(text, limit)?;
            let ctx = PageContext::new(base.clone());
            let fp = vigie_pages::forum::read_forum_page(&doc, engine, &ctx);
            let page_text = vigie_html::readable_text(doc.root_element());
            let mut counts = BTreeMap::new();
            counts.insert("posts".to_string(), fp.posts.len());
            counts.insert("threads".to_string(), fp.threads.len());
            counts.insert("subforums".to_string(), fp.subforums.len());
            let docs: Vec<CollectedDocument> = fp
                .posts
                .iter()
                .filter(|e| !e.body.is_empty() || !e.title.is_empty())
                .map(|e| {
                    let title = if e.title.is_empty() {
                        fp.thread_title.as_str()
                    } else {
                        e.title.as_str()
                    };
                    CollectedDocument {
                        source: source.id.clone(),
                        kind: source.kind,
                        url: anchored(&base, &e.id),
                        document: forum_document(source, key, title, e),
                        fetched_at_ms: now_ms(),
                    }
                })
                .collect();
            let same = |u: &Url| same_site(u, &base);
            let threads: Vec<(Url, String)> = fp
                .threads
                .iter()
                .filter(|t| same(&t.url))
                .map(|t| (clean(&t.url), t.last_post.clone()))
                .collect();
            let listings: Vec<Url> = fp.subforums.iter().filter(|u| same(u)).map(clean).collect();
            let yielded = !fp.posts.is_empty() || !threads.is_empty() || !listings.is_empty();
            Ok(PageRead {
                onions: page_onions(&doc, &base, &page_text),
                class: if yielded {
                    PageClass::Content
                } else {
                    classify(f.status, &doc, &page_text)
                },
                next_page: fp
                    .next_page
                    .as_ref()
                    .filter(|u| same(u))
                    .map(clean)
                    .filter(|u| *u != base),
                final_url: base.clone(),
                counts,
                docs,
                threads,
                listings,
                details: Vec::new(),
                yielded,
            })
        }
        Reader::LeakSite => {
            let doc = vigie_html::parse_document(text, limit)?;
            let ctx = PageContext::new(base.clone());
            let lp = vigie_pages::leak::read_leak_page(&doc, &ctx, profiles);
            let page_text = vigie_html::readable_text(doc.root_element());
            let mut counts = BTreeMap::new();
            counts.insert("victims".to_string(), lp.victims.len());
            let victims: Vec<&Entry> = lp
                .victims
                .iter()
                .filter(|e| !e.title.is_empty() || !e.body.is_empty())
                .collect();
            let detail_of = |e: &Entry| {
                e.detail_link
                    .as_deref()
                    .and_then(|d| base.join(d).ok())
                    .filter(|u| same_site(u, &base))
                    .map(|u| clean(&u))
                    .filter(|u| *u != base)
            };
            let mut docs = victims
                .iter()
                .map(|e| CollectedDocument {
                    source: source.id.clone(),
                    kind: source.kind,
                    url: detail_of(e)
                        .map(|u| u.to_string())
                        .unwrap_or_else(|| anchored(&base, &e.id)),
                    document: victim_document(source, e),
                    fetched_at_ms: now_ms(),
                })
                .collect::<Vec<_>>();
            // A victim's own page that is not a list: its text is the evidence (description,
            // file tree, sample rows), read from its main content.
            if r.detail && docs.is_empty() {
                if let Some(d) = detail_document(source, key, &doc) {
                    docs.push(CollectedDocument {
                        source: source.id.clone(),
                        kind: source.kind,
                        url: base.to_string(),
                        document: d,
                        fetched_at_ms: now_ms(),
                    });
                }
            }
            let mut details: Vec<Url> = Vec::new();
            for u in victims.iter().filter_map(|e| detail_of(e)) {
                if !details.contains(&u) {
                    details.push(u);
                }
            }
            let yielded = !docs.is_empty();
            let details = if r.detail { Vec::new() } else { details };
            Ok(PageRead {
                onions: page_onions(&doc, &base, &page_text),
                class: if yielded {
                    PageClass::Content
                } else {
                    classify(f.status, &doc, &page_text)
                },
                next_page: lp
                    .next_page
                    .as_ref()
                    .filter(|u| same_site(u, &base))
                    .map(clean)
                    .filter(|u| *u != base),
                final_url: base.clone(),
                counts,
                docs,
                threads: Vec::new(),
                listings: Vec::new(),
                details,
                yielded,
            })
        }
    }
}

/// A victim's detail page as one document: its title and the readable text of its main
/// content (`main`, `article`, else the body), structure kept.
fn detail_document(source: &TorSource, key: &str, doc: &scraper::Html) -> Option<String> {
    let pick = |css: &str| {
        scraper::Selector::parse(css)
            .ok()
            .and_then(|s| doc.select(&s).next())
    };
    let main = pick("main")
        .or_else(|| pick("article"))
        .or_else(|| pick("body"))?;
    let text = vigie_html::readable_text(main);
    if text.trim().is_empty() {
        return None;
    }
    let title = pick("title")
        .map(|t| {
            t.text()
                .collect::<String>()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default();
    Some(format!(
        "Ransomware leak site: {}\nVictim page: {key}\nTitle: {title}\n\n{text}\n",
        source.id
    ))
}

/// The class of page an HTTP error status stands for, if any.
fn class_of_status(e: &FetchError) -> Option<PageClass> {
    match e {
        FetchError::Status { status, .. } => match status {
            404 | 410 => Some(PageClass::NotFound),
            429 => Some(PageClass::RateLimited),
            401 | 403 => Some(PageClass::LoginWall),
            503 => Some(PageClass::Maintenance),
            _ => None,
        },
        _ => None,
    }
}

/// Valid v3 onion addresses in a page's text and links.
fn page_onions(doc: &scraper::Html, base: &Url, text: &str) -> Vec<OnionAddress> {
    let mut haystack = text.to_string();
    if let Ok(a) = scraper::Selector::parse("a[href]") {
        let mut seen = BTreeSet::new();
        for el in doc.select(&a) {
            if let Some(u) = el.value().attr("href").and_then(|h| base.join(h).ok()) {
                if seen.insert(u.to_string()) {
                    haystack.push('\n');
                    haystack.push_str(u.as_str());
                }
            }
        }
    }
    find_onions(&haystack)
}

/// `url#anchor`, without the URL's own fragment.
fn anchored(url: &Url, anchor: &str) -> String {
    let mut u = url.clone();
    u.set_fragment(None);
    if anchor.is_empty() {
        u.to_string()
    } else {
        format!("{u}#{anchor}")
    }
}

/// A forum post read by the built-in reader, as deterministic text: the header, the post's
/// own text, then the posts it quotes under `Quoted:` (each line marked `> `), so the matcher
/// can tell a quoted sale from a new one, then its links.
pub fn forum_document(source: &TorSource, thread: &str, title: &str, e: &Entry) -> String {
    let mut d = format!("Tor forum: {}\nThread: {title}\n", source.id);
    d.push_str(&format!("Post: {thread}#{}\n", e.id));
    if !e.author.is_empty() {
        d.push_str(&format!("Author: {}\n", e.author));
    }
    if let Some(date) = e.date.as_deref().filter(|d| !d.is_empty()) {
        d.push_str(&format!("Date: {date}\n"));
    } else if !e.date_text.is_empty() {
        d.push_str(&format!("Date: {}\n", e.date_text));
    }
    d.push('\n');
    d.push_str(e.body.trim_end());
    d.push('\n');
    if !e.quoted.is_empty() {
        d.push_str("\nQuoted:\n");
        for q in &e.quoted {
            for line in q.lines() {
                d.push_str("> ");
                d.push_str(line);
                d.push('\n');
            }
        }
    }
    push_links(&mut d, source, &e.links);
    d
}

/// Fields that change on every visit (a running countdown, a view counter): left out, so the
/// same victim read again is the same bytes — a repeat sighting, not a new document.
const VOLATILE_FIELDS: &[&str] = &["countdown", "views"];

/// A leak-site victim as deterministic text: name, entry id and date, the description, then
/// the fields the entry shows (website, country, sector, revenue, data size, deadline,
/// status, file tree...) after the body. Nothing that depends on where the entry sat in the
/// listing (its page, its position) is written.
pub fn victim_document(source: &TorSource, e: &Entry) -> String {
    let mut d = format!("Ransomware leak site: {}\nVictim: {}\n", source.id, e.title);
    if !e.id.is_empty() {
        d.push_str(&format!("Entry: {}\n", e.id));
    }
    if let Some(date) = e.date.as_deref().filter(|d| !d.is_empty()) {
        d.push_str(&format!("Date: {date}\n"));
    } else if !e.date_text.is_empty() {
        d.push_str(&format!("Date: {}\n", e.date_text));
    }
    d.push('\n');
    if !e.body.is_empty() {
        d.push_str(e.body.trim_end());
        d.push('\n');
    }
    let fields: Vec<(&String, &String)> = e
        .fields
        .iter()
        .filter(|(k, v)| !VOLATILE_FIELDS.contains(&k.as_str()) && !v.is_empty())
        .collect();
    if !fields.is_empty() {
        d.push('\n');
        for (k, v) in fields {
            if v.contains('\n') {
                d.push_str(&format!("{}:\n{}\n", field_label(k), v.trim_end()));
            } else {
                d.push_str(&format!("{}: {v}\n", field_label(k)));
            }
        }
    }
    push_links(&mut d, source, &e.links);
    d
}

fn field_label(key: &str) -> String {
    let spaced = key.replace('_', " ");
    let mut c = spaced.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn push_links(d: &mut String, source: &TorSource, links: &[String]) {
    if links.is_empty() {
        return;
    }
    d.push_str("\nLinks:\n");
    let mut seen = BTreeSet::new();
    for l in links {
        let l = path_or_foreign(l, source);
        if seen.insert(l.clone()) {
            d.push_str(&format!("- {l}\n"));
        }
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
        Ok(u) => {
            let u = without_session(&u);
            if source.mirrors.iter().any(|m| mirror_id(m) == mirror_id(&u)) {
                path_of(&u)
            } else {
                u.to_string()
            }
        }
        Err(_) => link.to_string(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{validate, TorSourceConfig, TransportMode};

    fn source(kind: SourceKind) -> TorSource {
        let settings = TorSettings {
            mode: TransportMode::Loopback,
            ..TorSettings::default()
        };
        let cfg = TorSourceConfig {
            id: "site".into(),
            kind,
            mirrors: vec!["http://127.0.0.1:8080/".into()],
            start: "/".into(),
            engine: None,
            selectors: None,
            interval_secs: 60,
            jitter: 0.0,
            max_pages: 5,
            cookie_env: None,
        };
        validate(&settings, &[cfg], &|_| None).unwrap().remove(0)
    }

    #[test]
    fn no_engine_no_selectors_means_the_built_in_readers() {
        assert_eq!(source(SourceKind::Forum).reader, Reader::Forum(None));
        assert_eq!(source(SourceKind::LeakSite).reader, Reader::LeakSite);
        assert_eq!(source(SourceKind::Page).reader, Reader::Page);
    }

    #[test]
    fn checkpoints_written_before_markers_still_load() {
        let old = r#"{"mirror":"127.0.0.1:8080","threads":{"/viewtopic.php?t=1":"/viewtopic.php?t=1&start=10"},"last_counts":{"post":3},"runs":4}"#;
        let cp: SourceCheckpoint = serde_json::from_str(old).unwrap();
        assert_eq!(cp.runs, 4);
        assert_eq!(cp.threads.len(), 1);
        assert!(cp.markers.is_empty() && cp.details.is_empty());
    }

    fn victim(countdown: &str, views: &str) -> Entry {
        let mut fields = BTreeMap::new();
        fields.insert("website".to_string(), "chu-exemple.fr".to_string());
        fields.insert("country".to_string(), "France".to_string());
        fields.insert("data_size".to_string(), "1.2 TB".to_string());
        fields.insert("countdown".to_string(), countdown.to_string());
        fields.insert("views".to_string(), views.to_string());
        fields.insert(
            "files".to_string(),
            "patients/\n\tadmissions.csv".to_string(),
        );
        Entry {
            id: "chu-exemple".into(),
            title: "CHU Exemple".into(),
            date: Some("2026-11-02T00:00:00Z".into()),
            date_text: "02 Nov 2026".into(),
            body: "Dossiers patients et RH.".into(),
            fields,
            links: vec![
                "http://127.0.0.1:8080/leaks/chu-exemple?sid=0123456789abcdef0123456789abcdef"
                    .into(),
            ],
            ..Entry::default()
        }
    }

    #[test]
    fn a_victim_is_the_same_bytes_whatever_its_countdown_or_views() {
        let s = source(SourceKind::LeakSite);
        let a = victim_document(&s, &victim("3d 04:12:55", "1203"));
        let b = victim_document(&s, &victim("2d 23:59:01", "1544"));
        assert_eq!(a, b);
        assert_eq!(
            a,
            "Ransomware leak site: site\nVictim: CHU Exemple\nEntry: chu-exemple\nDate: 2026-11-02T00:00:00Z\n\n\
             Dossiers patients et RH.\n\nCountry: France\nData size: 1.2 TB\nFiles:\npatients/\n\tadmissions.csv\n\
             Website: chu-exemple.fr\n\nLinks:\n- /leaks/chu-exemple\n"
        );
    }

    #[test]
    fn a_status_change_stays_a_near_duplicate_of_the_same_victim() {
        let s = source(SourceKind::LeakSite);
        let mut upcoming = victim("3d 04:12:55", "10");
        upcoming
            .fields
            .insert("status".into(), "Upcoming publication".into());
        let mut published = victim("0d 00:00:00", "990");
        published.fields.insert("status".into(), "Published".into());
        let (a, b) = (
            victim_document(&s, &upcoming),
            victim_document(&s, &published),
        );
        assert_ne!(a, b, "a new status is a new snapshot");
        let sim =
            vigie_match::near_dup::signature(&a).similarity(&vigie_match::near_dup::signature(&b));
        // The store's NEAR_DUP_THRESHOLD: at or above it, the snapshot joins the victim's
        // incident instead of opening one.
        assert!(sim >= 0.68, "similarity {sim}");
    }

    #[test]
    fn quoted_posts_come_after_the_post_marked_apart() {
        let s = source(SourceKind::Forum);
        let e = Entry {
            id: "p17".into(),
            author: "acheteur".into(),
            date: Some("2026-10-05T08:17:00Z".into()),
            body: "Toujours dispo ?".into(),
            quoted: vec!["Vends base CHU\nnom\tnir".into()],
            ..Entry::default()
        };
        assert_eq!(
            forum_document(&s, "/viewtopic.php?t=5", "Vente base", &e),
            "Tor forum: site\nThread: Vente base\nPost: /viewtopic.php?t=5#p17\nAuthor: acheteur\n\
             Date: 2026-10-05T08:17:00Z\n\nToujours dispo ?\n\nQuoted:\n> Vends base CHU\n> nom\tnir\n"
        );
    }
}

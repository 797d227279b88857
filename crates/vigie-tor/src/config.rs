//! Typed configuration: the transport (`[tor]`) and the sources (`[[tor_source]]`), checked
//! as a whole so every problem is reported at start-up, before anything is fetched.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::error::ConfigError;

/// How requests reach onion services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TransportMode {
    /// Embedded arti client (default): nothing to install.
    #[default]
    Arti,
    /// An existing tor daemon's SOCKS port; each source gets its own SOCKS credentials, so
    /// tor's `IsolateSOCKSAuth` keeps sources on separate circuits.
    Socks,
    /// Plain TCP to 127.0.0.1 only. For tests of hostile pages and lab checks; it refuses any
    /// other host, so it can never leak a lookup or a request outside the machine.
    Loopback,
}

/// The `[tor]` section.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TorSettings {
    #[serde(default)]
    pub mode: TransportMode,
    /// An arti configuration file (arti's own TOML: `[tor_network]`, `[override_net_params]`,
    /// `[address_filter]`...). Absent: arti's defaults, i.e. the real Tor network. The lab
    /// writes one that trusts only its own authorities.
    #[serde(default)]
    pub arti_config: Option<PathBuf>,
    /// The tor SOCKS port in `socks` mode: a loopback address, since requests and their
    /// SOCKS credentials travel to it in clear.
    #[serde(default)]
    pub socks_addr: Option<SocketAddr>,
    /// Accepts a `socks_addr` that is not a loopback address (a tor daemon on another
    /// machine, reached over a network the operator trusts).
    #[serde(default)]
    pub allow_insecure: bool,
    /// Requests in flight across all sources.
    #[serde(default = "default_concurrency")]
    pub max_concurrent: usize,
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout_secs: u64,
    /// The whole fetch: connect, headers and body. A server dripping bytes is cut here.
    #[serde(default = "default_fetch_timeout")]
    pub fetch_timeout_secs: u64,
    /// Bytes read from the wire per response.
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
    /// Bytes after gzip/deflate decoding; more is a compression bomb and refused.
    #[serde(default = "default_max_decoded")]
    pub max_decoded_bytes: usize,
    #[serde(default = "default_redirects")]
    pub max_redirects: usize,
    /// Attempts per request on circuit, descriptor and timeout failures.
    #[serde(default = "default_attempts")]
    pub attempts: u32,
    /// First retry delay; doubled each time.
    #[serde(default = "default_backoff_ms")]
    pub backoff_ms: u64,
    /// Deepest element tree the HTML parser may build; a deeper page is refused (measured on
    /// the tree being built, so end tags the parser ignores do not hide nesting).
    #[serde(default = "default_nesting")]
    pub max_nesting: usize,
    #[serde(default = "default_user_agent")]
    pub user_agent: String,
}

fn default_concurrency() -> usize {
    4
}
fn default_connect_timeout() -> u64 {
    60
}
fn default_fetch_timeout() -> u64 {
    120
}
fn default_max_body() -> usize {
    8 << 20
}
fn default_max_decoded() -> usize {
    16 << 20
}
fn default_redirects() -> usize {
    5
}
fn default_attempts() -> u32 {
    3
}
fn default_backoff_ms() -> u64 {
    2_000
}
fn default_nesting() -> usize {
    vigie_html::DEFAULT_MAX_DEPTH
}
/// Tor Browser 14's user agent (every Tor Browser sends the same one).
pub const TOR_BROWSER_USER_AGENT: &str =
    "Mozilla/5.0 (Windows NT 10.0; rv:128.0) Gecko/20100101 Firefox/128.0";
fn default_user_agent() -> String {
    TOR_BROWSER_USER_AGENT.to_string()
}

impl Default for TorSettings {
    fn default() -> Self {
        TorSettings {
            mode: TransportMode::Arti,
            arti_config: None,
            socks_addr: None,
            allow_insecure: false,
            max_concurrent: default_concurrency(),
            connect_timeout_secs: default_connect_timeout(),
            fetch_timeout_secs: default_fetch_timeout(),
            max_body_bytes: default_max_body(),
            max_decoded_bytes: default_max_decoded(),
            max_redirects: default_redirects(),
            attempts: default_attempts(),
            backoff_ms: default_backoff_ms(),
            max_nesting: default_nesting(),
            user_agent: default_user_agent(),
        }
    }
}

/// What a source is, which sets how its documents are labelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    /// A forum: thread listings followed into threads, one document per post.
    Forum,
    /// A ransomware leak site: one document per victim entry.
    LeakSite,
    /// Any page: one document per page (title, readable text, links).
    Page,
}

/// How a source's pages are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// CSS selectors: a shipped preset (`engine = "phpbb"`, `"xenforo"`, `"mybb"`,
    /// `"leak-site"`) or the source's own `[tor_source.selectors]`.
    Selectors,
    /// [`vigie_pages::forum::read_forum_page`]: posts, threads and sub-forums of the common
    /// engines, the engine named (`vbulletin`, `smf`, `invision`) or recognised from the page
    /// (`engine = "auto"`, or a forum with no engine and no selectors).
    Forum(Option<vigie_pages::forum::Engine>),
    /// [`vigie_pages::leak::read_leak_page`] with the shipped profiles: a leak site with no
    /// engine and no selectors (or `engine = "auto"`).
    LeakSite,
    /// One document per page.
    Page,
}

/// CSS selectors describing a site's markup. Each is optional; a forum needs at least
/// `post` (or `thread_link` leading to pages that have posts).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Selectors {
    /// Links from a listing page to threads (or victim pages).
    #[serde(default)]
    pub thread_link: Option<String>,
    /// The link to the next page, on listings and threads.
    #[serde(default)]
    pub next_page: Option<String>,
    /// One element per post (or victim entry).
    #[serde(default)]
    pub post: Option<String>,
    /// The thread title (page-wide); for leak sites, the victim name inside an entry.
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub author: Option<String>,
    /// The date inside a post; `datetime` or `title` attributes are preferred to the text.
    #[serde(default)]
    pub date: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
    /// Leak sites: the announced data size.
    #[serde(default)]
    pub data_size: Option<String>,
}

impl Selectors {
    /// The selectors shipped for common engines: `phpbb`, `xenforo`, `mybb`, `leak-site`.
    pub fn preset(engine: &str) -> Option<Selectors> {
        let s = |v: &str| Some(v.to_string());
        Some(match engine {
            "phpbb" => Selectors {
                thread_link: s("a.topictitle"),
                next_page: s("li.next a, a[rel=next]"),
                post: s("div.post"),
                title: s("h2.topic-title, h3.first a"),
                author: s(".author .username, .author a, .username"),
                date: s(".author time, time"),
                body: s("div.content"),
                data_size: None,
            },
            "xenforo" => Selectors {
                thread_link: s(".structItem-title a[data-tp-primary]"),
                next_page: s("a.pageNav-jump--next"),
                post: s("article.message"),
                title: s("h1.p-title-value"),
                author: s(".message-name a, .message-name"),
                date: s("time.u-dt"),
                body: s(".message-body .bbWrapper"),
                data_size: None,
            },
            "mybb" => Selectors {
                thread_link: s(
                    "span.subject_new a, span.subject_old a, .subject_new a, .subject_old a",
                ),
                next_page: s("a.pagination_next"),
                post: s("div.post"),
                title: s("td.thead strong, .thead h1"),
                author: s(".author_information .largetext a, .post_author a"),
                date: s(".post_date"),
                body: s(".post_body"),
                data_size: None,
            },
            "leak-site" => Selectors {
                thread_link: None,
                next_page: s("a.next, a[rel=next]"),
                post: s(".victim, .victim-card, .post-block"),
                title: s(".victim-name, .post-title, h3"),
                author: None,
                date: s(".victim-date, .post-date, time"),
                body: s(".victim-desc, .post-block-text, p"),
                data_size: s(".victim-size, .data-size"),
            },
            _ => return None,
        })
    }

    /// The configured selectors as (name, selector) pairs, for health counts.
    pub fn named(&self) -> Vec<(&'static str, &str)> {
        [
            ("thread_link", &self.thread_link),
            ("next_page", &self.next_page),
            ("post", &self.post),
            ("title", &self.title),
            ("author", &self.author),
            ("date", &self.date),
            ("body", &self.body),
            ("data_size", &self.data_size),
        ]
        .into_iter()
        .filter_map(|(n, s)| s.as_deref().map(|s| (n, s)))
        .collect()
    }

    fn overlay(mut self, over: &Selectors) -> Selectors {
        macro_rules! take {
            ($($f:ident),*) => { $( if over.$f.is_some() { self.$f = over.$f.clone(); } )* };
        }
        take!(
            thread_link,
            next_page,
            post,
            title,
            author,
            date,
            body,
            data_size
        );
        self
    }
}

/// One `[[tor_source]]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TorSourceConfig {
    pub id: String,
    pub kind: SourceKind,
    /// Base URLs of the same site, tried in order; the one that worked is remembered.
    pub mirrors: Vec<String>,
    /// Path of the listing page on every mirror.
    #[serde(default = "default_start")]
    pub start: String,
    /// `auto` (or absent, with no `selectors`): the built-in reader of the kind (forum engine
    /// recognised from the page; leak-site victims found without configuration). A forum
    /// engine name (`vbulletin`, `smf`, `invision`) forces that engine in the forum reader. A
    /// shipped selector set (`phpbb`, `xenforo`, `mybb`, `leak-site`) reads with CSS selectors,
    /// as do `selectors`, which override the set's fields.
    #[serde(default)]
    pub engine: Option<String>,
    #[serde(default)]
    pub selectors: Option<Selectors>,
    #[serde(default = "default_interval")]
    pub interval_secs: u64,
    /// Fraction of the interval added or removed at random, so visits do not form a pattern.
    #[serde(default = "default_jitter")]
    pub jitter: f64,
    /// Pages fetched per run (listings and threads together).
    #[serde(default = "default_pages")]
    pub max_pages: usize,
    /// Environment variable holding the session cookie (`name=value; ...`) for forums that
    /// need a login. The value is a secret: never logged, never stored.
    #[serde(default)]
    pub cookie_env: Option<String>,
}

fn default_start() -> String {
    "/".to_string()
}
fn default_interval() -> u64 {
    1800
}
fn default_jitter() -> f64 {
    0.2
}
fn default_pages() -> usize {
    20
}

/// A source checked and ready: parsed mirrors, final selectors, cookie read.
#[derive(Clone)]
pub struct TorSource {
    pub id: String,
    pub kind: SourceKind,
    pub mirrors: Vec<Url>,
    pub start: String,
    pub selectors: Option<Selectors>,
    /// What reads its pages (from `kind`, `engine` and `selectors`).
    pub reader: Reader,
    pub interval_secs: u64,
    pub jitter: f64,
    pub max_pages: usize,
    pub cookie: Option<String>,
}

impl std::fmt::Debug for TorSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The cookie is a login secret: whether there is one, never its value.
        f.debug_struct("TorSource")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("mirrors", &self.mirrors)
            .field("start", &self.start)
            .field("selectors", &self.selectors)
            .field("reader", &self.reader)
            .field("interval_secs", &self.interval_secs)
            .field("jitter", &self.jitter)
            .field("max_pages", &self.max_pages)
            .field("cookie", &self.cookie.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Checks the transport and every source; returns all problems at once.
pub fn validate(
    settings: &TorSettings,
    sources: &[TorSourceConfig],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<TorSource>, ConfigError> {
    let mut problems = Vec::new();
    if settings.mode == TransportMode::Socks && settings.socks_addr.is_none() {
        problems.push("[tor] mode = \"socks\" needs socks_addr".to_string());
    }
    if let Some(addr) = settings.socks_addr {
        if !addr.ip().is_loopback() && !settings.allow_insecure {
            problems.push(format!(
                "[tor] socks_addr {addr} is not a loopback address: requests would cross the network unencrypted to it; run tor on this machine, or set allow_insecure = true in [tor]"
            ));
        }
    }
    if settings.mode != TransportMode::Arti && settings.arti_config.is_some() {
        problems.push("[tor] arti_config is only read in mode = \"arti\"".to_string());
    }
    if settings.max_concurrent == 0 {
        problems.push("[tor] max_concurrent must be at least 1".to_string());
    }
    if settings.attempts == 0 {
        problems.push("[tor] attempts must be at least 1".to_string());
    }
    for (name, v) in [
        ("connect_timeout_secs", settings.connect_timeout_secs),
        ("fetch_timeout_secs", settings.fetch_timeout_secs),
        ("max_body_bytes", settings.max_body_bytes as u64),
        ("max_decoded_bytes", settings.max_decoded_bytes as u64),
    ] {
        if v == 0 {
            problems.push(format!("[tor] {name} must be positive"));
        }
    }
    let mut ids = BTreeSet::new();
    let mut out = Vec::new();
    for s in sources {
        let at = format!("[[tor_source]] {:?}", s.id);
        if s.id.is_empty()
            || !s
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            problems.push(format!("{at}: id must be letters, digits, '-', '_' or '.'"));
        }
        if !ids.insert(s.id.clone()) {
            problems.push(format!("{at}: duplicate id"));
        }
        let mut mirrors = Vec::new();
        if s.mirrors.is_empty() {
            problems.push(format!("{at}: at least one mirror is needed"));
        }
        for m in &s.mirrors {
            match Url::parse(m) {
                Ok(u) if u.scheme() == "http" || u.scheme() == "https" => {
                    let host = u.host_str().unwrap_or("");
                    let onion = host.ends_with(".onion");
                    if settings.mode == TransportMode::Loopback && !is_loopback_host(host) {
                        problems.push(format!(
                            "{at}: mirror {m} is not on 127.0.0.1 (mode = \"loopback\")"
                        ));
                    } else if settings.mode != TransportMode::Loopback && !onion {
                        problems.push(format!(
                            "{at}: mirror {m} is not an onion address; Vigie fetches only onion services over Tor"
                        ));
                    } else if onion && crate::onion::OnionAddress::parse(host).is_none() {
                        problems.push(format!(
                            "{at}: mirror {m} is not a valid v3 onion address (checksum)"
                        ));
                    } else {
                        mirrors.push(u);
                    }
                }
                _ => problems.push(format!("{at}: mirror {m:?} is not an http(s) URL")),
            }
        }
        if !s.start.starts_with('/') {
            problems.push(format!("{at}: start must be a path beginning with '/'"));
        }
        // A preset name keeps its CSS selectors; "auto" and the other engine names use the
        // built-in readers.
        let mut forum_engine = None;
        let base = match s.engine.as_deref() {
            Some(e) => match Selectors::preset(e) {
                Some(p) => Some(p),
                None if e == "auto" => None,
                None => match vigie_pages::forum::Engine::from_name(e) {
                    Some(engine) if s.kind == SourceKind::Forum => {
                        forum_engine = Some(engine);
                        None
                    }
                    Some(_) => {
                        problems.push(format!(
                            "{at}: engine {e:?} is a forum engine; a {:?} source takes \"auto\", \"leak-site\" or selectors",
                            s.kind
                        ));
                        None
                    }
                    None => {
                        problems.push(format!(
                            "{at}: unknown engine {e:?} (auto, phpbb, xenforo, mybb, vbulletin, smf, invision, leak-site)"
                        ));
                        None
                    }
                },
            },
            None => None,
        };
        let selectors = match (base, &s.selectors) {
            (Some(b), Some(o)) => Some(b.overlay(o)),
            (Some(b), None) => Some(b),
            (None, o) => o.clone(),
        };
        if let Some(sel) = &selectors {
            for (name, css) in sel.named() {
                if let Err(e) = scraper::Selector::parse(css) {
                    problems.push(format!(
                        "{at}: selector {name} = {css:?} does not parse: {e}"
                    ));
                }
            }
        }
        let reader = match (s.kind, &selectors) {
            (SourceKind::Page, _) => Reader::Page,
            (_, Some(sel)) => {
                if sel.post.is_none() {
                    problems.push(format!(
                        "{at}: selectors need a post selector (or no selectors, to use the built-in reader)"
                    ));
                }
                Reader::Selectors
            }
            (SourceKind::Forum, None) => Reader::Forum(forum_engine),
            (SourceKind::LeakSite, None) => Reader::LeakSite,
        };
        if s.interval_secs == 0 {
            problems.push(format!("{at}: interval_secs must be positive"));
        }
        if !(0.0..=0.9).contains(&s.jitter) {
            problems.push(format!("{at}: jitter must be between 0 and 0.9"));
        }
        if s.max_pages == 0 {
            problems.push(format!("{at}: max_pages must be at least 1"));
        }
        let cookie = match &s.cookie_env {
            Some(var) => match env(var) {
                Some(v) if !v.trim().is_empty() => Some(v.trim().to_string()),
                _ => {
                    problems.push(format!("{at}: cookie_env {var} is not set"));
                    None
                }
            },
            None => None,
        };
        out.push(TorSource {
            id: s.id.clone(),
            kind: s.kind,
            mirrors,
            start: s.start.clone(),
            selectors,
            reader,
            interval_secs: s.interval_secs,
            jitter: s.jitter,
            max_pages: s.max_pages,
            cookie,
        });
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(ConfigError { problems })
    }
}

/// `127.0.0.1`, `::1` or `localhost`.
pub fn is_loopback_host(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(cookie_env: Option<&str>) -> TorSourceConfig {
        TorSourceConfig {
            id: "forum".into(),
            kind: SourceKind::Forum,
            mirrors: vec!["http://127.0.0.1:8080".into()],
            start: "/".into(),
            engine: Some("phpbb".into()),
            selectors: None,
            interval_secs: 60,
            jitter: 0.2,
            max_pages: 5,
            cookie_env: cookie_env.map(str::to_string),
        }
    }

    fn loopback() -> TorSettings {
        TorSettings {
            mode: TransportMode::Loopback,
            ..TorSettings::default()
        }
    }

    #[test]
    fn the_cookie_never_shows_in_debug_output() {
        let secret = "phpbb3_sid=s3cr3t-session-value";
        let env = |v: &str| (v == "FORUM_COOKIE").then(|| secret.to_string());
        let sources = validate(&loopback(), &[source(Some("FORUM_COOKIE"))], &env).unwrap();
        assert_eq!(sources[0].cookie.as_deref(), Some(secret));
        let shown = format!("{:?} {:#?}", sources[0], sources[0]);
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
        let session = crate::http::Session::new("forum", Some(secret));
        let shown = format!("{session:?}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains("phpbb3_sid"), "{shown}");
    }

    #[test]
    fn a_socks_port_off_this_machine_needs_allow_insecure() {
        let remote = TorSettings {
            mode: TransportMode::Socks,
            socks_addr: Some("192.0.2.7:9050".parse().unwrap()),
            ..TorSettings::default()
        };
        let err = validate(&remote, &[], &|_| None).unwrap_err().to_string();
        assert!(
            err.contains("socks_addr 192.0.2.7:9050 is not a loopback address"),
            "{err}"
        );
        let allowed = TorSettings {
            allow_insecure: true,
            ..remote.clone()
        };
        assert!(validate(&allowed, &[], &|_| None).is_ok());
        for local in ["127.0.0.1:9050", "[::1]:9050"] {
            let settings = TorSettings {
                socks_addr: Some(local.parse().unwrap()),
                ..remote.clone()
            };
            assert!(validate(&settings, &[], &|_| None).is_ok(), "{local}");
        }
    }
}

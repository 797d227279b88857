//! Vigie's Tor collector: leak forums and ransomware leak sites on onion services, reached
//! through an embedded Tor client ([`arti_client`]; no tor daemon), or an existing tor SOCKS
//! port, and read with configurable CSS selectors.
//!
//! What it is for: fetching onion pages politely and anonymously (one circuit family per
//! source, one request at a time per host, a global limit, retries with backoff, mirror
//! rotation), turning pages into one document per post, spotting new onion addresses, and
//! noticing when a parser goes blind. What it is not for: matching, storing or alerting —
//! everything it collects leaves through a channel as [`CollectorEvent`]s; the caller records
//! them. In Vigie's pipeline, [`TorCollector`] (`vigie run`) and [`TorCrawl`] (`vigie crawl`) are
//! the `vigie_pipeline::Source`s that run the collector and emit those events as pipeline
//! events. Its own sources are onion services only; the one clear-web use is lending its
//! [`HttpClient`] (over Tor, https on top) to other sources through
//! [`Collector::http_client`] — Telegram web previews. It never runs JavaScript and never
//! resolves names outside Tor.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::collections::HashMap;
//! use vigie_tor::{validate, Collector, TorSettings, TorSourceConfig};
//!
//! let settings = TorSettings::default();
//! let sources: Vec<TorSourceConfig> = toml::from_str::<HashMap<String, Vec<TorSourceConfig>>>(
//!     r#"tor_source = [{ id = "forum", kind = "forum", engine = "phpbb",
//!        mirrors = ["http://2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion/"] }]"#,
//! )?["tor_source"].clone();
//! let sources = validate(&settings, &sources, &|v| std::env::var(v).ok())?;
//! let collector = Collector::start(settings, sources, &HashMap::new(), "storage/tor".as_ref()).await?;
//! let (tx, mut rx) = tokio::sync::mpsc::channel(256);
//! let (_stop, shutdown) = tokio::sync::watch::channel(false);
//! tokio::spawn(collector.run(tx, shutdown));
//! while let Some(event) = rx.recv().await {
//!     println!("{event:?}");
//! }
//! # Ok(()) }
//! ```

mod collector;
mod config;
mod error;
mod http;
pub mod onion;
mod parse;
mod source;
mod transport;

pub use collector::{
    checkpoint_key, health_key, post_document, CollectedDocument, Collector, CollectorEvent,
    HealthRecord, HealthStatus, SourceCheckpoint,
};
pub use config::{
    is_loopback_host, validate, Reader, Selectors, SourceKind, TorSettings, TorSource,
    TorSourceConfig, TransportMode, TOR_BROWSER_USER_AGENT,
};
pub use error::{ConfigError, FetchError, Retry, StartError};
pub use http::{decode, Fetched, HttpClient, Session};
pub use parse::{parse_page, readable_text, same_site, CompiledSelectors, ParsedPage, Post};
pub use source::{
    to_event, tor_dir, AccessError, CrawlReport, PageAccess, TorAccess, TorCollector, TorCrawl,
    TorPlan,
};
pub use transport::{Isolation, Transport};

//! Vigie's analyst console: server-rendered pages over the evidence store, for CERT Santé's
//! analysts to look, search, decide and hand over, with every sensitive action audited.
//!
//! Overview:
//! - [`ConsoleConfig`] is the typed `[console]` section (`listen = "127.0.0.1:8080"`).
//! - [`router`] builds the `axum::Router` over a [`ConsoleState`]; [`serve`] binds and runs it
//!   until its future is dropped or the listener fails.
//! - The store is owned by the process (`vigie serve` opens it, `vigie run` passes its
//!   handle): the state holds it as `Arc<Mutex<Store>>`, and every handler works on it in
//!   the blocking pool (RocksDB calls never run on the async threads).
//! - Pages are askama templates (escaped by construction), with htmx vendored into the
//!   binary for partial updates: no CDN, the console works on an air-gapped network.
//!
//! Security model: sessions in the store (random 256-bit tokens, only their hash stored,
//! expiring), cookies `HttpOnly` + `SameSite=Strict` (+ `Secure` behind TLS), a CSRF token
//! per session checked by a middleware on every POST (403 otherwise), a strict
//! Content-Security-Policy (no inline script or style, `default-src 'self'`), `X-Frame-Options:
//! DENY`, no referrer. Viewers never see raw identifiers; a reveal is a POST with a typed
//! reason, for analysts and admins, written to the audit trail. Optional sign-in through an
//! OpenID Connect provider (`[console.oidc]`, see the `oidc` module) maps a token claim to a
//! local account.
//!
//! Not for: collecting, matching or delivering alerts (the process that owns the store does).
//!
//! ```no_run
//! # async fn demo(store: vigie_store::Store, matcher: vigie_match::Matcher) -> std::io::Result<()> {
//! use std::sync::{Arc, Mutex};
//! let store = Arc::new(Mutex::new(store));
//! let state = vigie_console::ConsoleState::new(store, Arc::new(matcher), Default::default())
//!     .expect("default config");
//! vigie_console::serve("127.0.0.1:8080".parse().unwrap(), state).await
//! # }
//! ```
#![deny(missing_docs)]

mod assets;
mod i18n;
mod oidc;
mod pages;
mod security;
mod text;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use vigie_match::Matcher;
use vigie_store::{Store, StoreError};

pub use oidc::{Oidc, OidcConfig, OidcConfigError, UsernameClaim};
pub use security::{CSRF_FIELD, SESSION_COOKIE};

/// The `[console]` configuration section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleConfig {
    /// Address to listen on (loopback by default; put a TLS reverse proxy in front).
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Mark cookies `Secure` (set when the console is reached over HTTPS through a proxy).
    #[serde(default)]
    pub secure_cookies: bool,
    /// How long a session lasts, in minutes (default 480: a working day).
    #[serde(default = "default_session_minutes")]
    pub session_minutes: u32,
    /// Sign-in through an OpenID Connect provider, besides local passwords.
    #[serde(default)]
    pub oidc: Option<OidcConfig>,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}

fn default_session_minutes() -> u32 {
    480
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        ConsoleConfig {
            listen: default_listen(),
            secure_cookies: false,
            session_minutes: default_session_minutes(),
            oidc: None,
        }
    }
}

/// Why a configuration is refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Sessions must last between one minute and a week.
    #[error("[console] session_minutes must be between 1 and 10080, not {0}")]
    SessionLength(u32),
    /// The `[console.oidc]` section is wrong.
    #[error(transparent)]
    Oidc(#[from] OidcConfigError),
}

impl ConsoleConfig {
    /// Checks the values serde cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=10_080).contains(&self.session_minutes) {
            return Err(ConfigError::SessionLength(self.session_minutes));
        }
        // URLs, the callback path and the secret's presence (nothing is fetched).
        if let Some(oidc) = &self.oidc {
            Oidc::new(oidc.clone())?;
        }
        Ok(())
    }
}

/// What every handler shares: the store, an identifier matcher for reveals, the config.
#[derive(Clone)]
pub struct ConsoleState {
    pub(crate) store: Arc<Mutex<Store>>,
    pub(crate) matcher: Arc<Matcher>,
    pub(crate) config: Arc<ConsoleConfig>,
    pub(crate) recipients: Arc<Vec<RecipientSummary>>,
    pub(crate) oidc: Option<Oidc>,
}

/// A configured alert recipient as the alerts screen shows it: never its URL's path, query
/// or secret (tokens live there), only where it is and what it hears about.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecipientSummary {
    /// Its id (as in the watchlists' `notify` lists).
    pub id: String,
    /// Scheme, host and port of its webhook.
    pub endpoint: String,
    /// Payload format (`json`, `chat`).
    pub format: String,
    /// Least severity it is alerted for.
    pub min_severity: String,
    /// Organisation categories it hears about (empty: all).
    pub categories: Vec<String>,
    /// Gets every incident at or above its severity, whoever it names.
    pub catch_all: bool,
    /// Gets the weekly digest.
    pub digest: bool,
    /// Watched organisations whose `notify` list names it.
    pub organisations: Vec<String>,
}

impl ConsoleState {
    /// A state over the process's store, with the process's matcher (a reveal scans the
    /// stored bytes again with it: identifier validity depends on the organisations found).
    pub fn new(
        store: Arc<Mutex<Store>>,
        matcher: Arc<Matcher>,
        config: ConsoleConfig,
    ) -> Result<ConsoleState, ConfigError> {
        config.validate()?;
        let oidc = config.oidc.clone().map(Oidc::new).transpose()?;
        Ok(ConsoleState {
            store,
            matcher,
            config: Arc::new(config),
            recipients: Arc::new(Vec::new()),
            oidc,
        })
    }

    /// The alert recipients and their routing, for the alerts screen.
    pub fn with_recipients(mut self, recipients: Vec<RecipientSummary>) -> ConsoleState {
        self.recipients = Arc::new(recipients);
        self
    }

    /// Runs `f` on the store in the blocking pool.
    pub(crate) async fn with_store<T, F>(&self, f: F) -> Result<T, pages::PageError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T, pages::PageError> + Send + 'static,
    {
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || {
            // A poisoned lock means a handler panicked mid-request; RocksDB batches are atomic,
            // so the store itself is whole.
            let mut guard = store.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard)
        })
        .await
        .map_err(|e| pages::PageError::Internal(format!("worker: {e}")))?
    }
}

/// The console's routes, with the security middleware around them.
pub fn router(state: ConsoleState) -> Router {
    let routes = Router::new()
        .route("/", get(pages::home))
        .route("/login", get(pages::login_form).post(pages::login))
        .route("/login/oidc", get(pages::oidc_start))
        .route(oidc::CALLBACK_PATH, get(pages::oidc_callback))
        .route("/logout", post(pages::logout))
        .route("/lang", post(pages::set_lang))
        .route("/incidents", get(pages::incidents))
        .route("/incidents/{id}", get(pages::incident))
        .route("/incidents/{id}/triage", post(pages::triage))
        .route("/incidents/{id}/comment", post(pages::comment))
        .route("/incidents/{id}/assign", post(pages::assign))
        .route("/incidents/{id}/merge", post(pages::merge))
        .route("/incidents/{id}/split", post(pages::split))
        .route("/incidents/{id}/reveal", post(pages::reveal))
        .route("/incidents/{id}/evidence", post(pages::evidence_bundle))
        .route("/incidents/{id}/export/{format}", get(pages::export))
        .route("/audit", get(pages::audit))
        .route("/alerts", get(pages::alerts))
        .route("/alerts/{id}/redeliver", post(pages::redeliver))
        .route("/sources", get(pages::sources))
        .route("/watchlists", get(pages::watchlists))
        .route("/searches", post(pages::save_search))
        .route("/searches/delete", post(pages::delete_search))
        .route("/digest", get(pages::digest))
        .route("/assets/{name}", get(assets::serve));
    routes
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::csrf_guard,
        ))
        .layer(axum::middleware::from_fn(security::headers))
        .with_state(state)
}

/// Binds `listen` and serves the console until the listener fails.
pub async fn serve(listen: SocketAddr, state: ConsoleState) -> std::io::Result<()> {
    serve_until(listen, state, std::future::pending()).await
}

/// Binds `listen` and serves the console until `shutdown` completes (requests in flight
/// finish first).
pub async fn serve_until(
    listen: SocketAddr,
    state: ConsoleState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    serve_listener(listener, state, shutdown).await
}

/// Serves the console on a listener already bound (so that the caller reports a taken port
/// before starting anything else) until `shutdown` completes.
pub async fn serve_listener(
    listener: tokio::net::TcpListener,
    state: ConsoleState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    if let Ok(listen) = listener.local_addr() {
        tracing::info!(%listen, "console listening");
    }
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

impl From<StoreError> for pages::PageError {
    fn from(e: StoreError) -> Self {
        match e {
            // The analyst's request cannot be done as asked: say why.
            StoreError::Regroup(why) => pages::PageError::BadRequest(why),
            StoreError::NoIncident(_) => pages::PageError::NotFound,
            e => pages::PageError::Internal(e.to_string()),
        }
    }
}

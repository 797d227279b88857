//! Errors, classified by what the caller should do with them.

use thiserror::Error;

/// Problems in `[tor]` / `[[tor_source]]`, all of them at once.
#[derive(Debug, Error)]
#[error("invalid Tor configuration:\n  - {}", problems.join("\n  - "))]
pub struct ConfigError {
    pub problems: Vec<String>,
}

/// What a caller should do after a failed fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// A fresh circuit may well succeed (circuit or descriptor failure, timeout, reset).
    Soon,
    /// The service answered but not usefully now (5xx, 429): next scheduled run.
    Later,
    /// Retrying cannot help (a limit was hit, a bad redirect, 4xx): record and move on.
    Never,
}

/// Why a fetch failed.
#[derive(Debug, Error)]
pub enum FetchError {
    #[error("could not connect to {host}: {detail}")]
    Connect { host: String, detail: String },
    /// The TLS handshake failed (certificate not trusted, wrong name...): retrying will not help.
    #[error("TLS with {host} failed: {detail}")]
    Tls { host: String, detail: String },
    #[error("no answer from {host} within {secs} s")]
    Timeout { host: String, secs: u64 },
    #[error("HTTP exchange with {host} failed: {detail}")]
    Http { host: String, detail: String },
    #[error("{host} answered HTTP {status}")]
    Status { host: String, status: u16 },
    #[error("response body over {limit} bytes")]
    BodyTooLarge { limit: usize },
    #[error("decoded body over {limit} bytes (compression bomb?)")]
    DecodedTooLarge { limit: usize },
    #[error("bad {encoding} encoding: {detail}")]
    Decoding { encoding: String, detail: String },
    #[error("more than {limit} redirects")]
    TooManyRedirects { limit: usize },
    #[error("redirect from {from} to another host ({to}) refused")]
    OffsiteRedirect { from: String, to: String },
    #[error("refused to fetch {url}: {why}")]
    Refused { url: String, why: String },
    #[error("HTML nested deeper than {limit} levels; page not parsed")]
    TooDeep { limit: usize },
}

impl FetchError {
    /// What to do next.
    pub fn retry(&self) -> Retry {
        match self {
            FetchError::Connect { .. } | FetchError::Timeout { .. } | FetchError::Http { .. } => {
                Retry::Soon
            }
            FetchError::Status { status, .. } if *status == 429 || *status >= 500 => Retry::Later,
            _ => Retry::Never,
        }
    }

    /// True when the service itself looks unreachable (rotate to another mirror).
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            FetchError::Connect { .. } | FetchError::Timeout { .. } | FetchError::Http { .. }
        ) || matches!(self, FetchError::Status { status, .. } if *status >= 500)
    }
}

/// Starting the collector failed.
#[derive(Debug, Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("reading the arti configuration {path}: {detail}")]
    ArtiConfig { path: String, detail: String },
    #[error("bootstrapping Tor: {0}")]
    Bootstrap(String),
    #[error("unknown source {0:?}")]
    UnknownSource(String),
}

//! Fetching web previews: directly (plain HTTP or https with the system TLS library and CA
//! store), or through any other [`PageFetcher`] — `vigie run` passes one over Tor.

use std::io::Read;
use std::time::Duration;

use tracing::debug;

use crate::preview::{parse_preview, PreviewPage};
use crate::{TelegramError, TelegramMessage};

/// Gets one page's body. The direct fetcher is built in; `vigie run` supplies one over Tor.
pub trait PageFetcher: Send {
    /// The body of `url` (at most `max_body` bytes, else an error); HTTP errors are errors.
    fn get(&self, url: &str, max_body: u64) -> Result<Vec<u8>, TelegramError>;
}

/// Direct HTTP(S) with ureq: a deadline per request, at most 3 redirects.
struct Direct {
    agent: ureq::Agent,
}

impl PageFetcher for Direct {
    fn get(&self, url: &str, max_body: u64) -> Result<Vec<u8>, TelegramError> {
        let response = self
            .agent
            .get(url)
            .call()
            .map_err(|e| TelegramError::Fetch(format!("{url}: {e}")))?;
        let status = response.status();
        if !status.is_success() {
            return Err(TelegramError::Fetch(format!("{url}: HTTP {status}")));
        }
        let mut body = Vec::new();
        response
            .into_body()
            .into_reader()
            .take(max_body + 1)
            .read_to_end(&mut body)
            .map_err(|e| TelegramError::Fetch(format!("{url}: {e}")))?;
        if body.len() as u64 > max_body {
            return Err(TelegramError::Fetch(format!(
                "{url}: body over {max_body} bytes, refused"
            )));
        }
        Ok(body)
    }
}

/// What one poll of a preview read.
#[derive(Debug, Clone, Default)]
pub struct Polled {
    /// Posts newer than the checkpoint, oldest first.
    pub new: Vec<TelegramMessage>,
    /// Posts already recorded that the pages read showed again, oldest first: recorded again,
    /// they keep views and forwards current (the content, hence the snapshot, is unchanged
    /// unless the post was edited).
    pub seen_again: Vec<TelegramMessage>,
}

/// Fetches and pages `t.me/s/NAME` previews.
pub struct PreviewClient {
    fetcher: Box<dyn PageFetcher>,
    base_url: String,
    max_body: u64,
    max_pages: usize,
}

impl PreviewClient {
    /// A client for `base_url` (`https://t.me` in production); each request is bounded by
    /// `timeout`, bodies by `max_body` bytes, and one poll by `max_pages` pages.
    pub fn new(
        base_url: &str,
        timeout: Duration,
        max_body: u64,
        max_pages: usize,
    ) -> PreviewClient {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .max_redirects(3)
            // https with the system TLS library and the system CA store (SSL_CERT_FILE or
            // update-ca-certificates add a hospital's internal CA).
            .tls_config(
                ureq::tls::TlsConfig::builder()
                    .provider(ureq::tls::TlsProvider::NativeTls)
                    .root_certs(ureq::tls::RootCerts::PlatformVerifier)
                    .build(),
            )
            .build()
            .into();
        PreviewClient::with_fetcher(base_url, Box::new(Direct { agent }), max_body, max_pages)
    }

    /// A client whose pages come through `fetcher` (Tor, in `vigie run`).
    pub fn with_fetcher(
        base_url: &str,
        fetcher: Box<dyn PageFetcher>,
        max_body: u64,
        max_pages: usize,
    ) -> PreviewClient {
        PreviewClient {
            fetcher,
            base_url: base_url.trim_end_matches('/').to_string(),
            max_body,
            max_pages: max_pages.max(1),
        }
    }

    /// One page: the latest posts, or those before `before`.
    pub fn page(&self, channel: &str, before: Option<i64>) -> Result<PreviewPage, TelegramError> {
        let url = match before {
            Some(b) => format!("{}/s/{channel}?before={b}", self.base_url),
            None => format!("{}/s/{channel}", self.base_url),
        };
        let body = self.fetcher.get(&url, self.max_body)?;
        let page = parse_preview(&String::from_utf8_lossy(&body), channel);
        debug!(%url, posts = page.messages.len(), older = ?page.older, "preview page");
        Ok(page)
    }

    /// Posts newer than `after` (the checkpoint), oldest first. On a first poll (`after` is
    /// `None`), the latest `backfill` posts. Pages back with `?before=` until the checkpoint
    /// is reached, the backfill is met, or `max_pages` pages were read. Posts at or below the
    /// checkpoint on the pages read come back in `seen_again`, with today's views and forwards.
    pub fn poll(
        &self,
        channel: &str,
        after: Option<i64>,
        backfill: usize,
    ) -> Result<Polled, TelegramError> {
        let mut out: Vec<TelegramMessage> = Vec::new();
        let mut seen_again: Vec<TelegramMessage> = Vec::new();
        let mut before = None;
        for _ in 0..self.max_pages {
            let page = self.page(channel, before)?;
            let oldest = page.messages.first().map(|m| m.id);
            let (new, known): (Vec<_>, Vec<_>) = page
                .messages
                .into_iter()
                .partition(|m| after.is_none_or(|a| m.id > a));
            out.extend(new);
            seen_again.extend(known);
            let done = match (after, oldest) {
                (_, None) => true,
                (Some(a), Some(o)) => o <= a + 1,
                (None, Some(_)) => out.len() >= backfill,
            };
            match page.older {
                Some(older) if !done => before = Some(older),
                _ => break,
            }
        }
        out.sort_by_key(|m| m.id);
        out.dedup_by_key(|m| m.id);
        if after.is_none() && out.len() > backfill {
            out.drain(..out.len() - backfill);
        }
        seen_again.sort_by_key(|m| m.id);
        seen_again.dedup_by_key(|m| m.id);
        Ok(Polled {
            new: out,
            seen_again,
        })
    }
}

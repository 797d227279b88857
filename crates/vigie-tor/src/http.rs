//! HTTP/1.1 GET over a [`Transport`] stream with hyper: every limit a hostile server can
//! push against (time, body size, decoded size, redirects) is enforced here.

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::header;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use url::Url;

use crate::config::TorSettings;
use crate::error::FetchError;
use crate::parse::same_site;
use crate::transport::{Conn, Isolation, Transport};

/// A response that passed every limit.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The URL that answered (after same-site redirects).
    pub url: Url,
    pub status: u16,
    /// Decoded body.
    pub body: Vec<u8>,
    pub content_type: Option<String>,
}

/// What one source keeps between requests: its circuit isolation and its cookies.
pub struct Session {
    pub isolation: Isolation,
    /// Cookies by name. Seeded from the configured secret, updated by `Set-Cookie`.
    cookies: Mutex<BTreeMap<String, String>>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Cookie values are login secrets: names only.
        let names: Vec<String> = self
            .cookies
            .lock()
            .map(|jar| jar.keys().cloned().collect())
            .unwrap_or_default();
        f.debug_struct("Session")
            .field("isolation", &self.isolation)
            .field("cookie_names", &names)
            .finish()
    }
}

impl Session {
    /// A session for `source`, with the cookie string from its `cookie_env` (if any).
    pub fn new(source: &str, cookie: Option<&str>) -> Session {
        let mut jar = BTreeMap::new();
        for pair in cookie.unwrap_or("").split(';') {
            if let Some((n, v)) = pair.trim().split_once('=') {
                jar.insert(n.trim().to_string(), v.trim().to_string());
            }
        }
        Session {
            isolation: Isolation::new(source),
            cookies: Mutex::new(jar),
        }
    }

    fn cookie_header(&self) -> Option<String> {
        let jar = self.cookies.lock().ok()?;
        (!jar.is_empty()).then(|| {
            jar.iter()
                .map(|(n, v)| format!("{n}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    fn store_cookie(&self, set_cookie: &str) {
        let first = set_cookie.split(';').next().unwrap_or("");
        if let (Some((n, v)), Ok(mut jar)) = (first.split_once('='), self.cookies.lock()) {
            let (n, v) = (n.trim(), v.trim());
            if !n.is_empty() && jar.len() < 64 {
                jar.insert(n.to_string(), v.to_string());
            }
        }
    }
}

/// Fetches pages with the limits of `[tor]`.
pub struct HttpClient {
    transport: Arc<Transport>,
    settings: TorSettings,
    /// For https (clear-web hosts reached through Tor); the system CA store. `None` when
    /// the TLS library could not be set up (https then fails with that reason).
    tls: Result<tokio_native_tls::TlsConnector, String>,
}

impl HttpClient {
    pub fn new(transport: Arc<Transport>, settings: TorSettings) -> HttpClient {
        let tls = native_tls::TlsConnector::new()
            .map(tokio_native_tls::TlsConnector::from)
            .map_err(|e| e.to_string());
        HttpClient {
            transport,
            settings,
            tls,
        }
    }

    /// GETs `url`, following redirects within the same host only, under one deadline.
    pub async fn get(&self, url: &Url, session: &Session) -> Result<Fetched, FetchError> {
        let secs = self.settings.fetch_timeout_secs;
        let host = url.host_str().unwrap_or("").to_string();
        match tokio::time::timeout(Duration::from_secs(secs), self.get_following(url, session))
            .await
        {
            Ok(r) => r,
            Err(_) => Err(FetchError::Timeout { host, secs }),
        }
    }

    async fn get_following(&self, url: &Url, session: &Session) -> Result<Fetched, FetchError> {
        let mut current = url.clone();
        for _ in 0..=self.settings.max_redirects {
            match self.get_once(&current, session).await? {
                Step::Done(f) => return Ok(f),
                Step::Redirect(next) => {
                    if !same_site(&next, &current) {
                        return Err(FetchError::OffsiteRedirect {
                            from: current.host_str().unwrap_or("").into(),
                            to: next.host_str().unwrap_or("").into(),
                        });
                    }
                    current = next;
                }
            }
        }
        Err(FetchError::TooManyRedirects {
            limit: self.settings.max_redirects,
        })
    }

    async fn get_once(&self, url: &Url, session: &Session) -> Result<Step, FetchError> {
        // Onion services are http (Tor already encrypts end to end); https is for clear-web
        // hosts reached through an exit, such as Telegram's web previews.
        let https = match url.scheme() {
            "http" => false,
            "https" => true,
            _ => {
                return Err(FetchError::Refused {
                    url: url.to_string(),
                    why: "only http:// and https:// URLs are fetched".into(),
                })
            }
        };
        let host = url.host_str().unwrap_or("").to_string();
        let port = url.port_or_known_default().unwrap_or(80);
        let http_err = |e: &dyn std::fmt::Display| FetchError::Http {
            host: host.clone(),
            detail: e.to_string(),
        };
        let stream = self
            .transport
            .connect(
                &host,
                port,
                &session.isolation,
                Duration::from_secs(self.settings.connect_timeout_secs),
            )
            .await?;
        let stream: Box<dyn Conn> = if https {
            let tls = self.tls.as_ref().map_err(|e| FetchError::Connect {
                host: host.clone(),
                detail: format!("TLS unavailable: {e}"),
            })?;
            let s = tls
                .connect(&host, stream)
                .await
                .map_err(|e| FetchError::Tls {
                    host: host.clone(),
                    detail: e.to_string(),
                })?;
            Box::new(s)
        } else {
            stream
        };
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| http_err(&e))?;
        let driver = tokio::spawn(conn);
        let _abort = AbortOnDrop(driver);
        let mut path = url.path().to_string();
        if let Some(q) = url.query() {
            path.push('?');
            path.push_str(q);
        }
        let host_header = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.clone(),
        };
        let mut req = http::Request::get(path)
            .header(header::HOST, host_header)
            .header(header::USER_AGENT, &self.settings.user_agent)
            .header(
                header::ACCEPT,
                "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            )
            .header(header::ACCEPT_LANGUAGE, "en-US,en;q=0.5")
            .header(header::ACCEPT_ENCODING, "gzip, deflate");
        if let Some(c) = session.cookie_header() {
            req = req.header(header::COOKIE, c);
        }
        let req = req.body(Empty::<Bytes>::new()).map_err(|e| http_err(&e))?;
        let resp = sender.send_request(req).await.map_err(|e| http_err(&e))?;
        for c in resp.headers().get_all(header::SET_COOKIE) {
            if let Ok(c) = c.to_str() {
                session.store_cookie(c);
            }
        }
        let status = resp.status().as_u16();
        if resp.status().is_redirection() {
            let next = resp
                .headers()
                .get(header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .and_then(|l| url.join(l).ok());
            return match next {
                Some(n) => Ok(Step::Redirect(n)),
                None => Err(FetchError::Status { host, status }),
            };
        }
        if !resp.status().is_success() {
            return Err(FetchError::Status { host, status });
        }
        let header_str = |name: header::HeaderName| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|s| s.to_ascii_lowercase())
        };
        let content_type = header_str(header::CONTENT_TYPE);
        let encoding = header_str(header::CONTENT_ENCODING);
        let limit = self.settings.max_body_bytes;
        if let Some(len) = header_str(header::CONTENT_LENGTH).and_then(|l| l.parse::<u64>().ok()) {
            if len > limit as u64 {
                return Err(FetchError::BodyTooLarge { limit });
            }
        }
        let mut body = resp.into_body();
        let mut raw: Vec<u8> = Vec::new();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| http_err(&e))?;
            if let Ok(data) = frame.into_data() {
                if raw.len() + data.len() > limit {
                    return Err(FetchError::BodyTooLarge { limit });
                }
                raw.extend_from_slice(&data);
            }
        }
        let max_decoded = self.settings.max_decoded_bytes;
        let body = match encoding.as_deref().map(str::trim) {
            None | Some("") | Some("identity") => raw,
            Some(enc @ ("gzip" | "x-gzip" | "deflate")) => {
                let enc = enc.to_string();
                tokio::task::spawn_blocking(move || decode(&enc, &raw, max_decoded))
                    .await
                    .map_err(|e| http_err(&e))??
            }
            Some(other) => {
                return Err(FetchError::Decoding {
                    encoding: other.to_string(),
                    detail: "not supported".into(),
                })
            }
        };
        Ok(Step::Done(Fetched {
            url: url.clone(),
            status,
            body,
            content_type,
        }))
    }
}

enum Step {
    Done(Fetched),
    Redirect(Url),
}

struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);
impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Decodes gzip or deflate (zlib-wrapped or raw), refusing output over `max`.
pub fn decode(encoding: &str, raw: &[u8], max: usize) -> Result<Vec<u8>, FetchError> {
    fn read_capped(r: impl Read, max: usize, enc: &str) -> Result<Vec<u8>, FetchError> {
        let mut out = Vec::new();
        r.take(max as u64 + 1)
            .read_to_end(&mut out)
            .map_err(|e| FetchError::Decoding {
                encoding: enc.to_string(),
                detail: e.to_string(),
            })?;
        if out.len() > max {
            return Err(FetchError::DecodedTooLarge { limit: max });
        }
        Ok(out)
    }
    if encoding == "deflate" {
        // Servers disagree on whether "deflate" is zlib-wrapped; try both.
        return match read_capped(flate2::read::ZlibDecoder::new(raw), max, encoding) {
            Err(FetchError::Decoding { .. }) => {
                read_capped(flate2::read::DeflateDecoder::new(raw), max, encoding)
            }
            other => other,
        };
    }
    read_capped(flate2::read::MultiGzDecoder::new(raw), max, encoding)
}

//! The one place Vigie opens network connections for Tor sources: an embedded arti client, a
//! tor SOCKS port, or (tests and lab checks only) plain TCP to 127.0.0.1. Names are always
//! handed to Tor unresolved, so no DNS lookup ever leaves outside it.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use arti_client::config::CfgPath;
use arti_client::{IsolationToken, StreamPrefs, TorClient, TorClientConfig};
use futures_util::StreamExt;
use tokio::io::{AsyncRead, AsyncWrite};
use tor_rtcompat::PreferredRuntime;
use tracing::info;

use crate::config::{is_loopback_host, TorSettings, TransportMode};
use crate::error::{FetchError, StartError};

/// A connected byte stream.
pub trait Conn: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Conn for T {}

/// Keeps a source's requests on circuits of their own.
#[derive(Debug, Clone)]
pub struct Isolation {
    token: IsolationToken,
    /// The SOCKS user name in `socks` mode (tor isolates by SOCKS credentials).
    label: String,
}

impl Isolation {
    /// A fresh isolation group for the source `label`.
    pub fn new(label: &str) -> Isolation {
        Isolation {
            token: IsolationToken::new(),
            label: label.to_string(),
        }
    }
}

/// How connections are made.
pub enum Transport {
    Arti(Arc<TorClient<PreferredRuntime>>),
    Socks(SocketAddr),
    Loopback,
}

impl Transport {
    /// Builds the transport; in arti mode, bootstraps the client with its state and cache
    /// under `tor_dir` and reports progress (a bar on a terminal, `tracing` events otherwise).
    /// Must be called inside a tokio runtime.
    pub async fn start(settings: &TorSettings, tor_dir: &Path) -> Result<Transport, StartError> {
        match settings.mode {
            TransportMode::Loopback => Ok(Transport::Loopback),
            TransportMode::Socks => settings
                .socks_addr
                .map(Transport::Socks)
                .ok_or_else(|| StartError::Bootstrap("socks mode without socks_addr".into())),
            TransportMode::Arti => {
                let config = arti_config(settings.arti_config.as_deref(), tor_dir)?;
                let client = TorClient::builder()
                    .config(config)
                    .create_unbootstrapped()
                    .map_err(|e| StartError::Bootstrap(e.to_string()))?;
                let events = client.bootstrap_events();
                let progress = tokio::spawn(report_progress(events));
                let started = std::time::Instant::now();
                let result = client.bootstrap().await;
                progress.abort();
                result.map_err(|e| StartError::Bootstrap(e.to_string()))?;
                info!(
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "Tor bootstrapped"
                );
                Ok(Transport::Arti(client))
            }
        }
    }

    /// Opens a stream to `host:port` for the source isolated by `isolation`.
    pub async fn connect(
        &self,
        host: &str,
        port: u16,
        isolation: &Isolation,
        timeout: Duration,
    ) -> Result<Box<dyn Conn>, FetchError> {
        let failed = |detail: String| FetchError::Connect {
            host: host.to_string(),
            detail,
        };
        let attempt = async {
            match self {
                Transport::Arti(client) => {
                    let mut prefs = StreamPrefs::new();
                    prefs.set_isolation(isolation.token);
                    prefs
                        .connect_to_onion_services(arti_client::config::BoolOrAuto::Explicit(true));
                    let s = client
                        .connect_with_prefs((host, port), &prefs)
                        .await
                        .map_err(|e| failed(e.to_string()))?;
                    Ok(Box::new(s) as Box<dyn Conn>)
                }
                Transport::Socks(proxy) => {
                    // The password only has to be non-empty; the user name picks the circuit.
                    let s = tokio_socks::tcp::Socks5Stream::connect_with_password(
                        *proxy,
                        (host, port),
                        &isolation.label,
                        "vigie",
                    )
                    .await
                    .map_err(|e| failed(e.to_string()))?;
                    Ok(Box::new(s) as Box<dyn Conn>)
                }
                Transport::Loopback => {
                    if !is_loopback_host(host) {
                        return Err(FetchError::Refused {
                            url: host.to_string(),
                            why: "loopback mode reaches 127.0.0.1 only".into(),
                        });
                    }
                    let addr = if host == "localhost" {
                        "127.0.0.1"
                    } else {
                        host.trim_matches(['[', ']'])
                    };
                    let s = tokio::net::TcpStream::connect((addr, port))
                        .await
                        .map_err(|e| failed(e.to_string()))?;
                    Ok(Box::new(s) as Box<dyn Conn>)
                }
            }
        };
        match tokio::time::timeout(timeout, attempt).await {
            Ok(r) => r,
            Err(_) => Err(FetchError::Timeout {
                host: host.to_string(),
                secs: timeout.as_secs(),
            }),
        }
    }
}

/// Reads arti's own TOML (when given) and puts its state and cache under `tor_dir`.
fn arti_config(path: Option<&Path>, tor_dir: &Path) -> Result<TorClientConfig, StartError> {
    let bad = |detail: String| StartError::ArtiConfig {
        path: path.map_or_else(|| "(defaults)".into(), |p| p.display().to_string()),
        detail,
    };
    let mut builder = match path {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| bad(e.to_string()))?;
            toml::from_str::<arti_client::config::TorClientConfigBuilder>(&text)
                .map_err(|e| bad(e.to_string()))?
        }
        None => TorClientConfig::builder(),
    };
    builder
        .storage()
        .cache_dir(CfgPath::new_literal(tor_dir.join("cache")))
        .state_dir(CfgPath::new_literal(tor_dir.join("state")));
    builder.build().map_err(|e| bad(e.to_string()))
}

async fn report_progress(mut events: arti_client::status::BootstrapEvents) {
    use std::io::IsTerminal;
    let bar = std::io::stderr().is_terminal().then(|| {
        let b = indicatif::ProgressBar::new(100);
        b.set_style(
            indicatif::ProgressStyle::with_template("Tor bootstrap [{bar:30}] {pos:>3}% {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    let mut last = -1i32;
    while let Some(status) = events.next().await {
        let pct = (status.as_frac() * 100.0).round() as i32;
        if let Some(b) = &bar {
            b.set_position(pct.max(0) as u64);
            b.set_message(status.to_string());
        } else if pct / 10 != last / 10 {
            info!(percent = pct, status = %status, "Tor bootstrap progress");
        }
        last = pct;
        if status.ready_for_traffic() {
            if let Some(b) = &bar {
                b.finish_and_clear();
            }
            break;
        }
    }
}

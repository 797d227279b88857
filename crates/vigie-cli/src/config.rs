//! The TOML configuration (`--config FILE`): typed, validated, unknown keys refused.
//!
//! Every section is optional; `ops/config/vigie.example.toml` documents each key.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub store: StoreConfig,
    #[serde(default)]
    pub retention: RetentionConfig,
    #[serde(default)]
    pub timestamping: Option<TimestampingConfig>,
    /// Webhook recipients (`[[recipient]]`), validated with their secrets when alerting starts.
    #[serde(default)]
    pub recipient: Vec<vigie_alerts::RecipientConfig>,
    #[serde(default)]
    pub delivery: vigie_alerts::DeliveryConfig,
    #[serde(default)]
    pub run: RunConfig,
    /// Watchlist files or directories replacing the shipped lists (relative to the config).
    #[serde(default)]
    pub watchlists: Vec<PathBuf>,
    /// Public Telegram channels read through their web preview (`t.me/s/NAME`).
    #[serde(default)]
    pub telegram_preview: Vec<TelegramPreviewConfig>,
    /// The Telegram account for live collection (`vigie telegram login`).
    #[serde(default)]
    pub telegram: Option<TelegramConfig>,
    /// Channels read live with that account.
    #[serde(default, rename = "telegram_channel")]
    pub telegram_channels: Vec<TelegramChannelConfig>,
    /// How onion services are reached (`[tor]`; arti with the real network by default).
    #[serde(default)]
    pub tor: Option<vigie_tor::TorSettings>,
    /// Onion forums, leak sites and pages (`[[tor_source]]`).
    #[serde(default)]
    pub tor_source: Vec<vigie_tor::TorSourceConfig>,
    /// The analyst console (`[console]`: `listen`, `secure_cookies`, `session_minutes`, and
    /// `[console.oidc]` for sign-in through an identity provider).
    #[serde(default)]
    pub console: Option<vigie_console::ConsoleConfig>,
    /// The NATS JetStream bus of distributed mode (`[bus]`; `--bus URL` is enough alone).
    #[serde(default)]
    pub bus: Option<vigie_bus::BusConfig>,
}

// The Telegram sections are typed and checked by the crate that reads them.
pub use vigie_telegram::source::{
    ChannelConfig as TelegramChannelConfig, LiveConfig as TelegramConfig,
    PreviewConfig as TelegramPreviewConfig,
};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// A spool directory `vigie run` ingests: files dropped in (written under a name starting
    /// with `.` and renamed when complete) are recorded, then removed.
    pub spool: Option<PathBuf>,
    /// Source id recorded for spool files.
    #[serde(default = "default_spool_source")]
    pub spool_source: String,
    /// How often the spool is read, milliseconds.
    #[serde(default = "default_poll")]
    pub poll_ms: u64,
    /// Files larger than this are moved to `rejected/` in the spool (with `NAME.reason`),
    /// bytes.
    #[serde(default = "default_max_bytes")]
    pub max_bytes: u64,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            spool: None,
            spool_source: default_spool_source(),
            poll_ms: default_poll(),
            max_bytes: default_max_bytes(),
        }
    }
}

fn default_spool_source() -> String {
    "spool".into()
}
fn default_poll() -> u64 {
    500
}
fn default_max_bytes() -> u64 {
    64 * 1024 * 1024
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// The store directory; relative paths are relative to the config file.
    #[serde(default = "default_store")]
    pub path: PathBuf,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            path: default_store(),
        }
    }
}

fn default_store() -> PathBuf {
    PathBuf::from("storage")
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionConfig {
    /// Days the raw bytes of snapshots holding personal data are kept.
    pub raw_days: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimestampingConfig {
    /// RFC 3161 Time-Stamp Authority URL (HTTP POST, `application/timestamp-query`).
    pub url: String,
    /// Minimum minutes between two time-stamps of the chain head.
    #[serde(default = "default_interval")]
    pub interval_minutes: u32,
    /// PEM file with the TSA's CA certificate(s), used by `vigie evidence verify`.
    pub ca_file: PathBuf,
}

fn default_interval() -> u32 {
    60
}

impl std::fmt::Debug for TimestampingConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A TSA account's token would sit in the URL's path or query.
        f.debug_struct("TimestampingConfig")
            .field("url", &vigie_alerts::url_origin(&self.url))
            .field("interval_minutes", &self.interval_minutes)
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

/// A TOML error as its message and line only: the parser's own rendering quotes the line,
/// which may hold a webhook URL and its token.
fn toml_error(text: &str, e: &toml::de::Error) -> String {
    let line = e
        .span()
        .and_then(|span| text.get(..span.start))
        .map(|before| before.matches('\n').count() + 1);
    match line {
        Some(line) => format!("line {line}: {}", e.message()),
        None => e.message().to_string(),
    }
}

impl Config {
    /// Reads and validates a config file; `None` gives the defaults.
    pub fn load(path: Option<&Path>) -> Result<Config> {
        let Some(path) = path else {
            return Ok(Config::default());
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading config {}", path.display()))?;
        let mut config: Config = toml::from_str(&text).map_err(|e| {
            anyhow!(
                "invalid config {}: {}",
                path.display(),
                toml_error(&text, &e)
            )
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        if config.store.path.is_relative() {
            config.store.path = base.join(&config.store.path);
        }
        if let Some(arti) = config.tor.as_mut().and_then(|t| t.arti_config.as_mut()) {
            if arti.is_relative() {
                *arti = base.join(&*arti);
            }
        }
        if let Some(t) = &mut config.timestamping {
            if !(t.url.starts_with("http://") || t.url.starts_with("https://")) {
                bail!(
                    "invalid config {}: timestamping.url must be an http(s) URL, got {}",
                    path.display(),
                    vigie_alerts::url_origin(&t.url)
                );
            }
            if t.interval_minutes == 0 {
                bail!(
                    "invalid config {}: timestamping.interval_minutes must be at least 1",
                    path.display()
                );
            }
            if t.ca_file.is_relative() {
                t.ca_file = base.join(&t.ca_file);
            }
        }
        config
            .delivery
            .validate()
            .with_context(|| format!("invalid config {}", path.display()))?;
        if let Some(console) = &mut config.console {
            let secret_file = console
                .oidc
                .as_mut()
                .and_then(|o| o.client_secret_file.as_mut());
            if let Some(file) = secret_file.filter(|f| f.is_relative()) {
                *file = base.join(&*file);
            }
            console
                .validate()
                .with_context(|| format!("invalid config {}", path.display()))?;
        }
        if let Some(spool) = &mut config.run.spool {
            if spool.is_relative() {
                *spool = base.join(&*spool);
            }
        }
        for w in &mut config.watchlists {
            if w.is_relative() {
                *w = base.join(&*w);
            }
        }
        vigie_telegram::source::validate(
            &config.telegram_preview,
            config.telegram.as_mut(),
            &config.telegram_channels,
            base,
        )
        .map_err(|e| anyhow!("invalid config {}: {e}", path.display()))?;
        if config.run.poll_ms == 0 {
            bail!(
                "invalid config {}: run.poll_ms must be at least 1",
                path.display()
            );
        }
        if config.retention.raw_days == Some(0) {
            bail!(
                "invalid config {}: retention.raw_days must be at least 1",
                path.display()
            );
        }
        Ok(config)
    }

    /// The store directory: `--store` wins over the config.
    pub fn store_dir(&self, flag: Option<&Path>) -> PathBuf {
        flag.map_or_else(|| self.store.path.clone(), Path::to_path_buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_config_is_valid_and_typos_are_refused() {
        let example =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ops/config/vigie.example.toml");
        let config = Config::load(Some(&example)).unwrap();
        assert_eq!(config.recipient.len(), 2);
        assert!(config.recipient[0].catch_all);
        assert_eq!(config.delivery.workers, 4);
        assert!(config.run.spool.is_some());
        // The Tor part passes the collector's own checks (presets, onion checksums).
        let tor = config.tor.clone().unwrap();
        let sources = vigie_tor::validate(&tor, &config.tor_source, &|_| None).unwrap();
        assert_eq!(sources.len(), 1);
        assert_eq!(sources[0].reader, vigie_tor::Reader::Forum(None));

        let dir = tempfile::tempdir().unwrap();
        let typo = dir.path().join("typo.toml");
        std::fs::write(
            &typo,
            "[[recipient]]\nid = \"x\"\nurl = \"http://127.0.0.1/\"\nsecret = \"inline\"\n",
        )
        .unwrap();
        let err = format!("{:#}", Config::load(Some(&typo)).unwrap_err());
        assert!(err.contains("unknown field `secret`"), "{err}");
        assert!(err.contains("line 4"), "{err}");

        let orphan = dir.path().join("orphan.toml");
        std::fs::write(&orphan, "[[telegram_channel]]\nchannel = \"medleaks\"\n").unwrap();
        let err = format!("{:#}", Config::load(Some(&orphan)).unwrap_err());
        assert!(err.contains("needs a [telegram] section"), "{err}");
        let bad_preview = dir.path().join("preview.toml");
        std::fs::write(&bad_preview, "[[telegram_preview]]\nchannel = \"../etc\"\n").unwrap();
        let err = format!("{:#}", Config::load(Some(&bad_preview)).unwrap_err());
        assert!(err.contains("not a public username"), "{err}");
        let bad_date = dir.path().join("date.toml");
        std::fs::write(
            &bad_date,
            "[telegram]\napi_id = 1\nbackfill_since = \"last spring\"\n",
        )
        .unwrap();
        let err = format!("{:#}", Config::load(Some(&bad_date)).unwrap_err());
        assert!(
            err.contains("backfill_since \"last spring\" is not a date"),
            "{err}"
        );
    }

    #[test]
    fn config_errors_and_debug_output_show_no_url_token() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            // A TOML error on the line of a webhook URL.
            "[[recipient]]\nid = \"soc\"\nurl = \"https://hooks.example/services/T0/B0/tok-SECRET\" format = 1\n",
            // A wrong type next to it: the parser's rendering quoted that line.
            "[[recipient]]\nid = \"soc\"\nurl = \"https://hooks.example/services/T0/B0/tok-SECRET\"\nsecret_env = 5\n",
            "[timestamping]\nurl = \"ftp://tsa.example/stamp?key=tok-SECRET\"\nca_file = \"ca.pem\"\n",
            "[[telegram_preview]]\nchannel = \"medleaks\"\nbase_url = \"ws://preview.example/?token=tok-SECRET\"\n",
        ];
        for (n, text) in cases.iter().enumerate() {
            let file = dir.path().join(format!("c{n}.toml"));
            std::fs::write(&file, text).unwrap();
            let err = format!("{:#}", Config::load(Some(&file)).unwrap_err());
            assert!(!err.contains("SECRET"), "{err}");
            assert!(err.contains("invalid config"), "{err}");
        }
        let ok = dir.path().join("ok.toml");
        std::fs::write(
            &ok,
            "[timestamping]\nurl = \"https://tsa.example/stamp?key=tok-SECRET\"\nca_file = \"ca.pem\"\n\n[[recipient]]\nid = \"soc\"\nurl = \"https://hooks.example/services/tok-SECRET\"\nsecret_env = \"S\"\n",
        )
        .unwrap();
        let config = Config::load(Some(&ok)).unwrap();
        let shown = format!("{config:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(shown.contains("https://tsa.example/…"), "{shown}");
    }
}

//! The Telegram sections of Vigie's configuration (`[[telegram_preview]]`, `[telegram]`,
//! `[[telegram_channel]]`): typed, unknown keys refused, checked by [`validate`] when the
//! file is loaded. Read once at start; a change needs a restart.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::collector::CollectorConfig;

/// A section that cannot work, said without the secrets a URL may carry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(
    /// What is wrong.
    pub String,
);

/// A public channel read through its web preview (`[[telegram_preview]]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreviewConfig {
    /// The channel's public username.
    pub channel: String,
    /// Where previews are served (`https://t.me`; tests use a local server).
    #[serde(default = "default_preview_base")]
    pub base_url: String,
    /// Seconds between two polls.
    #[serde(default = "default_interval")]
    pub interval_secs: u64,
    /// Posts read on the first poll (the latest ones).
    #[serde(default = "default_preview_backfill")]
    pub backfill: usize,
    /// Pages read in one poll at most.
    #[serde(default = "default_preview_pages")]
    pub max_pages: usize,
    /// Fetch through Tor (`[tor]`: arti or a SOCKS port), on a circuit of the channel's own,
    /// instead of directly.
    #[serde(default)]
    pub via_tor: bool,
}

/// The account for live collection (`[telegram]`, `vigie telegram login`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiveConfig {
    /// The api_id from my.telegram.org (or the environment variable `api_id_env`).
    pub api_id: Option<i32>,
    /// Environment variable holding the api_id, when not in the file.
    #[serde(default = "default_api_id_env")]
    pub api_id_env: String,
    /// Environment variable holding the api_hash (never in the file).
    #[serde(default = "default_api_hash_env")]
    pub api_hash_env: String,
    /// The session file; default `telegram.session` in the store directory (mode 0600).
    pub session: Option<PathBuf>,
    /// API calls per minute for the account.
    #[serde(default = "default_calls")]
    pub calls_per_minute: u32,
    /// Attachments are downloaded up to this size, bytes.
    #[serde(default = "default_attachment_cap")]
    pub attachment_cap_bytes: u64,
    /// Messages read on a channel's first sight at most.
    #[serde(default = "default_tg_backfill")]
    pub backfill: usize,
    /// On first sight, read back to this date (`2026-10-01` or RFC 3339), within `backfill`.
    pub backfill_since: Option<String>,
    /// Latest messages read again on each history read (one call): current views and
    /// forwards, edits missed while offline. 0 turns it off.
    #[serde(default = "default_refresh_recent")]
    pub refresh_recent: usize,
    /// Seconds between two history reads of a channel (new messages also come through the
    /// updates stream as they are posted).
    #[serde(default = "default_interval")]
    pub interval_secs: u64,
}

/// A channel read live with the account (`[[telegram_channel]]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelConfig {
    /// Public username, or an invite link (`https://t.me/+HASH`) for a private channel the
    /// account has joined.
    pub channel: String,
    /// Name used in source ids (default: the username).
    pub name: Option<String>,
}

impl ChannelConfig {
    /// The name in source ids and checkpoint keys: `name`, else the username without `@`.
    pub fn source_name(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| self.channel.trim_start_matches('@').to_string())
    }
}

impl LiveConfig {
    /// The api_id: from the file, else from `$api_id_env`.
    pub fn api_id(&self) -> Result<i32, ConfigError> {
        if let Some(id) = self.api_id {
            return Ok(id);
        }
        let v = std::env::var(&self.api_id_env).map_err(|_| {
            ConfigError(format!(
                "telegram.api_id is not set and ${} is empty",
                self.api_id_env
            ))
        })?;
        v.trim()
            .parse()
            .map_err(|_| ConfigError(format!("${} is not a number", self.api_id_env)))
    }

    /// The session file: `session`, else `telegram.session` in the store directory.
    pub fn session_path(&self, store_dir: &Path) -> PathBuf {
        self.session
            .clone()
            .unwrap_or_else(|| store_dir.join("telegram.session"))
    }

    /// The collector's settings for this account.
    pub fn collector_config(&self) -> CollectorConfig {
        CollectorConfig {
            calls_per_minute: self.calls_per_minute,
            backfill: self.backfill,
            backfill_since: self
                .backfill_since
                .as_deref()
                .and_then(vigie_store::Timestamp::parse)
                .map(|d| d.unix_seconds()),
            attachment_cap: self.attachment_cap_bytes,
            // Longer waits pause the account; shorter ones are slept on its own thread.
            max_inline_wait: Duration::from_secs(30),
            refresh: self.refresh_recent,
            ..CollectorConfig::default()
        }
    }
}

/// Checks the Telegram sections and makes the session path absolute (relative to `base`,
/// the config file's directory). Messages never show more of a URL than its origin.
pub fn validate(
    previews: &[PreviewConfig],
    live: Option<&mut LiveConfig>,
    channels: &[ChannelConfig],
    base: &Path,
) -> Result<(), ConfigError> {
    for t in previews {
        let name_ok = (3..=64).contains(&t.channel.len())
            && t.channel
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !name_ok {
            return Err(ConfigError(format!(
                "telegram_preview.channel {:?} is not a public username (3-64 of A-Z, a-z, 0-9, _)",
                t.channel
            )));
        }
        if !(t.base_url.starts_with("http://") || t.base_url.starts_with("https://")) {
            return Err(ConfigError(format!(
                "telegram_preview.base_url must be an http(s) URL, got {}",
                url_origin(&t.base_url)
            )));
        }
        if t.interval_secs == 0 || t.max_pages == 0 {
            return Err(ConfigError(format!(
                "telegram_preview {}: interval_secs and max_pages must be at least 1",
                t.channel
            )));
        }
    }
    if !channels.is_empty() && live.is_none() {
        return Err(ConfigError(
            "[[telegram_channel]] needs a [telegram] section (api_id, session)".into(),
        ));
    }
    for c in channels {
        if c.channel.trim().is_empty() {
            return Err(ConfigError("telegram_channel.channel is empty".into()));
        }
    }
    if let Some(t) = live {
        if let Some(s) = &mut t.session {
            if s.is_relative() {
                *s = base.join(&*s);
            }
        }
        if t.calls_per_minute == 0 || t.interval_secs == 0 {
            return Err(ConfigError(
                "telegram.calls_per_minute and interval_secs must be at least 1".into(),
            ));
        }
        if let Some(d) = &t.backfill_since {
            if vigie_store::Timestamp::parse(d).is_none() {
                return Err(ConfigError(format!(
                    "telegram.backfill_since {d:?} is not a date (2026-10-01 or RFC 3339)"
                )));
            }
        }
    }
    Ok(())
}

/// `scheme://host[:port]/…` of a URL: what logs and errors show of it (a token may sit in
/// its path or query).
pub fn url_origin(url: &str) -> String {
    match url.parse::<ureq::http::Uri>() {
        Ok(uri) => match (uri.scheme_str(), uri.host()) {
            (Some(scheme), Some(host)) => match uri.port_u16() {
                Some(port) => format!("{scheme}://{host}:{port}/…"),
                None => format!("{scheme}://{host}/…"),
            },
            _ => "<URL without scheme or host>".to_string(),
        },
        Err(_) => "<invalid URL>".to_string(),
    }
}

fn default_preview_base() -> String {
    "https://t.me".into()
}
fn default_interval() -> u64 {
    300
}
fn default_preview_backfill() -> usize {
    100
}
fn default_preview_pages() -> usize {
    5
}
fn default_refresh_recent() -> usize {
    20
}
fn default_api_id_env() -> String {
    "VIGIE_TELEGRAM_API_ID".into()
}
fn default_api_hash_env() -> String {
    "VIGIE_TELEGRAM_API_HASH".into()
}
fn default_calls() -> u32 {
    20
}
fn default_attachment_cap() -> u64 {
    20 * 1024 * 1024
}
fn default_tg_backfill() -> usize {
    200
}

#[cfg(test)]
mod tests {
    use super::*;

    fn preview(toml_text: &str) -> PreviewConfig {
        serde_json::from_value(toml_like(toml_text)).unwrap()
    }

    /// `key = value` lines as a JSON object (the crate has no TOML parser).
    fn toml_like(text: &str) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        for line in text.lines() {
            let (k, v) = line.split_once('=').unwrap();
            map.insert(k.trim().into(), serde_json::from_str(v.trim()).unwrap());
        }
        serde_json::Value::Object(map)
    }

    #[test]
    fn previews_need_a_username_an_http_url_and_nonzero_settings() {
        let base = Path::new("/etc/vigie");
        let ok = preview("channel = \"medleaks\"");
        assert_eq!(ok.base_url, "https://t.me");
        assert_eq!((ok.interval_secs, ok.backfill, ok.max_pages), (300, 100, 5));
        assert_eq!(validate(&[ok], None, &[], base), Ok(()));
        let err = validate(&[preview("channel = \"../etc\"")], None, &[], base).unwrap_err();
        assert!(err.0.contains("not a public username"), "{err}");
        let secret =
            preview("channel = \"medleaks\"\nbase_url = \"ws://p.example/?token=tok-SECRET\"");
        let err = validate(&[secret], None, &[], base).unwrap_err();
        assert_eq!(
            err.0,
            "telegram_preview.base_url must be an http(s) URL, got ws://p.example/…"
        );
        let zero = preview("channel = \"medleaks\"\nmax_pages = 0");
        assert!(validate(&[zero], None, &[], base).is_err());
    }

    #[test]
    fn channels_need_an_account_and_the_session_path_is_made_absolute() {
        let base = Path::new("/etc/vigie");
        let channel = ChannelConfig {
            channel: "@medleaks".into(),
            name: None,
        };
        assert_eq!(channel.source_name(), "medleaks");
        let err = validate(&[], None, std::slice::from_ref(&channel), base).unwrap_err();
        assert!(err.0.contains("needs a [telegram] section"), "{err}");
        let mut live: LiveConfig =
            serde_json::from_value(toml_like("api_id = 1\nsession = \"tg.session\"")).unwrap();
        validate(&[], Some(&mut live), &[channel], base).unwrap();
        assert_eq!(
            live.session_path(Path::new("/store")),
            Path::new("/etc/vigie/tg.session")
        );
        assert_eq!(live.api_id(), Ok(1));
        live.backfill_since = Some("last spring".into());
        let err = validate(&[], Some(&mut live), &[], base).unwrap_err();
        assert!(
            err.0
                .contains("backfill_since \"last spring\" is not a date"),
            "{err}"
        );
    }
}

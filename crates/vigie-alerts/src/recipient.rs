//! Recipients (`[[recipient]]` in the config) and delivery settings, validated at start-up.

use std::collections::BTreeSet;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use vigie_core::{Category, Severity};

use crate::AlertError;

/// Payload format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// Vigie's versioned JSON (`ops/schemas/alert-v1.schema.json`).
    #[default]
    Json,
    /// A Slack/Mattermost incoming-webhook message (`{"text": ...}`).
    Chat,
}

/// Language of the human-readable parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    /// French (default: CERT Santé's partners are French).
    #[default]
    Fr,
    /// English.
    En,
}

/// Traffic Light Protocol 2.0 label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Tlp {
    /// TLP:CLEAR.
    #[serde(rename = "clear")]
    Clear,
    /// TLP:GREEN.
    #[serde(rename = "green")]
    Green,
    /// TLP:AMBER (default: the recipient's organisation only).
    #[default]
    #[serde(rename = "amber")]
    Amber,
    /// TLP:AMBER+STRICT.
    #[serde(rename = "amber+strict")]
    AmberStrict,
    /// TLP:RED.
    #[serde(rename = "red")]
    Red,
}

impl fmt::Display for Tlp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Tlp::Clear => "TLP:CLEAR",
            Tlp::Green => "TLP:GREEN",
            Tlp::Amber => "TLP:AMBER",
            Tlp::AmberStrict => "TLP:AMBER+STRICT",
            Tlp::Red => "TLP:RED",
        })
    }
}

/// One `[[recipient]]` as written in the config.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecipientConfig {
    /// Id, as used in watchlists' `notify` lists: `[a-z0-9_-]+`.
    pub id: String,
    /// Webhook URL (http or https).
    pub url: String,
    /// Name of the environment variable holding the HMAC secret (never the secret itself).
    pub secret_env: String,
    /// Payload format.
    #[serde(default)]
    pub format: Format,
    /// Least severity that alerts this recipient.
    #[serde(default = "default_min_severity")]
    pub min_severity: Severity,
    /// Entity categories this recipient hears about (empty: all).
    #[serde(default)]
    pub categories: Vec<Category>,
    /// Language of summaries.
    #[serde(default)]
    pub language: Language,
    /// TLP label put on its alerts.
    #[serde(default)]
    pub tlp: Tlp,
    /// Receives every incident at or above `min_severity`, whoever it names (the CERT itself).
    #[serde(default)]
    pub catch_all: bool,
    /// Receives the weekly digest.
    #[serde(default)]
    pub digest: bool,
}

fn default_min_severity() -> Severity {
    Severity::High
}

/// A recipient ready to deliver to: validated URL and its secret read from the environment.
#[derive(Clone)]
pub struct Recipient {
    /// The configuration.
    pub config: RecipientConfig,
    secret: Vec<u8>,
}

impl fmt::Debug for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The secret never reaches a log.
        f.debug_struct("Recipient")
            .field("config", &self.config)
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl Recipient {
    /// The signing secret.
    pub fn secret(&self) -> &[u8] {
        &self.secret
    }

    /// The recipient id.
    pub fn id(&self) -> &str {
        &self.config.id
    }
}

/// Validates recipients and reads their secrets with `env` (the process environment in
/// production: `|name| std::env::var(name).ok()`). Every problem is reported, not just the
/// first.
pub fn resolve(
    configs: &[RecipientConfig],
    env: impl Fn(&str) -> Option<String>,
) -> Result<Vec<Recipient>, AlertError> {
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for c in configs {
        let id_ok = !c.id.is_empty()
            && c.id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !id_ok {
            problems.push(format!(
                "recipient id {:?} must be non-empty and use only a-z, 0-9, - and _",
                c.id
            ));
        }
        if !seen.insert(c.id.clone()) {
            problems.push(format!("recipient id {:?} is defined twice", c.id));
        }
        if let Err(why) = check_url(&c.url) {
            problems.push(format!("recipient {:?}: url {:?} {why}", c.id, c.url));
        }
        let secret = if c.secret_env.is_empty() {
            problems.push(format!("recipient {:?}: secret_env is empty", c.id));
            None
        } else {
            match env(&c.secret_env) {
                Some(s) if s.len() >= 16 => Some(s),
                Some(_) => {
                    problems.push(format!(
                        "recipient {:?}: the secret in ${} is shorter than 16 bytes",
                        c.id, c.secret_env
                    ));
                    None
                }
                None => {
                    problems.push(format!(
                        "recipient {:?}: environment variable ${} (its signing secret) is not set",
                        c.id, c.secret_env
                    ));
                    None
                }
            }
        };
        if let Some(secret) = secret {
            out.push(Recipient {
                config: c.clone(),
                secret: secret.into_bytes(),
            });
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(AlertError::Config(problems.join("; ")))
    }
}

fn check_url(url: &str) -> Result<(), &'static str> {
    let uri: ureq::http::Uri = url.parse().map_err(|_| "is not a valid URL")?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        _ => return Err("must start with http:// or https://"),
    }
    match uri.host() {
        Some(h) if !h.is_empty() => Ok(()),
        _ => Err("has no host"),
    }
}

/// Delivery settings (`[delivery]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryConfig {
    /// Whole-request timeout, seconds (connect, send, response).
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// Attempts before an alert goes to the dead-letter list.
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
    /// First retry delay, seconds; doubles on each failure, with jitter.
    #[serde(default = "default_backoff")]
    pub backoff_secs: u64,
    /// Longest delay between two attempts (also caps `Retry-After`), seconds.
    #[serde(default = "default_max_backoff")]
    pub max_backoff_secs: u64,
    /// Delivery threads (a slow receiver holds one of them, not all).
    #[serde(default = "default_workers")]
    pub workers: usize,
}

fn default_timeout() -> u64 {
    10
}
fn default_attempts() -> u32 {
    // With 5 s doubling to 1 h and equal jitter: at least 75 h of retries (a receiver down
    // for a long weekend loses nothing; see `min_retry_horizon`).
    160
}
fn default_backoff() -> u64 {
    5
}
fn default_max_backoff() -> u64 {
    3600
}
fn default_workers() -> usize {
    4
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            timeout_secs: default_timeout(),
            max_attempts: default_attempts(),
            backoff_secs: default_backoff(),
            max_backoff_secs: default_max_backoff(),
            workers: default_workers(),
        }
    }
}

impl DeliveryConfig {
    /// Checks the values make sense.
    pub fn validate(&self) -> Result<(), AlertError> {
        let mut problems = Vec::new();
        if self.timeout_secs == 0 {
            problems.push("delivery.timeout_secs must be at least 1");
        }
        if self.max_attempts == 0 {
            problems.push("delivery.max_attempts must be at least 1");
        }
        if self.workers == 0 || self.workers > 64 {
            problems.push("delivery.workers must be between 1 and 64");
        }
        if self.max_backoff_secs < self.backoff_secs {
            problems.push("delivery.max_backoff_secs must be at least backoff_secs");
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(AlertError::Config(problems.join("; ")))
        }
    }

    /// The request timeout.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(id: &str, url: &str, env: &str) -> RecipientConfig {
        RecipientConfig {
            id: id.into(),
            url: url.into(),
            secret_env: env.into(),
            format: Format::Json,
            min_severity: Severity::High,
            categories: vec![],
            language: Language::Fr,
            tlp: Tlp::Amber,
            catch_all: false,
            digest: false,
        }
    }

    #[test]
    fn bad_urls_and_missing_secrets_are_reported_together() {
        let configs = [
            config("chu", "ftp://127.0.0.1/x", "CHU_SECRET"),
            config("lab", "not a url", "LAB_SECRET"),
            config("vendor", "http://127.0.0.1:9/hook", "MISSING"),
            config("Bad Id", "http://127.0.0.1:9/hook", "CHU_SECRET"),
        ];
        let env = |name: &str| (name != "MISSING").then(|| "0123456789abcdef0123".to_string());
        let err = resolve(&configs, env).unwrap_err().to_string();
        assert!(err.contains("ftp://"), "{err}");
        assert!(err.contains("not a url"), "{err}");
        assert!(err.contains("$MISSING"), "{err}");
        assert!(err.contains("\"Bad Id\""), "{err}");
    }

    #[test]
    fn secrets_are_read_and_never_printed() {
        let configs = [config("chu", "https://127.0.0.1/hook", "S")];
        let r = resolve(&configs, |_| Some("a-very-secret-value-1234".into())).unwrap();
        assert_eq!(r[0].secret(), b"a-very-secret-value-1234");
        assert!(!format!("{:?}", r[0]).contains("very-secret"));
        let short = resolve(&configs, |_| Some("short".into())).unwrap_err();
        assert!(short.to_string().contains("shorter than 16"), "{short}");
    }

    #[test]
    fn duplicate_ids_and_bad_delivery_settings_are_refused() {
        let configs = [
            config("chu", "http://127.0.0.1/a", "S"),
            config("chu", "http://127.0.0.1/b", "S"),
        ];
        let err = resolve(&configs, |_| Some("0123456789abcdef".into())).unwrap_err();
        assert!(err.to_string().contains("defined twice"));
        let d = DeliveryConfig {
            workers: 0,
            max_attempts: 0,
            ..DeliveryConfig::default()
        };
        let err = d.validate().unwrap_err().to_string();
        assert!(
            err.contains("workers") && err.contains("max_attempts"),
            "{err}"
        );
        assert!(DeliveryConfig::default().validate().is_ok());
    }
}

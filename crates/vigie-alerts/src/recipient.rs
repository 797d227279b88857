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

/// Language of the human-readable parts (in `vigie-core`, shared with the digest).
pub use vigie_core::Language;

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
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecipientConfig {
    /// Id, as used in watchlists' `notify` lists: `[a-z0-9_-]+`.
    pub id: String,
    /// Webhook URL: https, or http to a loopback host (or with `allow_insecure`). Its path
    /// and query often carry a token: only [`url_origin`] of it is ever shown.
    pub url: String,
    /// Accepts an `http://` URL to a host other than this machine (alerts would cross the
    /// network in clear).
    #[serde(default)]
    pub allow_insecure: bool,
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

impl fmt::Debug for RecipientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecipientConfig")
            .field("id", &self.id)
            .field("url", &url_origin(&self.url))
            .field("allow_insecure", &self.allow_insecure)
            .field("secret_env", &self.secret_env)
            .field("format", &self.format)
            .field("min_severity", &self.min_severity)
            .field("categories", &self.categories)
            .field("language", &self.language)
            .field("tlp", &self.tlp)
            .field("catch_all", &self.catch_all)
            .field("digest", &self.digest)
            .finish()
    }
}

/// A URL as it may be shown in logs and errors: scheme and host (and port) only, since
/// webhook tokens live in the path, the query or the user info. `<invalid URL>` when it
/// does not parse.
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
        if let Err(why) = check_url(&c.url, c.allow_insecure) {
            problems.push(format!(
                "recipient {:?}: url {} {why}",
                c.id,
                url_origin(&c.url)
            ));
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

fn check_url(url: &str, allow_insecure: bool) -> Result<(), &'static str> {
    let uri: ureq::http::Uri = url.parse().map_err(|_| "is not a valid URL")?;
    let host = match uri.host() {
        Some(h) if !h.is_empty() => h,
        _ => return Err("has no host"),
    };
    match uri.scheme_str() {
        Some("https") => Ok(()),
        Some("http") if allow_insecure || is_loopback(host) => Ok(()),
        Some("http") => Err(
            "uses http:// to another machine: alerts and their signatures would cross the network in clear; use https://, or set allow_insecure = true for this recipient",
        ),
        _ => Err("must start with http:// or https://"),
    }
}

/// `localhost`, `127.0.0.0/8` or `::1`.
fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
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
            allow_insecure: false,
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
        assert!(err.contains("ftp://127.0.0.1/…"), "{err}");
        assert!(
            err.contains("\"lab\": url <invalid URL> is not a valid URL"),
            "{err}"
        );
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

    #[test]
    fn webhook_tokens_never_show_in_debug_or_errors() {
        let url = "https://hooks.slack.example/services/T0AAA/B0BBB/xoxb-TOKEN1?key=q-TOKEN2";
        let c = config("soc", url, "S");
        let shown = format!("{c:?} {c:#?}");
        assert!(!shown.contains("TOKEN"), "{shown}");
        assert!(shown.contains("https://hooks.slack.example/…"), "{shown}");
        let r = resolve(std::slice::from_ref(&c), |_| {
            Some("0123456789abcdef".into())
        })
        .unwrap();
        assert!(!format!("{:?}", r[0]).contains("TOKEN"));
        // An error about the URL names its scheme and host only.
        let plain = config("soc", &url.replace("https://", "http://"), "S");
        let err = resolve(&[plain], |_| Some("0123456789abcdef".into()))
            .unwrap_err()
            .to_string();
        assert!(!err.contains("TOKEN"), "{err}");
        assert!(err.contains("http://hooks.slack.example/…"), "{err}");
        let user = config("soc", "https://user:p4ss-TOKEN3@hooks.example:8443/x", "S");
        assert_eq!(url_origin(&user.url), "https://hooks.example:8443/…");
        assert!(!format!("{user:?}").contains("TOKEN"));
    }

    #[test]
    fn plain_http_is_for_this_machine_unless_allowed() {
        let env = |_: &str| Some("0123456789abcdef".to_string());
        for ok in [
            "http://127.0.0.1:8080/hook",
            "http://localhost/hook",
            "http://[::1]:9/hook",
            "https://soc.example/hook",
        ] {
            assert!(resolve(&[config("a", ok, "S")], env).is_ok(), "{ok}");
        }
        let err = resolve(&[config("a", "http://soc.example/hook", "S")], env)
            .unwrap_err()
            .to_string();
        assert!(err.contains("allow_insecure = true"), "{err}");
        let allowed = RecipientConfig {
            allow_insecure: true,
            ..config("a", "http://soc.example/hook", "S")
        };
        assert!(resolve(&[allowed], env).is_ok());
    }
}

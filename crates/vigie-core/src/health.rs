//! How a collector's runs went: the health record a source leaves after each run, kept in the
//! store (`vigie sources health`, the digest, the console). Here so that the store and the
//! reports read it without depending on the collector that writes it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How a source's last run went. Serialized in snake case (`"login_wall"`): stored histories
/// depend on these names, so a variant is never renamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    /// Pages read.
    Ok,
    /// Pages answered but a selector that used to find elements found none.
    Blind,
    /// Some pages failed.
    Partial,
    /// A mirror answered but no page could be read (over a limit, refused, unparseable).
    Failed,
    /// No mirror answered.
    Unreachable,
    /// Not a run: a source thread of `vigie run` ended unexpectedly (panic, error) and is
    /// restarted; `errors` says why.
    Crashed,
    /// A login form stood in for the content.
    LoginWall,
    /// A CAPTCHA or a DDoS-protection queue stood in for the content.
    Captcha,
    /// Pages answered "not found" (404, 410) or were empty.
    NotFound,
    /// The site said it is under maintenance (or answered 503).
    Maintenance,
    /// The site limited requests (429, "too many requests").
    RateLimited,
}

impl HealthStatus {
    /// Every status, in declaration order.
    pub const ALL: [HealthStatus; 11] = [
        HealthStatus::Ok,
        HealthStatus::Blind,
        HealthStatus::Partial,
        HealthStatus::Failed,
        HealthStatus::Unreachable,
        HealthStatus::Crashed,
        HealthStatus::LoginWall,
        HealthStatus::Captcha,
        HealthStatus::NotFound,
        HealthStatus::Maintenance,
        HealthStatus::RateLimited,
    ];

    /// The snake-case name, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Ok => "ok",
            HealthStatus::Blind => "blind",
            HealthStatus::Partial => "partial",
            HealthStatus::Failed => "failed",
            HealthStatus::Unreachable => "unreachable",
            HealthStatus::Crashed => "crashed",
            HealthStatus::LoginWall => "login_wall",
            HealthStatus::Captcha => "captcha",
            HealthStatus::NotFound => "not_found",
            HealthStatus::Maintenance => "maintenance",
            HealthStatus::RateLimited => "rate_limited",
        }
    }

    /// Whether a site kept the collector from its content although it answered (login wall,
    /// CAPTCHA, not found, maintenance, rate limit): an operator can act on these.
    pub fn is_kept_out(self) -> bool {
        matches!(
            self,
            HealthStatus::LoginWall
                | HealthStatus::Captcha
                | HealthStatus::NotFound
                | HealthStatus::Maintenance
                | HealthStatus::RateLimited
        )
    }

    /// What the status means for the analyst, in one sentence.
    pub fn explain(self) -> &'static str {
        match self {
            HealthStatus::Ok => "pages read",
            HealthStatus::Blind => {
                "pages that look like content answered but yielded nothing: the site's HTML may have changed"
            }
            HealthStatus::Partial => "some pages failed",
            HealthStatus::Failed => "a mirror answered but no page could be read",
            HealthStatus::Unreachable => "no mirror answered",
            HealthStatus::Crashed => "the source thread ended unexpectedly and was restarted",
            HealthStatus::LoginWall => {
                "a login form stands in for the content: the session cookie (cookie_env) is missing or expired"
            }
            HealthStatus::Captcha => {
                "a CAPTCHA or DDoS-protection queue stands in for the content: Vigie does not solve CAPTCHAs; a session cookie from a browser past the queue is needed"
            }
            HealthStatus::NotFound => {
                "pages answered not found or were empty: has the start path or the site moved?"
            }
            HealthStatus::Maintenance => "the site says it is under maintenance or temporarily unavailable",
            HealthStatus::RateLimited => {
                "the site limits requests (HTTP 429 or 'too many requests'): raise interval_secs or lower max_pages"
            }
        }
    }
}

/// One run of one source (kept in the store, read by `vigie sources health` and the digest).
/// Its JSON form is what stores already hold: fields are only ever added, with a default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthRecord {
    /// The source id (a `[[tor_source]]` id, or `thread:NAME` for a source thread's failure).
    pub source: String,
    /// When the run ended, in milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// How it went.
    pub status: HealthStatus,
    /// The mirror that answered, if any.
    pub mirror: Option<String>,
    /// Mirrors tried that did not answer.
    pub mirrors_failed: Vec<String>,
    /// Pages read.
    pub pages_ok: usize,
    /// Pages that failed.
    pub pages_failed: usize,
    /// Documents emitted.
    pub documents: usize,
    /// Elements found per selector, over the run's pages.
    pub counts: BTreeMap<String, usize>,
    /// Selectors that found nothing on pages that answered.
    pub blind: Vec<String>,
    /// What went wrong, for the operator.
    pub errors: Vec<String>,
    /// How long the run took.
    pub elapsed_ms: u64,
}

/// The prefix of health-history keys in the store's checkpoints.
pub const HEALTH_KEY_PREFIX: &str = "tor-health:";

/// The store key of a source's health history (`tor-health:SOURCE`, the key every version
/// has used, whatever the source's kind).
pub fn health_key(source: &str) -> String {
    format!("{HEALTH_KEY_PREFIX}{source}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_serialize_as_their_names() {
        for s in HealthStatus::ALL {
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
            assert_eq!(serde_json::from_str::<HealthStatus>(&json).unwrap(), s);
        }
    }

    #[test]
    fn a_record_written_by_the_tor_crate_still_reads() {
        // Written out by hand in the form vigie-tor's HealthRecord serialized to before it
        // moved here (field order of that struct).
        let old = r#"{"source":"forum","at_ms":1764000000000,"status":"login_wall","mirror":"abc.onion","mirrors_failed":["def.onion"],"pages_ok":3,"pages_failed":1,"documents":7,"counts":{"post":12,"thread":0},"blind":["thread"],"errors":["login form"],"elapsed_ms":4200}"#;
        let r: HealthRecord = serde_json::from_str(old).unwrap();
        assert_eq!(r.source, "forum");
        assert_eq!(r.at_ms, 1_764_000_000_000);
        assert_eq!(r.status, HealthStatus::LoginWall);
        assert_eq!(r.mirror.as_deref(), Some("abc.onion"));
        assert_eq!(r.mirrors_failed, vec!["def.onion".to_string()]);
        assert_eq!((r.pages_ok, r.pages_failed, r.documents), (3, 1, 7));
        assert_eq!(r.counts.get("post"), Some(&12));
        assert_eq!(r.counts.get("thread"), Some(&0));
        assert_eq!(r.blind, vec!["thread".to_string()]);
        assert_eq!(r.errors, vec!["login form".to_string()]);
        assert_eq!(r.elapsed_ms, 4200);
        // And it is written back byte for byte.
        assert_eq!(serde_json::to_string(&r).unwrap(), old);
    }

    #[test]
    fn health_keys_keep_their_prefix() {
        assert_eq!(health_key("forum"), "tor-health:forum");
        assert_eq!(health_key("thread:tor"), "tor-health:thread:tor");
    }

    #[test]
    fn kept_out_statuses_are_the_page_classes() {
        let kept: Vec<&str> = HealthStatus::ALL
            .into_iter()
            .filter(|s| s.is_kept_out())
            .map(HealthStatus::as_str)
            .collect();
        assert_eq!(
            kept,
            [
                "login_wall",
                "captcha",
                "not_found",
                "maintenance",
                "rate_limited"
            ]
        );
    }
}

//! The `[bus]` section: where the NATS servers are, what the stream, consumer and key-value
//! bucket are called and which limits they get, and how to authenticate. Read once at start-up;
//! a change needs a restart (and limits of an existing stream are not changed by Vigie: see
//! [`crate::Bus::connect`]).

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::BusError;

/// The `[bus]` section. Every field has a default except `url`.
///
/// ```toml
/// [bus]
/// url = ["nats://10.0.0.1:4222", "nats://10.0.0.2:4222", "nats://10.0.0.3:4222"]
/// replicas = 3
/// user = "vigie"
/// password_env = "VIGIE_NATS_PASSWORD"
/// tls_ca_file = "/etc/vigie/nats-ca.pem"
/// ```
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BusConfig {
    /// Servers, `nats://HOST:PORT` or `tls://HOST:PORT`: a list, or one string with
    /// comma-separated addresses (as `--bus` takes them). Several servers of one cluster let
    /// the client fail over. Credentials never go in the address (see `user`).
    #[serde(deserialize_with = "one_or_many")]
    pub url: Vec<String>,
    /// JetStream stream holding the events (default `VIGIE_EVENTS`).
    pub stream: String,
    /// Subjects are `<subject_prefix>.<kind>` (default prefix `vigie.events`, so
    /// `vigie.events.document`); the stream takes `<subject_prefix>.>`.
    pub subject_prefix: String,
    /// The server drops a message whose `Nats-Msg-Id` it saw within this window (default
    /// 1,200 s: a collector restarting and republishing). Beyond it, the store's content-hash
    /// check keeps a repeat from becoming a second snapshot.
    pub duplicate_window_secs: u64,
    /// Oldest message kept when no recorder takes it (default 14 days; 0: no limit). An
    /// expired message is lost: keep this longer than any recorder outage.
    pub max_age_secs: u64,
    /// Bytes the stream may hold (default 8 GiB; 0: no limit). When full, the server refuses
    /// new messages (discard policy "new") and publishers buffer and retry: nothing queued is
    /// thrown away.
    pub max_bytes: u64,
    /// Copies of each message: 1 (one server) or 3 (a three-node cluster survives one loss).
    pub replicas: usize,
    /// Durable pull consumer the recorders share (default `recorder`).
    pub consumer: String,
    /// A delivered message not acknowledged within this many seconds is delivered again
    /// (default 60). A recorder acknowledges only after its batch is in the store.
    pub ack_wait_secs: u64,
    /// Deliveries of one message before the server stops trying; absent (default): no limit,
    /// since a message given up is an event lost.
    pub max_deliver: Option<u64>,
    /// Delivered but unacknowledged messages the consumer allows at once (default 10,000);
    /// a recorder's fetch batch must stay below it.
    pub max_ack_pending: u64,
    /// Key-value bucket for remote collectors' checkpoints (default `vigie_checkpoints`).
    pub checkpoint_bucket: String,
    /// User name for user/password authentication; the password is read from `password_env`.
    pub user: Option<String>,
    /// Environment variable holding the password of `user`.
    pub password_env: Option<String>,
    /// Environment variable holding an NKey seed (`SU...`): NKey authentication.
    pub nkey_seed_env: Option<String>,
    /// A `.creds` file (JWT and NKey seed) for decentralised authentication.
    pub credentials_file: Option<PathBuf>,
    /// PEM file of the CA that signed the servers' certificates (private CA).
    pub tls_ca_file: Option<PathBuf>,
    /// Refuse a connection that is not TLS, even with `nats://` addresses.
    pub tls_required: bool,
    /// Messages a [`crate::BufferedPublisher`] holds while the bus is unreachable before its
    /// callers pause (default 10,000), besides up to 256 it was already sending.
    pub publish_buffer: usize,
    /// Seconds to wait for a server answer (publish acknowledgement, API request; default 10).
    pub request_timeout_secs: u64,
}

impl Default for BusConfig {
    fn default() -> Self {
        BusConfig {
            url: Vec::new(),
            stream: "VIGIE_EVENTS".to_string(),
            subject_prefix: "vigie.events".to_string(),
            duplicate_window_secs: 20 * 60,
            max_age_secs: 14 * 24 * 3600,
            max_bytes: 8 << 30,
            replicas: 1,
            consumer: "recorder".to_string(),
            ack_wait_secs: 60,
            max_deliver: None,
            max_ack_pending: 10_000,
            checkpoint_bucket: "vigie_checkpoints".to_string(),
            user: None,
            password_env: None,
            nkey_seed_env: None,
            credentials_file: None,
            tls_ca_file: None,
            tls_required: false,
            publish_buffer: 10_000,
            request_timeout_secs: 10,
        }
    }
}

impl std::fmt::Debug for BusConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Addresses are shown without any user:password part; secrets are never fields.
        let urls: Vec<String> = self.url.iter().map(|u| redact_url(u)).collect();
        f.debug_struct("BusConfig")
            .field("url", &urls)
            .field("stream", &self.stream)
            .field("subject_prefix", &self.subject_prefix)
            .field("duplicate_window_secs", &self.duplicate_window_secs)
            .field("max_age_secs", &self.max_age_secs)
            .field("max_bytes", &self.max_bytes)
            .field("replicas", &self.replicas)
            .field("consumer", &self.consumer)
            .field("ack_wait_secs", &self.ack_wait_secs)
            .field("max_deliver", &self.max_deliver)
            .field("max_ack_pending", &self.max_ack_pending)
            .field("checkpoint_bucket", &self.checkpoint_bucket)
            .field("user", &self.user)
            .field("password_env", &self.password_env)
            .field("nkey_seed_env", &self.nkey_seed_env)
            .field("credentials_file", &self.credentials_file)
            .field("tls_ca_file", &self.tls_ca_file)
            .field("tls_required", &self.tls_required)
            .field("publish_buffer", &self.publish_buffer)
            .field("request_timeout_secs", &self.request_timeout_secs)
            .finish()
    }
}

/// How the client proves who it is, with the secret read from the environment.
pub(crate) enum Credentials {
    None,
    UserPassword(String, String),
    NKey(String),
    File(PathBuf),
}

impl BusConfig {
    /// Defaults with these servers (`--bus nats://a:4222,nats://b:4222`).
    pub fn new(url: &str) -> BusConfig {
        BusConfig {
            url: split_urls(url),
            ..BusConfig::default()
        }
    }

    /// Checks the section; returns every problem at once. Does not read the environment
    /// (that happens in [`crate::Bus::connect`]).
    pub fn validate(&self) -> Result<(), BusError> {
        let mut problems = Vec::new();
        if self.url.is_empty() {
            problems.push("url: at least one server is needed (nats://HOST:PORT)".to_string());
        }
        for u in &self.url {
            if let Some(p) = url_problem(u) {
                problems.push(p);
            }
        }
        for (field, v) in [
            ("stream", &self.stream),
            ("consumer", &self.consumer),
            ("checkpoint_bucket", &self.checkpoint_bucket),
        ] {
            if !is_name(v) {
                problems.push(format!(
                    "{field} {v:?}: use letters, digits, '-' or '_' (no dots, spaces or wildcards)"
                ));
            }
        }
        if self.subject_prefix.is_empty() || !self.subject_prefix.split('.').all(is_name) {
            problems.push(format!(
                "subject_prefix {:?}: dot-separated tokens of letters, digits, '-' or '_'",
                self.subject_prefix
            ));
        }
        if self.duplicate_window_secs == 0 {
            problems.push("duplicate_window_secs must be positive".to_string());
        }
        if self.max_age_secs != 0 && self.duplicate_window_secs > self.max_age_secs {
            problems.push("duplicate_window_secs cannot exceed max_age_secs".to_string());
        }
        if self.replicas != 1 && self.replicas != 3 {
            problems.push(format!(
                "replicas = {}: use 1 (one server) or 3 (a three-node cluster)",
                self.replicas
            ));
        }
        if self.ack_wait_secs == 0 {
            problems.push("ack_wait_secs must be positive".to_string());
        }
        if self.max_deliver == Some(0) {
            problems.push("max_deliver must be positive (leave it out for no limit)".to_string());
        }
        if self.max_ack_pending == 0 {
            problems.push("max_ack_pending must be positive".to_string());
        }
        if self.publish_buffer == 0 {
            problems.push("publish_buffer must be positive".to_string());
        }
        if self.request_timeout_secs == 0 {
            problems.push("request_timeout_secs must be positive".to_string());
        }
        let methods = [
            self.user.is_some(),
            self.nkey_seed_env.is_some(),
            self.credentials_file.is_some(),
        ]
        .iter()
        .filter(|m| **m)
        .count();
        if methods > 1 {
            problems.push(
                "choose one of user (+ password_env), nkey_seed_env or credentials_file"
                    .to_string(),
            );
        }
        if self.user.is_some() != self.password_env.is_some() {
            problems.push("user and password_env go together".to_string());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(BusError::Config(problems))
        }
    }

    pub(crate) fn duplicate_window(&self) -> Duration {
        Duration::from_secs(self.duplicate_window_secs)
    }
    pub(crate) fn max_age(&self) -> Duration {
        Duration::from_secs(self.max_age_secs)
    }
    pub(crate) fn ack_wait(&self) -> Duration {
        Duration::from_secs(self.ack_wait_secs)
    }
    pub(crate) fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs)
    }

    /// Reads the secret named by the section from `env`.
    pub(crate) fn credentials(
        &self,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Credentials, BusError> {
        let read = |var: &str| match env(var) {
            Some(v) if !v.trim().is_empty() => Ok(v.trim().to_string()),
            _ => Err(BusError::Config(vec![format!(
                "environment variable {var} is not set"
            )])),
        };
        if let (Some(user), Some(var)) = (&self.user, &self.password_env) {
            return Ok(Credentials::UserPassword(user.clone(), read(var)?));
        }
        if let Some(var) = &self.nkey_seed_env {
            return Ok(Credentials::NKey(read(var)?));
        }
        if let Some(path) = &self.credentials_file {
            return Ok(Credentials::File(path.clone()));
        }
        Ok(Credentials::None)
    }

    /// The server addresses as shown in logs: without any user:password part.
    pub fn redacted_urls(&self) -> String {
        self.url
            .iter()
            .map(|u| redact_url(u))
            .collect::<Vec<_>>()
            .join(",")
    }
}

fn split_urls(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_string)
        .collect()
}

fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => split_urls(&s),
        OneOrMany::Many(v) => v.iter().flat_map(|s| split_urls(s)).collect(),
    })
}

/// Letters, digits, '-' and '_': valid as a stream, consumer or bucket name and as one
/// subject token.
pub(crate) fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn url_problem(u: &str) -> Option<String> {
    let shown = redact_url(u);
    let Some((scheme, rest)) = u.split_once("://") else {
        return Some(format!(
            "url {shown:?}: write nats://HOST:PORT or tls://HOST:PORT"
        ));
    };
    if scheme != "nats" && scheme != "tls" {
        return Some(format!(
            "url {shown:?}: scheme must be nats:// or tls://, not {scheme}://"
        ));
    }
    let authority = rest.split('/').next().unwrap_or("");
    if authority.contains('@') {
        return Some(format!(
            "url {shown:?}: credentials do not go in the address; use user + password_env, nkey_seed_env or credentials_file"
        ));
    }
    if authority.is_empty() || authority.starts_with(':') {
        return Some(format!("url {shown:?}: no host"));
    }
    if u.parse::<async_nats::ServerAddr>().is_err() {
        return Some(format!("url {shown:?}: not a valid server address"));
    }
    None
}

/// `nats://user:secret@host:4222` → `nats://<redacted>@host:4222`.
pub(crate) fn redact_url(u: &str) -> String {
    let (scheme, rest) = match u.split_once("://") {
        Some((s, r)) => (Some(s), r),
        None => (None, u),
    };
    let end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    let authority = match authority.rfind('@') {
        Some(at) => format!("<redacted>@{}", &authority[at + 1..]),
        None => authority.to_string(),
    };
    match scheme {
        Some(s) => format!("{s}://{authority}{path}"),
        None => format!("{authority}{path}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<BusConfig, toml::de::Error> {
        #[derive(Deserialize)]
        struct Root {
            bus: BusConfig,
        }
        toml::from_str::<Root>(s).map(|r| r.bus)
    }

    #[test]
    fn defaults_from_a_minimal_section() {
        let c = parse("[bus]\nurl = \"nats://127.0.0.1:4222\"\n").unwrap();
        assert_eq!(c.url, vec!["nats://127.0.0.1:4222"]);
        assert_eq!(c.stream, "VIGIE_EVENTS");
        assert_eq!(c.subject_prefix, "vigie.events");
        assert_eq!(c.consumer, "recorder");
        assert_eq!(c.checkpoint_bucket, "vigie_checkpoints");
        assert_eq!(c.duplicate_window_secs, 1200);
        assert_eq!(c.max_deliver, None);
        assert_eq!(c.replicas, 1);
        c.validate().unwrap();
    }

    #[test]
    fn url_as_list_or_comma_separated_string() {
        let a = parse("[bus]\nurl = \"nats://a:4222, nats://b:4222\"\n").unwrap();
        let b = parse("[bus]\nurl = [\"nats://a:4222\", \"nats://b:4222\"]\n").unwrap();
        assert_eq!(a.url, vec!["nats://a:4222", "nats://b:4222"]);
        assert_eq!(a.url, b.url);
        assert_eq!(BusConfig::new("nats://a:4222,nats://b:4222").url, a.url);
    }

    #[test]
    fn unknown_field_is_an_error() {
        let e = parse("[bus]\nurl = \"nats://a:4222\"\nreplica = 3\n").unwrap_err();
        assert!(e.to_string().contains("replica"), "{e}");
    }

    fn problems(c: &BusConfig) -> Vec<String> {
        match c.validate() {
            Err(BusError::Config(p)) => p,
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    #[test]
    fn validate_lists_every_problem() {
        let c = BusConfig {
            url: vec!["http://a:80".into(), "tls://".into()],
            stream: "VIGIE.EVENTS".into(),
            subject_prefix: "vigie.*".into(),
            replicas: 2,
            ack_wait_secs: 0,
            max_deliver: Some(0),
            user: Some("vigie".into()),
            nkey_seed_env: Some("SEED".into()),
            ..BusConfig::default()
        };
        let p = problems(&c);
        for needle in [
            "scheme must be nats:// or tls://",
            "no host",
            "stream \"VIGIE.EVENTS\"",
            "subject_prefix",
            "replicas = 2",
            "ack_wait_secs",
            "max_deliver",
            "choose one of",
            "user and password_env go together",
        ] {
            assert!(
                p.iter().any(|x| x.contains(needle)),
                "{needle} not in {p:?}"
            );
        }
        assert_eq!(p.len(), 9, "{p:?}");
        assert!(problems(&BusConfig::default())[0].contains("at least one server"));
    }

    #[test]
    fn password_in_url_refused_and_never_shown() {
        let c = BusConfig::new("nats://vigie:hunter2@10.0.0.1:4222");
        let p = problems(&c);
        assert!(
            p[0].contains("credentials do not go in the address"),
            "{p:?}"
        );
        let all = format!("{p:?} {c:?} {}", c.redacted_urls());
        assert!(!all.contains("hunter2"), "{all}");
        assert!(all.contains("nats://<redacted>@10.0.0.1:4222"), "{all}");
    }

    #[test]
    fn credentials_read_from_the_environment() {
        let c = BusConfig {
            user: Some("vigie".into()),
            password_env: Some("NATS_PW".into()),
            ..BusConfig::new("nats://127.0.0.1:4222")
        };
        c.validate().unwrap();
        let env = |k: &str| (k == "NATS_PW").then(|| " s3cret \n".to_string());
        match c.credentials(&env).unwrap() {
            Credentials::UserPassword(u, p) => {
                assert_eq!((u.as_str(), p.as_str()), ("vigie", "s3cret"))
            }
            _ => panic!("expected user/password"),
        }
        let missing = c.credentials(&|_| None).err().unwrap().to_string();
        assert!(missing.contains("NATS_PW is not set"), "{missing}");
        let n = BusConfig {
            nkey_seed_env: Some("SEED".into()),
            ..BusConfig::new("nats://127.0.0.1:4222")
        };
        assert!(matches!(
            n.credentials(&|k| (k == "SEED").then(|| "SUAB".to_string())).unwrap(),
            Credentials::NKey(s) if s == "SUAB"
        ));
    }
}

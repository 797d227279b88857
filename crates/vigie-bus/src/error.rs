//! One error type, classified by what the caller should do: [`BusError::is_transient`] says
//! whether the same call may succeed later (server down, cluster electing a leader) or never
//! will without a change of configuration or input.

use std::sync::{Arc, Mutex};
use std::time::Instant;

/// What went wrong talking to NATS JetStream. Messages never carry a password, an NKey seed or
/// a payload.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BusError {
    /// The `[bus]` section is wrong; every problem found is listed. Permanent.
    #[error("invalid [bus] configuration: {}", .0.join("; "))]
    Config(Vec<String>),
    /// No server could be reached, or the connection dropped. Transient.
    #[error("NATS server unreachable: {0}")]
    Unreachable(String),
    /// The server did not answer in time (publish acknowledgement, API request). Transient.
    #[error("NATS did not answer in time: {0}")]
    Timeout(String),
    /// JetStream cannot serve the request now: not ready after a start, a cluster without a
    /// leader or quorum, or no JetStream server answering. Transient.
    #[error("JetStream unavailable: {0}")]
    Unavailable(String),
    /// The server refused the credentials or a permission. Permanent.
    #[error("NATS refused the credentials or a permission: {0}")]
    Auth(String),
    /// The TLS handshake or TLS setup failed (CA file, certificate). Permanent.
    #[error("NATS TLS failed: {0}")]
    Tls(String),
    /// A payload larger than the server's `max_payload`. Permanent for this message.
    #[error("message of {size} bytes exceeds the server's max_payload of {max} bytes")]
    TooLarge {
        /// Payload plus headers, in bytes.
        size: usize,
        /// The server's limit.
        max: usize,
    },
    /// A kind, key or name that NATS cannot carry. Permanent.
    #[error("invalid {what}: {detail}")]
    Invalid {
        /// What was given (kind, checkpoint key...).
        what: &'static str,
        /// Why it is refused.
        detail: String,
    },
    /// The server answered a JetStream request with an error that retrying will not fix
    /// (for example a stream that exists with another setup). Permanent.
    #[error("JetStream refused to {op}: {detail}")]
    Refused {
        /// What was asked.
        op: &'static str,
        /// The server's answer.
        detail: String,
    },
    /// Messages a [`crate::BufferedPublisher`] gave up on since the last flush, because the
    /// server refused them for good (never because it was down). Permanent.
    #[error("{count} message(s) refused by the bus since the last flush; last: {last}")]
    Rejected {
        /// How many.
        count: u64,
        /// The last refusal.
        last: String,
    },
    /// The publisher's background task has stopped (closed, or its runtime shut down).
    #[error("the bus publisher is closed")]
    Closed,
}

impl BusError {
    /// Whether trying the same call again later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            BusError::Unreachable(_) | BusError::Timeout(_) | BusError::Unavailable(_)
        )
    }
}

fn is_tls_failure(detail: &str) -> bool {
    let d = detail.to_ascii_lowercase();
    [
        "certificate",
        "corrupt message",
        "handshake",
        "peer is incompatible",
        "tls",
    ]
    .iter()
    .any(|m| d.contains(m))
}

/// JetStream API error codes that mean "not now" rather than "never".
/// 10008 cluster not available, 10009 not leader, 10023 insufficient resources,
/// 10041 raft error, 10047 storage resources exceeded (stream full with discard=new).
const TRANSIENT_CODES: [u64; 5] = [10008, 10009, 10023, 10041, 10047];

/// Classifies a JetStream API error answer.
pub(crate) fn from_api(op: &'static str, err: &async_nats::jetstream::Error) -> BusError {
    if TRANSIENT_CODES.contains(&err.error_code().0) {
        BusError::Unavailable(format!("{op}: {err}"))
    } else {
        BusError::Refused {
            op,
            detail: err.to_string(),
        }
    }
}

pub(crate) fn from_connect(err: async_nats::ConnectError) -> BusError {
    use async_nats::ConnectErrorKind as K;
    let detail = err.to_string();
    match err.kind() {
        K::Authentication | K::AuthorizationViolation => BusError::Auth(detail),
        K::Tls => BusError::Tls(detail),
        K::ServerParse => BusError::Config(vec![format!("url: {detail}")]),
        // rustls failures (untrusted certificate, a server that does not speak TLS) come as
        // I/O errors of the handshake: configuration, not an outage.
        K::Io if is_tls_failure(&detail) => BusError::Tls(detail),
        K::Dns | K::TimedOut | K::Io | K::MaxReconnects => BusError::Unreachable(detail),
    }
}

/// The server's last "Permissions Violation" notice. NATS reports a denied publish
/// asynchronously and the request then just times out; this turns such a timeout into the
/// permanent [`BusError::Auth`] it really is.
#[derive(Clone, Default)]
pub(crate) struct Denials(Arc<Mutex<Option<(Instant, String)>>>);

impl Denials {
    pub(crate) fn record(&self, detail: String) {
        if let Ok(mut last) = self.0.lock() {
            *last = Some((Instant::now(), detail));
        }
    }

    /// `e`, or the permission refusal noticed since `since` if `e` is a transient failure.
    pub(crate) fn refine(&self, e: BusError, since: Instant) -> BusError {
        if !e.is_transient() {
            return e;
        }
        match self.0.lock() {
            Ok(last) => match &*last {
                Some((at, detail)) if *at >= since => BusError::Auth(detail.clone()),
                _ => e,
            },
            Err(_) => e,
        }
    }
}

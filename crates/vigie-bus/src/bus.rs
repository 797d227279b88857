//! The connection: stream and bucket set-up, subjects, and the unbuffered publish.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, context::PublishErrorKind, kv, stream};
use bytes::Bytes;
use sha2::{Digest, Sha256};
use tracing::{info, warn};

use crate::config::{is_name, BusConfig, Credentials};
use crate::consumer::Consumer;
use crate::error::{self, BusError, Denials};

/// A connection to the NATS servers with the stream and the checkpoint bucket in place.
/// Cheap to clone (one connection underneath); the client reconnects by itself after a
/// server loss, and calls made meanwhile fail with a transient error.
#[derive(Clone)]
pub struct Bus {
    pub(crate) client: async_nats::Client,
    pub(crate) js: jetstream::Context,
    pub(crate) config: Arc<BusConfig>,
    pub(crate) denials: Denials,
}

impl std::fmt::Debug for Bus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bus")
            .field("servers", &self.config.redacted_urls())
            .field("stream", &self.config.stream)
            .finish_non_exhaustive()
    }
}

/// The server's answer to one publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Published {
    /// The server already held a message with this `Nats-Msg-Id` (within the stream's
    /// duplicate window) and dropped this one.
    pub duplicate: bool,
    /// Stream sequence of the stored message (of the first copy for a duplicate).
    pub sequence: u64,
}

/// A message id for `Nats-Msg-Id`: hex SHA-256 over the parts, each prefixed by its length
/// as 8 bytes big-endian, so `["ab", "c"]` and `["a", "bc"]` differ. Use
/// `msg_id(&[source, locator, content_hash])`: the same content collected twice from the same
/// place gets the same id and the server keeps one.
pub fn msg_id(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p);
    }
    hex::encode(h.finalize())
}

impl Bus {
    /// Connects to the servers of `config`, creates the stream and the checkpoint bucket if
    /// absent, and returns the connection. Secrets are read from the environment variables the
    /// section names.
    ///
    /// The stream is a work queue (`retention = workqueue`): a message goes away once a
    /// recorder acknowledges it, which fits one group of recorders sharing one durable
    /// consumer (a second, differently named consumer on the same stream is refused by the
    /// server). Storage is on file, discard policy "new" (a full stream refuses publishes
    /// rather than dropping queued events). An existing stream is used as it is: its limits
    /// are not changed, a differing duplicate window is logged, and a stream that does not
    /// take `<subject_prefix>.>` or is not a work queue is refused.
    ///
    /// Fails with a transient error when no server answers: the caller retries.
    pub async fn connect(config: &BusConfig) -> Result<Bus, BusError> {
        config.validate()?;
        let creds = config.credentials(&|var| std::env::var(var).ok())?;
        let denials = Denials::default();
        let noticed = denials.clone();
        let mut opts = async_nats::ConnectOptions::new()
            .name("vigie")
            .request_timeout(Some(config.request_timeout()))
            .connection_timeout(config.request_timeout())
            .max_reconnects(None)
            .event_callback(move |event| {
                let denials = noticed.clone();
                async move {
                    use async_nats::{Event, ServerError};
                    match event {
                        Event::Disconnected => warn!("bus connection lost; reconnecting"),
                        Event::Connected => info!("bus connected"),
                        Event::ServerError(ServerError::Other(detail))
                            if detail
                                .to_ascii_lowercase()
                                .contains("permissions violation") =>
                        {
                            warn!(%detail, "bus refused an operation: permission");
                            denials.record(detail);
                        }
                        Event::SlowConsumer(_) => warn!("bus client is a slow consumer"),
                        other => tracing::debug!(event = %other, "bus client event"),
                    }
                }
            });
        opts = match creds {
            Credentials::None => opts,
            Credentials::UserPassword(user, password) => opts.user_and_password(user, password),
            Credentials::NKey(seed) => opts.nkey(seed),
            Credentials::File(path) => opts.credentials_file(&path).await.map_err(|e| {
                BusError::Config(vec![format!("credentials_file {}: {e}", path.display())])
            })?,
        };
        if let Some(ca) = &config.tls_ca_file {
            if !ca.is_file() {
                return Err(BusError::Config(vec![format!(
                    "tls_ca_file {} is not a readable file",
                    ca.display()
                )]));
            }
            opts = opts.add_root_certificates(ca.clone());
        }
        if config.tls_required {
            opts = opts.require_tls(true);
        }
        let addrs: Vec<async_nats::ServerAddr> = config
            .url
            .iter()
            .map(|u| u.parse())
            .collect::<Result<_, _>>()
            .map_err(|_| BusError::Config(vec!["url: not a valid server address".to_string()]))?;
        let client = opts.connect(addrs).await.map_err(error::from_connect)?;
        let js = jetstream::ContextBuilder::new()
            .timeout(config.request_timeout())
            .build(client.clone());
        let bus = Bus {
            client,
            js,
            config: Arc::new(config.clone()),
            denials,
        };
        let since = Instant::now();
        bus.ensure_stream()
            .await
            .map_err(|e| bus.denials.refine(e, since))?;
        bus.ensure_bucket()
            .await
            .map_err(|e| bus.denials.refine(e, since))?;
        info!(
            servers = %config.redacted_urls(),
            stream = %config.stream,
            "bus ready"
        );
        Ok(bus)
    }

    /// [`connect`](Self::connect), retried while the failure is transient (no server up
    /// yet, JetStream electing its leader), with backoff from 0.5 s doubling to 10 s, for at
    /// most `max_wait` (`None`: until it succeeds). Logs one warning when the first attempt
    /// fails and one line when connected. A permanent error is returned at once.
    pub async fn connect_with_retry(
        config: &BusConfig,
        max_wait: Option<Duration>,
    ) -> Result<Bus, BusError> {
        retry_transient("connect", max_wait, || Bus::connect(config)).await
    }

    /// [`consumer`](Self::consumer), retried like [`connect_with_retry`](Self::connect_with_retry):
    /// a cluster that just lost a node answers "timed out" until it has elected a new
    /// leader, which is no reason for a recorder to give up.
    pub async fn consumer_with_retry(
        &self,
        max_wait: Option<Duration>,
    ) -> Result<Consumer, BusError> {
        retry_transient("open the consumer", max_wait, || self.consumer()).await
    }

    /// The section this bus was opened with.
    pub fn config(&self) -> &BusConfig {
        &self.config
    }

    /// The subject events of `kind` are published on: `<subject_prefix>.<kind>`. A kind is
    /// letters, digits, '-' or '_' (one subject token).
    pub fn subject(&self, kind: &str) -> Result<String, BusError> {
        if !is_name(kind) {
            return Err(BusError::Invalid {
                what: "event kind",
                detail: format!("{kind:?}: use letters, digits, '-' or '_'"),
            });
        }
        Ok(format!("{}.{kind}", self.config.subject_prefix))
    }

    /// Publishes one message and waits for the server to store it (its acknowledgement).
    /// `msg_id` goes in the `Nats-Msg-Id` header: a second message with the same id within
    /// the duplicate window is dropped by the server and answered `duplicate: true`.
    ///
    /// No buffering: when the bus is down this fails with a transient error. Collectors use
    /// a [`crate::BufferedPublisher`] instead.
    pub async fn publish(
        &self,
        kind: &str,
        msg_id: &str,
        payload: Bytes,
    ) -> Result<Published, BusError> {
        let subject = self.subject(kind)?;
        self.check_size(msg_id, payload.len())?;
        let since = Instant::now();
        let refine = |e| self.denials.refine(self.publish_error(e), since);
        let ack = self
            .js
            .send_publish(
                subject,
                jetstream::message::PublishMessage::build()
                    .message_id(msg_id)
                    .payload(payload),
            )
            .await
            .map_err(refine)?;
        let ack = ack.await.map_err(refine)?;
        Ok(Published {
            duplicate: ack.duplicate,
            sequence: ack.sequence,
        })
    }

    /// Refuses a message the server would refuse (payload plus headers above `max_payload`).
    pub(crate) fn check_size(&self, msg_id: &str, payload: usize) -> Result<(), BusError> {
        let max = self.client.server_info().max_payload;
        // Header block: "NATS/1.0\r\nNats-Msg-Id: <id>\r\n\r\n".
        let size = payload + msg_id.len() + 30;
        if max > 0 && size > max {
            return Err(BusError::TooLarge { size, max });
        }
        Ok(())
    }

    pub(crate) fn publish_error(&self, e: jetstream::context::PublishError) -> BusError {
        match e.kind() {
            PublishErrorKind::TimedOut => BusError::Timeout(format!("publish: {e}")),
            PublishErrorKind::MaxPayloadExceeded => BusError::TooLarge {
                size: 0,
                max: self.client.server_info().max_payload,
            },
            // No stream answering the subject: JetStream restarting or electing a leader
            // (the stream itself was checked at connect).
            PublishErrorKind::StreamNotFound => BusError::Unavailable(format!("publish: {e}")),
            _ => BusError::Unreachable(format!("publish: {e}")),
        }
    }

    fn stream_config(&self) -> stream::Config {
        let c = &self.config;
        stream::Config {
            name: c.stream.clone(),
            description: Some("Vigie events from collectors to recorders".to_string()),
            subjects: vec![format!("{}.>", c.subject_prefix)],
            retention: stream::RetentionPolicy::WorkQueue,
            storage: stream::StorageType::File,
            discard: stream::DiscardPolicy::New,
            num_replicas: c.replicas,
            duplicate_window: c.duplicate_window(),
            max_age: c.max_age(),
            max_bytes: if c.max_bytes == 0 {
                -1
            } else {
                i64::try_from(c.max_bytes).unwrap_or(i64::MAX)
            },
            max_messages: -1,
            max_consumers: -1,
            max_message_size: -1,
            ..Default::default()
        }
    }

    async fn ensure_stream(&self) -> Result<(), BusError> {
        let want = self.stream_config();
        let mut s = self
            .js
            .get_or_create_stream(want.clone())
            .await
            .map_err(|e| create_stream_error("create the stream", e))?;
        let have = &s.cached_info().config;
        let wanted_subject = &want.subjects[0];
        if !have.subjects.iter().any(|x| x == wanted_subject) {
            return Err(BusError::Refused {
                op: "use the stream",
                detail: format!(
                    "stream {} exists with subjects {:?}, not {wanted_subject}",
                    want.name, have.subjects
                ),
            });
        }
        if have.retention != stream::RetentionPolicy::WorkQueue {
            return Err(BusError::Refused {
                op: "use the stream",
                detail: format!(
                    "stream {} exists with retention {:?}, not work queue",
                    want.name, have.retention
                ),
            });
        }
        if have.duplicate_window != want.duplicate_window {
            warn!(
                stream = %want.name,
                configured_secs = want.duplicate_window.as_secs(),
                existing_secs = have.duplicate_window.as_secs(),
                "existing stream keeps its own duplicate window"
            );
        }
        // Refresh so a stream created just now reports its state.
        let _ = s.info().await;
        Ok(())
    }

    /// The checkpoint bucket, created if absent. The bucket's stream is created here with
    /// the settings a key-value bucket has (`KV_<bucket>`, subjects `$KV.<bucket>.>`, one
    /// value per key, rollups, direct gets) rather than through the client's bucket
    /// creation, which first reads account fields that nats-server 2.9 does not send.
    pub(crate) async fn bucket(&self) -> Result<kv::Store, BusError> {
        let name = &self.config.checkpoint_bucket;
        if let Ok(store) = self.js.get_key_value(name.clone()).await {
            return Ok(store);
        }
        let config = stream::Config {
            name: format!("KV_{name}"),
            description: Some("Vigie collectors' checkpoints".to_string()),
            subjects: vec![format!("$KV.{name}.>")],
            max_messages_per_subject: 1,
            max_bytes: -1,
            max_messages: -1,
            max_message_size: -1,
            storage: stream::StorageType::File,
            num_replicas: self.config.replicas,
            discard: stream::DiscardPolicy::New,
            allow_rollup: true,
            deny_delete: true,
            deny_purge: false,
            allow_direct: true,
            ..Default::default()
        };
        self.js
            .get_or_create_stream(config)
            .await
            .map_err(|e| create_stream_error("create the checkpoint bucket", e))?;
        self.js
            .get_key_value(name.clone())
            .await
            .map_err(|e| BusError::Unavailable(format!("open the checkpoint bucket: {e}")))
    }

    async fn ensure_bucket(&self) -> Result<(), BusError> {
        self.bucket().await.map(|_| ())
    }

    /// The server-side timeout for API requests.
    pub(crate) fn request_timeout(&self) -> Duration {
        self.config.request_timeout()
    }
}

fn create_stream_error(op: &'static str, e: jetstream::context::CreateStreamError) -> BusError {
    use async_nats::jetstream::context::CreateStreamErrorKind as K;
    match e.kind() {
        K::TimedOut => BusError::Timeout(format!("{op}: {e}")),
        K::JetStreamUnavailable => {
            BusError::Unavailable(format!("{op}: JetStream is not enabled or not ready"))
        }
        K::JetStream(err) => error::from_api(op, &err),
        _ => BusError::Refused {
            op,
            detail: e.to_string(),
        },
    }
}

/// Runs `attempt` until it succeeds, fails for good, or `max_wait` would be exceeded;
/// transient failures are retried with backoff from 0.5 s doubling to 10 s. One warning for
/// the first failure, one line when it finally works.
async fn retry_transient<T, F, Fut>(
    what: &str,
    max_wait: Option<Duration>,
    mut attempt: F,
) -> Result<T, BusError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, BusError>>,
{
    let start = Instant::now();
    let mut backoff = Duration::from_millis(500);
    let mut warned = false;
    loop {
        match attempt().await {
            Ok(value) => {
                if warned {
                    info!(
                        what,
                        waited_secs = start.elapsed().as_secs(),
                        "bus reachable again"
                    );
                }
                return Ok(value);
            }
            Err(e) if e.is_transient() => {
                if max_wait.is_some_and(|m| start.elapsed() + backoff > m) {
                    return Err(e);
                }
                if !warned {
                    warn!(what, error = %e, "bus unreachable at start; retrying");
                    warned = true;
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(10));
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn msg_id_is_sha256_of_length_prefixed_parts() {
        // Expected value computed independently:
        // printf '\0\0\0\0\0\0\0\x02ab\0\0\0\0\0\0\0\x01c' | sha256sum
        assert_eq!(
            msg_id(&[b"ab", b"c"]),
            "601d5476e2ccfe2c87a2bba7a322659734a05749d5b5aa781f513e4912db0d5f"
        );
    }

    #[test]
    fn msg_id_separates_parts() {
        assert_ne!(msg_id(&[b"ab", b"c"]), msg_id(&[b"a", b"bc"]));
        assert_ne!(msg_id(&[b"abc"]), msg_id(&[b"abc", b""]));
        assert_eq!(msg_id(&[b"x", b"y"]), msg_id(&[b"x", b"y"]));
        // No parts: the hash of nothing (`printf '' | sha256sum`).
        assert_eq!(
            msg_id(&[]),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}

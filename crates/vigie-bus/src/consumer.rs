//! The recorder's side: a durable pull consumer with explicit acknowledgements.

use std::time::{Duration, Instant};

use async_nats::jetstream::{self, consumer::pull, consumer::AckPolicy};
use futures_util::StreamExt;
use tracing::warn;

use crate::bus::Bus;
use crate::error::{self, BusError, Denials};

/// The durable pull consumer named in the section, shared by every recorder. Messages are
/// handed out in batches; each stays "pending" until acknowledged, and one not acknowledged
/// within `ack_wait_secs` is delivered again (to any recorder).
pub struct Consumer {
    inner: jetstream::consumer::Consumer<pull::Config>,
    client: async_nats::Client,
    prefix: String,
    request_timeout: Duration,
    denials: Denials,
}

/// One delivered message. Read it, store it, then acknowledge it with [`Consumer::ack`]
/// (or [`Delivery::ack`]); dropping it unacknowledged means it comes back after `ack_wait`.
pub struct Delivery {
    message: jetstream::Message,
    kind: String,
    delivered: u64,
    sequence: u64,
}

impl std::fmt::Debug for Consumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumer")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The payload is not shown: it may hold collected content.
        f.debug_struct("Delivery")
            .field("kind", &self.kind)
            .field("delivered", &self.delivered)
            .field("sequence", &self.sequence)
            .field("payload_len", &self.message.payload.len())
            .finish()
    }
}

impl Delivery {
    /// The event kind: the subject's last token (`document` for `vigie.events.document`).
    pub fn kind(&self) -> &str {
        &self.kind
    }
    /// The bytes as published.
    pub fn payload(&self) -> &bytes::Bytes {
        &self.message.payload
    }
    /// How many times this message has been delivered, this one included (1 the first time).
    pub fn delivered(&self) -> u64 {
        self.delivered
    }
    /// Position in the stream (unique per stored message).
    pub fn sequence(&self) -> u64 {
        self.sequence
    }
    /// The `Nats-Msg-Id` it was published with.
    pub fn msg_id(&self) -> Option<&str> {
        self.message
            .headers
            .as_ref()
            .and_then(|h| h.get("Nats-Msg-Id"))
            .map(|v| v.as_str())
    }
    /// Acknowledges this one message (the server then removes it from the work queue).
    /// Sent without waiting for the server's confirmation: an acknowledgement lost with the
    /// connection means one redelivery, which the store's content-hash check absorbs.
    pub async fn ack(&self) -> Result<(), BusError> {
        self.message
            .ack()
            .await
            .map_err(|e| BusError::Unreachable(format!("ack: {e}")))
    }
}

impl Bus {
    /// The durable pull consumer (created if absent) with explicit acknowledgements,
    /// `ack_wait_secs`, `max_deliver` and `max_ack_pending` from the section. An existing
    /// consumer keeps its settings (a differing `ack_wait` is logged).
    pub async fn consumer(&self) -> Result<Consumer, BusError> {
        let since = Instant::now();
        self.open_consumer()
            .await
            .map_err(|e| self.denials.refine(e, since))
    }

    async fn open_consumer(&self) -> Result<Consumer, BusError> {
        let c = &self.config;
        let op = "create the consumer";
        let stream = self.js.get_stream(&c.stream).await.map_err(|e| {
            use async_nats::jetstream::context::GetStreamErrorKind as K;
            match e.kind() {
                K::JetStream(err) => error::from_api("get the stream", &err),
                _ => BusError::Unavailable(format!("get the stream: {e}")),
            }
        })?;
        let config = pull::Config {
            durable_name: Some(c.consumer.clone()),
            description: Some("Vigie recorders".to_string()),
            ack_policy: AckPolicy::Explicit,
            ack_wait: c.ack_wait(),
            max_deliver: c
                .max_deliver
                .map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX)),
            max_ack_pending: i64::try_from(c.max_ack_pending).unwrap_or(i64::MAX),
            ..Default::default()
        };
        let mut inner: jetstream::consumer::Consumer<pull::Config> = stream
            .get_or_create_consumer(&c.consumer, config)
            .await
            .map_err(|e| {
                use async_nats::jetstream::stream::ConsumerErrorKind as K;
                match e.kind() {
                    K::TimedOut => BusError::Timeout(format!("{op}: {e}")),
                    K::JetStream(err) => error::from_api(op, &err),
                    K::Request => BusError::Unavailable(format!("{op}: {e}")),
                    _ => BusError::Refused {
                        op,
                        detail: e.to_string(),
                    },
                }
            })?;
        if let Ok(info) = inner.info().await {
            if info.config.ack_wait != c.ack_wait() {
                warn!(
                    consumer = %c.consumer,
                    configured_secs = c.ack_wait_secs,
                    existing_secs = info.config.ack_wait.as_secs(),
                    "existing consumer keeps its own ack wait"
                );
            }
        }
        Ok(Consumer {
            inner,
            client: self.client.clone(),
            prefix: format!("{}.", c.subject_prefix),
            request_timeout: self.request_timeout(),
            denials: self.denials.clone(),
        })
    }
}

impl Consumer {
    /// Up to `max` messages: those waiting now, or else the first to arrive within `timeout`
    /// plus any behind it. An empty batch means nothing arrived in time. Returns as soon as
    /// something is there (it does not wait to fill the batch).
    pub async fn fetch(&self, max: usize, timeout: Duration) -> Result<Vec<Delivery>, BusError> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let mut out = self.pull(max, None).await?;
        if out.is_empty() {
            out = self.pull(1, Some(timeout)).await?;
            if !out.is_empty() && max > 1 {
                out.extend(self.pull(max - 1, None).await?);
            }
        }
        Ok(out)
    }

    /// One pull request: `wait` None asks for what is there now (no wait), else holds the
    /// request open until a message arrives or `wait` elapses.
    async fn pull(&self, max: usize, wait: Option<Duration>) -> Result<Vec<Delivery>, BusError> {
        let guard = wait.unwrap_or_default() + self.request_timeout;
        let work = async {
            let mut batch = match wait {
                None => self.inner.fetch().max_messages(max).messages().await,
                Some(w) => {
                    self.inner
                        .batch()
                        .max_messages(max)
                        .expires(w)
                        .messages()
                        .await
                }
            }
            .map_err(|e| BusError::Unreachable(format!("fetch: {e}")))?;
            let mut out = Vec::new();
            while let Some(m) = batch.next().await {
                let m = m.map_err(|e| BusError::Unavailable(format!("fetch: {e}")))?;
                out.push(self.delivery(m)?);
            }
            Ok(out)
        };
        let since = Instant::now();
        match tokio::time::timeout(guard, work).await {
            Ok(r) => r.map_err(|e| self.denials.refine(e, since)),
            Err(_) => Err(self.denials.refine(
                BusError::Timeout("fetch: no answer from the server".to_string()),
                since,
            )),
        }
    }

    fn delivery(&self, message: jetstream::Message) -> Result<Delivery, BusError> {
        let (delivered, sequence) = match message.info() {
            Ok(i) => (u64::try_from(i.delivered).unwrap_or(0), i.stream_sequence),
            Err(e) => {
                return Err(BusError::Refused {
                    op: "read a delivery",
                    detail: e.to_string(),
                })
            }
        };
        let kind = message
            .subject
            .as_str()
            .strip_prefix(&self.prefix)
            .unwrap_or(message.subject.as_str())
            .to_string();
        Ok(Delivery {
            message,
            kind,
            delivered,
            sequence,
        })
    }

    /// Acknowledges a batch after the caller stored it, then flushes so the acknowledgements
    /// are on the wire when this returns. Lost acknowledgements (connection dropped) mean
    /// redeliveries, never losses.
    pub async fn ack(&self, batch: &[Delivery]) -> Result<(), BusError> {
        for d in batch {
            d.ack().await?;
        }
        self.client
            .flush()
            .await
            .map_err(|e| BusError::Unreachable(format!("ack flush: {e}")))
    }

    /// Tells the server the batch is still being worked on: each message's `ack_wait` starts
    /// again, so a store write slower than `ack_wait` does not cause a redelivery.
    pub async fn in_progress(&self, batch: &[Delivery]) -> Result<(), BusError> {
        for d in batch {
            d.message
                .ack_with(jetstream::AckKind::Progress)
                .await
                .map_err(|e| BusError::Unreachable(format!("in progress: {e}")))?;
        }
        self.client
            .flush()
            .await
            .map_err(|e| BusError::Unreachable(format!("in progress flush: {e}")))
    }

    /// Tells the server never to deliver this message again (a payload the recorder cannot
    /// decode: without this it would come back forever, since `max_deliver` has no limit).
    pub async fn term(&self, delivery: &Delivery) -> Result<(), BusError> {
        delivery
            .message
            .ack_with(jetstream::AckKind::Term)
            .await
            .map_err(|e| BusError::Unreachable(format!("term: {e}")))?;
        self.client
            .flush()
            .await
            .map_err(|e| BusError::Unreachable(format!("term flush: {e}")))
    }
}

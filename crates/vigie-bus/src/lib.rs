//! Vigie's distributed transport: opaque event payloads carried from collector hosts to
//! recorders over a NATS JetStream work queue.
//!
//! # Overview
//!
//! - [`BusConfig`]: the `[bus]` section (servers, stream, subjects, limits, credentials, TLS).
//! - [`Bus`]: a connection with the stream and the checkpoint bucket in place
//!   ([`Bus::connect`], or [`Bus::connect_with_retry`] to wait for a bus not up yet);
//!   [`Bus::publish`] publishes one message and waits for the server.
//! - [`BufferedPublisher`] ([`Bus::publisher`]): what collectors use; a bounded buffer
//!   that rides out bus outages, retries, and pauses its callers when full.
//! - [`Consumer`] ([`Bus::consumer`]): the recorders' durable pull consumer; [`Delivery`] is
//!   one message, acknowledged only once stored ([`Consumer::ack`]; [`Consumer::in_progress`]
//!   for a batch slower than `ack_wait`, [`Consumer::term`] for a message never to retry).
//! - [`KvCheckpoints`] ([`Bus::checkpoints`]): remote collectors' checkpoints in a
//!   key-value bucket; [`kv_key`] documents the key mapping.
//! - [`msg_id`]: the `Nats-Msg-Id` of an event (hash of source, locator, content hash), so
//!   the server drops a message republished by a restarting collector.
//! - [`BusError`]: failures, with [`BusError::is_transient`] saying whether to retry.
//!
//! The one design decision: the stream is a **work queue** (a message is removed when a
//! recorder acknowledges it) read by **one durable consumer** that every recorder shares,
//! with explicit acknowledgements and no delivery limit. A recorder acknowledges a batch
//! only after it is in the store, so a recorder killed mid-batch loses nothing: the
//! messages come back after `ack_wait_secs`, and the store's content-hash check turns a
//! redelivery into a repeat sighting, never a second snapshot or alert.
//!
//! Subjects are `<subject_prefix>.<kind>` (default `vigie.events.document`,
//! `vigie.events.checkpoint`, `vigie.events.health`, `vigie.events.candidate`); the stream
//! (default `VIGIE_EVENTS`) takes `<subject_prefix>.>`. What a payload holds is decided by
//! `vigie-pipeline`; this crate never looks inside.
//!
//! Not for: encoding events, matching, storing, or any collection logic; and not a
//! general-purpose NATS wrapper (one stream, one consumer, one bucket).
//!
//! # Example
//!
//! ```no_run
//! use std::time::Duration;
//! use vigie_bus::{msg_id, Bus, BusConfig};
//!
//! # async fn demo() -> Result<(), vigie_bus::BusError> {
//! let config = BusConfig::new("nats://127.0.0.1:4222");
//! let bus = Bus::connect(&config).await?;
//!
//! // Collector side.
//! let publisher = bus.publisher();
//! let id = msg_id(&[b"tor:forum-a", b"http://abc.onion/t/1", b"sha256:..."]);
//! publisher.publish("document", &id, b"payload".to_vec().into()).await?;
//! publisher.flush().await?;
//!
//! // Recorder side.
//! let consumer = bus.consumer().await?;
//! let batch = consumer.fetch(500, Duration::from_secs(5)).await?;
//! for d in &batch {
//!     let _ = (d.kind(), d.payload()); // decode and store
//! }
//! consumer.ack(&batch).await?; // only after the batch is in the store
//!
//! // Checkpoints of remote collectors.
//! let cp = bus.checkpoints().await?;
//! cp.put("tor:forum-a", b"page=3".to_vec().into()).await?;
//! assert_eq!(cp.get("tor:forum-a").await?.as_deref(), Some(&b"page=3"[..]));
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]
#![deny(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod bus;
mod checkpoints;
mod config;
mod consumer;
mod error;
mod publisher;
#[cfg(feature = "testing")]
pub mod testing;

pub use bus::{msg_id, Bus, Published};
pub use bytes::Bytes;
pub use checkpoints::{kv_key, KvCheckpoints};
pub use config::BusConfig;
pub use consumer::{Consumer, Delivery};
pub use error::BusError;
pub use publisher::{BufferedPublisher, PublishStats};

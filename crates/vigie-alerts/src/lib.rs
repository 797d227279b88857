//! Vigie's alerts: who hears about an incident, what they receive, and how it gets there.
//!
//! Overview:
//! - [`RecipientConfig`] (`[[recipient]]` in the config) is validated by [`resolve`], which
//!   reads each signing secret from the environment variable the config names.
//! - [`Router`] is the store's [`vigie_store::AlertPolicy`]: incident organisations → their
//!   watchlist `notify` lists → recipients, plus catch-all recipients; once per incident and
//!   recipient, then only when the severity rises or new identifier kinds appear. The store
//!   writes each decided alert and its outbox entry in the batch that changed the incident.
//! - [`render`] builds the payload (versioned JSON, `ops/schemas/alert-v1.schema.json`, or a
//!   Slack/Mattermost message) from masked counts only; [`sign`] makes the
//!   `Vigie-Signature` header (HMAC-SHA256 over `<t>.<body>`).
//! - [`Deliverer`] sends from the outbox with a timeout, retries with backoff and jitter,
//!   honours `Retry-After`, and dead-letters after the last attempt.
//!
//! Not for: deciding severity (the matcher), grouping reposts (the store), or triage (the
//! store records it; the CLI exposes it).
//!
//! # Example
//!
//! ```
//! use vigie_alerts::{sign, verify};
//!
//! let body = br#"{"schema":"vigie.alert/1"}"#;
//! let header = sign(b"0123456789abcdef", 1_700_000_000, body);
//! assert!(verify(b"0123456789abcdef", &header, body, 1_700_000_060, 300).is_ok());
//! ```
#![deny(missing_docs)]

mod delivery;
mod error;
mod payload;
mod recipient;
mod routing;
mod signature;

pub use delivery::{parse_retry_after, Attempt, Deliverer, Outcome, Round, Sender};
pub use error::AlertError;
pub use payload::{defang, idempotency_key, place, render, source_kind_label, summary, SCHEMA};
pub use recipient::{
    resolve, url_origin, DeliveryConfig, Format, Language, Recipient, RecipientConfig, Tlp,
};
pub use routing::{valid_kinds, Router};
pub use signature::{sign, verify, SignatureError, SIGNATURE_HEADER};

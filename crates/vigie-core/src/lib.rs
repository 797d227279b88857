//! Types shared by every Vigie stage.
//!
//! Vigie's data flows one way: a collector yields a document, the matcher turns it into a
//! [`Report`], the store keeps the document and its report, and alerts and digests read the store.
//! This crate holds the vocabulary those stages share, and nothing else:
//!
//! - [`Category`] of a watched organisation, as written in the watchlists;
//! - [`Severity`], the triage level of a report, ordered from `Info` to `Critical`;
//! - [`IdentifierKind`] and [`IdentifierCount`], the checksum-validated identifiers found in a text;
//! - [`EntityFinding`] and [`Span`], where a watched organisation is named;
//! - [`SampleFinding`], a block of delimited rows that looks like stolen records;
//! - [`Report`], the whole finding for one document, serialisable as the `vigie scan --json` object;
//! - [`Signature`], a near-duplicate fingerprint of a document's text, which the store uses to
//!   group reposts of one sale into one incident;
//! - [`HealthRecord`] and [`HealthStatus`], how a collector's run went (kept by the store, read
//!   by `vigie sources health`, the digest and the console);
//! - [`Language`] of alerts and digests, and [`defang`] for places shown to people.
//!
//! Not for: I/O, matching, storage or networking. This crate has no dependency beyond `serde`
//! and `thiserror`, so that every other crate can depend on it.
//!
//! ```
//! use vigie_core::{Severity, Category};
//! assert!(Severity::Critical > Severity::High);
//! assert_eq!("lab".parse::<Category>().unwrap(), Category::Lab);
//! assert_eq!(Category::Lab.to_string(), "lab");
//! ```
#![deny(missing_docs)]

mod category;
mod health;
mod html;
mod labels;
mod near_dup;
mod report;
mod severity;

pub use category::{Category, ParseCategoryError};
pub use health::{health_key, HealthRecord, HealthStatus, HEALTH_KEY_PREFIX};
pub use html::{html_block_element, html_hidden_element, html_void_element};
pub use labels::{defang, Language};
pub use near_dup::{Analysis, Signature, BANDS, BAND_ROWS, SIGNATURE_LEN};
pub use report::ColumnCount;
pub use report::{
    cap_shown_digits, DocumentKind, EntityFinding, IdentifierCount, IdentifierKind, Origin, Report,
    SampleFinding, Span, Topic, MAX_SHOWN_DIGITS,
};
pub use severity::{ParseSeverityError, Severity};

//! Vigie's weekly threat digest: what moved on the leak markets in one ISO week, as a page an
//! analyst forwards as is (French by default).
//!
//! Overview: [`build`] reads the evidence store (incidents, triage, sightings) into a
//! [`Digest`]: headline figures against the previous week, the week's incidents, one section
//! per critical or high incident, 8-week trends, and source activity. [`html`] renders a
//! self-contained page (inline CSS and SVG charts, no external asset, prints on A4);
//! [`markdown`] the same in Markdown. Identifiers appear only as counts.
//!
//! Source health comes from the store's typed health history ([`vigie_store::Store::health_all`]):
//! the digest depends on neither a collector nor the alerting crate.
//!
//! Not for: sending (the CLI posts it through `vigie-alerts`' signed webhooks) or exports to
//! other tools (`vigie-export`).
//!
//! # Example
//!
//! ```
//! use vigie_digest::{build, html, IsoWeek, Language};
//! use vigie_store::{Store, Timestamp};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let store = Store::open(dir.path()).unwrap();
//! let week: IsoWeek = "2026-W47".parse().unwrap();
//! let digest = build(&store, week, Timestamp::now()).unwrap();
//! let page = html(&digest, Language::Fr);
//! assert!(page.contains("Semaine 2026-W47") && page.contains("<svg"));
//! ```
#![deny(missing_docs)]

mod chart;
mod error;
mod model;
mod render;
mod text;
mod week;

pub use chart::escape;
pub use error::DigestError;
pub use model::{
    build, CollectorWeek, Digest, IncidentRow, Pair, SourceActivity, WeekCounts,
    QUIET_LOOKBACK_WEEKS, TREND_WEEKS,
};
pub use render::{html, markdown};
/// The digest's language (shared with alerts).
pub use vigie_core::Language;
pub use week::IsoWeek;

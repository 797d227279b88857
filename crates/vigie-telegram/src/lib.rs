//! Vigie's Telegram sources. Stolen health data is sold on Telegram as much as on Tor: a
//! teaser and a sample file in a channel that is gone a week later.
//!
//! Overview (what exists today):
//! - [`TelegramMessage`]: what every Telegram source turns a post into, and
//!   [`TelegramMessage::document`], the text the matcher and the store receive.
//! - [`parse_export`]: Telegram Desktop's machine-readable export (`result.json`, one chat or
//!   a full account), for `vigie import telegram-export`.
//! - [`extract`] / [`extract_with_post`]: attachment text for matching; archives, workbooks
//!   and PDFs unpacked in memory by `vigie-unpack` under [`ArchiveLimits`] (a zip bomb is
//!   refused, never expanded), with the passwords the message states.
//!
//! - [`parse_preview`] and [`PreviewClient`]: a public channel's web preview (`t.me/s/NAME`),
//!   paged with `?before=`, incremental by message id (the `telegram-preview` source of
//!   `vigie run`), fetched directly or through any [`PageFetcher`] (Tor, in `vigie run`).
//!   Each post keeps its own words, reply target, forward origin, signature, [`Link`]s,
//!   [`Poll`], documents (size as shown) and [`Media`]; service messages are counted apart.
//! - [`tme_reference`]: the channel or private invite a `t.me` link names (candidate sources).
//!
//! - [`collector`]: the live collector's logic over a [`collector::TelegramSource`]: request
//!   budget, FLOOD_WAIT honoured in full (long ones pause the account), channel references
//!   resolved once, backfill (to a date or a count) then incremental reads, updates from the
//!   stream applied (taken, recorded as edits, or filled from history), attachment size cap.
//! - [`tl`]: pure conversions from the raw TL types `grammers` returns (`messages.getHistory`,
//!   channel updates) into [`TelegramMessage`] and [`tl::ChannelUpdate`].
//!
//! - [`live`]: the thin `grammers-client` adapter (login, the 0600 session file, resolve,
//!   history, downloads, the updates stream) implementing [`collector::TelegramSource`].
//!
//! - [`source`]: the pipeline sources built on the above, each a `vigie_pipeline::Source`
//!   with its typed config section: [`source::PreviewSource`] (`telegram-preview`),
//!   [`source::LiveChannels`] (`telegram`), [`source::ExportSource`] (`telegram-export`).
//!   They emit documents, checkpoints and candidate channels.
//!
//! Not for: matching or storing (the pipeline's recorder does both).
//!
//! # Example
//!
//! ```
//! let export = br#"{"name": "medleaks", "id": 77, "messages": [
//!   {"id": 5, "type": "message", "date_unixtime": "1795183391",
//!    "text": ["Vente base ", {"type": "bold", "text": "CHU"}, " 2 BTC"]}]}"#;
//! let parsed = vigie_telegram::parse_export(export).unwrap();
//! assert_eq!(parsed.messages[0].text, "Vente base CHU 2 BTC");
//! ```
#![deny(missing_docs)]

mod archive;
pub mod collector;
mod export;
mod fetch;
mod links;
pub mod live;
mod message;
mod preview;
pub mod source;
pub mod tl;

pub use archive::{extract, extract_with_post, ArchiveLimits, Extracted};
pub use export::{flatten_text, parse_export, Export};
pub use fetch::{Gap, PageFetcher, Polled, PreviewClient, PreviewCursor};
pub use links::{tme_reference, TmeRef};
pub use message::{Attachment, Link, LinkKind, Media, Poll, TelegramMessage};
pub use preview::{parse_count, parse_preview, PreviewPage};

/// What went wrong, by input.
#[derive(Debug, thiserror::Error)]
pub enum TelegramError {
    /// The export cannot be read as Telegram Desktop's JSON.
    #[error("invalid Telegram export: {0}")]
    Export(String),
    /// An archive was refused (limits, zip bomb) or is unreadable.
    #[error("archive refused: {0}")]
    Archive(String),
    /// The session file or the sign-in failed (never includes the session's keys).
    #[error("telegram session: {0}")]
    Session(String),
    /// A preview page could not be fetched (network, HTTP status, size cap): retry later.
    #[error("preview fetch failed: {0}")]
    Fetch(String),
    /// A Telegram API call failed (network, server): retry later.
    #[error("Telegram API: {0}")]
    Api(String),
}

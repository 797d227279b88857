//! Vigie's matcher: finds watched health-sector organisations, validated identifiers, data
//! samples and sale offers in text.
//!
//! Overview:
//! - [`Watchlist`] loads the `watchlists/*.toml` files ([`Entity`] is one organisation);
//!   [`lint()`] checks them, [`finess`] builds them from the official FINESS extract.
//! - [`Matcher`] compiles a watchlist once into a single Aho-Corasick automaton over every
//!   folded name, alias, domain and cue; it is `Sync`, share it across threads.
//! - [`Matcher::scan_text`], [`Matcher::scan_bytes`] and [`Matcher::scan_reader`] return a
//!   [`vigie_core::Report`]; large streams are scanned in overlapping [`Window`]s of bounded
//!   size, which can also be scanned in parallel and merged ([`Partial`]).
//!
//! The one big design decision: text is *normalised* before matching ([`normalize`]: case,
//! accents, compatibility forms, zero-width characters, entities, look-alike letters,
//! leetspeak, separators inside names), with every folded byte mapped back to its source
//! offset, and a name may only start at a word start of the original text and end at a word
//! end. That is what makes `M e d e c i n D i r e c t` and `Cerballiаnce` (Cyrillic `а`) hit,
//! and `cerba` inside `acerbate` miss.
//!
//! Severity follows a written rule ([`severity`]); offers are scored from cues ([`offer`]).
//! Raw identifiers never leave unmasked unless [`ScanOptions::reveal`] is set.
//!
//! Not for: fetching, storing or alerting — collectors feed this crate text, and the store
//! keeps what it returns.
//!
//! ```
//! use vigie_match::{Entity, Matcher, ScanOptions};
//! use vigie_core::{Category, IdentifierKind, Severity};
//!
//! let entity = Entity {
//!     id: "medecindirect".into(),
//!     name: "MédecinDirect".into(),
//!     category: Category::Telehealth,
//!     aliases: vec![],
//!     domains: vec!["medecindirect.fr".into()],
//!     finess: vec![],
//!     strict: false,
//!     strict_aliases: vec![],
//!     notify: vec![],
//! };
//! let matcher = Matcher::from_entities(vec![entity]).unwrap();
//! let post = "Vends base M E D E C I N - D I R E C T, 300k patients, échantillon:\n\
//!             nom;nir\nDupont;185057512345642\nMartin;285057512345611\nDurand;185057512345657\n\
//!             Prix 2 BTC, escrow ok.";
//! let report = matcher.scan_text("post.txt", post, ScanOptions::default());
//! assert_eq!(report.entities[0].id, "medecindirect");
//! assert!(report.leak_offer);
//! assert_eq!(report.severity, Severity::Critical);
//! // Masked unless revealed.
//! let nir = &report.identifiers[&IdentifierKind::Nir];
//! assert!(nir.examples.iter().all(|e| e.starts_with("* ** ** ** *** *")));
//! ```
#![deny(missing_docs)]

mod ascii_scan;
pub mod claim;
mod cues;
mod delimited;
mod error;
pub mod finess;
pub mod groups;
mod html;
mod identifiers;
mod jsonrows;
mod lexicon;
mod lint;
pub mod near_dup;
pub mod normalize;
pub mod offer;
mod sample;
mod scan;
pub mod severity;
mod sqldump;
mod table;
pub mod translit;
pub mod validate;
mod watchlist;

pub use cues::{Cue, CueKind, CARE_WORDS, CUES};
pub use delimited::{decode, sniff, Sniffed};
pub use error::MatchError;
pub use html::{html_to_text, looks_like_html};
pub use lint::{lint, Level, LintIssue, COMMON_WORDS, MIN_LOOSE_LEN};
pub use scan::{
    document_text, Matcher, Partial, ScanOptions, Window, WindowReader, MAX_HTML_BYTES,
    OVERLAP_BYTES, WINDOW_BYTES,
};
#[doc(hidden)]
pub use table::bench as row_bench;
pub use table::{header_kind, scan_rows, RowScan};
pub use watchlist::{watchlist_files, Entity, Exclusion, Watchlist};

//! Vigie's file sources, for files that reach Vigie from outside a collector.
//!
//! - [`FilesSource`]: the files named to `vigie ingest` (directories walked, sorted), read
//!   once each within a size limit; a finite source.
//! - [`SpoolSource`]: the spool directory of `vigie run`. Files dropped in (written under a
//!   name starting with `.` and renamed when complete) are emitted with a receipt: a file is
//!   removed once its document is stored (or published to the bus), and moved to
//!   `rejected/` with a `NAME.reason` beside it when it cannot be read or recorded.
//!
//! Both emit documents matched on the text vigie-unpack finds in archives, workbooks and PDFs
//! ([`vigie_pipeline::MatchText::Unpack`]). Not here: matching and storing (the recorder).
//!
//! ```no_run
//! use vigie_files::{FilesSource, FilesOptions};
//! let source = FilesSource::new(vec!["dump/".into()], FilesOptions::default());
//! let report = source.report(); // files read, skipped and failed, once it has run
//! # let _ = (source, report);
//! ```

mod files;
mod spool;

pub use files::{collect_files, read_bounded, FilesOptions, FilesReport, FilesSource};
pub use spool::{SpoolConfig, SpoolSource, REJECTED_DIR};

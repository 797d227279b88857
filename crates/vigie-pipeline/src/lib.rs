//! Vigie's pipeline: sources → recorder → store, in one process or across machines.
//!
//! - [`Source`]: a collector (Tor sites, Telegram channels, the spool, files, an export). It
//!   runs on a thread with a [`SourceContext`] that gives it an output channel, the stop
//!   signal and its checkpoints; it never sees the matcher nor the store.
//! - [`Event`]: what sources emit — documents with their sighting, checkpoints, health records,
//!   candidate sources. Plain data: the same values go through a channel or over the bus.
//! - [`Supervisor`]: runs the sources, restarts one that fails (with backoff) and records the
//!   failure as a health record.
//! - [`Recorder`]: a matcher pool and the single store writer, many sightings per RocksDB write.
//!
//! Not here: fetching (the source crates), matching rules (vigie-match), storage (vigie-store),
//! delivery of alerts (vigie-alerts), the bus transport (vigie-bus).
//!
//! ```no_run
//! use std::sync::Arc;
//! use std::time::Duration;
//! use vigie_pipeline::{Recorder, RecorderOptions, Shutdown, Supervisor, SupervisorOptions};
//! # fn sources() -> Vec<Box<dyn vigie_pipeline::Source>> { Vec::new() }
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut store = vigie_store::Store::open(std::path::Path::new("storage"))?;
//! let matcher = Arc::new(vigie_match::Matcher::from_entities(vec![])?);
//! let recorder = Recorder::new(matcher, Arc::new(vigie_store::NoAlerts), RecorderOptions::default());
//! let (supervisor, events) = Supervisor::start(
//!     sources(),
//!     Arc::new(store.reader()),
//!     Shutdown::new(),
//!     SupervisorOptions::default(),
//! )?;
//! while !events.is_disconnected() || !events.is_empty() {
//!     let batch = recorder.next_batch(&events, Duration::from_millis(200));
//!     recorder.record(&mut store, batch)?;
//! }
//! supervisor.stop(Duration::from_secs(5));
//! # Ok(()) }
//! ```

pub mod bus;
mod event;
mod recorder;
mod source;
mod supervisor;

pub use event::{Document, Event, MatchText, Pending, Receipt};
pub use recorder::{
    text_to_match, BatchOutcome, Outcome, RecordError, Recorder, RecorderOptions, StoreSlot,
};
pub use source::{
    Checkpoints, NoCheckpoints, Shutdown, Source, SourceContext, SourceError, Stopped,
};
pub use supervisor::{Backoff, Supervisor, SupervisorOptions};

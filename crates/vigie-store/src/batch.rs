//! Recording many sightings in one call: the store writer of a pipeline batches documents.

use vigie_core::Analysis;

use crate::alerts::AlertPolicy;
use crate::error::StoreError;
use crate::model::Sighting;
use crate::store::{Recorded, Store};

/// One document of a [`Store::record_batch`] call: the same arguments as
/// [`Store::record_alerting`].
#[derive(Debug, Clone, Copy)]
pub struct BatchItem<'a> {
    /// The document's original bytes.
    pub content: &'a [u8],
    /// Where and when it was seen.
    pub sighting: &'a Sighting,
    /// The matcher's analysis; required when the content is new to the store (and not
    /// earlier in the same batch).
    pub analysis: Option<&'a Analysis>,
}

impl Store {
    /// Records `items` in order, with the same results as calling
    /// [`Store::record_alerting`] on each one in turn: an item sees the state left by the
    /// items before it (the same content twice is one snapshot and a repeat sighting; an
    /// incident opened by an earlier item is joined).
    ///
    /// Atomicity: this first version writes one batch per item, so an error stops at the
    /// failing item with the earlier ones written. (To become all-or-nothing: one write.)
    pub fn record_batch(
        &mut self,
        items: &[BatchItem<'_>],
        policy: &dyn AlertPolicy,
    ) -> Result<Vec<Recorded>, StoreError> {
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            out.push(self.record_alerting(item.content, item.sighting, item.analysis, policy)?);
        }
        Ok(out)
    }
}

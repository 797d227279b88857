//! Vigie's incidents in the formats of the CERT's tools: MISP events ([`misp_event`], MISP
//! core format) and STIX 2.1 bundles ([`stix_bundle`]).
//!
//! Both carry what the alerts carry and nothing more: organisations, severity and reasons,
//! masked identifier **counts**, sample size, offer cues, where and when it was seen, and the
//! SHA-256 of each evidence snapshot. No raw identifier, sample row or post text. Ids are
//! deterministic (UUID v5 of the incident and the object), so exporting twice updates rather
//! than duplicates in MISP or a TIP.
//!
//! Not for: fetching from or pushing to MISP (the output is a file an analyst imports).
//!
//! # Example
//!
//! ```
//! use vigie_export::{misp_event, ExportedIncident};
//! use vigie_store::{Incident, Timestamp};
//!
//! let incident = Incident {
//!     id: 7, opened_at: Timestamp(0), first_seen: Timestamp(0), last_seen: Timestamp(0),
//!     severity: vigie_core::Severity::High, why: vec!["leak offer".into()], entities: vec![],
//!     identifiers: Default::default(), sample_rows: 0, leak_offer: true, kind: vigie_core::DocumentKind::Sale, cues: vec![],
//!     topics: vec![], snapshots: vec![], sightings: 0, sources: vec![], merged_into: None,
//! };
//! let event = misp_event(&ExportedIncident { incident, sightings: vec![], sizes: vec![] });
//! assert_eq!(event["Event"]["threat_level_id"], "1");
//! ```
#![deny(missing_docs)]

mod misp;
mod stix;

pub use misp::misp_event;
pub use stix::stix_bundle;

use vigie_store::{Incident, SightingRecord, Store, StoreError};

/// An incident with what the exports need from the store.
#[derive(Debug, Clone)]
pub struct ExportedIncident {
    /// The incident.
    pub incident: Incident,
    /// Its sightings (places and times).
    pub sightings: Vec<SightingRecord>,
    /// Sizes of its snapshots, in the order of `incident.snapshots`.
    pub sizes: Vec<u64>,
}

/// Reads an incident and its sightings from the store.
pub fn load(store: &Store, id: u64) -> Result<Option<ExportedIncident>, StoreError> {
    let Some(incident) = store.incident(id)? else {
        return Ok(None);
    };
    let sightings = store.incident_sightings(&incident)?;
    let mut sizes = Vec::new();
    for h in &incident.snapshots {
        let size = match vigie_store::parse_hash(h) {
            Some(hash) => store.snapshot_record(&hash)?.map_or(0, |r| r.size),
            None => 0,
        };
        sizes.push(size);
    }
    Ok(Some(ExportedIncident {
        incident,
        sightings,
        sizes,
    }))
}

/// The namespace of Vigie's deterministic ids.
const NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x5b1f_2c3e_9a4d_4e6f_8a7b_1c2d_3e4f_5a6b);

/// A stable UUID for a named object.
pub(crate) fn stable_uuid(name: &str) -> String {
    uuid::Uuid::new_v5(&NAMESPACE, name.as_bytes()).to_string()
}

/// Counts of valid identifiers, as `NIR: 59, phone: 60`.
pub(crate) fn identifier_summary(incident: &Incident) -> String {
    incident
        .identifiers
        .iter()
        .filter(|(_, c)| c.valid > 0)
        .map(|(k, c)| format!("{}: {}", k.label(), c.valid))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One line about the incident.
pub(crate) fn title(incident: &Incident) -> String {
    let orgs = if incident.entities.is_empty() {
        "unnamed organisation".to_string()
    } else {
        incident
            .entities
            .iter()
            .map(|e| e.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let what = match incident.kind {
        vigie_core::DocumentKind::RansomwareClaim => "ransomware claim",
        vigie_core::DocumentKind::FreeDump => "data dumped for free",
        _ if incident.leak_offer => "data offered for sale",
        _ => "data exposed",
    };
    format!("Vigie incident {}: {orgs}: {what}", incident.id)
}

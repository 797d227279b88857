//! STIX 2.1: a bundle with, per incident, a report, an identity for each organisation,
//! observed-data over the evidence files and places, and a note with the summary.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use vigie_store::{Locator, Timestamp};

use crate::{identifier_summary, stable_uuid, title, ExportedIncident};

/// TLP:AMBER, as the STIX 2.1 specification defines it.
const TLP_AMBER: &str = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82";

fn id(kind: &str, name: &str) -> String {
    format!("{kind}--{}", stable_uuid(&format!("stix/{kind}/{name}")))
}

/// A bundle of the incidents, with Vigie's identity as the producer.
pub fn stix_bundle(incidents: &[ExportedIncident], now: Timestamp) -> Value {
    let created = now.to_string();
    let vigie = id("identity", "vigie");
    let mut objects: Vec<Value> = vec![json!({
        "type": "identity", "spec_version": "2.1", "id": vigie,
        "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
        "name": "Vigie (CERT Santé)", "identity_class": "system", "sectors": ["healthcare"],
    })];
    let mut organisations: BTreeMap<String, Value> = BTreeMap::new();
    for e in incidents {
        let i = &e.incident;
        let mut refs = Vec::new();
        for entity in &i.entities {
            let oid = id("identity", &entity.id);
            organisations.entry(entity.id.clone()).or_insert_with(|| {
                json!({
                    "type": "identity", "spec_version": "2.1", "id": oid,
                    "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
                    "name": entity.name, "identity_class": "organization",
                    "sectors": ["healthcare"],
                    "description": format!("Watchlist id {} ({})", entity.id, entity.category.as_str()),
                })
            });
            refs.push(oid);
        }
        let mut observables = Vec::new();
        for (hash, size) in i
            .snapshots
            .iter()
            .zip(e.sizes.iter().chain(std::iter::repeat(&0)))
        {
            let fid = id("file", hash);
            objects.push(json!({
                "type": "file", "spec_version": "2.1", "id": fid,
                "hashes": {"SHA-256": hash}, "size": size,
                "name": format!("vigie-snapshot-{}.bin", &hash[..hash.len().min(16)]),
            }));
            observables.push(fid);
        }
        for s in &e.sightings {
            if let Locator::Url { url } = &s.locator {
                let uid = id("url", url);
                if !observables.contains(&uid) {
                    objects.push(
                        json!({"type": "url", "spec_version": "2.1", "id": uid, "value": url}),
                    );
                    observables.push(uid);
                }
            }
        }
        let report_id = id("report", &i.id.to_string());
        if !observables.is_empty() {
            let od = id("observed-data", &i.id.to_string());
            objects.push(json!({
                "type": "observed-data", "spec_version": "2.1", "id": od,
                "created": created, "modified": created, "created_by_ref": vigie,
                "first_observed": i.first_seen.to_string(),
                "last_observed": i.last_seen.max(i.first_seen).to_string(),
                "number_observed": i.sightings.max(1),
                "object_refs": observables,
                "object_marking_refs": [TLP_AMBER],
            }));
            refs.push(od);
        }
        let summary = identifier_summary(i);
        let note = id("note", &i.id.to_string());
        objects.push(json!({
            "type": "note", "spec_version": "2.1", "id": note,
            "created": created, "modified": created, "created_by_ref": vigie,
            "abstract": format!("Severity {}: {}", i.severity.as_str(), i.why.join("; ")),
            "content": format!(
                "{}.{}{} Offer cues: {}. Sources: {}. Raw samples stay in Vigie's evidence store; no identifier value is exported.",
                title(i),
                if summary.is_empty() { String::new() } else { format!(" Valid identifiers in samples (counts only): {summary}.") },
                if i.sample_rows > 0 { format!(" Sample of about {} rows.", i.sample_rows) } else { String::new() },
                if i.cues.is_empty() { "none".to_string() } else { i.cues.join(", ") },
                i.sources.join(", "),
            ),
            "object_refs": [report_id],
            "object_marking_refs": [TLP_AMBER],
        }));
        refs.push(note);
        objects.push(json!({
            "type": "report", "spec_version": "2.1", "id": report_id,
            "created": created, "modified": created, "created_by_ref": vigie,
            "name": title(i),
            "description": format!("Severity {}. First seen {}, last seen {}, {} sighting(s).",
                i.severity.as_str(), i.first_seen, i.last_seen, i.sightings),
            "report_types": ["threat-report"],
            "published": i.first_seen.to_string(),
            "labels": [
                format!("severity:{}", i.severity.as_str()),
                "sector:health".to_string(),
                format!("kind:{}", i.kind.as_str()),
            ],
            "object_refs": refs,
            "object_marking_refs": [TLP_AMBER],
        }));
    }
    objects.extend(organisations.into_values());
    json!({
        "type": "bundle",
        "id": format!("bundle--{}", stable_uuid(&format!("stix/bundle/{created}"))),
        "objects": objects,
    })
}

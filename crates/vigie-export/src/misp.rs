//! MISP core format: one Event with Attributes and Objects.

use serde_json::{json, Value};
use vigie_core::Severity;
use vigie_store::{Locator, SourceKind};

use crate::{identifier_summary, stable_uuid, title, ExportedIncident};

fn date(t: vigie_store::Timestamp) -> String {
    t.to_string().get(..10).unwrap_or("1970-01-01").to_string()
}

fn attribute(
    incident: u64,
    kind: &str,
    category: &str,
    value: &str,
    comment: &str,
    to_ids: bool,
) -> Value {
    json!({
        "uuid": stable_uuid(&format!("misp-attribute/{incident}/{kind}/{value}")),
        "type": kind,
        "category": category,
        "value": value,
        "comment": comment,
        "to_ids": to_ids,
        "distribution": "5",
    })
}

/// The incident as a MISP event (`{"Event": {...}}`), importable with MISP's "Add event from
/// JSON" or PyMISP's `MISPEvent.load`.
pub fn misp_event(e: &ExportedIncident) -> Value {
    let i = &e.incident;
    let threat_level = match i.severity {
        Severity::Critical | Severity::High => "1",
        Severity::Medium => "2",
        Severity::Low => "3",
        Severity::Info => "4",
    };
    let mut attributes = Vec::new();
    for entity in &i.entities {
        attributes.push(attribute(
            i.id,
            "target-org",
            "Targeting data",
            &entity.name,
            &format!("watchlist id {}, {}", entity.id, entity.category.as_str()),
            false,
        ));
    }
    let summary = identifier_summary(i);
    attributes.push(attribute(
        i.id,
        "text",
        "Other",
        &format!(
            "{}. Severity {}: {}.{}{}",
            title(i),
            i.severity.as_str(),
            i.why.join("; "),
            if summary.is_empty() {
                String::new()
            } else {
                format!(" Valid identifiers in samples (counts only): {summary}.")
            },
            if i.sample_rows > 0 {
                format!(" Sample of about {} rows.", i.sample_rows)
            } else {
                String::new()
            }
        ),
        "summary",
        false,
    ));
    for (kind, count) in i.identifiers.iter().filter(|(_, c)| c.valid > 0) {
        attributes.push(attribute(
            i.id,
            "counter",
            "Other",
            &count.valid.to_string(),
            &format!("valid {} in samples (no value exported)", kind.label()),
            false,
        ));
    }
    if !i.cues.is_empty() {
        attributes.push(attribute(
            i.id,
            "text",
            "Other",
            &i.cues.join(", "),
            "offer cues",
            false,
        ));
    }
    attributes.push(attribute(
        i.id,
        "datetime",
        "Other",
        &i.first_seen.to_string(),
        "first seen",
        false,
    ));
    attributes.push(attribute(
        i.id,
        "datetime",
        "Other",
        &i.last_seen.to_string(),
        "last seen",
        false,
    ));
    for s in &e.sightings {
        let kind = SourceKind::of(&s.locator, &i.topics);
        match &s.locator {
            Locator::Url { url } => attributes.push(attribute(
                i.id,
                "url",
                "External analysis",
                url,
                &format!(
                    "{} {} ({} sightings)",
                    kind.as_str(),
                    s.source,
                    s.times_seen
                ),
                false,
            )),
            Locator::Message {
                channel,
                message_id,
            } => attributes.push(attribute(
                i.id,
                "text",
                "External analysis",
                &format!("{channel}/{message_id}"),
                &format!("telegram message, source {}", s.source),
                false,
            )),
            Locator::File { .. } => {}
        }
    }
    let objects: Vec<Value> = i
        .snapshots
        .iter()
        .zip(e.sizes.iter().chain(std::iter::repeat(&0)))
        .map(|(hash, size)| {
            json!({
                "uuid": stable_uuid(&format!("misp-object/{}/{hash}", i.id)),
                "name": "file",
                "meta-category": "file",
                "description": "Evidence snapshot kept in Vigie's store",
                "template_uuid": "688c46fb-5edb-40a3-8273-1af7923e2215",
                "template_version": "24",
                "distribution": "5",
                "comment": "evidence snapshot (raw bytes stay in the evidence store)",
                "Attribute": [
                    {"uuid": stable_uuid(&format!("misp-object/{}/{hash}/sha256", i.id)),
                     "object_relation": "sha256", "type": "sha256", "category": "Payload delivery",
                     "value": hash, "to_ids": false, "distribution": "5"},
                    {"uuid": stable_uuid(&format!("misp-object/{}/{hash}/size", i.id)),
                     "object_relation": "size-in-bytes", "type": "size-in-bytes", "category": "Other",
                     "value": size.to_string(), "to_ids": false, "distribution": "5"},
                ],
            })
        })
        .collect();
    json!({
        "Event": {
            "uuid": stable_uuid(&format!("misp-event/{}", i.id)),
            "info": title(i),
            "date": date(i.first_seen),
            "timestamp": i.last_seen.unix_seconds().to_string(),
            "published": false,
            "threat_level_id": threat_level,
            "analysis": "1",
            "distribution": "0",
            "Tag": [
                {"name": "tlp:amber"},
                {"name": "misp-galaxy:sector=\"Health\""},
                {"name": format!("vigie:severity=\"{}\"", i.severity.as_str())},
                {"name": format!("vigie:kind=\"{}\"", i.kind.as_str())},
            ],
            "Attribute": attributes,
            "Object": objects,
        }
    })
}

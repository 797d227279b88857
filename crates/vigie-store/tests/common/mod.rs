//! Shared by the store's alert, batch and regrouping tests: three watched hospitals, a
//! policy that alerts on every change, and a sale post.
#![allow(dead_code)]

use vigie_core::Category;
use vigie_match::{Entity, Matcher, ScanOptions};
use vigie_store::*;

/// Alerts one recipient about everything, every time the incident changes.
pub struct Everything;

impl AlertPolicy for Everything {
    fn decide(&self, incident: &Incident, previous: &[AlertMark]) -> Vec<AlertDecision> {
        vec![AlertDecision {
            recipient: "cert".into(),
            reason: format!(
                "change after {} marks, severity {}",
                previous.len(),
                incident.severity
            ),
        }]
    }
}

pub fn matcher() -> Matcher {
    let entity = |id: &str, name: &str| Entity {
        id: id.into(),
        name: name.into(),
        category: Category::Hospital,
        aliases: vec![],
        domains: vec![],
        finess: vec![],
        strict: false,
        strict_aliases: vec![],
        notify: vec![],
    };
    Matcher::from_entities(vec![
        entity("chu-nantes", "CHU de Nantes"),
        entity("chu-rennes", "CHU de Rennes"),
        entity("hcl", "Hospices Civils de Lyon"),
    ])
    .unwrap()
}

pub fn sighting(url: &str) -> Sighting {
    Sighting {
        source: "forum".into(),
        locator: Locator::Url { url: url.into() },
        fetched_at: Timestamp::now(),
        collector: "test".into(),
        details: Default::default(),
    }
}

pub fn record(store: &mut Store, m: &Matcher, text: &str, url: &str) -> Recorded {
    let analysis = m.analyze("t", text.as_bytes(), ScanOptions::default());
    store
        .record_alerting(
            text.as_bytes(),
            &sighting(url),
            Some(&analysis),
            &Everything,
        )
        .unwrap()
}

pub fn sale(org: &str, salt: &str) -> String {
    format!(
        "[VENTE] Base patients {org} — extraction complète {salt}\n\
         Je vends la base patients du {org}, 300 000 dossiers avec NIR, adresse, téléphone.\n\
         nom;prenom;nir;telephone\n\
         ROBERT;Jean;176024439046178;0673383683\n\
         DUPONT;Nadia;146084431278175;0610282669\n\
         SIMON;Jean;286044401602373;0613415285\n\
         Prix : 5000 USD en BTC, contact @seller_{salt}\n"
    )
}

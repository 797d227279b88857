//! The digest's words, in French (default) and English.

use vigie_alerts::Language;
use vigie_core::{Category, IdentifierKind, Severity};
use vigie_store::TriageState;

/// A severity's name.
pub fn severity(s: Severity, lang: Language) -> &'static str {
    match (s, lang) {
        (Severity::Critical, Language::Fr) => "critique",
        (Severity::High, Language::Fr) => "élevée",
        (Severity::Medium, Language::Fr) => "moyenne",
        (Severity::Low, Language::Fr) => "faible",
        (Severity::Info, Language::Fr) => "info",
        (s, Language::En) => s.as_str(),
    }
}

/// A category's name.
pub fn category(c: Category, lang: Language) -> &'static str {
    match (c, lang) {
        (Category::Hospital, Language::Fr) => "hôpitaux",
        (Category::ClinicGroup, Language::Fr) => "cliniques",
        (Category::Lab, Language::Fr) => "laboratoires",
        (Category::SoftwareVendor, Language::Fr) => "éditeurs de logiciels",
        (Category::Telehealth, Language::Fr) => "télésanté",
        (Category::Pharmacy, Language::Fr) => "pharmacies",
        (Category::Insurer, Language::Fr) => "assureurs et caisses",
        (Category::Agency, Language::Fr) => "agences et autorités",
        (Category::Pharma, Language::Fr) => "industrie pharmaceutique",
        (Category::Other, Language::Fr) => "autres",
        (Category::Hospital, Language::En) => "hospitals",
        (Category::ClinicGroup, Language::En) => "clinic groups",
        (Category::Lab, Language::En) => "laboratories",
        (Category::SoftwareVendor, Language::En) => "software vendors",
        (Category::Telehealth, Language::En) => "telehealth",
        (Category::Pharmacy, Language::En) => "pharmacies",
        (Category::Insurer, Language::En) => "insurers",
        (Category::Agency, Language::En) => "agencies",
        (Category::Pharma, Language::En) => "pharmaceutical companies",
        (Category::Other, Language::En) => "other",
    }
}

/// An identifier kind's name.
pub fn identifier(k: IdentifierKind, lang: Language) -> &'static str {
    match (k, lang) {
        (IdentifierKind::Phone, Language::Fr) => "téléphones",
        (IdentifierKind::HealthEmail, Language::Fr) => "e-mails santé",
        (IdentifierKind::Credential, Language::Fr) => "identifiants de connexion",
        (k, _) => k.label(),
    }
}

/// A triage state's name.
pub fn triage(t: TriageState, lang: Language) -> &'static str {
    match (t, lang) {
        (TriageState::New, Language::Fr) => "nouveau",
        (TriageState::Acknowledged, Language::Fr) => "pris en charge",
        (TriageState::FalsePositive, Language::Fr) => "faux positif",
        (TriageState::Suppressed, Language::Fr) => "écarté (ressemble à un faux positif)",
        (TriageState::New, Language::En) => "new",
        (TriageState::Acknowledged, Language::En) => "acknowledged",
        (TriageState::FalsePositive, Language::En) => "false positive",
        (TriageState::Suppressed, Language::En) => "suppressed (looks like a false positive)",
    }
}

/// Fixed phrases.
#[allow(missing_docs)]
pub struct Words {
    pub title: &'static str,
    pub week: &'static str,
    pub generated: &'static str,
    pub headline: &'static str,
    pub new_incidents: &'static str,
    pub previous_week: &'static str,
    pub organisations: &'static str,
    pub identifiers: &'static str,
    pub identifiers_note: &'static str,
    pub sources: &'static str,
    pub sources_active: &'static str,
    pub incidents: &'static str,
    pub no_incident: &'static str,
    pub col_id: &'static str,
    pub col_org: &'static str,
    pub col_category: &'static str,
    pub col_source: &'static str,
    pub col_first_seen: &'static str,
    pub col_severity: &'static str,
    pub col_triage: &'static str,
    pub col_evidence: &'static str,
    pub details: &'static str,
    pub offered: &'static str,
    pub offer_yes: &'static str,
    pub offer_no: &'static str,
    pub sample: &'static str,
    pub rows: &'static str,
    pub where_: &'static str,
    pub when: &'static str,
    pub cues: &'static str,
    pub trends: &'static str,
    pub by_severity: &'static str,
    pub by_category: &'static str,
    pub health: &'static str,
    pub quiet: &'static str,
    pub no_quiet: &'static str,
    pub quiet_telegram: &'static str,
    pub collector_health: &'static str,
    pub unnamed: &'static str,
    pub sightings: &'static str,
    pub footer: &'static str,
}

/// The phrases of a language.
pub fn words(lang: Language) -> Words {
    match lang {
        Language::Fr => Words {
            title: "Vigie — synthèse hebdomadaire de la menace",
            week: "Semaine",
            generated: "Produit le",
            headline: "Chiffres clés",
            new_incidents: "Nouveaux incidents",
            previous_week: "semaine précédente",
            organisations: "Organisations concernées",
            identifiers: "Identifiants exposés",
            identifiers_note: "nombres d'identifiants valides dans les échantillons ; aucune valeur n'est reproduite",
            sources: "Sources",
            sources_active: "sources actives (au moins une observation)",
            incidents: "Incidents de la semaine",
            no_incident: "Aucun nouvel incident cette semaine.",
            col_id: "n°",
            col_org: "Organisation",
            col_category: "Catégorie",
            col_source: "Type de source",
            col_first_seen: "Première observation",
            col_severity: "Gravité",
            col_triage: "Traitement",
            col_evidence: "Empreinte de la preuve (SHA-256)",
            details: "Incidents critiques et élevés",
            offered: "Ce qui est proposé",
            offer_yes: "mise en vente",
            offer_no: "exposition sans offre explicite",
            sample: "Échantillon",
            rows: "lignes",
            where_: "Où",
            when: "Quand",
            cues: "Indices",
            trends: "Tendances sur 8 semaines",
            by_severity: "Nouveaux incidents par gravité",
            by_category: "Nouveaux incidents par catégorie d'organisation",
            health: "Santé des sources",
            quiet: "Sources actives les semaines précédentes et silencieuses cette semaine",
            no_quiet: "Aucune source n'est devenue silencieuse.",
            quiet_telegram: "dont canaux Telegram",
            collector_health: "Les échecs de collecte et les analyseurs qui ne trouvent plus rien sont rapportés ici dès que les collecteurs Tor et Telegram les enregistrent.",
            unnamed: "organisation non nommée",
            sightings: "observations",
            footer: "TLP:AMBER — diffusion limitée aux destinataires et à leur organisation. Les identifiants personnels ne figurent jamais dans ce document ; les preuves sont conservées dans le magasin de preuves de Vigie.",
        },
        Language::En => Words {
            title: "Vigie — weekly threat digest",
            week: "Week",
            generated: "Generated",
            headline: "Headline figures",
            new_incidents: "New incidents",
            previous_week: "previous week",
            organisations: "Organisations concerned",
            identifiers: "Identifiers exposed",
            identifiers_note: "counts of valid identifiers in samples; no value is reproduced",
            sources: "Sources",
            sources_active: "active sources (at least one sighting)",
            incidents: "This week's incidents",
            no_incident: "No new incident this week.",
            col_id: "#",
            col_org: "Organisation",
            col_category: "Category",
            col_source: "Source kind",
            col_first_seen: "First seen",
            col_severity: "Severity",
            col_triage: "Triage",
            col_evidence: "Evidence hash (SHA-256)",
            details: "Critical and high incidents",
            offered: "What is offered",
            offer_yes: "offered for sale",
            offer_no: "exposed, no explicit offer",
            sample: "Sample",
            rows: "rows",
            where_: "Where",
            when: "When",
            cues: "Cues",
            trends: "8-week trends",
            by_severity: "New incidents by severity",
            by_category: "New incidents by organisation category",
            health: "Source health",
            quiet: "Sources active in previous weeks and silent this week",
            no_quiet: "No source went quiet.",
            quiet_telegram: "of which Telegram channels",
            collector_health: "Collection failures and parsers that stop finding anything are reported here once the Tor and Telegram collectors record them.",
            unnamed: "unnamed organisation",
            sightings: "sightings",
            footer: "TLP:AMBER — limited to the recipients and their organisations. Personal identifiers never appear in this document; evidence is kept in Vigie's evidence store.",
        },
    }
}

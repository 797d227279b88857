//! What a recipient receives: the versioned JSON payload (`ops/schemas/alert-v1.schema.json`)
//! or a chat message. Built only from the incident's masked counts: no raw identifier, sample
//! row or post text is ever put in a payload.

use serde::Serialize;
use vigie_core::{IdentifierKind, Severity, Topic};
use vigie_store::{AlertRecord, Locator, SourceKind};

use crate::{Format, Language, RecipientConfig};

/// The payload schema id, bumped on any incompatible change.
pub const SCHEMA: &str = "vigie.alert/1";

/// The idempotency key of an alert: the same for every attempt, so a receiver that got it
/// already (an answer lost to a timeout) can drop the repeat.
pub fn idempotency_key(alert: u64) -> String {
    format!("vigie-alert-{alert}")
}

/// The source kind label in a language.
pub fn source_kind_label(kind: SourceKind, lang: Language) -> &'static str {
    match (kind, lang) {
        (SourceKind::TorForum, Language::Fr) => "forum Tor",
        (SourceKind::TorForum, Language::En) => "Tor forum",
        (SourceKind::LeakSite, Language::Fr) => "site de fuite rançongiciel",
        (SourceKind::LeakSite, Language::En) => "ransomware leak site",
        (SourceKind::Telegram, _) => "Telegram",
        (SourceKind::Web, _) => "web",
        (SourceKind::File, Language::Fr) => "fichier importé",
        (SourceKind::File, Language::En) => "imported file",
    }
}

fn kind_of(alert: &AlertRecord) -> SourceKind {
    SourceKind::of(&alert.trigger.locator, &alert.incident.topics)
}

/// Defangs a URL so that no client follows it by accident: `hxxp://abc[.]onion/t/1`.
pub fn defang(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((s, r)) => (s, r),
        None => return url.replace('.', "[.]"),
    };
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "http" => "hxxp".to_string(),
        "https" => "hxxps".to_string(),
        other => other.replace('t', "x"),
    };
    let split = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (host, tail) = rest.split_at(split);
    format!("{scheme}://{}{tail}", host.replace('.', "[.]"))
}

/// Keeps only examples that are masked (hold `*`): a defence in depth if an analysis made
/// with `--reveal` ever reached the store.
fn masked_examples(examples: &[String]) -> Vec<String> {
    examples
        .iter()
        .filter(|e| e.contains('*'))
        .take(3)
        .cloned()
        .collect()
}

#[derive(Serialize)]
struct Payload<'a> {
    schema: &'static str,
    alert_id: u64,
    idempotency_key: String,
    revision: u32,
    reason: &'a str,
    created_at: String,
    tlp: String,
    language: Language,
    summary: String,
    incident: IncidentPart<'a>,
    entities: Vec<EntityPart<'a>>,
    source: SourcePart,
    identifiers: Vec<IdentifierPart>,
    sample_rows: u64,
    offer: OfferPart<'a>,
    topics: &'a [Topic],
    evidence: EvidencePart<'a>,
}

#[derive(Serialize)]
struct IncidentPart<'a> {
    id: u64,
    severity: Severity,
    why: &'a [String],
    first_seen: String,
    last_seen: String,
    sightings: u64,
    sources: &'a [String],
}

#[derive(Serialize)]
struct EntityPart<'a> {
    id: &'a str,
    name: &'a str,
    category: vigie_core::Category,
}

#[derive(Serialize)]
struct SourcePart {
    kind: SourceKind,
    name: String,
    collector: String,
    location: String,
}

#[derive(Serialize)]
struct IdentifierPart {
    kind: IdentifierKind,
    valid: u64,
    invalid: u64,
    examples: Vec<String>,
}

#[derive(Serialize)]
struct OfferPart<'a> {
    leak_offer: bool,
    cues: &'a [String],
}

#[derive(Serialize)]
struct EvidencePart<'a> {
    sha256: &'a str,
    snapshots: usize,
}

/// The body sent to `recipient` for `alert`, in the recipient's format and language.
pub fn render(alert: &AlertRecord, recipient: &RecipientConfig) -> Vec<u8> {
    let lang = recipient.language;
    let body = match recipient.format {
        Format::Json => serde_json::to_vec(&json_payload(alert, recipient)),
        Format::Chat => serde_json::to_vec(&serde_json::json!({
            "username": "Vigie",
            "text": chat_text(alert, recipient, lang),
        })),
    };
    // Serialising plain structs and strings cannot fail.
    body.unwrap_or_default()
}

fn location(alert: &AlertRecord) -> String {
    place(&alert.trigger.locator)
}

/// Where something was seen, as it may be shared: a defanged URL, `channel/message`, or
/// `file:NAME` (only the file name: local paths can say more than the CERT means to share).
pub fn place(locator: &Locator) -> String {
    match locator {
        Locator::Url { url } => defang(url),
        Locator::Message {
            channel,
            message_id,
        } => format!("{channel}/{message_id}"),
        Locator::File { path } => {
            let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
            format!("file:{name}")
        }
    }
}

fn json_payload<'a>(alert: &'a AlertRecord, recipient: &RecipientConfig) -> Payload<'a> {
    let i = &alert.incident;
    Payload {
        schema: SCHEMA,
        alert_id: alert.id,
        idempotency_key: idempotency_key(alert.id),
        revision: alert.revision,
        reason: &alert.reason,
        created_at: alert.created_at.to_string(),
        tlp: recipient.tlp.to_string(),
        language: recipient.language,
        summary: summary(alert, recipient.language),
        incident: IncidentPart {
            id: i.id,
            severity: i.severity,
            why: &i.why,
            first_seen: i.first_seen.to_string(),
            last_seen: i.last_seen.to_string(),
            sightings: i.sightings,
            sources: &i.sources,
        },
        entities: i
            .entities
            .iter()
            .map(|e| EntityPart {
                id: &e.id,
                name: &e.name,
                category: e.category,
            })
            .collect(),
        source: SourcePart {
            kind: kind_of(alert),
            name: alert.trigger.source.clone(),
            collector: alert.trigger.collector.clone(),
            location: location(alert),
        },
        identifiers: i
            .identifiers
            .iter()
            .filter(|(_, c)| !c.is_empty())
            .map(|(kind, c)| IdentifierPart {
                kind: *kind,
                valid: c.valid,
                invalid: c.invalid,
                examples: masked_examples(&c.examples),
            })
            .collect(),
        sample_rows: i.sample_rows,
        offer: OfferPart {
            leak_offer: i.leak_offer,
            cues: &i.cues,
        },
        topics: &i.topics,
        evidence: EvidencePart {
            sha256: &alert.trigger.snapshot,
            snapshots: i.snapshots.len(),
        },
    }
}

fn severity_label(s: Severity, lang: Language) -> &'static str {
    match (s, lang) {
        (Severity::Critical, Language::Fr) => "CRITIQUE",
        (Severity::High, Language::Fr) => "ÉLEVÉE",
        (Severity::Medium, Language::Fr) => "MOYENNE",
        (Severity::Low, Language::Fr) => "FAIBLE",
        (Severity::Info, Language::Fr) => "INFO",
        (Severity::Critical, Language::En) => "CRITICAL",
        (Severity::High, Language::En) => "HIGH",
        (Severity::Medium, Language::En) => "MEDIUM",
        (Severity::Low, Language::En) => "LOW",
        (Severity::Info, Language::En) => "INFO",
    }
}

fn kind_label_fr(kind: IdentifierKind) -> &'static str {
    match kind {
        IdentifierKind::Phone => "téléphones",
        IdentifierKind::HealthEmail => "e-mails santé",
        IdentifierKind::Credential => "identifiants de connexion",
        other => other.label(),
    }
}

/// One sentence an analyst can read on a phone.
pub fn summary(alert: &AlertRecord, lang: Language) -> String {
    let i = &alert.incident;
    let orgs = if i.entities.is_empty() {
        match lang {
            Language::Fr => "organisation non nommée".to_string(),
            Language::En => "unnamed organisation".to_string(),
        }
    } else {
        i.entities
            .iter()
            .map(|e| e.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let what = match (i.leak_offer, lang) {
        (true, Language::Fr) => "données proposées à la vente",
        (false, Language::Fr) => "données exposées",
        (true, Language::En) => "data offered for sale",
        (false, Language::En) => "data exposed",
    };
    let mut counts: Vec<String> = i
        .identifiers
        .iter()
        .filter(|(_, c)| c.valid > 0)
        .map(|(k, c)| match lang {
            Language::Fr => format!("{} {} valides", c.valid, kind_label_fr(*k)),
            Language::En => format!("{} valid {}", c.valid, k.label()),
        })
        .collect();
    if i.sample_rows > 0 {
        counts.push(match lang {
            Language::Fr => format!("échantillon d'environ {} lignes", i.sample_rows),
            Language::En => format!("sample of about {} rows", i.sample_rows),
        });
    }
    let kind = source_kind_label(kind_of(alert), lang);
    let seen = i.first_seen.to_string();
    let date = seen.get(..10).unwrap_or(&seen);
    let counts = if counts.is_empty() {
        String::new()
    } else {
        format!(" ({})", counts.join(", "))
    };
    match lang {
        Language::Fr => format!(
            "[{}] {orgs} : {what}{counts}, vu sur {kind} « {} » depuis le {date}.",
            severity_label(i.severity, lang),
            alert.trigger.source
        ),
        Language::En => format!(
            "[{}] {orgs}: {what}{counts}, seen on {kind} \"{}\" since {date}.",
            severity_label(i.severity, lang),
            alert.trigger.source
        ),
    }
}

fn chat_text(alert: &AlertRecord, recipient: &RecipientConfig, lang: Language) -> String {
    let i = &alert.incident;
    let (incident_word, why_word, where_word, evidence_word) = match lang {
        Language::Fr => ("incident", "motif", "où", "preuve"),
        Language::En => ("incident", "why", "where", "evidence"),
    };
    format!(
        "*{}* Vigie — {} {} #{} (rev. {})\n{}\n• {why_word}: {}\n• {where_word}: `{}`\n• {evidence_word}: sha256 `{}`",
        recipient.tlp,
        severity_label(i.severity, lang),
        incident_word,
        i.id,
        alert.revision,
        summary(alert, lang),
        i.why.join("; "),
        location(alert),
        alert.trigger.snapshot
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_defanged() {
        assert_eq!(
            defang("http://abcdef.onion/viewtopic.php?t=3"),
            "hxxp://abcdef[.]onion/viewtopic.php?t=3"
        );
        assert_eq!(defang("https://chu.fr"), "hxxps://chu[.]fr");
        assert_eq!(defang("abc.onion"), "abc[.]onion");
    }

    #[test]
    fn unmasked_examples_are_dropped() {
        let ex = vec![
            "1 85 05 ** *** *** 36".to_string(),
            "185057800608436".to_string(),
        ];
        assert_eq!(masked_examples(&ex), vec!["1 85 05 ** *** *** 36"]);
    }
}

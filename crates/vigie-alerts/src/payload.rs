//! What a recipient receives: the versioned JSON payload (`ops/schemas/alert-v1.schema.json`)
//! or a chat message. Built only from the incident's masked counts: no raw identifier, sample
//! row or post text is ever put in a payload.

use serde::Serialize;
use vigie_core::{DocumentKind, IdentifierKind, Severity, Topic};
use vigie_store::{AlertRecord, SourceKind};

use crate::{Format, Language, RecipientConfig};

/// The payload schema id, bumped on any incompatible change.
pub const SCHEMA: &str = "vigie.alert/1";

/// The idempotency key of an alert: the same for every attempt, so a receiver that got it
/// already (an answer lost to a timeout) can drop the repeat.
pub fn idempotency_key(alert: u64) -> String {
    format!("vigie-alert-{alert}")
}

pub use vigie_store::{place, source_kind_label};

fn kind_of(alert: &AlertRecord) -> SourceKind {
    SourceKind::of(&alert.trigger.locator, &alert.incident.topics)
}

pub use vigie_core::defang;

/// Keeps only examples that are masked (hold `*`): a defence in depth if an analysis made
/// with `--reveal` ever reached the store. Each shows at most four digits, also when an older
/// version stored a longer mask.
fn masked_examples(examples: &[String]) -> Vec<String> {
    examples
        .iter()
        .filter(|e| e.contains('*'))
        .take(3)
        .map(|e| vigie_core::cap_shown_digits(e))
        .collect()
}

/// Text from the watched world (organisation names as matched, source names, reasons, places)
/// made inert in a Slack or Mattermost message: `&`, `<` and `>` escaped as Slack asks (so no
/// `<!channel>`, `<!here>`, `<@U123>` or `<url|text>` link survives), `@` mentions broken
/// with a zero-width space (Mattermost notifies on `@channel`, `@all`, `@here` and user names
/// in plain text), Markdown links `[text](url)` broken the same way, and backquotes replaced
/// so a value cannot close the code span it is shown in.
fn chat_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut previous = None;
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '@' => out.push_str("@\u{200B}"),
            '`' => out.push('\u{2035}'),
            '(' if previous == Some(']') => out.push_str("\u{200B}("),
            c => out.push(c),
        }
        previous = Some(c);
    }
    out
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
    kind: vigie_core::DocumentKind,
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
            kind: i.kind,
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
    let what = match (i.kind, i.leak_offer, lang) {
        (DocumentKind::RansomwareClaim, _, Language::Fr) => "revendication de rançongiciel",
        (DocumentKind::RansomwareClaim, _, Language::En) => "ransomware claim",
        (DocumentKind::FreeDump, _, Language::Fr) => "données diffusées gratuitement",
        (DocumentKind::FreeDump, _, Language::En) => "data dumped for free",
        (DocumentKind::Teaser, _, Language::Fr) => "fuite annoncée",
        (DocumentKind::Teaser, _, Language::En) => "leak announced",
        (DocumentKind::Request, _, Language::Fr) => "acheteur cherchant des données",
        (DocumentKind::Request, _, Language::En) => "buyer asking for data",
        (_, true, Language::Fr) => "données proposées à la vente",
        (_, false, Language::Fr) => "données exposées",
        (_, true, Language::En) => "data offered for sale",
        (_, false, Language::En) => "data exposed",
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
        chat_escape(&summary(alert, lang)),
        chat_escape(&i.why.join("; ")),
        chat_escape(&location(alert)),
        chat_escape(&alert.trigger.snapshot)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigie_store::Locator;

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
        assert_eq!(masked_examples(&ex), vec!["* ** 05 ** *** *** 36"]);
    }

    #[test]
    fn a_hostile_post_reaches_a_chat_inert() {
        use vigie_store::{EntityRef, Incident, SightingRecord, Timestamp};
        let hostile = "<!channel> @here <https://evil.example|ouvrir>";
        let t = Timestamp(1_795_183_391_000);
        let alert = AlertRecord {
            id: 7,
            recipient: "soc".into(),
            revision: 1,
            reason: "new incident".into(),
            created_at: t,
            incident: Incident {
                id: 3,
                opened_at: t,
                first_seen: t,
                last_seen: t,
                severity: Severity::High,
                why: vec![format!("cue {hostile}")],
                entities: vec![EntityRef {
                    id: "chu".into(),
                    name: format!("CHU {hostile}"),
                    category: vigie_core::Category::Hospital,
                }],
                identifiers: Default::default(),
                sample_rows: 0,
                leak_offer: true,
                kind: vigie_core::DocumentKind::Sale,
                cues: vec![],
                topics: vec![],
                snapshots: vec!["ab".repeat(32)],
                sightings: 1,
                sources: vec!["forum".into()],
                merged_into: None,
            },
            trigger: SightingRecord {
                id: 1,
                snapshot: "ab".repeat(32),
                source: format!("forum {hostile} @all"),
                locator: Locator::Url {
                    url: "http://evil.onion/`x`<!here>".into(),
                },
                collector: "tor".into(),
                first_seen: t,
                last_seen: t,
                times_seen: 1,
                details: Default::default(),
            },
        };
        let recipient = RecipientConfig {
            id: "soc".into(),
            url: "https://chat.example/hooks/x".into(),
            allow_insecure: false,
            secret_env: "S".into(),
            format: Format::Chat,
            min_severity: Severity::High,
            categories: vec![],
            language: Language::En,
            tlp: crate::Tlp::Amber,
            catch_all: true,
            digest: false,
        };
        let body: serde_json::Value = serde_json::from_slice(&render(&alert, &recipient)).unwrap();
        let text = body["text"].as_str().unwrap();
        for bad in ["<!", "<http", "|ouvrir>", "@here", "@all", "`x`"] {
            assert!(!text.contains(bad), "{bad:?} in {text}");
        }
        assert!(text.contains("CHU &lt;!channel&gt;"), "{text}");
    }

    #[test]
    fn chat_text_cannot_ping_link_or_break_out() {
        let hostile = "<!channel> <!here> <@U024BE7LH> <https://evil.example|cliquez ici> \
                       @channel @here @all @admin [lien](https://evil.example) `x` & co";
        let escaped = chat_escape(hostile);
        for bad in [
            "<", ">", "@channel", "@here", "@all", "@admin", "](", "`", "& ",
        ] {
            assert!(!escaped.contains(bad), "{bad:?} survived in {escaped}");
        }
        assert!(escaped.contains("&lt;!channel&gt;"), "{escaped}");
        assert!(escaped.contains("&amp; co"), "{escaped}");
        // Plain words are untouched.
        assert_eq!(chat_escape("CHU de Lyon, 3 NIR"), "CHU de Lyon, 3 NIR");
    }
}

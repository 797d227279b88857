//! The severity rule: deterministic, and explained by the `why` list it returns.
//!
//! Inputs, from the report:
//! - *K*, the document kind ([`DocumentKind`]); a *leak* is a `sale`, `free_dump` or
//!   `ransomware_claim`;
//! - *E*: a watched **health** organisation is named (any category but `other`: a retail brand
//!   or a newspaper in the watchlist is not health);
//! - *I*: health identifiers: a valid NIR, RPPS, FINESS, e-mail or credential at a watched
//!   domain;
//! - *V*: health vocabulary naming a place of care or its patients (`hospital`, `clinique`,
//!   `patients`, `больница`), which the caller passes in;
//! - *P* (personal data): at least one valid NIR, a sample of at least 3 rows, or a valid
//!   credential at a watched domain;
//! - *B* (bulk): at least 10 valid NIRs, a sample of at least 10 rows, 10 credentials, 50
//!   e-mail addresses at watched domains or 100 phone numbers;
//! - *C*: the sample has a health column (`nir`, `num_ss`, `mutuelle`, `medecin_traitant`,
//!   `diagnostic`, `pathologie`, `traitement`, `ordonnance`, `groupe_sanguin`...);
//! - *H* (health data) = E or I or V or C.
//!
//! | severity | rule (first that holds) | reason in `why` |
//! |---|---|---|
//! | critical | claim and (E or I) | `ransomware claim on a health organisation or health data` |
//! | critical | leak and E and P | `leak of a watched health organisation with personal data` |
//! | critical | E and B | `bulk personal data naming a watched health organisation` |
//! | high | claim and V | `ransomware claim on a place of care` |
//! | high | leak and E | `leak naming a watched health organisation` |
//! | high | leak and H and P | `leak of health personal data` |
//! | high | leak and V | `leak of a place of care or its patients` |
//! | high | H and B | `bulk health personal data` |
//! | high | E and P | `personal data naming a watched health organisation` |
//! | high | teaser and E | `leak announced about a watched health organisation` |
//! | medium | request and E | `buyer asking for a watched health organisation's data` |
//! | medium | E with any valid identifier or a topic | `watched health organisation with identifiers or topic` |
//! | medium | H and P | `health personal data` |
//! | medium | counterfeit-medicine topic | `counterfeit medicine` |
//! | low | any other leak, teaser, P or B without health data | `no health organisation or health data: at most low` |
//! | low | any watched organisation named | `watched organisation named` |
//! | info | otherwise | |
//!
//! A `news` document is held at `low` at most: press articles name victims without selling
//! anything. A non-health leak (no E, I or V) is never above `low`.

use vigie_core::{Category, DocumentKind, IdentifierKind, Report, Severity, Topic};

/// At least this many valid NIRs, sample rows or credentials make a bulk leak.
pub const BULK: u64 = 10;
/// At least this many e-mail addresses at watched domains make a bulk leak.
pub const BULK_EMAILS: u64 = 50;
/// At least this many phone numbers make a bulk leak (a contact page lists a few).
pub const BULK_PHONES: u64 = 100;

/// Column names that say a sample holds health data.
const HEALTH_COLUMNS: &[&str] = &[
    "nir",
    "ins",
    "num_ss",
    "numss",
    "secu",
    "securite_sociale",
    "mutuelle",
    "medecin",
    "medecin_traitant",
    "diagnostic",
    "pathologie",
    "traitement",
    "ordonnance",
    "groupe_sanguin",
    "allergie",
    "allergies",
    "antecedents",
    "patient",
    "ipp",
    "rpps",
    "finess",
    "diagnosis",
    "treatment",
    "blood_type",
    "prescription",
    "mrn",
];

fn is_health_column(name: &str) -> bool {
    let folded: String = name
        .to_lowercase()
        .chars()
        .map(|c| match c {
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'à' | 'â' => 'a',
            'ç' => 'c',
            'î' | 'ï' => 'i',
            'ô' => 'o',
            'û' | 'ù' => 'u',
            c if c.is_ascii_alphanumeric() => c,
            _ => '_',
        })
        .collect();
    let words: Vec<&str> = folded.split('_').filter(|w| !w.is_empty()).collect();
    words.iter().any(|w| HEALTH_COLUMNS.contains(w))
        || words
            .windows(2)
            .any(|p| HEALTH_COLUMNS.contains(&format!("{}_{}", p[0], p[1]).as_str()))
}

/// Computes the severity and its reasons from the rest of the report. `health_words`: the
/// document names a place of care or its patients in words (rule input *V*).
pub fn rate(report: &Report, health_words: bool) -> (Severity, Vec<String>) {
    let mut why = Vec::new();
    let kind = report.kind;
    let mut categories: Vec<Category> = report.entities.iter().map(|e| e.category).collect();
    categories.sort();
    categories.dedup();
    for c in &categories {
        why.push(format!("entity {c}"));
    }
    let health_org = categories.iter().any(|&c| c != Category::Other);
    let watched = !categories.is_empty();
    let nir = report.valid(IdentifierKind::Nir);
    let credentials = report.valid(IdentifierKind::Credential);
    let rows = report.sample.as_ref().map_or(0, |s| s.rows);
    if nir > 0 {
        why.push(format!("{nir} valid NIR"));
    }
    for kind in [
        IdentifierKind::Finess,
        IdentifierKind::Rpps,
        IdentifierKind::Iban,
        IdentifierKind::HealthEmail,
        IdentifierKind::Phone,
    ] {
        let n = report.valid(kind);
        if n > 0 {
            why.push(format!("{n} valid {}", kind.label()));
        }
    }
    if credentials > 0 {
        why.push(format!("{credentials} credentials at watched domains"));
    }
    if rows > 0 {
        why.push(format!("sample of {rows} rows"));
    }
    why.push(format!("kind {kind}"));
    if report.leak_offer {
        why.push("leak offer".into());
    }
    for t in &report.topics {
        why.push(format!(
            "topic {}",
            match t {
                Topic::CounterfeitMedicine => "counterfeit_medicine",
                Topic::Credentials => "credentials",
                Topic::Ransomware => "ransomware",
            }
        ));
    }
    let health_ids = [
        IdentifierKind::Nir,
        IdentifierKind::Rpps,
        IdentifierKind::Finess,
        IdentifierKind::HealthEmail,
        IdentifierKind::Credential,
    ]
    .into_iter()
    .any(|k| report.valid(k) > 0);
    let health_columns = report
        .sample
        .as_ref()
        .is_some_and(|s| s.columns.iter().any(|c| is_health_column(c)));
    if health_columns {
        why.push("health columns in the sample".into());
    }
    let health = health_org || health_ids || health_words || health_columns;
    let personal = nir > 0 || rows >= crate::sample::MIN_ROWS || credentials > 0;
    let bulk = nir >= BULK
        || rows >= BULK
        || credentials >= BULK
        || report.valid(IdentifierKind::HealthEmail) >= BULK_EMAILS
        || report.valid(IdentifierKind::Phone) >= BULK_PHONES;
    let any_valid = report.identifiers.values().any(|c| c.valid > 0);
    let leak = kind.is_leak();
    let claim = kind == DocumentKind::RansomwareClaim;
    let counterfeit = report.topics.contains(&Topic::CounterfeitMedicine);

    use Severity::*;
    let rules: [(bool, Severity, &str); 17] = [
        (
            claim && (health_org || health_ids),
            Critical,
            "ransomware claim on a health organisation or health data",
        ),
        (
            leak && health_org && personal,
            Critical,
            "leak of a watched health organisation with personal data",
        ),
        (
            health_org && bulk,
            Critical,
            "bulk personal data naming a watched health organisation",
        ),
        (
            claim && health_words,
            High,
            "ransomware claim on a place of care",
        ),
        (
            leak && health_org,
            High,
            "leak naming a watched health organisation",
        ),
        (
            leak && health && personal,
            High,
            "leak of health personal data",
        ),
        (
            leak && health_words,
            High,
            "leak of a place of care or its patients",
        ),
        (health && bulk, High, "bulk health personal data"),
        (
            health_org && personal,
            High,
            "personal data naming a watched health organisation",
        ),
        (
            kind == DocumentKind::Teaser && health_org,
            High,
            "leak announced about a watched health organisation",
        ),
        (
            kind == DocumentKind::Request && health_org,
            Medium,
            "buyer asking for a watched health organisation's data",
        ),
        (
            health_org && (any_valid || !report.topics.is_empty()),
            Medium,
            "watched health organisation with identifiers or topic",
        ),
        (health && personal, Medium, "health personal data"),
        (counterfeit, Medium, "counterfeit medicine"),
        (
            leak || kind == DocumentKind::Teaser || personal || bulk,
            Low,
            "no health organisation or health data: at most low",
        ),
        (watched, Low, "watched organisation named"),
        (true, Info, ""),
    ];
    let (mut severity, reason) = rules
        .iter()
        .find(|(holds, _, _)| *holds)
        .map_or((Info, ""), |&(_, s, r)| (s, r));
    if !reason.is_empty() {
        why.push(format!("rule: {reason}"));
    }
    if kind == DocumentKind::News && severity > Low {
        why.push("news report, not an offer: held at low".into());
        severity = Low;
    } else if kind == DocumentKind::News {
        why.push("news report".into());
    }
    (severity, why)
}

#[cfg(test)]
mod tests {
    use super::is_health_column;

    #[test]
    fn health_columns_in_french_and_english() {
        for c in [
            "nir",
            "NIR",
            "num_ss",
            "n° sécu",
            "medecin_traitant",
            "Mutuelle",
            "diagnosis",
        ] {
            assert!(is_health_column(c), "{c}");
        }
        for c in [
            "nom",
            "email",
            "telephone",
            "ville",
            "montant_achat",
            "insurance",
        ] {
            assert!(!is_health_column(c), "{c}");
        }
    }
}

//! The severity rule: deterministic, and explained by the `why` list it returns.
//!
//! Inputs: whether a watched entity is named (E), whether the post is a leak offer (O), and
//! the personal data it carries:
//! - *personal data* (P): at least one valid NIR, a sample of at least 3 rows, or a valid
//!   credential at a watched domain;
//! - *bulk* (B): at least 10 valid NIRs, a sample of at least 10 rows, 10 credentials, 50 e-mail
//!   addresses at watched domains or 100 phone numbers (a one-line JSON dump has no rows).
//!
//! | severity | when |
//! |---|---|
//! | critical | E and O and P; or E and B |
//! | high | E and O; or O and P; or B; or E and P (a dump posted without sale words is a leak) |
//! | medium | E with any valid identifier or a credentials, ransomware or counterfeit-medicine topic; or O; or P; or a counterfeit-medicine topic |
//! | low | E |
//! | info | otherwise |
//!
//! A document that reads as a news report (see [`crate::offer`]) and is not an offer is held
//! at `low` at most: the seeds' press articles name victims without selling anything.

use vigie_core::{Category, IdentifierKind, Report, Severity, Topic};

/// At least this many valid NIRs, sample rows or credentials make a bulk leak.
pub const BULK: u64 = 10;
/// At least this many e-mail addresses at watched domains make a bulk leak.
pub const BULK_EMAILS: u64 = 50;
/// At least this many phone numbers make a bulk leak (a contact page lists a few).
pub const BULK_PHONES: u64 = 100;

/// Computes the severity and its reasons from the rest of the report, and the news flag.
pub fn rate(report: &Report, news: bool) -> (Severity, Vec<String>) {
    let mut why = Vec::new();
    let entity = !report.entities.is_empty();
    let mut categories: Vec<Category> = report.entities.iter().map(|e| e.category).collect();
    categories.sort();
    categories.dedup();
    for c in &categories {
        why.push(format!("entity {c}"));
    }
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
    let personal = nir > 0 || rows >= crate::sample::MIN_ROWS || credentials > 0;
    let bulk = nir >= BULK
        || rows >= BULK
        || credentials >= BULK
        || report.valid(IdentifierKind::HealthEmail) >= BULK_EMAILS
        || report.valid(IdentifierKind::Phone) >= BULK_PHONES;
    let any_valid = report.identifiers.values().any(|c| c.valid > 0);
    let offer = report.leak_offer;
    let counterfeit = report.topics.contains(&Topic::CounterfeitMedicine);
    let severity = if entity && ((offer && personal) || bulk) {
        Severity::Critical
    } else if (offer && (entity || personal)) || bulk || (entity && personal) {
        Severity::High
    } else if (entity && (any_valid || !report.topics.is_empty()))
        || offer
        || personal
        || counterfeit
    {
        Severity::Medium
    } else if entity {
        Severity::Low
    } else {
        Severity::Info
    };
    if news && !offer && severity > Severity::Low {
        why.push("news report, not an offer: held at low".into());
        return (Severity::Low, why);
    }
    if news {
        why.push("news report".into());
    }
    (severity, why)
}

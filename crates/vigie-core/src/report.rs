use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{Category, Severity};

/// A byte range in a document's text, with the text it covers.
///
/// Invariant: `start <= end`, and both fall on UTF-8 character boundaries of the text the
/// document was scanned as (the original bytes for UTF-8 input, the decoded text otherwise).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Span {
    /// Offset of the first byte.
    pub start: u64,
    /// Offset one past the last byte.
    pub end: u64,
    /// The original text in that range, as written (it may be obfuscated).
    pub text: String,
}

/// A watched organisation named in a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityFinding {
    /// The stable watchlist id.
    pub id: String,
    /// The canonical display name.
    pub name: String,
    /// The entity's category.
    pub category: Category,
    /// Where it is named, in document order.
    pub matches: Vec<Span>,
}

/// The kinds of identifiers the matcher validates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentifierKind {
    /// French social-security number (NIR), also the INS.
    Nir,
    /// FINESS establishment number.
    Finess,
    /// RPPS health-professional number.
    Rpps,
    /// International bank account number.
    Iban,
    /// SIREN or SIRET company number.
    Siret,
    /// French phone number.
    Phone,
    /// E-mail address at a watched domain.
    HealthEmail,
    /// Login and password pair at a watched domain.
    Credential,
}

impl IdentifierKind {
    /// Every kind, in report order.
    pub const ALL: [IdentifierKind; 8] = [
        IdentifierKind::Nir,
        IdentifierKind::Finess,
        IdentifierKind::Rpps,
        IdentifierKind::Iban,
        IdentifierKind::Siret,
        IdentifierKind::Phone,
        IdentifierKind::HealthEmail,
        IdentifierKind::Credential,
    ];

    /// The snake-case name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            IdentifierKind::Nir => "nir",
            IdentifierKind::Finess => "finess",
            IdentifierKind::Rpps => "rpps",
            IdentifierKind::Iban => "iban",
            IdentifierKind::Siret => "siret",
            IdentifierKind::Phone => "phone",
            IdentifierKind::HealthEmail => "health_email",
            IdentifierKind::Credential => "credential",
        }
    }

    /// The name analysts use (`NIR`, `FINESS`, `health e-mail`...).
    pub fn label(self) -> &'static str {
        match self {
            IdentifierKind::Nir => "NIR",
            IdentifierKind::Finess => "FINESS",
            IdentifierKind::Rpps => "RPPS",
            IdentifierKind::Iban => "IBAN",
            IdentifierKind::Siret => "SIREN/SIRET",
            IdentifierKind::Phone => "phone",
            IdentifierKind::HealthEmail => "health e-mail",
            IdentifierKind::Credential => "credential",
        }
    }
}

impl fmt::Display for IdentifierKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Distinct values of one identifier kind in a document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentifierCount {
    /// Distinct values that pass validation.
    pub valid: u64,
    /// Distinct look-alikes of the right shape that fail validation (decoys, typos, fakes).
    pub invalid: u64,
    /// A few valid values, masked unless the caller asked to reveal them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<String>,
}

impl IdentifierCount {
    /// Whether nothing of this kind was seen.
    pub fn is_empty(&self) -> bool {
        self.valid == 0 && self.invalid == 0
    }
}

/// Digits of an identifier that may be shown outside the store (alerts, exports, listings).
pub const MAX_SHOWN_DIGITS: usize = 4;

/// `example` with every digit but the last [`MAX_SHOWN_DIGITS`] replaced by `*`. Masks made
/// today already comply; this also caps examples stored by older versions, whose NIR masks
/// kept seven digits, on their way out.
pub fn cap_shown_digits(example: &str) -> String {
    let digits = example.chars().filter(char::is_ascii_digit).count();
    let mut hide = digits.saturating_sub(MAX_SHOWN_DIGITS);
    example
        .chars()
        .map(|c| {
            if hide > 0 && c.is_ascii_digit() {
                hide -= 1;
                '*'
            } else {
                c
            }
        })
        .collect()
}

/// Delimited rows that look like an extract of records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SampleFinding {
    /// Estimated number of data rows (header excluded).
    pub rows: u64,
    /// Column names: from the header when there is one, otherwise inferred from the values.
    pub columns: Vec<String>,
    /// The delimiter, as a string (`";"`, `","`, `"\t"`, `"|"`, `":"`).
    pub delimiter: String,
    /// Identifier counts per column, when the rows were read cell by cell (delimited text,
    /// SQL dumps, JSON, spreadsheets); empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub column_counts: Vec<ColumnCount>,
}

/// The identifiers of one kind found in one column of a sample.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnCount {
    /// The column's position, from 0.
    pub column: u32,
    /// The column's name: its header, or the kind of value it holds.
    pub name: String,
    /// The identifier kind counted.
    pub kind: IdentifierKind,
    /// Cells holding a valid value of that kind (not de-duplicated).
    pub valid: u64,
    /// Cells holding a look-alike that fails validation.
    pub invalid: u64,
}

/// Themes a document is about, besides data sales.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    /// Prescription medicines sold without prescription (the MediPhantom pattern).
    CounterfeitMedicine,
    /// Logins, passwords, access to accounts or systems.
    Credentials,
    /// Ransomware claims and leak-site listings.
    Ransomware,
}

/// What a document is, as the matcher reads it.
///
/// `sale`, `free_dump` and `ransomware_claim` are leaks ([`DocumentKind::is_leak`]): the
/// report's `leak_offer` is derived from the kind and kept for older readers.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// Data or access offered for money (a sale, an auction).
    Sale,
    /// Data posted or linked for anyone to take (a paste of rows, a combolist, a download).
    FreeDump,
    /// A ransomware or extortion group's listing of a victim (a leak-site entry).
    RansomwareClaim,
    /// A buyer asking for data or access (`WTB`, `je cherche`, `куплю`): not an offer.
    Request,
    /// An announcement of a leak or sale to come, without the data or its terms.
    Teaser,
    /// A press or blog report about an incident.
    News,
    /// Anything else: conversation, documentation, prose.
    #[default]
    Discussion,
}

impl DocumentKind {
    /// Every kind, in report order.
    pub const ALL: [DocumentKind; 7] = [
        DocumentKind::Sale,
        DocumentKind::FreeDump,
        DocumentKind::RansomwareClaim,
        DocumentKind::Request,
        DocumentKind::Teaser,
        DocumentKind::News,
        DocumentKind::Discussion,
    ];

    /// The snake-case name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::Sale => "sale",
            DocumentKind::FreeDump => "free_dump",
            DocumentKind::RansomwareClaim => "ransomware_claim",
            DocumentKind::Request => "request",
            DocumentKind::Teaser => "teaser",
            DocumentKind::News => "news",
            DocumentKind::Discussion => "discussion",
        }
    }

    /// Whether data is offered, given away or published: what `leak_offer` says.
    pub fn is_leak(self) -> bool {
        matches!(
            self,
            DocumentKind::Sale | DocumentKind::FreeDump | DocumentKind::RansomwareClaim
        )
    }
}

impl fmt::Display for DocumentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for DocumentKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DocumentKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s.replace('-', "_"))
            .ok_or_else(|| format!("unknown document kind {s:?}"))
    }
}

/// Where a document was collected, when the caller knows: what a document *is* may follow
/// from it (a leak-site entry is a ransomware claim by construction).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Not said: judged from the text alone.
    #[default]
    Unknown,
    /// A ransomware or extortion group's leak site, or a victim entry read from one.
    LeakSite,
    /// A forum or market thread.
    Forum,
    /// A Telegram channel or chat.
    Telegram,
    /// A paste site.
    Paste,
    /// A press article or blog.
    News,
}

impl Origin {
    /// Every origin.
    pub const ALL: [Origin; 6] = [
        Origin::Unknown,
        Origin::LeakSite,
        Origin::Forum,
        Origin::Telegram,
        Origin::Paste,
        Origin::News,
    ];

    /// The kebab-case name used on the command line (`leak-site`).
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Unknown => "unknown",
            Origin::LeakSite => "leak-site",
            Origin::Forum => "forum",
            Origin::Telegram => "telegram",
            Origin::Paste => "paste",
            Origin::News => "news",
        }
    }
}

impl std::str::FromStr for Origin {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Origin::ALL
            .into_iter()
            .find(|o| o.as_str() == s.replace('_', "-"))
            .ok_or_else(|| {
                format!(
                    "unknown source kind {s:?} (unknown, leak-site, forum, telegram, paste, news)"
                )
            })
    }
}

/// What the matcher found in one document: the `vigie scan --json` object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// Where the document came from (a path, `-` for stdin, or a collector's label).
    pub path: String,
    /// Watched organisations named, sorted by first match.
    pub entities: Vec<EntityFinding>,
    /// Identifier counts by kind; kinds with nothing seen are omitted.
    pub identifiers: BTreeMap<IdentifierKind, IdentifierCount>,
    /// The largest block of delimited rows carrying personal data, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample: Option<SampleFinding>,
    /// Whether the document offers data (for sale, as a free dump, or on a leak site):
    /// derived from `kind` ([`DocumentKind::is_leak`]), kept for older readers.
    pub leak_offer: bool,
    /// What the document is. Reports stored before kinds existed read as `discussion`.
    #[serde(default)]
    pub kind: DocumentKind,
    /// The offer and context cues found, in their canonical spelling.
    pub cues: Vec<String>,
    /// Themes the document is about.
    pub topics: Vec<Topic>,
    /// The triage level.
    pub severity: Severity,
    /// The reasons for the severity, most important first.
    pub why: Vec<String>,
    /// Bytes of text scanned.
    pub bytes: u64,
}

impl Report {
    /// The number of distinct valid identifiers of one kind.
    pub fn valid(&self, kind: IdentifierKind) -> u64 {
        self.identifiers.get(&kind).map_or(0, |c| c.valid)
    }

    /// Whether the report is worth showing: a severity above `info`, an entity, a valid
    /// identifier, a sample or an offer.
    pub fn is_hit(&self) -> bool {
        self.severity > Severity::Info
            || !self.entities.is_empty()
            || self.identifiers.values().any(|c| c.valid > 0)
            || self.sample.is_some()
            || self.leak_offer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_examples_keep_four_digits_at_most() {
        // A NIR mask stored by an older version (seven digits): only the last four stay.
        assert_eq!(
            cap_shown_digits("1 85 05 ** *** *** 36"),
            "* ** 05 ** *** *** 36"
        );
        assert_eq!(cap_shown_digits("06 ** ** ** 78"), "06 ** ** ** 78");
        assert_eq!(cap_shown_digits("j***@chu-lyon.fr"), "j***@chu-lyon.fr");
        assert_eq!(cap_shown_digits("123456"), "**3456");
    }
}

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What kind of organisation a watchlist entity is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// A public hospital or hospital group (CHU, CHR, CH, AP-HP...).
    Hospital,
    /// A private hospital or clinic group (Ramsay, Elsan...).
    ClinicGroup,
    /// A medical biology laboratory network.
    Lab,
    /// A vendor of software used in care (DPI, LGO, SIL, PACS...).
    SoftwareVendor,
    /// A teleconsultation or appointment platform.
    Telehealth,
    /// A pharmacy, pharmacy chain or pharmacy group.
    Pharmacy,
    /// A health insurer, mutuelle or the social-security funds.
    Insurer,
    /// A national or regional health agency or authority.
    Agency,
    /// A pharmaceutical company.
    Pharma,
    /// Anything else worth watching.
    Other,
}

impl Category {
    /// Every category, in declaration order.
    pub const ALL: [Category; 10] = [
        Category::Hospital,
        Category::ClinicGroup,
        Category::Lab,
        Category::SoftwareVendor,
        Category::Telehealth,
        Category::Pharmacy,
        Category::Insurer,
        Category::Agency,
        Category::Pharma,
        Category::Other,
    ];

    /// The identifier used in watchlists and JSON (`clinic_group`, `software_vendor`...).
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Hospital => "hospital",
            Category::ClinicGroup => "clinic_group",
            Category::Lab => "lab",
            Category::SoftwareVendor => "software_vendor",
            Category::Telehealth => "telehealth",
            Category::Pharmacy => "pharmacy",
            Category::Insurer => "insurer",
            Category::Agency => "agency",
            Category::Pharma => "pharma",
            Category::Other => "other",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The string is not one of the watchlist categories.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown category {0:?} (expected one of hospital, clinic_group, lab, software_vendor, telehealth, pharmacy, insurer, agency, pharma, other)")]
pub struct ParseCategoryError(pub String);

impl FromStr for Category {
    type Err = ParseCategoryError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Category::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| ParseCategoryError(s.to_string()))
    }
}

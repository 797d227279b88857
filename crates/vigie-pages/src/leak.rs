//! Ransomware leak-site victim entries.
//!
//! CONTRACT (vigie-tor codes against it; the leak-site engineer fills it in, keeping these
//! names): `LeakPage`, `Profile`, `shipped_profiles`, `read_leak_page`.

use scraper::Html;
use url::Url;

use crate::{Entry, PageContext};

/// A shipped per-group profile (`crates/vigie-pages/profiles/*.toml`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub name: String,
}

/// The shipped profiles, compiled into the binary.
pub fn shipped_profiles() -> Vec<Profile> {
    Vec::new() // TODO(leak-site engineer)
}

/// What a leak-site page holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeakPage {
    /// One entry per victim, in page order.
    pub victims: Vec<Entry>,
    /// The next listing page.
    pub next_page: Option<Url>,
    /// The profile used, if one matched; `None` for the generic extractor.
    pub profile: Option<String>,
}

/// Reads a leak-site listing or victim page.
pub fn read_leak_page(_doc: &Html, _ctx: &PageContext, _profiles: &[Profile]) -> LeakPage {
    LeakPage::default() // TODO(leak-site engineer)
}

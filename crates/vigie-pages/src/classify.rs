//! Why a page holds nothing.
//!
//! CONTRACT: `PageClass`, `classify`. Owned by the crawl engineer.

use scraper::Html;

/// What kind of page was fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PageClass {
    /// Looks like content.
    Content,
    /// A login form stands in for the content (expired cookie?).
    LoginWall,
    /// A CAPTCHA or a DDoS-protection queue (EndGame and the like).
    Captcha,
    /// 404, "not found", an empty page.
    NotFound,
    /// "Maintenance", "be right back".
    Maintenance,
    /// 429 or "too many requests".
    RateLimited,
}

/// Classifies a page from its HTTP status, tree and readable text.
pub fn classify(_status: u16, _doc: &Html, _text: &str) -> PageClass {
    PageClass::Content // TODO(crawl engineer)
}

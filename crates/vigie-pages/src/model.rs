//! The types every extractor returns.

use std::collections::BTreeMap;

use time::{OffsetDateTime, UtcOffset};
use url::Url;

/// Where and when a page was fetched: what relative dates ("Yesterday", "il y a 3 heures")
/// and relative links are resolved against.
#[derive(Debug, Clone)]
pub struct PageContext {
    /// The page's final URL.
    pub base: Url,
    /// When it was fetched.
    pub fetched_at: OffsetDateTime,
    /// The site's time zone for dates written without one (forums show local time).
    pub site_offset: UtcOffset,
}

impl PageContext {
    /// A page fetched now, from a site on UTC.
    pub fn new(base: Url) -> PageContext {
        PageContext {
            base,
            fetched_at: OffsetDateTime::now_utc(),
            site_offset: UtcOffset::UTC,
        }
    }
}

/// One forum post or one leak-site victim entry.
///
/// Text fields hold text with its structure: line breaks between blocks, and the tabs and line
/// breaks of `pre`/`code` blocks and table rows kept, so delimited rows stay rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entry {
    /// Stable id: the post id from the markup (`p123`, `post_123`), or the victim's slug or
    /// name; never the position on the page when the markup has something better.
    pub id: String,
    /// Thread title (forums) or victim name (leak sites).
    pub title: String,
    /// The poster's user name (never a rank, a post number or "Post"); empty on leak sites.
    pub author: String,
    /// The date as RFC 3339 in UTC when it could be read.
    pub date: Option<String>,
    /// The date as the page shows it.
    pub date_text: String,
    /// The entry's own text (forums: without quoted posts and signatures).
    pub body: String,
    /// Quoted earlier posts, each as text (forums).
    pub quoted: Vec<String>,
    /// Named fields the entry shows. Keys used: `website`, `country`, `sector`, `revenue`,
    /// `data_size`, `countdown`, `deadline`, `status` (e.g. "published"), `views`,
    /// `files` (a file-tree listing).
    pub fields: BTreeMap<String, String>,
    /// Every link in the entry, absolute where it resolves, session parameters removed.
    pub links: Vec<String>,
    /// The victim's detail page or the post's permalink, when linked.
    pub detail_link: Option<String>,
}

//! Dates as forums and leak sites write them.
//!
//! CONTRACT: `parse_date`. Owned by the forum engineer; the leak-site engineer uses it.

use crate::PageContext;

/// A date as written on a page (absolute in French, English or Russian, ISO, or relative:
/// "Today at 10:21", "Yesterday", "il y a 3 heures", "вчера в 14:02"), as RFC 3339 UTC,
/// resolved against the fetch time and the site's offset.
pub fn parse_date(_text: &str, _ctx: &PageContext) -> Option<String> {
    None // TODO(forum engineer)
}

//! URLs without session parameters.
//!
//! CONTRACT: `without_session`. Owned by the crawl engineer.

use url::Url;

/// The URL with session parameters (`sid`, `s`, `PHPSESSID`, ...) removed.
pub fn without_session(u: &Url) -> Url {
    u.clone() // TODO(crawl engineer)
}

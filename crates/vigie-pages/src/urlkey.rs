//! URLs without session parameters.
//!
//! Forums add a session id to every link for a client without the session cookie (phpBB's
//! `sid`, vBulletin's `s`, PHP's `PHPSESSID`, Java's `;jsessionid=`, XenForo's `_xfToken`).
//! Left in, the same thread or post gets a new URL on every visit: new queue entries, new
//! checkpoint keys, new document bytes. Every URL used as a key, queued or written into a
//! document goes through [`without_session`] first.

use url::Url;

/// Query parameters that are always session state (compared without case).
const SESSION_PARAMS: &[&str] = &[
    "sid",
    "phpsessid",
    "sessionid",
    "sessid",
    "jsessionid",
    "_xftoken",
];

/// The URL with session parameters (`sid`, `s`, `PHPSESSID`, ...) removed; other parameters
/// keep their order and their encoding, the fragment is kept.
pub fn without_session(u: &Url) -> Url {
    let mut out = u.clone();
    let path = u.path();
    if path.to_ascii_lowercase().contains(";jsessionid=") {
        out.set_path(&strip_path_session(path));
    }
    if let Some(query) = u.query() {
        let kept: Vec<&str> = query
            .split('&')
            .filter(|pair| !pair.is_empty() && !is_session_pair(pair))
            .collect();
        if kept.is_empty() {
            out.set_query(None);
        } else {
            out.set_query(Some(&kept.join("&")));
        }
    }
    out
}

fn is_session_pair(pair: &str) -> bool {
    let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
    if SESSION_PARAMS.iter().any(|p| name.eq_ignore_ascii_case(p)) {
        return true;
    }
    // `s` is also a search term on many sites: only a 32-hex value is vBulletin's session.
    name == "s" && value.len() == 32 && value.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `/a;jsessionid=XYZ/b;jsessionid=Q?x` → `/a/b`: the matrix parameter runs to the next `/`
/// or `;`.
fn strip_path_session(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for (i, segment) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        let mut parts = segment.split(';');
        out.push_str(parts.next().unwrap_or(""));
        for p in parts {
            if !p.to_ascii_lowercase().starts_with("jsessionid=") {
                out.push(';');
                out.push_str(p);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strip(s: &str) -> String {
        without_session(&Url::parse(s).unwrap()).to_string()
    }

    #[test]
    fn phpbb_sid_removed_other_params_kept_in_order() {
        assert_eq!(
            strip("http://f.onion/viewtopic.php?f=2&t=15&sid=0f3b9a4c6d1e2f3a4b5c6d7e8f9a0b1c&start=25#p77"),
            "http://f.onion/viewtopic.php?f=2&t=15&start=25#p77"
        );
        assert_eq!(
            strip("http://f.onion/index.php?sid=0f3b9a4c6d1e2f3a4b5c6d7e8f9a0b1c"),
            "http://f.onion/index.php"
        );
    }

    #[test]
    fn php_java_and_xenforo_sessions_removed() {
        assert_eq!(
            strip("http://f.onion/showthread.php?tid=7&PHPSESSID=abc123&page=2"),
            "http://f.onion/showthread.php?tid=7&page=2"
        );
        assert_eq!(
            strip("http://f.onion/a?phpsessid=x&SESSID=y&sessionid=z&jsessionid=w&_xfToken=1%2Cabc&q=1"),
            "http://f.onion/a?q=1"
        );
        assert_eq!(
            strip("http://f.onion/forum/thread.jsp;jsessionid=A1B2C3?id=9"),
            "http://f.onion/forum/thread.jsp?id=9"
        );
        assert_eq!(
            strip("http://f.onion/a;jsessionid=1/b;v=2;JSESSIONID=3/c"),
            "http://f.onion/a/b;v=2/c"
        );
    }

    #[test]
    fn s_only_when_it_looks_like_a_session_hash() {
        assert_eq!(
            strip("http://f.onion/showthread.php?s=d41d8cd98f00b204e9800998ecf8427e&t=42"),
            "http://f.onion/showthread.php?t=42"
        );
        // A search term or a short value stays.
        assert_eq!(
            strip("http://f.onion/search.php?s=chu+lyon&t=42"),
            "http://f.onion/search.php?s=chu+lyon&t=42"
        );
        assert_eq!(
            strip("http://f.onion/x?s=d41d8cd98f00b204e9800998ecf8427"),
            "http://f.onion/x?s=d41d8cd98f00b204e9800998ecf8427"
        );
    }

    #[test]
    fn urls_without_sessions_are_unchanged() {
        for u in [
            "http://f.onion/",
            "http://f.onion/threads/chu-dump.12/page-2",
            "http://f.onion/viewtopic.php?t=1&sidebar=0&ssid=4",
            "http://f.onion/a?x=%20y&z",
        ] {
            assert_eq!(strip(u), u);
        }
    }
}

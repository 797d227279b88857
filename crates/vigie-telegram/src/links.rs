//! `t.me` links: which channel (or private invite) a link names. Links found in posts are how
//! analysts find the next channel to follow; only channel names and invites are kept, never a
//! message number.

/// What a `t.me` link names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum TmeRef {
    /// A public channel, group, user or bot by username (lower case), with the message id
    /// when the link points at one post.
    Name {
        /// The username, lower case.
        name: String,
        /// The post, for `t.me/NAME/ID`.
        message: Option<i64>,
    },
    /// A private invite: `t.me/+HASH` or `t.me/joinchat/HASH`, kept as `+HASH`.
    Invite(String),
}

/// Path words of `t.me` that are not usernames.
const RESERVED: &[&str] = &[
    "s",
    "c",
    "addstickers",
    "addemoji",
    "addtheme",
    "addlist",
    "share",
    "proxy",
    "socks",
    "iv",
    "login",
    "setlanguage",
    "bg",
    "confirmphone",
    "boost",
    "invoice",
    "contact",
    "m",
    "k",
    "a",
    "z",
    "dl",
    "apps",
    "blog",
    "faq",
    "privacy",
];

/// The channel or invite `url` names, when it is a `t.me` (or `telegram.me`, `telegram.dog`)
/// link. `t.me/s/NAME` and `t.me/NAME/ID` name `NAME`; `t.me/c/…` (a private channel's
/// internal id) names nothing.
pub fn tme_reference(url: &str) -> Option<TmeRef> {
    let rest = url.trim();
    let rest = rest
        .strip_prefix("https://")
        .or_else(|| rest.strip_prefix("http://"))
        .or_else(|| rest.strip_prefix("//"))
        .unwrap_or(rest);
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host = host.to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    if !matches!(host, "t.me" | "telegram.me" | "telegram.dog") {
        return None;
    }
    let path = path.split(['?', '#']).next().unwrap_or("");
    let mut parts = path.split('/').filter(|p| !p.is_empty());
    let mut first = parts.next()?;
    if let Some(hash) = first.strip_prefix('+') {
        return valid_hash(hash).then(|| TmeRef::Invite(format!("+{hash}")));
    }
    if first.eq_ignore_ascii_case("joinchat") {
        let hash = parts.next()?;
        return valid_hash(hash).then(|| TmeRef::Invite(format!("+{hash}")));
    }
    if first.eq_ignore_ascii_case("s") {
        first = parts.next()?;
    } else if RESERVED.iter().any(|r| first.eq_ignore_ascii_case(r)) {
        return None;
    }
    if !valid_username(first) {
        return None;
    }
    let message = parts.next().and_then(|p| p.parse::<i64>().ok());
    Some(TmeRef::Name {
        name: first.to_ascii_lowercase(),
        message,
    })
}

/// Telegram usernames: 4 to 32 of `[A-Za-z0-9_]`, starting with a letter.
fn valid_username(s: &str) -> bool {
    (4..=32).contains(&s.len())
        && s.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Invite hashes; `t.me/+` followed by digits only is a phone number, not an invite.
fn valid_hash(s: &str) -> bool {
    (8..=64).contains(&s.len())
        && !s.bytes().all(|b| b.is_ascii_digit())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(n: &str, message: Option<i64>) -> Option<TmeRef> {
        Some(TmeRef::Name {
            name: n.into(),
            message,
        })
    }

    #[test]
    fn channel_names_and_invites_never_message_numbers() {
        assert_eq!(
            tme_reference("https://t.me/Pharma_Dark/1066"),
            name("pharma_dark", Some(1066))
        );
        assert_eq!(
            tme_reference("https://t.me/pharma_dark"),
            name("pharma_dark", None)
        );
        assert_eq!(
            tme_reference("https://t.me/s/pharma_dark?before=12"),
            name("pharma_dark", None)
        );
        assert_eq!(
            tme_reference("http://telegram.me/pharma_dark/"),
            name("pharma_dark", None)
        );
        assert_eq!(
            tme_reference("https://t.me/+AbCdEfGh12345678"),
            Some(TmeRef::Invite("+AbCdEfGh12345678".into()))
        );
        assert_eq!(
            tme_reference("https://t.me/joinchat/AbCdEfGh12345678"),
            Some(TmeRef::Invite("+AbCdEfGh12345678".into()))
        );
        for none in [
            "https://t.me/c/1234567/89",
            "https://t.me/1066",
            "https://t.me/",
            "https://example.org/pharma_dark",
            "https://t.me.evil.org/pharma_dark",
            "https://t.me/addstickers/Pack",
            "?q=%23CHU",
            "https://t.me/+short",
            "https://t.me/+33612345678",
            "https://t.mé/x",
        ] {
            assert_eq!(tme_reference(none), None, "{none}");
        }
    }
}

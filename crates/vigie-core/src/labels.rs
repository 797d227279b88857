//! Words every report shares: the language of human-readable text, and how a place is
//! written so that nobody follows it by accident.

use serde::{Deserialize, Serialize};

/// Language of the human-readable parts of alerts and digests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    /// French (default: CERT Santé's partners are French).
    #[default]
    Fr,
    /// English.
    En,
}

/// Defangs a URL so that no client follows it by accident: `hxxp://abc[.]onion/t/1`.
pub fn defang(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((s, r)) => (s, r),
        None => return url.replace('.', "[.]"),
    };
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "http" => "hxxp".to_string(),
        "https" => "hxxps".to_string(),
        other => other.replace('t', "x"),
    };
    let split = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (host, tail) = rest.split_at(split);
    format!("{scheme}://{}{tail}", host.replace('.', "[.]"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_keep_their_config_names() {
        assert_eq!(serde_json::to_string(&Language::Fr).unwrap(), "\"fr\"");
        assert_eq!(
            serde_json::from_str::<Language>("\"en\"").unwrap(),
            Language::En
        );
        assert_eq!(Language::default(), Language::Fr);
    }

    #[test]
    fn defang_breaks_scheme_and_host_only() {
        assert_eq!(
            defang("http://abc.onion/t/1.html?x=a.b"),
            "hxxp://abc[.]onion/t/1.html?x=a.b"
        );
        assert_eq!(defang("https://t.me/s/chan"), "hxxps://t[.]me/s/chan");
        assert_eq!(defang("ftp://a.b"), "fxp://a[.]b");
        assert_eq!(defang("abc.onion"), "abc[.]onion");
    }
}

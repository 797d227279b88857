//! The shipped list of ransomware and extortion groups (`data/ransomware_groups.toml`).
//!
//! A group named in a document is one signal of a ransomware claim ([`crate::claim`]), never a
//! claim on its own: a news story names groups too, and many names are ordinary words.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::lint::COMMON_WORDS;
use crate::normalize::normalize;

/// The list as shipped, embedded at build time.
pub const GROUPS_TOML: &str = include_str!("../data/ransomware_groups.toml");

/// One ransomware or extortion group.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    /// The group's usual name.
    pub name: String,
    /// Other spellings, former names, site titles.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// A name that is also an ordinary word or name: it counts only as written, and only
    /// alongside another leak-site signal.
    #[serde(default)]
    pub ambiguous: bool,
}

impl Group {
    /// The name followed by the aliases.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.name.as_str()).chain(self.aliases.iter().map(String::as_str))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupsFile {
    group: Vec<Group>,
}

/// Parses a groups file.
pub fn parse_groups(text: &str) -> Result<Vec<Group>, toml::de::Error> {
    toml::from_str::<GroupsFile>(text).map(|f| f.group)
}

/// The shipped groups (empty if the embedded file were malformed, which a test forbids).
pub fn groups() -> &'static [Group] {
    static GROUPS: OnceLock<Vec<Group>> = OnceLock::new();
    GROUPS.get_or_init(|| match parse_groups(GROUPS_TOML) {
        Ok(g) => g,
        Err(e) => {
            tracing::error!(error = %e, "shipped ransomware group list is malformed");
            Vec::new()
        }
    })
}

fn fold(name: &str) -> Vec<u8> {
    normalize(name)
        .bytes
        .into_iter()
        .filter(|&b| b != crate::normalize::BREAK)
        .collect()
}

/// Problems in a groups list: empty or duplicate names once folded, and names that are common
/// words or shorter than four letters without being marked `ambiguous`.
pub fn lint_groups(groups: &[Group]) -> Vec<String> {
    let common: Vec<Vec<u8>> = COMMON_WORDS.iter().map(|w| fold(w)).collect();
    let mut seen: HashMap<Vec<u8>, &str> = HashMap::new();
    let mut issues = Vec::new();
    for g in groups {
        for name in g.names() {
            let folded = fold(name);
            if folded.is_empty() {
                issues.push(format!("{}: empty name {name:?}", g.name));
                continue;
            }
            if let Some(first) = seen.insert(folded.clone(), g.name.as_str()) {
                issues.push(format!("{}: {name:?} folds like a name of {first}", g.name));
            }
            if !g.ambiguous && (folded.len() < 4 || common.contains(&folded)) {
                issues.push(format!(
                    "{}: {name:?} is short or a common word: mark the group ambiguous",
                    g.name
                ));
            }
        }
    }
    issues
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_shipped_list_parses_and_lints_clean() {
        let list = parse_groups(GROUPS_TOML).unwrap();
        assert!(list.len() >= 80, "{}", list.len());
        assert_eq!(lint_groups(&list), Vec::<String>::new());
        assert!(list.iter().any(|g| g.name == "LockBit" && !g.ambiguous));
        assert!(list.iter().any(|g| g.name == "Play" && g.ambiguous));
    }

    #[test]
    fn groups_lint_finds_duplicates_and_bare_common_words() {
        let list = parse_groups(
            "[[group]]\nname = \"Lock Bit\"\n[[group]]\nname = \"LOCKBIT\"\n\
             [[group]]\nname = \"Care\"\n[[group]]\nname = \"Zen\"\nambiguous = true\n",
        )
        .unwrap();
        let issues = lint_groups(&list);
        assert_eq!(issues.len(), 2, "{issues:?}");
        assert!(issues[0].contains("folds like"));
        assert!(issues[1].contains("Care"));
    }
}

//! Checks that watchlists will match what they mean and nothing else.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;

use crate::normalize::{fold_name, BREAK};
use crate::validate;
use crate::watchlist::Watchlist;

/// Folded names shorter than this fire on ordinary prose unless the entity is `strict`.
pub const MIN_LOOSE_LEN: usize = 4;

/// How bad a lint finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Worth a look; the lists still work.
    Warning,
    /// The lists will miss or mis-fire: fix before shipping.
    Error,
}

/// One problem in a watchlist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LintIssue {
    /// How bad it is.
    pub level: Level,
    /// The file that holds the entity.
    pub file: PathBuf,
    /// The entity id.
    pub entity: String,
    /// What is wrong and what to do.
    pub message: String,
}

impl fmt::Display for LintIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.level {
            Level::Warning => "warning",
            Level::Error => "error",
        };
        write!(
            f,
            "{}: {level}: {}: {}",
            self.file.display(),
            self.entity,
            self.message
        )
    }
}

/// Words of French, English and Russian prose that are also organisation names or aliases.
/// A non-strict alias that folds to one of these fires on ordinary text.
pub static COMMON_WORDS: &[&str] = &[
    "accueil",
    "acces",
    "access",
    "action",
    "active",
    "activite",
    "aide",
    "alliance",
    "ami",
    "amis",
    "apple",
    "atlas",
    "aura",
    "avenir",
    "avis",
    "azur",
    "base",
    "bien",
    "bio",
    "biologie",
    "bleu",
    "blue",
    "bon",
    "care",
    "cardio",
    "centre",
    "center",
    "ciel",
    "cite",
    "city",
    "clinic",
    "clinique",
    "cloud",
    "coeur",
    "community",
    "confiance",
    "conseil",
    "contact",
    "data",
    "delta",
    "direct",
    "docteur",
    "doctor",
    "domaine",
    "ensemble",
    "equilibre",
    "espace",
    "espoir",
    "europe",
    "expert",
    "famille",
    "first",
    "flash",
    "force",
    "france",
    "free",
    "general",
    "generale",
    "global",
    "groupe",
    "group",
    "harmonie",
    "health",
    "home",
    "hopital",
    "horizon",
    "hospital",
    "humanis",
    "ideal",
    "info",
    "jeune",
    "labo",
    "laboratoire",
    "lumiere",
    "maison",
    "malakoff",
    "matmut",
    "medical",
    "medecin",
    "mediateur",
    "meridien",
    "mobile",
    "mutuelle",
    "nature",
    "net",
    "nord",
    "nouvelle",
    "ocean",
    "one",
    "open",
    "orange",
    "paris",
    "patient",
    "pharma",
    "pharmacie",
    "plus",
    "pole",
    "premier",
    "prevention",
    "prime",
    "pro",
    "public",
    "quotidien",
    "radio",
    "reseau",
    "sante",
    "science",
    "sens",
    "service",
    "services",
    "smart",
    "soins",
    "soleil",
    "solidarite",
    "source",
    "sud",
    "synergie",
    "systeme",
    "terre",
    "unite",
    "unity",
    "valeur",
    "vie",
    "vision",
    "vital",
    "vitale",
    "vivre",
    "web",
    "zen",
    "здоровье",
    "клиника",
    "больница",
    "аптека",
    "лаборатория",
];

/// Runs every check over a watchlist.
pub fn lint(list: &Watchlist) -> Vec<LintIssue> {
    let mut issues = Vec::new();
    let common: HashMap<Vec<u8>, &str> = COMMON_WORDS.iter().map(|w| (fold_name(w), *w)).collect();
    let mut ids: HashMap<&str, usize> = HashMap::new();
    let mut folded_owner: HashMap<Vec<u8>, (usize, String)> = HashMap::new();
    for (i, e) in list.entities().iter().enumerate() {
        let mut issue = |level, message: String| {
            issues.push(LintIssue {
                level,
                file: list.source_of(i).to_path_buf(),
                entity: e.id.clone(),
                message,
            })
        };
        if let Some(&first) = ids.get(e.id.as_str()) {
            issue(
                Level::Error,
                format!(
                    "duplicate id (first defined in {})",
                    list.source_of(first).display()
                ),
            );
        } else {
            ids.insert(&e.id, i);
        }
        if e.domains.is_empty() {
            issue(
                Level::Warning,
                "no domain: e-mails and credentials at its domain will not be recognised".into(),
            );
        }
        for d in &e.domains {
            if !valid_domain(d) {
                issue(
                    Level::Error,
                    format!("domain {d:?} is not a valid host name"),
                );
            }
        }
        for f in &e.finess {
            if !validate::finess(f) {
                issue(Level::Error, format!("FINESS {f:?} fails its check digit"));
            }
        }
        for name in e.names().chain(e.domains.iter().map(String::as_str)) {
            let mut folded = fold_name(name);
            while folded.last() == Some(&BREAK) {
                folded.pop();
            }
            let shown = String::from_utf8_lossy(&folded).replace('\u{FFFD}', " ");
            if folded.len() < 2 {
                issue(
                    Level::Error,
                    format!("{name:?} folds to {shown:?}: too short to match at all"),
                );
                continue;
            }
            let strict = e.is_strict_name(name) || e.domains.iter().any(|d| d == name);
            if !strict && folded.len() < MIN_LOOSE_LEN {
                issue(
                    Level::Error,
                    format!("{name:?} is {} characters once folded and will fire on ordinary prose: move it to `strict_aliases`, mark the entity `strict = true`, or drop it", folded.len()),
                );
            }
            if !strict {
                if let Some(word) = common.get(&folded) {
                    issue(
                        Level::Error,
                        format!("{name:?} is the common word {word:?}: move it to `strict_aliases`, mark the entity `strict = true`, or drop it"),
                    );
                }
            }
            match folded_owner.get(&folded) {
                Some((other, other_name)) if *other != i => {
                    let other_id = &list.entities()[*other].id;
                    issue(
                        Level::Error,
                        format!("{name:?} is the same name as {other_name:?} of entity {other_id:?} once folded: a hit could not tell them apart"),
                    );
                }
                Some(_) => {}
                None => {
                    folded_owner.insert(folded, (i, name.to_string()));
                }
            }
        }
    }
    issues
}

fn valid_domain(d: &str) -> bool {
    let labels: Vec<&str> = d.split('.').collect();
    labels.len() >= 2
        && d.len() <= 253
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_lowercase()))
}

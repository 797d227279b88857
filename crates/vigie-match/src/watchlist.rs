//! The watchlist format (`watchlists/*.toml`) and its loader.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use vigie_core::Category;

use crate::MatchError;

/// One watched organisation, as written in a watchlist file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entity {
    /// Stable id, unique across all files: `[a-z0-9_-]+`.
    pub id: String,
    /// Canonical display name.
    pub name: String,
    /// What kind of organisation it is.
    pub category: Category,
    /// Other spellings; normalisation variants (case, accents, separators...) need not be listed.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Mail and web domains: matched as names, and used for health e-mail and credential detection.
    #[serde(default)]
    pub domains: Vec<String>,
    /// FINESS numbers of its establishments.
    #[serde(default)]
    pub finess: Vec<String>,
    /// Only an exact-case whole-word hit counts (names that are also common words).
    #[serde(default)]
    pub strict: bool,
    /// Extra spellings that count only as exact-case whole words (acronyms such as `HCL` or
    /// `CNIL`), for an entity whose other names are matched loosely.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub strict_aliases: Vec<String>,
    /// Recipient ids to notify (used by the alerts stage).
    #[serde(default)]
    pub notify: Vec<String>,
}

impl Entity {
    /// The canonical name followed by the aliases (strict aliases included).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.name.as_str())
            .chain(self.aliases.iter().map(String::as_str))
            .chain(self.strict_aliases.iter().map(String::as_str))
    }

    /// Whether the entity's name is also an ordinary word or surname (a strict entity whose name
    /// is not in capitals: `Vidal`, `Alan`, `Roche`): its hits count only in a health context.
    pub fn needs_context(&self) -> bool {
        self.strict && self.name.chars().any(char::is_lowercase)
    }

    /// Whether a name of this entity only counts as an exact-case whole word.
    pub fn is_strict_name(&self, name: &str) -> bool {
        self.strict || self.strict_aliases.iter().any(|a| a == name)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WatchlistFile {
    #[serde(default)]
    entity: Vec<Entity>,
    #[serde(default)]
    exclusion: Vec<Exclusion>,
}

/// Phrases in which a watched name names something else (`Bayer Leverkusen`, the football
/// club; `Gordon Ramsay`, the cook): a hit inside one of them does not count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exclusion {
    /// The entity id the phrases are about.
    pub entity: String,
    /// The phrases, matched without regard to ASCII case; each must contain a name of the
    /// entity.
    pub phrases: Vec<String>,
}

/// A set of entities loaded from one or more watchlist files.
#[derive(Debug, Clone, Default)]
pub struct Watchlist {
    entities: Vec<Entity>,
    entity_sources: Vec<usize>,
    sources: Vec<PathBuf>,
    exclusions: Vec<(Exclusion, usize)>,
}

impl Watchlist {
    /// Loads every `*.toml` file of the given files and directories (directories are not recursed).
    ///
    /// Fails on unreadable files, TOML errors, invalid ids and empty names. Duplicate ids are
    /// checked by [`Watchlist::check_unique_ids`]; softer problems (short aliases, aliases
    /// shared by two entities) are reported by [`crate::lint()`].
    pub fn load<P: AsRef<Path>>(paths: &[P]) -> Result<Watchlist, MatchError> {
        let mut files = Vec::new();
        for path in paths {
            let path = path.as_ref();
            let meta = fs::metadata(path).map_err(|source| MatchError::Io {
                path: path.to_path_buf(),
                source,
            })?;
            if meta.is_dir() {
                let mut found = watchlist_files(path)?;
                if found.is_empty() {
                    return Err(MatchError::NoWatchlist(path.to_path_buf()));
                }
                files.append(&mut found);
            } else {
                files.push(path.to_path_buf());
            }
        }
        let mut list = Watchlist::default();
        for file in files {
            let text = fs::read_to_string(&file).map_err(|source| MatchError::Io {
                path: file.clone(),
                source,
            })?;
            list.add_toml(&file, &text)?;
        }
        Ok(list)
    }

    /// Fails on the first id defined twice. [`Watchlist::load`] does not check this, so that
    /// [`crate::lint()`] can report every duplicate; [`crate::Matcher::new`] does.
    pub fn check_unique_ids(&self) -> Result<(), MatchError> {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, e) in self.entities.iter().enumerate() {
            if let Some(&first) = seen.get(e.id.as_str()) {
                return Err(MatchError::WatchlistInvalid {
                    path: self.source_of(i).to_path_buf(),
                    id: e.id.clone(),
                    message: format!(
                        "duplicate id (first defined in {})",
                        self.source_of(first).display()
                    ),
                });
            }
            seen.insert(&e.id, i);
        }
        Ok(())
    }

    /// Parses one watchlist file's text and adds its entities.
    pub fn add_toml(&mut self, path: &Path, text: &str) -> Result<(), MatchError> {
        let parsed: WatchlistFile =
            toml::from_str(text).map_err(|e| MatchError::WatchlistSyntax {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
        let source = self.sources.len();
        self.sources.push(path.to_path_buf());
        for entity in parsed.entity {
            self.add(entity, source)?;
        }
        for exclusion in parsed.exclusion {
            self.exclusions.push((exclusion, source));
        }
        Ok(())
    }

    /// The excluded phrases of each entity, in entity order. Fails on an exclusion about an
    /// entity that is not in the list, or with an empty phrase.
    pub fn exclusions(&self) -> Result<Vec<Vec<String>>, MatchError> {
        let mut out = vec![Vec::new(); self.entities.len()];
        for (x, source) in &self.exclusions {
            let invalid = |message: &str| MatchError::WatchlistInvalid {
                path: self.sources[*source].clone(),
                id: x.entity.clone(),
                message: message.to_string(),
            };
            let Some(i) = self.entities.iter().position(|e| e.id == x.entity) else {
                return Err(invalid("exclusion about an unknown entity"));
            };
            if x.phrases.iter().any(|p| p.trim().is_empty()) {
                return Err(invalid("empty exclusion phrase"));
            }
            out[i].extend(x.phrases.iter().cloned());
        }
        Ok(out)
    }

    fn add(&mut self, entity: Entity, source: usize) -> Result<(), MatchError> {
        let invalid = |message: String| MatchError::WatchlistInvalid {
            path: self.sources[source].clone(),
            id: entity.id.clone(),
            message,
        };
        if entity.id.is_empty()
            || !entity
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        {
            return Err(invalid("id must be non-empty [a-z0-9_-]".into()));
        }
        if entity.name.trim().is_empty() {
            return Err(invalid("name is empty".into()));
        }
        if entity.names().any(|n| n.trim().is_empty()) {
            return Err(invalid("an alias is empty".into()));
        }
        self.entities.push(entity);
        self.entity_sources.push(source);
        Ok(())
    }

    /// The entities, in file order.
    pub fn entities(&self) -> &[Entity] {
        &self.entities
    }

    /// The file an entity (by index) was read from.
    pub fn source_of(&self, index: usize) -> &Path {
        &self.sources[self.entity_sources[index]]
    }

    /// Entity count per category.
    pub fn count_by_category(&self) -> BTreeMap<Category, usize> {
        let mut counts = BTreeMap::new();
        for e in &self.entities {
            *counts.entry(e.category).or_insert(0) += 1;
        }
        counts
    }
}

/// The `*.toml` files directly inside a directory, sorted by name.
pub fn watchlist_files(dir: &Path) -> Result<Vec<PathBuf>, MatchError> {
    let io = |source| MatchError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.extension().is_some_and(|e| e == "toml") && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

//! Per-group profiles: data (TOML in `crates/vigie-pages/profiles/`) for the sites the generic
//! extractor reads wrong. Each says how to recognise the site and where its victim blocks and
//! their parts are; the rest (dates, sizes, countdowns) is read as for any site.

use std::collections::BTreeMap;

use scraper::{ElementRef, Html, Selector};
use serde::Deserialize;

use super::fields::{el_text, entry_from_block, resolve};
use crate::{Entry, PageContext};

/// The shipped profiles' sources, compiled in: (file name, text).
const SHIPPED: &[(&str, &str)] = &[("daixin.toml", include_str!("../../profiles/daixin.toml"))];

/// A profile that cannot be used, and why.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// Not valid TOML, or a key this format does not have.
    #[error("profile {file}: {message}")]
    Syntax {
        /// The profile file.
        file: String,
        /// What the TOML reader said.
        message: String,
    },
    /// A CSS selector that does not parse.
    #[error("profile {file}: {key} = {selector:?} is not a valid CSS selector")]
    Selector {
        /// The profile file.
        file: String,
        /// The key holding it.
        key: String,
        /// The selector as written.
        selector: String,
    },
    /// Nothing says which site the profile is for.
    #[error("profile {file}: [match] needs hosts, title_contains or selector")]
    NoMatch {
        /// The profile file.
        file: String,
    },
    /// Two profiles with one name.
    #[error("profile {file}: name {name:?} is used twice")]
    Duplicate {
        /// The profile file.
        file: String,
        /// The name.
        name: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    fixtures: Vec<String>,
    #[serde(rename = "match")]
    matcher: RawMatch,
    select: RawSelect,
    #[serde(default)]
    fields: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMatch {
    #[serde(default)]
    hosts: Vec<String>,
    #[serde(default)]
    title_contains: Vec<String>,
    selector: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSelect {
    entry: String,
    name: Option<String>,
    body: Option<String>,
    next_page: Option<String>,
}

/// A shipped per-group profile (`crates/vigie-pages/profiles/*.toml`), validated.
#[derive(Debug, Clone)]
pub struct Profile {
    /// The group, as the file names it.
    pub name: String,
    /// What the profile is for, in a sentence.
    pub description: String,
    /// The real pages it was written against (paths under the repository root).
    pub fixtures: Vec<String>,
    hosts: Vec<String>,
    title_contains: Vec<String>,
    present: Option<Selector>,
    entry: Selector,
    name_sel: Option<Selector>,
    body: Option<Selector>,
    next_page: Option<Selector>,
    fields: Vec<(String, Selector)>,
}

impl PartialEq for Profile {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for Profile {}

fn selector(file: &str, key: &str, s: &str) -> Result<Selector, ProfileError> {
    Selector::parse(s).map_err(|_| ProfileError::Selector {
        file: file.to_string(),
        key: key.to_string(),
        selector: s.to_string(),
    })
}

impl Profile {
    /// Reads and validates one profile; `file` names it in errors.
    pub fn from_toml(file: &str, text: &str) -> Result<Profile, ProfileError> {
        let raw: RawProfile = toml::from_str(text).map_err(|e| ProfileError::Syntax {
            file: file.to_string(),
            message: e.message().to_string(),
        })?;
        let m = &raw.matcher;
        if m.hosts.is_empty() && m.title_contains.is_empty() && m.selector.is_none() {
            return Err(ProfileError::NoMatch {
                file: file.to_string(),
            });
        }
        let opt = |key: &str, s: &Option<String>| -> Result<Option<Selector>, ProfileError> {
            s.as_deref().map(|s| selector(file, key, s)).transpose()
        };
        let mut fields = Vec::new();
        for (k, s) in &raw.fields {
            fields.push((k.clone(), selector(file, &format!("fields.{k}"), s)?));
        }
        Ok(Profile {
            present: opt("match.selector", &m.selector)?,
            entry: selector(file, "select.entry", &raw.select.entry)?,
            name_sel: opt("select.name", &raw.select.name)?,
            body: opt("select.body", &raw.select.body)?,
            next_page: opt("select.next_page", &raw.select.next_page)?,
            fields,
            hosts: m.hosts.iter().map(|h| h.to_ascii_lowercase()).collect(),
            title_contains: m.title_contains.iter().map(|t| t.to_lowercase()).collect(),
            name: raw.name,
            description: raw.description,
            fixtures: raw.fixtures,
        })
    }

    /// Whether this profile is for the page: its host is listed, or its title, the required
    /// element and its victim blocks are all there.
    pub fn matches(&self, doc: &Html, ctx: &PageContext) -> bool {
        let host = ctx.base.host_str().unwrap_or_default().to_ascii_lowercase();
        if self.hosts.contains(&host) {
            return true;
        }
        let title_ok = self.title_contains.is_empty() || {
            let title = Selector::parse("title")
                .ok()
                .and_then(|s| doc.select(&s).next().map(el_text))
                .unwrap_or_default()
                .to_lowercase();
            self.title_contains
                .iter()
                .any(|t| title.contains(t.as_str()))
        };
        let present_ok = self
            .present
            .as_ref()
            .is_none_or(|s| doc.select(s).next().is_some());
        // A profile whose blocks are not on the page is not for it, whatever the title says.
        let entries_ok = doc.select(&self.entry).next().is_some();
        (self.present.is_some() || !self.title_contains.is_empty())
            && title_ok
            && present_ok
            && entries_ok
    }

    /// The victims of a page this profile is for.
    pub(crate) fn extract(&self, doc: &Html, ctx: &PageContext) -> Vec<Entry> {
        let mut out = Vec::new();
        for block in doc.select(&self.entry) {
            let name_el = self.name_sel.as_ref().and_then(|s| block.select(s).next());
            let body_el = self.body.as_ref().and_then(|s| block.select(s).next());
            let Some(mut e) = entry_from_block(block, name_el, body_el, ctx) else {
                continue;
            };
            for (k, s) in &self.fields {
                let v = block.select(s).next().map(el_text).unwrap_or_default();
                if !v.is_empty() {
                    e.fields.insert(k.clone(), v);
                }
            }
            out.push(e);
        }
        out
    }

    pub(crate) fn next_page(&self, doc: &Html, ctx: &PageContext) -> Option<url::Url> {
        let s = self.next_page.as_ref()?;
        doc.select(s)
            .next()
            .and_then(|a: ElementRef<'_>| a.value().attr("href"))
            .and_then(|h| resolve(h, ctx))
    }
}

/// Reads and validates profiles from (file name, TOML text) pairs.
pub fn load_profiles<'a>(
    sources: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<Vec<Profile>, ProfileError> {
    let mut out: Vec<Profile> = Vec::new();
    for (file, text) in sources {
        let p = Profile::from_toml(file, text)?;
        if out.iter().any(|o| o.name == p.name) {
            return Err(ProfileError::Duplicate {
                file: file.to_string(),
                name: p.name,
            });
        }
        out.push(p);
    }
    Ok(out)
}

/// The shipped profiles, compiled into the binary and validated (a test loads them, so an
/// error here is a bug in a shipped file).
pub fn shipped_profiles() -> Result<Vec<Profile>, ProfileError> {
    load_profiles(SHIPPED.iter().copied())
}

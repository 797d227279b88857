//! Turns the official FINESS establishment extract into a watchlist.
//!
//! The extract is the semicolon-separated "etalab" file published on data.gouv.fr
//! (`etalab-cs1100507-stock-*.csv`): a first line `finess;etalab;…`, then one
//! `structureet;…` line per establishment and `geolocalisation;…` lines. It is read as UTF-8,
//! or as Windows-1252 when it is not valid UTF-8 (older extracts).
//!
//! Names too generic to match safely are dropped: names that appear more than once in the
//! extract ("PHARMACIE DU CENTRE"), and names whose every word is generic (pharmacie, centre,
//! hospitalier, de, la...) or too short.

use std::collections::HashMap;
use std::path::Path;

use vigie_core::Category;

use crate::lint::COMMON_WORDS;
use crate::normalize::fold_name;
use crate::validate;
use crate::watchlist::Entity;
use crate::MatchError;

// Columns of a `structureet` line.
const COL_FINESS: usize = 1;
const COL_RS: usize = 3;
const COL_RS_LONG: usize = 4;
const COL_DEPT: usize = 13;
const COL_CATEGORY_LABEL: usize = 19;
const MIN_COLUMNS: usize = 20;

/// Words that say what an establishment is, not which one it is.
static GENERIC: &[&str] = &[
    "pharmacie",
    "centre",
    "hospitalier",
    "hospitaliere",
    "hopital",
    "hopitaux",
    "clinique",
    "laboratoire",
    "biologie",
    "medicale",
    "medical",
    "analyses",
    "de",
    "du",
    "des",
    "la",
    "le",
    "les",
    "l",
    "d",
    "et",
    "en",
    "sur",
    "au",
    "aux",
    "ehpad",
    "residence",
    "maison",
    "sante",
    "cabinet",
    "service",
    "services",
    "soins",
    "site",
    "ch",
    "chu",
    "chr",
    "sas",
    "selas",
    "selarl",
    "sarl",
    "sa",
    "snc",
    "eurl",
    "gie",
    "gcs",
    "centrale",
    "principale",
    "nouvelle",
    "grande",
    "petite",
    "gare",
    "place",
    "marche",
    "eglise",
    "mairie",
    "poste",
    "ville",
    "village",
    "bourg",
    "rue",
    "avenue",
    "boulevard",
    "route",
    "quartier",
    "saint",
    "sainte",
    "st",
    "ste",
    "mutualiste",
    "prive",
    "privee",
    "public",
    "publique",
    "polyclinique",
    "dispensaire",
    "officine",
    "lbm",
    "ssr",
    "smr",
    "usld",
    "ime",
    "esat",
    "foyer",
    "accueil",
];

/// One establishment kept, and why others were dropped.
#[derive(Debug, Default)]
pub struct FinessImport {
    /// The entities, one per kept establishment.
    pub entities: Vec<Entity>,
    /// Establishments read.
    pub read: usize,
    /// Dropped because the name appears more than once.
    pub dropped_duplicate: usize,
    /// Dropped because the name is generic.
    pub dropped_generic: usize,
    /// Dropped because the FINESS number fails its check.
    pub dropped_invalid: usize,
}

/// Reads an extract from a file.
pub fn import_file(path: &Path) -> Result<FinessImport, MatchError> {
    let bytes = std::fs::read(path).map_err(|source| MatchError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    import(path, &bytes)
}

/// Reads an extract's bytes; `path` is only used in errors.
pub fn import(path: &Path, bytes: &[u8]) -> Result<FinessImport, MatchError> {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => std::borrow::Cow::Borrowed(t),
        Err(_) => encoding_rs::WINDOWS_1252.decode(bytes).0,
    };
    let format_error = |line: u64, message: &str| MatchError::FinessFormat {
        path: path.to_path_buf(),
        line,
        message: message.to_string(),
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let mut saw_structure = false;
    for (n, record) in reader.records().enumerate() {
        let line = n as u64 + 1;
        let record = record.map_err(|e| format_error(line, &e.to_string()))?;
        match record.get(0) {
            Some("finess") if n == 0 => continue,
            Some("structureet") => {
                saw_structure = true;
                if record.len() < MIN_COLUMNS {
                    return Err(format_error(
                        line,
                        &format!("structureet line has {} columns, expected at least {MIN_COLUMNS}", record.len()),
                    ));
                }
                rows.push((
                    record[COL_FINESS].trim().to_string(),
                    record[COL_RS].trim().to_string(),
                    record[COL_RS_LONG].trim().to_string(),
                    record[COL_DEPT].trim().to_string(),
                    record[COL_CATEGORY_LABEL].trim().to_string(),
                ));
            }
            Some("geolocalisation") => {}
            _ if n == 0 => {
                return Err(format_error(
                    line,
                    "not an etalab FINESS extract (expected a first line starting with `finess;etalab`)",
                ))
            }
            _ => {}
        }
    }
    if !saw_structure {
        return Err(format_error(1, "no `structureet` line"));
    }
    let mut name_counts: HashMap<Vec<u8>, usize> = HashMap::new();
    for (_, rs, long, _, _) in &rows {
        *name_counts
            .entry(fold_name(best_name(rs, long)))
            .or_insert(0) += 1;
    }
    let mut out = FinessImport {
        read: rows.len(),
        ..FinessImport::default()
    };
    for (finess, rs, long, _dept, label) in rows {
        if !validate::finess(&finess) {
            out.dropped_invalid += 1;
            continue;
        }
        let name = best_name(&rs, &long).to_string();
        if name_counts.get(&fold_name(&name)).copied().unwrap_or(0) > 1 {
            out.dropped_duplicate += 1;
            continue;
        }
        if is_generic(&name) {
            out.dropped_generic += 1;
            continue;
        }
        let aliases = if !rs.is_empty() && fold_name(&rs) != fold_name(&name) && !is_generic(&rs) {
            vec![rs.clone()]
        } else {
            Vec::new()
        };
        out.entities.push(Entity {
            id: format!("finess-{}", finess.to_ascii_lowercase()),
            name,
            category: category_of(&label),
            aliases,
            domains: Vec::new(),
            finess: vec![finess],
            strict: false,
            strict_aliases: Vec::new(),
            notify: Vec::new(),
        });
    }
    Ok(out)
}

fn best_name<'a>(rs: &'a str, long: &'a str) -> &'a str {
    if long.is_empty() {
        rs
    } else {
        long
    }
}

fn is_generic(name: &str) -> bool {
    let lower = name.to_lowercase();
    let folded_words: Vec<String> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| String::from_utf8_lossy(&fold_name(w)).into_owned())
        .collect();
    let generic: Vec<String> = GENERIC
        .iter()
        .chain(COMMON_WORDS)
        .map(|w| String::from_utf8_lossy(&fold_name(w)).into_owned())
        .collect();
    !folded_words
        .iter()
        .any(|w| w.len() >= 4 && !generic.contains(w) && !w.bytes().all(|b| b.is_ascii_digit()))
}

fn category_of(label: &str) -> Category {
    let l = label.to_lowercase();
    if l.contains("pharmacie") {
        Category::Pharmacy
    } else if l.contains("laboratoire") || l.contains("biologie") {
        Category::Lab
    } else if l.contains("centre hospitalier") || l.contains("c.h.") || l.contains("hôpital") {
        Category::Hospital
    } else if l.contains("soins") || l.contains("clinique") || l.contains("chirurg") {
        Category::ClinicGroup
    } else {
        Category::Other
    }
}

/// Renders entities as a watchlist file.
pub fn to_toml(entities: &[Entity]) -> String {
    #[derive(serde::Serialize)]
    struct File<'a> {
        entity: &'a [Entity],
    }
    let mut out = String::from(
        "# Generated by `vigie watchlist import-finess` from the FINESS etalab extract.\n\
         # Review before shipping: names kept here matched no generic-name rule.\n\n",
    );
    // Serialising plain strings, vectors and enums cannot fail.
    out.push_str(&toml::to_string(&File { entity: entities }).unwrap_or_default());
    out
}

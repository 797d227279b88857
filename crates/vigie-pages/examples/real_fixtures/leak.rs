//! Leak sites: every page under `tests/fixtures/real/leak-sites/` read by `read_leak_page`
//! with the shipped profiles and compared with the expected file written by reading the page.
//! Shared by the example (`real_fixtures leak-sites`) and the test `tests/leak_real.rs`.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use vigie_pages::leak::{read_leak_page, shipped_profiles};
use vigie_pages::PageContext;

/// One expected victim, as the page shows it.
#[derive(Debug, Deserialize)]
pub struct ExpectedVictim {
    pub name: String,
    /// Other fields shown (`website`, `country`, `date`, `data_size`, `status`, ...).
    #[serde(flatten)]
    pub fields: BTreeMap<String, String>,
}

/// The expected file of one fixture.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expected {
    /// The group.
    pub group: String,
    /// What the page is: "listing", "detail".
    pub page: String,
    #[serde(default)]
    pub victim: Vec<ExpectedVictim>,
}

/// The score of one fixture.
#[derive(Debug, Default, Clone)]
pub struct Score {
    pub file: String,
    pub group: String,
    pub profile: Option<String>,
    pub victims_expected: usize,
    pub victims_found: usize,
    /// Victims found by the generic extractor alone (no profile).
    pub victims_found_generic: usize,
    pub spurious: usize,
    pub fields_expected: usize,
    pub fields_found: usize,
    pub missing: Vec<String>,
    pub extra: Vec<String>,
    pub wrong_fields: Vec<String>,
    /// A non-content page (`_noncontent/`): every entry is spurious.
    pub noncontent: bool,
}

/// The field names an expected file may use (`date` is compared with `date_text`).
pub const FIELD_KEYS: &[&str] = &[
    "website",
    "country",
    "sector",
    "revenue",
    "date",
    "data_size",
    "countdown",
    "deadline",
    "status",
    "views",
];

fn norm(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/real/leak-sites")
}

fn html_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    v.retain(|p| p.extension().is_some_and(|e| e == "html"));
    v.sort();
    v
}

fn read_with(path: &Path, with_profiles: bool) -> vigie_pages::leak::LeakPage {
    let bytes = std::fs::read(path).expect("page readable");
    let html = String::from_utf8_lossy(&bytes);
    let doc =
        vigie_html::parse_document(&html, vigie_html::DEFAULT_MAX_DEPTH).expect("fixture parses");
    let ctx = PageContext::new(url::Url::parse("http://leaksite.example.onion/").expect("url"));
    let profiles = if with_profiles {
        shipped_profiles().expect("shipped profiles load")
    } else {
        Vec::new()
    };
    read_leak_page(&doc, &ctx, &profiles)
}

fn read(path: &Path) -> (vigie_pages::leak::LeakPage, String) {
    (read_with(path, true), String::new())
}

/// Scores every fixture (content pages, then `_noncontent/`).
pub fn score_all() -> Vec<Score> {
    let dir = fixtures_dir();
    let mut out = Vec::new();
    for path in html_files(&dir) {
        let exp_path = path.with_extension("toml");
        let text = std::fs::read_to_string(&exp_path)
            .unwrap_or_else(|_| panic!("{} has no expected file", path.display()));
        let expected: Expected =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", exp_path.display()));
        for v in &expected.victim {
            for k in v.fields.keys() {
                assert!(
                    FIELD_KEYS.contains(&k.as_str()),
                    "{}: unknown field {k}",
                    exp_path.display()
                );
            }
        }
        let (page, _) = read(&path);
        let mut s = Score {
            file: path
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default(),
            group: expected.group.clone(),
            profile: page.profile.clone(),
            victims_expected: expected.victim.len(),
            ..Score::default()
        };
        let mut used = vec![false; page.victims.len()];
        for ev in &expected.victim {
            s.fields_expected += ev.fields.len();
            let hit = page
                .victims
                .iter()
                .enumerate()
                .find(|(i, e)| !used[*i] && norm(&e.title) == norm(&ev.name));
            let Some((i, e)) = hit else {
                s.missing.push(ev.name.clone());
                continue;
            };
            used[i] = true;
            s.victims_found += 1;
            for (k, want) in &ev.fields {
                let got = match k.as_str() {
                    "date" => e.date_text.clone(),
                    _ => e.fields.get(k).cloned().unwrap_or_default(),
                };
                if !got.is_empty() && norm(&got).contains(&norm(want)) {
                    s.fields_found += 1;
                } else {
                    s.wrong_fields
                        .push(format!("{}: {k} = {got:?}, expected {want:?}", ev.name));
                }
            }
        }
        let generic = read_with(&path, false);
        s.victims_found_generic = expected
            .victim
            .iter()
            .filter(|ev| {
                generic
                    .victims
                    .iter()
                    .any(|e| norm(&e.title) == norm(&ev.name))
            })
            .count();
        for (i, e) in page.victims.iter().enumerate() {
            if !used[i] {
                s.spurious += 1;
                s.extra.push(e.title.clone());
            }
        }
        out.push(s);
    }
    for path in html_files(&dir.join("_noncontent")) {
        let (page, _) = read(&path);
        out.push(Score {
            file: format!(
                "_noncontent/{}",
                path.file_name()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_default()
            ),
            group: String::new(),
            profile: page.profile.clone(),
            spurious: page.victims.len(),
            extra: page.victims.iter().map(|e| e.title.clone()).collect(),
            noncontent: true,
            ..Score::default()
        });
    }
    out
}

/// Prints the table (Markdown) and the totals; returns the scores.
pub fn run(verbose: bool) -> Vec<Score> {
    let scores = score_all();
    println!("| fixture | group | profile | victims found / expected | without profiles | spurious | fields found / expected |");
    println!("|---|---|---|---|---|---|---|");
    let (mut ve, mut vf, mut sp, mut fe, mut ff, mut groups) =
        (0, 0, 0, 0, 0, std::collections::BTreeSet::new());
    for s in &scores {
        if s.noncontent {
            println!(
                "| {} | (non-content) | {} | – | – | {} | – |",
                s.file,
                s.profile.as_deref().unwrap_or("generic"),
                s.spurious
            );
        } else {
            println!(
                "| {} | {} | {} | {} / {} | {} | {} | {} / {} |",
                s.file,
                s.group,
                s.profile.as_deref().unwrap_or("generic"),
                s.victims_found,
                s.victims_expected,
                s.victims_found_generic,
                s.spurious,
                s.fields_found,
                s.fields_expected
            );
            groups.insert(s.group.clone());
        }
        ve += s.victims_expected;
        vf += s.victims_found;
        sp += s.spurious;
        fe += s.fields_expected;
        ff += s.fields_found;
        if verbose {
            for m in &s.missing {
                println!("    missing: {m}");
            }
            for x in &s.extra {
                println!("    spurious: {x}");
            }
            for w in &s.wrong_fields {
                println!("    field: {w}");
            }
        }
    }
    let pages = scores.iter().filter(|s| !s.noncontent).count();
    let nc = scores.iter().filter(|s| s.noncontent).count();
    let pct = |a: usize, b: usize| {
        if b == 0 {
            100.0
        } else {
            100.0 * a as f64 / b as f64
        }
    };
    println!(
        "\n{pages} leak-site pages from {} groups, {nc} non-content pages: victims {vf} / {ve} ({:.1} %), spurious {sp}, fields {ff} / {fe} ({:.1} %)",
        groups.len(),
        pct(vf, ve),
        pct(ff, fe)
    );
    scores
}

/// Reads leak-site pages that are not fixtures (no expected file) and prints what was read:
/// the number of victims, then one line per victim (name, then its fields). For measuring on
/// real pages outside the repository: compare with what a reader counts on each page.
pub fn batch(paths: &[String]) {
    for p in paths {
        let path = Path::new(p);
        let page = read_with(path, true);
        println!(
            "== {} : {} victims (profile {})",
            path.file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default(),
            page.victims.len(),
            page.profile.as_deref().unwrap_or("generic")
        );
        for e in &page.victims {
            let fields: Vec<String> = e.fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
            println!("  {} | {} | {}", e.title, e.date_text, fields.join(" "));
        }
    }
}

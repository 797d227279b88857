//! Scores the matcher on the labelled evaluation set (`tests/fixtures/eval`): the confusion
//! table of document kinds, alert precision and recall (an alert is severity high or
//! critical), and the goals. Shared by `examples/eval.rs` and `tests/eval.rs`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use vigie_core::{DocumentKind, Origin, Report, Severity};
use vigie_match::{Matcher, ScanOptions, Watchlist};

/// One labelled document, as written in `labels.toml` by whoever wrote the document.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Label {
    pub file: String,
    pub kind: DocumentKind,
    pub alert: bool,
    pub severity: Severity,
    #[serde(default)]
    pub origin: Option<String>,
    pub lang: String,
    /// What the document is about, for the goals: `health_claim`, `nonhealth_leak`, ...
    #[serde(default)]
    pub group: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LabelsFile {
    doc: Vec<Label>,
}

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn load_labels(dir: &Path) -> Vec<Label> {
    let text = std::fs::read_to_string(dir.join("labels.toml")).expect("labels.toml");
    toml::from_str::<LabelsFile>(&text)
        .expect("labels parse")
        .doc
}

pub fn matcher() -> Matcher {
    let list = Watchlist::load(&[workspace().join("watchlists")]).expect("watchlists");
    Matcher::new(&list).expect("matcher")
}

pub struct Scored {
    pub label: Label,
    pub report: Report,
}

pub fn run(dir: &Path) -> Vec<Scored> {
    let m = matcher();
    load_labels(dir)
        .into_iter()
        .map(|label| {
            let bytes = std::fs::read(dir.join(&label.file)).expect("document");
            let origin = label
                .origin
                .as_deref()
                .map_or(Origin::Unknown, |o| o.parse().expect("origin"));
            let options = ScanOptions {
                origin,
                ..ScanOptions::default()
            };
            let report = m.scan_bytes(&label.file, &bytes, options);
            Scored { label, report }
        })
        .collect()
}

pub fn alerted(r: &Report) -> bool {
    r.severity >= Severity::High
}

#[derive(Debug, Default)]
pub struct Summary {
    pub docs: usize,
    pub kind_correct: usize,
    pub severity_correct: usize,
    pub tp: usize,
    pub fp: usize,
    pub fn_: usize,
    pub tn: usize,
    pub health_claims: usize,
    pub health_claims_alerted: usize,
    pub nonhealth_leaks: usize,
    pub nonhealth_leaks_alerted: usize,
    /// expected kind → found kind → count
    pub confusion: BTreeMap<DocumentKind, BTreeMap<DocumentKind, usize>>,
    pub by_lang: BTreeMap<String, usize>,
}

impl Summary {
    pub fn precision(&self) -> f64 {
        self.tp as f64 / (self.tp + self.fp).max(1) as f64
    }
    pub fn recall(&self) -> f64 {
        self.tp as f64 / (self.tp + self.fn_).max(1) as f64
    }
}

pub fn summarise(scored: &[Scored]) -> Summary {
    let mut s = Summary::default();
    for d in scored {
        s.docs += 1;
        *s.by_lang.entry(d.label.lang.clone()).or_default() += 1;
        *s.confusion
            .entry(d.label.kind)
            .or_default()
            .entry(d.report.kind)
            .or_default() += 1;
        s.kind_correct += usize::from(d.label.kind == d.report.kind);
        s.severity_correct += usize::from(d.label.severity == d.report.severity);
        match (d.label.alert, alerted(&d.report)) {
            (true, true) => s.tp += 1,
            (false, true) => s.fp += 1,
            (true, false) => s.fn_ += 1,
            (false, false) => s.tn += 1,
        }
        if d.label.group == "health_claim" {
            s.health_claims += 1;
            s.health_claims_alerted += usize::from(alerted(&d.report));
        }
        if d.label.group == "nonhealth_leak" {
            s.nonhealth_leaks += 1;
            s.nonhealth_leaks_alerted += usize::from(alerted(&d.report));
        }
    }
    s
}

fn short(k: DocumentKind) -> &'static str {
    match k {
        DocumentKind::Sale => "sale",
        DocumentKind::FreeDump => "dump",
        DocumentKind::RansomwareClaim => "claim",
        DocumentKind::Request => "req",
        DocumentKind::Teaser => "teaser",
        DocumentKind::News => "news",
        DocumentKind::Discussion => "disc",
    }
}

/// The table the README shows.
pub fn table(s: &Summary) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{} documents ({})\n\n",
        s.docs,
        s.by_lang
            .iter()
            .map(|(l, n)| format!("{l} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    out.push_str("| expected \\ found |");
    for k in DocumentKind::ALL {
        out.push_str(&format!(" {} |", short(k)));
    }
    out.push_str(" recall |\n|---|");
    for _ in DocumentKind::ALL {
        out.push_str("---|");
    }
    out.push_str("---|\n");
    for e in DocumentKind::ALL {
        let row = s.confusion.get(&e);
        let total: usize = row.map_or(0, |r| r.values().sum());
        if total == 0 {
            continue;
        }
        out.push_str(&format!("| {} |", e.as_str()));
        for f in DocumentKind::ALL {
            let n = row.and_then(|r| r.get(&f)).copied().unwrap_or(0);
            out.push_str(&format!(" {n} |"));
        }
        let ok = row.and_then(|r| r.get(&e)).copied().unwrap_or(0);
        out.push_str(&format!(" {ok}/{total} |\n"));
    }
    out.push_str(&format!(
        "\nkind accuracy {}/{} ({:.3}); severity exact {}/{} ({:.3})\n",
        s.kind_correct,
        s.docs,
        s.kind_correct as f64 / s.docs.max(1) as f64,
        s.severity_correct,
        s.docs,
        s.severity_correct as f64 / s.docs.max(1) as f64
    ));
    out.push_str(&format!(
        "alerts (high or critical): {} true, {} false, {} missed, {} rightly quiet; precision {:.3}, recall {:.3}\n",
        s.tp,
        s.fp,
        s.fn_,
        s.tn,
        s.precision(),
        s.recall()
    ));
    out.push_str(&format!(
        "ransomware claims on health organisations alerted: {}/{}; non-health leaks alerted: {}/{}\n",
        s.health_claims_alerted, s.health_claims, s.nonhealth_leaks_alerted, s.nonhealth_leaks
    ));
    out
}

/// Documents whose kind, alert decision or severity differ from their label.
pub fn mistakes(scored: &[Scored]) -> Vec<String> {
    scored
        .iter()
        .filter(|d| {
            d.label.kind != d.report.kind
                || d.label.alert != alerted(&d.report)
                || d.label.severity != d.report.severity
        })
        .map(|d| {
            format!(
                "{}: expected {} {} alert={}, found {} {} ({})",
                d.label.file,
                d.label.kind,
                d.label.severity,
                d.label.alert,
                d.report.kind,
                d.report.severity,
                d.report.why.join("; ")
            )
        })
        .collect()
}

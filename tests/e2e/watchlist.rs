//! End-to-end tests of `vigie watchlist lint` and `import-finess`, and of the shipped lists.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn vigie(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args(args)
        .output()
        .expect("vigie runs")
}

#[test]
fn shipped_watchlists_pass_lint() {
    let dir = root().join("watchlists").display().to_string();
    let out = vigie(&["watchlist", "lint", &dir]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "lint errors:\n{stdout}");
    assert!(!stdout.contains("error"), "{stdout}");
}

#[test]
fn shipped_watchlists_cover_the_sector_and_the_seeds() {
    let list = vigie_match::Watchlist::load(&[root().join("watchlists")]).unwrap();
    assert!(
        list.entities().len() >= 300,
        "{} entities",
        list.entities().len()
    );
    assert!(
        list.entities().iter().all(|e| !e.domains.is_empty()),
        "every entity has a domain"
    );
    let counts = list.count_by_category();
    for (cat, min) in [
        (vigie_core::Category::Hospital, 32),
        (vigie_core::Category::Lab, 10),
        (vigie_core::Category::SoftwareVendor, 30),
        (vigie_core::Category::Insurer, 20),
        (vigie_core::Category::Agency, 20),
    ] {
        assert!(
            counts.get(&cat).copied().unwrap_or(0) >= min,
            "{cat}: {counts:?}"
        );
    }
    // Every organisation named in the seed articles is recognised in them.
    let matcher = vigie_match::Matcher::new(&list).unwrap();
    let seeds = root().join("../shared/seeds");
    let mut found = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(&seeds).expect("shared/seeds beside the repo") {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let r = matcher.scan_text("seed", &text, Default::default());
        found.extend(r.entities.into_iter().map(|e| e.id));
    }
    for id in [
        "medecindirect",
        "weda",
        "cerballiance",
        "pharmagest",
        "winpharma",
        "smart-rx",
        "pierre-fabre",
        "federgy",
        "fspf",
        "uspo",
        "udgpo",
        "cngpo",
        "ma-pharmacie-en-france",
        "la-poste-sante",
        "mediphantom",
        "gen-digital",
        "dumpsec",
        "cnil",
        "leroy-merlin",
        "ans",
        "zataz",
        "oclctic",
        "ticpharma",
    ] {
        assert!(
            found.contains(id),
            "seed organisation {id} not found; found {found:?}"
        );
    }
}

#[test]
fn lint_reports_each_kind_of_problem() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.toml"),
        r#"
[[entity]]
id = "dup"
name = "Harmonie"
category = "insurer"
aliases = ["HM"]
domains = ["not a domain"]
finess = ["750712185"]

[[entity]]
id = "dup"
name = "Another Lab"
category = "lab"
aliases = ["Harmonie"]
domains = ["another-lab.fr"]
"#,
    )
    .unwrap();
    let out = vigie(&["watchlist", "lint", &dir.path().display().to_string()]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "duplicate id",
        "common word",
        "characters once folded",
        "FINESS \"750712185\"",
        "not a valid host name",
        "same name as",
    ] {
        assert!(stdout.contains(needle), "missing {needle:?} in:\n{stdout}");
    }
}

#[test]
fn import_finess_keeps_distinctive_names() {
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("finess.toml");
    let extract = root().join("tests/fixtures/finess/etalab-cs1100507-stock-sample.csv");
    let out = vigie(&[
        "watchlist",
        "import-finess",
        &extract.display().to_string(),
        "--out",
        &out_file.display().to_string(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list = vigie_match::Watchlist::load(&[&out_file]).unwrap();
    let names: Vec<&str> = list.entities().iter().map(|e| e.name.as_str()).collect();
    assert!(
        names.contains(&"GROUPE HOSPITALIER PITIE SALPETRIERE"),
        "{names:?}"
    );
    assert!(
        names.contains(&"CENTRE HOSPITALIER DE SAINT-NAZAIRE"),
        "{names:?}"
    );
    assert!(names.contains(&"LABORATOIRE BIOLAM KERVAD"), "{names:?}");
    // Generic and duplicated names, and a bad check digit, are dropped.
    for dropped in [
        "PHARMACIE DU CENTRE",
        "LABORATOIRE DE BIOLOGIE MEDICALE",
        "PHARMACIE DE LA GARE",
        "CENTRE HOSPITALIER FICTIF BADKEY",
    ] {
        assert!(!names.contains(&dropped), "{dropped} kept");
    }
    let lab = list
        .entities()
        .iter()
        .find(|e| e.name == "LABORATOIRE BIOLAM KERVAD")
        .unwrap();
    assert_eq!(lab.category, vigie_core::Category::Lab);
    assert!(vigie_match::validate::finess(&lab.finess[0]));
    // The generated file passes lint except for the missing domains the extract cannot give.
    let lint = vigie(&["watchlist", "lint", &out_file.display().to_string()]);
    assert_eq!(
        lint.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&lint.stdout)
    );
}

#[test]
fn import_finess_rejects_other_files() {
    let not = root().join("tests/fixtures/finess/not-finess.csv");
    let out = vigie(&["watchlist", "import-finess", &not.display().to_string()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an etalab FINESS extract"));
}

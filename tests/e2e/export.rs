//! End-to-end tests of `vigie export misp|stix`: the output is loaded by the reference Python
//! libraries (PyMISP, stix2), what an analyst relies on survives, and no raw identifier leaves.

use std::path::{Path, PathBuf};
use std::process::Command;

mod support;
use support::{ok, root, vigie};

use vigie_match::validate::nir_key;

fn python(script: &str, args: &[&Path]) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "python (pymisp and stix2 are installed by ops/deps.sh): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A store with the reposts (one CHU de Nantes incident seen on five places) and a sale full
/// of valid NIRs; returns it and the NIRs.
fn store_with_incidents(dir: &Path) -> (PathBuf, Vec<String>) {
    let store = dir.join("store");
    let reposts = root().join("tests/fixtures/reposts");
    for (name, source) in [
        ("forum_a_original.txt", "forum-a"),
        ("forum_b_repost_price.txt", "forum-b"),
    ] {
        ok(&vigie(
            &store,
            &[
                "ingest",
                "--seen-at",
                "2026-11-18",
                "--source",
                source,
                reposts.join(name).to_str().unwrap(),
            ],
        ));
    }
    let nirs: Vec<String> = (0..30u32)
        .map(|i| {
            let body = format!(
                "2{:02}{:02}75{:03}{:03}",
                50 + i,
                1 + i % 12,
                100 + i,
                1 + i
            );
            format!("{body}{:02}", nir_key(&body).unwrap())
        })
        .collect();
    let mut doc = String::from("Vente base patients Hospices Civils de Lyon, 90 000 dossiers. Prix 2000 USD BTC.\nnom;prenom;nir\n");
    for (i, n) in nirs.iter().enumerate() {
        doc.push_str(&format!("NOM{i};PRENOM{i};{n}\n"));
    }
    let path = dir.join("hcl.txt");
    std::fs::write(&path, doc).unwrap();
    ok(&vigie(
        &store,
        &[
            "ingest",
            "--seen-at",
            "2026-11-19",
            "--source",
            "forum-c",
            path.to_str().unwrap(),
        ],
    ));
    (store, nirs)
}

fn assert_no_nir(text: &str, nirs: &[String]) {
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    for n in nirs {
        assert!(!digits.contains(&n[..13]), "NIR {n} exported");
    }
    assert!(!text.contains("NOM1;"), "sample rows exported");
}

#[test]
fn misp_events_load_in_pymisp_with_their_attributes() {
    let dir = tempfile::tempdir().unwrap();
    let (store, nirs) = store_with_incidents(dir.path());
    let one = dir.path().join("incident-1.json");
    ok(&vigie(
        &store,
        &[
            "export",
            "misp",
            "--incident",
            "1",
            "--out",
            one.to_str().unwrap(),
        ],
    ));
    let report = python(
        r#"
import json, sys
from pymisp import MISPEvent
e = MISPEvent()
e.load_file(sys.argv[1])
print("info", e.info)
print("threat", e.threat_level_id)
print("tags", sorted(t.name for t in e.tags))
for a in e.attributes:
    print("attr", a.type, a.category, a.value)
for o in e.objects:
    print("object", o.name, sorted((a.object_relation, str(a.value)) for a in o.attributes))
"#,
        &[&one],
    );
    assert!(
        report.contains("info Vigie incident 1: CHU de Nantes"),
        "{report}"
    );
    assert!(report.contains("threat 1"), "{report}");
    assert!(report.contains("tlp:amber"), "{report}");
    assert!(
        report.contains("attr target-org Targeting data CHU de Nantes"),
        "{report}"
    );
    assert!(
        report.contains("attr url External analysis") || report.contains("attr counter"),
        "{report}"
    );
    assert!(
        report.contains("attr counter Other 6"),
        "six valid NIRs counted: {report}"
    );
    // Two distinct contents (the original and the repost): two file objects with their hashes.
    assert_eq!(report.matches("object file").count(), 2, "{report}");
    let shown = ok(&vigie(&store, &["incidents", "show", "1", "--json"]));
    let incident: serde_json::Value = serde_json::from_str(&shown).unwrap();
    for h in incident["incident"]["snapshots"].as_array().unwrap() {
        assert!(report.contains(h.as_str().unwrap()), "{report}");
    }

    let all = dir.path().join("since.json");
    ok(&vigie(
        &store,
        &[
            "export",
            "misp",
            "--since",
            "2026-11-01",
            "--out",
            all.to_str().unwrap(),
        ],
    ));
    let count = python(
        "import json,sys\nfrom pymisp import MISPEvent\nn=0\nfor ev in json.load(open(sys.argv[1])):\n    e=MISPEvent(); e.from_dict(**ev); n+=1\nprint(n)\n",
        &[&all],
    );
    assert_eq!(count.trim(), "2");
    let text = std::fs::read_to_string(&all).unwrap();
    assert!(text.contains("Hospices Civils de Lyon"));
    assert_no_nir(&text, &nirs);

    let missing = vigie(&store, &["export", "misp", "--incident", "99"]);
    assert_eq!(missing.status.code(), Some(2));
    let neither = vigie(&store, &["export", "misp"]);
    assert_eq!(neither.status.code(), Some(2));
}

#[test]
fn the_stix_bundle_parses_with_the_stix2_library() {
    let dir = tempfile::tempdir().unwrap();
    let (store, nirs) = store_with_incidents(dir.path());
    let bundle = dir.path().join("bundle.json");
    ok(&vigie(
        &store,
        &[
            "export",
            "stix",
            "--since",
            "2026-11-01",
            "--out",
            bundle.to_str().unwrap(),
        ],
    ));
    let report = python(
        r#"
import json, sys, collections
import stix2
b = stix2.parse(open(sys.argv[1]).read(), allow_custom=False)
kinds = collections.Counter(o.type for o in b.objects)
print(dict(sorted(kinds.items())))
for o in b.objects:
    if o.type == "report":
        print("report", o.name, len(o.object_refs))
    if o.type == "identity" and o.identity_class == "organization":
        print("org", o.name, o.sectors)
    if o.type == "observed-data":
        print("observed", o.number_observed, o.first_observed.isoformat())
"#,
        &[&bundle],
    );
    assert!(report.contains("'report': 2"), "{report}");
    assert!(
        report.contains("'note': 2") && report.contains("'observed-data': 2"),
        "{report}"
    );
    assert!(
        report.contains("org CHU de Nantes ['healthcare']"),
        "{report}"
    );
    assert!(report.contains("org Hospices Civils de Lyon"), "{report}");
    assert!(
        report.contains("report Vigie incident 1: CHU de Nantes"),
        "{report}"
    );
    assert!(
        report.contains("observed 2 2026-11-18"),
        "two sightings of the Nantes sale: {report}"
    );
    assert_no_nir(&std::fs::read_to_string(&bundle).unwrap(), &nirs);

    let bad = vigie(&store, &["export", "stix", "--since", "last week"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("YYYY-MM-DD"));
}

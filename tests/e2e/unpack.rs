//! End-to-end: `vigie scan` and `vigie import telegram-export` read archives, workbooks and
//! PDFs through vigie-unpack. Samples: crates/vigie-unpack/tests/fixtures (30 generated
//! patients; see PROVENANCE.md there).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../vigie-unpack/tests/fixtures/generated")
}

fn vigie(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args(args)
        .output()
        .expect("vigie runs")
}

fn scan(file: &str) -> Value {
    let path = samples().join(file);
    let out = vigie(&["scan", "--json", path.to_str().unwrap()]);
    assert!(out.status.code().is_some_and(|c| c <= 1), "{out:?}");
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

fn why(r: &Value) -> Vec<String> {
    r["why"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn scan_reads_workbooks_archives_and_pdfs() {
    for (file, nirs) in [
        ("patients.xlsx", 30),
        ("patients.ods", 30),
        ("mixed.zip", 30),
        ("patients.tar.gz", 30),
        ("patients.7z", 30),
        ("zstd.zip", 30),
        ("text.pdf", 5),
    ] {
        let r = scan(file);
        assert_eq!(r["identifiers"]["nir"]["valid"], nirs, "{file}: {r}");
        assert!(
            why(&r).iter().any(|w| w.starts_with("unpacked: ")),
            "{file}: {r}"
        );
    }
    // A sheet's header names its columns.
    let r = scan("patients.xlsx");
    assert_eq!(r["sample"]["rows"], 30, "{r}");
    // What was left out is said, without entry names.
    let r = scan("mixed.zip");
    let w = why(&r);
    assert!(
        w.contains(&"unpacked: 1 files read, 3 skipped".to_string()),
        "{w:?}"
    );
    assert!(w.iter().any(|l| l.contains("no text layer")), "{w:?}");
    assert!(
        w.iter()
            .any(|l| l.contains("RAR needs a proprietary library")),
        "{w:?}"
    );
}

#[test]
fn scan_refuses_a_bomb_and_says_why_a_locked_archive_was_not_read() {
    let r = scan("bomb.xlsx");
    let w = why(&r);
    assert!(w.contains(&"binary file, not scanned".to_string()), "{w:?}");
    assert!(
        w.iter()
            .any(|l| l.starts_with("not unpacked: ") && l.contains("zip bomb")),
        "{w:?}"
    );
    let r = scan("patients_aes.7z");
    assert!(r["identifiers"]["nir"].is_null(), "{r}");
    assert!(
        why(&r)
            .iter()
            .any(|l| l.contains("encrypted: none of the 0")),
        "{r}"
    );
}

#[test]
fn a_telegram_attachment_is_opened_with_the_password_its_message_states() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export");
    std::fs::create_dir_all(export.join("files")).unwrap();
    std::fs::copy(
        samples().join("patients_aes.7z"),
        export.join("files/base.7z"),
    )
    .unwrap();
    std::fs::write(
        export.join("result.json"),
        r#"{"name": "leaks", "id": 7, "type": "public_channel", "messages": [
          {"id": 1, "type": "message", "date_unixtime": "1795000000",
           "text": "Base patients CHU de Nantes, 30 lignes. Mot de passe : Vigie-Test-2026!",
           "file": "files/base.7z", "file_name": "base.7z", "mime_type": "application/x-7z-compressed"}]}"#,
    )
    .unwrap();
    let store = dir.path().join("store");
    let out = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .arg("--store")
        .arg(&store)
        .args(["import", "telegram-export", "--json"])
        .arg(export.join("result.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["attachments_recorded"], 1, "{summary}");
    let list = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .arg("--store")
        .arg(&store)
        .args(["incidents", "list", "--json"])
        .output()
        .unwrap();
    let all: Vec<Value> = String::from_utf8_lossy(&list.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // The archive's CSV was read: its 30 NIRs are in the attachment's incident (the message
    // and its attachment are separate documents; joining them is not this test's subject).
    assert!(
        all.iter().any(|i| i["identifiers"]["nir"]["valid"] == 30),
        "{all:?}"
    );
    assert!(!serde_json::to_string(&all)
        .unwrap()
        .contains("196026720540311"));
}

#[test]
fn scan_opens_a_locked_archive_with_a_given_password() {
    let path = samples().join("patients_aes.7z");
    let out = vigie(&[
        "scan",
        "--json",
        "--password",
        "wrong",
        "--password",
        "Vigie-Test-2026!",
        path.to_str().unwrap(),
    ]);
    let r: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(r["identifiers"]["nir"]["valid"], 30, "{r}");
}

#[test]
fn ingest_matches_what_an_archive_holds_and_keeps_its_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let path = samples().join("patients.tar.gz");
    let out = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .arg("--store")
        .arg(&store)
        .args(["ingest", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.code().is_some_and(|c| c <= 1), "{out:?}");
    let list = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .arg("--store")
        .arg(&store)
        .args(["incidents", "list", "--json"])
        .output()
        .unwrap();
    let all: Vec<Value> = String::from_utf8_lossy(&list.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        all.iter().any(|i| i["identifiers"]["nir"]["valid"] == 30),
        "{all:?}"
    );
    // The stored snapshot is the archive itself (its SHA-256), not the text read from it.
    let sum = Command::new("sha256sum").arg(&path).output().unwrap();
    let hash = String::from_utf8_lossy(&sum.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let incident = all
        .iter()
        .find(|i| i["identifiers"]["nir"]["valid"] == 30)
        .unwrap();
    assert_eq!(incident["snapshots"][0], Value::from(hash), "{incident}");
}

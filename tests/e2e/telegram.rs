//! End-to-end tests of `vigie import telegram-export` on Telegram Desktop exports in their
//! real format: entity arrays, service messages, files not included, a hostile path, an
//! archive attachment, a zip bomb, a full-account export, invalid UTF-8, repeat imports.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/telegram")
}

fn vigie(store: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vigie"))
        .arg("--store")
        .arg(store)
        .args(args)
        .output()
        .expect("vigie runs")
}

fn import(store: &Path, export: &Path) -> Value {
    let out = vigie(
        store,
        &[
            "import",
            "telegram-export",
            "--json",
            export.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

fn incidents(store: &Path) -> Vec<Value> {
    let out = vigie(store, &["incidents", "list", "--json"]);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn a_channel_export_is_recorded_once_with_its_attachments() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let export = fixtures().join("chat_export/result.json");
    let first = import(&store, &export);
    assert_eq!(first["messages"], 7, "{first}");
    assert_eq!(first["service_skipped"], 1);
    assert_eq!(first["malformed_skipped"], 1, "the entry without id");
    // The CSV sample and the ZIP are read; the photo and the 7z were not exported, and the
    // hostile `../../../../etc/passwd` path is never opened.
    assert_eq!(first["attachments_recorded"], 2);
    assert_eq!(first["attachments_missing"], 3);
    assert_eq!(first["archives_refused"], 0);
    assert_eq!(first["new_snapshots"], 9);

    let all = incidents(&store);
    // The sale post names CHU de Rennes (entity array flattened: "#CHU de Rennes").
    assert!(all.iter().any(|i| i["entities"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["id"] == "chu-rennes")));
    // The archive's CSV entry was matched: 25 valid NIRs and the hospital named in readme.txt.
    let archive = all
        .iter()
        .find(|i| i["identifiers"]["nir"]["valid"] == 25 && i["severity"] == "critical")
        .unwrap_or_else(|| panic!("{all:?}"));
    assert!(archive["sources"][0]
        .as_str()
        .unwrap()
        .starts_with("telegram:Med Leaks FR"));
    // Counts and masked examples only in what the store shows.
    let text = serde_json::to_string(&all).unwrap();
    assert!(!text.contains("160013510000164"), "raw NIR in incidents");

    // Telegram message locators, dated by the message.
    let id = archive["id"].as_u64().unwrap().to_string();
    let shown: Value =
        serde_json::from_slice(&vigie(&store, &["incidents", "show", &id, "--json"]).stdout)
            .unwrap();
    let sighting = &shown["sightings"][0];
    assert_eq!(sighting["locator"]["kind"], "message");
    assert_eq!(sighting["locator"]["message_id"], 4);
    assert_eq!(sighting["first_seen"], Value::from(1_794_907_200_000i64));

    // Importing the same export again adds nothing: every message is a repeat sighting.
    let again = import(&store, &export);
    assert_eq!(again["new_snapshots"], 0);
    assert_eq!(again["repeat_sightings"], 9);
    let verify = vigie(&store, &["evidence", "verify"]);
    assert_eq!(verify.status.code(), Some(0), "{verify:?}");
}

#[test]
fn full_account_exports_and_invalid_utf8_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let full = import(&store, &fixtures().join("full_account/result.json"));
    // Two chats (one service message skipped) and a left channel.
    assert_eq!(full["messages"], 3, "{full}");
    assert_eq!(full["service_skipped"], 1);
    assert!(incidents(&store)
        .iter()
        .any(|i| i["entities"][0]["id"] == "cerballiance"));
    let broken = import(&store, &fixtures().join("broken_utf8/result.json"));
    assert_eq!(
        broken["messages"], 7,
        "invalid bytes are replaced, not fatal: {broken}"
    );
    // Its attachments are not beside it: metadata only, logged.
    assert_eq!(broken["attachments_recorded"], 0);
}

#[test]
fn a_zip_bomb_attachment_is_kept_as_evidence_but_not_expanded() {
    let dir = tempfile::tempdir().unwrap();
    let export_dir = dir.path().join("export");
    std::fs::create_dir_all(export_dir.join("files")).unwrap();
    // 100 MiB of zeros, deflated to about 100 KiB, made here with Python's zipfile.
    let made = Command::new("python3")
        .args([
            "-c",
            "import zipfile,sys\nwith zipfile.ZipFile(sys.argv[1],'w',zipfile.ZIP_DEFLATED) as z:\n  z.writestr('patients.csv', b'0'*(100<<20))\n",
        ])
        .arg(export_dir.join("files/sample.zip"))
        .status()
        .unwrap();
    assert!(made.success());
    std::fs::write(
        export_dir.join("result.json"),
        r#"{"name": "bombs", "id": 9, "type": "public_channel", "messages": [
          {"id": 1, "type": "message", "date_unixtime": "1795000000", "text": "Base patients CHU de Nantes, échantillon joint",
           "file": "files/sample.zip", "file_name": "sample.zip", "mime_type": "application/zip"}]}"#,
    )
    .unwrap();
    let store = dir.path().join("store");
    let summary = import(&store, &export_dir.join("result.json"));
    assert_eq!(summary["archives_refused"], 1, "{summary}");
    // The archive's bytes are still evidence (2 snapshots: message and archive).
    assert_eq!(summary["attachments_recorded"], 1);
    assert_eq!(summary["new_snapshots"], 2);

    // Not an export: a clear error.
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"hello\": 1}").unwrap();
    let out = vigie(
        &store,
        &["import", "telegram-export", bad.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("neither a chat export"));
    std::fs::write(&bad, "not json").unwrap();
    let out = vigie(
        &store,
        &["import", "telegram-export", bad.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not JSON"));
}

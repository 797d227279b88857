//! End-to-end tests of `vigie import telegram-export` on Telegram Desktop exports in their
//! real format: entity arrays, service messages, files not included, a hostile path, an
//! archive attachment, a zip bomb, a full-account export, invalid UTF-8, repeat imports.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

mod support;
use support::{free_port, localhost_certificate, ok, preview_server_with, root, vigie, Server};

fn fixtures() -> PathBuf {
    root().join("tests/fixtures/telegram")
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

#[test]
fn real_exports_are_imported_and_an_import_that_records_nothing_fails() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let real = root().join("tests/fixtures/real/telegram/exports");
    // A 2020-2021 Desktop export (local dates only) and a 2026 one with `unsupported`.
    let old = import(&store, &real.join("tg2md_2020-2021_result.json"));
    assert_eq!(
        (old["messages"].as_u64(), old["service_skipped"].as_u64()),
        (Some(18), Some(1))
    );
    let new = import(&store, &real.join("tkonverter_2026_result.json"));
    assert_eq!(new["messages"], 25);
    assert_eq!(new["service_skipped"], 61);
    assert_eq!(new["unsupported_skipped"], 1);
    assert_eq!(new["malformed_skipped"], 0);

    // Another tool's export-shaped file: fractional seconds and `Z` are read.
    let other = dir.path().join("other.json");
    std::fs::write(
        &other,
        r#"{"name": "g", "id": 1, "messages": [
            {"id": 1, "type": "message", "date": "2024-03-05T06:20:09.248Z", "text": "a"},
            {"id": 2, "type": "message", "date": "2024-03-05T08:20:09+02:00", "text": "b"}]}"#,
    )
    .unwrap();
    let read = import(&store, &other);
    assert_eq!(read["messages"], 2);

    // Nothing readable in a non-empty export: exit 2 with the reason, not a silent success.
    std::fs::write(
        &other,
        r#"{"name": "g", "id": 1, "messages": [
            {"id": 1, "type": "message", "date": "le 5 mars", "text": "a"},
            {"id": 2, "type": "unsupported"}]}"#,
    )
    .unwrap();
    let out = vigie(
        &store,
        &["import", "telegram-export", other.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no message recorded") && err.contains("1 unsupported"),
        "{err}"
    );
}

fn post_line(id: i64, text: &str, fwd: Option<&str>) -> String {
    let mut v = serde_json::json!({"id": id, "date": 1_795_000_000 + id * 60, "text": text, "views": "1.1K"});
    if let Some(f) = fwd {
        v["fwd"] = f.into();
    }
    format!("{v}\n")
}

fn preview_server(port: u16, posts: &Path, log: &Path) -> Server {
    preview_server_with(port, posts, log, &[])
}

fn sightings(store: &Path) -> u64 {
    let out = vigie(store, &["evidence", "verify", "--json"]);
    serde_json::from_slice::<Value>(&out.stdout)
        .map(|v| v["sightings"].as_u64().unwrap_or(0))
        .unwrap_or(0)
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !f() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// `vigie --config CONFIG run` (logs to `log`, or dropped), with `ca` as the CA bundle for
/// https when given; killed if the test fails before [`stop_run`].
fn start_run(config: &Path, ca: Option<&Path>, log: Option<&Path>) -> Server {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vigie"));
    cmd.arg("--config")
        .arg(config)
        .arg("run")
        .env("RUST_LOG", "warn");
    if let Some(ca) = ca {
        cmd.env("SSL_CERT_FILE", ca).env_remove("SSL_CERT_DIR");
    }
    match log {
        Some(log) => cmd.stderr(std::fs::File::create(log).unwrap()),
        None => cmd.stderr(std::process::Stdio::null()),
    };
    Server(cmd.spawn().unwrap())
}

/// SIGTERM; the run must exit 0 (`context` is shown otherwise).
fn stop_run(mut run: Server, context: &str) {
    Command::new("kill")
        .args(["-TERM", &run.0.id().to_string()])
        .status()
        .unwrap();
    assert!(run.0.wait().unwrap().success(), "{context}");
}

/// Drops a sale post into the spool the way a writer must (hidden name, then renamed).
fn drop_post_in_spool(spool: &Path) {
    let post = root().join("tests/fixtures/reposts/forum_a_original.txt");
    std::fs::copy(&post, spool.join(".post.txt")).unwrap();
    std::fs::rename(spool.join(".post.txt"), spool.join("post.txt")).unwrap();
}

#[test]
fn vigie_run_follows_a_channel_preview_incrementally() {
    let dir = tempfile::tempdir().unwrap();
    let posts = dir.path().join("posts.jsonl");
    let log = dir.path().join("server.log");
    let mut lines = String::new();
    for id in 1..=30 {
        let text = match id {
            25 => "VENTE base patients CHU de Nantes, 480 000 lignes, NIR et téléphones.\nnom;prenom;nir\nROBERT;Jean;176024439046178\nDUPONT;Nadia;146084431278175\nSIMON;Jean;286044401602373\nPrix 8000 USD BTC".to_string(),
            _ => format!("post {id}: discussion du jour, rien à signaler"),
        };
        let mut line = post_line(id, &text, (id == 28).then_some("pharma_dark"));
        if id == 27 {
            // A private invite behind words, as analysts see them in sale posts.
            let mut v: Value = serde_json::from_str(&line).unwrap();
            v["link"] = "https://t.me/+AbCdEfGh12345678".into();
            line = format!("{v}\n");
        }
        lines.push_str(&line);
    }
    std::fs::write(&posts, lines).unwrap();
    let port = free_port();
    let server = preview_server(port, &posts, &log);
    let config = dir.path().join("vigie.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\npath = \"store\"\n\n[run]\npoll_ms = 100\n\n[[telegram_preview]]\nchannel = \"medleaks\"\nbase_url = \"http://127.0.0.1:{port}\"\ninterval_secs = 1\nbackfill = 25\nmax_pages = 3\n"
        ),
    )
    .unwrap();
    let store = dir.path().join("store");
    let run = start_run(&config, None, None);
    // First poll: the latest 25 posts, over two pages (20, then ?before=11).
    wait_until("the backfill", || sightings(&store) == 25);
    let requests = std::fs::read_to_string(&log).unwrap();
    assert!(requests.contains("/s/medleaks?before=11"), "{requests}");
    // A new post appears: recorded once, and later polls add nothing.
    std::fs::OpenOptions::new()
        .append(true)
        .open(&posts)
        .and_then(|mut f| {
            std::io::Write::write_all(&mut f, post_line(31, "post 31: nouveau", None).as_bytes())
        })
        .unwrap();
    wait_until("the new post", || sightings(&store) == 26);
    std::thread::sleep(std::time::Duration::from_millis(2500));
    assert_eq!(sightings(&store), 26, "repeat polls add no sighting");
    // The sale became an incident; the forward became a candidate source.
    let all = incidents(&store);
    let sale = all
        .iter()
        .find(|i| i["entities"][0]["id"] == "chu-nantes")
        .unwrap_or_else(|| panic!("{all:?}"));
    // The sighting keeps what the channel said: publication date and views.
    let shown = ok(&vigie(
        &store,
        &["incidents", "show", &sale["id"].to_string()],
    ));
    assert!(
        shown.contains("posted 2026-") && shown.contains("1100 views"),
        "{shown}"
    );
    // The sale post's views grow: the next polls show it again and the sighting follows,
    // without a new snapshot.
    let grown = std::fs::read_to_string(&posts)
        .unwrap()
        .lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).unwrap();
            if v["id"] == 25 {
                v["views"] = "2.5K".into();
            }
            format!("{v}\n")
        })
        .collect::<String>();
    std::fs::write(&posts, grown).unwrap();
    let sale_id = sale["id"].to_string();
    wait_until("the new view count", || {
        String::from_utf8_lossy(&vigie(&store, &["incidents", "show", &sale_id]).stdout)
            .contains("2500 views")
    });
    assert_eq!(sightings(&store), 26);
    let candidates = vigie(&store, &["sources", "candidates", "--json"]);
    let text = String::from_utf8_lossy(&candidates.stdout);
    // The forward links `t.me/pharma_dark/1066` as real pages do: the channel is the
    // candidate, never the message number; the invite too, each with the post it was seen in.
    assert!(
        text.contains("\"name\":\"pharma_dark\"") && text.contains("telegram:medleaks/28"),
        "{text}"
    );
    assert!(
        text.contains("\"name\":\"+AbCdEfGh12345678\"") && text.contains("telegram:medleaks/27"),
        "{text}"
    );
    assert!(!text.contains("\"name\":\"1066\""), "{text}");
    // The preview goes down: the run keeps going; SIGTERM stops it cleanly.
    drop(server);
    std::thread::sleep(std::time::Duration::from_millis(1500));
    stop_run(run, "");

    // A restart resumes from the checkpoint: only the post published meanwhile is new.
    std::fs::OpenOptions::new()
        .append(true)
        .open(&posts)
        .and_then(|mut f| {
            std::io::Write::write_all(&mut f, post_line(32, "post 32: encore", None).as_bytes())
        })
        .unwrap();
    let _server = preview_server(port, &posts, &log);
    let run = start_run(&config, None, None);
    wait_until("the post after restart", || sightings(&store) == 27);
    stop_run(run, "");
    assert_eq!(sightings(&store), 27);
}

#[test]
fn live_channels_without_a_session_fail_before_any_connection() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("vigie.toml");
    std::fs::write(
        &config,
        "[store]\npath = \"store\"\n\n[telegram]\napi_id = 12345\n\n[[telegram_channel]]\nchannel = \"medleaks\"\n",
    )
    .unwrap();
    let started = std::time::Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .arg("--config")
        .arg(&config)
        .arg("run")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("run `vigie telegram login` first"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

#[test]
fn a_channel_preview_is_read_over_https_with_the_certificate_checked() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = localhost_certificate(dir.path());
    let posts = dir.path().join("posts.jsonl");
    let log = dir.path().join("server.log");
    let lines: String = (1..=5)
        .map(|id| post_line(id, &format!("post {id}: rien à signaler"), None))
        .collect();
    std::fs::write(&posts, lines).unwrap();
    let port = free_port();
    let _server = preview_server_with(port, &posts, &log, &[Path::new("--tls"), &cert, &key]);
    let config = dir.path().join("vigie.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\npath = \"store\"\n\n[run]\npoll_ms = 100\n\n[[telegram_preview]]\nchannel = \"medleaks\"\nbase_url = \"https://127.0.0.1:{port}\"\ninterval_secs = 1\nbackfill = 25\n"
        ),
    )
    .unwrap();
    let store = dir.path().join("store");
    let log = dir.path().join("run.log");
    let run = |ca: &Path, done: &dyn Fn() -> bool| {
        let run = start_run(&config, Some(ca), Some(&log));
        wait_until("the preview polls", done);
        let logged = || std::fs::read_to_string(&log).unwrap_or_default();
        stop_run(run, &logged());
        logged()
    };
    // Not trusted: each poll fails with a logged certificate error, nothing recorded.
    let untrusted = dir.path().join("no-ca.pem");
    std::fs::write(&untrusted, "").unwrap();
    let started = std::time::Instant::now();
    let err = run(&untrusted, &|| started.elapsed().as_secs() >= 3);
    assert!(err.to_lowercase().contains("certificate"), "{err}");
    assert_eq!(sightings(&store), 0);
    // Trusted: the five posts, over https.
    run(&cert, &|| sightings(&store) == 5);
    assert_eq!(sightings(&store), 5);
}

#[test]
fn a_channel_preview_can_be_fetched_through_the_tor_transport() {
    // Loopback mode: the Tor collector's transport and HTTP client without Tor (the lab test
    // does the same over arti). https, so TLS on top of the transport's stream is exercised.
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = localhost_certificate(dir.path());
    let posts = dir.path().join("posts.jsonl");
    let log = dir.path().join("server.log");
    let lines: String = (1..=4)
        .map(|id| post_line(id, &format!("post {id}: calme plat"), None))
        .collect();
    std::fs::write(&posts, lines).unwrap();
    let port = free_port();
    let _server = preview_server_with(port, &posts, &log, &[Path::new("--tls"), &cert, &key]);
    let config = dir.path().join("vigie.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\npath = \"store\"\n\n[run]\npoll_ms = 100\n\n[tor]\nmode = \"loopback\"\n\n[[telegram_preview]]\nchannel = \"medleaks\"\nbase_url = \"https://127.0.0.1:{port}\"\ninterval_secs = 1\nvia_tor = true\n"
        ),
    )
    .unwrap();
    let store = dir.path().join("store");
    let run = start_run(&config, Some(&cert), None);
    wait_until("the posts through the Tor transport", || {
        sightings(&store) == 4
    });
    stop_run(run, "");
    // Every request came from the Tor collector's client (Tor Browser's user agent), none
    // from the direct one.
    let requests = std::fs::read_to_string(&log).unwrap();
    assert!(!requests.is_empty());
    for line in requests.lines() {
        let agent = line.split('\t').nth(1).unwrap_or("");
        assert!(
            agent.contains("Firefox") && !agent.contains("ureq"),
            "{line}"
        );
    }
}

#[test]
fn a_preview_that_never_answers_holds_nothing_else() {
    // A "preview" that accepts connections and never answers: each fetch hangs until its
    // 20 s deadline. Spool files must still be recorded at once, and a stop must not wait.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().flatten() {
            held.push(conn);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("vigie.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\npath = \"store\"\n\n[run]\nspool = \"spool\"\npoll_ms = 100\n\n[[telegram_preview]]\nchannel = \"medleaks\"\nbase_url = \"http://127.0.0.1:{port}\"\ninterval_secs = 1\n"
        ),
    )
    .unwrap();
    let spool = dir.path().join("spool");
    let run = start_run(&config, None, None);
    wait_until("the spool", || spool.exists());
    // Let the first preview fetch start hanging.
    std::thread::sleep(std::time::Duration::from_secs(1));
    drop_post_in_spool(&spool);
    let dropped = std::time::Instant::now();
    wait_until("the spool file", || !spool.join("post.txt").exists());
    assert!(
        dropped.elapsed() < std::time::Duration::from_secs(10),
        "the spool waited for the hanging preview: {:?}",
        dropped.elapsed()
    );
    let stopping = std::time::Instant::now();
    stop_run(run, "");
    assert!(
        stopping.elapsed() < std::time::Duration::from_secs(10),
        "the stop waited for the hanging preview: {:?}",
        stopping.elapsed()
    );
}

#[test]
fn an_unreachable_telegram_does_not_stop_the_run() {
    // No test talks to Telegram: the session's five data centres all point at a listener on
    // 127.0.0.1 that hangs up at once, which is what an outage looks like to the client.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let attempts = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = std::sync::Arc::clone(&attempts);
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            drop(conn);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    std::fs::create_dir_all(&store).unwrap();
    let dcs: Vec<serde_json::Value> = (1..=5)
        .map(|id| {
            serde_json::json!({"id": id, "ipv4": format!("127.0.0.1:{port}"),
                "ipv6": format!("[::ffff:127.0.0.1]:{port}"), "auth_key": null})
        })
        .collect();
    std::fs::write(
        store.join("telegram.session"),
        serde_json::json!({"home_dc": 2, "dc_options": dcs}).to_string(),
    )
    .unwrap();
    let config = dir.path().join("vigie.toml");
    std::fs::write(
        &config,
        "[store]\npath = \"store\"\n\n[run]\nspool = \"spool\"\npoll_ms = 100\n\n[telegram]\napi_id = 12345\n\n[[telegram_channel]]\nchannel = \"medleaks\"\n",
    )
    .unwrap();
    let log = dir.path().join("run.log");
    let spool = dir.path().join("spool");
    let run = start_run(&config, None, Some(&log));
    let logged = || std::fs::read_to_string(&log).unwrap_or_default();
    wait_until("the retry warning", || {
        logged().contains("Telegram unreachable")
    });
    assert!(attempts.load(std::sync::atomic::Ordering::SeqCst) > 0);
    // The rest of Vigie runs meanwhile.
    wait_until("the spool", || spool.exists());
    drop_post_in_spool(&spool);
    wait_until("the spool file", || !spool.join("post.txt").exists());
    stop_run(run, &logged());
    assert!(!logged().contains("panicked"), "{}", logged());
}

/// Appends posts `ids` ("post N: ...") to the preview server's file.
fn publish(posts: &Path, ids: std::ops::RangeInclusive<i64>) {
    let lines: String = ids
        .map(|id| post_line(id, &format!("post {id}: rien de neuf"), None))
        .collect();
    std::fs::OpenOptions::new()
        .append(true)
        .open(posts)
        .and_then(|mut f| std::io::Write::write_all(&mut f, lines.as_bytes()))
        .unwrap();
}

#[test]
fn a_poll_out_of_pages_does_not_skip_the_posts_it_did_not_read() {
    // One page per poll: 45 posts published between two polls take three polls, and the
    // checkpoint never passes a post not read.
    let dir = tempfile::tempdir().unwrap();
    let posts = dir.path().join("posts.jsonl");
    std::fs::write(&posts, "").unwrap();
    publish(&posts, 1..=5);
    let log = dir.path().join("server.log");
    let port = free_port();
    let _server = preview_server(port, &posts, &log);
    let config = dir.path().join("vigie.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\npath = \"store\"\n\n[run]\npoll_ms = 100\n\n[[telegram_preview]]\nchannel = \"medleaks\"\nbase_url = \"http://127.0.0.1:{port}\"\ninterval_secs = 1\nbackfill = 5\nmax_pages = 1\n"
        ),
    )
    .unwrap();
    let store = dir.path().join("store");
    let run_log = dir.path().join("run.log");
    let run = start_run(&config, None, Some(&run_log));
    wait_until("the backfill", || sightings(&store) == 5);
    publish(&posts, 6..=50);
    wait_until("every post, 6 to 30 included", || sightings(&store) == 50);
    let logged = std::fs::read_to_string(&run_log).unwrap();
    assert!(
        logged.contains("max_pages ran out before the checkpoint"),
        "{logged}"
    );
    // The polls paged on from where they stopped: 31..=50, then before 31, then before 11.
    let requests = std::fs::read_to_string(&log).unwrap();
    assert!(
        requests.contains("/s/medleaks?before=31") && requests.contains("/s/medleaks?before=11"),
        "{requests}"
    );
    stop_run(run, &logged);
    // Restarted, nothing is read twice as new and nothing is missing.
    publish(&posts, 51..=51);
    let run = start_run(&config, None, None);
    wait_until("the post after restart", || sightings(&store) == 51);
    stop_run(run, "");
    let verify = vigie(&store, &["evidence", "verify"]);
    assert_eq!(verify.status.code(), Some(0), "{verify:?}");
}

#[test]
fn a_preview_thread_that_panics_is_restarted_and_its_failures_shown() {
    // The test hook makes the first two preview threads panic before their first poll.
    let dir = tempfile::tempdir().unwrap();
    let posts = dir.path().join("posts.jsonl");
    std::fs::write(&posts, "").unwrap();
    publish(&posts, 1..=3);
    let log = dir.path().join("server.log");
    let port = free_port();
    let _server = preview_server(port, &posts, &log);
    let config = dir.path().join("vigie.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\npath = \"store\"\n\n[run]\npoll_ms = 100\n\n[[telegram_preview]]\nchannel = \"medleaks\"\nbase_url = \"http://127.0.0.1:{port}\"\ninterval_secs = 1\n"
        ),
    )
    .unwrap();
    let store = dir.path().join("store");
    let run_log = dir.path().join("run.log");
    let run = Server(
        Command::new(env!("CARGO_BIN_EXE_vigie"))
            .arg("--config")
            .arg(&config)
            .arg("run")
            .env("RUST_LOG", "warn")
            .env("VIGIE_TEST_PREVIEW_PANICS", "2")
            .stderr(std::fs::File::create(&run_log).unwrap())
            .spawn()
            .unwrap(),
    );
    // Restarted after 1 s, then 2 s: the third thread reads the channel.
    wait_until("the posts after two restarts", || sightings(&store) == 3);
    let logged = std::fs::read_to_string(&run_log).unwrap();
    assert_eq!(
        logged.matches("source thread failed; restarting").count(),
        2,
        "{logged}"
    );
    stop_run(run, &logged);
    let health = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .arg("--config")
        .arg(&config)
        .args(["sources", "health", "--history", "10"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    // A source thread failed in the last 24 hours: exit 1, each failure shown.
    assert_eq!(health.status.code(), Some(1), "{health:?}");
    let shown = String::from_utf8_lossy(&health.stdout);
    assert_eq!(
        shown
            .lines()
            .filter(|l| l.starts_with("thread:telegram-preview") && l.contains("CRASHED"))
            .count(),
        2,
        "{shown}"
    );
    assert!(
        shown.contains("the thread panicked: injected by VIGIE_TEST_PREVIEW_PANICS"),
        "{shown}"
    );
    // This week's digest shows them too.
    let week = Command::new("date")
        .args(["-u", "+%G-W%V"])
        .output()
        .unwrap();
    let week = String::from_utf8_lossy(&week.stdout).trim().to_string();
    let md = ok(&vigie(
        &store,
        &["digest", "--week", &week, "--format", "md", "--lang", "en"],
    ));
    assert!(
        md.contains("- thread:telegram-preview — 0 runs")
            && md.contains("2 collection thread failure(s), restarted"),
        "{md}"
    );
}

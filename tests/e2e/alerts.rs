//! End-to-end tests of alerting through the `vigie` binary and a real HTTP receiver on
//! 127.0.0.1 (`tests/fixtures/webhook/receiver.py`, which checks signatures with Python's own
//! `hmac`): delivery through refusals, 500s, a 429 with Retry-After and a timeout; payloads
//! against the JSON Schema with no raw identifier; a SIGKILL between storing and delivering;
//! routing, updates and false positives; config errors at start-up; https webhooks checked
//! against the system CA store.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use vigie_match::validate::nir_key;

mod support;
use support::{free_port, localhost_certificate, ok, root};

const SECRET: &str = "test-secret-0123456789abcdef";

fn fixtures() -> PathBuf {
    root().join("tests/fixtures")
}

fn vigie_cmd(config: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vigie"));
    c.arg("--config")
        .arg(config)
        .env("VIGIE_TEST_SECRET", SECRET)
        .env("RUST_LOG", "warn");
    c
}

fn vigie(config: &Path, args: &[&str]) -> Output {
    vigie_cmd(config).args(args).output().expect("vigie runs")
}

/// A receiver process, killed on drop.
struct Receiver {
    child: Child,
    log: PathBuf,
}

impl Receiver {
    fn start(port: u16, dir: &Path, script: &str) -> Receiver {
        Receiver::start_with(port, dir, script, &[])
    }

    fn start_with(port: u16, dir: &Path, script: &str, extra: &[&Path]) -> Receiver {
        let log = dir.join(format!("receiver-{port}.log"));
        let bodies = dir.join("bodies");
        std::fs::create_dir_all(&bodies).unwrap();
        let child = Command::new("python3")
            .arg(fixtures().join("webhook/receiver.py"))
            .args([
                "--port",
                &port.to_string(),
                "--secret-env",
                "VIGIE_TEST_SECRET",
            ])
            .arg("--log")
            .arg(&log)
            .arg("--bodies")
            .arg(&bodies)
            .args(["--script", script])
            .args(extra)
            .env("VIGIE_TEST_SECRET", SECRET)
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs the receiver");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "receiver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Receiver { child, log }
    }

    fn requests(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Every POST by idempotency key, whatever the answer: a double send shows as 2.
    fn posts(&self) -> BTreeMap<String, usize> {
        self.count(|_| true)
    }

    /// POSTs answered 200 by idempotency key (the receiver's duplicates included).
    fn answered_ok(&self) -> BTreeMap<String, usize> {
        self.count(|r| r["status"] == 200)
    }

    fn count(&self, keep: impl Fn(&Value) -> bool) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for r in self.requests().iter().filter(|r| keep(r)) {
            *out.entry(r["key"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
        out
    }
}

/// `{"vigie-alert-1": n1, ...}` for the given (alert id, POSTs) pairs.
fn per_key(counts: &[(u64, usize)]) -> BTreeMap<String, usize> {
    counts
        .iter()
        .map(|(id, n)| (format!("vigie-alert-{id}"), *n))
        .collect()
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A config with a store, fast retries, and the given recipients (TOML tables).
fn write_config(dir: &Path, extra: &str) -> PathBuf {
    write_config_with(dir, "", extra)
}

/// Same, with top-level keys (`watchlists = [...]`) before the first table.
fn write_config_with(dir: &Path, top: &str, extra: &str) -> PathBuf {
    let path = dir.join("vigie.toml");
    std::fs::write(
        &path,
        format!(
            "{top}\n[store]\npath = \"store\"\n\n[delivery]\ntimeout_secs = 1\nbackoff_secs = 1\nmax_backoff_secs = 2\nmax_attempts = 20\nworkers = 2\n\n{extra}"
        ),
    )
    .unwrap();
    path
}

fn recipient(id: &str, port: u16, extra: &str) -> String {
    format!(
        "[[recipient]]\nid = \"{id}\"\nurl = \"http://127.0.0.1:{port}/hook/{id}\"\nsecret_env = \"VIGIE_TEST_SECRET\"\n{extra}\n"
    )
}

fn outbox(config: &Path) -> Vec<Value> {
    let out = vigie(config, &["alerts", "outbox", "--json"]);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn alerts(config: &Path) -> Vec<Value> {
    let out = vigie(config, &["alerts", "list", "--json", "--limit", "1000"]);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn every_alert_arrives_once_through_refusals_errors_429_and_timeouts() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = write_config(
        dir.path(),
        &recipient("cert", port, "catch_all = true\nmin_severity = \"medium\""),
    );
    let ingest = ok(&vigie(
        &config,
        &[
            "ingest",
            "--source",
            "lab",
            fixtures().join("reposts").to_str().unwrap(),
        ],
    ));
    assert!(ingest.contains("alerts queued: 3"), "{ingest}");
    assert_eq!(outbox(&config).len(), 3);

    // The receiver is down while delivery starts: connections are refused.
    let started = Instant::now();
    let deliver = vigie_cmd(&config)
        .args(["alerts", "deliver", "--wait", "60"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    // Then two 500s, a 429 asking for 2 s, a response slower than the 1 s timeout, then health.
    let receiver = Receiver::start(port, dir.path(), "500,500,429:2,slow:3");
    let out = deliver.wait_with_output().unwrap();
    ok(&out);
    assert!(started.elapsed() < Duration::from_secs(60));

    // The slow answer is logged once the receiver wakes up.
    wait_for("the slow answer", 10, || {
        receiver.requests().iter().any(|r| r["action"] == "slow:3")
    });
    let requests = receiver.requests();
    assert!(requests.iter().all(|r| r["valid"] == true), "{requests:?}");
    // Each alert is sent again until answered 200, then never again: one 200 per key, but
    // for the slow answer, accepted by the receiver yet timed out at Vigie, whose repeat
    // carries the same key (the receiver drops it as a duplicate).
    let slow = requests.iter().find(|r| r["action"] == "slow:3").unwrap();
    let slow_key = slow["key"].as_str().unwrap();
    let mut expected = per_key(&[(1, 1), (2, 1), (3, 1)]);
    expected.insert(slow_key.to_string(), 2);
    assert_eq!(receiver.answered_ok(), expected, "{requests:?}");
    let accepted_once = requests
        .iter()
        .filter(|r| r["new"] == true)
        .map(|r| r["key"].as_str().unwrap().to_string())
        .collect::<BTreeSet<_>>();
    assert_eq!(accepted_once.len(), 3);
    // Retry-After: 2 was honoured for the alert that got the 429.
    let limited = requests.iter().find(|r| r["action"] == "429:2").unwrap();
    let next = requests
        .iter()
        .find(|r| r["key"] == limited["key"] && r["n"].as_u64() > limited["n"].as_u64())
        .unwrap();
    let gap = next["time"].as_f64().unwrap() - limited["time"].as_f64().unwrap();
    assert!(
        gap >= 1.9,
        "retried {gap:.2} s after a 429 with Retry-After: 2"
    );

    assert!(outbox(&config).is_empty(), "nothing pending or dead");
    for a in alerts(&config) {
        assert_eq!(a["delivery"]["state"], "delivered", "{a}");
        assert!(a["delivery"]["attempts"].as_u64().unwrap() >= 2, "{a}");
    }
}

/// A valid NIR built from its fields (the key computed as the matcher checks it).
fn nir(i: u32) -> String {
    let body = format!(
        "{}{:02}{:02}{:02}{:03}{:03}",
        1 + i % 2,
        40 + i % 60,
        1 + i % 12,
        [1, 13, 33, 44, 59, 69, 75, 92][i as usize % 8],
        100 + i % 800,
        1 + i % 998
    );
    format!("{body}{:02}", nir_key(&body).unwrap())
}

#[test]
fn payloads_follow_the_schema_are_signed_and_carry_no_raw_identifier() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = write_config(
        dir.path(),
        &format!(
            "{}{}",
            recipient("cert", port, "catch_all = true\nmin_severity = \"medium\""),
            recipient(
                "chat",
                port,
                "catch_all = true\nformat = \"chat\"\nlanguage = \"en\"\ntlp = \"red\"\nmin_severity = \"medium\""
            )
        ),
    );
    let nirs: Vec<String> = (0..60).map(nir).collect();
    let mut doc = String::from(
        "[VENTE] Base patients CHU de Nantes, 200 000 dossiers, échantillon ci-dessous\nPrix 3000 USD en BTC, contact @seller\nnom;prenom;nir;telephone\n",
    );
    for (i, n) in nirs.iter().enumerate() {
        doc.push_str(&format!("NOM{i};Prenom{i};{n};06{:08}\n", 12_345_678 + i));
    }
    // The same numbers spaced as on a carte Vitale.
    for n in &nirs[..10] {
        doc.push_str(&format!(
            "{} {} {} {} {} {} {}\n",
            &n[..1],
            &n[1..3],
            &n[3..5],
            &n[5..7],
            &n[7..10],
            &n[10..13],
            &n[13..]
        ));
    }
    let input = dir.path().join("sale.txt");
    std::fs::write(&input, &doc).unwrap();
    ok(&vigie(
        &config,
        &["ingest", "--source", "forum-x", input.to_str().unwrap()],
    ));
    let receiver = Receiver::start(port, dir.path(), "");
    ok(&vigie(&config, &["alerts", "deliver", "--wait", "20"]));
    // A receiver that always answers 200: one POST per alert, no more.
    assert_eq!(receiver.posts(), per_key(&[(1, 1), (2, 1)]));

    let bodies = dir.path().join("bodies");
    let mut json_bodies = Vec::new();
    for entry in std::fs::read_dir(&bodies).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|x| x == "json") {
            json_bodies.push(path);
        }
    }
    assert_eq!(json_bodies.len(), 2);
    let mut all_text = String::new();
    let mut schema_checked = 0;
    for path in &json_bodies {
        let body = std::fs::read_to_string(path).unwrap();
        all_text.push_str(&body);
        let v: Value = serde_json::from_str(&body).unwrap();
        if v.get("schema").is_some() {
            validate_schema(path);
            schema_checked += 1;
            assert_eq!(v["incident"]["severity"], "critical", "{v}");
            assert_eq!(v["identifiers"][0]["kind"], "nir");
            assert!(v["identifiers"][0]["valid"].as_u64().unwrap() >= 60, "{v}");
            assert_eq!(v["source"]["kind"], "file");
            assert!(v["summary"].as_str().unwrap().contains("CHU de Nantes"));
        } else {
            let text = v["text"].as_str().unwrap();
            assert!(
                text.contains("TLP:RED") && text.contains("CRITICAL"),
                "{text}"
            );
        }
        // Checked with OpenSSL, not with Vigie's code: HMAC-SHA256 over "<t>.<body>".
        let header = std::fs::read_to_string(path.with_extension("sig")).unwrap();
        let t = header
            .split(',')
            .find_map(|p| p.strip_prefix("t="))
            .unwrap();
        let v1 = header
            .split(',')
            .find_map(|p| p.strip_prefix("v1="))
            .unwrap();
        let signed = dir.path().join("signed-input");
        std::fs::write(&signed, format!("{t}.{body}")).unwrap();
        let out = Command::new("openssl")
            .args(["dgst", "-sha256", "-hmac", SECRET, "-r"])
            .arg(&signed)
            .output()
            .expect("openssl runs");
        let digest = String::from_utf8_lossy(&out.stdout);
        assert_eq!(digest.split_whitespace().next(), Some(v1), "{header}");
    }
    assert_eq!(schema_checked, 1);
    // What `alerts show` prints goes to analysts' terminals and tickets: same rule.
    all_text.push_str(&ok(&vigie(&config, &["alerts", "show", "1", "--json"])));
    all_text.push_str(&ok(&vigie(&config, &["alerts", "show", "2"])));
    let digits_only: String = all_text.chars().filter(char::is_ascii_digit).collect();
    for n in &nirs {
        assert!(!all_text.contains(n.as_str()), "raw NIR {n} leaked");
        // No NIR body either, even with separators removed.
        assert!(!digits_only.contains(&n[..13]), "NIR body of {n} leaked");
    }
    assert!(!all_text.contains("NOM1;"), "sample rows leaked");
}

fn validate_schema(body: &Path) {
    let schema = root().join("ops/schemas/alert-v1.schema.json");
    let script = "import json,sys,jsonschema\n\
schema=json.load(open(sys.argv[1]))\n\
jsonschema.Draft202012Validator.check_schema(schema)\n\
jsonschema.Draft202012Validator(schema).validate(json.load(open(sys.argv[2])))\n";
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(&schema)
        .arg(body)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "payload does not match the schema (python3-jsonschema is installed by ops/deps.sh): {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn wait_for(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn drop_in_spool(spool: &Path, name: &str, content: &[u8]) {
    let tmp = spool.join(format!(".{name}"));
    std::fs::write(&tmp, content).unwrap();
    std::fs::rename(&tmp, spool.join(name)).unwrap();
}

#[test]
fn an_alert_stored_before_a_sigkill_is_delivered_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let spool = dir.path().join("spool");
    let config = write_config(
        dir.path(),
        &format!(
            "[run]\nspool = \"spool\"\npoll_ms = 100\n\n{}",
            recipient("cert", port, "catch_all = true\nmin_severity = \"medium\"")
        ),
    );
    let mut run = vigie_cmd(&config).arg("run").spawn().unwrap();
    wait_for("the spool", 20, || spool.exists());
    let post = std::fs::read(fixtures().join("reposts/forum_a_original.txt")).unwrap();
    drop_in_spool(&spool, "post-1.txt", &post);
    // Stored, alert decided, first attempt refused (nothing listens yet).
    wait_for("a failed attempt", 30, || {
        outbox(&config)
            .first()
            .is_some_and(|e| e["attempts"].as_u64() >= Some(1))
    });
    assert!(
        !spool.join("post-1.txt").exists(),
        "recorded files leave the spool"
    );
    run.kill().unwrap();
    run.wait().unwrap();

    let receiver = Receiver::start(port, dir.path(), "");
    let mut run = vigie_cmd(&config).arg("run").spawn().unwrap();
    wait_for("the alert after restart", 30, || {
        receiver.posts().contains_key("vigie-alert-1")
    });
    // A second post while running: a new incident, alerted live.
    let other = std::fs::read(fixtures().join("reposts/template_other_sale_rennes.txt")).unwrap();
    drop_in_spool(&spool, "post-2.txt", &other);
    wait_for("the live alert", 30, || {
        receiver.posts().contains_key("vigie-alert-2")
    });
    // SIGTERM: a clean stop, promptly.
    let stopped = Instant::now();
    Command::new("kill")
        .args(["-TERM", &run.id().to_string()])
        .status()
        .unwrap();
    let status = run.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(stopped.elapsed() < Duration::from_secs(10));
    // The first attempt was refused before the kill (nothing listened): after the restart
    // each alert reached the receiver exactly once.
    assert_eq!(receiver.posts(), per_key(&[(1, 1), (2, 1)]));
    let verify = vigie(&config, &["evidence", "verify"]);
    ok(&verify);
}

fn write_watchlist(dir: &Path) -> PathBuf {
    let wl = dir.join("watchlists");
    std::fs::create_dir_all(&wl).unwrap();
    std::fs::write(
        wl.join("test.toml"),
        r#"
[[entity]]
id = "chu-nantes"
name = "CHU de Nantes"
category = "hospital"
aliases = ["CHU Nantes"]
domains = ["chu-nantes.fr"]
notify = ["chu-nantes"]

[[entity]]
id = "chu-rennes"
name = "CHU de Rennes"
category = "hospital"
aliases = ["CHU Rennes"]
notify = ["chu-rennes"]

[[entity]]
id = "mgen"
name = "MGEN"
category = "insurer"
notify = ["mgen", "unconfigured-recipient"]
"#,
    )
    .unwrap();
    wl
}

#[test]
fn routing_updates_and_false_positives() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    write_watchlist(dir.path());
    let config = write_config_with(
        dir.path(),
        "watchlists = [\"watchlists\"]",
        &format!(
            "{}{}{}{}",
            recipient("cert", port, "catch_all = true\nmin_severity = \"medium\""),
            recipient("chu-nantes", port, "categories = [\"hospital\"]"),
            recipient("chu-rennes", port, ""),
            // The insurer only wants insurer incidents: it is named in hospital sales, but
            // its category filter still matches its own entity.
            recipient(
                "mgen",
                port,
                "categories = [\"insurer\"]\nmin_severity = \"critical\""
            )
        ),
    );
    let reposts = fixtures().join("reposts");
    let out = ok(&vigie(
        &config,
        &["ingest", "--source", "lab", reposts.to_str().unwrap()],
    ));
    let by_incident = |alerts: &[Value]| {
        let mut m: BTreeMap<u64, BTreeSet<String>> = BTreeMap::new();
        for a in alerts {
            m.entry(a["incident"].as_u64().unwrap())
                .or_default()
                .insert(a["recipient"].as_str().unwrap().to_string());
        }
        m
    };
    let first = alerts(&config);
    let routes = by_incident(&first);
    let set = |ids: &[&str]| ids.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    // Incident 1: CHU de Nantes + MGEN; 2: MGEN only (HCL is not in this watchlist);
    // 3: CHU de Rennes.
    assert_eq!(routes[&1], set(&["cert", "chu-nantes", "mgen"]), "{out}");
    assert_eq!(routes[&2], set(&["cert", "mgen"]));
    assert_eq!(routes[&3], set(&["cert", "chu-rennes"]));
    let n_first = first.len();

    // The same sale reposted elsewhere: no new alert (severity and identifier kinds unchanged).
    let again = dir.path().join("again");
    std::fs::create_dir_all(&again).unwrap();
    std::fs::copy(
        reposts.join("forum_a_original.txt"),
        again.join("other_forum.txt"),
    )
    .unwrap();
    ok(&vigie(
        &config,
        &["ingest", "--source", "forum-y", again.to_str().unwrap()],
    ));
    assert_eq!(alerts(&config).len(), n_first);

    // A repost that adds hospital credentials: a new identifier kind, so an update (rev 2).
    let mut text = std::fs::read_to_string(reposts.join("forum_a_original.txt")).unwrap();
    text.push_str("\nBonus accès VPN : j.martin@chu-nantes.fr:Nantes2026! et a.durand@chu-nantes.fr:Soleil44\n");
    let update = dir.path().join("update");
    std::fs::create_dir_all(&update).unwrap();
    std::fs::write(update.join("repost_creds.txt"), text).unwrap();
    ok(&vigie(
        &config,
        &["ingest", "--source", "forum-z", update.to_str().unwrap()],
    ));
    let after = alerts(&config);
    let updates: Vec<&Value> = after.iter().filter(|a| a["revision"] == 2).collect();
    assert!(!updates.is_empty(), "{after:?}");
    assert!(updates.iter().all(|a| a["incident"] == 1), "{updates:?}");
    assert!(
        updates.iter().all(|a| a["reason"]
            .as_str()
            .unwrap()
            .contains("new identifier kinds")),
        "{updates:?}"
    );

    // False positive on the Rennes incident: a near-duplicate repost sends nothing more.
    let rennes_alert = after
        .iter()
        .find(|a| a["incident"] == 3 && a["recipient"] == "cert")
        .unwrap()["alert"]
        .as_u64()
        .unwrap();
    ok(&vigie(
        &config,
        &[
            "alerts",
            "false-positive",
            &rennes_alert.to_string(),
            "--reason",
            "recycled template, no real data",
        ],
    ));
    let shown = ok(&vigie(
        &config,
        &["alerts", "show", &rennes_alert.to_string()],
    ));
    assert!(
        shown.contains("false_positive") && shown.contains("recycled template"),
        "{shown}"
    );
    assert!(shown.contains("suppressed"), "{shown}");
    let before_fp = alerts(&config).len();
    let mut rennes =
        std::fs::read_to_string(reposts.join("template_other_sale_rennes.txt")).unwrap();
    rennes = rennes.replacen("Prix", "Nouveau prix, négociable.\nPrix", 1);
    let fp_dir = dir.path().join("fp");
    std::fs::create_dir_all(&fp_dir).unwrap();
    std::fs::write(fp_dir.join("rennes_again.txt"), rennes).unwrap();
    ok(&vigie(
        &config,
        &["ingest", "--source", "forum-w", fp_dir.to_str().unwrap()],
    ));
    assert_eq!(
        alerts(&config).len(),
        before_fp,
        "a false positive's repost alerted"
    );

    // Acknowledging another incident keeps its alerts flowing and shows in the list.
    let nantes_alert = after.iter().find(|a| a["incident"] == 1).unwrap()["alert"]
        .as_u64()
        .unwrap();
    ok(&vigie(
        &config,
        &["alerts", "ack", &nantes_alert.to_string()],
    ));
    let listed = alerts(&config);
    assert!(listed
        .iter()
        .filter(|a| a["incident"] == 1)
        .all(|a| a["triage"] == "acknowledged"));
}

#[test]
fn bad_recipients_are_config_errors_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        "[[recipient]]\nid = \"chu\"\nurl = \"htp:/nowhere\"\nsecret_env = \"VIGIE_TEST_SECRET\"\n\n[[recipient]]\nid = \"lab\"\nurl = \"http://127.0.0.1:9/hook\"\nsecret_env = \"VIGIE_MISSING_SECRET\"\n",
    );
    for args in [&["run"][..], &["alerts", "deliver"][..]] {
        let out = vigie(&config, args);
        assert_eq!(out.status.code(), Some(2), "{args:?} {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        // The bad URL is named by its recipient, never quoted (tokens live in URLs).
        assert!(err.contains("recipient \"chu\": url <"), "{err}");
        assert!(!err.contains("htp:/nowhere"), "{err}");
        assert!(err.contains("$VIGIE_MISSING_SECRET"), "{err}");
        // The secret of the valid entry is never echoed.
        assert!(!err.contains(SECRET), "{err}");
    }
    let input = fixtures().join("reposts");
    let out = vigie(&config, &["ingest", input.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        !dir.path().join("store").exists(),
        "nothing stored before the config is valid"
    );

    let bad_delivery = dir.path().join("bad.toml");
    std::fs::write(&bad_delivery, "[delivery]\nworkers = 0\n").unwrap();
    let out = vigie(&bad_delivery, &["alerts", "outbox"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("workers"));
}

#[test]
fn a_refused_alert_is_dead_lettered_and_redelivered_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = write_config(
        dir.path(),
        &recipient("cert", port, "catch_all = true\nmin_severity = \"medium\""),
    );
    let post = fixtures().join("reposts/forum_a_original.txt");
    ok(&vigie(&config, &["ingest", post.to_str().unwrap()]));
    // A 403 will not change by retrying: dead at once, exit 1 for the operator's scripts.
    let receiver = Receiver::start(port, dir.path(), "403");
    let out = vigie(&config, &["alerts", "deliver", "--wait", "5"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let dead = outbox(&config);
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["state"], "dead");
    assert_eq!(dead[0]["attempts"], 1);
    assert_eq!(dead[0]["last_error"], "HTTP 403");
    let text = ok(&vigie(&config, &["alerts", "outbox"]));
    assert!(text.contains("dead") && text.contains("HTTP 403"), "{text}");

    ok(&vigie(&config, &["alerts", "redeliver", "1"]));
    assert_eq!(outbox(&config)[0]["state"], "pending");
    ok(&vigie(&config, &["alerts", "deliver"]));
    assert!(outbox(&config).is_empty());
    // The refused POST, then the one after redelivery: two, not more.
    assert_eq!(receiver.posts(), per_key(&[(1, 2)]));
    assert_eq!(receiver.answered_ok(), per_key(&[(1, 1)]));
    let out = vigie(&config, &["alerts", "redeliver", "42"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no alert 42"));
}

#[test]
fn https_webhooks_are_checked_against_the_system_ca_store() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let (cert, key) = localhost_certificate(dir.path());
    let config = write_config(
        dir.path(),
        &format!(
            "[[recipient]]\nid = \"cert\"\nurl = \"https://127.0.0.1:{port}/hook/cert\"\nsecret_env = \"VIGIE_TEST_SECRET\"\ncatch_all = true\nmin_severity = \"medium\"\n"
        ),
    );
    let post = fixtures().join("reposts/forum_a_original.txt");
    ok(&vigie(&config, &["ingest", post.to_str().unwrap()]));
    let tls = Path::new("--tls");
    let receiver = Receiver::start_with(port, dir.path(), "", &[tls, &cert, &key]);
    // A certificate no CA in the store vouches for is refused: nothing is sent.
    let empty = dir.path().join("no-ca.pem");
    std::fs::write(&empty, "").unwrap();
    let refused = vigie_cmd(&config)
        .env("SSL_CERT_FILE", &empty)
        .env_remove("SSL_CERT_DIR")
        .args(["alerts", "deliver", "--wait", "2"])
        .output()
        .unwrap();
    assert_ne!(refused.status.code(), Some(0), "{refused:?}");
    assert!(receiver.posts().is_empty());
    let pending = outbox(&config);
    assert_eq!(pending.len(), 1);
    let why = pending[0]["last_error"]
        .as_str()
        .unwrap_or("")
        .to_lowercase();
    assert!(why.contains("certificate") || why.contains("tls"), "{why}");
    // Trusted through SSL_CERT_FILE (as update-ca-certificates would): delivered over https.
    let sent = vigie_cmd(&config)
        .env("SSL_CERT_FILE", &cert)
        .args(["alerts", "deliver", "--wait", "5"])
        .output()
        .unwrap();
    ok(&sent);
    assert!(outbox(&config).is_empty());
    assert_eq!(receiver.posts(), per_key(&[(1, 1)]));
}

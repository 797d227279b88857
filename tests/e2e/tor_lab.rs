//! End to end over real Tor: a private Tor network on 127.0.0.1 (`ops/lab/lab.sh`, Debian's
//! tor), onion services in front of the simulated forum and leak site, and `vigie run` with
//! its embedded arti client trusting only the lab's authorities (and a Telegram web preview
//! fetched through the lab's exits). Needs `tor`; `.ci/run`
//! installs it. Elsewhere, without tor, the test says so loudly and skips (in CI it fails).

mod support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{preview_server_with, root, vigie};

struct Lab(PathBuf);

/// Kills `vigie run` if the test fails before stopping it.
struct Running(Option<Child>);

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(root().join("ops/lab/lab.sh"))
            .arg("stop")
            .arg(&self.0)
            .status();
    }
}

fn tor_available() -> bool {
    let found = Command::new("sh")
        .args(["-c", "command -v tor && command -v tor-gencert"])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "tor is not installed but CI is set: .ci/run must install it (ops/deps.sh)"
        );
        eprintln!("\n\n!!!!!!!! SKIPPED: the Tor lab test needs Debian's `tor` package (apt-get install tor) !!!!!!!!\n\n");
    }
    found
}

fn start_lab(dir: &Path, base: u16) -> (Lab, HashMap<String, String>) {
    let out = Command::new("bash")
        .arg(root().join("ops/lab/lab.sh"))
        .arg("start")
        .arg(dir)
        .args(["--base", &base.to_string()])
        .output()
        .unwrap();
    let lab = Lab(dir.to_path_buf());
    assert!(
        out.status.success(),
        "lab did not start: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let env = std::fs::read_to_string(dir.join("lab.env"))
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    (lab, env)
}

fn wait_until(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(
            Instant::now() < deadline,
            "timed out after {secs} s waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn snapshots(store: &Path) -> u64 {
    let out = vigie(store, &["evidence", "verify", "--json"]);
    serde_json::from_slice::<Value>(&out.stdout)
        .map(|v| v["snapshots"].as_u64().unwrap_or(0))
        .unwrap_or(0)
}

fn health(config: &Path) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .arg("--config")
        .arg(config)
        .args(["sources", "health", "--json", "--history", "100"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn runs_of<'a>(records: &'a [Value], source: &str) -> Vec<&'a Value> {
    records.iter().filter(|r| r["source"] == source).collect()
}

fn config(dir: &Path, lab: &HashMap<String, String>, mode: &str) -> PathBuf {
    let transport = match mode {
        "socks" => format!("mode = \"socks\"\nsocks_addr = \"{}\"\n", lab["LAB_SOCKS"]),
        _ => format!(
            "mode = \"arti\"\narti_config = \"{}/arti.toml\"\n",
            lab["LAB_DIR"]
        ),
    };
    let path = dir.join(format!("vigie-{mode}.toml"));
    std::fs::write(
        &path,
        format!(
            "[store]\npath = \"store\"\n\n[run]\npoll_ms = 100\n\n[tor]\n{transport}connect_timeout_secs = 30\nfetch_timeout_secs = 60\nbackoff_ms = 500\n\n\
             [[tor_source]]\nid = \"medleaks-forum\"\nkind = \"forum\"\nengine = \"phpbb\"\nmirrors = [\"http://{}/\", \"http://{}/\"]\nstart = \"/index.php\"\ninterval_secs = 4\njitter = 0.0\nmax_pages = 40\ncookie_env = \"VIGIE_LAB_FORUM_COOKIE\"\n\n\
             [[tor_source]]\nid = \"lockdown-leaks\"\nkind = \"leak-site\"\nengine = \"leak-site\"\nmirrors = [\"http://{}/\"]\ninterval_secs = 4\njitter = 0.0\nmax_pages = 3\n",
            lab["LAB_FORUM1"], lab["LAB_FORUM2"], lab["LAB_LEAK"]
        ),
    )
    .unwrap();
    path
}

#[test]
fn vigie_run_crawls_onion_services_of_a_private_tor_network() {
    if !tor_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let base = 20_000 + (std::process::id() % 400) as u16 * 100;
    let lab_dir = dir.path().join("lab");
    let (_lab, lab) = start_lab(&lab_dir, base);
    // The config the lab writes for newcomers parses.
    let out = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .arg("--config")
        .arg(lab_dir.join("vigie.toml"))
        .args(["scan", "/dev/null"])
        .output()
        .unwrap();
    assert_ne!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cfg = config(dir.path(), &lab, "arti");
    let store = dir.path().join("store");
    let log = dir.path().join("run.log");
    let mut run = Running(Some(
        Command::new(env!("CARGO_BIN_EXE_vigie"))
            .arg("--config")
            .arg(&cfg)
            .arg("run")
            .env("VIGIE_LAB_FORUM_COOKIE", &lab["VIGIE_LAB_FORUM_COOKIE"])
            .env("RUST_LOG", "warn,vigie=info,vigie_tor=info")
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
    ));
    let log_text = || std::fs::read_to_string(&log).unwrap_or_default();

    // Every forum post (21, the members-only thread included) and every victim (3).
    wait_until("the first crawl of both sources", 240, || {
        snapshots(&store) >= 24
    });
    let incidents =
        String::from_utf8_lossy(&vigie(&store, &["incidents", "list", "--json"]).stdout)
            .into_owned();
    for entity in ["chu-nantes", "weda", "cerballiance"] {
        assert!(
            incidents.contains(&format!("\"id\":\"{entity}\"")),
            "{entity}: {incidents}"
        );
    }
    assert!(log_text().contains("Tor bootstrapped"), "{}", log_text());

    // Repeat crawls add no duplicates.
    wait_until("three runs of the forum", 120, || {
        runs_of(&health(&cfg), "medleaks-forum").len() >= 3
    });
    assert_eq!(snapshots(&store), 24);

    // Mirror 1's server goes down: the next runs rotate to mirror 2 and say so.
    let pid = std::fs::read_to_string(lab_dir.join("site/forum1.pid")).unwrap();
    Command::new("kill").arg(pid.trim()).status().unwrap();
    let forum2 = lab["LAB_FORUM2"].clone();
    wait_until("a run on mirror 2", 180, || {
        health(&cfg).iter().any(|r| {
            r["source"] == "medleaks-forum"
                && r["mirror"] == forum2.as_str()
                && r["pages_ok"].as_u64() > Some(0)
        })
    });
    assert!(log_text().contains("rotated to another mirror"));

    // A new post is recorded once.
    let out = Command::new("python3")
        .arg(root().join("ops/lab/site.py"))
        .arg("--root")
        .arg(lab_dir.join("site"))
        .args([
            "--add-post",
            "1",
            "Nouvel échantillon CHU de Nantes: 20 000 lignes de plus, même prix.",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    wait_until("the new post", 120, || snapshots(&store) == 25);

    // The forum's HTML changes: the next run is flagged blind.
    let out = Command::new("python3")
        .arg(root().join("ops/lab/site.py"))
        .arg("--root")
        .arg(lab_dir.join("site"))
        .args(["--layout", "v2"])
        .output()
        .unwrap();
    assert!(out.status.success());
    wait_until("the parser-health warning", 120, || {
        log_text().contains("parser found nothing")
    });
    // The run's health record lands in the store just after the warning is logged.
    wait_until("the blind health record", 30, || {
        runs_of(&health(&cfg), "medleaks-forum")
            .first()
            .is_some_and(|last| last["status"] == "blind")
    });

    let mut child = run.0.take().unwrap();
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(child.wait().unwrap().success(), "{}", log_text());
    assert_eq!(snapshots(&store), 25);

    // The same collector through the lab's tor SOCKS port.
    let socks = config(dir.path(), &lab, "socks");
    let out = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .arg("--config")
        .arg(&socks)
        .args(["crawl", "lockdown-leaks", "--json"])
        .env("VIGIE_LAB_FORUM_COOKIE", &lab["VIGIE_LAB_FORUM_COOKIE"])
        .output()
        .unwrap();
    let record: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(record["status"], "ok", "{record}");
    assert_eq!(record["documents"], 3);
    assert_eq!(
        snapshots(&store),
        25,
        "the same victims through SOCKS are repeats"
    );

    // A Telegram web preview read through Tor (arti, leaving by one of the lab's exits to a
    // preview server on 127.0.0.1), on the same store.
    let posts = dir.path().join("posts.jsonl");
    let lines: String = (1..=3)
        .map(|id| {
            format!(
                "{}\n",
                serde_json::json!({"id": id, "date": 1_795_000_000 + id * 60, "text": format!("canal {id}: rien de neuf"), "views": "12"})
            )
        })
        .collect();
    std::fs::write(&posts, lines).unwrap();
    // The one port the lab's exits carry to 127.0.0.1 besides onion traffic.
    let port: u16 = lab["LAB_CLEARWEB_PORT"].parse().unwrap();
    let requests = dir.path().join("preview.log");
    let _preview = preview_server_with(port, &posts, &requests, &[]);
    let preview_cfg = dir.path().join("vigie-preview.toml");
    std::fs::write(
        &preview_cfg,
        format!(
            "[store]\npath = \"store\"\n\n[run]\npoll_ms = 100\n\n[tor]\nmode = \"arti\"\narti_config = \"{}/arti.toml\"\nconnect_timeout_secs = 30\nfetch_timeout_secs = 60\n\n[[telegram_preview]]\nchannel = \"medleaks\"\nbase_url = \"http://127.0.0.1:{port}\"\ninterval_secs = 2\nvia_tor = true\n",
            lab["LAB_DIR"]
        ),
    )
    .unwrap();
    let preview_log = dir.path().join("preview-run.log");
    let mut run = Running(Some(
        Command::new(env!("CARGO_BIN_EXE_vigie"))
            .arg("--config")
            .arg(&preview_cfg)
            .arg("run")
            .env("RUST_LOG", "warn,vigie=info,vigie_tor=info")
            .stderr(std::fs::File::create(&preview_log).unwrap())
            .spawn()
            .unwrap(),
    ));
    wait_until("the preview's posts through Tor", 180, || {
        snapshots(&store) == 28
    });
    let mut child = run.0.take().unwrap();
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(
        child.wait().unwrap().success(),
        "{}",
        std::fs::read_to_string(&preview_log).unwrap_or_default()
    );
    let seen = std::fs::read_to_string(&requests).unwrap();
    assert!(
        seen.lines().all(|l| l.contains("Firefox")),
        "every request through the Tor client: {seen}"
    );

    // Without configuration, over arti: the leak site read by the built-in victim extractor,
    // and the members-only thread fetched without its cookie named a login wall, not blind.
    let auto = dir.path().join("vigie-auto.toml");
    std::fs::write(
        &auto,
        format!(
            "[store]\npath = \"store\"\n\n[tor]\nmode = \"arti\"\narti_config = \"{}/arti.toml\"\nconnect_timeout_secs = 30\nfetch_timeout_secs = 60\nbackoff_ms = 500\n\n\
             [[tor_source]]\nid = \"leaks-auto\"\nkind = \"leak-site\"\nmirrors = [\"http://{}/\"]\nmax_pages = 3\n\n\
             [[tor_source]]\nid = \"walled\"\nkind = \"forum\"\nmirrors = [\"http://{}/\"]\nstart = \"/viewtopic.php?t=5\"\n",
            lab["LAB_DIR"], lab["LAB_LEAK"], lab["LAB_FORUM2"]
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .arg("--config")
        .arg(&auto)
        .args(["crawl", "leaks-auto", "walled", "--json"])
        .output()
        .unwrap();
    let records: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let by_id = |id: &str| {
        records
            .iter()
            .find(|r| r["source"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("{id}: {}", String::from_utf8_lossy(&out.stderr)))
    };
    assert_eq!(
        by_id("leaks-auto")["status"],
        "ok",
        "{}",
        by_id("leaks-auto")
    );
    assert_eq!(
        by_id("leaks-auto")["documents"],
        3,
        "{}",
        by_id("leaks-auto")
    );
    assert_eq!(
        by_id("walled")["status"],
        "login_wall",
        "{}",
        by_id("walled")
    );
}

//! The analyst console in a real browser: a store seeded by `vigie ingest` of posts from
//! tests/fixtures/posts, users added with `vigie users add`, then `vigie run` with a spool and
//! `[console] listen` on 127.0.0.1 (the console served by the process that records: a post
//! dropped into the spool while it serves is recorded and shown), and
//! tests/console/run.mjs (playwright-core driving Debian's chromium) logging in, filtering,
//! opening an incident, revealing with a reason, finding it in the audit screen, marking a
//! false positive, and being refused a CSRF-less POST and a viewer's reveal. Screenshots go
//! to docs/console/ (shown in the README).

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PASSWORD: &str = "browser-test password 42";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn vigie(store: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vigie"));
    c.arg("--store").arg(store);
    c
}

struct Server(Child);

impl Server {
    /// SIGTERM, as systemd stops it: the run saves the store and exits 0.
    fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.0.try_wait().unwrap() {
                assert!(status.success(), "vigie run exited with {status}");
                return;
            }
            assert!(
                Instant::now() < deadline,
                "vigie run did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn the_console_works_in_a_real_browser() {
    let playwright = root().join("tests/console/node_modules/playwright-core");
    assert!(
        playwright.exists(),
        "playwright-core is missing: run ops/deps.sh (npm ci in tests/console)"
    );
    assert!(
        Path::new("/usr/bin/chromium").exists(),
        "Debian's chromium is missing: run ops/deps.sh"
    );
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let posts = root().join("tests/fixtures/posts");
    let mut ingest = vigie(&store);
    ingest.args(["ingest", "--source", "forum-lab"]);
    for name in [
        "fr_dump_gratuit.txt",
        "fr_comptes_ameli.txt",
        "leaksite_dedalus.txt",
        "ru_pharmagest.txt",
        "news_hospital_breach.txt",
    ] {
        ingest.arg(posts.join(name));
    }
    let out = ingest.output().unwrap();
    assert!(out.status.success(), "{out:?}");
    for (name, role) in [("ana", "analyst"), ("vic", "viewer")] {
        let mut add = vigie(&store)
            .args(["users", "add", name, "--role", role])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(add.stdin.take().unwrap(), "{PASSWORD}").unwrap();
        let out = add.wait_with_output().unwrap();
        assert!(out.status.success(), "{out:?}");
    }
    let port = free_port();
    let spool = dir.path().join("spool");
    let config = dir.path().join("vigie.toml");
    std::fs::write(
        &config,
        format!(
            "[run]\nspool = {:?}\npoll_ms = 100\n\n[console]\nlisten = \"127.0.0.1:{port}\"\nsession_minutes = 2\n",
            spool.display().to_string()
        ),
    )
    .unwrap();
    let server = Server(
        vigie(&store)
            .arg("--config")
            .arg(&config)
            .arg("run")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "vigie run did not serve the console"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // A sale arrives while the console is served: the spool file goes once it is stored.
    let sale = posts.join("fr_medecindirect_vente.txt");
    std::fs::copy(&sale, spool.join(".sale.txt")).unwrap();
    std::fs::rename(spool.join(".sale.txt"), spool.join("sale.txt")).unwrap();
    while spool.join("sale.txt").exists() {
        assert!(
            Instant::now() < deadline + Duration::from_secs(30),
            "the spool file was not recorded"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let shots = root().join("docs/console");
    std::fs::create_dir_all(&shots).unwrap();
    let out = Command::new("node")
        .arg(root().join("tests/console/run.mjs"))
        .env("VIGIE_URL", format!("http://127.0.0.1:{port}"))
        .env("VIGIE_PASSWORD", PASSWORD)
        .env("VIGIE_SHOTS", &shots)
        .env("VIGIE_SPOOL", &spool)
        .env("VIGIE_POSTS", &posts)
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "browser test failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("ok - a CSRF-less POST is refused"));
    assert!(stdout.contains("ok - a viewer's reveal is refused"));
    assert!(stdout.contains("ok - the sale recorded from the spool is listed"));
    server.stop();
    // The trail survives the server, in the chain of custody.
    let out = vigie(&store)
        .args(["audit", "--json", "--limit", "100"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let trail = String::from_utf8_lossy(&out.stdout);
    assert!(trail.contains("\"action\":\"reveal\""), "{trail}");
    assert!(trail.contains("\"action\":\"triage\""), "{trail}");
    let verify = vigie(&store).args(["evidence", "verify"]).output().unwrap();
    assert!(verify.status.success(), "{verify:?}");
}

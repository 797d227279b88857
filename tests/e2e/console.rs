//! The analyst console in a real browser: a store seeded by `vigie ingest` of posts from
//! tests/fixtures/posts, users added with `vigie users add`, `vigie serve` on 127.0.0.1, and
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
        "fr_medecindirect_vente.txt",
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
    let server = Server(
        vigie(&store)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "vigie serve did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    let shots = root().join("docs/console");
    std::fs::create_dir_all(&shots).unwrap();
    let out = Command::new("node")
        .arg(root().join("tests/console/run.mjs"))
        .env("VIGIE_URL", format!("http://127.0.0.1:{port}"))
        .env("VIGIE_PASSWORD", PASSWORD)
        .env("VIGIE_SHOTS", &shots)
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
    drop(server);
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

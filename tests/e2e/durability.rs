//! `vigie run` under faults, end to end (127.0.0.1 only): a time-stamp authority that never
//! answers does not hold recording, and spool files that cannot be recorded are set aside
//! with their reason while the others go on.

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

fn vigie_cmd(config: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vigie"));
    c.arg("--config").arg(config).env("RUST_LOG", "warn");
    c
}

fn vigie(config: &Path, args: &[&str]) -> Output {
    vigie_cmd(config).args(args).output().expect("vigie runs")
}

fn wait_for(what: &str, secs: u64, mut f: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < Duration::from_secs(secs),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    start.elapsed()
}

fn drop_in_spool(spool: &Path, name: &str, content: &[u8]) {
    let tmp = spool.join(format!(".{name}"));
    std::fs::write(&tmp, content).unwrap();
    std::fs::rename(&tmp, spool.join(name)).unwrap();
}

/// `vigie run`, stopped with SIGTERM on drop if the test did not stop it.
struct Run(Option<Child>);

impl Run {
    fn start(config: &Path) -> Run {
        Run(Some(vigie_cmd(config).arg("run").spawn().unwrap()))
    }

    /// SIGTERM; returns how long it took to exit, and whether it exited 0.
    fn stop(&mut self) -> (Duration, bool) {
        let mut child = self.0.take().expect("running");
        let started = Instant::now();
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        let status = child.wait().unwrap();
        (started.elapsed(), status.success())
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A TSA that accepts connections and never answers. Returns its URL and the connections
/// it holds.
fn hanging_tsa() -> (String, Arc<Mutex<Vec<TcpStream>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/tsa", listener.local_addr().unwrap());
    let held = Arc::new(Mutex::new(Vec::new()));
    let keep = Arc::clone(&held);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            keep.lock().unwrap().push(stream);
        }
    });
    (url, held)
}

#[test]
fn a_hanging_time_stamp_authority_does_not_hold_recording() {
    let dir = tempfile::tempdir().unwrap();
    let (tsa, held) = hanging_tsa();
    let config = dir.path().join("vigie.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\npath = \"store\"\n\n[run]\nspool = \"spool\"\npoll_ms = 100\n\n\
             [timestamping]\nurl = \"{tsa}\"\ninterval_minutes = 60\nca_file = \"tsa-ca.pem\"\n"
        ),
    )
    .unwrap();
    let spool = dir.path().join("spool");
    let mut run = Run::start(&config);
    wait_for("the spool", 30, || spool.exists());
    let post = std::fs::read(fixtures().join("reposts/forum_a_original.txt")).unwrap();
    drop_in_spool(&spool, "post-1.txt", &post);
    wait_for("the first post", 20, || !spool.join("post-1.txt").exists());
    // The chain head moved: a time-stamp is requested, and the TSA sits on it.
    wait_for("a time-stamp request", 10, || {
        !held.lock().unwrap().is_empty()
    });
    let other = std::fs::read(fixtures().join("reposts/template_other_sale_rennes.txt")).unwrap();
    drop_in_spool(&spool, "post-2.txt", &other);
    // Before the fix the run loop waited for the TSA (20 s timeout) before reading the spool.
    let took = wait_for("the second post", 30, || !spool.join("post-2.txt").exists());
    assert!(
        took < Duration::from_secs(5),
        "the second post waited {took:?} for the TSA"
    );
    let (stop, clean) = run.stop();
    assert!(clean, "vigie run exits 0");
    assert!(
        stop < Duration::from_secs(10),
        "the stop waited {stop:?} for the TSA"
    );
    let verify = vigie(&config, &["evidence", "verify"]);
    assert_eq!(
        verify.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
}

#[test]
fn vigie_run_stores_the_tokens_its_tsa_thread_brings_back() {
    let dir = tempfile::tempdir().unwrap();
    let tsa_dir = dir.path().join("tsa");
    let mut server = Command::new("python3")
        .arg(fixtures().join("tsa/tsa_server.py"))
        .arg(&tsa_dir)
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port: u16 = line
        .trim()
        .strip_prefix("PORT ")
        .expect("PORT line")
        .parse()
        .unwrap();
    let config = dir.path().join("vigie.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\npath = \"store\"\n\n[run]\nspool = \"spool\"\npoll_ms = 100\n\n\
             [timestamping]\nurl = \"http://127.0.0.1:{port}/tsa\"\ninterval_minutes = 60\nca_file = \"{}\"\n",
            tsa_dir.join("ca.pem").display()
        ),
    )
    .unwrap();
    let spool = dir.path().join("spool");
    let mut run = Run::start(&config);
    wait_for("the spool", 30, || spool.exists());
    let post = std::fs::read(fixtures().join("reposts/forum_a_original.txt")).unwrap();
    drop_in_spool(&spool, "post-1.txt", &post);
    // Read-only queries work while the run holds the store.
    let tokens = || {
        let out = vigie(&config, &["evidence", "verify", "--json"]);
        serde_json::from_slice::<serde_json::Value>(&out.stdout)
            .ok()
            .and_then(|v| v["timestamp_tokens"].as_u64())
            .unwrap_or(0)
    };
    wait_for("a time-stamp token", 30, || tokens() >= 1);
    let (_, clean) = run.stop();
    assert!(clean);
    let out = vigie(&config, &["evidence", "verify", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["timestamp_tokens"], 1, "{v}");
    server.kill().unwrap();
    server.wait().unwrap();
}

#[test]
fn spool_files_that_fail_are_set_aside_with_their_reason() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("vigie.toml");
    std::fs::write(
        &config,
        "[store]\npath = \"store\"\n\n[run]\nspool = \"spool\"\npoll_ms = 100\nmax_bytes = 2000\n",
    )
    .unwrap();
    let spool = dir.path().join("spool");
    let mut run = Run::start(&config);
    wait_for("the spool", 30, || spool.exists());
    let big = vec![b'a'; 5000];
    drop_in_spool(&spool, "big.txt", &big);
    drop_in_spool(&spool, "ok.txt", b"Le CHU de Nantes recrute.");
    wait_for("both files handled", 20, || {
        !spool.join("big.txt").exists() && !spool.join("ok.txt").exists()
    });
    // Another file of the same name: set aside too, the first one kept.
    drop_in_spool(&spool, "big.txt", &[b'b'; 5000]);
    wait_for("the second big file", 20, || {
        !spool.join("big.txt").exists()
    });
    let (_, clean) = run.stop();
    assert!(clean);
    let rejected = spool.join("rejected");
    assert_eq!(std::fs::read(rejected.join("big.txt")).unwrap(), big);
    assert_eq!(
        std::fs::read(rejected.join("big.txt.1")).unwrap(),
        [b'b'; 5000]
    );
    for reason in ["big.txt.reason", "big.txt.1.reason"] {
        let text = std::fs::read_to_string(rejected.join(reason)).unwrap();
        assert!(
            text.contains("larger than run.max_bytes (2000 bytes)"),
            "{text}"
        );
    }
    assert!(
        !rejected.join("ok.txt").exists(),
        "the small file was recorded"
    );
    let out = vigie(&config, &["evidence", "verify", "--json"]);
    assert_eq!(out.status.code(), Some(0));
}

//! Helpers the end-to-end test files share (each file is its own test crate, so not every
//! helper is used by every file).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `vigie --store STORE ARGS...`.
pub fn vigie(store: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vigie"))
        .arg("--store")
        .arg(store)
        .args(args)
        .output()
        .expect("vigie runs")
}

/// The stdout of a run that must exit 0 (otherwise both streams are shown).
pub fn ok(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until something listens on 127.0.0.1:`port` (at most 20 s).
pub fn wait_port(port: u16) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "server on {port} did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// A helper process (a local server) killed when the test ends, pass or fail.
pub struct Server(pub std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A self-signed certificate for 127.0.0.1 made with openssl: (certificate, key), PEM.
pub fn localhost_certificate(dir: &Path) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("localhost.pem"), dir.join("localhost.key"));
    let made = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args([
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl runs");
    assert!(made.status.success(), "{made:?}");
    (cert, key)
}

/// The Telegram web-preview server of `tests/fixtures/telegram/preview` for channel
/// `medleaks` on 127.0.0.1:`port`, posts from the JSON-lines file `posts`, requests logged to
/// `log` ("PATH<TAB>USER-AGENT"); `extra` adds arguments (`--tls CERT KEY`).
pub fn preview_server_with(port: u16, posts: &Path, log: &Path, extra: &[&Path]) -> Server {
    let child = Command::new("python3")
        .arg(root().join("tests/fixtures/telegram/preview/preview_server.py"))
        .args(["--port", &port.to_string(), "--channel", "medleaks"])
        .arg("--posts")
        .arg(posts)
        .arg("--log")
        .arg(log)
        .args(extra)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_port(port);
    Server(child)
}

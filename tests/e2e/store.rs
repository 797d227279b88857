//! End-to-end tests of the evidence store through the `vigie` binary: ingest, incidents,
//! verify, export (checked with `sha256sum -c`), retention, a SIGKILL mid-ingest, a full disk,
//! bad store directories and configs, and RFC 3161 time-stamps from a local TSA.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

fn vigie(store: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vigie"))
        .arg("--store")
        .arg(store)
        .args(args)
        .output()
        .expect("vigie runs")
}

fn ok(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn summary(out: &Output) -> Value {
    let text = ok(out);
    serde_json::from_str(text.lines().last().expect("a summary line")).expect("JSON summary")
}

fn verify_json(store: &Path) -> Value {
    let out = vigie(store, &["evidence", "verify", "--json"]);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{out:?}"))
}

#[test]
fn ingest_groups_reposts_and_a_second_ingest_adds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let reposts = fixtures().join("reposts");
    let posts = fixtures().join("posts");
    let first = summary(&vigie(
        &store,
        &[
            "ingest",
            "--json",
            "--source",
            "lab",
            reposts.to_str().unwrap(),
            posts.to_str().unwrap(),
        ],
    ));
    let files =
        std::fs::read_dir(&reposts).unwrap().count() + std::fs::read_dir(&posts).unwrap().count();
    assert_eq!(first["files"].as_u64().unwrap() as usize, files);
    assert_eq!(first["new_snapshots"].as_u64().unwrap() as usize, files);
    assert!(!first["incidents_opened"].as_array().unwrap().is_empty());

    let second = summary(&vigie(
        &store,
        &[
            "ingest",
            "--json",
            "--source",
            "lab",
            reposts.to_str().unwrap(),
            posts.to_str().unwrap(),
        ],
    ));
    assert_eq!(second["new_snapshots"], 0);
    assert_eq!(second["duplicates"].as_u64().unwrap() as usize, files);
    assert_eq!(second["repeat_sightings"].as_u64().unwrap() as usize, files);
    assert!(second["incidents_opened"].as_array().unwrap().is_empty());

    // The five reposts of the CHU de Nantes sale are one incident with five sightings.
    let list = ok(&vigie(
        &store,
        &["incidents", "list", "--json", "--entity", "chu-nantes"],
    ));
    let incidents: Vec<Value> = list
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let sale: Vec<&Value> = incidents.iter().filter(|i| i["sightings"] == 5).collect();
    assert_eq!(sale.len(), 1, "{list}");
    let id = sale[0]["id"].as_u64().unwrap().to_string();
    let shown: Value =
        serde_json::from_str(&ok(&vigie(&store, &["incidents", "show", &id, "--json"]))).unwrap();
    assert_eq!(shown["sightings"].as_array().unwrap().len(), 5);
    assert_eq!(shown["incident"]["severity"], "critical");
    // Identifier examples are masked in everything the CLI prints.
    let human = ok(&vigie(&store, &["incidents", "show", &id]));
    assert!(human.contains("NIR") && human.contains("*"), "{human}");
    assert!(
        !human.contains("176024439046178"),
        "a raw NIR leaked: {human}"
    );
    // No example shows more than four digits of an identifier.
    let nir = &shown["incident"]["identifiers"]["nir"]["examples"];
    assert!(!nir.as_array().unwrap().is_empty(), "{shown}");
    for e in nir.as_array().unwrap() {
        let digits = e
            .as_str()
            .unwrap()
            .chars()
            .filter(char::is_ascii_digit)
            .count();
        assert!(digits <= 4, "{e}");
    }
    // Filters.
    let critical = ok(&vigie(
        &store,
        &["incidents", "list", "--severity", "critical"],
    ));
    assert!(critical.contains("CHU de Nantes"));
    let future = vigie(&store, &["incidents", "list", "--since", "2999-01-01"]);
    assert_eq!(future.status.code(), Some(1), "nothing found");
    let bad = vigie(&store, &["incidents", "list", "--since", "yesterday"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--since"));
    assert_eq!(verify_json(&store)["ok"], true);

    // Export: `sha256sum -c` accepts the checksums.
    let out = dir.path().join("incident.tar.gz");
    ok(&vigie(
        &store,
        &["evidence", "export", &id, "--out", out.to_str().unwrap()],
    ));
    {
        // The bundle and the store hold personal data: their owner's alone.
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(out.as_path()), 0o600, "bundle mode");
        assert_eq!(mode(store.as_path()), 0o700, "store directory mode");
    }
    let unpacked = dir.path().join("unpacked");
    std::fs::create_dir(&unpacked).unwrap();
    let tar = Command::new("tar")
        .arg("xzf")
        .arg(&out)
        .arg("-C")
        .arg(&unpacked)
        .status()
        .unwrap();
    assert!(tar.success());
    let check = Command::new("sha256sum")
        .args(["-c", "SHA256SUMS"])
        .current_dir(unpacked.join(format!("incident-{id}")))
        .output()
        .unwrap();
    assert!(check.status.success(), "{check:?}");
    assert_eq!(
        String::from_utf8_lossy(&check.stdout)
            .matches(": OK")
            .count(),
        6,
        "5 snapshots and the manifest"
    );
    let missing = vigie(
        &store,
        &[
            "evidence",
            "export",
            "9999",
            "--out",
            dir.path().join("x.tar.gz").to_str().unwrap(),
        ],
    );
    assert_eq!(missing.status.code(), Some(2));
    assert!(!dir.path().join("x.tar.gz").exists());
}

#[test]
fn retention_through_the_cli_keeps_verify_green() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let reposts = fixtures().join("reposts");
    // Seen in 2020 (an old export), stored today: retention counts from today, so the raw
    // bytes stay (purging itself is tested in the store crate, with a clock 31 days on).
    ok(&vigie(
        &store,
        &[
            "ingest",
            "--seen-at",
            "2020-03-01",
            reposts.to_str().unwrap(),
        ],
    ));
    let config = dir.path().join("vigie.toml");
    std::fs::write(&config, "[retention]\nraw_days = 30\n").unwrap();
    let out = ok(&vigie(
        &store,
        &["--config", config.to_str().unwrap(), "retention", "apply"],
    ));
    assert!(
        out.contains("purged raw bytes of 0 snapshot(s); kept 7 with personal data"),
        "{out}"
    );
    let v = verify_json(&store);
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["purged"], 0);
    // Without a period configured, it refuses rather than guessing.
    let none = vigie(&store, &["retention", "apply"]);
    assert_eq!(none.status.code(), Some(2));
}

fn generate_posts(dir: &Path, n: usize) {
    std::fs::create_dir_all(dir).unwrap();
    for i in 0..n {
        let text = format!(
            "Thread {i}: vends accès VPN clinique {i}, {} comptes, prix {} USD, contact @seller{i}.\n{}\n",
            i * 7 % 1000,
            100 + i,
            "Lorem ipsum dolor sit amet, texte de remplissage pour un post de forum ordinaire. ".repeat(20)
        );
        std::fs::write(dir.join(format!("post{i:05}.txt")), text).unwrap();
    }
}

#[test]
fn sigkill_mid_ingest_loses_nothing_and_reingest_adds_no_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let posts = dir.path().join("posts");
    let n = 3000;
    generate_posts(&posts, n);
    let mut child: Child = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .arg("--store")
        .arg(&store)
        .args(["ingest", "--json", "--threads", "1"])
        .arg(&posts)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill once some documents are recorded: the per-file JSON lines say so.
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let start = Instant::now();
    let mut seen = 0;
    while seen < 200 && start.elapsed() < Duration::from_secs(120) {
        match lines.next() {
            Some(Ok(_)) => seen += 1,
            _ => break,
        }
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(seen >= 200, "ingest printed {seen} lines before the kill");

    let v = verify_json(&store);
    assert_eq!(v["ok"], true, "{v}");
    let stored = v["snapshots"].as_u64().unwrap();
    assert!(
        stored >= 200 && (stored as usize) < n,
        "killed mid-run: {stored} of {n} stored"
    );
    assert_eq!(v["sightings"], v["snapshots"]);

    let again = summary(&vigie(
        &store,
        &["ingest", "--json", posts.to_str().unwrap()],
    ));
    assert_eq!(again["new_snapshots"].as_u64().unwrap() + stored, n as u64);
    let third = summary(&vigie(
        &store,
        &["ingest", "--json", posts.to_str().unwrap()],
    ));
    assert_eq!(third["new_snapshots"], 0);
    let v = verify_json(&store);
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["snapshots"].as_u64().unwrap(), n as u64);
}

#[test]
fn bad_store_directories_and_configs_fail_clearly() {
    let dir = tempfile::tempdir().unwrap();
    // A foreign directory.
    std::fs::write(dir.path().join("thesis.odt"), "not evidence").unwrap();
    let out = vigie(
        dir.path(),
        &["ingest", fixtures().join("posts").to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is not a Vigie store"), "{err}");
    assert!(!err.contains("panicked"));
    // A corrupt database.
    let store = dir.path().join("store");
    ok(&vigie(
        &store,
        &["ingest", fixtures().join("reposts").to_str().unwrap()],
    ));
    for f in std::fs::read_dir(store.join("db")).unwrap() {
        let p = f.unwrap().path();
        if p.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("MANIFEST")
        {
            std::fs::write(&p, b"\x00\x01garbage").unwrap();
        }
    }
    for args in [
        &["incidents", "list"][..],
        &["evidence", "verify"],
        &["ingest", "/dev/null"],
    ] {
        let out = vigie(&store, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("corrupt"), "{args:?}: {err}");
        assert!(!err.contains("panicked"));
    }
    // No store yet: queries say so.
    let out = vigie(&dir.path().join("nothing"), &["incidents", "list"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no Vigie store"));
    // Broken configs.
    for (text, expect) in [
        ("[store]\npath = 3\n", "invalid config"),
        ("[retention]\nraw_dayz = 3\n", "unknown field"),
        (
            "[timestamping]\nurl = \"ftp://x\"\nca_file = \"a.pem\"\n",
            "http(s) URL",
        ),
        ("[retention\n", "invalid config"),
    ] {
        let config = dir.path().join("bad.toml");
        std::fs::write(&config, text).unwrap();
        let out = vigie(
            &store,
            &["--config", config.to_str().unwrap(), "incidents", "list"],
        );
        assert_eq!(out.status.code(), Some(2), "{text}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expect), "{text}: {err}");
    }
}

/// A tmpfs of a few MiB, unmounted on drop. Needs root (CI runs as root).
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn mount(path: &Path, size: &str) -> SmallDisk {
        std::fs::create_dir_all(path).unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(path)
            .status()
            .expect("mount runs");
        assert!(
            status.success(),
            "mounting a tmpfs needs root; run the suite as CI does (as root)"
        );
        SmallDisk(path.to_path_buf())
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_fails_the_batch_and_loses_nothing_stored() {
    let dir = tempfile::tempdir().unwrap();
    let disk = SmallDisk::mount(&dir.path().join("disk"), "24m");
    let store = disk.0.join("store");
    // What is stored before the disk fills must survive it.
    ok(&vigie(
        &store,
        &["ingest", fixtures().join("reposts").to_str().unwrap()],
    ));
    let before = verify_json(&store);
    assert_eq!(before["ok"], true);
    // Incompressible files, more than the disk holds.
    let big = dir.path().join("big");
    std::fs::create_dir(&big).unwrap();
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in 0..40 {
        let bytes: Vec<u8> = (0..1 << 20)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                b'a' + (state % 26) as u8
            })
            .collect();
        std::fs::write(big.join(format!("dump{i:02}.txt")), bytes).unwrap();
    }
    let out = vigie(&store, &["ingest", "--threads", "1", big.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("No space left") || err.contains("batch not applied"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    // Everything stored before is still there and verifies.
    let after = verify_json(&store);
    assert_eq!(after["ok"], true, "{after}");
    assert!(after["snapshots"].as_u64() >= before["snapshots"].as_u64());
    let list = ok(&vigie(
        &store,
        &["incidents", "list", "--entity", "chu-nantes"],
    ));
    assert!(list.contains("CHU de Nantes"));
}

#[test]
fn chain_head_is_time_stamped_by_a_local_tsa_and_verified() {
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
            "[timestamping]\nurl = \"http://127.0.0.1:{port}/tsa\"\ninterval_minutes = 60\nca_file = \"{}\"\n",
            tsa_dir.join("ca.pem").display()
        ),
    )
    .unwrap();
    let store = dir.path().join("store");
    let c = config.to_str().unwrap();
    // Ingest stamps the head at the end of the run (none stamped yet, so it is due).
    ok(&vigie(
        &store,
        &[
            "--config",
            c,
            "ingest",
            fixtures().join("reposts").to_str().unwrap(),
        ],
    ));
    let v: Value = serde_json::from_slice(
        &vigie(&store, &["--config", c, "evidence", "verify", "--json"]).stdout,
    )
    .unwrap();
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["timestamp_tokens"], 1);
    // More evidence, then an explicit stamp of the new head.
    ok(&vigie(
        &store,
        &[
            "--config",
            c,
            "ingest",
            fixtures().join("posts").to_str().unwrap(),
        ],
    ));
    let out = ok(&vigie(&store, &["--config", c, "evidence", "timestamp"]));
    assert!(out.contains("time-stamped"), "{out}");
    let v: Value = serde_json::from_slice(
        &vigie(&store, &["--config", c, "evidence", "verify", "--json"]).stdout,
    )
    .unwrap();
    assert_eq!(v["timestamp_tokens"], 2, "{v}");
    server.kill().unwrap();
    server.wait().unwrap();

    // A verifier trusting another CA rejects the tokens.
    let other = dir.path().join("other");
    std::fs::create_dir(&other).unwrap();
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=Other",
            "-days",
            "1",
        ])
        .arg("-keyout")
        .arg(other.join("k.pem"))
        .arg("-out")
        .arg(other.join("ca.pem"))
        .output()
        .unwrap();
    assert!(made.status.success());
    let other_config = dir.path().join("other.toml");
    std::fs::write(
        &other_config,
        format!(
            "[timestamping]\nurl = \"http://127.0.0.1:9/\"\nca_file = \"{}\"\n",
            other.join("ca.pem").display()
        ),
    )
    .unwrap();
    let out = vigie(
        &store,
        &[
            "--config",
            other_config.to_str().unwrap(),
            "evidence",
            "verify",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("time-stamp token"),
        "{out:?}"
    );
    // An unreachable TSA fails the explicit stamp clearly, and is only a warning after ingest.
    let extra = dir.path().join("extra.txt");
    std::fs::write(&extra, "Vends accès VPN CHU de Nantes, 2 BTC.").unwrap();
    let out = vigie(
        &store,
        &[
            "--config",
            other_config.to_str().unwrap(),
            "ingest",
            extra.to_str().unwrap(),
        ],
    );
    ok(&out);
    let out = vigie(
        &store,
        &[
            "--config",
            other_config.to_str().unwrap(),
            "evidence",
            "timestamp",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("unreachable"),
        "{out:?}"
    );
}

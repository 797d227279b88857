//! Distributed mode on a real NATS JetStream server (Debian's nats-server, on 127.0.0.1):
//! collectors and the recorder in separate processes, and the faults the issue names — the
//! recorder SIGKILLed mid-stream, a collector restarted and republishing, the bus down, one
//! node of a three-node cluster killed. After each: nothing lost, no duplicate snapshot,
//! sighting or incident, and `evidence verify` passes.

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{free_port, ok, root, vigie, wait_port, Server};
use vigie_bus::testing::{NatsCluster, NatsServer};

/// A `vigie` process killed when the test ends.
struct Running(Option<Child>);

impl Running {
    fn start(config: &Path, args: &[&str]) -> Running {
        let child = Command::new(env!("CARGO_BIN_EXE_vigie"))
            .arg("--config")
            .arg(config)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        Running(Some(child))
    }

    /// SIGTERM, then the output (SIGKILL after 30 s).
    fn stop(mut self) -> Output {
        let mut child = self.0.take().unwrap();
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        child.wait_with_output().unwrap()
    }

    /// SIGKILL: no chance to finish anything.
    fn kill(mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn write_config(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    path
}

fn verify(store: &Path) -> Value {
    let out = vigie(store, &["evidence", "verify", "--json"]);
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)))
}

/// (incident ids with their organisations and sightings) of a store, read-only.
fn incidents(store: &Path) -> Vec<Value> {
    let out = vigie(store, &["incidents", "list", "--json"]);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// What must be equal between two stores fed the same documents: organisations per incident,
/// severity and sighting counts (incident numbers may differ with arrival order).
fn shape(store: &Path) -> BTreeSet<String> {
    incidents(store)
        .iter()
        .map(|i| {
            let mut names: Vec<String> = i["entities"]
                .as_array()
                .map(|a| a.iter().map(|e| e["id"].to_string()).collect())
                .unwrap_or_default();
            names.sort();
            format!("{} {} {}", names.join(","), i["severity"], i["sightings"])
        })
        .collect()
}

/// Snapshots in a store, 0 while the recorder has not created it yet.
fn snapshots(store: &Path) -> u64 {
    if !store.exists() {
        return 0;
    }
    let out = vigie(store, &["evidence", "verify", "--json"]);
    serde_json::from_slice::<Value>(&out.stdout)
        .ok()
        .and_then(|v| v["snapshots"].as_u64())
        .unwrap_or(0)
}

/// `vigie ingest --bus URLS --source dump [EXTRA…] PATH`: files published, not recorded.
fn publish(config: &Path, urls: &str, path: &str, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vigie"))
        .arg("--config")
        .arg(config)
        .args(["ingest", "--bus", urls, "--source", "dump"])
        .args(extra)
        .arg(path)
        .output()
        .unwrap()
}

/// Waits until `done()` or `secs` pass; says what it waited for.
fn wait_until(what: &str, secs: u64, done: impl FnMut() -> bool) {
    assert!(waited(secs, done), "timed out waiting for {what}");
}

/// Whether `done()` came true within `secs`.
fn waited(secs: u64, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done() {
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    true
}

/// `n` posts, a few naming watched organisations with identifiers, the rest chatter; two
/// files have the same content (one snapshot, two sightings).
fn posts(dir: &Path, n: usize) -> PathBuf {
    let posts = dir.join("posts");
    std::fs::create_dir_all(&posts).unwrap();
    for i in 0..n {
        let body = match i % 5 {
            0 => format!(
                "Vends base patients Weda #{i}, 20k lignes, échantillon:\nnom;nir\nDupont;185057512345642\nMartin;285057512345611\nprix 1 BTC"
            ),
            1 => format!("CHU de Nantes dump {i}, accès VPN et mots de passe, contact tox"),
            _ => format!("message {i}: anyone selling fresh combolists?"),
        };
        std::fs::write(posts.join(format!("post-{i:05}.txt")), body).unwrap();
    }
    std::fs::write(
        posts.join("zz-copy.txt"),
        "message 2: anyone selling fresh combolists?",
    )
    .unwrap();
    posts
}

fn base_config(dir: &Path, store: &str, extra: &str) -> PathBuf {
    write_config(
        dir,
        &format!("{store}.toml"),
        &format!("[store]\npath = \"{store}\"\n\n{extra}"),
    )
}

#[test]
fn files_over_the_bus_give_the_store_one_process_gives_even_when_the_recorder_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let nats = NatsServer::start(&dir.path().join("nats")).unwrap();
    let url = nats.url();
    let posts = posts(dir.path(), 600);
    let posts = posts.to_str().unwrap();

    // Reference: one process.
    let reference = dir.path().join("reference");
    ok(&vigie(
        &reference,
        &[
            "ingest",
            "--source",
            "dump",
            "--seen-at",
            "2026-11-01",
            posts,
        ],
    ));

    // Distributed: published first, then recorded by a recorder that is SIGKILLed mid-stream.
    let config = base_config(dir.path(), "recorded", "[bus]\nack_wait_secs = 3\n");
    let published = ok(&publish(&config, &url, posts, &["--seen-at", "2026-11-01"]));
    assert!(published.contains("601 documents"), "{published}");
    let recorded = dir.path().join("recorded");
    let recorder = Running::start(&config, &["run", "--bus", &url]);
    wait_until("the first batches", 60, || snapshots(&recorded) > 0);
    recorder.kill();
    let partial = snapshots(&recorded);
    let recorder = Running::start(&config, &["run", "--bus", &url]);
    wait_until("every document", 120, || {
        snapshots(&recorded) == snapshots(&reference)
    });
    // Redeliveries settle: nothing more comes after.
    std::thread::sleep(Duration::from_secs(4));
    let out = recorder.stop();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (a, b) = (verify(&reference), verify(&recorded));
    assert!(partial <= b["snapshots"].as_u64().unwrap());
    assert_eq!(b["ok"], true, "{b}");
    for field in ["snapshots", "sightings"] {
        assert_eq!(
            a[field], b[field],
            "{field}: one process {a} / over the bus {b}"
        );
    }
    assert_eq!(shape(&reference), shape(&recorded));
    let incident_count = incidents(&recorded).len();
    assert_eq!(incidents(&reference).len(), incident_count);

    // Published again (a collector that restarts): the bus drops them as duplicates, and the
    // store would see repeats only.
    let again = ok(&publish(&config, &url, posts, &["--seen-at", "2026-11-01"]));
    assert!(
        again.contains("dropped 601 as already published"),
        "{again}"
    );
    let recorder = Running::start(&config, &["run", "--bus", &url]);
    std::thread::sleep(Duration::from_secs(3));
    ok(&recorder.stop());
    let c = verify(&recorded);
    for field in ["snapshots", "sightings"] {
        assert_eq!(b[field], c[field], "{field} after the republish");
    }
    assert_eq!(incidents(&recorded).len(), incident_count);
    drop(nats);
}

#[test]
fn a_bus_down_for_a_while_pauses_the_collector_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut nats = NatsServer::start(&dir.path().join("nats")).unwrap();
    let url = nats.url();
    let posts = posts(dir.path(), 300);
    let spool = dir.path().join("spool");
    std::fs::create_dir_all(&spool).unwrap();
    let config = base_config(
        dir.path(),
        "recorded",
        &format!(
            "[run]\nspool = \"{}\"\npoll_ms = 100\n\n[bus]\npublish_buffer = 20\n",
            spool.display()
        ),
    );
    let recorded = dir.path().join("recorded");
    let recorder = Running::start(&config, &["run", "--bus", &url]);
    let collector = Running::start(&config, &["collect", "--bus", &url, "spool"]);
    let mut names: Vec<_> = std::fs::read_dir(&posts)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    let drop_in = |files: &[PathBuf]| {
        for f in files {
            // Written under a dot name, then renamed: the spool takes complete files only.
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            std::fs::copy(f, spool.join(format!(".{name}"))).unwrap();
            std::fs::rename(spool.join(format!(".{name}")), spool.join(&name)).unwrap();
        }
    };
    drop_in(&names[..100]);
    wait_until("the first 100 files", 120, || snapshots(&recorded) == 100);

    // The bus goes away; 201 more files come; the bus is back 20 s later.
    nats.kill();
    drop_in(&names[100..]);
    std::thread::sleep(Duration::from_secs(20));
    let left = std::fs::read_dir(&spool)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_type().unwrap().is_file())
        .count();
    assert!(
        left > 0,
        "files stay in the spool until the bus has them (buffer of 20)"
    );
    nats.restart().unwrap();
    // 300 distinct contents (one file is a copy of another), 301 sightings.
    wait_until("every file", 180, || snapshots(&recorded) == 300);
    wait_until("the spool emptied", 60, || {
        std::fs::read_dir(&spool)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_type().unwrap().is_file())
            .count()
            == 0
    });
    let out = collector.stop();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("unreachable") || stderr.contains("buffer full"),
        "the outage is said: {stderr}"
    );
    ok(&recorder.stop());
    let v = verify(&recorded);
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["snapshots"], 300, "{v}");
    assert_eq!(v["sightings"], 301, "{v}");
}

#[test]
fn one_node_of_a_three_node_cluster_killed_during_publishing_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut cluster = NatsCluster::start(3, &dir.path().join("nats")).unwrap();
    let urls = cluster.urls();
    let posts = posts(dir.path(), 400);
    let config = base_config(dir.path(), "recorded", "[bus]\nreplicas = 3\n");
    // The stream is created (three replicas) while every node is up, as in a deployment.
    let warm_up = dir.path().join("warm-up");
    std::fs::create_dir_all(&warm_up).unwrap();
    std::fs::write(warm_up.join("first.txt"), "first post of the day").unwrap();
    ok(&publish(&config, &urls, warm_up.to_str().unwrap(), &[]));
    let mut publishing = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .arg("--config")
        .arg(&config)
        .args([
            "ingest",
            "--bus",
            &urls,
            "--source",
            "dump",
            posts.to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    cluster.nodes[0].kill();
    let deadline = Instant::now() + Duration::from_secs(120);
    while publishing.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "publisher never finished");
        std::thread::sleep(Duration::from_millis(200));
    }
    let published = ok(&publishing.wait_with_output().unwrap());
    assert!(published.contains("401 documents"), "{published}");
    let recorded = dir.path().join("recorded");
    let recorder = Running::start(&config, &["run", "--bus", &urls]);
    // 400 distinct posts and the warm-up post; one post is a copy of another.
    // A new stream leader is elected after the kill; on a loaded machine that can take a while.
    let all = waited(240, || snapshots(&recorded) == 401);
    let out = recorder.stop();
    assert!(
        all,
        "{} of 401 documents recorded; the recorder said:\n{}",
        snapshots(&recorded),
        String::from_utf8_lossy(&out.stderr)
    );
    ok(&out);
    let v = verify(&recorded);
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["sightings"], 402, "{v}");
}

/// The lab forum (ops/lab/site.py) read by `vigie collect --bus` in one process and recorded
/// by `vigie run --bus` in another gives the incidents `vigie crawl` gives in one process;
/// the collector restarted republishes nothing new.
#[test]
fn the_lab_forum_collected_and_recorded_in_separate_processes_matches_one_process() {
    let dir = tempfile::tempdir().unwrap();
    let content = dir.path().join("site");
    let init = Command::new("python3")
        .arg(root().join("ops/lab/site.py"))
        .arg("--root")
        .arg(&content)
        .arg("--init")
        .output()
        .unwrap();
    assert!(init.status.success());
    let cookie = format!(
        "phpbb3_lab_sid={}",
        std::fs::read_to_string(content.join("cookie"))
            .unwrap()
            .trim()
    );
    let port = free_port();
    let _site = Server(
        Command::new("python3")
            .arg(root().join("ops/lab/site.py"))
            .arg("--root")
            .arg(&content)
            .args(["--port", &port.to_string(), "--kind", "forum"])
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_port(port);
    let nats = NatsServer::start(&dir.path().join("nats")).unwrap();
    let url = nats.url();
    let tor = format!(
        "[tor]\nmode = \"loopback\"\nconnect_timeout_secs = 3\nfetch_timeout_secs = 4\nattempts = 2\nbackoff_ms = 100\n\n[[tor_source]]\nid = \"medleaks\"\nkind = \"forum\"\nengine = \"phpbb\"\nmirrors = [\"http://127.0.0.1:{port}/\"]\nstart = \"/index.php\"\nmax_pages = 40\ninterval_secs = 3600\ncookie_env = \"LAB_COOKIE\"\n"
    );
    let single = base_config(dir.path(), "single", &tor);
    let out = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .arg("--config")
        .arg(&single)
        .args(["crawl", "medleaks"])
        .env("LAB_COOKIE", &cookie)
        .output()
        .unwrap();
    ok(&out);
    let single_store = dir.path().join("single");
    let expected = snapshots(&single_store);
    assert_eq!(expected, 21, "the lab forum's posts");

    let collector_config = base_config(dir.path(), "collector", &tor);
    let recorder_config = base_config(dir.path(), "recorded", "");
    let recorded = dir.path().join("recorded");
    let recorder = Running::start(&recorder_config, &["run", "--bus", &url]);
    let collect = |cookie: &str| {
        let child = Command::new(env!("CARGO_BIN_EXE_vigie"))
            .arg("--config")
            .arg(&collector_config)
            .args(["collect", "--bus", &url, "medleaks"])
            .env("LAB_COOKIE", cookie)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        Running(Some(child))
    };
    let collector = collect(&cookie);
    wait_until("the forum's posts", 120, || {
        snapshots(&recorded) == expected
    });
    let out = collector.stop();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(shape(&single_store), shape(&recorded));
    let before = verify(&recorded);
    let incident_count = incidents(&recorded).len();

    // A collector restarted: it resumes from the checkpoint in the bus's bucket, and what it
    // reads again is dropped by the bus or seen as a repeat by the store.
    let collector = collect(&cookie);
    std::thread::sleep(Duration::from_secs(6));
    ok(&collector.stop());
    std::thread::sleep(Duration::from_secs(2));
    ok(&recorder.stop());
    let after = verify(&recorded);
    assert_eq!(after["ok"], true, "{after}");
    for field in ["snapshots", "sightings"] {
        assert_eq!(
            before[field], after[field],
            "{field} after the collector restarted"
        );
    }
    assert_eq!(incidents(&recorded).len(), incident_count);
}

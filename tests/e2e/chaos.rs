//! The chaos test, short: `ops/chaos.py` with 5 SIGKILLs of `vigie run` (the debug binary the
//! tests build) while posts arrive through the spool and a local forum, alerts going to a
//! flaky receiver. `ops/chaos.sh` runs the full 50 kills on the release build.

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::root;

#[test]
fn killed_five_times_vigie_run_loses_nothing_and_records_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new("python3")
        .arg(root().join("ops/chaos.py"))
        .arg("--vigie")
        .arg(env!("CARGO_BIN_EXE_vigie"))
        .args(["--kills", "5", "--seed", "7", "--final-timeout", "60"])
        .arg("--work")
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(110);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the chaos run took over 110 s");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let summary: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{stderr}", String::from_utf8_lossy(&out.stdout)));
    assert_eq!(
        summary["problems"],
        serde_json::json!([]),
        "{summary}\n{stderr}"
    );
    assert_eq!(out.status.code(), Some(0), "{summary}");
    // The invariants, read from the figures themselves.
    let posts = &summary["posts"];
    let expected = posts["spool"].as_u64().unwrap() + posts["forum_total"].as_u64().unwrap();
    assert!(posts["spool"].as_u64().unwrap() > 0, "{summary}");
    assert_eq!(summary["snapshots"].as_u64(), Some(expected), "{summary}");
    assert!(summary["alerts"].as_u64().unwrap() > 0, "{summary}");
    assert_eq!(summary["lost_alerts"], 0, "{summary}");
    // The receiver failed some requests, so retries happened.
    assert!(
        summary["receiver_posts"].as_u64().unwrap() > summary["alerts"].as_u64().unwrap(),
        "{summary}"
    );
}

//! End-to-end tests of `vigie digest`: a store filled over several weeks, the digest's
//! figures and sections, the HTML rendered by headless Chromium, Markdown, no raw
//! identifier, `--send` to a signed webhook, bad input.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

mod support;
use support::{ok, root};

const SECRET: &str = "digest-secret-0123456789abcdef";

fn vigie(store: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vigie"))
        .arg("--store")
        .arg(store)
        .args(args)
        .env("VIGIE_DIGEST_SECRET", SECRET)
        .output()
        .expect("vigie runs")
}

/// Fixture posts ingested at dates spread over W43–W47 of 2026.
fn filled_store(dir: &Path) -> PathBuf {
    let store = dir.join("store");
    let posts = root().join("tests/fixtures/posts");
    let reposts = root().join("tests/fixtures/reposts");
    let batches: [(&str, &str, &[&str]); 5] = [
        (
            "2026-10-20T09:00:00Z",
            "forum-a",
            &["fr_dump_sql.txt", "ru_pharmagest.txt"],
        ),
        (
            "2026-11-05T09:00:00Z",
            "tg-chan",
            &["en_telegram_teaser.txt", "fr_comptes_ameli.txt"],
        ),
        ("2026-11-11T09:00:00Z", "forum-b", &["leaksite_dedalus.txt"]),
        (
            "2026-11-18T09:00:00Z",
            "forum-a",
            &[
                "fr_medecindirect_vente.txt",
                "leaksite_cerballiance.html",
                "en_jsonl_sample.txt",
            ],
        ),
        (
            "2026-11-19T09:00:00Z",
            "forum-c",
            &["fr_pharmacie_en_ligne.txt"],
        ),
    ];
    for (at, source, files) in batches {
        let paths: Vec<String> = files
            .iter()
            .map(|f| posts.join(f).to_string_lossy().into_owned())
            .collect();
        let mut args = vec!["ingest", "--seen-at", at, "--source", source];
        args.extend(paths.iter().map(String::as_str));
        ok(&vigie(&store, &args));
    }
    // A sale first seen in W46 and reposted in W47: a W46 incident, still active.
    let first = reposts.join("forum_a_original.txt");
    ok(&vigie(
        &store,
        &[
            "ingest",
            "--seen-at",
            "2026-11-12T10:00:00Z",
            "--source",
            "forum-b",
            first.to_str().unwrap(),
        ],
    ));
    let again = reposts.join("forum_b_repost_price.txt");
    ok(&vigie(
        &store,
        &[
            "ingest",
            "--seen-at",
            "2026-11-20T10:00:00Z",
            "--source",
            "forum-c",
            again.to_str().unwrap(),
        ],
    ));
    store
}

#[test]
fn the_markdown_digest_has_the_weeks_figures_and_no_raw_identifier() {
    let dir = tempfile::tempdir().unwrap();
    let store = filled_store(dir.path());
    let md = ok(&vigie(
        &store,
        &["digest", "--week", "2026-W47", "--format", "md"],
    ));
    assert!(
        md.contains("Semaine 2026-W47 (2026-11-16 → 2026-11-22)"),
        "{md}"
    );
    // W47 opened 4 incidents (MédecinDirect, the Cerballiance leak-site listing, the JSONL
    // sample, the pharmacy); W46 opened 2 (Dedalus, CHU de Nantes).
    assert!(
        md.contains("**Nouveaux incidents**: 4 (semaine précédente: 2, +2)"),
        "{md}"
    );
    assert!(
        md.contains("MédecinDirect") && md.contains("Cerballiance"),
        "{md}"
    );
    // The CHU de Nantes sale is a W46 incident: not in this week's table.
    let table = md.split("## Incidents critiques").next().unwrap();
    assert!(!table.contains("CHU de Nantes"), "{table}");
    assert!(md.contains("site de fuite rançongiciel") || md.contains("fichier importé"));
    // W43: the Pharmagest sale and the SQL dump of a watched clinic with NIRs, both critical
    // (a dump posted as it is is a leak, issue 16).
    assert!(md.contains("| 2026-W43 | 2 | 0 | 0 |"), "{md}");
    // tg-chan was active in W45 and silent since: reported as quiet.
    assert!(md.contains("- tg-chan"), "{md}");
    assert!(
        !md.contains("- forum-a"),
        "forum-a was active this week: {md}"
    );
    // Counts only: the MédecinDirect post carries 20 valid NIRs; none appears.
    let post =
        std::fs::read_to_string(root().join("tests/fixtures/posts/fr_medecindirect_vente.txt"))
            .unwrap();
    for token in post
        .split(|c: char| !c.is_ascii_digit())
        .filter(|t| t.len() >= 13)
    {
        assert!(!md.contains(token), "raw number {token} in the digest");
    }
    let en = ok(&vigie(
        &store,
        &[
            "digest", "--week", "2026-W47", "--format", "md", "--lang", "en",
        ],
    ));
    assert!(
        en.contains("**New incidents**: 4 (previous week: 2, +2)"),
        "{en}"
    );

    let empty = ok(&vigie(
        &store,
        &["digest", "--week", "2026-W30", "--format", "md"],
    ));
    assert!(empty.contains("Aucun nouvel incident cette semaine."));

    let bad = vigie(&store, &["digest", "--week", "2026-47"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("expected YYYY-Www"));
    let missing = vigie(&dir.path().join("nowhere"), &["digest"]);
    assert_eq!(missing.status.code(), Some(2));
}

fn chromium() -> String {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        if Command::new(name)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return name.to_string();
        }
    }
    panic!(
        "headless Chromium is required for this test (ops/deps.sh installs Debian's `chromium`)"
    );
}

/// Headless Chromium that talks to no one: no background services (updates, sync, safe
/// browsing, metrics, crash reports), no DNS (every name resolves to nothing), a proxy on a
/// closed loopback port, and a throwaway profile instead of the user's.
fn headless(browser: &str, profile: &Path) -> Command {
    let mut c = Command::new(browser);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-extensions",
        "--disable-breakpad",
        "--disable-crash-reporter",
        "--disable-domain-reliability",
        "--disable-client-side-phishing-detection",
        "--disable-features=Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider,CertificateTransparencyComponentUpdater,AutofillServerCommunication",
        "--safebrowsing-disable-auto-update",
        "--metrics-recording-only",
        "--no-first-run",
        "--no-default-browser-check",
        "--no-pings",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--proxy-server=127.0.0.1:9",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

#[test]
fn the_html_digest_renders_in_headless_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let store = filled_store(dir.path());
    let page = dir.path().join("digest.html");
    ok(&vigie(
        &store,
        &[
            "digest",
            "--week",
            "2026-W47",
            "--out",
            page.to_str().unwrap(),
        ],
    ));
    let html = std::fs::read_to_string(&page).unwrap();
    // Self-contained: no script, no external stylesheet, image or font.
    for forbidden in ["<script", "<link", "src=\"http", "url(http", "@import"] {
        assert!(!html.contains(forbidden), "{forbidden} in the page");
    }
    let browser = chromium();
    let url = format!("file://{}", page.display());
    let profile = dir.path().join("chromium-profile");
    let dom = headless(&browser, &profile)
        .args(["--dump-dom", &url])
        .stderr(Stdio::null())
        .output()
        .expect("chromium runs");
    assert!(dom.status.success());
    let dom = String::from_utf8_lossy(&dom.stdout);
    for section in ["headline", "incidents", "details", "trends", "sources"] {
        assert!(
            dom.contains(&format!("<section id=\"{section}\">")),
            "section {section} missing"
        );
    }
    assert!(dom.contains("Chiffres clés") && dom.contains("Tendances sur 8 semaines"));
    assert_eq!(dom.matches("<svg").count(), 2, "two trend charts");
    assert!(
        dom.contains("#7 — MédecinDirect") || dom.contains("— MédecinDirect"),
        "{dom}"
    );

    // And it paints: a screenshot of the page, then its PDF print.
    let png = dir.path().join("digest.png");
    let shot = headless(&browser, &profile)
        .arg("--window-size=1000,2400")
        .arg(format!("--screenshot={}", png.display()))
        .arg(&url)
        .stderr(Stdio::null())
        .output()
        .unwrap();
    assert!(shot.status.success());
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert!(
        bytes.len() > 50_000,
        "a blank page would compress far smaller"
    );
    let pdf = dir.path().join("digest.pdf");
    let print = headless(&browser, &profile)
        .arg("--no-pdf-header-footer")
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(&url)
        .stderr(Stdio::null())
        .output()
        .unwrap();
    assert!(print.status.success());
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF"));
}

#[test]
fn send_posts_the_digest_signed_to_digest_recipients() {
    let dir = tempfile::tempdir().unwrap();
    filled_store(dir.path());
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = dir.path().join("vigie.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\npath = \"store\"\n\n[[recipient]]\nid = \"partners\"\nurl = \"http://127.0.0.1:{port}/digest\"\nsecret_env = \"VIGIE_DIGEST_SECRET\"\ndigest = true\n\n[[recipient]]\nid = \"alerts-only\"\nurl = \"http://127.0.0.1:{port}/alerts\"\nsecret_env = \"VIGIE_DIGEST_SECRET\"\n"
        ),
    )
    .unwrap();
    let log = dir.path().join("receiver.log");
    let bodies = dir.path().join("bodies");
    std::fs::create_dir_all(&bodies).unwrap();
    let mut receiver = Command::new("python3")
        .arg(root().join("tests/fixtures/webhook/receiver.py"))
        .args([
            "--port",
            &port.to_string(),
            "--secret-env",
            "VIGIE_DIGEST_SECRET",
            "--script",
            "503:1",
        ])
        .arg("--log")
        .arg(&log)
        .arg("--bodies")
        .arg(&bodies)
        .env("VIGIE_DIGEST_SECRET", SECRET)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .arg("--config")
        .arg(&config)
        .args(["digest", "--week", "2026-W47", "--send", "--out"])
        .arg(dir.path().join("d.html"))
        .env("VIGIE_DIGEST_SECRET", SECRET)
        .output()
        .unwrap();
    let _ = receiver.kill();
    let _ = receiver.wait();
    ok(&out);
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // A 503 with Retry-After first, then accepted; only the digest recipient was posted to.
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines
        .iter()
        .all(|l| l["valid"] == true && l["key"] == "vigie-digest-2026-W47-fr"));
    let body: serde_json::Value = serde_json::from_slice(
        &std::fs::read(bodies.join("vigie-digest-2026-W47-fr.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(body["schema"], "vigie.digest/1");
    assert!(body["html"]
        .as_str()
        .unwrap()
        .starts_with("<!DOCTYPE html>"));
    assert!(body["markdown"].as_str().unwrap().contains("2026-W47"));

    // No digest recipient: a clear error before anything is built.
    std::fs::write(&config, "[store]\npath = \"store\"\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .arg("--config")
        .arg(&config)
        .args(["digest", "--send"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("digest = true"));
}

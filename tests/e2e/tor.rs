//! The Tor collector without Tor: `mode = "loopback"` fetches from local HTTP servers, so the
//! crawling, parsing, limits and parser health are tested here; `tor_lab.rs` runs the same
//! collector over arti against onion services.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{free_port, root, vigie, wait_port, Server};

fn site(root_dir: &Path, port: u16) -> Server {
    let child = Command::new("python3")
        .arg(root().join("ops/lab/site.py"))
        .arg("--root")
        .arg(root_dir)
        .args(["--port", &port.to_string(), "--kind", "forum"])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_port(port);
    Server(child)
}

fn site_cmd(root_dir: &Path, args: &[&str]) -> String {
    let out = Command::new("python3")
        .arg(root().join("ops/lab/site.py"))
        .arg("--root")
        .arg(root_dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// `vigie --config CONFIG ARGS` with a hard stop, so a hang fails the test instead of
/// blocking it.
fn vigie_config(config: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vigie"));
    cmd.arg("--config").arg(config).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "vigie {args:?} did not finish in 120 s\nstderr: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn evidence(store: &Path) -> Value {
    let out = vigie(store, &["evidence", "verify", "--json"]);
    serde_json::from_slice(&out.stdout).unwrap()
}

fn health(config: &Path) -> (Option<i32>, Vec<Value>) {
    let out = vigie_config(config, &["sources", "health", "--json"], &[]);
    let records = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (out.status.code(), records)
}

fn write_config(dir: &Path, body: &str) -> PathBuf {
    let config = dir.join("vigie.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\npath = \"store\"\n\n[tor]\nmode = \"loopback\"\nconnect_timeout_secs = 3\nfetch_timeout_secs = 4\nattempts = 2\nbackoff_ms = 100\nmax_body_bytes = 2000000\nmax_decoded_bytes = 4000000\nmax_nesting = 256\n\n{body}"
        ),
    )
    .unwrap();
    config
}

#[test]
fn a_forum_is_crawled_once_resumed_rotated_and_watched_for_layout_changes() {
    let dir = tempfile::tempdir().unwrap();
    let content = dir.path().join("site");
    site_cmd(&content, &["--init"]);
    let cookie = format!(
        "phpbb3_lab_sid={}",
        std::fs::read_to_string(content.join("cookie"))
            .unwrap()
            .trim()
    );
    let dead = free_port(); // nothing listens here: the first mirror is down
    let live = free_port();
    let _server = site(&content, live);
    let config = write_config(
        dir.path(),
        &format!(
            "[[tor_source]]\nid = \"medleaks\"\nkind = \"forum\"\nengine = \"phpbb\"\nmirrors = [\"http://127.0.0.1:{dead}/\", \"http://127.0.0.1:{live}/\"]\nstart = \"/index.php\"\nmax_pages = 40\ncookie_env = \"LAB_COOKIE\"\n"
        ),
    );
    let store = dir.path().join("store");
    let env = [("LAB_COOKIE", cookie.as_str())];

    // First crawl: the dead mirror is skipped, every post of every thread is recorded,
    // the members-only thread included (session cookie).
    let out = vigie_config(&config, &["crawl", "medleaks", "--json"], &env);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let first: Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    assert_eq!(first["mirror"], format!("127.0.0.1:{live}"), "{first}");
    assert_eq!(first["mirrors_failed"][0], format!("127.0.0.1:{dead}"));
    assert_eq!(first["documents"], 21, "{first}");
    let e = evidence(&store);
    assert_eq!(e["snapshots"], 21, "{e}");
    let incidents = vigie(&store, &["incidents", "list", "--json"]);
    let incidents = String::from_utf8_lossy(&incidents.stdout);
    for entity in ["chu-nantes", "weda", "cerballiance"] {
        assert!(
            incidents.contains(&format!("\"id\":\"{entity}\"")),
            "{entity}: {incidents}"
        );
    }
    assert!(
        incidents.contains("pharmacie")
            || incidents.contains("lgpi")
            || incidents.contains("winpharma"),
        "members-only thread read with the cookie: {incidents}"
    );
    // Raw identifiers never reach the logs.
    assert!(!String::from_utf8_lossy(&out.stderr).contains("256097520163160"));
    // The onion address mentioned in a post is a candidate source.
    let candidates = vigie(&store, &["sources", "candidates", "--json"]);
    let candidates = String::from_utf8_lossy(&candidates.stdout);
    assert!(
        candidates.contains("\"kind\":\"onion\"")
            && candidates.contains("\"seen_in\":[\"medleaks\"]"),
        "{candidates}"
    );

    // Second crawl: nothing new; the working mirror is tried first.
    let out = vigie_config(&config, &["crawl", "medleaks", "--json"], &env);
    let second: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(second["mirrors_failed"], serde_json::json!([]), "{second}");
    let e2 = evidence(&store);
    assert_eq!(e2["snapshots"], 21);
    assert_eq!(
        e2["sightings"], e["sightings"],
        "a repeat is not a new sighting row"
    );

    // New posts on the long thread (12 posts, 3 pages): the crawl resumes at its last page and
    // follows the page that appears.
    for i in 0..4 {
        site_cmd(
            &content,
            &[
                "--add-post",
                "4",
                &format!("Nouveau message {i} sur le forum général"),
            ],
        );
    }
    let out = vigie_config(&config, &["crawl", "medleaks", "--json"], &env);
    let third: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(evidence(&store)["snapshots"], 25, "{third}");
    assert!(
        third["pages_ok"].as_u64().unwrap() < first["pages_ok"].as_u64().unwrap() + 2,
        "{first} {third}"
    );

    // The forum changes its HTML: pages answer, selectors find nothing → blind, exit 1.
    site_cmd(&content, &["--layout", "v2"]);
    let out = vigie_config(&config, &["crawl", "medleaks"], &env);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("BLIND") && text.contains("thread_link"),
        "{text}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("parser found nothing"));
    let (code, records) = health(&config);
    assert_eq!(code, Some(1));
    assert_eq!(records[0]["status"], "blind");
    assert!(records[0]["pages_ok"].as_u64().unwrap() > 0);

    // The week's digest reports the collector's runs and the blind parser.
    let week = Command::new("date").arg("+%G-W%V").output().unwrap();
    let week = String::from_utf8_lossy(&week.stdout).trim().to_string();
    let out = vigie(
        &store,
        &["digest", "--week", &week, "--format", "md", "--lang", "en"],
    );
    let digest = String::from_utf8_lossy(&out.stdout);
    assert!(digest.contains("### Tor collection"), "{digest}");
    assert!(
        digest.contains("1 Tor source(s) watched; reachable at least once: 1."),
        "{digest}"
    );
    assert!(
        digest.contains("**Unreachable all week**: none"),
        "{digest}"
    );
    let blind_line = digest
        .lines()
        .find(|l| l.contains("has the site's HTML changed?"))
        .unwrap_or_default();
    assert!(
        blind_line.contains(": medleaks (") && blind_line.contains("thread_link"),
        "{digest}"
    );
    assert!(
        digest.contains("- medleaks — 4 runs, pages read / failed"),
        "{digest}"
    );
}

#[test]
fn hostile_pages_are_bounded_and_recorded_as_source_errors() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let _server = {
        let child = Command::new("python3")
            .arg(root().join("tests/fixtures/tor/hostile_server.py"))
            .arg(port.to_string())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_port(port);
        Server(child)
    };
    let routes = [
        ("huge", "/huge", "page", ""),
        ("declared", "/huge-declared", "page", ""),
        ("loop", "/loop/0", "page", ""),
        ("offsite", "/offsite", "page", ""),
        ("nested", "/nested", "page", ""),
        (
            "ignored-ends",
            "/ignored-ends",
            "leak-site",
            "engine = \"leak-site\"\n",
        ),
        ("slow", "/slow", "page", ""),
        ("bomb", "/gzip-bomb", "page", ""),
        ("gone", "/not-found", "page", ""),
        ("badutf8", "/bad-utf8", "forum", "engine = \"phpbb\"\n"),
    ];
    let mut body = String::new();
    for (id, path, kind, extra) in routes {
        body.push_str(&format!(
            "[[tor_source]]\nid = \"{id}\"\nkind = \"{kind}\"\nmirrors = [\"http://127.0.0.1:{port}/\"]\nstart = \"{path}\"\n{extra}\n"
        ));
    }
    let config = write_config(dir.path(), &body);
    let ids: Vec<&str> = routes.iter().map(|r| r.0).collect();
    let mut args = vec!["crawl", "--json"];
    args.extend(&ids);
    let out = vigie_config(&config, &args, &[]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let records: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let by_id = |id: &str| records.iter().find(|r| r["source"] == id).unwrap().clone();
    let error_of = |id: &str| by_id(id)["errors"][0].as_str().unwrap_or("").to_string();
    assert!(
        error_of("huge").contains("body over 2000000 bytes"),
        "{}",
        by_id("huge")
    );
    assert!(error_of("declared").contains("body over 2000000 bytes"));
    assert!(
        error_of("loop").contains("more than 5 redirects"),
        "{}",
        by_id("loop")
    );
    assert!(
        error_of("offsite").contains("to another host (127.0.0.2)"),
        "{}",
        by_id("offsite")
    );
    assert!(
        error_of("nested").contains("nested deeper than 256"),
        "{}",
        by_id("nested")
    );
    assert!(error_of("slow").contains("no answer"), "{}", by_id("slow"));
    assert!(
        error_of("bomb").contains("compression bomb"),
        "{}",
        by_id("bomb")
    );
    assert!(error_of("gone").contains("HTTP 404"), "{}", by_id("gone"));
    for id in ["huge", "loop", "slow", "bomb"] {
        assert_eq!(by_id(id)["status"], "unreachable", "{}", by_id(id));
        assert_eq!(by_id(id)["documents"], 0);
    }
    // A 404 is an answer: the start path moved, not the site down.
    assert_eq!(by_id("gone")["status"], "not_found", "{}", by_id("gone"));
    assert_eq!(by_id("gone")["documents"], 0);
    // Once a stack overflow that aborted the whole process (the tree builder ignores `</x>`).
    assert!(
        error_of("ignored-ends").contains("nested deeper than 256"),
        "{}",
        by_id("ignored-ends")
    );
    assert_eq!(by_id("ignored-ends")["status"], "failed");
    // The page arrived but could not be read: the mirror works, the source failed.
    assert_eq!(by_id("nested")["status"], "failed");
    assert_eq!(by_id("nested")["mirror"], format!("127.0.0.1:{port}"));
    // Invalid UTF-8: the post is kept, bad bytes replaced, and matched.
    let bad = by_id("badutf8");
    assert_eq!(bad["status"], "ok", "{bad}");
    assert_eq!(bad["documents"], 1);
    let store = dir.path().join("store");
    let incidents =
        String::from_utf8_lossy(&vigie(&store, &["incidents", "list", "--json"]).stdout)
            .into_owned();
    assert!(incidents.contains("\"id\":\"chu-nantes\""), "{incidents}");
    // Every source's failure is on record for `sources health`.
    let (code, health) = health(&config);
    assert_eq!(code, Some(1));
    assert_eq!(health.len(), routes.len());
}

#[test]
fn a_broken_tor_configuration_is_refused_with_every_problem() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("vigie.toml");
    std::fs::write(
        &config,
        "[store]\npath = \"store\"\n\n[[tor_source]]\nid = \"a\"\nkind = \"forum\"\nmirrors = [\"http://example.com/\"]\nengine = \"phpnuke\"\n\n[[tor_source]]\nid = \"a\"\nkind = \"forum\"\nmirrors = [\"http://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.onion/\"]\ncookie_env = \"VIGIE_TEST_UNSET_COOKIE\"\n[tor_source.selectors]\npost = \"div[[\"\n",
    )
    .unwrap();
    let out = vigie_config(&config, &["crawl", "a"], &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    for expected in [
        "not an onion address",
        "unknown engine \"phpnuke\"",
        "duplicate id",
        "not a valid v3 onion address",
        "VIGIE_TEST_UNSET_COOKIE is not set",
        "does not parse",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
    }
    assert!(
        !dir.path().join("store").exists(),
        "nothing is opened on a bad config"
    );
    // An unknown key is refused too.
    std::fs::write(&config, "[tor]\nmode = \"arti\"\nbogus = 1\n").unwrap();
    let out = vigie_config(&config, &["sources", "health"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bogus"));
}

/// A phpBB 3.3 forum in prosilver's markup, served from this test: every link carries a new
/// `sid` (phpBB's session id for a client without its cookie).
fn prosilver_forum(path: &str) -> (u16, String) {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(7);
    let sid = || {
        format!(
            "{:032x}",
            N.fetch_add(1, Ordering::Relaxed)
                .wrapping_mul(0x9e37_79b9_7f4a_7c15)
        )
    };
    let page = |title: &str, body: &str| {
        format!(
            "<!DOCTYPE html><html dir=\"ltr\" lang=\"fr\"><head><meta charset=\"utf-8\" /><title>{title} - Forum santé</title></head>\
             <body id=\"phpbb\" class=\"nojs notouch section-index ltr\"><div id=\"wrap\" class=\"wrap\">\
             <div class=\"headerbar\"><h1>Forum santé</h1></div><div class=\"navbar\"><ul class=\"nav-main linklist\">\
             <li><a href=\"./ucp.php?mode=login&amp;sid={s}\" title=\"Login\">Login</a></li></ul></div>\
             <div id=\"page-body\" class=\"page-body\">{body}</div><div id=\"page-footer\">Powered by phpBB</div></div></body></html>",
            s = sid()
        )
    };
    let post = |id: u32, author: &str, body: &str| {
        format!(
            "<div id=\"p{id}\" class=\"post has-profile bg2\"><div class=\"inner\"><dl class=\"postprofile\" id=\"profile{id}\">\
             <dt class=\"has-profile-rank no-avatar\"><a href=\"./memberlist.php?mode=viewprofile&amp;u=2&amp;sid={s}\" class=\"username-coloured\" style=\"color: #AA0000;\">{author}</a></dt>\
             <dd class=\"profile-rank\">Modérateur</dd></dl><div class=\"postbody\"><div id=\"post_content{id}\">\
             <h3 class=\"first\"><a href=\"./viewtopic.php?p={id}&amp;sid={s}#p{id}\">Vente base</a></h3>\
             <p class=\"author\"><a class=\"unread\" href=\"./viewtopic.php?p={id}&amp;sid={s}#p{id}\" title=\"Post\"><span class=\"sr-only\">Post</span></a>\
             <span class=\"responsive-hide\">by <strong><a href=\"./memberlist.php?mode=viewprofile&amp;u=2&amp;sid={s}\" class=\"username-coloured\">{author}</a></strong> &raquo; </span>\
             <time datetime=\"2026-11-0{d}T21:0{d}:00+00:00\">Mon Nov 0{d}, 2026 9:0{d} pm</time></p>\
             <div class=\"content\">{body}</div></div></div></div></div>",
            s = sid(),
            d = id % 9 + 1
        )
    };
    let thread_row = |t: u32, title: &str, last: u32| {
        format!(
            "<li class=\"row bg1\"><dl class=\"row-item topic_read\"><dt><div class=\"list-inner\">\
             <a href=\"./viewtopic.php?t={t}&amp;sid={s}\" class=\"topictitle\">{title}</a></div></dt>\
             <dd class=\"posts\">1 <dfn>Replies</dfn></dd><dd class=\"lastpost\"><span><dfn>Last post </dfn>\
             <a href=\"./viewtopic.php?p={last}&amp;sid={s}#p{last}\">&rarr;</a><br /><time datetime=\"2026-11-02T10:00:00+00:00\">Mon Nov 02</time></span></dd></dl></li>",
            s = sid()
        )
    };
    let q = path.split_once('?').map(|x| x.1).unwrap_or("");
    let has = |kv: &str| q.split('&').any(|p| p == kv);
    if path.starts_with("/index.php") {
        let body = format!(
            "<div class=\"forabg\"><div class=\"inner\"><ul class=\"topiclist forums\"><li class=\"row\"><dl class=\"row-item forum_read\"><dt><div class=\"list-inner\">\
             <a href=\"./viewforum.php?f=2&amp;sid={}\" class=\"forumtitle\">Bases de données</a></div></dt></dl></li></ul></div></div>",
            sid()
        );
        (200, page("Index", &body))
    } else if path.starts_with("/viewforum.php") && has("f=2") {
        let body = format!(
            "<h2 class=\"forum-title\">Bases de données</h2><div class=\"forumbg\"><div class=\"inner\"><ul class=\"topiclist topics\">{}{}</ul></div></div>",
            thread_row(1, "Vente base CHU", 12),
            thread_row(2, "Question", 21)
        );
        (200, page("Bases de données", &body))
    } else if path.starts_with("/viewtopic.php") && has("t=1") {
        let dump = "<div class=\"codebox\"><p>Code: <a href=\"#\">Select all</a></p><pre><code>nom\tprenom\tville\nDUPONT\tJean\tNantes\nMARTIN\tLea\tRennes</code></pre></div>";
        let body = format!(
            "<h2 class=\"topic-title\"><a href=\"./viewtopic.php?t=1&amp;sid={}\">Vente base CHU</a></h2>{}{}",
            sid(),
            post(11, "darkmed", &format!("Base patients CHU, échantillon :<br />{dump}")),
            post(12, "darkmed", "Prix 2000 $")
        );
        (200, page("Vente base CHU", &body))
    } else if path.starts_with("/viewtopic.php") && has("t=2") {
        let body = format!(
            "<h2 class=\"topic-title\"><a href=\"./viewtopic.php?t=2&amp;sid={}\">Question</a></h2>{}",
            sid(),
            post(21, "acheteur", "<blockquote><div><cite>darkmed wrote:</cite>Prix 2000 $</div></blockquote>Toujours dispo ?")
        );
        (200, page("Question", &body))
    } else if path.starts_with("/login.php") {
        let real =
            root().join("tests/fixtures/real/leak-sites/_noncontent/bluesky-decryptor-login.html");
        (
            200,
            String::from_utf8_lossy(&std::fs::read(real).unwrap()).into_owned(),
        )
    } else {
        (404, page("404", "<p>Not found</p>"))
    }
}

fn serve_forever(port: u16, handler: fn(&str) -> (u16, String)) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            let req = String::from_utf8_lossy(&buf).into_owned();
            let path = req.split_whitespace().nth(1).unwrap_or("/").to_string();
            let (status, body) = handler(&path);
            let _ = write!(
                s,
                "HTTP/1.1 {status} X\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
}

#[test]
fn a_real_shaped_forum_is_read_without_configuration_and_a_login_page_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    serve_forever(port, prosilver_forum);
    let config = write_config(
        dir.path(),
        &format!(
            "[[tor_source]]\nid = \"sante\"\nkind = \"forum\"\nmirrors = [\"http://127.0.0.1:{port}/\"]\nstart = \"/index.php\"\n\n\
             [[tor_source]]\nid = \"walled\"\nkind = \"forum\"\nengine = \"auto\"\nmirrors = [\"http://127.0.0.1:{port}/\"]\nstart = \"/login.php\"\n"
        ),
    );
    let store = dir.path().join("store");
    let out = vigie_config(&config, &["crawl", "sante", "walled", "--json"], &[]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let records: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let by_id = |id: &str| records.iter().find(|r| r["source"] == id).unwrap().clone();
    assert_eq!(by_id("sante")["status"], "ok", "{}", by_id("sante"));
    assert_eq!(by_id("sante")["documents"], 3, "{}", by_id("sante"));
    assert_eq!(
        by_id("walled")["status"],
        "login_wall",
        "{}",
        by_id("walled")
    );
    assert_eq!(evidence(&store)["snapshots"], 3);

    // A second crawl: new sids on every link, the same three posts, nothing stored anew.
    let out = vigie_config(&config, &["crawl", "sante", "--json"], &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(evidence(&store)["snapshots"], 3);

    let out = vigie_config(&config, &["sources", "health"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("LOGIN WALL") && text.contains("why: a login form"),
        "{text}"
    );
    assert!(!text.contains("BLIND"), "{text}");
}

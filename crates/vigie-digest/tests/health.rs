//! The digest's source-health section reads the store's typed health history, including the
//! statuses of sites that answer but keep the collector from their content.

use vigie_core::{HealthRecord, HealthStatus, Language};
use vigie_digest::{build, html, markdown, IsoWeek};
use vigie_store::{Store, Timestamp};

fn run(source: &str, at_ms: i64, status: HealthStatus, ok: usize, failed: usize) -> HealthRecord {
    HealthRecord {
        source: source.into(),
        at_ms,
        status,
        mirror: None,
        mirrors_failed: vec![],
        pages_ok: ok,
        pages_failed: failed,
        documents: 0,
        counts: Default::default(),
        blind: vec![],
        errors: vec![],
        elapsed_ms: 1000,
    }
}

/// 2026-W47 runs from Monday 2026-11-16 00:00 UTC (1794787200 s).
const MONDAY_MS: i64 = 1_794_787_200_000;
const HOUR_MS: i64 = 3_600_000;

fn store_with_runs(dir: &std::path::Path) -> Store {
    let mut store = Store::open(dir).unwrap();
    let at = |h: i64| MONDAY_MS + h * HOUR_MS;
    let runs = [
        run("forum", at(1), HealthStatus::LoginWall, 0, 1),
        run("forum", at(2), HealthStatus::Ok, 4, 0),
        run("forum", at(3), HealthStatus::LoginWall, 0, 1),
        run("shop", at(4), HealthStatus::RateLimited, 0, 2),
        run("shop", at(5), HealthStatus::Captcha, 0, 1),
        run("mirror", at(6), HealthStatus::Maintenance, 0, 1),
        run("mirror", at(7), HealthStatus::NotFound, 0, 3),
        run("dead", at(8), HealthStatus::Unreachable, 0, 0),
        // The week before: not this week's.
        run("old", MONDAY_MS - HOUR_MS, HealthStatus::LoginWall, 0, 1),
    ];
    for r in runs {
        store.push_health(r).unwrap();
    }
    store
}

#[test]
fn kept_out_statuses_are_shown_in_english() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_runs(dir.path());
    let week: IsoWeek = "2026-W47".parse().unwrap();
    let digest = build(&store, week, Timestamp::now()).unwrap();
    let md = markdown(&digest, Language::En);
    assert!(
        md.contains("4 Tor source(s) watched; reachable at least once: 3."),
        "{md}"
    );
    assert!(md.contains("**Unreachable all week**: dead"), "{md}");
    assert!(
        md.contains(
            "**Reachable sites that kept the collector from their content**: forum (login wall), mirror (pages not found, under maintenance), shop (CAPTCHA or DDoS queue, rate limited)"
        ),
        "{md}"
    );
    assert!(
        md.contains("- forum — 3 runs, pages read / failed, 4 / 2, login wall ×2\n"),
        "{md}"
    );
    assert!(
        md.contains(
            "- shop — 2 runs, pages read / failed, 0 / 3, CAPTCHA or DDoS queue ×1, rate limited ×1\n"
        ),
        "{md}"
    );
    assert!(!md.contains("- old"), "{md}");
    let page = html(&digest, Language::En);
    assert!(
        page.contains("<li>mirror — 2 runs, pages read / failed, 0 / 4, pages not found ×1, under maintenance ×1</li>"),
        "{page}"
    );
}

#[test]
fn kept_out_statuses_are_shown_in_french() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_runs(dir.path());
    let week: IsoWeek = "2026-W47".parse().unwrap();
    let digest = build(&store, week, Timestamp::now()).unwrap();
    let md = markdown(&digest, Language::Fr);
    assert!(
        md.contains(
            "**Sites joignables qui ont tenu le collecteur à l'écart du contenu**: forum (connexion exigée), mirror (pages introuvables, en maintenance), shop (CAPTCHA ou file anti-DDoS, requêtes limitées)"
        ),
        "{md}"
    );
    assert!(
        md.contains("- forum — 3 passages, pages lues / en échec, 4 / 2, connexion exigée ×2\n"),
        "{md}"
    );
    let page = html(&digest, Language::Fr);
    assert!(
        page.contains("<li>shop — 2 passages, pages lues / en échec, 0 / 3, CAPTCHA ou file anti-DDoS ×1, requêtes limitées ×1</li>"),
        "{page}"
    );
}

#[test]
fn a_history_written_before_the_store_typed_it_still_counts() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    // As `vigie run` wrote it under the checkpoint key before health moved to the store.
    let old = format!(
        r#"[{{"source":"forum","at_ms":{},"status":"blind","mirror":"abc.onion","mirrors_failed":[],"pages_ok":2,"pages_failed":0,"documents":0,"counts":{{"post":0}},"blind":["post"],"errors":[],"elapsed_ms":900}}]"#,
        MONDAY_MS + HOUR_MS
    );
    store
        .set_checkpoint("tor-health:forum", old.as_bytes())
        .unwrap();
    let week: IsoWeek = "2026-W47".parse().unwrap();
    let digest = build(&store, week, Timestamp::now()).unwrap();
    let md = markdown(&digest, Language::En);
    assert!(
        md.contains(
            "**Parsers that stopped finding anything (has the site's HTML changed?)**: forum (post)"
        ),
        "{md}"
    );
    assert!(
        md.contains("**Reachable sites that kept the collector from their content**: none"),
        "{md}"
    );
}

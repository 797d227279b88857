//! Forums: every page under `tests/fixtures/real/forums/<engine>/` read by `read_forum_page`
//! with the engine detected from the page (`engine = "auto"`), compared with the expected file
//! written by reading the page (`<page>.expected.toml`). Shared by the example
//! (`real_fixtures forums`) and the test `tests/forum_real.rs`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use serde::Deserialize;
use time::{OffsetDateTime, UtcOffset};
use vigie_pages::forum::{read_forum_page, Engine};
use vigie_pages::PageContext;

/// One post as the page shows it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedPost {
    pub id: String,
    pub author: String,
    /// The date as the page shows it.
    pub date_text: String,
    /// The same date as an instant (RFC 3339, UTC), in the time zone the file states.
    pub date: String,
    /// The first words of the post's own text (quotes and signature left out).
    pub starts: String,
    /// Words that must not be in the post's own text (a quote's, a signature's).
    #[serde(default)]
    pub not_in_body: Vec<String>,
    /// The first words of each quoted post, in order.
    #[serde(default)]
    pub quotes: Vec<String>,
}

/// One thread link of a listing.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedThread {
    pub url: String,
    pub title: String,
}

/// The expected file of one fixture.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expected {
    pub engine: String,
    /// "thread" or "listing".
    pub page: String,
    /// The URL the page was saved from (relative links resolve against it).
    pub url: String,
    /// The time zone the page's dates are written in, as a UTC offset ("+01:00"), and why.
    pub site_offset: String,
    pub time_zone: String,
    #[serde(default)]
    pub thread_title: String,
    #[serde(default)]
    pub post: Vec<ExpectedPost>,
    #[serde(default)]
    pub thread: Vec<ExpectedThread>,
    #[serde(default)]
    pub next_page: Option<String>,
}

/// The score of one fixture.
#[derive(Debug, Default, Clone)]
pub struct Score {
    pub file: String,
    pub engine: String,
    pub engine_detected: Option<String>,
    pub posts_expected: usize,
    pub posts_found: usize,
    /// Found entries that are not posts of the page.
    pub non_posts: usize,
    pub authors_right: usize,
    pub dates_right: usize,
    pub bodies_right: usize,
    pub quotes_right: usize,
    pub title_right: bool,
    pub threads_expected: usize,
    pub threads_found: usize,
    pub next_page_right: bool,
    pub problems: Vec<String>,
}

pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/real/forums")
}

fn norm(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Every fixture page with its expected file, sorted.
pub fn pages() -> Vec<(PathBuf, PathBuf)> {
    let mut out = Vec::new();
    let Ok(engines) = std::fs::read_dir(fixtures_dir()) else {
        return out;
    };
    for e in engines.flatten() {
        let Ok(files) = std::fs::read_dir(e.path()) else {
            continue;
        };
        for f in files.flatten() {
            let p = f.path();
            if p.extension().is_some_and(|x| x == "html") {
                let exp = p.with_extension("expected.toml");
                out.push((p, exp));
            }
        }
    }
    out.sort();
    out
}

/// "+01:00", "-05:00", "+00:00".
fn offset(s: &str) -> UtcOffset {
    let sign = if s.starts_with('-') { -1 } else { 1 };
    let (h, m) = s
        .trim_start_matches(['+', '-'])
        .split_once(':')
        .unwrap_or(("0", "0"));
    let secs = sign * (h.parse::<i32>().unwrap_or(0) * 3600 + m.parse::<i32>().unwrap_or(0) * 60);
    UtcOffset::from_whole_seconds(secs).unwrap_or(UtcOffset::UTC)
}

/// Reads one fixture and scores it against its expected file.
pub fn score(page: &Path, expected: &Path) -> Result<Score, String> {
    let exp_text =
        std::fs::read_to_string(expected).map_err(|e| format!("{}: {e}", expected.display()))?;
    let exp: Expected =
        toml::from_str(&exp_text).map_err(|e| format!("{}: {e}", expected.display()))?;
    let bytes = std::fs::read(page).map_err(|e| format!("{}: {e}", page.display()))?;
    let html = String::from_utf8_lossy(&bytes);
    let doc = vigie_html::parse_document(&html, vigie_html::DEFAULT_MAX_DEPTH)
        .map_err(|e| format!("{}: {e}", page.display()))?;
    let base = url::Url::parse(&exp.url).map_err(|e| format!("url: {e}"))?;
    let ctx = PageContext {
        base,
        // No fixture shows a relative date: the fetch time does not matter.
        fetched_at: OffsetDateTime::now_utc(),
        site_offset: offset(&exp.site_offset),
    };
    let got = read_forum_page(&doc, None, &ctx);

    let mut s = Score {
        file: page
            .strip_prefix(fixtures_dir())
            .unwrap_or(page)
            .display()
            .to_string(),
        engine: exp.engine.clone(),
        engine_detected: got.engine.map(|e| e.name().to_string()),
        posts_expected: exp.post.len(),
        posts_found: got.posts.len(),
        threads_expected: exp.thread.len(),
        ..Score::default()
    };
    if got.engine != Engine::from_name(&exp.engine) {
        s.problems.push(format!(
            "engine: found {:?}, expected {}",
            s.engine_detected, exp.engine
        ));
    }
    s.title_right = exp.page != "thread" || norm(&got.thread_title) == norm(&exp.thread_title);
    if !s.title_right {
        s.problems.push(format!(
            "title: found {:?}, expected {:?}",
            got.thread_title, exp.thread_title
        ));
    }
    for p in &got.posts {
        if !exp.post.iter().any(|e| e.id == p.id) {
            s.non_posts += 1;
            s.problems.push(format!(
                "not a post of the page: {:?} by {:?}",
                p.id, p.author
            ));
        }
    }
    for e in &exp.post {
        let Some(p) = got.posts.iter().find(|p| p.id == e.id) else {
            s.problems.push(format!("missing post {}", e.id));
            continue;
        };
        if p.author == e.author {
            s.authors_right += 1;
        } else {
            s.problems.push(format!(
                "{}: author {:?}, expected {:?}",
                e.id, p.author, e.author
            ));
        }
        if p.date.as_deref() == Some(e.date.as_str()) {
            s.dates_right += 1;
        } else {
            s.problems.push(format!(
                "{}: date {:?} from {:?}, expected {} ({:?})",
                e.id, p.date, p.date_text, e.date, e.date_text
            ));
        }
        let body = norm(&p.body);
        let body_ok = body.starts_with(&norm(&e.starts))
            && e.not_in_body.iter().all(|w| !body.contains(&norm(w)));
        if body_ok {
            s.bodies_right += 1;
        } else {
            let head: String = body.chars().take(80).collect();
            s.problems.push(format!(
                "{}: body starts {:?}, expected {:?} without {:?}",
                e.id, head, e.starts, e.not_in_body
            ));
        }
        let quotes_ok = p.quoted.len() == e.quotes.len()
            && p.quoted
                .iter()
                .zip(&e.quotes)
                .all(|(q, w)| norm(q).starts_with(&norm(w)));
        if quotes_ok {
            s.quotes_right += 1;
        } else {
            let heads: Vec<String> = p
                .quoted
                .iter()
                .map(|q| norm(q).chars().take(40).collect())
                .collect();
            s.problems.push(format!(
                "{}: quotes {:?}, expected {:?}",
                e.id, heads, e.quotes
            ));
        }
    }
    for t in &exp.thread {
        if got
            .threads
            .iter()
            .any(|g| g.url.as_str() == t.url && norm(&g.title) == norm(&t.title))
        {
            s.threads_found += 1;
        } else {
            s.problems
                .push(format!("missing thread {} {:?}", t.url, t.title));
        }
    }
    for g in &got.threads {
        if !exp.thread.iter().any(|t| t.url == g.url.as_str()) {
            s.problems
                .push(format!("extra thread {} {:?}", g.url, g.title));
        }
    }
    let next = got.next_page.as_ref().map(|u| u.to_string());
    s.next_page_right = next == exp.next_page;
    if !s.next_page_right {
        s.problems.push(format!(
            "next page {:?}, expected {:?}",
            next, exp.next_page
        ));
    }
    Ok(s)
}

/// Scores every fixture; a fixture without an expected file is an error.
pub fn score_all() -> Vec<Result<Score, String>> {
    pages().iter().map(|(p, e)| score(p, e)).collect()
}

/// Totals per engine: (engine, pages, posts expected, found, non-posts, authors right, dates
/// right, bodies right, quotes right, threads expected, threads found).
pub fn per_engine(scores: &[Score]) -> Vec<(String, [usize; 10])> {
    let mut out: Vec<(String, [usize; 10])> = Vec::new();
    for e in Engine::ALL {
        let mut t = [0usize; 10];
        for s in scores.iter().filter(|s| s.engine == e.name()) {
            t[0] += 1;
            t[1] += s.posts_expected;
            t[2] += s.posts_found - s.non_posts;
            t[3] += s.non_posts;
            t[4] += s.authors_right;
            t[5] += s.dates_right;
            t[6] += s.bodies_right;
            t[7] += s.quotes_right;
            t[8] += s.threads_expected;
            t[9] += s.threads_found;
        }
        out.push((e.name().to_string(), t));
    }
    out
}

pub fn run(verbose: bool) -> bool {
    let results = score_all();
    let mut scores = Vec::new();
    let mut ok = true;
    println!(
        "{:<52} {:>9} {:>6} {:>7} {:>6} {:>6} {:>7} {:>6}",
        "fixture", "engine", "posts", "authors", "dates", "bodies", "quotes", "threads"
    );
    for r in results {
        match r {
            Ok(s) => {
                println!(
                    "{:<52} {:>9} {:>6} {:>7} {:>6} {:>6} {:>7} {:>6}",
                    s.file,
                    s.engine_detected.clone().unwrap_or_else(|| "-".into()),
                    format!("{}/{}", s.posts_found - s.non_posts, s.posts_expected),
                    format!("{}/{}", s.authors_right, s.posts_expected),
                    format!("{}/{}", s.dates_right, s.posts_expected),
                    format!("{}/{}", s.bodies_right, s.posts_expected),
                    format!("{}/{}", s.quotes_right, s.posts_expected),
                    format!("{}/{}", s.threads_found, s.threads_expected),
                );
                if verbose {
                    for p in &s.problems {
                        println!("    {p}");
                    }
                }
                if !s.problems.is_empty() {
                    ok = false;
                }
                scores.push(s);
            }
            Err(e) => {
                println!("error: {e}");
                ok = false;
            }
        }
    }
    println!();
    println!(
        "| engine | pages | posts found / expected | non-post entries | authors right | dates right | own text right | quotes right | listing threads found / expected |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let mut tot = [0usize; 10];
    for (e, t) in per_engine(&scores) {
        for i in 0..10 {
            tot[i] += t[i];
        }
        println!(
            "| {e} | {} | {}/{} | {} | {}/{} | {}/{} | {}/{} | {}/{} | {}/{} |",
            t[0], t[2], t[1], t[3], t[4], t[1], t[5], t[1], t[6], t[1], t[7], t[1], t[9], t[8]
        );
    }
    println!(
        "| **all** | {} | {}/{} | {} | {}/{} | {}/{} | {}/{} | {}/{} | {}/{} |",
        tot[0],
        tot[2],
        tot[1],
        tot[3],
        tot[4],
        tot[1],
        tot[5],
        tot[1],
        tot[6],
        tot[1],
        tot[7],
        tot[1],
        tot[9],
        tot[8]
    );
    ok
}

/// Prints what the reader finds on one page (to check an expected file against; the
/// expected values themselves are written from the page, never from this output).
pub fn dump(page: &Path, url: &str) {
    let bytes = std::fs::read(page).unwrap_or_default();
    let html = String::from_utf8_lossy(&bytes);
    let Ok(doc) = vigie_html::parse_document(&html, vigie_html::DEFAULT_MAX_DEPTH) else {
        println!("refused");
        return;
    };
    let Ok(base) = url::Url::parse(url) else {
        return;
    };
    let ctx = PageContext::new(base);
    let got = read_forum_page(&doc, None, &ctx);
    println!("engine {:?} title {:?}", got.engine, got.thread_title);
    for p in &got.posts {
        let body: String = norm(&p.body).chars().take(70).collect();
        println!(
            "{} | {} | {:?} | {:?} | {} | quotes {}",
            p.id,
            p.author,
            p.date_text,
            p.date,
            body,
            p.quoted.len()
        );
    }
    for t in &got.threads {
        println!("thread {} {:?} [{}]", t.url, t.title, t.last_post);
    }
    for u in &got.subforums {
        println!("subforum {u}");
    }
    println!("next {:?}", got.next_page.map(|u| u.to_string()));
}

/// One line per post (`file`, id, author, date) for every page given: to compare the reader
/// with an independent reading of pages that are not in the repository.
pub fn batch(pages: &[String]) {
    for page in pages {
        let bytes = std::fs::read(page).unwrap_or_default();
        let html = String::from_utf8_lossy(&bytes);
        let Ok(doc) = vigie_html::parse_document(&html, vigie_html::DEFAULT_MAX_DEPTH) else {
            println!("{page}\trefused");
            continue;
        };
        let Ok(base) = url::Url::parse("http://forum.invalid/") else {
            return;
        };
        let got = read_forum_page(&doc, None, &PageContext::new(base));
        let engine = got.engine.map(|e| e.name()).unwrap_or("-");
        if got.posts.is_empty() {
            println!("{page}\t{engine}\t-\t-\t-");
        }
        for p in &got.posts {
            println!(
                "{page}\t{engine}\t{}\t{}\t{}",
                p.id,
                p.author,
                p.date.as_deref().unwrap_or("-")
            );
        }
    }
}

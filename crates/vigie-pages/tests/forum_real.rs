//! The goal of issue 15 on real forum pages (`tests/fixtures/real/forums/`): at least 99 % of
//! posts with the right author and date, no entry that is not a post, the engine recognised
//! on every page, and listings' threads found.

#[path = "../examples/real_fixtures/forums.rs"]
mod forums;

#[test]
fn every_fixture_has_an_expected_file_and_is_read() {
    let pages = forums::pages();
    // Floor: the pages kept (17; XenForo 1 and vBulletin 5 could not be read through the look-up).
    assert!(pages.len() >= 17, "{} forum fixtures", pages.len());
    for (page, expected) in &pages {
        assert!(expected.exists(), "no expected file for {}", page.display());
    }
    for r in forums::score_all() {
        let s = r.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            s.engine_detected.as_deref(),
            Some(s.engine.as_str()),
            "{}: engine not recognised",
            s.file
        );
    }
}

#[test]
fn posts_authors_and_dates_meet_the_goal() {
    let scores: Vec<forums::Score> = forums::score_all()
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| panic!("{e}")))
        .collect();
    let expected: usize = scores.iter().map(|s| s.posts_expected).sum();
    let non_posts: usize = scores.iter().map(|s| s.non_posts).sum();
    let both_right: usize = scores
        .iter()
        .map(|s| s.authors_right.min(s.dates_right))
        .sum();
    assert!(expected >= 120, "only {expected} posts in the fixtures");
    assert_eq!(non_posts, 0, "entries that are not posts");
    // At least 99 % of posts with the right author and the right date.
    assert!(
        both_right * 100 >= expected * 99,
        "{both_right}/{expected} posts with author and date right: {:#?}",
        scores
            .iter()
            .flat_map(|s| s.problems.clone())
            .collect::<Vec<_>>()
    );
    // Every engine is represented and read.
    for (engine, t) in forums::per_engine(&scores) {
        assert!(t[0] >= 2, "{engine}: {} pages", t[0]);
        assert!(t[1] > 0, "{engine}: no posts expected");
    }
}

#[test]
fn own_text_quotes_titles_and_listings_match_the_pages() {
    for r in forums::score_all() {
        let s = r.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            s.bodies_right, s.posts_expected,
            "{}: {:#?}",
            s.file, s.problems
        );
        assert_eq!(
            s.quotes_right, s.posts_expected,
            "{}: {:#?}",
            s.file, s.problems
        );
        assert!(s.title_right, "{}: {:#?}", s.file, s.problems);
        assert_eq!(
            s.threads_found, s.threads_expected,
            "{}: {:#?}",
            s.file, s.problems
        );
        assert!(s.next_page_right, "{}: {:#?}", s.file, s.problems);
        assert!(s.problems.is_empty(), "{}: {:#?}", s.file, s.problems);
    }
}

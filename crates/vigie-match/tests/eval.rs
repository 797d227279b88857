//! The goals on the labelled evaluation set (tests/fixtures/eval): alert precision and
//! recall at least 0.97, every ransomware claim on a health organisation alerted, no
//! non-health leak alerted. `cargo run -p vigie-match --example eval` prints the table.

#[path = "../eval/score.rs"]
#[allow(dead_code)]
mod score;

#[test]
fn evaluation_set_meets_the_goals() {
    let dir = score::workspace().join("tests/fixtures/eval");
    let scored = score::run(&dir);
    let s = score::summarise(&scored);
    let report = format!(
        "{}\n{}",
        score::table(&s),
        score::mistakes(&scored).join("\n")
    );
    assert!(s.docs >= 300, "{report}");
    for lang in ["fr", "en", "ru"] {
        assert!(
            s.by_lang.get(lang).is_some_and(|&n| n >= 50),
            "{lang}: {report}"
        );
    }
    assert!(s.precision() >= 0.97, "{report}");
    assert!(s.recall() >= 0.97, "{report}");
    assert!(s.health_claims >= 50, "{report}");
    assert_eq!(s.health_claims_alerted, s.health_claims, "{report}");
    assert!(s.nonhealth_leaks >= 50, "{report}");
    assert_eq!(s.nonhealth_leaks_alerted, 0, "{report}");
    // Every kind is present, and read right at least 9 times in 10.
    for kind in vigie_core::DocumentKind::ALL {
        let row = s.confusion.get(&kind).cloned().unwrap_or_default();
        let total: usize = row.values().sum();
        let right = row.get(&kind).copied().unwrap_or(0);
        assert!(total >= 15, "{kind}: {report}");
        assert!(right * 10 >= total * 9, "{kind}: {report}");
    }
}

//! The matcher's HTML path on the generated hostile pages: every page is read to text in one
//! pass (no tree), and a watched name after the hostile markup is still found.

use vigie_match::{Matcher, ScanOptions, Watchlist};

#[test]
fn hostile_markup_does_not_hide_a_watched_name() {
    let shipped = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../watchlists/hospitals.toml"
    );
    let watchlist = Watchlist::load(&[shipped]).unwrap();
    let matcher = Matcher::new(&watchlist).unwrap();
    for case in vigie_html::hostile::cases(256 * 1024) {
        let text = vigie_match::html_to_text(&case.html);
        assert!(text.len() <= case.html.len(), "{}", case.name);
        let page = format!(
            "<!DOCTYPE html><html><body>{}<p>Vente base patients CHU de Nantes</p>",
            case.html
        );
        let report = matcher
            .analyze(case.name, page.as_bytes(), ScanOptions::default())
            .report;
        let named = report.entities.iter().any(|e| e.id == "chu-nantes");
        // Hidden content (an unclosed comment, template or SVG) legitimately swallows the rest.
        let swallowed = matches!(
            case.name,
            "unclosed-comment" | "nested-templates" | "nested-svg"
        );
        assert!(named || swallowed, "{}: {:?}", case.name, report.entities);
    }
}

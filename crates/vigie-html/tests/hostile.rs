//! Every generated hostile page through every entry point: each finishes (a hang would stall
//! the suite, a stack overflow abort it), deep trees are refused, flat ones parsed.
//! Timing is the benchmark's job (`cargo bench -p vigie-cli --bench hostile_html`).

use vigie_html::{
    canonicalize, hostile, html_to_text, parse_document, HtmlRefused, MAX_ATTRIBUTES,
};

const SIZE: usize = 256 * 1024;
const DEPTH: usize = vigie_html::DEFAULT_MAX_DEPTH;

/// Cases whose tree nests one level (or more) per repetition.
const DEEP: &[&str] = &[
    "ignored-end-tags",
    "unclosed-divs",
    "reconstructed-formatting",
    "adoption-agency",
    "unclosed-formatting",
    "unclosed-tables",
    "unclosed-lists",
    "nested-svg",
    "nested-math",
    "nested-templates",
];

#[test]
fn deep_cases_are_refused_and_flat_ones_parsed() {
    for case in hostile::cases(SIZE) {
        let parsed = parse_document(&case.html, DEPTH);
        if DEEP.contains(&case.name) {
            assert_eq!(
                parsed.err(),
                Some(HtmlRefused::TooDeep { limit: DEPTH }),
                "{}",
                case.name
            );
        } else {
            let doc = parsed.unwrap_or_else(|e| panic!("{}: {e}", case.name));
            let deepest = doc.tree.nodes().map(|n| n.ancestors().count()).max();
            assert!(
                deepest.unwrap_or(0) <= DEPTH + 1,
                "{}: {deepest:?}",
                case.name
            );
        }
    }
}

#[test]
fn flat_cases_keep_their_content() {
    let by_name = |name: &str| {
        hostile::cases(SIZE)
            .into_iter()
            .find(|c| c.name == name)
            .unwrap()
            .html
    };
    let siblings = parse_document(&by_name("siblings"), DEPTH).unwrap();
    let p = scraper::Selector::parse("p").unwrap();
    assert_eq!(siblings.select(&p).count(), SIZE / "<p>x</p>".len() + 1);

    let attrs = parse_document(&by_name("one-huge-attribute-list"), DEPTH).unwrap();
    let div = scraper::Selector::parse("div").unwrap();
    let el = attrs.select(&div).next().unwrap();
    assert_eq!(el.value().attrs().count(), MAX_ATTRIBUTES);
    assert_eq!(el.text().collect::<String>(), "Hôpital");

    let text = html_to_text(&by_name("huge-text-node"));
    assert_eq!(text.matches("CHU de Lyon vends").count(), SIZE / 18 + 1);

    let mixed = html_to_text(&by_name("mixed-encodings"));
    assert!(mixed.contains("Médecin") && mixed.contains("pital"));
    assert!(!html_to_text(&by_name("nul-bytes")).contains('\0'));
    assert!(!canonicalize(&by_name("nul-bytes")).contains('\0'));
}

#[test]
fn text_is_read_from_every_case_without_a_tree() {
    for case in hostile::cases(SIZE) {
        let text = html_to_text(&case.html);
        // Text never grows past the page (tags only ever shrink into line breaks and tabs).
        assert!(text.len() <= case.html.len(), "{}", case.name);
        let canonical = canonicalize(&case.html);
        assert!(!canonical.contains('\0'), "{}", case.name);
    }
    let deep = hostile::cases(SIZE)
        .into_iter()
        .find(|c| c.name == "ignored-end-tags")
        .unwrap()
        .html
        + "<p>Vente base CHU de Nantes</p>";
    assert!(html_to_text(&deep).ends_with("Vente base CHU de Nantes\n"));
}

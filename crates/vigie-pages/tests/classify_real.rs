//! `classify` on real pages: login walls, CAPTCHA gates and 404s of real onion sites, and real
//! forum pages that must stay content. Expected classes: `tests/fixtures/real/noncontent/classes.toml`.

use std::path::PathBuf;

use serde::Deserialize;
use vigie_pages::classify::{classify, PageClass};

#[derive(Deserialize)]
struct Expected {
    page: Vec<Page>,
}

#[derive(Deserialize)]
struct Page {
    path: String,
    class: String,
}

fn real() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/real")
}

#[test]
fn real_pages_are_classified_as_read_by_eye() {
    let expected: Expected =
        toml::from_str(&std::fs::read_to_string(real().join("noncontent/classes.toml")).unwrap())
            .unwrap();
    let mut wrong = Vec::new();
    let mut checked = 0;
    for p in &expected.page {
        let Ok(bytes) = std::fs::read(real().join(&p.path)) else {
            // A page another collector has not committed yet.
            eprintln!("missing fixture {}", p.path);
            continue;
        };
        let html = String::from_utf8_lossy(&bytes);
        let doc = vigie_html::parse_document(&html, vigie_html::DEFAULT_MAX_DEPTH).unwrap();
        let text = vigie_html::readable_text(doc.root_element());
        let got: PageClass = classify(200, &doc, &text);
        checked += 1;
        if got.name() != p.class {
            wrong.push(format!(
                "{}: expected {}, got {}",
                p.path,
                p.class,
                got.name()
            ));
        }
    }
    assert!(checked >= 5, "only {checked} fixtures found");
    assert!(wrong.is_empty(), "{wrong:#?}");
}

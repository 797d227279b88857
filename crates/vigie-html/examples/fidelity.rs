//! How closely [`vigie_html::parse_document`] builds the tree `scraper` builds from the raw
//! page, over the html5lib tree-construction tests (`*.dat` files; fragment cases skipped):
//!
//! `cargo run --release -p vigie-html --example fidelity -- PATH/TO/html5lib-tests/tree-construction`
//!
//! Two signatures per case: the whole tree (elements, attributes, text; comments left out, as
//! the canonical page drops them) and the visible tree (the same without the content of
//! scripts, styles, `noscript`, templates and SVG/MathML, which no Vigie stage reads).

use std::path::Path;

#[path = "../tests/support/signature.rs"]
mod signature;
use scraper::Html;
use signature::signature;

fn main() -> std::io::Result<()> {
    let dir = std::env::args().nth(1).unwrap_or_else(|| ".".into());
    let mut files: Vec<_> = std::fs::read_dir(Path::new(&dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "dat"))
        .collect();
    files.sort();
    let (mut total, mut whole, mut visible, mut refused) = (0, 0, 0, 0);
    for path in files {
        let text = std::fs::read_to_string(&path)?;
        for case in text.split("\n\n#data\n") {
            let case = case.trim_start_matches("#data\n");
            if case.contains("\n#document-fragment") {
                continue;
            }
            let Some(end) = case.find("\n#errors") else {
                continue;
            };
            let input = &case[..end];
            total += 1;
            let theirs = Html::parse_document(input);
            let Ok(ours) = vigie_html::parse_document(input, vigie_html::DEFAULT_MAX_DEPTH) else {
                refused += 1;
                continue;
            };
            if signature(&theirs, false) == signature(&ours, false) {
                whole += 1;
            }
            if signature(&theirs, true) == signature(&ours, true) {
                visible += 1;
            } else {
                println!("differs: {}: {:?}", path.display(), input);
            }
        }
    }
    println!("{total} cases: whole tree identical {whole}, visible tree identical {visible}, refused {refused}");
    Ok(())
}

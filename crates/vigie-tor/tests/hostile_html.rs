//! The generated hostile pages through every shipped engine preset and the generic reader:
//! each page finishes, deep trees are refused as `TooDeep`, flat ones parsed.

use vigie_html::{hostile, HtmlRefused, DEFAULT_MAX_DEPTH};
use vigie_tor::{parse_page, CompiledSelectors, Selectors};

#[test]
fn every_preset_and_the_generic_reader_stay_bounded() {
    let base = url::Url::parse("http://forum.example.onion/t/").unwrap();
    let mut parsers = vec![("page", None)];
    for engine in ["phpbb", "xenforo", "mybb", "leak-site"] {
        let compiled = CompiledSelectors::new(&Selectors::preset(engine).unwrap()).unwrap();
        parsers.push((engine, Some(compiled)));
    }
    let cases = hostile::cases(128 * 1024);
    for (engine, selectors) in &parsers {
        for case in &cases {
            match parse_page(&case.html, &base, selectors.as_ref(), DEFAULT_MAX_DEPTH) {
                Ok(page) => assert!(page.text.len() <= case.html.len(), "{engine} {}", case.name),
                Err(HtmlRefused::TooDeep { limit }) => assert_eq!(limit, DEFAULT_MAX_DEPTH),
                Err(e) => panic!("{engine} {}: {e}", case.name),
            }
        }
        let ignored = cases.iter().find(|c| c.name == "ignored-end-tags").unwrap();
        assert!(
            parse_page(&ignored.html, &base, selectors.as_ref(), DEFAULT_MAX_DEPTH).is_err(),
            "{engine}"
        );
        let siblings = cases.iter().find(|c| c.name == "siblings").unwrap();
        let page =
            parse_page(&siblings.html, &base, selectors.as_ref(), DEFAULT_MAX_DEPTH).unwrap();
        assert!(page.text.starts_with("x\nx\nx"), "{engine}");
    }
}

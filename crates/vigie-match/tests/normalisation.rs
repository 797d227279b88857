//! One test per normalisation case and per false-positive guard, and property tests: every
//! reported offset slices the original text on char boundaries, and a name hidden by any one
//! normalisation case is still found.

use proptest::prelude::*;
use vigie_core::Category;
use vigie_match::{Entity, Matcher, ScanOptions};

fn entity(id: &str, name: &str, category: Category) -> Entity {
    Entity {
        id: id.into(),
        name: name.into(),
        category,
        aliases: vec![],
        domains: vec![format!("{id}.fr")],
        finess: vec![],
        strict: false,
        strict_aliases: vec![],
        notify: vec![],
    }
}

fn matcher() -> Matcher {
    let mut has = entity("has", "HAS", Category::Agency);
    has.strict = true;
    let mut aphp = entity(
        "aphp",
        "Assistance Publique - Hôpitaux de Paris",
        Category::Hospital,
    );
    aphp.strict_aliases = vec!["AP-HP".into(), "APHP".into()];
    Matcher::from_entities(vec![
        entity("medecindirect", "MédecinDirect", Category::Telehealth),
        entity("cerballiance", "Cerballiance", Category::Lab),
        entity("pharmagest", "Pharmagest", Category::SoftwareVendor),
        entity("cerba", "Cerba", Category::Lab),
        entity("ameli", "Ameli", Category::Insurer),
        entity("doctolib", "Doctolib", Category::Telehealth),
        has,
        aphp,
    ])
    .unwrap()
}

thread_local!(static MATCHER: Matcher = matcher());

fn ids(text: &str) -> Vec<String> {
    MATCHER.with(|m| {
        m.scan_text("t", text, ScanOptions::default())
            .entities
            .into_iter()
            .map(|e| e.id)
            .collect()
    })
}

fn hits(text: &str, id: &str) -> bool {
    ids(text).iter().any(|i| i == id)
}

#[test]
fn case() {
    assert!(hits("vente MEDECINDIRECT", "medecindirect"));
    assert!(hits("vente medecindirect", "medecindirect"));
}

#[test]
fn accents() {
    assert!(hits("base Medecin Direct", "medecindirect"));
    assert!(hits("base MÉDECIN DIRECT", "medecindirect"));
    assert!(hits("base Mèdécîn Dïrect", "medecindirect"));
}

#[test]
fn unicode_compatibility_forms() {
    assert!(hits("ＭＥＤＥＣＩＮＤＩＲＥＣＴ leak", "medecindirect"));
    // Decomposed accent (e + combining acute).
    assert!(hits("Me\u{301}decinDirect", "medecindirect"));
}

#[test]
fn zero_width_characters() {
    assert!(hits("Cer\u{200B}ball\u{200D}iance", "cerballiance"));
    assert!(hits("Cer\u{00AD}balliance", "cerballiance"));
    assert!(hits("\u{FEFF}Cerballiance", "cerballiance"));
}

#[test]
fn html_entities() {
    assert!(hits("M&eacute;decin&nbsp;Direct", "medecindirect"));
    assert!(hits("M&#233;decinDirect", "medecindirect"));
    assert!(hits("M&#xE9;decinDirect", "medecindirect"));
}

#[test]
fn cyrillic_and_greek_look_alikes() {
    assert!(hits("Cerballi\u{0430}nce", "cerballiance")); // Cyrillic а
    assert!(hits("\u{0421}erballiance", "cerballiance")); // Cyrillic С
    assert!(hits("D\u{03BF}ctolib", "doctolib")); // Greek ο
    assert!(hits("Ph\u{0430}rm\u{0430}g\u{0435}st", "pharmagest"));
}

#[test]
fn leetspeak() {
    assert!(hits("Ph4rmag3st", "pharmagest"));
    assert!(hits("D0ct0l1b", "doctolib"));
    assert!(hits("Ph@rmagest", "pharmagest"));
}

#[test]
fn russian_transliteration() {
    assert!(hits("Продам базу Фармажест", "pharmagest"));
    assert!(hits("слив Фармагеста", "pharmagest")); // genitive ending
    assert!(hits("доступ к Доктолибу", "doctolib")); // dative ending
    assert!(hits("база Сербальянс", "cerballiance"));
    assert!(!hits("фармацевт", "pharmagest"));
}

#[test]
fn separators_inside_names() {
    for t in [
        "MEDECIN DIRECT",
        "medecin-direct",
        "medecin.direct",
        "medecin_direct",
        "medecindirect",
        "M e d e c i n D i r e c t",
        "M.E.D.E.C.I.N D.I.R.E.C.T",
        "Médecin\nDirect",
    ] {
        assert!(hits(t, "medecindirect"), "{t}");
    }
    assert!(hits("leak AP-HP", "aphp"));
    assert!(hits("leak APHP", "aphp"));
}

#[test]
fn no_hit_inside_a_longer_word() {
    assert!(!hits("an acerbate remark", "cerba"));
    assert!(!hits("un camélia rouge", "ameli"));
    assert!(!hits("améliorer les soins", "ameli"));
    assert!(!hits("cerballiances", "cerballiance"));
    assert!(hits("Cerba, Ameli", "cerba"));
    assert!(hits("Cerba, Ameli", "ameli"));
}

#[test]
fn separate_words_are_not_glued_into_a_short_name() {
    // "cer ba" would fold to "cerba" but two real words are not the name.
    assert!(!hits("the cer ba thing", "cerba"));
    assert!(!hits("a me li", "ameli"));
    // A name spelled out one letter at a time is obfuscation, not separate words.
    assert!(hits("C e r b a", "cerba"));
}

#[test]
fn domains_are_not_glued_from_words() {
    assert!(hits("see doctolib.fr", "doctolib"));
    assert!(!ids("Cerballiance Fr").is_empty());
    let m = matcher();
    let r = m.scan_text("t", "CERBALLIANCE Fr", ScanOptions::default());
    assert_eq!(r.entities[0].matches[0].text, "CERBALLIANCE");
}

#[test]
fn a_letter_masked_by_a_star() {
    assert!(hits("leak D*ctolib users", "doctolib"));
    assert!(hits("base C*rballiance", "cerballiance"));
    assert!(hits("PH*RMAGEST", "pharmagest"));
    // Not at the name's first letter, not in strict names.
    assert!(!hits("*octolib", "doctolib"));
    assert!(!hits("H*S", "has"));
    assert!(
        hits("*Doctolib*", "doctolib"),
        "emphasis is punctuation around the name"
    );
    let m = matcher();
    let text = "vends D*ctolib.";
    let r = m.scan_text("t", text, ScanOptions::default());
    let span = &r.entities[0].matches[0];
    assert_eq!(&text[span.start as usize..span.end as usize], "D*ctolib");
    assert_eq!(span.text, "D*ctolib");
}

#[test]
fn punctuation_breaks_names() {
    assert!(!hits("medecin, direct", "medecindirect"));
    assert!(!hits("medecin (direct)", "medecindirect"));
}

#[test]
fn strict_names_need_exact_case_whole_words() {
    assert!(hits("avis de la HAS", "has"));
    assert!(!hits("it has been sold", "has"));
    assert!(!hits("H A S", "has"));
    assert!(!hits("ap-hp", "aphp"), "a strict alias is case-sensitive");
    assert!(
        hits("Assistance publique hôpitaux de Paris", "aphp"),
        "the loose name stays loose"
    );
}

#[test]
fn offsets_are_into_the_original_text() {
    let m = matcher();
    let text = "préambule — Cer\u{200B}balli\u{0430}nce et M&eacute;decin Direct.";
    let r = m.scan_text("t", text, ScanOptions::default());
    let spans: Vec<&str> = r
        .entities
        .iter()
        .flat_map(|e| &e.matches)
        .map(|s| &text[s.start as usize..s.end as usize])
        .collect();
    assert_eq!(
        spans,
        ["Cer\u{200B}balli\u{0430}nce", "M&eacute;decin Direct"]
    );
}

/// The normalisation cases, each applied to a name.
fn obfuscate(name: &str, case: u8) -> String {
    match case % 8 {
        0 => name.to_uppercase(),
        1 => name
            .chars()
            .map(|c| format!("{c} "))
            .collect::<String>()
            .trim_end()
            .to_string(),
        2 => name.replace('a', "\u{0430}"), // Cyrillic look-alike
        3 => name.replace('e', "3").replace('a', "4"),
        4 => name.chars().map(|c| format!("{c}\u{200B}")).collect(),
        5 => name.replace('e', "&eacute;"),
        6 => name
            .chars()
            .map(|c| {
                char::from_u32(c as u32 + 0xFEE0)
                    .filter(|_| c.is_ascii_alphanumeric())
                    .unwrap_or(c)
            })
            .collect(),
        _ => {
            let mid = name.len() / 2;
            format!("{}-{}", &name[..mid], &name[mid..])
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn offsets_slice_on_char_boundaries(text in "\\PC{0,200}") {
        MATCHER.with(|m| {
            let r = m.scan_text("t", &text, ScanOptions::default());
            for e in &r.entities {
                for s in &e.matches {
                    let (a, b) = (s.start as usize, s.end as usize);
                    prop_assert!(a <= b && b <= text.len());
                    prop_assert!(text.is_char_boundary(a) && text.is_char_boundary(b));
                    prop_assert_eq!(&text[a..b], s.text.as_str());
                }
            }
            Ok(())
        })?;
    }

    #[test]
    fn hidden_names_are_still_found(
        before in "[a-zA-Zéèà ,.;\\n]{0,40}",
        after in "[a-zA-Zéèà ,.;\\n]{0,40}",
        which in 0usize..3,
        case in 0u8..8,
    ) {
        let (name, id) = [("Cerballiance", "cerballiance"), ("Pharmagest", "pharmagest"), ("Doctolib", "doctolib")][which];
        let hidden = obfuscate(name, case);
        let text = format!("{before} {hidden} {after}");
        MATCHER.with(|m| {
            let r = m.scan_text("t", &text, ScanOptions::default());
            let found = r.entities.iter().find(|e| e.id == id);
            prop_assert!(found.is_some(), "{:?} not found in {:?}", hidden, text);
            let span = &found.unwrap().matches[0];
            // A zero-width character after the last letter is not part of the name.
            prop_assert_eq!(&text[span.start as usize..span.end as usize], hidden.trim_end_matches('\u{200B}'));
            Ok(())
        })?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// The fast paths (word starts, quick folding, folding from a word start) produce exactly
    /// what the normaliser produces over the whole text.
    #[test]
    fn fast_paths_agree_with_the_normaliser(
        text in "([a-zA-Z0-9éÉàœßÿ×]|[а-яА-ЯёЁйЙьъыэюя]|[ \\-.'’\\n,;!@$&]|&eacute;|\\u{200B}|\\u{0301}){0,60}"
    ) {
        use vigie_match::normalize::{for_each_word_start, normalize, normalize_from, quick_prefix, Normalized};
        let whole = normalize(&text);
        let mut starts = Vec::new();
        for_each_word_start(&text, |i| starts.push(i as u32));
        prop_assert_eq!(&starts, &whole.start_offsets);
        for (k, &s) in whole.starts.iter().enumerate() {
            let s = s as usize;
            let mut region = Normalized::default();
            normalize_from(&text, starts[k] as usize, 10, &mut region);
            let len = region.bytes.len();
            prop_assert_eq!(&region.bytes[..], &whole.bytes[s..s + len]);
            if let Some((prefix, got)) = quick_prefix(text.as_bytes(), starts[k] as usize) {
                let want = &whole.bytes[s..(s + 8).min(whole.bytes.len())];
                prop_assert_eq!(&prefix[..got], &want[..got.min(want.len())]);
                prop_assert!(got == 8 || got == want.len(), "quick prefix stopped early");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any bytes at all: no panic, and every span slices the decoded text.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..3000)) {
        MATCHER.with(|m| {
            let r = m.scan_bytes("t", &bytes, ScanOptions::default());
            let text = vigie_match::document_text(&bytes);
            for e in &r.entities {
                for s in &e.matches {
                    prop_assert!(text.get(s.start as usize..s.end as usize).is_some());
                }
            }
            Ok(())
        })?;
    }

    /// Text dense in the characters that steer the special paths.
    #[test]
    fn special_characters_never_panic(
        text in "([0-9]{1,16}|[ .,;:|@$&*#/\\-_'’\\n\\t+()]|&#[0-9]{1,8};|&[a-z]{1,6};|[a-zA-Zé]{1,8}|[а-яё]{1,6}|\\u{200B}|<[a-z/]{1,5}>|FR76|2A|\\+33|t\\.me/){0,120}"
    ) {
        MATCHER.with(|m| {
            let r = m.scan_text("t", &text, ScanOptions::default());
            for e in &r.entities {
                for s in &e.matches {
                    prop_assert_eq!(&text[s.start as usize..s.end as usize], s.text.as_str());
                }
            }
            let html = format!("<html><body><p>{text}</p></body></html>");
            m.scan_bytes("t.html", html.as_bytes(), ScanOptions::default());
            Ok(())
        })?;
    }
}

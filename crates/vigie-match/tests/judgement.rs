//! What a document is and how grave it is (issue 16): document kinds, the source kind,
//! ransomware claims, severity rules, and name precision on real text.

use std::path::Path;
use std::sync::OnceLock;

use vigie_core::{DocumentKind, Origin, Report, Severity};
use vigie_match::{Matcher, ScanOptions, Watchlist};

fn matcher() -> &'static Matcher {
    static M: OnceLock<Matcher> = OnceLock::new();
    M.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../watchlists");
        Matcher::new(&Watchlist::load(&[dir]).unwrap()).unwrap()
    })
}

fn scan(text: &str) -> Report {
    matcher().scan_text("t", text, ScanOptions::default())
}

fn scan_from(text: &str, origin: Origin) -> Report {
    let options = ScanOptions {
        origin,
        ..ScanOptions::default()
    };
    matcher().scan_text("t", text, options)
}

fn ids(r: &Report) -> Vec<&str> {
    r.entities.iter().map(|e| e.id.as_str()).collect()
}

/// Real leak-site text (Daixin Team's page, as saved by ransomware.live; see
/// tests/fixtures/eval/PROVENANCE.md): "Hospital is" is not the vendor Hospitalis.
#[test]
fn hospital_is_is_not_hospitalis() {
    let r = scan(
        "Fitzgibbon Hospital is a leader in central Missouri in providing quality, \
         compassionate care and personal attention \tto patients.",
    );
    assert!(!ids(&r).contains(&"hospitalis"), "{r:?}");
    // Still found when written as the name, or obfuscated.
    for text in [
        "base Hospitalis volée",
        "base H o s p i t a l i s",
        "base Hospi-talis",
    ] {
        assert!(ids(&scan(text)).contains(&"hospitalis"), "{text}");
    }
    // And camel-case names still take their spaced spelling.
    assert!(ids(&scan("vente MEDECIN DIRECT patients")).contains(&"medecindirect"));
}

/// A real organisation's name (a US credit union, as written in public code) holding a watched
/// pharma name: it is that other organisation.
#[test]
fn bayer_heritage_federal_credit_union_is_not_bayer() {
    let r = scan("New victim: Bayer Heritage Federal Credit Union. 120 GB of member data.");
    assert!(!ids(&r).contains(&"bayer"), "{r:?}");
    let r = scan("Capio Bank and Elsan Hotel Group were listed this week.");
    assert!(ids(&r).is_empty(), "{r:?}");
    // The pharma company itself, and its health subsidiaries, still count.
    assert!(ids(&scan("Leak of Bayer HealthCare France clinical trial data")).contains(&"bayer"));
    assert!(ids(&scan("Bayer Pharmaceuticals hit by ransomware")).contains(&"bayer"));
}

#[test]
fn leak_site_origin_makes_a_claim_by_construction() {
    let text = "Victim: Centre Hospitalier de Dax\nUploaded: 2026-03-02\n";
    let plain = scan(text);
    let from_site = scan_from(text, Origin::LeakSite);
    assert_eq!(from_site.kind, DocumentKind::RansomwareClaim);
    assert!(from_site.leak_offer);
    assert_eq!(
        from_site.severity,
        Severity::Critical,
        "{:?}",
        from_site.why
    );
    assert_ne!(plain.kind, DocumentKind::RansomwareClaim);
    assert!(plain.severity < Severity::High);
}

#[test]
fn health_insurer_claim_with_data_size_is_critical() {
    // The case: a French health insurer, data size, kinds of files, "published".
    let r = scan(
        "Harmonie Mutuelle\nFrance\nData size: 450 GB\nFiles: patient records, NIR lists, contracts\n\
         Status: all data is published",
    );
    assert_eq!(r.kind, DocumentKind::RansomwareClaim, "{:?}", r.why);
    assert_eq!(r.severity, Severity::Critical, "{:?}", r.why);
    assert!(r
        .why
        .iter()
        .any(|w| w == "rule: ransomware claim on a health organisation or health data"));
}

#[test]
fn russian_and_french_claims_with_countdowns() {
    let r = scan(
        "Новая жертва: Doctolib\nОбъем данных: 1,2 ТБ\nВсе данные будут опубликованы через \
         2 дня 5 часов 10 минут",
    );
    assert_eq!(r.kind, DocumentKind::RansomwareClaim, "{:?}", r.cues);
    assert_eq!(r.severity, Severity::Critical);
    let r = scan(
        "Nouvelle victime : Cerballiance\nCompte à rebours : 3 jours 04 heures 12 minutes\n\
         Taille des données : 312 Go",
    );
    assert_eq!(r.kind, DocumentKind::RansomwareClaim);
    assert_eq!(r.severity, Severity::Critical);
}

#[test]
fn non_health_claims_and_sales_stay_below_alert() {
    let r = scan(
        "LockBit - Harbor Freight Logistics\nWe have exfiltrated 870 GB: contracts, customer \
         database.\nData will be published in 3d 4h 10m 2s",
    );
    assert_eq!(r.kind, DocumentKind::RansomwareClaim);
    assert_eq!(r.severity, Severity::Low, "{:?}", r.why);
    // A customer file with 120 phone numbers: a leak, not health.
    let mut text = String::from("Vends fichier clients Garage Central, prix 2 BTC\nnom;tel\n");
    for i in 0..120 {
        text.push_str(&format!("CLIENT{i};06{:08}\n", 12_345_000 + i * 7));
    }
    let r = scan(&text);
    assert_eq!(r.kind, DocumentKind::Sale);
    assert!(r.severity <= Severity::Low, "{:?}", r.why);
    // A watched organisation outside health (a telecom brand) does not make it health.
    let r = scan("Vente base clients Orange fibre 2026, 300k lignes, prix 2 BTC, escrow ok");
    assert!(r.severity <= Severity::Low, "{:?}", r.why);
}

#[test]
fn buyers_are_requests_and_at_most_medium() {
    for text in [
        "WTB fresh Doctolib database, paying in BTC. PM me.",
        "Je cherche une base Doctolib récente, paiement BTC.",
        "Куплю базу Doctolib, оплата через гарант.",
        "Looking for access to CHU de Nantes, want to buy logins.",
    ] {
        let r = scan(text);
        assert_eq!(r.kind, DocumentKind::Request, "{text}: {:?}", r.cues);
        assert!(!r.leak_offer);
        assert_eq!(r.severity, Severity::Medium, "{text}: {:?}", r.why);
    }
}

#[test]
fn pastes_of_dumps_are_free_dumps() {
    let key = |body: u64| 97 - body % 97;
    let mut text = String::from("nom;prenom;nir;tel\n");
    for i in 0..12u64 {
        let body = 1_850_575_123_400 + i;
        text.push_str(&format!(
            "NOM{i};Jean;{body}{:02};06123456{i:02}\n",
            key(body)
        ));
    }
    let r = scan(&text);
    assert_eq!(r.kind, DocumentKind::FreeDump, "{:?}", r.why);
    assert!(r.leak_offer);
    assert!(r.severity >= Severity::High, "{:?}", r.why);
    let combos: String = (0..10)
        .map(|i| format!("user{i}.name@gmail.com:Soleil{i}2024\n"))
        .collect();
    let r = scan(&combos);
    assert_eq!(r.kind, DocumentKind::FreeDump);
    assert_eq!(r.severity, Severity::Low, "{:?}", r.why);
}

#[test]
fn news_teasers_and_discussion() {
    let r = scan(
        "Le CHU de Nantes a été victime d'une cyberattaque, selon un communiqué. Le groupe \
         LockBit revendique 1,2 To de données sur son site de fuite, rapporte Le Parisien.",
    );
    assert_eq!(r.kind, DocumentKind::News, "{:?}", r.cues);
    assert_eq!(r.severity, Severity::Low);
    let r = scan("Big one coming soon: Doctolib patients. Stay tuned.");
    assert_eq!(r.kind, DocumentKind::Teaser, "{:?}", r.cues);
    assert_eq!(r.severity, Severity::High);
    let r = scan("Le site était down hier soir, quelqu'un a une idée ?");
    assert_eq!(r.kind, DocumentKind::Discussion);
    assert_eq!(r.severity, Severity::Info);
}

#[test]
fn group_names_from_the_shipped_list_count_as_claim_signals() {
    // An unambiguous group name with a data size is a claim; an ambiguous one (`Play`) is not
    // on its own.
    let r = scan("Rhysida\nCerballiance\n312 GB\n");
    assert_eq!(r.kind, DocumentKind::RansomwareClaim, "{:?}", r.why);
    let r = scan("Play the new version of the game, 2 GB download, Cerballiance sponsor.");
    assert_ne!(r.kind, DocumentKind::RansomwareClaim);
}

#[test]
fn watchlist_exclusions_name_something_else() {
    // Declared in watchlists/pharma.toml and clinic_groups.toml.
    let without = Matcher::from_entities(matcher().entities().to_vec()).unwrap();
    for (text, id) in [
        ("Bayer Leverkusen won 3-0 at home", "bayer"),
        ("Gordon Ramsay opens a restaurant in Lyon", "ramsay-sante"),
    ] {
        assert!(!ids(&scan(text)).contains(&id), "{text}");
        let r = without.scan_text("t", text, ScanOptions::default());
        assert!(ids(&r).contains(&id), "without exclusions: {text}");
    }
    assert!(ids(&scan("Vente base patients Ramsay Santé, prix 2 BTC")).contains(&"ramsay-sante"));
    assert!(ids(&scan("Bayer leak: 40 GB of trial data")).contains(&"bayer"));
    // An exclusion about an unknown entity is an error.
    let mut list = Watchlist::default();
    list.add_toml(
        Path::new("x.toml"),
        "[[entity]]\nid = \"a\"\nname = \"Alpha Santé\"\ncategory = \"lab\"\n\
         [[exclusion]]\nentity = \"b\"\nphrases = [\"Alpha Beta\"]\n",
    )
    .unwrap();
    assert!(Matcher::new(&list).is_err());
}

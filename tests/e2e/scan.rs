//! End-to-end tests of `vigie scan` on the fixtures in tests/fixtures.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

fn vigie(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args(args)
        .output()
        .expect("vigie runs")
}

fn vigie_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("vigie runs");
    let mut stdin = child.stdin.take().expect("piped");
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().expect("vigie exits");
    writer.join().expect("writer");
    out
}

fn post(name: &str) -> String {
    fixtures().join("posts").join(name).display().to_string()
}

fn scan_json(name: &str) -> Value {
    let out = vigie(&["scan", "--json", &post(name)]);
    assert!(out.status.code().is_some_and(|c| c <= 1), "{out:?}");
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

fn entity_ids(report: &Value) -> Vec<String> {
    report["entities"]
        .as_array()
        .expect("entities")
        .iter()
        .map(|e| e["id"].as_str().expect("id").to_string())
        .collect()
}

#[test]
fn french_sale_with_patient_sample_is_critical() {
    let r = scan_json("fr_medecindirect_vente.txt");
    assert_eq!(entity_ids(&r), ["medecindirect"]);
    assert_eq!(r["severity"], "critical");
    assert_eq!(r["leak_offer"], true);
    assert_eq!(r["identifiers"]["nir"]["valid"], 20);
    assert_eq!(r["identifiers"]["nir"]["invalid"], 0);
    assert_eq!(r["sample"]["rows"], 20);
    assert_eq!(r["sample"]["columns"][3], "nir");
    let why: Vec<&str> = r["why"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert!(
        why.contains(&"entity telehealth")
            && why.contains(&"20 valid NIR")
            && why.contains(&"leak offer"),
        "{why:?}"
    );
}

#[test]
fn matches_carry_offsets_into_the_original_text() {
    let path = post("fr_medecindirect_vente.txt");
    let text = std::fs::read_to_string(&path).unwrap();
    let r = scan_json("fr_medecindirect_vente.txt");
    for m in r["entities"][0]["matches"].as_array().unwrap() {
        let (s, e) = (
            m["start"].as_u64().unwrap() as usize,
            m["end"].as_u64().unwrap() as usize,
        );
        assert_eq!(&text[s..e], m["text"].as_str().unwrap());
    }
}

#[test]
fn identifiers_are_masked_unless_revealed() {
    let path = post("fr_medecindirect_vente.txt");
    let text = std::fs::read_to_string(&path).unwrap();
    let masked = vigie(&["scan", "--json", &path]);
    let stdout = String::from_utf8(masked.stdout).unwrap();
    let r: Value = serde_json::from_str(&stdout).unwrap();
    let example = r["identifiers"]["nir"]["examples"][0]
        .as_str()
        .unwrap()
        .to_string();
    // At most four digits: the last four of one of the file's NIRs.
    assert!(example.starts_with("* ** ** ** *** *"), "{example}");
    let shown: String = example.chars().filter(char::is_ascii_digit).collect();
    assert_eq!(shown.len(), 4, "{example}");
    // No raw NIR from the file appears anywhere in the masked output.
    for line in text.lines().filter(|l| l.matches(';').count() == 5).skip(1) {
        let nir = line.split(';').nth(3).unwrap();
        assert!(!stdout.contains(nir), "raw NIR {nir} leaked");
    }
    let revealed = vigie(&["scan", "--json", "--reveal", &path]);
    let r: Value = serde_json::from_slice(&revealed.stdout).unwrap();
    let raw = r["identifiers"]["nir"]["examples"][0].as_str().unwrap();
    assert_eq!(raw.len(), 15);
    assert!(text.contains(raw));
    assert!(raw.ends_with(&shown), "{raw} masked as {example}");
}

#[test]
fn html_credentials_post_in_english() {
    let r = scan_json("en_chu_access.html");
    assert_eq!(entity_ids(&r), ["chu-bordeaux"]);
    assert_eq!(r["identifiers"]["credential"]["valid"], 7);
    assert_eq!(r["identifiers"]["health_email"]["valid"], 7);
    assert_eq!(r["severity"], "critical");
    let topics = r["topics"].as_array().unwrap();
    assert!(topics.contains(&Value::from("credentials")));
    // The script's "CHU-Bordeaux" string is not text: only the post's mentions count.
    for m in r["entities"][0]["matches"].as_array().unwrap() {
        assert!(!m["text"].as_str().unwrap().contains("analytics"));
    }
    let out =
        String::from_utf8(vigie(&["scan", "--json", &post("en_chu_access.html")]).stdout).unwrap();
    assert!(
        !out.contains("Bordeaux2024!") && !out.contains("Azerty123"),
        "password leaked: {out}"
    );
}

#[test]
fn russian_sale_with_cyrillic_name() {
    let r = scan_json("ru_pharmagest.txt");
    assert_eq!(entity_ids(&r), ["pharmagest"]);
    assert_eq!(r["entities"][0]["matches"][0]["text"], "Фармажест");
    assert_eq!(r["leak_offer"], true);
    assert_eq!(r["severity"], "critical");
    assert_eq!(r["sample"]["rows"], 12);
}

#[test]
fn leak_site_listing_is_an_offer_without_data() {
    // A publication date and a data size are enough.
    let r = scan_json("leaksite_dedalus.txt");
    assert_eq!(entity_ids(&r), ["dedalus"]);
    assert_eq!(r["leak_offer"], true, "{r}");
    let r = scan_json("leaksite_cerballiance.html");
    assert_eq!(entity_ids(&r), ["cerballiance"]);
    assert_eq!(r["leak_offer"], true);
    // A health organisation in a ransomware claim is critical (issue 16).
    assert_eq!(r["kind"], "ransomware_claim");
    assert_eq!(r["severity"], "critical");
    assert!(r["topics"]
        .as_array()
        .unwrap()
        .contains(&Value::from("ransomware")));
}

#[test]
fn news_and_buyers_are_not_offers() {
    // A buyer naming a watched organisation is worth a look, not a page (issue 16).
    for (name, kind, severity) in [
        ("news_hospital_breach.txt", "news", "low"),
        ("wtb_doctolib.txt", "request", "medium"),
    ] {
        let r = scan_json(name);
        assert_eq!(r["leak_offer"], false, "{name}");
        assert_eq!(r["kind"], kind, "{name}");
        assert_eq!(r["severity"], severity, "{name}");
    }
    // The press seeds live next to the repository; without them this check would pass
    // having checked nothing, so their absence is a failure.
    let seeds = fixtures().join("../../../shared/seeds");
    let entries = std::fs::read_dir(&seeds).unwrap_or_else(|e| {
        panic!(
            "press seeds missing at {} ({e}): this test needs them",
            seeds.display()
        )
    });
    let mut checked = 0;
    for seed in entries {
        let path = seed.unwrap().path().display().to_string();
        let out = vigie(&["scan", "--json", &path]);
        let r: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            r["leak_offer"], false,
            "press article {path} read as an offer"
        );
        checked += 1;
    }
    assert!(checked > 0, "no press seed in {}", seeds.display());
}

#[test]
fn short_announcements_free_dumps_and_auctions_are_offers() {
    // A teaser with a volume claim and a handle, no sale verb; a lower-case "ap-hp".
    let r = scan_json("en_telegram_teaser.txt");
    assert_eq!(r["leak_offer"], true, "{r}");
    let ids = entity_ids(&r);
    assert!(
        ids.contains(&"doctolib".to_string()) && ids.contains(&"aphp".to_string()),
        "{ids:?}"
    );
    assert_eq!(r["severity"], "high");
    let cues: Vec<&str> = r["cues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(
        cues.contains(&"volume claim") && cues.contains(&"contact handle"),
        "{cues:?}"
    );
    // A free dump.
    let r = scan_json("fr_dump_gratuit.txt");
    assert_eq!(r["leak_offer"], true, "{r}");
    assert_eq!(entity_ids(&r), ["elsan"]);
    // A Russian auction for network access.
    let r = scan_json("ru_auction.txt");
    assert_eq!(r["leak_offer"], true, "{r}");
    assert_eq!(entity_ids(&r), ["chu-nantes"]);
    assert!(r["topics"]
        .as_array()
        .unwrap()
        .contains(&Value::from("credentials")));
}

#[test]
fn ordinary_technical_prose_is_not_a_leak() {
    // A licence text: generic sale words, capitals, surnames that are also brand names, LGPL.
    let out = vigie(&["scan", "--json", &post("licence_like.txt")]);
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["leak_offer"], false, "{r}");
    assert!(entity_ids(&r).is_empty(), "{r}");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn brand_names_that_are_surnames_need_a_health_context() {
    let out = vigie_stdin(
        &["scan", "--json", "-"],
        b"Thanks to Alan and Dr Vidal for the review, 43510 times.",
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(entity_ids(&r).is_empty(), "{r}");
    let out = vigie_stdin(
        &["scan", "--json", "-"],
        b"Dump de la base Vidal des m\xc3\xa9dicaments et des clients Alan (mutuelle).",
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(entity_ids(&r), ["vidal", "alan"], "{r}");
}

#[test]
fn binary_files_are_skipped_and_said_so() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("blob.bin");
    let mut bytes = b"\x1f\x8b\x08\x00 dm pm tg db Doctolib".to_vec();
    bytes.extend_from_slice(&[0u8; 64]);
    std::fs::write(&bin, bytes).unwrap();
    let out = vigie(&["scan", "--json", &bin.display().to_string()]);
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(entity_ids(&r).is_empty());
    assert!(
        r["why"]
            .as_array()
            .unwrap()
            .contains(&Value::from("binary file, not scanned")),
        "{r}"
    );
}

#[test]
fn more_market_styles() {
    // A ransomware group's weekly victim list.
    let r = scan_json("en_victim_list.txt");
    assert_eq!(r["leak_offer"], true, "{r}");
    assert_eq!(entity_ids(&r), ["synlab", "clinique-pasteur-toulouse"]);
    assert!(r["topics"]
        .as_array()
        .unwrap()
        .contains(&Value::from("ransomware")));
    // Stealer-log accounts sold by the batch, a Telegram handle to contact.
    let r = scan_json("fr_comptes_ameli.txt");
    assert_eq!(r["leak_offer"], true, "{r}");
    assert_eq!(entity_ids(&r), ["assurance-maladie", "doctolib"]);
    assert!(r["topics"]
        .as_array()
        .unwrap()
        .contains(&Value::from("credentials")));
    // An HTML post with a sample of practitioner rows (RPPS look-alikes, real phone formats).
    let r = scan_json("fr_cegedim_rpps.html");
    assert_eq!(entity_ids(&r), ["cegedim"]);
    assert_eq!(r["identifiers"]["rpps"]["invalid"], 3);
    assert_eq!(r["identifiers"]["phone"]["valid"], 3);
    assert_eq!(r["sample"]["rows"], 3);
    assert_eq!(r["severity"], "critical");
    // A SQL dump posted without sale words is a free dump, a leak (issue 16): a watched
    // clinic and valid NIRs make it critical.
    let r = scan_json("fr_dump_sql.txt");
    assert_eq!(entity_ids(&r), ["clinique-pasteur-toulouse"]);
    assert_eq!(r["identifiers"]["nir"]["valid"], 4);
    assert_eq!(r["kind"], "free_dump");
    assert_eq!(r["leak_offer"], true);
    assert_eq!(r["severity"], "critical");
    // JSON lines: the keys are the columns.
    let r = scan_json("en_jsonl_sample.txt");
    assert_eq!(
        r["sample"]["columns"],
        serde_json::json!(["nom", "nir", "tel", "resultat"])
    );
    assert_eq!(r["severity"], "critical");
}

#[test]
fn selling_something_else_is_not_a_data_offer() {
    let out = vigie(&["scan", "--json", &post("fr_vente_voiture.txt")]);
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["leak_offer"], false, "{r}");
    assert_eq!(r["severity"], "info");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn counterfeit_medicine_topic() {
    let r = scan_json("fr_pharmacie_en_ligne.txt");
    assert!(r["topics"]
        .as_array()
        .unwrap()
        .contains(&Value::from("counterfeit_medicine")));
    assert_eq!(r["severity"], "medium");
}

#[test]
fn obfuscated_names_are_found() {
    let r = scan_json("obfuscated.txt");
    let ids = entity_ids(&r);
    for id in [
        "cerballiance",
        "pharmagest",
        "medecindirect",
        "hcl",
        "aphp",
        "doctolib",
        "dedalus",
    ] {
        assert!(ids.contains(&id.to_string()), "{id} missing from {ids:?}");
    }
    let cerb = &r["entities"][0];
    let texts: Vec<&str> = cerb["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert!(texts.contains(&"C e r b a l l i a n c e"), "{texts:?}");
    assert!(texts.contains(&"Cerballi\u{0430}nce"), "{texts:?}");
    assert_eq!(r["identifiers"]["nir"]["valid"], 2);
}

#[test]
fn decoys_count_as_invalid_and_find_nothing() {
    let out = vigie(&["scan", "--json", &post("decoys.txt")]);
    assert_eq!(out.status.code(), Some(1), "nothing found is exit 1");
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["identifiers"]["nir"]["valid"], 0);
    assert_eq!(r["identifiers"]["nir"]["invalid"], 6);
    assert_eq!(r["severity"], "info");
}

#[test]
fn clean_prose_finds_nothing() {
    let out = vigie(&[
        "scan",
        "--watchlists",
        &fixtures().join("watchlists").display().to_string(),
        &post("clean_prose.txt"),
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(out.stdout.is_empty());
    let out = vigie(&["scan", &post("clean_prose.txt")]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn watched_domains_in_addresses_name_the_organisation() {
    let out = vigie_stdin(
        &["scan", "--json", "-"],
        b"contact: J.DUPONT@CHU-LYON.FR, admin@aphp.fr:Passw0rd!",
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(entity_ids(&r), ["hcl", "aphp"], "{r}");
    assert_eq!(r["identifiers"]["health_email"]["valid"], 2);
    assert_eq!(r["identifiers"]["credential"]["valid"], 1);
}

#[test]
fn consumer_mail_domains_are_not_health_organisations() {
    // orange.fr addresses are in most French leaks; Orange is watched only as a name.
    let out = vigie_stdin(
        &["scan", "--json", "-"],
        b"nom;tel;email\nPETIT;0633445566;luc.petit@orange.fr\nMARTIN;0611223344;p.martin@gmail.com\nROUX;0622334455;roux@orange.fr\n",
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(entity_ids(&r).is_empty(), "{r}");
    assert!(r["identifiers"].get("health_email").is_none(), "{r}");
    assert_eq!(r["sample"]["rows"], 3);
}

#[test]
fn invalid_utf8_is_decoded_lossily() {
    let r = scan_json("invalid_utf8.txt");
    assert_eq!(entity_ids(&r), ["weda"]);
}

#[test]
fn strict_names_need_exact_case() {
    let wl = fixtures().join("watchlists").display().to_string();
    let out = vigie_stdin(
        &["scan", "--json", "--watchlists", &wl, "-"],
        b"Avis de la HAS sur le dossier",
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(entity_ids(&r), ["has"]);
    let out = vigie_stdin(
        &["scan", "--json", "--watchlists", &wl, "-"],
        b"she has the file, it has been sold",
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(entity_ids(&r).is_empty());
}

#[test]
fn directories_are_recursed_one_object_per_file_in_order() {
    let out = vigie(&[
        "scan",
        "--json",
        "--threads",
        "2",
        &fixtures().join("posts").display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let count = std::fs::read_dir(fixtures().join("posts")).unwrap().count();
    assert_eq!(lines.len(), count);
    let paths: Vec<&str> = lines.iter().map(|r| r["path"].as_str().unwrap()).collect();
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted);
    // The same reports on one thread.
    let single = vigie(&[
        "scan",
        "--json",
        "--threads",
        "1",
        &fixtures().join("posts").display().to_string(),
    ]);
    let single: Vec<Value> = String::from_utf8(single.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines, single);
}

#[test]
fn large_stream_hits_across_window_borders() {
    // Place names and NIRs across every 1 MiB window border of a 5 MiB stream.
    let filler = "Lorem ipsum dolor sit amet, forum post text sans rien d'interessant. ".repeat(20);
    let mut text = String::new();
    let mut planted = 0;
    let window = 1 << 20;
    while text.len() < 5 * window {
        text.push_str(&filler);
        let next_border = (text.len() / window + 1) * window;
        if next_border - text.len() < 2000 {
            // Pad so that the name straddles the border.
            while text.len() < next_border - 5 {
                text.push('x');
            }
            text.push_str(" Medecin Direct base, NIR 1 85 05 75 123 456 73 ok\n");
            planted += 1;
        }
    }
    let out = vigie_stdin(&["scan", "--json", "--threads", "2", "-"], text.as_bytes());
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(planted >= 4);
    assert_eq!(
        r["entities"][0]["matches"].as_array().unwrap().len(),
        planted
    );
    for m in r["entities"][0]["matches"].as_array().unwrap() {
        let (s, e) = (
            m["start"].as_u64().unwrap() as usize,
            m["end"].as_u64().unwrap() as usize,
        );
        assert_eq!(&text[s..e], "Medecin Direct");
    }
    assert_eq!(r["identifiers"]["nir"]["valid"], 1, "same NIR counted once");
    assert_eq!(r["bytes"].as_u64().unwrap() as usize, text.len());
}

#[test]
fn bad_input_gives_clear_errors() {
    let out = vigie(&["scan", "/nonexistent/path"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/path"));
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.toml");
    std::fs::write(
        &broken,
        "[[entity]]\nid = \"x\"\nname = \"X\"\ncategory = \"spaceship\"\n",
    )
    .unwrap();
    let out = vigie(&[
        "scan",
        "--watchlists",
        &broken.display().to_string(),
        &post("clean_prose.txt"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("broken.toml") && err.contains("spaceship"),
        "{err}"
    );
    // Hostile HTML: deep nesting and an unterminated script do not hang or panic.
    let hostile = format!(
        "<html><body>{}CHU de Rennes<script>",
        "<div><b>".repeat(200_000)
    );
    let out = vigie_stdin(&["scan", "--json", "-"], hostile.as_bytes());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(entity_ids(&r), ["chu-rennes"]);
    // The page that once ran for minutes: end tags the parser ignores, so the tree is as deep
    // as the page is long while tags look balanced.
    let ignored = format!(
        "<html><body>{}Vente base CHU de Rennes</body></html>",
        "<div></x>".repeat(200_000)
    );
    let out = vigie_stdin(&["scan", "--json", "-"], ignored.as_bytes());
    assert_eq!(out.status.code(), Some(0));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(entity_ids(&r), ["chu-rennes"]);
}

#[test]
fn source_kind_leak_site_makes_a_victim_entry_a_claim() {
    // A victim entry as a leak site shows it: a name and a date, no leak vocabulary.
    let entry = b"Victim: Centre Hospitalier de Dax\nUploaded: 2026-03-02\n";
    let out = vigie_stdin(
        &["scan", "--json", "--source-kind", "leak-site", "-"],
        entry,
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["kind"], "ransomware_claim", "{r}");
    assert_eq!(r["leak_offer"], true);
    assert_eq!(r["severity"], "critical", "{r}");
    let out = vigie_stdin(&["scan", "--json", "-"], entry);
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_ne!(r["kind"], "ransomware_claim", "{r}");
    let out = vigie_stdin(&["scan", "--source-kind", "leak-site", "-"], entry);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("-: critical  ransomware_claim  [leak offer]"),
        "{text}"
    );
    let out = vigie_stdin(&["scan", "--source-kind", "bogus", "-"], entry);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}

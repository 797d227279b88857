//! Identifiers in rows: delimited patient files in the usual layouts (date of birth before
//! the NIR, quoted fields, CRLF, Windows-1252, UTF-16 with a byte-order mark, French
//! headers), SQL dumps and JSON, and already-split rows. Expected counts are written by hand
//! from the rows below; NIR keys come from `nir()`, a helper written here independently of
//! the code under test.

use vigie_core::{Category, ColumnCount, IdentifierKind as K, Report};
use vigie_match::{scan_rows, Entity, Matcher, ScanOptions};

/// A NIR from its 13-digit body: key = 97 − (body mod 97), Corsica's 2A read as 19 and 2B
/// as 18 for the key only.
fn nir(body: &str) -> String {
    assert_eq!(body.len(), 13);
    let numeric = match &body[5..7] {
        "2A" => format!("{}19{}", &body[..5], &body[7..]),
        "2B" => format!("{}18{}", &body[..5], &body[7..]),
        _ => body.to_string(),
    };
    let n: u64 = numeric.parse().unwrap();
    format!("{body}{:02}", 97 - n % 97)
}

/// The same NIR with a key off by one: a decoy.
fn decoy(body: &str) -> String {
    let good = nir(body);
    let key: u32 = good[13..].parse().unwrap();
    format!("{body}{:02}", if key == 97 { 1 } else { key + 1 })
}

/// Windows-1252 bytes of a text whose only non-ASCII characters are French accents and `°`.
fn cp1252(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            'é' => 0xE9,
            'è' => 0xE8,
            'ê' => 0xEA,
            'à' => 0xE0,
            'ç' => 0xE7,
            'ô' => 0xF4,
            '°' => 0xB0,
            'É' => 0xC9,
            c if c.is_ascii() => c as u8,
            c => panic!("no Windows-1252 byte written for {c}"),
        })
        .collect()
}

fn matcher() -> Matcher {
    Matcher::from_entities(vec![Entity {
        id: "chu-test".into(),
        name: "Centre Hospitalier de Testville".into(),
        category: Category::Hospital,
        aliases: vec![],
        domains: vec!["chu-testville.fr".into()],
        finess: vec![],
        strict: false,
        strict_aliases: vec![],
        notify: vec![],
    }])
    .unwrap()
}

fn counts(r: &Report, kind: K) -> (u64, u64) {
    r.identifiers
        .get(&kind)
        .map_or((0, 0), |c| (c.valid, c.invalid))
}

fn column<'a>(r: &'a Report, name: &str, kind: K) -> Option<&'a ColumnCount> {
    r.sample
        .as_ref()?
        .column_counts
        .iter()
        .find(|c| c.name == name && c.kind == kind)
}

fn column_counts(r: &Report, name: &str, kind: K) -> (u64, u64) {
    column(r, name, kind).map_or((0, 0), |c| (c.valid, c.invalid))
}

const N1: &str = "1620499109993"; // the issue's 162049910999331
const N2: &str = "2850575123456";
const N3: &str = "1750133012345";
const N4: &str = "285052A123456"; // born in Corse-du-Sud
const N5: &str = "2911269123789";
const N6: &str = "1440999001002";

#[test]
fn helper_agrees_with_the_issue() {
    assert_eq!(nir(N1), "162049910999331");
}

#[test]
fn issue_lines_each_give_one_nir() {
    let m = matcher();
    for line in [
        "1962,162049910999331,x",
        "25/04/1962 162049910999331 x",
        "Lucas,162049910999331,x",
        "1962;162049910999331;x",
        "1962|162049910999331|x",
        // The other way round, and dashed or dotted dates.
        "162049910999331 25/04/1962 x",
        "1962-04-25 162049910999331 x",
        "25.04.1962 162049910999331 x",
        "25/04/1962,162049910999331,x",
    ] {
        let r = m.scan_text("t", line, ScanOptions::default());
        assert_eq!(counts(&r, K::Nir), (1, 0), "{line}");
    }
    // Decimals stay decimals; a number of another length after a comma is no NIR.
    let r = m.scan_text(
        "t",
        "prix 0,05 BTC; 1962,16204991099933,x",
        ScanOptions::default(),
    );
    assert_eq!(counts(&r, K::Nir), (0, 0));
    assert_eq!(r.identifiers.get(&K::Siret).map_or(0, |c| c.valid), 0);
}

#[test]
fn comma_file_with_birth_date_before_nir_quotes_and_crlf() {
    let m = matcher();
    let text = format!(
        "nom,prenom,date_naissance,nir,telephone\r\n\
         \"Dupont, Jean\",Jean,25/04/1962,{},0612345678\r\n\
         Martin,\"Anne \"\"Nanou\"\"\",12/05/1985,{},0698765432\r\n\
         Durand,Paul,01/01/1975,{},+33 6 11 22 33 44\r\n\
         Petit,Luc,30/11/1985,{},06.55.44.33.22\r\n\
         Moreau,Léa,15/08/1962,{},0611111111\r\n\
         Roux,Eva,02/02/1962,1620499109993,0622222222\r\n",
        nir(N1),
        nir(N2),
        nir(N3),
        nir(N4),
        decoy(N1)
    );
    let r = m.scan_text("patients.csv", &text, ScanOptions::default());
    // Four valid NIRs (Corsica's included), one decoy; the 13-digit value is no NIR.
    assert_eq!(counts(&r, K::Nir), (4, 1));
    assert_eq!(counts(&r, K::Phone), (6, 0));
    let s = r.sample.as_ref().expect("a sample");
    assert_eq!(s.rows, 6);
    assert_eq!(s.delimiter, ",");
    assert_eq!(
        s.columns,
        ["nom", "prenom", "date_naissance", "nir", "telephone"]
    );
    assert_eq!(column_counts(&r, "nir", K::Nir), (4, 1));
    assert_eq!(column(&r, "nir", K::Nir).map(|c| c.column), Some(3));
    assert_eq!(column_counts(&r, "telephone", K::Phone), (6, 0));
    assert_eq!(s.column_counts.len(), 2, "{:?}", s.column_counts);
}

#[test]
fn semicolon_windows_1252_file_with_finess_and_phones_without_zero() {
    let m = matcher();
    let text = format!(
        "Nom;Prénom;Né le;N° Sécu;Téléphone;FINESS établissement\r\n\
         Lefèvre;Hélène;03/03/1962;{};612345678;750712184\r\n\
         Garçon;Jérôme;04/04/1985;{};0698765432;690781810\r\n\
         Bé;Noé;05/05/1975;{};145678901;750712185\r\n",
        nir(N5),
        nir(N6),
        nir(N2)
    );
    let bytes = cp1252(&text);
    assert!(std::str::from_utf8(&bytes).is_err());
    let a = m.analyze("export.csv", &bytes, ScanOptions::default());
    let r = &a.report;
    assert_eq!(counts(r, K::Nir), (3, 0));
    // 612345678 and 145678901 lost their leading zero in a spreadsheet.
    assert_eq!(counts(r, K::Phone), (3, 0));
    assert_eq!(counts(r, K::Finess), (2, 1));
    let s = r.sample.as_ref().expect("a sample");
    assert_eq!(s.delimiter, ";");
    assert_eq!(
        s.columns,
        [
            "nom",
            "prénom",
            "né le",
            "n° sécu",
            "téléphone",
            "finess établissement"
        ]
    );
    assert_eq!(column_counts(r, "n° sécu", K::Nir), (3, 0));
    assert_eq!(column_counts(r, "téléphone", K::Phone), (3, 0));
    assert_eq!(column_counts(r, "finess établissement", K::Finess), (2, 1));
    // Streamed, the same file decodes the same way.
    let streamed = m
        .scan_reader("export.csv", bytes.as_slice(), ScanOptions::default())
        .unwrap();
    assert_eq!(streamed.sample, r.sample);
    assert_eq!(counts(&streamed, K::Nir), (3, 0));
}

#[test]
fn utf16_tab_file_with_a_long_french_header() {
    let m = matcher();
    let text = format!(
        "nom\tnuméro de sécurité sociale\tville\r\nAubert\t{}\tAjaccio\r\nBlanc\t{}\tLyon\r\nCaron\t{}\tLille\r\n",
        nir(N4),
        nir(N3),
        nir(N1)
    );
    let mut le = vec![0xFF, 0xFE];
    le.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let mut be = vec![0xFE, 0xFF];
    be.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
    for bytes in [le, be] {
        let r = m
            .analyze("export.txt", &bytes, ScanOptions::default())
            .report;
        assert_eq!(counts(&r, K::Nir), (3, 0));
        let s = r.sample.as_ref().expect("a sample");
        assert_eq!(s.delimiter, "\t");
        assert_eq!(s.columns, ["nom", "numéro de sécurité sociale", "ville"]);
        assert_eq!(
            column_counts(&r, "numéro de sécurité sociale", K::Nir),
            (3, 0)
        );
    }
}

#[test]
fn headers_num_ss_nir_and_ins() {
    let m = matcher();
    for header in ["num_ss", "NIR", "INS", "n° sécu", "nir"] {
        let text = format!(
            "{header}|nom|ddn\n{}|A|1962\n{}|B|1985\n{}|C|1975\n",
            nir(N1),
            nir(N2),
            decoy(N3)
        );
        let r = m.scan_text("t", &text, ScanOptions::default());
        assert_eq!(counts(&r, K::Nir), (2, 1), "{header}");
        let name = header.to_lowercase();
        assert_eq!(column_counts(&r, &name, K::Nir), (2, 1), "{header}");
    }
}

#[test]
fn no_header_birth_year_before_nir_every_delimiter() {
    let m = matcher();
    for delim in [",", ";", "|", "\t"] {
        let text = [N1, N2, N3, N5]
            .iter()
            .map(|b| format!("1962{delim}{}{delim}x\n", nir(b)))
            .collect::<String>();
        let r = m.scan_text("t", &text, ScanOptions::default());
        assert_eq!(counts(&r, K::Nir), (4, 0), "{delim:?}");
        let s = r.sample.as_ref().expect("a sample");
        assert_eq!(s.rows, 4);
        assert_eq!(s.columns, ["number", "nir", "name"], "{delim:?}");
        assert_eq!(column_counts(&r, "nir", K::Nir), (4, 0));
    }
}

#[test]
fn free_text_post_keeps_grouped_numbers() {
    let m = matcher();
    let n = nir(N2);
    let spaced = format!(
        "{} {} {} {} {} {} {}",
        &n[..1],
        &n[1..3],
        &n[3..5],
        &n[5..7],
        &n[7..10],
        &n[10..13],
        &n[13..]
    );
    let text = format!(
        "Salut, je vends la base du Centre Hospitalier de Testville.\n\
         Exemple: Mme X née le 12/05/1985 NIR {spaced} tel 06 12 34 56 78.\n\
         Prix 2 BTC, contact en MP.\n"
    );
    let r = m.scan_text("post", &text, ScanOptions::default());
    assert_eq!(counts(&r, K::Nir), (1, 0));
    assert_eq!(counts(&r, K::Phone), (1, 0));
    assert!(r.sample.is_none());
}

#[test]
fn bracketed_titles_and_menus_are_not_rows() {
    let m = matcher();
    // Starts like JSON, is a post: the phone's digit groups stay one number.
    let r = m.scan_text(
        "post",
        "[VENTE] {lot 1} contact 06 12 34 56 78\n",
        ScanOptions::default(),
    );
    assert_eq!(counts(&r, K::Phone), (1, 0));
    // A menu split by `|` on every line, one date in it: rows, but no sample.
    let r = m.scan_text(
        "page",
        "Accueil | Forum | Membres\nRègles | Aide | 12/05/2024\nProfil | Messages | Quitter\n",
        ScanOptions::default(),
    );
    assert!(r.sample.is_none());
}

#[test]
fn sql_insert_and_copy() {
    let m = matcher();
    let text = format!(
        "-- MySQL dump 10.13\n\
         CREATE TABLE `patients` (`id` int, `nom` varchar(64), `naissance` date, `nir` varchar(15), `tel` varchar(20));\n\
         INSERT INTO `patients` (`id`, `nom`, `naissance`, `nir`, `tel`) VALUES \
         (1,'O\\'Brien','1962-04-25','{}','0612345678'),(2,'D''Arc','1985-05-12',{},'06 98 76 54 32'),\
         (3,'Smith, John (Jr)','1975-01-01','{}',NULL);\n\
         COPY public.assures (id, nom, num_ss) FROM stdin;\n\
         1\tDupont\t{}\n\
         2\tMartin\t{}\n\
         \\.\n",
        nir(N1),
        nir(N2),
        decoy(N3),
        nir(N5),
        nir(N6)
    );
    let r = m.scan_text("dump.sql", &text, ScanOptions::default());
    assert_eq!(counts(&r, K::Nir), (4, 1));
    assert_eq!(counts(&r, K::Phone), (2, 0));
    let s = r.sample.as_ref().expect("a sample");
    assert_eq!(s.rows, 5);
    assert_eq!(s.delimiter, "sql");
    assert_eq!(column_counts(&r, "nir", K::Nir), (2, 1));
    assert_eq!(column_counts(&r, "num_ss", K::Nir), (2, 0));
    assert_eq!(column_counts(&r, "tel", K::Phone), (2, 0));
    assert_eq!(
        s.columns,
        ["id", "nom", "naissance", "nir", "tel", "num_ss"]
    );
}

#[test]
fn extended_insert_of_megabytes_in_windows() {
    let m = matcher();
    let n = 40_000u32;
    let mut text = String::from(
        "-- dump\nINSERT INTO `patients` (`id`,`nom`,`naissance`,`nir`,`tel`) VALUES ",
    );
    for i in 0..n {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&format!(
            "({i},'NOM{i}','19{:02}-{:02}-{:02}',{},'06{:08}')",
            40 + i % 60,
            1 + i % 12,
            1 + i % 28,
            nir(&body(i)),
            i
        ));
    }
    text.push_str(";\n");
    assert!(text.len() > 2 * vigie_match::WINDOW_BYTES);
    let streamed = m
        .scan_reader("dump.sql", text.as_bytes(), ScanOptions::default())
        .unwrap();
    let whole = m.scan_text("dump.sql", &text, ScanOptions::default());
    for r in [&streamed, &whole] {
        assert_eq!(counts(r, K::Nir), (u64::from(n), 0));
        assert_eq!(counts(r, K::Phone), (u64::from(n), 0));
        let s = r.sample.as_ref().expect("a sample");
        assert_eq!(s.rows, u64::from(n));
        assert_eq!(s.columns, ["id", "nom", "naissance", "nir", "tel"]);
    }
    // Read whole, every tuple is named by the statement's list.
    assert_eq!(column_counts(&whole, "nir", K::Nir), (u64::from(n), 0));
}

#[test]
fn insert_without_column_list() {
    let m = matcher();
    let text = format!(
        "INSERT INTO patients VALUES (1,'A',{}),(2,'B','{}'),(3,'C','{}');\n",
        nir(N1),
        nir(N2),
        nir(N3)
    );
    let r = m.scan_text("dump.sql", &text, ScanOptions::default());
    assert_eq!(counts(&r, K::Nir), (3, 0));
    let s = r.sample.as_ref().expect("a sample");
    assert_eq!(s.columns, ["number", "name", "nir"]);
}

#[test]
fn json_array_nested_and_json_lines() {
    let m = matcher();
    let text = format!(
        r#"{{"export": "2024-03-01", "patients": [
  {{"id": 1, "identite": {{"nom": "Dupont", "nir": "{}"}}, "contacts": {{"tel": "0612345678"}}}},
  {{"id": 2, "identite": {{"nom": "Martin \"Nanou\"", "nir": {}}}, "contacts": {{"tel": "06 98 76 54 32"}}}},
  {{"id": 3, "identite": {{"nom": "Durand", "nir": "{}"}}, "contacts": {{}}}}
]}}"#,
        nir(N1),
        nir(N2),
        decoy(N3)
    );
    let r = m.scan_text("export.json", &text, ScanOptions::default());
    assert_eq!(counts(&r, K::Nir), (2, 1));
    assert_eq!(counts(&r, K::Phone), (2, 0));
    let s = r.sample.as_ref().expect("a sample");
    assert_eq!(s.rows, 3);
    assert_eq!(s.delimiter, "json");
    assert_eq!(column_counts(&r, "identite.nir", K::Nir), (2, 1));
    assert_eq!(column_counts(&r, "contacts.tel", K::Phone), (2, 0));

    let lines = format!(
        "{{\"nom\":\"A\",\"ins\":\"{}\"}}\n{{\"nom\":\"B\",\"ins\":\"{}\"}}\n{{\"nom\":\"C\",\"ins\":\"{}\"}}\n",
        nir(N4),
        nir(N5),
        nir(N6)
    );
    let r = m.scan_text("export.jsonl", &lines, ScanOptions::default());
    assert_eq!(counts(&r, K::Nir), (3, 0));
    assert_eq!(column_counts(&r, "ins", K::Nir), (3, 0));
}

#[test]
fn already_split_rows() {
    let header: Vec<String> = ["Nom", "NIR", "Téléphone"].map(String::from).to_vec();
    let rows: Vec<Vec<String>> = [
        ["Dupont", &nir(N1), "612345678"],
        ["1962", &nir(N2), "0698765432"],
        ["Durand", &decoy(N3), ""],
    ]
    .iter()
    .map(|r| r.iter().map(|c| c.to_string()).collect())
    .collect();
    let scan = scan_rows(Some(&header), &rows);
    assert_eq!(scan.rows(), 3);
    let ids = scan.identifiers();
    assert_eq!((ids[&K::Nir].valid, ids[&K::Nir].invalid), (2, 1));
    assert_eq!(ids[&K::Phone].valid, 2);
    let s = scan.sample().expect("a sample");
    assert_eq!(s.columns, ["nom", "nir", "téléphone"]);

    // The header as the first row, through the matcher: a whole report.
    let mut with_header = vec![header.clone()];
    with_header.extend(rows.iter().cloned());
    let r = matcher().scan_rows("sheet1", None, &with_header, ScanOptions::default());
    assert_eq!(counts(&r, K::Nir), (2, 1));
    assert_eq!(column_counts(&r, "nir", K::Nir), (2, 1));
    assert_eq!(r.sample.as_ref().map(|s| s.rows), Some(3));
    // Cells are never glued: a year cell next to the NIR cell changes nothing, and neither
    // does a tab or a line break inside a cell.
    let glued = vec![vec!["1962".to_string(), format!("x\t{}\ny", nir(N5))]];
    let r = matcher().scan_rows("sheet2", None, &glued, ScanOptions::default());
    assert_eq!(counts(&r, K::Nir), (1, 0));
}

/// A generated body for row `i`: sex, year, month 01-12, department 01-95 (never 20),
/// commune, order 001-999.
fn body(i: u32) -> String {
    let dept = [1, 13, 33, 59, 69, 75, 92, 95][(i % 8) as usize];
    format!(
        "{}{:02}{:02}{:02}{:03}{:03}",
        1 + i % 2,
        40 + i % 60,
        1 + i % 12,
        dept,
        i / 1000 % 1000,
        1 + i % 999
    )
}

#[test]
fn large_file_in_windows_counts_like_whole() {
    let m = matcher();
    let rows = 40_000u32;
    let mut text = String::from("nom;prenom;date_naissance;nir;commentaire\n");
    let mut valid = std::collections::HashSet::new();
    let mut invalid = std::collections::HashSet::new();
    for i in 0..rows {
        let b = body(i);
        let value = if i % 10 == 9 { decoy(&b) } else { nir(&b) };
        if i % 10 == 9 {
            invalid.insert(value.clone());
        } else {
            valid.insert(value.clone());
        }
        text.push_str(&format!(
            "NOM{i};\"Prénom; composé\";{:02}/{:02}/19{:02};{value};\"note\nsur deux lignes\"\n",
            1 + i % 28,
            1 + i % 12,
            40 + i % 60
        ));
    }
    assert!(text.len() > 3 * vigie_match::WINDOW_BYTES);
    let whole = m.scan_text("big.csv", &text, ScanOptions::default());
    let streamed = m
        .scan_reader(
            "big.csv",
            std::io::Cursor::new(text.as_bytes()),
            ScanOptions::default(),
        )
        .unwrap();
    for r in [&whole, &streamed] {
        assert_eq!(
            counts(r, K::Nir),
            (valid.len() as u64, invalid.len() as u64)
        );
        let s = r.sample.as_ref().expect("a sample");
        assert_eq!(s.rows, u64::from(rows));
        assert_eq!(
            column_counts(r, "nir", K::Nir),
            (valid.len() as u64, invalid.len() as u64)
        );
    }
}

#[test]
fn nir_counts_exact_whatever_the_column_order() {
    let m = matcher();
    let names = ["nom", "date_naissance", "nir", "telephone", "annee"];
    let people = [
        [
            "Dupont".to_string(),
            "25/04/1962".to_string(),
            nir(N1),
            "0612345678".into(),
            "1962".into(),
        ],
        [
            "Martin".to_string(),
            "12/05/1985".to_string(),
            nir(N2),
            "0698765432".into(),
            "1985".into(),
        ],
        [
            "Durand".to_string(),
            "01/01/1975".to_string(),
            nir(N3),
            "0611223344".into(),
            "1975".into(),
        ],
        [
            "Petit".to_string(),
            "30/11/1985".to_string(),
            decoy(N5),
            "0655443322".into(),
            "1985".into(),
        ],
    ];
    // Every rotation and its reverse: the NIR after a date, a year, a phone, a name, or first.
    for shift in 0..names.len() {
        for reverse in [false, true] {
            let mut order: Vec<usize> = (0..names.len())
                .map(|i| (i + shift) % names.len())
                .collect();
            if reverse {
                order.reverse();
            }
            for (delim, header) in [
                (",", true),
                (",", false),
                (";", true),
                ("|", false),
                ("\t", true),
            ] {
                let mut text = String::new();
                if header {
                    text += &order
                        .iter()
                        .map(|&i| names[i])
                        .collect::<Vec<_>>()
                        .join(delim);
                    text += "\n";
                }
                for p in &people {
                    text += &order
                        .iter()
                        .map(|&i| p[i].to_string())
                        .collect::<Vec<_>>()
                        .join(delim);
                    text += "\n";
                }
                let r = m.scan_text("t", &text, ScanOptions::default());
                assert_eq!(counts(&r, K::Nir), (3, 1), "{text}");
                assert_eq!(counts(&r, K::Phone), (4, 0), "{text}");
                // The same rows after a teaser (free text: too few lines are rows).
                let post = format!(
                    "Vends base patients, échantillon ci-dessous.\nPrix en MP, paiement BTC.\nContact: tox.\n\n{text}"
                );
                let r = m.scan_text("post", &post, ScanOptions::default());
                assert_eq!(counts(&r, K::Nir), (3, 1), "{post}");
            }
        }
    }
}

mod hostile {
    use super::*;
    use proptest::prelude::*;

    /// Text made of the bytes the row readers treat specially, digits, and a NIR now and then.
    fn tricky() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just(",".to_string()),
            Just(";".to_string()),
            Just("|".to_string()),
            Just("\t".to_string()),
            Just("\n".to_string()),
            Just("\r\n".to_string()),
            Just("\"".to_string()),
            Just("'".to_string()),
            Just("\\".to_string()),
            Just("(".to_string()),
            Just(")".to_string()),
            Just("{".to_string()),
            Just("}".to_string()),
            Just("[".to_string()),
            Just("]".to_string()),
            Just(":".to_string()),
            Just("é".to_string()),
            Just("\\u00e9".to_string()),
            Just("\\ud83d".to_string()),
            Just("INSERT INTO t (a, nir) VALUES ".to_string()),
            Just("COPY t (a, nir) FROM stdin;\n".to_string()),
            Just("\\.\n".to_string()),
            Just("nir".to_string()),
            Just("NULL".to_string()),
            Just(nir(N1)),
            Just("25/04/1962".to_string()),
            "[0-9]{1,16}",
            "[a-z]{1,6}",
        ];
        prop::collection::vec(piece, 0..200).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        /// No input makes a reader (delimited, SQL, JSON, cells) panic, and every byte is
        /// accounted for.
        #[test]
        fn readers_never_panic(text in tricky()) {
            let m = matcher();
            let r = m.scan_text("t", &text, ScanOptions::default());
            prop_assert_eq!(r.bytes as usize, text.len());
            let _ = m.analyze("t", text.as_bytes(), ScanOptions::default());
            let rows: Vec<Vec<String>> = text.lines().map(|l| l.split(';').map(String::from).collect()).collect();
            let _ = scan_rows(None, &rows);
        }
    }
}

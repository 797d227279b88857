//! What vigie-unpack returns fits the matcher: the text through `Matcher::scan_text`, the
//! sheets through `vigie_match::scan_rows` (column-aware counts). Expected counts come from
//! the generator (30 patients, 5 of them printed in the PDF), not from either crate.

use std::io::Write;
use std::path::Path;

use vigie_core::{IdentifierKind, Severity};
use vigie_match::{scan_rows, Matcher, ScanOptions, Watchlist};
use vigie_unpack::{unpack, Options};

fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(rel),
    )
    .expect(rel)
}

fn matcher() -> Matcher {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../watchlists");
    let files = vigie_match::watchlist_files(&dir).expect("watchlists");
    Matcher::new(&Watchlist::load(&files).expect("watchlist")).expect("matcher")
}

fn valid_nirs(m: &Matcher, text: &[u8]) -> u64 {
    let r = m.scan_text("x", &String::from_utf8_lossy(text), ScanOptions::default());
    r.identifiers
        .get(&IdentifierKind::Nir)
        .map_or(0, |c| c.valid)
}

#[test]
fn every_packaging_of_the_patient_file_yields_its_30_nirs() {
    let m = matcher();
    let post = Options::default()
        .with_post_text(&String::from_utf8_lossy(&fixture("generated/post_fr.txt")));
    for (file, want) in [
        ("patients.csv", 30),
        ("stored.zip", 30),
        ("deflate.zip", 30),
        ("bzip2.zip", 30),
        ("zstd.zip", 30),
        ("zipcrypto.zip", 30),
        ("aes.zip", 30),
        ("patients.7z", 30),
        ("patients_aes.7z", 30),
        ("patients.tar.gz", 30),
        ("patients.xlsx", 30),
        ("patients.ods", 30),
        ("text.pdf", 5),
    ] {
        let x = unpack(file, &fixture(&format!("generated/{file}")), &post).expect(file);
        assert_eq!(valid_nirs(&m, &x.text), want, "{file}");
    }
}

#[test]
fn sheets_feed_column_aware_counts() {
    for file in ["patients.xlsx", "patients.ods"] {
        let x = unpack(
            file,
            &fixture(&format!("generated/{file}")),
            &Options::default(),
        )
        .unwrap();
        let t = &x.tables[0];
        let counts = scan_rows(t.header.as_deref(), &t.rows).column_counts();
        let nir = counts
            .iter()
            .find(|c| c.kind == IdentifierKind::Nir)
            .unwrap_or_else(|| panic!("{file}: no NIR column in {counts:?}"));
        assert_eq!(
            (nir.column, nir.name.as_str(), nir.valid, nir.invalid),
            (3, "nir", 30, 0),
            "{file}"
        );
    }
}

/// Distinct NIRs (commune and order number from `i`, order never 000) with their key computed
/// here (97 − n mod 97), independent of the matcher's validator.
fn nir(i: u32) -> String {
    let body = format!(
        "1{:02}{:02}75{:03}{:03}",
        50 + i % 40,
        1 + i % 12,
        100 + i / 999,
        1 + i % 999
    );
    let n: u64 = body.parse().unwrap();
    format!("{body}{:02}", 97 - n % 97)
}

fn big_xlsx(rows: u32) -> Vec<u8> {
    let mut sheet = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>nom</t></is></c><c r="B1" t="inlineStr"><is><t>date_naissance</t></is></c><c r="C1" t="inlineStr"><is><t>nir</t></is></c></row>"#,
    );
    for i in 0..rows {
        let r = i + 2;
        sheet.push_str(&format!(
            r#"<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>Patient{i}</t></is></c><c r="B{r}" t="inlineStr"><is><t>{:02}/{:02}/19{:02}</t></is></c><c r="C{r}"><v>{}</v></c></row>"#,
            1 + i % 28, 1 + i % 12, 50 + i % 40, nir(i)
        ));
    }
    sheet.push_str("</sheetData></worksheet>");
    let parts: [(&str, &str); 4] = [
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#,
        ),
        (
            "_rels/.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
        ),
        (
            "xl/workbook.xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Export" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
        ),
        (
            "xl/_rels/workbook.xml.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#,
        ),
    ];
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let o = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, body) in parts {
        w.start_file(name, o).unwrap();
        w.write_all(body.as_bytes()).unwrap();
    }
    w.start_file("xl/worksheets/sheet1.xml", o).unwrap();
    w.write_all(sheet.as_bytes()).unwrap();
    w.finish().unwrap().into_inner()
}

#[test]
fn a_50000_row_workbook_behind_a_one_line_teaser_is_critical() {
    let xlsx = big_xlsx(50_000);
    let x = unpack("export_patients.xlsx", &xlsx, &Options::default()).unwrap();
    let t = &x.tables[0];
    assert_eq!(t.rows.len(), 50_000);
    let counts = scan_rows(t.header.as_deref(), &t.rows).column_counts();
    let nir = counts
        .iter()
        .find(|c| c.kind == IdentifierKind::Nir)
        .expect("NIR column");
    assert_eq!((nir.valid, nir.invalid), (50_000, 0));
    let m = matcher();
    let mut doc = "Base patients du CHU de Bordeaux, 50k lignes, prix 2 BTC, contact tox\n"
        .as_bytes()
        .to_vec();
    doc.extend_from_slice(&x.text);
    let r = m.scan_text(
        "teaser",
        &String::from_utf8_lossy(&doc),
        ScanOptions::default(),
    );
    let valid = r
        .identifiers
        .get(&IdentifierKind::Nir)
        .map_or(0, |c| c.valid);
    assert_eq!(valid, 50_000, "{:?}", r.why);
    assert_eq!(r.severity, Severity::Critical, "{:?}", r.why);
}

//! One test per cap: each would fail if the cap were not enforced.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use vigie_unpack::{unpack, Format, Limits, Options, UnpackError};

fn fixture(rel: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn zip_of(entries: &[(&str, &[u8])], method: zip::CompressionMethod) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(method);
    for (name, data) in entries {
        w.start_file(*name, options).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn deflated(entries: &[(&str, &[u8])]) -> Vec<u8> {
    zip_of(entries, zip::CompressionMethod::Deflated)
}

fn with(limits: Limits) -> Options {
    Options {
        limits,
        passwords: Vec::new(),
    }
}

#[test]
fn a_zip_bomb_is_refused_without_expanding_it() {
    // 64 MiB of zeros deflate to about 64 KiB: a ratio near 1,000.
    let zeros = vec![0u8; 64 << 20];
    let bomb = deflated(&[("payload.bin", &zeros)]);
    assert!(bomb.len() < 200_000);
    let err = unpack("cadeau.zip", &bomb, &Options::default()).unwrap_err();
    assert!(matches!(err, UnpackError::Refused(_)));
    assert!(err.to_string().contains("zip bomb"), "{err}");
    // The same bomb one level down refuses the whole sample.
    let outer = zip_of(&[("inner.zip", &bomb)], zip::CompressionMethod::Stored);
    let err = unpack("outer.zip", &outer, &Options::default()).unwrap_err();
    assert!(err.to_string().contains("zip bomb"), "{err}");
}

#[test]
fn entry_count_and_total_size_are_bounded() {
    let many: Vec<(String, Vec<u8>)> = (0..20)
        .map(|i| (format!("f{i}.txt"), vec![b'a' + (i % 26) as u8; 1000]))
        .collect();
    let refs: Vec<(&str, &[u8])> = many
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    let z = deflated(&refs);
    let err = unpack(
        "m.zip",
        &z,
        &with(Limits {
            max_entries: 10,
            ..Limits::default()
        }),
    )
    .unwrap_err();
    assert!(err.to_string().contains("20 entries"), "{err}");
    let err = unpack(
        "m.zip",
        &z,
        &with(Limits {
            max_total: 5_000,
            ..Limits::default()
        }),
    )
    .unwrap_err();
    assert!(err.to_string().contains("more than 5000 bytes"), "{err}");
    let ok = unpack("m.zip", &z, &Options::default()).unwrap();
    assert_eq!(ok.entries, 20);
}

#[test]
fn the_total_cap_counts_every_level_of_nesting() {
    let csv = fixture("generated/patients.csv"); // 1,576 bytes
    let inner = deflated(&[("a.csv", &csv), ("b.csv", &csv)]);
    let outer = deflated(&[("inner.zip", &inner), ("c.csv", &csv)]);
    // Outer entries: inner.zip (~1.5 KB) + c.csv; inner: 2 × 1,576. Over 4,000 in all.
    let err = unpack(
        "o.zip",
        &outer,
        &with(Limits {
            max_total: 4_000,
            ..Limits::default()
        }),
    )
    .unwrap_err();
    assert!(err.to_string().contains("more than 4000 bytes"), "{err}");
    assert!(unpack(
        "o.zip",
        &outer,
        &with(Limits {
            max_total: 8_000,
            ..Limits::default()
        })
    )
    .is_ok());
}

#[test]
fn entry_names_are_labels_and_binaries_are_recorded() {
    let z = deflated(&[
        ("dump/patients.csv", b"nom;nir\nA;1"),
        ("../../etc/passwd", b"root:x:0:0"),
        ("photo.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"),
    ]);
    let x = unpack("sample.zip", &z, &Options::default()).unwrap();
    assert_eq!(x.entries, 2);
    let text = String::from_utf8(x.text).unwrap();
    assert!(text.contains("--- entry sample.zip/dump/patients.csv ---\nnom;nir\nA;1"));
    assert!(text.contains("--- entry sample.zip/../../etc/passwd ---"));
    assert_eq!(x.skipped.len(), 1);
    assert_eq!(x.skipped[0].path, "sample.zip/photo.jpg");
    assert_eq!(x.skipped[0].reason, "binary, not matched");
}

#[test]
fn broken_containers_and_plain_files() {
    let x = unpack("rows.csv", b"a;b\n1;2\n", &Options::default()).unwrap();
    assert_eq!(x.text, b"a;b\n1;2\n");
    let bin = unpack("x.bin", b"\x00\x01\x02", &Options::default()).unwrap();
    assert!(bin.text.is_empty() && bin.skipped.len() == 1);
    let err = unpack("broken.zip", b"PK\x03\x04garbage", &Options::default()).unwrap_err();
    assert!(matches!(err, UnpackError::Unreadable(_)));
    assert!(err.to_string().contains("not a readable ZIP"), "{err}");
    // UTF-16 with a BOM is text despite its NUL bytes.
    let utf16: Vec<u8> = [0xff, 0xfe]
        .into_iter()
        .chain("nir".encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let x = unpack("export", &utf16, &Options::default()).unwrap();
    assert_eq!(x.files[0].format, Format::Text);
}

#[test]
fn the_time_cap_leaves_entries_recorded_not_read() {
    let z = fixture("generated/deflate.zip");
    let x = unpack(
        "deflate.zip",
        &z,
        &with(Limits {
            max_time: Duration::ZERO,
            ..Limits::default()
        }),
    )
    .unwrap();
    assert!(x.text.is_empty());
    assert_eq!(x.skipped.len(), 1);
    assert!(x.skipped[0].reason.contains("time cap"), "{:?}", x.skipped);
}

#[test]
fn the_cell_cap_cuts_a_sheet_and_says_so() {
    let xlsx = fixture("generated/patients.xlsx"); // Patients: 31 rows × 5 cells, Notes: 1 cell
    let x = unpack(
        "p.xlsx",
        &xlsx,
        &with(Limits {
            max_cells: 50,
            ..Limits::default()
        }),
    )
    .unwrap();
    let cells: usize = x
        .tables
        .iter()
        .map(|t| t.rows.iter().map(Vec::len).sum::<usize>() + t.header.as_ref().map_or(0, Vec::len))
        .sum();
    assert_eq!(cells, 50);
    assert!(
        x.skipped
            .iter()
            .any(|s| s.path == "p.xlsx#Patients" && s.reason.contains("cell cap of 50 reached")),
        "{:?}",
        x.skipped
    );
}

#[test]
fn the_column_cap_drops_cells_to_the_right() {
    let xlsx = fixture("generated/patients.xlsx");
    let x = unpack(
        "p.xlsx",
        &xlsx,
        &with(Limits {
            max_columns: 3,
            ..Limits::default()
        }),
    )
    .unwrap();
    let patients = &x.tables[0];
    assert_eq!(
        patients.header.as_deref(),
        Some(
            &[
                "nom".to_string(),
                "prenom".to_string(),
                "date_naissance".to_string()
            ][..]
        )
    );
    assert!(patients.rows.iter().all(|r| r.len() == 3));
    // Columns D (nir) and E (telephone) of 31 rows.
    assert!(
        x.skipped
            .iter()
            .any(|s| s.reason == "62 cells right of column 3: dropped"),
        "{:?}",
        x.skipped
    );
}

#[test]
fn the_pdf_page_cap_reads_only_the_first_pages() {
    let pdf = fixture("generated/text.pdf");
    let x = unpack(
        "t.pdf",
        &pdf,
        &with(Limits {
            max_pdf_pages: 1,
            ..Limits::default()
        }),
    )
    .unwrap();
    let text = String::from_utf8(x.text).unwrap();
    assert!(text.contains("Martin;Marie;196026720540311"), "{text}");
    assert!(!text.contains("Page 2"), "{text}");
    assert!(text.contains("[first 1 of 2 pages read]"), "{text}");
}

#[test]
fn the_pdf_time_cap_abandons_the_parser() {
    let pdf = fixture("generated/text_flate.pdf");
    let x = unpack(
        "s.pdf",
        &pdf,
        &with(Limits {
            pdf_time: Duration::ZERO,
            ..Limits::default()
        }),
    )
    .unwrap();
    assert!(x.text.is_empty());
    assert!(x.skipped[0].reason.contains("time cap"), "{:?}", x.skipped);
}

/// Same-length edits keep the cross-reference offsets valid.
fn edited(pdf: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let at = pdf
        .windows(from.len())
        .position(|w| w == from)
        .expect("pattern");
    let mut out = pdf.to_vec();
    out[at..at + to.len()].copy_from_slice(to);
    out
}

#[test]
fn a_panic_in_the_pdf_parser_is_caught_and_reported() {
    // pdf-extract `expect`s a MediaBox on every page.
    let pdf = edited(
        &fixture("generated/text.pdf"),
        b"/MediaBox [0 0 595 842]",
        b"                       ",
    );
    let x = unpack("p.pdf", &pdf, &Options::default()).unwrap();
    assert!(
        x.skipped[0].reason.contains("panic caught"),
        "{:?}",
        x.skipped
    );
}

#[test]
fn a_page_tree_loop_is_refused_not_followed() {
    // The first page (object 4) names itself as its parent; without a MediaBox the extractor
    // would climb Parent links forever.
    let pdf = edited(
        &fixture("generated/text.pdf"),
        b"/Parent 2 0 R /MediaBox [0 0 595 842]",
        b"/Parent 4 0 R                        ",
    );
    let x = unpack("p.pdf", &pdf, &Options::default()).unwrap();
    assert!(
        x.skipped[0].reason.contains("page tree loops"),
        "{:?}",
        x.skipped
    );
}

#[test]
fn post_passwords_come_after_configured_ones_once() {
    let o = Options {
        limits: Limits::default(),
        passwords: vec!["conf".into(), "x1".into()],
    }
    .with_post_text("pass: x1 / mdp : autre");
    assert_eq!(o.passwords, vec!["conf", "x1", "autre"]);
}

#[test]
fn worth_unpacking_knows_containers_from_text() {
    for file in [
        "generated/deflate.zip",
        "generated/patients.7z",
        "generated/patients.tar.gz",
        "generated/patients.tar",
        "generated/patients.xlsx",
        "generated/text.pdf",
        "generated/patients.xls",
        "generated/patients.xlsb",
        "generated/typed.ods",
        "generated/rar4.rar",
        "generated/rar5.rar",
        "generated/zstd.zip",
    ] {
        let bytes = fixture(file);
        assert!(
            vigie_unpack::worth_unpacking(&bytes[..bytes.len().min(2048)]),
            "{file}"
        );
    }
    assert!(!vigie_unpack::worth_unpacking(&fixture(
        "generated/patients.csv"
    )));
    assert!(!vigie_unpack::worth_unpacking(b"\x00\x01binary"));
}

#[test]
fn sections_point_at_each_file_s_text_without_its_marker() {
    let x = unpack(
        "mixed.zip",
        &fixture("generated/mixed.zip"),
        &Options::default(),
    )
    .unwrap();
    let paths: Vec<&str> = x.sections.iter().map(|s| s.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "mixed.zip/patients.xlsx#Patients",
            "mixed.zip/patients.xlsx#Notes"
        ]
    );
    let first = &x.text[x.sections[0].range.clone()];
    assert!(first.starts_with(b"nom\tprenom\tdate_naissance\tnir\ttelephone\n"));
    assert_eq!(
        &x.text[x.sections[1].range.clone()],
        b"Extraction du 12/01/2024\n"
    );
    let z = unpack(
        "deflate.zip",
        &fixture("generated/deflate.zip"),
        &Options::default(),
    )
    .unwrap();
    assert_eq!(
        &z.text[z.sections[0].range.clone()],
        &fixture("generated/patients.csv")[..]
    );
}

#[test]
fn declared_sizes_that_lie_do_not_let_a_bomb_through() {
    // 64 MiB of zeros whose headers (local and central) claim 1,000 bytes.
    let zeros = vec![0u8; 64 << 20];
    let mut bomb = deflated(&[("small.txt", &zeros)]);
    let lie = 1_000u32.to_le_bytes();
    bomb[22..26].copy_from_slice(&lie);
    let central = bomb
        .windows(4)
        .position(|w| w == b"PK\x01\x02")
        .expect("central directory");
    bomb[central + 24..central + 28].copy_from_slice(&lie);
    match unpack("liar.zip", &bomb, &Options::default()) {
        Err(e) => assert!(e.to_string().contains("zip bomb"), "{e}"),
        Ok(x) => {
            // Cut at the declared size by the reader: then the CRC fails and the entry is
            // recorded, never expanded.
            assert!(x.text.len() < 1 << 20, "{} bytes expanded", x.text.len());
            assert_eq!(x.skipped.len(), 1, "{:?}", x.skipped);
        }
    }
}

/// Random bytes behind each format's magic, and random edits of generated containers: every
/// reader either reads, refuses or records the file; none takes the process down.
#[test]
fn random_bytes_behind_every_magic_never_panic() {
    let magics: [&[u8]; 8] = [
        b"PK\x03\x04",
        &[0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c, 0x00, 0x04],
        &[0x1f, 0x8b, 0x08, 0x00],
        &[0x28, 0xb5, 0x2f, 0xfd],
        &[0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1],
        b"%PDF-1.4\n",
        b"Rar!\x1a\x07\x00",
        b"BZh91AY&SY",
    ];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let options = with(Limits {
        pdf_time: Duration::from_secs(2),
        ..Limits::default()
    });
    let mut cases = 0;
    for magic in magics {
        for len in [16usize, 300, 4096] {
            for _ in 0..100 {
                let mut bytes = magic.to_vec();
                bytes.extend((0..len).map(|_| next() as u8));
                let r = std::panic::catch_unwind(|| unpack("x.bz2", &bytes, &options));
                assert!(r.is_ok(), "panic behind magic {magic:?}");
                cases += 1;
            }
        }
    }
    for file in [
        "generated/patients.xlsx",
        "generated/patients.ods",
        "generated/patients.7z",
        "generated/patients.xls",
        "generated/patients.xlsb",
        "generated/patients.tar.gz",
    ] {
        let base = fixture(file);
        for _ in 0..300 {
            let mut bytes = base.clone();
            for _ in 0..4 {
                let at = (next() as usize) % bytes.len();
                bytes[at] = next() as u8;
            }
            let r = std::panic::catch_unwind(|| unpack(file, &bytes, &options));
            assert!(r.is_ok(), "{file}: panic on an edited copy");
            cases += 1;
        }
    }
    assert_eq!(cases, 8 * 3 * 100 + 6 * 300);
}

//! Every sample under tests/fixtures/generated read against its expected TOML
//! (tests/fixtures/expected/*.toml, written by hand from the generator's intent and the files
//! themselves: the generated CSV, unzip/pdftotext/7zz listings, the hand-written XML parts).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Deserialize;
use vigie_unpack::{unpack, Limits, Options, UnpackError};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expected {
    file: String,
    #[serde(default)]
    post: Option<String>,
    #[serde(default)]
    passwords: Vec<String>,
    #[serde(default)]
    max_depth: Option<u32>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    files: Vec<(String, String)>,
    #[serde(default)]
    text_contains: Vec<String>,
    #[serde(default)]
    text_lacks: Vec<String>,
    #[serde(default)]
    skipped: Vec<ExpectedSkip>,
    #[serde(default)]
    tables: Vec<ExpectedTable>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectedSkip {
    path: String,
    reason: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectedTable {
    source: String,
    #[serde(default)]
    header: Option<Vec<String>>,
    rows: usize,
    first: Vec<String>,
    last: Vec<String>,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn check(path: &Path) -> Result<(), String> {
    let spec: Expected = toml::from_str(&std::fs::read_to_string(path).map_err(|e| e.to_string())?)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let bytes =
        std::fs::read(root().join(&spec.file)).map_err(|e| format!("{}: {e}", spec.file))?;
    let name = Path::new(&spec.file)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_string();
    let mut options = Options {
        passwords: spec.passwords.clone(),
        ..Options::default()
    };
    if let Some(d) = spec.max_depth {
        options.limits.max_depth = d;
    }
    if let Some(post) = &spec.post {
        let text = std::fs::read_to_string(root().join(post)).map_err(|e| e.to_string())?;
        options = options.with_post_text(&text);
    }
    let result = unpack(&name, &bytes, &options);
    if let Some(want) = &spec.error {
        return match result {
            Err(e) if e.to_string().contains(want.as_str()) => Ok(()),
            Err(e) => Err(format!("error {e:?} lacks {want:?}")),
            Ok(x) => Err(format!(
                "expected an error {want:?}, got {} files",
                x.files.len()
            )),
        };
    }
    let x = result.map_err(|e| format!("unexpected error: {e}"))?;
    let files: Vec<(String, String)> = x
        .files
        .iter()
        .map(|f| (f.path.clone(), format!("{:?}", f.format)))
        .collect();
    if files != spec.files {
        return Err(format!("files {files:?} != {:?}", spec.files));
    }
    let text = String::from_utf8_lossy(&x.text);
    for want in &spec.text_contains {
        if !text.contains(want.as_str()) {
            return Err(format!("text lacks {want:?}:\n{text}"));
        }
    }
    for unwanted in &spec.text_lacks {
        if text.contains(unwanted.as_str()) {
            return Err(format!("text has {unwanted:?}"));
        }
    }
    if x.skipped.len() != spec.skipped.len()
        || !x
            .skipped
            .iter()
            .zip(&spec.skipped)
            .all(|(got, want)| got.path == want.path && got.reason.contains(want.reason.as_str()))
    {
        return Err(format!("skipped {:?} != {:?}", x.skipped, spec.skipped));
    }
    for want in &spec.tables {
        let Some(t) = x.tables.iter().find(|t| t.source == want.source) else {
            let names: Vec<_> = x.tables.iter().map(|t| &t.source).collect();
            return Err(format!("no table {} among {names:?}", want.source));
        };
        if t.header != want.header
            || t.rows.len() != want.rows
            || t.rows.first() != Some(&want.first)
            || t.rows.last() != Some(&want.last)
        {
            return Err(format!(
                "table {} differs: header {:?}, {} rows, first {:?}, last {:?}",
                t.source,
                t.header,
                t.rows.len(),
                t.rows.first(),
                t.rows.last()
            ));
        }
    }
    Ok(())
}

#[test]
fn every_fixture_reads_as_expected() {
    let mut specs: Vec<PathBuf> = std::fs::read_dir(root().join("expected"))
        .expect("expected/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    specs.sort();
    assert!(specs.len() >= 20, "only {} expected files", specs.len());
    let failures: Vec<String> = specs
        .iter()
        .filter_map(|p| check(p).err().map(|e| format!("{}: {e}", p.display())))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} failed:\n{}",
        failures.len(),
        specs.len(),
        failures.join("\n\n")
    );
}

/// Crafted in the shape of calamine's regression samples (an out-of-memory .xls, a
/// repeat-count denial of service .ods, a panicking .xlsb): read or refused, never a panic,
/// within the time cap. An allocation sized from a lying count would abort the process.
#[test]
fn hostile_crafted_samples_never_panic() {
    for name in [
        "dos.ods",
        "truncated.xls",
        "huge_sst.xls",
        "garbled_cfb.xls",
        "looping_dir.xls",
        "garbled.xlsb",
    ] {
        let bytes = std::fs::read(root().join("generated").join(name)).expect(name);
        let start = Instant::now();
        let result = std::panic::catch_unwind(|| unpack(name, &bytes, &Options::default()));
        let Ok(result) = result else {
            panic!("{name}: panicked");
        };
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{name}: {:?}",
            start.elapsed()
        );
        match result {
            // Whatever was read stays small: these files hold a few cells at most.
            Ok(x) => assert!(x.text.len() < 64 << 10, "{name}: {} bytes", x.text.len()),
            Err(e) => assert!(
                matches!(e, UnpackError::Unreadable(_) | UnpackError::Refused(_)),
                "{name}: {e:?}"
            ),
        }
    }
}

/// Truncations and byte flips of every generated sample: never a panic.
#[test]
fn damaged_samples_never_panic() {
    let dir = root().join("generated");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("generated/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    names.sort();
    let options = Options {
        limits: Limits {
            pdf_time: Duration::from_secs(2),
            ..Limits::default()
        },
        passwords: vec!["Vigie-Test-2026!".into()],
    };
    let mut cases = 0;
    for path in names {
        let bytes = std::fs::read(&path).expect("fixture");
        if bytes.len() > 200_000 {
            continue;
        }
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("x")
            .to_string();
        let mut variants = Vec::new();
        for cut in [bytes.len() / 2, bytes.len() * 9 / 10, 64] {
            variants.push(bytes[..cut.min(bytes.len())].to_vec());
        }
        for step in [7usize, 61, 397] {
            let mut flipped = bytes.clone();
            let mut i = 30;
            while i < flipped.len() {
                flipped[i] ^= 0x5a;
                i += step;
            }
            variants.push(flipped);
        }
        for v in variants {
            cases += 1;
            let r = std::panic::catch_unwind(|| unpack(&name, &v, &options));
            assert!(r.is_ok(), "{name}: panicked on a damaged copy");
            if let Ok(Err(e)) = r {
                assert!(matches!(
                    e,
                    UnpackError::Refused(_) | UnpackError::Unreadable(_)
                ));
            }
        }
    }
    assert!(cases > 100, "{cases}");
}

//! `cargo bench -p vigie-match`: the matcher against a named baseline on the same text.
//!
//! - `vigie/scan_text`: the whole matcher (names with normalisation, cues, identifiers,
//!   samples) over 8 MB of generated forum-like text, with the shipped watchlists;
//! - `baseline/aho_corasick_default`: the `aho-corasick` crate with its default automaton
//!   over the same names, aliases and domains, ASCII case-insensitive, no normalisation —
//!   the number to compare with;
//! - `vigie/identifiers_heavy`, `vigie/russian` and `vigie/one_line_json`: text dense in
//!   numbers, Cyrillic text, and a minified one-line dump, which take the matcher's slower paths.

use std::path::Path;

use aho_corasick::AhoCorasick;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use vigie_match::{Matcher, ScanOptions, Watchlist};

/// A deterministic xorshift generator, so that every run scans the same bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

const FR: &[&str] = &[
    "le", "la", "les", "des", "une", "pour", "avec", "dans", "sur", "mais", "base", "données",
    "fichier", "accès", "patients", "forum", "réponse", "merci", "salut", "voici", "nouveau",
    "serveur", "compte", "semaine", "très", "bien", "rien", "encore", "déjà", "toujours",
];
const EN: &[&str] = &[
    "the", "of", "to", "and", "in", "is", "it", "for", "on", "with", "this", "that", "have",
    "from", "thread", "reply", "post", "user", "joined", "likes", "quote", "vouch", "about",
];
const RU: &[&str] = &[
    "база",
    "данных",
    "клиник",
    "доступ",
    "пациентов",
    "продажа",
    "форум",
    "ответ",
    "новый",
    "сервер",
    "неделя",
    "очень",
    "хорошо",
    "уже",
    "всегда",
];

fn text(words: &[&[&str]], names: &[String], bytes: usize, digits: bool) -> String {
    let mut rng = Rng(0x5EED_2026);
    let mut out = String::with_capacity(bytes + 1024);
    let mut next_name = 30_000;
    while out.len() < bytes {
        let list = words[(rng.next() % words.len() as u64) as usize];
        for _ in 0..12 {
            out.push_str(rng.pick(list));
            out.push(' ');
        }
        if digits {
            out.push_str(&format!(
                "{} 06{:08} ",
                rng.next() % 1_000_000_000_000_000,
                rng.next() % 100_000_000
            ));
        }
        if out.len() > next_name {
            let name = &names[(rng.next() % names.len() as u64) as usize];
            out.push_str(&if rng.next().is_multiple_of(4) {
                name.to_uppercase()
            } else {
                name.clone()
            });
            next_name += 30_000;
        }
        out.push_str(".\n");
    }
    out
}

fn bench(c: &mut Criterion) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../watchlists");
    let list = Watchlist::load(&[dir]).expect("shipped watchlists");
    let matcher = Matcher::new(&list).expect("compiles");
    let literals: Vec<String> = list
        .entities()
        .iter()
        .flat_map(|e| {
            e.names()
                .map(str::to_string)
                .chain(e.domains.iter().cloned())
                .collect::<Vec<_>>()
        })
        .collect();
    let baseline = AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(&literals)
        .expect("baseline compiles");
    let prose = text(&[FR, EN], &literals, 8 << 20, false);
    let numbers = text(&[FR, EN], &literals, 8 << 20, true);
    let russian = text(&[RU], &literals, 8 << 20, false);

    let mut g = c.benchmark_group("scan");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(prose.len() as u64));
    g.bench_function("vigie/scan_text", |b| {
        b.iter(|| matcher.scan_text("bench", &prose, ScanOptions::default()))
    });
    g.bench_function("baseline/aho_corasick_default", |b| {
        b.iter(|| baseline.find_iter(&prose).count())
    });
    g.throughput(Throughput::Bytes(numbers.len() as u64));
    g.bench_function("vigie/identifiers_heavy", |b| {
        b.iter(|| matcher.scan_text("bench", &numbers, ScanOptions::default()))
    });
    g.throughput(Throughput::Bytes(russian.len() as u64));
    g.bench_function("vigie/russian", |b| {
        b.iter(|| matcher.scan_text("bench", &russian, ScanOptions::default()))
    });
    // A minified JSON dump: one 8 MB line dense in phones and addresses (line look-ups must not
    // go back to the start of the line for every identifier).
    let mut rng = Rng(7);
    let mut one_line = String::from("[");
    while one_line.len() < 8 << 20 {
        one_line.push_str(&format!(
            "{{\"nom\":\"DUPONT\",\"tel\":\"06{:08}\",\"email\":\"x{}@chu-lyon.fr\"}},",
            rng.next() % 100_000_000,
            rng.next() % 1_000_000
        ));
    }
    one_line.push(']');
    g.throughput(Throughput::Bytes(one_line.len() as u64));
    g.bench_function("vigie/one_line_json", |b| {
        b.iter(|| matcher.scan_text("bench", &one_line, ScanOptions::default()))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

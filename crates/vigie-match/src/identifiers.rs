//! Finds identifiers in text and sorts them into valid values and look-alikes.
//!
//! One pass over the bytes finds runs of digit groups (`1 85 05 75 123 456 36`,
//! `06.12.34.56.78`, `2A`-style Corsican departments included), classifies each run by its
//! length and context, and validates it ([`crate::validate`]). A run that does not have a known
//! length is split at its group separators when the parts validate (two numbers side by side in
//! a space-separated dump). E-mails are found from their `@`, credentials from what follows an
//! e-mail or a watched URL. Lines that carry personal fields are remembered for
//! [`crate::sample`].

use std::collections::HashMap;

use ahash::AHashSet as HashSet;

use memchr::{memchr_iter, memmem};
use vigie_core::IdentifierKind;

use crate::lexicon::{Hit, Lexicon};
use crate::validate;

/// Distinct-value sets stop growing past this many values per kind; further new values are
/// still counted, without de-duplication (so counts past it are an upper bound).
pub const MAX_DISTINCT: usize = 4_000_000;

/// Raw valid values kept per kind, for examples (masked unless revealed).
pub const MAX_EXAMPLES: usize = 8;

/// A 64-bit fingerprint of a value. Distinct values are counted by fingerprint, so memory per
/// value is a few words whatever its length; a collision (about one in 2^64 per pair) would
/// under-count by one.
fn fingerprint(value: &str) -> u64 {
    // Fixed keys: windows scanned on different threads must agree.
    static STATE: std::sync::OnceLock<ahash::RandomState> = std::sync::OnceLock::new();
    STATE
        .get_or_init(|| {
            ahash::RandomState::with_seeds(0x5669_6769, 0x6520_4345, 0x5254_2053, 0x616e_7465)
        })
        .hash_one(value)
}

/// Distinct values of one kind, valid and look-alike.
#[derive(Debug, Default, Clone)]
pub struct KindValues {
    /// The first valid values, raw, in first-seen order (never leave unmasked by default).
    pub examples: Vec<String>,
    valid: HashSet<u64>,
    invalid: HashSet<u64>,
    /// Values past [`MAX_DISTINCT`], counted without de-duplication.
    pub overflow_valid: u64,
    /// Look-alikes past [`MAX_DISTINCT`].
    pub overflow_invalid: u64,
}

impl KindValues {
    fn add(&mut self, value: String, valid: bool) {
        let fp = fingerprint(&value);
        let (set, overflow) = if valid {
            (&mut self.valid, &mut self.overflow_valid)
        } else {
            (&mut self.invalid, &mut self.overflow_invalid)
        };
        if set.contains(&fp) {
            return;
        }
        if set.len() >= MAX_DISTINCT {
            *overflow += 1;
            return;
        }
        set.insert(fp);
        if valid && self.examples.len() < MAX_EXAMPLES {
            self.examples.push(value);
        }
    }

    /// Adds another window's values, keeping first-seen order for examples.
    pub fn merge(&mut self, other: KindValues) {
        for fp in other.valid {
            if self.valid.len() >= MAX_DISTINCT {
                self.overflow_valid += 1;
            } else {
                self.valid.insert(fp);
            }
        }
        for fp in other.invalid {
            if self.invalid.len() >= MAX_DISTINCT {
                self.overflow_invalid += 1;
            } else {
                self.invalid.insert(fp);
            }
        }
        for e in other.examples {
            if self.examples.len() >= MAX_EXAMPLES {
                break;
            }
            if !self.examples.contains(&e) {
                self.examples.push(e);
            }
        }
        self.overflow_valid += other.overflow_valid;
        self.overflow_invalid += other.overflow_invalid;
    }

    /// Distinct valid values (plus overflow).
    pub fn valid_count(&self) -> u64 {
        self.valid.len() as u64 + self.overflow_valid
    }

    /// Distinct look-alikes (plus overflow).
    pub fn invalid_count(&self) -> u64 {
        self.invalid.len() as u64 + self.overflow_invalid
    }
}

/// What the identifier pass found in one window.
#[derive(Debug, Default, Clone)]
pub struct IdentifierFindings {
    /// Values by kind.
    pub kinds: HashMap<IdentifierKind, KindValues>,
    /// Start offsets of lines that carry personal data, ascending, de-duplicated: an
    /// identifier (of any validity), or at least two weaker personal fields (a date, an e-mail).
    pub personal_lines: Vec<usize>,
    /// (line start, weight) marks, folded into `personal_lines` at the end of the scan.
    marks: Vec<(usize, u8)>,
    /// The last line start found, and the position it was found for: each pass moves forward,
    /// so the next look-up only searches the bytes in between (a one-line JSON dump would
    /// otherwise be searched back to its start for every identifier).
    line_cache: (usize, usize),
    /// Amounts written with a currency (`500$`, `0.5 BTC`, `1 000 €`).
    pub prices: u64,
    /// Volume claims: a number followed by rows, records, patients... (`1.2M lines`).
    pub volumes: u64,
    /// Contact handles: `@name` not part of an e-mail, `t.me/name`.
    pub contacts: u64,
    /// When set, every value added is also pushed here as (kind, valid): the cell reader
    /// attributes them to the cell's column.
    pub(crate) events: Option<Vec<(IdentifierKind, bool)>>,
    /// The kind a cell's column holds (from its header), for numbers whose length alone is
    /// ambiguous (9 digits: FINESS, SIREN, or a phone that lost its leading zero).
    hint: Option<IdentifierKind>,
}

impl IdentifierFindings {
    fn add(&mut self, kind: IdentifierKind, value: String, valid: bool) {
        if let Some(events) = &mut self.events {
            events.push((kind, valid));
        }
        self.kinds.entry(kind).or_default().add(value, valid);
    }

    /// Findings that also record each value added as an event (for per-column counts).
    pub(crate) fn recording() -> IdentifierFindings {
        IdentifierFindings {
            events: Some(Vec::new()),
            ..IdentifierFindings::default()
        }
    }

    /// Adds what the cell reader found (identifier values, amounts, volume claims).
    pub(crate) fn absorb(&mut self, other: IdentifierFindings) {
        for (kind, values) in other.kinds {
            self.kinds.entry(kind).or_default().merge(values);
        }
        self.prices += other.prices;
        self.volumes += other.volumes;
    }

    /// Reads one cell of a row on its own, so that no number is glued across cells. `hint`
    /// is the kind its column holds, if its header says so. Returns whether the cell holds a
    /// personal field (an identifier of any validity, or a date).
    pub(crate) fn scan_cell(
        &mut self,
        cell: &str,
        hint: Option<IdentifierKind>,
        finess_context: bool,
    ) -> bool {
        self.hint = hint;
        self.line_cache = (0, 0);
        let before = self.events.as_ref().map_or(0, Vec::len);
        scan_digits(
            cell,
            finess_context || hint == Some(IdentifierKind::Finess),
            self,
        );
        let personal = !self.marks.is_empty() || self.events.as_ref().map_or(0, Vec::len) > before;
        self.marks.clear();
        self.hint = None;
        personal
    }

    /// Marks the line of `at` as carrying an identifier.
    fn mark_line(&mut self, text: &[u8], at: usize) {
        let start = self.line_of(text, at);
        self.marks.push((start, STRONG));
    }

    /// Marks the line of `at` as carrying a weaker personal field (a date, any e-mail).
    fn mark_line_weak(&mut self, text: &[u8], at: usize) {
        let start = self.line_of(text, at);
        self.marks.push((start, WEAK));
    }

    /// The start of the line holding `at`, searching back only to the previous look-up.
    fn line_of(&mut self, text: &[u8], at: usize) -> usize {
        let (cached_at, cached_start) = self.line_cache;
        let start = if at >= cached_at {
            memchr::memrchr(b'\n', &text[cached_at..at]).map_or(cached_start, |p| cached_at + p + 1)
        } else {
            line_start(text, at)
        };
        self.line_cache = (at, start);
        start
    }

    /// Keeps the lines whose marks add up to a personal row.
    fn settle_lines(&mut self) {
        self.marks.sort_unstable();
        let mut i = 0;
        while i < self.marks.len() {
            let line = self.marks[i].0;
            let mut weight = 0u32;
            while i < self.marks.len() && self.marks[i].0 == line {
                weight += u32::from(self.marks[i].1);
                i += 1;
            }
            if weight >= u32::from(STRONG) {
                self.personal_lines.push(line);
            }
        }
        self.marks = Vec::new();
    }
}

const STRONG: u8 = 2;
const WEAK: u8 = 1;

fn line_start(text: &[u8], at: usize) -> usize {
    memchr::memrchr(b'\n', &text[..at]).map_or(0, |p| p + 1)
}

fn line_end(text: &[u8], at: usize) -> usize {
    memchr::memchr(b'\n', &text[at..]).map_or(text.len(), |p| at + p)
}

fn is_alnum_before(text: &str, at: usize) -> bool {
    text[..at]
        .chars()
        .next_back()
        .is_some_and(char::is_alphanumeric)
}

fn is_alnum_at(text: &str, at: usize) -> bool {
    text[at..].chars().next().is_some_and(char::is_alphanumeric)
}

/// The width of a digit-group separator at `at` (space, dot, hyphen, slash, no-break and thin
/// spaces), if one is there and a digit follows it.
fn group_separator(b: &[u8], at: usize) -> Option<(usize, u8)> {
    let (len, kind) = match b.get(at..)? {
        [b' ' | b'.' | b'-', ..] => (1, b[at]),
        [b'/', ..] => (1, b'/'),
        [0xC2, 0xA0, ..] => (2, b' '),
        [0xE2, 0x80, 0xAF | 0x89, ..] => (3, b' '),
        _ => return None,
    };
    b.get(at + len)
        .is_some_and(u8::is_ascii_digit)
        .then_some((len, kind))
}

struct Run {
    start: usize,
    end: usize,
    /// Digit groups as (start, end) byte ranges.
    groups: Vec<(usize, usize)>,
    slash: bool,
    plus: bool,
}

impl Run {
    fn chars(&self, b: &[u8], from: usize, to: usize) -> String {
        let mut s = String::new();
        for &(gs, ge) in &self.groups[from..to] {
            s.extend(b[gs..ge].iter().map(|&c| c as char));
        }
        s
    }
}

/// Scans a window of text. `hits` are the lexicon's hits in the same window (for watched URLs
/// followed by credentials).
/// `finess_context` says the document mentioned FINESS before this window.
pub fn scan(
    text: &str,
    lexicon: &Lexicon,
    hits: &[Hit],
    finess_context: bool,
) -> IdentifierFindings {
    let mut f = IdentifierFindings::default();
    let b = text.as_bytes();
    let finess_context = finess_context || mentions_finess(b);
    scan_digits(text, finess_context, &mut f);
    scan_emails(text, lexicon, &mut f);
    f.contacts += memmem::find_iter(b, b"t.me/").count() as u64;
    scan_url_credentials(text, hits, &mut f);
    f.settle_lines();
    f
}

/// [`scan`] without the digit pass: e-mails, credentials and contacts only, for text whose
/// numbers are read cell by cell.
pub fn scan_without_digits(text: &str, lexicon: &Lexicon, hits: &[Hit]) -> IdentifierFindings {
    let mut f = IdentifierFindings::default();
    let b = text.as_bytes();
    scan_emails(text, lexicon, &mut f);
    f.contacts += memmem::find_iter(b, b"t.me/").count() as u64;
    scan_url_credentials(text, hits, &mut f);
    f.settle_lines();
    f
}

/// Whether the text mentions FINESS, in any case (9-digit numbers are then FINESS numbers).
pub(crate) fn mentions_finess(b: &[u8]) -> bool {
    memchr::memchr2_iter(b'f', b'F', b).any(|at| {
        b.get(at..at + 6)
            .is_some_and(|w| w.eq_ignore_ascii_case(b"finess"))
    })
}

fn scan_digits(text: &str, finess_context: bool, f: &mut IdentifierFindings) {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match crate::ascii_scan::next_digit(b, i) {
            Some(p) => i = p,
            None => break,
        }
        // IBAN: two upper-case letters glued to the digits, at a word start.
        if i >= 2
            && b[i - 1].is_ascii_uppercase()
            && b[i - 2].is_ascii_uppercase()
            && !is_alnum_before(text, i - 2)
        {
            if let Some(end) = scan_iban(text, i - 2, f) {
                i = end;
                continue;
            }
        }
        // The decimal part of a number ("0,05", "1.5"): already seen with its integer part.
        // But an identifier-length number after a comma is the next field of a row glued to
        // a numeric field (`1962,162049910999331,x`), not decimals.
        if i >= 2
            && matches!(b[i - 1], b',' | b'.')
            && b[i - 2].is_ascii_digit()
            && !(b[i - 1] == b',' && is_glued_field(text, i))
        {
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            continue;
        }
        if is_alnum_before(text, i) {
            // Inside a word ("ID123", "x86"): skip the rest of it.
            while i < b.len() && b[i].is_ascii_alphanumeric() {
                i += 1;
            }
            continue;
        }
        let run = read_run(b, i);
        i = run.end.max(i + 1);
        if is_alnum_at(text, run.end) {
            // "1.2M lines", "300k patients": a multiplier glued to the number.
            if is_volume(b, &run) {
                f.volumes += 1;
            }
            while i < b.len() && b[i].is_ascii_alphanumeric() {
                i += 1;
            }
            continue;
        }
        classify_run(text, &run, finess_context, f);
    }
}

/// Whether the number at `at`, after a comma glued to a digit, has an identifier's length
/// and ends the field: a field of a comma-separated row rather than decimals.
fn is_glued_field(text: &str, at: usize) -> bool {
    let run = read_run(text.as_bytes(), at);
    let len: usize = run.groups.iter().map(|(s, e)| e - s).sum();
    known_length(len) && !is_alnum_at(text, run.end)
}

/// Whether digit groups of these lengths make a date (`25/04/1962`, `1962-04-25`).
fn date_shaped(groups: &[(usize, usize)]) -> bool {
    let lens: Vec<usize> = groups.iter().map(|(s, e)| e - s).collect();
    matches!(
        lens.as_slice(),
        [2, 2, 4] | [1, 2, 4] | [2, 1, 4] | [1, 1, 4] | [4, 2, 2]
    )
}

fn read_run(b: &[u8], start: usize) -> Run {
    let mut groups = Vec::new();
    let mut j = start;
    let mut slash = false;
    let mut total = 0;
    // The first separator's kind: a change of kind may be a field boundary.
    let mut first_kind = None;
    loop {
        let gs = j;
        while j < b.len() {
            let c = b[j];
            // Corsican departments inside a NIR: "2A"/"2B" right after the 5th digit.
            let corsica = matches!(c, b'A' | b'B' | b'a' | b'b')
                && j > gs
                && b[j - 1] == b'2'
                && total + (j - gs) == 6
                && !b.get(j + 1).is_some_and(u8::is_ascii_alphabetic);
            if c.is_ascii_digit() || corsica {
                j += 1;
            } else {
                break;
            }
        }
        total += j - gs;
        groups.push((gs, j));
        if total > 40 {
            break;
        }
        match group_separator(b, j) {
            Some((len, kind)) => {
                match first_kind {
                    None => first_kind = Some(kind),
                    // A date then a number (`25/04/1962 162049910999331`): two fields.
                    Some(first) if first != kind && date_shaped(&groups) => break,
                    // A number then a date (`162049910999331 25/04/1962`): the last group
                    // starts the date.
                    Some(first) if first != kind && kind == b'/' && groups.len() >= 2 => {
                        groups.pop();
                        j = groups.last().map_or(j, |g| g.1);
                        break;
                    }
                    Some(_) => {}
                }
                slash |= kind == b'/';
                j += len;
            }
            None => break,
        }
    }
    let plus = start > 0 && b[start - 1] == b'+';
    Run {
        start,
        end: j,
        groups,
        slash,
        plus,
    }
}

fn classify_run(text: &str, run: &Run, finess_context: bool, f: &mut IdentifierFindings) {
    let b = text.as_bytes();
    let all = run.chars(b, 0, run.groups.len());
    if run.slash || is_dashed_date(b, run) {
        if is_date(&all, run) {
            f.mark_line_weak(b, run.start);
        }
        return;
    }
    if is_price(b, run) {
        f.prices += 1;
        return;
    }
    if is_thousands_grouped(b, run) {
        return;
    }
    if is_volume(b, run) {
        f.volumes += 1;
        return;
    }
    // "+33 (0)6 12 34 56 78": the trunk zero in brackets after the country code.
    if all.len() == 9 && !all.starts_with('0') && after_plus33_trunk(b, run.start) {
        let national = format!("0{all}");
        let valid = validate::phone(&national);
        f.add(IdentifierKind::Phone, national, valid);
        f.mark_line(b, run.start);
        return;
    }
    if classify(text, run.start, &all, run.plus, finess_context, true, f) {
        return;
    }
    // Two numbers side by side: split at group boundaries where the parts validate.
    if run.groups.len() > 1 {
        let mut from = 0;
        while from < run.groups.len() {
            let mut used = 0;
            for to in (from + 1..=run.groups.len()).rev() {
                let part = run.chars(b, from, to);
                if known_length(part.len())
                    && classify(
                        text,
                        run.groups[from].0,
                        &part,
                        false,
                        finess_context,
                        false,
                        f,
                    )
                {
                    used = to - from;
                    break;
                }
            }
            from += used.max(1);
        }
    }
}

/// Whether the run is a number written with dots between thousands (`4.222.835.382.315.940`,
/// a coordinate or an amount in a European export): one to three digits, then groups of
/// three, at least three groups. No identifier is written so (a NIR's groups are 1 2 2 2 3 3
/// 2, a phone's 2), and its digits must not be split into look-alike identifiers.
fn is_thousands_grouped(b: &[u8], run: &Run) -> bool {
    let groups = &run.groups;
    groups.len() >= 3
        && (1..=3).contains(&(groups[0].1 - groups[0].0))
        && groups[1..].iter().all(|(s, e)| e - s == 3)
        && groups[..groups.len() - 1]
            .iter()
            .all(|&(_, e)| b.get(e) == Some(&b'.'))
}

/// Whether `+33 (0)` or `+33(0)` (optionally followed by a space) ends just before `at`.
fn after_plus33_trunk(b: &[u8], at: usize) -> bool {
    let before = b[..at].strip_suffix(b" ").unwrap_or(&b[..at]);
    before.ends_with(b"+33 (0)") || before.ends_with(b"+33(0)")
}

fn known_length(len: usize) -> bool {
    matches!(len, 9 | 10 | 11 | 13 | 14 | 15)
}

fn is_dashed_date(b: &[u8], run: &Run) -> bool {
    let lens: Vec<usize> = run.groups.iter().map(|(s, e)| e - s).collect();
    let dashed = run
        .groups
        .windows(2)
        .all(|w| matches!(b.get(w[0].1), Some(b'-' | b'.')));
    dashed && (lens == [4, 2, 2] || lens == [2, 2, 4])
}

fn is_date(all: &str, run: &Run) -> bool {
    let lens: Vec<usize> = run.groups.iter().map(|(s, e)| e - s).collect();
    let num = |from: usize, len: usize| {
        all.get(from..from + len)
            .and_then(|s| s.parse::<u32>().ok())
    };
    match lens.as_slice() {
        [2, 2, 4] | [1, 2, 4] | [2, 1, 4] | [1, 1, 4] => {
            let (d, m) = (num(0, lens[0]), num(lens[0], lens[1]));
            matches!((d, m), (Some(1..=31), Some(1..=12)))
        }
        [4, 2, 2] => matches!((num(4, 2), num(6, 2)), (Some(1..=12), Some(1..=31))),
        _ => false,
    }
}

fn is_price(b: &[u8], run: &Run) -> bool {
    let before = &b[..run.start];
    let after = &b[run.end..];
    let trimmed_before = before.strip_suffix(b" ").unwrap_or(before);
    if trimmed_before.ends_with(b"$") || trimmed_before.ends_with("€".as_bytes()) {
        return true;
    }
    // Decimals ("0,5 BTC") and multipliers ("2k$").
    let mut rest = skip_decimal_part(after);
    if let [b'k' | b'K', tail @ ..] = rest {
        rest = tail;
    }
    let rest = rest.strip_prefix(b" ").unwrap_or(rest);
    let mut head = [0u8; 6];
    for (slot, c) in head.iter_mut().zip(rest) {
        *slot = c.to_ascii_lowercase();
    }
    [
        "$", "€", "usd", "eur", "btc", "xmr", "usdt", "ltc", "euro", "dollar", "руб",
    ]
    .iter()
    .any(|c| head.starts_with(c.as_bytes()))
        || rest.starts_with("€".as_bytes())
        || rest.starts_with("₽".as_bytes())
}

/// Words that say a number counts records: `1.2M lines`, `300k patients`, `50 тыс строк`.
const VOLUME_WORDS: &[&str] = &[
    "lines",
    "rows",
    "records",
    "entries",
    "users",
    "accounts",
    "patients",
    "clients",
    "customers",
    "doctors",
    "lignes",
    "enregistrements",
    "utilisateurs",
    "comptes",
    "dossiers",
    "fiches",
    "médecins",
    "строк",
    "записей",
    "пациентов",
    "клиентов",
    "аккаунтов",
];

/// What follows a number's decimal part (`,5 BTC` → ` BTC`), or `after` itself.
fn skip_decimal_part(after: &[u8]) -> &[u8] {
    match after {
        [b',' | b'.', d, tail @ ..] if d.is_ascii_digit() => {
            let digits = tail.iter().take_while(|c| c.is_ascii_digit()).count();
            &tail[digits..]
        }
        _ => after,
    }
}

/// Whether the number is a volume claim: a size (`1.4 TB`), or optionally a decimal part, a
/// multiplier (k, m, M, mln, million(s), тыс, млн), then a volume word.
fn is_volume(b: &[u8], run: &Run) -> bool {
    let rest = skip_decimal_part(&b[run.end..]);
    // Most numbers are followed by punctuation (a CSV field): no unit or word can follow.
    let next = rest.iter().find(|&&c| c != b' ');
    if !next.is_some_and(|&c| c.is_ascii_alphabetic() || c >= 0x80) {
        return false;
    }
    let raw = String::from_utf8_lossy(&rest[..rest.len().min(40)]);
    // Sizes of stolen data on leak sites: "1.4 TB", "312GB", "300 Go" (French units only in
    // their case, "to" and "go" being words).
    let unit = raw.trim_start();
    if [
        "GB", "TB", "Gb", "Tb", "gb", "tb", "Go", "To", "ГБ", "ТБ", "Гб", "Тб",
    ]
    .iter()
    .any(|u| unit.starts_with(u) && !unit[u.len()..].starts_with(char::is_alphanumeric))
    {
        return true;
    }
    let text = raw.to_lowercase();
    let mut t = text.trim_start();
    for mult in [
        "millions", "million", "mln", "тыс.", "тыс", "млн", "k", "m", "к", "м",
    ] {
        if let Some(after) = t.strip_prefix(mult) {
            t = after.trim_start_matches(['+', '.']).trim_start();
            break;
        }
    }
    VOLUME_WORDS.iter().any(|w| t.starts_with(w))
}

/// Classifies the characters of a run (or of a part of one). Returns whether it was counted.
fn classify(
    text: &str,
    at: usize,
    chars: &str,
    plus: bool,
    finess_context: bool,
    count_invalid: bool,
    f: &mut IdentifierFindings,
) -> bool {
    use IdentifierKind as K;
    let b = text.as_bytes();
    let digits_only = chars.bytes().all(|c| c.is_ascii_digit());
    let record = |f: &mut IdentifierFindings, kind: K, value: String, valid: bool| -> bool {
        if valid || count_invalid {
            f.add(kind, value, valid);
            f.mark_line(b, at);
            true
        } else {
            false
        }
    };
    match chars.len() {
        15 => {
            let valid = validate::nir(chars);
            record(f, K::Nir, chars.to_string(), valid)
        }
        _ if !digits_only => false,
        14 => {
            let valid = validate::siret(chars);
            record(f, K::Siret, chars.to_string(), valid)
        }
        13 if chars.starts_with("0033") => {
            let national = format!("0{}", &chars[4..]);
            let valid = validate::phone(&national);
            record(f, K::Phone, national, valid)
        }
        11 if chars.starts_with("33") && chars.as_bytes()[2] != b'0' => {
            let national = format!("0{}", &chars[2..]);
            let valid = validate::phone(&national);
            record(f, K::Phone, national, valid)
        }
        11 if !plus => {
            let valid = validate::rpps(chars);
            record(f, K::Rpps, chars.to_string(), valid)
        }
        10 if chars.starts_with('0') => {
            let valid = validate::phone(chars);
            record(f, K::Phone, chars.to_string(), valid)
        }
        // A phone column whose leading zero a spreadsheet dropped (`612345678`).
        9 if f.hint == Some(K::Phone) && !chars.starts_with('0') => {
            let national = format!("0{chars}");
            let valid = validate::phone(&national);
            record(f, K::Phone, national, valid)
        }
        9 => {
            let context = line_context(text, at);
            if f.hint == Some(K::Siret) || context.contains("siren") || context.contains("siret") {
                let valid = validate::siret(chars);
                record(f, K::Siret, chars.to_string(), valid)
            } else if context.contains("finess") || finess_context {
                let valid = validate::finess(chars);
                record(f, K::Finess, chars.to_string(), valid)
            } else {
                false
            }
        }
        _ => false,
    }
}

/// The lowercase text of the line before `at`, up to 80 bytes.
fn line_context(text: &str, at: usize) -> String {
    let b = text.as_bytes();
    let from = at.saturating_sub(80);
    let mut start = memchr::memrchr(b'\n', &b[from..at]).map_or(from, |p| from + p + 1);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    text[start..at].to_lowercase()
}

fn scan_iban(text: &str, start: usize, f: &mut IdentifierFindings) -> Option<usize> {
    let b = text.as_bytes();
    let country = &text[start..start + 2];
    let mut chars = String::new();
    let mut j = start;
    let mut last_end = start;
    while j < b.len() && chars.len() < 34 {
        let c = b[j];
        if c.is_ascii_alphanumeric() {
            chars.push(c.to_ascii_uppercase() as char);
            j += 1;
            last_end = j;
        } else if c == b' ' && b.get(j + 1).is_some_and(u8::is_ascii_alphanumeric) {
            if validate::iban_length(country) == Some(chars.len()) {
                break;
            }
            j += 1;
        } else {
            break;
        }
    }
    let expected = validate::iban_length(country);
    let shape_ok = chars.len() >= 4
        && chars.as_bytes()[2..4].iter().all(u8::is_ascii_digit)
        && match expected {
            Some(len) => chars.len() == len,
            None => (15..=34).contains(&chars.len()),
        };
    if !shape_ok || is_alnum_at(text, last_end) {
        return None;
    }
    let valid = validate::iban(&chars);
    if valid || expected.is_some() {
        f.add(IdentifierKind::Iban, chars, valid);
        f.mark_line(b, start);
    }
    Some(last_end)
}

fn is_local_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'%' | b'+' | b'-')
}

fn is_domain_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-')
}

/// An e-mail address around the `@` at `at`: (start, end, address lowercased).
fn email_at(b: &[u8], at: usize) -> Option<(usize, usize, String)> {
    let mut s = at;
    while s > 0 && at - s < 64 && is_local_char(b[s - 1]) {
        s -= 1;
    }
    let mut e = at + 1;
    while e < b.len() && e - at < 254 && is_domain_char(b[e]) {
        e += 1;
    }
    while e > at + 1 && matches!(b[e - 1], b'.' | b'-') {
        e -= 1;
    }
    let local = std::str::from_utf8(&b[s..at]).ok()?;
    let domain = std::str::from_utf8(&b[at + 1..e]).ok()?;
    if local.is_empty() || !domain.contains('.') {
        return None;
    }
    Some((s, e, format!("{}@{}", local, domain.to_ascii_lowercase())))
}

fn email_well_formed(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && domain
            .split('.')
            .all(|label| !label.is_empty() && !label.starts_with('-') && !label.ends_with('-'))
        && domain
            .rsplit('.')
            .next()
            .is_some_and(|tld| tld.len() >= 2 && tld.bytes().all(|c| c.is_ascii_alphabetic()))
}

const CREDENTIAL_DELIMITERS: &[u8] = b":;|\t,";

/// The password that follows a login at `at`, if the line has `login<delim>password` there.
fn password_after(b: &[u8], at: usize) -> Option<&[u8]> {
    let mut j = at;
    while j < b.len() && b[j] == b' ' {
        j += 1;
    }
    let delimiter = *b.get(j)?;
    if !CREDENTIAL_DELIMITERS.contains(&delimiter) {
        return None;
    }
    // "a@b.fr, c@d.fr" is a list of addresses; "a@b.fr,secret" a combo.
    if delimiter == b',' && b.get(j + 1).is_some_and(u8::is_ascii_whitespace) {
        return None;
    }
    j += 1;
    while j < b.len() && b[j] == b' ' {
        j += 1;
    }
    let start = j;
    while j < b.len()
        && !b[j].is_ascii_whitespace()
        && !CREDENTIAL_DELIMITERS.contains(&b[j])
        && j - start <= 128
    {
        j += 1;
    }
    let password = &b[start..j];
    // The next address of a list is not a password.
    (password.len() >= 3 && password.len() <= 128 && !password.contains(&b'@')).then_some(password)
}

fn scan_emails(text: &str, lexicon: &Lexicon, f: &mut IdentifierFindings) {
    let b = text.as_bytes();
    for at in memchr_iter(b'@', b) {
        let Some((s, e, email)) = email_at(b, at) else {
            if is_handle(b, at) {
                f.contacts += 1;
            }
            continue;
        };
        let domain = &email[email.find('@').map_or(0, |p| p + 1)..];
        if lexicon.domain_owner(domain).is_none() {
            f.mark_line_weak(b, s);
            continue;
        }
        f.mark_line(b, s);
        let valid = email_well_formed(&email);
        f.add(IdentifierKind::HealthEmail, email.clone(), valid);
        if let Some(password) = password_after(b, e) {
            let value = format!("{email}\u{0}{}", String::from_utf8_lossy(password));
            f.add(IdentifierKind::Credential, value, valid);
        }
    }
}

/// A messaging handle at `at` (`@seller_fr`): not glued to a word before, 4 to 32 name
/// characters after.
fn is_handle(b: &[u8], at: usize) -> bool {
    let glued = at > 0 && (b[at - 1].is_ascii_alphanumeric() || b[at - 1] == b'.');
    let name = b[at + 1..]
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
        .count();
    !glued && (4..=32).contains(&name)
}

/// `https://host.watched.fr/path<delim>user<delim>password`, and the stealer-log block
/// `URL: …` / `Username: …` / `Password: …`.
fn scan_url_credentials(text: &str, hits: &[Hit], f: &mut IdentifierFindings) {
    let b = text.as_bytes();
    let mut seen_lines = HashSet::new();
    for hit in hits.iter().filter(|h| h.domain) {
        let ls = f.line_of(b, hit.start);
        if !seen_lines.insert(ls) {
            continue;
        }
        let le = line_end(b, hit.start);
        // Skip the rest of the URL (path, port).
        let mut j = hit.end;
        while j < le && !b[j].is_ascii_whitespace() && !matches!(b[j], b'|' | b';' | b',') {
            if b[j] == b':' && !b.get(j + 1).is_some_and(u8::is_ascii_digit) {
                break;
            }
            j += 1;
        }
        if let Some((user, password)) = user_and_password(&b[j..le]) {
            if !user.contains(&b'@') {
                let value = format!(
                    "{}\u{0}{}",
                    String::from_utf8_lossy(user),
                    String::from_utf8_lossy(password)
                );
                f.add(IdentifierKind::Credential, value, true);
                f.mark_line(b, ls);
            }
            continue;
        }
        // Stealer-log block: the URL line, then login and password lines.
        let line = text[ls..le].to_ascii_lowercase();
        if !(line.starts_with("url") || line.starts_with("host") || line.starts_with("soft")) {
            continue;
        }
        let mut user = None;
        let mut password = None;
        let mut pos = le + 1;
        for _ in 0..3 {
            if pos >= b.len() {
                break;
            }
            let end = line_end(b, pos);
            let next = &text[pos..end];
            if let Some((key, value)) = next.split_once(':') {
                let key = key.trim().to_ascii_lowercase();
                let value = value.trim();
                if !value.is_empty() {
                    if matches!(key.as_str(), "username" | "user" | "login" | "email") {
                        user = Some(value.to_string());
                    } else if matches!(key.as_str(), "password" | "pass" | "pwd") {
                        password = Some(value.to_string());
                    }
                }
            }
            pos = end + 1;
        }
        if let (Some(user), Some(password)) = (user, password) {
            f.add(
                IdentifierKind::Credential,
                format!("{user}\u{0}{password}"),
                true,
            );
            f.mark_line(b, ls);
        }
    }
}

fn user_and_password(rest: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut j = 0;
    while j < rest.len() && rest[j] == b' ' {
        j += 1;
    }
    let delim = *rest.get(j)?;
    if !matches!(delim, b':' | b'|' | b';' | b' ' | b'\t') {
        return None;
    }
    let fields: Vec<&[u8]> = rest[j + 1..]
        .split(|&c| c == delim)
        .map(<[u8]>::trim_ascii)
        .filter(|s| !s.is_empty())
        .collect();
    match fields.as_slice() {
        [user, password] if user.len() >= 2 && password.len() >= 3 && password.len() <= 128 => {
            Some((user, password))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::watchlist::Entity;
    use vigie_core::Category;

    fn lexicon() -> Lexicon {
        let e = Entity {
            id: "chu-lyon".into(),
            name: "Hospices Civils de Lyon".into(),
            category: Category::Hospital,
            aliases: vec![],
            domains: vec!["chu-lyon.fr".into()],
            finess: vec![],
            strict: false,
            strict_aliases: vec![],
            notify: vec![],
        };
        Lexicon::build(&[e]).unwrap()
    }

    fn scan_text(text: &str) -> IdentifierFindings {
        let lex = lexicon();
        let mut scratch = crate::normalize::Normalized::default();
        let mut hits = Vec::new();
        lex.find(text, &mut scratch, &mut hits);
        scan(text, &lex, &hits, false)
    }

    fn counts(f: &IdentifierFindings, kind: IdentifierKind) -> (u64, u64) {
        f.kinds
            .get(&kind)
            .map_or((0, 0), |k| (k.valid_count(), k.invalid_count()))
    }

    fn valid_nir(body: &str) -> String {
        format!("{body}{:02}", validate::nir_key(body).unwrap())
    }

    #[test]
    fn nir_in_every_written_form() {
        let n = valid_nir("1850575123456");
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
        let dotted = spaced.replace(' ', ".");
        let nbsp = spaced.replace(' ', "\u{a0}");
        for form in [n.clone(), spaced, dotted, nbsp] {
            let f = scan_text(&format!("NIR: {form}\n"));
            assert_eq!(counts(&f, IdentifierKind::Nir), (1, 0), "{form}");
        }
        let corsica = valid_nir("285052A123456");
        let f = scan_text(&format!("secu {} \n", corsica));
        assert_eq!(counts(&f, IdentifierKind::Nir), (1, 0));
    }

    #[test]
    fn decoys_are_counted_apart() {
        let n = valid_nir("2920133012345");
        let mut bad = n.clone().into_bytes();
        bad[14] = if bad[14] == b'9' { b'0' } else { bad[14] + 1 };
        let bad = String::from_utf8(bad).unwrap();
        let f = scan_text(&format!("{n}\n{bad}\n{n}\n"));
        assert_eq!(counts(&f, IdentifierKind::Nir), (1, 1));
        // Inside a word or a longer number: not an identifier.
        let f = scan_text(&format!("ref{n} x{n}y 9{n}9"));
        assert_eq!(counts(&f, IdentifierKind::Nir), (0, 0));
    }

    #[test]
    fn thousands_grouped_numbers_are_no_identifiers() {
        // Coordinates and amounts of a European CSV export (from Synthea's patients.csv).
        let f = scan_text("4.222.835.382.315.940;-7.256.295.055.096.880;13.348.799.999.999.900\n");
        assert!(f.kinds.is_empty(), "{:?}", f.kinds);
        // A dotted NIR or phone keeps its own grouping.
        let n = valid_nir("1850575123456");
        let dotted = format!(
            "{}.{}.{}.{}.{}.{}.{}",
            &n[..1],
            &n[1..3],
            &n[3..5],
            &n[5..7],
            &n[7..10],
            &n[10..13],
            &n[13..]
        );
        let f = scan_text(&format!("{dotted} 06.12.34.56.78\n"));
        assert_eq!(counts(&f, IdentifierKind::Nir), (1, 0));
        assert_eq!(counts(&f, IdentifierKind::Phone), (1, 0));
    }

    #[test]
    fn two_numbers_side_by_side_are_split() {
        let n = valid_nir("1850575123456");
        let f = scan_text(&format!("dupont 0612345678 {n}\n"));
        assert_eq!(counts(&f, IdentifierKind::Nir), (1, 0));
        assert_eq!(counts(&f, IdentifierKind::Phone), (1, 0));
    }

    #[test]
    fn phones_in_french_and_international_forms() {
        let f = scan_text("tel 06 12 34 56 78, +33 6 12 34 56 79, 0033612345670, 06.12.34.56.71");
        assert_eq!(counts(&f, IdentifierKind::Phone).0, 4);
        let f = scan_text("+33 (0)6 12 34 56 72 ou +33(0)145678901, 06-12-34-56-73");
        assert_eq!(counts(&f, IdentifierKind::Phone).0, 3);
    }

    #[test]
    fn finess_needs_context_siren_too() {
        let f = scan_text("etablissement 750712184");
        assert_eq!(counts(&f, IdentifierKind::Finess), (0, 0));
        let f = scan_text("FINESS 750712184 et 750712185");
        assert_eq!(counts(&f, IdentifierKind::Finess), (1, 1));
        let f = scan_text("SIREN 732829320");
        assert_eq!(counts(&f, IdentifierKind::Siret), (1, 0));
    }

    #[test]
    fn iban_and_rpps() {
        let f = scan_text("IBAN FR76 3000 6000 0112 3456 7890 189 et FR7630006000011234567890188");
        assert_eq!(counts(&f, IdentifierKind::Iban), (1, 1));
        let rpps = (0..10)
            .map(|d| format!("1000345678{d}"))
            .find(|s| validate::luhn(s))
            .unwrap();
        let f = scan_text(&format!("RPPS {rpps}"));
        assert_eq!(counts(&f, IdentifierKind::Rpps), (1, 0));
    }

    #[test]
    fn health_emails_and_credentials() {
        let text = "jean.dupont@chu-lyon.fr:Hopital2024!\n\
                    marie@labo.chu-lyon.fr;secret99\n\
                    someone@gmail.com:password1\n\
                    https://dpi.chu-lyon.fr/login|jmartin|Azerty123\n\
                    URL: https://portail.chu-lyon.fr/\nUsername: pdurand\nPassword: Lyon69!!\n";
        let f = scan_text(text);
        assert_eq!(counts(&f, IdentifierKind::HealthEmail), (2, 0));
        assert_eq!(counts(&f, IdentifierKind::Credential), (4, 0));
    }

    #[test]
    fn volume_claims() {
        let f = scan_text(
            "1.2M lines, 300k patients, 750,000 records, 50 тыс строк, 1.4 TB, 312GB, 300 Go",
        );
        assert_eq!(f.volumes, 7);
        let f = scan_text("from 5 to 10, let's go 2 go, 3 lines of code? no: 3 apples");
        assert_eq!(f.volumes, 1, "only '3 lines'");
    }

    #[test]
    fn prices_and_dates_are_not_identifiers() {
        let f = scan_text("prix 1500$ ou 0,05 BTC, né le 12/05/1985, 1985-05-12");
        assert_eq!(f.prices, 2);
        assert!(f.kinds.is_empty());
        assert_eq!(f.personal_lines, vec![0]);
        let f = scan_text("200 dollars, 5000 руб");
        assert_eq!(f.prices, 2);
    }
}

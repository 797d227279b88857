//! The matcher: a compiled watchlist that scans text, streams, and windows of large files.

use std::collections::BTreeMap;
use std::io::{self, Read};

use std::collections::BTreeSet;

use vigie_core::{Analysis, EntityFinding, IdentifierCount, IdentifierKind, Origin, Report, Span};

use crate::claim::ClaimSignals;

use crate::html::{html_to_text, looks_like_html};
use crate::identifiers::{self, IdentifierFindings, KindValues};
use crate::lexicon::{Hit, Lexicon, Target};
use crate::normalize::Normalized;
use crate::offer::{assess, CueCounts, Signals};
use crate::sample::SampleStats;
use crate::severity::rate;
use crate::validate;
use crate::watchlist::{Entity, Watchlist};
use crate::MatchError;

/// Bytes read per window of a stream.
pub const WINDOW_BYTES: usize = 1 << 20;
/// Bytes a window shares with the next one: longer than any name, identifier or credential
/// line, so that a hit across a window border is found whole, once.
pub const OVERLAP_BYTES: usize = 4096;
/// Bytes of context kept before the overlap, for word boundaries and line context.
const CONTEXT_BYTES: usize = 256;
/// HTML larger than this is scanned as text, without parsing (bounded memory).
pub const MAX_HTML_BYTES: usize = 32 << 20;
/// At most this many match spans are kept per entity and document.
pub const MAX_SPANS_PER_ENTITY: usize = 1000;

/// How reports are rendered.
#[derive(Debug, Clone, Copy)]
pub struct ScanOptions {
    /// Show raw identifier values instead of masks (for the analyst who asks).
    pub reveal: bool,
    /// Examples shown per identifier kind.
    pub examples: usize,
    /// Where the document was collected, when the caller knows (a leak-site entry is a
    /// ransomware claim by construction).
    pub origin: Origin,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            reveal: false,
            examples: 3,
            origin: Origin::Unknown,
        }
    }
}

/// A slice of a document's text, with the part of it whose hits belong to this window.
#[derive(Debug, Clone)]
pub struct Window {
    /// The text, starting a little before the part that belongs to this window.
    pub text: String,
    /// Offset of `text[0]` in the document's text.
    pub base: u64,
    /// Hits starting in `accept_from..accept_to` (relative to `text`) belong to this window.
    pub accept_from: usize,
    /// See `accept_from`.
    pub accept_to: usize,
    /// Whether the document mentioned FINESS so far (9-digit numbers are then FINESS).
    pub finess_context: bool,
}

/// What one window contributed; windows merge in document order.
#[derive(Debug, Default, Clone)]
pub struct Partial {
    spans: BTreeMap<u32, Vec<Span>>,
    cues: CueCounts,
    ids: BTreeMap<IdentifierKind, KindValues>,
    prices: u64,
    volumes: u64,
    contacts: u64,
    samples: SampleStats,
    bytes: u64,
    claim: ClaimSignals,
    groups: BTreeSet<u16>,
}

impl Partial {
    /// Adds the next window's findings.
    pub fn merge(&mut self, other: Partial) {
        for (entity, spans) in other.spans {
            let mine = self.spans.entry(entity).or_default();
            let room = MAX_SPANS_PER_ENTITY.saturating_sub(mine.len());
            mine.extend(spans.into_iter().take(room));
        }
        self.cues.merge(other.cues);
        for (kind, values) in other.ids {
            self.ids.entry(kind).or_default().merge(values);
        }
        self.prices += other.prices;
        self.volumes += other.volumes;
        self.contacts += other.contacts;
        self.samples.merge(other.samples);
        self.bytes += other.bytes;
        self.claim.merge(other.claim);
        self.groups.extend(other.groups);
    }
}

/// A compiled watchlist. Build once, share across threads (`Matcher: Sync`).
#[derive(Debug)]
pub struct Matcher {
    entities: Vec<Entity>,
    lexicon: Lexicon,
}

thread_local! {
    static NORM: std::cell::RefCell<Normalized> = std::cell::RefCell::new(Normalized::default());
}

impl Matcher {
    /// Compiles the watchlist's names, aliases, domains and the built-in cues.
    pub fn new(watchlist: &Watchlist) -> Result<Matcher, MatchError> {
        watchlist.check_unique_ids()?;
        let entities = watchlist.entities().to_vec();
        let lexicon = Lexicon::build_with_exclusions(&entities, &watchlist.exclusions()?)?;
        Ok(Matcher { entities, lexicon })
    }

    /// Compiles a list of entities.
    pub fn from_entities(entities: Vec<Entity>) -> Result<Matcher, MatchError> {
        let lexicon = Lexicon::build(&entities)?;
        Ok(Matcher { entities, lexicon })
    }

    /// The entities searched for.
    pub fn entities(&self) -> &[Entity] {
        &self.entities
    }

    /// Scans a whole text held in memory.
    pub fn scan_text(&self, path: &str, text: &str, options: ScanOptions) -> Report {
        let window = Window {
            text: text.to_string(),
            base: 0,
            accept_from: 0,
            accept_to: text.len(),
            finess_context: false,
        };
        let partial = self.scan_window(&window);
        self.finish(path, partial, options)
    }

    /// Scans a document given as bytes: HTML is turned into text, invalid UTF-8 is decoded
    /// lossily.
    pub fn scan_bytes(&self, path: &str, bytes: &[u8], options: ScanOptions) -> Report {
        let text = document_text(bytes);
        self.scan_text(path, &text, options)
    }

    /// Scans a document given as bytes and computes its near-duplicate signature: what the
    /// store records for a collected page or message.
    pub fn analyze(&self, path: &str, bytes: &[u8], options: ScanOptions) -> Analysis {
        let text = document_text(bytes);
        let signature = crate::near_dup::signature(&text);
        let report = self.scan_text(path, &text, options);
        Analysis { report, signature }
    }

    /// Scans a stream in bounded windows; memory does not grow with the stream's size.
    pub fn scan_reader<R: Read>(
        &self,
        path: &str,
        reader: R,
        options: ScanOptions,
    ) -> io::Result<Report> {
        let mut windows = WindowReader::new(reader);
        let mut partial = Partial::default();
        while let Some(window) = windows.next_window()? {
            partial.merge(self.scan_window(&window));
        }
        Ok(self.finish(path, partial, options))
    }

    /// Scans one window. Only hits that start in the window's accepted range are kept.
    pub fn scan_window(&self, window: &Window) -> Partial {
        NORM.with(|norm| {
            let mut norm = norm.borrow_mut();
            self.scan_window_with(window, &mut norm, None)
        })
    }

    /// [`Matcher::scan_window`] on text whose layout the caller wrote ([`Matcher::scan_rows`]).
    pub(crate) fn scan_window_forced(
        &self,
        window: &Window,
        forced: crate::delimited::Forced,
    ) -> Partial {
        NORM.with(|norm| {
            let mut norm = norm.borrow_mut();
            self.scan_window_with(window, &mut norm, Some(forced))
        })
    }

    fn scan_window_with(
        &self,
        window: &Window,
        norm: &mut Normalized,
        forced: Option<crate::delimited::Forced>,
    ) -> Partial {
        let text = window.text.as_str();
        let accepted = |start: usize| start >= window.accept_from && start < window.accept_to;
        let mut hits: Vec<Hit> = Vec::new();
        self.lexicon.find(text, norm, &mut hits);
        let hits = drop_contained(hits);

        let mut partial = Partial {
            bytes: (window.accept_to - window.accept_from) as u64,
            ..Partial::default()
        };
        for hit in hits.iter().filter(|h| accepted(h.start)) {
            match hit.target {
                Target::Entity(e) => {
                    let spans = partial.spans.entry(e).or_default();
                    if spans.len() < MAX_SPANS_PER_ENTITY {
                        spans.push(Span {
                            start: window.base + hit.start as u64,
                            end: window.base + hit.end as u64,
                            text: text[hit.start..hit.end].to_string(),
                        });
                    }
                }
                Target::Cue(c) => partial.cues.add(c),
                Target::Group(g) => {
                    partial.groups.insert(g);
                }
            }
        }
        partial
            .claim
            .observe(text, window.accept_from, window.accept_to);

        // Tables, SQL dumps and JSON: numbers are read cell by cell, never glued across cells.
        let rows = crate::delimited::read_window(window, forced);
        let mut found: IdentifierFindings = match &rows {
            Some(_) => identifiers::scan_without_digits(text, &self.lexicon, &hits),
            None => identifiers::scan(text, &self.lexicon, &hits, window.finess_context),
        };
        if let Some(rows) = rows {
            found.absorb(rows.found);
            partial.samples.add_table(rows.stats);
        }
        found.personal_lines.retain(|&l| accepted(l));
        partial.prices = found.prices;
        partial.volumes = found.volumes;
        partial.contacts = found.contacts;
        partial
            .samples
            .observe(text, window.base, &found.personal_lines);
        // Identifier values are de-duplicated across windows, so values from the overlap may be
        // seen twice without being counted twice; but a value cut by the window's end must not
        // count, which `accept_to` (far from the end) guarantees for all but the last window.
        partial.ids = found.kinds.into_iter().collect();
        partial
    }

    /// Turns merged windows into a report.
    pub fn finish(&self, path: &str, partial: Partial, options: ScanOptions) -> Report {
        let mut entities: Vec<EntityFinding> = partial
            .spans
            .into_iter()
            .map(|(i, mut matches)| {
                let e = &self.entities[i as usize];
                matches.sort();
                matches.dedup();
                EntityFinding {
                    id: e.id.clone(),
                    name: e.name.clone(),
                    category: e.category,
                    matches,
                }
            })
            .collect();
        entities.sort_by_key(|e| e.matches.first().map_or(0, |m| m.start));
        // Names that are also ordinary words or surnames (Vidal, Alan, Roche) count only in a
        // health context: a health word, another watched organisation, or a health identifier.
        let needs_context = |id: &str| {
            self.entities
                .iter()
                .find(|e| e.id == id)
                .is_some_and(Entity::needs_context)
        };
        let health_context = partial.cues.kind(crate::cues::CueKind::Health) > 0
            || entities.iter().any(|e| !needs_context(&e.id))
            || [
                IdentifierKind::Nir,
                IdentifierKind::Rpps,
                IdentifierKind::Finess,
                IdentifierKind::HealthEmail,
                IdentifierKind::Credential,
            ]
            .iter()
            .any(|k| partial.ids.get(k).is_some_and(|v| v.valid_count() > 0));
        if !health_context {
            entities.retain(|e| !needs_context(&e.id));
        }

        let mut identifiers = BTreeMap::new();
        for (kind, values) in &partial.ids {
            let count = IdentifierCount {
                valid: values.valid_count(),
                invalid: values.invalid_count(),
                examples: values
                    .examples
                    .iter()
                    .take(options.examples)
                    .map(|v| render(*kind, v, options.reveal))
                    .collect(),
            };
            if !count.is_empty() {
                identifiers.insert(*kind, count);
            }
        }
        let valid = |kind| partial.ids.get(&kind).map_or(0, KindValues::valid_count);
        let signals = Signals {
            prices: partial.prices,
            volumes: partial.volumes,
            contacts: partial.contacts,
            credentials: valid(IdentifierKind::Credential),
            identifiers: [
                IdentifierKind::Nir,
                IdentifierKind::Rpps,
                IdentifierKind::Iban,
                IdentifierKind::HealthEmail,
                IdentifierKind::Credential,
            ]
            .into_iter()
            .map(valid)
            .sum(),
            ..Signals::default()
        };
        let groups = crate::groups::groups();
        let ambiguous = |g: &u16| groups.get(*g as usize).is_some_and(|g| g.ambiguous);
        let signals = Signals {
            sample_rows: partial.samples.finding().map_or(0, |s| s.rows),
            claim: partial.claim,
            groups: partial.groups.iter().filter(|g| !ambiguous(g)).count() as u32,
            ambiguous_groups: partial.groups.iter().filter(|g| ambiguous(g)).count() as u32,
            named: !entities.is_empty(),
            origin: options.origin,
            ..signals
        };
        let assessment = assess(&partial.cues, signals);
        let mut cues = partial.cues.phrases();
        for (count, name) in [
            (partial.prices, "amount"),
            (partial.volumes, "volume claim"),
            (partial.contacts, "contact handle"),
        ] {
            if count > 0 {
                cues.push(name.into());
            }
        }
        let mut report = Report {
            path: path.to_string(),
            entities,
            identifiers,
            sample: partial.samples.finding(),
            leak_offer: assessment.leak_offer,
            kind: assessment.kind,
            cues,
            topics: assessment.topics,
            severity: vigie_core::Severity::Info,
            why: Vec::new(),
            bytes: partial.bytes,
        };
        let (severity, why) = rate(&report, partial.cues.care_words());
        report.severity = severity;
        report.why = why;
        report
    }
}

/// Shows a value masked, or raw when revealing.
fn render(kind: IdentifierKind, value: &str, reveal: bool) -> String {
    use IdentifierKind as K;
    if reveal {
        return value.replace('\u{0}', ":");
    }
    match kind {
        K::Nir => validate::mask_nir(value),
        K::Phone => validate::mask_phone(value),
        K::HealthEmail => validate::mask_email(value),
        K::Credential => validate::mask_credential(value.split('\u{0}').next().unwrap_or("")),
        K::Iban => validate::mask_iban(value),
        // Two digits each end: at most four shown (an RPPS or a sole trader's SIRET is a person).
        K::Finess | K::Siret | K::Rpps => validate::mask_middle(value, 2, 2),
    }
}

/// Removes entity hits contained in a longer entity hit, and cue hits contained in a longer
/// cue hit ("mise en vente" over "en vente"). Input is in start order.
fn drop_contained(mut hits: Vec<Hit>) -> Vec<Hit> {
    hits.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
    let mut out: Vec<Hit> = Vec::with_capacity(hits.len());
    let mut max_end_entity = 0usize;
    let mut max_end_cue = 0usize;
    let mut max_end_group = 0usize;
    for h in hits {
        let max_end = match h.target {
            Target::Entity(_) => &mut max_end_entity,
            Target::Cue(_) => &mut max_end_cue,
            Target::Group(_) => &mut max_end_group,
        };
        let contained = h.end <= *max_end
            && out.iter().rev().any(|o| {
                std::mem::discriminant(&o.target) == std::mem::discriminant(&h.target)
                    && o.start <= h.start
                    && o.end >= h.end
                    && (o.start, o.end) != (h.start, h.end)
            });
        if contained {
            continue;
        }
        *max_end = (*max_end).max(h.end);
        out.push(h);
    }
    out
}

/// The text of a document: decoded ([`crate::decode`]: UTF-8, UTF-16 with a byte-order
/// mark, Windows-1252), HTML turned into text.
pub fn document_text(bytes: &[u8]) -> String {
    let (text, _) = crate::delimited::decode(bytes);
    if bytes.len() <= MAX_HTML_BYTES && looks_like_html(bytes) {
        html_to_text(&text)
    } else {
        text.into_owned()
    }
}

/// Splits a stream into overlapping [`Window`]s of about [`WINDOW_BYTES`].
///
/// Offsets are in the decoded text: equal to byte offsets in the input when it is valid UTF-8.
/// A multi-byte character cut by a read is completed from the next read before decoding.
pub struct WindowReader<R> {
    reader: R,
    /// Decoded text carried from the previous window (context + overlap).
    carry: String,
    /// Offset of `carry[0]` in the document's text.
    carry_base: u64,
    /// Where, in `carry`, the hits of the next window start to count.
    carry_accept_from: usize,
    /// Undecoded bytes of a character cut by the last read.
    pending: Vec<u8>,
    finess_context: bool,
    done: bool,
    /// Whether the stream is Windows-1252, decided by its first window that is not UTF-8.
    legacy: Option<bool>,
}

impl<R: Read> WindowReader<R> {
    /// Reads windows from `reader`.
    pub fn new(reader: R) -> Self {
        WindowReader {
            reader,
            carry: String::new(),
            carry_base: 0,
            carry_accept_from: 0,
            pending: Vec::new(),
            finess_context: false,
            done: false,
            legacy: None,
        }
    }

    /// The next window, or `None` at the end of the stream.
    pub fn next_window(&mut self) -> io::Result<Option<Window>> {
        if self.done {
            return Ok(None);
        }
        // Read straight after the pending bytes, up to WINDOW_BYTES: the buffer grows with
        // what is read (no zeroed megabyte for a 2 KB post).
        let mut bytes = std::mem::take(&mut self.pending);
        let pending = bytes.len();
        if let Err(e) = (&mut self.reader)
            .take(WINDOW_BYTES as u64)
            .read_to_end(&mut bytes)
        {
            bytes.truncate(pending);
            self.pending = bytes;
            return Err(e);
        }
        let eof = bytes.len() - pending < WINDOW_BYTES;
        if !eof {
            let keep = incomplete_tail(&bytes);
            self.pending = bytes.split_off(bytes.len() - keep);
        }
        // Validation is much faster than lossy decoding, and input is nearly always valid.
        let new_text = match std::str::from_utf8(&bytes) {
            Ok(valid) => std::borrow::Cow::Borrowed(valid),
            Err(_) => crate::delimited::decode_part(&bytes, &mut self.legacy),
        };
        if !self.finess_context {
            self.finess_context = identifiers::mentions_finess(new_text.as_bytes());
        }
        let mut text = std::mem::take(&mut self.carry);
        text.push_str(&new_text);
        let base = self.carry_base;
        let accept_from = self.carry_accept_from;
        if eof {
            self.done = true;
            if text.len() == accept_from && base > 0 {
                return Ok(None);
            }
            let len = text.len();
            return Ok(Some(Window {
                text,
                base,
                accept_from,
                accept_to: len,
                finess_context: self.finess_context,
            }));
        }
        let accept_to =
            floor_char_boundary(&text, text.len().saturating_sub(OVERLAP_BYTES)).max(accept_from);
        let context_start = floor_char_boundary(&text, accept_to.saturating_sub(CONTEXT_BYTES));
        self.carry = text[context_start..].to_string();
        self.carry_base = base + context_start as u64;
        self.carry_accept_from = accept_to - context_start;
        Ok(Some(Window {
            text,
            base,
            accept_from,
            accept_to,
            finess_context: self.finess_context,
        }))
    }
}

/// The number of bytes at the end that start a UTF-8 character not yet complete.
fn incomplete_tail(bytes: &[u8]) -> usize {
    for back in 1..=3.min(bytes.len()) {
        let b = bytes[bytes.len() - back];
        if b & 0xC0 != 0x80 {
            let need = match b {
                0xC0..=0xDF => 2,
                0xE0..=0xEF => 3,
                0xF0..=0xF7 => 4,
                _ => 1,
            };
            return if need > back { back } else { 0 };
        }
    }
    0
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigie_core::Category;

    #[test]
    fn masked_examples_show_four_digits_at_most() {
        use IdentifierKind as K;
        let values = [
            (K::Nir, "185057512345636"),
            (K::Phone, "0612345678"),
            (K::HealthEmail, "jean.dupont1974@chu-lyon.fr"),
            (K::Credential, "j.dupont1974\u{0}hunter2024"),
            (K::Iban, "FR7630006000011234567890189"),
            (K::Finess, "690781810"),
            (K::Siret, "26690027400019"),
            (K::Rpps, "10003456789"),
        ];
        for (kind, value) in values {
            let shown = render(kind, value, false);
            let digits = shown.chars().filter(char::is_ascii_digit).count();
            assert!(digits <= 4, "{kind}: {shown}");
            assert_eq!(render(kind, value, true), value.replace('\u{0}', ":"));
        }
    }

    #[test]
    fn streaming_in_windows_matches_scanning_whole() {
        let entity = Entity {
            id: "weda".into(),
            name: "Weda".into(),
            category: Category::SoftwareVendor,
            aliases: vec!["Weda Médecin".into()],
            domains: vec!["weda.fr".into()],
            finess: vec![],
            strict: false,
            strict_aliases: vec![],
            notify: vec![],
        };
        let matcher = Matcher::from_entities(vec![entity]).unwrap();
        // Names, NIRs and sample rows straddling every window border of a 3.5 MiB text.
        let key = validate::nir_key("1850575123456").unwrap();
        let mut text = String::new();
        let mut k = 0u64;
        while text.len() < 3 * WINDOW_BYTES + WINDOW_BYTES / 2 {
            let border = (text.len() / WINDOW_BYTES + 1) * WINDOW_BYTES;
            if border - text.len() < 100 {
                while text.len() < border - 3 {
                    text.push('x');
                }
            }
            text.push_str(&format!(
                "post {k} Weda Médecin base; nom;nir;tel\nA;1850575123456{key:02};0612345678\n"
            ));
            k += 1;
        }
        let whole = matcher.scan_text("t", &text, ScanOptions::default());
        let streamed = matcher
            .scan_reader(
                "t",
                std::io::Cursor::new(text.as_bytes()),
                ScanOptions::default(),
            )
            .unwrap();
        assert_eq!(whole, streamed);
        assert_eq!(whole.entities[0].matches.len(), MAX_SPANS_PER_ENTITY);
        assert_eq!(whole.bytes as usize, text.len());
        assert!(
            whole.sample.as_ref().is_some_and(|s| s.rows == k),
            "{:?}",
            whole.sample
        );
    }
}

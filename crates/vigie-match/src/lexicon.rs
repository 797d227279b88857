//! One Aho-Corasick automaton over every folded name, alias, domain and cue.
//!
//! The search only starts at word starts (see [`crate::normalize`]); a 3-byte prefix bitmap
//! (and a 2-byte one for the few two-letter cues) throws away most word starts before the
//! automaton is touched, which is what makes the matcher fast on ordinary prose. At a surviving
//! start the anchored DFA is stepped byte by byte until it dies, and every pattern that ends
//! there is checked against the original text: the hit must end at a word end (Russian case
//! endings allowed after Cyrillic renderings), short names must not be glued together from
//! separate words, and `strict` names must appear exactly as written.

use std::collections::HashMap;

use aho_corasick::automaton::Automaton;
use aho_corasick::dfa::DFA;
use aho_corasick::{Anchored, MatchKind, StartKind};

use crate::cues::CUES;
use crate::normalize::{
    is_separator, is_word_char, next_visible_char, normalize, source_len, Normalized, BREAK,
};
use crate::translit::cyrillic_variants;
use crate::watchlist::Entity;
use crate::MatchError;

/// Folded names shorter than this must not be glued from separate words unless the name
/// itself has a separator there, or every part is a single letter (`A P H P`).
const GLUE_GUARD_LEN: usize = 6;

/// Russian case endings tolerated after a Cyrillic rendering (`Фармажеста`, `Доктолибом`).
const MAX_CYRILLIC_ENDING: usize = 3;

/// What a pattern stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// An entity, by index in the watchlist.
    Entity(u32),
    /// A cue, by index in [`CUES`].
    Cue(u16),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    Name,
    Domain,
    Cyrillic,
    Cue { stem: bool },
}

#[derive(Debug, Clone)]
struct Owner {
    target: Target,
    form: Form,
    /// Bit i set: the source spelling had a separator before folded byte i.
    sep_mask: u64,
    /// For strict entities: the exact spellings that count.
    strict: Option<Vec<String>>,
}

/// A verified hit, in original-text offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// What was found.
    pub target: Target,
    /// Start offset in the text.
    pub start: usize,
    /// End offset in the text.
    pub end: usize,
    /// Whether the hit came from a domain pattern.
    pub domain: bool,
}

/// The compiled search over names, domains and cues.
#[derive(Debug)]
pub struct Lexicon {
    dfa: DFA,
    owners: Vec<Vec<Owner>>,
    pattern_len: Vec<usize>,
    prefix3: Vec<u64>,
    prefix2: Vec<u64>,
    /// Watched domains (lowercase), with the entity they belong to.
    domains: HashMap<String, u32>,
}

struct Builder {
    by_bytes: HashMap<Vec<u8>, usize>,
    patterns: Vec<Vec<u8>>,
    owners: Vec<Vec<Owner>>,
}

impl Builder {
    fn add(&mut self, spelling: &str, target: Target, form: Form, strict: Option<&[String]>) {
        let n = normalize(spelling);
        let mut bytes = n.bytes;
        while bytes.last() == Some(&BREAK) {
            bytes.pop();
        }
        if bytes.len() < 2 {
            return;
        }
        let mut sep_mask = 0u64;
        for i in 1..n.orig.len().min(64) {
            let (a, b) = (n.orig[i - 1] as usize, n.orig[i] as usize);
            if b > a && spelling[a..b].chars().skip(1).any(is_separator) {
                sep_mask |= 1 << i;
            }
        }
        let owner = Owner {
            target,
            form,
            sep_mask,
            strict: strict.map(<[String]>::to_vec),
        };
        let index = *self.by_bytes.entry(bytes.clone()).or_insert_with(|| {
            self.patterns.push(bytes);
            self.owners.push(Vec::new());
            self.patterns.len() - 1
        });
        let list = &mut self.owners[index];
        // Two cue spellings that fold alike ("échantillon", "echantillon") are one cue.
        if matches!(owner.form, Form::Cue { .. })
            && list.iter().any(|o| matches!(o.form, Form::Cue { .. }))
        {
            return;
        }
        match list
            .iter_mut()
            .find(|o| o.target == owner.target && o.form == owner.form)
        {
            // Same entity, same folded bytes: a loose spelling makes the pattern loose,
            // otherwise every strict spelling counts ("AP-HP" and "APHP").
            Some(existing) => match (&mut existing.strict, owner.strict) {
                (Some(spellings), Some(more)) => spellings.extend(more),
                (strict, _) => *strict = None,
            },
            None => list.push(owner),
        }
    }
}

impl Lexicon {
    /// Compiles the automaton for a set of entities plus the built-in cues.
    pub fn build(entities: &[Entity]) -> Result<Lexicon, MatchError> {
        let mut b = Builder {
            by_bytes: HashMap::new(),
            patterns: Vec::new(),
            owners: Vec::new(),
        };
        let mut domains = HashMap::new();
        for (i, e) in entities.iter().enumerate() {
            let target = Target::Entity(i as u32);
            for name in e.names() {
                let strict = e.is_strict_name(name).then(|| [name.to_string()]);
                b.add(name, target, Form::Name, strict.as_ref().map(|s| &s[..]));
                if !e.is_strict_name(name) {
                    for variant in cyrillic_variants(name) {
                        b.add(&variant, target, Form::Cyrillic, None);
                    }
                }
            }
            for d in &e.domains {
                b.add(d, target, Form::Domain, None);
                domains.insert(d.to_ascii_lowercase(), i as u32);
            }
        }
        for (i, c) in CUES.iter().enumerate() {
            b.add(
                c.phrase,
                Target::Cue(i as u16),
                Form::Cue { stem: c.stem },
                None,
            );
        }
        let dfa = DFA::builder()
            .match_kind(MatchKind::Standard)
            .start_kind(StartKind::Anchored)
            .build(&b.patterns)
            .map_err(|e| MatchError::Automaton(e.to_string()))?;
        let mut prefix3 = vec![0u64; (1 << 24) / 64];
        let mut prefix2 = vec![0u64; (1 << 16) / 64];
        for p in &b.patterns {
            if p.len() >= 3 {
                let key = (p[0] as usize) << 16 | (p[1] as usize) << 8 | p[2] as usize;
                prefix3[key >> 6] |= 1 << (key & 63);
            } else {
                let key = (p[0] as usize) << 8 | p[1] as usize;
                prefix2[key >> 6] |= 1 << (key & 63);
            }
        }
        let pattern_len = b.patterns.iter().map(Vec::len).collect();
        Ok(Lexicon {
            dfa,
            owners: b.owners,
            pattern_len,
            prefix3,
            prefix2,
            domains,
        })
    }

    /// The number of distinct folded patterns.
    pub fn pattern_count(&self) -> usize {
        self.pattern_len.len()
    }

    /// The entity a watched domain belongs to (exact domain or a subdomain of it).
    pub fn domain_owner(&self, domain: &str) -> Option<u32> {
        let domain = domain.to_ascii_lowercase();
        let mut d = domain.as_str();
        loop {
            if let Some(&e) = self.domains.get(d) {
                return Some(e);
            }
            d = d.split_once('.')?.1;
        }
    }

    #[inline]
    fn may_start(&self, bytes: &[u8], p: usize) -> bool {
        let (Some(&b0), Some(&b1)) = (bytes.get(p), bytes.get(p + 1)) else {
            return false;
        };
        let key2 = (b0 as usize) << 8 | b1 as usize;
        if self.prefix2[key2 >> 6] & (1 << (key2 & 63)) != 0 {
            return true;
        }
        let Some(&b2) = bytes.get(p + 2) else {
            return false;
        };
        let key = (b0 as usize) << 16 | (b1 as usize) << 8 | b2 as usize;
        self.prefix3[key >> 6] & (1 << (key & 63)) != 0
    }

    /// Finds every verified hit in `text`, whose folded form is `norm`. Hits are appended to
    /// `out` in order of start; for each start and target only the longest hit is kept.
    pub fn find(&self, text: &str, norm: &Normalized, out: &mut Vec<Hit>) {
        let bytes = &norm.bytes;
        let Ok(start_state) = self.dfa.start_state(Anchored::Yes) else {
            return;
        };
        let first_new = out.len();
        for &s in &norm.starts {
            let s = s as usize;
            if !self.may_start(bytes, s) {
                continue;
            }
            let mut sid = start_state;
            let mut at = s;
            while at < bytes.len() {
                sid = self.dfa.next_state(Anchored::Yes, sid, bytes[at]);
                at += 1;
                if self.dfa.is_special(sid) {
                    if self.dfa.is_dead(sid) {
                        break;
                    }
                    if self.dfa.is_match(sid) {
                        for k in 0..self.dfa.match_len(sid) {
                            let pid = self.dfa.match_pattern(sid, k).as_usize();
                            if self.pattern_len[pid] != at - s {
                                continue; // a suffix pattern that does not start at `s`
                            }
                            self.verify(text, norm, s, at, pid, out, first_new);
                        }
                    }
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn verify(
        &self,
        text: &str,
        norm: &Normalized,
        s: usize,
        e: usize,
        pid: usize,
        out: &mut Vec<Hit>,
        first_new: usize,
    ) {
        let orig = &norm.orig;
        // A hit must not end in the middle of a character's folded bytes (`œ` → `oe`).
        if e < orig.len() && orig[e] == orig[e - 1] {
            return;
        }
        let start = orig[s] as usize;
        let last = orig[e - 1] as usize;
        let end = last + source_len(text, last);
        for owner in &self.owners[pid] {
            if !self.boundaries_ok(text, norm, s, e, end, owner) {
                continue;
            }
            if let Some(spellings) = &owner.strict {
                let found = &text[start..end];
                if !spellings.iter().any(|sp| sp == found) {
                    continue;
                }
            }
            let hit = Hit {
                target: owner.target,
                start,
                end,
                domain: owner.form == Form::Domain,
            };
            // Keep the longest hit per start and target (patterns end in increasing order).
            if let Some(prev) = out[first_new..]
                .iter_mut()
                .rev()
                .take_while(|h| h.start == start)
                .find(|h| h.target == hit.target)
            {
                prev.end = prev.end.max(hit.end);
                prev.domain |= hit.domain;
            } else {
                out.push(hit);
            }
        }
    }

    fn boundaries_ok(
        &self,
        text: &str,
        norm: &Normalized,
        s: usize,
        e: usize,
        end: usize,
        owner: &Owner,
    ) -> bool {
        match owner.form {
            Form::Cue { stem: true } => {}
            Form::Cyrillic => {
                let mut tail = 0;
                let mut rest = text[end..]
                    .chars()
                    .filter(|&c| !crate::normalize::is_transparent(c));
                loop {
                    match rest.next() {
                        Some(c) if is_word_char(c) => {
                            tail += 1;
                            if tail > MAX_CYRILLIC_ENDING || !('\u{0400}'..='\u{04FF}').contains(&c)
                            {
                                return false;
                            }
                        }
                        _ => break,
                    }
                }
            }
            _ => {
                if next_visible_char(text, end).is_some_and(is_word_char) {
                    return false;
                }
            }
        }
        let len = e - s;
        if len < GLUE_GUARD_LEN {
            let orig = &norm.orig;
            let mut glued_where_name_is_not = false;
            let mut all_single = true;
            let mut part_len = 1;
            for i in s + 1..e {
                let (a, b) = (orig[i - 1] as usize, orig[i] as usize);
                if b == a {
                    continue;
                }
                let gap_start = a + source_len(text, a);
                let joined = text[gap_start..b].chars().any(is_separator);
                if joined {
                    if part_len > 1 {
                        all_single = false;
                    }
                    part_len = 1;
                    if owner.sep_mask & (1u64 << (i - s)) == 0 {
                        glued_where_name_is_not = true;
                    }
                } else {
                    part_len += 1;
                }
            }
            if part_len > 1 {
                all_single = false;
            }
            if glued_where_name_is_not && !all_single {
                return false;
            }
        }
        true
    }
}

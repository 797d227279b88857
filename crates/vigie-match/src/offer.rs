//! Whether a post offers data, and what it is about, from its cues.
//!
//! The rule is a weighted count, written so that an analyst can follow it:
//!
//! | cue kind | weight (counted at most) |
//! |---|---|
//! | sale (`vends`, `selling`, `продам`) | 3 (×2) |
//! | leak-site listing (`countdown`, `data size`) | 2 (×3) |
//! | free dump (`free download`, `слив`) | 2 (×2) |
//! | sample or proof (`échantillon`, `пруфы`) | 2 (×2) |
//! | price or currency, amounts with a currency | 2 (×2) |
//! | escrow (`escrow`, `гарант`) | 2 (×1) |
//! | contact (`DM`, `tox`, `в лс`) | 1 (×2) |
//! | data words (`base de données`, `dump`, `lignes`) | 1 (×3) |
//! | buying (`WTB`, `achète`, `куплю`) | −3 (×2) |
//! | news reporting (`selon`, `according to`, `сообщает`) | −2 (×4) |
//!
//! A post is an offer when the score is at least [`OFFER_THRESHOLD`] and it has a primary cue:
//! a sale verb, a leak-site listing (two cues), a free dump of data, or a sample with a price or
//! contact. A post that only asks to buy is never an offer.

use std::collections::BTreeMap;

use vigie_core::Topic;

use crate::cues::{CueKind, CUES};

/// The score a post needs to be an offer.
pub const OFFER_THRESHOLD: i32 = 5;

/// Cue hits of a document, by cue index.
#[derive(Debug, Default, Clone)]
pub struct CueCounts {
    /// Hits per cue index in [`CUES`].
    pub by_cue: BTreeMap<u16, u32>,
}

impl CueCounts {
    /// Counts one hit.
    pub fn add(&mut self, cue: u16) {
        *self.by_cue.entry(cue).or_insert(0) += 1;
    }

    /// Adds another window's hits.
    pub fn merge(&mut self, other: CueCounts) {
        for (cue, n) in other.by_cue {
            *self.by_cue.entry(cue).or_insert(0) += n;
        }
    }

    /// Hits of one kind.
    pub fn kind(&self, kind: CueKind) -> i32 {
        self.by_cue
            .iter()
            .filter(|(&c, _)| CUES[c as usize].kind == kind)
            .map(|(_, &n)| n as i32)
            .sum()
    }

    /// The phrases of the cues seen, for the report.
    pub fn phrases(&self) -> Vec<String> {
        self.by_cue
            .keys()
            .map(|&c| CUES[c as usize].phrase.to_string())
            .collect()
    }
}

/// What the cues say about a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    /// Whether the document offers data.
    pub leak_offer: bool,
    /// Whether it reads as a news report.
    pub news: bool,
    /// Its topics.
    pub topics: Vec<Topic>,
    /// The offer score, for explanations.
    pub score: i32,
}

/// Applies the rule in the module docs. `prices` are amounts written with a currency;
/// `credentials` the valid credentials found.
pub fn assess(cues: &CueCounts, prices: u64, credentials: u64) -> Assessment {
    use CueKind::*;
    let k = |kind| cues.kind(kind);
    let price = k(Price) + prices.min(2) as i32;
    let (sale, buy, free, leak, sample) = (k(Sale), k(Buy), k(Free), k(LeakSite), k(Sample));
    let (contact, escrow, data, news) = (k(Contact), k(Escrow), k(Data), k(News));
    let score = 3 * sale.min(2)
        + 2 * leak.min(3)
        + 2 * free.min(2)
        + 2 * sample.min(2)
        + 2 * price.min(2)
        + 2 * escrow.min(1)
        + contact.min(2)
        + data.min(3)
        - 3 * buy.min(2)
        - 2 * news.min(4);
    let primary = sale > 0
        || leak >= 2
        || (free > 0 && data > 0)
        || (sample > 0 && (price > 0 || contact > 0));
    let only_buying = buy > 0 && sale == 0 && leak == 0 && free == 0;
    let leak_offer = primary && !only_buying && score >= OFFER_THRESHOLD;

    let mut topics = Vec::new();
    let drugs = k(Drug);
    if drugs > 0 && (k(NoPrescription) > 0 || sale > 0 || price > 0 || drugs >= 3) {
        topics.push(Topic::CounterfeitMedicine);
    }
    if credentials > 0 || (k(CredentialWord) > 0 && (sale > 0 || free > 0 || price > 0)) {
        topics.push(Topic::Credentials);
    }
    if k(Ransomware) > 0 || leak >= 2 {
        topics.push(Topic::Ransomware);
    }
    Assessment {
        leak_offer,
        news: news >= 2 && !leak_offer,
        topics,
        score,
    }
}

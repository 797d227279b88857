//! Whether a post offers data, and what it is about, from its cues.
//!
//! The rule is a weighted count, written so that an analyst can follow it:
//!
//! Each distinct cue counts once, however often it is repeated.
//!
//! | cue kind | weight (distinct cues counted at most) |
//! |---|---|
//! | sale (`vends`, `selling`, `продам`, auctions) | 3 (×2) |
//! | leak-site listing (`countdown`, `data size`) | 2 (×3) |
//! | free release (`free download`, `слив`) | 3 (×2) |
//! | volume claim (`1.2M lines`, `300k patients`, `50 тыс строк`) | 2 (×1) |
//! | sample or proof (`échantillon`, `пруфы`) | 2 (×2) |
//! | price or currency, amounts with a currency | 2 (×2) |
//! | escrow (`escrow`, `гарант`) | 2 (×1) |
//! | contact (`DM`, `tox`, `в лс`, `@handle`, `t.me/…`) | 1 (×2) |
//! | data words (`base de données`, `dump`, `leak`, `fullz`) | 1 (×3) |
//! | generic words (`sell`, `published`, `contact`) | 1 (×2) |
//! | buying (`WTB`, `achète`, `куплю`) | −3 (×2) |
//! | news reporting (`selon`, `according to`, `сообщает`) | −2 (×4) |
//!
//! A post is an offer when the score is at least [`OFFER_THRESHOLD`] and it has a primary cue:
//! a sale or a free release *of data or access* (a data word, a volume claim, a sample, valid
//! identifiers, or logins/VPN/RDP alongside), a leak-site listing (two cues, or one and a data
//! size), a volume claim with a price or contact, or a sample with a price or contact and a data
//! word or identifiers. Selling a car is not an offer; a post that only asks to buy never is.

use std::collections::BTreeMap;

use vigie_core::Topic;

use crate::cues::{CueKind, CUES};

/// The score a post needs to be an offer.
pub const OFFER_THRESHOLD: i32 = 4;

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

    /// Distinct cues of one kind seen: a word repeated through a long text (`published` in a
    /// licence) counts once.
    pub fn kind(&self, kind: CueKind) -> i32 {
        self.by_cue
            .keys()
            .filter(|&&c| CUES[c as usize].kind == kind)
            .count() as i32
    }

    /// The phrases of the offer and topic cues seen, for the report (health context words are
    /// left out).
    pub fn phrases(&self) -> Vec<String> {
        self.by_cue
            .keys()
            .map(|&c| &CUES[c as usize])
            .filter(|c| c.kind != CueKind::Health)
            .map(|c| c.phrase.to_string())
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

/// Signals found outside the cue words.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Signals {
    /// Amounts written with a currency (`500$`, `0,5 BTC`).
    pub prices: u64,
    /// Volume claims (`1.2M lines`, `300k patients`).
    pub volumes: u64,
    /// Contact handles (`@seller`, `t.me/...`).
    pub contacts: u64,
    /// Valid credentials at watched domains.
    pub credentials: u64,
    /// Valid personal identifiers of any kind.
    pub identifiers: u64,
}

/// Applies the rule in the module docs.
pub fn assess(cues: &CueCounts, signals: Signals) -> Assessment {
    use CueKind::*;
    let k = |kind| cues.kind(kind);
    let price = k(Price) + signals.prices.min(2) as i32;
    let contact = k(Contact) + signals.contacts.min(2) as i32;
    let volume = signals.volumes.min(1) as i32;
    let (sale, buy, free, leak, sample) = (k(Sale), k(Buy), k(Free), k(LeakSite), k(Sample));
    let (escrow, data, news, weak) = (k(Escrow), k(Data), k(News), k(Weak));
    let score = 3 * sale.min(2)
        + 2 * leak.min(3)
        + 3 * free.min(2)
        + 2 * volume
        + 2 * sample.min(2)
        + 2 * price.min(2)
        + 2 * escrow.min(1)
        + contact.min(2)
        + data.min(3)
        + weak.min(2)
        - 3 * buy.min(2)
        - 2 * news.min(4);
    // What is on offer must be data, or access to systems (logins, VPN, RDP): selling a car
    // is not a leak.
    let of_data =
        data > 0 || volume > 0 || sample > 0 || signals.identifiers > 0 || k(CredentialWord) > 0;
    let primary = (sale > 0 && of_data)
        || leak >= 2
        || (leak >= 1 && volume > 0)
        || (free > 0 && of_data)
        || (volume > 0 && (price > 0 || contact > 0))
        || (sample > 0 && (price > 0 || contact > 0) && (data > 0 || signals.identifiers > 0));
    let only_buying = buy > 0 && sale == 0 && leak == 0 && free == 0;
    let leak_offer = primary && !only_buying && score >= OFFER_THRESHOLD;

    let mut topics = Vec::new();
    let drugs = k(Drug);
    if drugs > 0 && (k(NoPrescription) > 0 || sale > 0 || price > 0 || free > 0 || drugs >= 3) {
        topics.push(Topic::CounterfeitMedicine);
    }
    if signals.credentials > 0 || (k(CredentialWord) > 0 && (sale > 0 || free > 0 || price > 0)) {
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

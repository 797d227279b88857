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
//!
//! # Document kinds
//!
//! The kind is decided in this order, the first that holds wins:
//!
//! 1. `ransomware_claim` when the caller says the document comes from a leak site
//!    ([`Origin::LeakSite`]): a victim entry is a claim by construction;
//! 2. `news` when it says so ([`Origin::News`]), or when the text has two news-reporting cues,
//!    no countdown, and neither its offer score nor its claim score minus 2 per reporting cue
//!    reaches its threshold;
//! 3. `request` when it asks to buy (`WTB`, `je cherche`, `куплю`) and neither sells, gives,
//!    nor publishes anything;
//! 4. `ransomware_claim` when its claim score ([`CLAIM_THRESHOLD`]) is reached with an anchor —
//!    a leak-site or extortion phrase, a countdown, a named group, or a ransomware word with a
//!    data size — unless it is a plain sale (sale words or prices and no leak-site, extortion
//!    phrase or countdown). Claim score: leak-site cues 2 each (≤3), extortion phrases 2 each
//!    (≤3), ransomware words 1 each (≤2), a named group 2 (an ambiguous name, `Play`, 1 and
//!    only beside another signal), a countdown 3, a data size 2, a file tree 2, a named group
//!    beside a watched organisation 1;
//! 5. `sale` when the offer rule above holds through a sale, a volume with a price or
//!    contact, or a sample with a price or contact;
//! 6. `free_dump` when data is given away (a free-release cue with data and no price), or the
//!    document *is* a dump: at least 3 sample rows, 5 combolist lines, 3 SQL inserts or 3
//!    credentials;
//! 7. `teaser` when something is announced for later (`coming soon`, `bientôt`, `скоро`) about
//!    data, a named organisation or a group;
//! 8. `request` when there are buying cues after all; `discussion` otherwise.
//!
//! `leak_offer` is derived: the kind is `sale`, `free_dump` or `ransomware_claim`.

use std::collections::BTreeMap;

use vigie_core::{DocumentKind, Origin, Topic};

use crate::claim::ClaimSignals;
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

    /// Whether a cue naming a place of care, its patients or their records was seen
    /// ([`crate::cues::CARE_WORDS`]).
    pub fn care_words(&self) -> bool {
        self.by_cue
            .keys()
            .any(|&c| crate::cues::CARE_WORDS.contains(&CUES[c as usize].phrase))
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

/// The claim score a document needs to be a ransomware claim (with an anchor).
pub const CLAIM_THRESHOLD: i32 = 4;

/// What the cues say about a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    /// What the document is.
    pub kind: DocumentKind,
    /// Whether the document offers data: derived from `kind`.
    pub leak_offer: bool,
    /// Whether it reads as a news report.
    pub news: bool,
    /// Its topics.
    pub topics: Vec<Topic>,
    /// The offer score, for explanations.
    pub score: i32,
    /// The ransomware-claim score, for explanations.
    pub claim_score: i32,
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
    /// Rows of the largest sample.
    pub sample_rows: u64,
    /// Data sizes, countdowns, file trees, combolist lines, SQL inserts.
    pub claim: ClaimSignals,
    /// Distinct ransomware groups named by an unambiguous name.
    pub groups: u32,
    /// Distinct groups named only by an ambiguous name (`Play`, `Royal`).
    pub ambiguous_groups: u32,
    /// Whether a watched organisation is named.
    pub named: bool,
    /// Where the document was collected, when known.
    pub origin: Origin,
}

/// Applies the rules in the module docs.
pub fn assess(cues: &CueCounts, signals: Signals) -> Assessment {
    use CueKind::*;
    let k = |kind| cues.kind(kind);
    let price = k(Price) + signals.prices.min(2) as i32;
    let contact = k(Contact) + signals.contacts.min(2) as i32;
    let volume = signals.volumes.min(1) as i32;
    let tag = |bit: u8| i32::from(signals.claim.tags & bit != 0);
    let (sale, buy, free) = (k(Sale) + tag(1), k(Buy) + tag(2), k(Free) + tag(4));
    let (leak, sample) = (k(LeakSite), k(Sample));
    let (escrow, data, news, weak) = (k(Escrow), k(Data), k(News), k(Weak));
    let (extortion, ransomware, teaser) = (k(Extortion), k(Ransomware), k(Teaser));
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

    let c = &signals.claim;
    let countdown = c.countdown();
    let sized = c.data_sizes > 0;
    let other_claim_signal = leak + extortion + ransomware > 0 || countdown || sized;
    let ambiguous_group = signals.ambiguous_groups > 0 && other_claim_signal;
    let claim_score = 2 * leak.min(3)
        + 2 * extortion.min(3)
        + ransomware.min(2)
        + 2 * i32::from(signals.groups > 0)
        + i32::from(ambiguous_group)
        + 3 * i32::from(countdown)
        + 2 * i32::from(sized)
        + 2 * i32::from(c.file_tree())
        // A group and a watched victim side by side: what a leak-site listing is.
        + i32::from(signals.named && signals.groups > 0);
    let anchor =
        leak > 0 || extortion > 0 || countdown || signals.groups > 0 || (ransomware > 0 && sized);
    let plain_sale = (sale > 0 || price > 0) && leak == 0 && extortion == 0 && !countdown;
    let claim = anchor && claim_score >= CLAIM_THRESHOLD && !plain_sale;

    let sale_primary = (sale > 0 && of_data)
        || (volume > 0 && (price > 0 || contact > 0))
        || (sample > 0 && (price > 0 || contact > 0) && (data > 0 || signals.identifiers > 0));
    // A buyer asks for data or access; "quelqu'un a une idée ?" asks for nothing.
    let only_buying = buy > 0
        && sale == 0
        && leak == 0
        && free == 0
        && extortion == 0
        && (of_data || signals.named || price > 0);
    let is_sale = sale_primary && !only_buying && score >= OFFER_THRESHOLD;
    let dump_shaped = signals.sample_rows >= crate::sample::MIN_ROWS
        || c.combo_lines >= 5
        || c.sql_rows >= 3
        || signals.credentials >= 3;
    // Rows pasted without sale terms are a dump, even if a price word strays in ("no price").
    let is_free = (free > 0 && of_data && price == 0) || dump_shaped;
    // A report quotes prices, sizes and leak-site words too: it is news unless the offer or
    // the claim still stands once each reporting cue has cost it 2.
    let reads_as_news = signals.origin == Origin::News
        || (news >= 2
            && !countdown
            && score < OFFER_THRESHOLD
            && claim_score - 2 * news.min(4) < CLAIM_THRESHOLD);

    let kind = if signals.origin == Origin::LeakSite {
        DocumentKind::RansomwareClaim
    } else if reads_as_news {
        DocumentKind::News
    } else if only_buying && !countdown {
        DocumentKind::Request
    } else if claim {
        DocumentKind::RansomwareClaim
    } else if is_sale {
        DocumentKind::Sale
    } else if is_free {
        DocumentKind::FreeDump
    } else if teaser > 0
        && (of_data
            || free > 0
            || leak > 0
            || signals.named
            || signals.groups > 0
            || ransomware > 0)
        && price == 0
    {
        DocumentKind::Teaser
    } else if buy > 0 && sale == 0 && (of_data || signals.named) {
        DocumentKind::Request
    } else {
        DocumentKind::Discussion
    };
    let leak_offer = kind.is_leak();

    let mut topics = Vec::new();
    let drugs = k(Drug);
    if drugs > 0 && (k(NoPrescription) > 0 || sale > 0 || price > 0 || free > 0 || drugs >= 3) {
        topics.push(Topic::CounterfeitMedicine);
    }
    if signals.credentials > 0 || (k(CredentialWord) > 0 && (sale > 0 || free > 0 || price > 0)) {
        topics.push(Topic::Credentials);
    }
    if ransomware > 0 || leak >= 2 || kind == DocumentKind::RansomwareClaim {
        topics.push(Topic::Ransomware);
    }
    Assessment {
        kind,
        leak_offer,
        news: kind == DocumentKind::News,
        topics,
        score,
        claim_score,
    }
}

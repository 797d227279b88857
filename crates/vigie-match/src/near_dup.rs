//! Near-duplicate signatures: the same sale reposted with another price, seller handle or
//! contact must get (almost) the same [`Signature`].
//!
//! Words are lower-cased and stripped of accents; then every word that carries what sellers
//! edit between reposts is replaced by its class: anything with a digit (prices, counts, dates,
//! identifiers) by `#`, a handle or e-mail domain after `@` by `@`, a word longer than 30
//! characters (onion addresses, hashes, keys) by `~`. The signature is a one-permutation MinHash
//! (64 bins, densified by rotation) over word 3-shingles: one hash per shingle, so computing it
//! costs about as much as reading the text once.

use unicode_normalization::char::decompose_canonical;
use vigie_core::{Signature, SIGNATURE_LEN};

const LONG_WORD: usize = 30;
const CLASS_NUMBER: u64 = 0x4e55_4d42_4552_2323;
const CLASS_HANDLE: u64 = 0x4841_4e44_4c45_4040;
const CLASS_LONG: u64 = 0x4c4f_4e47_5752_7e7e;

/// The near-duplicate signature of a document's text (already turned from HTML into text).
///
/// ```
/// use vigie_match::near_dup::signature;
/// let a = signature("Vends base patients CHU de Nantes, 300k lignes, prix 2 BTC, contact @seller1 sur tox");
/// let b = signature("Vends base patients CHU de Nantes, 280k lignes, prix 3 BTC, contact @sellerbis sur tox");
/// assert_eq!(a.similarity(&b), 1.0);
/// ```
pub fn signature(text: &str) -> Signature {
    let mut bins = [u64::MAX; SIGNATURE_LEN];
    let mut window = [0u64; 3];
    let mut seen = 0usize;
    let mut add = |token: u64, bins: &mut [u64; SIGNATURE_LEN]| {
        window = [window[1], window[2], token];
        seen += 1;
        if seen >= 3 {
            let h = mix(window[0] ^ mix(window[1] ^ mix(window[2])));
            let bin = (h >> 58) as usize;
            bins[bin] = bins[bin].min(h & 0x03ff_ffff_ffff_ffff);
        }
    };
    let mut word = Word::default();
    let mut after_at = false;
    for c in text.chars() {
        // `_` joins words: `@nantes_dumps` is one handle, not a handle and a word.
        if is_word_char(c) || (c == '_' && !word.is_empty()) {
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            add(word.finish(after_at), &mut bins);
        }
        after_at = c == '@';
    }
    if !word.is_empty() {
        add(word.finish(after_at), &mut bins);
    }
    if (1..3).contains(&seen) {
        // A text of one or two words: one shingle of what there is.
        let h = mix(window[0] ^ mix(window[1] ^ mix(window[2])));
        let bin = (h >> 58) as usize;
        bins[bin] = bins[bin].min(h & 0x03ff_ffff_ffff_ffff);
    }
    densify(&bins)
}

/// Fills empty bins from the next filled bin to the right, so that two texts with few
/// shingles still compare bin by bin (Shrivastava's rotation densification).
fn densify(bins: &[u64; SIGNATURE_LEN]) -> Signature {
    let mut out = [u32::MAX; SIGNATURE_LEN];
    if bins.iter().all(|&b| b == u64::MAX) {
        return Signature(out);
    }
    for (i, v) in out.iter_mut().enumerate() {
        let mut distance = 0u64;
        let mut j = i;
        while bins[j] == u64::MAX {
            j = (j + 1) % SIGNATURE_LEN;
            distance += 1;
        }
        let value = bins[j].wrapping_add(distance.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        *v = (mix(value) >> 32) as u32;
    }
    Signature(out)
}

/// `char::is_alphanumeric`, with the scripts of the posts Vigie reads (ASCII, Latin-1 and
/// Latin Extended-A, Cyrillic) answered without the Unicode table look-up.
fn is_word_char(c: char) -> bool {
    match c {
        'a'..='z' | 'A'..='Z' | '0'..='9' => true,
        '\0'..='\u{7f}' => false,
        '\u{c0}'..='\u{17f}' => c != '\u{d7}' && c != '\u{f7}',
        '\u{410}'..='\u{44f}' | '\u{401}' | '\u{451}' => true,
        _ => c.is_alphanumeric(),
    }
}

#[derive(Default)]
struct Word {
    hash: u64,
    chars: usize,
    digit: bool,
}

impl Word {
    fn is_empty(&self) -> bool {
        self.chars == 0
    }

    fn push(&mut self, c: char) {
        self.chars += 1;
        if c.is_ascii_digit() || (!c.is_ascii() && c.is_numeric()) {
            self.digit = true;
            return;
        }
        let base = if c.is_ascii() {
            c.to_ascii_lowercase()
        } else if ('\u{410}'..='\u{42f}').contains(&c) {
            // Cyrillic capitals: lower-case by offset, no decomposition needed.
            char::from_u32(u32::from(c) + 0x20).unwrap_or(c)
        } else if ('\u{430}'..='\u{44f}').contains(&c) {
            c
        } else {
            let mut first = c;
            decompose_canonical(c, |d| {
                if first == c {
                    first = d;
                }
            });
            first.to_lowercase().next().unwrap_or(first)
        };
        self.hash = (self.hash ^ u64::from(u32::from(base))).wrapping_mul(0x0100_0000_01b3);
    }

    fn finish(&mut self, after_at: bool) -> u64 {
        let token = if after_at {
            CLASS_HANDLE
        } else if self.digit {
            CLASS_NUMBER
        } else if self.chars > LONG_WORD {
            CLASS_LONG
        } else {
            self.hash ^ self.chars as u64
        };
        *self = Word::default();
        token
    }
}

/// splitmix64's finaliser.
fn mix(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SALE: &str = "[VENTE] Base patients du Centre Hospitalier de Dax — 1.2M lignes\n\
        Dump complet de la base de gestion administrative des patients: nom, prénom, date de \
        naissance, NIR, adresse, téléphone, mutuelle, médecin traitant. Extraction de mars.\n\
        Échantillon gratuit de 50 lignes pour les acheteurs sérieux. Prix: 4000 USD en XMR, \
        escrow accepté via le forum. Pas de revente, pas de négociation en public.\n\
        Contact: @dax_seller sur Telegram, ou tox ABCDEF0123456789ABCDEF0123456789ABCDEF012345";

    #[test]
    fn reposts_with_edited_price_handle_and_contact_are_near_identical() {
        let edited = SALE
            .replace("4000 USD", "3500 USD")
            .replace("@dax_seller", "@daxdb_official")
            .replace(
                "ABCDEF0123456789ABCDEF0123456789ABCDEF012345",
                "99887766554433221100FFEEDDCCBBAA0011223344",
            );
        let s = signature(SALE).similarity(&signature(&edited));
        assert!(s >= 0.9, "similarity {s}");
        assert_eq!(
            signature("contact @dax_seller now").similarity(&signature("contact @x now")),
            1.0
        );
        // Case, accents and layout do not matter.
        let shouted = SALE.to_uppercase().replace('\n', "  ").replace('é', "e");
        let s = signature(SALE).similarity(&signature(&shouted));
        assert!(s >= 0.9, "similarity {s}");
    }

    #[test]
    fn different_texts_are_far_apart() {
        let other = "Selling fresh combolists, 40k mail:pass from French webmail providers, \
            checked yesterday, no health data, price 50$ per 10k, escrow only, DM for samples.";
        let s = signature(SALE).similarity(&signature(other));
        assert!(s < 0.2, "similarity {s}");
    }

    #[test]
    fn fast_word_test_agrees_with_unicode() {
        for u in 0u32..0x2000 {
            if let Some(c) = char::from_u32(u) {
                assert_eq!(is_word_char(c), c.is_alphanumeric(), "U+{u:04X}");
            }
        }
        // Cyrillic case folding by offset matches the Unicode lower case.
        let a = signature("ПРОДАМ БАЗУ ПАЦИЕНТОВ БОЛЬНИЦЫ");
        let b = signature("продам базу пациентов больницы");
        assert_eq!(a.similarity(&b), 1.0);
    }

    #[test]
    fn short_and_empty_texts() {
        assert_eq!(signature("").similarity(&signature("")), 1.0);
        assert_eq!(signature("hello").similarity(&signature("Hello")), 1.0);
        assert!(signature("hello").similarity(&signature("world")) < 0.2);
        // Punctuation only: no words at all, same as empty.
        assert_eq!(signature("!!! ---").similarity(&signature("")), 1.0);
    }
}

//! A document's text for display: organisation mentions highlighted, identifier-like values
//! masked. Masking is deliberately broader than the matcher (any run of six digits or more,
//! any e-mail's local part, what follows an e-mail after `:` `|` or `;`): a viewer must not
//! read a raw NIR in a page, even one the matcher did not validate. Linear in the text.

use vigie_core::Report;

/// Text shown per document, at most (the rest is behind the evidence download).
pub const MAX_SHOWN: usize = 64 * 1024;

/// A piece of the shown text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub text: String,
    /// An organisation mention.
    pub mark: bool,
}

fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Masks identifier-like values, keeping every byte offset (each masked byte becomes `*`,
/// so offsets into the original text stay valid).
pub fn mask(text: &str) -> String {
    let mut b = text.as_bytes().to_vec();
    let n = b.len();
    // Digit runs (separators ' ', '.', '-', '/' allowed between digits).
    let mut i = 0;
    while i < n {
        if !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let mut digits = Vec::new();
        let mut j = i;
        while j < n {
            if b[j].is_ascii_digit() {
                digits.push(j);
                j += 1;
            } else if matches!(b[j], b' ' | b'.' | b'-' | b'/')
                && j + 1 < n
                && b[j + 1].is_ascii_digit()
            {
                j += 1;
            } else {
                break;
            }
        }
        if digits.len() >= 6 {
            for &d in &digits[..digits.len() - 2] {
                b[d] = b'*';
            }
        }
        i = j.max(i + 1);
    }
    // E-mails: the local part (after its first character), and a credential after it.
    let local = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'%' | b'+' | b'-');
    let domain = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-');
    let mut i = 0;
    while i < n {
        if b[i] != b'@' {
            i += 1;
            continue;
        }
        let mut s = i;
        while s > 0 && local(b[s - 1]) {
            s -= 1;
        }
        let mut e = i + 1;
        while e < n && domain(b[e]) {
            e += 1;
        }
        let has_dot = b[i + 1..e].contains(&b'.');
        if s < i && has_dot {
            for c in &mut b[s + 1..i] {
                *c = b'*';
            }
            if e < n && matches!(b[e], b':' | b'|' | b';') {
                let mut k = e + 1;
                while k < n && !b[k].is_ascii_whitespace() {
                    b[k] = b'*';
                    k += 1;
                }
                e = k;
            }
        }
        i = e.max(i + 1);
    }
    // Only ASCII bytes inside whole ASCII runs were replaced: still UTF-8.
    String::from_utf8(b).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// The text cut to [`MAX_SHOWN`], masked, split into plain and highlighted segments at the
/// report's organisation mentions (those whose offsets still hold the matched text).
pub fn segments(text: &str, report: &Report) -> (Vec<Segment>, bool) {
    let shown = cut(text, MAX_SHOWN);
    let truncated = shown.len() < text.len();
    let mut ranges: Vec<(usize, usize)> = report
        .entities
        .iter()
        .flat_map(|e| e.matches.iter())
        .filter_map(|m| {
            let (s, e) = (m.start as usize, m.end as usize);
            (shown.get(s..e) == Some(m.text.as_str())).then_some((s, e))
        })
        .collect();
    ranges.sort_unstable();
    let masked = mask(shown);
    let mut out = Vec::new();
    let mut at = 0;
    for (s, e) in ranges {
        if s < at {
            continue;
        }
        if let (Some(before), Some(hit)) = (masked.get(at..s), masked.get(s..e)) {
            if !before.is_empty() {
                out.push(Segment {
                    text: before.to_string(),
                    mark: false,
                });
            }
            out.push(Segment {
                text: hit.to_string(),
                mark: true,
            });
            at = e;
        }
    }
    if let Some(rest) = masked.get(at..) {
        if !rest.is_empty() {
            out.push(Segment {
                text: rest.to_string(),
                mark: false,
            });
        }
    }
    (out, truncated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_masked_and_offsets_kept() {
        // A NIR, a phone, an e-mail with its password, a price and a year.
        let t = "nir 1 85 05 75 123 456 42, tel 06 12 34 56 78, jean.dupont@chu-x.fr:Secret!1 prix 2500 en 2024";
        let m = mask(t);
        assert_eq!(m.len(), t.len());
        assert!(m.contains("* ** ** ** *** *** 42"), "{m}");
        assert!(m.contains("** ** ** ** 78"), "{m}");
        assert!(m.contains("j**********@chu-x.fr:******** prix"), "{m}");
        assert!(m.contains("prix 2500 en 2024"), "{m}");
        assert!(!m.contains("Secret"));
    }
}

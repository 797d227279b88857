//! Classifies 16 bytes at a time: which are ASCII letters or digits, which are digits, and
//! which need the careful path (non-ASCII bytes, `&`, `@`, `$`). SSE2 on x86-64 (always
//! present there), a scalar loop elsewhere.

/// Masks for one 16-byte block: bit i describes byte i.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockMasks {
    /// ASCII letters and digits.
    pub word: u16,
    /// ASCII digits.
    pub digit: u16,
    /// Bytes the fast path does not handle: non-ASCII, `&`, `@`, `$`.
    pub special: u16,
}

/// Classifies `block`.
#[inline]
pub fn classify(block: &[u8; 16]) -> BlockMasks {
    #[cfg(target_arch = "x86_64")]
    {
        classify_sse2(block)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        classify_scalar(block)
    }
}

#[cfg(target_arch = "x86_64")]
#[inline]
fn classify_sse2(block: &[u8; 16]) -> BlockMasks {
    use std::arch::x86_64::*;
    // SAFETY: SSE2 is part of the x86-64 baseline, and the load reads exactly the 16 bytes of
    // `block` (unaligned loads are allowed).
    unsafe {
        let v = _mm_loadu_si128(block.as_ptr().cast());
        let set = |b: u8| _mm_set1_epi8(b as i8);
        // Signed compares are right for ASCII; non-ASCII bytes are negative and fall outside.
        let digit = _mm_and_si128(
            _mm_cmpgt_epi8(v, set(b'0' - 1)),
            _mm_cmplt_epi8(v, set(b'9' + 1)),
        );
        let lower = _mm_or_si128(v, set(0x20));
        let letter = _mm_and_si128(
            _mm_cmpgt_epi8(lower, set(b'a' - 1)),
            _mm_cmplt_epi8(lower, set(b'z' + 1)),
        );
        let word = _mm_or_si128(digit, letter);
        let special = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(v, set(b'&')), _mm_cmpeq_epi8(v, set(b'@'))),
            _mm_cmpeq_epi8(v, set(b'$')),
        );
        BlockMasks {
            word: _mm_movemask_epi8(word) as u16,
            digit: _mm_movemask_epi8(digit) as u16,
            special: (_mm_movemask_epi8(special) | _mm_movemask_epi8(v)) as u16,
        }
    }
}

#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline]
fn classify_scalar(block: &[u8; 16]) -> BlockMasks {
    let mut m = BlockMasks {
        word: 0,
        digit: 0,
        special: 0,
    };
    for (i, &b) in block.iter().enumerate() {
        let bit = 1u16 << i;
        if b.is_ascii_alphanumeric() {
            m.word |= bit;
        }
        if b.is_ascii_digit() {
            m.digit |= bit;
        }
        if b >= 0x80 || matches!(b, b'&' | b'@' | b'$') {
            m.special |= bit;
        }
    }
    m
}

/// The first ASCII digit at or after `from`.
#[inline]
pub fn next_digit(bytes: &[u8], mut from: usize) -> Option<usize> {
    while from + 16 <= bytes.len() {
        let block: &[u8; 16] = bytes[from..from + 16].try_into().ok()?;
        let digits = classify(block).digit;
        if digits != 0 {
            return Some(from + digits.trailing_zeros() as usize);
        }
        from += 16;
    }
    bytes[from..]
        .iter()
        .position(u8::is_ascii_digit)
        .map(|p| from + p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simd_and_scalar_agree() {
        let samples: [&[u8; 16]; 4] = [
            b"Hello, World 09!",
            b"\xc3\xa9t\xc3\xa9 & @ $ 5z[`",
            b"\x00\x7f\x80\xff AZaz09@$&-_",
            b"................",
        ];
        for s in samples {
            assert_eq!(classify(s), classify_scalar(s), "{s:?}");
        }
    }

    #[test]
    fn next_digit_finds_the_first() {
        let text = b"no digits in this part of the text, then 42 and 7";
        assert_eq!(next_digit(text, 0), Some(41));
        assert_eq!(next_digit(text, 43), Some(48));
        assert_eq!(next_digit(text, 49), None);
    }
}

//! Cyrillic renderings of Latin names, for Russian posts.
//!
//! Russian-speaking sellers write "Фармажест" or "Фармагест" for Pharmagest and "Доктолиб" for
//! Doctolib. Rather than transliterating every Cyrillic word of every post back to Latin (which
//! is ambiguous and slow), each watched name is rendered into the few Cyrillic spellings a
//! Russian writer would choose, following French and English pronunciation rules. The
//! renderings then go through the normaliser's Cyrillic skeleton, which absorbs the remaining
//! freedom (soft signs, `я`/`иа`, doubled letters).

/// At most this many renderings per word, and per name.
const MAX_VARIANTS: usize = 8;

/// Renders a Latin name into likely Cyrillic spellings. Returns nothing for names that are
/// too short, acronyms, or not in Latin script.
pub fn cyrillic_variants(name: &str) -> Vec<String> {
    let words: Vec<String> = name
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect();
    if words.is_empty() {
        return Vec::new();
    }
    // Acronyms (AP-HP, CHU) are written in Latin in Russian posts too.
    if words
        .iter()
        .all(|w| w.chars().all(|c| !c.is_lowercase()) && w.chars().count() <= 5)
    {
        return Vec::new();
    }
    let ascii: Vec<String> = words.iter().map(|w| ascii_fold(w)).collect();
    if ascii.iter().any(|w| w.is_empty() || !w.is_ascii()) {
        return Vec::new();
    }
    if ascii.iter().map(String::len).sum::<usize>() < 5 {
        return Vec::new();
    }
    let mut combos = vec![String::new()];
    for word in &ascii {
        let options = word_variants(word);
        let mut next = Vec::new();
        for prefix in &combos {
            for option in &options {
                if next.len() >= MAX_VARIANTS {
                    break;
                }
                let mut s = prefix.clone();
                if !s.is_empty() {
                    s.push(' ');
                }
                s.push_str(option);
                next.push(s);
            }
        }
        combos = next;
    }
    combos
}

fn ascii_fold(word: &str) -> String {
    let mut out = String::new();
    for c in word.chars() {
        unicode_normalization::char::decompose_compatible(c, |d| {
            if !unicode_normalization::char::is_combining_mark(d) {
                out.extend(d.to_lowercase());
            }
        });
    }
    out.replace('œ', "oe").replace('æ', "ae")
}

/// Cyrillic spellings of one lowercase ASCII word, most likely first.
fn word_variants(word: &str) -> Vec<String> {
    let b = word.as_bytes();
    let mut out = vec![String::new()];
    let mut i = 0;
    while i < b.len() {
        let rest = &word[i..];
        let next = b.get(i + 1).copied();
        let soft_next = matches!(next, Some(b'e' | b'i' | b'y'));
        let at_end = i + 1 == b.len();
        let (options, used): (&[&str], usize) = if rest.starts_with("sch") {
            (&["ш"], 3)
        } else if rest.starts_with("eau") {
            (&["о"], 3)
        } else if rest.starts_with("ph") {
            (&["ф"], 2)
        } else if rest.starts_with("ch") {
            (&["ш", "х"], 2)
        } else if rest.starts_with("sh") {
            (&["ш"], 2)
        } else if rest.starts_with("th") {
            (&["т"], 2)
        } else if rest.starts_with("qu") {
            (&["к"], 2)
        } else if rest.starts_with("ou") {
            (&["у"], 2)
        } else if rest.starts_with("au") {
            (&["о"], 2)
        } else if (rest == "ay" || rest == "ey") && i > 0 {
            // English endings: Ramsay → Рамсей.
            (&["ей", "эй", "ай"], 2)
        } else if rest.starts_with("ai") || rest.starts_with("ei") {
            (&["е"], 2)
        } else if rest.starts_with("oi") {
            (&["уа"], 2)
        } else if rest.starts_with("gu") && matches!(b.get(i + 2), Some(b'e' | b'i')) {
            (&["г"], 2)
        } else if rest.starts_with("gn") {
            (&["нь"], 2)
        } else if rest.starts_with("ck") {
            (&["к"], 2)
        } else {
            let one: &[&str] = match b[i] {
                b'a' => &["а"],
                b'b' => &["б"],
                b'c' if soft_next => &["с", "ц"],
                b'c' => &["к"],
                b'd' => &["д"],
                b'e' if at_end && b.len() > 3 => &["", "е"],
                b'e' if i == 0 => &["е", "э"],
                b'e' => &["е"],
                b'f' => &["ф"],
                b'g' if soft_next => &["ж", "г"],
                b'g' => &["г"],
                b'h' => &["", "х"],
                b'i' => &["и"],
                b'j' => &["ж", "дж"],
                b'k' => &["к"],
                b'l' => &["л"],
                b'm' => &["м"],
                b'n' => &["н"],
                b'o' => &["о"],
                b'p' => &["п"],
                b'q' => &["к"],
                b'r' => &["р"],
                b's' => &["с"],
                b't' => &["т"],
                b'u' => &["у", "ю"],
                b'v' => &["в"],
                b'w' => &["в", "у"],
                b'x' => &["кс"],
                b'y' => &["и"],
                b'z' => &["з"],
                _ => &[],
            };
            (one, 1)
        };
        if options.is_empty() {
            // A digit or an unexpected character: keep it as is.
            for s in &mut out {
                s.push_str(&word[i..i + used]);
            }
        } else {
            let mut next_out = Vec::new();
            for prefix in &out {
                for option in options {
                    if next_out.len() >= MAX_VARIANTS {
                        break;
                    }
                    next_out.push(format!("{prefix}{option}"));
                }
            }
            out = next_out;
        }
        i += used;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::fold_name;

    fn meets(latin: &str, russian: &str) -> bool {
        let target = fold_name(russian);
        cyrillic_variants(latin)
            .iter()
            .any(|v| fold_name(v) == target)
    }

    #[test]
    fn common_russian_spellings_are_generated() {
        assert!(meets("Pharmagest", "Фармажест"));
        assert!(meets("Pharmagest", "Фармагест"));
        assert!(meets("Doctolib", "Доктолиб"));
        assert!(meets("Sanofi", "Санофи"));
        assert!(meets("Cerballiance", "Сербальянс"));
        assert!(meets("Cegedim", "Сежедим"));
        assert!(meets("Dedalus", "Дедалус"));
        assert!(meets("Biogroup", "Биогруп"));
        assert!(meets("Ramsay", "Рамсей"));
    }

    #[test]
    fn acronyms_and_short_names_get_none() {
        assert!(cyrillic_variants("AP-HP").is_empty());
        assert!(cyrillic_variants("CHU").is_empty());
        assert!(cyrillic_variants("Weda").is_empty());
    }
}

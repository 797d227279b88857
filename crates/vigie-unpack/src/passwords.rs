//! Candidate passwords stated in a post's own text (`pass: x`, `password = x`,
//! `mot de passe : x`, `mdp: x`, `пароль: x`). Never generated, never guessed.

/// Most candidates taken from one text.
const MAX_CANDIDATES: usize = 16;
/// Longest password kept (longer tokens are not passwords but pasted blobs).
const MAX_LEN: usize = 128;

/// Labels that announce a password, lowercased. Longest first so `password` wins over `pass`.
const LABELS: [&str; 10] = [
    "mot de passe",
    "password",
    "passwort",
    "passcode",
    "пароль",
    "pass",
    "pwd",
    "mdp",
    "pw",
    "код",
];

/// The passwords a post states, in the order it states them, without duplicates.
///
/// A label is recognised at a word start, followed by optional spaces/`:`/`=`/`-`/`—`/`is`;
/// the password is the next token up to whitespace, with surrounding quotes, backticks and
/// a trailing sentence point removed. Runs in one pass over the text.
pub fn passwords_from_text(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    // Lowercased char by char, keeping a char whose lowercase has another length: offsets in
    // `hay` are offsets in `text`.
    let lowered: String = text
        .chars()
        .map(|c| {
            let mut l = c.to_lowercase();
            match (l.next(), l.next()) {
                (Some(x), None) if x.len_utf8() == c.len_utf8() => x,
                _ => c,
            }
        })
        .collect();
    let hay: &str = &lowered;
    let mut i = 0;
    while i < hay.len() && out.len() < MAX_CANDIDATES {
        let Some(label) = LABELS.iter().find(|l| starts_with_ci(&hay[i..], l)) else {
            i += next_char_len(hay, i);
            continue;
        };
        let at_word_start = hay[..i]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric());
        let after = i + label.len();
        let follows_word = hay[after..]
            .chars()
            .next()
            .is_some_and(|c| c.is_alphanumeric());
        if !at_word_start || follows_word {
            i += next_char_len(hay, i);
            continue;
        }
        let (value, end) = value_after(text, after);
        if let Some(v) = value {
            if !out.contains(&v) {
                out.push(v);
            }
        }
        i = end.max(i + 1);
        while i < hay.len() && !hay.is_char_boundary(i) {
            i += 1;
        }
    }
    out
}

fn next_char_len(s: &str, i: usize) -> usize {
    s[i..].chars().next().map_or(1, char::len_utf8)
}

fn starts_with_ci(hay: &str, label: &str) -> bool {
    hay.get(..label.len())
        .is_some_and(|h| h.to_lowercase() == label)
}

/// The token after a label: separators skipped, then everything up to whitespace.
fn value_after(text: &str, start: usize) -> (Option<String>, usize) {
    let rest = &text[start..];
    let mut skipped = 0;
    let mut saw_separator = false;
    let mut chars = rest.char_indices().peekable();
    while let Some(&(idx, c)) = chars.peek() {
        if c == ':' || c == '=' || c == '-' || c == '—' || c == '–' {
            saw_separator = true;
        } else if !(c == ' ' || c == '\t') {
            skipped = idx;
            break;
        }
        chars.next();
        skipped = idx + c.len_utf8();
    }
    let rest = &rest[skipped..];
    // "password is X" / "pass est X".
    let rest = ["is ", "est "]
        .iter()
        .find_map(|w| rest.strip_prefix(w))
        .map_or(rest, |r| {
            saw_separator = true;
            r
        });
    if !saw_separator {
        return (None, start);
    }
    let consumed = text.len() - start - rest.len();
    let token_len = rest.find(|c: char| c.is_whitespace()).unwrap_or(rest.len());
    let raw = &rest[..token_len];
    let end = start + consumed + token_len;
    let quotes = |c| matches!(c, '"' | '\'' | '`' | '«' | '»' | '“' | '”' | '(' | ')');
    let trimmed = raw
        .trim_end_matches(['.', ',', ';'])
        .trim_matches(quotes)
        .trim_end_matches(['.', ',', ';']);
    if trimmed.is_empty() || trimmed.len() > MAX_LEN {
        return (None, end);
    }
    (Some(trimmed.to_string()), end)
}

#[cfg(test)]
mod tests {
    use super::passwords_from_text;

    #[test]
    fn the_usual_ways_a_post_states_a_password() {
        let post = "Dump CHU 50k lignes. Archive: patients.7z\npass: Ch3rry!2024\n\
                    Mot de passe : `leak-chu`. mdp=azerty123 — пароль: Тест42\n\
                    password is \"s3cret\"";
        assert_eq!(
            passwords_from_text(post),
            vec!["Ch3rry!2024", "leak-chu", "azerty123", "Тест42", "s3cret"]
        );
    }

    #[test]
    fn words_that_only_contain_a_label_are_not_passwords() {
        assert!(passwords_from_text("passport: 12, compass: nord, bypass the wall").is_empty());
        assert!(passwords_from_text("the password was leaked").is_empty());
        assert!(passwords_from_text("pass:").is_empty());
    }

    #[test]
    fn letters_whose_lowercase_changes_length_do_not_shift_offsets() {
        // 'İ' lowercases to two chars, 'ẞ' to a shorter one.
        assert_eq!(passwords_from_text("İİİ ẞ pass: x1 İ"), vec!["x1"]);
        assert_eq!(
            passwords_from_text("ẞẞẞẞ PASS: Ab ẞ mdp: İz"),
            vec!["Ab", "İz"]
        );
    }

    proptest::proptest! {
        #[test]
        fn any_text_is_read_without_panic(s in "\\PC{0,200}", t in "(pass|mdp|пароль|İ|ẞ|:| |x|=){0,40}") {
            let _ = passwords_from_text(&s);
            let _ = passwords_from_text(&t);
            let _ = passwords_from_text(&format!("{t}{s}{t}"));
        }
    }

    #[test]
    fn duplicates_are_kept_once_and_the_list_is_bounded() {
        assert_eq!(passwords_from_text("pass: a pass: a"), vec!["a"]);
        let many: String = (0..100).map(|i| format!("pass: p{i} ")).collect();
        assert_eq!(passwords_from_text(&many).len(), 16);
    }
}

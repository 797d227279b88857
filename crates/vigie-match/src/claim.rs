//! Shapes of text that leak sites and dumps have and forum chatter rarely does: data sizes
//! (`1.4 TB`, `200 Go`, `50 ГБ`), countdowns (`3 days 04 hours 12 minutes`, `2d 5h 10m 3s`),
//! file-tree listings, combolist lines (`user@mail.tld:secret`) and SQL inserts.
//!
//! One pass over the lines of a window, linear in its length; nothing is kept but counts.

/// Counts of the shapes found in a window; windows merge by adding.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ClaimSignals {
    /// Amounts of data (`1.4 TB`, `230GB`, `500 Go`, `3 ТБ`).
    pub data_sizes: u64,
    /// Countdown units seen after a number: bit 0 days, 1 hours, 2 minutes, 3 seconds.
    pub countdown_units: u8,
    /// Lines of a file-tree listing (`├── HR/`, `\Finance\2023\budget.xlsx`).
    pub tree_lines: u64,
    /// Lines shaped as `login@domain.tld:secret` (combolists, stealer logs).
    pub combo_lines: u64,
    /// SQL `INSERT INTO` / `COPY … FROM stdin` statements.
    pub sql_rows: u64,
    /// Forum title tags at a line start: bit 0 a sale (`[VENTE]`, `[WTS]`, `[SELL]`), bit 1 a
    /// purchase (`[ACHAT]`, `[WTB]`), bit 2 a free release (`[FREE]`, `[LEAK]`, `[СЛИВ]`).
    pub tags: u8,
}

impl ClaimSignals {
    /// Adds the next window's counts.
    pub fn merge(&mut self, other: ClaimSignals) {
        self.data_sizes += other.data_sizes;
        self.countdown_units |= other.countdown_units;
        self.tree_lines += other.tree_lines;
        self.combo_lines += other.combo_lines;
        self.sql_rows += other.sql_rows;
        self.tags |= other.tags;
    }

    /// Whether a countdown is shown: three units of time (days, hours, minutes or hours,
    /// minutes, seconds) next to numbers.
    pub fn countdown(&self) -> bool {
        self.countdown_units.count_ones() >= 3
    }

    /// Whether the document lists a file tree (three lines or more).
    pub fn file_tree(&self) -> bool {
        self.tree_lines >= 3
    }

    /// Scans the part `from..to` of a window's text (both on character boundaries): the
    /// lines that start there, and the words (a countdown widget puts each number and unit
    /// on a line of its own).
    pub fn observe(&mut self, text: &str, from: usize, to: usize) {
        let Some(part) = text.get(from..to) else {
            return;
        };
        // Both shapes start with a token whose first character is an ASCII digit: text
        // without digits has neither, and the words are split once for both.
        if has_ascii_digit(part.as_bytes()) {
            let words: Vec<&str> = tokens(part).collect();
            self.data_sizes += data_sizes(&words);
            self.countdown_units |= countdown_units(&words);
        }
        for line in part.split('\n') {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            if is_tree_line(line) {
                self.tree_lines += 1;
            }
            if is_combo_line(line) {
                self.combo_lines += 1;
            }
            self.tags |= title_tag(line);
            let head: String = line.chars().take(12).collect::<String>().to_lowercase();
            if head.starts_with("insert into")
                || (head.starts_with("copy ") && line.contains("FROM stdin"))
            {
                self.sql_rows += 1;
            }
        }
    }
}

/// Units of data size after a number, lower case; `Go`/`To` (French) only as written, since
/// `to` and `go` are English words.
const SIZE_UNITS: [&str; 14] = [
    "tb",
    "gb",
    "mb",
    "tib",
    "gib",
    "tbs",
    "gbs",
    "тб",
    "гб",
    "мб",
    "терабайт",
    "гигабайт",
    "octets",
    "gigabytes",
];

/// Whether `bytes` hold an ASCII digit (in blocks the compiler can vectorise).
fn has_ascii_digit(bytes: &[u8]) -> bool {
    bytes.chunks(64).any(|block| {
        block
            .iter()
            .fold(false, |seen, b| seen | b.is_ascii_digit())
    })
}

fn data_sizes(words: &[&str]) -> u64 {
    let mut n = 0;
    for (i, w) in words.iter().enumerate() {
        // A number, possibly with its unit glued on (`230GB`, `1,4To`).
        let digits_end = w
            .char_indices()
            .find(|&(_, c)| !(c.is_ascii_digit() || c == '.' || c == ','))
            .map_or(w.len(), |(i, _)| i);
        if digits_end == 0 || !w.as_bytes()[0].is_ascii_digit() {
            continue;
        }
        let glued = &w[digits_end..];
        let unit = if glued.is_empty() {
            match words.get(i + 1) {
                Some(next) => *next,
                None => continue,
            }
        } else {
            glued
        };
        if is_size_unit(unit) {
            n += 1;
        }
    }
    n
}

fn is_size_unit(unit: &str) -> bool {
    if matches!(unit, "Go" | "GO" | "To" | "TO" | "Mo" | "MO") {
        return true;
    }
    let lower = unit.to_lowercase();
    SIZE_UNITS.contains(&lower.as_str()) || lower == "терабайта" || lower == "гигабайта"
}

/// Words of a line: runs of letters, digits, `.`, `,` (numbers keep their decimal mark).
fn tokens(line: &str) -> impl Iterator<Item = &str> {
    line.split(|c: char| !is_token_char(c))
        .map(|w| w.trim_matches(|c| c == '.' || c == ','))
        .filter(|w| !w.is_empty())
}

/// `c.is_alphanumeric() || c == '.' || c == ','`, without the Unicode table search for the
/// letters of Latin-1 and of the Russian alphabet (all alphabetic).
fn is_token_char(c: char) -> bool {
    match c {
        '0'..='9' | 'a'..='z' | 'A'..='Z' | '.' | ',' => true,
        '\u{0}'..='\u{7f}' => false,
        '\u{c0}'..='\u{ff}' => c != '\u{d7}' && c != '\u{f7}',
        '\u{400}'..='\u{45f}' => true,
        _ => c.is_alphanumeric(),
    }
}

fn unit_bit(unit: &str) -> u8 {
    let u = unit.to_lowercase();
    match u.as_str() {
        "d" | "day" | "days" | "j" | "jour" | "jours" | "д" | "день" | "дня" | "дней" => {
            1
        }
        "h" | "hr" | "hrs" | "hour" | "hours" | "heure" | "heures" | "ч" | "час" | "часа"
        | "часов" => 2,
        "m" | "min" | "mins" | "minute" | "minutes" | "мин" | "минута" | "минуты" | "минут" => {
            4
        }
        "s" | "sec" | "secs" | "second" | "seconds" | "seconde" | "secondes" | "сек"
        | "секунда" | "секунды" | "секунд" => 8,
        _ => 0,
    }
}

fn countdown_units(words: &[&str]) -> u8 {
    let mut bits = 0;
    for (i, w) in words.iter().enumerate() {
        let digits_end = w
            .char_indices()
            .find(|&(_, c)| !c.is_ascii_digit())
            .map_or(w.len(), |(i, _)| i);
        if digits_end == 0 || digits_end > 3 {
            continue;
        }
        let glued = &w[digits_end..];
        let (unit, after) = if glued.is_empty() {
            (words.get(i + 1).copied().unwrap_or(""), i + 2)
        } else {
            (glued, i + 1)
        };
        // "3 days ago", "il y a 3 jours", "3 дня назад" date a post; they count nothing.
        let ago = words
            .get(after)
            .is_some_and(|a| a.eq_ignore_ascii_case("ago") || *a == "назад")
            || (i >= 2 && words[i - 1] == "a" && words[i - 2].eq_ignore_ascii_case("y"));
        if !ago {
            bits |= unit_bit(unit);
        }
    }
    bits
}

/// The bit of a `[TAG]` opening a line (see [`ClaimSignals::tags`]).
fn title_tag(line: &str) -> u8 {
    let Some(rest) = line.strip_prefix('[') else {
        return 0;
    };
    let Some(close) = rest.find(']').filter(|&c| c <= 24) else {
        return 0;
    };
    let tag = rest[..close].trim().to_lowercase();
    match tag.as_str() {
        "vente" | "vends" | "sell" | "selling" | "wts" | "sale" | "for sale" | "продам"
        | "продажа" | "продаю" => 1,
        "achat" | "wtb" | "buy" | "buying" | "куплю" | "покупка" => 2,
        "free" | "gratuit" | "leak" | "leaked" | "dump" | "слив" | "free leak" => 4,
        _ => 0,
    }
}

fn is_tree_line(line: &str) -> bool {
    if line.starts_with(['├', '└', '│', '┣', '┗', '┃'])
        || line.starts_with("|--")
        || line.starts_with("+--")
        || line.starts_with("\\---")
    {
        return true;
    }
    if line.len() > 300 || line.contains("://") {
        return false;
    }
    let path = line.trim_start_matches(['-', '*', ' ']);
    let seps = path.matches(['/', '\\']).count();
    if seps < 2 {
        return false;
    }
    let has_letters = path
        .split(['/', '\\'])
        .any(|seg| seg.chars().any(char::is_alphabetic));
    let last = path.rsplit(['/', '\\']).next().unwrap_or("");
    let extension = last.rsplit_once('.').is_some_and(|(stem, ext)| {
        !stem.is_empty()
            && (2..=5).contains(&ext.len())
            && ext.chars().all(|c| c.is_ascii_alphanumeric())
            && ext.chars().any(|c| c.is_ascii_alphabetic())
    });
    has_letters && (extension || path.ends_with(['/', '\\']))
}

fn is_combo_line(line: &str) -> bool {
    if line.len() > 200 || line.contains(char::is_whitespace) {
        return false;
    }
    let Some(at) = line.find('@') else {
        return false;
    };
    let rest = &line[at + 1..];
    let Some(sep) = rest.find([':', ';', '|']) else {
        return false;
    };
    let (domain, secret) = (&rest[..sep], &rest[sep + 1..]);
    at > 0 && domain.contains('.') && !domain.starts_with('.') && !secret.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signals(text: &str) -> ClaimSignals {
        let mut s = ClaimSignals::default();
        s.observe(text, 0, text.len());
        s
    }

    #[test]
    fn data_sizes_in_three_languages() {
        assert_eq!(signals("1.4 TB of data").data_sizes, 1);
        assert_eq!(
            signals("230GB exfiltrated, 1,2 To de données").data_sizes,
            2
        );
        assert_eq!(signals("объем 50 ГБ").data_sizes, 1);
        assert_eq!(signals("from 1 to 3 people, go 2 go").data_sizes, 0);
        assert_eq!(signals("Data size: 120 MB").data_sizes, 1);
    }

    #[test]
    fn countdowns_need_three_units() {
        assert!(signals("3 days 04 hours 12 minutes 33 seconds").countdown());
        assert!(signals("2d 5h 10m 3s left").countdown());
        assert!(signals("осталось 2 дня 5 часов 10 минут").countdown());
        assert!(signals("02\nDays\n11\nHours\n30\nMinutes").countdown());
        assert!(!signals("posted 3 days ago, edited 2 hours later").countdown());
        assert!(!signals("3 days ago · 5 hours ago · 10 minutes ago · il y a 2 jours").countdown());
    }

    #[test]
    fn token_characters_are_alphanumerics_dots_and_commas() {
        for c in (0..=0x10ffff).filter_map(char::from_u32) {
            assert_eq!(
                is_token_char(c),
                c.is_alphanumeric() || c == '.' || c == ',',
                "{c:?}"
            );
        }
    }

    #[test]
    fn ascii_digits_are_found_in_any_block() {
        assert!(!has_ascii_digit(b""));
        assert!(!has_ascii_digit("é 𝟘 ٣ abc".repeat(40).as_bytes()));
        for at in [0, 63, 64, 130, 199] {
            let mut text = vec![b'x'; 200];
            text[at] = b'7';
            assert!(has_ascii_digit(&text), "{at}");
        }
    }

    #[test]
    fn forum_title_tags() {
        assert_eq!(signals("[ VENTE ] Accès VPN clinique").tags, 1);
        assert_eq!(signals("[WTB] Doctolib db\n[FREE] combo").tags, 2 | 4);
        assert_eq!(signals("[2024-01-01] log line\nsee [VENTE] here").tags, 0);
    }

    #[test]
    fn file_trees_combos_and_inserts() {
        let s = signals(
            "├── HR/\n│   └── salaries.xlsx\n└── Finance/\n\\\\srv\\share\\Patients\\2023\\list.csv\nDate: 12/05/2024\n",
        );
        assert_eq!(s.tree_lines, 4);
        let s =
            signals("jean.dupont@gmail.com:azerty123\nmarie@orange.fr;Soleil2024\nhello world\n");
        assert_eq!(s.combo_lines, 2);
        let s = signals("INSERT INTO patients VALUES (1);\ninsert into t values (2);\n");
        assert_eq!(s.sql_rows, 2);
    }
}

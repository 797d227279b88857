//! Checksum validators and masks for the identifiers Vigie counts.
//!
//! Each validator takes the identifier's characters without separators and says whether it is
//! a real-format value. Masks keep only what an analyst needs to tell values apart without
//! exposing the person: `* ** ** ** *** *45 36` for a NIR. No mask shows more than
//! [`vigie_core::MAX_SHOWN_DIGITS`] digits.

/// Luhn check over ASCII digits.
pub fn luhn(digits: &str) -> bool {
    let mut sum = 0u32;
    for (i, b) in digits.bytes().rev().enumerate() {
        if !b.is_ascii_digit() {
            return false;
        }
        let mut d = u32::from(b - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    !digits.is_empty() && sum.is_multiple_of(10)
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn two(s: &str, at: usize) -> Option<u32> {
    s.get(at..at + 2)?.parse().ok()
}

/// The 13-digit body of a NIR with the Corsican departments replaced for the key (2A → 19,
/// 2B → 18), or `None` if the characters are not a NIR's.
fn nir_body(nir: &str) -> Option<u64> {
    if nir.len() != 15 || !nir.is_ascii() {
        return None;
    }
    let dept = &nir[5..7];
    let dept_num = match dept {
        "2A" | "2a" => "19",
        "2B" | "2b" => "18",
        d if all_digits(d) => d,
        _ => return None,
    };
    let body = format!("{}{}{}", &nir[..5], dept_num, &nir[7..13]);
    if !all_digits(&body) || !all_digits(&nir[13..]) {
        return None;
    }
    body.parse().ok()
}

/// Whether a 15-character NIR (or INS) is valid: plausible sex, month and department fields,
/// and key = 97 − (first 13 digits mod 97), with Corsica's 2A/2B substituted.
pub fn nir(nir: &str) -> bool {
    let Some(body) = nir_body(nir) else {
        return false;
    };
    let b = nir.as_bytes();
    // Sex: 1, 2; 3, 4 for people being registered; 7, 8 for temporary numbers (NIA).
    if !matches!(b[0], b'1' | b'2' | b'3' | b'4' | b'7' | b'8') {
        return false;
    }
    // Month: 01-12, or 20-42 and 50-99 when unknown or for special cases.
    match two(nir, 3) {
        Some(m) if (1..=12).contains(&m) || (20..=42).contains(&m) || (50..=99).contains(&m) => {}
        _ => return false,
    }
    // Department: 01-95, 2A/2B, 96-99 (97x/98x overseas, 99 born abroad); never 00 or 20.
    let dept = &nir[5..7];
    if !matches!(dept, "2A" | "2a" | "2B" | "2b") {
        match two(nir, 5) {
            Some(d) if (1..=99).contains(&d) && d != 20 => {}
            _ => return false,
        }
    }
    // Order number 000 is never issued.
    if &nir[10..13] == "000" {
        return false;
    }
    let Some(key) = two(nir, 13) else {
        return false;
    };
    u64::from(key) == 97 - body % 97
}

/// The key a 13-digit NIR body should carry (used by tests and fixture generators).
pub fn nir_key(first13: &str) -> Option<u32> {
    let padded = format!("{first13}00");
    nir_body(&padded).map(|body| 97 - (body % 97) as u32)
}

/// Whether a 9-character FINESS number is valid: a department prefix and a Luhn check digit.
pub fn finess(finess: &str) -> bool {
    if finess.len() != 9 || !finess.is_ascii() {
        return false;
    }
    let (dept, rest) = finess.split_at(2);
    let dept_digits = match dept {
        "2A" | "2B" => "20",
        d if all_digits(d) => d,
        _ => return false,
    };
    if !matches!(dept_digits.parse::<u32>(), Ok(1..=99)) {
        return false;
    }
    luhn(&format!("{dept_digits}{rest}"))
}

/// Whether an 11-digit RPPS number is valid (Luhn, and the `1` prefix every RPPS carries).
pub fn rpps(rpps: &str) -> bool {
    rpps.len() == 11 && rpps.starts_with('1') && luhn(rpps)
}

/// Whether a SIREN (9 digits) or SIRET (14 digits) passes Luhn (La Poste's SIRETs, which use
/// a digit-sum rule instead, included).
pub fn siret(number: &str) -> bool {
    match number.len() {
        9 => luhn(number),
        14 => {
            if number.starts_with("356000000") {
                number
                    .bytes()
                    .map(|b| u32::from(b - b'0'))
                    .sum::<u32>()
                    .is_multiple_of(5)
            } else {
                luhn(number)
            }
        }
        _ => false,
    }
}

/// The length of IBANs by country, for the countries French data usually carries.
pub fn iban_length(country: &str) -> Option<usize> {
    Some(match country {
        "FR" | "MC" | "IT" | "SM" => 27,
        "DE" | "GB" | "IE" => 22,
        "BE" => 16,
        "ES" => 24,
        "CH" | "LI" => 21,
        "LU" => 20,
        "NL" => 18,
        "PT" => 25,
        "AT" => 20,
        "PL" => 28,
        _ => return None,
    })
}

/// Whether an IBAN (without spaces, upper case) passes the ISO 13616 mod-97 check.
pub fn iban(iban: &str) -> bool {
    let b = iban.as_bytes();
    if b.len() < 15 || b.len() > 34 || !b[..2].iter().all(u8::is_ascii_uppercase) {
        return false;
    }
    if iban_length(&iban[..2]).is_some_and(|len| len != b.len()) {
        return false;
    }
    let mut rem = 0u32;
    for &c in b[4..].iter().chain(&b[..4]) {
        let v = match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'A'..=b'Z' => u32::from(c - b'A') + 10,
            _ => return false,
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

/// Whether ten national digits are a French phone number (0 then 1-9, then 8 digits).
pub fn phone(national: &str) -> bool {
    national.len() == 10
        && all_digits(national)
        && national.starts_with('0')
        && national.as_bytes()[1] != b'0'
}

/// Masks a NIR as `* ** ** ** *** *45 36`: the last four digits only (end of the birth order
/// number, then the key). They tell two NIRs of a sample apart and let an analyst holding a
/// victim's full NIR confirm it, while sex, birth year, month and place, which with a
/// hospital's name narrow a person down, stay hidden.
pub fn mask_nir(nir: &str) -> String {
    match (nir.len(), nir.get(11..13), nir.get(13..)) {
        (15, Some(order), Some(key)) => format!("* ** ** ** *** *{order} {key}"),
        _ => "*".repeat(nir.chars().count()),
    }
}

/// Masks all but the first `keep_head` and last `keep_tail` characters.
pub fn mask_middle(value: &str, keep_head: usize, keep_tail: usize) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() <= keep_head + keep_tail {
        return "*".repeat(chars.len());
    }
    chars
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            if i < keep_head || i >= chars.len() - keep_tail {
                c
            } else {
                '*'
            }
        })
        .collect()
}

/// Masks a phone number as `06 ** ** ** 78`.
pub fn mask_phone(national: &str) -> String {
    if national.len() != 10 {
        return mask_middle(national, 2, 2);
    }
    format!("{} ** ** ** {}", &national[..2], &national[8..])
}

/// Masks an e-mail address as `j*****@chu-lyon.fr`.
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => format!("{}@{domain}", mask_middle(local, 1, 0)),
        None => mask_middle(email, 1, 0),
    }
}

/// Masks a credential: the login as an e-mail or `j*****`, the password entirely.
pub fn mask_credential(login: &str) -> String {
    let login = if login.contains('@') {
        mask_email(login)
    } else {
        mask_middle(login, 1, 0)
    };
    format!("{login}:********")
}

/// Masks an IBAN as `FR** **** **** **** **** **** 189`: the country and the last three
/// digits (the check digits would be two more digits shown for nothing).
pub fn mask_iban(iban: &str) -> String {
    let masked = mask_middle(iban, 2, 3);
    let chars: Vec<char> = masked.chars().collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nir_real_format_values() {
        // 1 85 05 75 123 456 + key: 97 - (1850575123456 mod 97).
        let key = nir_key("1850575123456").unwrap();
        let valid = format!("1850575123456{key:02}");
        assert!(nir(&valid), "{valid}");
        let wrong_key = format!("1850575123456{:02}", (key % 97) + 1);
        assert!(!nir(&wrong_key));
        // Corsica: 2A is read as 19 for the key, 2B as 18.
        let k2a = nir_key("285052A123456").unwrap();
        assert_eq!(k2a, 97 - (2850519123456u64 % 97) as u32);
        assert!(nir(&format!("285052A123456{k2a:02}")));
        let k2b = nir_key("285052B123456").unwrap();
        assert!(nir(&format!("285052B123456{k2b:02}")));
        // Same digits but an impossible sex or month.
        let k = nir_key("5850575123456").unwrap();
        assert!(!nir(&format!("5850575123456{k:02}")));
        let k = nir_key("1851375123456").unwrap();
        assert!(!nir(&format!("1851375123456{k:02}")));
        // Order 000 and department 00 are never issued.
        let k = nir_key("1850575123000").unwrap();
        assert!(!nir(&format!("1850575123000{k:02}")));
        assert!(!nir("18505"));
        assert!(!nir("1850575123456AB"));
    }

    #[test]
    fn finess_real_values() {
        assert!(finess("750712184")); // AP-HP
        assert!(finess("690781810")); // Hospices Civils de Lyon
        assert!(finess("130786049")); // AP-HM
        assert!(!finess("750712185"));
        assert!(!finess("000000000"));
        assert!(!finess("75071218"));
    }

    #[test]
    fn rpps_luhn_and_prefix() {
        let valid = (0..10)
            .map(|d| format!("1000345678{d}"))
            .find(|s| luhn(s))
            .unwrap();
        assert!(rpps(&valid));
        let mut wrong = valid.clone().into_bytes();
        wrong[10] = if wrong[10] == b'9' {
            b'0'
        } else {
            wrong[10] + 1
        };
        assert!(!rpps(std::str::from_utf8(&wrong).unwrap()));
        assert!(!rpps("20003456789"));
    }

    #[test]
    fn siren_siret_luhn() {
        assert!(siret("732829320")); // a real SIREN
        assert!(siret("73282932000074")); // its SIRET
        assert!(!siret("73282932000075"));
        assert!(siret("35600000000001")); // La Poste: digit sum multiple of 5
        assert!(!siret("35600000000002"));
    }

    #[test]
    fn iban_mod97() {
        assert!(iban("FR1420041010050500013M02606"));
        assert!(iban("FR7630006000011234567890189"));
        assert!(!iban("FR7630006000011234567890188"));
        assert!(iban("DE89370400440532013000"));
        assert!(!iban("DE8937040044053201300")); // wrong length
        assert!(!iban("XX"));
    }

    #[test]
    fn phones() {
        assert!(phone("0612345678"));
        assert!(phone("0145678901"));
        assert!(!phone("0012345678"));
        assert!(!phone("1612345678"));
        assert!(!phone("061234567"));
    }

    #[test]
    fn masks_hide_the_person() {
        assert_eq!(mask_nir("185057512345636"), "* ** ** ** *** *56 36");
        assert_eq!(mask_nir("2690299341732"), "*************");
        assert_eq!(mask_phone("0612345678"), "06 ** ** ** 78");
        assert_eq!(
            mask_email("jean.dupont@chu-lyon.fr"),
            "j**********@chu-lyon.fr"
        );
        assert_eq!(mask_credential("jdupont"), "j******:********");
        assert_eq!(
            mask_iban("FR7630006000011234567890189"),
            "FR** **** **** **** **** **** 189"
        );
    }

    #[test]
    fn no_mask_shows_more_than_four_digits() {
        let masks = [
            mask_nir("185057512345636"),
            mask_nir("185052A12345636"),
            mask_phone("0612345678"),
            mask_email("jean.dupont1974@chu-lyon.fr"),
            mask_credential("12345678@chu-lyon.fr"),
            mask_iban("FR7630006000011234567890189"),
        ];
        for m in masks {
            let digits = m.chars().filter(char::is_ascii_digit).count();
            assert!(digits <= 4, "{m}: {digits} digits");
        }
    }
}

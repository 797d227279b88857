//! Dates as forums and leak sites write them.
//!
//! CONTRACT: `parse_date`. Owned by the forum engineer; the leak-site engineer uses it.
//!
//! One forward pass splits the text into numbers, words and separators; the date is then
//! read from those tokens: ISO 8601 and RFC 2822 first, then relative forms ("3 hours ago",
//! "il y a 3 heures", "5 минут назад", "Today at 10:21", "вчера в 14:02"), then a day, a
//! month (number or name in English, French or Russian, abbreviated or genitive) and a
//! year, with a time of day in 24-hour or 12-hour form. Dates without a zone are in the
//! site's offset ([`PageContext::site_offset`]); relative ones count from
//! [`PageContext::fetched_at`].

use time::format_description::well_known::{Rfc2822, Rfc3339};
use time::{Date, Duration, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

use crate::PageContext;

/// Longest text read as a date: a date line is short; anything longer is not one.
const MAX_DATE_TEXT: usize = 200;

/// How to read an all-numeric date whose first two fields could both be day or month
/// ("03-12-2016").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DateOrder {
    /// Day first (French, Russian, most of Europe): 03/12/2016 is 3 December.
    #[default]
    DayFirst,
    /// Month first (United States; MyBB's and Invision's defaults): 03-12-2016 is 12 March.
    MonthFirst,
}

/// A date as written on a page (absolute in French, English or Russian, ISO, or relative:
/// "Today at 10:21", "Yesterday", "il y a 3 heures", "вчера в 14:02"), as RFC 3339 UTC,
/// resolved against the fetch time and the site's offset. Ambiguous numeric dates are read
/// day first (see [`parse_date_with`]).
pub fn parse_date(text: &str, ctx: &PageContext) -> Option<String> {
    parse_date_with(text, ctx, DateOrder::DayFirst)
}

/// [`parse_date`], with the order to use when a numeric date could be read either way
/// (a field above 12 always decides).
pub fn parse_date_with(text: &str, ctx: &PageContext, order: DateOrder) -> Option<String> {
    instant(text, ctx, order).and_then(rfc3339)
}

/// The instant a date text names, in UTC.
pub fn instant(text: &str, ctx: &PageContext, order: DateOrder) -> Option<OffsetDateTime> {
    let text = text.trim();
    if text.is_empty() || text.len() > MAX_DATE_TEXT {
        return None;
    }
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(t.to_offset(UtcOffset::UTC));
    }
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc2822) {
        return Some(t.to_offset(UtcOffset::UTC));
    }
    let tokens = tokenize(text);
    if let Some(t) = iso_like(&tokens, ctx) {
        return Some(t);
    }
    if let Some(t) = relative(&tokens, ctx) {
        return Some(t);
    }
    absolute(&tokens, ctx, order)
}

/// A date in RFC 3339, UTC, to the second.
pub fn rfc3339(t: OffsetDateTime) -> Option<String> {
    let t = t.to_offset(UtcOffset::UTC).replace_nanosecond(0).ok()?;
    t.format(&Rfc3339).ok()
}

/// The instant of a Unix timestamp in seconds (XenForo's `data-time`, vBulletin's
/// `data-timestamp`), as RFC 3339 UTC.
pub fn from_unix(seconds: &str) -> Option<String> {
    let n: i64 = seconds.trim().parse().ok()?;
    OffsetDateTime::from_unix_timestamp(n)
        .ok()
        .and_then(rfc3339)
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    /// Digits, with how many there were (a year has four).
    Num(u32, usize),
    /// A lowercase word; ordinal suffixes ("22nd", "1er") are dropped from numbers instead.
    Word(String),
    /// Any other single character that is not white space.
    Sep(char),
}

fn tokenize(text: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() {
            let start = i;
            let mut v: u32 = 0;
            while i < chars.len() && chars[i].is_ascii_digit() {
                v = v
                    .saturating_mul(10)
                    .saturating_add(chars[i] as u32 - '0' as u32);
                i += 1;
            }
            out.push(Tok::Num(v, i - start));
            // Ordinal suffixes stay with their number: "22nd", "1st", "1er".
            let mut j = i;
            while j < chars.len() && chars[j].is_alphabetic() {
                j += 1;
            }
            let suffix: String = chars[i..j].iter().collect::<String>().to_lowercase();
            if matches!(
                suffix.as_str(),
                "st" | "nd" | "rd" | "th" | "er" | "re" | "e"
            ) {
                i = j;
            }
        } else if c.is_alphabetic() {
            let mut w = String::new();
            // Apostrophes join "aujourd'hui"; a dot ends "a.m." handled by the reader.
            while i < chars.len()
                && (chars[i].is_alphabetic() || chars[i] == '\'' || chars[i] == '’')
            {
                w.extend(chars[i].to_lowercase());
                i += 1;
            }
            out.push(Tok::Word(w.replace('’', "'")));
        } else {
            if !c.is_whitespace() {
                out.push(Tok::Sep(c));
            }
            i += 1;
        }
    }
    out
}

/// `YYYY-MM-DD[T ]HH:MM[:SS[.fff]][Z|±HH[:]MM]`, and `YYYY-MM-DD` alone.
fn iso_like(t: &[Tok], ctx: &PageContext) -> Option<OffsetDateTime> {
    let (y, m, d) = match t {
        [Tok::Num(y, 4), Tok::Sep('-'), Tok::Num(m, _), Tok::Sep('-'), Tok::Num(d, _), ..] => {
            (*y, *m, *d)
        }
        _ => return None,
    };
    let date = make_date(y as i32, m, d)?;
    let mut rest = &t[5..];
    if let [Tok::Word(w), tail @ ..] = rest {
        if w != "t" {
            return None;
        }
        rest = tail;
    }
    if rest.is_empty() {
        return Some(local(date, Time::MIDNIGHT, ctx.site_offset));
    }
    let (time, used) = clock(rest)?;
    let mut rest = &rest[used..];
    // Fractions of a second.
    if let [Tok::Sep('.'), Tok::Num(_, _), tail @ ..] = rest {
        rest = tail;
    }
    let offset = match rest {
        [] => ctx.site_offset,
        [Tok::Word(z)] if z == "z" || z == "utc" || z == "gmt" => UtcOffset::UTC,
        [Tok::Sep(s), Tok::Num(hh, 2), Tok::Sep(':'), Tok::Num(mm, 2)]
        | [Tok::Sep(s), Tok::Num(hh, 2), Tok::Num(mm, 2)]
            if *s == '+' || *s == '-' =>
        {
            signed_offset(*s, *hh, *mm)?
        }
        [Tok::Sep(s), Tok::Num(hhmm, 4)] if *s == '+' || *s == '-' => {
            signed_offset(*s, hhmm / 100, hhmm % 100)?
        }
        _ => return None,
    };
    Some(local(date, time, offset))
}

fn signed_offset(sign: char, hh: u32, mm: u32) -> Option<UtcOffset> {
    let secs = i32::try_from(hh * 3600 + mm * 60).ok()?;
    UtcOffset::from_whole_seconds(if sign == '-' { -secs } else { secs }).ok()
}

/// A time of day at the start of `t`: `H:MM[:SS]`, or `HHhMM` (French), followed by an
/// optional am/pm marker. Returns the time and how many tokens it used.
fn clock(t: &[Tok]) -> Option<(Time, usize)> {
    let (h, m, mut s, mut used) = match t {
        [Tok::Num(h, hl), Tok::Sep(':'), Tok::Num(m, 2), Tok::Sep(':'), Tok::Num(s, 2), ..]
            if *hl <= 2 =>
        {
            (*h, *m, *s, 5)
        }
        [Tok::Num(h, hl), Tok::Sep(':'), Tok::Num(m, 2), ..] if *hl <= 2 => (*h, *m, 0, 3),
        [Tok::Num(h, hl), Tok::Word(sep), Tok::Num(m, 2), ..] if *hl <= 2 && sep == "h" => {
            (*h, *m, 0, 3)
        }
        _ => return None,
    };
    let mut h = h;
    let (pm, n) = meridiem(&t[used..]);
    if let Some(pm) = pm {
        if !(1..=12).contains(&h) {
            return None;
        }
        h %= 12;
        if pm {
            h += 12;
        }
        used += n;
    }
    if s > 59 {
        s = 59;
    }
    let time = Time::from_hms(u8::try_from(h).ok()?, u8::try_from(m).ok()?, s as u8).ok()?;
    Some((time, used))
}

/// `am`/`pm`/`a.m.`/`p.m.` at the start of `t`: whether it is pm, and tokens used.
fn meridiem(t: &[Tok]) -> (Option<bool>, usize) {
    match t {
        [Tok::Word(a), Tok::Sep('.'), Tok::Word(m), Tok::Sep('.'), ..]
            if (a == "a" || a == "p") && m == "m" =>
        {
            (Some(a == "p"), 4)
        }
        [Tok::Word(a), Tok::Sep('.'), Tok::Word(m), ..] if (a == "a" || a == "p") && m == "m" => {
            (Some(a == "p"), 3)
        }
        [Tok::Word(w), ..] if w == "am" => (Some(false), 1),
        [Tok::Word(w), ..] if w == "pm" => (Some(true), 1),
        _ => (None, 0),
    }
}

fn make_date(y: i32, m: u32, d: u32) -> Option<Date> {
    let month = Month::try_from(u8::try_from(m).ok()?).ok()?;
    Date::from_calendar_date(y, month, u8::try_from(d).ok()?).ok()
}

fn local(date: Date, time: Time, offset: UtcOffset) -> OffsetDateTime {
    PrimitiveDateTime::new(date, time)
        .assume_offset(offset)
        .to_offset(UtcOffset::UTC)
}

/// The fetch time in the site's offset: what "today" means on that site.
fn fetched_local(ctx: &PageContext) -> OffsetDateTime {
    ctx.fetched_at.to_offset(ctx.site_offset)
}

/// The first time of day anywhere in `t`.
fn find_clock(t: &[Tok]) -> Option<(usize, Time, usize)> {
    (0..t.len()).find_map(|i| clock(&t[i..]).map(|(time, used)| (i, time, used)))
}

fn relative(t: &[Tok], ctx: &PageContext) -> Option<OffsetDateTime> {
    let words: Vec<&str> = t
        .iter()
        .filter_map(|x| match x {
            Tok::Word(w) => Some(w.as_str()),
            _ => None,
        })
        .collect();
    let has = |w: &str| words.contains(&w);

    // "Today at 10:21", "Hier à 21:03", "вчера в 14:02", "Yesterday".
    let days_back = if has("today") || has("aujourd'hui") || has("сегодня") {
        Some(0)
    } else if has("yesterday") || has("hier") || has("вчера") {
        Some(1)
    } else if has("позавчера") || words.windows(1).any(|w| w[0] == "avant-hier") {
        Some(2)
    } else {
        None
    };
    if let Some(back) = days_back {
        let now = fetched_local(ctx);
        let day = now.date() - Duration::days(back);
        let time = find_clock(t)
            .map(|(_, time, _)| time)
            .unwrap_or(Time::MIDNIGHT);
        return Some(local(day, time, ctx.site_offset));
    }

    if has("now") && (has("just") || has("right")) || has("l'instant") || has("только") {
        return Some(ctx.fetched_at.to_offset(UtcOffset::UTC));
    }

    // "3 hours ago", "il y a 3 heures", "5 минут назад", "a minute ago", "минуту назад".
    let ago = has("ago") || has("назад") || (has("il") && has("y") && has("a"));
    if !ago {
        return None;
    }
    let mut total = Duration::ZERO;
    let mut found = false;
    let mut pending: Option<i64> = None;
    for tok in t {
        match tok {
            Tok::Num(n, _) => pending = Some(i64::from(*n)),
            Tok::Word(w) => {
                if w == "an" && pending.is_none() {
                    // "an hour ago"; "il y a un an" has its count before the unit.
                    pending = Some(1);
                } else if let Some(unit) = unit(w) {
                    let n = pending.take().unwrap_or(1);
                    total += unit * i32::try_from(n).ok()?;
                    found = true;
                } else if matches!(w.as_str(), "a" | "an" | "one" | "un" | "une") {
                    // "a minute ago", "il y a une heure": the article is the count. The
                    // "a" of "il y a" is followed by a number or article, which replaces it.
                    pending = Some(1);
                }
            }
            Tok::Sep(_) => {}
        }
    }
    if !found {
        return None;
    }
    Some(ctx.fetched_at.to_offset(UtcOffset::UTC) - total)
}

/// The length of one unit named by `w` (English, French, Russian, singular or plural).
fn unit(w: &str) -> Option<Duration> {
    let w = w.trim_end_matches('.');
    Some(match w {
        "s" | "sec" | "secs" | "second" | "seconds" | "seconde" | "secondes" | "секунду"
        | "секунды" | "секунд" | "сек" => Duration::SECOND,
        "m" | "min" | "mins" | "minute" | "minutes" | "минуту" | "минуты" | "минут" | "мин" => {
            Duration::MINUTE
        }
        "h" | "hr" | "hrs" | "hour" | "hours" | "heure" | "heures" | "час" | "часа" | "часов"
        | "ч" => Duration::HOUR,
        "d" | "day" | "days" | "jour" | "jours" | "день" | "дня" | "дней" => {
            Duration::DAY
        }
        "w" | "wk" | "wks" | "week" | "weeks" | "semaine" | "semaines" | "неделю" | "недели"
        | "недель" => Duration::WEEK,
        "month" | "months" | "mois" | "месяц" | "месяца" | "месяцев" => {
            Duration::days(30)
        }
        "yr" | "yrs" | "year" | "years" | "an" | "ans" | "année" | "années" | "год" | "года"
        | "лет" => Duration::days(365),
        _ => return None,
    })
}

/// A month named by `w`: English, French and Russian names, nominative or genitive, full
/// or abbreviated (with or without the dot, already dropped by the tokenizer).
fn month_name(w: &str) -> Option<u32> {
    Some(match w {
        "january" | "jan" | "janvier" | "janv" | "январь" | "января" | "янв" => 1,
        "february" | "feb" | "février" | "fevrier" | "févr" | "fevr" | "fév" | "fev"
        | "февраль" | "февраля" | "фев" | "февр" => 2,
        "march" | "mar" | "mars" | "март" | "марта" | "мар" => 3,
        "april" | "apr" | "avril" | "avr" | "апрель" | "апреля" | "апр" => 4,
        "may" | "mai" | "май" | "мая" => 5,
        "june" | "jun" | "juin" | "июнь" | "июня" | "июн" => 6,
        "july" | "jul" | "juillet" | "juil" | "июль" | "июля" | "июл" => 7,
        "august" | "aug" | "août" | "aout" | "август" | "августа" | "авг" => 8,
        "september" | "sep" | "sept" | "septembre" | "сентябрь" | "сентября" | "сен" | "сент" => {
            9
        }
        "october" | "oct" | "octobre" | "октябрь" | "октября" | "окт" => 10,
        "november" | "nov" | "novembre" | "ноябрь" | "ноября" | "ноя" | "нояб" => {
            11
        }
        "december" | "dec" | "décembre" | "decembre" | "déc" | "декабрь" | "декабря" | "дек" => {
            12
        }
        _ => return None,
    })
}

fn full_year(y: u32, digits: usize) -> i32 {
    let y = y as i32;
    match digits {
        2 if y < 70 => 2000 + y,
        2 => 1900 + y,
        _ => y,
    }
}

fn absolute(t: &[Tok], ctx: &PageContext, order: DateOrder) -> Option<OffsetDateTime> {
    // The time of day, and the tokens it covers (so its numbers are not read as a date).
    let (clock_at, time, clock_len) = match find_clock(t) {
        Some((i, time, used)) => (Some(i), time, used),
        None => (None, Time::MIDNIGHT, 0),
    };
    let outside_clock = |i: usize| clock_at.is_none_or(|c| i < c || i >= c + clock_len);

    // A month name: the day and year are the numbers around it.
    let month_at = t.iter().enumerate().find_map(|(i, x)| match x {
        Tok::Word(w) if outside_clock(i) => month_name(w).map(|m| (i, m)),
        _ => None,
    });
    let (y, m, d) = if let Some((mi, m)) = month_at {
        let nums: Vec<(usize, u32, usize)> = t
            .iter()
            .enumerate()
            .filter(|(i, _)| outside_clock(*i))
            .filter_map(|(i, x)| match x {
                Tok::Num(v, l) => Some((i, *v, *l)),
                _ => None,
            })
            .collect();
        let year = nums.iter().find(|(_, _, l)| *l == 4).copied();
        // The day: the nearest one- or two-digit number to the month name.
        let day = nums
            .iter()
            .filter(|(_, v, l)| *l <= 2 && (1..=31).contains(v))
            .min_by_key(|(i, _, _)| i.abs_diff(mi))
            .copied();
        let (_, d, _) = day?;
        let y = match year {
            Some((_, y, _)) => y as i32,
            // A two-digit year after the day ("15 janv. 24") is rare; without a year the
            // date is this year's, or last year's if that would be in the future.
            None => {
                let now = fetched_local(ctx);
                let mut y = now.year();
                if let Some(date) = make_date(y, m, d) {
                    if date > now.date() + Duration::days(1) {
                        y -= 1;
                    }
                }
                y
            }
        };
        (y, m, d)
    } else {
        numeric_date(t, &outside_clock, order)?
    };
    let date = make_date(y, m, d)?;
    Some(local(date, time, ctx.site_offset))
}

/// Three numbers joined by the same separator (`/`, `.`, `-`): Y-M-D when the first has
/// four digits, otherwise day and month in the order given (a field above 12 decides).
fn numeric_date(
    t: &[Tok],
    outside_clock: &dyn Fn(usize) -> bool,
    order: DateOrder,
) -> Option<(i32, u32, u32)> {
    for i in 0..t.len().saturating_sub(4) {
        if !outside_clock(i) {
            continue;
        }
        let (a, al, s1, b, s2, c, cl) = match &t[i..i + 5] {
            [Tok::Num(a, al), Tok::Sep(s1), Tok::Num(b, _), Tok::Sep(s2), Tok::Num(c, cl)] => {
                (*a, *al, *s1, *b, *s2, *c, *cl)
            }
            _ => continue,
        };
        if s1 != s2 || !matches!(s1, '/' | '.' | '-') {
            continue;
        }
        if al == 4 {
            return Some((a as i32, b, c));
        }
        if cl != 4 && cl != 2 {
            continue;
        }
        let year = full_year(c, cl);
        let day_first = if a > 12 {
            true
        } else if b > 12 {
            false
        } else {
            // Dots are day first everywhere they are used (de, fr, ru).
            s1 == '.' || order == DateOrder::DayFirst
        };
        return Some(if day_first {
            (year, b, a)
        } else {
            (year, a, b)
        });
    }
    None
}

/// Whether a numeric date in `text` settles the order on its own (a field above 12):
/// `Some(order)` when it does. Used to read every date of a page the same way.
pub fn order_hint(text: &str) -> Option<DateOrder> {
    let t = tokenize(text);
    for i in 0..t.len().saturating_sub(4) {
        if let [Tok::Num(a, al), Tok::Sep(s1), Tok::Num(b, _), Tok::Sep(s2), Tok::Num(_, cl)] =
            &t[i..i + 5]
        {
            if s1 != s2 || !matches!(s1, '/' | '-') || *al == 4 || (*cl != 4 && *cl != 2) {
                continue;
            }
            if *a > 12 && *b <= 12 {
                return Some(DateOrder::DayFirst);
            }
            if *b > 12 && *a <= 12 {
                return Some(DateOrder::MonthFirst);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{datetime, offset};

    fn ctx(offset: UtcOffset) -> PageContext {
        let mut c = PageContext::new(url::Url::parse("http://forum.onion/").unwrap());
        // Monday 2024-03-11 15:30:00 UTC.
        c.fetched_at = datetime!(2024-03-11 15:30:00 UTC);
        c.site_offset = offset;
        c
    }

    /// Each row: text, site offset, expected instant written by hand.
    #[test]
    fn table_of_dates() {
        let utc = offset!(UTC);
        let paris = offset!(+1);
        let moscow = offset!(+3);
        let rows: &[(&str, UtcOffset, Option<&str>)] = &[
            // ISO 8601 / RFC 3339 and RFC 2822.
            ("2017-06-22T09:38:00Z", utc, Some("2017-06-22T09:38:00Z")),
            ("2019-10-04T19:30:36Z", paris, Some("2019-10-04T19:30:36Z")),
            (
                "2017-03-20T15:14:00+0100",
                utc,
                Some("2017-03-20T14:14:00Z"),
            ),
            (
                "2017-03-20T15:14:00+01:00",
                utc,
                Some("2017-03-20T14:14:00Z"),
            ),
            ("2021-02-20 22:11", paris, Some("2021-02-20T21:11:00Z")),
            ("2021-02-20", utc, Some("2021-02-20T00:00:00Z")),
            (
                "Tue, 29 Jan 2013 15:04:05 +0000",
                paris,
                Some("2013-01-29T15:04:05Z"),
            ),
            // Numeric d/m/Y, with times; 12-hour clock.
            ("22/06/2017 09:38", paris, Some("2017-06-22T08:38:00Z")),
            ("22.06.2017, 09:38", moscow, Some("2017-06-22T06:38:00Z")),
            ("03/04/2018 à 14h05", utc, Some("2018-04-03T14:05:00Z")),
            ("03-12-2016, 02:04 PM", utc, Some("2016-12-03T14:04:00Z")),
            ("13-03-2016, 12:04 AM", utc, Some("2016-03-13T00:04:00Z")),
            ("03-13-2016, 12:30 PM", utc, Some("2016-03-13T12:30:00Z")),
            ("10/05/19 02:30 AM", utc, Some("2019-05-10T02:30:00Z")),
            ("01-20-2020, 1:55 p.m.", utc, Some("2020-01-20T13:55:00Z")),
            // English month names, abbreviated, with weekday and ordinal.
            (
                "Thu Jun 22, 2017 9:38 am",
                utc,
                Some("2017-06-22T09:38:00Z"),
            ),
            (
                "Tue Jan 29, 2013 3:04 pm",
                paris,
                Some("2013-01-29T14:04:00Z"),
            ),
            ("20th Feb 2021, 22:11", utc, Some("2021-02-20T22:11:00Z")),
            ("Mar 20, 2017 at 3:14 PM", utc, Some("2017-03-20T15:14:00Z")),
            ("September 5, 2019", utc, Some("2019-09-05T00:00:00Z")),
            // French.
            (
                "mardi 5 mars 2024 à 10:21",
                paris,
                Some("2024-03-05T09:21:00Z"),
            ),
            ("1er janvier 2020, 00:05", utc, Some("2020-01-01T00:05:00Z")),
            ("15 févr. 2023 18:40", paris, Some("2023-02-15T17:40:00Z")),
            ("3 août 2022", utc, Some("2022-08-03T00:00:00Z")),
            ("déc. 24, 2021 11:00", utc, Some("2021-12-24T11:00:00Z")),
            // Russian, nominative, genitive and abbreviated.
            ("04 июл 2024, 17:50", moscow, Some("2024-07-04T14:50:00Z")),
            (
                "12 января 2023 в 08:15",
                moscow,
                Some("2023-01-12T05:15:00Z"),
            ),
            ("Март 2019", utc, None),
            ("1 сентября 2020", utc, Some("2020-09-01T00:00:00Z")),
            ("7 нояб. 2021, 23:59", utc, Some("2021-11-07T23:59:00Z")),
            // Relative to the fetch time (2024-03-11 15:30 UTC), in the site's offset.
            ("Today at 10:21", utc, Some("2024-03-11T10:21:00Z")),
            ("Today at 10:21 AM", paris, Some("2024-03-11T09:21:00Z")),
            ("Yesterday, 21:03", utc, Some("2024-03-10T21:03:00Z")),
            ("Yesterday at 9:03 PM", moscow, Some("2024-03-10T18:03:00Z")),
            ("Aujourd'hui à 10:21", paris, Some("2024-03-11T09:21:00Z")),
            ("Aujourd’hui, 08:00", utc, Some("2024-03-11T08:00:00Z")),
            ("Hier à 23:10", paris, Some("2024-03-10T22:10:00Z")),
            ("сегодня в 10:21", moscow, Some("2024-03-11T07:21:00Z")),
            ("Вчера в 14:02", moscow, Some("2024-03-10T11:02:00Z")),
            ("il y a 3 heures", paris, Some("2024-03-11T12:30:00Z")),
            ("il y a une heure", utc, Some("2024-03-11T14:30:00Z")),
            ("il y a 2 jours", utc, Some("2024-03-09T15:30:00Z")),
            ("3 hours ago", utc, Some("2024-03-11T12:30:00Z")),
            ("a minute ago", utc, Some("2024-03-11T15:29:00Z")),
            ("an hour ago", utc, Some("2024-03-11T14:30:00Z")),
            ("il y a un an", utc, Some("2023-03-12T15:30:00Z")),
            ("2 weeks ago", utc, Some("2024-02-26T15:30:00Z")),
            ("5 минут назад", moscow, Some("2024-03-11T15:25:00Z")),
            ("минуту назад", utc, Some("2024-03-11T15:29:00Z")),
            ("2 часа назад", utc, Some("2024-03-11T13:30:00Z")),
            ("3 дня назад", utc, Some("2024-03-08T15:30:00Z")),
            ("Just now", utc, Some("2024-03-11T15:30:00Z")),
            // A date without a year is this year's, or last year's if it would be ahead.
            ("Mar 5, 10:00", utc, Some("2024-03-05T10:00:00Z")),
            ("Dec 24", utc, Some("2023-12-24T00:00:00Z")),
            // Not dates.
            ("", utc, None),
            ("Post", utc, None),
            ("#7", utc, None),
            ("Posts: 1234", utc, None),
            ("31/02/2020", utc, None),
            ("25:00", utc, None),
        ];
        for (text, off, want) in rows {
            let got = parse_date(text, &ctx(*off));
            assert_eq!(got.as_deref(), *want, "{text:?}");
        }
    }

    #[test]
    fn month_first_order_reads_ambiguous_dates_the_other_way() {
        let c = ctx(offset!(UTC));
        let got = parse_date_with("03-12-2016, 02:04 PM", &c, DateOrder::MonthFirst);
        assert_eq!(got.as_deref(), Some("2016-03-12T14:04:00Z"));
        // A field above 12 decides whatever the order says.
        let got = parse_date_with("13-03-2016", &c, DateOrder::MonthFirst);
        assert_eq!(got.as_deref(), Some("2016-03-13T00:00:00Z"));
        assert_eq!(
            order_hint("03-13-2016, 12:30 PM"),
            Some(DateOrder::MonthFirst)
        );
        assert_eq!(order_hint("13/03/2016"), Some(DateOrder::DayFirst));
        assert_eq!(order_hint("03/04/2016"), None);
    }

    #[test]
    fn unix_seconds() {
        assert_eq!(
            from_unix("1490022840").as_deref(),
            Some("2017-03-20T15:14:00Z")
        );
        assert_eq!(from_unix("x"), None);
    }

    #[test]
    fn long_text_is_not_a_date() {
        let long = "Today at 10:21 ".repeat(50);
        assert_eq!(parse_date(&long, &ctx(offset!(UTC))), None);
    }
}

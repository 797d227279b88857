//! One victim block → one [`Entry`]: its name, detail link, fields and description.
//!
//! Shared by the generic extractor and the profiles: a profile only says where the blocks and
//! their parts are; what a date, a size or a countdown looks like is decided here.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use regex::Regex;
use scraper::ElementRef;
use url::Url;

use crate::dates::parse_date;
use crate::urlkey::without_session;
use crate::{Entry, PageContext};

/// Longest text taken as a victim name: longer is a paragraph, not a name.
const MAX_NAME_CHARS: usize = 160;

/// Link and button texts that are never a victim's name.
const CHROME: &[&str] = &[
    "read more",
    "more",
    "… read more",
    "read more ⟶",
    "details",
    "view",
    "open",
    "next",
    "previous",
    "home",
    "login",
    "log in",
    "sign in",
    "contact",
    "contacts",
    "about",
    "download",
    "more info",
    "show more",
    "view all",
    "browse",
    "go to post",
];

/// Status words leak sites show, as stored in `fields["status"]`.
const STATUS_WORDS: &[&str] = &[
    "unpublished",
    "all data published",
    "published",
    "publicated",
    "released",
    "leaked",
    "expired",
    "sold",
    "available",
    "in progress",
    "coming soon",
    "pending",
    "private",
    "auction",
    "on sale",
    "for sale",
    "disclosed",
    "full leak",
];

/// Status words believed only as the whole text ("SALE" under the name; "databases dump"
/// in a description is no status).
const STATUS_ALONE: &[&str] = &["sale", "dump"];

pub(crate) fn size_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?i)(?:~\s?)?\b(\d{1,6}(?:[.,]\d{1,3})?)\s?(tbytes|gbytes|mbytes|tb|gb|mb|tib|gib|mib|тб|гб|мб)\b")
            .expect("static regex")
    })
}

fn date_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(concat!(
            r"(?i)\b(",
            r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?",
            r"|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}(?:,?\s+\d{1,2}:\d{2}(?::\d{2})?)?",
            r"|\d{1,2}(?:st|nd|rd|th)?\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|janv|févr|fevr|mars|avr|mai|juin|juil|août|aout|sept|déc)[a-zéû]*\.?,?(?:\s+\d{4})?(?:,?\s+\d{1,2}:\d{2}(?::\d{2})?)?",
            r"|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}(?:,?\s+\d{1,2}:\d{2}(?::\d{2})?)?",
            // "January, 2022": a month and its year.
            r"|(?:january|february|march|april|may|june|july|august|september|october|november|december),?\s+\d{4}",
            // "2 months ago": an age.
            r"|\d{1,3}\s+(?:minute|hour|day|week|month|year)s?\s+ago",
            r")"
        ))
        .expect("static regex")
    })
}

/// A countdown as text: "2d 13h 05m 10s", "12 D 05 H 10 M 22 S", "05:12:33:10".
fn countdown_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(concat!(
            r"(?i)(\d+\s*(?:d|days?|j|jours?)\b[\s:,]*\d+\s*(?:h|hours?)\b(?:[\s:,]*\d+\s*(?:m|min|minutes?)\b)?(?:[\s:,]*\d+\s*(?:s|sec|seconds?)\b)?",
            r"|\b\d{1,3}:\d{2}:\d{2}:\d{2}\b",
            r"|\b\d+\s*(?:days?|jours?|hours?|heures?)\s+(?:before|left|until|remaining|avant|restants?)\b[\p{L} ]{0,30})"
        ))
        .expect("static regex")
    })
}

fn views_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?i)^\s*(?:views?|просмотр\w*)\s*:?\s*(\d[\d ,.]*[km]?)\s*$|^\s*(\d[\d ,.]*[km]?)\s+(?:views?|visibility)\s*(?:$|/)|\bviews\s*:\s*(\d[\d ,.]*[km]?)\s*$",
        )
        .expect("static regex")
    })
}

fn domain_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?i)^(?:https?://)?(?:www\.)?((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,12})/?$")
            .expect("static regex")
    })
}

fn country_suffix_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^(.*?)\s*\(\s*([A-Z]{2,3}(?:\s*,\s*[A-Z]{2,3})*)\s*\)\s*$")
            .expect("static regex")
    })
}

fn script_date_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r#"(?i)count\w*\s*\(\s*["']([^"']{6,40})["']"#).expect("static regex")
    })
}

/// Text on one line, white space squashed.
pub(crate) fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Text of an element on one line.
pub(crate) fn el_text(el: ElementRef<'_>) -> String {
    one_line(&vigie_html::readable_text(el))
}

pub(crate) fn is_chrome(text: &str) -> bool {
    let t = text
        .trim()
        .trim_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase();
    t.is_empty()
        || CHROME
            .iter()
            .any(|c| c.trim_matches(|c: char| !c.is_alphanumeric()) == t)
}

fn class_has(el: ElementRef<'_>, words: &[&str]) -> bool {
    let v = el.value();
    let hit = |s: &str| {
        let s = s.to_ascii_lowercase();
        words.iter().any(|w| s.contains(w))
    };
    v.classes().any(hit) || v.id().is_some_and(hit)
}

pub(crate) fn is_heading_el(el: ElementRef<'_>) -> bool {
    is_heading(el.value().name())
}

fn is_heading(name: &str) -> bool {
    matches!(name, "h1" | "h2" | "h3" | "h4" | "h5" | "h6")
}

/// Descendant elements of `root` (itself included), in document order. Iterative.
pub(crate) fn elements(root: ElementRef<'_>) -> impl Iterator<Item = ElementRef<'_>> {
    root.descendants().filter_map(ElementRef::wrap)
}

/// The own text of an element (its direct text children), on one line.
fn own_text(el: ElementRef<'_>) -> String {
    let mut s = String::new();
    for t in el
        .children()
        .filter_map(|c| c.value().as_text().map(|t| one_line(t)))
    {
        if !t.is_empty() {
            if !s.is_empty() {
                s.push(' ');
            }
            s.push_str(&t);
        }
    }
    s
}

/// The name an element holds. Name elements often carry more than the name: a view counter
/// (`<h3>Name <span><i class="fa-eye"></i> 178720</span></h3>`), a description in a
/// `<small>`, the website after a `<br>`, the countdown beside the title. So: the element's
/// own text when it has one and its children are only numbers or longer than it (a
/// description); else, with several children holding text, the first; else all its text.
pub(crate) fn name_text(el: ElementRef<'_>) -> String {
    let t = name_text_raw(el);
    // A view counter after an eye icon before the name ("<svg class=bi-eye/> 1477 <hr/>
    // Charter Industrial Supply"): a field, not the name.
    let counter = elements(el)
        .filter(|e| is_eye_icon(*e))
        .find_map(text_after)
        .filter(|c| is_count(c));
    match counter.and_then(|c| t.strip_prefix(c.as_str()).map(str::to_string)) {
        Some(rest) if rest.starts_with(' ') && !rest.trim().is_empty() => rest.trim().to_string(),
        _ => t,
    }
}

fn name_text_raw(el: ElementRef<'_>) -> String {
    let mut cur = el;
    // Bounded walk down the first children (no recursion).
    for _ in 0..8 {
        let full = el_text(cur);
        let own = own_text(cur);
        let kids: Vec<ElementRef<'_>> = cur
            .children()
            .filter_map(ElementRef::wrap)
            .filter(|k| !matches!(k.value().name(), "script" | "style"))
            .filter(|k| !el_text(*k).is_empty())
            .collect();
        if kids.is_empty() {
            return full;
        }
        if !own.is_empty() {
            let rest: String = kids
                .iter()
                .map(|k| el_text(*k))
                .collect::<Vec<_>>()
                .join(" ");
            let numeric = rest
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, ' ' | ',' | '.' | 'k' | 'K'));
            let long = rest.chars().count() > 2 * own.chars().count() + 20;
            let broken = cur
                .children()
                .filter_map(ElementRef::wrap)
                .any(|k| k.value().name() == "br");
            return if numeric || long || broken { own } else { full };
        }
        if kids.len() == 1 {
            cur = kids[0];
            continue;
        }
        // Several children and no own text: the first one is the name when the others are
        // set apart (block elements, a line break, links, counters).
        let inline_words = kids.iter().all(|k| {
            matches!(
                k.value().name(),
                "span" | "em" | "i" | "b" | "strong" | "font"
            )
        });
        let first = el_text(kids[0]);
        let rest_label = kids[1..].iter().any(|k| {
            let t = el_text(*k);
            t.contains(':') || t.chars().any(|c| c.is_ascii_digit())
        });
        if inline_words && !rest_label {
            return full;
        }
        if first.is_empty() {
            return full;
        }
        cur = kids[0];
    }
    el_text(cur)
}

/// A URL written out is a link, not a name ("http://….onion/Midea/").
fn is_url_text(t: &str) -> bool {
    let l = t.trim().to_ascii_lowercase();
    l.starts_with("http://") || l.starts_with("https://")
}

/// Where a block's name is written: a heading, an element whose class says title or name, a
/// card header, a `strong`, a link, a first table cell — the first that holds a plausible
/// name.
pub(crate) fn find_name(block: ElementRef<'_>) -> Option<ElementRef<'_>> {
    let plausible = |el: ElementRef<'_>| {
        let t = name_text(el);
        !t.is_empty() && t.chars().count() <= MAX_NAME_CHARS && !is_chrome(&t)
    };
    // What the page hides (a download button kept for buyers) names nothing.
    let all: Vec<ElementRef<'_>> = elements(block)
        .filter(|e| {
            !e.ancestors()
                .filter_map(ElementRef::wrap)
                .take_while(|a| a.id() != block.id())
                .chain(std::iter::once(*e))
                .any(is_hidden)
        })
        .collect();
    // A value labelled as the name (`<span>Name: </span><p>GMORS Co., Ltd</p>`) is the
    // name, before any heading (a "new" badge in an `<h6>`).
    if let Some(el) = all
        .iter()
        .copied()
        .find(|e| is_name_label(*e))
        .and_then(|l| {
            l.next_siblings()
                .filter_map(ElementRef::wrap)
                .next()
                .filter(|v| plausible(*v))
        })
    {
        return Some(el);
    }
    // A table under a header row: the column the header calls the target or the name.
    if block.value().name() == "tr" {
        let labels = header_labels(block);
        let cells = block
            .children()
            .filter_map(ElementRef::wrap)
            .filter(|c| matches!(c.value().name(), "td" | "th"));
        for (label, cell) in labels.iter().zip(cells) {
            if is_name_label_text(label) && plausible(cell) {
                return Some(cell);
            }
        }
    }
    let rules: [&dyn Fn(ElementRef<'_>) -> bool; 6] = [
        &|e| is_heading(e.value().name()),
        &|e| {
            class_has(e, &["title", "name", "company", "victim", "target"])
                && !class_has(e, &["subtitle", "sub-title", "username"])
        },
        &|e| class_has(e, &["card-header", "panel-heading", "card-head"]),
        &|e| matches!(e.value().name(), "strong" | "b"),
        &|e| e.value().name() == "a" && !is_url_text(&el_text(e)),
        // A first cell holding a date, a size or a number is a column of values, not names.
        &|e| {
            matches!(e.value().name(), "td" | "th")
                && e.id() != block.id()
                && !is_value_text(&el_text(e))
        },
    ];
    for rule in rules {
        if let Some(el) = all.iter().copied().find(|e| rule(*e) && plausible(*e)) {
            return Some(el);
        }
    }
    None
}

/// Labels that announce the victim's name ("Name:", "Company", "Target").
fn is_name_label_text(t: &str) -> bool {
    let l = fold_confusables(t.trim().trim_end_matches(':').trim()).to_lowercase();
    matches!(
        l.as_str(),
        "name" | "company" | "company name" | "victim" | "target" | "organization" | "organisation"
    )
}

/// An element that is only a name label followed by a value element.
fn is_name_label(el: ElementRef<'_>) -> bool {
    el.children().filter_map(ElementRef::wrap).next().is_none()
        && el_text(el).trim_end().ends_with(':')
        && is_name_label_text(&el_text(el))
}

/// A cell's text that is a value, not a name: a date, a size, a bare number or amount.
fn is_value_text(t: &str) -> bool {
    let t = t.trim();
    date_re()
        .find(t)
        .is_some_and(|m| m.as_str().len() + 4 >= t.len())
        || size_re()
            .find(t)
            .is_some_and(|m| m.as_str().len() + 4 >= t.len())
        || (!t.is_empty()
            && t.chars()
                .all(|c| c.is_ascii_digit() || " ,.$€/-:".contains(c)))
}

/// Latin letters written with their Cyrillic look-alikes ("Сountry" with a Cyrillic С), in
/// a word that also has Latin letters: folded to Latin so labels read as written.
pub(crate) fn fold_confusables(t: &str) -> String {
    let latin = t.chars().any(|c| c.is_ascii_alphabetic());
    let cyr = t.chars().any(|c| ('\u{400}'..='\u{4ff}').contains(&c));
    if !(latin && cyr) {
        return t.to_string();
    }
    t.chars()
        .map(|c| match c {
            'А' => 'A',
            'В' => 'B',
            'С' => 'C',
            'Е' => 'E',
            'Н' => 'H',
            'К' => 'K',
            'М' => 'M',
            'О' => 'O',
            'Р' => 'P',
            'Т' => 'T',
            'Х' => 'X',
            'а' => 'a',
            'с' => 'c',
            'е' => 'e',
            'о' => 'o',
            'р' => 'p',
            'х' => 'x',
            'у' => 'y',
            'і' => 'i',
            other => other,
        })
        .collect()
}

/// ISO 3166 alpha-2 codes and the alpha-3 and other forms leak sites write after a name.
const COUNTRY_CODES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW UK EU USA UAE GBR DEU FRA ITA ESP CAN AUS BRA MEX IND CHN JPN";

/// The block's own leading text (`<th>Safety Network<div>…`), when no element holds the name.
pub(crate) fn lead_text(block: ElementRef<'_>) -> Option<String> {
    let t = block
        .children()
        .filter_map(|c| c.value().as_text().map(|t| one_line(t)))
        .find(|t| !t.is_empty())?;
    (t.chars().count() <= MAX_NAME_CHARS && !is_chrome(&t)).then_some(t)
}

/// The name written only in the address every link of the block goes to
/// (`<a href="/company/Gihealthcare">` around a logo and around a cut description, Cuba):
/// the last path segment, when it reads as a name (not a number or a hex key).
pub(crate) fn link_slug_name(block: ElementRef<'_>, ctx: &PageContext) -> Option<(String, Url)> {
    let mut target: Option<Url> = None;
    for a in elements(block).filter(|e| e.value().name() == "a") {
        let Some(href) = a.value().attr("href") else {
            continue;
        };
        let u = resolve(href, ctx)?;
        match &target {
            Some(t) if *t != u => return None,
            Some(_) => {}
            None => target = Some(u),
        }
    }
    let u = target?;
    if u.host_str() != ctx.base.host_str() || u.query().is_some() {
        return None;
    }
    let segs: Vec<&str> = u.path_segments()?.filter(|s| !s.is_empty()).collect();
    let [.., parent, last] = segs.as_slice() else {
        return None;
    };
    let name = url::form_urlencoded::parse(format!("n={last}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())?;
    let l = name.to_ascii_lowercase();
    let hexish = l.len() >= 8 && l.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    let page_file = [".php", ".html", ".htm", ".asp", ".aspx"]
        .iter()
        .any(|x| l.ends_with(x));
    let ok = (2..=60).contains(&name.chars().count())
        && name.chars().any(char::is_alphabetic)
        && !hexish
        && !page_file
        && !parent.chars().all(|c| c.is_ascii_digit())
        && !is_chrome(&name);
    ok.then_some((name, u))
}

/// A key in the block's `onclick` (`viewtopic('fRDISWXN6HXigV')`): what the site opens.
fn onclick_key(block: ElementRef<'_>) -> Option<String> {
    let js = block.value().attr("onclick")?;
    let start = js.find(['\'', '"'])?;
    let quote = js[start..].chars().next()?;
    let rest = &js[start + 1..];
    let end = rest.find(quote)?;
    let key = &rest[..end];
    (key.len() >= 4
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c)))
    .then(|| key.to_string())
}

/// Splits "Columbus Regional Healthcare System (US)" into the name and its country codes; an
/// acronym in parentheses ("(BRP)") stays in the name.
pub(crate) fn split_country(name: &str) -> (String, Option<String>) {
    match country_suffix_re().captures(name) {
        Some(c)
            if !c[1].trim().is_empty()
                && c[2]
                    .split(',')
                    .all(|code| COUNTRY_CODES.split(' ').any(|k| k == code.trim())) =>
        {
            (c[1].trim().to_string(), Some(c[2].to_string()))
        }
        _ => (name.to_string(), None),
    }
}

/// Splits "[CHINA] TCL China Star…" into the name and the place written before it in
/// brackets.
pub(crate) fn split_bracket_place(name: &str) -> (String, Option<String>) {
    let t = name.trim_start();
    if let Some(rest) = t.strip_prefix('[') {
        if let Some((place, tail)) = rest.split_once(']') {
            let place = place.trim();
            let tail = tail.trim();
            let placeish = !place.is_empty()
                && place.chars().count() <= 30
                && place
                    .chars()
                    .all(|c| c.is_alphabetic() || matches!(c, ' ' | '-' | '.'));
            if placeish && !tail.is_empty() {
                return (tail.to_string(), Some(place.to_string()));
            }
        }
    }
    (name.to_string(), None)
}

/// Splits "TrueLogic (truelogiccompany.com)" into the name and its domain.
pub(crate) fn split_domain(name: &str) -> (String, Option<String>) {
    let Some(open) = name.rfind('(') else {
        return (name.to_string(), None);
    };
    let inner = name[open + 1..].trim_end().trim_end_matches(')');
    let head = name[..open].trim();
    match domain_re().captures(inner.trim()) {
        Some(c) if name.trim_end().ends_with(')') && !head.is_empty() => {
            (head.to_string(), Some(c[1].to_lowercase()))
        }
        _ => (name.to_string(), None),
    }
}

/// The column labels of the table a row sits in: its first row, when that row is a header
/// (`th` cells, or every cell bold).
fn header_labels(row: ElementRef<'_>) -> Vec<String> {
    let Some(table) = row
        .ancestors()
        .filter_map(ElementRef::wrap)
        .find(|a| a.value().name() == "table")
    else {
        return Vec::new();
    };
    let Some(first) = elements(table).find(|e| e.value().name() == "tr") else {
        return Vec::new();
    };
    if first.id() == row.id() {
        return Vec::new();
    }
    let cells: Vec<ElementRef<'_>> = first
        .children()
        .filter_map(ElementRef::wrap)
        .filter(|c| matches!(c.value().name(), "td" | "th"))
        .collect();
    let header = !cells.is_empty()
        && cells.iter().all(|c| {
            c.value().name() == "th"
                || el_text(*c).is_empty()
                || elements(*c).any(|e| matches!(e.value().name(), "b" | "strong"))
        });
    if header {
        cells.into_iter().map(el_text).collect()
    } else {
        Vec::new()
    }
}

/// The link of a name element: the `a` it sits in, or the first it holds.
fn link_of(el: ElementRef<'_>) -> Option<String> {
    if el.value().name() == "a" {
        return el.value().attr("href").map(str::to_string);
    }
    for anc in el.ancestors().take(4).filter_map(ElementRef::wrap) {
        if anc.value().name() == "a" {
            return anc.value().attr("href").map(str::to_string);
        }
    }
    elements(el)
        .find(|e| e.value().name() == "a")
        .and_then(|a| a.value().attr("href").map(str::to_string))
}

pub(crate) fn resolve(href: &str, ctx: &PageContext) -> Option<Url> {
    let href = href.trim();
    if href.is_empty()
        || href.starts_with('#')
        || href.starts_with("javascript:")
        || href.starts_with("mailto:")
        || href == "."
    {
        return None;
    }
    ctx.base.join(href).ok().map(|u| without_session(&u))
}

/// Stable id from a detail link (its path and query) or else from the name.
fn stable_id(detail: Option<&Url>, ctx: &PageContext, name: &str) -> String {
    if let Some(u) = detail {
        let same_site = u.host_str() == ctx.base.host_str();
        let mut key = u.path().trim_matches('/').to_string();
        if let Some(q) = u.query() {
            key.push('?');
            key.push_str(q);
        }
        if let Some(f) = u.fragment().filter(|f| !f.is_empty()) {
            key.push('#');
            key.push_str(f);
        }
        if !key.is_empty()
            && !key.eq_ignore_ascii_case("index.html")
            && !key.eq_ignore_ascii_case("index.php")
        {
            return if same_site {
                key
            } else {
                format!("{}/{key}", u.host_str().unwrap_or_default())
            };
        }
    }
    slug(name)
}

/// Lowercase letters and digits joined by `-`.
pub(crate) fn slug(name: &str) -> String {
    let mut out = String::new();
    let mut dash = false;
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.push(c);
        } else {
            dash = true;
        }
    }
    out
}

/// What a block shows, found without knowing the site.
#[derive(Debug, Default)]
pub(crate) struct Cues {
    pub fields: BTreeMap<String, String>,
    pub date_text: String,
    /// Lines taken whole as a field or as volatile text: not part of the description.
    pub consumed: Vec<String>,
    /// Texts the page hides (`d-none`, `display:none`): neither cues nor description.
    pub hidden: Vec<String>,
}

impl Cues {
    /// How many kinds of victim cue the block shows.
    pub fn count(&self) -> usize {
        self.fields.len() + usize::from(!self.date_text.is_empty())
    }
}

fn label_key(label: &str) -> Option<&'static str> {
    let l = fold_confusables(label.trim()).to_lowercase();
    let l = l.as_str();
    let has = |ws: &[&str]| ws.iter().any(|w| l.contains(w));
    if l.len() > 30 {
        return None;
    }
    if has(&["web", "site", "domain", "url", "homepage"]) {
        Some("website")
    } else if l == "geo"
        || has(&[
            "country",
            "location",
            "pays",
            "страна",
            "hq",
            "headquarter",
            "address",
        ])
    {
        Some("country")
    } else if has(&["industry", "sector", "secteur", "activity", "tags"])
        || matches!(l, "type" | "company type" | "business type")
    {
        Some("sector")
    } else if has(&["revenue", "turnover", "chiffre"]) {
        Some("revenue")
    } else if has(&["time left", "left", "remaining", "countdown"]) {
        Some("countdown")
    } else if has(&["deadline", "publication date", "will be published", "timer"]) {
        Some("deadline")
    } else if has(&[
        "date",
        "published",
        "added",
        "posted",
        "updated",
        "time",
        "дата",
    ]) {
        Some("date")
    } else if has(&[
        "size",
        "volume",
        "data",
        "amount",
        "leak",
        "files size",
        "stolen",
    ]) {
        Some("data_size")
    } else if has(&["status", "state", "статус"]) {
        Some("status")
    } else if has(&["views", "visits", "просмотр"]) {
        Some("views")
    } else if has(&["employees", "staff"]) {
        Some("employees")
    } else {
        None
    }
}

fn status_in(text: &str) -> Option<&'static str> {
    let t = text.to_lowercase();
    let whole = t.trim_matches(|c: char| !c.is_alphanumeric());
    if let Some(w) = STATUS_ALONE.iter().copied().find(|w| *w == whole) {
        return Some(w);
    }
    STATUS_WORDS.iter().copied().find(|w| {
        t.match_indices(w).any(|(i, _)| {
            let before = t[..i].chars().next_back();
            let rest = &t[i + w.len()..];
            let after = rest.chars().next();
            // "published: 2023-06-24" is a date's label, not a status.
            !before.is_some_and(char::is_alphanumeric)
                && !after.is_some_and(char::is_alphanumeric)
                && !rest.trim_start().starts_with(':')
        })
    })
}

fn label_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        // "Revenue:$24 Million" (no space) too; "https://" is skipped by its "//".
        Regex::new(r"(?:^[^\p{L}\d]*|[,;|•]\s*)(\p{L}[\p{L} ._-]{0,28}?)\s*:(?:\s|[$€£\d])")
            .expect("static regex")
    })
}

/// The "label: value" parts of a line, in order; a value runs to the next label.
fn labelled_parts(line: &str) -> Vec<(String, String)> {
    let line_sp = format!("{line} ");
    let marks: Vec<(usize, usize, String)> = label_re()
        .captures_iter(&line_sp)
        .filter_map(|c| {
            let whole = c.get(0)?;
            let label = c.get(1)?;
            // The value starts right after the colon (the match may hold its first char).
            let colon = whole.start() + whole.as_str().rfind(':')? + 1;
            Some((whole.start(), colon, label.as_str().trim().to_string()))
        })
        .collect();
    let mut out = Vec::new();
    for (i, (_, end, label)) in marks.iter().enumerate() {
        let stop = marks.get(i + 1).map_or(line_sp.len(), |m| m.0);
        let value = line_sp.get(*end..stop).unwrap_or_default().trim();
        out.push((label.clone(), value.to_string()));
    }
    out
}

/// A size badge with a one-letter unit and nothing else on its line: "11G", "2.5T".
fn bare_short_size_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^\d{1,4}(?:[.,]\d{1,3})?\s?[GT]$").expect("static regex"))
}

/// The delay in "will publish after 8 days", "will be published in 3 days".
fn publish_delay_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?i)\b(?:after|in)\s+(\d{1,3}\s+(?:days?|hours?|weeks?))\b")
            .expect("static regex")
    })
}

/// A status word and the share it applies to: "PUBLISHED 100%".
fn status_share_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^\s*(\p{L}+)\s+(\d{1,3})\s?%\s*$").expect("static regex"))
}

/// A short text that is only a status word ("SALE", "DUMP", "Published").
pub(crate) fn is_status_text(t: &str) -> bool {
    let t = t.trim();
    t.chars().count() <= 20 && status_in(t).is_some_and(|w| w.len() + 2 >= t.len())
}

/// "161G", "(2G)": a size with a one-letter unit, believed only after a size label.
fn short_size_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?i)^\(?\s*(\d{1,6}(?:[.,]\d{1,3})?\s?[gtm])\s*\)?$").expect("static regex")
    })
}

/// The block's text lines, a label alone on its line ("Status:") joined with the value on
/// the next ("EVIDENCE"); both lines are then field text, not description.
fn joined_label_lines(text: &str, consumed: &mut Vec<String>) -> Vec<String> {
    let lines: Vec<String> = text
        .lines()
        .map(one_line)
        .filter(|l| !l.is_empty())
        .collect();
    let mut out = Vec::with_capacity(lines.len());
    let mut i = 0;
    while i < lines.len() {
        let l = &lines[i];
        let label = l.strip_suffix(':').map(str::trim);
        match (label, lines.get(i + 1)) {
            (Some(lab), Some(next))
                if lab.chars().count() <= 30
                    && label_key(lab).is_some()
                    && !next.ends_with(':') =>
            {
                consumed.push(l.clone());
                consumed.push(next.clone());
                out.push(format!("{lab}: {next}"));
                i += 2;
            }
            _ => {
                out.push(l.clone());
                i += 1;
            }
        }
    }
    out
}

/// Hidden by a utility class or an inline style.
fn is_hidden(el: ElementRef<'_>) -> bool {
    let v = el.value();
    v.classes()
        .any(|c| matches!(c, "d-none" | "hidden" | "hide" | "is-hidden" | "invisible"))
        || v.attr("style").is_some_and(|st| {
            let st: String = st.chars().filter(|c| !c.is_whitespace()).collect();
            st.to_ascii_lowercase().contains("display:none")
        })
        || v.attr("hidden").is_some()
}

/// An eye icon: `fa-eye`, `bi-eye`, `eye.svg`.
fn is_eye_icon(el: ElementRef<'_>) -> bool {
    let v = el.value();
    // "eye", "fa-eye", "icon-tabler-eye", "bi-eye-fill".
    v.classes().any(|c| {
        let c = c.to_ascii_lowercase();
        c.split('-').any(|t| t == "eye")
    }) || v.attr("src").is_some_and(|s| {
        let f = s
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        f.starts_with("eye.") || f.starts_with("eye-") || f.starts_with("eye_")
    })
}

/// The text right after an element: its next sibling text, or its next sibling element's.
fn text_after(el: ElementRef<'_>) -> Option<String> {
    for n in el.next_siblings() {
        if let Some(t) = n.value().as_text() {
            let t = one_line(t);
            if !t.is_empty() {
                return Some(t);
            }
        } else if let Some(e) = ElementRef::wrap(n) {
            let t = el_text(e);
            return (!t.is_empty()).then_some(t);
        }
    }
    None
}

/// A counter: digits with separators, maybe "k"/"m" ("21.5k").
fn is_count(t: &str) -> bool {
    let t = t.trim().trim_end_matches(['k', 'K', 'm', 'M']);
    !t.is_empty()
        && t.chars().next().is_some_and(|c| c.is_ascii_digit())
        && t.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ',' | '.' | ' '))
}

/// Reads the cues of a block: labelled fields, dates, sizes, countdowns, statuses, website.
pub(crate) fn read_cues(block: ElementRef<'_>, name: &str, ctx: &PageContext) -> Cues {
    let mut c = Cues::default();
    let put = |c: &mut Cues, k: &str, v: &str| {
        let v = v.trim();
        if !v.is_empty() {
            c.fields
                .entry(k.to_string())
                .or_insert_with(|| v.to_string());
        }
    };
    // A table row under a header row: each cell is the field its column names.
    if block.value().name() == "tr" {
        let labels = header_labels(block);
        let cells = block
            .children()
            .filter_map(ElementRef::wrap)
            .filter(|c| matches!(c.value().name(), "td" | "th"));
        for (label, cell) in labels.iter().zip(cells) {
            let v = el_text(cell);
            match label_key(label) {
                Some("date") if c.date_text.is_empty() && !v.is_empty() => {
                    c.consumed.push(v.clone());
                    c.date_text = v;
                }
                Some("data_size") => {
                    if let Some(m) = size_re().find(&v) {
                        put(&mut c, "data_size", m.as_str());
                        c.consumed.push(v.clone());
                    }
                }
                Some(k) if k != "date" => {
                    put(&mut c, k, &v);
                    c.consumed.push(v.clone());
                }
                _ => {}
            }
        }
    }
    let mut expansions: Vec<(String, String)> = Vec::new();
    // Marked-up cues first: a countdown widget, a <time>, an element classed as a date.
    for el in elements(block) {
        let tag = el.value().name();
        // Hidden by the page's own classes or style (a "published files" banner kept for
        // when the countdown ends): not what the entry shows now.
        if is_hidden(el) {
            let t = el_text(el);
            if !t.is_empty() {
                c.hidden.push(t);
            }
            continue;
        }
        if el
            .ancestors()
            .filter_map(ElementRef::wrap)
            .take_while(|a| a.id() != block.id())
            .any(is_hidden)
        {
            continue;
        }
        // A value cut short on the card, whole in its tooltip
        // (`<p title="Industry, Electronics">Industry, Electr...</p>`).
        if let Some(full) = el.value().attr("title").map(one_line) {
            let t = el_text(el);
            let cut = t.trim_end_matches("...").trim_end_matches('…');
            if cut.len() < t.len() && !cut.is_empty() && full.starts_with(cut) {
                expansions.push((t, full));
            }
        }
        // A tooltip naming the value: `<span title="Company Revenue"><i …></i> 39M</span>`.
        if let Some(key) = el.value().attr("title").and_then(label_key) {
            let t = el_text(el);
            if !t.is_empty() && t.chars().count() <= 40 && !matches!(t.as_str(), "-" | "?") {
                match key {
                    "data_size" => {
                        if let Some(m) = size_re().find(&t) {
                            put(&mut c, key, m.as_str());
                        }
                    }
                    "date" => {
                        if c.date_text.is_empty() {
                            c.date_text = t.clone();
                        }
                    }
                    _ => put(&mut c, key, &t),
                }
                c.consumed.push(t);
            }
        }
        // An element classed as the size: read alone, its text cannot run into the date
        // written just before it (`<span>2026-11-12</span><span>320 GB</span>`).
        if class_has(el, &["size"]) && !class_has(el, &["font-size", "text-size"]) {
            let t = el_text(el);
            if let Some(m) = size_re().find(&t) {
                put(&mut c, "data_size", m.as_str());
            }
        }
        // An eye icon, then the view count; a Material "visibility" icon after it.
        if matches!(tag, "i" | "span" | "img" | "svg") && is_eye_icon(el) {
            if let Some(v) = text_after(el).filter(|t| is_count(t)) {
                put(&mut c, "views", &v);
                c.consumed.push(v);
            }
            continue;
        }
        if matches!(tag, "i" | "span")
            && class_has(el, &["material"])
            && matches!(el_text(el).as_str(), "visibility" | "remove_red_eye")
        {
            let before = el.prev_siblings().find_map(|n| {
                n.value()
                    .as_text()
                    .map(|t| one_line(t))
                    .filter(|t| !t.is_empty())
            });
            if let Some(v) = before.filter(|t| is_count(t)) {
                put(&mut c, "views", &v);
                c.consumed.push(format!("{v} visibility"));
            }
            continue;
        }
        // A label/value row inside the block (`<tr><td>URL</td><td>https://…</td></tr>`).
        if tag == "tr" && el.id() != block.id() {
            let cells: Vec<ElementRef<'_>> = el
                .children()
                .filter_map(ElementRef::wrap)
                .filter(|x| matches!(x.value().name(), "td" | "th"))
                .collect();
            if let [l, v] = cells.as_slice() {
                let (label, value) = (el_text(*l), el_text(*v));
                match label_key(&label) {
                    Some("data_size") => {
                        if let Some(m) = size_re().find(&value) {
                            put(&mut c, "data_size", m.as_str());
                        }
                    }
                    Some("date") if c.date_text.is_empty() && !value.is_empty() => {
                        c.date_text = value.clone();
                    }
                    Some("website") => {
                        if let Some(m) = domain_re().captures(&value) {
                            put(&mut c, "website", &m[1].to_lowercase());
                        } else if let Some(h) = Url::parse(&value)
                            .ok()
                            .and_then(|u| u.host_str().map(str::to_string))
                        {
                            put(&mut c, "website", h.trim_start_matches("www."));
                        }
                    }
                    Some("date") | None => {}
                    Some(k) => put(&mut c, k, &value),
                }
            }
        }
        if tag == "script" {
            let src: String = el.text().collect();
            if let Some(m) = script_date_re().captures(&src) {
                put(&mut c, "deadline", &m[1]);
            }
            continue;
        }
        if class_has(
            el,
            &[
                "timer",
                "countdown",
                "count-down",
                "counter",
                "clock",
                "timeleft",
                "time-left",
            ],
        ) {
            // The deadline the script counts down to (`data-timer="Jun 29, 2022 21:32:00"`).
            for (k, v) in el.value().attrs() {
                if k.starts_with("data-") && date_re().is_match(v) {
                    put(&mut c, "deadline", v);
                }
            }
            let t = el_text(el);
            if !t.is_empty() {
                if let Some(word) =
                    status_in(&t).filter(|_| !t.chars().any(|ch| ch.is_ascii_digit()))
                {
                    put(&mut c, "status", word);
                } else {
                    put(&mut c, "countdown", &t);
                }
                c.consumed.push(t);
            }
            continue;
        }
        // An icon classed as a location, then the place as text.
        if matches!(tag, "i" | "span" | "img")
            && class_has(el, &["location", "country", "geo", "map-marker", "flag"])
        {
            let place = el.next_siblings().find_map(|n| {
                n.value()
                    .as_text()
                    .map(|t| one_line(t))
                    .filter(|t| !t.is_empty())
            });
            if let Some(p) = place {
                put(&mut c, "country", &p);
                c.consumed.push(p);
            }
            continue;
        }
        if tag == "time" {
            let t = el_text(el);
            let shown = if t.is_empty() {
                el.value().attr("datetime").unwrap_or_default().to_string()
            } else {
                t
            };
            if c.date_text.is_empty() && !shown.is_empty() {
                c.date_text = shown;
            }
            continue;
        }
        if c.date_text.is_empty()
            && class_has(el, &["date", "published", "posted"])
            && !class_has(el, &["update", "candidate"])
        {
            let t = el_text(el);
            if !t.is_empty() && t.chars().count() <= 40 && t.chars().any(|ch| ch.is_ascii_digit()) {
                c.consumed.push(t.clone());
                c.date_text = t;
            }
        }
    }
    // Then the text, line by line.
    let mut date_labelled = false;
    let text = vigie_html::readable_text(block);
    for line in joined_label_lines(&text, &mut c.consumed) {
        if line.is_empty() || line == name || c.hidden.contains(&line) {
            continue;
        }
        // "The data will be published 2022-09-24 00:00": the deadline, not the post's date.
        let lower = line.to_lowercase();
        if lower.contains("will be published") || lower.contains("publication date") {
            if let Some(m) = date_re().find(&line) {
                put(&mut c, "deadline", m.as_str());
                c.consumed.push(line.clone());
                continue;
            }
        }
        // A "new" badge on the card.
        if lower == "new" {
            put(&mut c, "status", "new");
            c.consumed.push(line.clone());
            continue;
        }
        if let Some(m) = views_re().captures(&line) {
            let v = m
                .get(1)
                .or(m.get(2))
                .or(m.get(3))
                .map(|m| m.as_str())
                .unwrap_or_default();
            put(&mut c, "views", v);
            c.consumed.push(line.clone());
            continue;
        }
        if let Some(m) = countdown_re().find(&line) {
            put(&mut c, "countdown", m.as_str());
            c.consumed.push(line.clone());
            continue;
        }
        let mut whole = false;
        // "published: 2023-06-24, visits: 1534, leak size: 399GB": every labelled part.
        let labelled = labelled_parts(&line);
        for (label, value) in &labelled {
            let Some(key) = label_key(label) else {
                continue;
            };
            if value.is_empty() || value.starts_with("//") {
                continue;
            }
            match key {
                "data_size" => {
                    if let Some(m) = size_re().find(value) {
                        // "Leak size: 67 GB Archive": a word or two after the size say what
                        // it is; kept with it.
                        let tail = value[m.end()..].trim();
                        let worded = m.start() == 0
                            && !tail.is_empty()
                            && tail.split_whitespace().count() <= 2
                            && tail.chars().all(|ch| ch.is_alphabetic() || ch == ' ');
                        put(&mut c, key, if worded { value } else { m.as_str() });
                    } else if let Some(m) = short_size_re().captures(value) {
                        // Labelled, a bare unit letter is a size too: "Size : (161G)".
                        put(&mut c, key, &m[1]);
                    }
                }
                // A labelled date wins over a date met in prose; a value without a digit
                // ("Real-Time Client Manager: Yes") is no date.
                "date" if !date_labelled && value.chars().any(|ch| ch.is_ascii_digit()) => {
                    c.date_text = date_re()
                        .find(value)
                        .map(|m| m.as_str().to_string())
                        .unwrap_or_else(|| value.to_string());
                    date_labelled = true;
                }
                "date" => {}
                "views" => put(&mut c, key, value.trim_end_matches([',', ';'])),
                // "Website: www.oil-india.com": the domain, as everywhere else.
                "website" => match domain_re().captures(value.trim_end_matches([',', ';'])) {
                    Some(m) => put(&mut c, key, &m[1].to_lowercase()),
                    None => put(&mut c, key, value),
                },
                _ => put(&mut c, key, value),
            }
        }
        // The line is a field line when it starts with a known label; a line carrying a
        // counter is volatile and never part of the description.
        whole |= labelled
            .first()
            .is_some_and(|(l, _)| label_key(l).is_some() && line.starts_with(l.as_str()))
            || labelled.iter().any(|(l, _)| label_key(l) == Some("views"));
        // A line that is only a domain names the victim's website.
        if let Some(m) = domain_re().captures(&line) {
            put(&mut c, "website", &m[1].to_lowercase());
        }
        // A bare number (a view counter beside an eye icon) is no description either.
        whole |= line
            .chars()
            .all(|ch| ch.is_ascii_digit() || matches!(ch, ' ' | ',' | '.'));
        if c.date_text.is_empty() {
            if let Some(m) = date_re().find(&line) {
                c.date_text = m.as_str().to_string();
                whole |= m.as_str().len() + 4 >= line.len();
            }
        }
        if let Some(m) = size_re().find(&line) {
            put(&mut c, "data_size", m.as_str());
            whole |= m.as_str().len() + 4 >= line.len();
        } else if bare_short_size_re().is_match(&line) {
            // "11G" alone in the badge where other cards show "300GB" (Quantum).
            put(&mut c, "data_size", &line);
            whole = true;
        }
        // "The data is published via <timer>", "this will publish after 8 days": not out yet.
        if lower.contains("published via")
            || lower.contains("will be published")
            || lower.contains("will publish")
            || lower.contains("published in ")
        {
            put(&mut c, "status", "pending");
            if let Some(m) = publish_delay_re().captures(&line) {
                put(&mut c, "countdown", &m[1]);
                c.consumed.push(line.clone());
            }
        }
        // A status is a marker ("All data published", "PUBLISHED 100%"), not a word in a
        // sentence ("Our Products are sold with NO WARRANTY").
        if line.chars().count() <= 60 && line.split_whitespace().count() <= 6 {
            if let Some(s) = status_in(&line) {
                // "PUBLISHED 10%": how much is out says more than the word alone (a
                // "published files" label beside it).
                if let Some(m) = status_share_re().captures(&line) {
                    if m[1].to_lowercase() == s {
                        c.fields.insert("status".into(), format!("{s} {}%", &m[2]));
                    }
                }
                put(&mut c, "status", s);
                whole |= line.chars().count() <= 30;
            }
        }
        if whole {
            c.consumed.push(line);
        }
    }
    for v in c.fields.values_mut() {
        if let Some((_, full)) = expansions.iter().find(|(cut, _)| cut == v) {
            *v = full.clone();
        }
    }
    // A website: the name itself when it is a domain, or a link out of the leak site.
    if !c.fields.contains_key("website") {
        if let Some(m) = domain_re().captures(name) {
            put(&mut c, "website", &m[1].to_lowercase());
        } else {
            for a in elements(block).filter(|e| e.value().name() == "a") {
                // "www.Seoulsemicon.com" written without its scheme: a site, not a path.
                let bare = a
                    .value()
                    .attr("href")
                    .map(str::trim)
                    .filter(|h| h.to_ascii_lowercase().starts_with("www."))
                    .and_then(|h| domain_re().captures(h));
                if let Some(m) = bare {
                    put(&mut c, "website", &m[1].to_lowercase());
                    break;
                }
                let Some(u) = a
                    .value()
                    .attr("href")
                    .and_then(|h| Url::parse(h.trim()).ok())
                else {
                    continue;
                };
                let host = u.host_str().unwrap_or_default();
                if matches!(u.scheme(), "http" | "https")
                    && !host.is_empty()
                    && !host.ends_with(".onion")
                    && !host.ends_with(".i2p")
                    && Some(host) != ctx.base.host_str()
                {
                    put(&mut c, "website", host.trim_start_matches("www."));
                    break;
                }
            }
        }
    }
    // Else a company address written out in the text ("For sale company data
    // https://www.north-island.com/"), not a file host or a profile site.
    if !c.fields.contains_key("website") {
        let text = vigie_html::readable_text(block);
        let host = text
            .split_whitespace()
            .filter(|w| w.starts_with("http://") || w.starts_with("https://"))
            .filter_map(|w| Url::parse(w.trim_end_matches([',', '.', ';', ')'])).ok())
            .filter_map(|u| {
                u.host_str()
                    .map(|h| h.trim_start_matches("www.").to_lowercase())
            })
            .find(|h| {
                h.contains('.')
                    && !h.ends_with(".onion")
                    && !h.ends_with(".i2p")
                    && !NOT_VICTIM_HOSTS
                        .iter()
                        .any(|x| h == x || h.ends_with(&format!(".{x}")))
            });
        if let Some(h) = host {
            put(&mut c, "website", &h);
        }
    }
    c
}

/// Hosts a leak post links to that are not the victim's: file hosts, company-profile and
/// social sites, Tor and messengers.
const NOT_VICTIM_HOSTS: &[&str] = &[
    "mega.nz",
    "gofile.io",
    "anonfiles.com",
    "ufile.io",
    "mediafire.com",
    "sendspace.com",
    "file.io",
    "bayfiles.com",
    "dropmefiles.com",
    "privatlab.net",
    "zoominfo.com",
    "linkedin.com",
    "twitter.com",
    "facebook.com",
    "wikipedia.org",
    "google.com",
    "t.me",
    "telegram.org",
    "torproject.org",
    "utox.org",
];

/// Builds the entry of a victim block. `name_el` is where the name is written (found by
/// [`find_name`] when `None`); `body_el`, when given, is the description.
pub(crate) fn entry_from_block(
    block: ElementRef<'_>,
    name_el: Option<ElementRef<'_>>,
    body_el: Option<ElementRef<'_>>,
    ctx: &PageContext,
) -> Option<Entry> {
    let name_el = name_el.or_else(|| find_name(block));
    let mut slug_link = None;
    let raw_name = match name_el {
        Some(el) => name_text(el),
        None => match lead_text(block) {
            Some(t) => t,
            None => {
                let (n, u) = link_slug_name(block, ctx)?;
                slug_link = Some(u);
                n
            }
        },
    };
    if raw_name.is_empty() || raw_name.chars().count() > MAX_NAME_CHARS {
        return None;
    }
    let (name, country) = split_country(&raw_name);
    let (name, place) = split_bracket_place(&name);
    let (name, domain) = split_domain(&name);
    let mut cues = read_cues(block, &raw_name, ctx);
    if let Some(d) = domain {
        cues.fields.entry("website".into()).or_insert(d);
    }
    let detail = name_el
        .and_then(link_of)
        .and_then(|h| resolve(&h, ctx))
        .or_else(|| {
            elements(block)
                .filter(|e| e.value().name() == "a")
                .filter(|a| {
                    let t = el_text(*a).to_lowercase();
                    t.contains("more")
                        || t.contains("detail")
                        || t.contains("view")
                        || t.contains('⟶')
                        || t.contains('→')
                })
                .find_map(|a| a.value().attr("href").and_then(|h| resolve(h, ctx)))
        })
        .or(slug_link)
        .filter(|u| u.host_str() == ctx.base.host_str());
    let mut fields = cues.fields;
    // "reliancenj.com - HACKED AND MORE THEN 200GB DATA LEAKED": the size in the title.
    if !fields.contains_key("data_size") {
        if let Some(m) = size_re().find(&raw_name) {
            fields.insert("data_size".into(), m.as_str().to_string());
        }
    }
    if let Some(cc) = country {
        fields.entry("country".into()).or_insert(cc);
    }
    // "[USA] OrthoCare": the place the site writes with the name wins over an address line.
    if let Some(p) = place {
        fields.insert("country".into(), p);
    }
    let body = match body_el {
        Some(b) => vigie_html::readable_text(b),
        None => {
            let text = vigie_html::readable_text(block);
            let kept: Vec<String> = text
                .lines()
                .filter_map(|l| {
                    let l1 = one_line(l);
                    // A counter run into a button's line ("MORE 12530") is volatile: cut
                    // it off, and drop what is left if it is only the button.
                    let short = cues
                        .consumed
                        .iter()
                        .filter(|v| v.chars().count() <= 20 && is_count(v));
                    let mut cut = l1.clone();
                    for v in short {
                        if let Some(head) = cut.strip_suffix(v.as_str()) {
                            if head.ends_with(' ') {
                                cut = head.trim_end().to_string();
                            }
                        }
                    }
                    let keep = !cut.is_empty()
                        && l1 != raw_name
                        && !is_chrome(&cut)
                        && !cues.consumed.contains(&l1);
                    keep.then(|| if cut == l1 { l.to_string() } else { cut })
                })
                .collect();
            kept.join("\n")
        }
    };
    let mut links = Vec::new();
    for a in elements(block).filter(|e| e.value().name() == "a") {
        if let Some(u) = a.value().attr("href").and_then(|h| resolve(h, ctx)) {
            let s = u.to_string();
            if !links.contains(&s) {
                links.push(s);
            }
        }
    }
    let date = if cues.date_text.is_empty() {
        None
    } else {
        parse_date(&cues.date_text, ctx)
    };
    let id = match (&detail, onclick_key(block)) {
        (None, Some(key)) => key,
        _ => stable_id(detail.as_ref(), ctx, &name),
    };
    Some(Entry {
        id,
        title: name,
        author: String::new(),
        date,
        date_text: cues.date_text,
        body: body.trim().to_string(),
        quoted: Vec::new(),
        fields,
        links,
        detail_link: detail.map(|u| u.to_string()),
    })
}

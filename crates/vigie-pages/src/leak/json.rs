//! Victim lists served as JSON: the API a leak site's JavaScript reads, which is what a
//! client without JavaScript gets (browsers show it in a `<pre>`).
//!
//! The JSON is parsed by `serde_json` (its nesting limit bounds the recursion); the search
//! for the victim array and the reading of each victim walk it with explicit stacks.

use std::collections::BTreeMap;

use scraper::{Html, Selector};
use serde_json::Value;

use super::fields::{one_line, size_re, slug};
use crate::dates::parse_date;
use crate::{Entry, PageContext};

/// Largest JSON text read (a victim list is far smaller).
const MAX_JSON: usize = 8 << 20;

/// The JSON text a page carries: the whole of a lone `<pre>`, or of the body.
fn json_text(doc: &Html) -> Option<String> {
    let pre = Selector::parse("pre").ok()?;
    let mut pres = doc.select(&pre);
    let text: String = match (pres.next(), pres.next()) {
        (Some(p), None) => p.text().collect(),
        _ => {
            let body = Selector::parse("body").ok()?;
            doc.select(&body).next()?.text().collect()
        }
    };
    let t = text.trim();
    (t.len() <= MAX_JSON && (t.starts_with('[') || t.starts_with('{'))).then(|| t.to_string())
}

/// A key's kind, from its (lowercased) name.
fn key_kind(k: &str) -> Option<&'static str> {
    let k = k.to_ascii_lowercase();
    let has = |ws: &[&str]| ws.iter().any(|w| k.contains(w));
    if k == "_id" || k == "id" || k == "slug" {
        Some("id")
    } else if has(&["title", "name", "company", "victim", "target"])
        && !has(&["file", "logo", "image"])
    {
        Some("name")
    } else if has(&["description", "content", "text", "info", "about"]) && !has(&["rss"]) {
        Some("body")
    } else if has(&["url", "website", "site", "domain"]) && !has(&["logo", "image", "img"])
        || k == "links"
        || k == "link"
    {
        Some("website")
    } else if has(&[
        "expiration",
        "deadline",
        "countdown",
        "publish_at",
        "publishat",
    ]) {
        Some("deadline")
    } else if has(&["date", "published", "created", "time", "added"]) {
        Some("date")
    } else if has(&["visits", "views", "viewers"]) || k == "view" {
        Some("views")
    } else if has(&["size", "volume"]) {
        Some("data_size")
    } else if has(&["country", "location"]) {
        Some("country")
    } else if has(&["industry", "sector"]) {
        Some("sector")
    } else if has(&["revenue"]) {
        Some("revenue")
    } else if has(&["status", "state"]) {
        Some("status")
    } else {
        None
    }
}

/// "Global%20Remote%20Services" → "Global Remote Services" (some sites percent-encode).
fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(percent_decode(s.trim())),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(_) | Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

/// An object's scalar values by kind, its own keys first, then those of objects nested in it
/// (one `data` or `timer` level down), each kind taken once.
fn kinds(obj: &serde_json::Map<String, Value>) -> BTreeMap<&'static str, String> {
    let mut out = BTreeMap::new();
    let mut queue: Vec<&serde_json::Map<String, Value>> = vec![obj];
    let mut depth = 0;
    while !queue.is_empty() && depth < 3 {
        let mut next = Vec::new();
        for o in queue {
            for (k, v) in o {
                match v {
                    Value::Object(inner) => next.push(inner),
                    _ => {
                        // "address" is a postal address (Conti) or the site (Termite).
                        let site_address = k.eq_ignore_ascii_case("address")
                            && v.as_str().is_some_and(|a| {
                                a.starts_with("http://")
                                    || a.starts_with("https://")
                                    || a.starts_with("www.")
                            });
                        let kind = if site_address {
                            Some("website")
                        } else {
                            key_kind(k)
                        };
                        if let (Some(kind), Some(s)) = (kind, scalar(v)) {
                            // A site path ("/70prXkLY_Schaumburg…") is the detail page,
                            // not the victim's website.
                            // A website is an address or a domain: a site path
                            // ("/70prXkLY_Schaumburg…") or a post key ("link":
                            // "HHnSpaMeYsei", Ragnar Locker) is not.
                            let not_site = kind == "website"
                                && !(s.starts_with("http://")
                                    || s.starts_with("https://")
                                    || (s.contains('.')
                                        && !s.starts_with('/')
                                        && !s.contains(char::is_whitespace)));
                            if !s.is_empty() && !not_site {
                                out.entry(kind).or_insert(s);
                            }
                        }
                    }
                }
            }
        }
        queue = next;
        depth += 1;
    }
    out
}

/// The array of victims: the largest array of objects that carry a name. Explicit stack.
fn victim_array(root: &Value) -> Option<&Vec<Value>> {
    let mut best: Option<(&Vec<Value>, usize)> = None;
    let mut stack = vec![root];
    while let Some(v) = stack.pop() {
        match v {
            Value::Array(items) => {
                // A victim carries a name and something else a victim has (a website, a
                // description, a date…); an attachment list has names ("redacted") only.
                let named = items
                    .iter()
                    .filter_map(Value::as_object)
                    .filter(|o| {
                        let k = kinds(o);
                        k.contains_key("name") && k.keys().any(|x| !matches!(*x, "name" | "id"))
                    })
                    .count();
                if named > 0 && named * 2 >= items.len() && best.is_none_or(|(_, n)| named > n) {
                    best = Some((items, named));
                }
                stack.extend(items.iter());
            }
            Value::Object(o) => stack.extend(o.values()),
            _ => {}
        }
    }
    best.map(|(a, _)| a)
}

/// Victims from a JSON page; `None` when the page is not JSON.
pub(crate) fn extract(doc: &Html, ctx: &PageContext) -> Option<Vec<Entry>> {
    let text = json_text(doc)?;
    let root: Value = serde_json::from_str(&text).ok()?;
    let items = victim_array(&root)?;
    Some(entries(items, ctx))
}

/// Most JSON values tried in one inline script (each try reads to the value's end).
const MAX_SCRIPT_TRIES: usize = 8;

/// Victims handed to the page's JavaScript in an inline script (`newsList([{…}, …])`,
/// `var posts = [...]`): the page's HTML holds no card, the script builds them. At least two
/// named victims.
pub(crate) fn extract_scripts(doc: &Html, ctx: &PageContext) -> Option<Vec<Entry>> {
    let sel = Selector::parse("script:not([src])").ok()?;
    let mut best: Option<Vec<Entry>> = None;
    for script in doc.select(&sel) {
        let src: String = script.text().collect();
        if src.len() > MAX_JSON {
            continue;
        }
        let starts = src
            .char_indices()
            .filter(|(_, c)| matches!(c, '(' | '='))
            .filter_map(|(i, _)| {
                let rest = &src[i + 1..];
                let off = rest.len() - rest.trim_start().len();
                rest.trim_start()
                    .starts_with(['[', '{'])
                    .then_some(i + 1 + off)
            })
            .take(MAX_SCRIPT_TRIES);
        for start in starts {
            let mut it = serde_json::Deserializer::from_str(&src[start..]).into_iter::<Value>();
            let Some(Ok(root)) = it.next() else {
                continue;
            };
            let Some(items) = victim_array(&root) else {
                continue;
            };
            let found = entries(items, ctx);
            if found.len() >= 2 && best.as_ref().is_none_or(|b| found.len() > b.len()) {
                best = Some(found);
            }
        }
    }
    best
}

/// The width a site wraps its names at (Akira cuts titles every 20 characters, inside words:
/// "Parathon by JDA eHea\nlth Systems"): the length of every line that has a next line,
/// when at least three such lines agree.
fn wrap_width(items: &[Value]) -> Option<usize> {
    let mut counts: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
    for obj in items.iter().filter_map(Value::as_object) {
        if let Some(n) = kinds(obj).get("name") {
            let lines: Vec<&str> = n.lines().collect();
            for w in lines.windows(2) {
                if !w[1].trim().is_empty() {
                    *counts.entry(w[0].chars().count()).or_insert(0) += 1;
                }
            }
        }
    }
    let (w, n) = counts.into_iter().max_by_key(|(w, n)| (*n, *w))?;
    (n >= 3 && w >= 8).then_some(w)
}

/// A name wrapped at `width`, joined as a reader does: a full-width line followed by a
/// lowercase letter or closing punctuation was cut inside a word; else the break is a space.
fn unwrap_name(name: &str, width: Option<usize>) -> String {
    let mut out = String::new();
    let mut prev_full = false;
    for line in name.lines() {
        let t = line.trim_end();
        if t.trim().is_empty() {
            continue;
        }
        let cont = t
            .chars()
            .next()
            .is_some_and(|c| c.is_lowercase() || matches!(c, ')' | ']' | '.' | ','));
        let joined = prev_full && cont;
        if !out.is_empty() && !joined {
            out.push(' ');
        }
        out.push_str(t.trim_start_matches(' '));
        prev_full = width.is_some_and(|w| line.chars().count() == w && !line.ends_with(' '));
    }
    one_line(&out)
}

fn entries(items: &[Value], ctx: &PageContext) -> Vec<Entry> {
    let width = wrap_width(items);
    let mut out = Vec::new();
    for obj in items.iter().filter_map(Value::as_object) {
        let k = kinds(obj);
        let Some(name) = k.get("name").map(|n| unwrap_name(n, width)) else {
            continue;
        };
        let body = k
            .get("body")
            .map(|b| b.replace("\r\n", "\n").trim().to_string())
            .unwrap_or_default();
        let mut fields = BTreeMap::new();
        for key in [
            "views", "deadline", "country", "sector", "revenue", "status",
        ] {
            if let Some(v) = k.get(key) {
                fields.insert(key.to_string(), v.clone());
            }
        }
        if let Some(w) = k.get("website") {
            let host = url::Url::parse(w)
                .ok()
                .and_then(|u| u.host_str().map(str::to_string))
                .unwrap_or_else(|| w.clone());
            fields.insert(
                "website".into(),
                host.trim_start_matches("www.").to_string(),
            );
        }
        let size = k
            .get("data_size")
            .cloned()
            .or_else(|| size_re().find(&body).map(|m| m.as_str().to_string()));
        if let Some(s) = size {
            fields.insert("data_size".into(), s);
        }
        let date_text = k.get("date").cloned().unwrap_or_default();
        out.push(Entry {
            id: k.get("id").cloned().unwrap_or_else(|| slug(&name)),
            date: if date_text.is_empty() {
                None
            } else {
                parse_date(&date_text, ctx)
            },
            date_text,
            title: name,
            body,
            fields,
            ..Entry::default()
        });
    }
    out
}

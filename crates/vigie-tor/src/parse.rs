//! Pages into posts: a generic reader (title, readable text, links) and a reader driven by
//! CSS selectors from the source's configuration, which also counts what each selector found
//! (the parser-health figures).

use std::collections::{BTreeMap, HashSet};

use scraper::Selector;
use url::Url;
pub use vigie_html::readable_text;
use vigie_html::HtmlRefused;

use crate::config::Selectors;
use crate::onion::{find_onions, OnionAddress};

/// Selectors compiled once per source.
#[derive(Debug)]
pub struct CompiledSelectors {
    named: Vec<(&'static str, Selector)>,
}

impl CompiledSelectors {
    /// Compiles every configured selector (validation already rejected bad ones).
    pub fn new(s: &Selectors) -> Result<CompiledSelectors, String> {
        let named = s
            .named()
            .into_iter()
            .map(|(n, css)| {
                Selector::parse(css)
                    .map(|sel| (n, sel))
                    .map_err(|e| format!("{n}: {e}"))
            })
            .collect::<Result<_, _>>()?;
        Ok(CompiledSelectors { named })
    }

    fn get(&self, name: &str) -> Option<&Selector> {
        self.named.iter().find(|(n, _)| *n == name).map(|(_, s)| s)
    }
}

/// One post (or leak-site victim entry).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Post {
    /// The container's `id` attribute, else its position on the page.
    pub id: String,
    pub title: String,
    pub author: String,
    pub date: String,
    pub body: String,
    pub data_size: String,
    pub links: Vec<String>,
}

/// What a page yielded.
#[derive(Debug, Default)]
pub struct ParsedPage {
    pub title: String,
    /// Readable text of the whole page (scripts and styles dropped).
    pub text: String,
    pub posts: Vec<Post>,
    /// Links to threads on the same host.
    pub thread_links: Vec<Url>,
    pub next_page: Option<Url>,
    /// Every link, absolute where it resolves.
    pub links: Vec<String>,
    /// Valid v3 onion addresses in the text and links.
    pub onions: Vec<OnionAddress>,
    /// Elements each configured selector matched on this page.
    pub counts: BTreeMap<String, usize>,
}

/// Parses `html` fetched from `base`, in time linear in its length; a page nested deeper than
/// `max_depth` elements is refused (see [`vigie_html::parse_document`]).
pub fn parse_page(
    html: &str,
    base: &Url,
    selectors: Option<&CompiledSelectors>,
    max_depth: usize,
) -> Result<ParsedPage, HtmlRefused> {
    let doc = vigie_html::parse_document(html, max_depth)?;
    let mut page = ParsedPage {
        title: doc
            .select(&sel("title"))
            .next()
            .map(|t| squash(&t.text().collect::<String>()))
            .unwrap_or_default(),
        text: readable_text(doc.root_element()),
        ..ParsedPage::default()
    };
    // Seen-sets keep hostile pages with hundreds of thousands of links linear.
    let mut seen_links = HashSet::new();
    for a in doc.select(&sel("a[href]")) {
        if let Some(u) = a.value().attr("href").and_then(|h| base.join(h).ok()) {
            if seen_links.insert(u.to_string()) {
                page.links.push(u.to_string());
            }
        }
    }
    let mut haystack = page.text.clone();
    for l in &page.links {
        haystack.push('\n');
        haystack.push_str(l);
    }
    page.onions = find_onions(&haystack);
    let Some(s) = selectors else {
        return Ok(page);
    };
    for (name, selector) in &s.named {
        page.counts
            .insert((*name).to_string(), doc.select(selector).count());
    }
    if let Some(t) = s.get("thread_link") {
        let mut seen_threads = HashSet::new();
        for a in doc.select(t) {
            let href = a.value().attr("href").or_else(|| {
                a.select(&sel("a[href]"))
                    .next()
                    .and_then(|x| x.value().attr("href"))
            });
            if let Some(u) = href.and_then(|h| base.join(h).ok()) {
                if same_site(&u, base) && seen_threads.insert(u.clone()) {
                    page.thread_links.push(u);
                }
            }
        }
    }
    if let Some(n) = s.get("next_page") {
        page.next_page = doc
            .select(n)
            .find_map(|a| a.value().attr("href").and_then(|h| base.join(h).ok()))
            .filter(|u| same_site(u, base) && u != base);
    }
    let page_title = s
        .get("title")
        .and_then(|t| doc.select(t).next())
        .map(|e| squash(&e.text().collect::<String>()))
        .unwrap_or_else(|| page.title.clone());
    if let Some(p) = s.get("post") {
        for (i, el) in doc.select(p).enumerate() {
            let field = |name: &str| -> String {
                s.get(name)
                    .and_then(|x| el.select(x).next())
                    .map(|e| squash(&readable_text(e)))
                    .unwrap_or_default()
            };
            let date = s
                .get("date")
                .and_then(|x| el.select(x).next())
                .map(|e| {
                    e.value()
                        .attr("datetime")
                        .or_else(|| e.value().attr("data-time"))
                        .or_else(|| e.value().attr("title"))
                        .map(str::to_string)
                        .unwrap_or_else(|| squash(&e.text().collect::<String>()))
                })
                .unwrap_or_default();
            let body = match s.get("body").and_then(|x| el.select(x).next()) {
                Some(b) => readable_text(b),
                None => readable_text(el),
            };
            let title = s
                .get("title")
                .and_then(|x| el.select(x).next())
                .map(|e| squash(&e.text().collect::<String>()))
                .unwrap_or_else(|| page_title.clone());
            let links = el
                .select(&sel("a[href]"))
                .filter_map(|a| a.value().attr("href").and_then(|h| base.join(h).ok()))
                .map(|u| u.to_string())
                .collect();
            page.posts.push(Post {
                id: el
                    .value()
                    .attr("id")
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("item-{}", i + 1)),
                title,
                author: field("author"),
                date,
                body: body.trim().to_string(),
                data_size: field("data_size"),
                links,
            });
        }
    }
    Ok(page)
}

/// Same scheme, host and port.
pub fn same_site(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

fn sel(css: &str) -> Selector {
    // Constant selectors, known to parse.
    Selector::parse(css).unwrap_or_else(|_| unreachable_selector())
}

#[allow(clippy::expect_used)]
fn unreachable_selector() -> Selector {
    Selector::parse("*").expect("the universal selector parses")
}

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

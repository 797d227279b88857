//! Ransomware leak-site victim entries.
//!
//! [`read_leak_page`] reads a listing or a victim's page without configuration: a shipped
//! [`Profile`] when one is for the site, else the generic extractor, which finds the repeated
//! sibling blocks that are victim entries (or reads the page as one victim's detail page).
//! Each victim becomes one [`Entry`]: `title` the victim's name, `id` a stable key (the
//! detail link's path, else a slug of the name — never the position), `body` the description
//! without volatile text (a ticking countdown, a view counter: those go to `fields`), and
//! `fields` what the entry shows (`website`, `country`, `sector`, `revenue`, `data_size`,
//! `countdown`, `deadline`, `status`, `views`).
//!
//! CONTRACT (vigie-tor codes against it): `LeakPage`, `Profile`, `shipped_profiles`,
//! `read_leak_page`.

mod fields;
mod generic;
mod json;
mod profile;

use scraper::{Html, Selector};
use url::Url;

pub use profile::{load_profiles, shipped_profiles, Profile, ProfileError};

use crate::{Entry, PageContext};

/// What a leak-site page holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeakPage {
    /// One entry per victim, in page order.
    pub victims: Vec<Entry>,
    /// The next listing page.
    pub next_page: Option<Url>,
    /// The profile used, if one matched; `None` for the generic extractor.
    pub profile: Option<String>,
}

/// Reads a leak-site listing or victim page: with the first profile that is for the site,
/// else with the generic extractor.
pub fn read_leak_page(doc: &Html, ctx: &PageContext, profiles: &[Profile]) -> LeakPage {
    if let Some(p) = profiles.iter().find(|p| p.matches(doc, ctx)) {
        let mut victims = p.extract(doc, ctx);
        generic::dedupe_ids(&mut victims);
        return LeakPage {
            victims,
            next_page: p.next_page(doc, ctx).or_else(|| next_page(doc, ctx)),
            profile: Some(p.name.clone()),
        };
    }
    // A JSON victim list (the site's API, what a client without JavaScript gets).
    if let Some(mut victims) = json::extract(doc, ctx) {
        generic::dedupe_ids(&mut victims);
        return LeakPage {
            victims,
            next_page: None,
            profile: None,
        };
    }
    let mut victims = generic::extract(doc, ctx);
    // No card in the markup: the victims may be in the data an inline script renders.
    if victims.is_empty() {
        if let Some(mut found) = json::extract_scripts(doc, ctx) {
            generic::dedupe_ids(&mut found);
            victims = found;
        }
    }
    LeakPage {
        victims,
        next_page: next_page(doc, ctx),
        profile: None,
    }
}

/// The next listing page: `rel=next`, or a link whose text or class says next.
fn next_page(doc: &Html, ctx: &PageContext) -> Option<Url> {
    let a_sel = Selector::parse("a[href]").ok()?;
    for a in doc.select(&a_sel) {
        let v = a.value();
        let text = fields::el_text(a).to_lowercase();
        let rel_next = v
            .attr("rel")
            .is_some_and(|r| r.split_whitespace().any(|x| x == "next"));
        let labelled = v
            .attr("aria-label")
            .is_some_and(|l| l.eq_ignore_ascii_case("next"));
        let classed = v.classes().any(|c| c.to_ascii_lowercase().contains("next"))
            || a.parent()
                .and_then(scraper::ElementRef::wrap)
                .is_some_and(|p| {
                    p.value()
                        .classes()
                        .any(|c| c.to_ascii_lowercase().contains("next"))
                });
        let worded = matches!(
            text.trim_matches(|c: char| !c.is_alphanumeric()),
            "next" | "next page" | "suivant" | "далее" | "older posts"
        ) || matches!(text.trim(), "»" | "›" | ">" | ">>");
        if rel_next || labelled || classed || worded {
            if let Some(u) = fields::resolve(v.attr("href").unwrap_or_default(), ctx) {
                if u != ctx.base {
                    return Some(u);
                }
            }
        }
    }
    None
}

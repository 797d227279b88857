//! The digest as self-contained HTML (inline CSS and SVG, prints on A4) and as Markdown.

use std::fmt::Write;

use vigie_core::{Category, Language, Severity};
use vigie_store::source_kind_label;

use crate::chart::{escape, stacked_bars, Series};
use crate::model::{Digest, IncidentRow, Pair};
use crate::text::{self, words};

const SEVERITY_COLOURS: [(Severity, &str); 3] = [
    (Severity::Critical, "#9b1c1c"),
    (Severity::High, "#d9480f"),
    (Severity::Medium, "#e8a317"),
];
const CATEGORY_COLOURS: [&str; 10] = [
    "#1f4e79", "#2e86c1", "#17a589", "#7d3c98", "#c0392b", "#d68910", "#5d6d7e", "#229954",
    "#a04000", "#85929e",
];

fn delta(p: Pair) -> String {
    let d = p.this as i64 - p.previous as i64;
    match d {
        0 => "=".into(),
        d if d > 0 => format!("+{d}"),
        d => d.to_string(),
    }
}

fn organisations(r: &IncidentRow, lang: Language) -> String {
    if r.organisations.is_empty() {
        words(lang).unnamed.to_string()
    } else {
        r.organisations.join(", ")
    }
}

fn categories(r: &IncidentRow, lang: Language) -> String {
    r.categories
        .iter()
        .map(|c| text::category(*c, lang))
        .collect::<Vec<_>>()
        .join(", ")
}

fn source_kinds(r: &IncidentRow, lang: Language) -> String {
    r.source_kinds
        .iter()
        .map(|k| source_kind_label(*k, lang))
        .collect::<Vec<_>>()
        .join(", ")
}

fn date(t: vigie_store::Timestamp) -> String {
    let s = t.to_string();
    s.get(..16).map_or(s.clone(), |d| d.replace('T', " "))
}

fn identifiers(r: &IncidentRow, lang: Language) -> String {
    r.identifiers
        .iter()
        .map(|(k, n)| format!("{n} {}", text::identifier(*k, lang)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Charts of the trend, severity then category.
fn charts(d: &Digest, lang: Language) -> (String, String) {
    let w = words(lang);
    let labels: Vec<String> = d
        .trend
        .iter()
        .map(|c| {
            let s = c.week.to_string();
            s.get(5..).map_or(s.clone(), str::to_string)
        })
        .collect();
    let severity_series: Vec<Series<'_>> = SEVERITY_COLOURS
        .iter()
        .map(|(s, colour)| Series {
            label: text::severity(*s, lang),
            colour,
            values: d
                .trend
                .iter()
                .map(|c| c.by_severity.get(s).copied().unwrap_or(0))
                .collect(),
        })
        .collect();
    let cats: Vec<Category> = Category::ALL
        .into_iter()
        .filter(|c| d.trend.iter().any(|t| t.by_category.contains_key(c)))
        .collect();
    let category_series: Vec<Series<'_>> = cats
        .iter()
        .enumerate()
        .map(|(n, c)| Series {
            label: text::category(*c, lang),
            colour: CATEGORY_COLOURS[n % CATEGORY_COLOURS.len()],
            values: d
                .trend
                .iter()
                .map(|t| t.by_category.get(c).copied().unwrap_or(0))
                .collect(),
        })
        .collect();
    (
        stacked_bars(w.by_severity, &labels, &severity_series),
        stacked_bars(w.by_category, &labels, &category_series),
    )
}

const CSS: &str = "body{font-family:'DejaVu Sans',Arial,sans-serif;color:#222;max-width:960px;margin:24px auto;padding:0 16px;font-size:14px}\
h1{font-size:22px;border-bottom:3px solid #1f4e79;padding-bottom:6px}h2{font-size:17px;color:#1f4e79;margin-top:28px}\
h3{font-size:15px;margin-bottom:4px}table{border-collapse:collapse;width:100%;margin:8px 0}\
th,td{border:1px solid #ccc;padding:4px 6px;text-align:left;vertical-align:top}th{background:#eef3f8}\
.figures{display:flex;flex-wrap:wrap;gap:12px}.figure{border:1px solid #ccc;border-radius:4px;padding:8px 12px;min-width:200px}\
.sev-critical{color:#9b1c1c;font-weight:bold}.sev-high{color:#d9480f;font-weight:bold}.sev-medium{color:#a67c00}\
.hash{font-family:monospace;font-size:11px;word-break:break-all}.muted{color:#666}.tlp{background:#000;color:#ffc000;padding:2px 6px;font-weight:bold}\
footer{margin-top:32px;font-size:12px;color:#555;border-top:1px solid #ccc;padding-top:8px}\
@media print{body{margin:0;max-width:none}h2{page-break-after:avoid}table,.incident,svg{page-break-inside:avoid}}";

/// The digest as one self-contained HTML page.
pub fn html(d: &Digest, lang: Language) -> String {
    let w = words(lang);
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{} — {}</title><style>{CSS}</style></head><body>",
        match lang {
            Language::Fr => "fr",
            Language::En => "en",
        },
        escape(w.title),
        d.week
    );
    let _ = write!(
        h,
        "<h1>{}</h1><p><span class=\"tlp\">TLP:AMBER</span> {} {} ({} → {}) · {} {}</p>",
        escape(w.title),
        w.week,
        d.week,
        d.week.monday(),
        d.week.sunday(),
        w.generated,
        date(d.generated_at)
    );

    // Headline figures.
    let _ = write!(
        h,
        "<section id=\"headline\"><h2>{}</h2><div class=\"figures\">",
        w.headline
    );
    let total = d.total();
    let _ = write!(
        h,
        "<div class=\"figure\"><b>{}</b>: {} <span class=\"muted\">({}: {}, {})</span><ul>",
        w.new_incidents,
        total.this,
        w.previous_week,
        total.previous,
        delta(total)
    );
    for (s, p) in d.new_by_severity.iter().rev() {
        let _ = write!(
            h,
            "<li class=\"sev-{}\">{}: {} <span class=\"muted\">({})</span></li>",
            s.as_str(),
            text::severity(*s, lang),
            p.this,
            delta(*p)
        );
    }
    let _ = write!(
        h,
        "</ul></div><div class=\"figure\"><b>{}</b><ul>",
        w.organisations
    );
    for (c, p) in &d.organisations_by_category {
        let _ = write!(
            h,
            "<li>{}: {} <span class=\"muted\">({})</span></li>",
            text::category(*c, lang),
            p.this,
            delta(*p)
        );
    }
    let _ = write!(
        h,
        "</ul></div><div class=\"figure\"><b>{}</b> <span class=\"muted\">({})</span><ul>",
        w.identifiers, w.identifiers_note
    );
    for (k, p) in &d.identifiers {
        let _ = write!(
            h,
            "<li>{}: {} <span class=\"muted\">({})</span></li>",
            text::identifier(*k, lang),
            p.this,
            delta(*p)
        );
    }
    let _ = write!(
        h,
        "</ul></div><div class=\"figure\"><b>{}</b>: {} {} <span class=\"muted\">({})</span><ul>",
        w.sources,
        d.sources.active.this,
        w.sources_active,
        delta(d.sources.active)
    );
    for (k, n) in &d.sources.by_kind {
        let _ = write!(h, "<li>{}: {n}</li>", source_kind_label(*k, lang));
    }
    h.push_str("</ul></div></div></section>");

    // The week's incidents.
    let _ = write!(h, "<section id=\"incidents\"><h2>{}</h2>", w.incidents);
    if d.incidents.is_empty() {
        let _ = write!(h, "<p>{}</p>", w.no_incident);
    } else {
        let _ = write!(
            h,
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
            w.col_id, w.col_org, w.col_category, w.col_source, w.col_first_seen, w.col_severity, w.col_triage, w.col_evidence
        );
        for r in &d.incidents {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"sev-{}\">{}</td><td>{}</td><td class=\"hash\">{}</td></tr>",
                r.id,
                escape(&organisations(r, lang)),
                escape(&categories(r, lang)),
                escape(&source_kinds(r, lang)),
                date(r.first_seen),
                r.severity.as_str(),
                text::severity(r.severity, lang),
                text::triage(r.triage, lang),
                escape(&r.evidence)
            );
        }
        h.push_str("</tbody></table>");
    }
    h.push_str("</section>");

    // One section per critical or high incident.
    let _ = write!(h, "<section id=\"details\"><h2>{}</h2>", w.details);
    for r in d.serious() {
        let _ = write!(
            h,
            "<div class=\"incident\"><h3>#{} — {} <span class=\"sev-{}\">({})</span></h3><ul>",
            r.id,
            escape(&organisations(r, lang)),
            r.severity.as_str(),
            text::severity(r.severity, lang)
        );
        let offered = if r.leak_offer {
            w.offer_yes
        } else {
            w.offer_no
        };
        let ids = identifiers(r, lang);
        let _ = write!(
            h,
            "<li><b>{}</b>: {} ({}){}</li>",
            w.offered,
            offered,
            text::document_kind(r.kind, lang),
            if ids.is_empty() {
                String::new()
            } else {
                format!(" — {}", escape(&ids))
            }
        );
        if r.sample_rows > 0 {
            let _ = write!(
                h,
                "<li><b>{}</b>: ~{} {}</li>",
                w.sample, r.sample_rows, w.rows
            );
        }
        let _ = write!(
            h,
            "<li><b>{}</b>: {}</li><li><b>{}</b>: {} → {} ({} {})</li>",
            w.where_,
            escape(&r.places.join(" · ")),
            w.when,
            date(r.first_seen),
            date(r.last_seen),
            r.sightings,
            w.sightings
        );
        if !r.cues.is_empty() {
            let _ = write!(
                h,
                "<li><b>{}</b>: {}</li>",
                w.cues,
                escape(&r.cues.join(", "))
            );
        }
        let _ = write!(
            h,
            "<li class=\"muted\">{} · {}</li></ul></div>",
            escape(&r.why.join("; ")),
            text::triage(r.triage, lang)
        );
    }
    if d.serious().next().is_none() {
        let _ = write!(h, "<p>{}</p>", w.no_incident);
    }
    h.push_str("</section>");

    // Trends.
    let (by_severity, by_category) = charts(d, lang);
    let _ = write!(
        h,
        "<section id=\"trends\"><h2>{}</h2><figure>{by_severity}</figure><figure>{by_category}</figure></section>",
        w.trends
    );

    // Source health.
    let _ = write!(h, "<section id=\"sources\"><h2>{}</h2>", w.health);
    if d.dead_letters > 0 {
        let _ = write!(
            h,
            "<p><strong>{} {}</strong></p>",
            d.dead_letters, w.dead_letters
        );
    }
    let _ = write!(h, "<h3>{}</h3>", w.quiet);
    if d.sources.quiet.is_empty() {
        let _ = write!(h, "<p>{}</p>", w.no_quiet);
    } else {
        let telegram = d
            .sources
            .quiet
            .iter()
            .filter(|(_, k, _)| *k == vigie_store::SourceKind::Telegram)
            .count();
        let _ = write!(
            h,
            "<p>{} ({} {telegram})</p><ul>",
            d.sources.quiet.len(),
            w.quiet_telegram
        );
        for (source, kind, last) in &d.sources.quiet {
            let _ = write!(
                h,
                "<li>{} ({}) — {}</li>",
                escape(source),
                source_kind_label(*kind, lang),
                date(*last)
            );
        }
        h.push_str("</ul>");
    }
    let _ = write!(h, "<h3>{}</h3>", w.collectors);
    let c = &d.sources.collectors;
    if c.is_empty() {
        let _ = write!(h, "<p class=\"muted\">{}</p>", w.collector_health);
    } else {
        let (failed, blind) = collector_lists(c, lang);
        let reachable = c.iter().filter(|x| x.reachable_runs > 0).count();
        let watched = c.iter().filter(|x| x.runs > 0).count();
        let _ = write!(
            h,
            "<p>{watched} {} {reachable}.</p><p><strong>{}</strong>: {}</p><p><strong>{}</strong>: {}</p><p><strong>{}</strong>: {}</p><ul>",
            w.watched_reachable,
            w.failed_all_week,
            escape(&failed),
            w.blind_parsers,
            escape(&blind),
            w.kept_out,
            escape(&kept_out_list(c, lang))
        );
        for x in c {
            let _ = write!(
                h,
                "<li>{} — {} {}, {} / {}{}{}</li>",
                escape(&x.source),
                x.runs,
                w.runs_pages,
                x.pages_ok,
                x.pages_failed,
                escape(&kept_out(x, lang)),
                crashes(x, lang)
            );
        }
        h.push_str("</ul>");
    }
    let _ = write!(h, "</section><footer>{}</footer></body></html>", w.footer);
    h
}

/// The sources that failed all week and the blind parsers, as comma lists (or "none").
fn collector_lists(c: &[crate::model::CollectorWeek], lang: Language) -> (String, String) {
    let none = text::words(lang).none;
    let failed: Vec<&str> = c
        .iter()
        .filter(|x| x.failed_all_week())
        .map(|x| x.source.as_str())
        .collect();
    let blind: Vec<String> = c
        .iter()
        .filter(|x| x.blind_runs > 0)
        .map(|x| format!("{} ({})", x.source, x.blind_selectors.join(", ")))
        .collect();
    let or_none = |v: Vec<String>| {
        if v.is_empty() {
            none.to_string()
        } else {
            v.join(", ")
        }
    };
    (
        or_none(failed.into_iter().map(str::to_string).collect()),
        or_none(blind),
    )
}

/// ", login wall ×2, rate limited ×1": the runs a reachable site kept out of its content.
fn kept_out(x: &crate::model::CollectorWeek, lang: Language) -> String {
    x.kept_out
        .iter()
        .map(|(s, n)| format!(", {} ×{n}", text::health_status(*s, lang)))
        .collect()
}

/// The sources kept out of their content this week, with how, as a comma list (or "none").
fn kept_out_list(c: &[crate::model::CollectorWeek], lang: Language) -> String {
    let list: Vec<String> = c
        .iter()
        .filter(|x| !x.kept_out.is_empty())
        .map(|x| {
            let how: Vec<&str> = x
                .kept_out
                .keys()
                .map(|s| text::health_status(*s, lang))
                .collect();
            format!("{} ({})", x.source, how.join(", "))
        })
        .collect();
    if list.is_empty() {
        text::words(lang).none.to_string()
    } else {
        list.join(", ")
    }
}

/// ", N thread failures, restarted" when a source thread failed this week.
fn crashes(x: &crate::model::CollectorWeek, lang: Language) -> String {
    if x.crashes == 0 {
        return String::new();
    }
    format!(", {} {}", x.crashes, text::words(lang).crashes)
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The digest as Markdown (trends as tables).
pub fn markdown(d: &Digest, lang: Language) -> String {
    let w = words(lang);
    let mut m = String::new();
    let _ = writeln!(m, "# {}\n", w.title);
    let _ = writeln!(
        m,
        "**TLP:AMBER** · {} {} ({} → {}) · {} {}\n",
        w.week,
        d.week,
        d.week.monday(),
        d.week.sunday(),
        w.generated,
        date(d.generated_at)
    );
    let _ = writeln!(m, "## {}\n", w.headline);
    let total = d.total();
    let _ = writeln!(
        m,
        "- **{}**: {} ({}: {}, {})",
        w.new_incidents,
        total.this,
        w.previous_week,
        total.previous,
        delta(total)
    );
    for (s, p) in d.new_by_severity.iter().rev() {
        let _ = writeln!(
            m,
            "  - {}: {} ({})",
            text::severity(*s, lang),
            p.this,
            delta(*p)
        );
    }
    let _ = writeln!(m, "- **{}**", w.organisations);
    for (c, p) in &d.organisations_by_category {
        let _ = writeln!(
            m,
            "  - {}: {} ({})",
            text::category(*c, lang),
            p.this,
            delta(*p)
        );
    }
    let _ = writeln!(m, "- **{}** ({})", w.identifiers, w.identifiers_note);
    for (k, p) in &d.identifiers {
        let _ = writeln!(
            m,
            "  - {}: {} ({})",
            text::identifier(*k, lang),
            p.this,
            delta(*p)
        );
    }
    let _ = writeln!(
        m,
        "- **{}**: {} {} ({})\n",
        w.sources,
        d.sources.active.this,
        w.sources_active,
        delta(d.sources.active)
    );
    let _ = writeln!(m, "## {}\n", w.incidents);
    if d.incidents.is_empty() {
        let _ = writeln!(m, "{}\n", w.no_incident);
    } else {
        let _ = writeln!(
            m,
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n|---|---|---|---|---|---|---|---|",
            w.col_id,
            w.col_org,
            w.col_category,
            w.col_source,
            w.col_first_seen,
            w.col_severity,
            w.col_triage,
            w.col_evidence
        );
        for r in &d.incidents {
            let _ = writeln!(
                m,
                "| {} | {} | {} | {} | {} | {} | {} | `{}` |",
                r.id,
                md_cell(&organisations(r, lang)),
                md_cell(&categories(r, lang)),
                md_cell(&source_kinds(r, lang)),
                date(r.first_seen),
                text::severity(r.severity, lang),
                text::triage(r.triage, lang),
                r.evidence
            );
        }
        m.push('\n');
    }
    let _ = writeln!(m, "## {}\n", w.details);
    for r in d.serious() {
        let _ = writeln!(
            m,
            "### #{} — {} ({})\n",
            r.id,
            organisations(r, lang),
            text::severity(r.severity, lang)
        );
        let ids = identifiers(r, lang);
        let _ = writeln!(
            m,
            "- **{}**: {} ({}){}",
            w.offered,
            if r.leak_offer {
                w.offer_yes
            } else {
                w.offer_no
            },
            text::document_kind(r.kind, lang),
            if ids.is_empty() {
                String::new()
            } else {
                format!(" — {ids}")
            }
        );
        if r.sample_rows > 0 {
            let _ = writeln!(m, "- **{}**: ~{} {}", w.sample, r.sample_rows, w.rows);
        }
        let _ = writeln!(m, "- **{}**: {}", w.where_, r.places.join(" · "));
        let _ = writeln!(
            m,
            "- **{}**: {} → {} ({} {})",
            w.when,
            date(r.first_seen),
            date(r.last_seen),
            r.sightings,
            w.sightings
        );
        if !r.cues.is_empty() {
            let _ = writeln!(m, "- **{}**: {}", w.cues, r.cues.join(", "));
        }
        let _ = writeln!(
            m,
            "- {} · {}\n",
            r.why.join("; "),
            text::triage(r.triage, lang)
        );
    }
    let _ = writeln!(m, "## {}\n", w.trends);
    let _ = write!(m, "| {} |", w.week);
    for (s, _) in SEVERITY_COLOURS {
        let _ = write!(m, " {} |", text::severity(s, lang));
    }
    m.push_str("\n|---|---|---|---|\n");
    for c in &d.trend {
        let _ = write!(m, "| {} |", c.week);
        for (s, _) in SEVERITY_COLOURS {
            let _ = write!(m, " {} |", c.by_severity.get(&s).copied().unwrap_or(0));
        }
        m.push('\n');
    }
    let _ = writeln!(m, "\n## {}\n", w.health);
    if d.dead_letters > 0 {
        let _ = writeln!(m, "**{} {}**\n", d.dead_letters, w.dead_letters);
    }
    let _ = writeln!(m, "### {}\n", w.quiet);
    if d.sources.quiet.is_empty() {
        let _ = writeln!(m, "{}\n", w.no_quiet);
    }
    for (source, kind, last) in &d.sources.quiet {
        let _ = writeln!(
            m,
            "- {source} ({}) — {}",
            source_kind_label(*kind, lang),
            date(*last)
        );
    }
    let _ = writeln!(m, "\n### {}\n", w.collectors);
    let c = &d.sources.collectors;
    if c.is_empty() {
        let _ = writeln!(m, "_{}_", w.collector_health);
    } else {
        let (failed, blind) = collector_lists(c, lang);
        let reachable = c.iter().filter(|x| x.reachable_runs > 0).count();
        let watched = c.iter().filter(|x| x.runs > 0).count();
        let _ = writeln!(
            m,
            "{watched} {} {reachable}.\n\n**{}**: {failed}\n\n**{}**: {blind}\n\n**{}**: {}\n",
            w.watched_reachable,
            w.failed_all_week,
            w.blind_parsers,
            w.kept_out,
            kept_out_list(c, lang)
        );
        for x in c {
            let _ = writeln!(
                m,
                "- {} — {} {}, {} / {}{}{}",
                x.source,
                x.runs,
                w.runs_pages,
                x.pages_ok,
                x.pages_failed,
                kept_out(x, lang),
                crashes(x, lang)
            );
        }
    }
    let _ = writeln!(m, "\n---\n{}", w.footer);
    m
}

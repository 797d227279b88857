//! Stacked bar charts as inline SVG: no script, no external asset, prints as vectors.

use std::fmt::Write;

/// One series (a stack layer): its label, colour and one value per bar.
pub struct Series<'a> {
    /// Legend label.
    pub label: &'a str,
    /// CSS colour.
    pub colour: &'a str,
    /// One value per bar.
    pub values: Vec<u64>,
}

/// Escapes text for XML and HTML.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A stacked bar chart: one bar per label, layers from `series`, a y axis with ticks and a
/// legend. `title` becomes the SVG's accessible name.
pub fn stacked_bars(title: &str, bars: &[String], series: &[Series<'_>]) -> String {
    let (width, height) = (640.0_f64, 260.0_f64);
    let (left, right, top, bottom) = (40.0, 150.0, 16.0, 40.0);
    let plot_w = width - left - right;
    let plot_h = height - top - bottom;
    let totals: Vec<u64> = (0..bars.len())
        .map(|i| {
            series
                .iter()
                .map(|s| s.values.get(i).copied().unwrap_or(0))
                .sum()
        })
        .collect();
    let max = totals.iter().copied().max().unwrap_or(0).max(1);
    let step = nice_step(max);
    let top_value = max.div_ceil(step) * step;
    let scale = plot_h / top_value as f64;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="{t}"><title>{t}</title>"#,
        t = escape(title)
    );
    let mut v = 0;
    while v <= top_value {
        let y = top + plot_h - v as f64 * scale;
        let _ = write!(
            svg,
            r##"<line x1="{left}" x2="{x2}" y1="{y:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{tx}" y="{ty:.1}" font-size="10" text-anchor="end" fill="#555">{v}</text>"##,
            x2 = left + plot_w,
            tx = left - 4.0,
            ty = y + 3.0
        );
        v += step;
    }
    let slot = plot_w / bars.len().max(1) as f64;
    let bar_w = (slot * 0.6).min(48.0);
    for (i, label) in bars.iter().enumerate() {
        let x = left + slot * i as f64 + (slot - bar_w) / 2.0;
        let mut y = top + plot_h;
        for s in series {
            let value = s.values.get(i).copied().unwrap_or(0);
            if value == 0 {
                continue;
            }
            let h = value as f64 * scale;
            y -= h;
            let _ = write!(
                svg,
                r#"<rect x="{x:.1}" y="{y:.1}" width="{bar_w:.1}" height="{h:.1}" fill="{c}"><title>{l}: {value}</title></rect>"#,
                c = escape(s.colour),
                l = escape(s.label)
            );
        }
        let _ = write!(
            svg,
            r##"<text x="{cx:.1}" y="{ly:.1}" font-size="10" text-anchor="middle" fill="#333">{l}</text><text x="{cx:.1}" y="{vy:.1}" font-size="10" text-anchor="middle" fill="#333">{total}</text>"##,
            cx = x + bar_w / 2.0,
            ly = top + plot_h + 14.0,
            l = escape(label),
            vy = y - 3.0,
            total = totals[i]
        );
    }
    for (n, s) in series.iter().enumerate() {
        let ly = top + 14.0 * n as f64;
        let lx = left + plot_w + 12.0;
        let _ = write!(
            svg,
            r##"<rect x="{lx}" y="{ly}" width="10" height="10" fill="{c}"/><text x="{tx}" y="{ty}" font-size="11" fill="#333">{l}</text>"##,
            c = escape(s.colour),
            tx = lx + 14.0,
            ty = ly + 9.0,
            l = escape(s.label)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A tick step giving at most about five ticks: 1, 2, 5, 10, 20, 50...
fn nice_step(max: u64) -> u64 {
    let mut step = 1;
    loop {
        for m in [1, 2, 5] {
            if max / (step * m) <= 5 {
                return step * m;
            }
        }
        step *= 10;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_stack_and_labels_are_escaped() {
        let svg = stacked_bars(
            "a <b>",
            &["W1".into(), "W2".into()],
            &[
                Series {
                    label: "crit & co",
                    colour: "#b00",
                    values: vec![2, 0],
                },
                Series {
                    label: "high",
                    colour: "#e80",
                    values: vec![1, 3],
                },
            ],
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("a &lt;b&gt;") && svg.contains("crit &amp; co"));
        // Three non-empty segments (a zero value draws nothing) plus two legend swatches.
        assert_eq!(svg.matches("<rect").count(), 5);
        assert_eq!(nice_step(3), 1);
        assert_eq!(nice_step(12), 5);
        assert_eq!(nice_step(130), 50);
    }
}

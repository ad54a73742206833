//! Charts as inline SVG, drawn from numbers: columns (stacked or grouped, one column or group per
//! category) and stacked horizontal bars. Accessible: each chart is an image with a `<title>`
//! and a `<desc>` (the text alternative), axis labels and a legend; every segment carries its
//! numbers in `data-*` attributes and a `<title>` tooltip; colours come from Okabe and Ito's
//! colour-blind-safe palette. Every text is HTML-escaped here.

use std::fmt::Write;

use crate::reporter::sanitize::for_html;

/// Okabe and Ito's colour-blind-safe palette, blue first.
pub const PALETTE: [&str; 8] = [
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442", "#000000",
];

/// One named row of values, one per category.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub color: &'static str,
    pub values: Vec<f64>,
}

/// What a chart shows and how it is labelled.
#[derive(Debug, Clone)]
pub struct Chart {
    /// Unique on the page; also `data-chart` of every segment.
    pub id: &'static str,
    pub title: String,
    /// The text alternative: what the chart shows, in words and numbers.
    pub description: String,
    pub category_label: String,
    pub value_label: String,
    pub categories: Vec<String>,
    pub series: Vec<Series>,
}

/// How columns of several series share a category.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Stacked,
    Grouped,
}

const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 380.0;
const LEGEND: f64 = 36.0;

/// A number as the charts print it: whole numbers without decimals, others with two at most.
pub fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.0}")
    } else {
        let text = format!("{value:.2}");
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

/// The smallest 1, 2 or 5 times a power of ten at or above `value` (1 for nothing to show).
fn nice_max(value: f64) -> f64 {
    if value <= 0.0 || !value.is_finite() {
        return 1.0;
    }
    let power = 10f64.powf(value.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|step| step * power)
        .find(|candidate| *candidate >= value)
        .unwrap_or(10.0 * power)
}

fn open_svg(out: &mut String, chart: &Chart) {
    let id = chart.id;
    let _ = write!(
        out,
        r#"<svg class="chart" id="{id}" role="img" aria-labelledby="{id}-title {id}-desc" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" font-family="system-ui, sans-serif" font-size="12"><title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc>"#,
        for_html(&chart.title),
        for_html(&chart.description)
    );
    let mut x = 8.0;
    for series in &chart.series {
        let _ = write!(
            out,
            r#"<rect x="{x}" y="10" width="14" height="14" fill="{}"/><text x="{}" y="22">{}</text>"#,
            series.color,
            x + 20.0,
            for_html(&series.name)
        );
        x += 40.0 + 7.0 * series.name.chars().count() as f64;
    }
}

fn segment(
    out: &mut String,
    chart: &Chart,
    series: &Series,
    category: &str,
    value: f64,
    geometry: [f64; 4],
) {
    let [x, y, width, height] = geometry;
    let _ = write!(
        out,
        r#"<rect x="{x:.2}" y="{y:.2}" width="{width:.2}" height="{height:.2}" fill="{}" data-chart="{}" data-series="{}" data-category="{}" data-value="{}"><title>{}, {}: {}</title></rect>"#,
        series.color,
        chart.id,
        for_html(&series.name),
        for_html(category),
        number(value),
        for_html(category),
        for_html(&series.name),
        number(value)
    );
}

/// Columns: one per category, its series stacked or side by side; value axis on the left.
pub fn columns(chart: &Chart, layout: Layout) -> String {
    let (left, right, top, bottom) = (64.0, 16.0, LEGEND + 12.0, 72.0);
    let (plot_width, plot_height) = (WIDTH - left - right, HEIGHT - top - bottom);
    let value_at = |index: usize| {
        chart
            .series
            .iter()
            .map(move |s| s.values.get(index).copied().unwrap_or(0.0))
    };
    let largest = (0..chart.categories.len())
        .map(|index| match layout {
            Layout::Stacked => value_at(index).sum(),
            Layout::Grouped => value_at(index).fold(0.0, f64::max),
        })
        .fold(0.0, f64::max);
    let max = nice_max(largest);
    let y_of = |value: f64| top + plot_height * (1.0 - value / max);
    let mut out = String::new();
    open_svg(&mut out, chart);
    for tick in 0..=5 {
        let value = max * f64::from(tick) / 5.0;
        let y = y_of(value);
        let _ = write!(
            out,
            r##"<line x1="{left}" x2="{}" y1="{y:.2}" y2="{y:.2}" stroke="#ddd"/><text x="{}" y="{:.2}" text-anchor="end">{}</text>"##,
            left + plot_width,
            left - 6.0,
            y + 4.0,
            number(value)
        );
    }
    let count = chart.categories.len().max(1);
    let band = plot_width / count as f64;
    let label_every = count.div_ceil(24);
    for (index, category) in chart.categories.iter().enumerate() {
        let x0 = left + band * index as f64;
        let mut stacked = 0.0;
        let group_width = band * 0.8 / chart.series.len().max(1) as f64;
        for (position, series) in chart.series.iter().enumerate() {
            let value = series.values.get(index).copied().unwrap_or(0.0);
            if value <= 0.0 {
                continue;
            }
            let geometry = match layout {
                Layout::Stacked => {
                    let y = y_of(stacked + value);
                    let geometry = [x0 + band * 0.15, y, band * 0.7, y_of(stacked) - y];
                    stacked += value;
                    geometry
                }
                Layout::Grouped => {
                    let y = y_of(value);
                    [
                        x0 + band * 0.1 + group_width * position as f64,
                        y,
                        group_width,
                        y_of(0.0) - y,
                    ]
                }
            };
            segment(&mut out, chart, series, category, value, geometry);
        }
        if index % label_every == 0 {
            let x = x0 + band / 2.0;
            let y = top + plot_height + 16.0;
            // Few categories have room for level labels; many get slanted ones.
            let slant = if count > 8 {
                format!(r#" text-anchor="end" transform="rotate(-35 {x:.2} {y:.2})""#)
            } else {
                r#" text-anchor="middle""#.to_owned()
            };
            let _ = write!(
                out,
                r#"<text x="{x:.2}" y="{y:.2}"{slant}>{}</text>"#,
                for_html(category)
            );
        }
    }
    let labels = [&chart.category_label, &chart.value_label];
    axes(&mut out, [left, top, plot_width, plot_height], labels);
    out.push_str("</svg>");
    out
}

/// Horizontal bars: one per category, its series stacked; value axis at the bottom.
pub fn bars(chart: &Chart) -> String {
    let (left, right, top, bottom) = (170.0, 24.0, LEGEND + 8.0, 48.0);
    let (plot_width, plot_height) = (WIDTH - left - right, HEIGHT - top - bottom);
    let largest = (0..chart.categories.len())
        .map(|index| {
            chart
                .series
                .iter()
                .map(|s| s.values.get(index).copied().unwrap_or(0.0))
                .sum::<f64>()
        })
        .fold(0.0, f64::max);
    let max = nice_max(largest);
    let x_of = |value: f64| left + plot_width * value / max;
    let mut out = String::new();
    open_svg(&mut out, chart);
    for tick in 0..=5 {
        let value = max * f64::from(tick) / 5.0;
        let x = x_of(value);
        let _ = write!(
            out,
            r##"<line x1="{x:.2}" x2="{x:.2}" y1="{top}" y2="{}" stroke="#ddd"/><text x="{x:.2}" y="{}" text-anchor="middle">{}</text>"##,
            top + plot_height,
            top + plot_height + 16.0,
            number(value)
        );
    }
    let band = plot_height / chart.categories.len().max(1) as f64;
    for (index, category) in chart.categories.iter().enumerate() {
        let y0 = top + band * index as f64;
        let mut stacked = 0.0;
        for series in &chart.series {
            let value = series.values.get(index).copied().unwrap_or(0.0);
            if value <= 0.0 {
                continue;
            }
            let geometry = [
                x_of(stacked),
                y0 + band * 0.15,
                x_of(stacked + value) - x_of(stacked),
                band * 0.7,
            ];
            stacked += value;
            segment(&mut out, chart, series, category, value, geometry);
        }
        let _ = write!(
            out,
            r#"<text x="{}" y="{:.2}" text-anchor="end">{}</text>"#,
            left - 8.0,
            y0 + band / 2.0 + 4.0,
            for_html(category)
        );
    }
    let labels = [&chart.value_label, &chart.category_label];
    axes(&mut out, [left, top, plot_width, plot_height], labels);
    out.push_str("</svg>");
    out
}

/// The axis lines of a plot area and the labels of its horizontal and vertical axes.
fn axes(
    out: &mut String,
    [left, top, width, height]: [f64; 4],
    [horizontal_label, vertical_label]: [&String; 2],
) {
    let bottom = top + height;
    let _ = write!(
        out,
        r##"<line x1="{left}" x2="{left}" y1="{top}" y2="{bottom}" stroke="#333"/><line x1="{left}" x2="{}" y1="{bottom}" y2="{bottom}" stroke="#333"/><text class="axis-label" x="{}" y="{}" text-anchor="middle" font-weight="bold">{}</text><text class="axis-label" x="14" y="{}" text-anchor="middle" font-weight="bold" transform="rotate(-90 14 {})">{}</text>"##,
        left + width,
        left + width / 2.0,
        HEIGHT - 6.0,
        for_html(horizontal_label),
        top + height / 2.0,
        top + height / 2.0,
        for_html(vertical_label)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart() -> Chart {
        Chart {
            id: "trend",
            title: "Completed <resets>".into(),
            description: "Two weeks".into(),
            category_label: "week".into(),
            value_label: "resets".into(),
            categories: vec!["2026-10-05".into(), "2026-10-12".into()],
            series: vec![
                Series {
                    name: "web".into(),
                    color: PALETTE[1],
                    values: vec![3.0, 0.0],
                },
                Series {
                    name: "<script>".into(),
                    color: PALETTE[0],
                    values: vec![1.0, 2.5],
                },
            ],
        }
    }

    #[test]
    fn one_segment_per_non_zero_value_with_its_numbers() {
        for svg in [
            columns(&chart(), Layout::Stacked),
            columns(&chart(), Layout::Grouped),
            bars(&chart()),
        ] {
            assert_eq!(
                svg.matches("<rect").count() - 2,
                3,
                "legend swatches aside: {svg}"
            );
            assert!(svg.contains(r#"data-series="web" data-category="2026-10-05" data-value="3""#));
            assert!(svg.contains(r#"data-value="2.5""#));
            assert!(svg.contains("<title id=\"trend-title\">Completed &lt;resets&gt;</title>"));
            assert!(!svg.contains("<script>"), "{svg}");
        }
    }

    #[test]
    fn scales_are_round() {
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_max(3.0), 5.0);
        assert_eq!(nice_max(10.0), 10.0);
        assert_eq!(nice_max(11.0), 20.0);
        assert_eq!(nice_max(0.3), 0.5);
        assert_eq!(number(3.0), "3");
        assert_eq!(number(2.456), "2.46");
    }
}

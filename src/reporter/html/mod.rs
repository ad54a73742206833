//! `--format html`: one self-contained page of every report, for people and e-mail attachments.
//!
//! No script, font, stylesheet or image is fetched: the styles are inline and the charts are SVG
//! drawn here ([`svg`]). The page shows headline cards (`summary`), the channel table
//! (`channels`), completed resets per period stacked by channel (`trend`), the funnel and its
//! drop-offs (`funnel`), the helpdesk numbers and, with a rollout date, weekly averages before
//! and after it (`helpdesk`, `helpdesk_rollout`), the top IP addresses and networks (`ips`) and
//! the flagged users (`users`), with the assumptions behind them. Every text from the data
//! (names, user agents, client types are attacker-controlled) is HTML-escaped; each chart has a
//! text alternative and its numbers as a table.

mod svg;

use std::collections::BTreeMap;
use std::fmt::Write;

use chrono::{Datelike, NaiveDate};
use polars::prelude::*;

use self::svg::{Chart, Layout, PALETTE, Series, bars, columns, number};
use super::ReportError;
use super::export::{cells, format_percent};
use super::params::Parameters;
use super::queries::Tables;
use super::sanitize::for_html;
use crate::model::{ADMIN_CHANNEL, UNKNOWN_CHANNEL};

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1000px;color:#222;padding:0 1rem}\
h1{font-size:1.6rem}h2{margin-top:2.5rem;border-bottom:1px solid #ccc}\
.cards{display:flex;flex-wrap:wrap;gap:.75rem}.card{border:1px solid #ccc;border-radius:6px;padding:.6rem .9rem;min-width:9rem}\
.card .value{font-size:1.5rem;font-weight:bold}.card .label{color:#555;font-size:.85rem}\
table{border-collapse:collapse;margin:.5rem 0;font-size:.85rem}th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:left}\
td.num{text-align:right;font-variant-numeric:tabular-nums}svg.chart{max-width:100%;height:auto}\
.notes{color:#444;font-size:.85rem}details{margin:.5rem 0}.wide{overflow-x:auto}";

/// How many rows the page shows of the long reports (the exports have them all).
const TOP_IPS: usize = 15;
const TOP_NETWORKS: usize = 10;
const TOP_USERS: usize = 25;

fn encode(source: PolarsError) -> ReportError {
    ReportError::Encode {
        target: "the HTML page".into(),
        source,
    }
}

/// The page of every report, as HTML text.
pub fn page(tables: &mut Tables, params: &Parameters) -> Result<String, ReportError> {
    let mut report = |name: &str| tables.query(name, &format!("SELECT * FROM {name}"));
    let summary = report("summary")?;
    let channels = report("channels")?;
    let trend = report("trend")?;
    let funnel = report("funnel")?;
    let helpdesk = report("helpdesk")?;
    let rollout = report("helpdesk_rollout")?;
    let ips = report("ips")?;
    let users = report("users")?;
    let headlines = Headlines::of(&summary).map_err(encode)?;
    let span = for_html(&readable_span(
        &headlines.detail("first_attempt"),
        &headlines.detail("last_attempt"),
    ));
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Self-service password reset, {span}</title><style>{STYLE}</style></head><body>\
         <h1>Self-service password reset, {span}</h1>\
         <p class=\"notes\">Periods: {} in {}. Every number comes from the Entra audit log; the \
         exports of <code>ssprlens report --all</code> hold them all.</p>",
        for_html(params.by),
        for_html(&params.time_zone),
    );
    html.push_str(&headlines.cards(params));
    section(
        &mut html,
        "Channels",
        &table(&channels, None).map_err(encode)?,
    );
    html.push_str(&trend_section(&trend, params).map_err(encode)?);
    html.push_str(&funnel_section(&funnel).map_err(encode)?);
    html.push_str(&helpdesk_section(&helpdesk, &rollout, params).map_err(encode)?);
    html.push_str(&ips_section(&ips, params).map_err(encode)?);
    html.push_str(&users_section(&users, params).map_err(encode)?);
    html.push_str("</body></html>\n");
    Ok(html)
}

/// A page of one table and its notes (a command's output outside the reports).
pub fn single_table_page(
    title: &str,
    output: &super::export::Output,
) -> Result<String, ReportError> {
    let mut html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{0}</title><style>{STYLE}</style></head><body><h1>{0}</h1>",
        for_html(title)
    );
    html.push_str(&table(&output.frame, None).map_err(encode)?);
    html.push_str(&notes(&output.notes));
    html.push_str("</body></html>\n");
    Ok(html)
}

fn section(html: &mut String, title: &str, body: &str) {
    let _ = write!(
        html,
        "<section><h2>{}</h2>{body}</section>",
        for_html(title)
    );
}

fn notes(lines: &[String]) -> String {
    let mut out = String::from("<ul class=\"notes\">");
    for line in lines {
        let _ = write!(out, "<li>{}</li>", for_html(line));
    }
    out.push_str("</ul>");
    out
}

/// A column as text (empty for null).
fn texts(frame: &DataFrame, name: &str) -> PolarsResult<Vec<String>> {
    let column = frame.column(name)?.cast(&DataType::String)?;
    Ok(column
        .str()?
        .iter()
        .map(|value| value.unwrap_or_default().to_owned())
        .collect())
}

/// A column as numbers (0 for null).
fn numbers(frame: &DataFrame, name: &str) -> PolarsResult<Vec<f64>> {
    let column = frame.column(name)?.cast(&DataType::Float64)?;
    Ok(column
        .f64()?
        .iter()
        .map(|value| value.unwrap_or_default())
        .collect())
}

/// The distinct values of a column, in order of first appearance.
fn distinct(values: &[String]) -> Vec<String> {
    let mut seen = Vec::new();
    for value in values {
        if !seen.contains(value) {
            seen.push(value.clone());
        }
    }
    seen
}

/// An HTML table of the frame's first `limit` rows (all without a limit).
fn table(frame: &DataFrame, limit: Option<usize>) -> PolarsResult<String> {
    let frame = limit.map_or_else(|| frame.clone(), |limit| frame.head(Some(limit)));
    let (numeric, rows) = cells(&frame)?;
    let mut out = String::from("<div class=\"wide\"><table><thead><tr>");
    for name in frame.get_column_names() {
        let _ = write!(out, "<th scope=\"col\">{}</th>", for_html(name));
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        out.push_str("<tr>");
        for (cell, is_numeric) in row.iter().zip(&numeric) {
            let class = if *is_numeric { " class=\"num\"" } else { "" };
            let _ = write!(out, "<td{class}>{}</td>", for_html(cell));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>");
    Ok(out)
}

/// A chart, then its numbers as a table for those who cannot see it.
fn figure(chart_svg: &str, data: &DataFrame) -> PolarsResult<String> {
    Ok(format!(
        "<figure>{chart_svg}</figure><details><summary>The numbers of this chart</summary>{}</details>",
        table(data, None)?
    ))
}

/// The colour of each channel: the built-in channels keep theirs on every page, far apart
/// (blue, green, purple, vermillion, grey); channels of one's own rules take the palette's others.
fn channel_colors(channels: &[String]) -> BTreeMap<String, &'static str> {
    const FIXED: [(&str, &str); 5] = [
        ("login_screen", PALETTE[0]),
        ("web", PALETTE[2]),
        ("other", PALETTE[3]),
        (ADMIN_CHANNEL, PALETTE[4]),
        (UNKNOWN_CHANNEL, "#999999"),
    ];
    let mut free = PALETTE
        .iter()
        .filter(|color| FIXED.iter().all(|(_, fixed)| fixed != *color))
        .cycle();
    channels
        .iter()
        .map(|channel| {
            let color = FIXED
                .iter()
                .find(|(name, _)| name == channel)
                .map(|(_, color)| *color)
                .or_else(|| free.next().copied())
                .unwrap_or(PALETTE[0]);
            (channel.clone(), color)
        })
        .collect()
}

/// The span of the report in words: `2 Sep – 18 Nov 2026`, `30 Dec 2025 – 4 Jan 2026`, or one day.
fn readable_span(first: &str, last: &str) -> String {
    let day = |text: &str| {
        text.get(..10)
            .and_then(|date| NaiveDate::parse_from_str(date, "%Y-%m-%d").ok())
    };
    match (day(first), day(last)) {
        (Some(first), Some(last)) if first == last => first.format("%-d %b %Y").to_string(),
        (Some(first), Some(last)) if first.year() == last.year() => {
            format!("{} – {}", first.format("%-d %b"), last.format("%-d %b %Y"))
        }
        (Some(first), Some(last)) => format!(
            "{} – {}",
            first.format("%-d %b %Y"),
            last.format("%-d %b %Y")
        ),
        _ => "no attempts".to_owned(),
    }
}

/// The `summary` report, by metric.
struct Headlines {
    rows: BTreeMap<String, (Option<f64>, String)>,
}

impl Headlines {
    fn of(summary: &DataFrame) -> PolarsResult<Self> {
        let metrics = texts(summary, "metric")?;
        let values = summary.column("value")?.cast(&DataType::Float64)?;
        let details = texts(summary, "detail")?;
        let rows = metrics
            .into_iter()
            .zip(values.f64()?.iter())
            .zip(details)
            .map(|((metric, value), detail)| (metric, (value, detail)))
            .collect();
        Ok(Headlines { rows })
    }

    fn value(&self, metric: &str) -> Option<f64> {
        self.rows.get(metric).and_then(|(value, _)| *value)
    }

    fn detail(&self, metric: &str) -> String {
        self.rows
            .get(metric)
            .map(|(_, detail)| detail.clone())
            .unwrap_or_default()
    }

    fn cards(&self, params: &Parameters) -> String {
        let count = |metric| self.value(metric).map_or_else(|| "–".to_owned(), number);
        let percent = |metric| {
            self.value(metric)
                .filter(|value| value.is_finite())
                .map_or_else(|| "–".to_owned(), format_percent)
        };
        let top = self.detail("top_drop_off");
        let cards = [
            ("Self-service reset attempts", count("attempts")),
            ("Completed", count("completed")),
            ("Success rate", percent("success_rate")),
            (
                "Login-screen share of completed",
                percent("login_screen_share"),
            ),
            ("Helpdesk resets", count("admin_resets")),
            (
                "Top drop-off",
                if top.is_empty() {
                    "none".to_owned()
                } else {
                    format!("{top} ({})", count("top_drop_off"))
                },
            ),
            ("Flagged IP addresses", count("flagged_ips")),
            ("Flagged users", count("flagged_users")),
            (
                "Estimated savings",
                format!("{} {}", count("estimated_savings"), params.costs.currency),
            ),
        ];
        let mut out = String::from("<section class=\"cards\" aria-label=\"Headline numbers\">");
        for (label, value) in cards {
            let _ = write!(
                out,
                "<div class=\"card\"><div class=\"value\">{}</div><div class=\"label\">{}</div></div>",
                for_html(&value),
                for_html(label)
            );
        }
        out.push_str("</section>");
        out
    }
}

fn trend_section(trend: &DataFrame, params: &Parameters) -> PolarsResult<String> {
    let periods = texts(trend, "period")?;
    let row_channels = texts(trend, "channel")?;
    let completed = numbers(trend, "completed")?;
    let categories = distinct(&periods);
    let channels = distinct(&row_channels);
    let colors = channel_colors(&channels);
    let series: Vec<Series> = channels
        .iter()
        .map(|channel| Series {
            name: channel.clone(),
            color: colors[channel],
            values: categories
                .iter()
                .map(|period| {
                    (0..periods.len())
                        .filter(|&row| &periods[row] == period && &row_channels[row] == channel)
                        .map(|row| completed[row])
                        .sum()
                })
                .collect(),
        })
        .collect();
    let totals: Vec<String> = series
        .iter()
        .map(|s| format!("{} {}", s.name, number(s.values.iter().sum())))
        .collect();
    let chart = Chart {
        id: "trend-chart",
        title: format!("Completed password resets per {}, by channel", params.by),
        description: format!(
            "Stacked columns, one per {} from {} to {}; each column is split by channel. Completed resets in all: {}.",
            params.by,
            categories.first().map_or("-", String::as_str),
            categories.last().map_or("-", String::as_str),
            totals.join(", ")
        ),
        category_label: format!("{} (first day)", params.by),
        value_label: "completed resets".into(),
        categories,
        series,
    };
    let mut out = String::new();
    section(
        &mut out,
        "Trend by channel",
        &figure(&columns(&chart, Layout::Stacked), trend)?,
    );
    Ok(out)
}

fn funnel_section(funnel: &DataFrame) -> PolarsResult<String> {
    let channels = texts(funnel, "channel")?;
    let colors = channel_colors(&channels);
    let chart_of = |id, title: &str, columns: &[(&str, &str)]| -> PolarsResult<Chart> {
        let mut series = Vec::new();
        for (row, channel) in channels.iter().enumerate() {
            let values = columns
                .iter()
                .map(|(column, _)| Ok(numbers(funnel, column)?[row]))
                .collect::<PolarsResult<Vec<f64>>>()?;
            series.push(Series {
                name: channel.clone(),
                color: colors[channel],
                values,
            });
        }
        let totals: Vec<String> = columns
            .iter()
            .enumerate()
            .map(|(index, (_, label))| {
                let total: f64 = series.iter().map(|s| s.values[index]).sum();
                format!("{label} {}", number(total))
            })
            .collect();
        Ok(Chart {
            id,
            title: title.to_owned(),
            description: format!(
                "Horizontal bars split by channel. All channels: {}.",
                totals.join(", ")
            ),
            category_label: String::new(),
            value_label: "self-service reset attempts".into(),
            categories: columns
                .iter()
                .map(|(_, label)| (*label).to_owned())
                .collect(),
            series,
        })
    };
    let steps = chart_of(
        "funnel-chart",
        "How far self-service reset attempts got",
        &[
            ("attempts", "started"),
            ("shown_options", "shown options"),
            ("verified", "verified"),
            ("submitted_password", "submitted password"),
            ("completed", "completed"),
        ],
    )?;
    let drop_offs = chart_of(
        "drop-off-chart",
        "Why the other attempts stopped",
        &[
            ("cancelled", "cancelled"),
            ("blocked", "blocked"),
            ("insufficient_methods", "insufficient methods"),
            ("not_enabled", "not enabled"),
            ("onprem_failure", "on-premises failure"),
            ("banned_password", "banned password"),
            ("contacted_admin", "contacted an admin"),
            ("other_failure", "other failure"),
            ("no_outcome", "no outcome"),
        ],
    )?;
    let mut out = String::new();
    section(
        &mut out,
        "Funnel",
        &format!(
            "{}{}",
            figure(&bars(&steps), funnel)?,
            format_args!("<figure>{}</figure>", bars(&drop_offs))
        ),
    );
    Ok(out)
}

fn helpdesk_section(
    helpdesk: &DataFrame,
    rollout: &DataFrame,
    params: &Parameters,
) -> PolarsResult<String> {
    let shown = helpdesk.select([
        "period",
        "phase",
        "self_service_completed",
        "login_screen_completed",
        "admin_resets",
        "contacted_admin",
        "estimated_calls_avoided",
        "estimated_savings",
    ])?;
    let mut body = String::new();
    if rollout.height() > 0 {
        let measures = texts(rollout, "measure")?;
        let date = texts(rollout, "rollout_date")?
            .into_iter()
            .next()
            .unwrap_or_default();
        let before = numbers(rollout, "before_per_week")?;
        let after = numbers(rollout, "after_per_week")?;
        let pairs: Vec<String> = measures
            .iter()
            .zip(before.iter().zip(&after))
            .map(|(measure, (b, a))| {
                format!("{measure} {} before, {} after", number(*b), number(*a))
            })
            .collect();
        let chart = Chart {
            id: "rollout-chart",
            title: format!("Weekly averages before and after the login-screen rollout on {date}"),
            description: format!("Grouped columns per measure: {}.", pairs.join("; ")),
            category_label: "measure".into(),
            value_label: "per week".into(),
            categories: measures,
            series: vec![
                Series {
                    name: format!("before {date}"),
                    color: PALETTE[5],
                    values: before,
                },
                Series {
                    name: format!("from {date} on"),
                    color: PALETTE[4],
                    values: after,
                },
            ],
        };
        body.push_str(&figure(&columns(&chart, Layout::Grouped), rollout)?);
    }
    body.push_str(&table(&shown, None)?);
    body.push_str(&notes(&params.notes_for("helpdesk")));
    let mut out = String::new();
    section(&mut out, "Helpdesk", &body);
    Ok(out)
}

fn ips_section(ips: &DataFrame, params: &Parameters) -> PolarsResult<String> {
    let scope = ips.column("scope")?.str()?;
    let addresses = ips.filter(&scope.equal("address"))?;
    let networks = ips.filter(&scope.equal("network"))?;
    let body = format!(
        "<h3>Top IP addresses</h3>{}<h3>Top networks</h3>{}{}",
        table(&addresses.drop("scope")?, Some(TOP_IPS))?,
        table(&networks.drop("scope")?, Some(TOP_NETWORKS))?,
        notes(&params.notes_for("ips"))
    );
    let mut out = String::new();
    section(&mut out, "IP addresses", &body);
    Ok(out)
}

fn users_section(users: &DataFrame, params: &Parameters) -> PolarsResult<String> {
    let body = if users.height() == 0 {
        "<p>No user flagged.</p>".to_owned()
    } else {
        table(users, Some(TOP_USERS))?
    };
    let mut out = String::new();
    section(
        &mut out,
        "Flagged users",
        &format!("{body}{}", notes(&params.notes_for("users"))),
    );
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_as_dates() {
        let span = readable_span;
        assert_eq!(
            span("2026-09-02T08:00:00Z", "2026-11-18T17:00:00Z"),
            "2 Sep – 18 Nov 2026"
        );
        assert_eq!(
            span("2025-12-30T08:00:00Z", "2026-01-04T00:00:00Z"),
            "30 Dec 2025 – 4 Jan 2026"
        );
        assert_eq!(
            span("2026-09-02T08:00:00Z", "2026-09-02T09:00:00Z"),
            "2 Sep 2026"
        );
        assert_eq!(span("", ""), "no attempts");
    }

    #[test]
    fn channels_keep_distinct_colours() {
        let channels: Vec<String> = ["login_screen", "web", "other", "admin", "unknown", "kiosk"]
            .map(String::from)
            .to_vec();
        let colors = channel_colors(&channels);
        let mut distinct: Vec<_> = colors.values().collect();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), channels.len(), "{colors:?}");
        assert_eq!(colors["login_screen"], PALETTE[0]);
    }
}

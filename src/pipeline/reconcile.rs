//! `ssprlens reconcile`: our daily counts beside Microsoft's. For every UTC day that both
//! Microsoft's summary report and our data cover (from the day of the first attempt to the
//! day of the last), `ours_self_service` counts the completed self-service resets whose
//! completing row lies on that day and `ours_admin` the helpdesk resets (portal and other
//! tools) of that day; a day is `check` when either difference exceeds
//! max([`TOLERANCE_FLOOR`], [`TOLERANCE_SHARE`] of Microsoft's number), else `ok`. A
//! difference never fails the command; with `--strict` a `check` day exits 4.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;
use polars::prelude::*;
use tracing::info;

use super::load::attempt_tables;
use crate::config::ReconcileConfig;
use crate::error::Error;
use crate::fetcher::graph::pager::Connection;
use crate::fetcher::graph::summary::{DailyCounts, daily_summary};
use crate::fetcher::graph::{Cancel, FetchError, auth::TokenSource, http};
use crate::reporter::Rendering;
use crate::reporter::ReportError;
use crate::reporter::export::{self, Output};
use crate::reporter::html;
use crate::reporter::queries::Tables;

/// A difference up to this many resets is always `ok`.
pub const TOLERANCE_FLOOR: f64 = 2.0;
/// A difference up to this share of Microsoft's number is `ok`.
pub const TOLERANCE_SHARE: f64 = 0.10;

/// Our counts per UTC day (completed self-service resets by their completing row's day,
/// completed helpdesk resets by their row's day), and the days our data covers.
const OURS: &str = "SELECT completed_day, \
     COUNT(*) FILTER (WHERE kind = 'reset') AS self_service, \
     COUNT(*) FILTER (WHERE kind = 'admin') AS admin \
     FROM (SELECT STRFTIME(completed_at, '%Y-%m-%d') AS completed_day, kind FROM attempts \
           WHERE completed AND completed_at IS NOT NULL) \
     GROUP BY completed_day";
const SPAN: &str = "SELECT STRFTIME(MIN(started), '%Y-%m-%d') AS first_day, \
     STRFTIME(MAX(COALESCE(ended, started)), '%Y-%m-%d') AS last_day FROM attempts";

/// One day of the comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct DayComparison {
    pub day: NaiveDate,
    pub ours_self_service: i64,
    pub microsoft_self_service: i64,
    pub ours_admin: i64,
    pub microsoft_admin: i64,
}

impl DayComparison {
    /// Whether either difference exceeds the tolerance.
    pub fn needs_check(&self) -> bool {
        let beyond = |ours: i64, microsoft: i64| {
            let tolerance = TOLERANCE_FLOOR.max(TOLERANCE_SHARE * microsoft as f64);
            (ours - microsoft).abs() as f64 > tolerance
        };
        beyond(self.ours_self_service, self.microsoft_self_service)
            || beyond(self.ours_admin, self.microsoft_admin)
    }
}

pub async fn reconcile(config: &ReconcileConfig, cancel: Cancel) -> Result<(), Error> {
    let mut tables = attempt_tables(&config.source, &config.rules)?;
    let graph = &config.graph;
    let client = http::client(graph.timeout, graph.ca_cert.as_deref()).map_err(Error::Usage)?;
    let tokens = TokenSource::new(graph.auth.clone(), client.clone())
        .map_err(|err| Error::Fetch(FetchError::Auth(err)))?;
    let connection = Connection {
        graph_url: graph.graph_url.clone(),
        throttle: graph.throttle,
        retry: graph.retry,
        http: client,
        tokens,
        cancel,
    };
    let checks = compare_and_write(
        &mut tables,
        connection,
        config.rendering,
        config.out.as_deref(),
    )
    .await?;
    if config.strict && checks > 0 {
        return Err(Error::Disagreement { days: checks });
    }
    Ok(())
}

/// Reads Microsoft's report, compares it with the attempts of `tables` and writes the
/// comparison; returns how many days are `check`.
pub async fn compare_and_write(
    tables: &mut Tables,
    connection: Connection,
    rendering: Rendering,
    out: Option<&Path>,
) -> Result<usize, Error> {
    let (ours, span) = our_days(tables)?;
    let microsoft = daily_summary(connection).await?;
    let days = compare(&ours, span, &microsoft);
    let checks = days.iter().filter(|day| day.needs_check()).count();
    let summary = format!(
        "{checks} of {} days are `check` (a difference beyond max({TOLERANCE_FLOOR}, {} % of Microsoft's number)); \
         Microsoft's report covers {} days, our data {}",
        days.len(),
        TOLERANCE_SHARE * 100.0,
        microsoft.len(),
        span.map_or_else(
            || "no day".to_owned(),
            |(first, last)| format!("{first} to {last}")
        )
    );
    let mut output = Output::new(frame(&days).map_err(|source| ReportError::Table {
        table: "reconcile",
        source,
    })?);
    output.notes = vec![summary.clone()];
    match rendering {
        Rendering::Page => export::write_bytes(
            html::single_table_page("Our counts beside Microsoft's", &output)?.as_bytes(),
            out,
        )?,
        Rendering::Table(format) => export::write(&output, format, out)?,
    }
    info!("{summary}");
    Ok(checks)
}

/// Our counts per day, and the first and last day our data covers.
fn our_days(
    tables: &mut Tables,
) -> Result<
    (
        BTreeMap<NaiveDate, (i64, i64)>,
        Option<(NaiveDate, NaiveDate)>,
    ),
    Error,
> {
    let table_error = |source| ReportError::Table {
        table: "attempts",
        source,
    };
    let counts = tables.query("our daily counts", OURS)?;
    let days = dates(&counts, "completed_day").map_err(table_error)?;
    let number = |name: &str| -> PolarsResult<Vec<i64>> {
        Ok(counts
            .column(name)?
            .cast(&DataType::Int64)?
            .i64()?
            .iter()
            .map(Option::unwrap_or_default)
            .collect())
    };
    let (self_service, admin) = (
        number("self_service").map_err(table_error)?,
        number("admin").map_err(table_error)?,
    );
    let mut ours = BTreeMap::new();
    for (index, day) in days.into_iter().enumerate() {
        if let Some(day) = day {
            ours.insert(day, (self_service[index], admin[index]));
        }
    }
    let span = tables.query("our days", SPAN)?;
    let first = dates(&span, "first_day").map_err(table_error)?;
    let last = dates(&span, "last_day").map_err(table_error)?;
    let span = match (
        first.first().copied().flatten(),
        last.first().copied().flatten(),
    ) {
        (Some(first), Some(last)) => Some((first, last)),
        _ => None,
    };
    Ok((ours, span))
}

fn dates(frame: &DataFrame, name: &str) -> PolarsResult<Vec<Option<NaiveDate>>> {
    Ok(frame
        .column(name)?
        .str()?
        .iter()
        .map(|text| text.and_then(|text| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()))
        .collect())
}

/// Every day of Microsoft's report within our span, with both sides' counts.
pub fn compare(
    ours: &BTreeMap<NaiveDate, (i64, i64)>,
    span: Option<(NaiveDate, NaiveDate)>,
    microsoft: &BTreeMap<NaiveDate, DailyCounts>,
) -> Vec<DayComparison> {
    let Some((first, last)) = span else {
        return Vec::new();
    };
    microsoft
        .range(first..=last)
        .map(|(day, theirs)| {
            let (self_service, admin) = ours.get(day).copied().unwrap_or_default();
            DayComparison {
                day: *day,
                ours_self_service: self_service,
                microsoft_self_service: theirs.self_service,
                ours_admin: admin,
                microsoft_admin: theirs.admin,
            }
        })
        .collect()
}

/// The comparison as a table: `day`, `ours_self_service`, `microsoft_self_service`,
/// `ours_admin`, `microsoft_admin`, `status`.
pub fn frame(days: &[DayComparison]) -> PolarsResult<DataFrame> {
    let numbers = |name: &str, value: fn(&DayComparison) -> i64| {
        Column::new(name.into(), days.iter().map(value).collect::<Vec<i64>>())
    };
    DataFrame::new_infer_height(vec![
        Column::new(
            "day".into(),
            days.iter()
                .map(|day| day.day.format("%Y-%m-%d").to_string())
                .collect::<Vec<String>>(),
        ),
        numbers("ours_self_service", |day| day.ours_self_service),
        numbers("microsoft_self_service", |day| day.microsoft_self_service),
        numbers("ours_admin", |day| day.ours_admin),
        numbers("microsoft_admin", |day| day.microsoft_admin),
        Column::new(
            "status".into(),
            days.iter()
                .map(|day| if day.needs_check() { "check" } else { "ok" })
                .collect::<Vec<&str>>(),
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_day_needs_a_check_beyond_two_or_a_tenth() {
        let compared = |ours_self_service, microsoft_self_service, ours_admin, microsoft_admin| {
            DayComparison {
                day: day("2026-10-05"),
                ours_self_service,
                microsoft_self_service,
                ours_admin,
                microsoft_admin,
            }
        };
        // Two either way is always fine; beyond that a tenth of Microsoft's number.
        assert!(!compared(3, 5, 0, 0).needs_check());
        assert!(compared(2, 5, 0, 0).needs_check());
        assert!(!compared(0, 2, 7, 5).needs_check());
        assert!(compared(0, 0, 8, 5).needs_check());
        assert!(!compared(90, 100, 0, 0).needs_check());
        assert!(compared(89, 100, 0, 0).needs_check());
        assert!(!compared(110, 100, 0, 0).needs_check());
        assert!(compared(111, 100, 0, 0).needs_check());
    }

    #[test]
    fn only_days_both_cover_are_compared() {
        let ours = BTreeMap::from([(day("2026-10-05"), (4, 1)), (day("2026-10-09"), (1, 0))]);
        let counts = |self_service, admin| DailyCounts {
            self_service,
            admin,
            changes: 0,
        };
        let microsoft = BTreeMap::from([
            (day("2026-10-04"), counts(9, 9)),
            (day("2026-10-05"), counts(4, 1)),
            (day("2026-10-06"), counts(0, 0)),
            (day("2026-10-07"), counts(1, 0)),
        ]);
        let days = compare(
            &ours,
            Some((day("2026-10-05"), day("2026-10-06"))),
            &microsoft,
        );
        assert_eq!(
            days,
            [
                DayComparison {
                    day: day("2026-10-05"),
                    ours_self_service: 4,
                    microsoft_self_service: 4,
                    ours_admin: 1,
                    microsoft_admin: 1
                },
                DayComparison {
                    day: day("2026-10-06"),
                    ours_self_service: 0,
                    microsoft_self_service: 0,
                    ours_admin: 0,
                    microsoft_admin: 0
                },
            ]
        );
        assert!(compare(&ours, None, &microsoft).is_empty());
        let table = frame(&days).unwrap();
        assert_eq!(
            table
                .get_column_names()
                .iter()
                .map(|name| name.as_str())
                .collect::<Vec<_>>(),
            [
                "day",
                "ours_self_service",
                "microsoft_self_service",
                "ours_admin",
                "microsoft_admin",
                "status"
            ]
        );
    }
}

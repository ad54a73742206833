//! Microsoft's own daily counts: Graph's beta
//! `reports/authenticationMethods/userPasswordResetsAndChangesSummary`, one entry per day
//! (`aggregatedDateTime`, `passwordResetsSelfServiceCount`, `passwordResetsByAdminCount`,
//! `changePasswordSelfServiceCount`), read through the pager (same sign-in, throttle, retries
//! and nextLinks as the audit log). A day may come with a time (it is truncated to its UTC
//! date), a count as a number or as a numeric string, null or missing (0); several entries of
//! one day add up. Anything else is an error naming the entry.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate};
use serde_json::Value;
use url::Url;

use super::FetchError;
use super::pager::{Connection, Pager};

/// Microsoft's counts of one UTC day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DailyCounts {
    pub self_service: i64,
    pub admin: i64,
    pub changes: i64,
}

/// The report's first page under the Graph base URL.
pub fn summary_url(graph_url: &Url) -> Result<Url, String> {
    let mut url = graph_url.clone();
    url.path_segments_mut()
        .map_err(|()| format!("--graph-url {graph_url} cannot take a path"))?
        .pop_if_empty()
        .extend([
            "beta",
            "reports",
            "authenticationMethods",
            "userPasswordResetsAndChangesSummary",
        ]);
    Ok(url)
}

/// Every day of the report, in order.
pub async fn daily_summary(
    connection: Connection,
) -> Result<BTreeMap<NaiveDate, DailyCounts>, FetchError> {
    let first = summary_url(&connection.graph_url).map_err(FetchError::Setup)?;
    let mut pager = Pager::of_list(first, connection);
    let mut days: BTreeMap<NaiveDate, DailyCounts> = BTreeMap::new();
    let mut entry = 0usize;
    while let Some(values) = pager.next_values().await? {
        for value in values {
            entry += 1;
            let (day, counts) = parse_entry(&value).map_err(|reason| {
                FetchError::Summary(format!(
                    "entry {entry} of userPasswordResetsAndChangesSummary: {reason}"
                ))
            })?;
            let sum = days.entry(day).or_default();
            sum.self_service += counts.self_service;
            sum.admin += counts.admin;
            sum.changes += counts.changes;
        }
    }
    Ok(days)
}

/// One entry: its UTC day and counts.
pub fn parse_entry(value: &Value) -> Result<(NaiveDate, DailyCounts), String> {
    let field = |name: &str| {
        value
            .as_object()
            .and_then(|object| {
                object
                    .iter()
                    .find(|(key, _)| key.eq_ignore_ascii_case(name))
                    .map(|(_, value)| value)
            })
            .filter(|value| !value.is_null())
    };
    let day = match field("aggregatedDateTime") {
        Some(Value::String(text)) => {
            parse_day(text).ok_or_else(|| format!("aggregatedDateTime `{text}` is not a date"))?
        }
        Some(other) => return Err(format!("aggregatedDateTime {other} is not a date")),
        None => return Err("it has no aggregatedDateTime".to_owned()),
    };
    let count = |name: &str| -> Result<i64, String> {
        match field(name) {
            None => Ok(0),
            Some(Value::Number(number)) => number
                .as_i64()
                .or_else(|| {
                    number
                        .as_f64()
                        .filter(|f| f.fract() == 0.0)
                        .map(|f| f as i64)
                })
                .ok_or_else(|| format!("{name} {number} is not a whole number")),
            Some(Value::String(text)) => text
                .trim()
                .parse::<i64>()
                .map_err(|_| format!("{name} `{text}` is not a whole number")),
            Some(other) => Err(format!("{name} {other} is not a number")),
        }
    };
    Ok((
        day,
        DailyCounts {
            self_service: count("passwordResetsSelfServiceCount")?,
            admin: count("passwordResetsByAdminCount")?,
            changes: count("changePasswordSelfServiceCount")?,
        },
    ))
}

/// A date, or a date and time (its UTC date).
fn parse_day(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    DateTime::parse_from_rfc3339(text)
        .map(|time| time.to_utc().date_naive())
        .ok()
        .or_else(|| crate::transformer::event::parse_time(text).map(|time| time.date_naive()))
        .or_else(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn entries_take_numbers_strings_and_times() {
        let day = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap();
        let parsed = parse_entry(&json!({
            "id": "x", "aggregatedDateTime": "2026-10-05T00:00:00Z",
            "passwordResetsSelfServiceCount": "12", "passwordResetsByAdminCount": 3,
            "changePasswordSelfServiceCount": null
        }))
        .unwrap();
        assert_eq!(
            parsed,
            (
                day("2026-10-05"),
                DailyCounts {
                    self_service: 12,
                    admin: 3,
                    changes: 0
                }
            )
        );
        let late = parse_entry(&json!({"AggregatedDateTime": "2026-10-05T23:30:00-02:00",
            "passwordResetsSelfServiceCount": 1.0}))
        .unwrap();
        assert_eq!(late.0, day("2026-10-06"));
        assert_eq!(late.1.self_service, 1);
        let plain = parse_entry(&json!({"aggregatedDateTime": "2026-10-07"})).unwrap();
        assert_eq!(plain, (day("2026-10-07"), DailyCounts::default()));
        for (entry, reason) in [
            (
                json!({"passwordResetsSelfServiceCount": 1}),
                "no aggregatedDateTime",
            ),
            (json!({"aggregatedDateTime": "yesterday"}), "is not a date"),
            (
                json!({"aggregatedDateTime": "2026-10-05", "passwordResetsByAdminCount": "many"}),
                "`many` is not a whole number",
            ),
            (
                json!({"aggregatedDateTime": "2026-10-05", "passwordResetsByAdminCount": 1.5}),
                "is not a whole number",
            ),
            (
                json!({"aggregatedDateTime": "2026-10-05", "passwordResetsByAdminCount": [1]}),
                "is not a number",
            ),
        ] {
            let err = parse_entry(&entry).unwrap_err();
            assert!(err.contains(reason), "{entry}: {err}");
        }
    }

    #[test]
    fn the_url_is_under_beta() {
        let url = summary_url(&Url::parse("https://graph.microsoft.com").unwrap()).unwrap();
        assert_eq!(
            url.as_str(),
            "https://graph.microsoft.com/beta/reports/authenticationMethods/userPasswordResetsAndChangesSummary"
        );
    }
}

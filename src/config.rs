//! Command-line arguments → a validated configuration. Raw arguments stop here: files named by
//! them (rules, queries) are read and checked, times are resolved against the `now` passed in.

use std::path::PathBuf;

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::cli::ReportArgs;
use crate::error::Error;
use crate::fetcher::files::read_text;
use crate::model::{Attempt, Event};
use crate::reporter::export::Format;
use crate::reporter::queries::{self, REPORTS};
use crate::transformer::event::parse_time;
use crate::transformer::rules::ChannelRules;

/// What to run: a built-in report or the user's SQL.
#[derive(Debug, Clone)]
pub struct Query {
    pub name: String,
    pub sql: String,
    pub total_sql: Option<String>,
}

/// The time window of a report, both ends inclusive.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Window {
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

impl Window {
    fn contains(&self, time: Option<DateTime<Utc>>) -> bool {
        if self.since.is_none() && self.until.is_none() {
            return true;
        }
        time.is_some_and(|time| {
            self.since.is_none_or(|since| time >= since)
                && self.until.is_none_or(|until| time <= until)
        })
    }

    /// Keeps the events that happened in the window and the attempts that began in it. Attempts
    /// are built from all events first, so an attempt crossing the edge stays whole.
    pub fn apply(&self, events: &mut Vec<Event>, attempts: &mut Vec<Attempt>) {
        events.retain(|event| self.contains(event.time));
        attempts.retain(|attempt| self.contains(attempt.started));
    }
}

#[derive(Debug, Clone)]
pub struct ReportConfig {
    pub inputs: Vec<PathBuf>,
    pub rules: ChannelRules,
    pub query: Query,
    pub format: Format,
    pub out: Option<PathBuf>,
    pub window: Window,
    pub rejects: Option<PathBuf>,
    pub strict: bool,
}

impl ReportConfig {
    pub fn from_args(args: ReportArgs, now: DateTime<Utc>) -> Result<Self, Error> {
        let rules = match &args.channels {
            None => ChannelRules::builtin(),
            Some(path) => ChannelRules::from_toml(
                &read_text(path).map_err(|err| Error::Usage(format!("channel rules {err}")))?,
            )
            .map_err(|source| Error::Rules {
                path: path.clone(),
                source,
            })?,
        };
        let query = match &args.query {
            Some(path) => Query {
                name: path.file_stem().map_or_else(
                    || "query".to_owned(),
                    |stem| stem.to_string_lossy().into_owned(),
                ),
                sql: read_text(path).map_err(|err| Error::Usage(format!("query file {err}")))?,
                total_sql: None,
            },
            None => {
                let report = queries::find(&args.report).ok_or_else(|| {
                    let names: Vec<&str> = REPORTS.iter().map(|report| report.name).collect();
                    Error::Usage(format!(
                        "no report named `{}`; the reports are: {}",
                        args.report,
                        names.join(", ")
                    ))
                })?;
                Query {
                    name: report.name.to_owned(),
                    sql: report.sql.to_owned(),
                    total_sql: report.total_sql.map(str::to_owned),
                }
            }
        };
        let format = args
            .format
            .or_else(|| args.out.as_deref().and_then(Format::from_extension))
            .unwrap_or(Format::Table);
        let window = Window {
            since: args
                .since
                .as_deref()
                .map(|text| parse_moment(text, now, false))
                .transpose()?,
            until: args
                .until
                .as_deref()
                .map(|text| parse_moment(text, now, true))
                .transpose()?,
        };
        if let (Some(since), Some(until)) = (window.since, window.until)
            && since > until
        {
            return Err(Error::Usage(format!(
                "--since {since} is after --until {until}"
            )));
        }
        Ok(ReportConfig {
            inputs: args.input,
            rules,
            query,
            format,
            out: args.out,
            window,
            rejects: args.rejects,
            strict: args.strict,
        })
    }
}

/// Parses `--since`/`--until`: RFC 3339, a date (its start, or for `end_of_day` its last
/// instant), or an age before `now` (`90s`, `30m`, `12h`, `7d`, `2w`).
pub fn parse_moment(
    text: &str,
    now: DateTime<Utc>,
    end_of_day: bool,
) -> Result<DateTime<Utc>, Error> {
    let text = text.trim();
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let start = date.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
        return Ok(if end_of_day {
            start + Duration::days(1) - Duration::nanoseconds(1)
        } else {
            start
        });
    }
    if let Some(time) = parse_time(text) {
        return Ok(time);
    }
    parse_age(text)
        .map(|age| now - age)
        .ok_or_else(|| Error::Usage(format!("`{text}` is not a time: use RFC 3339 (2026-11-01T00:00:00Z), a date (2026-11-01) or an age (7d, 12h)")))
}

/// `90s`, `30m`, `12h`, `7d`, `2w` as a duration.
pub fn parse_age(text: &str) -> Option<Duration> {
    let unit_at = text.find(|c: char| !c.is_ascii_digit())?;
    let (digits, unit) = text.split_at(unit_at);
    let count: i64 = digits.parse().ok()?;
    let seconds_per_unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return None,
    };
    count
        .checked_mul(seconds_per_unit)
        .and_then(Duration::try_seconds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn moments_in_every_form() {
        let now = Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap();
        let at = |text, end| parse_moment(text, now, end).unwrap().to_rfc3339();
        assert_eq!(
            at("2026-11-01T08:30:00Z", false),
            "2026-11-01T08:30:00+00:00"
        );
        assert_eq!(at("2026-11-01", false), "2026-11-01T00:00:00+00:00");
        assert_eq!(
            at("2026-11-01", true),
            "2026-11-01T23:59:59.999999999+00:00"
        );
        assert_eq!(at("7d", false), "2026-11-18T12:00:00+00:00");
        assert_eq!(at("12h", false), "2026-11-25T00:00:00+00:00");
        assert_eq!(at("2w", false), "2026-11-11T12:00:00+00:00");
        for bad in [
            "",
            "7",
            "d",
            "7y",
            "-7d",
            "yesterday",
            "99999999999999999999d",
        ] {
            assert!(parse_moment(bad, now, false).is_err(), "{bad}");
        }
    }
}

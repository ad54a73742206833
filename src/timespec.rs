//! Durations and points in time as options write them: one grammar for every option.
//!
//! A duration is a number (fractions allowed) and a unit: `250ms`, `90s`, `30m`, `1.5h`, `7d`,
//! `2w`; a bare number is seconds. A moment (`--since`, `--until`) is RFC 3339, a date (UTC; its
//! first instant, or its last for the end of a window), or an age before now written as a
//! duration with its unit.

use chrono::{DateTime, NaiveDate, Utc};

use crate::transformer::event::parse_time;

/// What the duration grammar accepts, for error messages.
pub(crate) const DURATION_FORMS: &str = "90s, 30m, 1.5h, 7d, 2w or 250ms";

/// Parses a duration: a non-negative number and a unit (`ms`, `s`, `m`, `h`, `d`, `w`).
pub(crate) fn parse_duration(text: &str) -> Option<std::time::Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    if !number.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let number: f64 = number.parse().ok()?;
    let seconds_per_unit = match unit {
        "ms" => 0.001,
        "" | "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        "w" => 7.0 * 86_400.0,
        _ => return None,
    };
    std::time::Duration::try_from_secs_f64(number * seconds_per_unit).ok()
}

/// Parses a moment: RFC 3339, a date (its start, or for `end_of_day` its last instant), or an
/// age before `now` with its unit (`90s`, `30m`, `1.5h`, `7d`, `2w`).
pub(crate) fn parse_moment(
    text: &str,
    now: DateTime<Utc>,
    end_of_day: bool,
) -> Result<DateTime<Utc>, String> {
    let text = text.trim();
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let start = date.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
        return Ok(if end_of_day {
            start + chrono::Duration::days(1) - chrono::Duration::nanoseconds(1)
        } else {
            start
        });
    }
    if let Some(time) = parse_time(text) {
        return Ok(time);
    }
    let age = text
        .ends_with(|c: char| c.is_ascii_alphabetic())
        .then(|| parse_duration(text))
        .flatten()
        .and_then(|age| chrono::Duration::from_std(age).ok());
    age.and_then(|age| now.checked_sub_signed(age))
        .ok_or_else(|| {
            format!(
                "`{text}` is not a time: use RFC 3339 (2026-11-01T00:00:00Z), a date (2026-11-01) \
             or an age ({DURATION_FORMS})"
            )
        })
}

/// `--since` and `--until` as a pair of moments, refused when the start is after the end.
pub(crate) fn parse_window(
    since: Option<&str>,
    until: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(Option<DateTime<Utc>>, Option<DateTime<Utc>>), String> {
    let since = since
        .map(|text| parse_moment(text, now, false))
        .transpose()?;
    let until = until
        .map(|text| parse_moment(text, now, true))
        .transpose()?;
    if let (Some(since), Some(until)) = (since, until)
        && since > until
    {
        return Err(format!("--since {since} is after --until {until}"));
    }
    Ok((since, until))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::TimeZone;

    use super::*;

    #[test]
    fn durations_in_every_unit() {
        let secs = Duration::from_secs;
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2.128"), Some(Duration::from_millis(2128)));
        assert_eq!(parse_duration("90s"), Some(secs(90)));
        assert_eq!(parse_duration("30m"), Some(secs(1800)));
        assert_eq!(parse_duration("1.5h"), Some(secs(5400)));
        assert_eq!(parse_duration("7d"), Some(secs(7 * 86_400)));
        assert_eq!(parse_duration("1w"), Some(secs(7 * 86_400)));
        for bad in ["", "h", "-1h", ".h", "1y", "1.2.3s", "1e9999s", "1 h"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

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
        assert_eq!(at("1.5h", false), "2026-11-25T10:30:00+00:00");
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

    #[test]
    fn a_window_ends_after_it_starts() {
        let now = Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap();
        let (since, until) = parse_window(Some("2026-11-01"), Some("2026-11-01"), now).unwrap();
        assert!(since < until);
        assert!(parse_window(Some("1d"), Some("2d"), now).is_err());
        assert_eq!(parse_window(None, None, now).unwrap(), (None, None));
    }
}

//! The report's calendar: local days and periods in the time zone of `--tz`, and the working
//! hours that decide what is "after hours".
//!
//! - An attempt's day is the local date of its first row; its period is the first day of the
//!   day, week (weeks start on Monday) or month holding that day.
//! - The calendar runs from the first attempt's day to the last attempt's day, every day listed
//!   (so a period without attempts is still a period, with zeros).
//! - An attempt is after hours when its first row's local time (in the working-hours zone) falls
//!   on a day that is not a working day, or outside the working hours (start inclusive, end
//!   exclusive; a start later than the end means a shift across midnight).

use chrono::{DateTime, Datelike, Duration, NaiveDate, Timelike, Utc, Weekday};
use chrono_tz::Tz;

use polars::prelude::*;
use rayon::prelude::*;

use crate::columns::{DateTexts, attempt_columns, time_nanos};
use crate::model::{CalendarDay, LocalPlacement};

/// The length of the report's periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PeriodUnit {
    Day,
    Week,
    Month,
}

impl PeriodUnit {
    pub fn as_str(self) -> &'static str {
        match self {
            PeriodUnit::Day => "day",
            PeriodUnit::Week => "week",
            PeriodUnit::Month => "month",
        }
    }
}

/// Periods of a length in a time zone.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Calendar {
    pub unit: PeriodUnit,
    pub zone: Tz,
}

impl Calendar {
    /// The local date of an instant.
    pub fn day_of(&self, time: DateTime<Utc>) -> NaiveDate {
        time.with_timezone(&self.zone).date_naive()
    }

    /// The first day of the period holding `day`.
    pub fn period_of(&self, day: NaiveDate) -> NaiveDate {
        match self.unit {
            PeriodUnit::Day => day,
            PeriodUnit::Week => {
                day - Duration::days(i64::from(day.weekday().num_days_from_monday()))
            }
            PeriodUnit::Month => day - Duration::days(i64::from(day.day0())),
        }
    }
}

/// Working days and hours in a time zone.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkingHours {
    /// Minutes after local midnight: the first working minute and the first minute after.
    start: u32,
    end: u32,
    /// Monday first.
    days: [bool; 7],
    zone: Tz,
}

const MINUTES_PER_DAY: u32 = 24 * 60;

impl WorkingHours {
    /// Parses `HH:MM-HH:MM` (`24:00` allowed as an end) and days such as `mon-fri` or
    /// `sun-thu` or `mon,tue,thu` (ranges may wrap around the week).
    pub fn parse(hours: &str, days: &str, zone: Tz) -> Result<Self, String> {
        let (start, end) = hours
            .trim()
            .split_once('-')
            .and_then(|(start, end)| Some((minute_of_day(start)?, minute_of_day(end)?)))
            .filter(|(start, end)| *start < MINUTES_PER_DAY && start != end)
            .ok_or_else(|| {
                format!(
                    "`{hours}` is not a span of working hours: use HH:MM-HH:MM, e.g. 08:00-18:00"
                )
            })?;
        Ok(WorkingHours {
            start,
            end: end % MINUTES_PER_DAY,
            days: working_days(days)?,
            zone,
        })
    }

    /// Whether an instant falls inside the working hours of a working day.
    pub fn contains(&self, time: DateTime<Utc>) -> bool {
        let local = time.with_timezone(&self.zone);
        let minute = local.hour() * 60 + local.minute();
        let in_hours = if self.start < self.end {
            (self.start..self.end).contains(&minute)
        } else {
            minute >= self.start || minute < self.end
        };
        in_hours && self.days[local.weekday().num_days_from_monday() as usize]
    }
}

fn minute_of_day(text: &str) -> Option<u32> {
    let (hour, minute) = text.trim().split_once(':')?;
    let (hour, minute): (u32, u32) = (hour.parse().ok()?, minute.parse().ok()?);
    (hour < 24 && minute < 60 || hour == 24 && minute == 0).then_some(hour * 60 + minute)
}

fn working_days(text: &str) -> Result<[bool; 7], String> {
    let invalid =
        || format!("`{text}` is not a list of working days: use e.g. mon-fri, sun-thu or mon,wed");
    let day = |name: &str| name.trim().parse::<Weekday>().map_err(|_| invalid());
    let mut days = [false; 7];
    for part in text.split(',') {
        let (first, last) = match part.split_once('-') {
            Some((first, last)) => (day(first)?, day(last)?),
            None => (day(part)?, day(part)?),
        };
        let mut current = first;
        loop {
            days[current.num_days_from_monday() as usize] = true;
            if current == last {
                break;
            }
            current = current.succ();
        }
    }
    Ok(days)
}

/// Sets the calendar columns of an `attempts` table (`day`, `period`, `after_hours`): every
/// attempt with a start time placed in the calendar and the working hours. Returns the first
/// and last day of the placed attempts.
pub fn place(
    attempts: &mut DataFrame,
    calendar: &Calendar,
    working: &WorkingHours,
) -> PolarsResult<Option<(NaiveDate, NaiveDate)>> {
    use attempt_columns::{AFTER_HOURS, DAY, PERIOD, STARTED};
    let started: Vec<Option<i64>> = time_nanos(attempts.column(STARTED)?)?.iter().collect();
    let placements: Vec<Option<LocalPlacement>> = started
        .par_iter()
        .map(|nanos| {
            let started = DateTime::from_timestamp_nanos((*nanos)?);
            let day = calendar.day_of(started);
            Some(LocalPlacement {
                day,
                period: calendar.period_of(day),
                after_hours: !working.contains(started),
            })
        })
        .collect();
    let mut days = DateTexts::new(DAY, placements.len());
    let mut periods = DateTexts::new(PERIOD, placements.len());
    let mut span: Option<(NaiveDate, NaiveDate)> = None;
    for placement in &placements {
        days.push(placement.map(|placed| placed.day));
        periods.push(placement.map(|placed| placed.period));
        if let Some(LocalPlacement { day, .. }) = *placement {
            span = Some(span.map_or((day, day), |(first, last)| (first.min(day), last.max(day))));
        }
    }
    let after_hours: BooleanChunked = placements
        .iter()
        .map(|placement| placement.map(|placed| placed.after_hours))
        .collect();
    attempts.with_column(days.finish())?;
    attempts.with_column(periods.finish())?;
    attempts.with_column(after_hours.with_name(AFTER_HOURS.into()).into_column())?;
    Ok(span)
}

/// Every day from the first to the last of a span (see [`place`]), with its period.
pub fn calendar_days(
    span: Option<(NaiveDate, NaiveDate)>,
    calendar: &Calendar,
) -> Vec<CalendarDay> {
    let Some((first, last)) = span else {
        return Vec::new();
    };
    first
        .iter_days()
        .take_while(|day| *day <= last)
        .map(|day| CalendarDay {
            day,
            period: calendar.period_of(day),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn weeks_start_on_monday_and_months_on_the_first() {
        let week = Calendar {
            unit: PeriodUnit::Week,
            zone: Tz::UTC,
        };
        for (day, monday) in [
            ("2026-10-05", "2026-10-05"),
            ("2026-10-11", "2026-10-05"),
            ("2026-10-12", "2026-10-12"),
            ("2027-01-01", "2026-12-28"),
        ] {
            assert_eq!(week.period_of(date(day)), date(monday), "{day}");
        }
        let month = Calendar {
            unit: PeriodUnit::Month,
            ..week
        };
        assert_eq!(month.period_of(date("2026-10-31")), date("2026-10-01"));
        let day = Calendar {
            unit: PeriodUnit::Day,
            ..week
        };
        assert_eq!(day.period_of(date("2026-10-31")), date("2026-10-31"));
    }

    #[test]
    fn days_are_local_including_daylight_saving_changes() {
        let berlin = Calendar {
            unit: PeriodUnit::Week,
            zone: "Europe/Berlin".parse().unwrap(),
        };
        // CEST (UTC+2) until 2026-10-25 01:00 UTC, then CET (UTC+1).
        assert_eq!(
            berlin.day_of(at("2026-10-24T21:59:59Z")),
            date("2026-10-24")
        );
        assert_eq!(
            berlin.day_of(at("2026-10-24T22:00:00Z")),
            date("2026-10-25")
        );
        assert_eq!(
            berlin.day_of(at("2026-10-25T22:59:59Z")),
            date("2026-10-25")
        );
        assert_eq!(
            berlin.day_of(at("2026-10-25T23:00:00Z")),
            date("2026-10-26")
        );
        // Sunday night UTC is already Monday in Berlin: the next week.
        assert_eq!(
            berlin.period_of(berlin.day_of(at("2026-10-25T23:30:00Z"))),
            date("2026-10-26")
        );
        let auckland = Calendar {
            unit: PeriodUnit::Day,
            zone: "Pacific/Auckland".parse().unwrap(),
        };
        assert_eq!(
            auckland.day_of(Utc.with_ymd_and_hms(2026, 10, 5, 12, 0, 0).unwrap()),
            date("2026-10-06")
        );
    }

    #[test]
    fn working_hours_by_weekday_and_zone() {
        let utc = WorkingHours::parse("08:00-18:00", "mon-fri", Tz::UTC).unwrap();
        assert!(utc.contains(at("2026-10-05T08:00:00Z")));
        assert!(utc.contains(at("2026-10-05T17:59:59Z")));
        assert!(!utc.contains(at("2026-10-05T18:00:00Z")));
        assert!(!utc.contains(at("2026-10-05T07:59:00Z")));
        assert!(!utc.contains(at("2026-10-10T12:00:00Z")), "Saturday");
        let new_york = WorkingHours::parse(
            "09:00-17:00",
            "mon-fri",
            "America/New_York".parse().unwrap(),
        )
        .unwrap();
        assert!(new_york.contains(at("2026-10-05T13:00:00Z")), "09:00 EDT");
        assert!(!new_york.contains(at("2026-10-05T12:59:00Z")), "08:59 EDT");
        let middle_east = WorkingHours::parse("22:00-06:00", "sun-thu", Tz::UTC).unwrap();
        assert!(
            middle_east.contains(at("2026-10-04T23:00:00Z")),
            "Sunday night"
        );
        assert!(middle_east.contains(at("2026-10-05T05:59:00Z")));
        assert!(!middle_east.contains(at("2026-10-05T12:00:00Z")));
        assert!(!middle_east.contains(at("2026-10-09T23:00:00Z")), "Friday");
        let all_day = WorkingHours::parse("00:00-24:00", "mon,wed", Tz::UTC).unwrap();
        assert!(all_day.contains(at("2026-10-07T23:59:00Z")));
        assert!(!all_day.contains(at("2026-10-06T12:00:00Z")));
        for (hours, days) in [
            ("8-18", "mon-fri"),
            ("08:00-08:00", "mon-fri"),
            ("25:00-26:00", "mon-fri"),
            ("08:00-18:00", "weekdays"),
            ("08:00-18:00", ""),
        ] {
            assert!(
                WorkingHours::parse(hours, days, Tz::UTC).is_err(),
                "{hours} {days}"
            );
        }
    }

    #[test]
    fn the_calendar_lists_every_day_between_the_first_and_last_attempt() {
        let calendar = Calendar {
            unit: PeriodUnit::Week,
            zone: Tz::UTC,
        };
        let days = calendar_days(Some((date("2026-10-11"), date("2026-10-13"))), &calendar);
        let listed: Vec<_> = days
            .iter()
            .map(|d| (d.day.to_string(), d.period.to_string()))
            .collect();
        assert_eq!(
            listed,
            [
                ("2026-10-11", "2026-10-05"),
                ("2026-10-12", "2026-10-12"),
                ("2026-10-13", "2026-10-12")
            ]
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
        );
        assert!(calendar_days(None, &calendar).is_empty());
    }
}

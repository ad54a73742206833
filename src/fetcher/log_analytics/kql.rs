//! The KQL ssprlens runs, the windows it runs it over, and the client-side check of its rows.
//!
//! A window is half-open, `[start, end)`, on `TimeGenerated` (when the row reached the workspace:
//! a row arriving late still falls in exactly one window), and `timespan` carries the same range.
//! A fetch is cut at UTC midnights into windows of one day at most; a window is split in two
//! halves when its answer is partial. Times are written with 7 fractional digits, the
//! precision of Log Analytics' `datetime`, and split points fall on whole 100 ns ticks.

use chrono::{DateTime, Duration, DurationRound, Utc};

/// The services whose rows ssprlens reads, whatever the activity.
pub const SERVICES: [&str; 2] = ["Self-service Password Management", "Authentication Methods"];
/// The one activity of another service it reads: the password reset the directory performs.
pub const DIRECTORY_RESET: (&str, &str) = ("Core Directory", "Reset user password");

/// The AuditLogs columns the query projects: what rebuilds a directoryAudit.
pub const COLUMNS: [&str; 15] = [
    "TimeGenerated",
    "Id",
    "ActivityDateTime",
    "ActivityDisplayName",
    "OperationName",
    "Category",
    "Result",
    "ResultReason",
    "ResultDescription",
    "LoggedByService",
    "CorrelationId",
    "AADOperationType",
    "InitiatedBy",
    "TargetResources",
    "AdditionalDetails",
];

/// The smallest window worth splitting: below it a partial answer is an error.
pub const SMALLEST_WINDOW: Duration = Duration::seconds(1);

/// `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Window {
    /// The two halves, split on a whole tick; `None` when the window is too small to split.
    pub fn halves(&self) -> Option<(Window, Window)> {
        if self.end - self.start <= SMALLEST_WINDOW {
            return None;
        }
        let middle = (self.start + (self.end - self.start) / 2)
            .duration_trunc(Duration::nanoseconds(100))
            .ok()?;
        (self.start < middle && middle < self.end).then_some((
            Window {
                start: self.start,
                end: middle,
            },
            Window {
                start: middle,
                end: self.end,
            },
        ))
    }

    /// `start/end` for the request's `timespan`.
    pub fn timespan(&self) -> String {
        format!("{}/{}", time(self.start), time(self.end))
    }
}

impl std::fmt::Display for Window {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{}, {})", time(self.start), time(self.end))
    }
}

/// A time as KQL and `timespan` take it: UTC, 7 fractional digits.
fn time(t: DateTime<Utc>) -> String {
    format!(
        "{}.{:07}Z",
        t.format("%Y-%m-%dT%H:%M:%S"),
        t.timestamp_subsec_nanos() / 100
    )
}

/// A KQL string literal.
fn literal(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The query of one window.
pub fn query(window: &Window) -> String {
    let services: Vec<String> = SERVICES.iter().map(|name| literal(name)).collect();
    format!(
        "AuditLogs\n\
         | where TimeGenerated >= datetime({}) and TimeGenerated < datetime({})\n\
         | where LoggedByService in ({})\n    \
         or (LoggedByService == {} and ActivityDisplayName == {})\n\
         | project {}\n",
        time(window.start),
        time(window.end),
        services.join(", "),
        literal(DIRECTORY_RESET.0),
        literal(DIRECTORY_RESET.1),
        COLUMNS.join(", ")
    )
}

/// `[since, until)` cut at UTC midnights: one window per day or part of a day, oldest first.
pub fn day_windows(since: DateTime<Utc>, until: DateTime<Utc>) -> Vec<Window> {
    let mut windows = Vec::new();
    let mut start = since;
    while start < until {
        let next_midnight = start
            .duration_trunc(Duration::days(1))
            .map_or(until, |midnight| midnight + Duration::days(1));
        let end = next_midnight.min(until);
        windows.push(Window { start, end });
        start = end;
    }
    windows
}

/// The client-side check: whether a row is one the query selects (names compared ignoring case
/// and outer spaces), whatever the server made of the query.
pub fn is_selected(service: Option<&str>, activity: Option<&str>) -> bool {
    let same = |a: Option<&str>, b: &str| a.is_some_and(|a| a.trim().eq_ignore_ascii_case(b));
    SERVICES.iter().any(|name| same(service, name))
        || (same(service, DIRECTORY_RESET.0) && same(activity, DIRECTORY_RESET.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn the_query_windows_time_generated_half_open() {
        let window = Window {
            start: at("2026-10-01T00:00:00Z"),
            end: at("2026-10-02T00:00:00Z"),
        };
        assert_eq!(
            query(&window),
            "AuditLogs\n\
             | where TimeGenerated >= datetime(2026-10-01T00:00:00.0000000Z) and TimeGenerated < datetime(2026-10-02T00:00:00.0000000Z)\n\
             | where LoggedByService in (\"Self-service Password Management\", \"Authentication Methods\")\n    \
             or (LoggedByService == \"Core Directory\" and ActivityDisplayName == \"Reset user password\")\n\
             | project TimeGenerated, Id, ActivityDateTime, ActivityDisplayName, OperationName, Category, Result, \
             ResultReason, ResultDescription, LoggedByService, CorrelationId, AADOperationType, InitiatedBy, \
             TargetResources, AdditionalDetails\n"
        );
        assert_eq!(
            window.timespan(),
            "2026-10-01T00:00:00.0000000Z/2026-10-02T00:00:00.0000000Z"
        );
    }

    #[test]
    fn days_are_cut_at_midnight_and_cover_the_range_once() {
        let windows = day_windows(at("2026-10-01T18:30:00Z"), at("2026-10-03T06:00:00Z"));
        assert_eq!(
            windows,
            [
                Window {
                    start: at("2026-10-01T18:30:00Z"),
                    end: at("2026-10-02T00:00:00Z")
                },
                Window {
                    start: at("2026-10-02T00:00:00Z"),
                    end: at("2026-10-03T00:00:00Z")
                },
                Window {
                    start: at("2026-10-03T00:00:00Z"),
                    end: at("2026-10-03T06:00:00Z")
                },
            ]
        );
        assert!(day_windows(at("2026-10-01T00:00:00Z"), at("2026-10-01T00:00:00Z")).is_empty());
        assert_eq!(
            day_windows(at("2026-08-25T00:00:00Z"), at("2026-11-23T00:00:00Z")).len(),
            90
        );
    }

    #[test]
    fn halves_meet_on_a_tick_and_stop_at_a_second() {
        let window = Window {
            start: at("2026-10-01T00:00:00Z"),
            end: at("2026-10-01T00:00:03.0000001Z"),
        };
        let (first, second) = window.halves().unwrap();
        assert_eq!(first.end, at("2026-10-01T00:00:01.5Z"));
        assert_eq!(
            (first.start, second.start, second.end),
            (window.start, first.end, window.end)
        );
        let small = Window {
            start: at("2026-10-01T00:00:00Z"),
            end: at("2026-10-01T00:00:01Z"),
        };
        assert_eq!(small.halves(), None);
    }

    #[test]
    fn the_client_checks_service_and_activity() {
        assert!(is_selected(
            Some("Self-service Password Management"),
            Some("x")
        ));
        assert!(is_selected(Some(" authentication methods "), None));
        assert!(is_selected(
            Some("Core Directory"),
            Some("Reset user password")
        ));
        assert!(!is_selected(Some("Core Directory"), Some("Update user")));
        assert!(!is_selected(None, Some("Reset user password")));
        assert!(!is_selected(Some("Invited Users"), None));
    }
}

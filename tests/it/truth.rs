//! The generator's own record of the sample tenant's attempts (`data/sample/attempts.truth.csv`),
//! and the report numbers computed from it with plain code, independently of ssprlens.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Timelike, Utc, Weekday};
use polars::prelude::*;

use super::common::sample;

/// One row of `attempts.truth.csv`.
#[derive(Debug, Clone)]
pub struct Truth {
    pub id: String,
    /// reset | unlock | admin
    pub kind: String,
    /// Empty for unlocks.
    pub channel: String,
    pub completed: bool,
    /// completed, abandoned, canceled, blocked, insufficient_methods, not_enabled, not_licensed,
    /// not_in_group, onprem_failure, banned_password, contacted_admin; failed (unlock, admin).
    pub outcome: String,
    /// submitted_id, shown_options, verified, submitted_password, completed; empty for admin.
    pub max_step: String,
    pub first_time: DateTime<Utc>,
    pub user: String,
    /// Canonical, or empty.
    pub ip: String,
}

/// Every attempt the generator made for the sample tenant.
pub fn attempts() -> Vec<Truth> {
    let frame = CsvReadOptions::default()
        .with_infer_schema_length(Some(0))
        .try_into_reader_with_file_path(Some(sample("attempts.truth.csv")))
        .expect("attempts.truth.csv")
        .finish()
        .expect("attempts.truth.csv is CSV");
    let column = |name: &str| -> Vec<String> {
        frame
            .column(name)
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .map(|value| value.unwrap_or_default().to_owned())
            .collect()
    };
    let (ids, kinds, channels, completed) = (
        column("attempt_id"),
        column("kind"),
        column("channel"),
        column("completed"),
    );
    let (outcomes, steps, times, users, ips) = (
        column("outcome"),
        column("max_step"),
        column("first_time"),
        column("user"),
        column("ip"),
    );
    (0..frame.height())
        .map(|row| Truth {
            id: ids[row].clone(),
            kind: kinds[row].clone(),
            channel: channels[row].clone(),
            completed: completed[row] == "true",
            outcome: outcomes[row].clone(),
            max_step: steps[row].clone(),
            first_time: DateTime::parse_from_rfc3339(&times[row]).unwrap().to_utc(),
            user: users[row].clone(),
            ip: ips[row].clone(),
        })
        .collect()
}

/// The funnel's final state for a truth outcome.
pub fn final_state(outcome: &str) -> &str {
    match outcome {
        "abandoned" | "canceled" => "cancelled",
        "not_licensed" | "not_in_group" => "not_enabled",
        other => other,
    }
}

/// How far along the funnel a truth step is (submitted_id = started = 0).
pub fn step_rank(step: &str) -> usize {
    [
        "submitted_id",
        "shown_options",
        "verified",
        "submitted_password",
        "completed",
    ]
    .iter()
    .position(|s| *s == step)
    .unwrap_or_else(|| panic!("unknown step {step}"))
}

/// The Monday of a date.
pub fn monday(day: NaiveDate) -> NaiveDate {
    day - Duration::days(i64::from(day.weekday().num_days_from_monday()))
}

/// The /24 or /48 network of an address, by plain bit arithmetic on its parts.
pub fn network(ip: &str) -> String {
    match ip.parse::<IpAddr>().unwrap() {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0/24")
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let prefix = std::net::Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0);
            format!("{prefix}/48")
        }
    }
}

/// Outside 08:00-18:00 Monday to Friday, UTC (the defaults).
pub fn after_hours(time: DateTime<Utc>) -> bool {
    let weekend = matches!(time.weekday(), Weekday::Sat | Weekday::Sun);
    weekend || time.hour() < 8 || time.hour() >= 18
}

/// For each self-service attempt with an address: `Some(new)` when its user had an earlier
/// attempt with an address, `new` when none used this one.
pub fn new_for_user(attempts: &[Truth]) -> BTreeMap<String, Option<bool>> {
    let mut ordered: Vec<&Truth> = attempts
        .iter()
        .filter(|a| a.kind != "admin" && !a.ip.is_empty())
        .collect();
    ordered.sort_by(|a, b| (a.first_time, &a.id).cmp(&(b.first_time, &b.id)));
    let mut seen: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut flags = BTreeMap::new();
    for attempt in ordered {
        let earlier = seen.entry(&attempt.user).or_default();
        let flag = (!earlier.is_empty()).then(|| !earlier.contains(attempt.ip.as_str()));
        flags.insert(attempt.id.clone(), flag);
        earlier.insert(&attempt.ip);
    }
    flags
}

/// The most completed resets of one user that began within 24 hours of the first of them.
pub fn most_resets_in_24h(attempts: &[Truth], user: &str) -> usize {
    let times: Vec<DateTime<Utc>> = attempts
        .iter()
        .filter(|a| a.kind == "reset" && a.completed && a.user == user)
        .map(|a| a.first_time)
        .collect();
    times
        .iter()
        .map(|start| {
            times
                .iter()
                .filter(|t| *t >= start && **t < *start + Duration::hours(24))
                .count()
        })
        .max()
        .unwrap_or(0)
}

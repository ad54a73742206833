//! Builds the tables the SQL reports query besides `events` (see [`crate::columns`]):
//! `attempts`, `channel_order`, `calendar` and `params`.

use std::collections::HashMap;

use chrono::NaiveDate;
use polars::prelude::*;

use super::params::Parameters;
use crate::columns::{text, times};
use crate::model::{Attempt, CalendarDay, FinalState, FunnelStep};

/// A date as the reports show it: `YYYY-MM-DD` text, which sorts and compares as dates do.
fn date_text(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// A column of dates as text; each distinct date is formatted once.
fn dates(name: &str, values: impl Iterator<Item = Option<NaiveDate>>) -> Column {
    let values: Vec<Option<NaiveDate>> = values.collect();
    let mut texts: HashMap<NaiveDate, String> = HashMap::new();
    for &date in values.iter().flatten() {
        texts.entry(date).or_insert_with(|| date_text(date));
    }
    Column::new(
        name.into(),
        values
            .iter()
            .map(|date| date.map(|date| texts[&date].as_str()))
            .collect::<Vec<_>>(),
    )
}

/// One row per attempt.
pub fn attempts_frame(attempts: &[Attempt]) -> PolarsResult<DataFrame> {
    DataFrame::new_infer_height(vec![
        text("attempt_id", attempts.iter().map(|a| Some(a.id.as_str()))),
        text("kind", attempts.iter().map(|a| Some(a.kind.as_str()))),
        text("channel", attempts.iter().map(|a| Some(a.channel.as_str()))),
        text(
            "client_type",
            attempts.iter().map(|a| a.client_type.as_deref()),
        ),
        text(
            "user_agent",
            attempts.iter().map(|a| a.user_agent.as_deref()),
        ),
        Column::new(
            "completed".into(),
            attempts.iter().map(|a| a.completed).collect::<Vec<_>>(),
        ),
        times("started", attempts.iter().map(|a| a.started))?,
        times("ended", attempts.iter().map(|a| a.ended))?,
        text("user", attempts.iter().map(|a| a.user.as_deref())),
        text(
            "ip_address",
            attempts.iter().map(|a| a.ip_address.as_deref()),
        ),
        Column::new(
            "rows".into(),
            attempts.iter().map(|a| a.rows).collect::<Vec<_>>(),
        ),
        text(
            "furthest_step",
            attempts
                .iter()
                .map(|a| a.furthest_step.map(FunnelStep::as_str)),
        ),
        text(
            "final_state",
            attempts
                .iter()
                .map(|a| a.final_state.map(FinalState::as_str)),
        ),
        text(
            "ip_network",
            attempts.iter().map(|a| a.ip_network.as_deref()),
        ),
        Column::new(
            "new_ip_for_user".into(),
            attempts
                .iter()
                .map(|a| a.new_ip_for_user)
                .collect::<Vec<_>>(),
        ),
        dates("day", attempts.iter().map(|a| a.local.map(|l| l.day))),
        dates("period", attempts.iter().map(|a| a.local.map(|l| l.period))),
        Column::new(
            "after_hours".into(),
            attempts
                .iter()
                .map(|a| a.local.map(|l| l.after_hours))
                .collect::<Vec<_>>(),
        ),
    ])
}

/// The channels in report order (`position` 1, 2, ...): rule order, then `unknown`, then `admin`.
pub fn channel_order_frame(channels: &[&str]) -> PolarsResult<DataFrame> {
    let positions: Vec<u32> = (1..=channels.len() as u32).collect();
    DataFrame::new_infer_height(vec![
        text("channel", channels.iter().map(|c| Some(*c))),
        Column::new("position".into(), positions),
    ])
}

/// One row per local day of the report, with its period.
pub fn calendar_frame(days: &[CalendarDay]) -> PolarsResult<DataFrame> {
    DataFrame::new_infer_height(vec![
        dates("day", days.iter().map(|d| Some(d.day))),
        dates("period", days.iter().map(|d| Some(d.period))),
    ])
}

/// The report's parameters as one row.
pub fn params_frame(params: &Parameters) -> PolarsResult<DataFrame> {
    let one_text = |name: &str, value: Option<&str>| text(name, std::iter::once(value));
    let one_number = |name: &str, value: f64| Column::new(name.into(), [value]);
    let one_count = |name: &str, value: u32| Column::new(name.into(), [value]);
    DataFrame::new_infer_height(vec![
        one_text("by", Some(params.by)),
        one_text("time_zone", Some(&params.time_zone)),
        dates("rollout_date", std::iter::once(params.rollout_date)),
        one_number("deflection", params.costs.deflection.value),
        one_number("cost_helpdesk", params.costs.helpdesk.value),
        one_number("cost_self_service", params.costs.self_service.value),
        one_text("currency", Some(&params.costs.currency)),
        one_count("ip_users_threshold", params.ip_users_threshold),
        one_count("repeat_resets_threshold", params.repeat_resets_threshold),
        one_text("working_hours", Some(&params.working_hours)),
    ])
}

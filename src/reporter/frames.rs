//! Builds the tables the SQL reports query besides `events` and `attempts` (see
//! [`crate::columns`]): `channel_order`, `calendar`, `params` and `interpreted_activities`.

use chrono::NaiveDate;
use polars::prelude::*;

use super::params::Parameters;
use crate::columns::{DateTexts, text};
use crate::model::{ActivityKind, CalendarDay};

/// A column of dates as text.
fn dates(name: &str, values: impl ExactSizeIterator<Item = Option<NaiveDate>>) -> Column {
    let mut column = DateTexts::new(name, values.len());
    values.for_each(|date| column.push(date));
    column.finish()
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

/// The activity names ssprlens's model gives a meaning, lowercased (`activity`): what the
/// `activities` report calls interpreted.
pub fn interpreted_activities_frame() -> PolarsResult<DataFrame> {
    let names: Vec<String> = ActivityKind::NAMES
        .iter()
        .map(|(name, _)| name.to_lowercase())
        .collect();
    DataFrame::new_infer_height(vec![text(
        "activity",
        names.iter().map(|name| Some(name.as_str())),
    )])
}

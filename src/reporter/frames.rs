//! Builds the tables the SQL reports query: `events`, `attempts` and `channel_order`.
//!
//! Times are `Datetime(ns, UTC)`; `details` holds the other additionalDetails as a JSON list of
//! `{"key", "value"}` objects, the shape Graph uses.

use chrono::{DateTime, Utc};
use polars::prelude::*;

use crate::model::{Attempt, Event};

fn text<'a>(name: &str, values: impl Iterator<Item = Option<&'a str>>) -> Column {
    Column::new(name.into(), values.collect::<Vec<_>>())
}

fn times(name: &str, values: impl Iterator<Item = Option<DateTime<Utc>>>) -> PolarsResult<Column> {
    let nanos: Int64Chunked = values
        .map(|time| time.and_then(|t| t.timestamp_nanos_opt()))
        .collect();
    let series = nanos.into_series().with_name(name.into());
    Ok(series
        .cast(&DataType::Datetime(
            TimeUnit::Nanoseconds,
            Some(TimeZone::UTC),
        ))?
        .into())
}

/// One row per event.
pub fn events_frame(events: &[Event]) -> PolarsResult<DataFrame> {
    let details: Vec<String> = events
        .iter()
        .map(|event| {
            let list: Vec<_> = event
                .details
                .iter()
                .map(|(key, value)| serde_json::json!({ "key": key, "value": value }))
                .collect();
            serde_json::Value::Array(list).to_string()
        })
        .collect();
    DataFrame::new_infer_height(vec![
        text("id", events.iter().map(|e| Some(e.id.as_str()))),
        times("time", events.iter().map(|e| e.time))?,
        text("service", events.iter().map(|e| e.service.as_deref())),
        text("category", events.iter().map(|e| e.category.as_deref())),
        text("activity", events.iter().map(|e| e.activity.as_deref())),
        text("result", events.iter().map(|e| e.result.as_deref())),
        text(
            "result_reason",
            events.iter().map(|e| e.result_reason.as_deref()),
        ),
        text(
            "correlation_id",
            events.iter().map(|e| e.correlation_id.as_deref()),
        ),
        text(
            "initiator_upn",
            events.iter().map(|e| e.initiator_upn.as_deref()),
        ),
        text(
            "initiator_id",
            events.iter().map(|e| e.initiator_id.as_deref()),
        ),
        text(
            "initiator_app",
            events.iter().map(|e| e.initiator_app.as_deref()),
        ),
        text("target_upn", events.iter().map(|e| e.target_upn.as_deref())),
        text("target_id", events.iter().map(|e| e.target_id.as_deref())),
        text("ip_address", events.iter().map(|e| e.ip_address.as_deref())),
        text(
            "client_type",
            events.iter().map(|e| e.client_type.as_deref()),
        ),
        text("user_agent", events.iter().map(|e| e.user_agent.as_deref())),
        text("details", details.iter().map(|d| Some(d.as_str()))),
    ])
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

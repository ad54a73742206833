//! The columnar form of events, shared by the store (its Parquet files) and the reporter (the
//! `events` table of the SQL reports): one schema, written and read in one place.
//!
//! Times are `Datetime(ns, UTC)`; `details` holds the other additionalDetails as a JSON list of
//! `{"key", "value"}` objects, the shape Graph uses.

use chrono::{DateTime, Utc};
use polars::prelude::*;

use crate::model::{ActivityKind, Event};

pub(crate) fn text<'a>(name: &str, values: impl Iterator<Item = Option<&'a str>>) -> Column {
    Column::new(name.into(), values.collect::<Vec<_>>())
}

pub(crate) fn times(
    name: &str,
    values: impl Iterator<Item = Option<DateTime<Utc>>>,
) -> PolarsResult<Column> {
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

fn details_json(details: &[(String, String)]) -> String {
    let list: Vec<_> = details
        .iter()
        .map(|(key, value)| serde_json::json!({ "key": key, "value": value }))
        .collect();
    serde_json::Value::Array(list).to_string()
}

/// One row per event.
pub fn events_frame(events: &[Event]) -> PolarsResult<DataFrame> {
    let details: Vec<String> = events
        .iter()
        .map(|event| details_json(&event.details))
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

/// The events of a frame in the [`events_frame`] schema (as read back from Parquet).
pub fn events_from_frame(frame: &DataFrame) -> PolarsResult<Vec<Event>> {
    let texts = |name: &str| -> PolarsResult<Vec<Option<String>>> {
        Ok(frame
            .column(name)?
            .str()?
            .iter()
            .map(|value| value.map(str::to_owned))
            .collect())
    };
    let nanos: Vec<Option<i64>> = frame
        .column("time")?
        .cast(&DataType::Int64)?
        .i64()?
        .iter()
        .collect();
    let (ids, services, categories, activities) = (
        texts("id")?,
        texts("service")?,
        texts("category")?,
        texts("activity")?,
    );
    let (results, reasons, correlations) = (
        texts("result")?,
        texts("result_reason")?,
        texts("correlation_id")?,
    );
    let (initiator_upns, initiator_ids, initiator_apps) = (
        texts("initiator_upn")?,
        texts("initiator_id")?,
        texts("initiator_app")?,
    );
    let (target_upns, target_ids, ips) = (
        texts("target_upn")?,
        texts("target_id")?,
        texts("ip_address")?,
    );
    let (client_types, user_agents, details) = (
        texts("client_type")?,
        texts("user_agent")?,
        texts("details")?,
    );
    let mut events = Vec::with_capacity(frame.height());
    for row in 0..frame.height() {
        let take = |column: &Vec<Option<String>>| column[row].clone();
        let activity = take(&activities);
        events.push(Event {
            id: take(&ids).unwrap_or_default(),
            time: nanos[row].map(DateTime::from_timestamp_nanos),
            service: take(&services),
            category: take(&categories),
            kind: ActivityKind::of(activity.as_deref()),
            activity,
            result: take(&results),
            result_reason: take(&reasons),
            correlation_id: take(&correlations),
            initiator_upn: take(&initiator_upns),
            initiator_id: take(&initiator_ids),
            initiator_app: take(&initiator_apps),
            target_upn: take(&target_upns),
            target_id: take(&target_ids),
            ip_address: take(&ips),
            client_type: take(&client_types),
            user_agent: take(&user_agents),
            details: parse_details(details[row].as_deref()),
        });
    }
    Ok(events)
}

fn parse_details(text: Option<&str>) -> Vec<(String, String)> {
    #[derive(serde::Deserialize)]
    struct Entry {
        key: String,
        value: String,
    }
    text.and_then(|text| serde_json::from_str::<Vec<Entry>>(text).ok())
        .unwrap_or_default()
        .into_iter()
        .map(|entry| (entry.key, entry.value))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn events_survive_the_round_trip_through_a_frame() {
        let event = Event {
            id: "a".into(),
            time: Some(
                Utc.with_ymd_and_hms(2026, 10, 1, 8, 0, 0).unwrap()
                    + chrono::Duration::nanoseconds(123_456_700),
            ),
            service: Some("Self-service Password Management".into()),
            category: None,
            activity: Some("Reset password (self-service)".into()),
            kind: ActivityKind::SelfServiceReset,
            result: Some("success".into()),
            result_reason: None,
            correlation_id: Some("c".into()),
            initiator_upn: Some("u@x".into()),
            initiator_id: None,
            initiator_app: None,
            target_upn: None,
            target_id: Some("t".into()),
            ip_address: Some("2001:db8::1".into()),
            client_type: Some("Logon".into()),
            user_agent: None,
            details: vec![("MethodsUsed".into(), "SMS, \"email\"".into())],
        };
        let no_time = Event {
            id: "b".into(),
            time: None,
            activity: None,
            kind: ActivityKind::Other,
            details: vec![],
            ..event.clone()
        };
        let events = vec![event, no_time];
        assert_eq!(
            events_from_frame(&events_frame(&events).unwrap()).unwrap(),
            events
        );
    }
}

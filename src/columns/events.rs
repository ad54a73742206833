//! Events in columns: the store's Parquet files and the `events` table of the reports.
//!
//! `details` holds the other additionalDetails as a JSON list of `{"key", "value"}` objects,
//! the shape Graph uses.

use std::borrow::Cow;

use chrono::DateTime;
use polars::prelude::*;

use super::{owned_texts, text, times};
use crate::model::{ActivityKind, Event, EventExtras, EventView};

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

/// The columns of the [`events_frame`] schema that attempts read: enough for [`for_each_view`].
pub const VIEW_COLUMNS: [&str; 14] = [
    "id",
    "time",
    "activity",
    "result",
    "result_reason",
    "correlation_id",
    "initiator_upn",
    "initiator_id",
    "initiator_app",
    "target_upn",
    "target_id",
    "ip_address",
    "client_type",
    "user_agent",
];

/// Hands `each` the row number and the view of every row of a frame holding (at least) the
/// [`VIEW_COLUMNS`] of the [`events_frame`] schema, borrowing its strings.
pub fn for_each_view(
    frame: &DataFrame,
    mut each: impl FnMut(usize, EventView<'_>),
) -> PolarsResult<()> {
    let texts = |name: &str| -> PolarsResult<Vec<Option<&str>>> {
        Ok(frame.column(name)?.str()?.iter().collect())
    };
    let nanos: Vec<Option<i64>> = frame
        .column("time")?
        .cast(&DataType::Int64)?
        .i64()?
        .iter()
        .collect();
    let (ids, activities, results, reasons) = (
        texts("id")?,
        texts("activity")?,
        texts("result")?,
        texts("result_reason")?,
    );
    let (correlations, initiator_upns, initiator_ids, initiator_apps) = (
        texts("correlation_id")?,
        texts("initiator_upn")?,
        texts("initiator_id")?,
        texts("initiator_app")?,
    );
    let (target_upns, target_ids, ips) = (
        texts("target_upn")?,
        texts("target_id")?,
        texts("ip_address")?,
    );
    let (client_types, user_agents) = (texts("client_type")?, texts("user_agent")?);
    fn borrowed<'a>(column: &[Option<&'a str>], row: usize) -> Option<Cow<'a, str>> {
        column[row].map(Cow::Borrowed)
    }
    for row in 0..frame.height() {
        each(
            row,
            EventView {
                id: Cow::Borrowed(ids[row].unwrap_or_default()),
                time: nanos[row].map(DateTime::from_timestamp_nanos),
                activity: borrowed(&activities, row),
                kind: ActivityKind::of(activities[row]),
                result: borrowed(&results, row),
                result_reason: borrowed(&reasons, row),
                correlation_id: borrowed(&correlations, row),
                initiator_upn: borrowed(&initiator_upns, row),
                initiator_id: borrowed(&initiator_ids, row),
                initiator_app: borrowed(&initiator_apps, row),
                target_upn: borrowed(&target_upns, row),
                target_id: borrowed(&target_ids, row),
                ip_address: borrowed(&ips, row),
                client_type: borrowed(&client_types, row),
                user_agent: borrowed(&user_agents, row),
            },
        );
    }
    Ok(())
}

/// The events of a frame in the [`events_frame`] schema (as read back from Parquet).
pub fn events_from_frame(frame: &DataFrame) -> PolarsResult<Vec<Event>> {
    let texts = |name: &str| owned_texts(frame, name);
    let (mut services, mut categories) = (texts("service")?, texts("category")?);
    let details = frame.column("details")?.str()?;
    let mut events = Vec::with_capacity(frame.height());
    for_each_view(frame, |row, view| {
        events.push(view.into_event(EventExtras {
            service: services[row].take(),
            category: categories[row].take(),
            details: parse_details(details.get(row)),
        }));
    })?;
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
    use chrono::{TimeZone, Utc};

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

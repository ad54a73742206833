//! The columnar forms of events and attempts, each written and read in one place: events as
//! the store keeps them (its Parquet files) and the reporter shows them (the `events` table of
//! the SQL reports); attempts as the transformer builds them, straight into the `attempts`
//! table, a share per core.
//!
//! Times are `Datetime(ns, UTC)`; `details` holds the other additionalDetails as a JSON list of
//! `{"key", "value"}` objects, the shape Graph uses; the calendar's dates are `YYYY-MM-DD` text,
//! which sorts and compares as dates do.

use std::borrow::Cow;
use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use polars::prelude::*;

use crate::model::{
    ActivityKind, Attempt, AttemptKind, AttemptView, Event, EventExtras, EventView, FinalState,
    FunnelStep, LocalPlacement,
};

pub(crate) fn text<'a>(name: &str, values: impl Iterator<Item = Option<&'a str>>) -> Column {
    Column::new(name.into(), values.collect::<Vec<_>>())
}

pub(crate) fn times(
    name: &str,
    values: impl Iterator<Item = Option<DateTime<Utc>>>,
) -> PolarsResult<Column> {
    let nanos: Int64Chunked = values.map(nanos_of).collect();
    utc_times(nanos.with_name(name.into()))
}

/// A time as the tables keep it: nanoseconds since 1970 (`None` beyond the years 1677..2262).
fn nanos_of(time: Option<DateTime<Utc>>) -> Option<i64> {
    time.and_then(|time| time.timestamp_nanos_opt())
}

/// Nanoseconds as a column of UTC times.
fn utc_times(nanos: Int64Chunked) -> PolarsResult<Column> {
    Ok(nanos
        .into_series()
        .cast(&DataType::Datetime(
            TimeUnit::Nanoseconds,
            Some(TimeZone::UTC),
        ))?
        .into())
}

/// The nanoseconds of a column of times, as a contiguous array.
pub(crate) fn time_nanos(column: &Column) -> PolarsResult<Int64Chunked> {
    Ok(column.cast(&DataType::Int64)?.i64()?.rechunk().into_owned())
}

/// A date as the tables show it: `YYYY-MM-DD`.
pub fn date_text(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// Builds a column of dates as text, formatting each distinct date once.
pub(crate) struct DateTexts {
    column: StringChunkedBuilder,
    texts: HashMap<NaiveDate, String>,
}

impl DateTexts {
    pub(crate) fn new(name: &str, capacity: usize) -> Self {
        DateTexts {
            column: StringChunkedBuilder::new(name.into(), capacity),
            texts: HashMap::new(),
        }
    }

    pub(crate) fn push(&mut self, date: Option<NaiveDate>) {
        match date {
            Some(date) => {
                let text = self.texts.entry(date).or_insert_with(|| date_text(date));
                self.column.append_value(text.as_str());
            }
            None => self.column.append_null(),
        }
    }

    pub(crate) fn finish(self) -> Column {
        self.column.finish().into_column()
    }
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

/// The columns of the [`events_frame`] schema that attempts read: enough for [`for_each_view`].
pub const VIEW_COLUMNS: [&str; 13] = [
    "id",
    "time",
    "activity",
    "result",
    "result_reason",
    "correlation_id",
    "initiator_upn",
    "initiator_id",
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
    let (correlations, initiator_upns, initiator_ids) = (
        texts("correlation_id")?,
        texts("initiator_upn")?,
        texts("initiator_id")?,
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
    let texts = |name: &str| -> PolarsResult<Vec<Option<String>>> {
        Ok(frame
            .column(name)?
            .str()?
            .iter()
            .map(|value| value.map(str::to_owned))
            .collect())
    };
    let (mut services, mut categories, mut initiator_apps) = (
        texts("service")?,
        texts("category")?,
        texts("initiator_app")?,
    );
    let details = frame.column("details")?.str()?;
    let mut events = Vec::with_capacity(frame.height());
    for_each_view(frame, |row, view| {
        events.push(view.into_event(EventExtras {
            service: services[row].take(),
            category: categories[row].take(),
            initiator_app: initiator_apps[row].take(),
            details: parse_details(details.get(row)),
        }));
    })?;
    Ok(events)
}

/// The columns of the `attempts` table, in order.
pub mod attempt_columns {
    pub const ID: &str = "attempt_id";
    pub const KIND: &str = "kind";
    pub const CHANNEL: &str = "channel";
    pub const CLIENT_TYPE: &str = "client_type";
    pub const USER_AGENT: &str = "user_agent";
    pub const COMPLETED: &str = "completed";
    pub const STARTED: &str = "started";
    pub const ENDED: &str = "ended";
    pub const USER: &str = "user";
    pub const IP_ADDRESS: &str = "ip_address";
    pub const ROWS: &str = "rows";
    pub const FURTHEST_STEP: &str = "furthest_step";
    pub const FINAL_STATE: &str = "final_state";
    pub const IP_NETWORK: &str = "ip_network";
    pub const NEW_IP_FOR_USER: &str = "new_ip_for_user";
    pub const DAY: &str = "day";
    pub const PERIOD: &str = "period";
    pub const AFTER_HOURS: &str = "after_hours";
}

/// Builds the `attempts` table one attempt at a time; `new_ip_for_user` and the calendar
/// columns start empty (see [`AttemptView`]).
pub struct AttemptColumns {
    id: StringChunkedBuilder,
    kind: StringChunkedBuilder,
    channel: StringChunkedBuilder,
    client_type: StringChunkedBuilder,
    user_agent: StringChunkedBuilder,
    completed: BooleanChunkedBuilder,
    started: PrimitiveChunkedBuilder<Int64Type>,
    ended: PrimitiveChunkedBuilder<Int64Type>,
    user: StringChunkedBuilder,
    ip_address: StringChunkedBuilder,
    rows: PrimitiveChunkedBuilder<UInt32Type>,
    furthest_step: StringChunkedBuilder,
    final_state: StringChunkedBuilder,
    ip_network: StringChunkedBuilder,
    height: usize,
}

impl AttemptColumns {
    pub fn with_capacity(capacity: usize) -> Self {
        use attempt_columns::*;
        let text = |name: &str| StringChunkedBuilder::new(name.into(), capacity);
        let time = |name: &str| PrimitiveChunkedBuilder::new(name.into(), capacity);
        AttemptColumns {
            id: text(ID),
            kind: text(KIND),
            channel: text(CHANNEL),
            client_type: text(CLIENT_TYPE),
            user_agent: text(USER_AGENT),
            completed: BooleanChunkedBuilder::new(COMPLETED.into(), capacity),
            started: time(STARTED),
            ended: time(ENDED),
            user: text(USER),
            ip_address: text(IP_ADDRESS),
            rows: PrimitiveChunkedBuilder::new(ROWS.into(), capacity),
            furthest_step: text(FURTHEST_STEP),
            final_state: text(FINAL_STATE),
            ip_network: text(IP_NETWORK),
            height: 0,
        }
    }

    pub fn push(&mut self, attempt: AttemptView<'_>) {
        self.id.append_value(attempt.id);
        self.kind.append_value(attempt.kind.as_str());
        self.channel.append_value(attempt.channel);
        self.client_type.append_option(attempt.client_type);
        self.user_agent.append_option(attempt.user_agent);
        self.completed.append_value(attempt.completed);
        self.started.append_option(nanos_of(attempt.started));
        self.ended.append_option(nanos_of(attempt.ended));
        self.user.append_option(attempt.user);
        self.ip_address.append_option(attempt.ip_address);
        self.rows.append_value(attempt.rows);
        self.furthest_step
            .append_option(attempt.furthest_step.map(FunnelStep::as_str));
        self.final_state
            .append_option(attempt.final_state.map(FinalState::as_str));
        self.ip_network.append_option(attempt.ip_network);
        self.height += 1;
    }

    pub fn finish(self) -> PolarsResult<DataFrame> {
        use attempt_columns::*;
        let height = self.height;
        let text = |builder: StringChunkedBuilder| builder.finish().into_column();
        let empty = |name: &str, dtype: DataType| Column::full_null(name.into(), height, &dtype);
        DataFrame::new_infer_height(vec![
            text(self.id),
            text(self.kind),
            text(self.channel),
            text(self.client_type),
            text(self.user_agent),
            self.completed.finish().into_column(),
            utc_times(self.started.finish())?,
            utc_times(self.ended.finish())?,
            text(self.user),
            text(self.ip_address),
            self.rows.finish().into_column(),
            text(self.furthest_step),
            text(self.final_state),
            text(self.ip_network),
            empty(NEW_IP_FOR_USER, DataType::Boolean),
            empty(DAY, DataType::String),
            empty(PERIOD, DataType::String),
            empty(AFTER_HOURS, DataType::Boolean),
        ])
    }
}

/// The `attempts` table of `attempts` (what [`AttemptColumns`] takes of them).
pub fn attempts_frame(attempts: &[Attempt]) -> PolarsResult<DataFrame> {
    let mut columns = AttemptColumns::with_capacity(attempts.len());
    for attempt in attempts {
        columns.push(attempt.view());
    }
    columns.finish()
}

/// The rows of an `attempts` table.
pub fn attempts_from_frame(frame: &DataFrame) -> PolarsResult<Vec<Attempt>> {
    use attempt_columns::*;
    let texts = |name: &str| -> PolarsResult<Vec<Option<String>>> {
        Ok(frame
            .column(name)?
            .str()?
            .iter()
            .map(|value| value.map(str::to_owned))
            .collect())
    };
    let flags = |name: &str| -> PolarsResult<Vec<Option<bool>>> {
        Ok(frame.column(name)?.bool()?.iter().collect())
    };
    let times = |name: &str| -> PolarsResult<Vec<Option<DateTime<Utc>>>> {
        Ok(time_nanos(frame.column(name)?)?
            .iter()
            .map(|nanos| nanos.map(DateTime::from_timestamp_nanos))
            .collect())
    };
    let dates = |name: &str| -> PolarsResult<Vec<Option<NaiveDate>>> {
        Ok(texts(name)?
            .iter()
            .map(|text| text.as_deref().and_then(|text| text.parse().ok()))
            .collect())
    };
    let (ids, kinds, channels) = (texts(ID)?, texts(KIND)?, texts(CHANNEL)?);
    let (client_types, user_agents, completed) =
        (texts(CLIENT_TYPE)?, texts(USER_AGENT)?, flags(COMPLETED)?);
    let (started, ended, users, ips) = (
        times(STARTED)?,
        times(ENDED)?,
        texts(USER)?,
        texts(IP_ADDRESS)?,
    );
    let rows: Vec<Option<u32>> = frame.column(ROWS)?.u32()?.iter().collect();
    let (steps, states, networks) = (
        texts(FURTHEST_STEP)?,
        texts(FINAL_STATE)?,
        texts(IP_NETWORK)?,
    );
    let (new_ips, days, periods, after_hours) = (
        flags(NEW_IP_FOR_USER)?,
        dates(DAY)?,
        dates(PERIOD)?,
        flags(AFTER_HOURS)?,
    );
    let kind_of = |text: Option<&str>| {
        [AttemptKind::Reset, AttemptKind::Unlock, AttemptKind::Admin]
            .into_iter()
            .find(|kind| Some(kind.as_str()) == text)
            .ok_or_else(|| polars_err!(ComputeError: "attempt kind {text:?}"))
    };
    (0..frame.height())
        .map(|row| {
            Ok(Attempt {
                id: ids[row].clone().unwrap_or_default(),
                kind: kind_of(kinds[row].as_deref())?,
                channel: channels[row].clone().unwrap_or_default(),
                client_type: client_types[row].clone(),
                user_agent: user_agents[row].clone(),
                completed: completed[row].unwrap_or_default(),
                started: started[row],
                ended: ended[row],
                user: users[row].clone(),
                ip_address: ips[row].clone(),
                rows: rows[row].unwrap_or_default(),
                furthest_step: FunnelStep::ALL
                    .into_iter()
                    .find(|step| Some(step.as_str()) == steps[row].as_deref()),
                final_state: FinalState::ALL
                    .into_iter()
                    .find(|state| Some(state.as_str()) == states[row].as_deref()),
                ip_network: networks[row].clone(),
                new_ip_for_user: new_ips[row],
                local: match (days[row], periods[row], after_hours[row]) {
                    (Some(day), Some(period), Some(after_hours)) => Some(LocalPlacement {
                        day,
                        period,
                        after_hours,
                    }),
                    _ => None,
                },
            })
        })
        .collect()
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

//! The columnar forms the stages share, each written and read in one place:
//! - [`events`]: events as the store keeps them (its Parquet files) and the reporter shows them
//!   (the `events` table of the SQL reports);
//! - [`attempts`]: the `attempts` table, which the transformer builds straight from its state,
//!   a share per core;
//! - [`parts`]: what the store keeps of each batch's attempts, so that reports from the store
//!   need not read its events.
//!
//! Times are `Datetime(ns, UTC)`, which holds the years 1677 to 2262 (a time outside them is
//! null); the calendar's dates are `YYYY-MM-DD` text, which sorts and compares as dates do.

mod attempts;
mod events;
mod parts;
mod readback;

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use polars::prelude::*;

pub use attempts::{AttemptColumns, DecidedColumns, TakenColumns, attempt_columns, attempts_frame};
pub use events::{VIEW_COLUMNS, events_frame, events_from_frame, for_each_view};
pub use parts::{for_each_part, is_parts_table, part_keys, parts_frame, taken_columns};
pub use readback::attempts_from_frame;

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

/// The texts of a string column, owned.
pub(crate) fn owned_texts(frame: &DataFrame, name: &str) -> PolarsResult<Vec<Option<String>>> {
    Ok(frame
        .column(name)?
        .str()?
        .iter()
        .map(|value| value.map(str::to_owned))
        .collect())
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

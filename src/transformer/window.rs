//! The time window of a report, both ends inclusive: which events and attempts it keeps.

use chrono::{DateTime, Utc};
use polars::prelude::{BooleanChunked, DataFrame, PolarsResult};

use crate::columns::{attempt_columns, time_nanos};
use crate::model::Event;

/// The time window of a report, both ends inclusive; no end means unbounded.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Window {
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

impl Window {
    fn contains(&self, time: Option<DateTime<Utc>>) -> bool {
        if self.since.is_none() && self.until.is_none() {
            return true;
        }
        time.is_some_and(|time| {
            self.since.is_none_or(|since| time >= since)
                && self.until.is_none_or(|until| time <= until)
        })
    }

    /// Keeps the events that happened in the window and the attempts (rows of the `attempts`
    /// table) that began in it. Attempts are built from all events first, so an attempt
    /// crossing the edge stays whole.
    pub fn apply(&self, events: &mut Vec<Event>, attempts: &mut DataFrame) -> PolarsResult<()> {
        if *self == Window::default() {
            return Ok(());
        }
        events.retain(|event| self.contains(event.time));
        let started = time_nanos(attempts.column(attempt_columns::STARTED)?)?;
        let inside: BooleanChunked = started
            .iter()
            .map(|nanos| self.contains(nanos.map(DateTime::from_timestamp_nanos)))
            .collect();
        *attempts = attempts.filter(&inside)?;
        Ok(())
    }
}

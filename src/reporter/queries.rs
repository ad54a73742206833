//! The built-in reports (the SQL files of `queries/`, compiled in) and the runner that executes
//! them, or a user's own SQL, with polars SQL over the `events`, `attempts` and `channel_order`
//! tables.

use polars::prelude::*;
use polars::sql::SQLContext;

use super::ReportError;

/// A built-in report.
#[derive(Debug, Clone, Copy)]
pub struct Report {
    pub name: &'static str,
    pub sql: &'static str,
    /// A one-row query the terminal table shows under the report as its total.
    pub total_sql: Option<&'static str>,
    /// Whether it reads the `events` table; reports of `attempts` alone skip building it.
    pub needs_events: bool,
}

impl Report {
    /// The first line of the SQL's header comment, without the report name.
    pub fn summary(&self) -> &'static str {
        let first = self
            .sql
            .lines()
            .next()
            .unwrap_or_default()
            .trim_start_matches("--")
            .trim();
        first.split_once(": ").map_or(first, |(_, rest)| rest)
    }
}

/// Every built-in report, in the order `--all` writes them.
pub const REPORTS: &[Report] = &[
    Report {
        name: "channels",
        sql: include_str!("../../queries/channels.sql"),
        total_sql: Some(include_str!("../../queries/channels_total.sql")),
        needs_events: false,
    },
    Report {
        name: "client_types",
        sql: include_str!("../../queries/client_types.sql"),
        total_sql: None,
        needs_events: false,
    },
    Report {
        name: "unlocks",
        sql: include_str!("../../queries/unlocks.sql"),
        total_sql: None,
        needs_events: false,
    },
];

/// Finds a built-in report by name.
pub fn find(name: &str) -> Option<&'static Report> {
    REPORTS.iter().find(|report| report.name == name)
}

/// The tables the reports query.
pub struct Tables {
    context: SQLContext,
}

impl Tables {
    pub fn new(events: DataFrame, attempts: DataFrame, channel_order: DataFrame) -> Self {
        let context = SQLContext::new();
        context.register("events", events.lazy());
        context.register("attempts", attempts.lazy());
        context.register("channel_order", channel_order.lazy());
        Tables { context }
    }

    /// Runs one SQL query; `name` names it in errors.
    pub fn query(&mut self, name: &str, sql: &str) -> Result<DataFrame, ReportError> {
        self.context
            .execute(sql)
            .and_then(LazyFrame::collect)
            .map_err(|source| ReportError::Query {
                name: name.to_owned(),
                source,
            })
    }
}

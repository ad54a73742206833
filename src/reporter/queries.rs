//! The built-in reports (the SQL files of `queries/`, compiled in) and the runner that executes
//! them, or a user's own SQL, with polars SQL over the `events`, `attempts`, `channel_order`,
//! `calendar`, `params` and `interpreted_activities` tables. Every built-in report is also a table named after it, so a
//! report (and a user's query) can build on another: `summary` counts the rows of `users`.

use polars::prelude::*;
use polars::sql::SQLContext;

use super::ReportError;
use super::frames::interpreted_activities_frame;

/// A built-in report.
#[derive(Debug, Clone, Copy)]
pub struct Report {
    pub name: &'static str,
    pub sql: &'static str,
    /// A one-row query the terminal table shows under the report as its total.
    pub total_sql: Option<&'static str>,
    /// A report shown under this one in the terminal table and Markdown.
    pub appendix: Option<&'static str>,
    /// Whether it reads the `events` table: every record must then be loaded, which `--all`,
    /// `run` and the HTML page do not do (run it on its own).
    pub reads_events: bool,
}

impl Report {
    /// Whether the report (or its total) may read `column` of a base table: it names the
    /// column, or one of the reports before it that may read it.
    pub fn reads_column(&self, column: &str) -> bool {
        let before = REPORTS
            .iter()
            .position(|report| report.name == self.name)
            .map_or(REPORTS, |at| &REPORTS[..at]);
        [Some(self.sql), self.total_sql]
            .into_iter()
            .flatten()
            .any(|sql| reads_through(sql, column, before))
    }
}

const fn report(name: &'static str, sql: &'static str) -> Report {
    Report {
        name,
        sql,
        total_sql: None,
        appendix: None,
        reads_events: false,
    }
}

/// Every built-in report, in the order `--all` writes them. A report may use the reports
/// before it as tables.
pub const REPORTS: &[Report] = &[
    Report {
        total_sql: Some(include_str!("../../queries/channels_total.sql")),
        ..report("channels", include_str!("../../queries/channels.sql"))
    },
    report(
        "client_types",
        include_str!("../../queries/client_types.sql"),
    ),
    report("unlocks", include_str!("../../queries/unlocks.sql")),
    report("funnel", include_str!("../../queries/funnel.sql")),
    report("trend", include_str!("../../queries/trend.sql")),
    report("ips", include_str!("../../queries/ips.sql")),
    report("users", include_str!("../../queries/users.sql")),
    report(
        "helpdesk_rollout",
        include_str!("../../queries/helpdesk_rollout.sql"),
    ),
    Report {
        appendix: Some("helpdesk_rollout"),
        ..report("helpdesk", include_str!("../../queries/helpdesk.sql"))
    },
    report("summary", include_str!("../../queries/summary.sql")),
    Report {
        reads_events: true,
        ..report("activities", include_str!("../../queries/activities.sql"))
    },
];

/// The built-in reports of the attempts alone: what `--all`, `run` and the HTML page write.
pub fn attempt_reports() -> impl Iterator<Item = &'static Report> {
    REPORTS.iter().filter(|report| !report.reads_events)
}

/// Finds a built-in report by name.
pub fn find(name: &str) -> Option<&'static Report> {
    REPORTS.iter().find(|report| report.name == name)
}

/// The frames of the base tables.
pub struct Frames {
    pub events: DataFrame,
    pub attempts: DataFrame,
    pub channel_order: DataFrame,
    pub calendar: DataFrame,
    pub params: DataFrame,
}

/// The tables the reports query.
pub struct Tables {
    context: SQLContext,
    /// The built-in reports registered as tables so far.
    registered: Vec<&'static str>,
}

impl Tables {
    /// Registers the base tables; each built-in report becomes a table of its own when a query
    /// first names it.
    pub fn new(frames: Frames) -> Result<Self, ReportError> {
        let context = SQLContext::new();
        context.register("events", frames.events.lazy());
        context.register("attempts", frames.attempts.lazy());
        context.register("channel_order", frames.channel_order.lazy());
        context.register("calendar", frames.calendar.lazy());
        context.register("params", frames.params.lazy());
        let interpreted = interpreted_activities_frame().map_err(|source| ReportError::Table {
            table: "interpreted_activities",
            source,
        })?;
        context.register("interpreted_activities", interpreted.lazy());
        Ok(Tables {
            context,
            registered: Vec::new(),
        })
    }

    /// Runs one SQL query; `name` names it in errors.
    pub fn query(&mut self, name: &str, sql: &str) -> Result<DataFrame, ReportError> {
        self.register_reports_named_in(sql)?;
        self.context
            .execute(sql)
            .and_then(LazyFrame::collect)
            .map_err(|source| ReportError::Query {
                name: name.to_owned(),
                source,
            })
    }

    /// Registers the built-in reports whose names `sql` holds as words (and the reports those
    /// read). A name that only appears as a column or in a comment costs some planning, never a
    /// wrong table.
    fn register_reports_named_in(&mut self, sql: &str) -> Result<(), ReportError> {
        for report in REPORTS {
            if self.registered.contains(&report.name) || !names(sql, report.name) {
                continue;
            }
            self.registered.push(report.name);
            self.register_reports_named_in(report.sql)?;
            let view = self
                .context
                .execute(report.sql)
                .map_err(|source| ReportError::Query {
                    name: report.name.to_owned(),
                    source,
                })?;
            self.context.register(report.name, view);
        }
        Ok(())
    }
}

/// Whether `sql` may read `column` of a base table: it names the column, or one of `reports`
/// that may read it.
fn reads_through(sql: &str, column: &str, reports: &[Report]) -> bool {
    let code = without_comments_and_strings(sql);
    names(&code, column)
        || reports.iter().enumerate().any(|(at, report)| {
            names(&code, report.name) && reads_through(report.sql, column, &reports[..at])
        })
}

/// `sql` with its comments and string literals blanked out: what is left names tables and
/// columns. Quoted identifiers stay.
fn without_comments_and_strings(sql: &str) -> String {
    let mut code = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(at) = rest.find(['-', '/', '\'']) {
        code.push_str(&rest[..at]);
        let tail = &rest[at..];
        let skipped = if tail.starts_with("--") {
            tail.find('\n').unwrap_or(tail.len())
        } else if let Some(comment) = tail.strip_prefix("/*") {
            comment.find("*/").map_or(tail.len(), |end| end + 4)
        } else if tail.starts_with('\'') {
            // '' inside a literal is a quote: the literal goes on after it.
            let mut end = 1;
            loop {
                match tail[end..].find('\'') {
                    Some(quote) if tail[end + quote + 1..].starts_with('\'') => end += quote + 2,
                    Some(quote) => break end + quote + 1,
                    None => break tail.len(),
                }
            }
        } else {
            code.push_str(&tail[..1]);
            rest = &tail[1..];
            continue;
        };
        code.push(' ');
        rest = &tail[skipped..];
    }
    code.push_str(rest);
    code
}

/// Whether `sql` holds `name` as a word (ignoring case), as a table name would be.
fn names(sql: &str, name: &str) -> bool {
    let is_word = |byte: u8| byte.is_ascii_alphanumeric() || byte == b'_';
    let (sql, name) = (sql.as_bytes(), name.as_bytes());
    sql.windows(name.len()).enumerate().any(|(at, window)| {
        window.eq_ignore_ascii_case(name)
            && (at == 0 || !is_word(sql[at - 1]))
            && sql
                .get(at + name.len())
                .is_none_or(|&after| !is_word(after))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_and_strings_read_no_column() {
        let sql = "SELECT a -- new_ip_for_user\n, 'new_ip_for_user', 'it''s new_ip_for_user' /* new_ip_for_user */ FROM t";
        let code = without_comments_and_strings(sql);
        assert!(
            code.starts_with("SELECT a ") && code.ends_with(" FROM t"),
            "{code}"
        );
        assert!(!code.contains("new_ip") && !code.contains('\''), "{code}");
        assert!(!reads_through(sql, "new_ip_for_user", REPORTS));
        assert!(reads_through(
            "SELECT \"new_ip_for_user\" FROM attempts",
            "new_ip_for_user",
            REPORTS
        ));
        assert!(reads_through(
            "SELECT a - b, c/d FROM x WHERE new_ip_for_user",
            "new_ip_for_user",
            REPORTS
        ));
    }

    #[test]
    fn only_the_reports_that_read_new_ip_flags_ask_for_them() {
        let reading: Vec<&str> = REPORTS
            .iter()
            .filter(|report| report.reads_column("new_ip_for_user"))
            .map(|report| report.name)
            .collect();
        // `ips` reads them; `summary` builds on `ips`.
        assert_eq!(reading, ["ips", "summary"]);
        assert!(reads_through(
            "SELECT * FROM ips",
            "new_ip_for_user",
            REPORTS
        ));
        assert!(!reads_through(
            "SELECT * FROM channels",
            "new_ip_for_user",
            REPORTS
        ));
        // Its own SQL names `users` and `ips` as column aliases, which a user's SQL might not.
        assert!(reads_through(REPORTS[0].sql, "new_ip_for_user", REPORTS));
    }

    #[test]
    fn report_names_are_found_as_words_only() {
        assert!(names("SELECT * FROM users WHERE blocked > 0", "users"));
        assert!(names("select * from \"Users\"", "users"));
        assert!(names("users", "users"));
        assert!(!names("SELECT user_agent FROM attempts", "users"));
        assert!(!names("SELECT * FROM helpdesk_rollout", "helpdesk"));
        assert!(!names("SELECT * FROM my_ips", "ips"));
    }
}

//! `ssprlens report`: events from export files or the store → attempts → tables → a report.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use chrono::Duration;
use tracing::{debug, info, warn};

use super::fit::warn_if_unknown;
use super::{RejectLog, timed};
use crate::columns::{attempt_columns, events_frame, parts_frame};
use crate::config::{Query, ReportConfig, ReportSettings, Source, Window};
use crate::error::Error;
use crate::fetcher::files::{self, Item};
use crate::fetcher::parallel::{Sink, read_file_parallel};
use crate::model::{ActivityKind, Event, RecordView};
use crate::reporter::export::{self, Format, Output};
use crate::reporter::frames::{calendar_frame, channel_order_frame, params_frame};
use crate::reporter::params::Parameters;
use crate::reporter::queries::{Frames, Tables, attempt_reports};
use crate::reporter::{ReportError, html};
use crate::store::Store;
use crate::transformer::attempts::{AttemptBuilder, attempts_of_parts, build_attempts};
use crate::transformer::calendar::{calendar_days, place};
use crate::transformer::event::{normalize, normalize_view};
use crate::transformer::ip_history::mark_new_ips;
use crate::transformer::rules::ChannelRules;
use polars::prelude::DataFrame;

/// What reading the inputs found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ReadStats {
    pub files: usize,
    /// Records read, duplicates included.
    pub records: u64,
    pub duplicates: u64,
    pub rejects: u64,
    /// Events without any time (kept; left out when a window is set).
    pub without_time: u64,
}

/// Reads every input file in order and hands each record, normalised, to `each` with its
/// verbatim bytes; rejects go to the log. Stops at the first error `each` or the log returns.
/// Returns how many files were read.
pub fn each_event(
    inputs: &[PathBuf],
    rejects: &mut RejectLog,
    mut each: impl FnMut(Event, &[u8]) -> Result<(), Error>,
) -> Result<usize, Error> {
    let files = files::expand_inputs(inputs)?;
    for path in &files {
        let place = path.display().to_string();
        let mut failure = None;
        files::read_file(path, &mut |item| {
            if failure.is_some() {
                return;
            }
            let outcome = match item {
                Item::Record {
                    record,
                    line,
                    bytes,
                } => match normalize(record) {
                    Ok(event) => each(event, bytes),
                    Err(reason) => rejects.reject(&place, line, &reason, bytes),
                },
                Item::Reject {
                    line,
                    reason,
                    bytes,
                } => rejects.reject(&place, line, &reason, bytes),
            };
            failure = outcome.err();
        })?;
        if let Some(err) = failure {
            return Err(err);
        }
    }
    Ok(files.len())
}

/// Reads every input file into events, deduplicated by record id (first occurrence wins).
pub fn read_files(
    inputs: &[PathBuf],
    rejects: &mut RejectLog,
) -> Result<(Vec<Event>, ReadStats), Error> {
    let mut stats = ReadStats::default();
    let mut seen: HashSet<String> = HashSet::new();
    let mut events = Vec::new();
    stats.files = each_event(inputs, rejects, |event, _| {
        stats.records += 1;
        if seen.insert(event.id.clone()) {
            stats.without_time += u64::from(event.time.is_none());
            events.push(event);
        } else {
            stats.duplicates += 1;
        }
        Ok(())
    })?;
    stats.rejects = rejects.count();
    Ok((events, stats))
}

/// One reading thread's share: events folded into attempts as they come, rejects kept aside.
#[derive(Default)]
struct Fold {
    attempts: AttemptBuilder,
    /// Records read, copies included.
    records: u64,
    rejects: Vec<(u64, String, Vec<u8>)>,
}

impl Sink for Fold {
    fn item(&mut self, item: Item<'_>) {
        match item {
            Item::Record {
                record,
                line,
                bytes,
            } => self.view(record.view(), line, bytes),
            Item::Reject {
                line,
                reason,
                bytes,
            } => self.rejects.push((line, reason, bytes.to_vec())),
        }
    }

    fn view(&mut self, record: RecordView<'_>, line: u64, bytes: &[u8]) {
        match normalize_view(record) {
            Ok(event) => {
                self.records += 1;
                self.attempts.add(&event);
            }
            Err(reason) => self.rejects.push((line, reason, bytes.to_vec())),
        }
    }
}

/// Reads every input file straight into attempts, with every core, without keeping the events:
/// what reports of `attempts` alone need. Same results as [`read_files`] + [`build_attempts`].
pub fn fold_files(
    inputs: &[PathBuf],
    rules: &ChannelRules,
    rejects: &mut RejectLog,
) -> Result<(DataFrame, ReadStats), Error> {
    let files = files::expand_inputs(inputs)?;
    let workers = std::thread::available_parallelism().map_or(1, usize::from);
    let mut builders = Vec::new();
    let mut records = 0;
    let start = std::time::Instant::now();
    for path in &files {
        let folds = read_file_parallel(path, workers, Fold::default)?;
        let mut file_rejects = Vec::new();
        for fold in folds {
            builders.push(fold.attempts);
            records += fold.records;
            file_rejects.extend(fold.rejects);
        }
        file_rejects.sort_by_key(|(line, _, _)| *line);
        let place = path.display().to_string();
        for (line, reason, bytes) in file_rejects {
            rejects.reject(&place, line, &reason, &bytes)?;
        }
    }
    debug!("read inputs: {:.1} ms", start.elapsed().as_secs_f64() * 1e3);
    let attempts = timed("merge", || AttemptBuilder::merge_all(builders));
    let (rows, without_time) = attempts.rows();
    let stats = ReadStats {
        files: files.len(),
        records,
        duplicates: records - rows,
        rejects: rejects.count(),
        without_time,
    };
    let attempts = timed("attempts", || attempts.finish(rules)).map_err(attempts_error)?;
    Ok((attempts, stats))
}

/// The store's events for a window (see [`store_days`]).
pub fn read_store(dir: &Path, window: &Window) -> Result<Vec<Event>, Error> {
    Ok(Store::open_for_reading(dir)?.read_events(store_days(window))?)
}

/// The tables of the built-in reports from the store: the attempt parts of the window's days
/// and a day either side (the events of batches without parts), merged with every core. Same
/// attempts as [`read_store`] + [`build_attempts`].
pub fn store_tables(
    dir: &Path,
    rules: &ChannelRules,
    window: &Window,
    settings: &ReportSettings,
) -> Result<Tables, Error> {
    let store = Store::open_for_reading(dir)?;
    let folds = timed("read store", || {
        store.fold_parts(
            store_days(window),
            || (Vec::new(), AttemptBuilder::default(), 0u64),
            |(tables, _, _), table| tables.push(table),
            |(_, attempts, events), event| {
                *events += 1;
                attempts.add(&event);
            },
        )
    })?;
    let (mut tables, mut builders, mut events) = (Vec::new(), Vec::new(), 0);
    for (read_tables, attempts, read_events) in folds {
        tables.extend(read_tables);
        builders.push(attempts);
        events += read_events;
    }
    let parts: usize = tables.iter().map(DataFrame::height).sum();
    info!(
        "read {parts} attempt parts and {events} events from the store {}",
        dir.display()
    );
    if events > 0 {
        // Batches written before parts existed: their events made parts of their own.
        let attempts = AttemptBuilder::merge_all(builders);
        tables.push(parts_frame(attempts.parts()).map_err(attempts_error)?);
    }
    let attempts =
        timed("attempts", || attempts_of_parts(&tables, rules)).map_err(attempts_error)?;
    assemble(Vec::new(), attempts, rules, window, settings)
}

/// The tables of the built-in reports of every attempt of a source, read the fast way
/// (attempts alone, no window, no new-IP flags): what `calibrate` and `reconcile` read.
pub fn attempt_tables(source: &Source, rules: &ChannelRules) -> Result<Tables, Error> {
    let settings = ReportSettings {
        new_ips: false,
        ..ReportSettings::default()
    };
    let window = Window::default();
    match source {
        Source::Files(inputs) => {
            let mut rejects = RejectLog::open(None)?;
            let read = fold_files(inputs, rules, &mut rejects);
            rejects.close()?;
            let (attempts, stats) = read?;
            if stats.records == 0 {
                return Err(Error::NoRecords {
                    files: stats.files,
                    rejects: stats.rejects,
                });
            }
            assemble(Vec::new(), attempts, rules, &window, &settings)
        }
        Source::Store(dir) => store_tables(dir, rules, &window, &settings),
    }
}

/// The parts table of a batch's events (what the store keeps of their attempts).
pub fn attempt_parts(events: &[Event]) -> polars::error::PolarsResult<DataFrame> {
    let mut attempts = AttemptBuilder::default();
    for event in events {
        attempts.add(&event.view());
    }
    parts_frame(attempts.parts())
}

/// The store partitions a window needs: its days and one more on each side, which keeps
/// attempts crossing its edges whole.
fn store_days(window: &Window) -> Option<(chrono::NaiveDate, chrono::NaiveDate)> {
    match (window.since, window.until) {
        (None, None) => None,
        (since, until) => Some((
            since.map_or(chrono::NaiveDate::MIN, |since| {
                (since - Duration::days(1)).date_naive()
            }),
            until.map_or(chrono::NaiveDate::MAX, |until| {
                (until + Duration::days(1)).date_naive()
            }),
        )),
    }
}

/// Attempts of the events, both cut to the window and placed in the report's calendar, as the
/// tables the reports query.
pub fn tables(
    events: Vec<Event>,
    rules: &ChannelRules,
    window: &Window,
    settings: &ReportSettings,
) -> Result<Tables, Error> {
    let without_correlation = events
        .iter()
        .filter(|event| {
            event.correlation_id.is_none()
                && !matches!(
                    event.kind,
                    ActivityKind::Other | ActivityKind::AdminReset | ActivityKind::DirectoryReset
                )
        })
        .count();
    if without_correlation > 0 {
        warn!("{without_correlation} reset rows have no correlationId and belong to no attempt");
    }
    let attempts = build_attempts(&events, rules).map_err(attempts_error)?;
    assemble(events, attempts, rules, window, settings)
}

fn attempts_error(source: polars::error::PolarsError) -> ReportError {
    ReportError::Table {
        table: "attempts",
        source,
    }
}

/// Events and the `attempts` table, cut to the window and placed in the report's calendar, as
/// the tables the reports query.
fn assemble(
    mut events: Vec<Event>,
    mut attempts: DataFrame,
    rules: &ChannelRules,
    window: &Window,
    settings: &ReportSettings,
) -> Result<Tables, Error> {
    let start = std::time::Instant::now();
    if settings.new_ips {
        // Against every attempt read, before the window cuts them.
        mark_new_ips(&mut attempts).map_err(attempts_error)?;
    }
    window
        .apply(&mut events, &mut attempts)
        .map_err(attempts_error)?;
    let span = place(&mut attempts, &settings.calendar, &settings.working_hours)
        .map_err(attempts_error)?;
    let not_addresses = count_not_addresses(&attempts).map_err(attempts_error)?;
    if not_addresses > 0 {
        warn!(
            "{not_addresses} attempts have an IP address field that holds no IP address; kept as found (`ips` lists them as not_an_address)"
        );
    }
    if let Some(pseudonyms) = &settings.pseudonyms {
        pseudonyms
            .clone()
            .apply(&mut events, &mut attempts)
            .map_err(attempts_error)?;
    }
    let days = calendar_days(span, &settings.calendar);
    // Reports that query no `events` table are built without them.
    if events.is_empty() {
        info!("{} attempts in the report window", attempts.height());
    } else {
        info!(
            "{} events, {} attempts in the report window",
            events.len(),
            attempts.height()
        );
    }
    let table = |table, result: polars::error::PolarsResult<_>| {
        result.map_err(|source| ReportError::Table { table, source })
    };
    let frames = Frames {
        events: table("events", events_frame(&events))?,
        attempts,
        channel_order: table("channel_order", channel_order_frame(&rules.channels()))?,
        calendar: table("calendar", calendar_frame(&days))?,
        params: table("params", params_frame(&settings.params))?,
    };
    // Freeing every event string takes tens of milliseconds that nothing waits for.
    std::thread::spawn(move || drop(events));
    let tables = Tables::new(frames)?;
    debug!("tables: {:.1} ms", start.elapsed().as_secs_f64() * 1e3);
    Ok(tables)
}

/// Attempts whose IP address field holds something that is no IP address (it has no network).
fn count_not_addresses(attempts: &DataFrame) -> polars::error::PolarsResult<usize> {
    let address = attempts.column(attempt_columns::IP_ADDRESS)?.is_not_null();
    let network = attempts.column(attempt_columns::IP_NETWORK)?.is_null();
    Ok((address & network).sum().unwrap_or_default() as usize)
}

/// Runs one query and writes its result.
pub fn write_report(
    tables: &mut Tables,
    query: &Query,
    format: Format,
    out: Option<&Path>,
) -> Result<(), Error> {
    let mut output = Output::new(timed("query", || tables.query(&query.name, &query.sql))?);
    if matches!(format, Format::Table | Format::Markdown) {
        if let (Some(sql), Format::Table) = (&query.total_sql, format) {
            output.total = Some(tables.query(&format!("{} total", query.name), sql)?);
        }
        if let Some(sql) = &query.appendix_sql {
            let appendix = tables.query(&format!("{} appendix", query.name), sql)?;
            output.appendix = (appendix.height() > 0).then_some(appendix);
        }
        output.notes = query.notes.clone();
    }
    timed("export", || export::write(&output, format, out))?;
    Ok(())
}

/// Writes the HTML page of every report.
pub fn write_page(
    tables: &mut Tables,
    params: &Parameters,
    out: Option<&Path>,
) -> Result<(), Error> {
    let page = html::page(tables, params)?;
    export::write_bytes(page.as_bytes(), out)?;
    Ok(())
}

/// Writes every built-in report of the attempts into `dir`, one file each, named after the
/// report (`activities`, which reads every event, is left to a run of its own).
///
/// HTML is one page of every report: `report.html`.
pub fn write_all_reports(
    tables: &mut Tables,
    dir: &Path,
    format: Format,
    params: &Parameters,
) -> Result<Vec<PathBuf>, Error> {
    crate::fsio::create_private_dir_all(dir).map_err(|source| ReportError::Write {
        target: dir.display().to_string(),
        source,
    })?;
    if format == Format::Html {
        let path = dir.join("report.html");
        write_page(tables, params, Some(&path))?;
        return Ok(vec![path]);
    }
    let mut written = Vec::new();
    for report in attempt_reports() {
        let path = dir.join(format!("{}.{}", report.name, format.extension()));
        write_report(tables, &Query::builtin(report, params), format, Some(&path))?;
        written.push(path);
    }
    Ok(written)
}

/// `ssprlens report`: reads the inputs and writes one report.
pub fn report(config: &ReportConfig) -> Result<ReadStats, Error> {
    let window = &config.window;
    let settings = &config.settings;
    let (mut tables, stats) = match &config.source {
        Source::Files(inputs) => {
            let mut rejects = RejectLog::open(config.rejects.as_deref())?;
            let read = if config.query.needs_events {
                read_files(inputs, &mut rejects)
                    .map(|(events, stats)| (Loaded::Events(events), stats))
            } else {
                fold_files(inputs, &config.rules, &mut rejects)
                    .map(|(attempts, stats)| (Loaded::Attempts(attempts), stats))
            };
            rejects.close()?;
            let (loaded, stats) = read?;
            info!(
                "read {} files: {} records, {} duplicates dropped, {} rejected",
                stats.files, stats.records, stats.duplicates, stats.rejects
            );
            if stats.records == 0 {
                return Err(Error::NoRecords {
                    files: stats.files,
                    rejects: stats.rejects,
                });
            }
            if config.strict && stats.rejects > 0 {
                return Err(Error::Rejected {
                    rejects: stats.rejects,
                });
            }
            let tables = match loaded {
                Loaded::Events(events) => tables(events, &config.rules, window, settings)?,
                Loaded::Attempts(attempts) => {
                    assemble(Vec::new(), attempts, &config.rules, window, settings)?
                }
            };
            (tables, stats)
        }
        Source::Store(dir) if config.query.needs_events => {
            let events = read_store(dir, window)?;
            info!(
                "read {} events from the store {}",
                events.len(),
                dir.display()
            );
            let stats = ReadStats {
                records: events.len() as u64,
                ..ReadStats::default()
            };
            (tables(events, &config.rules, window, settings)?, stats)
        }
        Source::Store(dir) => (
            store_tables(dir, &config.rules, window, settings)?,
            ReadStats::default(),
        ),
    };
    if *window != Window::default() && stats.without_time > 0 {
        warn!(
            "{} events have no time and are outside any --since/--until window",
            stats.without_time
        );
    }
    warn_if_unknown(&mut tables, settings.unknown_warning)?;
    let params = &settings.params;
    match (config.all, config.out.as_deref()) {
        (true, Some(dir)) => {
            let written = write_all_reports(&mut tables, dir, config.format, params)?;
            info!("wrote {} reports into {}", written.len(), dir.display());
        }
        (true, None) => return Err(Error::Usage("--all needs --out DIR".into())),
        (false, out) if config.format == Format::Html => write_page(&mut tables, params, out)?,
        (false, out) => write_report(&mut tables, &config.query, config.format, out)?,
    }
    Ok(stats)
}

/// What was read: the events themselves, or only the attempts they make.
enum Loaded {
    Events(Vec<Event>),
    Attempts(DataFrame),
}

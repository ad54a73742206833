//! Loading: the one place where a source, and what the reports to be written need, become the
//! tables the reports query. Every command that reports (`report`, `run`, `demo`) loads here.
//!
//! The `attempts` table is what every built-in report reads; only a `--query` of one's own may
//! also read `events`. Four routes build it, one per source and need, and all give the same
//! attempts (tests compare every report between them, and against the generator's truth):
//!
//! | source | needs | reader | decoder | attempts built by |
//! |---|---|---|---|---|
//! | files | attempts | [`read_file_parallel`]: blocks cut at line ends, every core (other shapes: the framer, one thread) | [`crate::fetcher::lean`], falling back to [`crate::fetcher::record::decode`] | one [`SharedAttemptBuilder`], every thread adding to it; events never kept |
//! | files | events | [`files::read_file`]: the framer, one thread | [`crate::fetcher::record::decode`] | [`build_attempts`] over the events, deduplicated by id |
//! | store | attempts | [`Store::fold_parts`]: the batches' parts Parquet, one day per core at a time (events of batches without parts) | — | [`attempts_of_parts`] |
//! | store | events | [`Store::read_events`] | — | [`build_attempts`] |
//!
//! Then, on every route alike: new-IP flags (when a report reads them), the `--since/--until`
//! window, the calendar, pseudonyms, and the small tables (`channel_order`, `calendar`,
//! `params`).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use chrono::Duration;
use polars::prelude::DataFrame;
use tracing::{debug, info, warn};

use super::{RejectLog, timed};
use crate::columns::{attempt_columns, events_frame, parts_frame};
use crate::config::{ReportSettings, Source};
use crate::error::Error;
use crate::fetcher::files::{self, Item};
use crate::fetcher::parallel::{Sink, read_file_parallel};
use crate::model::{ActivityKind, Event, RecordView};
use crate::reporter::ReportError;
use crate::reporter::frames::{calendar_frame, channel_order_frame, params_frame};
use crate::reporter::queries::{Frames, Tables};
use crate::store::Store;
use crate::transformer::attempts::{
    AttemptBuilder, SharedAttemptBuilder, attempts_of_parts, build_attempts,
};
use crate::transformer::calendar::{calendar_days, place};
use crate::transformer::event::{normalize, normalize_view};
use crate::transformer::ip_history::mark_new_ips;
use crate::transformer::rules::ChannelRules;
use crate::transformer::window::Window;

/// What the reports to be written read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// The `attempts` table only: the built-in reports.
    Attempts,
    /// The `events` table too: a `--query` of one's own.
    Events,
}

/// What to load, and how strictly.
pub struct Load<'a> {
    pub source: &'a Source,
    pub needs: Needs,
    pub rules: &'a ChannelRules,
    pub window: &'a Window,
    pub settings: &'a ReportSettings,
    /// Where rejected input goes, verbatim.
    pub rejects: Option<&'a Path>,
    /// Whether a reject fails the load.
    pub strict: bool,
}

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

/// Loads the tables the reports query, by the route of the source and the need.
pub fn load(request: &Load<'_>) -> Result<(Tables, ReadStats), Error> {
    let Load {
        source,
        needs,
        rules,
        window,
        settings,
        ..
    } = *request;
    let (events, attempts, stats) = match source {
        Source::Files(inputs) => load_files(inputs, request)?,
        Source::Store(dir) => {
            let store = Store::open_for_reading(dir)?;
            match needs {
                Needs::Events => {
                    let events = store.read_events(store_days(window))?;
                    info!(
                        "read {} events from the store {}",
                        events.len(),
                        dir.display()
                    );
                    let stats = ReadStats {
                        records: events.len() as u64,
                        ..ReadStats::default()
                    };
                    let attempts = attempts_of_events(&events, rules)?;
                    (events, attempts, stats)
                }
                Needs::Attempts => {
                    let attempts = store_attempts(&store, dir, rules, window)?;
                    (Vec::new(), attempts, ReadStats::default())
                }
            }
        }
    };
    if *window != Window::default() && stats.without_time > 0 {
        warn!(
            "{} events have no time and are outside any --since/--until window",
            stats.without_time
        );
    }
    Ok((assemble(events, attempts, rules, window, settings)?, stats))
}

/// The tables of every attempt of a source (no window, no new-IP flags): what `calibrate` and
/// `reconcile` read.
pub fn attempt_tables(source: &Source, rules: &ChannelRules) -> Result<Tables, Error> {
    let settings = ReportSettings {
        new_ips: false,
        ..ReportSettings::default()
    };
    let request = Load {
        source,
        needs: Needs::Attempts,
        rules,
        window: &Window::default(),
        settings: &settings,
        rejects: None,
        strict: false,
    };
    Ok(load(&request)?.0)
}

/// Export files: folded straight into attempts with every core, or read into events.
fn load_files(
    inputs: &[PathBuf],
    request: &Load<'_>,
) -> Result<(Vec<Event>, DataFrame, ReadStats), Error> {
    let mut rejects = RejectLog::open(request.rejects)?;
    let read = match request.needs {
        Needs::Events => {
            read_files(inputs, &mut rejects).map(|(events, stats)| (events, None, stats))
        }
        Needs::Attempts => fold_files(inputs, request.rules, &mut rejects)
            .map(|(attempts, stats)| (Vec::new(), Some(attempts), stats)),
    };
    rejects.close()?;
    let (events, attempts, stats) = read?;
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
    if request.strict && stats.rejects > 0 {
        return Err(Error::Rejected {
            rejects: stats.rejects,
        });
    }
    let attempts = match attempts {
        Some(attempts) => attempts,
        None => attempts_of_events(&events, request.rules)?,
    };
    Ok((events, attempts, stats))
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

/// One reading thread's share: events folded into the attempts all threads share as they
/// come, rejects kept aside.
struct Fold<'a> {
    attempts: &'a SharedAttemptBuilder,
    /// Records read, copies included.
    records: u64,
    rejects: Vec<(u64, String, Vec<u8>)>,
}

impl<'a> Fold<'a> {
    fn new(attempts: &'a SharedAttemptBuilder) -> Self {
        Fold {
            attempts,
            records: 0,
            rejects: Vec::new(),
        }
    }
}

impl Sink for Fold<'_> {
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
    let shared = SharedAttemptBuilder::default();
    let mut records = 0;
    let start = std::time::Instant::now();
    for path in &files {
        let folds = read_file_parallel(path, workers, || Fold::new(&shared))?;
        let mut file_rejects = Vec::new();
        for fold in folds {
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
    let attempts = shared.into_builder();
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

/// The attempts of the store: the attempt parts of the window's days and a day either side (and
/// the events of batches without parts), merged with every core.
fn store_attempts(
    store: &Store,
    dir: &Path,
    rules: &ChannelRules,
    window: &Window,
) -> Result<DataFrame, Error> {
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
        // Batches without parts: their events make parts of their own.
        let attempts = AttemptBuilder::merge_all(builders);
        tables.push(parts_frame(attempts.parts()).map_err(attempts_error)?);
    }
    timed("attempts", || attempts_of_parts(&tables, rules))
        .map_err(|err| attempts_error(err).into())
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

/// The attempts of events held in memory; rows that belong to no attempt are counted.
fn attempts_of_events(events: &[Event], rules: &ChannelRules) -> Result<DataFrame, Error> {
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
    Ok(build_attempts(events, rules).map_err(attempts_error)?)
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

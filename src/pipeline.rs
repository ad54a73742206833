//! Wires the stages for each command: files → records → events (deduplicated by id) →
//! attempts → tables → report → output. The only place that knows all the stages.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use tracing::{info, warn};

use crate::columns::events_frame;
use crate::config::ReportConfig;
use crate::error::Error;
use crate::fetcher::files::{self, Item};
use crate::model::{ActivityKind, Event};
use crate::reporter::ReportError;
use crate::reporter::export::{self, Format};
use crate::reporter::frames::{attempts_frame, channel_order_frame};
use crate::reporter::queries::Tables;
use crate::transformer::attempts::build_attempts;
use crate::transformer::event::normalize;

/// How many rejects are named one by one on standard error; the rest are counted.
const REJECTS_SHOWN: u64 = 20;

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
    /// Reset, unlock or flow rows without a correlation id: they belong to no attempt.
    pub without_correlation: u64,
}

/// Names rejects on standard error and keeps them, verbatim, in the rejects file.
pub struct RejectLog {
    file: Option<(PathBuf, BufWriter<File>)>,
    count: u64,
}

impl RejectLog {
    pub fn open(path: Option<&Path>) -> Result<Self, Error> {
        let file = path
            .map(|path| {
                File::create(path)
                    .map(|file| (path.to_path_buf(), BufWriter::new(file)))
                    .map_err(|source| Error::RejectsFile {
                        path: path.to_path_buf(),
                        source,
                    })
            })
            .transpose()?;
        Ok(RejectLog { file, count: 0 })
    }

    pub fn reject(
        &mut self,
        source: &Path,
        line: u64,
        reason: &str,
        bytes: &[u8],
    ) -> Result<(), Error> {
        self.count += 1;
        if self.count <= REJECTS_SHOWN {
            let place = if line == 0 {
                source.display().to_string()
            } else {
                format!("{}:{line}", source.display())
            };
            warn!("rejected {place}: {reason}");
        } else if self.count == REJECTS_SHOWN + 1 {
            warn!("more rejects follow; they are counted in the summary, not named");
        }
        if let (Some((path, file)), false) = (&mut self.file, bytes.is_empty()) {
            file.write_all(bytes)
                .and_then(|()| file.write_all(b"\n"))
                .map_err(|source| Error::RejectsFile {
                    path: path.clone(),
                    source,
                })?;
        }
        Ok(())
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    pub fn close(self) -> Result<(), Error> {
        if let Some((path, mut file)) = self.file {
            file.flush()
                .map_err(|source| Error::RejectsFile { path, source })?;
        }
        Ok(())
    }
}

/// Reads every input file into events, deduplicated by record id (first occurrence wins).
pub fn read_events(
    inputs: &[PathBuf],
    rejects: &mut RejectLog,
) -> Result<(Vec<Event>, ReadStats), Error> {
    let files = files::expand_inputs(inputs)?;
    let mut stats = ReadStats {
        files: files.len(),
        ..ReadStats::default()
    };
    let mut seen: HashSet<String> = HashSet::new();
    let mut events = Vec::new();
    let mut failure = None;
    for path in &files {
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
                    Ok(event) => {
                        stats.records += 1;
                        if seen.insert(event.id.clone()) {
                            stats.without_time += u64::from(event.time.is_none());
                            stats.without_correlation += u64::from(
                                event.correlation_id.is_none()
                                    && !matches!(
                                        event.kind,
                                        ActivityKind::Other | ActivityKind::AdminReset
                                    ),
                            );
                            events.push(event);
                        } else {
                            stats.duplicates += 1;
                        }
                        Ok(())
                    }
                    Err(reason) => rejects.reject(path, line, &reason, bytes),
                },
                Item::Reject {
                    line,
                    reason,
                    bytes,
                } => rejects.reject(path, line, &reason, bytes),
            };
            failure = outcome.err();
        })?;
        if let Some(err) = failure.take() {
            return Err(err);
        }
    }
    stats.rejects = rejects.count();
    Ok((events, stats))
}

/// `ssprlens report`: reads the inputs and writes one report.
pub fn report(config: &ReportConfig) -> Result<ReadStats, Error> {
    let mut rejects = RejectLog::open(config.rejects.as_deref())?;
    let read = read_events(&config.inputs, &mut rejects);
    rejects.close()?;
    let (mut events, stats) = read?;
    info!(
        "read {} files: {} records, {} duplicates dropped, {} rejected",
        stats.files, stats.records, stats.duplicates, stats.rejects
    );
    if stats.without_correlation > 0 {
        warn!(
            "{} reset rows have no correlationId and belong to no attempt",
            stats.without_correlation
        );
    }
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
    let mut attempts = build_attempts(&events, &config.rules);
    if config.window != Default::default() && stats.without_time > 0 {
        warn!(
            "{} events have no time and are outside any --since/--until window",
            stats.without_time
        );
    }
    config.window.apply(&mut events, &mut attempts);
    info!(
        "{} events, {} attempts in the report window",
        events.len(),
        attempts.len()
    );

    let table = |table, result: polars::error::PolarsResult<_>| {
        result.map_err(|source| ReportError::Table { table, source })
    };
    let mut tables = Tables::new(
        table("events", events_frame(&events))?,
        table("attempts", attempts_frame(&attempts))?,
        table(
            "channel_order",
            channel_order_frame(&config.rules.channels()),
        )?,
    );
    let query = &config.query;
    let frame = tables.query(&query.name, &query.sql)?;
    let total = match (&query.total_sql, config.format) {
        (Some(sql), Format::Table) => Some(tables.query(&format!("{} total", query.name), sql)?),
        _ => None,
    };
    export::write(&frame, total.as_ref(), config.format, config.out.as_deref())?;
    Ok(stats)
}

//! `ssprlens report`: loads the tables (see [`super::load`]) and writes one report, every report,
//! or the HTML page of them all.

use std::path::{Path, PathBuf};

use tracing::info;

use super::fit::warn_if_unknown;
use super::load::{Load, Needs, ReadStats, load};
use super::timed;
use crate::config::{Query, ReportConfig};
use crate::error::Error;
use crate::reporter::export::{self, Format, Output};
use crate::reporter::params::Parameters;
use crate::reporter::queries::{Tables, attempt_reports};
use crate::reporter::{Rendering, ReportError, html};

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
    rendering: Rendering,
    params: &Parameters,
) -> Result<Vec<PathBuf>, Error> {
    crate::fsio::create_private_dir_all(dir).map_err(|source| ReportError::Write {
        target: dir.display().to_string(),
        source,
    })?;
    let format = match rendering {
        Rendering::Table(format) => format,
        Rendering::Page => {
            let path = dir.join("report.html");
            write_page(tables, params, Some(&path))?;
            return Ok(vec![path]);
        }
    };
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
    let (mut tables, stats) = load(&Load {
        source: &config.source,
        needs: if config.query.needs_events {
            Needs::Events
        } else {
            Needs::Attempts
        },
        rules: &config.rules,
        window: &config.window,
        settings: &config.settings,
        rejects: config.rejects.as_deref(),
        strict: config.strict,
    })?;
    warn_if_unknown(&mut tables, config.settings.unknown_warning)?;
    let params = &config.settings.params;
    match (config.all, config.out.as_deref()) {
        (true, Some(dir)) => {
            let written = write_all_reports(&mut tables, dir, config.rendering, params)?;
            info!("wrote {} reports into {}", written.len(), dir.display());
        }
        (true, None) => return Err(Error::Usage("--all needs --out DIR".into())),
        (false, out) => match config.rendering {
            Rendering::Page => write_page(&mut tables, params, out)?,
            Rendering::Table(format) => write_report(&mut tables, &config.query, format, out)?,
        },
    }
    Ok(stats)
}

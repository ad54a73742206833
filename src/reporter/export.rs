//! Writes a report's table in the format asked: a terminal table, CSV, JSON, Markdown or Parquet,
//! to standard output or atomically to a file (a reader never sees half a file). HTML, one page
//! of every report, is [`super::html`]'s.
//!
//! Text formats render times as RFC 3339 UTC; CSV neutralises formula cells; the terminal table
//! and Markdown strip control characters; JSON and Parquet keep values verbatim. Only the
//! terminal table and Markdown, which people read, show a report's appendix and notes (the
//! assumptions behind its numbers); the data formats carry exactly the report's rows.

use std::io::{self, IsTerminal, Write};
use std::path::Path;

use chrono::DateTime;
use comfy_table::{CellAlignment, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use polars::prelude::*;

use super::ReportError;
use super::sanitize;
use crate::fsio::write_durably;

/// The format of one report's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Csv,
    Json,
    Markdown,
    Parquet,
}

impl Format {
    /// The file name extension of the format.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Table => "txt",
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Markdown => "md",
            Format::Parquet => "parquet",
        }
    }
}

/// A report's result and what people reading it should see with it.
#[derive(Debug, Clone)]
pub struct Output {
    pub frame: DataFrame,
    /// The terminal table's last row.
    pub total: Option<DataFrame>,
    /// A second table shown under the first in the terminal table and Markdown.
    pub appendix: Option<DataFrame>,
    /// Lines shown under the tables in the terminal table and Markdown.
    pub notes: Vec<String>,
}

impl Output {
    pub fn new(frame: DataFrame) -> Self {
        Output {
            frame,
            total: None,
            appendix: None,
            notes: Vec::new(),
        }
    }
}

fn target_name(out: Option<&Path>) -> String {
    out.map_or_else(
        || "standard output".to_owned(),
        |path| path.display().to_string(),
    )
}

/// Writes `output` to `out`, or standard output.
pub fn write(output: &Output, format: Format, out: Option<&Path>) -> Result<(), ReportError> {
    let encode = |source| ReportError::Encode {
        target: target_name(out),
        source,
    };
    let frame = &output.frame;
    let bytes = match format {
        Format::Parquet => {
            if out.is_none() && io::stdout().is_terminal() {
                return Err(ReportError::Refused(
                    "Parquet is binary: give --out FILE.parquet or redirect standard output".into(),
                ));
            }
            let mut buffer = Vec::new();
            ParquetWriter::new(&mut buffer)
                .finish(&mut frame.clone())
                .map_err(encode)?;
            buffer
        }
        Format::Csv => {
            let mut buffer = Vec::new();
            CsvWriter::new(&mut buffer)
                .finish(&mut for_csv(frame).map_err(encode)?)
                .map_err(encode)?;
            buffer
        }
        Format::Json => {
            let mut buffer = Vec::new();
            JsonWriter::new(&mut buffer)
                .with_json_format(JsonFormat::Json)
                .finish(&mut times_as_text(frame).map_err(encode)?)
                .map_err(encode)?;
            buffer.push(b'\n');
            buffer
        }
        Format::Markdown => readable(output, |frame, _| markdown(frame))
            .map_err(encode)?
            .into_bytes(),
        Format::Table => readable(output, table).map_err(encode)?.into_bytes(),
    };
    write_bytes(&bytes, out)
}

/// Writes finished bytes to `out` atomically, or to standard output.
pub fn write_bytes(bytes: &[u8], out: Option<&Path>) -> Result<(), ReportError> {
    let io_error = |source| ReportError::Write {
        target: target_name(out),
        source,
    };
    match out {
        None => write_stdout(bytes).map_err(io_error),
        Some(path) => write_durably(path, bytes).map_err(io_error),
    }
}

/// The table with its total (rendered by `render`), its appendix, then its notes, for people
/// to read.
fn readable(
    output: &Output,
    render: impl Fn(&DataFrame, Option<&DataFrame>) -> PolarsResult<String>,
) -> PolarsResult<String> {
    let mut text = render(&output.frame, output.total.as_ref())?;
    if let Some(appendix) = &output.appendix {
        text.push('\n');
        text.push_str(&render(appendix, None)?);
    }
    if !output.notes.is_empty() {
        text.push('\n');
        for note in &output.notes {
            text.push_str(&sanitize::for_display(note));
            text.push('\n');
        }
    }
    Ok(text)
}

/// Writes to standard output; a closed pipe (`| head`) is not an error.
fn write_stdout(bytes: &[u8]) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Datetime columns as RFC 3339 text, so every text format shows times alike.
fn times_as_text(frame: &DataFrame) -> PolarsResult<DataFrame> {
    let mut frame = frame.clone();
    let names: Vec<PlSmallStr> = frame
        .columns()
        .iter()
        .filter(|column| matches!(column.dtype(), DataType::Datetime(_, _)))
        .map(|column| column.name().clone())
        .collect();
    for name in names {
        let column = frame.column(&name)?;
        let DataType::Datetime(unit, _) = column.dtype() else {
            continue;
        };
        let unit = *unit;
        let texts: Vec<Option<String>> = column
            .cast(&DataType::Int64)?
            .i64()?
            .iter()
            .map(|value| value.and_then(|value| datetime_text(value, unit)))
            .collect();
        frame.with_column(Column::new(name, texts))?;
    }
    Ok(frame)
}

fn datetime_text(value: i64, unit: TimeUnit) -> Option<String> {
    let time = match unit {
        TimeUnit::Nanoseconds => DateTime::from_timestamp_nanos(value),
        TimeUnit::Microseconds => DateTime::from_timestamp_micros(value)?,
        TimeUnit::Milliseconds => DateTime::from_timestamp_millis(value)?,
    };
    Some(time.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
}

/// The frame with formula-like text cells neutralised.
fn for_csv(frame: &DataFrame) -> PolarsResult<DataFrame> {
    let mut frame = times_as_text(frame)?;
    let names: Vec<PlSmallStr> = frame
        .columns()
        .iter()
        .filter(|column| column.dtype() == &DataType::String)
        .map(|column| column.name().clone())
        .collect();
    for name in names {
        let texts: Vec<Option<String>> = frame
            .column(&name)?
            .str()?
            .iter()
            .map(|cell| cell.map(|text| sanitize::for_csv(text).into_owned()))
            .collect();
        frame.with_column(Column::new(name, texts))?;
    }
    Ok(frame)
}

/// Every cell of `frame` as display text for people, row by row, with whether each column is
/// numeric. Rates and shares read as percentages (`52.2 %`): the columns named `*_rate`,
/// `*_share` or `share_*`, and the `value` of a `summary` row whose `metric` is so named.
pub(super) fn cells(frame: &DataFrame) -> PolarsResult<(Vec<bool>, Vec<Vec<String>>)> {
    let frame = times_as_text(frame)?;
    let numeric = frame
        .columns()
        .iter()
        .map(|column| column.dtype().is_primitive_numeric())
        .collect();
    let metrics = match frame.column("metric") {
        Ok(column) if frame.column("value").is_ok() => {
            Some(column.cast(&DataType::String)?.str()?.clone())
        }
        _ => None,
    };
    let rows = (0..frame.height())
        .map(|row| {
            let metric_is_rate = metrics
                .as_ref()
                .and_then(|metrics| metrics.get(row))
                .is_some_and(is_rate);
            frame
                .columns()
                .iter()
                .map(|column| {
                    let name = column.name().as_str();
                    let rate = is_rate(name) || (name == "value" && metric_is_rate);
                    column.get(row).map(|value| cell_text(&value, rate))
                })
                .collect::<PolarsResult<Vec<_>>>()
        })
        .collect::<PolarsResult<_>>()?;
    Ok((numeric, rows))
}

/// Whether a column (or a summary metric) of this name holds a fraction of one.
fn is_rate(name: &str) -> bool {
    name.ends_with("_rate") || name.ends_with("_share") || name.starts_with("share_")
}

fn cell_text(value: &AnyValue<'_>, rate: bool) -> String {
    match value {
        AnyValue::Null => String::new(),
        AnyValue::String(text) => (*text).to_owned(),
        AnyValue::StringOwned(text) => text.to_string(),
        AnyValue::Float64(number) if rate => format_percent(*number),
        AnyValue::Float32(number) if rate => format_percent(f64::from(*number)),
        AnyValue::Float64(number) => format_float(*number),
        AnyValue::Float32(number) => format_float(f64::from(*number)),
        other => other.to_string(),
    }
}

/// A fraction of one as a percentage with one decimal: `0.5217` → `52.2 %`.
pub(super) fn format_percent(fraction: f64) -> String {
    format!("{:.1} %", fraction * 100.0)
}

pub(super) fn format_float(number: f64) -> String {
    let text = format!("{number:.4}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

fn table(frame: &DataFrame, total: Option<&DataFrame>) -> PolarsResult<String> {
    let (numeric, mut rows) = cells(frame)?;
    if let Some(total) = total {
        rows.extend(cells(total)?.1);
    }
    let mut table = Table::new();
    table
        .load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    table.set_header(
        frame
            .get_column_names()
            .iter()
            .map(|name| sanitize::for_display(name)),
    );
    for row in rows {
        table.add_row(row.iter().map(|cell| sanitize::for_display(cell)));
    }
    for (index, is_numeric) in numeric.iter().enumerate() {
        if let (true, Some(column)) = (*is_numeric, table.column_mut(index)) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    Ok(format!("{table}\n"))
}

fn markdown(frame: &DataFrame) -> PolarsResult<String> {
    let (numeric, rows) = cells(frame)?;
    let mut out = String::new();
    let header: Vec<String> = frame
        .get_column_names()
        .iter()
        .map(|name| sanitize::for_markdown(name))
        .collect();
    out.push_str(&format!("| {} |\n", header.join(" | ")));
    let rule: Vec<&str> = numeric
        .iter()
        .map(|is_numeric| if *is_numeric { "---:" } else { "---" })
        .collect();
    out.push_str(&format!("| {} |\n", rule.join(" | ")));
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .map(|cell| sanitize::for_markdown(cell))
            .collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> DataFrame {
        df! {
            "channel" => ["=cmd|' /C calc'!A0", "web\u{1b}[31m"],
            "attempts" => [3i64, 4],
            "success_rate" => [Some(0.5f64), None],
        }
        .unwrap()
    }

    #[test]
    fn csv_neutralises_formula_cells_and_keeps_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        write(&Output::new(sample()), Format::Csv, Some(&path)).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().next(), Some("channel,attempts,success_rate"));
        assert!(text.contains("'=cmd|' /C calc'!A0"), "{text}");
        assert!(text.contains(",3,0.5"), "{text}");
    }

    #[test]
    fn markdown_and_table_strip_control_characters() {
        let md = markdown(&sample()).unwrap();
        assert!(
            md.starts_with("| channel | attempts | success_rate |\n| --- | ---: | ---: |\n"),
            "{md}"
        );
        assert!(!md.contains('\u{1b}'));
        assert!(md.contains("=cmd\\|"));
        // Rates read as percentages for people.
        assert!(md.contains("| 50.0 % |"), "{md}");
        let table = table(&sample(), None).unwrap();
        assert!(
            !table.contains('\u{1b}') && table.contains("50.0 %"),
            "{table}"
        );
    }

    #[test]
    fn json_keeps_values_verbatim() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.json");
        write(&Output::new(sample()), Format::Json, Some(&path)).unwrap();
        let value: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(value[1]["channel"], "web\u{1b}[31m");
        assert_eq!(value[0]["attempts"], 3);
    }
}

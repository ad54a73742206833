//! A table cut into one Parquet file per UTC day, each a pure function of the day's rows: the
//! rows sorted by id, times in microseconds (Delta's `timestamp`), integers as `long`, written
//! with the same settings every time, so that equal rows give equal bytes and the file's
//! fingerprint tells whether a day changed.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate};
use polars::prelude::*;
use xxhash_rust::xxh3::xxh3_128;

/// One day's rows as a Parquet file (partition columns left out, as Delta wants them).
pub struct DayFile {
    /// `None`: rows without a time.
    pub date: Option<NaiveDate>,
    pub bytes: Vec<u8>,
    /// XXH3-128 of `bytes`, in hexadecimal.
    pub fingerprint: String,
    pub rows: usize,
    /// The Delta `stats` of the file: row count and null counts per column.
    pub stats: String,
}

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// The table's columns in the types a Delta table keeps: UTC times in microseconds, every
/// integer as a 64-bit integer; others unchanged.
pub fn delta_types(frame: DataFrame) -> PolarsResult<DataFrame> {
    let columns = frame
        .columns()
        .iter()
        .map(|column| match column.dtype() {
            DataType::Datetime(_, _) => column.cast(&DataType::Datetime(
                TimeUnit::Microseconds,
                Some(TimeZone::UTC),
            )),
            dtype if dtype.is_integer() => column.cast(&DataType::Int64),
            _ => Ok(column.clone()),
        })
        .collect::<PolarsResult<Vec<_>>>()?;
    DataFrame::new_infer_height(columns)
}

/// The rows of `frame` (in [`delta_types`]) cut by the UTC day of the time column `day_of`,
/// each day sorted by `id` and written as one file.
pub fn day_files(frame: &DataFrame, day_of: &str, id: &str) -> PolarsResult<Vec<DayFile>> {
    let sorted = frame.sort([id], SortMultipleOptions::default())?;
    let micros = sorted
        .column(day_of)?
        .cast(&DataType::Int64)?
        .i64()?
        .rechunk()
        .into_owned();
    let mut rows_of: BTreeMap<Option<i64>, Vec<IdxSize>> = BTreeMap::new();
    for (row, time) in micros.iter().enumerate() {
        rows_of
            .entry(time.map(|micros| micros.div_euclid(MICROS_PER_DAY)))
            .or_default()
            .push(row as IdxSize);
    }
    rows_of
        .into_iter()
        .map(|(day, rows)| {
            let mut day_frame = sorted.take(&IdxCa::from_vec("rows".into(), rows))?;
            let date = day.and_then(|day| {
                DateTime::from_timestamp(day * 86_400, 0).map(|time| time.date_naive())
            });
            let mut bytes = Vec::new();
            ParquetWriter::new(&mut bytes)
                .with_compression(ParquetCompression::Snappy)
                .with_statistics(StatisticsOptions::full())
                .finish(&mut day_frame)?;
            Ok(DayFile {
                date,
                fingerprint: format!("{:032x}", xxh3_128(&bytes)),
                rows: day_frame.height(),
                stats: stats(&day_frame),
                bytes,
            })
        })
        .collect()
}

/// `{"numRecords": N, "nullCount": {column: n, ...}}`: what Delta readers plan with. No
/// minimum or maximum values: a reader that trusted a truncated one would skip rows.
fn stats(frame: &DataFrame) -> String {
    let nulls: serde_json::Map<String, serde_json::Value> = frame
        .columns()
        .iter()
        .map(|column| (column.name().to_string(), column.null_count().into()))
        .collect();
    serde_json::json!({ "numRecords": frame.height(), "nullCount": nulls }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(ids: &[&str], micros: &[Option<i64>]) -> DataFrame {
        let times = Int64Chunked::from_iter(micros.iter().copied())
            .into_series()
            .cast(&DataType::Datetime(
                TimeUnit::Microseconds,
                Some(TimeZone::UTC),
            ))
            .unwrap();
        DataFrame::new_infer_height(vec![
            Column::new("id".into(), ids),
            times.with_name("time".into()).into_column(),
        ])
        .unwrap()
    }

    #[test]
    fn days_are_cut_at_utc_midnight_and_equal_rows_give_equal_files() {
        let last_second = MICROS_PER_DAY - 1;
        let a = frame(
            &["b", "a", "c", "d"],
            &[Some(last_second), Some(0), Some(MICROS_PER_DAY), None],
        );
        let files = day_files(&a, "time", "id").unwrap();
        let days: Vec<_> = files
            .iter()
            .map(|file| (file.date.map(|d| d.to_string()), file.rows))
            .collect();
        assert_eq!(
            days,
            [
                (None, 1),
                (Some("1970-01-01".to_owned()), 2),
                (Some("1970-01-02".to_owned()), 1)
            ]
        );
        // The same rows in another order: the same bytes.
        let b = frame(
            &["d", "c", "a", "b"],
            &[None, Some(MICROS_PER_DAY), Some(0), Some(last_second)],
        );
        let again = day_files(&b, "time", "id").unwrap();
        for (one, other) in files.iter().zip(&again) {
            assert_eq!(one.fingerprint, other.fingerprint);
        }
        // One more row on the first day: that day differs, the others do not.
        let c = frame(
            &["b", "a", "c", "d", "e"],
            &[
                Some(last_second),
                Some(0),
                Some(MICROS_PER_DAY),
                None,
                Some(5),
            ],
        );
        let changed = day_files(&c, "time", "id").unwrap();
        assert_eq!(changed[0].fingerprint, files[0].fingerprint);
        assert_ne!(changed[1].fingerprint, files[1].fingerprint);
        assert_eq!(changed[2].fingerprint, files[2].fingerprint);
        let stats: serde_json::Value = serde_json::from_str(&changed[1].stats).unwrap();
        assert_eq!(stats["numRecords"], 3);
        assert_eq!(stats["nullCount"]["time"], 0);
    }
}

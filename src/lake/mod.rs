//! The data lake: the store as two Delta tables in a data lake on
//! Azure Data Lake Storage Gen2 or Blob storage, which Fabric, Databricks, Synapse and DuckDB
//! read natively.
//!
//! ```text
//! LOCATION/events/_delta_log/…                                         the events table's log
//! LOCATION/events/tenant_id=T/date=D/part-FINGERPRINT-RANDOM.snappy.parquet
//! LOCATION/attempts/_delta_log/…
//! LOCATION/attempts/tenant_id=T/date=D/part-FINGERPRINT-RANDOM.snappy.parquet
//! ```
//!
//! Both tables are partitioned by `tenant_id`, then `date`: the UTC day of the event's `time`,
//! of the attempt's `started`. A (tenant, day) partition is one Parquet file whose name
//! carries the fingerprint of its bytes, and the bytes are a pure function of the day's rows
//! ([`day_files`]), so a publish writes only the days whose rows changed (new rows, late rows
//! of an attempt, other channel rules or pseudonyms) and replaces them in one commit of removes
//! and adds per table ([`table`]). A day that did not change is never rewritten, whatever
//! happened to the store's files (compaction changes no row); a publish with nothing new
//! commits nothing.
//!
//! Crash safety is the Delta log's: data files are written first, then one commit adds them and
//! removes what they replace. A run killed before the commit leaves files no version references
//! (readers never see them; the engines' VACUUM deletes them) and the re-run writes those days
//! again; killed after it, the re-run finds the fingerprints in place. No row is ever in a table
//! twice: a day's file always replaces all of the tenant's files of that day. Each commit
//! carries an app transaction (app id `ssprlens:TENANT`, version: the store state's time in
//! milliseconds), the Delta way of saying which state of which store a table holds. A publisher
//! that finds that another one changed the same tenant's days since it read the table is
//! refused and commits nothing (exit 7); commits of other tenants in between are no conflict.

mod day_files;
mod table;

use chrono::{DateTime, Utc};
use polars::prelude::DataFrame;
use tracing::{info, warn};

use crate::storage::Container;
pub use day_files::{DayFile, day_files, delta_types};
use table::LakeTable;
pub use table::TableChange;

#[derive(Debug, thiserror::Error)]
pub enum LakeError {
    #[error("{0}")]
    Usage(String),
    /// The storage account failed or refused a request.
    #[error("lake: {0}")]
    Storage(String),
    /// Another publisher changed the same tenant's days first.
    #[error("lake: {0}")]
    Conflict(String),
}

/// Makes the tenant's days of the table `name` under the container's location what `files`
/// holds, creating the table (with the columns of `sample`) on first use. `generation` is the
/// time of the store state published, in milliseconds.
pub async fn publish_table(
    container: &Container,
    name: &'static str,
    sample: &DataFrame,
    files: Vec<DayFile>,
    tenant: &str,
    generation: i64,
) -> Result<TableChange, LakeError> {
    let app_id = format!("ssprlens:{tenant}");
    let mut table = LakeTable::open(container, name).await?;
    if !table.exists() {
        table.create(sample).await?;
    }
    if let Some(published) = table.transaction_version(&app_id).await?
        && published > generation
    {
        warn!(
            "{name}: the lake holds tenant {tenant} as of a newer store state ({}) than this \
             store's ({}); its days are replaced with this store's",
            moment(published),
            moment(generation)
        );
    }
    let change = table
        .replace_days(tenant, files, (&app_id, generation))
        .await?;
    info!(
        "{name}: {} days written ({} rows), {} unchanged, {} removed; {}",
        change.days_written,
        change.rows_written,
        change.days_unchanged,
        change.days_removed,
        match change.version {
            Some(version) => format!("committed version {version}"),
            None => "nothing to commit".to_owned(),
        }
    );
    Ok(change)
}

fn moment(millis: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(millis)
        .map_or_else(|| millis.to_string(), |time| time.to_rfc3339())
}

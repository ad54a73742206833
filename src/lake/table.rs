//! One Delta table of the lake through delta-rs: opened on our own object store client (so
//! every sign-in, the emulator and the SAS work as for archives), created on first use with
//! the schema of its first rows, and changed only by [`LakeTable::replace_days`]: one commit
//! that removes a tenant's files of some days and adds their new files.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{NaiveDate, Utc};
use deltalake_core::kernel::transaction::{CommitBuilder, TransactionError};
use deltalake_core::kernel::{
    Action, Add, DataType as DeltaType, Remove, StructField, Transaction,
};
use deltalake_core::logstore::{StorageConfig, default_logstore};
use deltalake_core::operations::create::CreateBuilder;
use deltalake_core::protocol::{DeltaOperation, SaveMode};
use deltalake_core::{DeltaTable, DeltaTableError};
use object_store::path::{Path as ObjectPath, PathPart};
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use polars::prelude::{DataFrame, DataType};

use super::LakeError;
use super::day_files::DayFile;
use crate::storage::{Container, next_item};

/// The partition columns of every table, in order.
pub const TENANT: &str = "tenant_id";
pub const DATE: &str = "date";
/// Commits tried when other tenants' publishers commit at the same time.
const COMMIT_ATTEMPTS: u32 = 10;
/// How Delta (and Hive) name a partition whose value is null.
const NULL_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

/// A table at `LOCATION/NAME`.
pub struct LakeTable {
    name: &'static str,
    table: DeltaTable,
    /// The container, whose store is rooted at the container.
    container: Container,
    /// The table's folder in the container.
    folder: ObjectPath,
}

/// A file of a tenant's day, as the table's current version holds it.
struct DayInTable {
    path: String,
    fingerprint: Option<String>,
    remove: Remove,
}

/// What a publish changed in one table.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TableChange {
    pub days_written: usize,
    pub days_removed: usize,
    pub days_unchanged: usize,
    pub rows_written: usize,
    /// The table version committed; `None`: nothing changed, nothing committed.
    pub version: Option<u64>,
}

impl LakeTable {
    /// Opens the table `name` under the container's location (not created yet if it does not
    /// exist).
    pub async fn open(container: &Container, name: &'static str) -> Result<LakeTable, LakeError> {
        let location = &container.location;
        let folder = ObjectPath::from_iter(
            location
                .prefix
                .split('/')
                .filter(|part| !part.is_empty())
                .chain([name]),
        );
        let url = url::Url::parse(&format!("az://{}/{folder}", location.container))
            .map_err(|err| LakeError::Usage(format!("{}: {err}", location.key())))?;
        let config = StorageConfig::default();
        let prefixed = config
            .decorate_store(container.store.clone(), &url)
            .map_err(|err| container_error(container, name, "opening", &err))?;
        let log_store =
            default_logstore(Arc::from(prefixed), container.store.clone(), &url, &config);
        let mut table = DeltaTable::new(log_store);
        // Only a table with a log is loaded (delta-rs reports a missing one as an error).
        let log = ObjectPath::from_iter(folder.parts().chain([PathPart::from("_delta_log")]));
        let mut listing = container.store.list(Some(&log));
        let has_log = next_item(&mut listing)
            .await
            .transpose()
            .map_err(|err| container_error(container, name, "listing the log", &err))?
            .is_some();
        drop(listing);
        if has_log {
            table
                .load()
                .await
                .map_err(|err| container_error(container, name, "reading the log", &err))?;
        }
        Ok(LakeTable {
            name,
            table,
            container: container.clone(),
            folder,
        })
    }

    pub fn exists(&self) -> bool {
        self.table.version().is_some()
    }

    /// Creates the table with the columns of `sample` (in Delta's types) and the partition
    /// columns.
    pub async fn create(&mut self, sample: &DataFrame) -> Result<(), LakeError> {
        let mut columns = vec![
            StructField::new(TENANT, DeltaType::STRING, false),
            StructField::new(DATE, DeltaType::DATE, true),
        ];
        for column in sample.columns() {
            columns.push(StructField::new(
                column.name().as_str(),
                delta_type(column.dtype()).ok_or_else(|| {
                    LakeError::Usage(format!(
                        "{}: column {} of type {} has no Delta type",
                        self.name,
                        column.name(),
                        column.dtype()
                    ))
                })?,
                true,
            ));
        }
        let created = CreateBuilder::new()
            .with_log_store(self.table.log_store())
            .with_table_name(self.name)
            .with_comment(format!(
                "ssprlens {}: Entra ID self-service password reset, partitioned by tenant and UTC day",
                self.name
            ))
            .with_columns(columns)
            .with_partition_columns([TENANT, DATE])
            .with_save_mode(SaveMode::ErrorIfExists)
            .await;
        self.table = match created {
            Ok(table) => table,
            Err(err) => return Err(self.commit_error("creating the table", err)),
        };
        Ok(())
    }

    /// The tenant's files in the current version, by day.
    async fn days_of(
        &self,
        tenant: &str,
    ) -> Result<BTreeMap<Option<NaiveDate>, Vec<DayInTable>>, LakeError> {
        let mut days: BTreeMap<Option<NaiveDate>, Vec<DayInTable>> = BTreeMap::new();
        if !self.exists() {
            return Ok(days);
        }
        let mut files = self.table.get_active_add_actions_by_partitions(&[]);
        while let Some(file) = next_item(&mut files).await {
            let file = file.map_err(|err| self.error("reading the log", &err))?;
            let values = file.partition_values_map();
            if values.get(TENANT).cloned().flatten().as_deref() != Some(tenant) {
                continue;
            }
            let date = values
                .get(DATE)
                .cloned()
                .flatten()
                .and_then(|text| NaiveDate::parse_from_str(&text, "%Y-%m-%d").ok());
            let path = file.path().into_owned();
            days.entry(date).or_default().push(DayInTable {
                fingerprint: fingerprint_of(&path),
                remove: file.remove_action(true),
                path,
            });
        }
        Ok(days)
    }

    /// Makes the tenant's days in the table what `files` holds (every day of the tenant: days
    /// the table has and `files` lacks are removed): writes the files of the days that differ,
    /// then commits their adds, the removes of what they replace, and the app transaction
    /// `(app_id, version)`, in one commit. Nothing changed: nothing written or committed.
    pub async fn replace_days(
        &mut self,
        tenant: &str,
        files: Vec<DayFile>,
        transaction: (&str, i64),
    ) -> Result<TableChange, LakeError> {
        let mut in_table = self.days_of(tenant).await?;
        let read = tenant_files(&in_table);
        let mut change = TableChange::default();
        let mut actions = Vec::new();
        let mut writes = Vec::new();
        for file in files {
            let current = in_table.remove(&file.date).unwrap_or_default();
            if let [only] = current.as_slice()
                && only.fingerprint.as_deref() == Some(file.fingerprint.as_str())
            {
                change.days_unchanged += 1;
                continue;
            }
            actions.extend(current.into_iter().map(|day| Action::Remove(day.remove)));
            change.days_written += 1;
            change.rows_written += file.rows;
            writes.push(file);
        }
        for (_, gone) in in_table {
            change.days_removed += 1;
            actions.extend(gone.into_iter().map(|day| Action::Remove(day.remove)));
        }
        if actions.is_empty() && writes.is_empty() {
            return Ok(change);
        }
        let mut tasks = tokio::task::JoinSet::new();
        for file in writes {
            let path = data_file_path(tenant, file.date, &file.fingerprint);
            let add = Add {
                path: path.clone(),
                partition_values: HashMap::from([
                    (TENANT.to_owned(), Some(tenant.to_owned())),
                    (DATE.to_owned(), file.date.map(|date| date.to_string())),
                ]),
                size: file.bytes.len() as i64,
                modification_time: Utc::now().timestamp_millis(),
                data_change: true,
                stats: Some(file.stats),
                ..Add::default()
            };
            actions.push(Action::Add(add));
            let (root, location) = (self.container.store.clone(), self.object_path(&path));
            tasks.spawn(async move {
                let written = root.put(&location, PutPayload::from(file.bytes)).await;
                (path, written)
            });
        }
        while let Some(joined) = tasks.join_next().await {
            let (path, written) =
                joined.map_err(|err| LakeError::Storage(format!("{}: {err}", self.name)))?;
            written.map_err(|err| self.error(&format!("writing {path}"), &err))?;
        }
        #[cfg(feature = "test-support")]
        before_commit(self.name);
        let (app_id, version) = transaction;
        actions.push(Action::Txn(Transaction::new_with_last_update(
            app_id,
            version,
            Some(Utc::now().timestamp_millis()),
        )));
        let operation = DeltaOperation::Write {
            mode: SaveMode::Overwrite,
            partition_by: Some(vec![TENANT.to_owned(), DATE.to_owned()]),
            predicate: Some(format!("{TENANT} = '{tenant}'")),
        };
        let mut attempts = 0;
        let version = loop {
            let snapshot = self
                .table
                .snapshot()
                .map_err(|err| self.error("reading the log", &err))?;
            let committed = CommitBuilder::default()
                .with_actions(actions.clone())
                .with_max_retries(0)
                .build(Some(snapshot), self.table.log_store(), operation.clone())
                .await;
            let err = match committed {
                Ok(finalized) => break finalized.version(),
                Err(err) => self.commit_error("committing", err),
            };
            // Another tenant's publisher may commit at the same time: when the commits that
            // won left this tenant's files as they were, commit again on top of them.
            attempts += 1;
            self.table
                .update_state()
                .await
                .map_err(|err| self.error("reading the log", &err))?;
            if !matches!(err, LakeError::Conflict(_))
                || attempts >= COMMIT_ATTEMPTS
                || tenant_files(&self.days_of(tenant).await?) != read
            {
                return Err(err);
            }
        };
        change.version = Some(version);
        self.table
            .update_state()
            .await
            .map_err(|err| self.error("reading the log", &err))?;
        Ok(change)
    }

    /// The app transaction version the table holds for `app_id`.
    pub async fn transaction_version(&self, app_id: &str) -> Result<Option<i64>, LakeError> {
        if !self.exists() {
            return Ok(None);
        }
        let snapshot = self
            .table
            .snapshot()
            .map_err(|err| self.error("reading the log", &err))?;
        snapshot
            .transaction_version(self.table.log_store().as_ref(), app_id)
            .await
            .map_err(|err| self.error("reading the log", &err))
    }

    fn object_path(&self, relative: &str) -> ObjectPath {
        ObjectPath::from_iter(
            self.folder
                .parts()
                .chain(ObjectPath::from(relative).parts()),
        )
    }

    /// A failure as a message naming the table and what was done, without secrets.
    fn error(&self, what: &str, err: &dyn std::fmt::Display) -> LakeError {
        container_error(&self.container, self.name, what, err)
    }

    /// A commit refused because another writer committed first is a conflict; anything else a
    /// storage failure.
    fn commit_error(&self, what: &str, err: DeltaTableError) -> LakeError {
        match err {
            DeltaTableError::Transaction {
                source:
                    TransactionError::VersionAlreadyExists(_) | TransactionError::MaxCommitAttempts(_),
            }
            | DeltaTableError::VersionAlreadyExists(_) => LakeError::Conflict(format!(
                "{} ({}): another publisher changed this tenant's days while this one was writing; \
                 nothing of this run was committed to the table: run again",
                self.container.location.key(),
                self.name
            )),
            other => self.error(what, &other),
        }
    }
}

/// The paths of a tenant's files.
fn tenant_files(days: &BTreeMap<Option<NaiveDate>, Vec<DayInTable>>) -> Vec<String> {
    let mut paths: Vec<String> = days
        .values()
        .flatten()
        .map(|day| day.path.clone())
        .collect();
    paths.sort_unstable();
    paths
}

/// For the tests, between a table's data files and its commit: `SSPRLENS_TEST_DIE_BEFORE_COMMIT=TABLE`
/// dies there (SIGABRT, no clean-up); `SSPRLENS_TEST_HOLD_BEFORE_COMMIT=TABLE:FILE` creates
/// `FILE.held` and waits there until `FILE` exists.
#[cfg(feature = "test-support")]
fn before_commit(table: &str) {
    if std::env::var("SSPRLENS_TEST_DIE_BEFORE_COMMIT").is_ok_and(|name| name == table) {
        std::process::abort();
    }
    if let Ok(hold) = std::env::var("SSPRLENS_TEST_HOLD_BEFORE_COMMIT")
        && let Some(file) = hold
            .strip_prefix(table)
            .and_then(|rest| rest.strip_prefix(':'))
    {
        let _ = std::fs::write(format!("{file}.held"), b"");
        while !std::path::Path::new(file).exists() {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

fn container_error(
    container: &Container,
    name: &str,
    what: &str,
    err: &dyn std::fmt::Display,
) -> LakeError {
    LakeError::Storage(container.failed(&format!("{name}: {what}"), err))
}

/// The Delta type of a column in [`super::day_files::delta_types`].
fn delta_type(dtype: &DataType) -> Option<DeltaType> {
    Some(match dtype {
        DataType::String => DeltaType::STRING,
        DataType::Boolean => DeltaType::BOOLEAN,
        DataType::Int64 => DeltaType::LONG,
        DataType::Float64 => DeltaType::DOUBLE,
        DataType::Datetime(_, Some(_)) => DeltaType::TIMESTAMP,
        _ => return None,
    })
}

/// `tenant_id=T/date=D/part-FINGERPRINT-RANDOM.snappy.parquet`: the random part keeps a re-run
/// from overwriting a file an older version still references.
fn data_file_path(tenant: &str, date: Option<NaiveDate>, fingerprint: &str) -> String {
    let date = date.map_or_else(|| NULL_PARTITION.to_owned(), |date| date.to_string());
    format!(
        "{TENANT}={tenant}/{DATE}={date}/part-{fingerprint}-{:016x}.snappy.parquet",
        rand::random::<u64>()
    )
}

/// The fingerprint in a data file's name, if it is one of ours.
fn fingerprint_of(path: &str) -> Option<String> {
    let name = path.rsplit('/').next()?;
    let rest = name.strip_prefix("part-")?;
    let (fingerprint, _) = rest.split_once('-')?;
    (fingerprint.len() == 32 && fingerprint.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| fingerprint.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_files_carry_their_fingerprint() {
        let fingerprint = "0123456789abcdef0123456789abcdef";
        let date = NaiveDate::from_ymd_opt(2026, 11, 2);
        let path = data_file_path("t-1", date, fingerprint);
        assert!(
            path.starts_with("tenant_id=t-1/date=2026-11-02/part-"),
            "{path}"
        );
        assert_eq!(fingerprint_of(&path).as_deref(), Some(fingerprint));
        assert!(
            data_file_path("t", None, fingerprint).contains("date=__HIVE_DEFAULT_PARTITION__/")
        );
        assert_eq!(
            fingerprint_of("tenant_id=t/date=d/part-00000-x.snappy.parquet"),
            None
        );
    }
}

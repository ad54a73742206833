//! The history store on disk: months of records that Entra itself keeps for 30 days at most.
//!
//! ```text
//! STORE/state.json                                  watermark and format version (state.rs)
//! STORE/lock                                        one writer at a time (lock.rs)
//! STORE/raw/date=YYYY-MM-DD/BATCH.ndjson.gz         every record verbatim as fetched: evidence
//! STORE/events/date=YYYY-MM-DD/BATCH.parquet        the normalised events, hive-partitioned by day
//! ```
//!
//! Invariants: a batch's Parquet file is renamed into place after its raw file, so the Parquet
//! file is the commit point. Opening the store for writing removes temporary files and raw files
//! whose Parquet twin never appeared (their records are fetched again). Records are durable before
//! the watermark moves. A record id is stored at most once: writers dedupe against the ids already
//! in the partitions they touch, readers dedupe again.

mod lock;
mod state;

use std::collections::HashSet;
use std::fs::{self, File};
use std::hash::BuildHasher;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use chrono::{DateTime, NaiveDate, Utc};
use flate2::{Compression, write::GzEncoder};
use polars::prelude::*;
use tracing::{debug, warn};

use crate::columns::{VIEW_COLUMNS, events_frame, events_from_frame, for_each_view};
use crate::fsio::{TEMP_PREFIX, create_private_dir_all, sync_dir, write_durably};
use crate::model::{Event, EventView};
pub use lock::{LockError, StoreLock};
pub use state::{FORMAT, State};

const RAW: &str = "raw";
const EVENTS: &str = "events";
const STATE: &str = "state.json";
/// The partition of events without a time.
const NO_DATE: &str = "unknown";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store {}: another fetch is writing it ({holder}); wait for it to finish", dir.display())]
    Locked { dir: PathBuf, holder: String },
    #[error("store {}: written by a newer ssprlens (format {found}, this version reads up to {FORMAT}); upgrade ssprlens", dir.display())]
    NewerFormat { dir: PathBuf, found: u32 },
    #[error("store {}: {what}: {source}", dir.display())]
    Io {
        dir: PathBuf,
        what: String,
        source: io::Error,
    },
    #[error("store {}: {what}: {source}", dir.display())]
    Data {
        dir: PathBuf,
        what: String,
        source: PolarsError,
    },
    #[error("store {}: state.json is damaged ({source}); move it aside to refetch from scratch", dir.display())]
    State {
        dir: PathBuf,
        source: serde_json::Error,
    },
    #[error("store {}: no such store (fetch into it first)", dir.display())]
    Missing { dir: PathBuf },
}

/// One record to store: its normalised event and its verbatim JSON.
pub struct StoredRecord {
    pub event: Event,
    pub raw: Vec<u8>,
}

/// A store opened for writing (holds the lock) or for reading.
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    _lock: Option<StoreLock>,
    batch_prefix: String,
    batches: u32,
}

impl Store {
    /// Opens (creating if needed) a store to write: takes the lock, refuses newer formats and
    /// clears what a crashed writer left half-done.
    pub fn open_for_writing(dir: &Path) -> Result<Store, StoreError> {
        let io = |what: &str| {
            let dir = dir.to_path_buf();
            let what = what.to_owned();
            move |source| StoreError::Io { dir, what, source }
        };
        create_private_dir_all(dir).map_err(io("creating the store directory"))?;
        let lock = StoreLock::acquire(&dir.join("lock")).map_err(|err| match err {
            LockError::Held(holder) => StoreError::Locked {
                dir: dir.to_path_buf(),
                holder,
            },
            LockError::Io(source) => StoreError::Io {
                dir: dir.to_path_buf(),
                what: "taking the lock".into(),
                source,
            },
        })?;
        let store = Store {
            dir: dir.to_path_buf(),
            _lock: Some(lock),
            batch_prefix: format!(
                "{}-{}",
                Utc::now().format("%Y%m%dT%H%M%S%.3fZ"),
                std::process::id()
            ),
            batches: 0,
        };
        if store.state()?.is_none() {
            // The format is stamped before anything else is written, so that an older version
            // refuses the store even if it holds only imported records.
            store.save_state(&State {
                format: FORMAT,
                watermark: None,
                service: None,
                updated: Utc::now(),
            })?;
        }
        store
            .recover()
            .map_err(io("clearing an interrupted write"))?;
        Ok(store)
    }

    /// Opens an existing store to read.
    pub fn open_for_reading(dir: &Path) -> Result<Store, StoreError> {
        if !dir.join(EVENTS).is_dir() && !dir.join(STATE).is_file() {
            return Err(StoreError::Missing {
                dir: dir.to_path_buf(),
            });
        }
        let store = Store {
            dir: dir.to_path_buf(),
            _lock: None,
            batch_prefix: String::new(),
            batches: 0,
        };
        store.state()?;
        Ok(store)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The saved state, if the store has one.
    pub fn state(&self) -> Result<Option<State>, StoreError> {
        let path = self.dir.join(STATE);
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(self.io_error("reading state.json", source)),
        };
        let state: State = serde_json::from_slice(&bytes).map_err(|source| StoreError::State {
            dir: self.dir.clone(),
            source,
        })?;
        if state.format > FORMAT {
            return Err(StoreError::NewerFormat {
                dir: self.dir.clone(),
                found: state.format,
            });
        }
        Ok(Some(state))
    }

    /// Saves the state; call only once every record up to the watermark is written.
    pub fn save_state(&self, state: &State) -> Result<(), StoreError> {
        let mut bytes = serde_json::to_vec_pretty(state).expect("the state serialises");
        bytes.push(b'\n');
        write_durably(&self.dir.join(STATE), &bytes)
            .map_err(|source| self.io_error("writing state.json", source))
    }

    /// The ids stored in the partitions of the days `from..=to` (and of events without a time).
    pub fn known_ids(&self, from: NaiveDate, to: NaiveDate) -> Result<HashSet<String>, StoreError> {
        let mut ids = HashSet::new();
        for file in self.event_files(Some((from, to)))? {
            let frame = read_parquet(&file, Some(vec!["id".to_owned()]))
                .map_err(|source| self.data_error(&file, source))?;
            let column = frame
                .column("id")
                .and_then(|c| c.str().cloned())
                .map_err(|source| self.data_error(&file, source))?;
            ids.extend(column.iter().flatten().map(str::to_owned));
        }
        Ok(ids)
    }

    /// Writes a batch of records durably: per day, the raw archive file, then the Parquet file.
    pub fn write_batch(&mut self, records: &[StoredRecord]) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        self.batches += 1;
        let name = format!("{}-{:05}", self.batch_prefix, self.batches);
        let mut days: Vec<String> = records
            .iter()
            .map(|record| partition_of(record.event.time))
            .collect();
        days.sort();
        days.dedup();
        for day in days {
            let in_day: Vec<&StoredRecord> = records
                .iter()
                .filter(|record| partition_of(record.event.time) == day)
                .collect();
            let raw_file = format!("{RAW}/date={day}/{name}.ndjson.gz");
            let events_file = format!("{EVENTS}/date={day}/{name}.parquet");
            let raw_dir = self.dir.join(RAW).join(format!("date={day}"));
            let events_dir = self.dir.join(EVENTS).join(format!("date={day}"));
            for (kind, dir) in [(RAW, &raw_dir), (EVENTS, &events_dir)] {
                create_private_dir_all(dir).map_err(|source| {
                    self.io_error(&format!("creating {kind}/date={day}"), source)
                })?;
            }
            let raw = gzip_lines(in_day.iter().map(|record| record.raw.as_slice()))
                .map_err(|source| self.io_error("compressing the raw archive", source))?;
            write_durably(&self.dir.join(&raw_file), &raw)
                .map_err(|source| self.io_error(&format!("writing {raw_file}"), source))?;
            let events: Vec<Event> = in_day.iter().map(|record| record.event.clone()).collect();
            let mut frame =
                events_frame(&events).map_err(|source| self.data_error(&events_dir, source))?;
            let mut parquet = Vec::new();
            ParquetWriter::new(&mut parquet)
                .finish(&mut frame)
                .map_err(|source| self.data_error(&events_dir, source))?;
            write_durably(&self.dir.join(&events_file), &parquet)
                .map_err(|source| self.io_error(&format!("writing {events_file}"), source))?;
            debug!("stored {} records for {day} as {name}", in_day.len());
        }
        Ok(())
    }

    /// Every stored event of the days `from..=to` (all days when `None`), each id once.
    pub fn read_events(
        &self,
        days: Option<(NaiveDate, NaiveDate)>,
    ) -> Result<Vec<Event>, StoreError> {
        let mut events = Vec::new();
        self.for_each_event(days, |event| events.push(event))?;
        Ok(events)
    }

    /// Hands every stored event of the days `from..=to` (all days when `None`) to `each`, each
    /// id once, one Parquet file in memory at a time.
    pub fn for_each_event(
        &self,
        days: Option<(NaiveDate, NaiveDate)>,
        mut each: impl FnMut(Event),
    ) -> Result<(), StoreError> {
        let ids = foldhash::fast::RandomState::default();
        let mut seen = HashSet::new();
        for file in self.event_files(days)? {
            let frame =
                read_parquet(&file, None).map_err(|source| self.data_error(&file, source))?;
            let batch =
                events_from_frame(&frame).map_err(|source| self.data_error(&file, source))?;
            for event in batch {
                if seen.insert(ids.hash_one(event.id.as_str())) {
                    each(event);
                }
            }
        }
        Ok(())
    }

    /// Folds the view of every stored row of the days `from..=to` (all days when `None`) into
    /// states made by `make`, one per reading thread, for the caller to merge. Only the columns
    /// attempts read are decoded; each thread reads one Parquet file at a time. Ids are not
    /// deduplicated here: the caller decides (`fold` runs on several threads at once).
    pub fn fold_views<S: Send>(
        &self,
        days: Option<(NaiveDate, NaiveDate)>,
        make: impl Fn() -> S + Sync,
        fold: impl Fn(&mut S, EventView<'_>) + Sync,
    ) -> Result<Vec<S>, StoreError> {
        let files = self.event_files(days)?;
        let next = AtomicUsize::new(0);
        let workers = thread::available_parallelism()
            .map_or(1, usize::from)
            .min(files.len())
            .max(1);
        let columns: Vec<String> = VIEW_COLUMNS.map(str::to_owned).to_vec();
        let read = || -> Result<S, StoreError> {
            let mut state = make();
            while let Some(file) = files.get(next.fetch_add(1, Ordering::Relaxed)) {
                read_parquet(file, Some(columns.clone()))
                    .and_then(|frame| for_each_view(&frame, |_, view| fold(&mut state, view)))
                    .map_err(|source| self.data_error(file, source))?;
            }
            Ok(state)
        };
        thread::scope(|scope| {
            let threads: Vec<_> = (0..workers).map(|_| scope.spawn(read)).collect();
            threads
                .into_iter()
                .map(|thread| thread.join().expect("a store reading thread panicked"))
                .collect()
        })
    }

    /// The Parquet files of the chosen days, in name order.
    fn event_files(
        &self,
        days: Option<(NaiveDate, NaiveDate)>,
    ) -> Result<Vec<PathBuf>, StoreError> {
        let mut files = Vec::new();
        for (partition, dir) in self.partitions(EVENTS)? {
            let wanted = match (days, NaiveDate::parse_from_str(&partition, "%Y-%m-%d")) {
                (None, _) => true,
                (Some((from, to)), Ok(day)) => from <= day && day <= to,
                (Some(_), Err(_)) => partition == NO_DATE,
            };
            if wanted {
                files.extend(self.files_in(&dir, ".parquet")?);
            }
        }
        Ok(files)
    }

    /// `(value, path)` of every `date=value` directory under `kind`, in order.
    fn partitions(&self, kind: &str) -> Result<Vec<(String, PathBuf)>, StoreError> {
        let root = self.dir.join(kind);
        let entries = match fs::read_dir(&root) {
            Ok(entries) => entries,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(self.io_error("listing partitions", source)),
        };
        let mut partitions = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| self.io_error("listing partitions", source))?;
            if let Some(value) = entry
                .file_name()
                .to_str()
                .and_then(|name| name.strip_prefix("date="))
            {
                partitions.push((value.to_owned(), entry.path()));
            }
        }
        partitions.sort();
        Ok(partitions)
    }

    fn files_in(&self, dir: &Path, suffix: &str) -> Result<Vec<PathBuf>, StoreError> {
        let mut files = Vec::new();
        for entry in
            fs::read_dir(dir).map_err(|source| self.io_error("listing a partition", source))?
        {
            let entry = entry.map_err(|source| self.io_error("listing a partition", source))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(suffix) && !name.starts_with(TEMP_PREFIX) {
                files.push(entry.path());
            }
        }
        files.sort();
        Ok(files)
    }

    /// Removes temporary files and raw files whose batch never reached its Parquet file.
    fn recover(&self) -> io::Result<()> {
        for kind in [RAW, EVENTS] {
            for (partition, dir) in self
                .partitions(kind)
                .map_err(|err| io::Error::other(err.to_string()))?
            {
                for entry in fs::read_dir(&dir)? {
                    let entry = entry?;
                    let name = entry.file_name().to_string_lossy().into_owned();
                    let orphan = kind == RAW
                        && name.strip_suffix(".ndjson.gz").is_some_and(|batch| {
                            !self
                                .dir
                                .join(EVENTS)
                                .join(format!("date={partition}"))
                                .join(format!("{batch}.parquet"))
                                .exists()
                        });
                    if name.starts_with(TEMP_PREFIX) || orphan {
                        warn!(
                            "removing {} left by an interrupted run; its records will be fetched again",
                            entry.path().display()
                        );
                        fs::remove_file(entry.path())?;
                        sync_dir(&dir)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn io_error(&self, what: &str, source: io::Error) -> StoreError {
        StoreError::Io {
            dir: self.dir.clone(),
            what: what.to_owned(),
            source,
        }
    }

    fn data_error(&self, path: &Path, source: PolarsError) -> StoreError {
        StoreError::Data {
            dir: self.dir.clone(),
            what: path.display().to_string(),
            source,
        }
    }
}

/// The partition value of a time: its UTC day.
fn partition_of(time: Option<DateTime<Utc>>) -> String {
    time.map_or_else(
        || NO_DATE.to_owned(),
        |time| time.format("%Y-%m-%d").to_string(),
    )
}

fn read_parquet(path: &Path, columns: Option<Vec<String>>) -> PolarsResult<DataFrame> {
    let file = File::open(path).map_err(|err| PolarsError::IO {
        error: err.into(),
        msg: None,
    })?;
    ParquetReader::new(file).with_columns(columns).finish()
}

/// Gzip-compressed NDJSON, one record a line. A record's line breaks (only possible between JSON
/// tokens) become spaces, so pretty-printed input still makes one line per record.
fn gzip_lines<'a>(records: impl Iterator<Item = &'a [u8]>) -> io::Result<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    for record in records {
        let line: Vec<u8> = record
            .iter()
            .map(|&b| if b == b'\n' || b == b'\r' { b' ' } else { b })
            .collect();
        encoder.write_all(&line)?;
        encoder.write_all(b"\n")?;
    }
    encoder.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ActivityKind;
    use chrono::TimeZone;

    fn record(id: &str, day: u32) -> StoredRecord {
        let event = Event {
            id: id.into(),
            time: Some(Utc.with_ymd_and_hms(2026, 10, day, 8, 0, 0).unwrap()),
            activity: Some("Reset password (self-service)".into()),
            kind: ActivityKind::SelfServiceReset,
            result: Some("success".into()),
            correlation_id: Some(format!("c-{id}")),
            ..Event::default()
        };
        StoredRecord {
            event,
            raw: format!("{{\n\"id\": \"{id}\"\n}}").into_bytes(),
        }
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 10, d).unwrap()
    }

    #[test]
    fn batches_land_in_day_partitions_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open_for_writing(dir.path()).unwrap();
        store
            .write_batch(&[record("a", 1), record("b", 2), record("c", 2)])
            .unwrap();
        store.write_batch(&[record("d", 3)]).unwrap();
        assert!(dir.path().join("events/date=2026-10-02").is_dir());
        assert!(dir.path().join("raw/date=2026-10-02").is_dir());
        let ids = |events: Vec<Event>| events.into_iter().map(|e| e.id).collect::<Vec<_>>();
        assert_eq!(ids(store.read_events(None).unwrap()), ["a", "b", "c", "d"]);
        assert_eq!(
            ids(store.read_events(Some((day(2), day(2)))).unwrap()),
            ["b", "c"]
        );
        let known = store.known_ids(day(2), day(3)).unwrap();
        assert_eq!(known.len(), 3);
        // The raw archive holds each record on one line.
        let raw = fs::read_dir(dir.path().join("raw/date=2026-10-02"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let mut text = String::new();
        std::io::Read::read_to_string(
            &mut flate2::read::GzDecoder::new(File::open(raw).unwrap()),
            &mut text,
        )
        .unwrap();
        assert_eq!(text, "{ \"id\": \"b\" }\n{ \"id\": \"c\" }\n");
    }

    #[test]
    fn views_fold_every_row_of_the_chosen_days_on_every_thread() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open_for_writing(dir.path()).unwrap();
        store
            .write_batch(&[record("a", 1), record("b", 2), record("c", 2)])
            .unwrap();
        store
            .write_batch(&[record("d", 3), record("e", 2)])
            .unwrap();
        let ids = |days| {
            let folds = store
                .fold_views(days, Vec::new, |ids: &mut Vec<String>, view| {
                    assert_eq!(
                        view.correlation_id.as_deref(),
                        Some(&*format!("c-{}", view.id))
                    );
                    assert_eq!(view.kind, ActivityKind::SelfServiceReset);
                    ids.push(view.id.into_owned());
                })
                .unwrap();
            let mut ids: Vec<String> = folds.into_iter().flatten().collect();
            ids.sort();
            ids
        };
        assert_eq!(ids(None), ["a", "b", "c", "d", "e"]);
        assert_eq!(ids(Some((day(2), day(2)))), ["b", "c", "e"]);
    }

    #[test]
    fn a_second_writer_is_locked_out_but_readers_are_not() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            Store::open_for_reading(dir.path()),
            Err(StoreError::Missing { .. })
        ));
        let mut writer = Store::open_for_writing(dir.path()).unwrap();
        writer.write_batch(&[record("a", 1)]).unwrap();
        assert!(matches!(
            Store::open_for_writing(dir.path()),
            Err(StoreError::Locked { .. })
        ));
        assert_eq!(
            Store::open_for_reading(dir.path())
                .unwrap()
                .read_events(None)
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn an_interrupted_batch_is_cleared_on_open() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut store = Store::open_for_writing(dir.path()).unwrap();
            store.write_batch(&[record("a", 1)]).unwrap();
        }
        let partition = dir.path().join("raw/date=2026-10-01");
        fs::write(
            partition.join("20261001T000000.000Z-1-00001.ndjson.gz"),
            b"half",
        )
        .unwrap();
        fs::write(partition.join(".tmp-abc"), b"half").unwrap();
        let store = Store::open_for_writing(dir.path()).unwrap();
        let left: Vec<_> = fs::read_dir(&partition)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left.len(), 1, "{left:?}");
        assert_eq!(store.read_events(None).unwrap().len(), 1);
    }

    #[test]
    fn state_round_trips_and_newer_formats_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_for_writing(dir.path()).unwrap();
        let stamped = store.state().unwrap().expect("a new store is stamped");
        assert_eq!((stamped.format, stamped.watermark), (FORMAT, None));
        let state = State {
            format: FORMAT,
            watermark: Some(Utc::now()),
            service: Some("x".into()),
            updated: Utc::now(),
        };
        store.save_state(&state).unwrap();
        assert_eq!(store.state().unwrap(), Some(state.clone()));
        store
            .save_state(&State {
                format: FORMAT + 1,
                ..state
            })
            .unwrap();
        assert!(matches!(store.state(), Err(StoreError::NewerFormat { .. })));
    }
}

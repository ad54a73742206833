//! The history store on disk: months of records that Entra itself keeps for 30 days at most.
//!
//! ```text
//! STORE/state.json                                  watermarks per source, format version (state.rs)
//! STORE/lock                                        one writer at a time (lock.rs)
//! STORE/raw/date=YYYY-MM-DD/BATCH.ndjson.gz         every record verbatim as fetched: evidence
//! STORE/parts/date=YYYY-MM-DD/BATCH.parquet         what the batch's records of the day tell of
//!                                                   their attempts (see `columns::parts_frame`)
//! STORE/events/date=YYYY-MM-DD/BATCH.parquet        the normalised events, hive-partitioned by day
//! STORE/journal/date=YYYY-MM-DD.json                a compaction of the day in progress (journal.rs)
//! ```
//!
//! Invariants: a batch's events file is renamed into place after its raw and parts files, so the
//! events file is the commit point. Opening the store for writing finishes or undoes interrupted
//! compactions (compact.rs), then removes temporary files and raw and parts files whose events
//! twin never appeared (their records are fetched again). Records are durable before the
//! watermark moves. A record id is stored at most once: writers dedupe against the ids already
//! in the partitions they touch, readers of events dedupe again. A batch without a parts file
//! (written before they existed) is read from its events.
//!
//! Readers take no lock. They read a day as its listing of events files shows it, less the
//! batches a committed compaction replaced (its journal says which); a file gone before it is
//! read means a compaction finished meanwhile, and the day is listed and read again, so a reader
//! sees every record of a day once, whether a compaction is running, finished or was killed.

mod compact;
mod journal;
mod lock;
mod state;

use std::collections::{BTreeSet, HashSet};
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

use crate::columns::{
    VIEW_COLUMNS, events_frame, events_from_frame, for_each_view, is_parts_table,
};
use crate::fsio::{TEMP_PREFIX, create_private_dir_all, sync_dir, write_durably};
use crate::model::{Event, EventView};
pub use compact::DayCompaction;
pub use lock::{LockError, StoreLock};
pub use state::{BlobSeen, FORMAT, SourceState, State};

const RAW: &str = "raw";
const PARTS: &str = "parts";
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

/// Makes the parts table of a batch's events of one day: the store keeps it, the pipeline knows
/// how to make it.
pub type PartsOf<'a> = &'a dyn Fn(&[Event]) -> PolarsResult<DataFrame>;

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
    /// The partitions this writer has written batches into.
    touched: BTreeSet<String>,
}

/// How often a reader lists a day again when files vanish under it before it gives up.
const READ_TRIES: usize = 20;

/// Why a day could not be read as listed.
enum ReadFailure {
    /// A listed file is gone: a compaction finished meanwhile.
    Vanished,
    Failed(StoreError),
}

impl From<StoreError> for ReadFailure {
    fn from(err: StoreError) -> Self {
        ReadFailure::Failed(err)
    }
}

/// What a report reads of one batch: its parts table, or its events where it has none.
enum BatchTable {
    Parts(DataFrame),
    Events(DataFrame),
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
            touched: BTreeSet::new(),
        };
        if store.state()?.is_none() {
            // The format is stamped before anything else is written, so that an older version
            // refuses the store even if it holds only imported records.
            store.save_state(&State::new())?;
        }
        store
            .finish_compactions()
            .map_err(io("finishing an interrupted compaction"))?;
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
            touched: BTreeSet::new(),
        };
        store.state()?;
        Ok(store)
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
        for (partition, dir) in self.chosen_partitions(Some((from, to)))? {
            for frame in self.read_day(&partition, &dir, |file| {
                self.parquet(file, Some(vec!["id".to_owned()]))
            })? {
                let column = frame
                    .column("id")
                    .and_then(|c| c.str().cloned())
                    .map_err(|source| self.data_error(&dir, source))?;
                ids.extend(column.iter().flatten().map(str::to_owned));
            }
        }
        Ok(ids)
    }

    /// Writes a batch of records durably: per day, the raw archive file, the parts file (made
    /// by `parts_of`), then the events file.
    pub fn write_batch(
        &mut self,
        records: &[StoredRecord],
        parts_of: PartsOf<'_>,
    ) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        let name = self.next_batch_name();
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
            let parts_file = format!("{PARTS}/date={day}/{name}.parquet");
            let events_file = format!("{EVENTS}/date={day}/{name}.parquet");
            let raw_dir = self.dir.join(RAW).join(format!("date={day}"));
            let parts_dir = self.dir.join(PARTS).join(format!("date={day}"));
            let events_dir = self.dir.join(EVENTS).join(format!("date={day}"));
            for (kind, dir) in [(RAW, &raw_dir), (PARTS, &parts_dir), (EVENTS, &events_dir)] {
                create_private_dir_all(dir).map_err(|source| {
                    self.io_error(&format!("creating {kind}/date={day}"), source)
                })?;
            }
            let raw = gzip_lines(in_day.iter().map(|record| record.raw.as_slice()))
                .map_err(|source| self.io_error("compressing the raw archive", source))?;
            write_durably(&self.dir.join(&raw_file), &raw)
                .map_err(|source| self.io_error(&format!("writing {raw_file}"), source))?;
            let events: Vec<Event> = in_day.iter().map(|record| record.event.clone()).collect();
            let parts = parts_of(&events).map_err(|source| self.data_error(&parts_dir, source))?;
            // Every report from the store reads the parts: LZ4 decodes faster than zstd.
            self.write_parquet(parts, &parts_file, ParquetCompression::Lz4Raw)?;
            let events =
                events_frame(&events).map_err(|source| self.data_error(&events_dir, source))?;
            self.write_parquet(events, &events_file, ParquetCompression::default())?;
            debug!("stored {} records for {day} as {name}", in_day.len());
            self.touched.insert(day);
        }
        Ok(())
    }

    /// A batch name no other batch has: the writer's start, process and sequence number.
    fn next_batch_name(&mut self) -> String {
        self.batches += 1;
        format!("{}-{:05}", self.batch_prefix, self.batches)
    }

    /// Writes a table as the Parquet file `file` (relative to the store), durably.
    fn write_parquet(
        &self,
        mut frame: DataFrame,
        file: &str,
        compression: ParquetCompression,
    ) -> Result<(), StoreError> {
        let path = self.dir.join(file);
        let mut parquet = Vec::new();
        ParquetWriter::new(&mut parquet)
            .with_compression(compression)
            .finish(&mut frame)
            .map_err(|source| self.data_error(&path, source))?;
        write_durably(&path, &parquet)
            .map_err(|source| self.io_error(&format!("writing {file}"), source))
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
    /// id once, one day in memory at a time.
    pub fn for_each_event(
        &self,
        days: Option<(NaiveDate, NaiveDate)>,
        mut each: impl FnMut(Event),
    ) -> Result<(), StoreError> {
        let ids = foldhash::fast::RandomState::default();
        let mut seen = HashSet::new();
        for (partition, dir) in self.chosen_partitions(days)? {
            for frame in self.read_day(&partition, &dir, |file| self.parquet(file, None))? {
                let batch =
                    events_from_frame(&frame).map_err(|source| self.data_error(&dir, source))?;
                for event in batch {
                    if seen.insert(ids.hash_one(event.id.as_str())) {
                        each(event);
                    }
                }
            }
        }
        Ok(())
    }

    /// Folds what the store holds of the days `from..=to` (all days when `None`) into states
    /// made by `make`, one per reading thread, for the caller to merge: each batch's parts table
    /// with `parts`, or the views of its events with `view` where the batch has no parts (written
    /// before they existed) or its parts file cannot be read (named in a warning). Only the
    /// event columns attempts read are decoded; each thread reads one day at a time.
    pub fn fold_parts<S: Send>(
        &self,
        days: Option<(NaiveDate, NaiveDate)>,
        make: impl Fn() -> S + Sync,
        parts: impl Fn(&mut S, DataFrame) + Sync,
        view: impl Fn(&mut S, EventView<'_>) + Sync,
    ) -> Result<Vec<S>, StoreError> {
        let partitions = self.chosen_partitions(days)?;
        let next = AtomicUsize::new(0);
        let workers = thread::available_parallelism()
            .map_or(1, usize::from)
            .min(partitions.len())
            .max(1);
        let read = || -> Result<S, StoreError> {
            let mut state = make();
            while let Some((partition, dir)) = partitions.get(next.fetch_add(1, Ordering::Relaxed))
            {
                for table in self.read_day(partition, dir, |file| self.batch_table(file))? {
                    match table {
                        BatchTable::Parts(table) => parts(&mut state, table),
                        BatchTable::Events(frame) => {
                            for_each_view(&frame, |_, each| view(&mut state, each))
                                .map_err(|source| self.data_error(dir, source))?;
                        }
                    }
                }
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

    /// A batch's parts table, or the event columns attempts read where it has none.
    fn batch_table(&self, events_file: &Path) -> Result<BatchTable, ReadFailure> {
        let parts_file = self.parts_twin(events_file);
        match self.parquet(&parts_file, None) {
            Ok(table) if is_parts_table(&table).unwrap_or(false) => {
                return Ok(BatchTable::Parts(table));
            }
            Ok(_) => warn!(
                "{}: not a parts table of this version; reading the batch's events instead",
                parts_file.display()
            ),
            Err(ReadFailure::Failed(err)) => warn!("{err}; reading the batch's events instead"),
            // A batch written before parts existed; or its parts just removed by a compaction,
            // then its events are gone too and reading them says so.
            Err(ReadFailure::Vanished) => {}
        }
        let columns = VIEW_COLUMNS.map(str::to_owned).to_vec();
        self.parquet(events_file, Some(columns))
            .map(BatchTable::Events)
    }

    /// Reads every committed batch of a day with `read`, given its events file. When a file
    /// vanishes under the reader (a compaction finished meanwhile), the day is listed and read
    /// again; nothing of a failed reading is kept.
    fn read_day<T>(
        &self,
        partition: &str,
        dir: &Path,
        read: impl Fn(&Path) -> Result<T, ReadFailure>,
    ) -> Result<Vec<T>, StoreError> {
        for _ in 0..READ_TRIES {
            let mut tables = Vec::new();
            let mut vanished = false;
            for file in self.batch_files(partition, dir)? {
                match read(&file) {
                    Ok(table) => tables.push(table),
                    Err(ReadFailure::Vanished) => {
                        debug!("{} is gone: reading {partition} again", file.display());
                        vanished = true;
                        break;
                    }
                    Err(ReadFailure::Failed(err)) => return Err(err),
                }
            }
            if !vanished {
                return Ok(tables);
            }
        }
        Err(self.io_error(
            &format!("reading {partition}"),
            io::Error::other(format!(
                "its files kept changing while it was read ({READ_TRIES} times)"
            )),
        ))
    }

    /// A Parquet file of the store, read whole or its `columns`.
    fn parquet(&self, path: &Path, columns: Option<Vec<String>>) -> Result<DataFrame, ReadFailure> {
        let file = match File::open(path) {
            Ok(file) => file,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Err(ReadFailure::Vanished),
            Err(source) => {
                return Err(self
                    .io_error(&format!("opening {}", path.display()), source)
                    .into());
            }
        };
        ParquetReader::new(file)
            .with_columns(columns)
            .read_parallel(ParallelStrategy::None)
            .finish()
            .map_err(|source| self.data_error(path, source).into())
    }

    /// The parts file of a batch's events file.
    fn parts_twin(&self, events_file: &Path) -> PathBuf {
        let relative = events_file
            .strip_prefix(self.dir.join(EVENTS))
            .unwrap_or(events_file);
        self.dir.join(PARTS).join(relative)
    }

    /// `(value, path)` of the events partitions of the days `from..=to` (all when `None`; the
    /// partition of events without a time belongs to every range), in order.
    fn chosen_partitions(
        &self,
        days: Option<(NaiveDate, NaiveDate)>,
    ) -> Result<Vec<(String, PathBuf)>, StoreError> {
        let mut partitions = self.partitions(EVENTS)?;
        partitions.retain(|(partition, _)| {
            match (days, NaiveDate::parse_from_str(partition, "%Y-%m-%d")) {
                (None, _) => true,
                (Some((from, to)), Ok(day)) => from <= day && day <= to,
                (Some(_), Err(_)) => partition == NO_DATE,
            }
        });
        Ok(partitions)
    }

    /// The events files of a day's committed batches, in name order: the listing first, then
    /// the journal (see `journal::committed`).
    fn batch_files(&self, partition: &str, dir: &Path) -> Result<Vec<PathBuf>, StoreError> {
        let files = self.files_in(dir, ".parquet")?;
        let journal = journal::read(&self.dir, partition)
            .map_err(|source| self.io_error("reading a compaction journal", source))?;
        Ok(journal::committed(files, journal.as_ref()))
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

    /// Removes temporary files, and raw and parts files whose batch never reached its events file.
    fn recover(&self) -> io::Result<()> {
        for kind in [RAW, PARTS, EVENTS] {
            for (partition, dir) in self
                .partitions(kind)
                .map_err(|err| io::Error::other(err.to_string()))?
            {
                for entry in fs::read_dir(&dir)? {
                    let entry = entry?;
                    let name = entry.file_name().to_string_lossy().into_owned();
                    let batch = match kind {
                        RAW => name.strip_suffix(".ndjson.gz"),
                        PARTS => name.strip_suffix(".parquet"),
                        _ => None,
                    };
                    let orphan = batch.is_some_and(|batch| {
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
    use crate::transformer::attempts::attempt_parts;
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
            .write_batch(
                &[record("a", 1), record("b", 2), record("c", 2)],
                &attempt_parts,
            )
            .unwrap();
        store
            .write_batch(&[record("d", 3)], &attempt_parts)
            .unwrap();
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

    /// What `fold_parts` hands over: the keys of the parts tables, and the ids of the events
    /// it read instead.
    fn folded(store: &Store, days: Option<(NaiveDate, NaiveDate)>) -> (Vec<String>, Vec<String>) {
        let folds = store
            .fold_parts(
                days,
                || (Vec::new(), Vec::new()),
                |(keys, _): &mut (Vec<String>, Vec<String>), table| {
                    let column = table.column("key").unwrap().str().unwrap().clone();
                    keys.extend(column.iter().flatten().map(str::to_owned));
                },
                |(_, ids), view| {
                    assert_eq!(view.kind, ActivityKind::SelfServiceReset);
                    ids.push(view.id.into_owned());
                },
            )
            .unwrap();
        let (mut keys, mut ids): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
        for (fold_keys, fold_ids) in folds {
            keys.extend(fold_keys);
            ids.extend(fold_ids);
        }
        keys.sort();
        ids.sort();
        (keys, ids)
    }

    #[test]
    fn parts_of_the_chosen_days_are_read_and_events_where_a_batch_has_none() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open_for_writing(dir.path()).unwrap();
        store
            .write_batch(
                &[record("a", 1), record("b", 2), record("c", 2)],
                &attempt_parts,
            )
            .unwrap();
        store
            .write_batch(&[record("d", 3), record("e", 2)], &attempt_parts)
            .unwrap();
        let none = Vec::<String>::new();
        assert_eq!(
            folded(&store, None),
            (
                ["c-a", "c-b", "c-c", "c-d", "c-e"]
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
                none.clone()
            )
        );
        assert_eq!(
            folded(&store, Some((day(2), day(2)))).0,
            ["c-b", "c-c", "c-e"]
        );
        // A batch written before parts existed, and one whose parts file is not a parts table.
        let parts = dir.path().join("parts/date=2026-10-02");
        let mut files: Vec<PathBuf> = fs::read_dir(&parts)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect();
        files.sort();
        fs::remove_file(&files[0]).unwrap();
        fs::write(&files[1], b"not parquet").unwrap();
        let (keys, ids) = folded(&store, Some((day(2), day(2))));
        assert_eq!(
            (keys, ids),
            (none, vec!["b".to_owned(), "c".into(), "e".into()])
        );
    }

    #[test]
    fn a_second_writer_is_locked_out_but_readers_are_not() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            Store::open_for_reading(dir.path()),
            Err(StoreError::Missing { .. })
        ));
        let mut writer = Store::open_for_writing(dir.path()).unwrap();
        writer
            .write_batch(&[record("a", 1)], &attempt_parts)
            .unwrap();
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
            store
                .write_batch(&[record("a", 1)], &attempt_parts)
                .unwrap();
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
            watermark: Some(Utc::now()),
            service: None,
            services: vec!["x".into(), "y".into()],
            ..State::new()
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

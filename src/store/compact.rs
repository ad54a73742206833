//! Compaction: each chosen day's batches become one batch (raw, parts and events files), holding
//! the same records, each id once, so that a report reads one parts table per day with one
//! part per correlation id instead of one per batch.
//!
//! The protocol, one day at a time, under the store's lock:
//! 1. the journal `journal/date=D.json` names the new batch and the batches it replaces;
//! 2. the new raw file (the replaced raw files' gzip members, concatenated) and the new parts
//!    file (made from the day's events) are written;
//! 3. the new events file is written: the commit point, as for any batch;
//! 4. the replaced batches' files go, events first, then parts and raw;
//! 5. the journal goes.
//!
//! A reader lists the day's events files, then reads the journal: a journal whose new batch is
//! listed hides the batches it replaces (see [`super::journal::committed`]); a file gone
//! between the listing and its reading means a compaction finished meanwhile, and the day is
//! listed again. [`Store::finish_compactions`], run when the store is opened for writing, rolls
//! an interrupted compaction forward (its events file exists: step 4 and 5 again) or back (it
//! does not: the new raw and parts files go, then the journal).

use std::collections::{BTreeSet, HashSet};
use std::fs::{self, File};
use std::io;
use std::path::Path;

use chrono::NaiveDate;
use polars::prelude::*;

use super::journal::{self, Journal, batch_of};
use super::{EVENTS, PARTS, PartsOf, RAW, Store, StoreError};
use crate::columns::{events_frame, events_from_frame};
use crate::fsio::{create_private_dir_all, sync_dir, write_durably};
use crate::model::Event;

/// What compacting one day did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayCompaction {
    /// The partition: a UTC day, or `unknown` for events without a time.
    pub day: String,
    pub files_before: usize,
    pub files_after: usize,
    /// Attempt parts in the day's parts files (a batch without one counts none).
    pub parts_before: usize,
    pub parts_after: usize,
    /// The day's records, each id once.
    pub records: usize,
}

impl Store {
    /// Compacts the days `from..=to` (every day when `None`) that hold more than one batch, or
    /// a batch without a parts file; `parts_of` makes a day's parts table from its events.
    pub fn compact(
        &mut self,
        days: Option<(NaiveDate, NaiveDate)>,
        parts_of: PartsOf<'_>,
    ) -> Result<Vec<DayCompaction>, StoreError> {
        let partitions = self.chosen_partitions(days)?;
        self.compact_partitions(partitions, parts_of)
    }

    /// Compacts the days this writer has written batches into, where worth it (as [`Self::compact`]).
    pub fn compact_touched(
        &mut self,
        parts_of: PartsOf<'_>,
    ) -> Result<Vec<DayCompaction>, StoreError> {
        let touched: BTreeSet<String> = std::mem::take(&mut self.touched);
        let partitions = self
            .partitions(EVENTS)?
            .into_iter()
            .filter(|(partition, _)| touched.contains(partition))
            .collect();
        self.compact_partitions(partitions, parts_of)
    }

    fn compact_partitions(
        &mut self,
        partitions: Vec<(String, std::path::PathBuf)>,
        parts_of: PartsOf<'_>,
    ) -> Result<Vec<DayCompaction>, StoreError> {
        let mut done = Vec::new();
        for (partition, dir) in partitions {
            if let Some(day) = self.compact_day(&partition, &dir, parts_of)? {
                done.push(day);
            }
        }
        Ok(done)
    }

    /// Compacts one day when it holds more than one batch or a batch without parts.
    fn compact_day(
        &mut self,
        partition: &str,
        events_dir: &Path,
        parts_of: PartsOf<'_>,
    ) -> Result<Option<DayCompaction>, StoreError> {
        let files = self.batch_files(partition, events_dir)?;
        let batches: Vec<String> = files
            .iter()
            .filter_map(|file| batch_of(file).map(str::to_owned))
            .collect();
        let parts_dir = self.dir.join(PARTS).join(format!("date={partition}"));
        let raw_dir = self.dir.join(RAW).join(format!("date={partition}"));
        let mut parts_before = 0;
        let mut every_batch_has_parts = true;
        for batch in &batches {
            match parts_rows(&parts_dir.join(format!("{batch}.parquet"))) {
                Some(rows) => parts_before += rows,
                None => every_batch_has_parts = false,
            }
        }
        if batches.len() < 2 && every_batch_has_parts {
            return Ok(None);
        }
        let mut seen = HashSet::new();
        let mut events: Vec<Event> = Vec::new();
        for frame in self.read_day(partition, events_dir, |file| self.parquet(file, None))? {
            let batch =
                events_from_frame(&frame).map_err(|source| self.data_error(events_dir, source))?;
            events.extend(
                batch
                    .into_iter()
                    .filter(|event| seen.insert(event.id.clone())),
            );
        }
        let mut raw = Vec::new();
        for batch in &batches {
            match fs::read(raw_dir.join(format!("{batch}.ndjson.gz"))) {
                // Gzip members concatenated are one gzip stream of their contents.
                Ok(bytes) => raw.extend(bytes),
                Err(err) if err.kind() == io::ErrorKind::NotFound => {}
                Err(source) => return Err(self.io_error("reading the raw archive", source)),
            }
        }
        let journal = Journal {
            new: self.next_batch_name(),
            replaces: batches.clone(),
        };
        journal::write(&self.dir, partition, &journal).map_err(|source| {
            self.io_error(&format!("writing the journal of {partition}"), source)
        })?;
        crash_point("journal");
        let parts_after = match self.replace_batches(partition, &journal, &raw, &events, parts_of) {
            Ok(parts_after) => parts_after,
            Err(err) => {
                // Undone now (or finished, had it committed) rather than at the next open.
                if let Err(cleanup) = self.finish_compactions() {
                    tracing::warn!(
                        "{cleanup}: the next writer finishes the compaction of {partition}"
                    );
                }
                return Err(err);
            }
        };
        crash_point("done");
        Ok(Some(DayCompaction {
            day: partition.to_owned(),
            files_before: batches.len(),
            files_after: 1,
            parts_before,
            parts_after,
            records: events.len(),
        }))
    }

    /// Steps 2 to 5 of a day's compaction, the journal written: the new batch, its commit, the
    /// old batches' removal, the journal's. Returns the new batch's parts.
    fn replace_batches(
        &self,
        partition: &str,
        journal: &Journal,
        raw: &[u8],
        events: &[Event],
        parts_of: PartsOf<'_>,
    ) -> Result<usize, StoreError> {
        let day = format!("date={partition}");
        let new = &journal.new;
        if !raw.is_empty() {
            create_private_dir_all(&self.dir.join(RAW).join(&day))
                .map_err(|source| self.io_error("creating a raw partition", source))?;
            let file = format!("{RAW}/{day}/{new}.ndjson.gz");
            write_durably(&self.dir.join(&file), raw)
                .map_err(|source| self.io_error(&format!("writing {file}"), source))?;
        }
        crash_point("raw");
        let parts_dir = self.dir.join(PARTS).join(&day);
        let parts = parts_of(events).map_err(|source| self.data_error(&parts_dir, source))?;
        let height = parts.height();
        create_private_dir_all(&parts_dir)
            .map_err(|source| self.io_error("creating a parts partition", source))?;
        let file = format!("{PARTS}/{day}/{new}.parquet");
        self.write_parquet(parts, &file, ParquetCompression::Lz4Raw)?;
        crash_point("parts");
        let file = format!("{EVENTS}/{day}/{new}.parquet");
        let frame = events_frame(events)
            .map_err(|source| self.data_error(&self.dir.join(&file), source))?;
        self.write_parquet(frame, &file, ParquetCompression::default())?;
        crash_point("committed");
        self.remove_batches(partition, &journal.replaces)
            .map_err(|source| {
                self.io_error(
                    &format!("removing the batches {partition} replaced"),
                    source,
                )
            })?;
        journal::remove(&self.dir, partition).map_err(|source| {
            self.io_error(&format!("removing the journal of {partition}"), source)
        })?;
        Ok(height)
    }

    /// Removes batches of a day: every events file first (readers stop seeing them), then their
    /// parts and raw files.
    fn remove_batches(&self, partition: &str, batches: &[String]) -> io::Result<()> {
        let day = format!("date={partition}");
        for (kind, suffix) in [
            (EVENTS, ".parquet"),
            (PARTS, ".parquet"),
            (RAW, ".ndjson.gz"),
        ] {
            let dir = self.dir.join(kind).join(&day);
            for batch in batches {
                match fs::remove_file(dir.join(format!("{batch}{suffix}"))) {
                    Ok(()) => crash_point("removing"),
                    Err(err) if err.kind() == io::ErrorKind::NotFound => {}
                    Err(err) => return Err(err),
                }
            }
            if dir.is_dir() {
                sync_dir(&dir)?;
            }
        }
        Ok(())
    }

    /// Finishes what interrupted compactions left: forward where the new batch was committed,
    /// back where it was not; then the journal goes.
    pub(super) fn finish_compactions(&self) -> io::Result<()> {
        for partition in journal::pending(&self.dir)? {
            let Some(journal) = journal::read(&self.dir, &partition)? else {
                continue;
            };
            let day = format!("date={partition}");
            let committed = self
                .dir
                .join(EVENTS)
                .join(&day)
                .join(format!("{}.parquet", journal.new))
                .exists();
            if committed {
                tracing::warn!(
                    "finishing the compaction of {partition} an interrupted run committed"
                );
                self.remove_batches(&partition, &journal.replaces)?;
            } else {
                tracing::warn!(
                    "undoing the compaction of {partition} an interrupted run began; its batches stay"
                );
                self.remove_batches(&partition, std::slice::from_ref(&journal.new))?;
            }
            journal::remove(&self.dir, &partition)?;
        }
        Ok(())
    }
}

/// The rows of a parts file, `None` if it is missing or unreadable.
fn parts_rows(path: &Path) -> Option<usize> {
    let file = File::open(path).ok()?;
    ParquetReader::new(file).num_rows().ok()
}

/// Stops the process with SIGKILL when `SSPRLENS_CRASH_AT` names this point, at its
/// `SSPRLENS_CRASH_AFTER`-th passage (default the first): the crash tests' kill -9, built into
/// test builds only.
#[cfg(feature = "test-support")]
fn crash_point(point: &str) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static PASSED: AtomicUsize = AtomicUsize::new(0);
    if std::env::var("SSPRLENS_CRASH_AT").ok().as_deref() != Some(point) {
        return;
    }
    let nth: usize = std::env::var("SSPRLENS_CRASH_AFTER")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    if PASSED.fetch_add(1, Ordering::SeqCst) + 1 == nth {
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &std::process::id().to_string()])
            .status();
        loop {
            std::thread::sleep(std::time::Duration::from_secs(1));
        }
    }
}

#[cfg(not(feature = "test-support"))]
fn crash_point(_: &str) {}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::PathBuf;

    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::model::ActivityKind;
    use crate::store::StoredRecord;
    use crate::transformer::attempts::attempt_parts;

    fn record(id: &str, correlation: &str, day: u32) -> StoredRecord {
        let event = Event {
            id: id.into(),
            time: Some(Utc.with_ymd_and_hms(2026, 10, day, 8, 0, 0).unwrap()),
            activity: Some("Reset password (self-service)".into()),
            kind: ActivityKind::SelfServiceReset,
            result: Some("success".into()),
            correlation_id: Some(correlation.into()),
            ..Event::default()
        };
        StoredRecord {
            event,
            raw: format!("{{\"id\": \"{id}\"}}").into_bytes(),
        }
    }

    /// A store of three batches: two share day 1 and a correlation id on it, one day 2.
    fn store_of_batches(dir: &Path) {
        let mut store = Store::open_for_writing(dir).unwrap();
        let batches = [
            vec![
                record("a", "x", 1),
                record("b", "y", 1),
                record("c", "z", 2),
            ],
            vec![record("d", "x", 1), record("e", "w", 1)],
            vec![record("f", "v", 1)],
        ];
        for batch in &batches {
            store.write_batch(batch, &attempt_parts).unwrap();
        }
    }

    /// Every file of a store (but the lock), relative to it.
    fn files(dir: &Path) -> BTreeSet<PathBuf> {
        walkdir::WalkDir::new(dir)
            .into_iter()
            .map(|entry| entry.unwrap())
            .filter(|entry| entry.file_type().is_file() && entry.file_name() != "lock")
            .map(|entry| entry.path().strip_prefix(dir).unwrap().to_path_buf())
            .collect()
    }

    fn copy(files: &BTreeSet<PathBuf>, from: &Path, to: &Path) {
        for file in files {
            fs::create_dir_all(to.join(file).parent().unwrap()).unwrap();
            fs::copy(from.join(file), to.join(file)).unwrap();
        }
    }

    /// What a reader sees: the ids of the events (sorted, with repeats) and the correlation ids
    /// of the attempt parts with their row counts summed.
    fn seen(dir: &Path) -> (Vec<String>, Vec<(String, u32)>) {
        let store = Store::open_for_reading(dir).unwrap();
        let mut ids = Vec::new();
        for (partition, dir) in store.chosen_partitions(None).unwrap() {
            for frame in store
                .read_day(&partition, &dir, |file| store.parquet(file, None))
                .unwrap()
            {
                ids.extend(
                    events_from_frame(&frame)
                        .unwrap()
                        .into_iter()
                        .map(|event| event.id),
                );
            }
        }
        ids.sort();
        let folds = store
            .fold_parts(
                None,
                Vec::new,
                |keys: &mut Vec<(String, u32)>, table| {
                    crate::columns::for_each_part(&table, |part| {
                        keys.push((part.key.to_owned(), part.rows))
                    })
                    .unwrap();
                },
                |_, _| panic!("every batch has parts"),
            )
            .unwrap();
        let mut rows: std::collections::BTreeMap<String, u32> = Default::default();
        for (key, count) in folds.into_iter().flatten() {
            *rows.entry(key).or_default() += count;
        }
        (ids, rows.into_iter().collect())
    }

    #[test]
    fn compaction_keeps_every_record_once_in_one_batch_a_day() {
        let dir = tempfile::tempdir().unwrap();
        store_of_batches(dir.path());
        let before = seen(dir.path());
        assert_eq!(before.0, ["a", "b", "c", "d", "e", "f"]);
        assert_eq!(
            before.1,
            [
                ("v".into(), 1),
                ("w".into(), 1),
                ("x".into(), 2),
                ("y".into(), 1),
                ("z".into(), 1)
            ]
        );
        let mut store = Store::open_for_writing(dir.path()).unwrap();
        let days = store.compact(None, &attempt_parts).unwrap();
        // Day 2 is one batch already.
        assert_eq!(
            days,
            [DayCompaction {
                day: "2026-10-01".into(),
                files_before: 3,
                files_after: 1,
                parts_before: 5,
                parts_after: 4,
                records: 5,
            }]
        );
        assert_eq!(seen(dir.path()), before);
        let day = |kind: &str| {
            fs::read_dir(dir.path().join(kind).join("date=2026-10-01"))
                .unwrap()
                .count()
        };
        assert_eq!((day(RAW), day(PARTS), day(EVENTS)), (1, 1, 1));
        assert!(journal::pending(dir.path()).unwrap().is_empty());
        // The raw evidence: every line once, readable as one gzip stream.
        let raw = fs::read_dir(dir.path().join("raw/date=2026-10-01"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let mut text = String::new();
        io::Read::read_to_string(
            &mut flate2::read::MultiGzDecoder::new(File::open(raw).unwrap()),
            &mut text,
        )
        .unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        lines.sort();
        assert_eq!(
            lines,
            [
                "{\"id\": \"a\"}",
                "{\"id\": \"b\"}",
                "{\"id\": \"d\"}",
                "{\"id\": \"e\"}",
                "{\"id\": \"f\"}"
            ]
        );
        // Nothing left to do.
        assert!(store.compact(None, &attempt_parts).unwrap().is_empty());
    }

    /// Every state a compaction killed between two of its steps leaves: readers see each record
    /// once before recovery, and recovery leaves the old batches (before the commit) or the new
    /// one (after), without a journal.
    #[test]
    fn a_compaction_interrupted_at_any_step_reads_whole_and_recovers() {
        let original = tempfile::tempdir().unwrap();
        store_of_batches(original.path());
        let expected = seen(original.path());
        let before = files(original.path());
        let compacted = tempfile::tempdir().unwrap();
        copy(&before, original.path(), compacted.path());
        let mut store = Store::open_for_writing(compacted.path()).unwrap();
        store.compact(None, &attempt_parts).unwrap();
        drop(store);
        let after = files(compacted.path());
        let new: Vec<&PathBuf> = after.difference(&before).collect();
        let old: Vec<&PathBuf> = before.difference(&after).collect();
        let of_kind = |files: &[&PathBuf], kind: &str| -> Vec<PathBuf> {
            files
                .iter()
                .filter(|file| file.starts_with(kind))
                .map(|file| file.to_path_buf())
                .collect()
        };
        let new_batch = batch_of(new[0]).unwrap().to_owned();
        let replaced: Vec<String> = of_kind(&old, EVENTS)
            .iter()
            .map(|file| batch_of(file).unwrap().to_owned())
            .collect();
        assert_eq!(replaced.len(), 3);
        let journal_file = PathBuf::from("journal/date=2026-10-01.json");
        let journal_text = serde_json::to_vec(&Journal {
            new: new_batch,
            replaces: replaced,
        })
        .unwrap();
        // (files added, files removed) at each step, cumulatively.
        let (new_raw, new_parts, new_events) = (
            of_kind(&new, RAW),
            of_kind(&new, PARTS),
            of_kind(&new, EVENTS),
        );
        let (old_raw, old_parts, old_events) = (
            of_kind(&old, RAW),
            of_kind(&old, PARTS),
            of_kind(&old, EVENTS),
        );
        let steps: Vec<(Vec<PathBuf>, Vec<PathBuf>, bool)> = vec![
            (vec![], vec![], false),
            (new_raw.clone(), vec![], false),
            ([new_raw.clone(), new_parts.clone()].concat(), vec![], false),
            (
                [new_raw.clone(), new_parts.clone(), new_events.clone()].concat(),
                vec![],
                true,
            ),
            (
                new.iter().map(|f| f.to_path_buf()).collect(),
                old_events[..1].to_vec(),
                true,
            ),
            (
                new.iter().map(|f| f.to_path_buf()).collect(),
                old_events.clone(),
                true,
            ),
            (
                new.iter().map(|f| f.to_path_buf()).collect(),
                [old_events.clone(), old_parts[..2].to_vec()].concat(),
                true,
            ),
            (
                new.iter().map(|f| f.to_path_buf()).collect(),
                [old_events.clone(), old_parts.clone(), old_raw.clone()].concat(),
                true,
            ),
        ];
        for (step, (added, removed, committed)) in steps.into_iter().enumerate() {
            let crashed = tempfile::tempdir().unwrap();
            copy(&before, original.path(), crashed.path());
            copy(
                &added.iter().cloned().collect(),
                compacted.path(),
                crashed.path(),
            );
            for file in &removed {
                fs::remove_file(crashed.path().join(file)).unwrap();
            }
            fs::create_dir_all(crashed.path().join(journal::JOURNAL)).unwrap();
            fs::write(crashed.path().join(&journal_file), &journal_text).unwrap();
            assert_eq!(seen(crashed.path()), expected, "a reader after step {step}");
            drop(Store::open_for_writing(crashed.path()).unwrap());
            let recovered = files(crashed.path());
            let wanted = if committed { &after } else { &before };
            assert_eq!(&recovered, wanted, "recovered after step {step}");
            assert_eq!(
                seen(crashed.path()),
                expected,
                "a reader after recovery from step {step}"
            );
        }
    }
}

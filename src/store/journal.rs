//! `STORE/journal/date=YYYY-MM-DD.json`: a compaction of one day in progress, naming the batch
//! it writes and the batches that batch replaces.
//!
//! A journal is written (durably) before the new batch's first file and removed after the last
//! replaced file is gone, so while any replaced file and the new events file coexist, the
//! journal is there to say which wins: the new batch once its events file exists (committed),
//! the replaced ones before. [`committed`] applies that rule to a day's listing; the writer's
//! recovery ([`super::Store::open_for_writing`]) rolls an interrupted compaction forward or back
//! by the same rule.

use std::collections::HashSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::fsio::{TEMP_PREFIX, create_private_dir_all, sync_dir, write_durably};

pub(super) const JOURNAL: &str = "journal";

/// A compaction of one day: the batch it writes and the batches whose records that batch holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Journal {
    pub new: String,
    pub replaces: Vec<String>,
}

fn path(store: &Path, partition: &str) -> PathBuf {
    store.join(JOURNAL).join(format!("date={partition}.json"))
}

/// The journal of a day, if a compaction of it is in progress (or was interrupted).
pub(super) fn read(store: &Path, partition: &str) -> io::Result<Option<Journal>> {
    let path = path(store, partition);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(err),
    };
    serde_json::from_slice(&bytes).map(Some).map_err(|err| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{} is damaged ({err}); a compaction journal is only ever written whole",
                path.display()
            ),
        )
    })
}

/// Writes a day's journal durably.
pub(super) fn write(store: &Path, partition: &str, journal: &Journal) -> io::Result<()> {
    create_private_dir_all(&store.join(JOURNAL))?;
    sync_dir(store)?;
    let mut bytes = serde_json::to_vec_pretty(journal).expect("a journal serialises");
    bytes.push(b'\n');
    write_durably(&path(store, partition), &bytes)
}

/// Removes a day's journal durably: the compaction it named is over.
pub(super) fn remove(store: &Path, partition: &str) -> io::Result<()> {
    fs::remove_file(path(store, partition))?;
    sync_dir(&store.join(JOURNAL))
}

/// The days with a journal, removing a journal's temporary files left by a crash.
pub(super) fn pending(store: &Path) -> io::Result<Vec<String>> {
    let dir = store.join(JOURNAL);
    let entries = match fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(err),
    };
    let mut days = Vec::new();
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(TEMP_PREFIX) {
            fs::remove_file(entry.path())?;
            sync_dir(&dir)?;
        } else if let Some(day) = name
            .strip_prefix("date=")
            .and_then(|name| name.strip_suffix(".json"))
        {
            days.push(day.to_owned());
        }
    }
    days.sort();
    Ok(days)
}

/// The batch name of a store file: its name without the extension.
pub(super) fn batch_of(file: &Path) -> Option<&str> {
    let name = file.file_name()?.to_str()?;
    name.strip_suffix(".parquet")
        .or_else(|| name.strip_suffix(".ndjson.gz"))
}

/// The committed batches of a day's listing of events files, given the day's journal read
/// after the listing: a journal whose new batch is listed hides the batches it replaces.
pub(super) fn committed(files: Vec<PathBuf>, journal: Option<&Journal>) -> Vec<PathBuf> {
    let Some(journal) = journal else {
        return files;
    };
    if !files
        .iter()
        .any(|file| batch_of(file) == Some(journal.new.as_str()))
    {
        return files;
    }
    let replaced: HashSet<&str> = journal.replaces.iter().map(String::as_str).collect();
    files
        .into_iter()
        .filter(|file| !batch_of(file).is_some_and(|batch| replaced.contains(batch)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(names: &[&str]) -> Vec<PathBuf> {
        names
            .iter()
            .map(|name| PathBuf::from(format!("events/date=2026-10-01/{name}.parquet")))
            .collect()
    }

    #[test]
    fn a_journal_hides_what_it_replaces_only_once_its_batch_is_listed() {
        let journal = Journal {
            new: "c".into(),
            replaces: vec!["a".into(), "b".into()],
        };
        // Before the commit: the replaced batches are the day.
        assert_eq!(
            committed(files(&["a", "b", "d"]), Some(&journal)),
            files(&["a", "b", "d"])
        );
        // Committed, some replaced files still there, or none.
        assert_eq!(
            committed(files(&["a", "b", "c", "d"]), Some(&journal)),
            files(&["c", "d"])
        );
        assert_eq!(committed(files(&["b", "c"]), Some(&journal)), files(&["c"]));
        assert_eq!(committed(files(&["a", "b"]), None), files(&["a", "b"]));
    }

    #[test]
    fn journals_round_trip_and_damage_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read(dir.path(), "2026-10-01").unwrap(), None);
        assert!(pending(dir.path()).unwrap().is_empty());
        let journal = Journal {
            new: "c".into(),
            replaces: vec!["a".into()],
        };
        write(dir.path(), "2026-10-01", &journal).unwrap();
        fs::write(dir.path().join("journal/.tmp-half"), b"{").unwrap();
        assert_eq!(read(dir.path(), "2026-10-01").unwrap(), Some(journal));
        assert_eq!(pending(dir.path()).unwrap(), ["2026-10-01"]);
        assert!(!dir.path().join("journal/.tmp-half").exists());
        fs::write(dir.path().join("journal/date=2026-10-02.json"), b"{\"new\"").unwrap();
        assert_eq!(
            read(dir.path(), "2026-10-02").unwrap_err().kind(),
            io::ErrorKind::InvalidData
        );
        remove(dir.path(), "2026-10-01").unwrap();
        assert_eq!(read(dir.path(), "2026-10-01").unwrap(), None);
    }
}

//! The store's lock: one fetch writes a store at a time.
//!
//! An OS file lock on `STORE/lock` (released by the kernel when the holder dies, so a crashed
//! run never blocks the next one). The file names its holder; a file still naming one when the
//! lock is free is the trace of a crashed run, reported as recovered.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;

use tracing::warn;

/// Held while the store is being written; released on drop.
#[derive(Debug)]
pub struct StoreLock {
    file: File,
}

/// Why the lock could not be taken.
#[derive(Debug)]
pub enum LockError {
    /// Another process holds it; its description as written in the lock file.
    Held(String),
    Io(io::Error),
}

impl StoreLock {
    /// Takes the lock at `path` without waiting.
    pub fn acquire(path: &Path) -> Result<StoreLock, LockError> {
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(path).map_err(LockError::Io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                return Err(LockError::Held(holder.trim().to_owned()));
            }
            Err(TryLockError::Error(err)) => return Err(LockError::Io(err)),
        }
        let mut previous = String::new();
        file.read_to_string(&mut previous).map_err(LockError::Io)?;
        if !previous.trim().is_empty() {
            warn!(
                "recovered a stale store lock left by a run that did not finish ({})",
                previous.trim()
            );
        }
        let holder = format!(
            "pid {} on {} since {}",
            std::process::id(),
            hostname(),
            chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        file.set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| file.write_all(holder.as_bytes()))
            .and_then(|()| file.sync_all())
            .map_err(LockError::Io)?;
        Ok(StoreLock { file })
    }
}

impl Drop for StoreLock {
    fn drop(&mut self) {
        // An empty lock file means the last holder finished cleanly.
        let _ = self.file.set_len(0).and_then(|()| self.file.sync_all());
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .unwrap_or_else(|_| "this host".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_and_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lock");
        let first = StoreLock::acquire(&path).unwrap();
        match StoreLock::acquire(&path) {
            Err(LockError::Held(holder)) => assert!(
                holder.contains(&format!("pid {}", std::process::id())),
                "{holder}"
            ),
            other => panic!("{other:?}"),
        }
        drop(first);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "");
        StoreLock::acquire(&path).unwrap();
    }

    #[test]
    fn a_lock_file_left_by_a_crash_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lock");
        std::fs::write(&path, "pid 4242 on elsewhere since 2026-11-01T00:00:00Z").unwrap();
        let _lock = StoreLock::acquire(&path).unwrap();
        assert!(
            std::fs::read_to_string(&path)
                .unwrap()
                .starts_with(&format!("pid {}", std::process::id()))
        );
    }
}

//! `ssprlens import --input az://…` and `run --archive`: storage-account archive → records →
//! events → store, incrementally.
//!
//! Each location is listed; a blob whose name, ETag and size the store remembers is skipped, any
//! other is read whole again (an hourly blob that grew is read again, its records already stored
//! skipped by id). A blob streams through the file readers in chunks (a bounded channel between
//! the download and the reader; gzip is recognised as in files); its lines that are no record (a truncated last line, malformed
//! JSON) are rejects named `az://CONTAINER/BLOB:LINE`. Only rows of the services and activities
//! the Log Analytics query selects are stored (an archive container holds the whole directory's
//! audit log). A blob is remembered once its records are written; the state is saved every few
//! blobs and at the end, so an interrupted import reads at most those blobs again.

use std::collections::HashSet;
use std::io::{self, Read};
use std::sync::Arc;

use tracing::{info, warn};

use super::RejectLog;
use crate::config::ArchiveConfig;
use crate::error::Error;
use crate::fetcher::archive::Archive;
use crate::fetcher::files::{self, Item};
use crate::fetcher::graph::FetchError;
use crate::fetcher::log_analytics::kql;
use crate::storage::Container;
use crate::store::{BlobSeen, State, Store, StoredRecord};
use crate::transformer::attempts::attempt_parts;
use crate::transformer::event::normalize;

/// Records written to the store at a time.
const FLUSH_RECORDS: usize = 10_000;
/// Blobs between two saves of the state.
const SAVE_EVERY_BLOBS: usize = 50;
/// Chunks a download may run ahead of the reader.
const CHUNKS_AHEAD: usize = 8;

/// What an archive import did.
#[derive(Debug, Default, Clone)]
pub struct ArchiveOutcome {
    pub blobs_listed: u64,
    pub blobs_read: u64,
    pub blobs_unchanged: u64,
    pub stored: u64,
    pub already_stored: u64,
    /// Rows of other services or activities, left out.
    pub unselected: u64,
}

/// Imports every location into the store; `known` holds the ids the store has.
pub async fn import_archives(
    config: &ArchiveConfig,
    store: &mut Store,
    known: &mut HashSet<String>,
    rejects: &mut RejectLog,
) -> Result<ArchiveOutcome, Error> {
    let mut outcome = ArchiveOutcome::default();
    for location in &config.locations {
        let archive = Arc::new(Archive::new(
            Container::open(location, &config.access, config.timeout).map_err(Error::Usage)?,
        ));
        let blobs = archive.list().await.map_err(storage_failure)?;
        info!(
            "{}: {} blobs, reading with {}",
            location.key(),
            blobs.len(),
            config.access.describe()
        );
        let key = State::archive_key(&location.key());
        let mut seen = store
            .state()?
            .and_then(|mut state| state.sources.remove(&key))
            .unwrap_or_default();
        let mut batch: Vec<StoredRecord> = Vec::new();
        let mut since_save = 0;
        for blob in blobs {
            outcome.blobs_listed += 1;
            let now = BlobSeen {
                etag: blob.etag.as_deref().map(bare_etag),
                size: blob.size,
            };
            if seen.blobs.get(&blob.name) == Some(&now) {
                outcome.blobs_unchanged += 1;
                continue;
            }
            let place = location.blob_place(&blob.name);
            let (chunks, received) = tokio::sync::mpsc::channel(CHUNKS_AHEAD);
            let download = tokio::spawn({
                let archive = Arc::clone(&archive);
                let name = blob.name.clone();
                async move { archive.read(&name, chunks).await }
            });
            let mut failure: Option<Error> = None;
            tokio::task::block_in_place(|| {
                // A download that fails before its first byte is reported below.
                let Ok(reader) = files::decompressed(Chunks::new(received)) else {
                    return;
                };
                files::read_stream(reader, &mut |item| {
                    if failure.is_some() {
                        return;
                    }
                    let result = match item {
                        Item::Record {
                            record,
                            line,
                            bytes,
                        } => {
                            if !kql::is_selected(
                                record.logged_by_service.as_deref(),
                                record.activity_display_name.as_deref(),
                            ) {
                                outcome.unselected += 1;
                                return;
                            }
                            match normalize(record) {
                                Ok(event) if known.insert(event.id.clone()) => {
                                    outcome.stored += 1;
                                    batch.push(StoredRecord {
                                        event,
                                        raw: bytes.to_vec(),
                                    });
                                    if batch.len() >= FLUSH_RECORDS {
                                        let written = store.write_batch(&batch, &attempt_parts);
                                        batch.clear();
                                        written.map_err(Error::from)
                                    } else {
                                        Ok(())
                                    }
                                }
                                Ok(_) => {
                                    outcome.already_stored += 1;
                                    Ok(())
                                }
                                Err(reason) => rejects.reject(&place, line, &reason, bytes),
                            }
                        }
                        Item::Reject {
                            line,
                            reason,
                            bytes,
                        } => rejects.reject(&place, line, &reason, bytes),
                    };
                    failure = result.err();
                });
            });
            if let Some(err) = failure {
                download.abort();
                return Err(err);
            }
            let read = download
                .await
                .map_err(|err| storage_failure(format!("{place}: the download stopped: {err}")))?
                .map_err(storage_failure)?;
            outcome.blobs_read += 1;
            seen.watermark = Some(
                seen.watermark
                    .map_or(read.last_modified, |w| w.max(read.last_modified)),
            );
            seen.blobs.insert(
                blob.name,
                BlobSeen {
                    etag: read.etag.as_deref().map(bare_etag),
                    size: read.size,
                },
            );
            since_save += 1;
            if since_save >= SAVE_EVERY_BLOBS {
                save(store, &key, &seen, &mut batch)?;
                since_save = 0;
            }
        }
        save(store, &key, &seen, &mut batch)?;
    }
    info!(
        "archive: {} blobs listed, {} read, {} unchanged; {} records stored, {} already stored, {} rows of other services or activities left out",
        outcome.blobs_listed,
        outcome.blobs_read,
        outcome.blobs_unchanged,
        outcome.stored,
        outcome.already_stored,
        outcome.unselected
    );
    Ok(outcome)
}

/// An ETag without its quotes and weak marker: the Blob service's listing gives `0x8DC…`, its
/// answer to a read `"0x8DC…"`.
fn bare_etag(etag: &str) -> String {
    etag.trim()
        .trim_start_matches("W/")
        .trim_matches('"')
        .to_owned()
}

/// Writes the records read so far, then remembers the blobs they came from.
fn save(
    store: &mut Store,
    key: &str,
    seen: &crate::store::SourceState,
    batch: &mut Vec<StoredRecord>,
) -> Result<(), Error> {
    store.write_batch(batch, &attempt_parts)?;
    batch.clear();
    let mut state = store.state()?.unwrap_or_default();
    state.sources.insert(key.to_owned(), seen.clone());
    state.updated = chrono::Utc::now();
    store.save_state(&state)?;
    Ok(())
}

fn storage_failure(message: String) -> Error {
    warn!("{message}");
    Error::Fetch(FetchError::Exhausted(format!("storage: {message}")))
}

/// The chunks of a download as a `Read`; a failed download is a read error.
struct Chunks {
    received: tokio::sync::mpsc::Receiver<Result<Vec<u8>, String>>,
    current: Vec<u8>,
    at: usize,
}

impl Chunks {
    fn new(received: tokio::sync::mpsc::Receiver<Result<Vec<u8>, String>>) -> Self {
        Chunks {
            received,
            current: Vec::new(),
            at: 0,
        }
    }
}

impl Read for Chunks {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        while self.at == self.current.len() {
            match self.received.blocking_recv() {
                None => return Ok(0),
                Some(Ok(chunk)) => {
                    self.current = chunk;
                    self.at = 0;
                }
                Some(Err(err)) => return Err(io::Error::other(err)),
            }
        }
        let count = buffer.len().min(self.current.len() - self.at);
        buffer[..count].copy_from_slice(&self.current[self.at..self.at + count]);
        self.at += count;
        Ok(count)
    }
}

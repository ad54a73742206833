//! The storage-account archive: the blobs an Entra diagnostic setting writes
//! (`insights-logs-auditlogs/tenantId=…/y=YYYY/m=MM/d=DD/h=HH/m=00/PT1H.json`, one Azure Monitor
//! diagnostic record a line), listed and streamed through a [`Container`] of [`crate::storage`].
//!
//! [`Archive`]: lists a location's blobs and streams one blob in chunks, never whole in memory.

use chrono::{DateTime, Utc};
use object_store::ObjectStoreExt;
use object_store::path::Path as BlobPath;

use crate::storage::{Container, next_item};

/// A blob of a listing.
#[derive(Debug, Clone)]
pub struct Blob {
    /// The blob's name in its container.
    pub name: String,
    pub size: u64,
    pub etag: Option<String>,
    pub last_modified: DateTime<Utc>,
}

/// One location, ready to list and read.
pub struct Archive {
    container: Container,
}

impl Archive {
    pub fn new(container: Container) -> Archive {
        Archive { container }
    }

    /// Every blob under the location's prefix, in name order.
    pub async fn list(&self) -> Result<Vec<Blob>, String> {
        let prefix = (!self.container.location.prefix.is_empty())
            .then(|| BlobPath::from(self.container.location.prefix.as_str()));
        let mut listing = self.container.store.list(prefix.as_ref());
        let mut blobs = Vec::new();
        while let Some(meta) = next_item(&mut listing).await {
            let meta = meta.map_err(|err| self.failed("listing", &err))?;
            blobs.push(Blob {
                name: meta.location.to_string(),
                size: meta.size,
                etag: meta.e_tag,
                last_modified: meta.last_modified,
            });
        }
        blobs.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(blobs)
    }

    /// Streams one blob: each chunk goes to `chunks` as it arrives (a bounded channel: a slow
    /// reader holds the download back). Returns the blob as read (its ETag and size then).
    pub async fn read(
        &self,
        name: &str,
        chunks: tokio::sync::mpsc::Sender<Result<Vec<u8>, String>>,
    ) -> Result<Blob, String> {
        let result = self
            .container
            .store
            .get(&BlobPath::from(name))
            .await
            .map_err(|err| self.failed(&format!("reading {name}"), &err));
        let result = match result {
            Ok(result) => result,
            Err(err) => {
                let _ = chunks.send(Err(err.clone())).await;
                return Err(err);
            }
        };
        let blob = Blob {
            name: name.to_owned(),
            size: result.meta.size,
            etag: result.meta.e_tag.clone(),
            last_modified: result.meta.last_modified,
        };
        let mut stream = result.into_stream();
        while let Some(chunk) = next_item(&mut stream).await {
            let chunk = chunk
                .map(|bytes| bytes.to_vec())
                .map_err(|err| self.failed(&format!("reading {name}"), &err));
            let failed = chunk.as_ref().err().cloned();
            if chunks.send(chunk).await.is_err() {
                return Err(format!("reading {name}: the reader stopped"));
            }
            if let Some(err) = failed {
                return Err(err);
            }
        }
        Ok(blob)
    }

    fn failed(&self, what: &str, err: &object_store::Error) -> String {
        self.container.failed(what, err)
    }
}

//! Rejected input: named on standard error (the first few one by one, every one at debug
//! level), counted, and kept verbatim in the rejects file when one is given.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use tracing::{debug, warn};

use crate::error::Error;

/// How many rejects are named one by one on standard error; the rest are counted.
const REJECTS_SHOWN: u64 = 20;

pub struct RejectLog {
    file: Option<(PathBuf, BufWriter<File>)>,
    count: u64,
}

impl RejectLog {
    pub fn open(path: Option<&Path>) -> Result<Self, Error> {
        let file = path
            .map(|path| {
                crate::fsio::create_private_file(path)
                    .map(|file| (path.to_path_buf(), BufWriter::new(file)))
                    .map_err(|source| Error::RejectsFile {
                        path: path.to_path_buf(),
                        source,
                    })
            })
            .transpose()?;
        Ok(RejectLog { file, count: 0 })
    }

    /// Records one reject: where (`line` 0 for a whole source), why, and its verbatim bytes.
    pub fn reject(
        &mut self,
        place: &str,
        line: u64,
        reason: &str,
        bytes: &[u8],
    ) -> Result<(), Error> {
        self.count += 1;
        let place = if line == 0 {
            place.to_owned()
        } else {
            format!("{place}:{line}")
        };
        if self.count <= REJECTS_SHOWN {
            warn!("rejected {place}: {reason}");
        } else {
            if self.count == REJECTS_SHOWN + 1 {
                warn!(
                    "more rejects follow; they are counted in the summary (SSPRLENS_LOG=debug names every one)"
                );
            }
            debug!("rejected {place}: {reason}");
        }
        if let (Some((path, file)), false) = (&mut self.file, bytes.is_empty()) {
            file.write_all(bytes)
                .and_then(|()| file.write_all(b"\n"))
                .map_err(|source| Error::RejectsFile {
                    path: path.clone(),
                    source,
                })?;
        }
        Ok(())
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    pub fn close(self) -> Result<(), Error> {
        if let Some((path, mut file)) = self.file {
            file.flush()
                .map_err(|source| Error::RejectsFile { path, source })?;
        }
        Ok(())
    }
}

//! The crate's error and the one mapping from errors to exit codes (documented in the README).

use std::path::PathBuf;

use crate::fetcher::files::InputError;
use crate::fetcher::graph::FetchError;
use crate::reporter::ReportError;
use crate::store::StoreError;
use crate::transformer::rules::RulesError;

/// Exit codes; a script can rely on them.
pub mod exit {
    /// Everything worked.
    pub const OK: u8 = 0;
    /// A report could not be computed or written, or the store could not be read or written.
    pub const FAILURE: u8 = 1;
    /// Bad command line, rules file or query file.
    pub const USAGE: u8 = 2;
    /// An input path is missing or unreadable, or no input held a single record.
    pub const NO_INPUT: u8 = 3;
    /// Some input was rejected: `report --strict` wrote nothing; `fetch` and `run` did the rest.
    /// Also `reconcile --strict` with a `check` day.
    pub const REJECTS: u8 = 4;
    /// Entra or Graph refused the credentials or the permission.
    pub const AUTH: u8 = 5;
    /// Graph, a Log Analytics workspace or a storage account could not be read: retries or their
    /// budget exhausted (the service or the token endpoint failing or not answering), a request
    /// refused, bad paging, an answer still partial at the smallest window.
    pub const GRAPH: u8 = 6;
    /// Another fetch is writing the store, or another publisher changed the same tenant's days
    /// of a lake table first (nothing of the refused run was committed).
    pub const LOCKED: u8 = 7;
    /// The machine refused what the run needs: the async runtime, a temporary directory, a
    /// loopback port for the demo's simulator.
    pub const SYSTEM: u8 = 8;
    /// Stopped by SIGINT or SIGTERM (what was fetched is stored; the watermark did not move).
    pub const INTERRUPTED: u8 = 130;
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Usage(String),
    /// The machine refused a resource the run needs (not the user's arguments).
    #[error("{0}")]
    Runtime(String),
    #[error("channel rules {}: {source}", path.display())]
    Rules { path: PathBuf, source: RulesError },
    #[error("input {0}")]
    Input(#[from] InputError),
    #[error("no input held a single audit record ({files} files read, {rejects} rejected)")]
    NoRecords { files: usize, rejects: u64 },
    #[error(
        "{rejects} input records or files were rejected and --strict is set; nothing was written"
    )]
    Rejected { rejects: u64 },
    #[error(
        "{rejects} records were rejected (named above, kept in --rejects if given); everything else was stored"
    )]
    Partial { rejects: u64 },
    #[error("rejects file {}: {source}", path.display())]
    RejectsFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Fetch(#[from] FetchError),
    /// `calibrate` found no labelled attempt, or rules that would contradict the labels.
    #[error("calibrate: {0}")]
    Calibrate(String),
    /// `reconcile --strict` found days where our counts and Microsoft's differ beyond the
    /// tolerance.
    #[error("{days} days differ from Microsoft's counts beyond the tolerance (--strict)")]
    Disagreement { days: usize },
    #[cfg(feature = "lake")]
    #[error(transparent)]
    Lake(#[from] crate::lake::LakeError),
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) | Error::Rules { .. } | Error::Calibrate(_) => exit::USAGE,
            Error::Runtime(_) => exit::SYSTEM,
            Error::Input(_) | Error::NoRecords { .. } => exit::NO_INPUT,
            Error::Rejected { .. } | Error::Partial { .. } | Error::Disagreement { .. } => {
                exit::REJECTS
            }
            Error::RejectsFile { .. } | Error::Report(_) => exit::FAILURE,
            Error::Store(StoreError::Locked { .. }) => exit::LOCKED,
            Error::Store(_) => exit::FAILURE,
            Error::Fetch(FetchError::Auth(_)) => exit::AUTH,
            Error::Fetch(FetchError::Interrupted) => exit::INTERRUPTED,
            Error::Fetch(FetchError::Setup(_)) => exit::USAGE,
            Error::Fetch(_) => exit::GRAPH,
            #[cfg(feature = "lake")]
            Error::Lake(err) => match err {
                crate::lake::LakeError::Usage(_) => exit::USAGE,
                crate::lake::LakeError::Storage(_) => exit::GRAPH,
                crate::lake::LakeError::Conflict(_) => exit::LOCKED,
            },
        }
    }
}

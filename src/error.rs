//! The crate's error and the one mapping from errors to exit codes (documented in the README).

use std::path::PathBuf;

use crate::fetcher::files::InputError;
use crate::reporter::ReportError;
use crate::transformer::rules::RulesError;

/// Exit codes; a script can rely on them.
pub mod exit {
    /// Everything worked (rejects, if any, were reported and kept).
    pub const OK: u8 = 0;
    /// A report could not be computed or written.
    pub const FAILURE: u8 = 1;
    /// Bad command line, rules file or query file.
    pub const USAGE: u8 = 2;
    /// An input path is missing or unreadable, or no input held a single record.
    pub const NO_INPUT: u8 = 3;
    /// `--strict` and some input was rejected.
    pub const REJECTS: u8 = 4;
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Usage(String),
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
    #[error("rejects file {}: {source}", path.display())]
    RejectsFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Report(#[from] ReportError),
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) | Error::Rules { .. } => exit::USAGE,
            Error::Input(_) | Error::NoRecords { .. } => exit::NO_INPUT,
            Error::Rejected { .. } => exit::REJECTS,
            Error::RejectsFile { .. } | Error::Report(_) => exit::FAILURE,
        }
    }
}

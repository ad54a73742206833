//! Events and attempts → polars tables → the SQL reports of `queries/` → exported files.
//! Synchronous polars; it knows nothing of where the events came from.

pub mod export;
pub mod frames;
pub mod html;
pub mod params;
pub mod queries;
pub(crate) mod reach;
mod rendering;
pub mod sanitize;

pub use rendering::Rendering;

/// A report that could not be computed or written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("query `{name}` failed: {source}")]
    Query {
        name: String,
        source: polars::error::PolarsError,
    },
    #[error("building the `{table}` table: {source}")]
    Table {
        table: &'static str,
        source: polars::error::PolarsError,
    },
    #[error("writing {target}: {source}")]
    Write {
        target: String,
        source: std::io::Error,
    },
    #[error("writing {target}: {source}")]
    Encode {
        target: String,
        source: polars::error::PolarsError,
    },
    #[error("{0}")]
    Refused(String),
}

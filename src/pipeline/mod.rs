//! Wires the stages for each command; the only place that knows all of them.
//!
//! - [`command`]: the command line's command → its configuration → the run below;
//! - [`load`]: a source (files, store) → the tables the reports query, by one of four routes;
//! - [`report`]: the tables → one report, every report, or the HTML page;
//! - [`fetch`]: Graph → records → events → store, and `run` (fetch, then every report);
//! - [`compact`]: `ssprlens compact`, and the compaction those writers end with;
//! - [`workspace`]: the same from a Log Analytics workspace, window by window;
//! - [`archive`]: a storage-account archive's blobs → store, for `import` and `run`;
//! - [`demo`]: the whole fetch path against the built-in simulator;
//! - [`calibrate`]: channel rules learnt from labelled test resets; [`fit`]: the warning when
//!   the rules do not fit the data; [`reconcile`]: our daily counts beside Microsoft's;
//! - `publish` (feature `lake`): the store → the lake's Delta tables.

mod archive;
mod calibrate;
mod command;
mod compact;
pub(crate) mod demo;
mod fetch;
mod fit;
pub(crate) mod load;
mod progress;
#[cfg(feature = "lake")]
mod publish;
mod reach;
mod reconcile;
mod rejects;
mod report;
mod workspace;

pub use command::run;
pub(crate) use rejects::RejectLog;

/// Runs one phase of a command; `SSPRLENS_LOG=debug` shows how long it took.
pub(crate) fn timed<T>(phase: &str, run: impl FnOnce() -> T) -> T {
    let start = std::time::Instant::now();
    let outcome = run();
    tracing::debug!("{phase}: {:.1} ms", start.elapsed().as_secs_f64() * 1e3);
    outcome
}

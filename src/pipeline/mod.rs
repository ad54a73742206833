//! Wires the stages for each command; the only place that knows all of them.
//!
//! - [`report`]: files or store → events → attempts → tables → one report, or all of them;
//! - [`fetch`]: Graph → records → events → store, and `run` (fetch, then every report);
//! - [`demo`]: the whole fetch path against the built-in Graph simulator.

pub mod demo;
pub mod fetch;
mod progress;
pub mod reach;
mod rejects;
pub mod report;

pub use rejects::RejectLog;

/// Runs one phase of a command; `SSPRLENS_LOG=debug` shows how long it took.
pub(crate) fn timed<T>(phase: &str, run: impl FnOnce() -> T) -> T {
    let start = std::time::Instant::now();
    let outcome = run();
    tracing::debug!("{phase}: {:.1} ms", start.elapsed().as_secs_f64() * 1e3);
    outcome
}

//! ssprlens measures Microsoft Entra ID self-service password reset (SSPR) by channel: how many
//! users reset their own password from the Windows login screen, how many from the web or
//! elsewhere, and how many still needed the helpdesk.
//!
//! Stages, each its own module, meeting only in `model` (and `columns`, the one columnar
//! form of events):
//! - `fetcher` reads audit records from Microsoft Graph and from export files;
//! - `transformer` normalises records into events, classifies channels, groups attempts;
//! - `store` keeps the history on disk: raw archive, Parquet events, watermark;
//! - `reporter` turns events and attempts into polars tables, runs the SQL reports of
//!   `queries/` and exports the result;
//! - `lake` (feature `lake`) keeps the store as Delta tables in a data lake, through `storage`
//!   (Azure Storage, which the archive import reads too).
//!
//! [`simulator`] is a simulated tenant (Entra's token endpoint and Graph's directoryAudits, with
//! throttling and faults) for the demo and the fetcher's tests.
//!
//! [`pipeline`] wires the stages for each command (the binary calls [`pipeline::run`]); `config`
//! turns command-line arguments into a validated configuration; [`error`] maps every failure to
//! an exit code; `timespec` is the one grammar of durations and times.
//!
//! [`allocator`] is the binary's memory allocator.
//!
//! `fuzz_checks` (hidden; the `fuzzing` feature) holds the bodies of the fuzz targets of `fuzz/`,
//! for the corpus replay test.

pub mod allocator;
pub mod cli;
mod columns;
mod config;
pub mod error;
mod fetcher;
mod fsio;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzz_checks;
#[cfg(feature = "lake")]
mod lake;
mod model;
pub mod pipeline;
mod reporter;
pub mod simulator;
mod storage;
mod store;
mod timespec;
mod transformer;

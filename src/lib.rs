//! ssprlens measures Microsoft Entra ID self-service password reset (SSPR) by channel: how many
//! users reset their own password from the Windows login screen, how many from the web or
//! elsewhere, and how many still needed the helpdesk.
//!
//! Stages, each its own module, meeting only in [`model`] (and [`columns`], the one columnar
//! form of events):
//! - [`fetcher`] reads audit records from Microsoft Graph and from export files;
//! - [`transformer`] normalises records into events, classifies channels, groups attempts;
//! - [`store`] keeps the history on disk: raw archive, Parquet events, watermark;
//! - [`reporter`] turns events and attempts into polars tables, runs the SQL reports of
//!   `queries/` and exports the result.
//!
//! [`simulator`] is a simulated tenant (Entra's token endpoint and Graph's directoryAudits, with
//! throttling and faults) for the demo and the fetcher's tests.
//!
//! [`pipeline`] wires the stages for each command; [`config`] turns command-line arguments into
//! a validated configuration; [`error`] maps every failure to an exit code.
//!
//! [`allocator`] is the binary's memory allocator.
//!
//! `fuzz_checks` (hidden) holds the bodies of the fuzz targets of `fuzz/`, for the corpus replay test.

pub mod allocator;
pub mod cli;
pub mod columns;
pub mod config;
pub mod error;
pub mod fetcher;
pub mod fsio;
#[doc(hidden)]
pub mod fuzz_checks;
pub mod model;
pub mod pipeline;
pub mod reporter;
pub mod simulator;
pub mod store;
pub mod transformer;

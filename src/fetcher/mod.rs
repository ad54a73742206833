//! Where audit records come from: Microsoft Graph (`graph`), a Log Analytics workspace's
//! AuditLogs table (`log_analytics`), a storage-account archive of diagnostic blobs (`archive`),
//! and export files on disk (Graph pages, NDJSON, the portal's JSON array, Azure Monitor
//! diagnostic exports, gzip or not).
//!
//! The fetcher knows JSON and files, not what a record means: it hands out [`AuditRecord`]s
//! with their location, and rejects (verbatim bytes, location, reason) for whatever cannot be one.
//!
//! [`AuditRecord`]: crate::model::AuditRecord

pub mod archive;
pub mod files;
pub mod framer;
pub mod graph;
pub mod intune;
pub mod lean;
pub mod log_analytics;
pub mod parallel;
pub mod record;
mod scan;

//! Where audit records come from: Microsoft Graph (`graph`), and export files on disk (Graph
//! pages, NDJSON, the portal's JSON array, Azure Monitor diagnostic exports, gzip or not).
//!
//! The fetcher knows JSON and files, not what a record means: it hands out [`AuditRecord`]s
//! with their location, and rejects (verbatim bytes, location, reason) for whatever cannot be one.
//!
//! [`AuditRecord`]: crate::model::AuditRecord

pub mod files;
pub mod framer;
pub mod graph;
pub mod intune;
pub mod lean;
pub mod parallel;
pub mod record;
mod scan;

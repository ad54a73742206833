//! Where audit records come from: export files on disk (Graph pages, NDJSON, the portal's JSON
//! array, Azure Monitor diagnostic exports, any of them gzip-compressed).
//!
//! The fetcher knows JSON and files, not what a record means: it hands out [`AuditRecord`]s
//! with their location, and rejects (verbatim bytes, location, reason) for whatever cannot be one.
//!
//! [`AuditRecord`]: crate::model::AuditRecord

pub mod files;
pub mod framer;
pub mod record;

//! A differential check of the two record decoders: the lean one is a fast path of the full one.

use crate::fetcher::{files, lean, record};
use crate::model::{AuditRecord, DetailKey};

/// Whenever the lean decoder accepts `data`, the full decoder accepts it too, and every field
/// the lean decoder fills holds what the full decoder read.
pub fn lean_agrees_with_full(data: &[u8]) {
    let full = record::decode(data);
    let _ = files::decode(data);
    let Some(lean) = lean::decode(data) else {
        return;
    };
    let full = full.unwrap_or_else(|err| {
        panic!("the lean decoder accepted what the full decoder rejects ({err})")
    });
    assert_eq!(lean_fields(lean), lean_fields(full));
}

/// The fields the lean decoder fills: it checks but drops `loggedByService`, `category` and
/// `operationType`, and keeps only the `additionalDetails` entries attempts read.
fn lean_fields(mut record: AuditRecord) -> AuditRecord {
    record.logged_by_service = None;
    record.category = None;
    record.operation_type = None;
    record.additional_details.retain(|detail| {
        detail
            .key
            .as_deref()
            .is_some_and(|key| DetailKey::of(key) != DetailKey::Other)
    });
    record
}

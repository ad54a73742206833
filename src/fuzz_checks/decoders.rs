//! A differential check of the two record decoders: the lean one is a fast path of the full one.

use crate::fetcher::{lean, record};

/// Whenever the lean decoder accepts `data`, the full decoder accepts it too, and every field
/// the lean decoder reads holds what the full decoder read.
pub fn lean_agrees_with_full(data: &[u8]) {
    let full = record::decode_json(data);
    let _ = record::decode(data);
    let Some(lean) = lean::decode(data) else {
        return;
    };
    let full = full.unwrap_or_else(|err| {
        panic!("the lean decoder accepted what the full decoder rejects ({err})")
    });
    assert_eq!(lean, full.view());
}

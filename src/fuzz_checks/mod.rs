//! The bodies of the fuzz targets (`fuzz/`), kept in the library so that the corpus replay test
//! (`tests/it/fuzz_corpus.rs`) runs exactly what the fuzzer runs, on stable and without
//! libFuzzer. Each check takes arbitrary bytes and panics when an invariant breaks; a panic is
//! a finding.

pub mod attempts;
pub mod decoders;
pub mod readers;
pub mod transformer;

/// The types the checks' helpers take and give, for the property tests that share them.
pub use crate::model::Attempt;
pub use crate::transformer::rules::ChannelRules;

/// A fuzz target's check: panics when an invariant breaks on `data`.
pub type Check = fn(data: &[u8]);

/// Every fuzz target: its name (the binary under `fuzz/fuzz_targets/` and the folder under
/// `fuzz/corpus/`) and its check.
pub const TARGETS: [(&str, Check); 7] = [
    ("read_export", readers::read_export),
    ("parallel_reader", readers::parallel_matches_sequential),
    ("framer_chunks", readers::framer_chunks),
    ("lean_vs_full", decoders::lean_agrees_with_full),
    ("normalize", transformer::normalize_record),
    ("channel_rules", transformer::channel_rules),
    ("attempt_fold", attempts::attempt_fold),
];

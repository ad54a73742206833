//! The integration tests: the real `ssprlens` binary on real files. One test binary (each links
//! polars), one module per area.

mod attempt_properties;
mod azurite;
mod common;
mod compaction;
mod docs;
mod fake_graph;
mod faults;
mod fetch;
mod fuzz_corpus;
mod generator;
mod golden;
mod history;
mod hostile;
mod html;
mod inputs;
#[cfg(feature = "lake")]
mod lake;
mod outputs;
mod privacy;
mod raw_servers;
mod reach;
mod reports;
mod rules;
mod store;
mod trust;
mod truth;

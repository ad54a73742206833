//! Channel rules files (TOML). The body is `ssprlens::fuzz_checks::transformer::channel_rules`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ssprlens::fuzz_checks::transformer::channel_rules(data));

//! Rows folded into attempts: order, duplicates, partial folds, the parallel reader. The body is `ssprlens::fuzz_checks::attempts::attempt_fold`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ssprlens::fuzz_checks::attempts::attempt_fold(data));

//! The parallel reader against the sequential one, on one file. The body is `ssprlens::fuzz_checks::readers::parallel_matches_sequential`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ssprlens::fuzz_checks::readers::parallel_matches_sequential(data)
});

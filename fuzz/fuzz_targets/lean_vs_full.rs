//! Whatever the lean decoder accepts, the full decoder reads the same. The body is `ssprlens::fuzz_checks::decoders::lean_agrees_with_full`.
#![no_main]

libfuzzer_sys::fuzz_target!(
    |data: &[u8]| ssprlens::fuzz_checks::decoders::lean_agrees_with_full(data)
);

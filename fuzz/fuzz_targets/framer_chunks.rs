//! The framer gives the same pieces however the input is cut into reads. The body is `ssprlens::fuzz_checks::readers::framer_chunks`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ssprlens::fuzz_checks::readers::framer_chunks(data));

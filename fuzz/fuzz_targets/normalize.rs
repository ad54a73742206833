//! Records into events; timestamps and IP addresses. The body is `ssprlens::fuzz_checks::transformer::normalize_record`.
#![no_main]

libfuzzer_sys::fuzz_target!(
    |data: &[u8]| ssprlens::fuzz_checks::transformer::normalize_record(data)
);

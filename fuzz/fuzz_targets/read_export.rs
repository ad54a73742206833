//! An export file (gzip or not, any JSON shape) through the file reader. The body is `ssprlens::fuzz_checks::readers::read_export`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ssprlens::fuzz_checks::readers::read_export(data));

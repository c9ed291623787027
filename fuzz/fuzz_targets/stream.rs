#![no_main]
//! `a2a_client::checks::stream` on every input (see HARDENING.md).

libfuzzer_sys::fuzz_target!(|data: &[u8]| a2a_client::checks::stream(data));

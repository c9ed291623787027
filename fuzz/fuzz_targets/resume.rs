#![no_main]
//! `a2a_client::testing::checks::resume` on every input (see docs/hardening.md).

libfuzzer_sys::fuzz_target!(|data: &[u8]| a2a_client::testing::checks::resume(data));

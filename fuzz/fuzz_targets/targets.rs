//! Arbitrary text as a target, --resolve, --connect-to, proxy URL or console origin.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    certready_fuzz_support::parse_arguments(data);
});

#[path = "../support.rs"]
mod certready_fuzz_support;

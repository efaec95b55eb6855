//! Arbitrary bytes as a presented chain: split into certificates by a length prefix,
//! parsed, linked, validated and judged like a live chain.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    certready_fuzz_support::analyse_chain(data);
});

#[path = "../support.rs"]
mod certready_fuzz_support;

//! Arbitrary bytes pasted into `certready why`: log lines, quotes, wrapped texts.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    certready_fuzz_support::explain_paste(data);
});

#[path = "../support.rs"]
mod certready_fuzz_support;

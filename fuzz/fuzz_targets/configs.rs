//! Arbitrary text as a flyteadmin or flytectl config for lint-config.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    certready_fuzz_support::lint_config(data);
});

#[path = "../support.rs"]
mod certready_fuzz_support;

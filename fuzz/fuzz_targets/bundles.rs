//! Arbitrary bytes as a local file: PEM, DER, PKCS#12 sniffing, Kubernetes Secrets.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    certready_fuzz_support::parse_bundle(data);
});

#[path = "../support.rs"]
mod certready_fuzz_support;

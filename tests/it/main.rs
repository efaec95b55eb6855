//! The integration tests, in one binary so the shared harness (`common`) and the
//! library compile and link once (as ripgrep's tests/ does). Each module is one area;
//! most run the real `certready` binary against TLS servers on 127.0.0.1.

mod common;

mod aia;
mod apple_model;
mod architecture;
mod check_findings;
mod cli;
mod client_options;
mod client_proof;
mod ct;
mod deploy;
mod deploy_lint;
mod differential;
mod docs;
mod fleet;
mod flyte;
mod fuzz_regressions;
mod hostile;
mod inspect;
mod json_schema;
mod lint_config;
mod openssl_engine;
mod probe_failures;
mod properties;
mod release_cli;
mod revocation;
mod serve;
mod serve_security;
mod snapshots;
mod trust_bundle;
mod why;

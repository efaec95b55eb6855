//! certready: tells whether a TLS endpoint's certificate will be accepted, by which
//! client, and what to change. The modules follow the data:
//!
//! `target` → `probe` (or `input` for files) → `chain` → `trust` → `rules` (findings) →
//! `clients` (each client's verdict) → `report` (with its recommendations) → `render`.
//! `check` runs that pipeline for a target or a file; `flyte`, `lint` and `serve` build
//! on it; `app` is the command line. `lab` makes test PKIs and loopback servers for the
//! demo and the integration tests.

pub mod app;
pub mod chain;
pub mod check;
pub mod clients;
pub mod findings;
pub mod flyte;
pub mod input;
pub mod lab;
pub mod lint;
pub mod probe;
pub mod render;
pub mod report;
pub mod rules;
pub mod serve;
pub mod target;
pub mod trust;
pub mod verifiers;

//! certready: tells whether a TLS endpoint's certificate will be accepted, by which
//! client, and what to change. The modules follow the data:
//!
//! `target` → `probe` (or `input` for files) → `chain` → `trust` → `revocation` (stapled
//! OCSP, the responder, the CRL) → `ct` (SCTs verified, CT policies) → `rules` (findings) →
//! `clients` (each client's verdict, through the re-implemented `verifiers`) → `report`
//! (with its recommendations) → `render`.
//! `check` runs that pipeline for a target or a file; `flyte`, `lint` and `serve` build
//! on it; `why` reads a pasted error text back to its client and causes, from the
//! `clients`' and `verifiers`' own texts; `app` is the command line. `lab` makes test PKIs and loopback servers for the
//! demo and the integration tests. Modules are public only where the binary, the
//! integration tests or the fuzz targets use them.

pub mod app;
mod chain;
pub mod check;
pub mod clients;
pub mod ct;
pub mod der;
pub mod findings;
pub mod flyte;
pub mod input;
pub mod lab;
pub mod lint;
pub mod probe;
mod render;
mod report;
pub mod revocation;
mod rules;
mod serve;
pub mod target;
pub mod trust;
pub mod verifiers;
pub mod why;

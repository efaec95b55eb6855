//! certready: tells whether a TLS endpoint's certificate will be accepted, by which
//! client, and what to change. The modules follow the data:
//! target → probe → chain → trust → rules → report → render (text) / markdown / metrics.

pub mod background;
pub mod chain;
pub mod check;
pub mod cli;
pub mod clients;
pub mod demo;
pub mod findings;
pub mod flyte;
pub mod flyteconfig;
pub mod grpc_health;
pub mod input;
pub mod lab;
pub mod lint;
pub mod markdown;
pub mod metrics;
pub mod probe;
pub mod proxy;
pub mod recommend;
pub mod render;
pub mod report;
pub mod rules;
pub mod serve;
pub mod target;
pub mod trust;

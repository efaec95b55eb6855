//! What `lint-config` reports per file: the findings by key and line, and the analysis of
//! the certificate file the config names.

use std::path::Path;

use serde::Serialize;

use crate::findings::Finding;
use crate::report::{Report, Status};

#[derive(Debug, Clone, Serialize)]
pub struct LintFinding {
    #[serde(flatten)]
    pub finding: Finding,
    /// The config key concerned, dotted (e.g. `server.security.allowedOrigins`).
    pub key: Option<String>,
    /// 1-based line of that key, when the YAML is in block style.
    pub line: Option<usize>,
}

/// Which config a file is, told apart by its top-level keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ConfigKind {
    /// flyteadmin's server config (`server:`, `auth:`).
    Flyteadmin,
    /// flytectl's client config (`admin:`).
    Flytectl,
}

#[derive(Debug, Clone, Serialize)]
pub struct LintReport {
    pub file: String,
    /// "flyteadmin", "flytectl", or null when not recognised.
    pub kind: Option<ConfigKind>,
    pub status: Status,
    pub error: Option<String>,
    pub findings: Vec<LintFinding>,
    /// The analysis of server.security.ssl.certificateFile, when present.
    pub certificate: Option<Report>,
}

impl LintReport {
    /// A report for `path` before anything is known about it.
    pub(super) fn unknown(path: &Path) -> Self {
        LintReport {
            file: path.display().to_string(),
            kind: None,
            status: Status::Unknown,
            error: None,
            findings: Vec::new(),
            certificate: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_serialise_as_before() {
        let json = |kind| serde_json::to_value(kind).unwrap();
        assert_eq!(json(ConfigKind::Flyteadmin), "flyteadmin");
        assert_eq!(json(ConfigKind::Flytectl), "flytectl");
    }
}

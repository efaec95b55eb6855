//! What `lint-config` reports per file: the findings by key and line, and the analysis of
//! the certificate file the config names.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use super::yaml::DocumentError;
use crate::findings::Finding;
use crate::report::{Report, Status};

#[derive(Debug, Clone, Serialize)]
pub struct LintFinding {
    #[serde(flatten)]
    pub finding: Finding,
    /// The config key concerned, dotted (e.g. `server.security.allowedOrigins`).
    pub key: Option<String>,
    /// 1-based line of that key in the file (for a config inside a ConfigMap, in the
    /// file holding the ConfigMap).
    pub line: Option<usize>,
    /// The Kubernetes object concerned, `Kind/namespace/name` (`Kind/name` without a
    /// namespace), for manifests; null for config and values files.
    pub object: Option<String>,
    /// The container concerned, for workload findings.
    pub container: Option<String>,
}

impl LintFinding {
    pub fn new(finding: Finding, key: Option<String>, line: Option<usize>) -> Self {
        LintFinding {
            finding,
            key,
            line,
            object: None,
            container: None,
        }
    }
}

/// Which config a file is, told apart by its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConfigKind {
    /// flyteadmin's server config (`server:`, `auth:`).
    Flyteadmin,
    /// flytectl's client config (`admin:`).
    Flytectl,
    /// Values for the flyte-core Helm chart (`configmap.adminServer`, `common.ingress`).
    FlyteCoreValues,
    /// Values for the flyte-binary Helm chart (`configuration`, `deployment`, `ingress`).
    FlyteBinaryValues,
    /// Kubernetes objects: `helm template` output, `kubectl get -o yaml`, a List.
    Manifests,
}

impl ConfigKind {
    /// In words, for the text and Markdown renderings.
    pub fn description(self) -> &'static str {
        match self {
            ConfigKind::Flyteadmin => "flyteadmin server config",
            ConfigKind::Flytectl => "flytectl client config",
            ConfigKind::FlyteCoreValues => "flyte-core Helm values",
            ConfigKind::FlyteBinaryValues => "flyte-binary Helm values",
            ConfigKind::Manifests => "Kubernetes manifests",
        }
    }
}

/// How many objects of which kinds a stream held: linted, or skipped as not concerning
/// TLS, Flyte's config or container security.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ObjectCounts {
    pub documents: usize,
    pub linted: BTreeMap<String, usize>,
    pub skipped: BTreeMap<String, usize>,
}

/// A TLS Secret of the stream run through `inspect`, once per host an Ingress serves
/// with it (or once without a host when no Ingress names it).
#[derive(Debug, Clone, Serialize)]
pub struct SecretCertificate {
    /// `Secret/namespace/name`.
    pub object: String,
    /// The host checked, from the Ingresses that reference the Secret.
    pub host: Option<String>,
    /// Those Ingresses, `Ingress/namespace/name`.
    pub referenced_by: Vec<String>,
    /// Line of the Secret's `tls.crt` key.
    pub line: Option<usize>,
    pub report: Report,
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
    /// Manifests: the objects read, by kind; null for config and values files.
    pub objects: Option<ObjectCounts>,
    /// Documents of the stream that are not valid YAML (the others are still linted).
    pub document_errors: Vec<DocumentError>,
    /// Manifests: each TLS Secret's certificate, as `inspect` judges it.
    pub certificates: Vec<SecretCertificate>,
}

impl LintReport {
    /// A report for `path` before anything is known about it.
    pub(super) fn unknown(path: &Path) -> Self {
        LintReport {
            // `-` is stdin: named so in messages and SARIF.
            file: if path == Path::new("-") {
                "stdin".to_string()
            } else {
                path.display().to_string()
            },
            kind: None,
            status: Status::Unknown,
            error: None,
            findings: Vec::new(),
            certificate: None,
            objects: None,
            document_errors: Vec::new(),
            certificates: Vec::new(),
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
        assert_eq!(json(ConfigKind::FlyteCoreValues), "flyte-core-values");
    }
}

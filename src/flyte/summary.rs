//! What `certready flyte` reports besides each host's report: admin's readiness, the
//! OAuth setup, the console's CORS preflight and the Flyte-level findings.

use serde::Serialize;

use super::grpc_health::GrpcHealth;
use crate::findings::Finding;
use crate::report::{Report, Status};

#[derive(Debug, Clone, Serialize)]
pub struct OAuthMetadata {
    pub issuer: Option<String>,
    pub authorization_endpoint: Option<String>,
    pub token_endpoint: Option<String>,
    pub jwks_uri: Option<String>,
    pub device_authorization_endpoint: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClientConfigSummary {
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scopes: Vec<String>,
    pub authorization_metadata_key: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthState {
    /// OAuth metadata served.
    On,
    /// flyteadmin answered 404: useAuth is off.
    Off,
    /// The metadata could not be read.
    Unknown,
}

#[derive(Debug, Clone, Serialize)]
pub struct AuthSummary {
    pub state: AuthState,
    /// "built-in" (authServerType: Self) or "external", when metadata says.
    pub server: Option<String>,
    pub metadata: Option<OAuthMetadata>,
    pub client: Option<ClientConfigSummary>,
    pub error: Option<String>,
}

impl AuthSummary {
    pub(super) fn unknown(error: String) -> Self {
        AuthSummary {
            state: AuthState::Unknown,
            server: None,
            metadata: None,
            client: None,
            error: Some(error),
        }
    }

    pub(super) fn off() -> Self {
        AuthSummary {
            state: AuthState::Off,
            server: None,
            metadata: None,
            client: None,
            error: None,
        }
    }

    /// The token endpoint the metadata names, if any.
    pub(super) fn token_url(&self) -> Option<String> {
        self.metadata
            .as_ref()
            .and_then(|m| m.token_endpoint.clone())
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CorsResult {
    pub origin: String,
    pub url: String,
    pub status: Option<u16>,
    pub allow_origin: Option<String>,
    pub allow_headers: Option<String>,
    pub allow_credentials: Option<String>,
    pub verdict: CorsVerdict,
}

/// What the preflight's answer means for the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CorsVerdict {
    Allowed,
    OriginNotAllowed,
    HeaderNotAllowed,
    MethodNotAllowed,
    /// Another status: something in front of admin answered.
    Rejected,
    /// No answer at all.
    Unreachable,
}

impl CorsVerdict {
    /// As in the JSON report.
    fn name(self) -> &'static str {
        match self {
            CorsVerdict::Allowed => "allowed",
            CorsVerdict::OriginNotAllowed => "origin-not-allowed",
            CorsVerdict::HeaderNotAllowed => "header-not-allowed",
            CorsVerdict::MethodNotAllowed => "method-not-allowed",
            CorsVerdict::Rejected => "rejected",
            CorsVerdict::Unreachable => "unreachable",
        }
    }
}

impl std::fmt::Display for CorsVerdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct FlyteSummary {
    pub endpoint: String,
    pub grpc_alpn: Option<String>,
    pub healthcheck: Option<u16>,
    pub auth: AuthSummary,
    pub cors: Option<CorsResult>,
    /// The gRPC health call through the ingress (admin negotiating h2 over verified TLS).
    pub grpc_health: Option<GrpcHealth>,
    pub findings: Vec<Finding>,
}

impl FlyteSummary {
    pub fn status(&self) -> Status {
        Status::from_severities(self.findings.iter().map(|f| f.severity))
    }
}

pub struct FlyteRun {
    pub reports: Vec<Report>,
    pub summary: FlyteSummary,
}

impl FlyteRun {
    /// Worst status over the host reports and the Flyte findings: the exit code and the
    /// verdict line both come from it.
    pub fn status(&self) -> Status {
        let hosts = self.reports.iter().map(|r| r.status);
        Status::worst(hosts.chain(std::iter::once(self.summary.status())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cors_verdicts_serialise_as_their_names() {
        for verdict in [
            CorsVerdict::Allowed,
            CorsVerdict::OriginNotAllowed,
            CorsVerdict::HeaderNotAllowed,
            CorsVerdict::MethodNotAllowed,
            CorsVerdict::Rejected,
            CorsVerdict::Unreachable,
        ] {
            assert_eq!(serde_json::to_value(verdict).unwrap(), verdict.name());
        }
    }
}

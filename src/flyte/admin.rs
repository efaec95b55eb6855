//! admin itself: its TLS check, the transport flytectl's config expects, ALPN for gRPC,
//! the HTTP healthcheck and the gRPC health call through the ingress.

use super::grpc_health::{self, GrpcHealth};
use super::http;
use crate::check::{self, Settings};
use crate::clients::FlytectlSettings;
use crate::findings::{Finding, FindingId, Severity};
use crate::probe::ProbeErrorKind;
use crate::report::Report;
use crate::target::Target;

pub(super) const ADMIN_ROLE: &str = "admin (gRPC and HTTP)";

pub(super) async fn check_admin(admin: &Target, settings: &Settings) -> Report {
    let mut report = check::check(admin, settings).await;
    report.role = Some(ADMIN_ROLE.into());
    report
}

/// The ALPN admin negotiated, which gRPC needs to be h2.
pub(super) fn negotiated_alpn(report: &Report) -> Option<String> {
    report.tls.as_ref().and_then(|t| t.alpn.clone())
}

/// Plaintext or TLS against flytectl's admin.insecure, ALPN, and insecureSkipVerify.
pub(super) fn connection_findings(
    admin: &Target,
    report: &Report,
    flytectl: &FlytectlSettings,
    findings: &mut Vec<Finding>,
) {
    let config_note = flytectl
        .config_path
        .as_ref()
        .map(|p| format!(" ({})", p.display()))
        .unwrap_or_default();
    match report.error_kind {
        Some(ProbeErrorKind::PlaintextHttp | ProbeErrorKind::Http2Cleartext) => {
            let finding = if flytectl.insecure {
                Finding::new(
                    FindingId::PlaintextEndpoint,
                    None,
                    format!("admin at {} speaks plaintext, and the flytectl config sets admin.insecure: true{config_note}: flytectl connects without TLS, so tokens and data cross the network unencrypted.", admin.authority()),
                )
                .severity(Severity::Warning)
            } else {
                Finding::new(
                    FindingId::PlaintextEndpoint,
                    None,
                    format!("admin at {} speaks plaintext, not TLS. flytectl reaches it only with admin.insecure: true, which means no TLS at all (tokens and data unencrypted); with TLS expected it fails with a handshake error.", admin.authority()),
                )
            };
            findings.push(finding);
        }
        _ if flytectl.insecure && report.tls.is_some() => findings.push(Finding::new(
            FindingId::InsecureButTls,
            None,
            format!("The flytectl config sets admin.insecure: true{config_note}, but {} speaks TLS: flytectl will send plaintext gRPC to a TLS port and fail. Remove admin.insecure.", admin.authority()),
        )),
        _ => {}
    }

    let grpc_alpn = negotiated_alpn(report);
    if report.tls.is_some() && grpc_alpn.as_deref() != Some("h2") {
        findings.push(Finding::new(
            FindingId::AlpnNoH2,
            None,
            match grpc_alpn.as_deref() {
                Some(protocol) => format!(
                    "admin negotiated ALPN {protocol:?} instead of h2: it refuses flytectl's and pyflyte's h2-only ClientHello (grpc-go: \"remote error: tls: no application protocol\")."
                ),
                None => "admin negotiated no ALPN protocol: grpc-go 1.67 and later (flytectl 0.9.6+, Flyte 1.16+) refuse it: \"credentials: cannot check peer: missing selected ALPN property\"; grpcio too.".to_string(),
            },
        ));
    }

    if flytectl.insecure_skip_verify {
        findings.push(Finding::new(
            FindingId::InsecureSkipVerifyInUse,
            None,
            format!("admin.insecureSkipVerify is true{config_note}: flytectl's gRPC channel accepts any certificate, while its OAuth login still verifies with the system store."),
        ));
    }
}

/// GET /healthcheck: its status, or None when there was no answer.
pub(super) async fn healthcheck(
    client: &reqwest::Client,
    base: &str,
    findings: &mut Vec<Finding>,
) -> Option<u16> {
    let response = client
        .get(format!("{base}/healthcheck"))
        .send()
        .await
        .ok()?;
    let status = response.status().as_u16();
    if status != 200 {
        findings.push(Finding::new(
            FindingId::HealthcheckFailed,
            None,
            format!("GET {base}/healthcheck answered {status}; flyteadmin answers 200. The ingress may not route HTTP paths to admin's HTTP port."),
        ));
    }
    Some(status)
}

/// The gRPC health call over `tls` (or why no client could be built for it).
pub(super) async fn grpc_health_call(
    tls: Result<rustls::ClientConfig, String>,
    settings: &Settings,
    admin: &Target,
    base: &str,
    findings: &mut Vec<Finding>,
) -> GrpcHealth {
    let health = match tls.and_then(|tls| http::grpc_client(tls, settings, admin)) {
        Ok(grpc) => grpc_health::check(&grpc, base).await,
        Err(error) => GrpcHealth {
            error: Some(error),
            ..Default::default()
        },
    };
    let url = format!("{base}{}", grpc_health::PATH);
    findings.extend(grpc_health::finding(&health, &url));
    health
}

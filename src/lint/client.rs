//! flytectl's client config: the `admin` section's keys, the endpoint's form, the
//! insecure switches, authType and the CA file.

use serde_json::Value;

use super::linter::Linter;
use crate::findings::{Finding, FindingId, Severity};
use crate::flyte::config::AuthType;
use crate::input;
use crate::target;

/// flytectl's `admin` section (flyteidl/clients/go/admin Config, all recent releases).
const ADMIN_KEYS: &[&str] = &[
    "endpoint",
    "insecure",
    "insecureSkipVerify",
    "caCertFilePath",
    "maxBackoffDelay",
    "perRetryTimeout",
    "maxRetries",
    "maxMessageSizeBytes",
    "authType",
    "tokenRefreshWindow",
    "useAuth",
    "clientId",
    "clientSecret",
    "clientSecretLocation",
    "clientSecretEnvVar",
    "scopes",
    "useAudienceFromAdmin",
    "audience",
    "tokenUrl",
    "authorizationHeader",
    "pkceConfig",
    "deviceFlowConfig",
    "command",
    "proxyCommand",
    "httpProxyURL",
    "defaultOrg",
];

/// Stands in for an absent section, so absent keys read as their defaults.
static ABSENT: Value = Value::Null;

/// Lints a flytectl `config` into `linter`.
pub(super) fn lint_client(config: &Value, linter: &mut Linter<'_>) {
    let admin = config.get("admin").unwrap_or(&ABSENT);
    linter.unknown_keys("admin", admin, ADMIN_KEYS);
    let port = endpoint_findings(admin, linter);
    insecure_findings(admin, port, linter);
    auth_type_finding(admin, linter);
    ca_cert_findings(admin, linter);
}

fn flag(admin: &Value, key: &str) -> bool {
    admin.get(key).and_then(Value::as_bool).unwrap_or(false)
}

/// admin.endpoint in the dns:/// form flytectl writes; returns its port when it parses.
fn endpoint_findings(admin: &Value, linter: &mut Linter<'_>) -> Option<u16> {
    let endpoint = admin.get("endpoint").and_then(Value::as_str).unwrap_or("");
    if endpoint.is_empty() {
        linter.push("admin.endpoint", Finding::new(FindingId::EndpointForm, None, "admin.endpoint is empty: flytectl has nothing to connect to. Write dns:///flyte.example.com."));
        return None;
    }
    match target::parse_target(endpoint) {
        Ok(parsed) => {
            if !endpoint.starts_with("dns:///") {
                linter.push("admin.endpoint", Finding::new(
                    FindingId::EndpointForm,
                    None,
                    format!("admin.endpoint {endpoint:?} works with flytekit, but flytectl expects dns:///{}{} (what `flytectl config init` writes).", parsed.host, if parsed.port == 443 { String::new() } else { format!(":{}", parsed.port) }),
                ).severity(Severity::Warning));
            }
            Some(parsed.port)
        }
        Err(e) => {
            linter.push(
                "admin.endpoint",
                Finding::new(FindingId::EndpointForm, None, e.to_string()),
            );
            None
        }
    }
}

/// admin.insecure against a TLS port, and admin.insecureSkipVerify at all.
fn insecure_findings(admin: &Value, port: Option<u16>, linter: &mut Linter<'_>) {
    if flag(admin, "insecure") && port == Some(443) {
        linter.push("admin.insecure", Finding::new(
            FindingId::InsecureButTls,
            None,
            "admin.insecure: true sends plaintext gRPC, but the endpoint uses port 443, where an ingress speaks TLS: the connection will fail. Remove admin.insecure.",
        ).severity(Severity::Warning));
    }
    if flag(admin, "insecureSkipVerify") {
        linter.push("admin.insecureSkipVerify", Finding::new(
            FindingId::InsecureSkipVerifyInUse,
            None,
            "admin.insecureSkipVerify: true switches off certificate verification for gRPC only; flytectl's OAuth login still verifies with the system store and fails the same way, while gRPC becomes open to impersonation.",
        ));
    }
}

fn auth_type_finding(admin: &Value, linter: &mut Linter<'_>) {
    let Some(auth_type) = admin.get("authType").and_then(Value::as_str) else {
        return;
    };
    if AuthType::parse(auth_type).is_some() {
        return;
    }
    let names = AuthType::ALL.map(AuthType::name);
    let hint = names
        .iter()
        .find(|t| t.eq_ignore_ascii_case(auth_type))
        .map(|t| format!(" (it is case-sensitive: {t})"))
        .unwrap_or_default();
    linter.push(
        "admin.authType",
        Finding::new(
            FindingId::AuthTypeInvalid,
            None,
            format!(
                "admin.authType {auth_type:?} is not one of {}{hint}.",
                names.join(", ")
            ),
        ),
    );
}

/// admin.caCertFilePath must be readable and hold a CA certificate.
fn ca_cert_findings(admin: &Value, linter: &mut Linter<'_>) {
    let Some(ca) = admin
        .get("caCertFilePath")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    else {
        return;
    };
    let resolved = linter.resolve(ca);
    match input::load_certificates_file(&resolved) {
        Err(e) => linter.push(
            "admin.caCertFilePath",
            Finding::new(
                FindingId::CaCertFileUnusable,
                None,
                format!(
                    "caCertFilePath {ca:?}: {}. flytectl will fail to start its gRPC channel.",
                    e.message
                ),
            ),
        ),
        Ok(certs) => {
            let any_ca = certs.iter().any(|der| {
                crate::chain::parse_one(0, der).is_ok_and(|info| info.is_ca || info.self_signed)
            });
            if !any_ca {
                linter.push("admin.caCertFilePath", Finding::new(
                    FindingId::CaCertFileUnusable,
                    None,
                    format!("caCertFilePath {ca:?} holds no CA certificate (only leaf certificates): Go will not accept a chain through it unless it is exactly the server's certificate."),
                ).severity(Severity::Warning));
            }
        }
    }
}

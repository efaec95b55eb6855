//! The console's CORS preflight as flyteadmin answers it, and the config that fixes it.

use super::http;
use super::summary::{CorsResult, CorsVerdict};
use crate::findings::{Finding, FindingId};
use crate::target;

/// The headers flyteconsole sends on API calls when auth is on.
const CONSOLE_HEADERS: &str = "flyte-authorization, content-type";
/// An API path the console calls; any admin HTTP path goes through the same CORS layer.
const CORS_PROBE_PATH: &str = "/api/v1/projects";

/// Sends the preflight the console sends from `origin` to admin at `base`; what a
/// refusal means becomes a finding with the config that fixes it.
pub(super) async fn preflight(
    client: &reqwest::Client,
    base: &str,
    origin: &str,
    findings: &mut Vec<Finding>,
) -> CorsResult {
    let url = format!("{base}{CORS_PROBE_PATH}");
    let mut result = CorsResult {
        origin: origin.to_string(),
        url: url.clone(),
        status: None,
        allow_origin: None,
        allow_headers: None,
        allow_credentials: None,
        verdict: CorsVerdict::Unreachable,
    };
    let response = client
        .request(reqwest::Method::OPTIONS, &url)
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "GET")
        .header("Access-Control-Request-Headers", CONSOLE_HEADERS)
        .send()
        .await;
    let response = match response {
        Ok(response) => response,
        Err(e) => {
            findings.push(Finding::new(
                FindingId::CorsPreflightRejected,
                None,
                format!(
                    "The console's preflight OPTIONS {url} failed: {}",
                    http::describe_error(&e)
                ),
            ));
            return result;
        }
    };
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let status = response.status().as_u16();
    result.status = Some(status);
    result.allow_origin = header("access-control-allow-origin");
    result.allow_headers = header("access-control-allow-headers");
    result.allow_credentials = header("access-control-allow-credentials");
    result.verdict = verdict(status, &result, findings);
    result
}

/// What flyteadmin's answer (`status` and the headers in `result`) means for the console.
fn verdict(status: u16, result: &CorsResult, findings: &mut Vec<Finding>) -> CorsVerdict {
    let origin = &result.origin;
    let snippet = cors_snippet(origin);
    match (status, &result.allow_origin) {
        (403, _) => {
            findings.push(
                Finding::new(
                    FindingId::CorsHeaderNotAllowed,
                    None,
                    format!("flyteadmin answered the console's preflight from {origin} with 403: a requested header ({CONSOLE_HEADERS}) is not in server.security.allowedHeaders. The console sends flyte-authorization when auth is on."),
                )
                .remediation(snippet),
            );
            CorsVerdict::HeaderNotAllowed
        }
        (405, _) => {
            findings.push(Finding::new(
                FindingId::CorsPreflightRejected,
                None,
                "flyteadmin answered the preflight with 405: method GET not allowed (gorilla/handlers allows GET, POST, DELETE, HEAD, PUT, PATCH); something in front of admin changes the request.",
            ));
            CorsVerdict::MethodNotAllowed
        }
        (200..=299, None) => {
            findings.push(
                Finding::new(
                    FindingId::CorsOriginNotAllowed,
                    None,
                    format!("flyteadmin answered the preflight from {origin} without Access-Control-Allow-Origin: the origin is not in server.security.allowedOrigins (or allowCors is false), so the browser blocks every console call to admin."),
                )
                .remediation(snippet),
            );
            CorsVerdict::OriginNotAllowed
        }
        (200..=299, Some(allowed)) => {
            if allowed == "*" && result.allow_credentials.as_deref() == Some("true") {
                findings.push(
                    Finding::new(
                        FindingId::CorsWildcardWithCredentials,
                        None,
                        format!("flyteadmin allows any origin (*) with credentials: browsers refuse credentialed requests (the console's cookies) against a wildcard. List the console's origin {origin} instead."),
                    )
                    .remediation(snippet),
                );
            }
            CorsVerdict::Allowed
        }
        (status, _) => {
            findings.push(Finding::new(
                FindingId::CorsPreflightRejected,
                None,
                format!("flyteadmin answered the console's preflight from {origin} with {status}; flyteadmin's CORS layer answers 400 only when Access-Control-Request-Method is missing, so a proxy in front of admin may be dropping it."),
            ));
            CorsVerdict::Rejected
        }
    }
}

/// flyteadmin's CORS settings that let the console at `origin` in, and the restart.
fn cors_snippet(origin: &str) -> String {
    [
        "Allow the console in flyteadmin's config (the flyte-admin-base-config ConfigMap, or the Helm values under configmap.adminServer):",
        "  server:",
        "    security:",
        "      allowCors: true",
        "      allowedOrigins:",
        &format!("        - {origin}"),
        "      allowedHeaders:",
        "        - Content-Type",
        "        - flyte-authorization",
        "then restart admin so it reads the config:",
        "  kubectl rollout restart deployment/flyteadmin -n flyte",
    ]
    .join("\n")
}

/// Validates `--console-origin`: scheme://host[:port], nothing else.
pub fn parse_origin(text: &str) -> Result<String, String> {
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
        .ok_or_else(|| format!("--console-origin {text:?} must start with https:// (an origin: scheme://host[:port])"))?;
    if rest.is_empty() || rest.contains('/') && !rest.ends_with('/') || rest.contains(['?', '#']) {
        return Err(format!(
            "--console-origin {text:?} is not an origin: no path, e.g. https://console.example.com"
        ));
    }
    target::split_host_port(rest.trim_end_matches('/'))
        .map_err(|e| format!("--console-origin {text:?}: {e}"))?;
    Ok(text.trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_validated() {
        assert_eq!(
            parse_origin("https://console.example.com/").unwrap(),
            "https://console.example.com"
        );
        assert!(parse_origin("console.example.com").is_err());
        assert!(parse_origin("https://console.example.com/console").is_err());
        assert!(parse_origin("https://").is_err());
    }
}

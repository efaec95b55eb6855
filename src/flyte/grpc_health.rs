//! The gRPC health call `certready flyte` makes through the ingress
//! (`/grpc.health.v1.Health/Check` over HTTP/2, verified TLS only): any real gRPC answer
//! proves the ingress routes gRPC to admin; an HTML page or a bare HTTP error proves it
//! does not, whatever the certificate.

use serde::Serialize;

use crate::findings::{Finding, FindingId, Severity};

pub const PATH: &str = "/grpc.health.v1.Health/Check";

/// grpc-go's error (http2_client.go) for an answer that is not gRPC: the status code it
/// maps the HTTP status to, the HTTP status, and what is wrong with the answer.
pub const UNEXPECTED_HTTP_STATUS: crate::verifiers::pattern::Pattern =
    crate::verifiers::pattern::Pattern(&[
        "rpc error: code = ",
        " desc = unexpected HTTP status code received from server: ",
        "; ",
        "",
    ]);

/// What the health call said.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GrpcHealth {
    /// HTTP status of the answer.
    pub http_status: Option<u16>,
    /// Its content-type (gRPC answers with application/grpc).
    pub content_type: Option<String>,
    /// grpc-status from the trailers (or the headers of a trailers-only answer).
    pub grpc_status: Option<u32>,
    pub grpc_message: Option<String>,
    /// The HealthCheckResponse: SERVING, NOT_SERVING, UNKNOWN or SERVICE_UNKNOWN.
    pub serving: Option<String>,
    /// Why there is no answer (not attempted, TLS refused, timeout …).
    pub error: Option<String>,
}

/// Calls Health/Check with an empty request (the server's overall health).
pub async fn check(client: &reqwest::Client, base: &str) -> GrpcHealth {
    use http_body_util::BodyExt;
    let url = format!("{base}{PATH}");
    // One uncompressed, empty HealthCheckRequest: flag 0, length 0.
    let request = client
        .post(&url)
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(vec![0u8, 0, 0, 0, 0]);
    let response = match request.send().await {
        Ok(response) => response,
        Err(error) => {
            return GrpcHealth {
                error: Some(super::http::describe_error(&error)),
                ..GrpcHealth::default()
            }
        }
    };
    let mut health = GrpcHealth {
        http_status: Some(response.status().as_u16()),
        content_type: header(response.headers(), "content-type"),
        ..GrpcHealth::default()
    };
    let trailers_only = grpc_fields(response.headers());
    let response: http::Response<reqwest::Body> = response.into();
    let collected = match response.into_body().collect().await {
        Ok(collected) => collected,
        Err(error) => {
            health.error = Some(format!("reading the answer: {error}"));
            return health;
        }
    };
    let (status, message) = match collected.trailers().map(grpc_fields) {
        Some((Some(status), message)) => (Some(status), message),
        _ => trailers_only,
    };
    health.grpc_status = status;
    health.grpc_message = message;
    if status == Some(0) {
        health.serving = serving_status(&collected.to_bytes());
    }
    health
}

fn header(headers: &http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn grpc_fields(headers: &http::HeaderMap) -> (Option<u32>, Option<String>) {
    (
        header(headers, "grpc-status").and_then(|s| s.trim().parse().ok()),
        header(headers, "grpc-message"),
    )
}

/// The `status` field (1, varint) of the first length-prefixed HealthCheckResponse.
fn serving_status(body: &[u8]) -> Option<String> {
    let message = body.get(5..)?;
    let length = u32::from_be_bytes(body.get(1..5)?.try_into().ok()?) as usize;
    let message = message.get(..length)?;
    // An empty message is the default: status 0 (UNKNOWN).
    let value = match message {
        [] => 0,
        [0x08, value, ..] if *value < 0x80 => *value,
        _ => return Some("unparsable".into()),
    };
    Some(
        match value {
            0 => "UNKNOWN",
            1 => "SERVING",
            2 => "NOT_SERVING",
            3 => "SERVICE_UNKNOWN",
            _ => "unparsable",
        }
        .into(),
    )
}

/// gRPC's name for a status code.
fn code_name(code: u32) -> &'static str {
    const NAMES: [&str; 17] = [
        "OK",
        "Canceled",
        "Unknown",
        "InvalidArgument",
        "DeadlineExceeded",
        "NotFound",
        "AlreadyExists",
        "PermissionDenied",
        "ResourceExhausted",
        "FailedPrecondition",
        "Aborted",
        "OutOfRange",
        "Unimplemented",
        "Internal",
        "Unavailable",
        "DataLoss",
        "Unauthenticated",
    ];
    NAMES.get(code as usize).copied().unwrap_or("Unknown")
}

/// The gRPC code grpc-go reports for a non-gRPC HTTP answer (its HTTPStatusConvTab).
fn code_for_http(status: u16) -> &'static str {
    match status {
        400 => "Internal",
        401 => "Unauthenticated",
        403 => "PermissionDenied",
        404 => "Unimplemented",
        429 | 502..=504 => "Unavailable",
        _ => "Unknown",
    }
}

/// "404 (Not Found)", as Go's http.StatusText has it ("520 ()" for a code it does not know).
fn reason(status: u16) -> String {
    let text = http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    format!("{status} ({text})")
}

/// The answer in a few words, for the text and Markdown reports.
pub fn summary(health: &GrpcHealth) -> String {
    if let Some(error) = &health.error {
        return format!("no answer: {error}");
    }
    match (
        health.grpc_status,
        health.serving.as_deref(),
        health.http_status,
    ) {
        (Some(0), Some(serving), _) => format!("{serving} (gRPC is routed to admin)"),
        (Some(12), _, _) => "gRPC is routed to admin (its health service is not registered)".into(),
        (Some(code), _, _) => format!("grpc-status {code} ({})", code_name(code)),
        (None, _, Some(status)) => format!(
            "HTTP {} {}: not gRPC",
            reason(status),
            health.content_type.as_deref().unwrap_or("")
        ),
        (None, _, None) => "no answer".into(),
    }
}

/// What the answer means for flytectl, as a finding when it means trouble.
pub fn finding(health: &GrpcHealth, url: &str) -> Option<Finding> {
    let http_status = health.http_status?;
    let is_grpc = health
        .content_type
        .as_deref()
        .is_some_and(|c| c.starts_with("application/grpc"));
    if !is_grpc && health.grpc_status.is_none() {
        // grpc-go's wording (http2_client.go) for an answer that is not gRPC.
        let (got, detail) = match &health.content_type {
            Some(content_type) => (
                format!("content-type {content_type:?}"),
                format!("transport: received unexpected content-type {content_type:?}"),
            ),
            None => (
                "no content-type".to_string(),
                "malformed header: missing HTTP content-type".to_string(),
            ),
        };
        return Some(Finding::new(
            FindingId::GrpcNotRouted,
            None,
            format!(
                "POST {url} (a gRPC health call) got HTTP {} with {got}, not a gRPC answer: the ingress does not route gRPC to flyteadmin's gRPC port. flytectl fails every call with \"{}\", whatever the certificate.",
                reason(http_status),
                UNEXPECTED_HTTP_STATUS.fill(&[
                    code_for_http(http_status),
                    &reason(http_status),
                    &detail
                ]),
            ),
        ));
    }
    match (health.grpc_status, health.serving.as_deref()) {
        // A gRPC server answered: routing works. Unimplemented only means no health service.
        (Some(0), Some("SERVING")) | (Some(12), _) => None,
        (Some(0), serving) => Some(
            Finding::new(
                FindingId::GrpcHealthNotServing,
                None,
                format!(
                    "admin's gRPC health service answers {}: gRPC is routed, but admin reports itself unhealthy.",
                    serving.unwrap_or("nothing")
                ),
            )
            .severity(Severity::Warning),
        ),
        (Some(code), _) => Some(Finding::new(
            FindingId::GrpcHealthNotServing,
            None,
            format!(
                "POST {url} answered grpc-status {code} ({}){}: flytectl's calls get \"rpc error: code = {} desc = {}\".",
                code_name(code),
                health
                    .grpc_message
                    .as_deref()
                    .map(|m| format!(", {m:?}"))
                    .unwrap_or_default(),
                code_name(code),
                health.grpc_message.as_deref().unwrap_or(""),
            ),
        )),
        (None, _) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_response_status() {
        assert_eq!(
            serving_status(&[0, 0, 0, 0, 2, 0x08, 1]).as_deref(),
            Some("SERVING")
        );
        assert_eq!(
            serving_status(&[0, 0, 0, 0, 2, 0x08, 2]).as_deref(),
            Some("NOT_SERVING")
        );
        assert_eq!(serving_status(&[0, 0, 0, 0, 0]).as_deref(), Some("UNKNOWN"));
        assert_eq!(serving_status(&[0, 0, 0]), None);
        assert_eq!(
            serving_status(&[0, 0, 0, 0, 9, 0x08]),
            None,
            "length beyond the body"
        );
    }

    #[test]
    fn http_answers_map_to_grpc_go_codes() {
        assert_eq!(code_for_http(404), "Unimplemented");
        assert_eq!(code_for_http(502), "Unavailable");
        assert_eq!(code_name(14), "Unavailable");
        assert_eq!(code_name(99), "Unknown");
        assert_eq!(reason(404), "404 (Not Found)");
        assert_eq!(reason(520), "520 ()");
    }

    #[test]
    fn an_answer_without_content_type_is_named_as_grpc_go_does() {
        let health = GrpcHealth {
            http_status: Some(502),
            ..GrpcHealth::default()
        };
        let finding = finding(&health, "https://admin/x").unwrap();
        assert!(finding.message.contains("rpc error: code = Unavailable desc = unexpected HTTP status code received from server: 502 (Bad Gateway); malformed header: missing HTTP content-type"), "{}", finding.message);
    }
}

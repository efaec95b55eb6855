//! OAuth discovery over HTTPS: admin's authorization server metadata, which says whether
//! auth is on and which hosts the login uses, and the flyte client config beside it.

use serde_json::Value;

use super::hosts::authority_of;
use super::http;
use super::summary::{AuthState, AuthSummary, ClientConfigSummary, OAuthMetadata};
use crate::findings::{Finding, FindingId};
use crate::report::Report;

/// Reads the metadata from admin at `base` (https://host:port); a failure is a finding
/// and an unknown auth state.
pub(super) async fn discover(
    client: &reqwest::Client,
    base: &str,
    findings: &mut Vec<Finding>,
) -> AuthSummary {
    let url = format!("{base}/.well-known/oauth-authorization-server");
    let (status, body) = match http::get_json(client, &url).await {
        Ok(answer) => answer,
        Err(error) => {
            findings.push(Finding::new(
                FindingId::OauthMetadataUnreachable,
                None,
                format!("GET {url} failed: {error}. flytectl reads the same metadata over gRPC before it logs in."),
            ));
            return AuthSummary::unknown(error);
        }
    };
    match (status, body) {
        (404, _) => {
            findings.push(Finding::new(
                FindingId::AuthDisabled,
                None,
                format!("GET {url} answered 404: flyteadmin runs without authentication (server.security.useAuth: false), so no OAuth host is involved."),
            ));
            AuthSummary::off()
        }
        (200, Some(json)) => {
            let metadata = oauth_metadata(&json);
            AuthSummary {
                state: AuthState::On,
                server: authorization_server(&metadata, base),
                metadata: Some(metadata),
                client: client_config(client, base).await,
                error: None,
            }
        }
        (status, _) => {
            let error = format!("GET {url} answered {status} without OAuth metadata");
            findings.push(Finding::new(
                FindingId::OauthMetadataUnreachable,
                None,
                format!("{error}."),
            ));
            AuthSummary::unknown(error)
        }
    }
}

/// Discovery is skipped when admin speaks no TLS; the auth state says why.
pub(super) fn not_attempted(admin_report: &Report) -> AuthSummary {
    let why = admin_report
        .error
        .clone()
        .unwrap_or_else(|| "no TLS".into());
    AuthSummary::unknown(format!("not attempted: {why}"))
}

/// A string field by its snake_case or camelCase name (protobuf JSON may use either).
fn field(value: &Value, snake: &str, camel: &str) -> Option<String> {
    value
        .get(snake)
        .or_else(|| value.get(camel))
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn oauth_metadata(json: &Value) -> OAuthMetadata {
    OAuthMetadata {
        issuer: field(json, "issuer", "issuer"),
        authorization_endpoint: field(json, "authorization_endpoint", "authorizationEndpoint"),
        token_endpoint: field(json, "token_endpoint", "tokenEndpoint"),
        jwks_uri: field(json, "jwks_uri", "jwksUri"),
        device_authorization_endpoint: field(
            json,
            "device_authorization_endpoint",
            "deviceAuthorizationEndpoint",
        ),
    }
}

/// "built-in" when admin itself is the token endpoint (authServerType: Self).
fn authorization_server(metadata: &OAuthMetadata, base: &str) -> Option<String> {
    let admin_host = authority_of(base).map(|t| t.authority());
    metadata
        .token_endpoint
        .as_deref()
        .and_then(authority_of)
        .map(|t| {
            if Some(t.authority()) == admin_host {
                "built-in"
            } else {
                "external"
            }
            .to_string()
        })
}

/// GET /config/v1/flyte_client: the client id, redirect URI and scopes flytectl uses.
async fn client_config(client: &reqwest::Client, base: &str) -> Option<ClientConfigSummary> {
    let url = format!("{base}/config/v1/flyte_client");
    match http::get_json(client, &url).await {
        Ok((200, Some(json))) => Some(ClientConfigSummary {
            client_id: field(&json, "client_id", "clientId"),
            redirect_uri: field(&json, "redirect_uri", "redirectUri"),
            scopes: json
                .get("scopes")
                .and_then(|s| s.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
            authorization_metadata_key: field(
                &json,
                "authorization_metadata_key",
                "authorizationMetadataKey",
            ),
        }),
        _ => None,
    }
}

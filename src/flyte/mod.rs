//! `certready flyte`: every host a flytectl login touches. Admin's TLS and gRPC
//! readiness, OAuth discovery over HTTPS (reqwest, verified with our own trust stores:
//! never over the unverified capture handshake), a TLS check and client verdicts for
//! each OAuth host, and the console's CORS preflight as flyteadmin answers it.

pub mod config;
pub mod grpc_health;
mod http;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

use crate::check::{self, Settings};
use crate::clients::{Channel, ClientName};
use crate::findings::{Finding, FindingId, Severity};
use crate::probe::ProbeErrorKind;
use crate::report::{Report, Status};
use crate::target::{self, Target};

/// The headers flyteconsole sends on API calls when auth is on.
const CONSOLE_HEADERS: &str = "flyte-authorization, content-type";
/// An API path the console calls; any admin HTTP path goes through the same CORS layer.
const CORS_PROBE_PATH: &str = "/api/v1/projects";

#[derive(Debug, Default, Clone)]
pub struct FlyteOptions {
    /// The console's origin (scheme://host[:port]) for the CORS preflight.
    pub console_origin: Option<String>,
    /// flytectl's admin.httpProxyURL: its OAuth HTTP requests go through it, so ours do.
    pub http_proxy: Option<String>,
    /// flytectl's admin.authType (ClientSecret by default).
    pub auth_type: Option<String>,
}

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

#[derive(Debug, Clone, Serialize)]
pub struct CorsResult {
    pub origin: String,
    pub url: String,
    pub status: Option<u16>,
    pub allow_origin: Option<String>,
    pub allow_headers: Option<String>,
    pub allow_credentials: Option<String>,
    /// "allowed", "origin-not-allowed", "header-not-allowed", "method-not-allowed",
    /// "rejected", "unreachable".
    pub verdict: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct FlyteSummary {
    pub endpoint: String,
    pub grpc_alpn: Option<String>,
    pub healthcheck: Option<u16>,
    pub auth: AuthSummary,
    pub cors: Option<CorsResult>,
    /// The gRPC health call through the ingress (admin negotiating h2 over verified TLS).
    pub grpc_health: Option<grpc_health::GrpcHealth>,
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

fn field(value: &serde_json::Value, snake: &str, camel: &str) -> Option<String> {
    value
        .get(snake)
        .or_else(|| value.get(camel))
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// host:port of a URL, for grouping hosts.
fn authority_of(url: &str) -> Option<Target> {
    let rest = url.strip_prefix("https://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let (host, port) = target::split_host_port(authority).ok()?;
    Some(Target {
        input: format!("https://{authority}"),
        host,
        port: port.unwrap_or(target::DEFAULT_PORT),
    })
}

pub async fn run(admin: &Target, settings: Arc<Settings>, options: &FlyteOptions) -> FlyteRun {
    let mut findings = Vec::new();
    let flytectl = &settings.clients.flytectl;
    let config_note = flytectl
        .config_path
        .as_ref()
        .map(|p| format!(" ({})", p.display()))
        .unwrap_or_default();

    let mut admin_report = check::check(admin, &settings).await;
    admin_report.role = Some("admin (gRPC and HTTP)".into());
    let base = format!("https://{}", admin.authority());

    match admin_report.error_kind {
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
        _ if flytectl.insecure && admin_report.tls.is_some() => findings.push(Finding::new(
            FindingId::InsecureButTls,
            None,
            format!("The flytectl config sets admin.insecure: true{config_note}, but {} speaks TLS: flytectl will send plaintext gRPC to a TLS port and fail. Remove admin.insecure.", admin.authority()),
        )),
        _ => {}
    }

    let grpc_alpn = admin_report.tls.as_ref().and_then(|t| t.alpn.clone());
    if admin_report.tls.is_some() && grpc_alpn.as_deref() != Some("h2") {
        findings.push(Finding::new(
            FindingId::AlpnNoH2,
            None,
            format!(
                "admin negotiated ALPN {} instead of h2. grpc-go 1.67 and later (flytectl 0.9.6+, Flyte 1.16+) refuse it: \"credentials: cannot check peer: missing selected ALPN property\"; grpcio needs h2 as well.",
                grpc_alpn.as_deref().map(|a| format!("{a:?}")).unwrap_or_else(|| "none".into())
            ),
        ));
    }

    if flytectl.insecure_skip_verify {
        findings.push(Finding::new(
            FindingId::InsecureSkipVerifyInUse,
            None,
            format!("admin.insecureSkipVerify is true{config_note}: flytectl's gRPC channel accepts any certificate, while its OAuth login still verifies with the system store."),
        ));
    }
    // One verified TLS configuration (the trust stores' anchors) for every HTTP request.
    let tls = http::verified_tls(settings.stores.get().await, &settings);
    let client = match tls
        .clone()
        .and_then(|tls| http::client(&settings, tls, options.http_proxy.as_deref()))
    {
        Ok(client) => client,
        Err(e) => {
            findings.push(Finding::new(
                FindingId::OauthMetadataUnreachable,
                None,
                format!("cannot build an HTTP client: {e}"),
            ));
            return finish(
                admin,
                vec![admin_report],
                grpc_alpn,
                None,
                unknown_auth(e),
                None,
                findings,
            );
        }
    };

    let tls_up = admin_report.tls.is_some();
    let healthcheck = if tls_up {
        match client.get(format!("{base}/healthcheck")).send().await {
            Ok(response) => {
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
            Err(_) => None,
        }
    } else {
        None
    };

    let grpc_health = if tls_up && grpc_alpn.as_deref() == Some("h2") {
        let health = match tls
            .clone()
            .and_then(|tls| http::grpc_client(tls, &settings, admin))
        {
            Ok(grpc) => grpc_health::check(&grpc, &base).await,
            Err(error) => grpc_health::GrpcHealth {
                error: Some(error),
                ..Default::default()
            },
        };
        let url = format!("{base}{}", grpc_health::PATH);
        findings.extend(grpc_health::finding(&health, &url));
        Some(health)
    } else {
        None
    };

    let auth = if tls_up {
        discover(&client, &base, &mut findings).await
    } else {
        unknown_auth(format!(
            "not attempted: {}",
            admin_report
                .error
                .clone()
                .unwrap_or_else(|| "no TLS".into())
        ))
    };

    // Every distinct OAuth host other than admin gets its own check and verdicts.
    let mut roles: BTreeMap<String, (Target, Vec<&'static str>)> = BTreeMap::new();
    if let Some(metadata) = &auth.metadata {
        for (url, role) in [
            (&metadata.token_endpoint, "OAuth token endpoint"),
            (
                &metadata.authorization_endpoint,
                "OAuth authorization endpoint",
            ),
            (
                &metadata.device_authorization_endpoint,
                "OAuth device authorization endpoint",
            ),
            (&metadata.jwks_uri, "OAuth JWKS"),
            (&metadata.issuer, "OAuth issuer"),
        ] {
            let Some(target) = url.as_deref().and_then(authority_of) else {
                continue;
            };
            let entry = roles
                .entry(target.authority())
                .or_insert_with(|| (target, Vec::new()));
            entry.1.push(role);
        }
    }
    let token_url = auth
        .metadata
        .as_ref()
        .and_then(|m| m.token_endpoint.clone());
    let mut reports = Vec::new();
    if let Some((_, admin_roles)) = roles.remove(&admin.authority()) {
        admin_report.role = Some(format!("admin (gRPC and HTTP), {}", admin_roles.join(", ")));
        if token_url.is_some() {
            // Re-judge with the real token URL in the OAuth clients' messages.
            admin_report = check::check_with_token_url(admin, &settings, token_url.clone()).await;
            admin_report.role = Some(format!("admin (gRPC and HTTP), {}", admin_roles.join(", ")));
        }
    }
    reports.push(admin_report);
    for (_, (target, host_roles)) in roles {
        let is_token_host = host_roles.contains(&"OAuth token endpoint");
        let mut report = check::check_with_token_url(
            &target,
            &settings,
            if is_token_host {
                token_url.clone()
            } else {
                None
            },
        )
        .await;
        report.role = Some(host_roles.join(", "));
        reports.push(report);
    }

    // With ExternalCommand, flytectl gets its token from a command, not a token endpoint.
    if options.auth_type.as_deref() != Some("ExternalCommand") {
        login_findings(&reports, &auth, &settings, &mut findings);
    }
    // In this view the config-level warning is a Flyte finding, not one per host.
    for report in &mut reports {
        report
            .findings
            .retain(|f| f.id != FindingId::InsecureSkipVerifyInUse);
    }

    let cors = match (&options.console_origin, tls_up) {
        (Some(origin), true) => Some(cors_preflight(&client, &base, origin, &mut findings).await),
        _ => None,
    };
    let mut run = finish(admin, reports, grpc_alpn, healthcheck, auth, cors, findings);
    run.summary.grpc_health = grpc_health;
    run
}

fn unknown_auth(error: String) -> AuthSummary {
    AuthSummary {
        state: AuthState::Unknown,
        server: None,
        metadata: None,
        client: None,
        error: Some(error),
    }
}

fn finish(
    admin: &Target,
    reports: Vec<Report>,
    grpc_alpn: Option<String>,
    healthcheck: Option<u16>,
    auth: AuthSummary,
    cors: Option<CorsResult>,
    mut findings: Vec<Finding>,
) -> FlyteRun {
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    FlyteRun {
        reports,
        summary: FlyteSummary {
            endpoint: admin.authority(),
            grpc_alpn,
            healthcheck,
            auth,
            cors,
            grpc_health: None,
            findings,
        },
    }
}

async fn discover(
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
            return unknown_auth(error);
        }
    };
    match (status, body) {
        (404, _) => {
            findings.push(Finding::new(
                FindingId::AuthDisabled,
                None,
                format!("GET {url} answered 404: flyteadmin runs without authentication (server.security.useAuth: false), so no OAuth host is involved."),
            ));
            AuthSummary {
                state: AuthState::Off,
                server: None,
                metadata: None,
                client: None,
                error: None,
            }
        }
        (200, Some(json)) => {
            let metadata = OAuthMetadata {
                issuer: field(&json, "issuer", "issuer"),
                authorization_endpoint: field(
                    &json,
                    "authorization_endpoint",
                    "authorizationEndpoint",
                ),
                token_endpoint: field(&json, "token_endpoint", "tokenEndpoint"),
                jwks_uri: field(&json, "jwks_uri", "jwksUri"),
                device_authorization_endpoint: field(
                    &json,
                    "device_authorization_endpoint",
                    "deviceAuthorizationEndpoint",
                ),
            };
            let admin_host = authority_of(base).map(|t| t.authority());
            let server = metadata
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
                });
            let client_url = format!("{base}/config/v1/flyte_client");
            let client_config = match http::get_json(client, &client_url).await {
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
            };
            AuthSummary {
                state: AuthState::On,
                server,
                metadata: Some(metadata),
                client: client_config,
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
            unknown_auth(error)
        }
    }
}

/// Says plainly which host breaks the login, with the client's message.
fn login_findings(
    reports: &[Report],
    auth: &AuthSummary,
    settings: &Settings,
    findings: &mut Vec<Finding>,
) {
    let grpc_note = |admin: &Report| {
        let grpc_ok = admin
            .clients
            .iter()
            .filter(|c| c.channel == Channel::Grpc && c.client == ClientName::FlytectlMacos)
            .all(|c| c.accepts);
        if grpc_ok && settings.clients.flytectl.insecure_skip_verify {
            " — while gRPC works, because insecureSkipVerify switches off its verification"
        } else if grpc_ok {
            " — while gRPC works"
        } else {
            ""
        }
    };
    let Some(admin) = reports.first() else { return };
    let token_host = reports.iter().find(|r| {
        r.role
            .as_deref()
            .is_some_and(|role| role.contains("OAuth token endpoint"))
    });
    // With unknown metadata the built-in server is the common case: admin is the token host.
    let (token_report, assumed) = match (token_host, &auth.state) {
        (Some(report), _) => (report, false),
        (None, AuthState::Unknown) => (admin, true),
        (None, _) => return,
    };
    // One finding per distinct message; macOS and Linux often print the same one.
    let mut failures: Vec<(Vec<&str>, String)> = Vec::new();
    for client in [ClientName::FlytectlMacos, ClientName::FlytectlLinux] {
        let Some(error) = token_report
            .clients
            .iter()
            .find(|c| c.client == client && c.channel == Channel::OauthHttp && !c.accepts)
            .and_then(|c| c.error.clone())
        else {
            continue;
        };
        let platform = if client == ClientName::FlytectlMacos {
            "macOS"
        } else {
            "Linux"
        };
        match failures.iter_mut().find(|(_, e)| *e == error) {
            Some((platforms, _)) => platforms.push(platform),
            None => failures.push((vec![platform], error)),
        }
    }
    for (platforms, error) in failures {
        let url = auth
            .metadata
            .as_ref()
            .and_then(|m| m.token_endpoint.clone())
            .unwrap_or_else(|| {
                format!(
                    "https://{}/oauth2/token",
                    token_report.target.trim_start_matches("https://")
                )
            });
        let prefix = if assumed {
            "If admin runs the built-in authorization server (authServerType: Self), the"
        } else {
            "The"
        };
        let message = format!(
            "{prefix} token exchange POST {url} fails on {} flytectl with: {error}{}.",
            platforms.join(" and "),
            if token_report.role == admin.role {
                grpc_note(admin)
            } else {
                ""
            }
        );
        let mut finding = Finding::new(FindingId::OauthLoginFails, None, message);
        if assumed {
            finding = finding.severity(Severity::Warning);
        }
        findings.push(finding);
    }
    if let Some(authorize) = reports.iter().find(|r| {
        r.role
            .as_deref()
            .is_some_and(|role| role.contains("OAuth authorization endpoint"))
    }) {
        if let Some(browser) = authorize
            .clients
            .iter()
            .find(|c| c.client == ClientName::Browser && !c.accepts)
        {
            findings.push(Finding::new(
                FindingId::OauthLoginFails,
                None,
                format!(
                    "The browser step of the login (the authorization endpoint on {}) fails with {}.",
                    authorize.target,
                    browser.error.clone().unwrap_or_default()
                ),
            ));
        }
    }
}

async fn cors_preflight(
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
        verdict: "unreachable".into(),
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
    let snippet = cors_snippet(origin);
    result.verdict = match (status, &result.allow_origin) {
        (403, _) => {
            findings.push(
                Finding::new(
                    FindingId::CorsHeaderNotAllowed,
                    None,
                    format!("flyteadmin answered the console's preflight from {origin} with 403: a requested header ({CONSOLE_HEADERS}) is not in server.security.allowedHeaders. The console sends flyte-authorization when auth is on."),
                )
                .remediation(snippet),
            );
            "header-not-allowed".into()
        }
        (405, _) => {
            findings.push(Finding::new(
                FindingId::CorsPreflightRejected,
                None,
                "flyteadmin answered the preflight with 405: method GET not allowed (gorilla/handlers allows GET, POST, DELETE, HEAD, PUT, PATCH); something in front of admin changes the request.",
            ));
            "method-not-allowed".into()
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
            "origin-not-allowed".into()
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
            "allowed".into()
        }
        (status, _) => {
            findings.push(Finding::new(
                FindingId::CorsPreflightRejected,
                None,
                format!("flyteadmin answered the console's preflight from {origin} with {status}; flyteadmin's CORS layer answers 400 only when Access-Control-Request-Method is missing, so a proxy in front of admin may be dropping it."),
            ));
            "rejected".into()
        }
    };
    result
}

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

/// Worst status over the host reports and the Flyte findings.
pub fn exit_code(run: &FlyteRun) -> i32 {
    let hosts = run.reports.iter().map(|r| r.status);
    Status::worst(hosts.chain(std::iter::once(run.summary.status()))).exit_code()
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

    #[test]
    fn urls_group_by_authority() {
        let target = authority_of("https://idp.example.com/oauth2/v1/token").unwrap();
        assert_eq!(target.authority(), "idp.example.com:443");
        assert_eq!(
            authority_of("https://[::1]:8443/x").unwrap().authority(),
            "[::1]:8443"
        );
        assert!(authority_of("http://plain.example.com/").is_none());
    }
}

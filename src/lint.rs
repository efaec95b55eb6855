//! `certready lint-config`: pre-deploy lint of flyteadmin's server config and of a
//! flytectl client config, told apart by their keys. Every finding names the key and,
//! for block-style YAML, its line.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use crate::check::{self, InspectOptions, Settings};
use crate::clients::{Channel, ClientName};
use crate::findings::{Finding, FindingId, Severity};
use crate::input;
use crate::report::{Report, Status};
use crate::target::{self, Host};

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
/// flyteadmin's `server.security` (ServerSecurityOptions; `oauth` in old releases).
const SECURITY_KEYS: &[&str] = &[
    "secure",
    "ssl",
    "useAuth",
    "auditAccess",
    "allowCors",
    "allowedOrigins",
    "allowedHeaders",
    "oauth",
];
const SSL_KEYS: &[&str] = &["certificateFile", "keyFile"];
const AUTH_TYPES: &[&str] = &["ClientSecret", "Pkce", "ExternalCommand", "DeviceFlow"];

#[derive(Debug, Clone, Serialize)]
pub struct LintFinding {
    #[serde(flatten)]
    pub finding: Finding,
    /// The config key concerned, dotted (e.g. `server.security.allowedOrigins`).
    pub key: Option<String>,
    /// 1-based line of that key, when the YAML is in block style.
    pub line: Option<usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LintReport {
    pub file: String,
    /// "flyteadmin", "flytectl", or null when not recognised.
    pub kind: Option<&'static str>,
    pub status: Status,
    pub error: Option<String>,
    pub findings: Vec<LintFinding>,
    /// The analysis of server.security.ssl.certificateFile, when present.
    pub certificate: Option<Report>,
}

impl LintReport {
    /// A report for `path` before anything is known about it.
    fn unknown(path: &Path) -> Self {
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

#[derive(Debug, Default, Clone)]
pub struct LintOptions {
    pub console_origin: Option<String>,
}

/// Dotted key path → line, for block-style YAML.
fn key_lines(text: &str) -> HashMap<String, usize> {
    let mut lines = HashMap::new();
    let mut stack: Vec<(usize, String)> = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with("- ") {
            continue;
        }
        let indent = line.len() - trimmed.len();
        let Some((key, _)) = trimmed.split_once(':') else {
            continue;
        };
        let key = key.trim().trim_matches(['"', '\'']);
        if key.is_empty() || key.contains(' ') {
            continue;
        }
        while stack.last().is_some_and(|(i, _)| *i >= indent) {
            stack.pop();
        }
        stack.push((indent, key.to_string()));
        let path: Vec<&str> = stack.iter().map(|(_, k)| k.as_str()).collect();
        lines.entry(path.join(".")).or_insert(number + 1);
    }
    lines
}

struct Linter<'a> {
    lines: HashMap<String, usize>,
    findings: Vec<LintFinding>,
    base_dir: &'a Path,
}

impl Linter<'_> {
    fn push(&mut self, key: &str, finding: Finding) {
        self.findings.push(LintFinding {
            line: self.lines.get(key).copied(),
            key: Some(key.to_string()),
            finding,
        });
    }

    fn unknown_keys(&mut self, section: &str, value: &Value, known: &[&str]) {
        let Some(map) = value.as_object() else { return };
        for key in map.keys() {
            if known.contains(&key.as_str()) {
                continue;
            }
            let suggestion = known
                .iter()
                .map(|k| (strsim::jaro_winkler(k, key), *k))
                .filter(|(score, _)| *score > 0.85)
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .map(|(_, k)| format!(" Did you mean `{k}`?"))
                .unwrap_or_default();
            let path = format!("{section}.{key}");
            self.push(
                &path,
                Finding::new(
                    FindingId::ConfigUnknownKey,
                    None,
                    format!(
                        "`{path}` is not a key flyte reads, so it is silently ignored.{suggestion}"
                    ),
                ),
            );
        }
    }

    /// A path from the config, relative to the config file's directory when not absolute.
    fn resolve(&self, path: &str) -> PathBuf {
        let path = Path::new(path);
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.base_dir.join(path)
        }
    }
}

pub fn lint_file(path: &Path, options: &LintOptions, settings: &Settings) -> LintReport {
    let mut report = LintReport::unknown(path);
    match input::read_limited(path).and_then(|bytes| {
        String::from_utf8(bytes).map_err(|_| input::InputError::new(path, "is not UTF-8 text"))
    }) {
        Ok(text) => lint_text(path, &text, options, settings),
        Err(e) => {
            report.error = Some(e.to_string());
            report
        }
    }
}

/// Lints config `text`; `path` names it in messages and anchors relative file paths.
pub fn lint_text(
    path: &Path,
    text: &str,
    options: &LintOptions,
    settings: &Settings,
) -> LintReport {
    let mut report = LintReport::unknown(path);
    if text.trim().is_empty() {
        report.error = Some(format!("{}: is empty", path.display()));
        return report;
    }
    let value: Value = match serde_saphyr::from_str(text) {
        Ok(value) => value,
        Err(e) => {
            report.error = Some(format!("{}: is not valid YAML: {e}", path.display()));
            return report;
        }
    };
    let base_dir = path.parent().unwrap_or(Path::new("."));
    let mut linter = Linter {
        lines: key_lines(text),
        findings: Vec::new(),
        base_dir,
    };
    if value.get("server").is_some() || value.get("auth").is_some() {
        report.kind = Some("flyteadmin");
        report.certificate = lint_admin(&value, &mut linter, options, settings);
    } else if value.get("admin").is_some() {
        report.kind = Some("flytectl");
        lint_client(&value, &mut linter);
    } else {
        report.error = Some(format!(
            "{}: is neither a flyteadmin config (server:, auth:) nor a flytectl config (admin:)",
            path.display()
        ));
        return report;
    }
    linter.findings.sort_by_key(|f| {
        (
            std::cmp::Reverse(f.finding.severity),
            f.line.unwrap_or(usize::MAX),
        )
    });
    report.findings = linter.findings;
    report.status = Status::from_severities(report.findings.iter().map(|f| f.finding.severity));
    if let Some(cert) = &report.certificate {
        report.status = report.status.max(cert.status);
    }
    report
}

fn lint_admin(
    value: &Value,
    linter: &mut Linter<'_>,
    options: &LintOptions,
    settings: &Settings,
) -> Option<Report> {
    let empty = Value::Null;
    let security = value.pointer("/server/security").unwrap_or(&empty);
    linter.unknown_keys("server.security", security, SECURITY_KEYS);
    if let Some(ssl) = security.get("ssl") {
        linter.unknown_keys("server.security.ssl", ssl, SSL_KEYS);
    }
    let flag = |v: &Value, key: &str, default: bool| {
        v.get(key).and_then(Value::as_bool).unwrap_or(default)
    };
    let use_auth = flag(security, "useAuth", false);
    let allow_cors = flag(security, "allowCors", true);
    let strings = |key: &str| -> Option<Vec<String>> {
        security.get(key).and_then(Value::as_array).map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
    };
    // Defaults in flyteadmin's code when the keys are absent.
    let origins = strings("allowedOrigins").unwrap_or_else(|| vec!["*".into()]);
    let headers = strings("allowedHeaders");

    if allow_cors {
        let key = "server.security.allowedOrigins";
        if origins.iter().any(|o| o == "*") {
            linter.push(key, Finding::new(
                FindingId::CorsWildcardWithCredentials,
                None,
                "allowedOrigins contains \"*\" (also flyteadmin's default): flyteadmin always allows credentials, and browsers refuse credentialed requests against a wildcard origin.",
            ));
        }
        for origin in origins.iter().filter(|o| *o != "*") {
            let after_scheme = origin
                .strip_prefix("https://")
                .or_else(|| origin.strip_prefix("http://"));
            let malformed = match after_scheme {
                None => Some(format!("{origin:?} has no http:// or https:// scheme")),
                Some(rest) if rest.ends_with('/') && !rest.trim_end_matches('/').contains('/') => {
                    Some(format!("{origin:?} ends with a slash"))
                }
                Some(rest) if rest.contains('/') => Some(format!("{origin:?} has a path")),
                Some(_) => None,
            };
            if let Some(why) = malformed {
                linter.push(key, Finding::new(
                    FindingId::CorsOriginMalformed,
                    None,
                    format!("{why}. Browsers send the origin as scheme://host[:port] with no path or slash, and flyteadmin compares it exactly: this entry never matches."),
                ));
            }
        }
    }
    if let Some(console) = &options.console_origin {
        let allowed = allow_cors && origins.iter().any(|o| o == "*" || o == console);
        if !allowed {
            let why = if allow_cors {
                format!("{console} is not in allowedOrigins")
            } else {
                "allowCors is false".to_string()
            };
            linter.push(
                "server.security.allowedOrigins",
                Finding::new(
                    FindingId::CorsOriginNotAllowed,
                    None,
                    format!("The console at {console} cannot call admin: {why}."),
                ),
            );
        }
    }
    if use_auth {
        if let Some(headers) = &headers {
            if !headers
                .iter()
                .any(|h| h.eq_ignore_ascii_case("flyte-authorization"))
            {
                linter.push("server.security.allowedHeaders", Finding::new(
                    FindingId::CorsHeaderNotAllowed,
                    None,
                    "useAuth is on but allowedHeaders lacks flyte-authorization: the console's preflight gets 403 (the flyte-core chart sets only Content-Type).",
                ));
            }
        }
    }

    // thirdPartyConfig.flyteClient.redirectUri: flytectl's PKCE callback on localhost.
    for (pointer, key) in [
        (
            "/auth/appAuth/thirdPartyConfig/flyteClient/redirectUri",
            "auth.appAuth.thirdPartyConfig.flyteClient.redirectUri",
        ),
        (
            "/server/thirdPartyConfig/flyteClient/redirectUri",
            "server.thirdPartyConfig.flyteClient.redirectUri",
        ),
    ] {
        if let Some(uri) = value.pointer(pointer).and_then(Value::as_str) {
            if let Err(why) = check_redirect_uri(uri) {
                linter.push(key, Finding::new(FindingId::RedirectUriShape, None, why));
            }
        }
    }

    // server.security.ssl: run the certificate through inspect.
    let cert_path = security
        .pointer("/ssl/certificateFile")
        .and_then(Value::as_str);
    let key_path = security.pointer("/ssl/keyFile").and_then(Value::as_str);
    let cert_path = cert_path?;
    let resolved = linter.resolve(cert_path);
    if !resolved.exists() {
        linter.push("server.security.ssl.certificateFile", Finding::new(
            FindingId::ConfigFileMissing,
            None,
            format!("{cert_path} does not exist here ({}); it is checked when present (e.g. run lint-config where the Secret is mounted).", resolved.display()),
        ).severity(Severity::Info));
        return None;
    }
    let key = key_path
        .map(|k| linter.resolve(k))
        .filter(|k| k.exists())
        .and_then(|k| input::load_key(&k).ok());
    // The host clients dial: the first https authorizedUri, if any.
    let hostname: Option<Host> = value
        .pointer("/auth/authorizedUris")
        .and_then(Value::as_array)
        .and_then(|uris| {
            uris.iter()
                .filter_map(Value::as_str)
                .filter_map(|u| u.strip_prefix("https://"))
                .find_map(|rest| {
                    target::split_host_port(rest.split('/').next().unwrap_or(rest)).ok()
                })
                .map(|(host, _)| host)
        });
    let mut cert_report = check::inspect(
        &resolved,
        &InspectOptions {
            hostname: hostname.as_ref(),
            key: key.as_ref(),
            extra_chain: &[],
        },
        settings,
    );
    cert_report.role = Some("server.security.ssl.certificateFile".into());
    let server_type = value
        .pointer("/auth/appAuth/authServerType")
        .and_then(Value::as_str)
        .unwrap_or("Self");
    if use_auth && server_type == "Self" {
        if let Some(refusal) = cert_report.clients.iter().find(|c| {
            c.client == ClientName::FlytectlMacos && c.channel == Channel::OauthHttp && !c.accepts
        }) {
            linter.push("auth.appAuth.authServerType", Finding::new(
                FindingId::OauthLoginFails,
                None,
                format!(
                    "authServerType is Self, so flytectl exchanges its login code with admin itself, and macOS will refuse admin's certificate ({cert_path}): {}",
                    refusal.error.clone().unwrap_or_default()
                ),
            ));
        }
    }
    Some(cert_report)
}

fn check_redirect_uri(uri: &str) -> Result<(), String> {
    let fail = |why: &str| {
        Err(format!(
            "redirectUri {uri:?} {why}: flytectl's PKCE login listens on http://localhost:PORT/callback (default http://localhost:53593/callback)."
        ))
    };
    let Some(rest) = uri.strip_prefix("http://") else {
        return fail("is not http://");
    };
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    match target::split_host_port(authority) {
        Ok((host, Some(_))) if ["localhost", "127.0.0.1"].contains(&host.to_string().as_str()) => {}
        Ok((_, None)) => return fail("has no port"),
        _ => return fail("is not on localhost"),
    }
    if path != "callback" {
        return fail("does not end in /callback");
    }
    Ok(())
}

fn lint_client(value: &Value, linter: &mut Linter<'_>) {
    let empty = Value::Null;
    let admin = value.get("admin").unwrap_or(&empty);
    linter.unknown_keys("admin", admin, ADMIN_KEYS);
    let flag = |key: &str| admin.get(key).and_then(Value::as_bool).unwrap_or(false);

    let endpoint = admin.get("endpoint").and_then(Value::as_str).unwrap_or("");
    let mut port = None;
    if endpoint.is_empty() {
        linter.push("admin.endpoint", Finding::new(FindingId::EndpointForm, None, "admin.endpoint is empty: flytectl has nothing to connect to. Write dns:///flyte.example.com."));
    } else {
        match target::parse_target(endpoint) {
            Ok(parsed) => {
                port = Some(parsed.port);
                if !endpoint.starts_with("dns:///") {
                    linter.push("admin.endpoint", Finding::new(
                        FindingId::EndpointForm,
                        None,
                        format!("admin.endpoint {endpoint:?} works with flytekit, but flytectl expects dns:///{}{} (what `flytectl config init` writes).", parsed.host, if parsed.port == 443 { String::new() } else { format!(":{}", parsed.port) }),
                    ).severity(Severity::Warning));
                }
            }
            Err(e) => linter.push(
                "admin.endpoint",
                Finding::new(FindingId::EndpointForm, None, e.to_string()),
            ),
        }
    }
    if flag("insecure") && port == Some(443) {
        linter.push("admin.insecure", Finding::new(
            FindingId::InsecureButTls,
            None,
            "admin.insecure: true sends plaintext gRPC, but the endpoint uses port 443, where an ingress speaks TLS: the connection will fail. Remove admin.insecure.",
        ).severity(Severity::Warning));
    }
    if flag("insecureSkipVerify") {
        linter.push("admin.insecureSkipVerify", Finding::new(
            FindingId::InsecureSkipVerifyInUse,
            None,
            "admin.insecureSkipVerify: true switches off certificate verification for gRPC only; flytectl's OAuth login still verifies with the system store and fails the same way, while gRPC becomes open to impersonation.",
        ));
    }
    if let Some(auth_type) = admin.get("authType").and_then(Value::as_str) {
        if !AUTH_TYPES.contains(&auth_type) {
            let hint = AUTH_TYPES
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
                        AUTH_TYPES.join(", ")
                    ),
                ),
            );
        }
    }
    if let Some(ca) = admin
        .get("caCertFilePath")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
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
}

pub fn exit_code(reports: &[LintReport]) -> i32 {
    Status::worst(reports.iter().map(|r| r.status)).exit_code()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_lines_follow_indentation() {
        let text = "server:\n  httpPort: 8088\n  security:\n    # comment\n    allowCors: true\n    allowedOrigins:\n      - https://a\nauth:\n  appAuth:\n    authServerType: Self\n";
        let lines = key_lines(text);
        assert_eq!(lines["server.security.allowCors"], 5);
        assert_eq!(lines["server.security.allowedOrigins"], 6);
        assert_eq!(lines["auth.appAuth.authServerType"], 10);
    }

    #[test]
    fn redirect_uris() {
        assert!(check_redirect_uri("http://localhost:53593/callback").is_ok());
        assert!(check_redirect_uri("https://localhost:53593/callback").is_err());
        assert!(check_redirect_uri("http://localhost/callback").is_err());
        assert!(check_redirect_uri("http://flyte.example.com:53593/callback").is_err());
        assert!(check_redirect_uri("http://127.0.0.1:53593/cb").is_err());
    }
}

//! flyteadmin's server config: the security section's keys, CORS as the console needs
//! it, flytectl's redirect URI, and the certificate file run through `inspect`.

use serde_json::Value;

use super::linter::Linter;
use crate::check::{self, InspectOptions, Settings};
use crate::clients::{Channel, ClientName};
use crate::findings::{Finding, FindingId, Severity};
use crate::input;
use crate::report::Report;
use crate::target::{self, Host};

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

const ALLOWED_ORIGINS_KEY: &str = "server.security.allowedOrigins";
const CERTIFICATE_FILE_KEY: &str = "server.security.ssl.certificateFile";

/// Stands in for an absent section, so absent keys read as their defaults.
static ABSENT: Value = Value::Null;

/// `server.security` as flyteadmin reads it, its defaults filled in.
struct Security<'a> {
    section: &'a Value,
    use_auth: bool,
    allow_cors: bool,
    allowed_origins: Vec<String>,
    /// None when the key is absent: there is then no list to check.
    allowed_headers: Option<Vec<String>>,
}

impl<'a> Security<'a> {
    fn read(config: &'a Value) -> Self {
        let section = config.pointer("/server/security").unwrap_or(&ABSENT);
        let flag =
            |key: &str, default: bool| section.get(key).and_then(Value::as_bool).unwrap_or(default);
        let strings = |key: &str| -> Option<Vec<String>> {
            section.get(key).and_then(Value::as_array).map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
        };
        // Defaults in flyteadmin's code when the keys are absent.
        Security {
            section,
            use_auth: flag("useAuth", false),
            allow_cors: flag("allowCors", true),
            allowed_origins: match section.get("allowedOrigins") {
                // Of the wrong type: reported as such, not judged as the default.
                Some(v) if !v.is_array() && !v.is_null() => Vec::new(),
                _ => strings("allowedOrigins").unwrap_or_else(|| vec!["*".into()]),
            },
            allowed_headers: strings("allowedHeaders"),
        }
    }
}

/// Lints a flyteadmin `config` into `linter`; returns the analysis of its
/// `server.security.ssl.certificateFile` when that file exists here.
pub(super) fn lint_admin(
    config: &Value,
    linter: &mut Linter<'_>,
    console_origin: Option<&str>,
    settings: &Settings,
) -> Option<Report> {
    let security = Security::read(config);
    unknown_security_keys(&security, linter);
    if security.allow_cors {
        allowed_origin_findings(&security, linter);
    }
    if let Some(console) = console_origin {
        console_origin_finding(&security, console, linter);
    }
    if security.use_auth {
        auth_header_finding(&security, linter);
    }
    redirect_uri_findings(config, linter);
    certificate_report(config, &security, linter, settings)
}

fn unknown_security_keys(security: &Security<'_>, linter: &mut Linter<'_>) {
    linter.unknown_keys("server.security", security.section, SECURITY_KEYS);
    for (key, expected) in [
        ("secure", "a boolean"),
        ("useAuth", "a boolean"),
        ("allowCors", "a boolean"),
        ("allowedOrigins", "a list of strings"),
        ("allowedHeaders", "a list of strings"),
    ] {
        let Some(value) = security.section.get(key).filter(|v| !v.is_null()) else {
            continue;
        };
        let fits = match expected {
            "a boolean" => value.is_boolean(),
            _ => value
                .as_array()
                .is_some_and(|items| items.iter().all(Value::is_string)),
        };
        if !fits {
            linter.push(
                &format!("server.security.{key}"),
                Finding::new(
                    FindingId::ConfigWrongType,
                    None,
                    format!("server.security.{key} is {}, not {expected}: flyteadmin refuses to start with it (config unmarshalling fails).", json_type(value)),
                ),
            );
        }
    }
    if let Some(ssl) = security.section.get("ssl") {
        linter.unknown_keys("server.security.ssl", ssl, SSL_KEYS);
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// A wildcard (which credentials rule out) and entries no browser origin can equal.
fn allowed_origin_findings(security: &Security<'_>, linter: &mut Linter<'_>) {
    let origins = &security.allowed_origins;
    if origins.iter().any(|o| o == "*") {
        linter.push(ALLOWED_ORIGINS_KEY, Finding::new(
            FindingId::CorsWildcardWithCredentials,
            None,
            "allowedOrigins contains \"*\" (also flyteadmin's default): flyteadmin always allows credentials, and browsers refuse credentialed requests against a wildcard origin.",
        ));
    }
    for origin in origins.iter().filter(|o| *o != "*") {
        if let Some(why) = origin_shape_error(origin) {
            linter.push(ALLOWED_ORIGINS_KEY, Finding::new(
                FindingId::CorsOriginMalformed,
                None,
                format!("{why}. Browsers send the origin as scheme://host[:port] with no path or slash, and flyteadmin compares it exactly: this entry never matches."),
            ));
        }
    }
}

fn origin_shape_error(origin: &str) -> Option<String> {
    let after_scheme = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    match after_scheme {
        None => Some(format!("{origin:?} has no http:// or https:// scheme")),
        Some(rest) if rest.ends_with('/') && !rest.trim_end_matches('/').contains('/') => {
            Some(format!("{origin:?} ends with a slash"))
        }
        Some(rest) if rest.contains('/') => Some(format!("{origin:?} has a path")),
        Some(_) => None,
    }
}

/// `--console-origin`: whether this config lets that console call admin.
fn console_origin_finding(security: &Security<'_>, console: &str, linter: &mut Linter<'_>) {
    let allowed = security.allow_cors
        && security
            .allowed_origins
            .iter()
            .any(|o| o == "*" || o == console);
    if allowed {
        return;
    }
    let why = if security.allow_cors {
        format!("{console} is not in allowedOrigins")
    } else {
        "allowCors is false".to_string()
    };
    linter.push(
        ALLOWED_ORIGINS_KEY,
        Finding::new(
            FindingId::CorsOriginNotAllowed,
            None,
            format!("The console at {console} cannot call admin: {why}."),
        ),
    );
}

/// With auth on, the console sends flyte-authorization; a header list must allow it.
fn auth_header_finding(security: &Security<'_>, linter: &mut Linter<'_>) {
    let Some(headers) = &security.allowed_headers else {
        return;
    };
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

/// thirdPartyConfig.flyteClient.redirectUri: flytectl's PKCE callback on localhost.
fn redirect_uri_findings(config: &Value, linter: &mut Linter<'_>) {
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
        if let Some(uri) = config.pointer(pointer).and_then(Value::as_str) {
            if let Err(why) = check_redirect_uri(uri) {
                linter.push(key, Finding::new(FindingId::RedirectUriShape, None, why));
            }
        }
    }
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

/// server.security.ssl: the certificate file through `inspect`, with its key and the
/// host clients dial; then whether flytectl's login survives it.
fn certificate_report(
    config: &Value,
    security: &Security<'_>,
    linter: &mut Linter<'_>,
    settings: &Settings,
) -> Option<Report> {
    let cert_path = security
        .section
        .pointer("/ssl/certificateFile")
        .and_then(Value::as_str)?;
    let resolved = linter.resolve(cert_path);
    if !resolved.exists() {
        linter.push(CERTIFICATE_FILE_KEY, Finding::new(
            FindingId::ConfigFileMissing,
            None,
            format!("{cert_path} does not exist here ({}); it is checked when present (e.g. run lint-config where the Secret is mounted).", resolved.display()),
        ).severity(Severity::Info));
        return None;
    }
    let key = security
        .section
        .pointer("/ssl/keyFile")
        .and_then(Value::as_str)
        .map(|k| linter.resolve(k))
        .filter(|k| k.exists())
        .and_then(|k| input::load_key(&k).ok());
    let hostname = dialled_host(config);
    let mut report = check::inspect(
        &resolved,
        &InspectOptions {
            hostname: hostname.as_ref(),
            key: key.as_ref(),
            extra_chain: &[],
        },
        settings,
    );
    report.role = Some(CERTIFICATE_FILE_KEY.into());
    login_finding(config, security, cert_path, &report, linter);
    Some(report)
}

/// The host clients dial: the first https authorizedUri, if any.
fn dialled_host(config: &Value) -> Option<Host> {
    config
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
        })
}

/// With the built-in authorization server, flytectl's login meets admin's certificate.
fn login_finding(
    config: &Value,
    security: &Security<'_>,
    cert_path: &str,
    report: &Report,
    linter: &mut Linter<'_>,
) {
    let server_type = config
        .pointer("/auth/appAuth/authServerType")
        .and_then(Value::as_str)
        .unwrap_or("Self");
    if !security.use_auth || server_type != "Self" {
        return;
    }
    if let Some(refusal) = report.clients.iter().find(|c| {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris() {
        assert!(check_redirect_uri("http://localhost:53593/callback").is_ok());
        assert!(check_redirect_uri("https://localhost:53593/callback").is_err());
        assert!(check_redirect_uri("http://localhost/callback").is_err());
        assert!(check_redirect_uri("http://flyte.example.com:53593/callback").is_err());
        assert!(check_redirect_uri("http://127.0.0.1:53593/cb").is_err());
    }
}

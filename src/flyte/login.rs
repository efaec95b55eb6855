//! Which host breaks flytectl's login, in plain words: the token exchange as flytectl
//! on macOS and Linux would see it, and the browser step at the authorization endpoint.

use super::hosts::{CheckedHost, HostRole};
use super::summary::{AuthState, AuthSummary};
use crate::check::Settings;
use crate::clients::{Channel, ClientName};
use crate::findings::{Finding, FindingId, Severity};
use crate::report::Report;

/// Says plainly which host breaks the login, with the client's message. `hosts` starts
/// with admin. Says nothing when the metadata names no token endpoint.
pub(super) fn login_findings(
    hosts: &[CheckedHost],
    auth: &AuthSummary,
    settings: &Settings,
    findings: &mut Vec<Finding>,
) {
    let Some(admin) = hosts.first() else { return };
    let token_host = hosts
        .iter()
        .find(|h| h.roles.contains(&HostRole::TokenEndpoint));
    // With unknown metadata the built-in server is the common case: admin is the token host.
    let (token_host, assumed) = match (token_host, &auth.state) {
        (Some(host), _) => (host, false),
        (None, AuthState::Unknown) => (admin, true),
        (None, _) => return,
    };
    let grpc_note = if std::ptr::eq(token_host, admin) {
        grpc_note(&admin.report, settings)
    } else {
        ""
    };
    token_exchange_findings(&token_host.report, auth, assumed, grpc_note, findings);
    browser_step_finding(hosts, findings);
}

/// When the token host is admin: whether gRPC to it works all the same, and why.
fn grpc_note(admin: &Report, settings: &Settings) -> &'static str {
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
}

/// flytectl's POST to the token endpoint; `assumed` when admin is only presumed to be it.
fn token_exchange_findings(
    token_report: &Report,
    auth: &AuthSummary,
    assumed: bool,
    grpc_note: &str,
    findings: &mut Vec<Finding>,
) {
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
        let url = auth.token_url().unwrap_or_else(|| {
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
            "{prefix} token exchange POST {url} fails on {} flytectl with: {error}{grpc_note}.",
            platforms.join(" and "),
        );
        let mut finding = Finding::new(FindingId::OauthLoginFails, None, message);
        if assumed {
            finding = finding.severity(Severity::Warning);
        }
        findings.push(finding);
    }
}

/// The browser's visit to the authorization endpoint.
fn browser_step_finding(hosts: &[CheckedHost], findings: &mut Vec<Finding>) {
    let Some(authorize) = hosts
        .iter()
        .find(|h| h.roles.contains(&HostRole::AuthorizationEndpoint))
    else {
        return;
    };
    let authorize = &authorize.report;
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

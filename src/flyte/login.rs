//! Which host breaks flytectl's login, in plain words: the token exchange as flytectl
//! on macOS and Linux would see it, and the browser step at the authorization endpoint.

use super::summary::{AuthState, AuthSummary};
use crate::check::Settings;
use crate::clients::{Channel, ClientName};
use crate::findings::{Finding, FindingId, Severity};
use crate::report::Report;

/// Says plainly which host breaks the login, with the client's message.
pub(super) fn login_findings(
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

//! Every host the login touches, grouped by host:port with its roles, each checked once:
//! admin first, then each OAuth host the metadata names.

use std::collections::BTreeMap;

use super::admin::ADMIN_ROLE;
use super::summary::{AuthSummary, OAuthMetadata};
use crate::check::{self, Settings};
use crate::findings::FindingId;
use crate::report::Report;
use crate::target::{self, Target};

/// host:port of a URL, for grouping hosts.
pub(super) fn authority_of(url: &str) -> Option<Target> {
    let rest = url.strip_prefix("https://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let (host, port) = target::split_host_port(authority).ok()?;
    Some(Target {
        input: format!("https://{authority}"),
        host,
        port: port.unwrap_or(target::DEFAULT_PORT),
    })
}

/// What a host is to the login, as the OAuth metadata names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum HostRole {
    TokenEndpoint,
    AuthorizationEndpoint,
    DeviceAuthorizationEndpoint,
    Jwks,
    Issuer,
}

impl HostRole {
    pub(super) fn name(self) -> &'static str {
        match self {
            HostRole::TokenEndpoint => "OAuth token endpoint",
            HostRole::AuthorizationEndpoint => "OAuth authorization endpoint",
            HostRole::DeviceAuthorizationEndpoint => "OAuth device authorization endpoint",
            HostRole::Jwks => "OAuth JWKS",
            HostRole::Issuer => "OAuth issuer",
        }
    }
}

/// A host's report with its OAuth roles (none for an admin that is only admin).
pub(super) struct CheckedHost {
    pub(super) report: Report,
    pub(super) roles: Vec<HostRole>,
}

fn role_names(roles: &[HostRole]) -> String {
    roles
        .iter()
        .map(|r| r.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The OAuth hosts by authority, each with its roles in the metadata's order.
fn oauth_hosts(metadata: &OAuthMetadata) -> BTreeMap<String, (Target, Vec<HostRole>)> {
    let mut hosts: BTreeMap<String, (Target, Vec<HostRole>)> = BTreeMap::new();
    for (url, role) in [
        (&metadata.token_endpoint, HostRole::TokenEndpoint),
        (
            &metadata.authorization_endpoint,
            HostRole::AuthorizationEndpoint,
        ),
        (
            &metadata.device_authorization_endpoint,
            HostRole::DeviceAuthorizationEndpoint,
        ),
        (&metadata.jwks_uri, HostRole::Jwks),
        (&metadata.issuer, HostRole::Issuer),
    ] {
        let Some(target) = url.as_deref().and_then(authority_of) else {
            continue;
        };
        let entry = hosts
            .entry(target.authority())
            .or_insert_with(|| (target, Vec::new()));
        entry.1.push(role);
    }
    hosts
}

/// admin (re-judged when it is an OAuth host too), then each other OAuth host; the
/// token host is judged with the real token URL in its messages.
pub(super) async fn check_hosts(
    admin: &Target,
    mut admin_report: Report,
    auth: &AuthSummary,
    settings: &Settings,
) -> Vec<CheckedHost> {
    let mut hosts_by_authority = auth.metadata.as_ref().map(oauth_hosts).unwrap_or_default();
    let token_url = auth.token_url();
    let admin_roles = match hosts_by_authority.remove(&admin.authority()) {
        Some((_, roles)) => {
            let role = format!("{ADMIN_ROLE}, {}", role_names(&roles));
            admin_report.role = Some(role.clone());
            if token_url.is_some() {
                // Re-judge with the real token URL in the OAuth clients' messages.
                admin_report =
                    check::check_with_token_url(admin, settings, token_url.clone()).await;
                admin_report.role = Some(role);
            }
            roles
        }
        None => Vec::new(),
    };
    let mut hosts = vec![CheckedHost {
        report: admin_report,
        roles: admin_roles,
    }];
    for (_, (target, roles)) in hosts_by_authority {
        let is_token_host = roles.contains(&HostRole::TokenEndpoint);
        let mut report = check::check_with_token_url(
            &target,
            settings,
            if is_token_host {
                token_url.clone()
            } else {
                None
            },
        )
        .await;
        report.role = Some(role_names(&roles));
        hosts.push(CheckedHost { report, roles });
    }
    hosts
}

/// The hosts' reports, admin first, without the insecureSkipVerify warning: in this view
/// it is one Flyte finding, not one per host.
pub(super) fn into_reports(hosts: Vec<CheckedHost>) -> Vec<Report> {
    hosts
        .into_iter()
        .map(|host| {
            let mut report = host.report;
            report
                .findings
                .retain(|f| f.id != FindingId::InsecureSkipVerifyInUse);
            report
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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

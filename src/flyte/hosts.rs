//! Every host the login touches, grouped by host:port with its roles, each checked once:
//! admin first, then each OAuth host the metadata names.

use std::collections::BTreeMap;

use super::admin::ADMIN_ROLE;
use super::summary::{AuthSummary, OAuthMetadata};
use crate::check::{self, Settings};
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

/// The OAuth hosts by authority, each with its roles in the metadata's order.
fn oauth_hosts(metadata: &OAuthMetadata) -> BTreeMap<String, (Target, Vec<&'static str>)> {
    let mut hosts: BTreeMap<String, (Target, Vec<&'static str>)> = BTreeMap::new();
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
        let entry = hosts
            .entry(target.authority())
            .or_insert_with(|| (target, Vec::new()));
        entry.1.push(role);
    }
    hosts
}

/// admin's report (re-judged when admin is an OAuth host too), then one report per
/// other OAuth host; the token host is judged with the real token URL in its messages.
pub(super) async fn check_hosts(
    admin: &Target,
    mut admin_report: Report,
    auth: &AuthSummary,
    settings: &Settings,
) -> Vec<Report> {
    let mut roles = auth.metadata.as_ref().map(oauth_hosts).unwrap_or_default();
    let token_url = auth.token_url();
    let mut reports = Vec::new();
    if let Some((_, admin_roles)) = roles.remove(&admin.authority()) {
        let role = format!("{ADMIN_ROLE}, {}", admin_roles.join(", "));
        admin_report.role = Some(role.clone());
        if token_url.is_some() {
            // Re-judge with the real token URL in the OAuth clients' messages.
            admin_report = check::check_with_token_url(admin, settings, token_url.clone()).await;
            admin_report.role = Some(role);
        }
    }
    reports.push(admin_report);
    for (_, (target, host_roles)) in roles {
        let is_token_host = host_roles.contains(&"OAuth token endpoint");
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
        report.role = Some(host_roles.join(", "));
        reports.push(report);
    }
    reports
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

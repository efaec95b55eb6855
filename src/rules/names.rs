//! The leaf's names: whether it is valid for the host name asked for, whether it has
//! subjectAltNames at all, and whether it is ingress-nginx's placeholder.

use std::net::IpAddr;

use rustls_pki_types::{DnsName, ServerName};

use super::context::{Context, INGRESS_FAKE_CN};
use crate::chain::Cert;
use crate::findings::{Finding, FindingId};
use crate::target::Host;
use crate::trust;

/// Against the host name when there is one; otherwise only whether SANs exist.
pub(super) fn name_findings(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let leaf = ctx.leaf();
    if let Some(host) = ctx.hostname {
        host_name_findings(leaf, host, out);
    } else if !leaf.info.facts.has_san_extension {
        out.push(cn_only(leaf));
    }
}

pub(super) fn ingress_default_certificate(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let leaf = ctx.leaf();
    if leaf.info.common_name.as_deref() == Some(INGRESS_FAKE_CN) {
        out.push(Finding::new(
            FindingId::IngressDefaultCertificate,
            Some(leaf.info.position),
            "This is ingress-nginx's built-in \"Kubernetes Ingress Controller Fake Certificate\": the ingress has no certificate configured for this host name (or its Secret is missing or invalid), so it serves its default.",
        ));
    }
}

fn cn_only(leaf: &Cert) -> Finding {
    Finding::new(
        FindingId::CnOnly,
        Some(leaf.info.position),
        format!(
            "The certificate has no subjectAltName extension; its only name is the Common Name {:?}, which Go (since 1.15), Apple and browsers ignore. Go reports \"x509: certificate relies on legacy Common Name field, use SANs instead\".",
            leaf.info.common_name.clone().unwrap_or_default()
        ),
    )
}

fn host_name_findings(leaf: &Cert, host: &Host, out: &mut Vec<Finding>) {
    let info = &leaf.info;
    let server_name = match host {
        Host::Ip(ip) => Some(ServerName::IpAddress((*ip).into())),
        Host::Name(name) => DnsName::try_from(name.as_str())
            .ok()
            .map(|n| ServerName::DnsName(n.to_owned())),
    };
    let matches = server_name
        .as_ref()
        .is_some_and(|name| trust::name_matches(leaf, name).is_ok());
    if !info.facts.has_san_extension {
        out.push(cn_only(leaf));
        let cn_matches = info
            .common_name
            .as_deref()
            .is_some_and(|cn| cn.eq_ignore_ascii_case(&host.to_string()));
        if cn_matches {
            return;
        }
    } else if matches {
        return;
    }
    let names: Vec<&str> = info
        .dns_names
        .iter()
        .chain(info.ip_addresses.iter())
        .map(String::as_str)
        .collect();
    let message = match host {
        Host::Ip(ip) if info.ip_addresses.is_empty() => format!(
            "The certificate has no IP address names, so it cannot be valid for {ip} (Go: \"x509: cannot validate certificate for {ip} because it doesn't contain any IP SANs\"). Its names: {}.",
            describe_names(&names)
        ),
        _ if names.is_empty() => format!(
            "The certificate is not valid for any names, but {host} was wanted."
        ),
        _ => format!(
            "The certificate is valid for {}, not {host}.",
            crate::chain::name_list(&names)
        ),
    };
    let fix = match host {
        Host::Ip(IpAddr::V4(_)) | Host::Ip(IpAddr::V6(_)) => format!(
            "Connect by a host name the certificate lists, or re-issue it with subjectAltName IP:{host}."
        ),
        Host::Name(_) => format!(
            "Re-issue the certificate with subjectAltName DNS:{host} (or use a host name it already lists)."
        ),
    };
    out.push(
        Finding::new(FindingId::HostnameMismatch, Some(info.position), message).remediation(fix),
    );
}

fn describe_names(names: &[&str]) -> String {
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

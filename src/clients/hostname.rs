//! Host-name matching against the leaf's subjectAltName entries, which every modelled
//! client does. What each says when it fails (and grpcio's Common Name fallback) stays
//! with that client's model.

use crate::chain::Cert;
use crate::target::Host;
use crate::trust;

/// Whether `host` is among the leaf's subjectAltName entries (DNS names with wildcards,
/// or IP addresses). Every modelled client matches this way; they differ only in what
/// they say when it fails and whether they fall back to the Common Name.
pub(super) fn san_matches(leaf: &Cert, host: &Host) -> bool {
    let info = &leaf.info;
    match host {
        Host::Ip(ip) => info.ip_addresses.iter().any(|a| a == &ip.to_string()),
        Host::Name(name) => {
            if info.facts.has_san_extension {
                let server = rustls_pki_types::DnsName::try_from(name.as_str())
                    .ok()
                    .map(|n| rustls_pki_types::ServerName::DnsName(n.to_owned()));
                server.is_some_and(|s| trust::name_matches(leaf, &s).is_ok())
            } else {
                false
            }
        }
    }
}

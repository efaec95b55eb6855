//! Host names and name constraints as Chromium checks them: `X509Certificate::VerifyHostname`
//! (net/cert/x509_certificate.cc: SANs only, no Common Name, a whole-label `*` in the left
//! label only, never under a registry-controlled suffix) and BoringSSL's
//! `NameConstraints::IsPermittedCert` (pki/name_constraints.cc).

use std::net::IpAddr;

use crate::verifiers::openssl::name::{GeneralName, Name, NameConstraints, OID_EMAIL_ADDRESS};

use super::cert::ChromeCert;

/// `X509Certificate::VerifyHostname(hostname, dns SANs, ip SANs)`.
pub fn verify_hostname(host: &str, dns_names: &[String], ip_addresses: &[Vec<u8>]) -> bool {
    if dns_names.is_empty() && ip_addresses.is_empty() {
        return false;
    }
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = host.parse::<IpAddr>() {
        let bytes = match ip {
            IpAddr::V4(v4) => v4.octets().to_vec(),
            IpAddr::V6(v6) => v6.octets().to_vec(),
        };
        return ip_addresses.contains(&bytes);
    }
    let mut reference = host.to_ascii_lowercase();
    if reference.is_empty() || reference == "." || !is_compliant_host(&reference) {
        return false;
    }
    if reference.ends_with('.') {
        reference.pop();
    }
    let (reference_host, reference_domain) = split_first_label(&reference);
    // Wildcards are refused for a domain that is itself a registry (`*.com`) and for numeric
    // names. Without the public-suffix list, a one-label domain stands for a registry.
    let allow_wildcards = !reference_domain.is_empty()
        && reference_domain[1..].contains('.')
        && reference
            .bytes()
            .any(|b| !(b.is_ascii_digit() || b == b'.'));
    for presented in dns_names {
        if presented.is_empty() || presented.contains('\0') {
            continue;
        }
        let mut presented = presented.to_ascii_lowercase();
        if presented.ends_with('.') {
            presented.pop();
        }
        if presented.len() > reference.len() {
            continue;
        }
        let (presented_host, presented_domain) = split_first_label(&presented);
        if presented_domain != reference_domain {
            continue;
        }
        if presented_host != "*" {
            if presented_host == reference_host {
                return true;
            }
            continue;
        }
        if allow_wildcards {
            return true;
        }
    }
    false
}

/// `SplitOnChar(name, '.')`: the first label, and the rest with its leading dot.
fn split_first_label(name: &str) -> (&str, &str) {
    match name.find('.') {
        Some(dot) => (&name[..dot], &name[dot..]),
        None => (name, ""),
    }
}

/// `IsCanonicalizedHostCompliant`, approximated: non-empty labels of at most 63 letters,
/// digits, `-` and `_`.
fn is_compliant_host(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// `NameConstraints::IsPermittedCert` for `cert` under `constraints`: false on a violation.
pub fn permitted(constraints: &NameConstraints, cert: &ChromeCert) -> bool {
    let constrains = |kind: u8| {
        constraints
            .permitted
            .iter()
            .chain(&constraints.excluded)
            .any(|s| s.base.kind() == kind)
    };
    if let Some(subject) = &cert.subject_name {
        if !subject.is_empty() && constrains(4) && !directory_permitted(constraints, subject) {
            return false;
        }
    }
    match &cert.san {
        Some(names) => {
            for name in names {
                let ok = match name {
                    GeneralName::Dns(dns) => dns_permitted(constraints, dns),
                    GeneralName::Ip(ip) => ip_permitted(constraints, ip),
                    GeneralName::Dir(dir) => directory_permitted(constraints, dir),
                    GeneralName::Email(email) => email_permitted(constraints, email),
                    // A name of a type BoringSSL cannot check fails once its type is
                    // constrained.
                    other => !constrains(other.kind()),
                };
                if !ok {
                    return false;
                }
            }
            true
        }
        // No SAN: only the subject's emailAddress attributes are checked, against rfc822Name
        // constraints. A Common Name is never taken as a dNSName here (unlike OpenSSL's
        // legacy check): a real Chromium says COMMON_NAME_INVALID, not CERT_INVALID, for a
        // CN-only leaf outside a permitted dNSName subtree.
        None => cert.subject_name.as_ref().is_none_or(|subject| {
            !constrains(1)
                || subject
                    .of_type(OID_EMAIL_ADDRESS)
                    .all(|email| email_permitted(constraints, &email.value))
        }),
    }
}

fn dns_permitted(constraints: &NameConstraints, name: &[u8]) -> bool {
    let excluded = constraints.excluded.iter().any(|s| match &s.base {
        GeneralName::Dns(base) => dns_matches(name, base, true),
        _ => false,
    });
    if excluded {
        return false;
    }
    let mut permitted = constraints
        .permitted
        .iter()
        .filter_map(|s| match &s.base {
            GeneralName::Dns(base) => Some(base),
            _ => None,
        })
        .peekable();
    permitted.peek().is_none() || permitted.any(|base| dns_matches(name, base, false))
}

/// `DNSNameMatches`: equal, or within the constraint's subtree; a wildcard name is within
/// an excluded constraint it could match (`*.bar.com` against `foo.bar.com`).
fn dns_matches(name: &[u8], constraint: &[u8], partial_wildcard: bool) -> bool {
    let lower = |b: &[u8]| {
        let mut v = b.to_ascii_lowercase();
        if v.last() == Some(&b'.') {
            v.pop();
        }
        v
    };
    let name = lower(name);
    let constraint = lower(constraint);
    if constraint.is_empty() || name == constraint {
        return true;
    }
    if partial_wildcard && name.starts_with(b"*.") {
        if let Some(dot) = constraint.iter().position(|b| *b == b'.') {
            if constraint[dot..] == name[1..] {
                return true;
            }
        }
    }
    if name.len() > constraint.len() && name.ends_with(&constraint) {
        let before = name[name.len() - constraint.len() - 1];
        return constraint[0] == b'.' || before == b'.';
    }
    false
}

fn ip_permitted(constraints: &NameConstraints, ip: &[u8]) -> bool {
    let within = |base: &[u8]| {
        base.len() == ip.len() * 2 && {
            let (address, mask) = base.split_at(ip.len());
            ip.iter()
                .zip(address)
                .zip(mask)
                .all(|((i, a), m)| i & m == a & m)
        }
    };
    let excluded = constraints.excluded.iter().any(|s| match &s.base {
        GeneralName::Ip(base) => within(base),
        _ => false,
    });
    if excluded {
        return false;
    }
    let mut permitted = constraints
        .permitted
        .iter()
        .filter_map(|s| match &s.base {
            GeneralName::Ip(base) => Some(base),
            _ => None,
        })
        .peekable();
    permitted.peek().is_none() || permitted.any(|base| within(base))
}

/// A directoryName is within a constraint whose RDNs are its first RDNs.
fn directory_permitted(constraints: &NameConstraints, name: &Name) -> bool {
    let within = |base: &Name| name.canon.starts_with(&base.canon);
    let excluded = constraints.excluded.iter().any(|s| match &s.base {
        GeneralName::Dir(base) => within(base),
        _ => false,
    });
    if excluded {
        return false;
    }
    let mut permitted = constraints
        .permitted
        .iter()
        .filter_map(|s| match &s.base {
            GeneralName::Dir(base) => Some(base),
            _ => None,
        })
        .peekable();
    permitted.peek().is_none() || permitted.any(within)
}

/// rfc822Name: a whole address, a host (`example.com`), or a domain (`.example.com`).
fn email_permitted(constraints: &NameConstraints, email: &[u8]) -> bool {
    let email = email.to_ascii_lowercase();
    let host = match email.iter().rposition(|b| *b == b'@') {
        Some(at) => email[at + 1..].to_vec(),
        None => return false,
    };
    let within = |base: &[u8]| {
        let base = base.to_ascii_lowercase();
        if base.contains(&b'@') {
            email == base
        } else if base.first() == Some(&b'.') {
            host.ends_with(&base)
        } else {
            host == base
        }
    };
    let excluded = constraints.excluded.iter().any(|s| match &s.base {
        GeneralName::Email(base) => within(base),
        _ => false,
    });
    if excluded {
        return false;
    }
    let mut permitted = constraints
        .permitted
        .iter()
        .filter_map(|s| match &s.base {
            GeneralName::Email(base) => Some(base),
            _ => None,
        })
        .peekable();
    permitted.peek().is_none() || permitted.any(|base| within(base))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn host_names_match_as_chromium_matches_them() {
        let dns = names(&["a.example.com", "*.wild.example.com"]);
        assert!(verify_hostname("a.example.com", &dns, &[]));
        assert!(verify_hostname("A.Example.COM.", &dns, &[]));
        assert!(verify_hostname("x.wild.example.com", &dns, &[]));
        assert!(!verify_hostname("wild.example.com", &dns, &[]));
        assert!(!verify_hostname("y.x.wild.example.com", &dns, &[]));
        assert!(!verify_hostname("b.example.com", &dns, &[]));
        // `*.com` never matches; partial wildcards are not wildcards.
        assert!(!verify_hostname("example.com", &names(&["*.com"]), &[]));
        assert!(!verify_hostname(
            "abc.example.com",
            &names(&["a*.example.com"]),
            &[]
        ));
        // IP addresses only against IP SANs.
        assert!(verify_hostname("10.0.0.1", &[], &[vec![10, 0, 0, 1]]));
        assert!(!verify_hostname("10.0.0.1", &names(&["10.0.0.1"]), &[]));
        // No SAN: nothing matches (no Common Name fallback).
        assert!(!verify_hostname("a.example.com", &[], &[]));
    }

    #[test]
    fn dns_constraints_match_subtrees_and_excluded_wildcards() {
        assert!(dns_matches(b"a.example.com", b"example.com", false));
        assert!(dns_matches(b"example.com", b"example.com", false));
        assert!(!dns_matches(b"badexample.com", b"example.com", false));
        assert!(!dns_matches(b"example.com", b".example.com", false));
        assert!(dns_matches(b"*.bar.com", b"foo.bar.com", true));
        assert!(!dns_matches(b"*.bar.com", b"foo.bar.com", false));
    }
}

//! Go's host-name rules (`VerifyHostname`, `HostnameError`) and name-constraint matching
//! (`checkNameConstraints` and its matchers), as in crypto/x509's verify.go.

use std::net::IpAddr;

use super::cert::{GoCert, NameConstraints, San};
use crate::verifiers::pattern::Pattern;

/// `HostnameError.Error()`'s texts, and the name-constraint texts that reach the user.
pub const LEGACY_COMMON_NAME: Pattern =
    Pattern(&["x509: certificate relies on legacy Common Name field, use SANs instead"]);
pub const NO_IP_SANS: Pattern = Pattern(&[
    "x509: cannot validate certificate for ",
    " because it doesn't contain any IP SANs",
]);
pub const TOO_MANY_IP_SANS: Pattern = Pattern(&[
    "x509: certificate is valid for ",
    " IP SANs, but none matched ",
    "",
]);
pub const TOO_MANY_NAMES: Pattern = Pattern(&[
    "x509: certificate is valid for ",
    " names, but none matched ",
    "",
]);
pub const NO_NAMES: Pattern = Pattern(&[
    "x509: certificate is not valid for any names, but wanted to match ",
    "",
]);
pub const VALID_FOR: Pattern = Pattern(&["x509: certificate is valid for ", ", not ", ""]);
pub const CANNOT_PARSE_DNS_NAME: Pattern = Pattern(&["x509: cannot parse dnsName ", ""]);
pub const UNKNOWN_ERROR: Pattern = Pattern(&["x509: unknown error"]);
/// A name-constraint violation: what follows names the SAN and the constraint.
pub const NOT_AUTHORIZED_FOR_NAME: Pattern = Pattern(&[
    "x509: a root or intermediate certificate is not authorized to sign for this name: ",
    "",
]);

/// Every text above, for `why`.
pub const PATTERNS: &[Pattern] = &[
    LEGACY_COMMON_NAME,
    NO_IP_SANS,
    TOO_MANY_IP_SANS,
    TOO_MANY_NAMES,
    NO_NAMES,
    VALID_FOR,
    CANNOT_PARSE_DNS_NAME,
    UNKNOWN_ERROR,
    NOT_AUTHORIZED_FOR_NAME,
];

/// Go counts SANs this many and more as "valid for N names" instead of listing them.
const MAX_LISTED_SANS: usize = 100;

/// `VerifyHostname(host)`: None when `host` matches, else Go's `HostnameError` text.
pub fn verify_hostname(cert: &GoCert, host: &str) -> Option<String> {
    let candidate_ip = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if let Ok(ip) = candidate_ip.parse::<IpAddr>() {
        if cert.ip_addresses().any(|san| ip_equal(san, &ip)) {
            return None;
        }
        return Some(hostname_error(cert, candidate_ip));
    }
    let name = host.to_ascii_lowercase();
    let valid = valid_hostname(&name, false);
    let matched = cert.dns_names().any(|pattern| {
        if valid && valid_hostname(pattern, true) {
            match_hostnames(pattern, &name)
        } else {
            match_exactly(pattern, &name)
        }
    });
    (!matched).then(|| hostname_error(cert, host))
}

fn ip_equal(san: &[u8], ip: &IpAddr) -> bool {
    let san_ip = match san.len() {
        4 => IpAddr::from(<[u8; 4]>::try_from(san).unwrap_or_default()),
        16 => IpAddr::from(<[u8; 16]>::try_from(san).unwrap_or_default()),
        _ => return false,
    };
    canonical(san_ip) == canonical(*ip)
}

/// IPv4-mapped IPv6 equals its IPv4 address, as Go's `net.IP.Equal` says.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn ip_string(bytes: &[u8]) -> String {
    match bytes.len() {
        4 => IpAddr::from(<[u8; 4]>::try_from(bytes).unwrap_or_default()).to_string(),
        16 => canonical(IpAddr::from(
            <[u8; 16]>::try_from(bytes).unwrap_or_default(),
        ))
        .to_string(),
        _ => String::new(),
    }
}

/// `HostnameError.Error()`, in Go's order of variants (whether or not `host` matches).
pub fn hostname_error(cert: &GoCert, host: &str) -> String {
    if !cert.has_san_extension && match_hostnames(&cert.common_name, host) {
        return LEGACY_COMMON_NAME.text();
    }
    let valid = if host.parse::<IpAddr>().is_ok() {
        let ips: Vec<String> = cert.ip_addresses().map(ip_string).collect();
        if ips.is_empty() {
            return NO_IP_SANS.fill(&[host]);
        }
        if ips.len() >= MAX_LISTED_SANS {
            return TOO_MANY_IP_SANS.fill(&[&ips.len().to_string(), host]);
        }
        ips.join(", ")
    } else {
        let names: Vec<&str> = cert.dns_names().collect();
        if names.len() >= MAX_LISTED_SANS {
            return TOO_MANY_NAMES.fill(&[&names.len().to_string(), host]);
        }
        names.join(", ")
    };
    if valid.is_empty() {
        return NO_NAMES.fill(&[host]);
    }
    VALID_FOR.fill(&[&valid, host])
}

/// `validHostname`: input names may end in one dot; patterns may start with a `*` label.
fn valid_hostname(host: &str, is_pattern: bool) -> bool {
    let host = if is_pattern {
        host
    } else {
        host.strip_suffix('.').unwrap_or(host)
    };
    if host.is_empty() || host == "*" {
        return false;
    }
    for (i, label) in host.split('.').enumerate() {
        if label.is_empty() {
            return false;
        }
        if is_pattern && i == 0 && label == "*" {
            continue;
        }
        for (j, c) in label.chars().enumerate() {
            let ok = c.is_ascii_alphanumeric() || c == '_' || (c == '-' && j != 0);
            if !ok {
                return false;
            }
        }
    }
    true
}

/// `matchHostnames`: equal label counts; a first `*` label matches any one label.
fn match_hostnames(pattern: &str, host: &str) -> bool {
    let pattern = pattern.to_ascii_lowercase();
    let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    if pattern.is_empty() || host.is_empty() {
        return false;
    }
    let pattern_labels: Vec<&str> = pattern.split('.').collect();
    let host_labels: Vec<&str> = host.split('.').collect();
    if pattern_labels.len() != host_labels.len() {
        return false;
    }
    pattern_labels
        .iter()
        .zip(&host_labels)
        .enumerate()
        .all(|(i, (p, h))| (i == 0 && *p == "*") || p == h)
}

fn match_exactly(a: &str, b: &str) -> bool {
    if a.is_empty() || a == "." || b.is_empty() || b == "." {
        return false;
    }
    a.eq_ignore_ascii_case(b)
}

/// Go stops after this many constraint comparisons per chain ("x509: unknown error").
pub const MAX_CONSTRAINT_COMPARISONS: usize = 250_000;

/// Checks every SAN of `names_of` against `constraints` (of the CA `ca`), as isValid does
/// for an intermediate or root with name constraints. The error text on failure.
pub fn check_constraints(
    constraints: &NameConstraints,
    names_of: &[&GoCert],
    comparisons: &mut usize,
) -> Result<(), String> {
    for cert in names_of.iter().filter(|c| c.has_san_extension) {
        for san in &cert.sans {
            match san {
                San::Dns(name) => {
                    if !domain_name_valid(name) {
                        return Err(CANNOT_PARSE_DNS_NAME.fill(&[&format!("{name:?}")]));
                    }
                    check_one(
                        comparisons,
                        "DNS name",
                        name,
                        &constraints.permitted_dns,
                        &constraints.excluded_dns,
                        |constraint, excluded| match_domain(name, constraint, excluded),
                    )?;
                }
                San::Ip(ip) => {
                    let shown = ip_string(ip);
                    check_one_ip(comparisons, &shown, ip, constraints)?;
                }
                San::Email(mailbox) => {
                    check_one(
                        comparisons,
                        "email address",
                        mailbox,
                        &constraints.permitted_email,
                        &constraints.excluded_email,
                        |constraint, excluded| match_email(mailbox, constraint, excluded),
                    )?;
                }
                San::Uri(uri) => {
                    check_one(
                        comparisons,
                        "URI",
                        uri,
                        &constraints.permitted_uri,
                        &constraints.excluded_uri,
                        |constraint, excluded| match_uri(uri, constraint, excluded),
                    )?;
                }
                San::Other => {}
            }
        }
    }
    Ok(())
}

const NOT_AUTHORIZED: &str = NOT_AUTHORIZED_FOR_NAME.0[0];

fn check_one(
    comparisons: &mut usize,
    kind: &str,
    name: &str,
    permitted: &[String],
    excluded: &[String],
    matches: impl Fn(&str, bool) -> Result<bool, String>,
) -> Result<(), String> {
    *comparisons += excluded.len();
    if *comparisons > MAX_CONSTRAINT_COMPARISONS {
        return Err(UNKNOWN_ERROR.text());
    }
    for constraint in excluded {
        match matches(constraint, true) {
            Err(e) => return Err(format!("{NOT_AUTHORIZED}{e}")),
            Ok(true) => {
                return Err(format!(
                    "{NOT_AUTHORIZED}{kind} {name:?} is excluded by constraint {constraint:?}"
                ))
            }
            Ok(false) => {}
        }
    }
    *comparisons += permitted.len();
    if *comparisons > MAX_CONSTRAINT_COMPARISONS {
        return Err(UNKNOWN_ERROR.text());
    }
    let mut ok = true;
    for constraint in permitted {
        match matches(constraint, false) {
            Err(e) => return Err(format!("{NOT_AUTHORIZED}{e}")),
            Ok(matched) => {
                ok = matched;
                if ok {
                    break;
                }
            }
        }
    }
    if !ok {
        return Err(format!(
            "{NOT_AUTHORIZED}{kind} {name:?} is not permitted by any constraint"
        ));
    }
    Ok(())
}

fn check_one_ip(
    comparisons: &mut usize,
    shown: &str,
    ip: &[u8],
    constraints: &NameConstraints,
) -> Result<(), String> {
    let cidr = |(net, mask): &(Vec<u8>, Vec<u8>)| {
        let ones: u32 = mask.iter().map(|b| b.count_ones()).sum();
        format!("{}/{ones}", ip_string(net))
    };
    let matches = |(net, mask): &(Vec<u8>, Vec<u8>)| {
        net.len() == ip.len()
            && ip
                .iter()
                .zip(net)
                .zip(mask)
                .all(|((a, n), m)| a & m == n & m)
    };
    *comparisons += constraints.excluded_ip.len();
    if *comparisons > MAX_CONSTRAINT_COMPARISONS {
        return Err(UNKNOWN_ERROR.text());
    }
    if let Some(range) = constraints.excluded_ip.iter().find(|r| matches(r)) {
        return Err(format!(
            "{NOT_AUTHORIZED}IP address {shown:?} is excluded by constraint {:?}",
            cidr(range)
        ));
    }
    *comparisons += constraints.permitted_ip.len();
    if *comparisons > MAX_CONSTRAINT_COMPARISONS {
        return Err(UNKNOWN_ERROR.text());
    }
    if !constraints.permitted_ip.is_empty() && !constraints.permitted_ip.iter().any(matches) {
        return Err(format!(
            "{NOT_AUTHORIZED}IP address {shown:?} is not permitted by any constraint"
        ));
    }
    Ok(())
}

/// `domainNameValid(name, false)`: non-empty labels of bytes 33..=126, no trailing dot.
fn domain_name_valid(name: &str) -> bool {
    !name.is_empty()
        && name
            .split('.')
            .all(|label| !label.is_empty() && label.bytes().all(|b| (33..=126).contains(&b)))
}

/// The labels of a domain, most significant first (`domainToReverseLabels`).
fn reverse_labels(domain: &str) -> Option<Vec<String>> {
    if domain.is_empty() {
        return Some(Vec::new());
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.iter().any(|l| l.is_empty()) || !domain.is_ascii() {
        return None;
    }
    Some(labels.iter().rev().map(|l| l.to_string()).collect())
}

/// `matchDomainConstraint` (current Go, with the excluded-wildcard rule).
fn match_domain(domain: &str, constraint: &str, excluded: bool) -> Result<bool, String> {
    if constraint.is_empty() {
        return Ok(true);
    }
    let mut domain_labels = reverse_labels(domain)
        .ok_or_else(|| format!("x509: internal error: cannot parse domain {domain:?}"))?;
    let (must_have_subdomains, constraint) = match constraint.strip_prefix('.') {
        Some(rest) => (true, rest),
        None => (false, constraint),
    };
    let mut constraint_labels = reverse_labels(constraint)
        .ok_or_else(|| format!("x509: internal error: cannot parse domain {constraint:?}"))?;
    if domain_labels.len() < constraint_labels.len()
        || (must_have_subdomains && domain_labels.len() == constraint_labels.len())
    {
        return Ok(false);
    }
    if excluded
        && domain.starts_with('*')
        && domain_labels.len() > 1
        && !constraint_labels.is_empty()
    {
        domain_labels.pop();
        constraint_labels.pop();
    }
    Ok(constraint_labels
        .iter()
        .zip(&domain_labels)
        .all(|(c, d)| c.eq_ignore_ascii_case(d)))
}

fn match_email(mailbox: &str, constraint: &str, excluded: bool) -> Result<bool, String> {
    let Some((local, domain)) = mailbox.rsplit_once('@') else {
        return Err(r#"x509: cannot parse rfc822Name {"" ""}"#.into());
    };
    if let Some((c_local, c_domain)) = constraint.rsplit_once('@') {
        return Ok(local == c_local && domain.eq_ignore_ascii_case(c_domain));
    }
    match_domain(domain, constraint, excluded)
}

fn match_uri(uri: &str, constraint: &str, excluded: bool) -> Result<bool, String> {
    let rest = uri.split_once("://").map_or(uri, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !h.ends_with(']') => h,
        _ => host,
    };
    if host.is_empty() {
        return Err(format!(
            "URI with empty host ({uri:?}) cannot be matched against constraints"
        ));
    }
    if host.starts_with('[') || host.parse::<IpAddr>().is_ok() {
        return Err(format!(
            "URI with IP ({uri:?}) cannot be matched against constraints"
        ));
    }
    match_domain(host, constraint, excluded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_as_go_matches_them() {
        assert!(match_hostnames("*.example.com", "www.example.com"));
        assert!(match_hostnames("*.example.com", "WWW.EXAMPLE.COM."));
        assert!(!match_hostnames("*.example.com", "example.com"));
        assert!(!match_hostnames("*.example.com", "a.b.example.com"));
        assert!(match_hostnames("*.com", "example.com"));
        assert!(!valid_hostname("*", true));
        assert!(!valid_hostname("a*.example.com", true));
        assert!(valid_hostname("foo_bar.example.com", false));
    }

    #[test]
    fn domain_constraints() {
        assert_eq!(
            match_domain("a.example.com", "example.com", false),
            Ok(true)
        );
        assert_eq!(
            match_domain("example.com", ".example.com", false),
            Ok(false)
        );
        assert_eq!(
            match_domain("*.example.com", "bad.example.com", true),
            Ok(true)
        );
        assert_eq!(
            match_domain("*.example.com", "www.example.com", false),
            Ok(false)
        );
        assert_eq!(match_domain("EXAMPLE.com", "example.COM", false), Ok(true));
    }
}

//! Name constraints: `v3_ncons.c NAME_CONSTRAINTS_check` (OpenSSL 3.0) and
//! `v3_ncons.cc NAME_CONSTRAINTS_check` (BoringSSL). The subject DN, its emailAddress
//! attributes and every SAN are checked against the constraints of their own type; the
//! libraries differ in the matchers (BoringSSL has no IP constraints at all, checks
//! e-mail and URI syntax, and refuses any explicit minimum).

use super::cert::Cert;
use super::name::{self, GeneralName, NameConstraints, Subtree, OID_EMAIL_ADDRESS};

pub const UNSPECIFIED: u32 = 1;
pub const PERMITTED_VIOLATION: u32 = 47;
pub const EXCLUDED_VIOLATION: u32 = 48;
pub const SUBTREE_MINMAX: u32 = 49;
pub const UNSUPPORTED_CONSTRAINT_TYPE: u32 = 51;
pub const UNSUPPORTED_CONSTRAINT_SYNTAX: u32 = 52;
pub const UNSUPPORTED_NAME_SYNTAX: u32 = 53;

/// Above this many name × constraint comparisons both libraries give up.
const NAME_CHECK_MAX: usize = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lib {
    OpenSsl,
    BoringSsl,
}

/// `NAME_CONSTRAINTS_check(x, nc)`: `Err(code)` on the first violation.
pub fn check(x: &Cert, nc: &NameConstraints, lib: Lib) -> Result<(), u32> {
    let sans = x.san().unwrap_or_default();
    let names = x.subject.attributes.len() + sans.len();
    let constraints = nc.permitted.len() + nc.excluded.len();
    if names > 0 && constraints > NAME_CHECK_MAX / names {
        return Err(UNSPECIFIED);
    }
    if !x.subject.is_empty() {
        nc_match(&GeneralName::Dir(x.subject.clone()), nc, lib, false)?;
        for email in x.subject.of_type(OID_EMAIL_ADDRESS) {
            if email.tag != super::der::IA5_STRING {
                return Err(UNSUPPORTED_NAME_SYNTAX);
            }
            nc_match(&GeneralName::Email(email.value.clone()), nc, lib, true)?;
        }
    }
    for san in sans {
        nc_match(san, nc, lib, false)?;
    }
    Ok(())
}

/// `NAME_CONSTRAINTS_check_CN` (OpenSSL only): each CN that looks like a DNS name with at
/// least two labels is checked as a dNSName.
pub fn check_common_names(x: &Cert, nc: &NameConstraints) -> Result<(), u32> {
    for cn in x.subject.of_type(name::OID_COMMON_NAME) {
        let Some(mut value) = name::to_utf8(cn.tag, &cn.value) else {
            return Err(17);
        };
        while value.last() == Some(&0) {
            value.pop();
        }
        if value.contains(&0) {
            return Err(UNSUPPORTED_NAME_SYNTAX);
        }
        if cn2dnsid(&value) {
            nc_match(&GeneralName::Dns(value), nc, Lib::OpenSsl, false)?;
        }
    }
    Ok(())
}

/// `cn2dnsid`'s test: letters, digits and `_`, with inner `-` and `.`, and a dot
/// somewhere (a single label is not taken for a host name).
fn cn2dnsid(v: &[u8]) -> bool {
    let mut is_dns = false;
    for (i, &c) in v.iter().enumerate() {
        if c.is_ascii_alphanumeric() || c == b'_' {
            continue;
        }
        if i > 0 && i < v.len() - 1 {
            if c == b'-' {
                continue;
            }
            if c == b'.' && v[i + 1] != b'.' && v[i - 1] != b'-' && v[i + 1] != b'-' {
                is_dns = true;
                continue;
            }
        }
        return false;
    }
    is_dns
}

/// `nc_match`: a name type with permitted subtrees must match one; it must match no
/// excluded subtree of its type.
fn nc_match(
    gen: &GeneralName,
    nc: &NameConstraints,
    lib: Lib,
    subject_email: bool,
) -> Result<(), u32> {
    let same_type = |sub: &&Subtree| match (gen, &sub.base) {
        (GeneralName::Other { type_id: a }, GeneralName::Other { type_id: b }) => {
            lib == Lib::BoringSsl || a == b
        }
        _ => gen.kind() == sub.base.kind(),
    };
    let minmax_invalid = |sub: &Subtree| match lib {
        Lib::OpenSsl => {
            sub.maximum
                || sub
                    .minimum
                    .as_ref()
                    .is_some_and(|m| m.iter().any(|b| *b != 0))
        }
        Lib::BoringSsl => sub.maximum || sub.minimum.is_some(),
    };
    let mut matched = None;
    for sub in nc.permitted.iter().filter(same_type) {
        if minmax_invalid(sub) {
            return Err(SUBTREE_MINMAX);
        }
        if matched == Some(true) {
            continue;
        }
        matched = Some(false);
        match match_single(gen, &sub.base, lib, false, false) {
            Ok(()) => matched = Some(true),
            Err(PERMITTED_VIOLATION) => {}
            Err(other) => return Err(other),
        }
    }
    if matched == Some(false) {
        return Err(PERMITTED_VIOLATION);
    }
    for sub in nc.excluded.iter().filter(same_type) {
        if minmax_invalid(sub) {
            return Err(SUBTREE_MINMAX);
        }
        match match_single(gen, &sub.base, lib, true, subject_email) {
            Ok(()) => return Err(EXCLUDED_VIOLATION),
            Err(PERMITTED_VIOLATION) => {}
            Err(other) => return Err(other),
        }
    }
    Ok(())
}

fn match_single(
    gen: &GeneralName,
    base: &GeneralName,
    lib: Lib,
    excluding: bool,
    case_insensitive_local_part: bool,
) -> Result<(), u32> {
    match (gen, base, lib) {
        (GeneralName::Dir(name), GeneralName::Dir(base), _) => {
            if name.canon.starts_with(&base.canon) {
                Ok(())
            } else {
                Err(PERMITTED_VIOLATION)
            }
        }
        (GeneralName::Dns(dns), GeneralName::Dns(base), Lib::OpenSsl) => openssl_dns(dns, base),
        (GeneralName::Dns(dns), GeneralName::Dns(base), Lib::BoringSsl) => {
            boringssl_dns(dns, base, excluding)
        }
        (GeneralName::Email(e), GeneralName::Email(base), Lib::OpenSsl) => openssl_email(e, base),
        (GeneralName::Email(e), GeneralName::Email(base), Lib::BoringSsl) => {
            boringssl_email(e, base, case_insensitive_local_part)
        }
        (GeneralName::Uri(uri), GeneralName::Uri(base), Lib::OpenSsl) => openssl_uri(uri, base),
        (GeneralName::Uri(uri), GeneralName::Uri(base), Lib::BoringSsl) => boringssl_uri(uri, base),
        (GeneralName::Ip(ip), GeneralName::Ip(base), Lib::OpenSsl) => openssl_ip(ip, base),
        _ => Err(UNSUPPORTED_CONSTRAINT_TYPE),
    }
}

fn violation(ok: bool) -> Result<(), u32> {
    if ok {
        Ok(())
    } else {
        Err(PERMITTED_VIOLATION)
    }
}

/// `nc_dns`: empty matches all; else equal, or longer with a dot before the suffix (or a
/// base that starts with a dot).
fn openssl_dns(dns: &[u8], base: &[u8]) -> Result<(), u32> {
    if base.is_empty() {
        return Ok(());
    }
    if dns.len() < base.len() {
        return Err(PERMITTED_VIOLATION);
    }
    let tail = &dns[dns.len() - base.len()..];
    if dns.len() > base.len() && base[0] != b'.' && dns[dns.len() - base.len() - 1] != b'.' {
        return Err(PERMITTED_VIOLATION);
    }
    violation(tail.eq_ignore_ascii_case(base))
}

fn last_at(bytes: &[u8]) -> Option<usize> {
    bytes.iter().rposition(|b| *b == b'@')
}

/// `nc_email` (OpenSSL 3.0).
fn openssl_email(eml: &[u8], base: &[u8]) -> Result<(), u32> {
    let Some(eml_at) = last_at(eml) else {
        return Err(UNSUPPORTED_NAME_SYNTAX);
    };
    let base_at = last_at(base);
    if base_at.is_none() && base.first() == Some(&b'.') {
        return violation(
            eml.len() > base.len() && eml[eml.len() - base.len()..].eq_ignore_ascii_case(base),
        );
    }
    let mut base_host = base;
    if let Some(at) = base_at {
        if at != 0 {
            if at != eml_at {
                return Err(PERMITTED_VIOLATION);
            }
            if base[..at].contains(&0) || eml[..eml_at].contains(&0) {
                return Err(UNSUPPORTED_NAME_SYNTAX);
            }
            if base[..at] != eml[..eml_at] {
                return Err(PERMITTED_VIOLATION);
            }
        }
        base_host = &base[at + 1..];
    }
    violation(base_host.eq_ignore_ascii_case(&eml[eml_at + 1..]))
}

/// `nc_uri` (OpenSSL 3.0): the host between `scheme://` and a port or path.
fn openssl_uri(uri: &[u8], base: &[u8]) -> Result<(), u32> {
    let Some(colon) = uri.iter().position(|b| *b == b':') else {
        return Err(UNSUPPORTED_NAME_SYNTAX);
    };
    if uri.len() - colon < 3 || uri[colon + 1] != b'/' || uri[colon + 2] != b'/' {
        return Err(UNSUPPORTED_NAME_SYNTAX);
    }
    let host_start = &uri[colon + 3..];
    let end = host_start
        .iter()
        .position(|b| *b == b':')
        .or_else(|| host_start.iter().position(|b| *b == b'/'))
        .unwrap_or(host_start.len());
    let host = &host_start[..end];
    if host.is_empty() {
        return Err(UNSUPPORTED_NAME_SYNTAX);
    }
    if base.first() == Some(&b'.') {
        return violation(
            host.len() > base.len() && host[host.len() - base.len()..].eq_ignore_ascii_case(base),
        );
    }
    violation(host.eq_ignore_ascii_case(base))
}

/// `nc_ip`: address and mask of the same family.
fn openssl_ip(ip: &[u8], base: &[u8]) -> Result<(), u32> {
    if !matches!(ip.len(), 4 | 16) || !matches!(base.len(), 8 | 32) {
        return Err(UNSUPPORTED_NAME_SYNTAX);
    }
    if ip.len() * 2 != base.len() {
        return Err(PERMITTED_VIOLATION);
    }
    let (address, mask) = base.split_at(ip.len());
    violation(
        ip.iter()
            .zip(address)
            .zip(mask)
            .all(|((i, a), m)| i & m == a & m),
    )
}

fn equal_case(a: &[u8], b: &[u8]) -> bool {
    a.eq_ignore_ascii_case(b)
}

fn has_suffix_case(a: &[u8], b: &[u8]) -> bool {
    a.len() >= b.len() && equal_case(&a[a.len() - b.len()..], b)
}

/// `nc_dns` (BoringSSL): trailing dots dropped, and an excluded `foo.bar.com` also
/// excludes the wildcard `*.bar.com`.
fn boringssl_dns(dns: &[u8], base: &[u8], excluding: bool) -> Result<(), u32> {
    if base.is_empty() {
        return Ok(());
    }
    let dns = dns.strip_suffix(b".").unwrap_or(dns);
    let base = base.strip_suffix(b".").unwrap_or(base);
    if excluding && dns.starts_with(b"*.") {
        if let Some(dot) = base.iter().position(|b| *b == b'.') {
            if equal_case(&dns[2..], &base[dot + 1..]) {
                return Ok(());
            }
        }
    }
    if base.first() == Some(&b'.') {
        return violation(has_suffix_case(dns, base));
    }
    let mut dns = dns;
    if dns.len() > base.len() {
        if dns[dns.len() - base.len() - 1] != b'.' {
            return Err(PERMITTED_VIOLATION);
        }
        dns = &dns[dns.len() - base.len()..];
    }
    violation(equal_case(dns, base))
}

fn allowed_local_part(part: &[u8]) -> bool {
    !part.is_empty()
        && part
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~.".contains(c))
}

fn allowed_domain(part: &[u8]) -> bool {
    !part.is_empty()
        && part
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'.')
}

/// `nc_email` (BoringSSL): one `@`, restricted characters, RFC 5280 forms.
fn boringssl_email(eml: &[u8], base: &[u8], case_insensitive_local_part: bool) -> Result<(), u32> {
    let Some(at) = eml.iter().position(|b| *b == b'@') else {
        return Err(UNSUPPORTED_NAME_SYNTAX);
    };
    let (local, domain) = (&eml[..at], &eml[at + 1..]);
    if domain.contains(&b'@') || !allowed_local_part(local) || !allowed_domain(domain) {
        return Err(UNSUPPORTED_NAME_SYNTAX);
    }
    let (base_local, base_domain) = match base.iter().position(|b| *b == b'@') {
        Some(at) => {
            let (l, d) = (&base[..at], &base[at + 1..]);
            if d.contains(&b'@') || !allowed_local_part(l) {
                return Err(UNSUPPORTED_NAME_SYNTAX);
            }
            (Some(l), d)
        }
        None => (None, base),
    };
    if !allowed_domain(base_domain) {
        return Err(UNSUPPORTED_NAME_SYNTAX);
    }
    if let Some(base_local) = base_local {
        let local_ok = if case_insensitive_local_part {
            equal_case(base_local, local)
        } else {
            base_local == local
        };
        return violation(local_ok && equal_case(base_domain, domain));
    }
    if base_domain.first() == Some(&b'.') {
        return violation(has_suffix_case(domain, base_domain));
    }
    violation(equal_case(base_domain, domain))
}

/// `nc_uri_is_fqdn`: LDH labels of 1–63 characters, not an IP address.
fn is_fqdn(host: &[u8]) -> bool {
    if host.is_empty() || host.iter().any(|b| b"@[]".contains(b)) {
        return false;
    }
    let labels: Vec<&[u8]> = host.split(|b| *b == b'.').collect();
    for label in &labels {
        if label.is_empty()
            || label.len() > 63
            || !label[0].is_ascii_alphanumeric()
            || !label[label.len() - 1].is_ascii_alphanumeric()
            || !label
                .iter()
                .all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        {
            return false;
        }
    }
    let last = labels[labels.len() - 1];
    if last.starts_with(b"0x") || last.starts_with(b"0X") {
        return !last[2..].iter().all(u8::is_ascii_hexdigit);
    }
    !last.iter().all(u8::is_ascii_digit)
}

/// `nc_get_valid_uri_host` then `nc_uri` (BoringSSL).
fn boringssl_uri(uri: &[u8], base: &[u8]) -> Result<(), u32> {
    let host = (|| {
        let colon = uri.iter().position(|b| *b == b':')?;
        let scheme = &uri[..colon];
        let (first, rest) = scheme.split_first()?;
        if !first.is_ascii_alphabetic()
            || !rest
                .iter()
                .all(|c| c.is_ascii_alphanumeric() || b"+-.".contains(c))
        {
            return None;
        }
        let after = uri[colon + 1..].strip_prefix(b"//")?;
        let end = after
            .iter()
            .position(|b| b"/?#".contains(b))
            .unwrap_or(after.len());
        let authority = &after[..end];
        if authority.is_empty() {
            return None;
        }
        let host = match authority.iter().position(|b| *b == b':') {
            Some(p) if authority[p + 1..].iter().all(u8::is_ascii_digit) => &authority[..p],
            Some(_) => return None,
            None => authority,
        };
        let host = host.strip_suffix(b".").unwrap_or(host);
        is_fqdn(host).then_some(host)
    })();
    let Some(host) = host else {
        return Err(UNSUPPORTED_NAME_SYNTAX);
    };
    let base = base.strip_suffix(b".").unwrap_or(base);
    let leading_dot = base.first() == Some(&b'.');
    if !is_fqdn(if leading_dot { &base[1..] } else { base }) {
        return Err(UNSUPPORTED_CONSTRAINT_SYNTAX);
    }
    if leading_dot {
        return violation(has_suffix_case(host, base));
    }
    violation(equal_case(base, host))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_constraints_match_whole_labels() {
        assert_eq!(openssl_dns(b"x.allowed.test", b"allowed.test"), Ok(()));
        assert_eq!(openssl_dns(b"allowed.test", b"allowed.test"), Ok(()));
        assert_eq!(
            openssl_dns(b"notallowed.test", b"allowed.test"),
            Err(PERMITTED_VIOLATION)
        );
        assert_eq!(boringssl_dns(b"*.bar.com", b"foo.bar.com", true), Ok(()));
        assert_eq!(
            boringssl_dns(b"x.allowed.test.", b"allowed.test", false),
            Ok(())
        );
        assert!(cn2dnsid(b"www.example.com"));
        assert!(!cn2dnsid(b"localhost"));
        assert!(!cn2dnsid(b"My Server"));
    }

    #[test]
    fn email_and_uri_forms() {
        assert_eq!(openssl_email(b"a@example.com", b"example.com"), Ok(()));
        assert_eq!(openssl_email(b"a@x.example.com", b".example.com"), Ok(()));
        assert_eq!(
            openssl_email(b"a@example.com", b"b@example.com"),
            Err(PERMITTED_VIOLATION)
        );
        assert_eq!(
            boringssl_email(b"a b@example.com", b"example.com", false),
            Err(UNSUPPORTED_NAME_SYNTAX)
        );
        assert_eq!(
            openssl_uri(b"https://h.example.com:8443/x", b".example.com"),
            Ok(())
        );
        assert_eq!(
            boringssl_uri(b"https://h.example.com:8443/x", b".example.com"),
            Ok(())
        );
        assert_eq!(
            boringssl_uri(b"https://10.0.0.1/", b".example.com"),
            Err(UNSUPPORTED_NAME_SYNTAX)
        );
    }
}

//! Host-name matching: OpenSSL's `X509_check_host` / `X509_check_ip` (`v3_utl.c`) as
//! Python drives them, and gRPC's two matchers — the hostname verifier after the
//! handshake (`tls_utils.cc VerifySubjectAlternativeName`) and the per-call host check
//! (`ssl_transport_security.cc tsi_ssl_peer_matches_name`).

use std::net::{Ipv4Addr, Ipv6Addr};

use super::cert::Cert;
use super::name::{self, GeneralName, OID_COMMON_NAME};

/// What Python hands to OpenSSL: `X509_VERIFY_PARAM_set1_ip` when `a2i_IPADDRESS` reads
/// the server_hostname as an address, else `X509_VERIFY_PARAM_set1_host`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Name(Vec<u8>),
    Ip(Vec<u8>),
}

impl Target {
    pub fn of(server_hostname: &str) -> Target {
        match a2i_ipaddress(server_hostname) {
            Some(ip) => Target::Ip(ip),
            None => Target::Name(server_hostname.as_bytes().to_vec()),
        }
    }
}

/// `v3_utl.c ossl_a2i_ipadd`: IPv6 when there is a colon, else `sscanf("%d.%d.%d.%d")`.
fn a2i_ipaddress(text: &str) -> Option<Vec<u8>> {
    if text.contains(':') {
        return text.parse::<Ipv6Addr>().ok().map(|ip| ip.octets().to_vec());
    }
    let mut rest = text.as_bytes();
    let mut out = Vec::with_capacity(4);
    for i in 0..4 {
        if i > 0 {
            rest = rest.strip_prefix(b".")?;
        }
        // %d: optional leading white space and sign, then digits.
        let start = rest.iter().take_while(|b| b.is_ascii_whitespace()).count();
        rest = &rest[start..];
        let negative = rest.first() == Some(&b'-');
        if matches!(rest.first(), Some(b'-' | b'+')) {
            rest = &rest[1..];
        }
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        let value: u64 = std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()?;
        rest = &rest[digits..];
        if negative && value != 0 || value > 255 {
            return None;
        }
        out.push(value as u8);
    }
    (rest.is_empty() || rest[0].is_ascii_whitespace()).then_some(out)
}

/// Python's hostflags: always NO_PARTIAL_WILDCARDS; NEVER_CHECK_SUBJECT when
/// `hostname_checks_common_name` is off (urllib3).
#[derive(Debug, Clone, Copy)]
pub struct HostFlags {
    pub no_partial_wildcards: bool,
    pub never_check_subject: bool,
}

/// `X509_check_host(x, host, 0, flags) > 0`.
pub fn openssl_check_host(cert: &Cert, host: &[u8], flags: HostFlags) -> bool {
    let mut dns_san_present = false;
    for san in cert.san().into_iter().flatten() {
        if let GeneralName::Dns(pattern) = san {
            dns_san_present = true;
            if !pattern.is_empty() && equal_wildcard(pattern, host, flags) {
                return true;
            }
        }
    }
    if dns_san_present || flags.never_check_subject {
        return false;
    }
    cert.subject.of_type(OID_COMMON_NAME).any(|cn| {
        name::to_utf8(cn.tag, &cn.value)
            .is_some_and(|cn| !cn.is_empty() && equal_wildcard(&cn, host, flags))
    })
}

/// `X509_check_ip`: byte equality with an iPAddress SAN; the subject is never consulted.
pub fn openssl_check_ip(cert: &Cert, ip: &[u8]) -> bool {
    cert.san()
        .into_iter()
        .flatten()
        .any(|san| matches!(san, GeneralName::Ip(bytes) if !bytes.is_empty() && bytes == ip))
}

/// `equal_nocase`: same length, ASCII case folded, no NUL in the pattern.
fn equal_nocase(pattern: &[u8], subject: &[u8]) -> bool {
    pattern.len() == subject.len()
        && pattern
            .iter()
            .zip(subject)
            .all(|(p, s)| *p != 0 && p.eq_ignore_ascii_case(s))
}

/// `equal_wildcard`.
fn equal_wildcard(pattern: &[u8], subject: &[u8], flags: HostFlags) -> bool {
    let star = if subject.len() > 1 && subject[0] == b'.' {
        None
    } else {
        valid_star(pattern, flags)
    };
    match star {
        None => equal_nocase(pattern, subject),
        Some(star) => wildcard_match(&pattern[..star], &pattern[star + 1..], subject),
    }
}

/// `valid_star`: the position of the one acceptable `*`, if the pattern has one.
fn valid_star(p: &[u8], flags: HostFlags) -> Option<usize> {
    const START: u8 = 1;
    const HYPHEN: u8 = 4;
    const IDNA: u8 = 8;
    let mut star = None;
    let mut state = START;
    let mut dots = 0;
    for i in 0..p.len() {
        let c = p[i];
        if c == b'*' {
            let at_start = state & START != 0;
            let at_end = i == p.len() - 1 || p[i + 1] == b'.';
            if star.is_some() || state & IDNA != 0 || dots > 0 {
                return None;
            }
            if flags.no_partial_wildcards && (!at_start || !at_end) {
                return None;
            }
            if !at_start && !at_end {
                return None;
            }
            star = Some(i);
            state &= !START;
        } else if c.is_ascii_alphanumeric() {
            if state & START != 0 && p.len() - i >= 4 && p[i..i + 4].eq_ignore_ascii_case(b"xn--") {
                state |= IDNA;
            }
            state &= !(HYPHEN | START);
        } else if c == b'.' {
            if state & (HYPHEN | START) != 0 {
                return None;
            }
            state = START;
            dots += 1;
        } else if c == b'-' {
            if state & START != 0 {
                return None;
            }
            state |= HYPHEN;
        } else {
            return None;
        }
    }
    // The final label must not end in a hyphen or dot, and two dots must follow the star.
    if state & (START | HYPHEN) != 0 || dots < 2 {
        return None;
    }
    star
}

/// `wildcard_match` (no multi-label wildcards: Python never asks for them).
fn wildcard_match(prefix: &[u8], suffix: &[u8], subject: &[u8]) -> bool {
    if subject.len() < prefix.len() + suffix.len() {
        return false;
    }
    if !equal_nocase(prefix, &subject[..prefix.len()]) {
        return false;
    }
    let wildcard = &subject[prefix.len()..subject.len() - suffix.len()];
    if !equal_nocase(&subject[subject.len() - suffix.len()..], suffix) {
        return false;
    }
    let full_label = prefix.is_empty() && suffix.first() == Some(&b'.');
    if full_label && wildcard.is_empty() {
        return false;
    }
    // IDNA labels cannot match partial wildcards.
    if !full_label && subject.len() >= 4 && subject[..4].eq_ignore_ascii_case(b"xn--") {
        return false;
    }
    if wildcard == b"*" {
        return true;
    }
    wildcard
        .iter()
        .all(|c| c.is_ascii_alphanumeric() || *c == b'-')
}

/// The names gRPC's peer carries: DNS SANs as UTF-8, IP SANs as `inet_ntop` text.
struct Peer {
    dns: Vec<Vec<u8>>,
    ips: Vec<String>,
    /// Every SAN entry in order, as the per-call check reads them.
    all: Vec<Vec<u8>>,
    common_name: Option<Vec<u8>>,
}

impl Peer {
    fn of(cert: &Cert) -> Peer {
        let mut peer = Peer {
            dns: Vec::new(),
            ips: Vec::new(),
            all: Vec::new(),
            // ssl_get_x509_common_name: the first CN attribute.
            common_name: cert
                .subject
                .of_type(OID_COMMON_NAME)
                .next()
                .and_then(|cn| name::to_utf8(cn.tag, &cn.value)),
        };
        for san in cert.san().into_iter().flatten() {
            match san {
                GeneralName::Dns(dns) => {
                    peer.dns.push(dns.clone());
                    peer.all.push(dns.clone());
                }
                GeneralName::Email(text) | GeneralName::Uri(text) => peer.all.push(text.clone()),
                GeneralName::Ip(ip) => {
                    let text = inet_ntop(ip).unwrap_or_default();
                    peer.all.push(text.clone().into_bytes());
                    peer.ips.push(text);
                }
                _ => peer.all.push(b"other types of SAN".to_vec()),
            }
        }
        peer
    }
}

/// `inet_ntop` as glibc writes it (IPv6: longest run of two or more zero groups as `::`,
/// an IPv4-compatible or -mapped tail in dotted form).
fn inet_ntop(ip: &[u8]) -> Option<String> {
    match ip.len() {
        4 => Some(Ipv4Addr::new(ip[0], ip[1], ip[2], ip[3]).to_string()),
        16 => {
            let words: Vec<u16> = ip
                .chunks(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            let mut best: Option<(usize, usize)> = None;
            let mut cur: Option<(usize, usize)> = None;
            for (i, w) in words.iter().enumerate() {
                if *w == 0 {
                    cur = Some(cur.map_or((i, 1), |(b, l)| (b, l + 1)));
                } else if let Some(c) = cur.take() {
                    if best.is_none_or(|b| c.1 > b.1) {
                        best = Some(c);
                    }
                }
            }
            if let Some(c) = cur {
                if best.is_none_or(|b| c.1 > b.1) {
                    best = Some(c);
                }
            }
            let best = best.filter(|b| b.1 >= 2);
            let mut out = String::new();
            let mut i = 0;
            while i < 8 {
                if let Some((base, len)) = best {
                    if i >= base && i < base + len {
                        if i == base {
                            out.push(':');
                        }
                        i += 1;
                        continue;
                    }
                }
                if i != 0 {
                    out.push(':');
                }
                let ipv4_tail = i == 6
                    && best.is_some_and(|(base, len)| {
                        base == 0 && (len == 6 || (len == 5 && words[5] == 0xffff))
                    });
                if ipv4_tail {
                    out.push_str(&Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]).to_string());
                    break;
                }
                out.push_str(&format!("{:x}", words[i]));
                i += 1;
            }
            if best.is_some_and(|(base, len)| base + len == 8) {
                out.push(':');
            }
            Some(out)
        }
        _ => None,
    }
}

/// `HostNameCertificateVerifier::Verify`: DNS SANs, then IP SANs as text, then (only
/// without DNS SANs) the first CN, against the target host.
pub fn grpc_hostname_verifier(cert: &Cert, target: &str) -> bool {
    let host = target
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(target);
    let host = host.split('%').next().unwrap_or(host);
    if host.is_empty() {
        return false;
    }
    let peer = Peer::of(cert);
    if peer
        .dns
        .iter()
        .any(|dns| verify_subject_alternative_name(c_string(dns), host.as_bytes()))
    {
        return true;
    }
    if peer.ips.iter().any(|ip| ip == host) {
        return true;
    }
    peer.dns.is_empty()
        && peer
            .common_name
            .as_deref()
            .is_some_and(|cn| verify_subject_alternative_name(c_string(cn), host.as_bytes()))
}

/// gRPC passes the names as C strings: they end at the first NUL.
fn c_string(bytes: &[u8]) -> &[u8] {
    bytes.split(|b| *b == 0).next().unwrap_or(bytes)
}

/// `tls_utils.cc VerifySubjectAlternativeName(san, matcher)`.
fn verify_subject_alternative_name(san: &[u8], matcher: &[u8]) -> bool {
    if san.is_empty() || san[0] == b'.' || matcher.is_empty() || matcher[0] == b'.' {
        return false;
    }
    let absolute = |name: &[u8]| {
        let mut name = name.to_ascii_lowercase();
        if name.last() != Some(&b'.') {
            name.push(b'.');
        }
        name
    };
    let san = absolute(san);
    let matcher = absolute(matcher);
    if !san.contains(&b'*') {
        return san == matcher;
    }
    if !san.starts_with(b"*.") || san == b"*." {
        return false;
    }
    let suffix = &san[1..];
    if suffix.contains(&b'*') || !matcher.ends_with(suffix) {
        return false;
    }
    let start = matcher.len() - suffix.len();
    start == 0 || !matcher[..start].contains(&b'.')
}

/// `tsi_ssl_peer_matches_name` for the call's host (port and IPv6 zone removed): every
/// SAN entry, IP-like names by string equality, the CN only when there is no SAN at all.
pub fn grpc_call_host_matches(cert: &Cert, authority: &str) -> bool {
    let host = split_host(authority);
    let host = host.split('%').next().unwrap_or(host);
    if host.is_empty() {
        return false;
    }
    let like_ip = looks_like_ip_address(host);
    let peer = Peer::of(cert);
    for entry in &peer.all {
        if like_ip {
            if entry.as_slice() == host.as_bytes() {
                return true;
            }
        } else if does_entry_match_name(entry, host.as_bytes()) {
            return true;
        }
    }
    peer.all.is_empty()
        && !like_ip
        && peer
            .common_name
            .as_deref()
            .is_some_and(|cn| does_entry_match_name(cn, host.as_bytes()))
}

/// `SplitHostPort`'s host: `[v6]:port`, `[v6]`, `host:port`, a bare IPv6 or a bare host.
fn split_host(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match authority.matches(':').count() {
        1 => authority.split(':').next().unwrap_or(authority),
        _ => authority,
    }
}

/// `looks_like_ip_address`: a colon, or four dot-separated groups of 1–4 digits.
fn looks_like_ip_address(name: &str) -> bool {
    let mut dots = 0;
    let mut digits = 0;
    for c in name.bytes() {
        match c {
            b':' => return true,
            b'0'..=b'9' => {
                if digits > 3 {
                    return false;
                }
                digits += 1;
            }
            b'.' => {
                if dots > 3 || digits == 0 {
                    return false;
                }
                dots += 1;
                digits = 0;
            }
            _ => return false,
        }
    }
    dots >= 3 && digits > 0
}

/// `does_entry_match_name`: case-insensitive equality, or `*.` plus the name minus its
/// first label, where that rest must itself contain a dot (`*.com` never matches).
fn does_entry_match_name(entry: &[u8], name: &[u8]) -> bool {
    if entry.is_empty() || name.is_empty() {
        return false;
    }
    let name = name.strip_suffix(b".").unwrap_or(name);
    let entry = match entry.strip_suffix(b".") {
        Some([]) => return false,
        Some(e) => e,
        None => entry,
    };
    if name.eq_ignore_ascii_case(entry) {
        return true;
    }
    if entry[0] != b'*' {
        return false;
    }
    if entry.len() < 3 || entry[1] != b'.' {
        return false;
    }
    let Some(dot) = name.iter().position(|b| *b == b'.') else {
        return false;
    };
    if dot + 2 >= name.len() {
        return false;
    }
    let subdomain = &name[dot + 1..];
    match subdomain.iter().position(|b| *b == b'.') {
        None => return false,
        Some(d) if d == subdomain.len() - 1 => return false,
        Some(_) => {}
    }
    let subdomain = subdomain.strip_suffix(b".").unwrap_or(subdomain);
    let entry = &entry[2..];
    !entry.is_empty() && subdomain.eq_ignore_ascii_case(entry)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PYTHON: HostFlags = HostFlags {
        no_partial_wildcards: true,
        never_check_subject: false,
    };

    #[test]
    fn openssl_wildcards_need_two_dots_and_a_whole_label() {
        assert!(equal_wildcard(b"*.example.com", b"a.example.com", PYTHON));
        assert!(!equal_wildcard(b"*.example.com", b"example.com", PYTHON));
        assert!(!equal_wildcard(
            b"*.example.com",
            b"a.b.example.com",
            PYTHON
        ));
        assert!(!equal_wildcard(b"*.com", b"foo.com", PYTHON));
        assert!(equal_wildcard(b"*.com", b"*.com", PYTHON));
        assert!(!equal_wildcard(
            b"f*.example.com",
            b"foo.example.com",
            PYTHON
        ));
        assert!(equal_wildcard(b"LOCALHOST", b"localhost", PYTHON));
    }

    #[test]
    fn grpc_matchers_differ_on_single_label_wildcards() {
        assert!(verify_subject_alternative_name(b"*.com", b"foo.com"));
        assert!(!verify_subject_alternative_name(
            b"*.example.com",
            b"example.com"
        ));
        assert!(!verify_subject_alternative_name(
            b"*.example.com",
            b"a.b.example.com"
        ));
        assert!(!verify_subject_alternative_name(
            b"f*.example.com",
            b"foo.example.com"
        ));
        assert!(!does_entry_match_name(b"*.com", b"foo.com"));
        assert!(does_entry_match_name(b"*.example.com", b"a.example.com"));
    }

    #[test]
    fn addresses_parse_and_print_like_the_c_libraries() {
        assert_eq!(a2i_ipaddress("127.0.0.1"), Some(vec![127, 0, 0, 1]));
        assert_eq!(a2i_ipaddress("127.0.0.01"), Some(vec![127, 0, 0, 1]));
        assert_eq!(a2i_ipaddress("localhost"), None);
        assert_eq!(a2i_ipaddress("1.2.3.256"), None);
        let v6 = |s: &str| inet_ntop(&s.parse::<Ipv6Addr>().unwrap().octets()).unwrap();
        assert_eq!(v6("::1"), "::1");
        assert_eq!(v6("::"), "::");
        assert_eq!(v6("2001:db8::1"), "2001:db8::1");
        assert_eq!(v6("::ffff:1.2.3.4"), "::ffff:1.2.3.4");
        assert_eq!(v6("fe80::1:0:0:1"), "fe80::1:0:0:1");
        assert_eq!(v6("1:0:0:2:0:0:0:3"), "1:0:0:2::3");
        assert!(looks_like_ip_address("127.0.0.1"));
        assert!(!looks_like_ip_address("a.example.com"));
        assert_eq!(split_host("example.com:443"), "example.com");
        assert_eq!(split_host("[::1]:443"), "::1");
    }
}

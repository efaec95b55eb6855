//! Which `/probe` targets `serve` dials. Whoever reaches `/probe?target=` chooses the
//! address, so without `--probe-allow` every address is allowed except those no TLS
//! endpoint worth checking lives at and that an attacker wants: link-local (cloud metadata
//! services among them) and unspecified ones. With `--probe-allow`, only names matching a
//! glob and addresses inside a CIDR. Names are judged on what they resolve to, and the
//! probe then dials exactly the addresses judged, so a second DNS answer cannot steer it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

use crate::target::Host;

/// One `--probe-allow` pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeAllow {
    /// A host name glob, lower case: `*` any run of characters (dots included), `?` one.
    Name(String),
    Net(IpNet),
}

/// The command line's parser for `--probe-allow`.
pub fn parse_probe_allow(text: &str) -> Result<ProbeAllow, String> {
    let trimmed = text.trim();
    if let Ok(net) = trimmed.parse::<IpNet>() {
        return Ok(ProbeAllow::Net(net.trunc()));
    }
    if let Ok(ip) = trimmed.parse::<IpAddr>() {
        return Ok(ProbeAllow::Net(IpNet::from(ip)));
    }
    let glob = trimmed.trim_end_matches('.').to_ascii_lowercase();
    let valid = !glob.is_empty()
        && glob
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'*' | b'?'));
    if !valid {
        return Err(format!(
            "{text:?} is neither a host name glob (flyte.example.com, *.example.com) nor a CIDR (10.0.0.0/8, fd00::/8)"
        ));
    }
    Ok(ProbeAllow::Name(glob))
}

/// Why a target was refused: the `reason` label of `certready_probe_refused_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    LinkLocal,
    Metadata,
    Unspecified,
    NotAllowed,
}

impl Reason {
    pub const ALL: [Reason; 4] = [
        Reason::LinkLocal,
        Reason::Metadata,
        Reason::Unspecified,
        Reason::NotAllowed,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Reason::LinkLocal => "link-local",
            Reason::Metadata => "metadata",
            Reason::Unspecified => "unspecified",
            Reason::NotAllowed => "not-allowed",
        }
    }
}

#[derive(Debug)]
pub struct Refusal {
    pub reason: Reason,
    pub message: String,
}

/// Cloud instance metadata services: AWS, GCP, Azure, OCI and others on 169.254.169.254,
/// AWS's IPv6 endpoint, Alibaba Cloud's.
const METADATA: [IpAddr; 3] = [
    IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254)),
    IpAddr::V6(Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254)),
    IpAddr::V4(Ipv4Addr::new(100, 100, 100, 200)),
];

/// Addresses refused unless a `--probe-allow` CIDR names them.
fn special(ip: IpAddr) -> Option<Reason> {
    if METADATA.contains(&ip) {
        return Some(Reason::Metadata);
    }
    match ip {
        IpAddr::V4(v4) => {
            if v4.is_link_local() {
                Some(Reason::LinkLocal)
            } else if v4.octets()[0] == 0 {
                // 0.0.0.0/8, "this network": Linux dials 0.0.0.0 as the local host.
                Some(Reason::Unspecified)
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            if (v6.segments()[0] & 0xffc0) == 0xfe80 {
                Some(Reason::LinkLocal)
            } else if v6.is_unspecified() {
                Some(Reason::Unspecified)
            } else {
                None
            }
        }
    }
}

/// `*` any run of bytes (dots included), `?` one byte; iterative, no backtracking blow-up.
fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((star_p, star_t)) = star {
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&b| b == b'*')
}

#[derive(Debug, Default)]
pub struct ProbePolicy {
    allow: Vec<ProbeAllow>,
}

impl ProbePolicy {
    pub fn new(allow: Vec<ProbeAllow>) -> Self {
        ProbePolicy { allow }
    }

    /// Without `--probe-allow`, every name; with it, names matching one of its globs.
    pub fn name_allowed(&self, host: &Host) -> bool {
        if self.allow.is_empty() {
            return true;
        }
        let Host::Name(name) = host else {
            return false;
        };
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        self.allow.iter().any(|pattern| match pattern {
            ProbeAllow::Name(glob) => glob_match(glob.as_bytes(), name.as_bytes()),
            ProbeAllow::Net(_) => false,
        })
    }

    /// Whether `ip` may be dialled for a target whose name was (or was not) allowed.
    /// A CIDR that contains the address allows it, even a special one: naming
    /// 169.254.0.0/16 is deliberate.
    pub fn address(&self, ip: IpAddr, name_allowed: bool) -> Result<(), Refusal> {
        let ip = ip.to_canonical();
        let in_cidr = self
            .allow
            .iter()
            .any(|pattern| matches!(pattern, ProbeAllow::Net(net) if net.contains(&ip)));
        if in_cidr {
            return Ok(());
        }
        if let Some(reason) = special(ip) {
            let what = match reason {
                Reason::Metadata => "a cloud metadata address",
                Reason::LinkLocal => "a link-local address",
                _ => "an unspecified address",
            };
            return Err(Refusal {
                reason,
                message: format!(
                    "{ip} is {what}; /probe does not dial it unless a --probe-allow CIDR names it"
                ),
            });
        }
        if name_allowed {
            return Ok(());
        }
        Err(Refusal {
            reason: Reason::NotAllowed,
            message: format!("{ip} matches no --probe-allow pattern"),
        })
    }

    pub fn is_open(&self) -> bool {
        self.allow.is_empty()
    }

    /// Whether any address could still be allowed by a CIDR (else a name that matches no
    /// glob is refused without asking DNS).
    pub fn has_cidrs(&self) -> bool {
        self.allow.iter().any(|p| matches!(p, ProbeAllow::Net(_)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(patterns: &[&str]) -> ProbePolicy {
        ProbePolicy::new(
            patterns
                .iter()
                .map(|p| parse_probe_allow(p).unwrap())
                .collect(),
        )
    }

    fn name(text: &str) -> Host {
        Host::Name(text.into())
    }

    #[test]
    fn by_default_everything_but_link_local_metadata_and_unspecified() {
        let open = policy(&[]);
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "93.184.216.34",
            "2001:db8::1",
            "::1",
        ] {
            assert!(open.address(ip.parse().unwrap(), true).is_ok(), "{ip}");
        }
        for (ip, reason) in [
            ("169.254.169.254", Reason::Metadata),
            ("fd00:ec2::254", Reason::Metadata),
            ("169.254.10.1", Reason::LinkLocal),
            ("fe80::1", Reason::LinkLocal),
            ("::ffff:169.254.169.254", Reason::Metadata),
            ("0.0.0.0", Reason::Unspecified),
            ("::", Reason::Unspecified),
        ] {
            let refusal = open.address(ip.parse().unwrap(), true).unwrap_err();
            assert_eq!(refusal.reason, reason, "{ip}");
        }
    }

    #[test]
    fn with_patterns_only_matching_names_and_cidrs() {
        let allow = policy(&["*.example.com", "10.0.0.0/8", "FLYTE.internal."]);
        assert!(allow.name_allowed(&name("a.example.com")));
        assert!(allow.name_allowed(&name("a.b.example.com.")));
        assert!(allow.name_allowed(&name("flyte.internal")));
        assert!(!allow.name_allowed(&name("example.com")));
        assert!(!allow.name_allowed(&name("example.com.evil.net")));
        assert!(!allow.name_allowed(&Host::Ip("10.1.1.1".parse().unwrap())));
        assert!(allow.address("10.9.9.9".parse().unwrap(), false).is_ok());
        assert_eq!(
            allow
                .address("192.168.1.1".parse().unwrap(), false)
                .unwrap_err()
                .reason,
            Reason::NotAllowed
        );
        // An allowed name still never reaches the metadata service...
        assert!(allow
            .address("169.254.169.254".parse().unwrap(), true)
            .is_err());
        // ...unless a CIDR names it.
        let deliberate = policy(&["169.254.0.0/16"]);
        assert!(deliberate
            .address("169.254.169.254".parse().unwrap(), false)
            .is_ok());
    }

    #[test]
    fn patterns_parse_or_explain() {
        assert_eq!(
            parse_probe_allow("10.1.2.3").unwrap(),
            ProbeAllow::Net("10.1.2.3/32".parse().unwrap())
        );
        assert_eq!(
            parse_probe_allow("10.1.2.3/8").unwrap(),
            ProbeAllow::Net("10.0.0.0/8".parse().unwrap())
        );
        assert!(parse_probe_allow("").is_err());
        assert!(parse_probe_allow("https://x").is_err());
        assert!(glob_match(b"*", b"anything.at.all"));
        assert!(glob_match(b"flyte-?.example.com", b"flyte-1.example.com"));
        assert!(!glob_match(b"flyte-?.example.com", b"flyte-10.example.com"));
        assert!(glob_match(b"*a*a*a*b", b"aaaaaaaaaaaaaaaaaaaaaaaab"));
    }
}

//! Parsing of what the user points certready at: `host`, `host:port`,
//! `https://host[:port][/path]` and flytectl's `dns:///host[:port]`.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};

pub const DEFAULT_PORT: u16 = 443;

/// A host name or an IP literal, as the client would dial and verify it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Host {
    Name(String),
    Ip(IpAddr),
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Name(name) => f.write_str(name),
            Host::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

impl Host {
    /// `host:port` with IPv6 literals bracketed.
    pub fn with_port(&self, port: u16) -> String {
        match self {
            Host::Ip(IpAddr::V6(ip)) => format!("[{ip}]:{port}"),
            other => format!("{other}:{port}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// What the user typed, kept for reports.
    pub input: String,
    pub host: Host,
    pub port: u16,
}

impl Target {
    pub fn authority(&self) -> String {
        self.host.with_port(self.port)
    }

    /// The host name as the user typed it (case and a trailing dot kept): clients echo
    /// the name they were given, e.g. Go's `x509: certificate is valid for a, not B.`.
    pub fn dialled_host(&self) -> String {
        if let Host::Name(name) = &self.host {
            let trimmed = self.input.trim();
            let lower = trimmed.to_ascii_lowercase();
            let rest = ["dns:///", "https://", "grpc://", "grpcs://"]
                .iter()
                .find(|scheme| lower.starts_with(*scheme))
                .map_or(trimmed, |scheme| &trimmed[scheme.len()..]);
            let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
            let typed = authority
                .rsplit_once(':')
                .map_or(authority, |(host, _)| host);
            if typed.trim_end_matches('.').eq_ignore_ascii_case(name) {
                return typed.to_string();
            }
        }
        self.host.to_string()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetError(pub String);

impl fmt::Display for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TargetError {}

pub fn parse_target(input: &str) -> Result<Target, TargetError> {
    let bad = |why: &str| TargetError(format!("cannot use target {input:?}: {why}"));
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(bad("it is empty"));
    }
    let lower = trimmed.to_ascii_lowercase();
    let rest = if lower.starts_with("dns:///") {
        &trimmed["dns:///".len()..]
    } else if lower.starts_with("https://") {
        &trimmed["https://".len()..]
    } else if lower.starts_with("http://") {
        return Err(bad(
            "http:// is plaintext and has no certificate; use https://HOST or HOST:PORT",
        ));
    } else if lower.starts_with("grpc://") || lower.starts_with("grpcs://") {
        &trimmed[trimmed.find("://").unwrap_or(0) + 3..]
    } else if let Some(pos) = trimmed.find("://") {
        return Err(bad(&format!(
            "unsupported scheme {:?}; use HOST, HOST:PORT, https://HOST[:PORT] or dns:///HOST[:PORT]",
            &trimmed[..pos]
        )));
    } else {
        trimmed
    };
    // Drop any path, query or fragment of a URL; userinfo is not a thing we dial.
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err(bad("user information (user@host) is not supported"));
    }
    let (host, port) = split_host_port(authority).map_err(|why| bad(&why))?;
    Ok(Target {
        input: input.to_string(),
        host,
        port: port.unwrap_or(DEFAULT_PORT),
    })
}

/// Splits `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 literal.
pub fn split_host_port(authority: &str) -> Result<(Host, Option<u16>), String> {
    if authority.is_empty() {
        return Err("no host name".into());
    }
    if let Some(rest) = authority.strip_prefix('[') {
        let close = rest
            .find(']')
            .ok_or_else(|| "IPv6 literal is missing its closing ']'".to_string())?;
        let ip: Ipv6Addr = rest[..close]
            .parse()
            .map_err(|_| format!("{:?} is not an IPv6 address", &rest[..close]))?;
        let after = &rest[close + 1..];
        let port = match after {
            "" => None,
            _ => Some(parse_port(after.strip_prefix(':').ok_or_else(|| {
                format!("unexpected {after:?} after the IPv6 literal")
            })?)?),
        };
        return Ok((Host::Ip(IpAddr::V6(ip)), port));
    }
    if authority.matches(':').count() > 1 {
        // Unbracketed IPv6 literal: only valid without a port.
        return authority
            .parse::<Ipv6Addr>()
            .map(|ip| (Host::Ip(IpAddr::V6(ip)), None))
            .map_err(|_| "put IPv6 addresses in brackets, e.g. [::1]:443".to_string());
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (host, Some(parse_port(port)?)),
        None => (authority, None),
    };
    Ok((parse_host(host)?, port))
}

fn parse_port(text: &str) -> Result<u16, String> {
    match text.parse::<u16>() {
        Ok(0) | Err(_) => Err(format!("{text:?} is not a port number (1-65535)")),
        Ok(port) => Ok(port),
    }
}

fn parse_host(text: &str) -> Result<Host, String> {
    if text.is_empty() {
        return Err("no host name".into());
    }
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok(Host::Ip(ip));
    }
    let name = text.trim_end_matches('.').to_ascii_lowercase();
    let valid_label = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && label
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    if name.len() > 253 || !name.split('.').all(valid_label) {
        return Err(format!("{text:?} is not a valid host name"));
    }
    Ok(Host::Name(name))
}

/// `--resolve HOST:PORT:ADDR[,ADDR...]` (curl's syntax): connections to HOST:PORT go to
/// these addresses, tried in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolveRule {
    pub host: Host,
    pub port: u16,
    pub addrs: Vec<IpAddr>,
}

pub fn parse_resolve(text: &str) -> Result<ResolveRule, TargetError> {
    let bad = |why: &str| {
        TargetError(format!(
            "cannot use --resolve {text:?}: {why} (expected HOST:PORT:ADDR, e.g. flyte.example.com:443:127.0.0.1)"
        ))
    };
    let mut parts = text.splitn(3, ':');
    let (Some(host), Some(port), Some(addr)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad("missing fields"));
    };
    let host = parse_host(host).map_err(|why| bad(&why))?;
    let port = parse_port(port).map_err(|why| bad(&why))?;
    let addrs = addr
        .split(',')
        .map(|one| {
            one.trim()
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .map_err(|_| bad(&format!("{one:?} is not an IP address")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ResolveRule { host, port, addrs })
}

/// `--connect-to ADDR:PORT`: dial this address instead of resolving the target.
pub fn parse_connect_to(text: &str) -> Result<(Host, u16), TargetError> {
    let bad = |why: String| {
        TargetError(format!(
            "cannot use --connect-to {text:?}: {why} (expected ADDR:PORT, e.g. 10.0.0.5:443)"
        ))
    };
    match split_host_port(text).map_err(bad)? {
        (host, Some(port)) => Ok((host, port)),
        (_, None) => Err(bad("a port is required".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dialled_host_keeps_case_and_a_trailing_dot() {
        let dialled = |t: &str| parse_target(t).unwrap().dialled_host();
        assert_eq!(dialled("FLYTE.Example.COM"), "FLYTE.Example.COM");
        assert_eq!(
            dialled("dns:///flyte.example.com.:443"),
            "flyte.example.com."
        );
        assert_eq!(
            dialled("https://Flyte.example.com/console"),
            "Flyte.example.com"
        );
        assert_eq!(dialled("[::1]:8443"), "::1");
        assert_eq!(
            parse_target("FLYTE.example.com").unwrap().host.to_string(),
            "flyte.example.com"
        );
    }

    fn parsed(input: &str) -> (String, u16) {
        let t = parse_target(input).unwrap();
        (t.host.to_string(), t.port)
    }

    #[test]
    fn accepts_every_documented_form() {
        assert_eq!(
            parsed("flyte.example.com"),
            ("flyte.example.com".into(), 443)
        );
        assert_eq!(
            parsed("flyte.example.com:8443"),
            ("flyte.example.com".into(), 8443)
        );
        assert_eq!(
            parsed("https://Flyte.Example.com/console?x=1"),
            ("flyte.example.com".into(), 443)
        );
        assert_eq!(
            parsed("https://flyte.example.com:30081/"),
            ("flyte.example.com".into(), 30081)
        );
        assert_eq!(
            parsed("dns:///flyte.example.com"),
            ("flyte.example.com".into(), 443)
        );
        assert_eq!(
            parsed("dns:///flyte.example.com:81"),
            ("flyte.example.com".into(), 81)
        );
        assert_eq!(parsed("[::1]:8443"), ("::1".into(), 8443));
        assert_eq!(parsed("https://[2001:db8::1]"), ("2001:db8::1".into(), 443));
        assert_eq!(parsed("::1"), ("::1".into(), 443));
        assert_eq!(parsed("127.0.0.1:1"), ("127.0.0.1".into(), 1));
    }

    #[test]
    fn rejects_what_cannot_be_dialled() {
        for bad in [
            "",
            "host:0",
            "host:99999",
            "host:abc",
            "http://flyte.example.com",
            "ftp://x",
            "[::1",
            "bad host",
            "-leading.example.com",
            "user@host",
            "https://",
        ] {
            assert!(parse_target(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn resolve_rules_follow_curl() {
        let rule = parse_resolve("flyte.example.com:443:127.0.0.1").unwrap();
        assert_eq!(rule.port, 443);
        assert_eq!(rule.addrs[0].to_string(), "127.0.0.1");
        let several = parse_resolve("h:443:127.0.0.2,[::1]").unwrap();
        assert_eq!(several.addrs.len(), 2);
        assert!(parse_resolve("h:443:127.0.0.1,nope").is_err());
        let v6 = parse_resolve("h:1:[::1]").unwrap();
        assert_eq!(v6.addrs[0].to_string(), "::1");
        assert!(parse_resolve("h:443").is_err());
        assert!(parse_resolve("h:x:127.0.0.1").is_err());
        assert!(parse_connect_to("10.0.0.5").is_err());
        assert_eq!(parse_connect_to("[::1]:9").unwrap().1, 9);
    }
}

//! HTTP CONNECT proxies for the probe: `HTTPS_PROXY`/`https_proxy` (or flytectl's
//! `admin.httpProxyURL`), minus the hosts `NO_PROXY`/`no_proxy` exempt.

use std::fmt;

use base64::Engine;

use crate::target::{self, Host};

#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    pub host: Host,
    pub port: u16,
    /// `Proxy-Authorization: Basic …` value from the URL's user:password.
    pub authorization: Option<String>,
    /// The URL without credentials, for messages.
    pub display: String,
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Credentials stay out of debug output.
        write!(f, "Proxy({})", self.display)
    }
}

pub fn parse_proxy(url: &str) -> Result<Proxy, String> {
    let bad =
        |why: &str| format!("proxy {url:?}: {why} (expected http://[user:password@]host:port)");
    let rest = url
        .strip_prefix("http://")
        .or_else(|| (!url.contains("://")).then_some(url))
        .ok_or_else(|| bad("only http:// proxies (HTTP CONNECT) are supported"))?;
    let rest = rest.trim_end_matches('/');
    let (userinfo, authority) = match rest.rsplit_once('@') {
        Some((userinfo, authority)) => (Some(userinfo), authority),
        None => (None, rest),
    };
    let (host, port) = target::split_host_port(authority).map_err(|e| bad(&e))?;
    let port = port.unwrap_or(80);
    let authorization = userinfo.map(|u| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(u.as_bytes())
        )
    });
    Ok(Proxy {
        display: format!("http://{}", host.with_port(port)),
        host,
        port,
        authorization,
    })
}

/// Which proxy, if any, the probe of `host` goes through.
impl Proxy {
    /// The proxy for reqwest: for `https` URLs (tunnelled with CONNECT) or plain `http`
    /// ones (forwarded), with the Proxy-Authorization the URL's credentials give.
    pub fn reqwest(&self, https: bool) -> Result<reqwest::Proxy, String> {
        let url = format!("http://{}:{}", self.host, self.port);
        let mut via = if https {
            reqwest::Proxy::https(url)
        } else {
            reqwest::Proxy::http(url)
        }
        .map_err(|e| e.to_string())?;
        if let Some(authorization) = &self.authorization {
            let value =
                reqwest::header::HeaderValue::from_str(authorization).map_err(|e| e.to_string())?;
            via = via.custom_http_auth(value);
        }
        Ok(via)
    }
}

#[derive(Debug, Clone, Default)]
pub struct ProxySettings {
    pub proxy: Option<Proxy>,
    /// NO_PROXY entries, lower-cased.
    pub no_proxy: Vec<String>,
}

impl ProxySettings {
    /// From the environment, as curl reads it: https_proxy, HTTPS_PROXY; no_proxy, NO_PROXY.
    pub fn from_env() -> Result<Self, String> {
        let var = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| std::env::var(n).ok().filter(|v| !v.trim().is_empty()))
        };
        let proxy = var(&["https_proxy", "HTTPS_PROXY"])
            .map(|url| parse_proxy(url.trim()))
            .transpose()?;
        let no_proxy = var(&["no_proxy", "NO_PROXY"])
            .map(|list| {
                list.split(',')
                    .map(|entry| entry.trim().to_ascii_lowercase())
                    .filter(|entry| !entry.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        Ok(ProxySettings { proxy, no_proxy })
    }

    pub fn for_host(&self, host: &Host) -> Option<&Proxy> {
        let proxy = self.proxy.as_ref()?;
        let name = host.to_string().to_ascii_lowercase();
        let exempt = self.no_proxy.iter().any(|entry| {
            let entry = entry.trim_start_matches("*.").trim_start_matches('.');
            // Entries may carry a port; the host decides.
            let entry = match target::split_host_port(entry) {
                Ok((host, _)) => host.to_string(),
                Err(_) => entry.to_string(),
            };
            entry == "*" || name == entry || name.ends_with(&format!(".{entry}"))
        });
        (!exempt).then_some(proxy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_urls() {
        let proxy = parse_proxy("http://user:secret@proxy.example.com:3128/").unwrap();
        assert_eq!(proxy.port, 3128);
        assert_eq!(
            proxy.authorization.as_deref(),
            Some("Basic dXNlcjpzZWNyZXQ=")
        );
        assert_eq!(proxy.display, "http://proxy.example.com:3128");
        assert!(!format!("{proxy:?}").contains("secret"));
        assert_eq!(parse_proxy("proxy:8080").unwrap().port, 8080);
        assert_eq!(parse_proxy("http://proxy").unwrap().port, 80);
        assert!(parse_proxy("https://proxy:443").is_err());
        assert!(parse_proxy("socks5://proxy:1080").is_err());
    }

    #[test]
    fn no_proxy_matches_hosts_and_domains() {
        let settings = ProxySettings {
            proxy: Some(parse_proxy("http://proxy:3128").unwrap()),
            no_proxy: vec![
                "example.com".into(),
                ".internal".into(),
                "10.0.0.5".into(),
                "other:443".into(),
            ],
        };
        let host = |h: &str| target::split_host_port(h).unwrap().0;
        assert!(settings.for_host(&host("flyte.example.com")).is_none());
        assert!(settings.for_host(&host("example.com")).is_none());
        assert!(settings.for_host(&host("admin.internal")).is_none());
        assert!(settings.for_host(&host("10.0.0.5")).is_none());
        assert!(settings.for_host(&host("other")).is_none());
        assert!(settings.for_host(&host("notexample.com")).is_some());
        assert!(settings.for_host(&host("idp.okta.com")).is_some());
        let everything = ProxySettings {
            no_proxy: vec!["*".into()],
            ..settings
        };
        assert!(everything.for_host(&host("idp.okta.com")).is_none());
    }
}

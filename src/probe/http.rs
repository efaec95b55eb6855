//! Plain-HTTP fetches on the certificate's behalf — AIA issuers, OCSP responders, CRLs:
//! http:// only, through the run's proxy and --resolve pins, never to a link-local or
//! special address (a certificate comes from whatever server is checked, and must not make
//! certready reach cloud metadata), redirects as Chrome follows them, bounded in time and
//! size.

use std::net::IpAddr;
use std::time::Duration;

use super::ProbeOptions;
use crate::target;

/// Redirects followed, as Chrome does (URLRequest's kMaxRedirects); Apple follows none, so
/// an issuer reached only through a redirect rescues Chrome alone.
pub const MAX_REDIRECTS: usize = 20;

/// An answer's body and, when redirected, the URL it finally came from.
pub struct Answer {
    pub body: Vec<u8>,
    pub redirected_to: Option<String>,
}

/// What to ask: GET, or POST with a body of a content type (an OCSP request), and how
/// much of an answer to read.
pub struct Request<'a> {
    pub url: &'a str,
    pub post: Option<(&'static str, Vec<u8>)>,
    pub max_bytes: usize,
    /// Why a larger answer cannot be right, for the message ("more than any certificate").
    pub larger_than_anything: &'static str,
}

impl<'a> Request<'a> {
    pub fn get(url: &'a str, max_bytes: usize, larger_than_anything: &'static str) -> Self {
        Request {
            url,
            post: None,
            max_bytes,
            larger_than_anything,
        }
    }
}

/// A redirect certready will not follow, in words.
#[derive(Debug)]
struct RedirectRefused(String);

impl std::fmt::Display for RedirectRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RedirectRefused {}

/// GET or POST `request.url` (http only, redirects as Chrome follows them), 200 and at
/// most `request.max_bytes`, or why not.
pub async fn fetch(
    request: &Request<'_>,
    options: &ProbeOptions,
    timeout: Duration,
) -> Result<Answer, String> {
    let url = request.url;
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("not a valid URL: {e}"))?;
    if let Some(refusal) = forbidden_url(&parsed) {
        return Err(refusal);
    }
    let client = client(&parsed, options, timeout)?;
    let builder = match &request.post {
        Some((content_type, body)) => client
            .post(parsed.clone())
            .header(reqwest::header::CONTENT_TYPE, *content_type)
            .body(body.clone()),
        None => client.get(parsed.clone()),
    };
    let mut response = builder
        .send()
        .await
        .map_err(|e| describe_error(&e, timeout))?;
    let redirected_to = (response.url() != &parsed).then(|| response.url().to_string());
    let status = response.status();
    if status != reqwest::StatusCode::OK {
        return Err(format!("answered HTTP {status}, not 200"));
    }
    let max = request.max_bytes;
    let too_large = || {
        format!(
            "the answer is larger than {} KiB, {}; not read",
            max / 1024,
            request.larger_than_anything
        )
    };
    if response
        .content_length()
        .is_some_and(|length| length > max as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| describe_error(&e, timeout))?
    {
        if body.len() + chunk.len() > max {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Answer {
        body,
        redirected_to,
    })
}

/// A client for one URL: plain HTTP through the run's proxy (unless NO_PROXY exempts the
/// host), its --resolve pins for that host and port, no cookies, bounded by `timeout`.
fn client(
    url: &reqwest::Url,
    options: &ProbeOptions,
    timeout: Duration,
) -> Result<reqwest::Client, String> {
    // Only http:// is ever requested; the TLS configuration exists because reqwest needs
    // one, and trusts nothing.
    let tls = rustls::ClientConfig::builder_with_provider(super::provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    let policy = reqwest::redirect::Policy::custom(|attempt| {
        let next = attempt.url().clone();
        if next.scheme() != "http" {
            attempt.error(RedirectRefused(format!(
                "redirected to {next}, which is not http:// (Chrome refuses it)"
            )))
        } else if let Some(refusal) = forbidden_url(&next) {
            attempt.error(RedirectRefused(format!("redirected to {next}: {refusal}")))
        } else if attempt.previous().contains(&next) {
            attempt.error(RedirectRefused(format!(
                "redirected in a loop (back to {next})"
            )))
        } else if attempt.previous().len() > MAX_REDIRECTS {
            attempt.error(RedirectRefused(format!(
                "more than {MAX_REDIRECTS} redirects"
            )))
        } else {
            attempt.follow()
        }
    });
    let mut builder = reqwest::Client::builder()
        .dns_resolver(std::sync::Arc::new(NotLinkLocal))
        .tls_backend_preconfigured(tls)
        .connect_timeout(timeout)
        .timeout(timeout)
        .redirect(policy)
        .user_agent(concat!("certready/", env!("CARGO_PKG_VERSION")));
    let host = url.host_str().unwrap_or_default();
    let port = url.port_or_known_default().unwrap_or(80);
    let authority = target::split_host_port(&format!("{host}:{port}"))
        .map(|(host, _)| host)
        .ok();
    if let Some(authority) = &authority {
        for rule in options
            .resolve
            .iter()
            .filter(|r| &r.host == authority && r.port == port)
        {
            let addrs: Vec<std::net::SocketAddr> = rule
                .addrs
                .iter()
                .map(|ip| std::net::SocketAddr::new(*ip, port))
                .collect();
            builder = builder.resolve_to_addrs(host.trim_matches(['[', ']']), &addrs);
        }
    }
    builder = match authority.as_ref().and_then(|h| options.proxy.for_host(h)) {
        Some(proxy) => builder.proxy(proxy.reqwest(false)?),
        None => builder.no_proxy(),
    };
    builder.build().map_err(|e| e.to_string())
}

fn timed_out(limit: Duration) -> String {
    format!("timed out after {}", humantime::format_duration(limit))
}

/// Why a URL is not fetched although http: its host is an address no CA publishes on, where
/// cloud metadata services answer instead (link-local, and unspecified or multicast
/// addresses). A certificate comes from whatever server is checked — `serve` probes targets
/// named by whoever can reach it — and must not make certready fetch from there.
fn forbidden_url(url: &reqwest::Url) -> Option<String> {
    let ip: IpAddr = url.host_str()?.trim_matches(['[', ']']).parse().ok()?;
    forbidden_address(ip).then(|| format!("{ip} is a link-local or special address; not fetched"))
}

pub(crate) fn forbidden_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_link_local() || v4.is_unspecified() || v4.is_broadcast() || v4.is_multicast()
        }
        IpAddr::V6(v6) => {
            (v6.segments()[0] & 0xffc0) == 0xfe80
                || v6.is_unspecified()
                || v6.is_multicast()
                || v6
                    .to_ipv4_mapped()
                    .is_some_and(|v4| forbidden_address(IpAddr::V4(v4)))
        }
    }
}

/// The system resolver, less the addresses [`forbidden_address`] names: a caIssuers host
/// whose name resolves only there is not fetched (`--resolve` pins still apply first).
struct NotLinkLocal;

impl reqwest::dns::Resolve for NotLinkLocal {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|addr| !forbidden_address(addr.ip()))
                .collect();
            if addrs.is_empty() {
                return Err(format!(
                    "{host} resolves to link-local or special addresses only; not fetched"
                )
                .into());
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// A reqwest error in words: a refused redirect as such, else its chain of causes.
fn describe_error(error: &reqwest::Error, timeout: Duration) -> String {
    let mut source: Option<&dyn std::error::Error> = Some(error);
    while let Some(e) = source {
        if let Some(refused) = e.downcast_ref::<RedirectRefused>() {
            return refused.to_string();
        }
        source = e.source();
    }
    if error.is_timeout() {
        return timed_out(timeout);
    }
    let mut text = if error.is_connect() {
        "cannot connect".to_string()
    } else {
        error.to_string()
    };
    let mut source = std::error::Error::source(error);
    while let Some(e) = source {
        text.push_str(&format!(": {e}"));
        source = e.source();
    }
    text
}

//! flyte's HTTP clients (discovery, CORS, the gRPC health call): TLS verified with every
//! anchor certready trusts, bounded by --timeout, honouring --resolve and the proxies the
//! real clients use.

use crate::check::Settings;
use crate::target::Target;
use crate::trust::TrustStores;

/// TLS that verifies with every anchor certready trusts (OS, Mozilla, --ca-file,
/// flytectl's caCertFilePath): what discovery, CORS and the gRPC health call use.
pub fn verified_tls(
    stores: &TrustStores,
    settings: &Settings,
) -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    for store in stores
        .stores
        .iter()
        .chain(settings.clients.ca_cert_store.iter())
    {
        roots.extend(store.anchors.iter().cloned());
    }
    Ok(
        rustls::ClientConfig::builder_with_provider(crate::probe::provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// A reqwest builder with `tls`, bounded by --timeout, honouring --resolve, never
/// following redirects (a redirect is itself an answer worth reporting).
fn builder(settings: &Settings, tls: rustls::ClientConfig) -> reqwest::ClientBuilder {
    let mut builder = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .timeout(settings.probe.timeout)
        .connect_timeout(settings.probe.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("certready/", env!("CARGO_PKG_VERSION")));
    for rule in &settings.probe.resolve {
        let addrs: Vec<std::net::SocketAddr> = rule
            .addrs
            .iter()
            .map(|ip| std::net::SocketAddr::new(*ip, rule.port))
            .collect();
        builder = builder.resolve_to_addrs(&rule.host.to_string(), &addrs);
    }
    builder
}

/// The HTTP client for discovery and CORS: verifies with every anchor certready trusts
/// (OS, Mozilla, --ca-file, flytectl's caCertFilePath), honours --resolve and the
/// config's httpProxyURL, and is bounded by --timeout.
pub fn client(
    settings: &Settings,
    tls: rustls::ClientConfig,
    proxy: Option<&str>,
) -> Result<reqwest::Client, String> {
    let mut builder = builder(settings, tls);
    builder = match proxy {
        Some(url) => builder
            .proxy(reqwest::Proxy::all(url).map_err(|e| format!("httpProxyURL {url:?}: {e}"))?),
        None => builder.no_proxy(),
    };
    builder.build().map_err(|e| e.to_string())
}

/// A reqwest error in words, with the TLS reason when there is one.
pub fn describe_error(error: &reqwest::Error) -> String {
    let mut source: Option<&dyn std::error::Error> = Some(error);
    while let Some(e) = source {
        // io::Error::source() skips the error it wraps: look inside explicitly.
        let inner = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .map(|inner| inner as &dyn std::error::Error);
        if let Some(tls) = e
            .downcast_ref::<rustls::Error>()
            .or_else(|| inner.and_then(|i| i.downcast_ref::<rustls::Error>()))
        {
            return format!("TLS: {tls} (certready's trust stores, --ca-file and caCertFilePath do not accept the certificate)");
        }
        source = inner.or_else(|| e.source());
    }
    if error.is_timeout() {
        return "timed out".into();
    }
    if error.is_connect() {
        return format!("cannot connect: {error}");
    }
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(e) = source {
        text.push_str(&format!(": {e}"));
        source = e.source();
    }
    text
}

/// The HTTP/2 client for the call: our verified TLS with ALPN h2 only.
pub fn grpc_client(
    mut tls: rustls::ClientConfig,
    settings: &Settings,
    admin: &Target,
) -> Result<reqwest::Client, String> {
    tls.alpn_protocols = vec![b"h2".to_vec()];
    let mut builder = builder(settings, tls).http2_prior_knowledge();
    // gRPC clients (grpc-go, grpcio) tunnel through HTTPS_PROXY unless NO_PROXY says not.
    builder = match settings.probe.proxy.for_host(&admin.host) {
        Some(proxy) => builder.proxy(proxy.reqwest(true)?),
        None => builder.no_proxy(),
    };
    builder.build().map_err(|e| e.to_string())
}

pub async fn get_json(
    client: &reqwest::Client,
    url: &str,
) -> Result<(u16, Option<serde_json::Value>), String> {
    let response = client
        .get(url)
        .header("Accept", "application/json")
        .send()
        .await
        .map_err(|e| describe_error(&e))?;
    let status = response.status().as_u16();
    let body = response.bytes().await.map_err(|e| describe_error(&e))?;
    Ok((status, serde_json::from_slice(&body).ok()))
}

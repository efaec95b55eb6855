//! The network probe: resolve, connect and complete a TLS handshake whatever the
//! certificate, so the presented chain, version, cipher and ALPN can be reported.
//! The connection carries nothing but the handshake and a close_notify.

pub mod aia;
pub mod http;
pub mod proxy;
pub mod tls_scts;

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::{AlertDescription, ClientConfig, DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;

use crate::target::{Host, ResolveRule, Target};

/// Bytes of the server's first answer kept to recognise plaintext HTTP and the like.
const SNIFF_BYTES: usize = 16;

#[derive(Debug, Clone)]
pub struct ProbeOptions {
    /// Bounds DNS + connect + handshake for one target.
    pub timeout: Duration,
    /// Dial this address instead of the target's (names and SNI stay the target's).
    pub connect_to: Option<(Host, u16)>,
    /// curl-style `--resolve` pins.
    pub resolve: Vec<ResolveRule>,
    /// SNI to send instead of the target's host name.
    pub sni: Option<String>,
    /// HTTP CONNECT proxy (HTTPS_PROXY, flytectl's httpProxyURL) and its exemptions.
    pub proxy: crate::probe::proxy::ProxySettings,
}

impl Default for ProbeOptions {
    fn default() -> Self {
        ProbeOptions {
            timeout: Duration::from_secs(10),
            connect_to: None,
            resolve: Vec::new(),
            sni: None,
            proxy: crate::probe::proxy::ProxySettings::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TlsInfo {
    pub version: String,
    pub cipher: String,
    pub alpn: Option<String>,
    pub key_exchange: Option<String>,
    pub handshake_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProbeErrorKind {
    Dns,
    Refused,
    Unreachable,
    Timeout,
    Reset,
    Closed,
    PlaintextHttp,
    Http2Cleartext,
    NotTls,
    ProtocolVersion,
    TlsAlert,
    NoCertificate,
    TooLarge,
    Proxy,
    ProxyAuth,
    Tls,
    Io,
}

#[derive(Debug, Clone)]
pub struct ProbeError {
    pub kind: ProbeErrorKind,
    pub message: String,
}

#[derive(Debug, Default)]
pub struct ProbeOutcome {
    pub address: Option<SocketAddr>,
    /// The proxy tunnelled through, if any (without credentials).
    pub proxy: Option<String>,
    pub chain: Vec<CertificateDer<'static>>,
    /// The OCSP response the server stapled, if any.
    pub stapled_ocsp: Option<Vec<u8>>,
    pub tls: Option<TlsInfo>,
    pub error: Option<ProbeError>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Resolving,
    Connecting,
    /// Waiting for the proxy's answer to CONNECT.
    Tunnelling,
    Handshaking,
    Closing,
}

#[derive(Debug)]
struct ProbeState {
    phase: Phase,
    address: Option<SocketAddr>,
    chain: Vec<CertificateDer<'static>>,
    stapled_ocsp: Option<Vec<u8>>,
    first_bytes: Vec<u8>,
    bytes_received: usize,
}

impl ProbeState {
    fn new() -> Self {
        ProbeState {
            phase: Phase::Resolving,
            address: None,
            chain: Vec::new(),
            stapled_ocsp: None,
            first_bytes: Vec::new(),
            bytes_received: 0,
        }
    }
}

type Shared = Arc<Mutex<ProbeState>>;

fn lock(state: &Shared) -> std::sync::MutexGuard<'_, ProbeState> {
    // A panic elsewhere must not turn every later probe into a panic.
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Resolves `target` (or dials --connect-to / --resolve / the proxy), completes a TLS
/// handshake whatever the certificate, and returns the presented chain with the
/// negotiated version, cipher and ALPN — or, when the handshake could not complete, a
/// classified error in words (and the chain, if one was sent before the failure).
/// Every step is bounded by `options.timeout`.
pub async fn probe(target: &Target, options: &ProbeOptions) -> ProbeOutcome {
    let state: Shared = Arc::new(Mutex::new(ProbeState::new()));
    let result = tokio::time::timeout(options.timeout, run(target, options, &state)).await;
    let mut state = lock(&state);
    let proxy = options
        .proxy
        .for_host(&target.host)
        .map(|p| p.display.clone());
    let mut outcome = ProbeOutcome {
        proxy,
        address: state.address,
        chain: std::mem::take(&mut state.chain),
        stapled_ocsp: state.stapled_ocsp.take(),
        tls: None,
        error: None,
    };
    match result {
        Ok(Ok(tls)) => outcome.tls = Some(tls),
        Ok(Err(error)) => outcome.error = Some(error),
        Err(_elapsed) => {
            let after = humantime::format_duration(options.timeout);
            let message = match state.phase {
                Phase::Resolving => format!("timed out after {after} resolving {}", target.host),
                Phase::Connecting => format!(
                    "timed out after {after} connecting to {}: nothing answered (a firewall dropping packets, or a wrong address)",
                    describe_address(&state.address, target)
                ),
                Phase::Tunnelling => format!(
                    "timed out after {after} waiting for the proxy {} to open a tunnel to {}",
                    describe_address(&state.address, target),
                    target.authority()
                ),
                Phase::Handshaking if state.bytes_received == 0 => format!(
                    "timed out after {after} waiting for the TLS handshake: {} accepted the connection but never answered the ClientHello (not a TLS server, or a stalled one)",
                    describe_address(&state.address, target)
                ),
                Phase::Handshaking => format!(
                    "timed out after {after} in the middle of the TLS handshake: {} sent {} bytes and then stalled",
                    describe_address(&state.address, target),
                    state.bytes_received
                ),
                Phase::Closing => {
                    // The handshake had completed; only the polite close stalled.
                    return outcome;
                }
            };
            outcome.error = Some(ProbeError {
                kind: ProbeErrorKind::Timeout,
                message,
            });
        }
    }
    outcome
}

fn describe_address(address: &Option<SocketAddr>, target: &Target) -> String {
    address
        .map(|a| a.to_string())
        .unwrap_or_else(|| target.authority())
}

async fn resolve(target: &Target, options: &ProbeOptions) -> Result<Vec<SocketAddr>, ProbeError> {
    let (host, port) = match &options.connect_to {
        Some((host, port)) => (host.clone(), *port),
        None => (target.host.clone(), target.port),
    };
    if let Some(rule) = options
        .resolve
        .iter()
        .find(|rule| rule.host == host && rule.port == port)
    {
        return Ok(rule
            .addrs
            .iter()
            .map(|ip| SocketAddr::new(*ip, port))
            .collect());
    }
    match host {
        Host::Ip(ip) => Ok(vec![SocketAddr::new(ip, port)]),
        Host::Name(name) => {
            let dns_error = |why: String| ProbeError {
                kind: ProbeErrorKind::Dns,
                message: format!("cannot resolve {name}: {why}"),
            };
            // RFC 6761: .invalid never resolves; answer at once without asking a resolver.
            if name == "invalid" || name.ends_with(".invalid") {
                return Err(dns_error(
                    "the name does not exist (.invalid is reserved and never resolves)".into(),
                ));
            }
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), port))
                .await
                .map_err(|e| dns_error(e.to_string()))?
                .collect();
            if addrs.is_empty() {
                return Err(dns_error("the name has no addresses".into()));
            }
            Ok(addrs)
        }
    }
}

async fn run(
    target: &Target,
    options: &ProbeOptions,
    state: &Shared,
) -> Result<TlsInfo, ProbeError> {
    let tcp = dial(target, options, None, state).await?;

    lock(state).phase = Phase::Handshaking;
    let server_name = server_name(target, options)?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client_config(state.clone())));
    let started = Instant::now();
    let recorded = Recording {
        inner: tcp,
        state: state.clone(),
    };
    let mut tls = connector
        .connect(server_name, recorded)
        .await
        .map_err(|e| classify_handshake_error(&e, &lock(state), target))?;
    let handshake_ms = started.elapsed().as_millis() as u64;
    let (_, connection) = tls.get_ref();
    let info = TlsInfo {
        version: connection
            .protocol_version()
            .map(|v| version_name(v).to_string())
            .unwrap_or_default(),
        cipher: connection
            .negotiated_cipher_suite()
            .map(|c| format!("{:?}", c.suite()))
            .unwrap_or_default(),
        alpn: connection
            .alpn_protocol()
            .map(|p| String::from_utf8_lossy(p).into_owned()),
        key_exchange: connection
            .negotiated_key_exchange_group()
            .map(|g| format!("{:?}", g.name())),
        handshake_ms,
    };
    lock(state).phase = Phase::Closing;
    // Be polite (close_notify), but never wait on the peer for it.
    let _ = tokio::time::timeout(Duration::from_millis(200), tls.shutdown()).await;
    Ok(info)
}

/// Connects to the target (or its --connect-to / --resolve address, or through the
/// proxy), trying each address in turn; `pinned` dials that address instead of resolving
/// again (a second connection to the server the first one reached).
async fn dial(
    target: &Target,
    options: &ProbeOptions,
    pinned: Option<SocketAddr>,
    state: &Shared,
) -> Result<TcpStream, ProbeError> {
    let proxy = options.proxy.for_host(&target.host);
    let addrs = match (proxy, pinned) {
        (_, Some(addr)) => vec![addr],
        (Some(proxy), None) => resolve_proxy(proxy).await?,
        (None, None) => resolve(target, options).await?,
    };
    lock(state).phase = Phase::Connecting;
    let mut last_error = None;
    let mut stream = None;
    for addr in &addrs {
        lock(state).address = Some(*addr);
        match TcpStream::connect(addr).await {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last_error = Some((*addr, e)),
        }
    }
    let Some(tcp) = stream else {
        let (addr, error) = last_error.expect("at least one address was tried");
        let tried = if addrs.len() > 1 {
            format!(" (tried {} addresses)", addrs.len())
        } else {
            String::new()
        };
        return Err(match proxy {
            Some(proxy) => ProbeError {
                kind: ProbeErrorKind::Proxy,
                message: format!(
                    "cannot connect to the proxy {} ({addr}): {error}",
                    proxy.display
                ),
            },
            None => connect_error(addr, &error, &tried),
        });
    };
    let _ = tcp.set_nodelay(true);
    let mut tcp = tcp;
    if let Some(proxy) = proxy {
        lock(state).phase = Phase::Tunnelling;
        let destination = match &options.connect_to {
            Some((host, port)) => host.with_port(*port),
            None => target.authority(),
        };
        tunnel(&mut tcp, proxy, &destination).await?;
    }
    Ok(tcp)
}

async fn resolve_proxy(proxy: &crate::probe::proxy::Proxy) -> Result<Vec<SocketAddr>, ProbeError> {
    match &proxy.host {
        Host::Ip(ip) => Ok(vec![SocketAddr::new(*ip, proxy.port)]),
        Host::Name(name) => {
            let fail = |why: String| ProbeError {
                kind: ProbeErrorKind::Proxy,
                message: format!("cannot resolve the proxy {}: {why}", proxy.display),
            };
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), proxy.port))
                .await
                .map_err(|e| fail(e.to_string()))?
                .collect();
            if addrs.is_empty() {
                return Err(fail("no addresses".into()));
            }
            Ok(addrs)
        }
    }
}

/// The proxy's answer to CONNECT is read up to this many bytes.
const MAX_PROXY_RESPONSE: usize = 8 * 1024;

/// Asks the proxy for a tunnel to `destination` (host:port) and checks its answer.
async fn tunnel(
    tcp: &mut TcpStream,
    proxy: &crate::probe::proxy::Proxy,
    destination: &str,
) -> Result<(), ProbeError> {
    use tokio::io::AsyncReadExt;
    let fail = |kind, message: String| ProbeError { kind, message };
    let mut request = format!("CONNECT {destination} HTTP/1.1\r\nHost: {destination}\r\n");
    if let Some(authorization) = &proxy.authorization {
        request.push_str(&format!("Proxy-Authorization: {authorization}\r\n"));
    }
    request.push_str("\r\n");
    tcp.write_all(request.as_bytes()).await.map_err(|e| {
        fail(
            ProbeErrorKind::Proxy,
            format!("the proxy {} closed the connection: {e}", proxy.display),
        )
    })?;
    // Byte by byte, so nothing after the header (the server's TLS) is consumed here.
    let mut response = Vec::with_capacity(256);
    let mut byte = [0u8; 1];
    while !response.ends_with(b"\r\n\r\n") {
        if response.len() >= MAX_PROXY_RESPONSE {
            return Err(fail(
                ProbeErrorKind::Proxy,
                format!("the proxy {} answered CONNECT with more than {MAX_PROXY_RESPONSE} bytes of headers", proxy.display),
            ));
        }
        match tcp.read(&mut byte).await {
            Ok(0) => {
                return Err(fail(
                    ProbeErrorKind::Proxy,
                    format!(
                    "the proxy {} closed the connection instead of answering CONNECT {destination}",
                    proxy.display
                ),
                ))
            }
            Ok(_) => response.push(byte[0]),
            Err(e) => {
                return Err(fail(
                    ProbeErrorKind::Proxy,
                    format!("reading the proxy {}'s answer: {e}", proxy.display),
                ))
            }
        }
    }
    let text = String::from_utf8_lossy(&response);
    let status_line = text.lines().next().unwrap_or_default();
    let code = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse::<u16>().ok());
    match code {
        Some(200..=299) => Ok(()),
        Some(407) => Err(fail(
            ProbeErrorKind::ProxyAuth,
            format!(
                "the proxy {} requires authentication (407 Proxy Authentication Required){}; give credentials in the proxy URL, e.g. http://user:password@proxy:3128",
                proxy.display,
                if proxy.authorization.is_some() { " and refused the credentials given" } else { "" }
            ),
        )),
        _ => Err(fail(
            ProbeErrorKind::Proxy,
            format!("the proxy {} refused CONNECT {destination}: {}", proxy.display, status_line.trim()),
        )),
    }
}

fn server_name(target: &Target, options: &ProbeOptions) -> Result<ServerName<'static>, ProbeError> {
    if let Some(sni) = &options.sni {
        return ServerName::try_from(sni.clone()).map_err(|_| ProbeError {
            kind: ProbeErrorKind::Tls,
            message: format!("--sni {sni:?} is not a valid server name"),
        });
    }
    match &target.host {
        Host::Ip(ip) => Ok(ServerName::IpAddress((*ip).into())),
        Host::Name(name) => ServerName::try_from(name.clone()).map_err(|_| ProbeError {
            kind: ProbeErrorKind::Tls,
            message: format!("{name:?} cannot be sent as a TLS server name"),
        }),
    }
}

fn version_name(version: rustls::ProtocolVersion) -> &'static str {
    match version {
        rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3",
        rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2",
        rustls::ProtocolVersion::TLSv1_1 => "TLSv1.1",
        rustls::ProtocolVersion::TLSv1_0 => "TLSv1.0",
        _ => "unknown",
    }
}

pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

fn client_config(state: Shared) -> ClientConfig {
    let provider = provider();
    let verifier = Arc::new(CapturingVerifier {
        state,
        algorithms: provider.signature_verification_algorithms,
    });
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .expect("aws-lc-rs supports TLS 1.2 and 1.3")
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    config.resumption = rustls::client::Resumption::disabled();
    config
}

fn connect_error(addr: SocketAddr, error: &std::io::Error, tried: &str) -> ProbeError {
    use std::io::ErrorKind as K;
    let (kind, message) = match error.kind() {
        K::ConnectionRefused => (
            ProbeErrorKind::Refused,
            format!("connection refused by {addr}{tried}: nothing listens on that port (wrong port, or the ingress/service is down)"),
        ),
        K::HostUnreachable | K::NetworkUnreachable | K::AddrNotAvailable => (
            ProbeErrorKind::Unreachable,
            format!("cannot reach {addr}{tried}: {error}"),
        ),
        K::ConnectionReset => (
            ProbeErrorKind::Reset,
            format!("connection to {addr} was reset while connecting{tried}"),
        ),
        _ => (ProbeErrorKind::Io, format!("cannot connect to {addr}{tried}: {error}")),
    };
    ProbeError { kind, message }
}

fn classify_handshake_error(
    error: &std::io::Error,
    state: &ProbeState,
    target: &Target,
) -> ProbeError {
    use std::io::ErrorKind as K;
    let at = describe_address(&state.address, target);
    let first = &state.first_bytes;
    // Whatever rustls concluded, bytes that cannot start a TLS record say more.
    if let Some(&byte) = first.first() {
        if !(0x14..=0x18).contains(&byte) {
            return sniffed_not_tls(first, &at);
        }
    }
    let rustls_error = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    if let Some(e) = rustls_error {
        return classify_rustls_error(e, &at, target);
    }
    match error.kind() {
        K::ConnectionReset => ProbeError {
            kind: ProbeErrorKind::Reset,
            message: format!("{at} reset the connection during the TLS handshake (a firewall or proxy refusing TLS, or a server crashing on the ClientHello)"),
        },
        K::UnexpectedEof if state.bytes_received == 0 => ProbeError {
            kind: ProbeErrorKind::Closed,
            message: format!("{at} closed the connection without answering the TLS ClientHello (not a TLS port, or a server that refuses this SNI name)"),
        },
        K::UnexpectedEof => ProbeError {
            kind: ProbeErrorKind::Closed,
            message: format!("{at} closed the connection in the middle of the TLS handshake after {} bytes", state.bytes_received),
        },
        _ => ProbeError {
            kind: ProbeErrorKind::Io,
            message: format!("TLS handshake with {at} failed: {error}"),
        },
    }
}

fn sniffed_not_tls(first: &[u8], at: &str) -> ProbeError {
    if first.starts_with(b"HTTP/") {
        return ProbeError {
            kind: ProbeErrorKind::PlaintextHttp,
            message: format!(
                "{at} answered in plaintext HTTP, not TLS: this port serves http://, not https://. \
                 For flytectl, `admin.insecure: true` means plaintext gRPC with no TLS at all — only use it for a port that really is plaintext."
            ),
        };
    }
    // An HTML page with no status line: what an HTTP server sends when it takes the
    // ClientHello for an HTTP/0.9 request (Python's http.server does).
    if looks_like_html(first) {
        return ProbeError {
            kind: ProbeErrorKind::PlaintextHttp,
            message: format!(
                "{at} answered with a plaintext HTML page, not TLS: an HTTP server listens here, so this port serves http://, not https://. \
                 For flytectl, `admin.insecure: true` means plaintext gRPC with no TLS at all — only use it for a port that really is plaintext."
            ),
        };
    }
    // An HTTP/2 frame header: 3-byte length, type SETTINGS (4) or GOAWAY (7).
    if first.len() >= 4 && matches!(first[3], 0x04 | 0x07) && first[0] == 0 {
        return ProbeError {
            kind: ProbeErrorKind::Http2Cleartext,
            message: format!(
                "{at} answered with cleartext HTTP/2 (h2c), not TLS: this is a plaintext gRPC/HTTP2 port. \
                 flytectl reaches it only with `admin.insecure: true` (no TLS, no certificate)."
            ),
        };
    }
    let shown: Vec<String> = first.iter().take(8).map(|b| format!("{b:02x}")).collect();
    let printable: String = first
        .iter()
        .take(8)
        .map(|&b| if b.is_ascii_graphic() { b as char } else { '.' })
        .collect();
    ProbeError {
        kind: ProbeErrorKind::NotTls,
        message: format!(
            "{at} does not speak TLS: its first bytes were {} ({printable:?})",
            shown.join(" ")
        ),
    }
}

/// `<!DOCTYPE`, `<html`, `<?xml` and the like, after optional whitespace.
fn looks_like_html(first: &[u8]) -> bool {
    let start = first
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(first.len());
    match &first[start..] {
        [b'<', next, ..] => matches!(next, b'!' | b'?') || next.is_ascii_alphabetic(),
        _ => false,
    }
}

fn classify_rustls_error(error: &rustls::Error, at: &str, target: &Target) -> ProbeError {
    use rustls::Error as E;
    match error {
        E::AlertReceived(AlertDescription::ProtocolVersion) => ProbeError {
            kind: ProbeErrorKind::ProtocolVersion,
            message: format!("{at} refused TLS 1.2 and TLS 1.3 (protocol_version alert): it only speaks an older TLS (1.0/1.1), which Go, grpcio, browsers and certready all refuse. Enable TLS 1.2+ on the server."),
        },
        E::AlertReceived(AlertDescription::HandshakeFailure) => ProbeError {
            kind: ProbeErrorKind::TlsAlert,
            message: format!("{at} refused the handshake (handshake_failure alert): no cipher suite or signature algorithm in common, or the server wants a different SNI name than {:?}", target.host.to_string()),
        },
        E::AlertReceived(AlertDescription::UnrecognisedName) => ProbeError {
            kind: ProbeErrorKind::TlsAlert,
            message: format!("{at} does not serve the name {:?} (unrecognized_name alert); check the ingress host rules or use --sni", target.host.to_string()),
        },
        E::AlertReceived(AlertDescription::NoApplicationProtocol) => ProbeError {
            kind: ProbeErrorKind::TlsAlert,
            message: format!("{at} accepts neither ALPN h2 nor http/1.1 (no_application_protocol alert)"),
        },
        E::AlertReceived(alert) => ProbeError {
            kind: ProbeErrorKind::TlsAlert,
            message: format!("{at} aborted the handshake with the TLS alert {alert:?}"),
        },
        E::NoCertificatesPresented => ProbeError {
            kind: ProbeErrorKind::NoCertificate,
            message: format!("{at} completed the handshake without presenting any certificate"),
        },
        E::InvalidMessage(rustls::InvalidMessage::HandshakePayloadTooLarge) => ProbeError {
            kind: ProbeErrorKind::TooLarge,
            message: format!("{at} sent a handshake message (its certificate chain) larger than 64 KiB, which rustls refuses, as do many clients: a certificate with thousands of names, or a huge chain"),
        },
        E::InvalidCertificate(rustls::CertificateError::BadSignature) => ProbeError {
            kind: ProbeErrorKind::Tls,
            message: format!("{at}'s handshake signature does not verify with its certificate's public key: the server's private key does not match the certificate it sends"),
        },
        E::PeerIncompatible(why) => ProbeError {
            kind: ProbeErrorKind::Tls,
            message: format!("{at} and certready share no usable TLS parameters: {why:?}"),
        },
        other => ProbeError {
            kind: ProbeErrorKind::Tls,
            message: format!("TLS handshake with {at} failed: {other}"),
        },
    }
}

/// Records what the server sends first, and how much, for diagnosis.
struct Recording {
    inner: TcpStream,
    state: Shared,
}

impl AsyncRead for Recording {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        let new = &buf.filled()[before..];
        if !new.is_empty() {
            let mut state = lock(&self.state);
            state.bytes_received += new.len();
            let room = SNIFF_BYTES.saturating_sub(state.first_bytes.len());
            state
                .first_bytes
                .extend_from_slice(&new[..new.len().min(room)]);
        }
        result
    }
}

impl AsyncWrite for Recording {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    // Vectored like the TcpStream inside: rustls then sends a flight of records in one
    // writev rather than one send per record (fewer segments for both ends).
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Accepts any certificate so the handshake completes, after copying the chain out;
/// handshake signatures are still verified, so the peer must hold the leaf's key.
#[derive(Debug)]
struct CapturingVerifier {
    state: Shared,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for CapturingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let mut chain = Vec::with_capacity(1 + intermediates.len());
        chain.push(end_entity.clone().into_owned());
        chain.extend(intermediates.iter().map(|c| c.clone().into_owned()));
        let mut state = lock(&self.state);
        state.chain = chain;
        state.stapled_ocsp = (!ocsp_response.is_empty()).then(|| ocsp_response.to_vec());
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

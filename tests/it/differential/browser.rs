//! The browser channel: a real headless Chromium (tests/clients/chromebatch.py) loads
//! `https://HOST:PORT/` with the case's CA file imported as trusted roots, against
//! certready's `browser/https` prediction for a user who trusts that file (`--ca-file`).
//!
//! Chromium needs a page to load, not only a handshake (a server that closes after the
//! handshake is `net::ERR_CONNECTION_CLOSED`), so each compared case has a second server
//! with the same chain that answers HTTP/1.1. A missing intermediate can be fetched over
//! AIA: [`AiaServer`] serves what the `aia-fetch` dimension says on 127.0.0.1.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::generate::Fetch;

/// `browser/https`, as certready names the channel.
pub const CHANNEL: &str = "browser/https";

/// Chromium's binary (Debian's `chromium` puts the browser behind a shell launcher that
/// adds flags and extensions; the driver runs the binary itself) and NSS's certutil.
pub fn chromium_available() -> bool {
    let on_path = |name: &str| {
        std::env::var_os("PATH")
            .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(name).is_file()))
    };
    (std::path::Path::new("/usr/lib/chromium/chromium").is_file() || on_path("chromium"))
        && on_path("certutil")
}

/// Which cases the browser judges: all with `CERTREADY_DIFF_CHROME=all`, else every
/// sixth case and every case of the `aia-fetch` dimension (which only the browser
/// notices), about 200 of the default 1,000.
pub fn sampled(index: usize, description: &str, all: bool) -> bool {
    all || index.is_multiple_of(6) || description.contains("aia-fetch=")
}

/// Chromium's `net::ERR_X` and certready's `NET::ERR_X` name the same error; "OK" both
/// sides is an accept.
pub fn agrees(real: &str, predicted_accepts: bool, predicted: &str) -> bool {
    if real == "OK" || predicted_accepts {
        return real == "OK" && predicted_accepts;
    }
    let code = |text: &str| {
        let text = text.trim();
        text.strip_prefix("net::")
            .or_else(|| text.strip_prefix("NET::"))
            .map(str::to_string)
    };
    code(real).is_some() && code(real) == code(predicted)
}

/// An HTTPS server on 127.0.0.1 presenting one fixed chain (as sent, even malformed)
/// that answers any HTTP/1.1 request with `200 OK`; stops when dropped.
pub struct HttpsServer {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for HttpsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Debug)]
struct FixedChain(Arc<CertifiedKey>);

impl ResolvesServerCert for FixedChain {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}

/// As `certready::lab::serve` (same provider, versions and chain handling), offering
/// http/1.1 only, so the page is one plain request.
pub async fn serve_https(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> std::io::Result<HttpsServer> {
    serve_https_stapling(chain, key, None).await
}

/// `serve_https`, stapling `staple` (an OCSP response) when given.
pub async fn serve_https_stapling(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    staple: Option<Vec<u8>>,
) -> std::io::Result<HttpsServer> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let signing_key = provider
        .key_provider
        .load_private_key(key)
        .map_err(std::io::Error::other)?;
    let mut certified = CertifiedKey::new(chain, signing_key);
    certified.ocsp = staple;
    let certified = Arc::new(certified);
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(std::io::Error::other)?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(FixedChain(certified)));
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let limit = Duration::from_secs(10);
                let Ok(Ok(mut tls)) = tokio::time::timeout(limit, acceptor.accept(stream)).await
                else {
                    return;
                };
                // The request's head, then one response; the body is never read.
                let mut head = Vec::new();
                let mut buf = [0u8; 2048];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65536 {
                    match tokio::time::timeout(limit, tls.read(&mut buf)).await {
                        Ok(Ok(n)) if n > 0 => head.extend_from_slice(&buf[..n]),
                        _ => return,
                    }
                }
                let _ = tls
                    .write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n",
                    )
                    .await;
                let _ = tls.shutdown().await;
            });
        }
    });
    Ok(HttpsServer { addr, task })
}

/// One request the AIA server saw: its path, and for a stalled one how long the client
/// waited before it gave up (None when the server ended it first).
#[derive(Clone, Debug)]
pub struct AiaRequest {
    pub path: String,
    pub waited: Option<Duration>,
}

/// A plain HTTP server on 127.0.0.1 for caIssuers URLs: each case's path answers as its
/// [`Fetch`] says. A stalled request is held (never answered) until the client closes it,
/// at most [`STALL_LIMIT`] or until the server is dropped, so it cannot hang the run.
pub struct AiaServer {
    pub addr: SocketAddr,
    documents: Arc<Mutex<HashMap<String, Fetch>>>,
    requests: Arc<Mutex<Vec<AiaRequest>>>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

/// The longest a stalled AIA request is held.
pub const STALL_LIMIT: Duration = Duration::from_secs(120);

impl AiaServer {
    pub fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let addr = listener.local_addr()?;
        // Polled, so that dropping the server stops the accept loop.
        listener.set_nonblocking(true)?;
        let documents: Arc<Mutex<HashMap<String, Fetch>>> = Arc::default();
        let requests: Arc<Mutex<Vec<AiaRequest>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let accept = {
            let (documents, requests, stop) = (documents.clone(), requests.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let (documents, requests, stop) =
                                (documents.clone(), requests.clone(), stop.clone());
                            std::thread::spawn(move || {
                                answer(stream, &documents, &requests, &stop)
                            });
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(20)),
                    }
                }
            })
        };
        Ok(AiaServer {
            addr,
            documents,
            requests,
            stop,
            accept: Some(accept),
        })
    }

    /// `http://127.0.0.1:PORT`, what the generator puts before each case's path.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn publish(&self, path: &str, fetch: Fetch) {
        self.documents
            .lock()
            .unwrap()
            .insert(path.to_string(), fetch);
    }

    pub fn requests(&self) -> Vec<AiaRequest> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for AiaServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

fn answer(
    mut stream: TcpStream,
    documents: &Mutex<HashMap<String, Fetch>>,
    requests: &Mutex<Vec<AiaRequest>>,
    stop: &AtomicBool,
) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    let started = Instant::now();
    let mut head = Vec::new();
    let mut buf = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
            Err(_) if started.elapsed() < Duration::from_secs(10) && head.len() < 65536 => {}
            Err(_) => return,
        }
    }
    let head = String::from_utf8_lossy(&head);
    let path = head
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_string();
    let fetch = documents.lock().unwrap().get(&path).cloned();
    let mut request = AiaRequest {
        path: path.clone(),
        waited: None,
    };
    let response = |status: &str, body: &[u8]| {
        let mut out = format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/pkix-cert\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .into_bytes();
        out.extend_from_slice(body);
        out
    };
    match fetch {
        Some(Fetch::Intermediate(der)) => {
            let _ = stream.write_all(&response("200 OK", &der));
        }
        Some(Fetch::Garbage) => {
            let _ = stream.write_all(&response("200 OK", b"this is not a certificate\n"));
        }
        Some(Fetch::Stall) => {
            // Hold the connection unanswered; the client's own timeout ends it.
            let stalled = Instant::now();
            while !stop.load(Ordering::Relaxed) && stalled.elapsed() < STALL_LIMIT {
                match stream.read(&mut buf) {
                    Ok(0) => {
                        request.waited = Some(stalled.elapsed());
                        break;
                    }
                    Ok(_) => {}
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) => {}
                    Err(_) => {
                        request.waited = Some(stalled.elapsed());
                        break;
                    }
                }
            }
        }
        Some(Fetch::NotFound) | None => {
            let _ = stream.write_all(&response("404 Not Found", b""));
        }
    }
    requests.lock().unwrap().push(request);
}

#[test]
fn the_browser_comparison_is_by_net_error_code() {
    assert!(agrees("OK", true, "OK"));
    assert!(!agrees("OK", false, "NET::ERR_CERT_AUTHORITY_INVALID"));
    assert!(!agrees("net::ERR_CERT_AUTHORITY_INVALID", true, "OK"));
    assert!(agrees(
        "net::ERR_CERT_AUTHORITY_INVALID",
        false,
        "NET::ERR_CERT_AUTHORITY_INVALID"
    ));
    assert!(!agrees(
        "net::ERR_CERT_AUTHORITY_INVALID",
        false,
        "NET::ERR_CERT_COMMON_NAME_INVALID"
    ));
    assert!(!agrees("ERR_CERT_INVALID", false, "ERR_CERT_INVALID"));
    assert!(sampled(6, "baseline", false) && !sampled(7, "baseline", false));
    assert!(sampled(7, "depth=2; aia-fetch=stall", false) && sampled(7, "baseline", true));
}

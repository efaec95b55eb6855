//! `certready serve`: a Prometheus endpoint. `/metrics` serves the configured targets,
//! re-probed one round at a time in the background (so never two probes of a target at
//! once) and cached, so a scrape only copies text. `/probe?target=…` probes on demand,
//! blackbox_exporter style, coalescing concurrent requests for the same target. Memory
//! and work stay bounded whatever the scrape rate: connections, probes in flight and the
//! per-target cache all have caps.
//!
//! Who may use it: `--web-config` (exporter-toolkit's file, see `web_config`) adds TLS,
//! client certificates and basic auth, re-read when it or its files change; `/healthz`
//! stays open for Kubernetes probes. `allow` decides which `/probe` targets are dialled.

pub mod allow;
pub mod web_config;

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::graceful::Watcher;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{RwLock, Semaphore};

use crate::check::fleet::{Listed, Shard};
use crate::check::{self, Settings};
use crate::probe::ProbeOptions;
use crate::target::{self, Host, ResolveRule, Target};
use allow::{ProbeAllow, ProbePolicy, Reason};
use web_config::WebConfig;

/// Connections served at once; more wait in the accept queue.
const MAX_CONNECTIONS: usize = 512;
/// On-demand probes in flight at once; beyond, /probe answers 503.
const MAX_PROBES_IN_FLIGHT: usize = 64;
/// Distinct /probe targets remembered for coalescing.
const MAX_PROBE_CACHE: usize = 4096;
/// A /probe result this fresh is reused by concurrent scrapes of the same target.
const PROBE_REUSE: Duration = Duration::from_secs(5);
/// A client has this long to send its first byte and finish the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Verified basic-auth credentials remembered (bcrypt costs tens of milliseconds a check).
const MAX_AUTH_CACHE: usize = 256;
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

pub struct ServeOptions {
    pub listen: SocketAddr,
    pub targets: Vec<Target>,
    pub interval: Duration,
    pub concurrency: usize,
    /// `--web-config` and what it held at start.
    pub web: Option<(PathBuf, WebConfig)>,
    /// How often the web config's files are checked for changes.
    pub web_reload_interval: Duration,
    pub probe_allow: Vec<ProbeAllow>,
    /// `--shard`: `targets` are this replica's part of a list of `listed`.
    pub shard: Shard,
    pub listed: usize,
}

/// The last probe of one /probe target.
type ProbeSlot = Arc<tokio::sync::Mutex<Option<(Instant, Arc<String>)>>>;

/// The web config in force; replaced whole when a changed file loads cleanly.
struct Web {
    path: PathBuf,
    /// Fixed at start: a reload cannot switch between HTTP and HTTPS.
    https: bool,
    current: std::sync::RwLock<Arc<WebConfig>>,
}

impl Web {
    fn current(&self) -> Arc<WebConfig> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// serve's own series, after the targets' on /metrics.
struct ServeMetrics {
    registry: Registry,
    refused: Family<Vec<(String, String)>, Counter>,
    reload_successful: Gauge,
    reload_timestamp: Gauge<f64, AtomicU64>,
}

impl ServeMetrics {
    fn new(web_config: bool) -> Self {
        let mut metrics = ServeMetrics {
            registry: Registry::default(),
            refused: Family::default(),
            reload_successful: Gauge::default(),
            reload_timestamp: Gauge::default(),
        };
        metrics.registry.register(
            "certready_probe_refused",
            "/probe requests refused by the target policy (--probe-allow, link-local, metadata and unspecified addresses)",
            metrics.refused.clone(),
        );
        // Present from the start, so an alert on an increase sees the first one.
        for reason in Reason::ALL {
            let _ = metrics.refused.get_or_create(&reason_labels(reason));
        }
        if web_config {
            metrics.registry.register(
                "certready_web_config_last_reload_successful",
                "1 if the last load of --web-config and its files succeeded, 0 if it failed (the previous configuration is still served)",
                metrics.reload_successful.clone(),
            );
            metrics.registry.register(
                "certready_web_config_last_reload_success_timestamp_seconds",
                "when --web-config was last loaded successfully",
                metrics.reload_timestamp.clone(),
            );
        }
        metrics
    }

    fn reloaded(&self, ok: bool) {
        self.reload_successful.set(i64::from(ok));
        if ok {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs_f64())
                .unwrap_or_default();
            self.reload_timestamp.set(now);
        }
    }

    fn render(&self) -> String {
        let mut text = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

fn reason_labels(reason: Reason) -> Vec<(String, String)> {
    vec![("reason".to_string(), reason.label().to_string())]
}

struct State {
    settings: Arc<Settings>,
    /// Rendered metrics of the configured targets (without the closing `# EOF`), the only
    /// thing kept of the last round; empty until the first round ends.
    configured: RwLock<Bytes>,
    has_targets: bool,
    probes: Semaphore,
    slots: Mutex<HashMap<String, ProbeSlot>>,
    web: Option<Web>,
    policy: ProbePolicy,
    metrics: ServeMetrics,
    /// SHA-256 of (user, hash, password) that bcrypt accepted: later scrapes skip bcrypt.
    auth_cache: Mutex<HashSet<Vec<u8>>>,
    /// One bcrypt at a time, so wrong passwords cannot take every core.
    bcrypt_turn: tokio::sync::Mutex<()>,
}

/// A response body of a few shared buffers: /metrics sends the cached text of the
/// configured targets (hundreds of MiB for 100,000 of them) and then serve's own series,
/// without copying the two into one.
pub struct Chunks(std::collections::VecDeque<Bytes>);

impl hyper::body::Body for Chunks {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Infallible>>> {
        std::task::Poll::Ready(
            self.0
                .pop_front()
                .map(|data| Ok(hyper::body::Frame::data(data))),
        )
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_empty()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        hyper::body::SizeHint::with_exact(self.0.iter().map(|b| b.len() as u64).sum())
    }
}

fn reply(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Response<Chunks> {
    reply_chunks(status, content_type, vec![body.into()])
}

fn reply_chunks(status: StatusCode, content_type: &str, chunks: Vec<Bytes>) -> Response<Chunks> {
    let chunks = chunks.into_iter().filter(|b| !b.is_empty()).collect();
    let mut response = Response::new(Chunks(chunks));
    *response.status_mut() = status;
    if let Ok(value) = content_type.parse() {
        response.headers_mut().insert("content-type", value);
    }
    response
}

/// Runs until `shutdown` resolves, then stops accepting and lets open requests finish
/// (up to the probe timeout).
pub async fn serve(
    options: ServeOptions,
    settings: Arc<Settings>,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let listener = TcpListener::bind(options.listen).await?;
    let local = listener.local_addr()?;
    let web = options.web.map(|(path, config)| Web {
        path,
        https: config.tls.is_some(),
        current: std::sync::RwLock::new(Arc::new(config)),
    });
    let https = web.as_ref().is_some_and(|w| w.https);
    let configured = if options.shard.count > 1 {
        format!(
            "{} of {} targets (shard {})",
            options.targets.len(),
            options.listed,
            options.shard
        )
    } else {
        format!("{} targets", options.targets.len())
    };
    eprintln!(
        "certready serve: listening on {}://{local} (/metrics: {configured} every {}; /probe?target=; /healthz)",
        if https { "https" } else { "http" },
        humantime::format_duration(options.interval)
    );
    let policy = ProbePolicy::new(options.probe_allow);
    for warning in exposure_warnings(local, web.as_ref().map(|w| w.current()).as_deref(), &policy) {
        eprintln!("certready serve: warning: {warning}");
    }
    let metrics = ServeMetrics::new(web.is_some());
    if web.is_some() {
        metrics.reloaded(true);
    }
    let state = Arc::new(State {
        settings: settings.clone(),
        configured: RwLock::new(Bytes::new()),
        has_targets: !options.targets.is_empty(),
        probes: Semaphore::new(MAX_PROBES_IN_FLIGHT),
        slots: Mutex::new(HashMap::new()),
        web,
        policy,
        metrics,
        auth_cache: Mutex::new(HashSet::new()),
        bcrypt_turn: tokio::sync::Mutex::new(()),
    });

    // The rounds are driven from a thread of their own, as `check` drives its run from
    // the main thread: driven from a worker thread, a round of 10,000 targets left 90 MiB
    // resident (freed memory the allocator kept) against 34 MiB.
    let (stop_rounds, stopped) = tokio::sync::oneshot::channel::<()>();
    let round = probe_rounds(
        state.clone(),
        options.targets,
        options.interval,
        options.concurrency,
    );
    let handle = tokio::runtime::Handle::current();
    std::thread::Builder::new()
        .name("certready-rounds".into())
        .spawn(move || {
            handle.block_on(async move {
                tokio::select! {
                    () = round => {}
                    _ = stopped => {}
                }
            })
        })?;
    let reloads = tokio::spawn(reload_web_config(
        state.clone(),
        options.web_reload_interval,
    ));
    let connections = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            _ = &mut shutdown => break,
            permit = connections.clone().acquire_owned() => permit.expect("semaphore never closes"),
        };
        let (stream, _) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(_) => continue,
            },
        };
        // The certificate in force when the connection arrives serves all of it.
        let tls = state.web.as_ref().and_then(|web| web.current().tls.clone());
        let state = state.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            match tls {
                None => serve_http1(TokioIo::new(stream), state, watcher).await,
                Some(config) => serve_tls(stream, config, state, watcher).await,
            }
            drop(permit);
        });
    }
    let _ = stop_rounds.send(());
    reloads.abort();
    let _ = tokio::time::timeout(
        settings.probe.timeout + Duration::from_secs(5),
        graceful.shutdown(),
    )
    .await;
    eprintln!("certready serve: stopped");
    Ok(())
}

/// What to say on stderr when the endpoint is reachable beyond this host without TLS or
/// without authentication: then anyone on the network reads the metrics and uses /probe.
fn exposure_warnings(
    local: SocketAddr,
    web: Option<&WebConfig>,
    policy: &ProbePolicy,
) -> Vec<String> {
    let mut warnings = Vec::new();
    if local.ip().is_loopback() {
        return warnings;
    }
    let tls = web.is_some_and(|w| w.tls.is_some());
    let authenticated =
        web.is_some_and(|w| w.basic_auth.is_some() || w.verifies_client_certificates);
    if !tls {
        warnings.push(format!(
            "plain HTTP on {local}, beyond loopback: the metrics (and any password) cross the network unencrypted; give --web-config with tls_server_config"
        ));
    }
    if !authenticated {
        let limit = if policy.is_open() {
            " (any address but link-local, metadata and unspecified ones: --probe-allow limits them)"
        } else {
            ""
        };
        warnings.push(format!(
            "no authentication on {local}: whoever reaches the port reads every target's metrics and makes certready dial targets of its choosing through /probe{limit}; add basic_auth_users or RequireAndVerifyClientCert to --web-config"
        ));
    }
    warnings
}

type Service = Arc<State>;

async fn serve_http1<I>(io: I, state: Service, watcher: Watcher)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |req| handle(req, state.clone()));
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(10));
    let _ = watcher.watch(builder.serve_connection(io, service)).await;
}

async fn serve_tls(
    stream: TcpStream,
    config: Arc<rustls::ServerConfig>,
    state: Service,
    watcher: Watcher,
) {
    // Like Go's net/http: a plain HTTP request on the TLS port gets a plain 400 that says
    // so, rather than a handshake failure the client reports as garbage.
    let mut first = [0u8; 1];
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, stream.peek(&mut first)).await {
        Ok(Ok(1)) if first[0] != 0x16 => {
            let mut stream = stream;
            let _ = tokio::time::timeout(
                Duration::from_secs(1),
                stream.write_all(
                    b"HTTP/1.0 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nClient sent an HTTP request to an HTTPS server.\n",
                ),
            )
            .await;
            let _ = stream.shutdown().await;
            return;
        }
        Ok(Ok(1)) => {}
        _ => return,
    }
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let Ok(Ok(tls)) = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await else {
        return;
    };
    let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
    let io = TokioIo::new(tls);
    if h2 {
        let service = hyper::service::service_fn(move |req| handle(req, state.clone()));
        let mut builder = hyper::server::conn::http2::Builder::new(TokioExecutor::new());
        builder.timer(TokioTimer::new());
        let _ = watcher.watch(builder.serve_connection(io, service)).await;
    } else {
        serve_http1(io, state, watcher).await;
    }
}

/// Polls the web config and the files it names; a changed set that loads replaces the
/// one in force, one that does not is reported and the last good one kept.
async fn reload_web_config(state: Arc<State>, interval: Duration) {
    let Some(web) = &state.web else {
        return;
    };
    let mut sources = web.current().sources.clone();
    loop {
        tokio::time::sleep(interval).await;
        let polled = sources.clone();
        let changed = tokio::task::spawn_blocking(move || polled.changed())
            .await
            .unwrap_or(false);
        if !changed {
            continue;
        }
        let path = web.path.clone();
        let Ok(loaded) = tokio::task::spawn_blocking(move || web_config::load(&path)).await else {
            continue;
        };
        let failure = match loaded {
            Ok(config) if config.tls.is_some() != web.https => {
                sources = config.sources.clone();
                Some(if web.https {
                    "it no longer configures TLS; switching between HTTPS and HTTP needs a restart"
                        .to_string()
                } else {
                    "it now configures TLS; switching between HTTP and HTTPS needs a restart"
                        .to_string()
                })
            }
            Ok(config) => {
                sources = config.sources.clone();
                *web.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(config);
                None
            }
            Err(error) => {
                sources = error.sources;
                Some(error.message)
            }
        };
        state.metrics.reloaded(failure.is_none());
        match failure {
            None => eprintln!("certready serve: --web-config {}: reloaded", web.path.display()),
            Some(message) => eprintln!(
                "certready serve: --web-config {}: {message}; still serving the last good configuration",
                web.path.display()
            ),
        }
    }
}

/// Re-probes the configured targets, one round at a time. A round keeps only the compact
/// metric values of each target (not its report) until it can write the families, then
/// replaces the cached text.
async fn probe_rounds(
    state: Arc<State>,
    targets: Vec<Target>,
    interval: Duration,
    concurrency: usize,
) {
    if targets.is_empty() {
        return;
    }
    let mut capacity = 0;
    loop {
        let started = Instant::now();
        let mut series = Vec::with_capacity(targets.len());
        // Only a sink error stops a round early, and this sink has none.
        let _ = check::fleet::check_stream(
            futures_util::stream::iter(targets.iter().cloned().map(Listed::Target)),
            state.settings.clone(),
            concurrency,
            None,
            |_, report| crate::render::metrics::TargetSeries::of(&report),
            |kept| {
                series.push(kept);
                Ok(())
            },
        )
        .await;
        let mut text = Vec::with_capacity(capacity);
        if crate::render::metrics::write_series(series, &mut text).is_ok() {
            // serve's own series follow on /metrics, then the one `# EOF`.
            if text.ends_with(b"# EOF\n") {
                text.truncate(text.len() - b"# EOF\n".len());
            }
            capacity = text.len() + text.len() / 16;
            *state.configured.write().await = Bytes::from(text);
        }
        // The next round starts `interval` after this one started, never before it ends.
        tokio::time::sleep(interval.saturating_sub(started.elapsed())).await;
    }
}

async fn handle(req: Request<Incoming>, state: Arc<State>) -> Result<Response<Chunks>, Infallible> {
    let web = state.web.as_ref().map(Web::current);
    let mut response = route(req, &state, web.clone()).await;
    if let Some(web) = web {
        for (name, value) in &web.headers {
            response.headers_mut().insert(name.clone(), value.clone());
        }
    }
    Ok(response)
}

async fn route(
    req: Request<Incoming>,
    state: &Arc<State>,
    web: Option<Arc<WebConfig>>,
) -> Response<Chunks> {
    // Kubernetes' kubelet probes /healthz without credentials.
    if req.uri().path() != "/healthz" {
        if let Some(web) = web.filter(|w| w.basic_auth.is_some()) {
            if !authorized(req.headers(), web, state).await {
                let mut response = reply(StatusCode::UNAUTHORIZED, "text/plain", "Unauthorized\n");
                response.headers_mut().insert(
                    "www-authenticate",
                    http::HeaderValue::from_static("Basic realm=\"certready\", charset=\"UTF-8\""),
                );
                return response;
            }
        }
    }
    if req.method() != hyper::Method::GET && req.method() != hyper::Method::HEAD {
        return reply(StatusCode::METHOD_NOT_ALLOWED, "text/plain", "only GET\n");
    }
    match req.uri().path() {
        "/healthz" => reply(StatusCode::OK, "text/plain", "ok\n"),
        "/metrics" => {
            let targets = state.configured.read().await.clone();
            if targets.is_empty() && state.has_targets {
                reply(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "text/plain",
                    "the first round of probes has not finished yet\n",
                )
            } else {
                // One exposition: the targets' families, then serve's own and one # EOF.
                let own = Bytes::from(state.metrics.render());
                reply_chunks(StatusCode::OK, OPENMETRICS, vec![targets, own])
            }
        }
        "/probe" => probe(req.uri().query().unwrap_or(""), state).await,
        "/" => reply(
            StatusCode::OK,
            "text/plain",
            "certready serve: /metrics (configured targets), /probe?target=HOST[:PORT], /healthz\n",
        ),
        _ => reply(StatusCode::NOT_FOUND, "text/plain", "not found\n"),
    }
}

/// `Authorization: Basic` credentials: (user, password bytes).
fn basic_credentials(headers: &http::HeaderMap) -> Option<(String, Vec<u8>)> {
    use base64::Engine;
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let colon = decoded.iter().position(|&b| b == b':')?;
    let user = String::from_utf8(decoded[..colon].to_vec()).ok()?;
    Some((user, decoded[colon + 1..].to_vec()))
}

async fn authorized(headers: &http::HeaderMap, web: Arc<WebConfig>, state: &State) -> bool {
    let Some((user, password)) = basic_credentials(headers) else {
        return false;
    };
    let Some(users) = web.basic_auth.as_ref() else {
        return true;
    };
    let (hash, _) = users.hash_for(&user);
    let key = {
        let mut context = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        for part in [user.as_bytes(), hash.as_bytes(), &password] {
            context.update(&(part.len() as u64).to_be_bytes());
            context.update(part);
        }
        context.finish().as_ref().to_vec()
    };
    let cached = |state: &State| {
        state
            .auth_cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&key)
    };
    if cached(state) {
        return true;
    }
    let _turn = state.bcrypt_turn.lock().await;
    if cached(state) {
        return true;
    }
    let checked = web.clone();
    let ok = tokio::task::spawn_blocking(move || {
        checked
            .basic_auth
            .as_ref()
            .is_some_and(|users| users.verify(&user, &password))
    })
    .await
    .unwrap_or(false);
    if ok {
        let mut cache = state.auth_cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= MAX_AUTH_CACHE {
            cache.clear();
        }
        cache.insert(key);
    }
    ok
}

/// How a /probe target may be dialled.
enum Admission {
    /// Probe with these options (the approved addresses pinned).
    Probe(ProbeOptions),
    /// Refused: counted, and answered 403 with the reason.
    Refused(Reason, String),
    /// The name did not resolve: reported as a failed probe without dialling.
    Unresolved(String),
}

/// Judges `target` by the addresses the probe would dial. Through a proxy the proxy
/// resolves names, so only what the target names can be judged.
async fn admit(target: &Target, state: &State) -> Admission {
    let policy = &state.policy;
    let probe = &state.settings.probe;
    let name_allowed = policy.name_allowed(&target.host);
    if probe.proxy.for_host(&target.host).is_some() {
        return match &target.host {
            Host::Ip(ip) => match policy.address(*ip, false) {
                Ok(()) => Admission::Probe(probe.clone()),
                Err(refusal) => Admission::Refused(refusal.reason, refusal.message),
            },
            Host::Name(_) if name_allowed => Admission::Probe(probe.clone()),
            Host::Name(name) => Admission::Refused(
                Reason::NotAllowed,
                format!("{name} matches no --probe-allow pattern"),
            ),
        };
    }
    if let Host::Name(name) = &target.host {
        if !name_allowed && !policy.has_cidrs() {
            return Admission::Refused(
                Reason::NotAllowed,
                format!("{name} matches no --probe-allow pattern"),
            );
        }
    }
    let (host, port) = match &probe.connect_to {
        Some((host, port)) => (host.clone(), *port),
        None => (target.host.clone(), target.port),
    };
    let addresses: Vec<IpAddr> = match &host {
        Host::Ip(ip) => vec![*ip],
        Host::Name(name) => {
            if let Some(rule) = probe
                .resolve
                .iter()
                .find(|rule| rule.host == host && rule.port == port)
            {
                rule.addrs.clone()
            } else {
                let lookup = tokio::net::lookup_host((name.as_str(), port));
                match tokio::time::timeout(probe.timeout, lookup).await {
                    Ok(Ok(found)) => found.map(|a| a.ip()).collect(),
                    Ok(Err(e)) => {
                        return Admission::Unresolved(format!("cannot resolve {name}: {e}"))
                    }
                    Err(_) => {
                        return Admission::Unresolved(format!(
                            "timed out after {} resolving {name}",
                            humantime::format_duration(probe.timeout)
                        ))
                    }
                }
            }
        }
    };
    let mut approved = Vec::new();
    let mut first_refusal = None;
    for ip in addresses {
        match policy.address(ip, name_allowed) {
            Ok(()) => approved.push(ip),
            Err(refusal) => {
                first_refusal.get_or_insert(refusal);
            }
        }
    }
    if approved.is_empty() {
        return match first_refusal {
            Some(refusal) => Admission::Refused(refusal.reason, refusal.message),
            None => Admission::Unresolved(format!("{host} has no addresses")),
        };
    }
    let mut options = probe.clone();
    if let Host::Name(_) = host {
        // Dial exactly what was judged; the probe consults --resolve pins first.
        options.resolve.insert(
            0,
            ResolveRule {
                host,
                port,
                addrs: approved,
            },
        );
    }
    Admission::Probe(options)
}

/// The `target` parameter of a query string, decoded.
fn target_param(query: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == "target")
        .map(|(_, value)| value.into_owned())
}

async fn probe(query: &str, state: &State) -> Response<Chunks> {
    let Some(text) = target_param(query) else {
        return reply(
            StatusCode::BAD_REQUEST,
            "text/plain",
            "give ?target=HOST[:PORT]\n",
        );
    };
    let target = match target::parse_target(&text) {
        Ok(target) => target,
        Err(e) => return reply(StatusCode::BAD_REQUEST, "text/plain", format!("{e}\n")),
    };
    let options = match admit(&target, state).await {
        Admission::Probe(options) => options,
        Admission::Refused(reason, message) => {
            state
                .metrics
                .refused
                .get_or_create(&reason_labels(reason))
                .inc();
            return reply(
                StatusCode::FORBIDDEN,
                "text/plain",
                format!("certready serve: refused to probe {text}: {message}\n"),
            );
        }
        Admission::Unresolved(error) => {
            // Not dialled: a later answer for the name is never judged, so never used.
            let mut report = crate::report::Report::failed(
                target.input.clone(),
                Some(target.host.to_string()),
                Some(target.port),
                error,
            );
            report.error_kind = Some(crate::probe::ProbeErrorKind::Dns);
            let text = crate::render::metrics::render(std::slice::from_ref(&report));
            return reply(StatusCode::OK, OPENMETRICS, text);
        }
    };
    let slot = {
        let mut slots = state.slots.lock().unwrap_or_else(|p| p.into_inner());
        if slots.len() >= MAX_PROBE_CACHE && !slots.contains_key(&text) {
            // Forget targets nobody is probing right now.
            slots.retain(|_, slot| Arc::strong_count(slot) > 1);
        }
        if slots.len() >= MAX_PROBE_CACHE && !slots.contains_key(&text) {
            return reply(
                StatusCode::SERVICE_UNAVAILABLE,
                "text/plain",
                "too many distinct targets in flight\n",
            );
        }
        slots.entry(text).or_default().clone()
    };
    // One probe per target at a time: later requests wait and reuse its result.
    let mut last = slot.lock().await;
    if let Some((when, text)) = last.as_ref() {
        if when.elapsed() < PROBE_REUSE {
            return reply(
                StatusCode::OK,
                OPENMETRICS,
                Bytes::from(text.as_bytes().to_vec()),
            );
        }
    }
    let Ok(_permit) = state.probes.try_acquire() else {
        return reply(
            StatusCode::SERVICE_UNAVAILABLE,
            "text/plain",
            "too many probes in flight\n",
        );
    };
    let report = check::check_with_probe_options(&target, &state.settings, &options).await;
    let text = Arc::new(crate::render::metrics::render(std::slice::from_ref(
        &report,
    )));
    *last = Some((Instant::now(), text.clone()));
    reply(
        StatusCode::OK,
        OPENMETRICS,
        Bytes::from(text.as_bytes().to_vec()),
    )
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters_are_decoded() {
        assert_eq!(
            target_param("target=flyte.example.com%3A8443").as_deref(),
            Some("flyte.example.com:8443")
        );
        assert_eq!(
            target_param("module=x&target=https%3A%2F%2Fh").as_deref(),
            Some("https://h")
        );
        assert_eq!(target_param("module=x"), None);
        assert_eq!(target_param("target=a%2").as_deref(), Some("a%2"));
    }

    #[test]
    fn serving_beyond_loopback_without_tls_or_auth_is_warned_about() {
        let open = ProbePolicy::default();
        let any: SocketAddr = "0.0.0.0:9469".parse().unwrap();
        let loopback: SocketAddr = "127.0.0.1:9469".parse().unwrap();
        assert!(exposure_warnings(loopback, None, &open).is_empty());
        let warnings = exposure_warnings(any, None, &open);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].contains("plain HTTP") && warnings[1].contains("--probe-allow"));

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("web.yml");
        let hash = bcrypt::hash("x", 4).unwrap();
        std::fs::write(&path, format!("basic_auth_users:\n  u: '{hash}'\n")).unwrap();
        let auth_only = web_config::load(&path).map_err(|e| e.message).unwrap();
        let warnings = exposure_warnings(any, Some(&auth_only), &open);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("password"));
    }

    #[test]
    fn basic_credentials_are_decoded() {
        let mut headers = http::HeaderMap::new();
        assert_eq!(basic_credentials(&headers), None);
        // "user:pa:ss" — the password may hold colons.
        headers.insert("authorization", "basic dXNlcjpwYTpzcw==".parse().unwrap());
        assert_eq!(
            basic_credentials(&headers),
            Some(("user".to_string(), b"pa:ss".to_vec()))
        );
        headers.insert("authorization", "Bearer dXNlcjpwYXNz".parse().unwrap());
        assert_eq!(basic_credentials(&headers), None);
        headers.insert("authorization", "Basic !!!".parse().unwrap());
        assert_eq!(basic_credentials(&headers), None);
    }
}

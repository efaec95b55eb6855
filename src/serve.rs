//! `certready serve`: a Prometheus endpoint. `/metrics` serves the configured targets,
//! re-probed one round at a time in the background (so never two probes of a target at
//! once) and cached, so a scrape only copies text. `/probe?target=…` probes on demand,
//! blackbox_exporter style, coalescing concurrent requests for the same target. Memory
//! and work stay bounded whatever the scrape rate: connections, probes in flight and the
//! per-target cache all have caps.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{RwLock, Semaphore};

use crate::check::{self, Settings};
use crate::target::{self, Target};

/// Connections served at once; more wait in the accept queue.
const MAX_CONNECTIONS: usize = 512;
/// On-demand probes in flight at once; beyond, /probe answers 503.
const MAX_PROBES_IN_FLIGHT: usize = 64;
/// Distinct /probe targets remembered for coalescing.
const MAX_PROBE_CACHE: usize = 4096;
/// A /probe result this fresh is reused by concurrent scrapes of the same target.
const PROBE_REUSE: Duration = Duration::from_secs(5);
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

pub struct ServeOptions {
    pub listen: SocketAddr,
    pub targets: Vec<Target>,
    pub interval: Duration,
    pub concurrency: usize,
}

/// The last probe of one /probe target.
type ProbeSlot = Arc<tokio::sync::Mutex<Option<(Instant, Arc<String>)>>>;

struct State {
    settings: Arc<Settings>,
    /// Rendered metrics of the configured targets; empty until the first round ends.
    configured: RwLock<Arc<String>>,
    probes: Semaphore,
    slots: Mutex<HashMap<String, ProbeSlot>>,
}

fn reply(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
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
    eprintln!(
        "certready serve: listening on http://{} (/metrics: {} targets every {}; /probe?target=; /healthz)",
        listener.local_addr()?,
        options.targets.len(),
        humantime::format_duration(options.interval)
    );
    let state = Arc::new(State {
        settings: settings.clone(),
        configured: RwLock::new(Arc::new(String::new())),
        probes: Semaphore::new(MAX_PROBES_IN_FLIGHT),
        slots: Mutex::new(HashMap::new()),
    });

    let rounds = tokio::spawn(probe_rounds(
        state.clone(),
        options.targets,
        options.interval,
        options.concurrency,
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
        let state = state.clone();
        let service = hyper::service::service_fn(move |req| handle(req, state.clone()));
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(Duration::from_secs(10));
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
            drop(permit);
        });
    }
    rounds.abort();
    let _ = tokio::time::timeout(
        settings.probe.timeout + Duration::from_secs(5),
        graceful.shutdown(),
    )
    .await;
    eprintln!("certready serve: stopped");
    Ok(())
}

async fn probe_rounds(
    state: Arc<State>,
    targets: Vec<Target>,
    interval: Duration,
    concurrency: usize,
) {
    if targets.is_empty() {
        return;
    }
    loop {
        let started = Instant::now();
        let reports = crate::check::fleet::check_all(
            targets.clone(),
            state.settings.clone(),
            concurrency,
            None,
        )
        .await;
        *state.configured.write().await = Arc::new(crate::render::metrics::render(&reports));
        // The next round starts `interval` after this one started, never before it ends.
        tokio::time::sleep(interval.saturating_sub(started.elapsed())).await;
    }
}

async fn handle(
    req: Request<Incoming>,
    state: Arc<State>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if req.method() != hyper::Method::GET && req.method() != hyper::Method::HEAD {
        return Ok(reply(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            "only GET\n",
        ));
    }
    let response = match req.uri().path() {
        "/healthz" => reply(StatusCode::OK, "text/plain", "ok\n"),
        "/metrics" => {
            let text = state.configured.read().await.clone();
            if text.is_empty() {
                reply(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "text/plain",
                    "the first round of probes has not finished yet\n",
                )
            } else {
                reply(
                    StatusCode::OK,
                    OPENMETRICS,
                    Bytes::from(text.as_bytes().to_vec()),
                )
            }
        }
        "/probe" => probe(req.uri().query().unwrap_or(""), &state).await,
        "/" => reply(
            StatusCode::OK,
            "text/plain",
            "certready serve: /metrics (configured targets), /probe?target=HOST[:PORT], /healthz\n",
        ),
        _ => reply(StatusCode::NOT_FOUND, "text/plain", "not found\n"),
    };
    Ok(response)
}

/// The `target` parameter of a query string, decoded.
fn target_param(query: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == "target")
        .map(|(_, value)| value.into_owned())
}

async fn probe(query: &str, state: &State) -> Response<Full<Bytes>> {
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
    let report = check::check(&target, &state.settings).await;
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
}

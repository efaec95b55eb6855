//! A fake flyteadmin: HTTPS (HTTP/1.1 and HTTP/2) on 127.0.0.1 serving the metadata
//! endpoints as flyteadmin does, /healthcheck, and a CORS layer that answers preflights
//! the way flyteadmin's gorilla/handlers v1.5.1 CORS does, and the gRPC health service
//! behind a gRPC-routing ingress (or an ingress that routes gRPC nowhere).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use certready::lab::Issued;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls_pki_types::CertificateDer;
use tokio::net::TcpListener;

use super::Lab;

#[derive(Clone, Debug)]
pub enum Auth {
    /// useAuth: false — the metadata endpoints answer 404.
    Off,
    /// authServerType: Self — admin is the OAuth server.
    BuiltIn,
    /// authServerType: External — metadata points at this IdP base URL.
    External(String),
}

/// What `/grpc.health.v1.Health/Check` gets through the ingress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grpc {
    /// A gRPC answer: SERVING.
    Serving,
    /// A gRPC answer: NOT_SERVING.
    NotServing,
    /// Trailers-only grpc-status 14, as an ingress without a healthy upstream answers.
    Unavailable,
    /// The ingress's HTML 404: gRPC is not routed to admin.
    Unrouted,
}

#[derive(Clone, Debug)]
pub struct Admin {
    pub auth: Auth,
    /// server.security.allowedOrigins
    pub allowed_origins: Vec<String>,
    /// server.security.allowedHeaders (flyteadmin adds Content-Type itself).
    pub allowed_headers: Vec<String>,
    /// Offer ALPN h2 (a gRPC-ready ingress) or only http/1.1.
    pub h2: bool,
    /// Answer metadata in camelCase whatever Accept says (as grpc-gateway does without it).
    pub camel_case: bool,
    pub grpc: Grpc,
}

impl Default for Admin {
    fn default() -> Self {
        Admin {
            auth: Auth::BuiltIn,
            allowed_origins: vec!["*".into()],
            allowed_headers: vec!["Content-Type".into(), "flyte-authorization".into()],
            h2: true,
            camel_case: false,
            grpc: Grpc::Serving,
        }
    }
}

struct State {
    admin: Admin,
    /// https://host:port as clients reach it.
    base: String,
}

/// Starts the fake admin for `host` presenting `chain`; returns its address.
pub fn start(
    lab: &Lab,
    host: &str,
    chain: Vec<CertificateDer<'static>>,
    key: &Issued,
    admin: Admin,
) -> SocketAddr {
    let key = key.key_der();
    lab.rt.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap();
        config.alpn_protocols = if admin.h2 {
            vec![b"h2".to_vec(), b"http/1.1".to_vec()]
        } else {
            vec![b"http/1.1".to_vec()]
        };
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let state = Arc::new(State {
            admin,
            base: format!("https://{host}:{}", addr.port()),
        });
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let acceptor = acceptor.clone();
                let state = state.clone();
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    let service = hyper::service::service_fn(move |req| handle(req, state.clone()));
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        addr
    })
}

type Body = BoxBody<Bytes, Infallible>;

fn reply(status: StatusCode, body: &str) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())).boxed());
    *response.status_mut() = status;
    response
}

/// The health service's answer, framed as gRPC: a HealthCheckResponse and grpc-status 0.
fn grpc_health(grpc: Grpc) -> Response<Body> {
    let status = match grpc {
        Grpc::Unrouted => {
            let mut page = reply(
                StatusCode::NOT_FOUND,
                "<html><head><title>404 Not Found</title></head><body>404 Not Found</body></html>",
            );
            page.headers_mut()
                .insert("content-type", "text/html".parse().unwrap());
            return page;
        }
        Grpc::Unavailable => {
            let mut response = reply(StatusCode::OK, "");
            let headers = response.headers_mut();
            headers.insert("content-type", "application/grpc".parse().unwrap());
            headers.insert("grpc-status", "14".parse().unwrap());
            headers.insert("grpc-message", "no healthy upstream".parse().unwrap());
            return response;
        }
        Grpc::Serving => 1u8,
        Grpc::NotServing => 2u8,
    };
    let mut trailers = hyper::HeaderMap::new();
    trailers.insert("grpc-status", "0".parse().unwrap());
    let body = Full::new(Bytes::from(vec![0u8, 0, 0, 0, 2, 0x08, status]))
        .with_trailers(async move { Some(Ok(trailers)) })
        .boxed();
    let mut response = Response::new(body);
    response
        .headers_mut()
        .insert("content-type", "application/grpc".parse().unwrap());
    response
}

fn header<'a>(req: &'a Request<Incoming>, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Go's http.CanonicalHeaderKey for the ASCII names used here.
fn canonical(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => {
                    first.to_ascii_uppercase().to_string() + &chars.as_str().to_ascii_lowercase()
                }
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

async fn handle(req: Request<Incoming>, state: Arc<State>) -> Result<Response<Body>, Infallible> {
    let admin = &state.admin;
    if let Some(origin) = header(&req, "origin").map(str::to_string) {
        let allowed = admin
            .allowed_origins
            .iter()
            .any(|o| o == "*" || *o == origin);
        if !allowed {
            // gorilla: an origin it does not allow gets no CORS headers; OPTIONS ends here.
            if req.method() == Method::OPTIONS {
                return Ok(reply(StatusCode::OK, ""));
            }
        } else if req.method() == Method::OPTIONS {
            let Some(method) = header(&req, "access-control-request-method") else {
                return Ok(reply(StatusCode::BAD_REQUEST, ""));
            };
            if !["GET", "POST", "DELETE", "HEAD", "PUT", "PATCH"].contains(&method) {
                return Ok(reply(StatusCode::METHOD_NOT_ALLOWED, ""));
            }
            let defaults = ["Accept", "Accept-Language", "Content-Language", "Origin"];
            let mut echoed = Vec::new();
            for requested in header(&req, "access-control-request-headers")
                .unwrap_or("")
                .split(',')
            {
                let name = canonical(requested.trim());
                if name.is_empty() || defaults.contains(&name.as_str()) {
                    continue;
                }
                if !admin.allowed_headers.iter().any(|h| canonical(h) == name) {
                    return Ok(reply(StatusCode::FORBIDDEN, ""));
                }
                echoed.push(name);
            }
            let mut response = reply(StatusCode::OK, "");
            let headers = response.headers_mut();
            if !echoed.is_empty() {
                headers.insert(
                    "access-control-allow-headers",
                    echoed.join(",").parse().unwrap(),
                );
            }
            headers.insert("access-control-allow-credentials", "true".parse().unwrap());
            if admin.allowed_origins.len() > 1 {
                headers.insert("vary", "Origin".parse().unwrap());
            }
            let returned = if admin.allowed_origins.iter().any(|o| o == "*") {
                "*".to_string()
            } else {
                origin
            };
            headers.insert("access-control-allow-origin", returned.parse().unwrap());
            return Ok(response);
        }
    }

    let json =
        header(&req, "accept").is_some_and(|a| a.contains("application/json")) && !admin.camel_case;
    let key = |snake: &str, camel: &str| {
        if json {
            snake.to_string()
        } else {
            camel.to_string()
        }
    };
    match (req.method(), req.uri().path()) {
        (&Method::GET, "/healthcheck") => Ok(reply(StatusCode::OK, "")),
        (&Method::POST, "/grpc.health.v1.Health/Check") => {
            if req.version() != hyper::Version::HTTP_2 {
                return Ok(reply(StatusCode::BAD_REQUEST, "gRPC needs HTTP/2"));
            }
            Ok(grpc_health(admin.grpc))
        }
        (&Method::GET, "/.well-known/oauth-authorization-server") => {
            let base = match &admin.auth {
                Auth::Off => return Ok(reply(StatusCode::NOT_FOUND, "404 page not found")),
                Auth::BuiltIn => format!("{}/oauth2", state.base),
                Auth::External(idp) => idp.clone(),
            };
            let issuer = match &admin.auth {
                Auth::BuiltIn => state.base.clone(),
                _ => base.clone(),
            };
            let body = serde_json::json!({
                "issuer": issuer,
                key("authorization_endpoint", "authorizationEndpoint"): format!("{base}/authorize"),
                key("token_endpoint", "tokenEndpoint"): format!("{base}/token"),
                key("jwks_uri", "jwksUri"): format!("{base}/jwks"),
                key("device_authorization_endpoint", "deviceAuthorizationEndpoint"): format!("{base}/device/authorize"),
                key("response_types_supported", "responseTypesSupported"): ["code", "token", "code token"],
                key("grant_types_supported", "grantTypesSupported"): ["client_credentials", "refresh_token", "authorization_code"],
                key("code_challenge_methods_supported", "codeChallengeMethodsSupported"): ["S256"],
            });
            Ok(reply(StatusCode::OK, &body.to_string()))
        }
        (&Method::GET, "/config/v1/flyte_client") => {
            if matches!(admin.auth, Auth::Off) {
                return Ok(reply(StatusCode::NOT_FOUND, "404 page not found"));
            }
            let body = serde_json::json!({
                key("client_id", "clientId"): "flytectl",
                key("redirect_uri", "redirectUri"): "http://localhost:53593/callback",
                "scopes": ["all", "offline"],
                key("authorization_metadata_key", "authorizationMetadataKey"): "flyte-authorization",
            });
            Ok(reply(StatusCode::OK, &body.to_string()))
        }
        _ => Ok(reply(StatusCode::NOT_FOUND, "404 page not found")),
    }
}

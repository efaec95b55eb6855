//! Ingresses that serve Flyte's admin: TLS for each admin host, the Secret each tls
//! entry names (run through `inspect` with the Ingress's hosts when it is in the stream),
//! and gRPC proxied as gRPC.

use std::collections::HashMap;
use std::path::Path;

use super::object::Object;
use super::report::{LintFinding, SecretCertificate};
use super::workloads::Sink;
use super::yaml::{join, Node};
use crate::check::{self, InspectOptions, Settings};
use crate::findings::{Finding, FindingId, Severity};
use crate::input;
use crate::report::Report;
use crate::target;

/// Paths only flyteadmin serves (gRPC services and its HTTP API); a route to one of
/// these, or to a flyteadmin/flyte-binary Service, makes the host an admin host.
const GRPC_PATH_PREFIXES: &[&str] = &[
    "/flyteidl.service.",
    "/flyteidl2.",
    "/grpc.health.v1.Health",
];
const ADMIN_HTTP_PATHS: &[&str] = &[
    "/.well-known",
    "/api",
    "/healthcheck",
    "/login",
    "/logout",
    "/callback",
    "/oauth2",
    "/me",
    "/config",
    "/v1/",
];

/// Annotations saying a load balancer in front terminates TLS with its own certificate.
pub(super) const TLS_ELSEWHERE_ANNOTATIONS: &[&str] = &[
    "alb.ingress.kubernetes.io/certificate-arn",
    "networking.gke.io/pre-shared-cert",
    "ingress.gcp.kubernetes.io/pre-shared-cert",
    "networking.gke.io/managed-certificates",
    "appgw.ingress.kubernetes.io/appgw-ssl-certificate",
];

/// One path of a rule, with where it is.
struct Route<'a> {
    host: &'a str,
    path: &'a str,
    service: &'a str,
    port_number: Option<i64>,
    port_name: Option<&'a str>,
    key: String,
    line: usize,
}

impl Route<'_> {
    fn is_grpc(&self) -> bool {
        GRPC_PATH_PREFIXES.iter().any(|p| self.path.starts_with(p))
            || self.port_name.is_some_and(|n| n.contains("grpc"))
            || self.service.ends_with("-grpc")
    }

    fn is_admin(&self) -> bool {
        self.is_grpc()
            || self.service.contains("flyteadmin")
            || self.service.starts_with("flyte-binary")
            || ADMIN_HTTP_PATHS.iter().any(|p| self.path.starts_with(p))
    }
}

fn routes<'a>(ingress: &'a Node) -> Vec<Route<'a>> {
    let mut routes = Vec::new();
    let Some(rules) = ingress.at("spec.rules") else {
        return routes;
    };
    for (i, rule) in rules.items().iter().enumerate() {
        let host = rule.get("host").and_then(Node::as_str).unwrap_or("");
        let Some(paths) = rule.at("http.paths") else {
            continue;
        };
        for (j, path) in paths.items().iter().enumerate() {
            let backend = path.get("backend");
            // networking.k8s.io/v1 (service.name, service.port) or v1beta1 (serviceName, servicePort).
            let service = backend
                .and_then(|b| b.at("service.name").or_else(|| b.get("serviceName")))
                .and_then(Node::as_str)
                .unwrap_or("");
            let port = backend.and_then(|b| b.at("service.port").or_else(|| b.get("servicePort")));
            let (port_number, port_name) = match port {
                Some(p) if p.is_map() => (
                    p.get("number").and_then(Node::as_i64),
                    p.get("name").and_then(Node::as_str),
                ),
                Some(p) => (p.as_i64(), p.as_str()),
                None => (None, None),
            };
            let key = format!("spec.rules[{i}].http.paths[{j}]");
            let line = path.entry("path").map_or(path.line, |e| e.key_line);
            routes.push(Route {
                host,
                path: path.get("path").and_then(Node::as_str).unwrap_or("/"),
                service,
                port_number,
                port_name,
                key: join(&key, "path"),
                line,
            });
        }
    }
    routes
}

fn annotation<'a>(object: &'a Node, name: &str) -> Option<&'a str> {
    object
        .at("metadata.annotations")
        .and_then(|a| a.get(name))
        .and_then(Node::as_str)
}

/// The annotation that makes an Ingress's controller speak gRPC to the backend, and the
/// values that do; None for controllers that configure it elsewhere (on the Service),
/// which certready does not judge. `class` is the ingressClassName or the
/// kubernetes.io/ingress.class annotation; no class means the cluster's default, which is
/// ingress-nginx in Flyte's guides.
pub(super) fn grpc_annotation(
    class: Option<&str>,
    nginx_annotated: bool,
) -> Option<(&'static str, &'static [&'static str])> {
    const NGINX: (&str, &[&str]) = (
        "nginx.ingress.kubernetes.io/backend-protocol",
        &["GRPC", "GRPCS"],
    );
    match class {
        Some("alb") => Some((
            "alb.ingress.kubernetes.io/backend-protocol-version",
            &["GRPC"],
        )),
        None | Some("") => Some(NGINX),
        Some(c) if c.contains("nginx") || nginx_annotated => Some(NGINX),
        Some(_) => None,
    }
}

/// Whether annotation `value` is one of `wanted`.
pub(super) fn speaks_grpc(value: Option<&str>, wanted: &[&str]) -> bool {
    value.is_some_and(|v| wanted.iter().any(|w| v.eq_ignore_ascii_case(w)))
}

/// The stream's Secrets by (namespace, name).
pub(super) type Secrets<'a> = HashMap<(Option<String>, String), &'a Object<'a>>;

/// Whether a tls entry of `ingress` lists `host` (an entry without hosts covers the
/// Ingress's own hosts only).
fn tls_covers(ingress: &Node, host: &str, own: bool) -> bool {
    let Some(entries) = ingress.at("spec.tls") else {
        return false;
    };
    entries
        .items()
        .iter()
        .any(|entry| match entry.get("hosts") {
            Some(hosts) if !hosts.items().is_empty() => hosts
                .items()
                .iter()
                .filter_map(Node::as_str)
                .any(|h| h == host),
            _ => own,
        })
}

/// The Secret `name` for an Ingress in `namespace`; when either was rendered without a
/// namespace (`helm template` without `-n` leaves some objects without one), by name.
fn find_secret<'s, 'a>(
    secrets: &'s Secrets<'a>,
    namespace: &Option<String>,
    name: &str,
) -> Option<&'s &'a Object<'a>> {
    secrets
        .get(&(namespace.clone(), name.to_string()))
        .or_else(|| {
            secrets.iter().find_map(|((ns, n), secret)| {
                (n == name && (ns.is_none() || namespace.is_none())).then_some(secret)
            })
        })
}

/// `others`: every Ingress of the stream (this one included).
pub(super) fn lint_ingress(
    ingress: &Object<'_>,
    others: &[&Object<'_>],
    secrets: &Secrets<'_>,
    settings: &Settings,
    out: &mut Vec<LintFinding>,
    certificates: &mut Vec<SecretCertificate>,
) {
    let node = ingress.node;
    let routes = routes(node);
    let mut sink = Sink {
        object: &ingress.label,
        container: None,
        out,
    };
    grpc_backend_protocol(node, &routes, &mut sink);

    let tls_entries: Vec<&Node> = node
        .at("spec.tls")
        .map(|t| t.items().iter().collect())
        .unwrap_or_default();
    let tls_elsewhere = TLS_ELSEWHERE_ANNOTATIONS
        .iter()
        .find(|a| annotation(node, a).is_some());
    let mut admin_hosts: Vec<(&str, &Route<'_>)> = Vec::new();
    for route in routes.iter().filter(|r| r.is_admin()) {
        if !admin_hosts.iter().any(|(h, _)| *h == route.host) {
            admin_hosts.push((route.host, route));
        }
    }
    // ingress-nginx configures TLS per host: a tls entry for the host on another Ingress
    // of the same namespace covers this one too.
    let covered = |host: &str| {
        others
            .iter()
            .filter(|o| o.namespace == ingress.namespace)
            .any(|o| tls_covers(o.node, host, o.label == ingress.label))
    };
    if tls_elsewhere.is_none() {
        for (host, route) in &admin_hosts {
            if covered(host) {
                continue;
            }
            let shown = if host.is_empty() {
                "every host (the rule has no host)".to_string()
            } else {
                host.to_string()
            };
            let why = if tls_entries.is_empty() {
                "the Ingress has no tls section"
            } else {
                "no tls entry lists the host"
            };
            sink.push(
                Finding::new(
                    FindingId::IngressNoTls,
                    None,
                    format!("The Ingress routes Flyte's admin ({} → {}) for {shown}, but {why}: ingress-nginx answers HTTPS for it with its fake default certificate, and plaintext on port 80.", route.path, route.service),
                ),
                route.key.clone(),
                route.line,
            );
        }
    }

    for (i, entry) in tls_entries.iter().enumerate() {
        let entry_key = format!("spec.tls[{i}]");
        let hosts: Vec<(&str, String, usize)> = match entry.get("hosts") {
            Some(list) if !list.items().is_empty() => list
                .items()
                .iter()
                .enumerate()
                .filter_map(|(j, h)| {
                    h.as_str()
                        .map(|s| (s, format!("{entry_key}.hosts[{j}]"), h.line))
                })
                .collect(),
            _ => routes
                .iter()
                .filter(|r| !r.host.is_empty())
                .map(|r| (r.host, entry_key.clone(), entry.line))
                .fold(Vec::new(), |mut all, h| {
                    if !all.iter().any(|(x, _, _)| *x == h.0) {
                        all.push(h);
                    }
                    all
                }),
        };
        let Some(secret_entry) = entry.entry("secretName") else {
            sink.push(
                Finding::new(
                    FindingId::IngressTlsSecretNotFound,
                    None,
                    "The tls entry names no secretName: ingress-nginx serves its default certificate for these hosts (the fake one unless the controller runs with --default-ssl-certificate).",
                )
                .severity(Severity::Warning),
                entry_key.clone(),
                entry.line,
            );
            continue;
        };
        let secret_name = secret_entry.value.as_str().unwrap_or("");
        let key = join(&entry_key, "secretName");
        let Some(secret) = find_secret(secrets, &ingress.namespace, secret_name) else {
            sink.push(
                Finding::new(
                    FindingId::IngressTlsSecretNotFound,
                    None,
                    format!("Secret {secret_name} is not in the linted files, so its certificate is not checked here; it must exist in the Ingress's namespace at rollout."),
                ),
                key,
                secret_entry.key_line,
            );
            continue;
        };
        for (host, host_key, host_line) in hosts {
            let report = secret_report(secret, Some(host), &ingress.label, settings, certificates);
            let mismatch = report
                .findings
                .iter()
                .find(|f| matches!(f.id, FindingId::HostnameMismatch | FindingId::CnOnly));
            if let Some(mismatch) = mismatch {
                sink.push(
                    Finding::new(
                        FindingId::IngressTlsHostNotInCertificate,
                        None,
                        format!("{host} is served with Secret {secret_name}, whose certificate does not cover it: {}", mismatch.message),
                    ),
                    host_key,
                    host_line,
                );
            }
        }
    }
}

/// The Secret's certificate judged for `host`, recorded once per (Secret, host).
fn secret_report<'r>(
    secret: &Object<'_>,
    host: Option<&str>,
    referenced_by: &str,
    settings: &Settings,
    certificates: &'r mut Vec<SecretCertificate>,
) -> &'r Report {
    let index = match certificates
        .iter()
        .position(|c| c.object == secret.label && c.host.as_deref() == host)
    {
        Some(index) => index,
        None => {
            certificates.push(inspect_secret(secret, host, settings));
            certificates.len() - 1
        }
    };
    let certificate = &mut certificates[index];
    if !referenced_by.is_empty() && !certificate.referenced_by.iter().any(|r| r == referenced_by) {
        certificate.referenced_by.push(referenced_by.to_string());
    }
    &certificates[index].report
}

/// `inspect` on a Secret object, for `host` when an Ingress serves one with it.
pub(super) fn inspect_secret(
    secret: &Object<'_>,
    host: Option<&str>,
    settings: &Settings,
) -> SecretCertificate {
    let label = &secret.label;
    // A wildcard host stands for any name under it: check one such name.
    let parsed_host = host.and_then(|h| {
        let name = match h.strip_prefix("*.") {
            Some(rest) => format!("certready-wildcard-check.{rest}"),
            None => h.to_string(),
        };
        target::split_host_port(&name).ok().map(|(host, _)| host)
    });
    let json = secret.node.to_json();
    let report = match json
        .as_object()
        .map(|o| input::secret_bundle(Path::new(label), o))
    {
        Some(Ok(bundle)) => check::inspect_bundle(
            label,
            bundle,
            &InspectOptions {
                hostname: parsed_host.as_ref(),
                key: None,
                extra_chain: &[],
            },
            settings,
        ),
        Some(Err(e)) => {
            Report::failed(label.clone(), host.map(str::to_string), None, e.to_string())
        }
        None => Report::failed(
            label.clone(),
            host.map(str::to_string),
            None,
            format!("{label}: is not a mapping"),
        ),
    };
    let line = ["data", "stringData"]
        .iter()
        .find_map(|section| secret.node.get(section).and_then(|d| d.entry("tls.crt")))
        .map(|e| e.key_line);
    SecretCertificate {
        object: label.clone(),
        host: host.map(str::to_string),
        referenced_by: Vec::new(),
        line,
        report,
    }
}

/// gRPC routes must reach flyteadmin over HTTP/2: ingress-nginx's backend-protocol
/// annotation, or the ALB's backend-protocol-version. Other controllers configure it on
/// the Service or elsewhere, which the Ingress does not show, so they are not judged.
fn grpc_backend_protocol(node: &Node, routes: &[Route<'_>], sink: &mut Sink<'_, '_>) {
    let Some(first) = routes.iter().find(|r| r.is_grpc()) else {
        return;
    };
    let class = node
        .at("spec.ingressClassName")
        .and_then(Node::as_str)
        .or_else(|| annotation(node, "kubernetes.io/ingress.class"));
    let nginx_annotated = node.at("metadata.annotations").is_some_and(|a| {
        a.entries()
            .iter()
            .any(|e| e.key.starts_with("nginx.ingress.kubernetes.io/"))
    });
    let Some((annotation_name, wanted)) = grpc_annotation(class, nginx_annotated) else {
        return;
    };
    let value = annotation(node, annotation_name);
    if speaks_grpc(value, wanted) {
        return;
    }
    let what = match value {
        Some(v) => format!("{annotation_name} is {v:?}"),
        None => format!("it has no {annotation_name} annotation"),
    };
    let port = first
        .port_number
        .map(|p| p.to_string())
        .or(first.port_name.map(str::to_string))
        .unwrap_or_default();
    sink.push(
        Finding::new(
            FindingId::IngressGrpcBackendProtocolMissing,
            None,
            format!("The Ingress routes gRPC ({} → {}:{port}) but {what}: the controller proxies it as HTTP/1.1, and flytectl and pyflyte fail while the console works.", first.path, first.service),
        ),
        first.key.clone(),
        first.line,
    );
}

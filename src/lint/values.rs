//! Helm values for Flyte's charts, before `helm template` renders them: flyte-core
//! (`configmap.adminServer`, `common.ingress`, each component's securityContext) and
//! flyte-binary (`configuration.inline`, `ingress`, `deployment`). A values file is an
//! overlay on the chart's defaults, so a key it leaves out has the chart's value; the
//! defaults that matter here are written down below. What the chart makes of the values
//! is checked in full on its output: `helm template … | certready lint-config -`.

use std::path::Path;

use serde_json::{json, Value as Json};

use super::ingress::{self, TLS_ELSEWHERE_ANNOTATIONS};
use super::linter::Linter;
use super::options::LintOptions;
use super::report::{ConfigKind, LintFinding, LintReport};
use super::workloads::Sink;
use super::yaml::{join, Node};
use super::{admin, linter};
use crate::check::Settings;
use crate::findings::{Finding, FindingId};

/// flyte-core's components that take a (pod) securityContext in the values.
const FLYTE_CORE_COMPONENTS: &[&str] = &[
    "flyteadmin",
    "flytescheduler",
    "datacatalog",
    "flyteagent",
    "flytepropeller",
    "flyteconsole",
    "webhook",
    "cluster_resource_manager",
    "workflow_scheduler",
];

/// Which chart's values `root` holds, if any.
pub(super) fn kind(root: &Node) -> Option<ConfigKind> {
    let has = |path: &str| root.at(path).is_some();
    if has("configmap.adminServer") || (has("common.ingress") && has("flyteadmin")) {
        Some(ConfigKind::FlyteCoreValues)
    } else if has("configuration.inline")
        || has("configuration.auth")
        || (has("configuration") && (has("deployment") || has("ingress")))
    {
        Some(ConfigKind::FlyteBinaryValues)
    } else {
        None
    }
}

pub(super) fn lint(
    kind: ConfigKind,
    root: &Node,
    base_dir: &Path,
    options: &LintOptions,
    settings: &Settings,
    report: &mut LintReport,
) {
    let mut findings = Vec::new();
    match kind {
        ConfigKind::FlyteCoreValues => {
            if let Some(admin_config) = root.at("configmap.adminServer") {
                report.certificate = lint_admin_config(
                    admin_config,
                    "configmap.adminServer.",
                    &flyte_core_admin_defaults(),
                    base_dir,
                    options,
                    settings,
                    &mut findings,
                );
            }
            let mut sink = Sink {
                object: "",
                container: None,
                out: &mut findings,
            };
            flyte_core_ingress(root, &mut sink);
            // The chart renders `<component>.securityContext` as the pod's.
            for component in FLYTE_CORE_COMPONENTS {
                let path = format!("{component}.securityContext");
                if let Some(context) = root.at(&path) {
                    explicit_security_problems(context, &path, &mut sink);
                    if context.is_map() {
                        sink.container_fields_on_pod(context, &path);
                    }
                }
            }
        }
        ConfigKind::FlyteBinaryValues => {
            if let Some(inline) = root.at("configuration.inline") {
                if inline.get("server").is_some() || inline.get("auth").is_some() {
                    report.certificate = lint_admin_config(
                        inline,
                        "configuration.inline.",
                        &json!({}),
                        base_dir,
                        options,
                        settings,
                        &mut findings,
                    );
                }
            }
            let mut sink = Sink {
                object: "",
                container: None,
                out: &mut findings,
            };
            flyte_binary_ingress(root, &mut sink);
            flyte_binary_deployment(root, &mut sink);
        }
        _ => {}
    }
    report.findings.extend(findings);
}

/// The flyteadmin config the chart renders, as far as the lint reads it: flyte-core's
/// `server.security` defaults (charts/flyte-core/values.yaml) under the values' own.
fn flyte_core_admin_defaults() -> Json {
    json!({ "server": { "security": {
        "secure": false,
        "useAuth": false,
        "allowCors": true,
        "allowedOrigins": ["*"],
        "allowedHeaders": ["Content-Type"],
    } } })
}

fn lint_admin_config(
    config: &Node,
    prefix: &str,
    defaults: &Json,
    base_dir: &Path,
    options: &LintOptions,
    settings: &Settings,
    findings: &mut Vec<LintFinding>,
) -> Option<crate::report::Report> {
    let mut merged = defaults.clone();
    linter::merge(&mut merged, config.to_json());
    let mut linter = Linter::new(config, base_dir).prefixed(prefix);
    let certificate = admin::lint_admin(
        &merged,
        &mut linter,
        options.console_origin.as_deref(),
        settings,
    );
    findings.extend(linter.into_findings());
    certificate
}

/// A key's value and line, when the values set it.
fn set<'a>(root: &'a Node, path: &str) -> Option<(&'a Node, usize)> {
    let (parent, key) = match path.rsplit_once('.') {
        Some((parent, key)) => (root.at(parent)?, key),
        None => (root, path),
    };
    parent.entry(key).map(|e| (&e.value, e.key_line))
}

/// The line of the deepest key of `path` the values set.
fn nearest_line(root: &Node, path: &str) -> usize {
    let mut line = 1;
    let mut node = root;
    for key in path.split('.') {
        match node.entry(key) {
            Some(entry) => {
                line = entry.key_line;
                node = &entry.value;
            }
            None => break,
        }
    }
    line
}

/// `path` must be a mapping when set; a finding when it is not.
fn mapping_or_finding<'a>(root: &'a Node, path: &str, sink: &mut Sink<'_, '_>) -> Option<&'a Node> {
    let (node, line) = set(root, path)?;
    if node.is_map() {
        return Some(node);
    }
    if !node.is_null() {
        sink.push(
            Finding::new(
                FindingId::ConfigWrongType,
                None,
                format!("{path} is {}, not a mapping: the chart's templates cannot read it (helm template fails or takes the default).", node.type_name()),
            ),
            path.to_string(),
            line,
        );
    }
    None
}

fn bool_value(root: &Node, path: &str, default: bool, sink: &mut Sink<'_, '_>) -> bool {
    match set(root, path) {
        None => default,
        Some((node, _)) if node.is_null() => default,
        Some((node, line)) => node.as_bool().unwrap_or_else(|| {
            sink.push(
                Finding::new(
                    FindingId::ConfigWrongType,
                    None,
                    format!(
                        "{path} is {}, not a boolean: Helm treats any non-empty value as true.",
                        node.type_name()
                    ),
                ),
                path.to_string(),
                line,
            );
            true
        }),
    }
}

/// Annotation names and values of the mappings at `paths`, later ones winning.
fn annotations(root: &Node, paths: &[&str], sink: &mut Sink<'_, '_>) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = Vec::new();
    for path in paths {
        let Some(map) = mapping_or_finding(root, path, sink) else {
            continue;
        };
        for entry in map.entries() {
            let value = entry.value.scalar_text().unwrap_or_default();
            all.retain(|(k, _)| *k != entry.key);
            all.push((entry.key.clone(), value));
        }
    }
    all
}

fn lookup<'a>(annotations: &'a [(String, String)], name: &str) -> Option<&'a str> {
    annotations
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Whether the gRPC Ingress's annotations make its controller speak gRPC to admin, and
/// the annotation that does; None when the controller is one certready does not judge.
fn grpc_ok(class: Option<&str>, annotations: &[(String, String)]) -> Option<(bool, &'static str)> {
    let nginx_annotated = annotations
        .iter()
        .any(|(k, _)| k.starts_with("nginx.ingress.kubernetes.io/"));
    let (name, wanted) = ingress::grpc_annotation(class, nginx_annotated)?;
    Some((
        ingress::speaks_grpc(lookup(annotations, name), wanted),
        name,
    ))
}

/// flyte-core's `common.ingress`: TLS for the admin host, and gRPC routed as gRPC —
/// on the separate gRPC Ingress (annotations merged with separateGrpcIngressAnnotations,
/// whose chart default is backend-protocol GRPC) or on the one Ingress.
fn flyte_core_ingress(root: &Node, sink: &mut Sink<'_, '_>) {
    let Some(ingress) = mapping_or_finding(root, "common.ingress", sink) else {
        return;
    };
    if !bool_value(root, "common.ingress.enabled", true, sink) {
        return;
    }
    let class = ingress
        .get("ingressClassName")
        .and_then(Node::as_str)
        .or_else(|| {
            ingress
                .at("annotations")
                .and_then(|a| a.get("kubernetes.io/ingress.class"))
                .and_then(Node::as_str)
        });
    let common = annotations(root, &["common.ingress.annotations"], sink);
    let tls_on = match mapping_or_finding(root, "common.ingress.tls", sink) {
        Some(_) => bool_value(root, "common.ingress.tls.enabled", false, sink),
        None => set(root, "common.ingress.tls").is_some_and(|(n, _)| !n.is_null()),
    };
    let wrong_tls_type =
        set(root, "common.ingress.tls").is_some_and(|(n, _)| !n.is_map() && !n.is_null());
    if !tls_on
        && !wrong_tls_type
        && !TLS_ELSEWHERE_ANNOTATIONS
            .iter()
            .any(|a| lookup(&common, a).is_some())
    {
        let key = "common.ingress.tls.enabled";
        sink.push(
            Finding::new(
                FindingId::IngressNoTls,
                None,
                "common.ingress.tls.enabled is off (the chart's default): the Ingresses have no tls section, so ingress-nginx serves admin's host with its fake default certificate. Set tls.enabled: true and tls.secretName.",
            ),
            key.to_string(),
            nearest_line(root, key),
        );
    }
    let separate = bool_value(root, "common.ingress.separateGrpcIngress", false, sink);
    let grpc_annotations = if separate {
        let mut merged = common.clone();
        let extra = match set(root, "common.ingress.separateGrpcIngressAnnotations") {
            Some(_) => annotations(
                root,
                &["common.ingress.separateGrpcIngressAnnotations"],
                sink,
            ),
            // The chart's default.
            None => vec![(
                "nginx.ingress.kubernetes.io/backend-protocol".to_string(),
                "GRPC".to_string(),
            )],
        };
        for (k, v) in extra {
            merged.retain(|(key, _)| *key != k);
            merged.push((k, v));
        }
        merged
    } else {
        common
    };
    if let Some((false, annotation)) = grpc_ok(class, &grpc_annotations) {
        let (key, message) = if separate {
            (
                "common.ingress.separateGrpcIngressAnnotations",
                format!("The separate gRPC Ingress gets no {annotation}: GRPC (separateGrpcIngressAnnotations overrides the chart's default), so flyteadmin's gRPC is proxied as HTTP/1.1 and flytectl and pyflyte fail."),
            )
        } else {
            (
                "common.ingress.separateGrpcIngress",
                format!("separateGrpcIngress is off, so flyteadmin's gRPC paths share the HTTP Ingress, which has no {annotation}: GRPC; with nginx, set separateGrpcIngress: true (the gRPC Ingress then gets the annotation) rather than annotating the shared one, which would break the console."),
            )
        };
        sink.push(
            Finding::new(FindingId::IngressGrpcBackendProtocolMissing, None, message),
            key.to_string(),
            nearest_line(root, key),
        );
    }
}

/// flyte-binary's `ingress`: TLS (tls, httpTls, grpcTls) and the gRPC Ingress's
/// annotations (commonAnnotations + grpcAnnotations).
fn flyte_binary_ingress(root: &Node, sink: &mut Sink<'_, '_>) {
    if mapping_or_finding(root, "ingress", sink).is_none()
        || !bool_value(root, "ingress.create", false, sink)
    {
        return;
    }
    let class = root.at("ingress.ingressClassName").and_then(Node::as_str);
    let common = annotations(root, &["ingress.commonAnnotations"], sink);
    let class = class.or_else(|| lookup(&common, "kubernetes.io/ingress.class"));
    let has_tls = ["ingress.tls", "ingress.httpTls", "ingress.grpcTls"]
        .iter()
        .any(|p| root.at(p).is_some_and(|t| !t.items().is_empty()));
    let elsewhere = TLS_ELSEWHERE_ANNOTATIONS
        .iter()
        .any(|a| lookup(&common, a).is_some());
    if !has_tls && !elsewhere {
        let key = "ingress.tls";
        sink.push(
            Finding::new(
                FindingId::IngressNoTls,
                None,
                "ingress.create is on but ingress.tls (and httpTls, grpcTls) is empty: the Ingresses have no tls section, so ingress-nginx serves the host with its fake default certificate. Add tls entries with the host and a secretName.",
            ),
            key.to_string(),
            nearest_line(root, key),
        );
    }
    let separate = bool_value(root, "ingress.separateGrpcIngress", true, sink);
    let grpc_annotations = if separate {
        annotations(
            root,
            &["ingress.commonAnnotations", "ingress.grpcAnnotations"],
            sink,
        )
    } else {
        annotations(
            root,
            &[
                "ingress.commonAnnotations",
                "ingress.httpAnnotations",
                "ingress.grpcAnnotations",
            ],
            sink,
        )
    };
    if let Some((false, annotation)) = grpc_ok(class, &grpc_annotations) {
        let key = "ingress.grpcAnnotations";
        sink.push(
            Finding::new(
                FindingId::IngressGrpcBackendProtocolMissing,
                None,
                format!("The gRPC Ingress gets no {annotation}: GRPC (from commonAnnotations or grpcAnnotations), so flyteadmin's gRPC is proxied as HTTP/1.1 and flytectl and pyflyte fail."),
            ),
            key.to_string(),
            nearest_line(root, key),
        );
    }
}

/// flyte-binary's `deployment`: podSecurityContext (off by default: the image's USER
/// decides), the main container's securityContext, and the wait-for-db init container
/// (postgres:15-alpine, rendered unless the config comes from an external ConfigMap and
/// Secret), which runs as root unless the pod or waitForDB.securityContext sets a user.
fn flyte_binary_deployment(root: &Node, sink: &mut Sink<'_, '_>) {
    let context_enabled = bool_value(root, "deployment.podSecurityContext.enabled", false, sink);
    let key = "deployment.podSecurityContext.enabled";
    let pod_uid = root
        .at("deployment.podSecurityContext.runAsUser")
        .and_then(Node::as_i64)
        .filter(|_| context_enabled);
    if let Some(context) = mapping_or_finding(root, "deployment.podSecurityContext", sink) {
        if context_enabled {
            explicit_security_problems(context, "deployment.podSecurityContext", sink);
            sink.container_fields_on_pod(context, "deployment.podSecurityContext");
        }
    }
    if let Some(context) = mapping_or_finding(root, "deployment.securityContext", sink) {
        explicit_security_problems(context, "deployment.securityContext", sink);
    }
    let container_sets_user = |path: &str| {
        root.at(path)
            .and_then(|c| c.get("runAsUser"))
            .and_then(Node::as_i64)
            .is_some_and(|u| u > 0)
            || root
                .at(path)
                .and_then(|c| c.get("runAsNonRoot"))
                .and_then(Node::as_bool)
                == Some(true)
    };
    if !context_enabled && !container_sets_user("deployment.securityContext") {
        sink.push(
            Finding::new(
                FindingId::RunAsNonRootNotSet,
                None,
                "deployment.podSecurityContext is not enabled (the chart's default) and deployment.securityContext sets no user: the image's USER decides, which certready cannot see. Enable podSecurityContext (runAsUser: 65534) and set runAsNonRoot: true.",
            ),
            key.to_string(),
            nearest_line(root, key),
        );
    }
    let external_config = [
        "configuration.externalConfigMap",
        "configuration.externalSecretRef",
    ]
    .iter()
    .all(|p| {
        root.at(p)
            .and_then(Node::scalar_text)
            .is_some_and(|t| !t.is_empty())
    });
    let wait_context = "deployment.waitForDB.securityContext";
    if let Some(context) = mapping_or_finding(root, wait_context, sink) {
        explicit_security_problems(context, wait_context, sink);
    }
    let wait_uid = root
        .at(wait_context)
        .and_then(|c| c.get("runAsUser"))
        .and_then(Node::as_i64);
    let wait_runs_as_root = match wait_uid.or(pod_uid) {
        Some(uid) => uid == 0,
        None => true,
    };
    if !external_config && wait_runs_as_root && wait_uid != Some(0) {
        let key = "deployment.waitForDB";
        sink.push(
            Finding::new(
                FindingId::DbWaitRunsAsRoot,
                None,
                "The chart adds the wait-for-db init container (postgres:15-alpine, whose USER is root) and neither deployment.podSecurityContext nor deployment.waitForDB.securityContext gives it a user, so it runs as root. Flyte's security overview lists it as the known exception; set waitForDB.securityContext {runAsUser: 65534, runAsNonRoot: true}.",
            ),
            key.to_string(),
            nearest_line(root, key),
        );
    }
}

/// Problems a values file states outright in a securityContext; what the chart does
/// with absent keys is judged on its rendered output.
fn explicit_security_problems(context: &Node, path: &str, sink: &mut Sink<'_, '_>) {
    // Container-only fields in a pod's context are reported as misplaced by the caller.
    let pod_level = path.ends_with("podSecurityContext")
        || FLYTE_CORE_COMPONENTS
            .iter()
            .any(|c| path == format!("{c}.securityContext"));
    if !sink.expect_map(context, path) {
        return;
    }
    sink.check_field_types(context, path);
    for entry in context.entries() {
        let key = join(path, &entry.key);
        let value = &entry.value;
        let finding = match entry.key.as_str() {
            "runAsUser" if value.as_i64() == Some(0) => Some(Finding::new(
                FindingId::ContainerRunsAsRoot,
                None,
                format!("{key} is 0: the pods run as root."),
            )),
            "runAsNonRoot" if value.as_bool() == Some(false) => Some(Finding::new(
                FindingId::RunAsNonRootNotSet,
                None,
                format!("{key} is false: nothing stops an image that runs as root."),
            )),
            "privileged" | "allowPrivilegeEscalation" if pod_level => None,
            "privileged" if value.as_bool() == Some(true) => Some(Finding::new(
                FindingId::PrivilegedContainer,
                None,
                format!("{key} is true."),
            )),
            "allowPrivilegeEscalation" if value.as_bool() == Some(true) => Some(Finding::new(
                FindingId::PrivilegeEscalationAllowed,
                None,
                format!("{key} is true."),
            )),
            _ => None,
        };
        if let Some(finding) = finding {
            sink.push(finding, key.clone(), entry.key_line);
        }
    }
}

//! Kubernetes manifests as `helm template` prints them (a multi-document stream) or
//! `kubectl get -o yaml` (a List): each object by kind — workloads' container security,
//! ConfigMaps holding flyteadmin's or flytectl's config, TLS Secrets, Ingresses — and a
//! count of what was read and what was skipped.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value as Json;

use super::ingress::{self, Secrets};
use super::linter::Linter;
use super::object::{object, Object};
use super::options::LintOptions;
use super::report::{ConfigKind, LintFinding, LintReport, ObjectCounts};
use super::workloads::{self, WorkloadOptions};
use super::yaml::{self, Document, DocumentError, Node};
use super::{admin, client, linter};
use crate::check::Settings;

/// A document (or List item) without apiVersion or kind: kubectl refuses the file.
fn not_an_object(node: &Node, place: &str) -> LintFinding {
    let missing: Vec<&str> = ["apiVersion", "kind"]
        .into_iter()
        .filter(|key| node.get(key).and_then(Node::as_str).is_none())
        .collect();
    let (what, key) = match node.value {
        yaml::Value::Map(_) => (
            format!("has no {}", missing.join(" and no ")),
            missing.first().map(|k| k.to_string()),
        ),
        _ => ("is not a mapping".to_string(), None),
    };
    let finding = crate::findings::Finding::new(
        crate::findings::FindingId::ManifestNotAnObject,
        None,
        format!(
            "{place} (line {}) {what}: it is not a Kubernetes object, and kubectl apply refuses the file; certready skipped it.",
            node.line
        ),
    );
    LintFinding::new(finding, key, Some(node.line))
}

/// Lints every object of the stream into `report`.
pub(super) fn lint(
    documents: &[Document],
    text: &str,
    base_dir: &Path,
    options: &LintOptions,
    settings: &Settings,
    report: &mut LintReport,
) {
    report.kind = Some(ConfigKind::Manifests);
    let mut counts = ObjectCounts {
        documents: documents.len(),
        ..ObjectCounts::default()
    };
    let lines = LineStarts::of(text);
    let mut objects = Vec::new();
    for document in documents {
        match &document.root {
            Err(error) => report.document_errors.push(error.clone()),
            Ok(None) => {}
            Ok(Some(root)) => match object(root, document.index) {
                Some(list) if list.kind == "List" || list.kind.ends_with("List") => {
                    for (i, item) in list
                        .node
                        .get("items")
                        .map(Node::items)
                        .unwrap_or_default()
                        .iter()
                        .enumerate()
                    {
                        match object(item, document.index) {
                            Some(o) => objects.push(o),
                            None => {
                                bump(&mut counts.skipped, "(not a Kubernetes object)");
                                let place = format!("{}.items[{i}]", list.label);
                                report.findings.push(not_an_object(item, &place));
                            }
                        }
                    }
                }
                Some(o) => objects.push(o),
                None => {
                    bump(&mut counts.skipped, "(not a Kubernetes object)");
                    let place = format!("document {}", document.index);
                    report.findings.push(not_an_object(root, &place));
                }
            },
        }
    }

    let mut findings = Vec::new();
    let workload_options = WorkloadOptions {
        openshift: options.openshift,
    };
    let mut secrets: Secrets<'_> = HashMap::new();
    let mut ingresses = Vec::new();
    for object in &objects {
        let linted = match object.kind.as_str() {
            kind if workloads::pod_spec_path(kind).is_some() => {
                let path = workloads::pod_spec_path(kind).unwrap_or_default();
                if let Some(pod) = object.node.at(path) {
                    workloads::lint_pod_spec(
                        &object.label,
                        pod,
                        path,
                        workload_options,
                        &mut findings,
                    );
                }
                true
            }
            "ConfigMap" => lint_config_map(
                object,
                &lines,
                base_dir,
                options,
                settings,
                report,
                &mut findings,
            ),
            "Secret" if is_tls_secret(object.node) => {
                secrets.insert((object.namespace.clone(), object.name.clone()), object);
                true
            }
            "Ingress" => {
                ingresses.push(object);
                true
            }
            _ => false,
        };
        bump(
            if linted {
                &mut counts.linted
            } else {
                &mut counts.skipped
            },
            &object.kind,
        );
    }
    for ingress in &ingresses {
        ingress::lint_ingress(
            ingress,
            &ingresses,
            &secrets,
            settings,
            &mut findings,
            &mut report.certificates,
        );
    }
    // TLS Secrets no Ingress of the stream serves are still judged, without a host.
    let mut unreferenced: Vec<&&Object<'_>> = secrets
        .values()
        .filter(|s| !report.certificates.iter().any(|c| c.object == s.label))
        .collect();
    unreferenced.sort_by_key(|s| s.document);
    for secret in unreferenced {
        report
            .certificates
            .push(ingress::inspect_secret(secret, None, settings));
    }
    report.findings.extend(findings);
    // Nothing here is what lint-config reads: say so rather than pass in silence.
    let linted: usize = counts.linted.values().sum();
    if linted == 0 && report.document_errors.is_empty() {
        let read = counts
            .skipped
            .iter()
            .map(|(kind, n)| format!("{n} {kind}"))
            .collect::<Vec<_>>()
            .join(", ");
        report.error = Some(format!(
            "has nothing lint-config reads (it holds {read}): it lints workloads' containers, ConfigMaps holding flyteadmin or flytectl config, TLS Secrets and Ingresses, and flyteadmin, flytectl, flyte-core and flyte-binary config files"
        ));
    }
    report.objects = Some(counts);
}

fn bump(counts: &mut std::collections::BTreeMap<String, usize>, kind: &str) {
    *counts.entry(kind.to_string()).or_default() += 1;
}

fn is_tls_secret(node: &Node) -> bool {
    node.get("type").and_then(Node::as_str) == Some("kubernetes.io/tls")
        || ["data", "stringData"]
            .iter()
            .any(|s| node.get(s).and_then(|d| d.get("tls.crt")).is_some())
}

/// A ConfigMap whose data holds flyteadmin's config (`server:`, `auth:`, in one or
/// several keys, merged as flyteadmin merges its config files) or flytectl's (`admin:`).
/// Returns whether it held one.
fn lint_config_map(
    object: &Object<'_>,
    file_lines: &LineStarts<'_>,
    base_dir: &Path,
    options: &LintOptions,
    settings: &Settings,
    report: &mut LintReport,
    findings: &mut Vec<LintFinding>,
) -> bool {
    let Some(data) = object.node.get("data") else {
        return false;
    };
    let mut merged = Json::Object(serde_json::Map::new());
    let mut lines = HashMap::new();
    let mut prefixes = Vec::new();
    for entry in data.entries() {
        let Some(content) = entry.value.as_str() else {
            continue;
        };
        let yaml_key = entry.key.ends_with(".yaml") || entry.key.ends_with(".yml");
        // A literal block (`key: |`) keeps the file's lines; other styles do not, so
        // their findings point at the data key.
        let literal = file_lines.char_at(entry.value.line, entry.value.column) == Some('|');
        let first_line = if literal { entry.value.line + 1 } else { 1 };
        let root = match yaml::parse_document(content, first_line, object.document) {
            Ok(Some(root)) if root.is_map() => root,
            Ok(_) => continue,
            Err(e) if yaml_key => {
                report.document_errors.push(DocumentError {
                    message: format!(
                        "{} data[{}] is not valid YAML: {}",
                        object.label, entry.key, e.message
                    ),
                    line: if literal {
                        e.line
                    } else {
                        Some(entry.key_line)
                    },
                    column: if literal { e.column } else { None },
                    ..e
                });
                continue;
            }
            Err(_) => continue,
        };
        let concerns_flyte = ["server", "auth", "admin", "flyteadmin"]
            .iter()
            .any(|k| root.get(k).is_some());
        if !concerns_flyte {
            continue;
        }
        let prefix = format!("data[{}].", entry.key);
        for (key, line) in root.key_lines("") {
            lines
                .entry(key)
                .or_insert(if literal { line } else { entry.key_line });
        }
        for top in root.entries() {
            prefixes.push((top.key.clone(), prefix.clone()));
        }
        linter::merge(&mut merged, root.to_json());
    }
    if merged.as_object().is_none_or(|m| m.is_empty()) {
        return false;
    }
    let config = merged;
    let mut linter = Linter::with_lines(lines, base_dir).in_object(Some(object.label.clone()));
    for (top, prefix) in prefixes {
        linter.prefix_top_level(&top, prefix);
    }
    if config.get("server").is_some() || config.get("auth").is_some() {
        let certificate = admin::lint_admin(
            &config,
            &mut linter,
            options.console_origin.as_deref(),
            settings,
        );
        if report.certificate.is_none() {
            report.certificate = certificate;
        }
    } else if config.get("admin").is_some() {
        client::lint_client(&config, &mut linter);
    }
    findings.extend(linter.into_findings());
    true
}

/// Where each line of a file starts, to look at a line without scanning the file.
struct LineStarts<'t> {
    text: &'t str,
    starts: Vec<usize>,
}

impl<'t> LineStarts<'t> {
    fn of(text: &'t str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineStarts { text, starts }
    }

    /// The character at a 1-based line and column.
    fn char_at(&self, line: usize, column: usize) -> Option<char> {
        let start = *self.starts.get(line.checked_sub(1)?)?;
        self.text[start..]
            .lines()
            .next()?
            .chars()
            .nth(column.checked_sub(1)?)
    }
}

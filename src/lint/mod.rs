//! `certready lint-config`: pre-deploy lint of what people deploy — flyteadmin's server
//! config, a flytectl client config, flyte-core and flyte-binary Helm values, and the
//! Kubernetes manifests `helm template` or `kubectl get -o yaml` print — told apart by
//! their content. Every finding names the key (and the object and container, for
//! manifests) and its line in the file.

mod admin;
mod client;
mod ingress;
mod linter;
mod manifests;
mod object;
mod options;
mod report;
mod values;
mod workloads;
pub mod yaml;

use std::io::Read;
use std::path::Path;

pub use options::LintOptions;
pub use report::{ConfigKind, LintFinding, LintReport, ObjectCounts, SecretCertificate};
pub use yaml::DocumentError;

use crate::check::Settings;
use crate::input;
use crate::report::Status;
use linter::Linter;

/// Reads the file at `path` (`-`: stdin, bounded as files are) and lints it. A file
/// that cannot be read, or is not UTF-8, gives a report with `error` set.
pub fn lint_file(path: &Path, options: &LintOptions, settings: &Settings) -> LintReport {
    let bytes = if path == Path::new("-") {
        read_stdin(path)
    } else {
        input::read_limited(path)
    };
    match bytes.and_then(|bytes| {
        String::from_utf8(bytes).map_err(|_| input::InputError::new(path, "is not UTF-8 text"))
    }) {
        Ok(text) => lint_text(path, &text, options, settings),
        Err(e) => {
            let mut report = LintReport::unknown(path);
            report.error = Some(e.to_string());
            report
        }
    }
}

fn read_stdin(path: &Path) -> Result<Vec<u8>, input::InputError> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .take(input::MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| input::InputError::new(path, format!("cannot read stdin: {e}")))?;
    if bytes.len() as u64 > input::MAX_INPUT_BYTES {
        return Err(input::InputError::new(
            path,
            format!(
                "is larger than {} MiB; certready reads at most that much",
                input::MAX_INPUT_BYTES / (1024 * 1024)
            ),
        ));
    }
    Ok(bytes)
}

/// Lints `text`; `path` names it in messages and anchors relative file paths. A single
/// document that is not a Kubernetes object is a config or values file; anything else is
/// a stream of manifests. Returns the kind, the findings (most severe first, then by
/// line), the certificates checked, and the worst status of all; `error` is set when
/// nothing could be linted.
pub fn lint_text(
    path: &Path,
    text: &str,
    options: &LintOptions,
    settings: &Settings,
) -> LintReport {
    let mut report = LintReport::unknown(path);
    let base_dir = match path.parent() {
        Some(dir) if path != Path::new("-") => dir,
        _ => Path::new("."),
    };
    let documents = yaml::parse_stream(text);
    let single = match documents.as_slice() {
        [] => {
            report.error = Some(format!("{}: is empty (no YAML document)", report.file));
            return report;
        }
        [only] => match &only.root {
            Err(e) => {
                let place = match (e.line, e.column) {
                    (Some(line), Some(column)) => format!("line {line} column {column}: "),
                    _ => String::new(),
                };
                report.error = Some(format!(
                    "{}: is not valid YAML: {place}{}",
                    report.file, e.message
                ));
                return report;
            }
            Ok(Some(root)) if !object::is_object(root) => Some(root),
            Ok(_) => None,
        },
        _ => None,
    };
    match single {
        Some(root) => {
            if let Err(why) = lint_config(root, base_dir, options, settings, &mut report) {
                report.error = Some(format!("{}: {why}", report.file));
                return report;
            }
        }
        None => {
            manifests::lint(&documents, text, base_dir, options, settings, &mut report);
            if let Some(why) = report.error.take() {
                report.error = Some(format!("{}: {why}", report.file));
                return report;
            }
        }
    }
    settle(&mut report);
    report
}

/// A config or values file: which one, told apart by its top-level keys.
fn lint_config(
    root: &yaml::Node,
    base_dir: &Path,
    options: &LintOptions,
    settings: &Settings,
    report: &mut LintReport,
) -> Result<(), String> {
    if let Some(kind) = values::kind(root) {
        report.kind = Some(kind);
        values::lint(kind, root, base_dir, options, settings, report);
        return Ok(());
    }
    if !root.is_map() {
        return Err(format!(
            "is {}, not a config, values file or Kubernetes object",
            root.type_name()
        ));
    }
    let config = root.to_json();
    let mut linter = Linter::new(root, base_dir);
    if config.get("server").is_some() || config.get("auth").is_some() {
        report.kind = Some(ConfigKind::Flyteadmin);
        report.certificate = admin::lint_admin(
            &config,
            &mut linter,
            options.console_origin.as_deref(),
            settings,
        );
    } else if config.get("admin").is_some() {
        report.kind = Some(ConfigKind::Flytectl);
        client::lint_client(&config, &mut linter);
    } else {
        return Err("is not a config certready knows: a flyteadmin config (server:, auth:), a flytectl config (admin:), flyte-core Helm values (configmap.adminServer, common.ingress), flyte-binary Helm values (configuration, deployment, ingress) or Kubernetes manifests (apiVersion, kind)".into());
    }
    report.findings = linter.into_findings();
    Ok(())
}

/// Findings most severe first, then in file order; the status is the worst of the
/// findings, the certificates checked and the documents that could not be read.
fn settle(report: &mut LintReport) {
    report.findings.sort_by_key(|f| {
        (
            std::cmp::Reverse(f.finding.severity),
            f.line.unwrap_or(usize::MAX),
        )
    });
    let mut status = Status::from_severities(report.findings.iter().map(|f| f.finding.severity));
    if let Some(cert) = &report.certificate {
        status = status.max(cert.status);
    }
    for cert in &report.certificates {
        status = status.max(cert.report.status);
    }
    if !report.document_errors.is_empty() {
        status = Status::Unknown;
    }
    report.status = status;
}

pub fn exit_code(reports: &[LintReport]) -> i32 {
    Status::worst(reports.iter().map(|r| r.status)).exit_code()
}

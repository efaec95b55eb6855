//! `certready lint-config`: pre-deploy lint of flyteadmin's server config and of a
//! flytectl client config, told apart by their keys. Every finding names the key and,
//! for block-style YAML, its line.

mod admin;
mod client;
mod linter;
mod report;

use std::path::Path;

use serde_json::Value;

pub use report::{ConfigKind, LintFinding, LintReport};

use crate::check::Settings;
use crate::input;
use crate::report::Status;
use linter::Linter;

#[derive(Debug, Default, Clone)]
pub struct LintOptions {
    pub console_origin: Option<String>,
}

/// Reads the config at `path` (flyteadmin's or flytectl's) and lints it. A file that
/// cannot be read, or is not UTF-8, gives a report with `error` set and no findings.
pub fn lint_file(path: &Path, options: &LintOptions, settings: &Settings) -> LintReport {
    match input::read_limited(path).and_then(|bytes| {
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

/// Lints config `text`; `path` names it in messages and anchors relative file paths.
/// Returns its kind, its findings (most severe first, then by line), the analysis of
/// the certificate file a flyteadmin config names, and the worst status of all; or a
/// report with `error` set when the text is empty, not YAML, or neither kind of config.
pub fn lint_text(
    path: &Path,
    text: &str,
    options: &LintOptions,
    settings: &Settings,
) -> LintReport {
    let mut report = LintReport::unknown(path);
    if text.trim().is_empty() {
        report.error = Some(format!("{}: is empty", path.display()));
        return report;
    }
    let config: Value = match serde_saphyr::from_str(text) {
        Ok(config) => config,
        Err(e) => {
            report.error = Some(format!("{}: is not valid YAML: {e}", path.display()));
            return report;
        }
    };
    let mut linter = Linter::new(text, path.parent().unwrap_or(Path::new(".")));
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
        report.error = Some(format!(
            "{}: is neither a flyteadmin config (server:, auth:) nor a flytectl config (admin:)",
            path.display()
        ));
        return report;
    }
    report.findings = linter.into_findings();
    report.status = Status::from_severities(report.findings.iter().map(|f| f.finding.severity));
    if let Some(cert) = &report.certificate {
        report.status = report.status.max(cert.status);
    }
    report
}

pub fn exit_code(reports: &[LintReport]) -> i32 {
    Status::worst(reports.iter().map(|r| r.status)).exit_code()
}

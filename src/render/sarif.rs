//! SARIF 2.1.0 for `lint-config`: what GitHub code scanning and other CI linters read.
//! Each finding is a result at its file and line, with the object and key as its logical
//! location; the certificates checked (a config's certificate file, a stream's TLS
//! Secrets) add their findings at the line that names them; whatever could not be read
//! is a tool execution notification.

use std::collections::BTreeMap;

use serde_sarif::sarif::{
    ArtifactLocation, Invocation, Location, LogicalLocation, Message, MultiformatMessageString,
    Notification, PhysicalLocation, PropertyBag, Region, ReportingConfiguration,
    ReportingDescriptor, Result as SarifResult, ResultLevel, Run, Sarif, Tool, ToolComponent,
    SCHEMA_URL,
};

use crate::findings::{Finding, FindingId, Severity};
use crate::lint::LintReport;
use crate::report::Report;

fn level(severity: Severity) -> ResultLevel {
    match severity {
        Severity::Critical => ResultLevel::Error,
        Severity::Warning => ResultLevel::Warning,
        Severity::Info => ResultLevel::Note,
    }
}

fn level_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// The file as code scanning wants it: relative, with forward slashes.
fn uri(file: &str) -> String {
    let file = file.replace('\\', "/");
    file.strip_prefix("./").unwrap_or(&file).to_string()
}

fn location(
    file: &str,
    line: Option<usize>,
    column: Option<usize>,
    logical: Option<String>,
) -> Location {
    let region = line.map(|line| {
        let region = Region::builder().start_line(line as i64);
        match column {
            Some(column) => region.start_column(column as i64).build(),
            None => region.build(),
        }
    });
    let artifact = ArtifactLocation::builder().uri(uri(file)).build();
    let physical = match region {
        Some(region) => PhysicalLocation::builder()
            .artifact_location(artifact)
            .region(region)
            .build(),
        None => PhysicalLocation::builder()
            .artifact_location(artifact)
            .build(),
    };
    match logical {
        Some(name) => Location::builder()
            .physical_location(physical)
            .logical_locations(vec![LogicalLocation::builder()
                .fully_qualified_name(name)
                .build()])
            .build(),
        None => Location::builder().physical_location(physical).build(),
    }
}

fn text(text: impl Into<String>) -> Message {
    Message::builder().text(text.into()).build()
}

fn result(finding: &Finding, message: String, location: Location) -> SarifResult {
    SarifResult::builder()
        .rule_id(finding.id.name().to_string())
        .level(level(finding.severity))
        .message(text(format!("{message} Fix: {}", finding.remediation)))
        .locations(vec![location])
        .build()
}

fn rule(id: FindingId) -> ReportingDescriptor {
    let kind = id.kind();
    let mut properties = BTreeMap::new();
    properties.insert("precision".to_string(), serde_json::json!("high"));
    ReportingDescriptor::builder()
        .id(id.name().to_string())
        .name(kind.title.to_string())
        .short_description(
            MultiformatMessageString::builder()
                .text(kind.title.to_string())
                .build(),
        )
        .full_description(
            MultiformatMessageString::builder()
                .text(kind.explanation.to_string())
                .build(),
        )
        .help(
            MultiformatMessageString::builder()
                .text(kind.remediation.to_string())
                .build(),
        )
        .default_configuration(
            ReportingConfiguration::builder()
                .level(serde_json::json!(level_name(kind.severity)))
                .build(),
        )
        .properties(
            PropertyBag::builder()
                .tags(vec!["security".to_string(), "tls".to_string()])
                .additional_properties(properties)
                .build(),
        )
        .build()
}

fn notification(message: String, location: Option<Location>) -> Notification {
    let builder = Notification::builder()
        .message(text(message))
        .level(serde_json::json!("error"));
    match location {
        Some(location) => builder.locations(vec![location]).build(),
        None => builder.build(),
    }
}

/// A certificate report's findings (and its error) at `line` of `file`.
fn certificate_results(
    file: &str,
    line: Option<usize>,
    what: &str,
    report: &Report,
    results: &mut Vec<SarifResult>,
    notifications: &mut Vec<Notification>,
) {
    if let Some(error) = &report.error {
        notifications.push(notification(
            format!("{what}: {error}"),
            Some(location(file, line, None, Some(what.to_string()))),
        ));
    }
    for finding in &report.findings {
        results.push(result(
            finding,
            format!("{what}: {}", finding.message),
            location(file, line, None, Some(what.to_string())),
        ));
    }
}

pub fn render_lint(reports: &[LintReport]) -> String {
    let mut results = Vec::new();
    let mut notifications = Vec::new();
    for report in reports {
        if let Some(error) = &report.error {
            notifications.push(notification(
                error.clone(),
                Some(location(&report.file, None, None, None)),
            ));
        }
        for error in &report.document_errors {
            notifications.push(notification(
                error.to_string(),
                Some(location(&report.file, error.line, error.column, None)),
            ));
        }
        for lint in &report.findings {
            let logical = match (&lint.object, &lint.key) {
                (Some(object), Some(key)) => Some(format!("{object}/{key}")),
                (Some(object), None) => Some(object.clone()),
                (None, key) => key.clone(),
            };
            let mut message = lint.finding.message.clone();
            match (&lint.object, &lint.container) {
                (Some(object), Some(container)) => {
                    message = format!("{object}, container {container}: {message}")
                }
                (Some(object), None) => message = format!("{object}: {message}"),
                _ => {}
            }
            results.push(result(
                &lint.finding,
                message,
                location(&report.file, lint.line, None, logical),
            ));
        }
        if let Some(cert) = &report.certificate {
            let line = report
                .findings
                .iter()
                .find(|f| {
                    f.key
                        .as_deref()
                        .is_some_and(|k| k.ends_with("ssl.certificateFile"))
                })
                .and_then(|f| f.line);
            let role = cert.role.clone().unwrap_or_else(|| cert.target.clone());
            certificate_results(
                &report.file,
                line,
                &role,
                cert,
                &mut results,
                &mut notifications,
            );
        }
        for cert in &report.certificates {
            let what = match &cert.host {
                Some(host) => format!("{} for {host}", cert.object),
                None => cert.object.clone(),
            };
            certificate_results(
                &report.file,
                cert.line,
                &what,
                &cert.report,
                &mut results,
                &mut notifications,
            );
        }
    }
    let mut ids: Vec<FindingId> = Vec::new();
    let mut collect = |finding: &Finding| {
        if !ids.contains(&finding.id) {
            ids.push(finding.id);
        }
    };
    for report in reports {
        report.findings.iter().for_each(|l| collect(&l.finding));
        report
            .certificate
            .iter()
            .flat_map(|c| &c.findings)
            .for_each(&mut collect);
        report
            .certificates
            .iter()
            .flat_map(|c| &c.report.findings)
            .for_each(&mut collect);
    }
    ids.sort();
    let driver = ToolComponent::builder()
        .name("certready".to_string())
        .version(env!("CARGO_PKG_VERSION").to_string())
        .semantic_version(env!("CARGO_PKG_VERSION").to_string())
        .rules(ids.into_iter().map(rule).collect::<Vec<_>>())
        .build();
    let invocation = Invocation::builder()
        .execution_successful(notifications.is_empty())
        .tool_execution_notifications(notifications)
        .build();
    let run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .results(results)
        .invocations(vec![invocation])
        .build();
    let sarif = Sarif::builder()
        .schema(SCHEMA_URL.to_string())
        .version(serde_json::json!("2.1.0"))
        .runs(vec![run])
        .build();
    serde_json::to_string_pretty(&sarif).unwrap_or_default() + "\n"
}

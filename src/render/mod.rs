//! Rendering: reports in, text out. Renderers only render; what is said was decided in
//! the report. One dispatch per kind of run picks the format; output goes to stdout
//! (through anstream, which drops colour where it does not belong); `stream` writes
//! `check`'s many reports as they come.

pub mod json;
pub mod markdown;
pub mod metrics;
pub mod sarif;
pub mod stream;
pub mod text;

use crate::flyte::FlyteRun;
use crate::lint::LintReport;
use crate::report::{Report, Summary};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Prometheus,
    Markdown,
    /// SARIF 2.1.0; `lint-config` only.
    Sarif,
}

impl Format {
    pub const ALL: &'static [Format] = &[
        Format::Text,
        Format::Json,
        Format::Prometheus,
        Format::Markdown,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "json",
            Format::Prometheus => "prometheus",
            Format::Markdown => "markdown",
            Format::Sarif => "sarif",
        }
    }

    pub fn help(self) -> &'static str {
        match self {
            Format::Text => "For a terminal: 80 columns, colour on severities only",
            Format::Json => "One document with every fact (schema: docs/json-schema.md)",
            Format::Prometheus => "Prometheus/OpenMetrics text (check, inspect, flyte, demo)",
            Format::Markdown => {
                "A Markdown report to paste into an incident ticket or a pull request"
            }
            Format::Sarif => "SARIF 2.1.0, for GitHub code scanning and other CI linters",
        }
    }
}

/// `check` and `inspect`: the reports, and for several targets a summary line.
pub fn reports(reports: &[Report], format: Format, now: i64) -> String {
    match format {
        // Offered only by lint-config; anything else asking for SARIF gets JSON.
        Format::Json | Format::Sarif => json::reports(reports) + "\n",
        Format::Prometheus => metrics::render(reports),
        Format::Markdown => markdown::render_reports(reports, now),
        Format::Text => {
            let mut text = text::render_text(reports, now);
            if reports.len() > 1 {
                text.push_str(&summary_line(reports.len(), &Summary::of(reports)));
            }
            text
        }
    }
}

/// The text format's last line for several targets.
fn summary_line(targets: usize, s: &Summary) -> String {
    format!(
        "\nSummary: {targets} targets — {} ok, {} warning, {} critical, {} unknown\n",
        s.ok, s.warning, s.critical, s.unknown
    )
}

/// `flyte`: the login path, then each host's report.
pub fn flyte(run: &FlyteRun, format: Format, now: i64) -> String {
    match format {
        Format::Json | Format::Sarif => {
            json::document(serde_json::json!({ "reports": run.reports, "flyte": run.summary }))
        }
        Format::Prometheus => metrics::render(&run.reports),
        Format::Markdown => markdown::render_flyte(run, now),
        Format::Text => text::render_flyte(run, now),
    }
}

/// `lint-config`: each file with its findings. Has no metrics: the caller refuses
/// `Format::Prometheus`, which renders as text here.
pub fn lint(reports: &[LintReport], format: Format, now: i64) -> String {
    match format {
        Format::Json => json::document(serde_json::json!({ "configs": reports })),
        Format::Sarif => sarif::render_lint(reports),
        Format::Markdown => markdown::render_lint(reports, now),
        Format::Text | Format::Prometheus => text::render_lint(reports, now),
    }
}

/// `why`: what a pasted error text means. Has no metrics: the caller refuses
/// `Format::Prometheus`, which renders as text here.
pub fn why(report: &crate::why::WhyReport, format: Format) -> String {
    match format {
        Format::Json | Format::Sarif => json::document(serde_json::json!({
            "input": report.input,
            "recognised": report.recognised,
            "closest": report.closest,
        })),
        Format::Markdown => markdown::render_why(report),
        Format::Text | Format::Prometheus => text::render_why(report),
    }
}

/// Writes through anstream, which drops colour off terminals and under NO_COLOR.
/// JSON, Prometheus and Markdown never carry colour, so they skip the scan for escape codes.
/// Write errors (a closed pipe: `| head`) are ignored, as the reader has gone.
pub fn write_stdout(format: Format, text: &str) {
    use std::io::Write;
    if format == Format::Text {
        let mut stdout = anstream::stdout();
        let _ = stdout.write_all(text.as_bytes());
        let _ = stdout.flush();
    } else {
        write_plain(text);
    }
}

/// Text without colour to stdout; a closed pipe is not an error.
pub fn write_plain(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

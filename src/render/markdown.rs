//! Markdown rendering (`--format markdown`): a report to paste into an incident ticket or
//! a pull request — the verdict first, then tables of the chain, trust and client
//! verdicts, the findings, and the fix. GitHub-flavoured: pipe tables, no HTML.

use std::fmt::Write;

use crate::chain::CertInfo;
use crate::findings::Finding;
use crate::flyte::FlyteRun;
use crate::lint::LintReport;
use crate::render::text::{
    auth_summary, cert_key, cert_names, cert_tags, cert_validity, trust_text, verdict_summary,
};
use crate::report::{Report, Status, Summary};

/// Text safe inside a table cell: pipes escaped, line breaks folded.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// Inline code, unless the text itself holds a backtick (then plain, escaped).
fn code(text: &str) -> String {
    if text.contains('`') {
        cell(text)
    } else {
        format!("`{}`", text.replace('|', "\\|").replace('\n', " "))
    }
}

fn timestamp(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute] UTC"
            ))
            .ok()
        })
        .unwrap_or_else(|| unix.to_string())
}

/// `check` and `inspect`: one section per target, with a summary table when there are several.
pub fn render_reports(reports: &[Report], now: i64) -> String {
    if reports.len() == 1 {
        return single_report(&reports[0], now);
    }
    let worst = Status::worst(reports.iter().map(|r| r.status));
    let mut out = fleet_header(reports.len(), &Summary::of(reports), worst, now);
    for report in reports {
        out.push_str(&summary_row(report));
    }
    for report in reports {
        out.push_str(&section(report, now));
    }
    out
}

/// The whole document for one target.
pub(crate) fn single_report(report: &Report, now: i64) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# certready: {} — {}\n",
        report.target,
        report.status.label()
    );
    let _ = writeln!(out, "Checked {}.\n", timestamp(now));
    render_report_body(&mut out, report, now, "##");
    out
}

/// Several targets: the title, the counts and the summary table's head; the table's rows
/// (`summary_row`) and the sections (`section`) follow.
pub(crate) fn fleet_header(targets: usize, summary: &Summary, worst: Status, now: i64) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# certready: {} targets — {}\n",
        targets,
        worst.label()
    );
    let _ = writeln!(
        out,
        "Checked {}: {} ok, {} warning, {} critical, {} unknown.\n",
        timestamp(now),
        summary.ok,
        summary.warning,
        summary.critical,
        summary.unknown
    );
    let _ = writeln!(out, "| Target | Status | Verdict |");
    let _ = writeln!(out, "|---|---|---|");
    out
}

/// One target's row of the summary table.
pub(crate) fn summary_row(report: &Report) -> String {
    format!(
        "| {} | {} | {} |\n",
        cell(&report.target),
        report.status.label(),
        cell(&verdict_summary(report))
    )
}

/// One target's section, when there are several.
pub(crate) fn section(report: &Report, now: i64) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "\n## {} — {}\n", report.target, report.status.label());
    render_report_body(&mut out, report, now, "###");
    out
}

/// One report under a heading the caller wrote; `level` is the heading mark of its sections.
pub(crate) fn render_report_body(out: &mut String, report: &Report, now: i64, level: &str) {
    let _ = writeln!(
        out,
        "**Verdict: {}** — {}\n",
        report.status.label(),
        verdict_summary(report)
    );
    if let Some(tls) = &report.tls {
        let mut facts = Vec::new();
        if let Some(address) = &report.address {
            facts.push(format!("`{address}`"));
        }
        facts.push(tls.version.clone());
        facts.push(tls.cipher.clone());
        facts.push(match &tls.alpn {
            Some(alpn) => format!("ALPN {alpn}"),
            None => "no ALPN".into(),
        });
        facts.push(format!("handshake {} ms", tls.handshake_ms));
        let _ = writeln!(out, "{}\n", facts.join(" · "));
    }
    if let Some(error) = &report.error {
        let label = if report.chain.is_empty() {
            "Could not check"
        } else {
            "Incomplete"
        };
        let _ = writeln!(out, "{label}: {error}\n");
    }
    if !report.chain.is_empty() {
        chain_table(out, report, now, level);
        trust_table(out, report, level);
        clients_table(out, report, level);
    }
    findings_list(out, &report.findings, level, "Findings");
    fix_list(out, report, level);
}

fn chain_table(out: &mut String, report: &Report, now: i64, level: &str) {
    let _ = writeln!(
        out,
        "{level} Chain (leaf to root; # = position as presented)\n"
    );
    let _ = writeln!(
        out,
        "| # | Subject | Issuer | Names | Valid | Key, signature | SHA-256 |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|");
    let on_path = report
        .path
        .positions
        .iter()
        .filter_map(|&p| report.chain.iter().find(|c| c.position == p));
    let off_path = report
        .chain
        .iter()
        .filter(|c| !report.path.positions.contains(&c.position));
    for cert in on_path {
        chain_row(out, cert, now, "");
    }
    let last_self_signed = report
        .path
        .positions
        .last()
        .and_then(|&p| report.chain.iter().find(|c| c.position == p))
        .is_some_and(|c| c.self_signed);
    if let (Some(anchor), Some(store), false) = (
        &report.path.anchor,
        &report.path.anchor_store,
        last_self_signed,
    ) {
        let _ = writeln!(
            out,
            "| anchor | {} | | | | | trust anchor in the {store} store |",
            cell(anchor)
        );
    } else if let Some(missing) = &report.path.missing_issuer {
        let _ = writeln!(
            out,
            "| **missing** | {} | | | | | not sent, not a trust anchor |",
            cell(missing)
        );
    }
    for cert in off_path {
        chain_row(out, cert, now, " (not on the leaf's path)");
    }
    for cert in &report.aia_fetched {
        let note = format!(
            " (fetched from {}, not sent)",
            code(cert.url.as_deref().unwrap_or_default())
        );
        chain_row(out, cert, now, &note);
    }
    out.push('\n');
    if !report.aia_notes.is_empty() {
        let _ = writeln!(out, "AIA fetching:\n");
        for note in &report.aia_notes {
            let _ = writeln!(out, "- {}", cell(note));
        }
        out.push('\n');
    }
    let asked: Vec<_> = report
        .revocation
        .iter()
        .filter(|r| r.status != crate::revocation::RevocationStatus::Unchecked)
        .collect();
    if !asked.is_empty() {
        let _ = writeln!(out, "Revocation:\n");
        for r in asked {
            let _ = writeln!(out, "- {}", cell(&crate::render::text::revocation_line(r)));
        }
        out.push('\n');
    }
    if let Some(lines) = crate::render::text::ct_lines(report) {
        let _ = writeln!(out, "Certificate Transparency:\n");
        for line in lines {
            let _ = writeln!(out, "- {}", cell(&line));
        }
        out.push('\n');
    }
}

fn chain_row(out: &mut String, cert: &CertInfo, now: i64, note: &str) {
    let tags = cert_tags(cert);
    let tags = if tags.is_empty() {
        String::new()
    } else {
        format!(" [{}]", tags.join(", "))
    };
    let issuer = if cert.self_signed {
        "(itself)".to_string()
    } else {
        cell(&cert.issuer)
    };
    let _ = writeln!(
        out,
        "| {} | {}{tags}{note} | {issuer} | {} | {} | {} | `{}` |",
        cert.position,
        cell(&cert.subject),
        cell(&cert_names(cert)),
        cert_validity(cert, now),
        cell(&cert_key(cert)),
        cert.sha256
    );
}

fn trust_table(out: &mut String, report: &Report, level: &str) {
    if report.trust.is_empty() {
        return;
    }
    let _ = writeln!(out, "{level} Trust\n");
    let _ = writeln!(out, "| Store | Verdict |");
    let _ = writeln!(out, "|---|---|");
    for verdict in &report.trust {
        let text = trust_text(verdict);
        let _ = writeln!(out, "| {} | {} |", verdict.store.name(), cell(&text));
    }
    out.push('\n');
}

fn clients_table(out: &mut String, report: &Report, level: &str) {
    if report.clients.is_empty() {
        return;
    }
    let _ = writeln!(out, "{level} Clients (predicted)\n");
    let _ = writeln!(out, "| Client | Channel | Verdict | What it says |");
    let _ = writeln!(out, "|---|---|---|---|");
    let mut notes = Vec::new();
    for verdict in &report.clients {
        let word = if verdict.accepts {
            "accepts"
        } else {
            "**refuses**"
        };
        let error = verdict.error.as_deref().map(code).unwrap_or_default();
        let _ = writeln!(
            out,
            "| {} | {} | {word} | {error} |",
            verdict.client.name(),
            verdict.channel.name()
        );
        if let Some(note) = &verdict.note {
            notes.push(format!(
                "{} {}: {note}",
                verdict.client.name(),
                verdict.channel.name()
            ));
        }
    }
    out.push('\n');
    for note in notes {
        let _ = writeln!(out, "- Note, {note}");
    }
    if !report.clients.iter().all(|v| v.note.is_none()) {
        out.push('\n');
    }
}

fn findings_list(out: &mut String, findings: &[Finding], level: &str, heading: &str) {
    if findings.is_empty() {
        return;
    }
    let _ = writeln!(out, "{level} {heading}\n");
    for finding in findings {
        let position = finding
            .certificate
            .map(|p| format!(" (certificate #{p})"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "- **{}** `{}`{position}: {}",
            finding.severity.name().to_uppercase(),
            finding.id,
            finding.message.replace('\n', " ")
        );
        block_text(out, "  ", &format!("Fix: {}", finding.remediation));
    }
    out.push('\n');
}

/// Prose lines as they are; lines indented by two spaces (commands, YAML) as a code block.
fn block_text(out: &mut String, indent: &str, text: &str) {
    let mut in_code = false;
    for line in text.lines() {
        match line.strip_prefix("  ") {
            Some(verbatim) => {
                if !in_code {
                    let _ = writeln!(out, "{indent}```");
                    in_code = true;
                }
                let _ = writeln!(out, "{indent}{verbatim}");
            }
            None => {
                if in_code {
                    let _ = writeln!(out, "{indent}```");
                    in_code = false;
                }
                let _ = writeln!(out, "{indent}{line}");
            }
        }
    }
    if in_code {
        let _ = writeln!(out, "{indent}```");
    }
}

fn fix_list(out: &mut String, report: &Report, level: &str) {
    if report.recommendations.is_empty() {
        return;
    }
    let _ = writeln!(out, "{level} The fix (most effective first)\n");
    for (i, rec) in report.recommendations.iter().enumerate() {
        let _ = writeln!(out, "{}. **{}**", i + 1, rec.title);
        block_text(out, "   ", &rec.text);
    }
    out.push('\n');
}

/// `certready flyte`: the login path, the Flyte findings, then each host.
pub fn render_flyte(run: &FlyteRun, now: i64) -> String {
    let summary = &run.summary;
    let overall = run.status();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# certready: Flyte login path for {} — {}\n",
        summary.endpoint,
        overall.label()
    );
    let _ = writeln!(out, "Checked {}.\n", timestamp(now));
    let _ = writeln!(out, "| Host | Role | Status | Verdict |");
    let _ = writeln!(out, "|---|---|---|---|");
    for report in &run.reports {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            cell(&report.target),
            cell(report.role.as_deref().unwrap_or("")),
            report.status.label(),
            cell(&verdict_summary(report))
        );
    }
    out.push('\n');
    let _ = writeln!(out, "- Auth: {}", auth_summary(&summary.auth));
    if let Some(token) = summary
        .auth
        .metadata
        .as_ref()
        .and_then(|m| m.token_endpoint.as_ref())
    {
        let _ = writeln!(out, "- Token endpoint: `{token}`");
    }
    let alpn = summary.grpc_alpn.as_deref().unwrap_or("none");
    let ready = if alpn == "h2" {
        " (ready for gRPC)"
    } else {
        ""
    };
    let _ = writeln!(out, "- ALPN: {alpn}{ready}");
    if let Some(health) = &summary.grpc_health {
        let _ = writeln!(
            out,
            "- gRPC health: {}",
            cell(&crate::flyte::grpc_health::summary(health))
        );
    }
    if let Some(cors) = &summary.cors {
        let _ = writeln!(out, "- CORS for `{}`: {}", cors.origin, cors.verdict);
    }
    out.push('\n');
    findings_list(&mut out, &summary.findings, "##", "Flyte findings");
    for report in &run.reports {
        let role = report
            .role
            .as_deref()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "## {}{role} — {}\n",
            report.target,
            report.status.label()
        );
        render_report_body(&mut out, report, now, "###");
    }
    out
}

/// `certready lint-config`: each file's findings by key and line.
pub fn render_lint(reports: &[LintReport], now: i64) -> String {
    let mut out = String::new();
    let overall = Status::worst(reports.iter().map(|r| r.status));
    let _ = writeln!(out, "# certready: config lint — {}\n", overall.label());
    for report in reports {
        let kind = report
            .kind
            .map(|k| format!(" ({})", k.description()))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "## `{}`{kind} — {}\n",
            report.file,
            report.status.label()
        );
        if let Some(error) = &report.error {
            let _ = writeln!(out, "Could not lint: {error}\n");
        }
        if let Some(objects) = &report.objects {
            let _ = writeln!(out, "{}\n", crate::render::text::objects_summary(objects));
        }
        for error in &report.document_errors {
            let _ = writeln!(out, "- **Not read:** {error}");
        }
        if !report.document_errors.is_empty() {
            out.push('\n');
        }
        if report.error.is_none() && report.findings.is_empty() {
            let _ = writeln!(out, "No problems found.\n");
        }
        if !report.findings.is_empty() {
            let with_objects = report.findings.iter().any(|l| l.object.is_some());
            if with_objects {
                let _ = writeln!(
                    out,
                    "| Severity | Finding | Line | Object | Container | Key |"
                );
                let _ = writeln!(out, "|---|---|---|---|---|---|");
            } else {
                let _ = writeln!(out, "| Severity | Finding | Line | Key |");
                let _ = writeln!(out, "|---|---|---|---|");
            }
            for lint in &report.findings {
                let object = if with_objects {
                    format!(
                        " {} | {} |",
                        lint.object.as_deref().map(code).unwrap_or_default(),
                        lint.container.as_deref().map(code).unwrap_or_default()
                    )
                } else {
                    String::new()
                };
                let _ = writeln!(
                    out,
                    "| {} | `{}` | {} |{object} {} |",
                    lint.finding.severity.name().to_uppercase(),
                    lint.finding.id,
                    lint.line.map(|l| l.to_string()).unwrap_or_default(),
                    lint.key.as_deref().map(code).unwrap_or_default()
                );
            }
            out.push('\n');
            let findings: Vec<Finding> =
                report.findings.iter().map(|l| l.finding.clone()).collect();
            findings_list(&mut out, &findings, "###", "Details");
        }
        if let Some(cert) = &report.certificate {
            let _ = writeln!(
                out,
                "### server.security.ssl.certificateFile — {}\n",
                cert.status.label()
            );
            render_report_body(&mut out, cert, now, "####");
        }
        for cert in &report.certificates {
            let host = cert
                .host
                .as_deref()
                .map(|h| format!(" for {h}"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "### {}{host} — {}\n",
                cert.object,
                cert.report.status.label()
            );
            render_report_body(&mut out, &cert.report, now, "####");
        }
    }
    out
}

/// One demo scenario: its story, the command that reproduces it, and the report.
pub fn render_scenario(
    number: usize,
    title: &str,
    story: &str,
    command: &str,
    report: &Report,
    now: i64,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## {number}. {title} — {}
",
        report.status.label()
    );
    let _ = writeln!(out, "{story}\n\n```sh\n{command}\n```\n");
    render_report_body(&mut out, report, now, "###");
    out
}

/// `why`: each recognised text with its clients, causes, what it rules out and the next
/// command; else the closest known texts.
pub fn render_why(report: &crate::why::WhyReport) -> String {
    let mut out = String::new();
    let count = report.recognised.len();
    let _ = writeln!(
        out,
        "# certready why — {}\n",
        match count {
            0 => "not recognised".to_string(),
            1 => "1 error text recognised".to_string(),
            n => format!("{n} error texts recognised"),
        }
    );
    if report.input.truncated {
        let _ = writeln!(
            out,
            "> Only the first {} KiB of the input were read; the rest was ignored.\n",
            report.input.limit_bytes / 1024
        );
    }
    for recognised in &report.recognised {
        let _ = writeln!(out, "## {}\n", code(&recognised.text));
        let _ = writeln!(out, "Known text: {}\n", code(&recognised.known_text));
        let _ = writeln!(out, "| Client | Channel | Verifier | When |");
        let _ = writeln!(out, "|---|---|---|---|");
        for client in &recognised.clients {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                client.client.name(),
                client.channel.name(),
                cell(client.verifier),
                cell(client.condition.unwrap_or("always"))
            );
        }
        out.push('\n');
        if let Some(host) = &recognised.host {
            let port = recognised
                .port
                .map(|p| format!(", port {p}"))
                .unwrap_or_default();
            let source = recognised
                .host_source
                .as_deref()
                .map(|s| format!(" ({s})"))
                .unwrap_or_default();
            let _ = writeln!(out, "**Host:** {}{port}{source}\n", code(host));
        }
        if let Some(address) = &recognised.address {
            let _ = writeln!(out, "**Address:** {}\n", code(address));
        }
        if let Some(name) = &recognised.certificate_name {
            let _ = writeln!(out, "**Certificate:** {}\n", code(name));
        }
        let _ = writeln!(out, "### Likely causes\n");
        if recognised.findings.is_empty() {
            let _ = writeln!(out, "None that certready names (see the notes).\n");
        } else {
            for (index, cause) in recognised.findings.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "{}. {} — {}",
                    index + 1,
                    code(cause.id.name()),
                    cause.title
                );
            }
            out.push('\n');
        }
        for (heading, items) in [
            ("Rules out", &recognised.rules_out),
            ("Notes", &recognised.notes),
        ] {
            if items.is_empty() {
                continue;
            }
            let _ = writeln!(out, "### {heading}\n");
            for item in items {
                match item.verifier {
                    Some(verifier) => {
                        let _ = writeln!(out, "- *If {verifier} printed it:* {}", cell(&item.text));
                    }
                    None => {
                        let _ = writeln!(out, "- {}", cell(&item.text));
                    }
                }
            }
            out.push('\n');
        }
        let _ = writeln!(out, "### Next\n");
        for step in &recognised.next {
            let _ = writeln!(out, "```sh\n{}\n```\n", step.command);
            let _ = writeln!(out, "{}\n", step.purpose);
        }
    }
    if count == 0 {
        let _ = writeln!(
            out,
            "No error text certready knows was found in the input.\n"
        );
        if !report.closest.is_empty() {
            let _ = writeln!(out, "| Similarity | Closest known text | Printed by |");
            let _ = writeln!(out, "|---|---|---|");
            for closest in &report.closest {
                let clients: Vec<String> = closest
                    .clients
                    .iter()
                    .map(|c| format!("{} {}", c.client.name(), c.channel.name()))
                    .collect();
                let _ = writeln!(
                    out,
                    "| {:.0}% | {} | {} |",
                    closest.similarity * 100.0,
                    code(&closest.known_text),
                    cell(&clients.join(", "))
                );
            }
            out.push('\n');
        }
    }
    out
}

//! Text rendering of reports: the chain as a tree, trust per store, findings by
//! severity with their fixes, and a one-line verdict. Colour marks severity only;
//! the caller's stream (anstream) strips it off terminals and under NO_COLOR.

use std::fmt::Write;

use anstyle::{AnsiColor, Style};

use crate::chain::CertInfo;
use crate::findings::Severity;
use crate::report::{Report, Status};
use crate::rules::DAY;

const WIDTH: usize = 80;

fn severity_style(severity: Severity) -> Style {
    match severity {
        Severity::Critical => AnsiColor::Red.on_default().bold(),
        Severity::Warning => AnsiColor::Yellow.on_default().bold(),
        Severity::Info => AnsiColor::Cyan.on_default(),
    }
}

fn status_style(status: Status) -> Style {
    match status {
        Status::Ok => AnsiColor::Green.on_default().bold(),
        Status::Warning => severity_style(Severity::Warning),
        Status::Critical => severity_style(Severity::Critical),
        Status::Unknown => AnsiColor::Magenta.on_default().bold(),
    }
}

fn paint(style: Style, text: &str) -> String {
    format!("{style}{text}{style:#}")
}

/// Wraps `text` to the report width; continuation lines get `hang` extra spaces.
/// Words (dates, URLs, fingerprints) are never split.
fn wrapped_hanging(out: &mut String, indent: usize, hang: usize, text: &str) {
    let pad = " ".repeat(indent);
    let continuation = " ".repeat(indent + hang);
    let options = textwrap::Options::new(WIDTH)
        .initial_indent(&pad)
        .subsequent_indent(&continuation)
        .break_words(false)
        .word_splitter(textwrap::WordSplitter::NoHyphenation);
    for line in textwrap::wrap(text, options) {
        let _ = writeln!(out, "{line}");
    }
}

/// Wraps `text` after `prefix` (a tree branch, say); continuation lines are indented by
/// `continuation` spaces.
fn wrapped_after(out: &mut String, prefix: &str, continuation: usize, text: &str) {
    let rest = " ".repeat(continuation);
    let options = textwrap::Options::new(WIDTH)
        .initial_indent(prefix)
        .subsequent_indent(&rest)
        .break_words(false)
        .word_splitter(textwrap::WordSplitter::NoHyphenation);
    for line in textwrap::wrap(text, options) {
        let _ = writeln!(out, "{line}");
    }
}

fn wrapped(out: &mut String, indent: usize, text: &str) {
    wrapped_hanging(out, indent, 0, text);
}

fn date(rfc3339: &str) -> &str {
    rfc3339.get(..10).unwrap_or(rfc3339)
}

pub fn render_text(reports: &[Report], now: i64) -> String {
    let mut out = String::new();
    for (i, report) in reports.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        render_report(&mut out, report, now);
    }
    out
}

/// `certready flyte`: the login path at a glance, the Flyte findings, then each host.
pub fn render_flyte(run: &crate::flyte::FlyteRun, now: i64) -> String {
    let summary = &run.summary;
    let overall = run.status();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}  {}",
        paint(
            Style::new().bold(),
            &format!("Flyte login path for {}", summary.endpoint)
        ),
        paint(status_style(overall), overall.label())
    );
    for report in &run.reports {
        wrapped_hanging(
            &mut out,
            2,
            12,
            &format!(
                "{:<9} {}  {}",
                report.status.label(),
                report.target,
                report.role.as_deref().unwrap_or("")
            ),
        );
    }
    let auth = auth_summary(&summary.auth);
    wrapped_hanging(&mut out, 2, 6, &format!("auth: {auth}"));
    if let Some(token) = summary
        .auth
        .metadata
        .as_ref()
        .and_then(|m| m.token_endpoint.as_ref())
    {
        wrapped_hanging(&mut out, 2, 6, &format!("token endpoint: {token}"));
    }
    let alpn = summary.grpc_alpn.clone().unwrap_or_else(|| "none".into());
    let ready = if alpn == "h2" {
        " (ready for gRPC)"
    } else {
        ""
    };
    wrapped(&mut out, 2, &format!("ALPN: {alpn}{ready}"));
    if let Some(health) = &summary.grpc_health {
        wrapped_hanging(
            &mut out,
            2,
            13,
            &format!(
                "gRPC health: {}",
                crate::flyte::grpc_health::summary(health)
            ),
        );
    }
    if let Some(cors) = &summary.cors {
        wrapped(
            &mut out,
            2,
            &format!("CORS for {}: {}", cors.origin, cors.verdict),
        );
    }
    if !summary.findings.is_empty() {
        let _ = writeln!(out, "\n  Flyte findings");
        for finding in &summary.findings {
            let label = finding.severity.name().to_uppercase();
            let _ = writeln!(
                out,
                "    {} {}",
                paint(severity_style(finding.severity), &label),
                finding.id
            );
            wrapped(&mut out, 6, &finding.message);
            let pad = verbatim_pad(&finding.remediation);
            for (i, line) in finding.remediation.lines().enumerate() {
                match line.strip_prefix("  ") {
                    Some(verbatim) => {
                        let _ = writeln!(out, "{pad}{verbatim}");
                    }
                    None if i == 0 => wrapped(&mut out, 6, &format!("fix: {line}")),
                    None => wrapped(&mut out, 6, line),
                }
            }
        }
    }
    for report in &run.reports {
        out.push('\n');
        if let Some(role) = &report.role {
            wrapped(&mut out, 0, &format!("── {role} ──"));
        }
        render_report(&mut out, report, now);
    }
    out
}

/// `certready lint-config`: each file with its findings by key and line.
pub fn render_lint(reports: &[crate::lint::LintReport], now: i64) -> String {
    let mut out = String::new();
    for (i, report) in reports.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let kind = report
            .kind
            .map(|k| format!("  ({})", k.description()))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{}{kind}  {}",
            paint(Style::new().bold(), &report.file),
            paint(status_style(report.status), report.status.label())
        );
        if let Some(error) = &report.error {
            wrapped(&mut out, 2, &format!("could not lint: {error}"));
        }
        if let Some(objects) = &report.objects {
            wrapped(&mut out, 2, &objects_summary(objects));
        }
        for error in &report.document_errors {
            wrapped(&mut out, 2, &format!("not read: {error}"));
        }
        for lint in &report.findings {
            let finding = &lint.finding;
            let place = match (&lint.key, lint.line) {
                (Some(key), Some(line)) => format!(" line {line}: {key}"),
                (Some(key), None) => format!(" {key}"),
                _ => String::new(),
            };
            let place = match (&lint.object, &lint.container) {
                (Some(object), Some(container)) => {
                    format!("{place} ({object}, container {container})")
                }
                (Some(object), None) => format!("{place} ({object})"),
                _ => place,
            };
            let label = finding.severity.name().to_uppercase();
            // textwrap measures without the colour codes; long dotted keys wrap under the id.
            wrapped_hanging(
                &mut out,
                2,
                label.len() + 1,
                &format!(
                    "{} {}{place}",
                    paint(severity_style(finding.severity), &label),
                    finding.id
                ),
            );
            wrapped(&mut out, 4, &finding.message);
            wrapped(&mut out, 4, &format!("fix: {}", finding.remediation));
        }
        if report.error.is_none() && report.findings.is_empty() {
            let _ = writeln!(out, "  no problems found");
        }
        if let Some(cert) = &report.certificate {
            out.push('\n');
            let _ = writeln!(out, "── server.security.ssl.certificateFile ──");
            render_report(&mut out, cert, now);
        }
        for cert in &report.certificates {
            out.push('\n');
            let host = cert
                .host
                .as_deref()
                .map(|h| format!(" for {h}"))
                .unwrap_or_default();
            let _ = writeln!(out, "── {}{host} ──", cert.object);
            render_report(&mut out, &cert.report, now);
        }
    }
    out
}

/// "Read 12 objects in 14 documents: 4 Deployment, 2 Ingress, …; skipped 3 ServiceAccount."
pub(crate) fn objects_summary(objects: &crate::lint::ObjectCounts) -> String {
    let list = |counts: &std::collections::BTreeMap<String, usize>| {
        counts
            .iter()
            .map(|(kind, n)| format!("{n} {kind}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let linted: usize = objects.linted.values().sum();
    let mut text = format!(
        "Linted {linted} object{} in {} document{}",
        if linted == 1 { "" } else { "s" },
        objects.documents,
        if objects.documents == 1 { "" } else { "s" }
    );
    if !objects.linted.is_empty() {
        text.push_str(&format!(": {}", list(&objects.linted)));
    }
    if !objects.skipped.is_empty() {
        text.push_str(&format!("; skipped {}", list(&objects.skipped)));
    }
    text.push('.');
    text
}

/// Whether the login uses OAuth and which authorization server, in words.
pub(crate) fn auth_summary(auth: &crate::flyte::AuthSummary) -> String {
    use crate::flyte::AuthState;
    match (&auth.state, &auth.server) {
        (AuthState::On, Some(server)) => format!("on, {server} authorization server"),
        (AuthState::On, None) => "on".to_string(),
        (AuthState::Off, _) => "off (no OAuth host involved)".to_string(),
        (AuthState::Unknown, _) => format!("unknown: {}", auth.error.clone().unwrap_or_default()),
    }
}

pub(crate) fn render_report(out: &mut String, report: &Report, now: i64) {
    // The handshake time ends the header line, so the lines below never change shape
    // with the timing.
    let timing = report
        .tls
        .as_ref()
        .map(|tls| format!("  (handshake {} ms)", tls.handshake_ms))
        .unwrap_or_default();
    wrapped_hanging(
        out,
        0,
        2,
        &format!(
            "{}  {}{timing}",
            paint(Style::new().bold(), &report.target),
            paint(status_style(report.status), report.status.label())
        ),
    );
    if let Some(tls) = &report.tls {
        let mut facts = Vec::new();
        if let Some(address) = &report.address {
            facts.push(address.clone());
        }
        facts.push(tls.version.clone());
        facts.push(tls.cipher.clone());
        facts.push(match &tls.alpn {
            Some(alpn) => format!("ALPN {alpn}"),
            None => "no ALPN".into(),
        });
        wrapped(out, 2, &facts.join(" · "));
    }
    if let Some(error) = &report.error {
        let label = if report.chain.is_empty() {
            "could not check: "
        } else {
            "incomplete: "
        };
        wrapped(out, 2, &format!("{label}{error}"));
    }
    if !report.chain.is_empty() {
        render_chain(out, report, now);
        render_trust(out, report);
        render_revocation(out, report);
        render_ct(out, report);
        render_clients(out, report);
    }
    render_findings(out, report);
    render_recommendations(out, report);
    render_verdict(out, report);
}

/// One line per certificate whose revocation was learnt or asked about.
fn render_revocation(out: &mut String, report: &Report) {
    let asked: Vec<_> = report
        .revocation
        .iter()
        .filter(|r| r.status != crate::revocation::RevocationStatus::Unchecked)
        .collect();
    if asked.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n  Revocation");
    for r in asked {
        wrapped_hanging(out, 4, 2, &revocation_line(r));
    }
}

/// The leaf's Certificate Transparency, when it has SCTs or a public root requires them.
fn render_ct(out: &mut String, report: &Report) {
    let Some(lines) = ct_lines(report) else {
        return;
    };
    let _ = writeln!(out, "\n  Certificate Transparency");
    for line in lines {
        wrapped_hanging(out, 4, 2, &line);
    }
}

/// "#0 3 SCTs, 3 valid, checked against the embedded Chrome all_logs_list 85.52 (…), for
/// Apple against the embedded Apple current_log_list 511 (…)", then one line per
/// policy: "Chrome: compliant — …"; None when there is nothing to say (a private chain
/// without SCTs).
pub(crate) fn ct_lines(report: &Report) -> Option<Vec<String>> {
    let ct = report.ct.as_ref()?;
    if !ct.required && ct.scts.is_empty() {
        return None;
    }
    let stale = |current| {
        if current {
            ""
        } else {
            " (over 70 days older than the instant judged)"
        }
    };
    let apple_list = if ct.apple_log_list == ct.log_list {
        String::new()
    } else {
        format!(
            ", for Apple against the {}{}",
            ct.apple_log_list,
            stale(ct.apple_log_list_current)
        )
    };
    let mut lines = vec![format!(
        "#{} {} SCT{}, {} valid, checked against the {}{}{apple_list}{}",
        ct.position,
        ct.scts.len(),
        if ct.scts.len() == 1 { "" } else { "s" },
        ct.valid_scts,
        ct.log_list,
        stale(ct.log_list_current),
        if ct.required {
            ""
        } else {
            "; not required: the chain is not anchored in a public root"
        }
    )];
    if let Some(note) = &ct.tls_extension_note {
        lines.push(format!("SCTs in the TLS extension not seen: {note}"));
    }
    if ct.required {
        for (who, policy) in [("Chrome", &ct.chrome), ("Apple", &ct.apple)] {
            let verdict = match policy.compliance {
                crate::ct::Compliance::Compliant => "meets its policy",
                crate::ct::Compliance::NotCompliant => "fails its policy",
                crate::ct::Compliance::Undetermined => "cannot be judged",
            };
            lines.push(format!("{who}: {verdict}: {}", policy.reason));
        }
    }
    Some(lines)
}

/// "#0 revoked (keyCompromise, 2026-11-01T00:00:00Z) by the OCSP response the server
/// stapled", "#1 good by the issuer's CRL", "#0 unknown: …".
pub(crate) fn revocation_line(r: &crate::revocation::CertRevocation) -> String {
    use crate::revocation::RevocationStatus;
    let source = r
        .source
        .map(|s| format!(" by {}", s.words()))
        .unwrap_or_default();
    match r.status {
        RevocationStatus::Revoked => {
            let details: Vec<&str> = [r.reason.as_deref(), r.revoked_at.as_deref()]
                .into_iter()
                .flatten()
                .collect();
            let details = if details.is_empty() {
                String::new()
            } else {
                format!(" ({})", details.join(", "))
            };
            format!("#{} REVOKED{details}{source}", r.position)
        }
        RevocationStatus::Good => {
            let next = [&r.stapled, &r.ocsp]
                .into_iter()
                .flatten()
                .filter_map(|a| a.next_update.clone())
                .chain(r.crl.iter().filter_map(|c| c.next_update.clone()))
                .next()
                .map(|n| format!(", next update {n}"))
                .unwrap_or_default();
            format!("#{} good{source}{next}", r.position)
        }
        RevocationStatus::Unknown => {
            let why: Vec<String> = [&r.stapled, &r.ocsp]
                .into_iter()
                .flatten()
                .filter_map(|a| a.error.clone())
                .chain(r.crl.iter().filter_map(|c| c.error.clone()))
                .collect();
            format!("#{} unknown: {}", r.position, why.join("; "))
        }
        RevocationStatus::Unchecked => format!("#{} not checked", r.position),
    }
}

fn render_chain(out: &mut String, report: &Report, now: i64) {
    let _ = writeln!(out, "\n  Chain (leaf to root; #n = position as presented)");
    let by_position = |p: usize| report.chain.iter().find(|c| c.position == p);
    let mut depth = 0;
    for &position in &report.path.positions {
        if let Some(cert) = by_position(position) {
            render_cert(out, cert, depth, now);
            depth += 1;
        }
    }
    let last_self_signed = report
        .path
        .positions
        .last()
        .and_then(|&p| by_position(p))
        .is_some_and(|c| c.self_signed);
    let branch = format!("{}└─ ", "   ".repeat(depth.saturating_sub(1)) + "  ");
    if let (Some(anchor), Some(store), false) = (
        &report.path.anchor,
        &report.path.anchor_store,
        last_self_signed,
    ) {
        let hang = branch.chars().count();
        wrapped_after(
            out,
            &branch,
            hang,
            &format!("{anchor}  [trust anchor, {store} store]"),
        );
    } else if let Some(missing) = &report.path.missing_issuer {
        let hang = branch.chars().count();
        wrapped_after(
            out,
            &branch,
            hang,
            &format!(
                "{}  {missing}  (not sent, not a trust anchor)",
                paint(severity_style(Severity::Critical), "MISSING")
            ),
        );
    }
    let others: Vec<&CertInfo> = report
        .chain
        .iter()
        .filter(|c| !report.path.positions.contains(&c.position))
        .collect();
    if !others.is_empty() {
        let _ = writeln!(out, "  Also presented, not on the leaf's path:");
        for cert in others {
            render_cert(out, cert, 0, now);
        }
    }
    render_aia(out, report, now);
}

/// What the AIA step fetched, from where, and what it could not.
fn render_aia(out: &mut String, report: &Report, now: i64) {
    if !report.aia_fetched.is_empty() {
        wrapped_hanging(
            out,
            2,
            2,
            "Fetched via AIA, not sent (browsers and macOS fetch it; Go, OpenSSL do not):",
        );
        for cert in &report.aia_fetched {
            render_cert(out, cert, 0, now);
        }
    }
    if !report.aia_notes.is_empty() {
        let _ = writeln!(out, "  AIA fetching:");
        for note in &report.aia_notes {
            wrapped_hanging(out, 4, 2, note);
        }
    }
}

/// "self-signed", "CA": what kind of certificate it is.
pub(crate) fn cert_tags(cert: &CertInfo) -> Vec<&'static str> {
    let mut tags = Vec::new();
    if cert.self_signed {
        tags.push("self-signed");
    }
    if cert.is_ca {
        tags.push("CA");
    }
    tags
}

/// The names it covers, the first six and a count of the rest.
pub(crate) fn cert_names(cert: &CertInfo) -> String {
    let names: Vec<&str> = cert
        .dns_names
        .iter()
        .chain(&cert.ip_addresses)
        .map(String::as_str)
        .collect();
    if names.is_empty() {
        "(no subjectAltName)".to_string()
    } else if names.len() > 6 {
        format!("{} … (+{} more)", names[..6].join(", "), names.len() - 6)
    } else {
        names.join(", ")
    }
}

/// "2026-11-26 → 2036-11-23 (3650 days; 3648 days left)".
pub(crate) fn cert_validity(cert: &CertInfo, now: i64) -> String {
    let lifetime_days = (cert.facts.not_after - cert.facts.not_before) / DAY;
    let remaining = cert.facts.not_after - now;
    let left = if remaining < 0 {
        format!("expired {} days ago", -remaining / DAY)
    } else {
        format!("{} days left", remaining / DAY)
    };
    format!(
        "{} → {} ({lifetime_days} days; {left})",
        date(&cert.not_before),
        date(&cert.not_after)
    )
}

/// Key, signature algorithm and extended key usage.
pub(crate) fn cert_key(cert: &CertInfo) -> String {
    let mut key = format!("{}, {}", cert.key, cert.signature_algorithm);
    if let Some(eku) = &cert.extended_key_usage {
        key.push_str(&format!(", EKU {}", eku.join("+")));
    }
    key
}

/// One store's verdict in words.
pub(crate) fn trust_text(verdict: &crate::trust::TrustVerdict) -> String {
    if !verdict.trusted {
        format!("NOT trusted: {}", verdict.error.clone().unwrap_or_default())
    } else if verdict.leaf_is_anchor {
        "trusted (the certificate itself is a trust anchor)".to_string()
    } else {
        format!(
            "trusted, anchor {}",
            verdict.anchor.clone().unwrap_or_default()
        )
    }
}

fn render_cert(out: &mut String, cert: &CertInfo, depth: usize, now: i64) {
    let indent = 2 + depth * 3;
    let prefix = if depth == 0 { "" } else { "└─ " };
    let tags = cert_tags(cert);
    let tags = if tags.is_empty() {
        String::new()
    } else {
        format!("  [{}]", tags.join(", "))
    };
    let pad = " ".repeat(indent.saturating_sub(if depth == 0 { 0 } else { 3 }));
    let body = indent + 3;
    wrapped_after(
        out,
        &format!("{pad}{prefix}"),
        body,
        &format!("#{} {}{tags}", cert.position, cert.subject),
    );
    let field = |out: &mut String, name: &str, value: &str| {
        wrapped_hanging(out, body, 9, &format!("{name:<8} {value}"));
    };
    if let Some(url) = &cert.url {
        field(out, "from", url);
    }
    if !cert.self_signed {
        field(out, "issuer", &cert.issuer);
    }
    let has_names = !cert.dns_names.is_empty() || !cert.ip_addresses.is_empty();
    if depth == 0 || !cert.is_ca || has_names {
        field(out, "names", &cert_names(cert));
    }
    field(out, "valid", &cert_validity(cert, now));
    field(out, "key", &cert_key(cert));
    if !cert.ca_issuers_urls.is_empty() {
        field(out, "aia", &cert.ca_issuers_urls.join(", "));
    }
    if body + 9 + cert.sha256.len() <= WIDTH {
        field(out, "sha256", &cert.sha256);
    } else {
        // Too deep in the tree for one line: split the fingerprint in two halves.
        let (first, second) = cert.sha256.split_at(cert.sha256.len() / 2);
        field(out, "sha256", &format!("{first} {second}"));
    }
}

fn render_trust(out: &mut String, report: &Report) {
    let _ = writeln!(out, "\n  Trust");
    for verdict in &report.trust {
        let text = trust_text(verdict);
        wrapped_hanging(out, 4, 9, &format!("{:<8} {text}", verdict.store.name()));
    }
}

fn render_clients(out: &mut String, report: &Report) {
    if report.clients.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n  Clients (predicted)");
    for verdict in &report.clients {
        let (mark, word) = if verdict.accepts {
            (paint(AnsiColor::Green.on_default(), "ok"), "accepts")
        } else {
            (paint(severity_style(Severity::Critical), "NO"), "refuses")
        };
        let _ = writeln!(
            out,
            "    {mark} {:<15} {:<11} {word}",
            verdict.client.name(),
            verdict.channel.name()
        );
        if let Some(error) = &verdict.error {
            wrapped(out, 7, error);
        }
        if let Some(note) = &verdict.note {
            wrapped(out, 7, &format!("note: {note}"));
        }
    }
}

/// The indent of a text's verbatim block (its lines that start with two spaces: commands
/// and YAML): 9 columns, less when a long line would pass 80, the same for every line of
/// the block so copied YAML keeps its structure.
fn verbatim_pad(text: &str) -> String {
    let widest = text
        .lines()
        .filter_map(|line| line.strip_prefix("  "))
        .map(|line| line.chars().count())
        .max()
        .unwrap_or(0);
    " ".repeat(9.min(WIDTH.saturating_sub(widest)))
}

fn render_recommendations(out: &mut String, report: &Report) {
    if report.recommendations.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n  What to do (most effective first)");
    for (i, rec) in report.recommendations.iter().enumerate() {
        wrapped_hanging(out, 4, 3, &format!("{}. {}", i + 1, rec.title));
        let pad = verbatim_pad(&rec.text);
        for line in rec.text.lines() {
            // Indented lines are commands and YAML: keep them verbatim.
            if let Some(verbatim) = line.strip_prefix("  ") {
                let _ = writeln!(out, "{pad}{verbatim}");
            } else if line.starts_with("- ") {
                wrapped_hanging(out, 7, 2, line);
            } else {
                wrapped(out, 7, line);
            }
        }
    }
}

fn render_findings(out: &mut String, report: &Report) {
    if report.findings.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n  Findings");
    for finding in &report.findings {
        let position = finding
            .certificate
            .map(|p| format!(" (#{p})"))
            .unwrap_or_default();
        let label = finding.severity.name().to_uppercase();
        wrapped_hanging(
            out,
            4,
            label.len() + 1,
            &format!(
                "{} {}{position}",
                paint(severity_style(finding.severity), &label),
                finding.id
            ),
        );
        wrapped(out, 6, &finding.message);
        wrapped(out, 6, &format!("fix: {}", finding.remediation));
    }
}

fn render_verdict(out: &mut String, report: &Report) {
    out.push('\n');
    wrapped_hanging(
        out,
        2,
        9,
        &format!(
            "Verdict: {} — {}",
            paint(status_style(report.status), report.status.label()),
            verdict_summary(report)
        ),
    );
}

/// The verdict in words: finding counts by severity and the first one to fix.
pub(crate) fn verdict_summary(report: &Report) -> String {
    let count = |severity: Severity| {
        report
            .findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    };
    match report.status {
        Status::Unknown if report.chain.is_empty() => {
            "the check could not be completed".to_string()
        }
        Status::Unknown => "the check could not be completed in full".to_string(),
        Status::Ok if report.trusted() => "the certificate is valid and trusted".to_string(),
        _ => {
            let mut parts = Vec::new();
            for (severity, one, many) in [
                (Severity::Critical, "critical", "critical"),
                (Severity::Warning, "warning", "warnings"),
                (Severity::Info, "info", "info"),
            ] {
                match count(severity) {
                    0 => {}
                    1 => parts.push(format!("1 {one}")),
                    n => parts.push(format!("{n} {many}")),
                }
            }
            let mut text = parts.join(", ");
            if let Some(first) = report
                .findings
                .iter()
                .find(|f| f.severity == Severity::Critical)
            {
                text.push_str(&format!("; first to fix: {}", first.id));
            }
            let refusing: Vec<String> = report
                .clients
                .iter()
                .filter(|v| !v.accepts)
                .map(|v| format!("{} {}", v.client.name(), v.channel.name()))
                .collect();
            if !refusing.is_empty() {
                text.push_str(&format!("; refused by {}", refusing.join(", ")));
            }
            text
        }
    }
}

/// `why`: each recognised text with who printed it, its likely causes, what it rules out
/// and the next command; else the closest known texts.
pub fn render_why(report: &crate::why::WhyReport) -> String {
    let mut out = String::new();
    let count = report.recognised.len();
    if count == 0 {
        let _ = writeln!(
            out,
            "{}: no error text certready knows was found in the input.",
            paint(status_style(Status::Unknown), "UNKNOWN")
        );
    } else {
        let _ = writeln!(
            out,
            "Recognised {count} error text{}.",
            if count == 1 { "" } else { "s" }
        );
    }
    if report.input.truncated {
        wrapped(
            &mut out,
            0,
            &format!(
                "note: only the first {} KiB of the input were read; the rest was ignored.",
                report.input.limit_bytes / 1024
            ),
        );
    }
    for recognised in &report.recognised {
        render_recognised(&mut out, recognised);
    }
    if count == 0 {
        if !report.closest.is_empty() {
            let _ = writeln!(out, "\nClosest known texts:");
            for closest in &report.closest {
                wrapped_hanging(
                    &mut out,
                    2,
                    6,
                    &format!(
                        "{:>3.0}%  {}",
                        closest.similarity * 100.0,
                        closest.known_text
                    ),
                );
                wrapped(&mut out, 8, &format!("({})", printed_by(&closest.clients)));
            }
        }
        out.push('\n');
        wrapped(
            &mut out,
            0,
            "Paste the whole line the client printed. certready knows the texts of flytectl (Go, and Apple's trustd on macOS), pyflyte (grpcio, requests) and Chrome.",
        );
    }
    out
}

fn printed_by(clients: &[crate::why::PrintedBy]) -> String {
    let names: Vec<String> = clients
        .iter()
        .map(|c| format!("{} {}", c.client.name(), c.channel.name()))
        .collect();
    names.join(", ")
}

fn render_recognised(out: &mut String, recognised: &crate::why::Recognised) {
    out.push('\n');
    wrapped(out, 0, &paint(Style::new().bold(), &recognised.text));
    wrapped_hanging(
        out,
        2,
        13,
        &format!("known text   {}", recognised.known_text),
    );
    for (index, client) in recognised.clients.iter().enumerate() {
        let label = if index == 0 { "printed by" } else { "" };
        let condition = client
            .condition
            .map(|c| format!(", {c}"))
            .unwrap_or_default();
        wrapped_hanging(
            out,
            2,
            13,
            &format!(
                "{label:<12} {} {}: {}{condition}",
                client.client.name(),
                client.channel.name(),
                client.verifier
            ),
        );
    }
    if let Some(host) = &recognised.host {
        let port = recognised
            .port
            .map(|p| format!(" port {p}"))
            .unwrap_or_default();
        let source = recognised
            .host_source
            .as_deref()
            .map(|s| format!(" ({s})"))
            .unwrap_or_default();
        wrapped_hanging(out, 2, 13, &format!("host         {host}{port}{source}"));
    }
    if let Some(address) = &recognised.address {
        wrapped_hanging(out, 2, 13, &format!("address      {address}"));
    }
    if let Some(name) = &recognised.certificate_name {
        wrapped_hanging(out, 2, 13, &format!("certificate  \u{201c}{name}\u{201d}"));
    }
    if recognised.findings.is_empty() {
        wrapped(
            out,
            2,
            "likely causes: none that certready names (see the notes)",
        );
    } else {
        let _ = writeln!(out, "  likely causes, most likely first");
        let width = recognised
            .findings
            .iter()
            .map(|f| f.id.name().len())
            .max()
            .unwrap_or(0);
        for (index, cause) in recognised.findings.iter().enumerate() {
            wrapped_hanging(
                out,
                4,
                width + 5,
                &format!(
                    "{:>2} {:<width$}  {}",
                    index + 1,
                    cause.id.name(),
                    cause.title
                ),
            );
        }
    }
    for (heading, statements) in [
        ("rules out", &recognised.rules_out),
        ("notes", &recognised.notes),
    ] {
        if statements.is_empty() {
            continue;
        }
        let _ = writeln!(out, "  {heading}");
        let mut group: Option<Option<&str>> = None;
        for statement in statements {
            if group != Some(statement.verifier) {
                group = Some(statement.verifier);
                if let Some(verifier) = statement.verifier {
                    wrapped(out, 4, &format!("if {verifier} printed it:"));
                }
            }
            let indent = if statement.verifier.is_some() { 6 } else { 4 };
            wrapped_hanging(out, indent, 2, &format!("- {}", statement.text));
        }
    }
    let _ = writeln!(out, "  next");
    for step in &recognised.next {
        let _ = writeln!(out, "    $ {}", step.command);
        wrapped(out, 6, &step.purpose);
    }
}

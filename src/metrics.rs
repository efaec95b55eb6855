//! Prometheus metrics from reports (OpenMetrics text, prometheus-client). Every report
//! yields its chain and finding series whatever its status: an expired or untrusted
//! chain is when they matter most (blackbox_exporter drops them; we do not).

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::report::Report;

type Labels = Vec<(String, String)>;
type FloatGauge = Gauge<f64, std::sync::atomic::AtomicU64>;

fn family() -> Family<Labels, FloatGauge> {
    Family::default()
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Renders `reports` in the OpenMetrics text format (which Prometheus and node_exporter's
/// textfile collector read).
pub fn render(reports: &[Report]) -> String {
    let success = family();
    let duration = family();
    let not_after = family();
    let earliest = family();
    let accepts = family();
    let finding = family();
    let tls_info = family();
    let status = family();

    for report in reports {
        let target = report.target.as_str();
        let ok = report.error.is_none() && !report.chain.is_empty();
        success
            .get_or_create(&labels(&[("target", target)]))
            .set(if ok { 1.0 } else { 0.0 });
        if let Some(seconds) = report.duration_seconds {
            duration
                .get_or_create(&labels(&[("target", target)]))
                .set(seconds);
        }
        status
            .get_or_create(&labels(&[("target", target)]))
            .set(f64::from(report.status.exit_code()));
        for cert in &report.chain {
            let position = cert.position.to_string();
            not_after
                .get_or_create(&labels(&[
                    ("target", target),
                    ("position", &position),
                    ("subject", &cert.subject),
                    ("sha256", &cert.sha256),
                ]))
                .set(cert.facts.not_after as f64);
        }
        // The path actually used (validated, else as far as it links), not every certificate sent.
        let path_expiry = report
            .path
            .positions
            .iter()
            .filter_map(|p| report.chain.iter().find(|c| c.position == *p))
            .map(|c| c.facts.not_after)
            .min();
        if let Some(expiry) = path_expiry {
            earliest
                .get_or_create(&labels(&[("target", target)]))
                .set(expiry as f64);
        }
        for verdict in &report.clients {
            accepts
                .get_or_create(&labels(&[
                    ("target", target),
                    ("client", verdict.client.name()),
                    ("channel", verdict.channel.name()),
                ]))
                .set(if verdict.accepts { 1.0 } else { 0.0 });
        }
        for f in &report.findings {
            // Several findings may share an id (one per certificate): count them.
            finding
                .get_or_create(&labels(&[
                    ("target", target),
                    ("id", f.id),
                    ("severity", f.severity.name()),
                ]))
                .inc_by(1.0);
        }
        if let Some(tls) = &report.tls {
            let alpn = tls.alpn.clone().unwrap_or_default();
            tls_info
                .get_or_create(&labels(&[
                    ("target", target),
                    ("version", &tls.version),
                    ("alpn", &alpn),
                ]))
                .set(1.0);
        }
    }

    let mut registry = Registry::default();
    registry.register(
        "certready_probe_success",
        "1 if the chain could be read and judged, 0 if the check could not complete",
        success,
    );
    registry.register(
        "certready_probe_duration_seconds",
        "Time for DNS, connect, handshake and analysis",
        duration,
    );
    registry.register(
        "certready_status",
        "Monitoring status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN",
        status,
    );
    registry.register(
        "certready_cert_not_after_timestamp_seconds",
        "notAfter of each presented certificate, as a Unix timestamp",
        not_after,
    );
    registry.register(
        "certready_chain_earliest_expiry_timestamp_seconds",
        "Earliest notAfter along the leaf-to-anchor path actually used",
        earliest,
    );
    registry.register(
        "certready_client_accepts",
        "1 if the client is predicted to accept the certificate on this channel",
        accepts,
    );
    registry.register(
        "certready_finding",
        "Findings present, by id and severity (count)",
        finding,
    );
    registry.register(
        "certready_tls_info",
        "Negotiated TLS version and ALPN",
        tls_info,
    );
    let mut out = String::new();
    encode(&mut out, &registry).expect("writing to a String cannot fail");
    out
}

/// Writes `text` to `path` atomically (temp file in the same directory, then rename), so
/// node_exporter's textfile collector never reads half a file.
pub fn write_atomically(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let mut temp = tempfile::NamedTempFile::new_in(dir)?;
    temp.write_all(text.as_bytes())?;
    temp.as_file().sync_all()?;
    temp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

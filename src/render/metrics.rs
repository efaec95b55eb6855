//! Prometheus metrics from reports (OpenMetrics text, prometheus-client). Every report
//! yields its chain and finding series whatever its status: an expired or untrusted
//! chain is when they matter most (blackbox_exporter drops them; we do not).

use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, LabelSetEncoder};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use crate::findings::FindingId;
use crate::report::Report;

/// One series: the target, its other labels, its value.
#[derive(Debug)]
struct Sample {
    target: Arc<str>,
    labels: Vec<(&'static str, String)>,
    value: f64,
}

impl EncodeLabelSet for Sample {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> Result<(), std::fmt::Error> {
        use prometheus_client::encoding::EncodeLabel;
        ("target", self.target.as_ref()).encode(encoder.encode_label())?;
        for (key, value) in &self.labels {
            (*key, value.as_str()).encode(encoder.encode_label())?;
        }
        Ok(())
    }
}

#[derive(Debug)]
struct Gauges {
    name: &'static str,
    help: &'static str,
    samples: Vec<Sample>,
}

impl Gauges {
    fn new(name: &'static str, help: &'static str) -> Self {
        Gauges {
            name,
            help,
            samples: Vec::new(),
        }
    }

    fn push(&mut self, target: &Arc<str>, labels: &[(&'static str, &str)], value: f64) {
        self.samples.push(Sample {
            target: target.clone(),
            labels: labels.iter().map(|(k, v)| (*k, v.to_string())).collect(),
            value,
        });
    }
}

/// The series of all reports, in report order. A collector rather than metric families:
/// every series is written once, so families' hashing, locking and atomics buy nothing.
#[derive(Debug)]
struct Collected(Vec<Gauges>);

impl Collector for Collected {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        for gauges in &self.0 {
            if gauges.samples.is_empty() {
                continue;
            }
            let mut metric =
                encoder.encode_descriptor(gauges.name, gauges.help, None, MetricType::Gauge)?;
            for sample in &gauges.samples {
                metric.encode_family(sample)?.encode_gauge(&sample.value)?;
            }
        }
        Ok(())
    }
}

/// Renders `reports` in the OpenMetrics text format (which Prometheus and node_exporter's
/// textfile collector read).
pub fn render(reports: &[Report]) -> String {
    let mut success = Gauges::new(
        "certready_probe_success",
        "1 if the chain could be read and judged, 0 if the check could not complete",
    );
    let mut duration = Gauges::new(
        "certready_probe_duration_seconds",
        "Time for DNS, connect, handshake and analysis",
    );
    let mut status = Gauges::new(
        "certready_status",
        "Monitoring status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN",
    );
    let mut not_after = Gauges::new(
        "certready_cert_not_after_timestamp_seconds",
        "notAfter of each presented certificate, as a Unix timestamp",
    );
    let mut earliest = Gauges::new(
        "certready_chain_earliest_expiry_timestamp_seconds",
        "Earliest notAfter along the leaf-to-anchor path actually used",
    );
    let mut accepts = Gauges::new(
        "certready_client_accepts",
        "1 if the client is predicted to accept the certificate on this channel",
    );
    let mut finding = Gauges::new(
        "certready_finding",
        "Findings present, by id and severity (count)",
    );
    let mut tls_info = Gauges::new("certready_tls_info", "Negotiated TLS version and ALPN");
    let mut ocsp_status = Gauges::new(
        "certready_ocsp_status",
        "Revocation status of each certificate on the path: 0 good, 1 revoked, 2 unknown (asked, no usable answer); absent when not checked",
    );
    let mut next_update = Gauges::new(
        "certready_revocation_next_update_timestamp_seconds",
        "Earliest nextUpdate of the OCSP responses and CRLs used, per certificate, as a Unix timestamp",
    );

    let mut ct_valid = Gauges::new(
        "certready_ct_valid_scts",
        "SCTs of the leaf whose signature verified against the CT log list (embedded and stapled OCSP)",
    );

    for report in reports {
        let target: Arc<str> = Arc::from(report.target.as_str());
        let ok = report.error.is_none() && !report.chain.is_empty();
        success.push(&target, &[], if ok { 1.0 } else { 0.0 });
        if let Some(seconds) = report.duration_seconds {
            duration.push(&target, &[], seconds);
        }
        status.push(&target, &[], f64::from(report.status.exit_code()));
        for cert in &report.chain {
            not_after.push(
                &target,
                &[
                    ("position", &cert.position.to_string()),
                    ("subject", &cert.subject),
                    ("sha256", &cert.sha256),
                ],
                cert.facts.not_after as f64,
            );
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
            earliest.push(&target, &[], expiry as f64);
        }
        for verdict in &report.clients {
            accepts.push(
                &target,
                &[
                    ("client", verdict.client.name()),
                    ("channel", verdict.channel.name()),
                ],
                if verdict.accepts { 1.0 } else { 0.0 },
            );
        }
        // Several findings may share an id (one per certificate): one series with the count.
        let mut counted: Vec<(FindingId, &str, f64)> = Vec::new();
        for f in &report.findings {
            let severity = f.severity.name();
            match counted
                .iter_mut()
                .find(|(id, sev, _)| *id == f.id && *sev == severity)
            {
                Some(entry) => entry.2 += 1.0,
                None => counted.push((f.id, severity, 1.0)),
            }
        }
        for (id, severity, count) in counted {
            finding.push(&target, &[("id", id.name()), ("severity", severity)], count);
        }
        if let Some(tls) = &report.tls {
            let alpn = tls.alpn.as_deref().unwrap_or_default();
            tls_info.push(&target, &[("version", &tls.version), ("alpn", alpn)], 1.0);
        }
        for r in &report.revocation {
            use crate::revocation::{RevocationStatus, Source};
            let value = match r.status {
                RevocationStatus::Good => 0.0,
                RevocationStatus::Revoked => 1.0,
                RevocationStatus::Unknown => 2.0,
                RevocationStatus::Unchecked => continue,
            };
            let source = match r.source {
                Some(Source::StapledOcsp) => "stapled-ocsp",
                Some(Source::Ocsp) => "ocsp",
                Some(Source::Crl) => "crl",
                None => "",
            };
            let position = r.position.to_string();
            ocsp_status.push(
                &target,
                &[("position", &position), ("source", source)],
                value,
            );
            if let Some(next) = r.next_update() {
                next_update.push(&target, &[("position", &position)], next as f64);
            }
        }
        if let Some(ct) = &report.ct {
            ct_valid.push(
                &target,
                &[("position", &ct.position.to_string())],
                ct.valid_scts as f64,
            );
        }
    }

    let mut registry = Registry::default();
    registry.register_collector(Box::new(Collected(vec![
        success,
        duration,
        status,
        not_after,
        earliest,
        accepts,
        finding,
        tls_info,
        ocsp_status,
        next_update,
        ct_valid,
    ])));
    let mut out = String::new();
    encode(&mut out, &registry).expect("writing to a String cannot fail");
    out
}

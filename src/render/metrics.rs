//! Prometheus metrics from reports (OpenMetrics text, prometheus-client). Every report
//! yields its chain and finding series whatever its status: an expired or untrusted
//! chain is when they matter most (blackbox_exporter drops them; we do not).
//!
//! OpenMetrics wants each family's series together, so no family can be written before
//! the last target is checked. What a run keeps meanwhile is a `TargetSeries` per target:
//! the values and labels the families need (a few hundred bytes), not the report (tens of
//! KiB). The text is then written family by family into any `std::io::Write`, so a run
//! of 100,000 targets never holds its (hundreds of MiB of) text either.

use std::borrow::Cow;
use std::sync::Mutex;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, LabelSetEncoder};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use crate::clients::{Channel, ClientName};
use crate::findings::{FindingId, Severity};
use crate::report::Report;
use crate::revocation::{RevocationStatus, Source};

/// One certificate's `certready_cert_not_after_timestamp_seconds` series.
#[derive(Debug, Clone)]
struct CertSeries {
    position: u32,
    not_after: i64,
    subject: Box<str>,
    sha256: Fingerprint,
}

/// A SHA-256 fingerprint as 32 bytes rather than 64 hex digits (kept per certificate of
/// every target until the end of a run).
#[derive(Debug, Clone)]
enum Fingerprint {
    Digest([u8; 32]),
    /// Whatever else the report holds, as it is.
    Text(Box<str>),
}

impl Fingerprint {
    fn of(hex: &str) -> Fingerprint {
        let mut digest = [0u8; 32];
        let lower_hex = |c: u8| match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        };
        if hex.len() == 64 {
            let pairs = hex.as_bytes().chunks(2);
            if digest.iter_mut().zip(pairs).all(|(byte, pair)| {
                match (lower_hex(pair[0]), lower_hex(pair[1])) {
                    (Some(high), Some(low)) => {
                        *byte = high << 4 | low;
                        true
                    }
                    _ => false,
                }
            }) {
                return Fingerprint::Digest(digest);
            }
        }
        Fingerprint::Text(hex.into())
    }

    fn text(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Fingerprint::Digest(digest) => {
                use std::fmt::Write;
                let mut hex = String::with_capacity(64);
                for byte in digest {
                    let _ = write!(hex, "{byte:02x}");
                }
                hex.into()
            }
            Fingerprint::Text(text) => text.as_ref().into(),
        }
    }
}

/// The few values of the TLS version and ALPN labels, without an allocation per target.
fn label_value(value: &str) -> Cow<'static, str> {
    const KNOWN: &[&str] = &["TLSv1.3", "TLSv1.2", "h2", "http/1.1", ""];
    match KNOWN.iter().find(|known| **known == value) {
        Some(known) => Cow::Borrowed(known),
        None => Cow::Owned(value.to_string()),
    }
}

/// One certificate's revocation series.
#[derive(Debug, Clone)]
struct RevocationSeries {
    position: u32,
    /// 0 good, 1 revoked, 2 unknown.
    value: u8,
    source: Option<Source>,
    next_update: Option<i64>,
}

/// What the metric families need of one report, and nothing more.
#[derive(Debug, Clone)]
pub struct TargetSeries {
    target: Box<str>,
    success: bool,
    status: u8,
    duration: Option<f64>,
    earliest_expiry: Option<i64>,
    certs: Box<[CertSeries]>,
    clients: Box<[(ClientName, Channel, bool)]>,
    /// Several findings may share an id (one per certificate): one series with the count.
    findings: Box<[(FindingId, Severity, u32)]>,
    tls: Option<(Cow<'static, str>, Cow<'static, str>)>,
    revocation: Box<[RevocationSeries]>,
    /// (leaf position, SCTs that verified), when CT was evaluated.
    ct_valid_scts: Option<(u32, u32)>,
}

impl TargetSeries {
    pub fn of(report: &Report) -> Self {
        // The path actually used (validated, else as far as it links), not every certificate sent.
        let earliest_expiry = report
            .path
            .positions
            .iter()
            .filter_map(|p| report.chain.iter().find(|c| c.position == *p))
            .map(|c| c.facts.not_after)
            .min();
        let mut findings: Vec<(FindingId, Severity, u32)> = Vec::new();
        for f in &report.findings {
            match findings
                .iter_mut()
                .find(|(id, severity, _)| *id == f.id && *severity == f.severity)
            {
                Some(entry) => entry.2 += 1,
                None => findings.push((f.id, f.severity, 1)),
            }
        }
        let revocation = report
            .revocation
            .iter()
            .filter_map(|r| {
                let value = match r.status {
                    RevocationStatus::Good => 0,
                    RevocationStatus::Revoked => 1,
                    RevocationStatus::Unknown => 2,
                    RevocationStatus::Unchecked => return None,
                };
                Some(RevocationSeries {
                    position: position(r.position),
                    value,
                    source: r.source,
                    next_update: r.next_update(),
                })
            })
            .collect();
        TargetSeries {
            target: report.target.as_str().into(),
            success: report.error.is_none() && !report.chain.is_empty(),
            status: report.status.exit_code() as u8,
            duration: report.duration_seconds,
            earliest_expiry,
            certs: report
                .chain
                .iter()
                .map(|cert| CertSeries {
                    position: position(cert.position),
                    not_after: cert.facts.not_after,
                    subject: cert.subject.as_str().into(),
                    sha256: Fingerprint::of(&cert.sha256),
                })
                .collect(),
            clients: report
                .clients
                .iter()
                .map(|v| (v.client, v.channel, v.accepts))
                .collect(),
            findings: findings.into(),
            tls: report.tls.as_ref().map(|tls| {
                (
                    label_value(&tls.version),
                    label_value(tls.alpn.as_deref().unwrap_or_default()),
                )
            }),
            revocation,
            ct_valid_scts: report
                .ct
                .as_ref()
                .map(|ct| (position(ct.position), ct.valid_scts as u32)),
        }
    }
}

fn position(position: usize) -> u32 {
    u32::try_from(position).unwrap_or(u32::MAX)
}

/// A series' labels: the target first, then the family's own.
struct Labels<'a> {
    target: &'a str,
    rest: &'a [(&'static str, &'a str)],
}

impl EncodeLabelSet for Labels<'_> {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> Result<(), std::fmt::Error> {
        use prometheus_client::encoding::EncodeLabel;
        ("target", self.target).encode(encoder.encode_label())?;
        for (key, value) in self.rest {
            (*key, *value).encode(encoder.encode_label())?;
        }
        Ok(())
    }
}

/// Receives a series' labels (after `target`) and value.
type SampleSink<'a> = dyn FnMut(&[(&'static str, &str)], f64) -> std::fmt::Result + 'a;

/// The families, in the order they are written.
#[derive(Debug, Clone, Copy)]
enum Family {
    Success,
    Duration,
    Status,
    NotAfter,
    EarliestExpiry,
    ClientAccepts,
    Finding,
    TlsInfo,
    OcspStatus,
    RevocationNextUpdate,
    CtValidScts,
}

impl Family {
    const ALL: [Family; 11] = [
        Family::Success,
        Family::Duration,
        Family::Status,
        Family::NotAfter,
        Family::EarliestExpiry,
        Family::ClientAccepts,
        Family::Finding,
        Family::TlsInfo,
        Family::OcspStatus,
        Family::RevocationNextUpdate,
        Family::CtValidScts,
    ];

    fn name_and_help(self) -> (&'static str, &'static str) {
        match self {
            Family::Success => (
                "certready_probe_success",
                "1 if the chain could be read and judged, 0 if the check could not complete",
            ),
            Family::Duration => (
                "certready_probe_duration_seconds",
                "Time for DNS, connect, handshake and analysis",
            ),
            Family::Status => (
                "certready_status",
                "Monitoring status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN",
            ),
            Family::NotAfter => (
                "certready_cert_not_after_timestamp_seconds",
                "notAfter of each presented certificate, as a Unix timestamp",
            ),
            Family::EarliestExpiry => (
                "certready_chain_earliest_expiry_timestamp_seconds",
                "Earliest notAfter along the leaf-to-anchor path actually used",
            ),
            Family::ClientAccepts => (
                "certready_client_accepts",
                "1 if the client is predicted to accept the certificate on this channel",
            ),
            Family::Finding => (
                "certready_finding",
                "Findings present, by id and severity (count)",
            ),
            Family::TlsInfo => ("certready_tls_info", "Negotiated TLS version and ALPN"),
            Family::OcspStatus => (
                "certready_ocsp_status",
                "Revocation status of each certificate on the path: 0 good, 1 revoked, 2 unknown (asked, no usable answer); absent when not checked",
            ),
            Family::RevocationNextUpdate => (
                "certready_revocation_next_update_timestamp_seconds",
                "Earliest nextUpdate of the OCSP responses and CRLs used, per certificate, as a Unix timestamp",
            ),
            Family::CtValidScts => (
                "certready_ct_valid_scts",
                "SCTs of the leaf whose signature verified against the CT log list (embedded and stapled OCSP)",
            ),
        }
    }

    /// Whether `series` has at least one sample in this family.
    fn present(self, series: &TargetSeries) -> bool {
        match self {
            Family::Success | Family::Status => true,
            Family::Duration => series.duration.is_some(),
            Family::NotAfter => !series.certs.is_empty(),
            Family::EarliestExpiry => series.earliest_expiry.is_some(),
            Family::ClientAccepts => !series.clients.is_empty(),
            Family::Finding => !series.findings.is_empty(),
            Family::TlsInfo => series.tls.is_some(),
            Family::OcspStatus => !series.revocation.is_empty(),
            Family::RevocationNextUpdate => {
                series.revocation.iter().any(|r| r.next_update.is_some())
            }
            Family::CtValidScts => series.ct_valid_scts.is_some(),
        }
    }

    /// Calls `sample` with the labels (after `target`) and value of each of `series`'s
    /// samples in this family.
    fn samples(self, series: &TargetSeries, sample: &mut SampleSink<'_>) -> std::fmt::Result {
        let flag = |yes: bool| if yes { 1.0 } else { 0.0 };
        match self {
            Family::Success => sample(&[], flag(series.success)),
            Family::Duration => match series.duration {
                Some(seconds) => sample(&[], seconds),
                None => Ok(()),
            },
            Family::Status => sample(&[], f64::from(series.status)),
            Family::NotAfter => {
                for cert in series.certs.iter() {
                    sample(
                        &[
                            ("position", &cert.position.to_string()),
                            ("subject", &cert.subject),
                            ("sha256", &cert.sha256.text()),
                        ],
                        cert.not_after as f64,
                    )?;
                }
                Ok(())
            }
            Family::EarliestExpiry => match series.earliest_expiry {
                Some(expiry) => sample(&[], expiry as f64),
                None => Ok(()),
            },
            Family::ClientAccepts => {
                for (client, channel, accepts) in series.clients.iter() {
                    sample(
                        &[("client", client.name()), ("channel", channel.name())],
                        flag(*accepts),
                    )?;
                }
                Ok(())
            }
            Family::Finding => {
                for (id, severity, count) in series.findings.iter() {
                    sample(
                        &[("id", id.name()), ("severity", severity.name())],
                        f64::from(*count),
                    )?;
                }
                Ok(())
            }
            Family::TlsInfo => match &series.tls {
                Some((version, alpn)) => sample(&[("version", version), ("alpn", alpn)], 1.0),
                None => Ok(()),
            },
            Family::OcspStatus => {
                for r in series.revocation.iter() {
                    let source = match r.source {
                        Some(Source::StapledOcsp) => "stapled-ocsp",
                        Some(Source::Ocsp) => "ocsp",
                        Some(Source::Crl) => "crl",
                        None => "",
                    };
                    sample(
                        &[("position", &r.position.to_string()), ("source", source)],
                        f64::from(r.value),
                    )?;
                }
                Ok(())
            }
            Family::RevocationNextUpdate => {
                for r in series.revocation.iter() {
                    if let Some(next) = r.next_update {
                        sample(&[("position", &r.position.to_string())], next as f64)?;
                    }
                }
                Ok(())
            }
            Family::CtValidScts => match series.ct_valid_scts {
                Some((position, valid)) => {
                    sample(&[("position", &position.to_string())], f64::from(valid))
                }
                None => Ok(()),
            },
        }
    }
}

/// The families over all kept series, in target order. A collector rather than metric
/// families: every series is written once, so families' hashing, locking and atomics buy
/// nothing. It owns the series (a registry wants `'static`) and gives them back.
#[derive(Debug)]
struct Collected(Mutex<Vec<TargetSeries>>);

impl Collector for Collected {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let all = self.0.lock().unwrap_or_else(|p| p.into_inner());
        for family in Family::ALL {
            if !all.iter().any(|series| family.present(series)) {
                continue;
            }
            let (name, help) = family.name_and_help();
            let mut metric = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
            for series in all.iter() {
                family.samples(series, &mut |rest, value| {
                    let labels = Labels {
                        target: &series.target,
                        rest,
                    };
                    metric.encode_family(&labels)?.encode_gauge(&value)
                })?;
            }
        }
        Ok(())
    }
}

/// `std::fmt::Write` (what prometheus-client encodes into) over a `std::io::Write`,
/// keeping the I/O error that fmt's error type cannot carry.
struct IoWriter<W: std::io::Write> {
    out: W,
    error: Option<std::io::Error>,
}

impl<W: std::io::Write> std::fmt::Write for IoWriter<W> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.out.write_all(s.as_bytes()).map_err(|e| {
            self.error = Some(e);
            std::fmt::Error
        })
    }
}

/// Writes the series in the OpenMetrics text format (which Prometheus and node_exporter's
/// textfile collector read), family by family, ending with `# EOF`.
pub fn write_series<W: std::io::Write>(series: Vec<TargetSeries>, out: W) -> std::io::Result<()> {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(Collected(Mutex::new(series))));
    let mut writer = IoWriter { out, error: None };
    match encode(&mut writer, &registry) {
        Ok(()) => writer.out.flush(),
        Err(_) => Err(writer
            .error
            .unwrap_or_else(|| std::io::Error::other("cannot encode the metrics"))),
    }
}

/// Renders `reports` in the OpenMetrics text format.
pub fn render(reports: &[Report]) -> String {
    let mut out = Vec::new();
    write_series(reports.iter().map(TargetSeries::of).collect(), &mut out)
        .expect("writing to memory cannot fail");
    String::from_utf8(out).expect("OpenMetrics text is UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_and_label_values_come_back_as_they_went_in() {
        let hex = "803474898bf9a35422f7bd8302b709c179f7a1f36e8da7581f190f9bebe9e778";
        assert!(matches!(Fingerprint::of(hex), Fingerprint::Digest(_)));
        assert_eq!(Fingerprint::of(hex).text(), hex);
        // Anything but 64 lower-case hex digits is kept as written.
        for odd in ["ABCD", &hex.to_uppercase(), "", &hex[..63]] {
            assert!(matches!(Fingerprint::of(odd), Fingerprint::Text(_)));
            assert_eq!(Fingerprint::of(odd).text(), odd);
        }
        assert!(matches!(label_value("h2"), Cow::Borrowed("h2")));
        assert_eq!(label_value("spdy/3"), "spdy/3");
    }
}

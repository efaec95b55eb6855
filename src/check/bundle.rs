//! A trust bundle given to `inspect` (e.g. /etc/ssl/certs/ca-certificates.crt): many
//! self-signed CAs and no leaf. Judged as a server chain, its first root would read as a
//! self-signed server certificate; instead it is named, and its expired or weak roots listed.

use rustls_pki_types::CertificateDer;

use crate::chain;
use crate::findings::{Finding, FindingId};
use crate::report::Report;

/// Keys shorter than this are weak for an anchor (Apple and OpenSSL level 2 refuse them).
const MIN_RSA_BITS: usize = 2048;

/// A report on `ders` when they form a trust bundle: at least two certificates, every one
/// a self-signed CA; `None` otherwise (then the file is judged as a chain).
pub fn report(label: &str, ders: &[CertificateDer<'static>], now: i64) -> Option<Report> {
    if ders.len() < 2 {
        return None;
    }
    let mut roots = Vec::with_capacity(ders.len());
    for (position, der) in ders.iter().enumerate() {
        let info = chain::parse_one(position, der).ok()?;
        // Self-issued is enough: a 1024-bit root's own signature cannot be verified here.
        let self_issued = info.self_signed || info.facts.subject_der == info.facts.issuer_der;
        if !(self_issued && info.is_ca) {
            return None;
        }
        roots.push(info);
    }
    let mut findings = vec![Finding::new(
        FindingId::TrustBundle,
        None,
        format!(
            "{label} holds {} self-signed CA certificates and no server certificate: a trust bundle, not a chain a server presents.",
            roots.len()
        ),
    )];
    for root in &roots {
        if root.facts.not_after < now {
            findings.push(Finding::new(
                FindingId::BundleRootExpired,
                Some(root.position),
                format!(
                    "#{} {} expired on {}.",
                    root.position,
                    root.subject,
                    &root.not_after[..10.min(root.not_after.len())]
                ),
            ));
        }
        if let Some(bits) = root.facts.rsa_bits.filter(|&bits| bits < MIN_RSA_BITS) {
            findings.push(Finding::new(
                FindingId::BundleRootWeak,
                Some(root.position),
                format!(
                    "#{} {} has an RSA key of {bits} bits.",
                    root.position, root.subject
                ),
            ));
        }
    }
    // Most severe first, as every report lists them.
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    let mut report = Report::failed(label.to_string(), None, None, String::new());
    report.error = None;
    report.findings = findings;
    report.settle_status();
    Some(report)
}

//! What every client refuses in any certificate on the path: critical extensions it does
//! not understand, SHA-1 signatures and RSA keys under 2048 bits.

use super::context::Context;
use crate::findings::{Finding, FindingId};

/// One pass over the path, certificate by certificate (the findings keep that order).
pub(super) fn signature_findings(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let path = ctx.path();
    for cert in &path {
        if !cert.info.unknown_critical_extensions.is_empty() {
            out.push(Finding::new(
                FindingId::UnknownCriticalExtension,
                Some(cert.info.position),
                format!(
                    "\"{}\" carries a critical extension no client understands ({}); every client must refuse it (Go: \"x509: unhandled critical extension\").",
                    cert.info.display_name(),
                    cert.info.unknown_critical_extensions.join(", ")
                ),
            ));
        }
        // A root's own signature is never checked by anyone: it is trusted by its key.
        let is_root = cert.info.self_signed && path.len() > 1;
        if let Some(hash) = cert.info.facts.weak_hash.filter(|_| !is_root) {
            out.push(Finding::new(
                FindingId::WeakSignatureSha1,
                Some(cert.info.position),
                format!(
                    "\"{}\" is signed with {hash} ({}); Go, Apple, browsers and OpenSSL refuse it.",
                    cert.info.display_name(),
                    cert.info.signature_algorithm
                ),
            ));
        }
        if let Some(bits) = cert.info.facts.rsa_bits.filter(|bits| *bits < 2048) {
            out.push(Finding::new(
                FindingId::WeakRsaKey,
                Some(cert.info.position),
                format!(
                    "\"{}\" has a {bits}-bit RSA key; Apple refuses keys under 2048 bits (\"is using a broken key size\").",
                    cert.info.display_name()
                ),
            ));
        }
    }
}

//! What each certificate is allowed to do: the leaf must be usable for a TLS server (EKU,
//! keyUsage, not a CA) and every issuer above it must be a CA.

use super::context::Context;
use crate::findings::{Finding, FindingId, Severity};

pub(super) fn usage_findings(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let leaf = ctx.leaf();
    let leaf_pos = Some(leaf.info.position);
    let facts = &leaf.info.facts;
    if facts.eku_present && !facts.eku_server_auth && !facts.eku_any {
        out.push(Finding::new(
            FindingId::MissingServerAuthEku,
            leaf_pos,
            format!(
                "The leaf's extended key usage ({}) does not include serverAuth; Go reports \"x509: certificate specifies an incompatible key usage\".",
                leaf.info.extended_key_usage.clone().unwrap_or_default().join(", ")
            ),
        ));
    } else if !facts.eku_present && !ctx.leaf_anchored() {
        out.push(
            Finding::new(
                FindingId::MissingServerAuthEku,
                leaf_pos,
                "The leaf has no extended key usage extension. Go, OpenSSL and browsers accept that, but macOS requires serverAuth for publicly trusted chains and for certificates issued since 2019-07-01 unless their CA is trusted by an explicit user setting.",
            )
            .severity(Severity::Warning),
        );
    }
    if !facts.key_usage_allows_tls_server {
        out.push(Finding::new(
            FindingId::IncompatibleKeyUsage,
            leaf_pos,
            format!(
                "The leaf's keyUsage ({}) has none of digitalSignature, keyEncipherment, keyAgreement; OpenSSL reports \"unsuitable certificate purpose\". Go does not check it.",
                leaf.info.key_usage.join(", ")
            ),
        ));
    }
    if leaf.info.is_ca {
        out.push(Finding::new(
            FindingId::LeafIsCa,
            leaf_pos,
            "The server certificate has basicConstraints CA:TRUE (as `openssl req -x509` makes by default). Go accepts it; rustls-based clients refuse it as a server certificate.",
        ));
    }
    for cert in ctx.path().iter().skip(1) {
        if !cert.info.is_ca {
            let why = if cert.info.facts.has_basic_constraints {
                "has basicConstraints CA:FALSE"
            } else {
                "has no basicConstraints extension"
            };
            out.push(Finding::new(
                FindingId::IssuerNotCa,
                Some(cert.info.position),
                format!(
                    "\"{}\" issued another certificate but {why}; Go reports \"x509: certificate is not authorized to sign other certificates\".",
                    cert.info.display_name()
                ),
            ));
        }
    }
}

//! What was sent and in what shape: unreadable certificates, too many of them, the
//! order, a root sent along, duplicates and certificates that belong to no path.

use super::context::Context;
use crate::chain::MAX_CHAIN_CERTIFICATES;
use crate::findings::{Finding, FindingId};

/// Certificates that could not be parsed, and more certificates than are analysed.
pub(super) fn sent_certificate_findings(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    for bad in ctx.malformed {
        out.push(Finding::new(
            FindingId::MalformedCertificate,
            Some(bad.position),
            format!("Certificate #{} {}.", bad.position, bad.error),
        ));
    }
    if ctx.presented > MAX_CHAIN_CERTIFICATES {
        out.push(Finding::new(
            FindingId::TooManyCertificates,
            None,
            format!(
                "The server presents {} certificates; certready analysed the first {}. Real chains need 2 to 4; clients bound path length (rustls/webpki and others give up long before this).",
                ctx.presented,
                MAX_CHAIN_CERTIFICATES
            ),
        ));
    }
}

pub(super) fn structure_findings(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let s = ctx.structure;
    let pos = |i: usize| ctx.certs[i].info.position;
    if s.out_of_order {
        let order: Vec<String> = s.path.iter().map(|&i| format!("#{}", pos(i))).collect();
        out.push(Finding::new(
            FindingId::ChainOrder,
            Some(pos(s.leaf)),
            format!(
                "The chain from the leaf up is {} in the order sent; it should be sent leaf first, each certificate followed by its issuer.",
                order.join(" → ")
            ),
        ));
    }
    if s.top_self_signed && s.path.len() > 1 {
        let root = &ctx.certs[*s.path.last().unwrap_or(&0)];
        out.push(Finding::new(
            FindingId::RootInChain,
            Some(root.info.position),
            format!(
                "The self-signed root \"{}\" is sent with the chain.",
                root.info.display_name()
            ),
        ));
    }
    for &(dup, first) in &s.duplicates {
        out.push(Finding::new(
            FindingId::DuplicateCertificate,
            Some(pos(dup)),
            format!(
                "Certificate #{} is an exact copy of #{} (\"{}\").",
                pos(dup),
                pos(first),
                ctx.certs[first].info.display_name()
            ),
        ));
    }
    for &i in &s.unrelated {
        out.push(Finding::new(
            FindingId::UnrelatedCertificate,
            Some(pos(i)),
            format!(
                "\"{}\" (#{}) did not issue the leaf or any of its issuers.",
                ctx.certs[i].info.display_name(),
                pos(i)
            ),
        ));
    }
}

//! The rules: from parsed certificates, chain structure and trust verdicts to findings.
//! Each module judges one aspect; `evaluate` runs them in a fixed order.

mod anchor;
mod context;
mod keys;
mod names;
mod signatures;
mod structure;
mod trust;
mod usage;
mod validity;

pub use context::{Context, KeyCheck, DAY, INGRESS_FAKE_CN};

use crate::findings::Finding;

/// A rule over a chain with at least one readable certificate.
type Rule = fn(&Context<'_>, &mut Vec<Finding>);

/// In this order: findings of equal severity keep it in every report.
const RULES: &[Rule] = &[
    structure::structure_findings,
    anchor::anchor_findings,
    names::name_findings,
    validity::validity_findings,
    signatures::signature_findings,
    validity::lifetime_findings,
    usage::usage_findings,
    names::ingress_default_certificate,
    keys::key_pair_findings,
    // Last: it summarises only what no earlier finding explains.
    trust::trust_summary,
];

/// Judges the certificates in `ctx` (as sent, their structure and trust verdicts, at
/// `ctx.at`, for `ctx.hostname`) and returns the findings, most severe first. With no
/// readable certificate only the findings about what was sent are returned, as found.
pub fn evaluate(ctx: &Context<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    structure::sent_certificate_findings(ctx, &mut out);
    if ctx.certs.is_empty() {
        return out;
    }
    for rule in RULES {
        rule(ctx, &mut out);
    }
    out.sort_by_key(|f| std::cmp::Reverse(f.severity));
    out
}

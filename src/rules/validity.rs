//! Time: each certificate's validity window at the judged instant, and the leaf's total
//! lifetime against Apple's and the CA/Browser Forum's limits.

use super::context::{
    Context, APPLE_825_AFTER, DAY, MAX_398_SECONDS, MAX_825_SECONDS, PUBLIC_398_CUTOVER,
};
use crate::findings::{Finding, FindingId, Severity};
use crate::trust::StoreKind;

/// Expired, not yet valid, or expiring within the warning window, for each on the path.
pub(super) fn validity_findings(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    for cert in ctx.path() {
        let facts = &cert.info.facts;
        let name = cert.info.display_name();
        if ctx.at > facts.not_after {
            out.push(Finding::new(
                FindingId::Expired,
                Some(cert.info.position),
                format!(
                    "\"{name}\" expired on {} ({} ago).",
                    cert.info.not_after,
                    human_days(ctx.at - facts.not_after)
                ),
            ));
        } else if ctx.at < facts.not_before {
            out.push(Finding::new(
                FindingId::NotYetValid,
                Some(cert.info.position),
                format!(
                    "\"{name}\" is valid only from {} (in {}).",
                    cert.info.not_before,
                    human_days(facts.not_before - ctx.at)
                ),
            ));
        } else if facts.not_after - ctx.at < i64::from(ctx.warn_days) * DAY {
            out.push(Finding::new(
                FindingId::ExpiresSoon,
                Some(cert.info.position),
                format!(
                    "\"{name}\" expires on {} (in {}).",
                    cert.info.not_after,
                    human_days(facts.not_after - ctx.at)
                ),
            ));
        }
    }
}

fn human_days(seconds: i64) -> String {
    let days = seconds / DAY;
    match days {
        0 => {
            let hours = seconds / 3600;
            if hours == 1 {
                "1 hour".into()
            } else {
                format!("{hours} hours")
            }
        }
        1 => "1 day".into(),
        n => format!("{n} days"),
    }
}

/// The 398-day limit for publicly trusted leaves, else Apple's 825 days for the rest.
pub(super) fn lifetime_findings(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let leaf = ctx.leaf();
    let publicly_trusted = ctx.trusted_by(StoreKind::Mozilla);
    let facts = &leaf.info.facts;
    let lifetime = leaf.info.lifetime_seconds();
    let days = lifetime as f64 / DAY as f64;
    let pos = Some(leaf.info.position);
    if publicly_trusted && facts.not_before >= PUBLIC_398_CUTOVER && lifetime > MAX_398_SECONDS {
        out.push(Finding::new(
            FindingId::ValidityExceeds398Days,
            pos,
            format!(
                "The leaf chains to a public root and is valid for {days:.0} days ({} to {}); publicly trusted certificates issued since 2020-09-01 may be valid for at most 398 days. macOS reports \"certificate is not standards compliant\".",
                leaf.info.not_before, leaf.info.not_after
            ),
        ));
    } else if !publicly_trusted && facts.not_before > APPLE_825_AFTER && lifetime > MAX_825_SECONDS
    {
        let finding = Finding::new(
            FindingId::ValidityExceeds825Days,
            pos,
            format!(
                "The leaf is valid for {days:.0} days ({} to {}); macOS refuses certificates issued since 2019-07-01 that live longer than 825 days with \"certificate is not standards compliant\" — unless the certificate itself is trusted directly.",
                leaf.info.not_before, leaf.info.not_after
            ),
        );
        out.push(if ctx.leaf_anchored() {
            finding.severity(Severity::Warning)
        } else {
            finding
        });
    }
}

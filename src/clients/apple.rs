//! Apple's trustd as flytectl on macOS meets it: Go's `Verify` with the system roots
//! hands the chain to SecTrustEvaluateWithError, and root_darwin.go maps trustd's
//! failure to a Go error. Which rules apply depends on how the Mac trusts the anchor.

use crate::chain::Cert;
use crate::findings::FindingId;
use crate::rules::{APPLE_825_CUTOVER, DAY, MAX_398_SECONDS, MAX_825_SECONDS, PUBLIC_398_CUTOVER};
use crate::trust::StoreKind;

use super::context::{AnchorKind, ClientContext, Fetcher, Refusal};
use super::go;
use super::hostname::san_matches;
use super::walk::{walk, walk_fetching, Walk, TRUST_CAUSES};

/// trustd's verdict as Go reports it: Ok, or the Go error for Apple's highest-priority
/// failure (then Go's own EKU check), with the anchor kind given or inferred.
pub(super) fn verify(ctx: &ClientContext<'_>) -> Result<(), Refusal> {
    let anchor = infer_anchor_kind(ctx);
    let mut failures = failed_checks(ctx, anchor);
    failures.sort_by_key(|f| f.check);
    let Some(first) = failures.first() else {
        // After Apple accepts, Go still checks the EKU itself.
        let facts = &ctx.leaf().info.facts;
        if facts.eku_present && !facts.eku_server_auth && !facts.eku_any {
            return Err(ctx.refusal(
                "x509: certificate specifies an incompatible key usage",
                &[FindingId::MissingServerAuthEku],
            ));
        }
        return Ok(());
    };
    Err(Refusal {
        text: error_text(ctx, first),
        causes: first.causes.clone(),
    })
}

/// Apple's failure subtypes, in reporting priority (highest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum AppleCheck {
    KeySize,
    WeakHash,
    Compliance,
    Trust,
    Usage,
    Name,
    Expired,
}

/// One failed check, on one certificate.
#[derive(Debug, Clone)]
struct AppleFailure {
    check: AppleCheck,
    /// Index into the certificates of the one that fails.
    cert: usize,
    causes: Vec<FindingId>,
    /// Trust failure because an intermediate is missing (errSecCreateChainFailed).
    missing_intermediate: bool,
}

/// The anchor kind the Mac would see: given by the user, or inferred from the stores
/// (through the issuers trustd fetches from AIA URLs when the server left them out).
fn infer_anchor_kind(ctx: &ClientContext<'_>) -> Option<AnchorKind> {
    if let Some(kind) = ctx.options.anchor_kind {
        return Some(kind);
    }
    let trusted = |kind: StoreKind| ctx.trust.iter().any(|v| v.store == kind && v.trusted);
    if ctx.trust.iter().any(|v| v.trusted && v.leaf_is_anchor) {
        Some(AnchorKind::Leaf)
    } else if trusted(StoreKind::Mozilla) {
        Some(AnchorKind::System)
    } else if trusted(StoreKind::CaFile) || trusted(StoreKind::System) {
        Some(AnchorKind::Private)
    } else if let Some(pool) = ctx.store(StoreKind::CaFile) {
        // Untrusted for webpki (e.g. a CA:TRUE leaf) but anchored in the private CA for Apple.
        match walk(ctx, &[pool]) {
            Walk::LeafAnchor => Some(AnchorKind::Leaf),
            Walk::Anchored => Some(AnchorKind::Private),
            Walk::Untrusted { .. } => None,
        }
    } else {
        None
    }
    .or_else(|| fetched_anchor_kind(ctx))
}

/// The anchor kind reached through the issuers trustd fetches itself (no redirects).
/// Only issuers valid now count: the per-certificate checks below see the sent path only,
/// so an expired fetched issuer leaves the chain untrusted (the verdict is right; the
/// text says "not trusted" where trustd would name the expiry).
fn fetched_anchor_kind(ctx: &ClientContext<'_>) -> Option<AnchorKind> {
    let fetched = ctx.aia_for(Fetcher::Apple);
    let valid = |cert: &&Cert| {
        let f = &cert.info.facts;
        ctx.at >= f.not_before && ctx.at <= f.not_after
    };
    if fetched.is_empty() || !fetched.iter().all(valid) {
        return None;
    }
    [
        (StoreKind::Mozilla, AnchorKind::System),
        (StoreKind::CaFile, AnchorKind::Private),
        (StoreKind::System, AnchorKind::Private),
    ]
    .into_iter()
    .find(|&(store, _)| {
        ctx.store(store)
            .is_some_and(|pool| matches!(walk_fetching(ctx, &[pool], &fetched), Walk::Anchored))
    })
    .map(|(_, kind)| kind)
}

/// Every Apple check that fails, unordered.
fn failed_checks(ctx: &ClientContext<'_>, anchor: Option<AnchorKind>) -> Vec<AppleFailure> {
    let mut failures = Vec::new();
    let leaf_index = ctx.structure.leaf;
    let leaf = ctx.leaf();
    let path = &ctx.structure.path;
    let fail = |check, cert, causes: Vec<FindingId>| AppleFailure {
        check,
        cert,
        causes,
        missing_intermediate: false,
    };
    let root_sent = ctx.structure.top_self_signed && path.len() > 1;
    for (step, &index) in path.iter().enumerate() {
        let cert = &ctx.certs[index];
        if cert.info.facts.rsa_bits.is_some_and(|bits| bits < 2048) {
            failures.push(fail(
                AppleCheck::KeySize,
                index,
                ctx.causes(&[FindingId::WeakRsaKey]),
            ));
        }
        let is_anchor_cert = (root_sent && step == path.len() - 1)
            || (step == 0 && anchor == Some(AnchorKind::Leaf));
        if cert.info.facts.weak_hash.is_some() && !is_anchor_cert {
            failures.push(fail(
                AppleCheck::WeakHash,
                index,
                ctx.causes(&[FindingId::WeakSignatureSha1]),
            ));
        }
        if !cert.info.unknown_critical_extensions.is_empty() {
            failures.push(fail(AppleCheck::Compliance, index, Vec::new()));
        }
        if step > 0 && !cert.info.is_ca {
            failures.push(fail(
                AppleCheck::Compliance,
                index,
                ctx.causes(&[FindingId::IssuerNotCa]),
            ));
        }
        let facts = &cert.info.facts;
        if ctx.at > facts.not_after || ctx.at < facts.not_before {
            failures.push(fail(
                AppleCheck::Expired,
                index,
                ctx.causes(&[FindingId::Expired, FindingId::NotYetValid]),
            ));
        }
    }
    if leaf.info.subject == "(empty subject)" && !leaf.info.facts.has_san_extension {
        failures.push(fail(AppleCheck::Compliance, leaf_index, Vec::new()));
    }

    // Validity maximum (leaf only), by anchor kind.
    let lifetime = leaf.info.lifetime_seconds();
    let not_before = leaf.info.facts.not_before;
    let too_long = match anchor {
        Some(AnchorKind::Leaf) => false,
        Some(AnchorKind::System) => lifetime > system_max_seconds(not_before),
        // Private anchors, and chains with no anchor at all (trustd still applies them).
        Some(AnchorKind::Private) | None => {
            not_before >= APPLE_825_CUTOVER && lifetime > MAX_825_SECONDS
        }
    };
    if too_long {
        failures.push(fail(
            AppleCheck::Compliance,
            leaf_index,
            ctx.causes(&[
                FindingId::ValidityExceeds825Days,
                FindingId::ValidityExceeds398Days,
            ]),
        ));
    }

    // Certificate Transparency: system anchors only.
    if anchor == Some(AnchorKind::System)
        && not_before >= APPLE_CT_CUTOVER
        && ctx.at >= leaf.info.facts.not_before
        && ctx.at <= leaf.info.facts.not_after
    {
        let required = if lifetime <= 180 * DAY { 2 } else { 3 };
        if leaf.info.sct_count < required {
            failures.push(fail(AppleCheck::Compliance, leaf_index, Vec::new()));
        }
    }

    // Trust.
    if anchor.is_none() {
        let top = &ctx.certs[*path.last().unwrap_or(&leaf_index)];
        failures.push(AppleFailure {
            check: AppleCheck::Trust,
            cert: leaf_index,
            causes: ctx.causes(TRUST_CAUSES),
            missing_intermediate: !top.info.self_signed,
        });
    }

    // Server-auth EKU.
    let eku_ok = |cert: &Cert| {
        let f = &cert.info.facts;
        f.eku_present && (f.eku_server_auth || f.eku_any)
    };
    let eku_fails = match anchor {
        Some(AnchorKind::Private) => false,
        Some(AnchorKind::System) => {
            !eku_ok(leaf)
                || path.iter().skip(1).any(|&i| {
                    let f = &ctx.certs[i].info.facts;
                    f.eku_present && !f.eku_server_auth && !f.eku_any
                })
        }
        Some(AnchorKind::Leaf) | None => not_before >= APPLE_825_CUTOVER && !eku_ok(leaf),
    };
    if eku_fails {
        failures.push(fail(
            AppleCheck::Usage,
            leaf_index,
            ctx.causes(&[FindingId::MissingServerAuthEku]),
        ));
    }

    // Host name: SAN only.
    if let Some(host) = ctx.hostname {
        if !san_matches(leaf, host) {
            failures.push(fail(
                AppleCheck::Name,
                leaf_index,
                ctx.causes(&[FindingId::HostnameMismatch, FindingId::CnOnly]),
            ));
        }
    }
    failures
}

/// Apple CT enforcement applies to leaves issued from 2018-10-16.
const APPLE_CT_CUTOVER: i64 = 1_539_648_000;
const APPLE_60_MONTHS_CUTOVER: i64 = 1_467_331_200; // 2016-07-01
const APPLE_39_MONTHS_CUTOVER: i64 = 1_519_862_400; // 2018-03-01

/// The longest leaf validity Apple accepts under a system anchor, by issue date.
fn system_max_seconds(not_before: i64) -> i64 {
    const MONTH: i64 = 2_629_746; // 30.436875 days: the Gregorian mean month
    if not_before < APPLE_60_MONTHS_CUTOVER {
        60 * MONTH
    } else if not_before < APPLE_39_MONTHS_CUTOVER {
        39 * MONTH
    } else if not_before < PUBLIC_398_CUTOVER {
        MAX_825_SECONDS
    } else {
        MAX_398_SECONDS
    }
}

/// Apple's description as Go prints it (root_darwin.go).
fn error_text(ctx: &ClientContext<'_>, failure: &AppleFailure) -> String {
    let cert = &ctx.certs[failure.cert];
    // The name Apple's messages use (CertInfo::display_name), not Go's hint_name.
    let name = format!("\u{201c}{}\u{201d}", cert.info.display_name());
    match failure.check {
        AppleCheck::KeySize => format!("x509: {name} certificate is using a broken key size"),
        AppleCheck::WeakHash => {
            format!("x509: {name} certificate is using a broken signature algorithm")
        }
        AppleCheck::Compliance => format!("x509: {name} certificate is not standards compliant"),
        AppleCheck::Trust if failure.missing_intermediate => {
            format!("x509: {name} certificate is not trusted")
        }
        AppleCheck::Trust => "x509: certificate signed by unknown authority".into(),
        AppleCheck::Usage => format!("x509: {name} certificate is not permitted for this usage"),
        AppleCheck::Name => ctx
            .hostname
            .and_then(|host| go::hostname_error(ctx.leaf(), host))
            .unwrap_or_else(|| "x509: certificate is not valid for the host name".into()),
        AppleCheck::Expired => {
            let state = if ctx.at < cert.info.facts.not_before {
                "is not yet valid"
            } else {
                "is expired"
            };
            format!("x509: certificate has expired or is not yet valid: {name} certificate {state}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apple_system_maximums_follow_the_cut_over_dates() {
        assert_eq!(system_max_seconds(PUBLIC_398_CUTOVER), 398 * DAY);
        assert_eq!(system_max_seconds(PUBLIC_398_CUTOVER - 1), 825 * DAY + 3600);
        assert!(system_max_seconds(APPLE_39_MONTHS_CUTOVER - 1) > 1180 * DAY);
        assert!(system_max_seconds(APPLE_60_MONTHS_CUTOVER - 1) > 1820 * DAY);
    }
}

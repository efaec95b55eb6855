//! The trust verdicts in one finding: why nothing trusts the chain when no other finding
//! explains it, or that only a private or local anchor does.

use super::context::Context;
use crate::findings::{Finding, FindingId};
use crate::trust::StoreKind;

/// Findings that already say why no store trusts the chain.
const EXPLAINS_UNTRUSTED: &[FindingId] = &[
    FindingId::SelfSignedLeaf,
    FindingId::UntrustedRoot,
    FindingId::IncompleteChain,
    FindingId::Expired,
    FindingId::NotYetValid,
    FindingId::WeakSignatureSha1,
    FindingId::WeakRsaKey,
    FindingId::IssuerNotCa,
    FindingId::MalformedCertificate,
    FindingId::MissingServerAuthEku,
    FindingId::LeafIsCa,
    FindingId::ChainLoop,
    FindingId::UnknownCriticalExtension,
];

/// Reads the findings so far, so it runs last.
pub(super) fn trust_summary(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let trusted: Vec<StoreKind> = ctx
        .trust
        .iter()
        .filter(|v| v.trusted)
        .map(|v| v.store)
        .collect();
    if trusted.is_empty() {
        if !out.iter().any(|f| EXPLAINS_UNTRUSTED.contains(&f.id)) {
            let errors: Vec<String> = ctx
                .trust
                .iter()
                .map(|v| format!("{}: {}", v.store, v.error.clone().unwrap_or_default()))
                .collect();
            out.push(Finding::new(
                FindingId::UntrustedChain,
                None,
                format!(
                    "No evaluated store accepts the chain ({}).",
                    errors.join("; ")
                ),
            ));
        }
    } else if trusted == [StoreKind::CaFile] {
        out.push(Finding::new(
            FindingId::PrivateTrustOnly,
            None,
            "The chain is trusted through the --ca-file anchors only; neither the OS store nor Mozilla's public list trusts it. The client verdicts assume this CA is installed wherever each client looks: admin.caCertFilePath for flytectl and pyflyte, the macOS keychain, the Linux OS store and the browser.",
        ));
    } else if trusted == [StoreKind::System] {
        out.push(Finding::new(
            FindingId::SystemTrustOnly,
            None,
            "This machine's OS store trusts the chain, but Mozilla's public list does not: the root was added locally.",
        ));
    }
}

//! Where the chain ends: a self-signed leaf, a root no store trusts, issuers that loop,
//! or an issuer that was not sent. At most one of these applies.

use super::context::Context;
use crate::chain::MAX_CHAIN_CERTIFICATES;
use crate::findings::{Finding, FindingId, Severity};
use crate::trust;

pub(super) fn anchor_findings(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let leaf = ctx.leaf();
    let path = ctx.path();
    let top = ctx.top();
    let top_self_signed = ctx.structure.top_self_signed;
    let issuer_of_top_on_path = path
        .iter()
        .find(|c| c.info.facts.subject_der == top.info.facts.issuer_der);

    if leaf.info.self_signed {
        let finding = Finding::new(
            FindingId::SelfSignedLeaf,
            Some(leaf.info.position),
            format!(
                "The server certificate \"{}\" is self-signed: it vouches for itself, so no client trusts it unless that exact certificate is installed as trusted.",
                leaf.info.display_name()
            ),
        );
        out.push(if ctx.leaf_anchored() {
            finding.severity(Severity::Warning)
        } else {
            finding
        });
    } else if !ctx.any_trusted() && top_self_signed {
        let anchored = ctx.stores.iter().any(|s| s.anchor_certs.contains(&top.der))
            || trust::anchor_named(ctx.stores, &top.info.facts.subject_der).is_some();
        if !anchored {
            out.push(Finding::new(
                FindingId::UntrustedRoot,
                Some(top.info.position),
                format!(
                    "The chain ends in the root \"{}\", which none of the evaluated stores ({}) trusts.",
                    top.info.subject,
                    ctx.store_names()
                ),
            ));
        }
    } else if let Some(issuer) = issuer_of_top_on_path.filter(|_| !top_self_signed) {
        out.push(Finding::new(
            FindingId::ChainLoop,
            Some(top.info.position),
            format!(
                "The certificates issue each other in a loop: \"{}\" (#{}) names #{} as its issuer, which is already on the path. No root is ever reached.",
                top.info.display_name(),
                top.info.position,
                issuer.info.position
            ),
        ));
    } else if !top_self_signed
        && ctx.presented <= MAX_CHAIN_CERTIFICATES
        && trust::anchor_named(ctx.stores, &top.info.facts.issuer_der).is_none()
    {
        out.push(incomplete_chain(ctx));
    }
}

/// The top's issuer is missing: say where to get it when the certificate says (AIA).
fn incomplete_chain(ctx: &Context<'_>) -> Finding {
    let top = ctx.top();
    let mut message = format!(
        "The issuer of \"{}\" — \"{}\" — was not sent and is not a trust anchor in any evaluated store ({}).",
        top.info.display_name(),
        top.info.issuer,
        ctx.store_names()
    );
    let mut fix = FindingId::IncompleteChain.kind().remediation.to_string();
    if let Some(url) = top.info.ca_issuers_urls.first() {
        message.push_str(&format!(" Its AIA caIssuers URL is {url}."));
        fix = format!(
            "Download the missing intermediate \"{}\" from {url} (convert DER with `openssl x509 -inform DER -in FILE -out intermediate.pem`) and append it after the leaf in the served certificate file. Browsers and macOS fetch it themselves, which is why the site may work there while Go, grpcio and curl fail.",
            top.info.issuer
        );
    }
    Finding::new(FindingId::IncompleteChain, Some(top.info.position), message).remediation(fix)
}

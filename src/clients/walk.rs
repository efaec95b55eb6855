//! The chain walk several client models share: from the leaf up the links proven by
//! signature to an anchor of a given pool, the way Go's chain builder goes. A verifier
//! with its own checks on each issuer (Go) passes them as `IssuerChecks`.

use crate::chain::Cert;
use crate::findings::FindingId;
use crate::trust::{self, TrustStore};

use super::context::ClientContext;

/// `cert` is itself an anchor of `pool` (same certificate, or same subject and key).
pub(super) fn pool_contains(pool: &[&TrustStore], cert: &Cert) -> bool {
    let facts = &cert.info.facts;
    let (Some(subject), Some(spki)) = (
        trust::sequence_content(&facts.subject_der),
        trust::sequence_content(&facts.spki_der),
    ) else {
        return false;
    };
    pool.iter().any(|store| {
        store.anchor_certs.contains(&cert.der)
            || store.anchors.iter().any(|a| {
                a.subject.as_ref() == subject && a.subject_public_key_info.as_ref() == spki
            })
    })
}

/// An anchor of `pool` whose name is `cert`'s issuer and whose key verifies its signature.
pub(super) fn pool_issuer(pool: &[&TrustStore], cert: &Cert) -> Option<String> {
    let issuer = trust::sequence_content(&cert.info.facts.issuer_der)?;
    pool.iter()
        .flat_map(|store| store.anchors.iter())
        .filter(|anchor| anchor.subject.as_ref() == issuer)
        .find(|anchor| cert.signed_by(&trust::anchor_spki_der(anchor)))
        .map(trust::anchor_subject)
}

/// Where the walk from the leaf ends.
#[derive(Debug)]
pub(super) enum Walk {
    /// The leaf itself is an anchor.
    LeafAnchor,
    /// Reached an anchor.
    Anchored,
    /// A candidate issuer failed the verifier's own check of it (Go: expiry, path
    /// length), reported as it is rather than as a hint.
    Invalid(String),
    /// No anchor reachable.
    Untrusted {
        /// Why the verifier refused the issuer it tried last, if it did.
        hint: Option<Hint>,
        /// The last sent certificate's issuer is missing (neither sent nor an anchor).
        missing_issuer: bool,
    },
}

/// A refused issuer, as Go's "possibly because of" hint names it.
#[derive(Debug)]
pub(super) struct Hint {
    pub(super) error: String,
    pub(super) candidate: String,
}

/// What a verifier checks on the issuers the walk tries, beyond "is it an anchor". The
/// defaults check nothing (OpenSSL's and Chrome's walks, Apple's anchor inference).
pub(super) trait IssuerChecks {
    /// A hint when the verifier refuses `cert`'s signature by the pool anchor `anchor`.
    fn refuse_anchor_signature(&self, _cert: &Cert, _anchor: &str) -> Option<Hint> {
        None
    }

    /// Whether the walk may go on from `cert`, at `step` on the path, to the sent
    /// certificate `issuer` above it.
    fn check_candidate(&self, _step: usize, _cert: &Cert, _issuer: &Cert) -> Candidate {
        Candidate::Accepted
    }
}

/// The walk's only question: is there an anchor.
struct AnchorOnly;

impl IssuerChecks for AnchorOnly {}

/// One candidate issuer, as a verifier judges it.
pub(super) enum Candidate {
    Accepted,
    /// The issuer's signature on the certificate is refused: the walk ends untrusted.
    Refused(Hint),
    /// The issuer itself is invalid: the walk ends with this error.
    Invalid(String),
}

/// Walks from the leaf up the signature-proven links to an anchor of `pool`.
pub(super) fn walk(ctx: &ClientContext<'_>, pool: &[&TrustStore]) -> Walk {
    walk_checking(ctx, pool, &AnchorOnly)
}

/// Walks from the leaf up the signature-proven links, as Go's chain builder would, while
/// applying the verifier's `checks` to each issuer it tries.
pub(super) fn walk_checking(
    ctx: &ClientContext<'_>,
    pool: &[&TrustStore],
    checks: &impl IssuerChecks,
) -> Walk {
    let leaf = ctx.leaf();
    if pool_contains(pool, leaf) {
        return Walk::LeafAnchor;
    }
    let path = &ctx.structure.path;
    let mut hint = None;
    for (step, &index) in path.iter().enumerate() {
        let current = &ctx.certs[index];
        if let Some(anchor) = pool_issuer(pool, current) {
            if let Some(refused) = checks.refuse_anchor_signature(current, &anchor) {
                return Walk::Untrusted {
                    hint: Some(refused),
                    missing_issuer: false,
                };
            }
            return Walk::Anchored;
        }
        if step > 0 && pool_contains(pool, current) {
            return Walk::Anchored;
        }
        let Some(&next_index) = path.get(step + 1) else {
            break;
        };
        match checks.check_candidate(step, current, &ctx.certs[next_index]) {
            Candidate::Accepted => {}
            Candidate::Refused(refused) => {
                hint = Some(refused);
                break;
            }
            Candidate::Invalid(error) => return Walk::Invalid(error),
        }
    }
    let top = &ctx.certs[*path.last().unwrap_or(&ctx.structure.leaf)];
    Walk::Untrusted {
        hint,
        missing_issuer: !top.info.self_signed,
    }
}

/// `ca` has a pathLenConstraint smaller than the `intermediates_below` it would have.
pub(super) fn exceeds_path_len(ca: &Cert, intermediates_below: usize) -> bool {
    ca.info
        .path_len_constraint
        .is_some_and(|max| intermediates_below > max as usize)
}

/// The findings that explain why a verifier finds no trusted path.
pub(super) const TRUST_CAUSES: &[FindingId] = &[
    FindingId::ChainLoop,
    FindingId::TooManyCertificates,
    FindingId::SelfSignedLeaf,
    FindingId::UntrustedRoot,
    FindingId::IncompleteChain,
    FindingId::IssuerNotCa,
    FindingId::WeakSignatureSha1,
    FindingId::Expired,
    FindingId::NotYetValid,
    FindingId::UntrustedChain,
    FindingId::IngressDefaultCertificate,
];

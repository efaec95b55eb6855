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
    /// No anchor reachable.
    Untrusted {
        /// The last sent certificate's issuer is missing (neither sent nor an anchor).
        missing_issuer: bool,
    },
}

/// Walks from the leaf up the signature-proven links to an anchor of `pool`: the
/// question the models still built on the chain's structure ask (Go has its own engine).
pub(super) fn walk(ctx: &ClientContext<'_>, pool: &[&TrustStore]) -> Walk {
    let leaf = ctx.leaf();
    if pool_contains(pool, leaf) {
        return Walk::LeafAnchor;
    }
    let path = &ctx.structure.path;
    for (step, &index) in path.iter().enumerate() {
        let current = &ctx.certs[index];
        if pool_issuer(pool, current).is_some() || (step > 0 && pool_contains(pool, current)) {
            return Walk::Anchored;
        }
    }
    let top = &ctx.certs[*path.last().unwrap_or(&ctx.structure.leaf)];
    Walk::Untrusted {
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

/// The certificates of `pool` a verifier could put on a path for this chain: those named
/// as the issuer of a presented (or fetched) certificate or equal to one, and with `transitive`, the
/// issuers of those in turn (OpenSSL and BoringSSL extend a path through the store; Go
/// takes roots only). Parsing a whole OS store per check would cost more than the
/// handshake; the others can never be used. Stores whose anchors lack certificates
/// contribute nothing.
pub(super) fn store_candidates<'a>(
    ctx: &ClientContext<'_>,
    pool: &[&'a TrustStore],
    transitive: bool,
) -> Vec<&'a [u8]> {
    // Fetched issuers (AIA) name roots too; only the clients that fetch can reach them.
    let mut wanted: Vec<Vec<u8>> = ctx
        .certs
        .iter()
        .chain(ctx.aia_fetched.iter().map(|f| &f.cert))
        .filter_map(|c| crate::trust::sequence_content(&c.info.facts.issuer_der))
        .map(<[u8]>::to_vec)
        .collect();
    let mut chosen: Vec<&'a [u8]> = Vec::new();
    let mut frontier = 0;
    loop {
        let chosen_before = chosen.len();
        for store in pool {
            if store.anchor_certs.len() != store.anchors.len() {
                continue;
            }
            for (anchor, der) in store.anchors.iter().zip(&store.anchor_certs) {
                let der = der.as_ref();
                if chosen.contains(&der) {
                    continue;
                }
                let named = wanted[frontier..]
                    .iter()
                    .any(|w| w.as_slice() == anchor.subject.as_ref());
                let presented = frontier == 0 && ctx.presented.iter().any(|p| p.as_ref() == der);
                if named || presented {
                    chosen.push(der);
                }
            }
        }
        if !transitive || chosen.len() == chosen_before {
            return chosen;
        }
        // The new certificates' issuers are the next names to look for.
        frontier = wanted.len();
        for der in &chosen[chosen_before..] {
            if let Some(issuer) = issuer_name_content(der) {
                if !wanted.contains(&issuer) {
                    wanted.push(issuer);
                }
            }
        }
        if wanted.len() == frontier {
            return chosen;
        }
    }
}

/// A certificate's issuer name (the content of the Name SEQUENCE), remembered per DER.
fn issuer_name_content(der: &[u8]) -> Option<Vec<u8>> {
    static ISSUERS: crate::verifiers::ParseCache<Option<Vec<u8>>> =
        crate::verifiers::ParseCache::new();
    ISSUERS.get(der, |der| {
        let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
        crate::trust::sequence_content(cert.issuer().as_raw()).map(<[u8]>::to_vec)
    })
}

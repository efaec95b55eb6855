//! What the client engines share: the store certificates that could be on a path, and
//! the findings that explain a refusal for want of trust.

use crate::findings::FindingId;
use crate::trust::TrustStore;

use super::context::ClientContext;

/// The findings that explain why a verifier finds no trusted path.
pub const TRUST_CAUSES: &[FindingId] = &[
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
pub(super) fn issuer_name_content(der: &[u8]) -> Option<Vec<u8>> {
    static ISSUERS: crate::verifiers::ParseCache<Option<Vec<u8>>> =
        crate::verifiers::ParseCache::new();
    ISSUERS.get(der, |der| {
        let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
        crate::trust::sequence_content(cert.issuer().as_raw()).map(<[u8]>::to_vec)
    })
}

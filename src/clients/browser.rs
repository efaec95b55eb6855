//! Chrome's verdict (see [`crate::verifiers::chrome`]): Chromium on Linux with the Chrome
//! Root Store (certready's Mozilla list stands for it) and the user's NSS roots (the
//! `--ca-file` anchors, assumed imported). The OS store is not among them: Chrome on Linux
//! does not read it.

use crate::findings::FindingId;
use crate::trust::{self, StoreKind, TrustStore};
use crate::verifiers::chrome::{self, CertStatus, Options, Roots};

use super::context::{Channel, ClientContext, ClientName, ClientVerdict, Refusal};
use super::walk::{store_candidates, TRUST_CAUSES};

/// Chrome's verdict on the HTTPS channel. A missing intermediate counts as fetched when
/// the certificate whose issuer is missing names a caIssuers URL (certready does not fetch
/// it): the rest of the chain is still judged.
pub(super) fn chrome(ctx: &ClientContext<'_>) -> ClientVerdict {
    let roots = roots(ctx);
    let presented = ctx.presented_leaf_first();
    let host = ctx.hostname.map(|h| h.to_string()).unwrap_or_default();
    // No fetched certificates yet: AIA completion is assumed below instead.
    let fetched: Vec<&[u8]> = Vec::new();
    let run = |options| chrome::verify(&presented, &roots, &fetched, &host, ctx.at, options);
    let mut note = None;
    let mut outcome = run(Options::default());
    if let Err(refusal) = &outcome {
        if let Some(url) = aia_url_for_missing_issuer(ctx, refusal) {
            note = Some(format!(
                "Chrome fetches the missing intermediate from {url}; assumed to work if that URL serves it and it chains to a trusted root. Go, grpcio and curl do not fetch it."
            ));
            outcome = run(Options {
                assume_aia_issuer: true,
                ..Options::default()
            });
        }
    }
    let outcome: Result<(), Refusal> = outcome.map(|_| ()).map_err(|refusal| {
        ctx.refusal(
            format!("NET::{}", refusal.net_error),
            causes_of(refusal.net_error),
        )
    });
    ClientVerdict::new(ClientName::Browser, Channel::Https, outcome, note)
}

/// The roots Chrome would use for this chain: the CA file's certificates that could be on
/// a path (as NSS user roots), and the Mozilla anchors named as an issuer of a sent
/// certificate or equal to one (as the Chrome Root Store).
fn roots(ctx: &ClientContext<'_>) -> Roots {
    let local: Vec<&TrustStore> = ctx
        .stores
        .iter()
        .filter(|s| s.kind == StoreKind::CaFile)
        .collect();
    let local = store_candidates(ctx, &local, false);
    let wanted: Vec<&[u8]> = ctx
        .certs
        .iter()
        .flat_map(|c| [&c.info.facts.issuer_der, &c.info.facts.subject_der])
        .filter_map(|name| trust::sequence_content(name))
        .collect();
    let public: Vec<(Vec<u8>, Vec<u8>)> = ctx
        .stores
        .iter()
        .filter(|s| s.kind == StoreKind::Mozilla)
        .flat_map(|s| s.anchors.iter())
        .filter(|a| wanted.contains(&a.subject.as_ref()))
        .map(|a| (trust::anchor_subject_der(a), trust::anchor_spki_der(a)))
        .collect();
    Roots::new(
        local,
        public.iter().map(|(s, k)| (s.as_slice(), k.as_slice())),
    )
}

/// The caIssuers URL Chrome would fetch when path building stopped at a certificate whose
/// issuer it could not find.
fn aia_url_for_missing_issuer(
    ctx: &ClientContext<'_>,
    refusal: &chrome::Refusal,
) -> Option<String> {
    if !refusal.status.has(CertStatus::AUTHORITY_INVALID) {
        return None;
    }
    let der = refusal.issuer_not_found_for.as_deref()?;
    let cert = ctx.certs.iter().find(|c| c.der.as_ref() == der)?;
    cert.info
        .ca_issuers_urls
        .iter()
        .find(|url| url.to_ascii_lowercase().starts_with("http://"))
        .cloned()
}

/// The findings that explain a net error.
fn causes_of(net_error: &str) -> &'static [FindingId] {
    match net_error {
        "ERR_CERT_INVALID" => &[
            FindingId::MissingServerAuthEku,
            FindingId::MalformedCertificate,
            FindingId::UnknownCriticalExtension,
            FindingId::IssuerNotCa,
        ],
        "ERR_CERT_AUTHORITY_INVALID" => TRUST_CAUSES,
        "ERR_CERT_COMMON_NAME_INVALID" => &[FindingId::HostnameMismatch, FindingId::CnOnly],
        "ERR_CERT_WEAK_SIGNATURE_ALGORITHM" => &[FindingId::WeakSignatureSha1],
        "ERR_CERT_WEAK_KEY" => &[FindingId::WeakRsaKey],
        "ERR_CERT_DATE_INVALID" => &[FindingId::Expired, FindingId::NotYetValid],
        "ERR_CERT_VALIDITY_TOO_LONG" => &[FindingId::ValidityExceeds398Days],
        _ => &[],
    }
}

//! Chrome's verdict (see [`crate::verifiers::chrome`]): the Chrome Root Store (certready's
//! Mozilla list stands for it) and the user's locally trusted roots: the `--ca-file`
//! anchors (assumed imported) and the OS store's roots that are not public ones (Chrome on
//! macOS and Windows trusts roots added there; Chrome on Linux only those imported into
//! its NSS database, which the verdict's note says).

use crate::findings::FindingId;
use crate::trust::{self, StoreKind, TrustStore};
use crate::verifiers::chrome::{self, CertStatus, Options, Roots};

use super::context::{Channel, ClientContext, ClientName, ClientVerdict, Fetcher, Refusal};
use super::roots::{store_candidates, TRUST_CAUSES};
use crate::verifiers::pattern::Pattern;

/// How Chrome shows a net error on its interstitial page.
pub const NET_ERROR: Pattern = Pattern(&["NET::", ""]);

/// Chrome's verdict on the HTTPS channel. A missing intermediate is looked for among what
/// certready fetched from the AIA URL as Chrome does (`ClientContext::aia_fetched`).
pub(super) fn chrome(ctx: &ClientContext<'_>) -> ClientVerdict {
    if let Some(refusal) = handshake_refusal(ctx) {
        return ClientVerdict::new(ClientName::Browser, Channel::Https, Err(refusal), None);
    }
    let roots = roots(ctx);
    let presented = ctx.presented_leaf_first();
    let host = ctx.hostname.map(|h| h.to_string()).unwrap_or_default();
    let fetched_certs = ctx.aia_for(Fetcher::Chrome);
    let fetched: Vec<&[u8]> = fetched_certs.iter().map(|c| c.der.as_ref()).collect();
    let outcome = chrome::verify(
        &presented,
        &roots,
        &fetched,
        &host,
        ctx.at,
        Options {
            ct_policy_met: ctx.ct.is_none_or(crate::ct::CtReport::chrome_met),
            ..Options::default()
        },
    );
    let note = match (&outcome, fetched_certs.first()) {
        (Ok(_), Some(first)) => Some(format!(
            "Chrome fetches the missing intermediate \"{}\" from its AIA URL, as certready did ({}). Go, grpcio and curl do not fetch it.",
            first.info.subject,
            ctx.aia_fetched.first().map(|f| f.url.as_str()).unwrap_or_default()
        )),
        (Err(refusal), _) => aia_url_for_missing_issuer(ctx, refusal).map(|url| format!(
            "Chrome tries to fetch the missing intermediate from {url}; what certready fetched there does not complete the chain (or fetching was off): see the incomplete-chain finding."
        )),
        _ => None,
    };
    let only_os_store = |ctx: &ClientContext<'_>| {
        let trusted = |kind| ctx.trust.iter().any(|v| v.store == kind && v.trusted);
        trusted(StoreKind::System) && !trusted(StoreKind::CaFile) && !trusted(StoreKind::Mozilla)
    };
    let note = match note {
        None if outcome.is_ok() && cfg!(target_os = "linux") && only_os_store(ctx) => Some(
            "the CA is in this machine's OS store; Chrome on macOS and Windows trusts such roots, Chrome on Linux only once imported into its NSS database (certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n CA -i ca.pem)".into(),
        ),
        note => note,
    };
    // Chrome checks a stapled "revoked" for the leaf once the path is otherwise valid, and
    // REVOKED outranks the errors found after path building (notes/revocation.md, from
    // revocation_checker.cc and MapCertStatusToNetError).
    let path_valid = match &outcome {
        Ok(_) => true,
        Err(refusal) => ["ERR_CERT_COMMON_NAME_INVALID", "ERR_CERT_VALIDITY_TOO_LONG"]
            .contains(&refusal.net_error),
    };
    if path_valid && stapled_revoked(ctx) {
        let refusal = ctx.refusal(NET_ERROR.fill(&[ERR_CERT_REVOKED]), &[FindingId::Revoked]);
        return ClientVerdict::new(ClientName::Browser, Channel::Https, Err(refusal), note);
    }
    let outcome: Result<(), Refusal> = outcome.map(|_| ()).map_err(|refusal| {
        ctx.refusal(
            NET_ERROR.fill(&[refusal.net_error]),
            causes_of(refusal.net_error),
        )
    });
    ClientVerdict::new(ClientName::Browser, Channel::Https, outcome, note)
}

/// Chrome's net error for a revoked certificate (net_error_list.h: CERT_REVOKED, -206).
pub const ERR_CERT_REVOKED: &str = "ERR_CERT_REVOKED";

/// The server stapled a valid, current OCSP response saying the leaf is revoked.
fn stapled_revoked(ctx: &ClientContext<'_>) -> bool {
    let Some(leaf) = ctx.certs.get(ctx.structure.leaf) else {
        return false;
    };
    ctx.revocation
        .iter()
        .any(|r| r.position == leaf.info.position && r.stapled_revoked(ctx.at))
}

/// What Chrome's TLS stack (BoringSSL) refuses before any certificate verification, as
/// seen from Chromium 156 in the differential test: a server key it offers no signature
/// scheme for (Ed25519, P-521: the server aborts the handshake), then a first certificate
/// whose keyUsage lacks digitalSignature (TLS 1.3's check on the leaf as sent).
fn handshake_refusal(ctx: &ClientContext<'_>) -> Option<Refusal> {
    if ctx.server_key_boringssl_cannot_verify().is_some() {
        return Some(ctx.refusal(format!("NET::{}", chrome::ERR_SSL_PROTOCOL_ERROR), &[]));
    }
    ctx.first_certificate_cannot_sign().then(|| {
        ctx.refusal(
            format!("NET::{}", chrome::ERR_SSL_KEY_USAGE_INCOMPATIBLE),
            &[FindingId::IncompatibleKeyUsage, FindingId::LeafIsCa],
        )
    })
}

/// NSS as Debian 12 ships it cannot import an Ed25519 certificate: such a root never
/// reaches Chrome's NSS database (the differential test's driver meets the same).
fn importable_into_nss(der: &[u8]) -> bool {
    // An Ed25519 SubjectPublicKeyInfo: AlgorithmIdentifier{1.3.101.112}, a 32-byte key.
    const ED25519_SPKI: &[u8] = &[0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];
    !der.windows(ED25519_SPKI.len()).any(|w| w == ED25519_SPKI)
}

/// The roots Chrome would use for this chain: the CA file's certificates that could be on
/// a path (as NSS user roots), and the Mozilla anchors named as an issuer of a sent
/// certificate or equal to one (as the Chrome Root Store).
fn roots(ctx: &ClientContext<'_>) -> Roots {
    let local: Vec<&TrustStore> = ctx
        .stores
        .iter()
        .filter(|s| matches!(s.kind, StoreKind::CaFile | StoreKind::System))
        .collect();
    // The OS store holds the public roots too: those stay Chrome Root Store roots.
    let is_public = |der: &[u8]| {
        let Some(anchor) = ctx
            .stores
            .iter()
            .filter(|s| s.kind == StoreKind::System)
            .flat_map(|s| s.anchors.iter().zip(&s.anchor_certs))
            .find(|(_, cert)| cert.as_ref() == der)
            .map(|(anchor, _)| anchor)
        else {
            return false;
        };
        ctx.stores
            .iter()
            .filter(|s| s.kind == StoreKind::Mozilla)
            .flat_map(|s| s.anchors.iter())
            .any(|a| a.subject_public_key_info == anchor.subject_public_key_info)
    };
    let local: Vec<&[u8]> = store_candidates(ctx, &local, false)
        .into_iter()
        .filter(|der| !is_public(der) && importable_into_nss(der))
        .collect();
    let wanted: Vec<&[u8]> = ctx
        .certs
        .iter()
        .chain(ctx.aia_fetched.iter().map(|f| &f.cert))
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

/// The findings that explain a Certificate Transparency refusal.
pub(super) const CT_CAUSES: &[FindingId] = &[
    FindingId::CtInsufficientScts,
    FindingId::CtSctInvalid,
    FindingId::CtUnknownLog,
];

/// The findings that explain a net error.
pub(super) fn causes_of(net_error: &str) -> &'static [FindingId] {
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
        ERR_CERT_REVOKED => &[FindingId::Revoked],
        "ERR_CERTIFICATE_TRANSPARENCY_REQUIRED" => CT_CAUSES,
        _ => &[],
    }
}

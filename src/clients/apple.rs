//! flytectl on macOS: Go's `Verify` with the system roots hands the chain to Apple's
//! trustd (see [`crate::verifiers::apple`]). What the Mac trusts is not visible from
//! here: the compiled-in (or `--public-roots`) Mozilla list stands for its system roots,
//! `--ca-file` and this machine's OS store for CAs added to its keychain, and
//! `--anchor-kind` says how the Mac trusts the chain when certready cannot know.

use crate::findings::FindingId;
use crate::trust::{self, StoreKind, TrustStore};
use crate::verifiers::apple::{self, Anchor, AnchorCert, AnchorSource, Check, Stage};

use super::context::{AnchorKind, ClientContext, Fetcher, Refusal};
use super::roots::{issuer_name_content, TRUST_CAUSES};

/// What flytectl on macOS says about the chain: Ok, or the error as crypto/tls returns
/// it (trustd's failure through root_darwin.go, or Go's own checks around it).
pub(super) fn verify(ctx: &ClientContext<'_>) -> Result<(), Refusal> {
    ctx.apple_outcome.0.get_or_init(|| evaluate(ctx)).clone()
}

fn evaluate(ctx: &ClientContext<'_>) -> Result<(), Refusal> {
    let presented = ctx.presented_leaf_first();
    // What certready fetched without a redirect (trustd follows none).
    let aia: Vec<&[u8]> = ctx
        .aia_for(Fetcher::Apple)
        .into_iter()
        .map(|cert| cert.der.as_ref())
        .collect();
    let anchors = anchors(ctx, &presented, &aia);
    let options = apple::Options {
        ct_policy_met: ctx.ct.is_none_or(crate::ct::CtReport::apple_met),
    };
    apple::verify(
        &presented,
        &anchors,
        &aia,
        &ctx.server_name(),
        ctx.at,
        options,
    )
    .map_err(|refusal| ctx.refusal(refusal.text, causes_of(refusal.stage)))
}

/// The findings that explain a refusal, by the check that made it.
pub(super) fn causes_of(stage: Stage) -> &'static [FindingId] {
    match stage {
        Stage::GoParse | Stage::AppleParse => &[FindingId::MalformedCertificate],
        Stage::GoHostname => &[FindingId::HostnameMismatch, FindingId::CnOnly],
        Stage::GoKeyUsage => &[FindingId::MissingServerAuthEku],
        Stage::GoLeafKey => &[FindingId::WeakRsaKey],
        Stage::Trustd { check, .. } => match check {
            Check::WeakKeySize | Check::KeySize => &[FindingId::WeakRsaKey],
            Check::WeakSignature | Check::SignatureHashAlgorithms => {
                &[FindingId::WeakSignatureSha1]
            }
            Check::ValidityPeriodMaximums => &[
                FindingId::ValidityExceeds825Days,
                FindingId::ValidityExceeds398Days,
            ],
            Check::CriticalExtensions => &[FindingId::UnknownCriticalExtension],
            Check::BasicConstraints | Check::BasicConstraintsCa => &[FindingId::IssuerNotCa],
            Check::AnchorTrusted | Check::MissingIntermediate => TRUST_CAUSES,
            Check::ExtendedKeyUsage | Check::ServerAuthEku => &[FindingId::MissingServerAuthEku],
            Check::SslHostname => &[FindingId::HostnameMismatch, FindingId::CnOnly],
            Check::TemporalValidity => &[FindingId::Expired, FindingId::NotYetValid],
            Check::KeyUsage
            | Check::BasicConstraintsPathLen
            | Check::IdLinkage
            | Check::NonEmptySubject => &[],
            Check::SystemTrustedCtRequired => super::browser::CT_CAUSES,
        },
    }
}

/// The Mac's anchors that could matter for this chain: those named as the issuer of a
/// certificate sent or fetched (and, for stores with whole certificates, the issuers of
/// those in turn), and those identical to one sent. Only they are parsed: a whole OS
/// store per check would cost more than the handshake.
fn anchors<'a>(
    ctx: &'a ClientContext<'_>,
    presented: &[&'a [u8]],
    aia: &[&'a [u8]],
) -> Vec<Anchor<'a>> {
    let stores: Vec<(&TrustStore, AnchorSource)> = [
        (StoreKind::Mozilla, AnchorSource::System),
        (StoreKind::CaFile, AnchorSource::TrustSettings),
        (StoreKind::System, AnchorSource::TrustSettings),
    ]
    .into_iter()
    .filter_map(|(kind, source)| ctx.store(kind).map(|store| (store, source)))
    .collect();
    let mut wanted: Vec<Vec<u8>> = presented
        .iter()
        .chain(aia)
        .filter_map(|der| issuer_name_content(der))
        .collect();
    let mut chosen: Vec<Anchor<'a>> = Vec::new();
    let mut chosen_ids: Vec<(usize, usize)> = Vec::new();
    let mut frontier = 0;
    loop {
        let before = chosen.len();
        for (store_index, (store, source)) in stores.iter().enumerate() {
            let whole = store.anchor_certs.len() == store.anchors.len();
            for (index, anchor) in store.anchors.iter().enumerate() {
                if chosen_ids.contains(&(store_index, index)) {
                    continue;
                }
                let subject = anchor.subject.as_ref();
                let named = wanted[frontier..]
                    .iter()
                    .any(|w| w.eq_ignore_ascii_case(subject));
                let der = whole.then(|| store.anchor_certs[index].as_ref());
                let sent = frontier == 0 && der.is_some_and(|d| presented.contains(&d));
                if !named && !sent {
                    continue;
                }
                chosen_ids.push((store_index, index));
                chosen.push(Anchor {
                    cert: match der {
                        Some(der) => AnchorCert::Der(der),
                        None => AnchorCert::Bare {
                            subject,
                            spki: anchor.subject_public_key_info.as_ref(),
                        },
                    },
                    source: *source,
                });
            }
        }
        if chosen.len() == before {
            break;
        }
        // The new anchors' own issuers are the next names to look for.
        frontier = wanted.len();
        for anchor in &chosen[before..] {
            if let AnchorCert::Der(der) = anchor.cert {
                if let Some(issuer) = issuer_name_content(der) {
                    if !wanted.contains(&issuer) {
                        wanted.push(issuer);
                    }
                }
            }
        }
        if wanted.len() == frontier {
            break;
        }
    }
    apply_anchor_kind(ctx, presented, chosen)
}

/// `--anchor-kind`: the user says how the Mac trusts the chain. A leaf anchor is the leaf
/// in the keychain; a system or private root is every anchor found taken as that kind,
/// and the top of the chain sent when no anchor issues it and it is a CA (a root or an
/// intermediate standing for the root certready cannot see).
fn apply_anchor_kind<'a>(
    ctx: &'a ClientContext<'_>,
    presented: &[&'a [u8]],
    mut chosen: Vec<Anchor<'a>>,
) -> Vec<Anchor<'a>> {
    let source = match ctx.options.anchor_kind {
        None => return chosen,
        Some(AnchorKind::Leaf) => {
            chosen.insert(
                0,
                Anchor {
                    cert: AnchorCert::Der(presented[0]),
                    source: AnchorSource::TrustSettings,
                },
            );
            return chosen;
        }
        Some(AnchorKind::System) => AnchorSource::System,
        Some(AnchorKind::Private) => AnchorSource::TrustSettings,
    };
    for anchor in &mut chosen {
        anchor.source = source;
    }
    let top = &ctx.certs[*ctx.structure.path.last().unwrap_or(&ctx.structure.leaf)];
    let issued_by_anchor =
        trust::sequence_content(&top.info.facts.issuer_der).is_some_and(|issuer| {
            chosen.iter().any(|anchor| match anchor.cert {
                AnchorCert::Der(der) => {
                    subject_content(der).is_some_and(|subject| subject == issuer)
                }
                AnchorCert::Bare { subject, .. } => subject == issuer,
            })
        });
    // A leaf whose issuer was not sent is not what the user trusts: it stays unanchored,
    // so trustd's missing-intermediate failure still shows.
    if top.info.self_signed || (!issued_by_anchor && top.info.is_ca) {
        chosen.push(Anchor {
            cert: AnchorCert::Der(top.der.as_ref()),
            source,
        });
    }
    chosen
}

/// A certificate's subject Name, as contents (what TrustAnchor keeps).
fn subject_content(der: &[u8]) -> Option<Vec<u8>> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    trust::sequence_content(cert.subject().as_raw()).map(<[u8]>::to_vec)
}

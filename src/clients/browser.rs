//! Chrome's certificate verifier: the status flags it checks, mapped to the one
//! NET::ERR_CERT_* error it shows, in Chrome's order.

use crate::chain::Cert;
use crate::findings::FindingId;
use crate::rules::{DAY, MAX_398_SECONDS, PUBLIC_398_CUTOVER};
use crate::trust::{StoreKind, TrustStore};

use super::context::{Channel, ClientContext, ClientName, ClientVerdict, Fetcher};
use super::hostname::san_matches;
use super::walk::{walk, walk_fetching, Walk, TRUST_CAUSES};

/// Chrome's verdict on the HTTPS channel, trusting every store given; a missing
/// intermediate completes the chain when certready fetched it from the AIA URL as Chrome
/// does (`ClientContext::aia_fetched`).
pub(super) fn chrome(ctx: &ClientContext<'_>) -> ClientVerdict {
    let leaf = ctx.leaf();
    let pool: Vec<&TrustStore> = ctx.stores.iter().collect();
    let mut note = None;
    // The fetched issuers that complete the path, checked for dates like the sent ones.
    let mut fetched_on_path: Vec<&Cert> = Vec::new();
    let publicly_trusted = ctx
        .trust
        .iter()
        .any(|v| v.store == StoreKind::Mozilla && v.trusted);
    // Chrome status flags, checked in the order Chrome maps them to one net error.
    let facts = &leaf.info.facts;
    let invalid = (facts.eku_present && !facts.eku_server_auth && !facts.eku_any)
        || ctx.has(FindingId::MalformedCertificate)
        || ctx.has(FindingId::UnknownCriticalExtension);
    let authority_invalid = match walk(ctx, &pool) {
        Walk::LeafAnchor | Walk::Anchored => false,
        Walk::Untrusted {
            missing_issuer: true,
        } => {
            let top = &ctx.certs[*ctx.structure.path.last().unwrap_or(&ctx.structure.leaf)];
            let fetched = ctx.aia_for(Fetcher::Chrome);
            let rescued = matches!(
                walk_fetching(ctx, &pool, &fetched),
                Walk::Anchored | Walk::LeafAnchor
            );
            if rescued {
                fetched_on_path = fetched.clone();
            }
            note = match (rescued, fetched.first(), top.info.ca_issuers_urls.first()) {
                (true, Some(first), _) => Some(format!(
                    "Chrome fetches the missing intermediate \"{}\" from its AIA URL, as certready did ({}). Go, grpcio and curl do not fetch it.",
                    first.info.subject,
                    ctx.aia_fetched.first().map(|f| f.url.as_str()).unwrap_or_default()
                )),
                (false, _, Some(url)) => Some(format!(
                    "Chrome tries to fetch the missing intermediate from {url}; what certready fetched there does not complete the chain (or fetching was off): see the incomplete-chain finding."
                )),
                _ => None,
            };
            !rescued
        }
        Walk::Untrusted { .. } => true,
    };
    let name_invalid = ctx.hostname.is_some_and(|host| !san_matches(leaf, host));
    let ct_required = publicly_trusted
        && leaf.info.facts.not_before >= CHROME_CT_CUTOVER
        && leaf.info.sct_count
            < if leaf.info.lifetime_seconds() <= 180 * DAY {
                2
            } else {
                3
            };
    let weak_signature = ctx.has(FindingId::WeakSignatureSha1);
    let weak_key = ctx.has(FindingId::WeakRsaKey);
    let date_invalid = ctx
        .structure
        .path
        .iter()
        .map(|&i| &ctx.certs[i])
        .chain(fetched_on_path.iter().copied())
        .any(|cert| {
            let f = &cert.info.facts;
            ctx.at > f.not_after || ctx.at < f.not_before
        });
    let too_long = publicly_trusted
        && leaf.info.facts.not_before >= PUBLIC_398_CUTOVER
        && leaf.info.lifetime_seconds() > MAX_398_SECONDS;
    let outcome = [
        (
            invalid,
            "NET::ERR_CERT_INVALID",
            &[
                FindingId::MissingServerAuthEku,
                FindingId::MalformedCertificate,
                FindingId::UnknownCriticalExtension,
            ][..],
        ),
        (
            authority_invalid,
            "NET::ERR_CERT_AUTHORITY_INVALID",
            TRUST_CAUSES,
        ),
        (
            name_invalid,
            "NET::ERR_CERT_COMMON_NAME_INVALID",
            &[FindingId::HostnameMismatch, FindingId::CnOnly][..],
        ),
        (
            ct_required,
            "NET::ERR_CERTIFICATE_TRANSPARENCY_REQUIRED",
            &[][..],
        ),
        (
            weak_signature,
            "NET::ERR_CERT_WEAK_SIGNATURE_ALGORITHM",
            &[FindingId::WeakSignatureSha1][..],
        ),
        (
            weak_key,
            "NET::ERR_CERT_WEAK_KEY",
            &[FindingId::WeakRsaKey][..],
        ),
        (
            date_invalid,
            "NET::ERR_CERT_DATE_INVALID",
            &[FindingId::Expired, FindingId::NotYetValid][..],
        ),
        (
            too_long,
            "NET::ERR_CERT_VALIDITY_TOO_LONG",
            &[FindingId::ValidityExceeds398Days][..],
        ),
    ]
    .into_iter()
    .find(|(failed, _, _)| *failed)
    .map_or(Ok(()), |(_, text, causes)| Err(ctx.refusal(text, causes)));
    ClientVerdict::new(ClientName::Browser, Channel::Https, outcome, note)
}

/// Chrome requires CT for publicly trusted certificates issued after 2018-04-30.
const CHROME_CT_CUTOVER: i64 = 1_525_132_800;

//! Go's crypto/x509 `Verify` with a given root pool, and the errors as Go and its TLS
//! clients print them: flytectl on Linux, and on any OS once caCertFilePath is set.
//! tests/it/client_proof.rs checks these predictions against a real Go client.

use crate::findings::FindingId;
use crate::trust::TrustStore;
use crate::verifiers::go::RootPool;

use super::context::{Channel, ClientContext, ClientName, ClientVerdict, Refusal};
use super::roots::{store_candidates, TRUST_CAUSES};
use crate::verifiers::pattern::Pattern;

/// flyteidl's `readCACerts` when Go parses no certificate of caCertFilePath.
pub const UNREADABLE_CA_FILE: Pattern =
    Pattern(&["failed to parse root certificate file ", " due to <nil>"]);
/// How flytectl's two channels wrap crypto/tls's error: grpc-go's handshake error, and
/// net/http's `url.Error` (the method and the quoted URL).
pub const GRPC_HANDSHAKE_FAILED: Pattern =
    Pattern(&["transport: authentication handshake failed: ", ""]);
pub const OAUTH_POST: Pattern = Pattern(&["Post ", ": ", ""]);

/// Go's verification as crypto/tls runs it, with `pool` as `RootCAs`: Ok, or the error
/// text `tls.Dial` returns (see [`crate::verifiers::go`]), with the findings behind it.
pub(super) fn verify(ctx: &ClientContext<'_>, pool: &[&TrustStore]) -> Result<(), Refusal> {
    let candidates = store_candidates(ctx, pool, false);
    // flytectl's channels often reach the same roots (caCertFilePath and the OS store
    // holding the same CA): the same inputs give the same answer, once.
    let key: Vec<Vec<u8>> = candidates.iter().map(|der| der.to_vec()).collect();
    let mut memo = ctx.go_outcomes.0.borrow_mut();
    if let Some((_, outcome)) = memo.iter().find(|(roots, _)| *roots == key) {
        return outcome.clone();
    }
    let presented = ctx.presented_leaf_first();
    let roots = RootPool::from_ders(candidates);
    let host = ctx.server_name();
    let outcome = crate::verifiers::go::verify(&presented, &roots, &host, ctx.at).map_err(|text| {
        let causes = causes_of(&text);
        ctx.refusal(text, causes)
    });
    memo.push((key, outcome.clone()));
    outcome
}

/// flyteidl's `readCACerts` when Go parses no certificate of caCertFilePath: the admin
/// client is never built, so the error is not a handshake's. Its `due to %v` formats the
/// (nil) read error, hence the literal `<nil>`.
pub(super) fn unreadable_ca_file(ctx: &ClientContext<'_>, file: &TrustStore) -> Option<Refusal> {
    let ders = file.anchor_certs.iter().map(|der| der.as_ref());
    RootPool::from_ders(ders).is_empty().then(|| {
        ctx.refusal(
            UNREADABLE_CA_FILE.fill(&[&file.source]),
            &[FindingId::MalformedCertificate],
        )
    })
}

/// The findings that explain a Go error, by the kind of error.
pub(super) fn causes_of(text: &str) -> &'static [FindingId] {
    if text.contains("certificate has expired or is not yet valid") {
        &[FindingId::Expired, FindingId::NotYetValid]
    } else if text.contains("x509: certificate is valid for")
        || text.contains("not valid for any names")
        || text.contains("legacy Common Name")
        || text.contains("because it doesn't contain any IP SANs")
    {
        &[
            FindingId::HostnameMismatch,
            FindingId::CnOnly,
            FindingId::IngressDefaultCertificate,
        ]
    } else if text.contains("incompatible key usage") {
        &[FindingId::MissingServerAuthEku]
    } else if text.contains("unhandled critical extension") {
        &[FindingId::UnknownCriticalExtension]
    } else if text.contains("failed to parse certificate") {
        &[FindingId::MalformedCertificate]
    } else {
        TRUST_CAUSES
    }
}

/// flytectl's verdict on `channel` from a crypto/tls outcome (Go's own, or Apple's as Go
/// maps it): the error wrapped as grpc-go or net/http print it.
pub(super) fn verdict(
    ctx: &ClientContext<'_>,
    client: ClientName,
    channel: Channel,
    outcome: Result<(), Refusal>,
) -> ClientVerdict {
    let outcome = outcome.map_err(|refusal| {
        refusal.reworded(|tls| match channel {
            Channel::OauthHttp => OAUTH_POST.fill(&[&format!("{:?}", ctx.token_url()), &tls]),
            _ => GRPC_HANDSHAKE_FAILED.fill(&[&tls]),
        })
    });
    ClientVerdict::new(client, channel, outcome, None)
}

/// [`verdict`] with a note.
pub(super) fn verdict_with_note(
    ctx: &ClientContext<'_>,
    client: ClientName,
    channel: Channel,
    outcome: Result<(), Refusal>,
    note: Option<String>,
) -> ClientVerdict {
    let mut verdict = verdict(ctx, client, channel, outcome);
    verdict.note = note;
    verdict
}

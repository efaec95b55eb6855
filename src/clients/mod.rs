//! Client verdicts: what flytectl (macOS and Linux), pyflyte and a browser will say
//! about the same chain, per channel, with the error text as each client prints it.
//! One module per verifier modelled: Go's crypto/x509 `Verify` (`go`), Apple's trustd
//! as Go reports it (`apple`), OpenSSL and BoringSSL (`openssl`), Chrome (`browser`);
//! `flytectl` and `pyflyte` pick the verifier and roots of each of their channels.
//! tests/it/client_proof.rs checks the Go and Python models against the real clients.

mod alpn;
mod apple;
mod browser;
mod context;
mod flytectl;
mod go;
mod hostname;
mod pyflyte;
mod roots;

pub use browser::ERR_CERT_REVOKED;
pub use context::{
    AiaFetched, AnchorKind, Channel, ClientContext, ClientName, ClientOptions, ClientVerdict,
    FlytectlSettings,
};

/// What `certready why` reads of the models: the texts they wrap a refusal in, and the
/// findings each model gives a refusal text (the very functions the models use).
pub mod texts {
    use crate::findings::FindingId;
    use crate::verifiers::apple::Stage;

    pub use super::alpn::{
        CAUSES as ALPN_CAUSES, GRPCIO_MISSING_ALPN, GRPCIO_NO_APPLICATION_PROTOCOL,
        GRPC_GO_MISSING_ALPN, GRPC_GO_NO_APPLICATION_PROTOCOL,
    };
    pub use super::browser::NET_ERROR;
    pub use super::go::{GRPC_HANDSHAKE_FAILED, OAUTH_POST, UNREADABLE_CA_FILE};
    pub use super::pyflyte::PYTHON_VERIFY_FAILED;
    pub use super::roots::TRUST_CAUSES;

    /// The findings flytectl's Go model gives a crypto/tls error text.
    pub fn go_causes(text: &str) -> &'static [FindingId] {
        super::go::causes_of(text)
    }

    /// The findings the Apple model gives a refusal made at `stage`.
    pub fn apple_causes(stage: Stage) -> &'static [FindingId] {
        super::apple::causes_of(stage)
    }

    /// The findings pyflyte's models give an OpenSSL or BoringSSL refusal text.
    pub fn openssl_causes(text: &str) -> &'static [FindingId] {
        super::pyflyte::causes_of(text)
    }

    /// The findings the Chrome model gives a net error (`ERR_CERT_…`).
    pub fn chrome_causes(net_error: &str) -> &'static [FindingId] {
        super::browser::causes_of(net_error)
    }
}

/// Every wanted client's verdict on each of its channels, in a fixed order: flytectl on
/// macOS, then on Linux (gRPC, OAuth), pyflyte (gRPC, OAuth), the browser.
pub fn evaluate(ctx: &ClientContext<'_>) -> Vec<ClientVerdict> {
    if ctx.certs.is_empty() {
        return Vec::new();
    }
    let wanted =
        |client: ClientName| ctx.options.only.is_empty() || ctx.options.only.contains(&client);
    let mut out = Vec::new();
    for client in [ClientName::FlytectlMacos, ClientName::FlytectlLinux] {
        if wanted(client) {
            out.push(flytectl::grpc(ctx, client));
            out.push(flytectl::oauth(ctx, client));
        }
    }
    if wanted(ClientName::Pyflyte) {
        out.push(pyflyte::grpc(ctx));
        out.push(pyflyte::oauth(ctx));
    }
    if wanted(ClientName::Browser) {
        out.push(browser::chrome(ctx));
    }
    revocation_notes(ctx, &mut out);
    out
}

/// What the verdicts cannot know about a revoked certificate: macOS consults Apple's own
/// revocation database for public CAs (then refuses with "certificate is revoked"), and
/// Chrome its CRLSet; neither can be seen from here. Go, grpcio and requests never check.
fn revocation_notes(ctx: &ClientContext<'_>, verdicts: &mut [ClientVerdict]) {
    let Some(revoked) = ctx.revocation.iter().find(|r| r.revoked()) else {
        return;
    };
    let public = ctx
        .trust
        .iter()
        .any(|v| v.trusted && v.store == crate::trust::StoreKind::Mozilla);
    let name = ctx
        .certs
        .iter()
        .find(|c| c.info.position == revoked.position)
        .map(|c| c.info.display_name())
        .unwrap_or_default();
    for verdict in verdicts.iter_mut().filter(|v| v.accepts) {
        let note = match verdict.client {
            ClientName::FlytectlMacos if public && !ctx.options.flytectl.insecure_skip_verify => format!(
                "the certificate is revoked: macOS refuses it (x509: \u{201c}{name}\u{201d} certificate is revoked) if Apple's revocation database lists it, which certready cannot see; Go itself never checks"
            ),
            ClientName::Browser if public => "the certificate is revoked: Chrome refuses it (NET::ERR_CERT_REVOKED) if its CRLSet lists it, which certready cannot see, or if the server staples the revoked OCSP response".to_string(),
            ClientName::Browser => "the certificate is revoked, but Chrome does not ask OCSP responders or CRLs (it would refuse a stapled revoked response)".to_string(),
            _ => "the certificate is revoked, but this client does not check revocation".to_string(),
        };
        verdict.note = Some(match verdict.note.take() {
            Some(existing) => format!("{existing}; {note}"),
            None => note,
        });
    }
}

//! flytectl's two channels and the verifier each uses: its gRPC channel honours
//! caCertFilePath and insecureSkipVerify; its OAuth client uses the OS verifier only
//! (Apple's trustd on macOS, Go with the OS store on Linux).

use crate::trust::{StoreKind, TrustStore};

use super::alpn::{self, Stack};
use super::apple;
use super::context::{Channel, ClientContext, ClientName, ClientVerdict};
use super::go;

/// flytectl's gRPC channel (`client` is the macOS or the Linux build): insecureSkipVerify
/// → no verification; caCertFilePath (or --ca-file, its stand-in) → pure Go against that
/// file only; else the system verifier (Apple's on macOS, Go's on Linux).
pub(super) fn grpc(ctx: &ClientContext<'_>, client: ClientName) -> ClientVerdict {
    let settings = &ctx.options.flytectl;
    if settings.insecure_skip_verify {
        // grpc-go checks ALPN after the handshake even when it verifies nothing.
        return go::verdict_with_note(
            ctx,
            client,
            Channel::Grpc,
            alpn::apply(ctx, Stack::GrpcGo, Ok(())),
            Some("insecureSkipVerify: true disables all verification on the gRPC channel (anyone on the path can impersonate admin); the OAuth client still verifies and still fails if the certificate is refused".into()),
        );
    }
    let ca_pool = ctx.ca_cert_file();
    let (outcome, note) = match (ca_pool, client) {
        (Some(store), _) => {
            let without_apple = if client == ClientName::FlytectlMacos {
                " and without Apple's rules"
            } else {
                ""
            };
            let note = format!(
                "gRPC verifies with Go against caCertFilePath only ({}), without the OS store{without_apple}",
                store.source
            );
            if let Some(refusal) = go::unreadable_ca_file(ctx, store) {
                // flyteidl builds no channel at all: nothing is dialled, ALPN plays no part.
                return ClientVerdict::new(client, Channel::Grpc, Err(refusal), Some(note));
            }
            (go::verify(ctx, &[store]), Some(note))
        }
        (None, ClientName::FlytectlMacos) => (apple::verify(ctx), None),
        (None, _) => {
            let system: Vec<&TrustStore> = ctx.store(StoreKind::System).into_iter().collect();
            (go::verify(ctx, &system), None)
        }
    };
    let outcome = alpn::apply(ctx, Stack::GrpcGo, outcome);
    let mut verdict = go::verdict(ctx, client, Channel::Grpc, outcome);
    verdict.note = note;
    verdict
}

/// flytectl's OAuth client (Go's net/http): Apple's trustd on macOS, Go with the OS store
/// elsewhere; caCertFilePath and insecureSkipVerify do not reach it.
pub(super) fn oauth(ctx: &ClientContext<'_>, client: ClientName) -> ClientVerdict {
    if client == ClientName::FlytectlMacos {
        return go::verdict(ctx, client, Channel::OauthHttp, apple::verify(ctx));
    }
    // --ca-file stands for a private CA the users installed: on Linux, in the OS store.
    let system: Vec<&TrustStore> = [StoreKind::System, StoreKind::CaFile]
        .into_iter()
        .filter_map(|kind| ctx.store(kind))
        .collect();
    let mut verdict = go::verdict(ctx, client, Channel::OauthHttp, go::verify(ctx, &system));
    if !verdict.accepts && ctx.ca_cert_file().is_some() {
        verdict.note = Some(
            "flytectl's OAuth client ignores caCertFilePath and insecureSkipVerify: it trusts only the OS store (here: SSL_CERT_FILE/SSL_CERT_DIR or the distribution bundle, plus the --ca-file CA, assumed installed there)."
                .into(),
        );
    }
    verdict
}

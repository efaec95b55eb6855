//! ALPN as the gRPC clients enforce it. certready's probe offers h2 and http/1.1; what the
//! server selected says what an h2-only client meets: a server that selected http/1.1
//! refuses h2 outright (a no_application_protocol alert, before any certificate is
//! checked, as nginx, OpenSSL and rustls servers do), and a server that selected nothing
//! ignores ALPN, which grpc-go ≥ 1.67 and grpcio refuse after the handshake.

use crate::findings::FindingId;

use super::context::{ClientContext, Refusal};

/// The findings behind every ALPN refusal.
pub const CAUSES: &[FindingId] = &[FindingId::AlpnNoH2];
/// grpc-go's texts: the server's alert for a client that offers h2 only, and grpc-go's
/// own refusal of a server that selected no protocol (≥ 1.70 wording).
pub const GRPC_GO_NO_APPLICATION_PROTOCOL: &str = "remote error: tls: no application protocol";
pub const GRPC_GO_MISSING_ALPN: &str = "credentials: cannot check peer: missing selected ALPN property. If you upgraded from a grpc-go version earlier than 1.67, your TLS connections may have stopped working due to ALPN enforcement. For more details, see: https://github.com/grpc/grpc-go/issues/434";
/// grpcio's: the same alert through BoringSSL, and its own check.
pub const GRPCIO_NO_APPLICATION_PROTOCOL: &str = "Tls handshake failed (TSI_PROTOCOL_FAILURE): SSL_ERROR_SSL: error:10000460:SSL routines:OPENSSL_internal:TLSV1_ALERT_NO_APPLICATION_PROTOCOL: Invalid certificate verification context: OK";
pub const GRPCIO_MISSING_ALPN: &str = "Cannot check peer: missing selected ALPN property.";

/// The gRPC stack whose words are wanted.
#[derive(Clone, Copy)]
pub(super) enum Stack {
    /// grpc-go as flytectl releases build it (≥ 1.70: the longer text).
    GrpcGo,
    /// grpcio (pyflyte).
    Grpcio,
}

/// `outcome` (the certificate verdict) with the ALPN outcome in its place in the order:
/// an alert comes before certificate verification, the missing-ALPN check after it.
pub(super) fn apply(
    ctx: &ClientContext<'_>,
    stack: Stack,
    outcome: Result<(), Refusal>,
) -> Result<(), Refusal> {
    let Some(selected) = &ctx.alpn else {
        return outcome; // not probed (a file)
    };
    match selected.as_deref() {
        Some("h2") => outcome,
        Some(_) => Err(ctx.refusal(
            match stack {
                Stack::GrpcGo => GRPC_GO_NO_APPLICATION_PROTOCOL,
                Stack::Grpcio => GRPCIO_NO_APPLICATION_PROTOCOL,
            },
            CAUSES,
        )),
        None => outcome.and_then(|()| {
            Err(ctx.refusal(
                match stack {
                    Stack::GrpcGo => GRPC_GO_MISSING_ALPN,
                    Stack::Grpcio => GRPCIO_MISSING_ALPN,
                },
                CAUSES,
            ))
        }),
    }
}

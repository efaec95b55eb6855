//! ALPN as the gRPC clients enforce it. certready's probe offers h2 and http/1.1; what the
//! server selected says what an h2-only client meets: a server that selected http/1.1
//! refuses h2 outright (a no_application_protocol alert, before any certificate is
//! checked, as nginx, OpenSSL and rustls servers do), and a server that selected nothing
//! ignores ALPN, which grpc-go ≥ 1.67 and grpcio refuse after the handshake.

use crate::findings::FindingId;

use super::context::{ClientContext, Refusal};

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
    let causes = [FindingId::AlpnNoH2];
    match selected.as_deref() {
        Some("h2") => outcome,
        Some(_) => Err(ctx.refusal(
            match stack {
                Stack::GrpcGo => "remote error: tls: no application protocol",
                Stack::Grpcio => "Tls handshake failed (TSI_PROTOCOL_FAILURE): SSL_ERROR_SSL: error:10000460:SSL routines:OPENSSL_internal:TLSV1_ALERT_NO_APPLICATION_PROTOCOL: Invalid certificate verification context: OK",
            },
            &causes,
        )),
        None => outcome.and_then(|()| {
            Err(ctx.refusal(
                match stack {
                    Stack::GrpcGo => "credentials: cannot check peer: missing selected ALPN property. If you upgraded from a grpc-go version earlier than 1.67, your TLS connections may have stopped working due to ALPN enforcement. For more details, see: https://github.com/grpc/grpc-go/issues/434",
                    Stack::Grpcio => "Cannot check peer: missing selected ALPN property.",
                },
                &causes,
            ))
        }),
    }
}

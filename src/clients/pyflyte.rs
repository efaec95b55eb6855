//! pyflyte's two channels: grpcio (BoringSSL, then grpc's own peer-name check) for gRPC,
//! requests (OpenSSL) for OAuth; which roots each trusts, and the errors as they print them.

use crate::chain::Cert;
use crate::findings::FindingId;
use crate::target::Host;
use crate::trust::{StoreKind, TrustStore};

use super::alpn::{self, Stack};
use super::context::{Channel, ClientContext, ClientName, ClientVerdict};
use super::hostname::san_matches;
use super::openssl::{self, Library};

/// pyflyte's gRPC channel: grpcio's handshake, then grpc's peer-name check. Trusts
/// caCertFilePath, else GRPC_DEFAULT_SSL_ROOTS_FILE_PATH, else its bundled roots;
/// insecureSkipVerify trusts whatever certificate the server sends.
pub(super) fn grpc(ctx: &ClientContext<'_>) -> ClientVerdict {
    let settings = &ctx.options.flytectl;
    let (pool, note): (Vec<&TrustStore>, Option<String>) = if let Some(store) = ctx.ca_cert_file() {
        (
            vec![store],
            Some(format!(
                "grpcio trusts caCertFilePath only ({})",
                store.source
            )),
        )
    } else if let Some(store) = ctx.options.grpc_roots.wait().as_ref() {
        (
            vec![store],
            Some(format!(
                "grpcio trusts GRPC_DEFAULT_SSL_ROOTS_FILE_PATH ({})",
                store.source
            )),
        )
    } else {
        (
            ctx.store(StoreKind::Mozilla).into_iter().collect(),
            Some("grpcio trusts its bundled roots (≈ Mozilla's list), not the OS store, unless GRPC_DEFAULT_SSL_ROOTS_FILE_PATH or caCertFilePath is set".into()),
        )
    };
    let leaf_facts = &ctx.leaf().info.facts;
    let mut outcome = if leaf_facts.key_usage_present && !leaf_facts.ku_digital_signature {
        // BoringSSL checks the key may sign the handshake before it verifies the chain.
        Err(ctx.refusal(
            "Tls handshake failed (TSI_PROTOCOL_FAILURE): SSL_ERROR_SSL: error:1000012e:SSL routines:OPENSSL_internal:KEY_USAGE_BIT_INCORRECT: Invalid certificate verification context",
            &[FindingId::IncompatibleKeyUsage, FindingId::LeafIsCa],
        ))
    } else if settings.insecure_skip_verify {
        // flytekit fetches the server's certificate and trusts exactly that.
        Ok(())
    } else {
        openssl::verify(ctx, &pool, Library::BoringSsl).map_err(|refusal| {
            // grpcio ≥ 1.5x says "Tls handshake failed"; older releases said "Ssl".
            refusal.reworded(|reason| format!("Tls handshake failed (TSI_PROTOCOL_FAILURE): SSL_ERROR_SSL: error:1000007d:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED: {reason}"))
        })
    };
    // grpc checks ALPN after the chain and before the peer name.
    outcome = alpn::apply(ctx, Stack::Grpcio, outcome);
    if outcome.is_ok() {
        if let Some(host) = ctx.hostname {
            if !grpc_peer_name_matches(ctx.leaf(), host) {
                // Current grpcio; releases before its custom verifier said
                // "Peer name HOST is not in peer certificate".
                outcome = Err(ctx.refusal(
                    "Custom verification check failed with error: UNAUTHENTICATED: Hostname Verification Check failed.",
                    &[FindingId::HostnameMismatch, FindingId::CnOnly],
                ));
            }
        }
    }
    ClientVerdict::new(ClientName::Pyflyte, Channel::Grpc, outcome, note)
}

/// grpc's peer check: SAN DNS/IP entries; the CN only when there is no SAN.
fn grpc_peer_name_matches(leaf: &Cert, host: &Host) -> bool {
    let info = &leaf.info;
    if !info.facts.has_san_extension {
        return info
            .common_name
            .as_deref()
            .is_some_and(|cn| cn.eq_ignore_ascii_case(&host.to_string()));
    }
    san_matches(leaf, host)
}

/// pyflyte's OAuth requests: requests with caCertFilePath or certifi's bundle, unless
/// insecureSkipVerify.
pub(super) fn oauth(ctx: &ClientContext<'_>) -> ClientVerdict {
    let settings = &ctx.options.flytectl;
    if settings.insecure_skip_verify {
        return ClientVerdict::new(
            ClientName::Pyflyte,
            Channel::OauthHttp,
            Ok(()),
            Some("insecureSkipVerify makes flytekit's OAuth requests use verify=False".into()),
        );
    }
    let (pool, note): (Vec<&TrustStore>, Option<String>) = match ctx.ca_cert_file() {
        Some(store) => (
            vec![store],
            Some(format!(
                "requests verifies with caCertFilePath ({})",
                store.source
            )),
        ),
        None => (
            ctx.store(StoreKind::Mozilla).into_iter().collect(),
            Some("requests verifies with certifi's bundle (≈ Mozilla's list)".into()),
        ),
    };
    let outcome = openssl::verify(ctx, &pool, Library::OpenSsl).map_err(|refusal| {
        refusal.reworded(|reason| {
            format!("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: {reason}")
        })
    });
    ClientVerdict::new(ClientName::Pyflyte, Channel::OauthHttp, outcome, note)
}

//! pyflyte's two channels: grpcio (BoringSSL, then grpc's own peer-name check) for gRPC,
//! requests (OpenSSL) for OAuth; which roots each trusts, and the errors as they print them.

use std::borrow::Cow;

use crate::chain::Cert;
use crate::findings::FindingId;
use crate::target::Host;
use crate::trust::{self, StoreKind, TrustStore};

use super::alpn::{self, Stack};
use super::context::{Channel, ClientContext, ClientName, ClientVerdict};
use super::hostname::san_matches;
use super::roots::{store_candidates, TRUST_CAUSES};
use crate::verifiers::openssl::{self as openssl_engine, Flavor, Kind, Outcome};
use crate::verifiers::pattern::Pattern;

/// How requests (urllib3, Python's `ssl`) prints a failed verification, before
/// OpenSSL's verify message.
pub const PYTHON_VERIFY_FAILED: Pattern = Pattern(&[
    "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: ",
    "",
]);

/// pyflyte's gRPC channel: grpcio's handshake, then grpc's peer-name check. Trusts
/// caCertFilePath, else GRPC_DEFAULT_SSL_ROOTS_FILE_PATH, else its bundled roots;
/// insecureSkipVerify trusts whatever certificate the server sends.
pub(super) fn grpc(ctx: &ClientContext<'_>) -> ClientVerdict {
    let (pool, note): (Vec<&TrustStore>, Option<String>) = if let Some(store) =
        ctx.pyflyte_ca_cert_file()
    {
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
    // grpcio's BoringSSL offers no signature scheme for Ed25519 or P-521 keys: a server
    // with such a key cannot sign its handshake and aborts it, before any certificate
    // check. That is the key of the server's own certificate, which a server sending its
    // leaf after a CA does not put first (BoringSSL then refuses the first certificate's
    // key usage instead, in the engine).
    if let Some(leaf_key) = ctx.server_key_boringssl_cannot_verify() {
        let refusal = ctx.refusal(
            "Tls handshake failed (TSI_PROTOCOL_FAILURE): SSL_ERROR_SSL: error:10000410:SSL routines:OPENSSL_internal:SSLV3_ALERT_HANDSHAKE_FAILURE: Invalid certificate verification context",
            &[],
        );
        let outcome = alpn::apply(ctx, Stack::Grpcio, Ok(())).and(Err(refusal));
        let note = Some(format!(
            "grpcio cannot verify a {leaf_key} handshake signature; serve an ECDSA P-256/P-384 or RSA leaf"
        ));
        return ClientVerdict::new(ClientName::Pyflyte, Channel::Grpc, outcome, note);
    }
    if !ctx.pyflyte_insecure_skip_verify() {
        {
            let roots = engine_roots(ctx, &pool);
            let roots: Vec<&[u8]> = roots.iter().map(|r| r.as_ref()).collect();
            // grpc sets PARTIAL_CHAIN on user-supplied roots (caCertFilePath) only.
            let flavor = Flavor::BoringSsl {
                partial_chain: ctx.pyflyte_ca_cert_file().is_some(),
            };
            let host = ctx.server_name();
            let result =
                openssl_engine::verify(&flavor, &ctx.presented_leaf_first(), &roots, &host, ctx.at);
            let refusal = |outcome: &Outcome| {
                // grpcio ends every handshake error with an inner step's ": OK"; the
                // predictions leave it off, as they always have.
                let text = outcome.text.strip_suffix(": OK").unwrap_or(&outcome.text);
                ctx.refusal(text, causes_of(&outcome.text))
            };
            // After the chain, BoringSSL checks the handshake signature against the first
            // certificate's key: a leaf sent after its CA did not sign it.
            let signed_by_first = std::ptr::eq(ctx.server_certificate(), ctx.leaf());
            let outcome = match &result {
                Ok(())
                | Err(Outcome {
                    kind: Kind::Hostname,
                    ..
                }) if !signed_by_first => {
                    Err(ctx.refusal(handshake_signature_error(ctx.leaf()), &[]))
                }
                // grpc's ALPN check comes after the chain and before the host name.
                Err(o) if o.kind == Kind::Hostname => {
                    alpn::apply(ctx, Stack::Grpcio, Ok(())).and_then(|()| Err(refusal(o)))
                }
                Err(o) => alpn::apply(ctx, Stack::Grpcio, Err(refusal(o))),
                Ok(()) => alpn::apply(ctx, Stack::Grpcio, Ok(())),
            };
            return ClientVerdict::new(ClientName::Pyflyte, Channel::Grpc, outcome, note);
        }
    }
    let mut outcome = if ctx.first_certificate_cannot_sign() {
        // BoringSSL checks the key may sign the handshake before it verifies the chain.
        Err(ctx.refusal(
            "Tls handshake failed (TSI_PROTOCOL_FAILURE): SSL_ERROR_SSL: error:1000012e:SSL routines:OPENSSL_internal:KEY_USAGE_BIT_INCORRECT: Invalid certificate verification context",
            &[FindingId::IncompatibleKeyUsage, FindingId::LeafIsCa],
        ))
    } else {
        // insecureSkipVerify: flytekit fetches the server's certificate and trusts exactly
        // that.
        Ok(())
    };
    // grpc checks ALPN after the chain and before the peer name.
    outcome = alpn::apply(ctx, Stack::Grpcio, outcome);
    if outcome.is_ok() {
        if let Some(host) = ctx.hostname {
            if !grpc_peer_name_matches(ctx.leaf(), host) {
                // Current grpcio; releases before its custom verifier said
                // "Peer name HOST is not in peer certificate".
                outcome = Err(ctx.refusal(
                    openssl_engine::VERIFIER_FAILED.fill(&[openssl_engine::HOSTNAME_CHECK_FAILED]),
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
    if ctx.pyflyte_insecure_skip_verify() {
        return ClientVerdict::new(
            ClientName::Pyflyte,
            Channel::OauthHttp,
            Ok(()),
            Some("insecureSkipVerify makes flytekit's OAuth requests use verify=False".into()),
        );
    }
    let (pool, note): (Vec<&TrustStore>, Option<String>) = match ctx.pyflyte_ca_cert_file() {
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
    {
        let roots = engine_roots(ctx, &pool);
        let roots: Vec<&[u8]> = roots.iter().map(|r| r.as_ref()).collect();
        // requests on Python ≤ 3.12 (urllib3 2 turns the CN fallback off).
        let flavor = Flavor::OpenSsl {
            strict_partial: false,
            check_common_name: false,
        };
        // urllib3 drops one trailing dot before handing the name to Python's ssl.
        let typed = ctx.server_name();
        let host = typed.strip_suffix('.').unwrap_or(&typed).to_string();
        let outcome =
            openssl_engine::verify(&flavor, &ctx.presented_leaf_first(), &roots, &host, ctx.at)
                .map_err(|o| {
                    ctx.refusal(PYTHON_VERIFY_FAILED.fill(&[&o.text]), causes_of(&o.text))
                });
        ClientVerdict::new(ClientName::Pyflyte, Channel::OauthHttp, outcome, note)
    }
}

/// The pool's certificates for the OpenSSL and BoringSSL engines, which need whole
/// certificates; None when a store holds anchors only (the compiled-in Mozilla list that
/// stands for grpcio's bundled roots and certifi), where the older chain model answers.
/// BoringSSL's error for a CertificateVerify that `first`'s key did not make: the
/// signature check of that key type fails (seen from grpcio for ECDSA), or the scheme
/// does not fit the key at all.
fn handshake_signature_error(first: &Cert) -> String {
    let queued = if first.info.key.starts_with("ECDSA") {
        "error:1a000064:ECDSA routines:OPENSSL_internal:BAD_SIGNATURE"
    } else if first.info.key.starts_with("RSA") {
        "error:1000010b:SSL routines:OPENSSL_internal:BAD_SIGNATURE"
    } else {
        "error:100000fd:SSL routines:OPENSSL_internal:WRONG_SIGNATURE_TYPE"
    };
    format!("{}{queued}", openssl_engine::HANDSHAKE_FAILED.0[0])
}

/// The engines' X509_STORE: the candidate certificates of `pool`, and for the roots known
/// only as anchors (the compiled-in Mozilla list standing for grpcio's bundled roots and
/// certifi), stand-in certificates for those a sent certificate names as its issuer.
fn engine_roots<'a>(ctx: &ClientContext<'_>, pool: &[&'a TrustStore]) -> Vec<Cow<'a, [u8]>> {
    let (whole, anchors_only): (Vec<&TrustStore>, Vec<&TrustStore>) = pool
        .iter()
        .partition(|s| s.anchor_certs.len() == s.anchors.len());
    let mut roots: Vec<Cow<'a, [u8]>> = store_candidates(ctx, &whole, true)
        .into_iter()
        .map(Cow::Borrowed)
        .collect();
    let named: Vec<&[u8]> = ctx
        .certs
        .iter()
        .chain(ctx.aia_fetched.iter().map(|f| &f.cert))
        .filter_map(|c| trust::sequence_content(&c.info.facts.issuer_der))
        .collect();
    for anchor in anchors_only.iter().flat_map(|s| s.anchors.iter()) {
        if named.contains(&anchor.subject.as_ref()) {
            roots.push(Cow::Owned(
                trust::synthetic::anchor_certificate(anchor).to_vec(),
            ));
        }
    }
    roots
}

/// The findings behind an OpenSSL or BoringSSL refusal, by its reason.
pub(super) fn causes_of(text: &str) -> &'static [FindingId] {
    if text.contains("expired") || text.contains("not yet valid") {
        &[FindingId::Expired, FindingId::NotYetValid]
    } else if text.contains("Hostname") || text.contains("IP address mismatch") {
        &[FindingId::HostnameMismatch, FindingId::CnOnly]
    } else if text.contains("KEY_USAGE_BIT_INCORRECT") {
        &[FindingId::IncompatibleKeyUsage, FindingId::LeafIsCa]
    } else if text.contains("purpose") {
        &[
            FindingId::MissingServerAuthEku,
            FindingId::IncompatibleKeyUsage,
        ]
    } else if text.contains("invalid CA certificate") {
        &[FindingId::IssuerNotCa]
    } else if text.contains("unhandled critical extension") {
        &[FindingId::UnknownCriticalExtension]
    } else if text.contains("key too weak") {
        &[FindingId::WeakRsaKey]
    } else if text.contains("digest algorithm too weak") {
        &[FindingId::WeakSignatureSha1]
    } else {
        TRUST_CAUSES
    }
}

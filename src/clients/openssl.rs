//! OpenSSL's X509_verify_cert and BoringSSL's, as pyflyte meets them: requests/urllib3
//! (OpenSSL through Python's ssl) for OAuth, grpcio (BoringSSL) for gRPC. One model, in
//! the order OpenSSL checks, with the two libraries' differences marked where they
//! occur. tests/it/client_proof.rs checks it against real Python and grpcio clients.

use crate::chain::Cert;
use crate::findings::FindingId;
use crate::target::Host;
use crate::trust::TrustStore;

use super::context::{ClientContext, Refusal};
use super::hostname::san_matches;
use super::walk::{exceeds_path_len, pool_issuer, walk, Walk, TRUST_CAUSES};

/// Which library verifies: their wording and a few rules differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Library {
    /// OpenSSL, through Python's ssl module (requests, urllib3).
    OpenSsl,
    /// BoringSSL, inside grpcio.
    BoringSsl,
}

/// `library`'s verification of the chain against `pool`: Ok, or the verify error it reports
/// first, as its error string (the caller adds the client's wrapping).
pub(super) fn verify(
    ctx: &ClientContext<'_>,
    pool: &[&TrustStore],
    library: Library,
) -> Result<(), Refusal> {
    // BoringSSL: its own wording, no security levels, host name checked by grpc afterwards.
    let boring = library == Library::BoringSsl;
    let leaf = ctx.leaf();
    let self_signed = if boring {
        "self signed certificate"
    } else {
        "self-signed certificate"
    };
    // BoringSSL never takes a certificate whose keyUsage lacks keyCertSign as an issuer,
    // not even of itself: the chain then breaks there.
    let can_issue = |cert: &Cert| {
        !boring || !cert.info.facts.key_usage_present || cert.info.facts.ku_key_cert_sign
    };
    let broken_link = ctx
        .structure
        .path
        .iter()
        .skip(1)
        .any(|&i| !can_issue(&ctx.certs[i]));
    if (leaf.info.self_signed && !can_issue(leaf))
        || (broken_link && !matches!(walk(ctx, pool), Walk::LeafAnchor))
    {
        let anchored_below = ctx
            .structure
            .path
            .iter()
            .take_while(|&&i| can_issue(&ctx.certs[i]) || i == ctx.structure.leaf)
            .any(|&i| pool_issuer(pool, &ctx.certs[i]).is_some());
        if !anchored_below {
            return Err(ctx.refusal("unable to get local issuer certificate", TRUST_CAUSES));
        }
    }
    // 1. Chain building.
    match walk(ctx, pool) {
        Walk::Untrusted { missing_issuer, .. } => {
            let reason = if leaf.info.self_signed {
                self_signed.to_string()
            } else if missing_issuer {
                "unable to get local issuer certificate".to_string()
            } else {
                format!("{self_signed} in certificate chain")
            };
            return Err(ctx.refusal(reason, TRUST_CAUSES));
        }
        Walk::LeafAnchor | Walk::Anchored => {}
    }
    // 2. Extensions, certificate by certificate from the leaf up: CA flag, purpose,
    //    path length.
    let purpose = if boring {
        "unsupported certificate purpose"
    } else {
        "unsuitable certificate purpose"
    };
    for (step, &index) in ctx.structure.path.iter().enumerate() {
        let cert = &ctx.certs[index];
        if !cert.info.unknown_critical_extensions.is_empty() {
            return Err(ctx.refusal(
                "unhandled critical extension",
                &[FindingId::UnknownCriticalExtension],
            ));
        }
        if step > 0 && !cert.info.is_ca {
            return Err(ctx.refusal("invalid CA certificate", &[FindingId::IssuerNotCa]));
        }
        let facts = &cert.info.facts;
        if step == 0
            && ((facts.eku_present && !facts.eku_server_auth && !facts.eku_any)
                || !facts.key_usage_allows_tls_server)
        {
            return Err(ctx.refusal(
                purpose,
                &[
                    FindingId::MissingServerAuthEku,
                    FindingId::IncompatibleKeyUsage,
                ],
            ));
        }
        if step > 1 && exceeds_path_len(cert, step - 1) {
            return Err(ctx.refusal(
                "path length constraint exceeded",
                &[FindingId::UntrustedChain],
            ));
        }
    }
    // 3. Security level 2 (OpenSSL only): key sizes and signature digests.
    if !boring {
        for (step, &index) in ctx.structure.path.iter().enumerate() {
            let cert = &ctx.certs[index];
            if cert.info.facts.rsa_bits.is_some_and(|bits| bits < 2048) {
                let which = if step == 0 {
                    "EE certificate key too weak"
                } else {
                    "CA certificate key too weak"
                };
                return Err(ctx.refusal(which, &[FindingId::WeakRsaKey]));
            }
            let is_root = cert.info.self_signed && step > 0;
            if cert.info.facts.weak_hash.is_some() && !is_root {
                return Err(ctx.refusal(
                    "CA signature digest algorithm too weak",
                    &[FindingId::WeakSignatureSha1],
                ));
            }
        }
    }
    // 4. Host name (OpenSSL checks it in the verifier; grpc checks it after the handshake).
    if !boring {
        if let Some(host) = ctx.hostname {
            // urllib3 2 turns off the Common Name fallback.
            if !san_matches(leaf, host) {
                let what = match host {
                    Host::Ip(_) => "IP address mismatch",
                    Host::Name(_) => "Hostname mismatch",
                };
                return Err(ctx.refusal(
                    format!("{what}, certificate is not valid for '{host}'."),
                    &[FindingId::HostnameMismatch, FindingId::CnOnly],
                ));
            }
        }
    }
    // 5. Signatures and times.
    for &index in &ctx.structure.path {
        let facts = &ctx.certs[index].info.facts;
        if ctx.at > facts.not_after {
            return Err(ctx.refusal("certificate has expired", &[FindingId::Expired]));
        }
        if ctx.at < facts.not_before {
            return Err(ctx.refusal("certificate is not yet valid", &[FindingId::NotYetValid]));
        }
    }
    Ok(())
}

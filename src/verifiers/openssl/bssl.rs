//! BoringSSL's `X509_verify_cert` (`crypto/x509/x509_vfy.cc`) as grpcio's TLS handshake
//! runs it: the OpenSSL 1.0.2-style chain building (untrusted certificates first unless
//! the store already has an issuer, then the store up to a self-signed certificate), then
//! `check_chain_extensions` on the untrusted part only, `internal_verify` and
//! `check_name_constraints`. No security levels, no strict checks; gRPC sets no host.

use super::cert::{self, fail, Cert, Failure};
use super::key::Algo;
use super::name::{self, OID_COMMON_NAME};
use super::ncons::{self, Lib};
use crate::verifiers::signature::{self, Failure as SignatureFailure};
use std::sync::Arc;
use x509_parser::prelude::FromDer;
use x509_parser::x509::SubjectPublicKeyInfo;

/// Depth 100 (`kMaxChainLength`) plus the leaf and the anchor.
const MAX_CHAIN: usize = 102;

// Codes where BoringSSL's numbering differs from OpenSSL 3.0's.
const INVALID_CA: u32 = 24;
const NAME_CONSTRAINTS_WITHOUT_SANS: u32 = 67;

/// `X509_check_issued(issuer, subject) == X509_V_OK`: names, key identifiers, and the
/// issuer's keyUsage allowing keyCertSign.
fn check_issued(issuer: &Cert, subject: &Cert) -> bool {
    issuer.subject.canon == subject.issuer.canon
        && !issuer.boringssl.invalid
        && !subject.boringssl.invalid
        && cert::akid_matches(issuer, subject.ext.akid.ok())
        && !issuer.boringssl.ku_reject(cert::KU_KEY_CERT_SIGN)
}

/// `X509_STORE_CTX_get1_issuer`: the first store certificate that passes `check_issued`.
fn trusted_issuer<'a>(store: &'a [Arc<Cert>], x: &Cert) -> Option<&'a Cert> {
    store.iter().map(|c| &**c).find(|c| check_issued(c, x))
}

/// `check_ca`: keyUsage must allow keyCertSign; then a v1 self-signed certificate or
/// basicConstraints CA:TRUE (a keyUsage-only or Netscape-only CA is not one).
fn check_ca(x: &Cert) -> bool {
    let f = &x.boringssl;
    !f.invalid && !f.ku_reject(cert::KU_KEY_CERT_SIGN) && ((f.v1 && f.ss) || (f.bcons && f.ca))
}

/// `X509_check_purpose(x, X509_PURPOSE_SSL_SERVER, ca) == 1`: serverAuth in any EKU, and
/// for the leaf a TLS keyUsage.
fn purpose_ok(x: &Cert, ca: bool) -> bool {
    let f = &x.boringssl;
    if f.invalid || (ca && !check_ca(x)) || f.xku_reject(cert::XKU_SSL_SERVER) {
        return false;
    }
    ca || !f.ku_reject(cert::KU_TLS)
}

/// `X509_verify_cert`; `partial_chain` is X509_V_FLAG_PARTIAL_CHAIN (gRPC sets it on a
/// store made from user-supplied root certificates).
pub fn verify(
    partial_chain: bool,
    presented: &[Arc<Cert>],
    store: &[Arc<Cert>],
    now: i64,
) -> Result<(), Failure> {
    let leaf: &Cert = &presented[0];
    let mut chain: Vec<&Cert> = vec![leaf];
    let mut last_untrusted = 1;
    let mut untrusted: Vec<&Cert> = presented.iter().map(|c| &**c).collect();
    let mut x = leaf;
    // An invalid certificate at the top fails `cert_self_signed` before anything else.
    let invalid = || Failure {
        code: 41,
        depth: 0,
        queue: None,
    };
    loop {
        if chain.len() >= MAX_CHAIN {
            break;
        }
        if x.boringssl.invalid {
            return Err(invalid());
        }
        if x.boringssl.ss {
            break;
        }
        // TRUSTED_FIRST: stop taking the peer's certificates once the store has an issuer.
        if trusted_issuer(store, x).is_some() {
            break;
        }
        match untrusted.iter().position(|c| check_issued(c, x)) {
            Some(i) => {
                x = untrusted.remove(i);
                chain.push(x);
                last_untrusted += 1;
            }
            None => break,
        }
    }
    let mut chain_ss = None;
    x = chain[chain.len() - 1];
    if x.boringssl.invalid {
        return Err(invalid());
    }
    if x.boringssl.ss {
        if chain.len() == 1 {
            match trusted_issuer(store, x) {
                Some(issuer) if issuer.same(x) => {
                    chain[0] = issuer;
                    last_untrusted = 0;
                }
                _ => return fail(18, 0),
            }
        } else {
            chain_ss = chain.pop();
            last_untrusted -= 1;
            x = chain[chain.len() - 1];
        }
    }
    loop {
        if chain.len() >= MAX_CHAIN {
            break;
        }
        if x.boringssl.invalid {
            return Err(invalid());
        }
        if x.boringssl.ss {
            break;
        }
        match trusted_issuer(store, x) {
            Some(issuer) => {
                x = issuer;
                chain.push(x);
            }
            None => break,
        }
    }
    // check_trust: a valid self-signed store certificate; with PARTIAL_CHAIN any store
    // certificate, or an exact store copy of the leaf.
    let mut trusted = chain[last_untrusted..]
        .iter()
        .any(|c| c.boringssl.ss && !c.boringssl.invalid);
    if !trusted && partial_chain {
        if last_untrusted < chain.len() {
            trusted = true;
        } else if let Some(copy) = store.iter().find(|c| c.same(chain[0])) {
            chain[0] = copy;
            last_untrusted = 0;
            trusted = true;
        }
    }
    if !trusted {
        return match chain_ss {
            Some(root) if check_issued(root, x) => fail(19, chain.len()),
            _ => fail(
                if last_untrusted >= chain.len() { 20 } else { 2 },
                chain.len() - 1,
            ),
        };
    }
    check_chain_extensions(&chain, last_untrusted)?;
    internal_verify(&chain, partial_chain, now)?;
    check_name_constraints(&chain)
}

/// `check_chain_extensions`: the untrusted certificates only.
fn check_chain_extensions(chain: &[&Cert], last_untrusted: usize) -> Result<(), Failure> {
    let mut plen: i64 = 0;
    for (i, x) in chain.iter().enumerate().take(last_untrusted) {
        let f = &x.boringssl;
        if f.critical {
            return fail(34, i);
        }
        let must_be_ca = i > 0;
        if must_be_ca && !check_ca(x) {
            return fail(INVALID_CA, i);
        }
        if !purpose_ok(x, must_be_ca) {
            return fail(26, i);
        }
        if i > 1 && !f.si && f.path_len != -1 && plen > f.path_len + 1 {
            return fail(25, i);
        }
        if !f.si {
            plen += 1;
        }
    }
    Ok(())
}

/// `internal_verify`: the top's validity (and nothing else of it when it is self-issued
/// or PARTIAL_CHAIN is on), then each signature and validity going down.
fn internal_verify(chain: &[&Cert], partial_chain: bool, now: i64) -> Result<(), Failure> {
    let mut n = chain.len() - 1;
    let mut xi = chain[n];
    let mut xs = xi;
    let mut same = true;
    if !check_issued(xi, xi) && !partial_chain {
        if n == 0 {
            return fail(21, 0);
        }
        n -= 1;
        xs = chain[n];
        same = false;
    }
    loop {
        if !same {
            if !xi.key.boringssl_decodes {
                return fail(6, n);
            }
            if let Err(queue) = verify_signature(xs, xi) {
                return Err(Failure {
                    code: 7,
                    depth: n,
                    queue,
                });
            }
        }
        if xs.not_before.unix > now {
            return fail(9, n);
        }
        if xs.not_after.unix <= now {
            return fail(10, n);
        }
        if n == 0 {
            return Ok(());
        }
        n -= 1;
        xi = xs;
        xs = chain[n];
        same = false;
    }
}

/// `X509_verify`, and when it fails the oldest error it queued (`ERR_error_string_n`
/// form), which grpc prints before the verify result. An RSA failure is reported as the
/// padding error a wrong key produces (a re-issued CA under the same name is how a bad
/// signature arises in practice); what aws-lc-rs cannot check is taken as good.
fn verify_signature(subject: &Cert, issuer: &Cert) -> Result<(), Option<&'static str>> {
    if subject.sig.md5 {
        return Err(Some(
            "error:0c00006f:ASN.1 encoding routines:OPENSSL_internal:DIGEST_AND_KEY_TYPE_NOT_SUPPORTED",
        ));
    }
    if subject.sig.algo == Algo::Unknown {
        return Err(Some(
            "error:0c0000b8:ASN.1 encoding routines:OPENSSL_internal:UNKNOWN_SIGNATURE_ALGORITHM",
        ));
    }
    let key_matches = subject.sig.algo == issuer.key.algo
        || (subject.sig.algo == Algo::RsaPss && issuer.key.algo == Algo::Rsa);
    if !key_matches {
        return Err(Some(
            "error:0c0000bd:ASN.1 encoding routines:OPENSSL_internal:WRONG_PUBLIC_KEY_TYPE",
        ));
    }
    // BoringSSL parses DSA keys but has no DSA verifier (EVP_DigestVerifyInit fails).
    if subject.sig.algo == Algo::Dsa {
        return Err(Some(
            "error:06000080:public key routines:OPENSSL_internal:UNSUPPORTED_ALGORITHM",
        ));
    }
    // RSA-PSS parameters other than a SHA-2 hash with MGF1 of it and a salt of its length
    // (SHA-1 defaults, as `openssl -sigopt rsa_padding_mode:pss -sha1` writes them): the
    // error grpcio's BoringSSL was seen to queue (differential test).
    if subject.sig.algo == Algo::RsaPss && subject.signature_algorithm.is_none() {
        return Err(Some(
            "error:04000064:RSA routines:OPENSSL_internal:BAD_ENCODING",
        ));
    }
    let (Some(algorithm), Ok((_, spki))) = (
        subject.signature_algorithm,
        SubjectPublicKeyInfo::from_der(&issuer.spki),
    ) else {
        return Ok(());
    };
    match signature::verify(algorithm, &subject.tbs, &subject.signature, &spki) {
        Err(SignatureFailure::Invalid) => Err(match subject.sig.algo {
            Algo::Rsa => Some("error:0400006b:RSA routines:OPENSSL_internal:BLOCK_TYPE_IS_NOT_01"),
            Algo::Ec => Some("error:1a000064:ECDSA routines:OPENSSL_internal:BAD_SIGNATURE"),
            Algo::Ed25519 => {
                Some("error:06000083:public key routines:OPENSSL_internal:INVALID_SIGNATURE")
            }
            // RSA-PSS: which padding check fails first depends on the bytes.
            _ => None,
        }),
        _ => Ok(()),
    }
}

/// `check_name_constraints`: SANs and the subject against every constraint above; and a
/// leaf without any SAN extension under a constrained chain must not have a DNS-like CN.
fn check_name_constraints(chain: &[&Cert]) -> Result<(), Failure> {
    let num = chain.len();
    let mut constrained = false;
    for i in (0..num).rev() {
        let x = chain[i];
        if i != 0 && x.boringssl.si {
            continue;
        }
        for j in (i + 1..num).rev() {
            if let Some(nc) = chain[j].name_constraints() {
                constrained = true;
                if let Err(code) = ncons::check(x, nc, Lib::BoringSsl) {
                    return fail(code, i);
                }
            }
        }
    }
    let leaf = chain[0];
    if constrained && leaf.san().is_none() {
        let dns_like = leaf
            .subject
            .of_type(OID_COMMON_NAME)
            .any(|cn| name::to_utf8(cn.tag, &cn.value).is_some_and(|v| looks_like_dns_name(&v)));
        if dns_like {
            return fail(NAME_CONSTRAINTS_WITHOUT_SANS, 0);
        }
    }
    Ok(())
}

/// `v3_utl.cc x509v3_looks_like_dns_name`: LDH labels (plus `_` and `:`), an optional
/// leading `*.` and trailing dot; a single label counts.
pub fn looks_like_dns_name(name: &[u8]) -> bool {
    let name = name.strip_suffix(b".").unwrap_or(name);
    let name = name.strip_prefix(b"*.").unwrap_or(name);
    if name.is_empty() {
        return false;
    }
    let mut label_start = 0;
    for (i, &c) in name.iter().enumerate() {
        if c.is_ascii_alphanumeric() || (c == b'-' && i > label_start) || c == b'_' || c == b':' {
            continue;
        }
        if c == b'.' && i > label_start && i < name.len() - 1 {
            label_start = i + 1;
            continue;
        }
        return false;
    }
    true
}

/// BoringSSL's TLS 1.3 check on the leaf while parsing the Certificate message
/// (`ssl_cert.cc ssl_cert_check_key_usage`): a keyUsage extension must assert
/// digitalSignature. Only the leaf's own extension bytes are read.
pub fn leaf_key_usage_ok(leaf: &Cert) -> bool {
    match &leaf.ext.key_usage {
        cert::Decoded::Ok(ku) => ku & cert::KU_DIGITAL_SIGNATURE != 0,
        _ => true,
    }
}

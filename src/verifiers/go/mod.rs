//! Go's certificate verification as a crypto/tls client runs it (flytectl): every
//! certificate parsed by Go's rules, then `Certificate.Verify` — the leaf's own checks,
//! the host name, `buildChains` over the roots and the sent intermediates with Go's
//! candidate order and error choice, `isValid` on every candidate (validity, name
//! constraints, CA flag, path length, critical extensions), the EKU filter — and the
//! key-type check crypto/tls makes afterwards. Texts are those of Go 1.24/1.25
//! (crypto/x509's verify.go, x509.go, parser.go; crypto/tls's handshake_client.go).

pub mod cert;
pub mod names;

use std::sync::Arc;

use cert::GoCert;
use x509_parser::prelude::FromDer;

use crate::verifiers::pattern::Pattern;
use crate::verifiers::signature::{self, Failure, Hash, KeyType, PublicKey};

/// Go stops building chains after this many signature checks.
const MAX_SIGNATURE_CHECKS: usize = 100;
/// crypto/tls refuses server RSA keys above this size (GODEBUG tlsmaxrsasize).
const MAX_RSA_BITS: usize = 8192;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CertType {
    Leaf,
    Intermediate,
    Root,
}

/// A root pool: certificates parsed as Go's `AppendCertsFromPEM` keeps them (those Go
/// cannot parse are skipped, silently, as Go does).
pub struct RootPool {
    roots: Vec<Arc<GoCert>>,
}

impl RootPool {
    pub fn from_ders<'a>(ders: impl IntoIterator<Item = &'a [u8]>) -> Self {
        RootPool {
            roots: ders
                .into_iter()
                .filter_map(|der| cert::parse(der).ok())
                .collect(),
        }
    }

    /// No certificate Go could parse: `AppendCertsFromPEM` returned false.
    pub fn is_empty(&self) -> bool {
        self.roots.is_empty()
    }

    fn contains(&self, cert: &GoCert) -> bool {
        self.roots.iter().any(|root| root.der == cert.der)
    }
}

/// crypto/tls's texts (handshake_client.go) around crypto/x509's.
pub const NO_CERTIFICATE: Pattern = Pattern(&["tls: server sent no certificate"]);
pub const PARSE_FAILED: Pattern = Pattern(&["tls: failed to parse certificate from server: ", ""]);
pub const RSA_KEY_TOO_LARGE: Pattern = Pattern(&[
    "tls: server sent certificate containing RSA key larger than ",
    " bits",
]);
pub const VERIFY_FAILED: Pattern = Pattern(&["tls: failed to verify certificate: ", ""]);
pub const INSECURE_RSA_LEAF: Pattern = Pattern(&[
    "tls: invalid signature by the server certificate: crypto/rsa: ",
    "-bit keys are insecure (see https://go.dev/pkg/crypto/rsa#hdr-Minimum_key_size)",
]);
pub const UNSUPPORTED_LEAF_KEY: Pattern = Pattern(&[
    "tls: server's certificate contains an unsupported type of public key: ",
    "",
]);

/// crypto/x509's texts of `Verify` (verify.go).
pub const INCOMPATIBLE_KEY_USAGE: Pattern =
    Pattern(&["x509: certificate specifies an incompatible key usage"]);
pub const SIGNATURE_CHECK_LIMIT: Pattern =
    Pattern(&["x509: signature check attempts limit reached while verifying certificate chain"]);
pub const UNKNOWN_AUTHORITY: Pattern = Pattern(&["x509: certificate signed by unknown authority"]);
/// What follows [`UNKNOWN_AUTHORITY`] when a candidate issuer failed: its error and its
/// name, both quoted.
pub const UNKNOWN_AUTHORITY_HINT: Pattern = Pattern(&[
    " (possibly because of ",
    " while trying to verify candidate authority certificate ",
    ")",
]);
pub const UNHANDLED_CRITICAL_EXTENSION: Pattern = Pattern(&["x509: unhandled critical extension"]);
pub const NOT_YET_VALID: Pattern = Pattern(&[
    "x509: certificate has expired or is not yet valid: current time ",
    " is before ",
    "",
]);
pub const EXPIRED: Pattern = Pattern(&[
    "x509: certificate has expired or is not yet valid: current time ",
    " is after ",
    "",
]);
pub const NOT_AUTHORIZED_TO_SIGN: Pattern =
    Pattern(&["x509: certificate is not authorized to sign other certificates"]);
pub const PATH_LENGTH_EXCEEDED: Pattern =
    Pattern(&["x509: too many intermediates for path length constraint"]);

/// Every text above, for `why`.
pub const PATTERNS: &[Pattern] = &[
    NO_CERTIFICATE,
    PARSE_FAILED,
    RSA_KEY_TOO_LARGE,
    VERIFY_FAILED,
    INSECURE_RSA_LEAF,
    UNSUPPORTED_LEAF_KEY,
    INCOMPATIBLE_KEY_USAGE,
    SIGNATURE_CHECK_LIMIT,
    UNKNOWN_AUTHORITY,
    UNKNOWN_AUTHORITY_HINT,
    UNHANDLED_CRITICAL_EXTENSION,
    NOT_YET_VALID,
    EXPIRED,
    NOT_AUTHORIZED_TO_SIGN,
    PATH_LENGTH_EXCEEDED,
];

/// What crypto/tls says about the chain a server sent (`presented`, leaf first), for
/// `server_name` at `now` (Unix seconds) with `roots` as `RootCAs`: `Ok` when the
/// handshake's verification passes, else the error text exactly as `tls.Dial` returns it.
pub fn verify(
    presented: &[&[u8]],
    roots: &RootPool,
    server_name: &str,
    now: i64,
) -> Result<(), String> {
    let certs = parse_presented(presented)?;
    let Some((leaf, sent)) = certs.split_first() else {
        return Err(NO_CERTIFICATE.text());
    };
    // Intermediates pool: the sent certificates after the leaf, duplicates dropped.
    let mut intermediates: Vec<&GoCert> = Vec::new();
    for cert in sent.iter().map(|c| &**c) {
        if !intermediates.iter().any(|c| c.der == cert.der) {
            intermediates.push(cert);
        }
    }
    verify_certificate(leaf, &intermediates, roots, server_name, now)
        .map_err(|e| VERIFY_FAILED.fill(&[&e]))?;
    check_leaf_key(leaf)
}

/// crypto/tls's first step, on every platform: each certificate the server sent parsed by
/// Go's rules, and RSA keys above the size ceiling refused, before any verification.
pub(crate) fn parse_presented(presented: &[&[u8]]) -> Result<Vec<Arc<GoCert>>, String> {
    let mut certs = Vec::with_capacity(presented.len());
    for der in presented {
        let cert = cert::parse(der).map_err(|e| PARSE_FAILED.fill(&[&e]))?;
        if let PublicKey::Rsa { bits } = cert.public_key {
            if bits > MAX_RSA_BITS {
                return Err(RSA_KEY_TOO_LARGE.fill(&[&MAX_RSA_BITS.to_string()]));
            }
        }
        certs.push(cert);
    }
    Ok(certs)
}

/// crypto/tls's last step after a successful verification, on every platform: the leaf's
/// key must be one it can use (and an RSA key then signs the handshake).
pub(crate) fn check_leaf_key(leaf: &GoCert) -> Result<(), String> {
    match leaf.public_key {
        PublicKey::Rsa { bits } if bits < 1024 => Err(INSECURE_RSA_LEAF.fill(&[&bits.to_string()])),
        PublicKey::Rsa { .. } | PublicKey::Ec { .. } | PublicKey::Ed25519 => Ok(()),
        PublicKey::Dsa => Err(UNSUPPORTED_LEAF_KEY.fill(&["*dsa.PublicKey"])),
        PublicKey::Unknown => Err(UNSUPPORTED_LEAF_KEY.fill(&["<nil>"])),
    }
}

/// `Certificate.Verify` with DNSName set and the default (server-auth) key usage.
fn verify_certificate(
    leaf: &GoCert,
    intermediates: &[&GoCert],
    roots: &RootPool,
    server_name: &str,
    now: i64,
) -> Result<(), String> {
    is_valid(leaf, CertType::Leaf, &[], now)?;
    if !server_name.is_empty() {
        if let Some(error) = names::verify_hostname(leaf, server_name) {
            return Err(error);
        }
    }
    let chains = if roots.contains(leaf) {
        vec![vec![leaf]]
    } else {
        let mut search = Search {
            intermediates,
            roots,
            now,
            signature_checks: 0,
        };
        search.build_chains(leaf, &[leaf])?
    };
    if chains.iter().any(|chain| chain_allows_server_auth(chain)) {
        Ok(())
    } else {
        Err(INCOMPATIBLE_KEY_USAGE.text())
    }
}

struct Search<'a> {
    intermediates: &'a [&'a GoCert],
    roots: &'a RootPool,
    now: i64,
    signature_checks: usize,
}

impl<'a> Search<'a> {
    /// `buildChains`: every chain from `cert` (the top of `chain`) to a root, or the error
    /// Go returns — the last signature-passing candidate's, else "unknown authority" with
    /// the first failing candidate as its hint.
    fn build_chains(
        &mut self,
        cert: &'a GoCert,
        chain: &[&'a GoCert],
    ) -> Result<Vec<Vec<&'a GoCert>>, String> {
        let mut chains = Vec::new();
        let mut hint: Option<(String, &GoCert)> = None;
        let mut error: Option<String> = None;
        let roots: Vec<&'a GoCert> = potential_parents(cert, self.roots.roots.iter().map(|c| &**c));
        let intermediates: Vec<&'a GoCert> =
            potential_parents(cert, self.intermediates.iter().copied());
        let candidates = roots.into_iter().map(|c| (CertType::Root, c)).chain(
            intermediates
                .into_iter()
                .map(|c| (CertType::Intermediate, c)),
        );
        for (cert_type, candidate) in candidates {
            if candidate.public_key == PublicKey::Unknown || already_in_chain(candidate, chain) {
                continue;
            }
            self.signature_checks += 1;
            if self.signature_checks > MAX_SIGNATURE_CHECKS {
                error = Some(SIGNATURE_CHECK_LIMIT.text());
                continue;
            }
            if let Err(e) = check_signature_from(cert, candidate) {
                hint.get_or_insert((e, candidate));
                continue;
            }
            if let Err(e) = is_valid(candidate, cert_type, chain, self.now) {
                hint.get_or_insert((e.clone(), candidate));
                error = Some(e);
                continue;
            }
            error = None;
            let mut extended = chain.to_vec();
            extended.push(candidate);
            match cert_type {
                CertType::Root => chains.push(extended),
                _ => match self.build_chains(candidate, &extended) {
                    Ok(found) => chains.extend(found),
                    Err(e) => error = Some(e),
                },
            }
        }
        if !chains.is_empty() {
            return Ok(chains);
        }
        if let Some(error) = error {
            return Err(error);
        }
        let mut text = UNKNOWN_AUTHORITY.text();
        if let Some((error, candidate)) = hint {
            text.push_str(&UNKNOWN_AUTHORITY_HINT.fill(&[
                &format!("{error:?}"),
                &format!("{:?}", candidate.hint_name()),
            ]));
        }
        Err(text)
    }
}

/// `findPotentialParents`: certificates named as `cert`'s issuer, those whose key id
/// matches its authority key id first (both empty counts as a match), then those with
/// one of the two missing, then the rest; insertion order within each group.
fn potential_parents<'a>(cert: &GoCert, pool: impl Iterator<Item = &'a GoCert>) -> Vec<&'a GoCert> {
    let named: Vec<&GoCert> = pool.filter(|c| c.raw_subject == cert.raw_issuer).collect();
    let rank = |candidate: &GoCert| {
        if candidate.subject_key_id == cert.authority_key_id {
            0
        } else if candidate.subject_key_id.is_empty() || cert.authority_key_id.is_empty() {
            1
        } else {
            2
        }
    };
    let mut ranked = named;
    ranked.sort_by_key(|c| rank(c));
    ranked
}

/// `alreadyInChain`: same subject, same key and the same SANs (or both without).
fn already_in_chain(candidate: &GoCert, chain: &[&GoCert]) -> bool {
    chain.iter().any(|c| {
        c.raw_subject == candidate.raw_subject
            && c.raw_spki == candidate.raw_spki
            && c.has_san_extension == candidate.has_san_extension
            && c.raw_san_value == candidate.raw_san_value
    })
}

/// `isValid` for one certificate of a candidate chain; `chain` is what lies below it.
fn is_valid(cert: &GoCert, cert_type: CertType, chain: &[&GoCert], now: i64) -> Result<(), String> {
    if cert.unhandled_critical_extensions > 0 {
        return Err(UNHANDLED_CRITICAL_EXTENSION.text());
    }
    if now < cert.not_before {
        return Err(NOT_YET_VALID.fill(&[&rfc3339(now), &rfc3339(cert.not_before)]));
    }
    if now > cert.not_after {
        return Err(EXPIRED.fill(&[&rfc3339(now), &rfc3339(cert.not_after)]));
    }
    if cert_type != CertType::Leaf {
        if let Some(constraints) = &cert.name_constraints {
            let mut comparisons = 0;
            names::check_constraints(constraints, chain, &mut comparisons)?;
        }
    }
    if cert_type == CertType::Intermediate && (!cert.basic_constraints_valid || !cert.is_ca) {
        return Err(NOT_AUTHORIZED_TO_SIGN.text());
    }
    if cert.basic_constraints_valid && cert.max_path_len >= 0 {
        let intermediates_below = chain.len() as i64 - 1;
        if intermediates_below > cert.max_path_len {
            return Err(PATH_LENGTH_EXCEEDED.text());
        }
    }
    Ok(())
}

const CONSTRAINT_VIOLATION: &str =
    "x509: invalid signature: parent certificate cannot sign this kind of certificate";
const UNSUPPORTED: &str = "x509: cannot verify signature: algorithm unimplemented";

/// `CheckSignatureFrom(parent)`: the parent may sign certificates, and its key verifies
/// `child`'s signature with an algorithm Go allows.
fn check_signature_from(child: &GoCert, parent: &GoCert) -> Result<(), String> {
    if (parent.version == 3 && !parent.basic_constraints_valid)
        || (parent.basic_constraints_valid && !parent.is_ca)
    {
        return Err(CONSTRAINT_VIOLATION.into());
    }
    if parent.key_usage_cert_sign == Some(false) {
        return Err(CONSTRAINT_VIOLATION.into());
    }
    if parent.public_key == PublicKey::Unknown {
        return Err(UNSUPPORTED.into());
    }
    let Some(algorithm) = child.signature_algorithm else {
        return Err(UNSUPPORTED.into());
    };
    match (algorithm.key, algorithm.hash) {
        (KeyType::Rsa, Some(Hash::Md5)) => {
            return Err("x509: cannot verify signature: insecure algorithm MD5-RSA".into())
        }
        (key, Some(Hash::Sha1)) => {
            let name = match key {
                KeyType::Ecdsa => "ECDSA-SHA1",
                KeyType::Dsa => "DSA-SHA1",
                _ => "SHA1-RSA",
            };
            return Err(format!(
                "x509: cannot verify signature: insecure algorithm {name}"
            ));
        }
        (KeyType::Dsa, _) => return Err(UNSUPPORTED.into()),
        _ => {}
    }
    let expected = match algorithm.key {
        KeyType::Rsa | KeyType::RsaPss => "RSA",
        KeyType::Ecdsa => "ECDSA",
        _ => "Ed25519",
    };
    let have = match parent.public_key {
        PublicKey::Rsa { .. } => "RSA",
        PublicKey::Ec { .. } => "ECDSA",
        PublicKey::Ed25519 => "Ed25519",
        PublicKey::Dsa => return Err(UNSUPPORTED.into()),
        PublicKey::Unknown => return Err(UNSUPPORTED.into()),
    };
    if expected != have {
        let go_type = match have {
            "RSA" => "*rsa.PublicKey",
            "ECDSA" => "*ecdsa.PublicKey",
            _ => "ed25519.PublicKey",
        };
        return Err(format!(
            "x509: signature algorithm specifies an {expected} public key, but have public key of type {go_type}"
        ));
    }
    if let PublicKey::Rsa { bits } = parent.public_key {
        if bits < 1024 {
            return Err(format!(
                "crypto/rsa: {bits}-bit keys are insecure (see https://go.dev/pkg/crypto/rsa#hdr-Minimum_key_size)"
            ));
        }
    }
    let Ok((_, spki)) = x509_parser::x509::SubjectPublicKeyInfo::from_der(&parent.raw_spki) else {
        return Err(UNSUPPORTED.into());
    };
    match signature::verify(algorithm, &child.tbs, &child.signature, &spki) {
        Ok(()) => Ok(()),
        // Not checkable with aws-lc-rs (e.g. a P-224 key): Go would check it; assume the
        // issuer's signature is good, as the names and key ids already matched.
        Err(Failure::Unsupported) => Ok(()),
        Err(Failure::Invalid) => Err(match have {
            "RSA" => "crypto/rsa: verification error".into(),
            "ECDSA" => "x509: ECDSA verification failure".into(),
            _ => "x509: Ed25519 verification failure".into(),
        }),
    }
}

/// `checkChainForKeyUsage` for server auth: every certificate with an EKU extension
/// (root included) must allow serverAuth or any usage.
pub(crate) fn chain_allows_server_auth(chain: &[&GoCert]) -> bool {
    chain.iter().all(|cert| match &cert.eku {
        None => true,
        Some(eku) => eku.entries == 0 || eku.any || eku.server_auth,
    })
}

/// RFC 3339 in UTC, seconds precision, as Go formats `time.Time` here.
fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| unix.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::{self, Spec};

    fn ders<'a>(certs: &[&'a lab::Issued]) -> Vec<&'a [u8]> {
        certs.iter().map(|c| c.der.as_ref()).collect()
    }

    fn now() -> i64 {
        time::OffsetDateTime::now_utc().unix_timestamp()
    }

    #[test]
    fn a_correct_chain_verifies_and_names_are_checked_first() {
        let root = lab::self_signed(&Spec::ca("Go Root")).unwrap();
        let intermediate = lab::issue(&Spec::ca("Go Intermediate"), &root).unwrap();
        let leaf = lab::issue(&Spec::leaf("a.example.com"), &intermediate).unwrap();
        let pool = RootPool::from_ders([root.der.as_ref()]);
        assert_eq!(
            verify(
                &ders(&[&leaf, &intermediate]),
                &pool,
                "a.example.com",
                now()
            ),
            Ok(())
        );
        assert_eq!(
            verify(&ders(&[&leaf, &intermediate]), &pool, "b.example.com", now()),
            Err("tls: failed to verify certificate: x509: certificate is valid for a.example.com, not b.example.com".into())
        );
        // Missing intermediate: unknown authority, no hint (no candidate had the name).
        assert_eq!(
            verify(&ders(&[&leaf]), &pool, "a.example.com", now()),
            Err(
                "tls: failed to verify certificate: x509: certificate signed by unknown authority"
                    .into()
            )
        );
    }

    #[test]
    fn a_non_ca_issuer_is_a_hint_and_an_expired_intermediate_is_returned_as_is() {
        let root = lab::self_signed(&Spec::ca("Go Root")).unwrap();
        let mut not_ca = Spec::leaf("issuer.example.com");
        not_ca.common_name = "Not A CA".into();
        not_ca.explicit_not_ca = true;
        let issuer = lab::issue(&not_ca, &root).unwrap();
        let leaf = lab::issue(&Spec::leaf("a.example.com"), &issuer).unwrap();
        let pool = RootPool::from_ders([root.der.as_ref()]);
        assert_eq!(
            verify(&ders(&[&leaf, &issuer]), &pool, "a.example.com", now()),
            Err("tls: failed to verify certificate: x509: certificate signed by unknown authority (possibly because of \"x509: invalid signature: parent certificate cannot sign this kind of certificate\" while trying to verify candidate authority certificate \"Not A CA\")".into())
        );
        let mut old = Spec::ca("Old Intermediate");
        old.starts_in_days = -100;
        old.lifetime_days = 10;
        let expired = lab::issue(&old, &root).unwrap();
        let leaf = lab::issue(&Spec::leaf("a.example.com"), &expired).unwrap();
        let error = verify(&ders(&[&leaf, &expired]), &pool, "a.example.com", now()).unwrap_err();
        assert!(
            error.starts_with("tls: failed to verify certificate: x509: certificate has expired or is not yet valid: current time "),
            "{error}"
        );
    }

    #[test]
    fn eku_is_checked_down_the_chain_and_a_self_signed_leaf_in_the_pool_is_trusted() {
        let root = lab::self_signed(&Spec::ca("Go Root")).unwrap();
        let mut client_only = Spec::leaf("a.example.com");
        client_only.eku = Some(vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth]);
        let leaf = lab::issue(&client_only, &root).unwrap();
        let pool = RootPool::from_ders([root.der.as_ref()]);
        assert_eq!(
            verify(&ders(&[&leaf]), &pool, "a.example.com", now()),
            Err("tls: failed to verify certificate: x509: certificate specifies an incompatible key usage".into())
        );
        let self_signed = lab::self_signed(&Spec::leaf("a.example.com")).unwrap();
        let pool = RootPool::from_ders([self_signed.der.as_ref()]);
        assert_eq!(
            verify(&ders(&[&self_signed]), &pool, "a.example.com", now()),
            Ok(())
        );
    }
}

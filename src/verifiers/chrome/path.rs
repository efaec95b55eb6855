//! BoringSSL's path builder and chain verification as Chromium runs them: `CertPathIter`
//! and `CertPathBuilder::Run` (pki/path_builder.cc) with Chromium's iteration limit,
//! `VerifyCertificateChain` (pki/verify_certificate_chain.cc) for `KeyPurpose::SERVER_AUTH`,
//! and `SimplePathBuilderDelegate`'s key and algorithm policy
//! (pki/simple_path_builder_delegate.cc, with cert_verify_proc_builtin.cc's 1024-bit RSA).

use std::sync::Arc;

use x509_parser::prelude::FromDer;

use crate::verifiers::signature::{self, Curve, Failure, Hash, PublicKey};

use super::cert::ChromeCert;
use super::names;

/// `kPathBuilderIterationLimit` (cert_verify_proc_builtin.cc).
const ITERATION_LIMIT: u32 = 20;

/// The `cert_errors::k*` ids the status mapping and the retries look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertError {
    NoIssuersFound,
    IterationLimitExceeded,
    VerifySignedDataFailed,
    SubjectDoesNotMatchIssuer,
    UnacceptableSignatureAlgorithm,
    SignatureAlgorithmMismatch,
    UnacceptablePublicKey,
    FailedParsingSpki,
    ValidityFailedNotBefore,
    ValidityFailedNotAfter,
    MissingBasicConstraints,
    BasicConstraintsIndicatesNotCa,
    MaxPathLengthViolated,
    KeyCertSignBitNotSet,
    EkuLacksServerAuth,
    UnconsumedCriticalExtension,
    NotPermittedByNameConstraints,
    CtRequirementsNotMet,
}

/// How a trust store answers `GetTrust` for a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    Unspecified,
    /// A trust anchor; `enforce` = `WithEnforceAnchorExpiry().WithEnforceAnchorConstraints()`
    /// (NSS user roots: trust_store_nss.cc `GetTrustForNSSTrust`); the Chrome Root Store's
    /// anchors are plain (`TrustStoreInMemory::AddTrustAnchor`). `known` = Chrome Root Store.
    Anchor {
        enforce: bool,
        known: bool,
    },
}

/// Where the path builder finds certificates.
pub struct Sources<'a> {
    /// The Chrome Root Store (subject and key only).
    pub public: &'a [Arc<ChromeCert>],
    /// The user's NSS roots.
    pub local: &'a [Arc<ChromeCert>],
    /// The certificates sent after the leaf (`CertIssuerSourceStatic`).
    pub intermediates: &'a [Arc<ChromeCert>],
    /// Certificates fetched from caIssuers URLs (`CertIssuerSourceAia`, asked last).
    pub aia: &'a [Arc<ChromeCert>],
}

impl Sources<'_> {
    /// `TrustStoreCollection::GetTrust`: the Chrome Root Store first, then NSS.
    fn trust_of(&self, cert: &ChromeCert) -> Trust {
        if self
            .public
            .iter()
            .any(|a| a.subject == cert.subject && a.spki == cert.spki)
        {
            return Trust::Anchor {
                enforce: false,
                known: true,
            };
        }
        if !cert.der.is_empty() && self.local.iter().any(|a| a.der == cert.der) {
            return Trust::Anchor {
                enforce: true,
                known: false,
            };
        }
        Trust::Unspecified
    }
}

/// One path the builder returned, verified or partial, with its errors.
#[derive(Debug, Clone)]
pub struct ResultPath {
    /// Target first.
    pub certs: Vec<Arc<ChromeCert>>,
    pub trust: Trust,
    pub errors: Vec<CertError>,
}

impl ResultPath {
    pub fn is_valid(&self) -> bool {
        matches!(self.trust, Trust::Anchor { .. }) && self.errors.is_empty()
    }

    pub fn has(&self, error: CertError) -> bool {
        self.errors.contains(&error)
    }

    pub fn known_root(&self) -> bool {
        matches!(self.trust, Trust::Anchor { known: true, .. })
    }
}

/// `CertPathBuilder::Result`: every path tried, and the best one.
pub struct BuildResult {
    pub paths: Vec<ResultPath>,
    pub best: Option<usize>,
}

impl BuildResult {
    pub fn best(&self) -> Option<&ResultPath> {
        self.best.map(|i| &self.paths[i])
    }

    pub fn has_valid_path(&self) -> bool {
        self.best().is_some_and(ResultPath::is_valid)
    }
}

/// What the delegate needs besides the certificates.
pub struct Policy {
    pub now: i64,
    /// `CheckCertificateTransparency` for a valid path to a known root: whether the leaf
    /// meets Chrome's CT policy.
    pub ct_compliant: Box<dyn Fn(&ChromeCert) -> bool>,
}

struct IssuerEntry {
    cert: Arc<ChromeCert>,
    trust: Trust,
    order: u8,
}

/// `CertIssuersIter`: the candidate issuers of one certificate on the current path.
struct Frame {
    cert: Arc<ChromeCert>,
    issuers: Vec<IssuerEntry>,
    next: usize,
    skipped: usize,
    queried: bool,
    aia_queried: bool,
}

impl Frame {
    fn new(cert: Arc<ChromeCert>) -> Self {
        Frame {
            cert,
            issuers: Vec::new(),
            next: 0,
            skipped: 0,
            queried: false,
            aia_queried: false,
        }
    }

    fn add(&mut self, sources: &Sources<'_>, found: impl Iterator<Item = Arc<ChromeCert>>) {
        for cert in found {
            let duplicate = self.issuers.iter().any(|e| {
                if cert.der.is_empty() {
                    Arc::ptr_eq(&e.cert, &cert)
                } else {
                    e.cert.der == cert.der
                }
            });
            if duplicate {
                continue;
            }
            let trust = sources.trust_of(&cert);
            let order = trust_and_key_id_order(&self.cert, &cert, trust);
            self.issuers.push(IssuerEntry { cert, trust, order });
        }
        // SortRemainingIssuers: trust and key id, then not self-issued, then newer.
        self.issuers[self.next..].sort_by(|a, b| {
            (a.order, a.cert.is_self_issued())
                .cmp(&(b.order, b.cert.is_self_issued()))
                .then(b.cert.not_before.cmp(&a.cert.not_before))
                .then(b.cert.not_after.cmp(&a.cert.not_after))
        });
    }

    /// `GetNextIssuer`: the synchronous sources first (trust store, then the sent
    /// certificates); AIA only once those are used up.
    fn next_issuer(&mut self, sources: &Sources<'_>) -> Option<(Arc<ChromeCert>, Trust)> {
        if !self.queried {
            self.queried = true;
            let named = |pool: &[Arc<ChromeCert>]| {
                pool.iter()
                    .filter(|c| c.subject == self.cert.issuer)
                    .cloned()
                    .collect::<Vec<_>>()
            };
            let found: Vec<_> = named(sources.public)
                .into_iter()
                .chain(named(sources.local))
                .chain(named(sources.intermediates))
                .collect();
            self.add(sources, found.into_iter());
        }
        if self.next >= self.issuers.len() && !self.aia_queried {
            self.aia_queried = true;
            if self.cert.has_ca_issuers {
                let found: Vec<_> = sources
                    .aia
                    .iter()
                    .filter(|c| c.subject == self.cert.issuer)
                    .cloned()
                    .collect();
                self.add(sources, found.into_iter());
            }
        }
        let entry = self.issuers.get(self.next)?;
        self.next += 1;
        Some((entry.cert.clone(), entry.trust))
    }
}

/// `TrustAndKeyIdentifierMatchToOrder`.
fn trust_and_key_id_order(target: &ChromeCert, issuer: &ChromeCert, trust: Trust) -> u8 {
    let key_id = match (&target.authority_key_id, &issuer.subject_key_id) {
        (Some(akid), Some(skid)) if akid == skid => 0,
        (Some(_), Some(_)) => 2,
        _ => 1,
    };
    match (trust, key_id) {
        (Trust::Anchor { .. }, 0) => 0,
        (Trust::Anchor { .. }, 1) => 1,
        (Trust::Unspecified, 0) => 2,
        (Trust::Unspecified, 1) => 3,
        (Trust::Anchor { .. }, _) => 4,
        (Trust::Unspecified, _) => 5,
    }
}

/// `CertIssuerIterPath::GetKey`: subject, SAN and key identify a certificate on the path.
fn same_on_path(a: &ChromeCert, b: &ChromeCert) -> bool {
    a.subject == b.subject && a.san_value == b.san_value && a.spki == b.spki
}

/// `CertPathBuilder::Run` over `CertPathIter::GetNextPath`: stops at the first valid path.
pub fn build(target: Arc<ChromeCert>, sources: &Sources<'_>, policy: &Policy) -> BuildResult {
    let mut result = BuildResult {
        paths: Vec::new(),
        best: None,
    };
    let mut stack: Vec<Frame> = Vec::new();
    let mut next: Option<(Arc<ChromeCert>, Trust)> = {
        let trust = sources.trust_of(&target);
        Some((target, trust))
    };
    let mut iterations = 0u32;
    loop {
        // GetNextPath.
        let path = loop {
            let (cert, trust) = match next.take() {
                Some(entry) => entry,
                None => {
                    let Some(top) = stack.last_mut() else {
                        return result;
                    };
                    iterations += 1;
                    if iterations > ITERATION_LIMIT {
                        let path = ResultPath {
                            certs: stack.iter().map(|f| f.cert.clone()).collect(),
                            trust: Trust::Unspecified,
                            errors: vec![CertError::IterationLimitExceeded],
                        };
                        add_result(&mut result, path);
                        return result;
                    }
                    match top.next_issuer(sources) {
                        Some(entry) => entry,
                        None => {
                            if top.issuers.len() <= top.skipped {
                                let path = ResultPath {
                                    certs: stack.iter().map(|f| f.cert.clone()).collect(),
                                    trust: Trust::Unspecified,
                                    errors: vec![CertError::NoIssuersFound],
                                };
                                stack.pop();
                                break path;
                            }
                            stack.pop();
                            continue;
                        }
                    }
                }
            };
            // A trust anchor in the leaf position counts as unspecified.
            let trust = if stack.is_empty() {
                Trust::Unspecified
            } else {
                trust
            };
            match trust {
                Trust::Anchor { .. } => {
                    let mut certs: Vec<_> = stack.iter().map(|f| f.cert.clone()).collect();
                    certs.push(cert);
                    break ResultPath {
                        certs,
                        trust,
                        errors: Vec::new(),
                    };
                }
                Trust::Unspecified => {
                    if stack.iter().any(|f| same_on_path(&f.cert, &cert)) {
                        if let Some(top) = stack.last_mut() {
                            top.skipped += 1;
                        }
                        continue;
                    }
                    stack.push(Frame::new(cert));
                }
            }
        };
        let mut path = path;
        if let Trust::Anchor { enforce, .. } = path.trust {
            path.errors = verify_chain(&path.certs, enforce, policy);
            // CheckPathAfterVerification: CT for valid paths to known roots.
            if path.errors.is_empty() && path.known_root() && !(policy.ct_compliant)(&path.certs[0])
            {
                path.errors.push(CertError::CtRequirementsNotMet);
            }
        }
        let valid = path.is_valid();
        add_result(&mut result, path);
        if valid {
            return result;
        }
    }
}

/// `AddResultPath`: the best path is the first valid one, else the first that reached a
/// trust anchor, else the first.
fn add_result(result: &mut BuildResult, path: ResultPath) {
    if !result.has_valid_path() {
        let replace = match result.best() {
            None => true,
            Some(old) => {
                path.is_valid()
                    || (matches!(path.trust, Trust::Anchor { .. })
                        && old.trust == Trust::Unspecified)
            }
        };
        if replace {
            result.best = Some(result.paths.len());
        }
    }
    result.paths.push(path);
}

/// `VerifyCertificateChain` for `certs` (target first, anchor last), server auth. Policy
/// processing is not modelled (Chromium asks for anyPolicy).
fn verify_chain(
    certs: &[Arc<ChromeCert>],
    enforce_anchor: bool,
    policy: &Policy,
) -> Vec<CertError> {
    let mut errors = Vec::new();
    let n = certs.len() - 1;
    let root = &certs[n];
    let mut max_path_length = n as u64;
    let mut name_constraints: Vec<&ChromeCert> = Vec::new();
    // ProcessRootCertificate.
    if enforce_anchor {
        check_time(root, policy.now, &mut errors);
        if root.key_cert_sign == Some(false) {
            errors.push(CertError::KeyCertSignBitNotSet);
        }
        check_eku(root, &mut errors);
        if root.name_constraints.is_some() {
            name_constraints.push(root);
        }
        if let Some((ca, path_len)) = root.basic_constraints {
            if !ca {
                errors.push(CertError::BasicConstraintsIndicatesNotCa);
            }
            if let Some(path_len) = path_len {
                max_path_length = path_len as u64;
            }
        }
        if root.unconsumed_critical {
            errors.push(CertError::UnconsumedCriticalExtension);
        }
    }
    let mut working_key = check_key(root, &mut errors);
    let mut working_issuer = root.subject.clone();
    for index in (0..n).rev() {
        let cert = &certs[index];
        let is_target = index == 0;
        // BasicCertificateProcessing.
        if cert.outer_algorithm_tlv != cert.tbs_algorithm_tlv {
            errors.push(CertError::SignatureAlgorithmMismatch);
            return errors;
        }
        let Some(algorithm) = cert.algorithm else {
            errors.push(CertError::UnacceptableSignatureAlgorithm);
            return errors;
        };
        if algorithm.hash == Some(Hash::Sha1) {
            errors.push(CertError::UnacceptableSignatureAlgorithm);
            return errors;
        }
        let Some(key_spki) = working_key.take() else {
            return errors;
        };
        if !signature_verifies(cert, &key_spki) {
            errors.push(CertError::VerifySignedDataFailed);
            return errors;
        }
        check_time(cert, policy.now, &mut errors);
        if cert.issuer != working_issuer {
            errors.push(CertError::SubjectDoesNotMatchIssuer);
        }
        if !cert.is_self_issued() || is_target {
            for constrainer in &name_constraints {
                if let Some(nc) = &constrainer.name_constraints {
                    if !names::permitted(nc, cert) {
                        errors.push(CertError::NotPermittedByNameConstraints);
                    }
                }
            }
        }
        check_eku(cert, &mut errors);
        if is_target {
            // WrapUp.
            if cert.unconsumed_critical {
                errors.push(CertError::UnconsumedCriticalExtension);
            }
            check_key(cert, &mut errors);
            break;
        }
        // PrepareForNextCertificate.
        working_issuer = cert.subject.clone();
        working_key = check_key(cert, &mut errors);
        if cert.name_constraints.is_some() {
            name_constraints.push(cert);
        }
        match cert.basic_constraints {
            None => errors.push(CertError::MissingBasicConstraints),
            Some((false, _)) => errors.push(CertError::BasicConstraintsIndicatesNotCa),
            Some(_) => {}
        }
        if !cert.is_self_issued() {
            if max_path_length == 0 {
                errors.push(CertError::MaxPathLengthViolated);
            } else {
                max_path_length -= 1;
            }
        }
        if let Some((_, Some(path_len))) = cert.basic_constraints {
            max_path_length = max_path_length.min(path_len as u64);
        }
        if cert.key_cert_sign == Some(false) {
            errors.push(CertError::KeyCertSignBitNotSet);
        }
        if cert.unconsumed_critical {
            errors.push(CertError::UnconsumedCriticalExtension);
        }
    }
    errors
}

fn check_time(cert: &ChromeCert, now: i64, errors: &mut Vec<CertError>) {
    if now < cert.not_before {
        errors.push(CertError::ValidityFailedNotBefore);
    }
    if cert.not_after < now {
        errors.push(CertError::ValidityFailedNotAfter);
    }
}

/// `ParseAndCheckPublicKey`: the key if it parses, with `IsPublicKeyAcceptable` (RSA of
/// 1024 bits and more, ECDSA on P-256, P-384 or P-521, nothing else).
fn check_key(cert: &ChromeCert, errors: &mut Vec<CertError>) -> Option<Vec<u8>> {
    let acceptable = match cert.public_key {
        PublicKey::Rsa { bits } => bits >= 1024,
        PublicKey::Ec {
            curve: Curve::P256 | Curve::P384 | Curve::P521,
        } => true,
        // BoringSSL parses neither P-192 nor unknown curves or key types.
        PublicKey::Ec {
            curve: Curve::P192 | Curve::Other,
        }
        | PublicKey::Unknown => {
            errors.push(CertError::FailedParsingSpki);
            return None;
        }
        PublicKey::Ec { .. } | PublicKey::Ed25519 | PublicKey::Dsa => false,
    };
    if !acceptable {
        errors.push(CertError::UnacceptablePublicKey);
    }
    Some(cert.spki.clone())
}

/// `VerifyExtendedKeyUsage` for `KeyPurpose::SERVER_AUTH`: a certificate with an EKU must
/// allow serverAuth or anyExtendedKeyUsage. (The target and its issuer only warn about an
/// anyEKU without serverAuth and the legacy mode then accepts it; above them anyEKU
/// counts as serverAuth: either way only an EKU with neither fails.)
fn check_eku(cert: &ChromeCert, errors: &mut Vec<CertError>) {
    if let Some(eku) = cert.eku {
        if !eku.server_auth && !eku.any {
            errors.push(CertError::EkuLacksServerAuth);
        }
    }
}

/// `VerifySignedData` with the issuer's SubjectPublicKeyInfo; an algorithm aws-lc-rs cannot
/// check (P-224) is taken as verified, as the names already chain.
fn signature_verifies(cert: &ChromeCert, issuer_spki: &[u8]) -> bool {
    let Some(algorithm) = cert.algorithm else {
        return false;
    };
    if issuer_spki.is_empty() {
        // The assumed AIA issuer.
        return true;
    }
    let Ok((_, spki)) = x509_parser::x509::SubjectPublicKeyInfo::from_der(issuer_spki) else {
        return false;
    };
    let key_matches = matches!(
        (algorithm.key, PublicKey::of(&spki)),
        (
            signature::KeyType::Rsa | signature::KeyType::RsaPss,
            PublicKey::Rsa { .. }
        ) | (signature::KeyType::Ecdsa, PublicKey::Ec { .. })
    );
    if !key_matches {
        return false;
    }
    match signature::verify(algorithm, &cert.tbs, &cert.signature, &spki) {
        Ok(()) | Err(Failure::Unsupported) => true,
        // aws-lc-rs refuses RSA keys under 1024 bits that BoringSSL still verifies with
        // (the key itself is refused as kUnacceptablePublicKey).
        Err(Failure::Invalid) => {
            matches!(PublicKey::of(&spki), PublicKey::Rsa { bits } if bits < 1024)
        }
    }
}

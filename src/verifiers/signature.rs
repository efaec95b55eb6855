//! Signature checks for the verifier engines, with aws-lc-rs directly: the engines need
//! answers rustls-webpki and x509-parser do not give (1024-bit RSA, P-521, ECDSA with any
//! SHA-2 hash, and *why* a signature was not checked), each engine wording them its way.

use aws_lc_rs::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use x509_parser::der_parser::oid;
use x509_parser::oid_registry::Oid;
use x509_parser::prelude::*;

/// The hash a signature algorithm uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hash {
    Md5,
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

/// The key type a signature algorithm names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    Rsa,
    RsaPss,
    Ecdsa,
    Ed25519,
    Dsa,
}

/// A certificate's signature algorithm as the verifiers see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignatureAlgorithm {
    pub key: KeyType,
    /// None for Ed25519 (no separate hash) and for what is not understood.
    pub hash: Option<Hash>,
}

impl SignatureAlgorithm {
    /// From the certificate's signatureAlgorithm; None for an algorithm no engine knows
    /// (or RSA-PSS with parameters other than hash = MGF1 hash, salt = hash length).
    pub fn of(cert: &X509Certificate<'_>) -> Option<Self> {
        Self::of_algorithm(&cert.signature_algorithm)
    }

    /// From a signatureAlgorithm (a certificate's, a CRL's, an OCSP response's).
    pub fn of_algorithm(algorithm: &AlgorithmIdentifier<'_>) -> Option<Self> {
        let oid = &algorithm.algorithm;
        let (key, hash) = if *oid == oid!(1.2.840 .113549 .1 .1 .4) {
            (KeyType::Rsa, Hash::Md5)
        } else if *oid == oid!(1.2.840 .113549 .1 .1 .5) {
            (KeyType::Rsa, Hash::Sha1)
        } else if *oid == oid!(1.2.840 .113549 .1 .1 .11) {
            (KeyType::Rsa, Hash::Sha256)
        } else if *oid == oid!(1.2.840 .113549 .1 .1 .12) {
            (KeyType::Rsa, Hash::Sha384)
        } else if *oid == oid!(1.2.840 .113549 .1 .1 .13) {
            (KeyType::Rsa, Hash::Sha512)
        } else if *oid == oid!(1.2.840 .10045 .4 .1) {
            (KeyType::Ecdsa, Hash::Sha1)
        } else if *oid == oid!(1.2.840 .10045 .4 .3 .2) {
            (KeyType::Ecdsa, Hash::Sha256)
        } else if *oid == oid!(1.2.840 .10045 .4 .3 .3) {
            (KeyType::Ecdsa, Hash::Sha384)
        } else if *oid == oid!(1.2.840 .10045 .4 .3 .4) {
            (KeyType::Ecdsa, Hash::Sha512)
        } else if *oid == oid!(1.2.840 .10040 .4 .3) {
            (KeyType::Dsa, Hash::Sha1)
        } else if *oid == oid!(2.16.840 .1 .101 .3 .4 .3 .2) {
            (KeyType::Dsa, Hash::Sha256)
        } else if *oid == oid!(1.3.101 .112) {
            return Some(SignatureAlgorithm {
                key: KeyType::Ed25519,
                hash: None,
            });
        } else if *oid == oid!(1.2.840 .113549 .1 .1 .10) {
            return pss_hash(algorithm).map(|hash| SignatureAlgorithm {
                key: KeyType::RsaPss,
                hash: Some(hash),
            });
        } else {
            return None;
        };
        Some(SignatureAlgorithm {
            key,
            hash: Some(hash),
        })
    }
}

/// The hash of RSA-PSS parameters when they are the one accepted shape: a SHA-2 hash,
/// MGF1 with the same hash, salt length equal to the hash length.
fn pss_hash(algorithm: &AlgorithmIdentifier<'_>) -> Option<Hash> {
    let params = algorithm.parameters.as_ref()?;
    let pss = x509_parser::signature_algorithm::RsaSsaPssParams::try_from(params).ok()?;
    let hash = hash_of_oid(pss.hash_algorithm_oid())?;
    let mgf_hash = pss
        .mask_gen_algorithm()
        .ok()
        .and_then(|mgf| hash_of_oid(&mgf.hash))?;
    let salt = pss.salt_length();
    let expected_salt = match hash {
        Hash::Sha256 => 32,
        Hash::Sha384 => 48,
        Hash::Sha512 => 64,
        _ => return None,
    };
    (mgf_hash == hash && salt == expected_salt).then_some(hash)
}

fn hash_of_oid(oid: &Oid<'_>) -> Option<Hash> {
    if *oid == oid!(2.16.840 .1 .101 .3 .4 .2 .1) {
        Some(Hash::Sha256)
    } else if *oid == oid!(2.16.840 .1 .101 .3 .4 .2 .2) {
        Some(Hash::Sha384)
    } else if *oid == oid!(2.16.840 .1 .101 .3 .4 .2 .3) {
        Some(Hash::Sha512)
    } else if *oid == oid!(1.3.14 .3 .2 .26) {
        Some(Hash::Sha1)
    } else {
        None
    }
}

/// A public key as the verifiers see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    Rsa {
        bits: usize,
    },
    Ec {
        curve: Curve,
    },
    Ed25519,
    Dsa,
    /// A key algorithm (or curve) the verifiers do not know.
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Curve {
    P192,
    P224,
    P256,
    P384,
    P521,
    Other,
}

impl PublicKey {
    pub fn of(spki: &SubjectPublicKeyInfo<'_>) -> Self {
        match spki.parsed() {
            Ok(x509_parser::public_key::PublicKey::RSA(rsa)) => PublicKey::Rsa {
                bits: rsa.key_size(),
            },
            Ok(x509_parser::public_key::PublicKey::EC(_)) => {
                let curve = spki
                    .algorithm
                    .parameters
                    .as_ref()
                    .and_then(|p| p.as_oid().ok())
                    .map_or(Curve::Other, |oid| {
                        if oid == oid!(1.2.840 .10045 .3 .1 .1) {
                            Curve::P192
                        } else if oid == oid!(1.3.132 .0 .33) {
                            Curve::P224
                        } else if oid == oid!(1.2.840 .10045 .3 .1 .7) {
                            Curve::P256
                        } else if oid == oid!(1.3.132 .0 .34) {
                            Curve::P384
                        } else if oid == oid!(1.3.132 .0 .35) {
                            Curve::P521
                        } else {
                            Curve::Other
                        }
                    });
                PublicKey::Ec { curve }
            }
            Ok(x509_parser::public_key::PublicKey::DSA(_)) => PublicKey::Dsa,
            _ if spki.algorithm.algorithm == oid!(1.3.101 .112) => PublicKey::Ed25519,
            _ => PublicKey::Unknown,
        }
    }
}

/// Why a signature did not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Checked, and wrong.
    Invalid,
    /// Not checkable here (an algorithm, key or size combination aws-lc-rs lacks).
    Unsupported,
}

/// Verifies `signed`'s signature with the public key in `issuer_spki`, whatever the size
/// policy: each engine applies its own minimums before calling this.
pub fn verify(
    algorithm: SignatureAlgorithm,
    tbs: &[u8],
    signature_bytes: &[u8],
    issuer_spki: &SubjectPublicKeyInfo<'_>,
) -> Result<(), Failure> {
    let key = PublicKey::of(issuer_spki);
    let verifier: &'static dyn VerificationAlgorithm = match (algorithm.key, algorithm.hash, &key) {
        (KeyType::Rsa, Some(hash), PublicKey::Rsa { bits }) => match (hash, *bits >= 2048) {
            (Hash::Sha1, _) => &signature::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY,
            (Hash::Sha256, true) => &signature::RSA_PKCS1_2048_8192_SHA256,
            (Hash::Sha256, false) => &signature::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
            (Hash::Sha384, true) => &signature::RSA_PKCS1_2048_8192_SHA384,
            (Hash::Sha512, true) => &signature::RSA_PKCS1_2048_8192_SHA512,
            (Hash::Sha512, false) => &signature::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY,
            _ => return Err(Failure::Unsupported),
        },
        // aws-lc-rs verifies RSA-PSS from 2048 bits only: smaller keys go unchecked.
        (KeyType::RsaPss, Some(hash), PublicKey::Rsa { bits }) if *bits >= 2048 => match hash {
            Hash::Sha256 => &signature::RSA_PSS_2048_8192_SHA256,
            Hash::Sha384 => &signature::RSA_PSS_2048_8192_SHA384,
            Hash::Sha512 => &signature::RSA_PSS_2048_8192_SHA512,
            _ => return Err(Failure::Unsupported),
        },
        (KeyType::Ecdsa, Some(hash), PublicKey::Ec { curve }) => match (curve, hash) {
            (Curve::P256, Hash::Sha1) => &signature::ECDSA_P256_SHA1_ASN1,
            (Curve::P256, Hash::Sha256) => &signature::ECDSA_P256_SHA256_ASN1,
            (Curve::P256, Hash::Sha384) => &signature::ECDSA_P256_SHA384_ASN1,
            (Curve::P256, Hash::Sha512) => &signature::ECDSA_P256_SHA512_ASN1,
            (Curve::P384, Hash::Sha256) => &signature::ECDSA_P384_SHA256_ASN1,
            (Curve::P384, Hash::Sha384) => &signature::ECDSA_P384_SHA384_ASN1,
            (Curve::P384, Hash::Sha512) => &signature::ECDSA_P384_SHA512_ASN1,
            (Curve::P521, Hash::Sha1) => &signature::ECDSA_P521_SHA1_ASN1,
            (Curve::P521, Hash::Sha256) => &signature::ECDSA_P521_SHA256_ASN1,
            (Curve::P521, Hash::Sha384) => &signature::ECDSA_P521_SHA384_ASN1,
            (Curve::P521, Hash::Sha512) => &signature::ECDSA_P521_SHA512_ASN1,
            _ => return Err(Failure::Unsupported),
        },
        (KeyType::Ed25519, _, PublicKey::Ed25519) => &signature::ED25519,
        _ => return Err(Failure::Unsupported),
    };
    // RSA keys are given as the PKCS#1 RSAPublicKey, EC keys as the point, Ed25519 raw:
    // in each case the BIT STRING of the SubjectPublicKeyInfo.
    let key = issuer_spki.subject_public_key.data.as_ref();
    verify_remembered(algorithm, key, tbs, signature_bytes, || {
        UnparsedPublicKey::new(verifier, key)
            .verify(tbs, signature_bytes)
            .is_ok()
    })
    .then_some(())
    .ok_or(Failure::Invalid)
}

/// `verify()`'s answer, or true at once when this very verification (algorithm, key —
/// the SubjectPublicKeyInfo's BIT STRING —, message, signature) succeeded before in this
/// process, whoever asked: the engines, the structure analysis and webpki
/// (`trust::remembered`) share the memory.
pub fn verify_remembered(
    algorithm: SignatureAlgorithm,
    key: &[u8],
    message: &[u8],
    signature: &[u8],
    verify: impl FnOnce() -> bool,
) -> bool {
    let memo_key = remembered_key(algorithm, key, message, signature);
    if remembered(&memo_key) {
        return true;
    }
    let verified = verify();
    if verified {
        remember(memo_key);
    }
    verified
}

/// The algorithm a rustls/webpki verification algorithm implements, by its signature
/// AlgorithmIdentifier (the key's curve is in the key itself); None for others.
pub fn of_alg_id(id: &rustls_pki_types::AlgorithmIdentifier) -> Option<SignatureAlgorithm> {
    use rustls_pki_types::alg_id;
    let (key, hash) = [
        (alg_id::ECDSA_SHA256, KeyType::Ecdsa, Some(Hash::Sha256)),
        (alg_id::ECDSA_SHA384, KeyType::Ecdsa, Some(Hash::Sha384)),
        (alg_id::ECDSA_SHA512, KeyType::Ecdsa, Some(Hash::Sha512)),
        (alg_id::RSA_PKCS1_SHA256, KeyType::Rsa, Some(Hash::Sha256)),
        (alg_id::RSA_PKCS1_SHA384, KeyType::Rsa, Some(Hash::Sha384)),
        (alg_id::RSA_PKCS1_SHA512, KeyType::Rsa, Some(Hash::Sha512)),
        (alg_id::RSA_PSS_SHA256, KeyType::RsaPss, Some(Hash::Sha256)),
        (alg_id::RSA_PSS_SHA384, KeyType::RsaPss, Some(Hash::Sha384)),
        (alg_id::RSA_PSS_SHA512, KeyType::RsaPss, Some(Hash::Sha512)),
        (alg_id::ED25519, KeyType::Ed25519, None),
    ]
    .into_iter()
    .find(|(known, _, _)| known.as_ref() == id.as_ref())
    .map(|(_, key, hash)| (key, hash))?;
    Some(SignatureAlgorithm { key, hash })
}

/// Several engines check the same signatures for every client of every report (and a
/// fleet's endpoints share issuers): successes are remembered for the process, keyed by
/// the algorithm, key, message and signature themselves, so only the very same input is
/// ever taken as verified. Bounded (a few MiB): cleared when full.
const REMEMBERED_CAPACITY: usize = 2_048;

type RememberedSet = std::collections::HashSet<Box<[u8]>, super::TailHash>;

static REMEMBERED: std::sync::Mutex<Option<RememberedSet>> = std::sync::Mutex::new(None);

fn remembered_key(
    algorithm: SignatureAlgorithm,
    key: &[u8],
    tbs: &[u8],
    signature: &[u8],
) -> Box<[u8]> {
    let mut out = Vec::with_capacity(16 + key.len() + tbs.len() + signature.len() + 24);
    // The algorithm as two bytes: key type and hash (0 for none).
    out.push(algorithm.key as u8);
    out.push(algorithm.hash.map_or(0, |hash| hash as u8 + 1));
    for part in [key, tbs, signature] {
        out.extend_from_slice(&(part.len() as u64).to_be_bytes());
        out.extend_from_slice(part);
    }
    out.into_boxed_slice()
}

fn remembered(key: &[u8]) -> bool {
    REMEMBERED
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .as_ref()
        .is_some_and(|set| set.contains(key))
}

fn remember(key: Box<[u8]>) {
    let mut set = REMEMBERED.lock().unwrap_or_else(|p| p.into_inner());
    let set = set.get_or_insert_with(|| RememberedSet::with_hasher(super::TailHash::new()));
    if set.len() >= REMEMBERED_CAPACITY {
        set.clear();
    }
    set.insert(key);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::{self, Spec};

    #[test]
    fn a_remembered_success_never_accepts_a_tampered_signature() {
        let root = lab::self_signed(&Spec::ca("Memo Root")).unwrap();
        let leaf = lab::issue(&Spec::leaf("m.example.com"), &root).unwrap();
        let (_, root_cert) = X509Certificate::from_der(&root.der).unwrap();
        let (_, leaf_cert) = X509Certificate::from_der(&leaf.der).unwrap();
        let algorithm = SignatureAlgorithm::of(&leaf_cert).unwrap();
        let tbs = leaf_cert.tbs_certificate.as_ref();
        let signature = leaf_cert.signature_value.data.as_ref();
        let key = root_cert.public_key();
        assert_eq!(verify(algorithm, tbs, signature, key), Ok(()));
        assert_eq!(verify(algorithm, tbs, signature, key), Ok(()));
        let mut tampered = tbs.to_vec();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert_eq!(
            verify(algorithm, &tampered, signature, key),
            Err(Failure::Invalid)
        );
    }
}

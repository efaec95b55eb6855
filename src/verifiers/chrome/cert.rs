//! Certificates as BoringSSL's `pki/` holds them for Chromium (`ParsedCertificate::Create`
//! with `x509_util::DefaultParseCertificateOptions`): names normalised for comparison
//! (`verify_name_match.cc`), the extensions path validation consumes, and the signature
//! algorithm only when `signature_algorithm.cc` knows it.

use std::sync::Arc;

use x509_parser::der_parser::oid;
use x509_parser::extensions::{GeneralName as X509GeneralName, ParsedExtension};
use x509_parser::prelude::*;

use crate::verifiers::openssl::der::{self, Reader};
use crate::verifiers::openssl::name::{GeneralName, Name, NameConstraints};
use crate::verifiers::signature::{Hash, KeyType, PublicKey, SignatureAlgorithm};

/// One certificate, or a trust anchor known only by its subject and key.
#[derive(Debug)]
pub struct ChromeCert {
    /// The DER (empty for an anchor known only by name and key).
    pub der: Vec<u8>,
    pub tbs: Vec<u8>,
    pub signature: Vec<u8>,
    /// `Certificate.signatureAlgorithm` and `TBSCertificate.signature`, as encoded.
    pub outer_algorithm_tlv: Vec<u8>,
    pub tbs_algorithm_tlv: Vec<u8>,
    /// `ParseSignatureAlgorithm`'s answer: None for MD5, DSA, Ed25519 and the unknown.
    pub algorithm: Option<SignatureAlgorithm>,
    /// Normalised names (`NormalizeName`), compared for chaining.
    pub subject: Vec<u8>,
    pub issuer: Vec<u8>,
    pub subject_name: Option<Name>,
    /// The SubjectPublicKeyInfo, full DER.
    pub spki: Vec<u8>,
    pub public_key: PublicKey,
    pub not_before: i64,
    pub not_after: i64,
    /// basicConstraints: (cA, pathLenConstraint).
    pub basic_constraints: Option<(bool, Option<u32>)>,
    /// keyUsage present: whether it asserts keyCertSign.
    pub key_cert_sign: Option<bool>,
    pub eku: Option<Eku>,
    /// The subjectAltName extension's value as encoded (the loop checker's key).
    pub san_value: Vec<u8>,
    pub san: Option<Vec<GeneralName>>,
    pub dns_names: Vec<String>,
    pub ip_addresses: Vec<Vec<u8>>,
    pub name_constraints: Option<NameConstraints>,
    pub authority_key_id: Option<Vec<u8>>,
    pub subject_key_id: Option<Vec<u8>>,
    /// Critical extensions path validation does not consume (`IsHandledCriticalExtension`).
    pub unconsumed_critical: bool,
    /// An http caIssuers URL: AIA fetching can be asked for its issuer.
    pub has_ca_issuers: bool,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Eku {
    pub server_auth: bool,
    pub any: bool,
}

impl ChromeCert {
    /// A trust anchor of the Chrome Root Store as certready knows it: subject and key only
    /// (which is all a plain `CertificateTrust::ForTrustAnchor` uses).
    pub fn anchor(subject_der: &[u8], spki_der: &[u8]) -> Option<ChromeCert> {
        let subject = Name::parse(subject_der)?;
        let public_key = SubjectPublicKeyInfo::from_der(spki_der)
            .map(|(_, spki)| PublicKey::of(&spki))
            .unwrap_or(PublicKey::Unknown);
        Some(ChromeCert {
            der: Vec::new(),
            tbs: Vec::new(),
            signature: Vec::new(),
            outer_algorithm_tlv: Vec::new(),
            tbs_algorithm_tlv: Vec::new(),
            algorithm: None,
            subject: subject.canon.clone(),
            issuer: subject.canon.clone(),
            subject_name: Some(subject),
            spki: spki_der.to_vec(),
            public_key,
            not_before: i64::MIN,
            not_after: i64::MAX,
            basic_constraints: None,
            key_cert_sign: None,
            eku: None,
            san_value: Vec::new(),
            san: None,
            dns_names: Vec::new(),
            ip_addresses: Vec::new(),
            name_constraints: None,
            authority_key_id: None,
            subject_key_id: None,
            unconsumed_critical: false,
            has_ca_issuers: false,
        })
    }

    pub fn is_self_issued(&self) -> bool {
        self.subject == self.issuer
    }
}

/// Parses `der`, remembered per DER for the process; None where `ParsedCertificate::Create`
/// fails (Chromium then drops a sent intermediate, and refuses a leaf as ERR_CERT_INVALID).
pub fn parse(der: &[u8]) -> Option<Arc<ChromeCert>> {
    static CACHE: crate::verifiers::ParseCache<Option<Arc<ChromeCert>>> =
        crate::verifiers::ParseCache::new();
    CACHE.get(der, |der| parse_uncached(der).map(Arc::new))
}

fn parse_uncached(der_bytes: &[u8]) -> Option<ChromeCert> {
    let (rest, cert) = X509Certificate::from_der(der_bytes).ok()?;
    if !rest.is_empty() {
        return None;
    }
    // The raw pieces: Certificate ::= SEQUENCE { tbs, signatureAlgorithm, signature }.
    let outer = der::sequence(der_bytes)?;
    let [tbs, outer_algorithm, signature] = outer.as_slice() else {
        return None;
    };
    let mut tbs_reader = Reader::new(tbs.content);
    tbs_reader.read_tag(0xa0);
    tbs_reader.read_tag(der::INTEGER)?;
    let tbs_algorithm = tbs_reader.read_tag(der::SEQUENCE)?;
    let issuer_tlv = tbs_reader.read_tag(der::SEQUENCE)?;
    tbs_reader.read_tag(der::SEQUENCE)?;
    let subject_tlv = tbs_reader.read_tag(der::SEQUENCE)?;
    let spki_tlv = tbs_reader.read_tag(der::SEQUENCE)?;
    let subject_name = Name::parse(subject_tlv.raw)?;
    let issuer_name = Name::parse(issuer_tlv.raw)?;
    let signature_bits = der::bit_string(signature.content)?;

    let mut parsed = ChromeCert {
        der: der_bytes.to_vec(),
        tbs: tbs.raw.to_vec(),
        signature: signature_bits,
        outer_algorithm_tlv: outer_algorithm.raw.to_vec(),
        tbs_algorithm_tlv: tbs_algorithm.raw.to_vec(),
        algorithm: known_algorithm(&cert),
        subject: subject_name.canon.clone(),
        issuer: issuer_name.canon,
        subject_name: Some(subject_name),
        spki: spki_tlv.raw.to_vec(),
        public_key: PublicKey::of(cert.public_key()),
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
        basic_constraints: None,
        key_cert_sign: None,
        eku: None,
        san_value: Vec::new(),
        san: None,
        dns_names: Vec::new(),
        ip_addresses: Vec::new(),
        name_constraints: None,
        authority_key_id: None,
        subject_key_id: None,
        unconsumed_critical: false,
        has_ca_issuers: false,
    };
    for extension in cert.extensions() {
        let oid = &extension.oid;
        let handled = match extension.parsed_extension() {
            ParsedExtension::BasicConstraints(bc) => {
                parsed.basic_constraints = Some((bc.ca, bc.path_len_constraint));
                true
            }
            ParsedExtension::KeyUsage(ku) => {
                parsed.key_cert_sign = Some(ku.key_cert_sign());
                true
            }
            ParsedExtension::ExtendedKeyUsage(eku) => {
                parsed.eku = Some(Eku {
                    server_auth: eku.server_auth,
                    any: eku.any,
                });
                true
            }
            ParsedExtension::SubjectAlternativeName(san) => {
                // An empty SAN fails ParseGeneralNames.
                if san.general_names.is_empty() {
                    return None;
                }
                parsed.san_value = extension.value.to_vec();
                parsed.san = Some(crate::verifiers::openssl::name::general_names(
                    der::single(extension.value, der::SEQUENCE)?.content,
                )?);
                for name in &san.general_names {
                    match name {
                        X509GeneralName::DNSName(dns) => parsed.dns_names.push(dns.to_string()),
                        X509GeneralName::IPAddress(ip) => parsed.ip_addresses.push(ip.to_vec()),
                        _ => {}
                    }
                }
                true
            }
            ParsedExtension::NameConstraints(_) => {
                parsed.name_constraints = Some(NameConstraints::parse(extension.value)?);
                true
            }
            ParsedExtension::AuthorityKeyIdentifier(akid) => {
                parsed.authority_key_id = akid.key_identifier.as_ref().map(|k| k.0.to_vec());
                false
            }
            ParsedExtension::SubjectKeyIdentifier(skid) => {
                parsed.subject_key_id = Some(skid.0.to_vec());
                false
            }
            ParsedExtension::AuthorityInfoAccess(aia) => {
                parsed.has_ca_issuers = aia.accessdescs.iter().any(|d| {
                    d.access_method == oid!(1.3.6 .1 .5 .5 .7 .48 .2)
                        && matches!(d.access_location, X509GeneralName::URI(uri)
                            if uri.to_ascii_lowercase().starts_with("http://"))
                });
                false
            }
            ParsedExtension::CertificatePolicies(_)
            | ParsedExtension::PolicyMappings(_)
            | ParsedExtension::PolicyConstraints(_)
            | ParsedExtension::InhibitAnyPolicy(_) => true,
            // A known extension that does not parse makes the certificate unreadable.
            ParsedExtension::ParseError { .. } => return None,
            _ => false,
        };
        // msApplicationPolicies may be critical when an EKU is present (crbug.com/1439638).
        let ms_application_policies = *oid == oid!(1.3.6 .1 .4 .1 .311 .21 .10);
        if extension.critical && !handled && !ms_application_policies {
            parsed.unconsumed_critical = true;
        }
    }
    if parsed.eku.is_none()
        && cert
            .extensions()
            .iter()
            .any(|e| e.critical && e.oid == oid!(1.3.6 .1 .4 .1 .311 .21 .10))
    {
        parsed.unconsumed_critical = true;
    }
    Some(parsed)
}

/// `ParseSignatureAlgorithm`: RSA PKCS#1 and ECDSA with SHA-1 or SHA-2, RSA-PSS with
/// SHA-2; anything else (MD5, DSA, Ed25519) is unknown to Chromium.
fn known_algorithm(cert: &X509Certificate<'_>) -> Option<SignatureAlgorithm> {
    let algorithm = SignatureAlgorithm::of(cert)?;
    match (algorithm.key, algorithm.hash) {
        (KeyType::Rsa | KeyType::Ecdsa, Some(Hash::Sha1 | Hash::Sha256 | Hash::Sha384))
        | (KeyType::Rsa | KeyType::Ecdsa, Some(Hash::Sha512))
        | (KeyType::RsaPss, Some(Hash::Sha256 | Hash::Sha384 | Hash::Sha512)) => Some(algorithm),
        _ => None,
    }
}

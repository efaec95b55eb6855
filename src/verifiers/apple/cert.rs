//! A certificate as Apple's SecCertificate (Security, OSX/sec/Security/SecCertificate.c)
//! sees it: the normalized names the path builder matches, the subject summary its
//! messages quote, the extensions it knows (the rest, when critical, are "unknown
//! critical"), the key sizes and signature hash its policy checks read.

use std::sync::Arc;

use x509_parser::der_parser::oid;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::oid_registry::Oid;
use x509_parser::prelude::*;
use x509_parser::x509::X509Name;

use crate::verifiers::signature::{self, Curve, PublicKey, SignatureAlgorithm};

/// `SecCertificateGetSignatureHashAlgorithm`, for the weak-hash checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigHash {
    Unknown,
    Md2,
    Md4,
    Md5,
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

/// The public key as `SecKeyGetAlgorithmId` and `SecKeyGetBlockSize` report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// Modulus size in bytes.
    Rsa(usize),
    /// Field size in bytes (32 for P-256).
    Ec(usize),
    /// Anything else (Ed25519, DSA, unknown): neither RSA nor EC to the size checks.
    Other,
}

/// The extended key usages the SSL policy asks about (`set_ssl_ekus`, ServerAuthEKU).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ekus {
    pub server_auth: bool,
    pub any: bool,
    pub ms_sgc: bool,
    pub ns_sgc: bool,
    pub count: usize,
}

#[derive(Debug, Clone)]
pub struct AppleCert {
    /// The certificate's DER; empty for an anchor known only by subject and key.
    pub der: Vec<u8>,
    pub version: u32,
    pub raw_spki: Vec<u8>,
    /// `createNormalizedX501Name` of subject and issuer, as comparison keys.
    pub normalized_subject: Option<Vec<u8>>,
    pub normalized_issuer: Option<Vec<u8>>,
    pub subject_empty: bool,
    /// `SecCertificateCopySubjectSummary`.
    pub summary: Option<String>,
    pub not_before: i64,
    pub not_after: i64,
    /// basicConstraints: None when absent, else (cA, pathLenConstraint).
    pub basic_constraints: Option<(bool, Option<u32>)>,
    /// keyUsage: None when absent, else whether keyCertSign is set.
    pub key_cert_sign: Option<bool>,
    /// None when there is no (parsable) EKU extension.
    pub ekus: Option<Ekus>,
    pub subject_key_id: Option<Vec<u8>>,
    pub authority_key_id: Option<Vec<u8>>,
    pub dns_names: Vec<String>,
    pub ip_addresses: Vec<Vec<u8>>,
    pub emails: Vec<String>,
    pub san_critical: bool,
    pub unknown_critical_extension: bool,
    /// caIssuers URIs of the AuthorityInfoAccess extension, in order.
    pub ca_issuers: Vec<String>,
    pub key: Key,
    pub hash: SigHash,
    pub signature_algorithm: Option<SignatureAlgorithm>,
    pub tbs: Vec<u8>,
    pub signature: Vec<u8>,
    /// An anchor known only by subject and key (the compiled-in public roots): taken as
    /// a well-formed, valid, self-signed CA.
    pub bare: bool,
    self_signed: bool,
}

static PARSED: crate::verifiers::ParseCache<Option<Arc<AppleCert>>> =
    crate::verifiers::ParseCache::new();

/// `SecCertificateCreateWithData`: the certificate, or None where Apple's parser refuses
/// it (a critical extension it knows but cannot parse, a version above 3).
pub fn parse(der: &[u8]) -> Option<Arc<AppleCert>> {
    PARSED.get(der, |der| parse_uncached(der).map(Arc::new))
}

/// An anchor known by its subject Name and SubjectPublicKeyInfo contents only.
pub fn bare(subject_content: &[u8], spki_content: &[u8]) -> Option<Arc<AppleCert>> {
    let subject = crate::der::sequence(subject_content);
    let spki = crate::der::sequence(spki_content);
    let (_, name) = X509Name::from_der(&subject).ok()?;
    let (_, key) = SubjectPublicKeyInfo::from_der(&spki).ok()?;
    let normalized = normalize_name(&name);
    Some(Arc::new(AppleCert {
        der: Vec::new(),
        version: 3,
        raw_spki: spki.clone(),
        normalized_subject: normalized.clone(),
        normalized_issuer: normalized,
        subject_empty: subject_content.is_empty(),
        summary: subject_summary(&name, &[], &[]),
        not_before: i64::MIN,
        not_after: i64::MAX,
        basic_constraints: Some((true, None)),
        key_cert_sign: None,
        ekus: None,
        subject_key_id: None,
        authority_key_id: None,
        dns_names: Vec::new(),
        ip_addresses: Vec::new(),
        emails: Vec::new(),
        san_critical: false,
        unknown_critical_extension: false,
        ca_issuers: Vec::new(),
        key: key_of(&key),
        hash: SigHash::Unknown,
        signature_algorithm: None,
        tbs: Vec::new(),
        signature: Vec::new(),
        bare: true,
        self_signed: true,
    }))
}

impl AppleCert {
    /// `SecCertificateIsValid`: notBefore <= at <= notAfter.
    pub fn valid_at(&self, at: i64) -> bool {
        self.not_before <= at && at <= self.not_after
    }

    /// `SecCertificateIsSelfSigned`: normalized issuer equals subject, the authority key
    /// id (when present) equals the subject key id, and its own key verifies it.
    pub fn is_self_signed(&self) -> bool {
        self.self_signed
    }

    /// `SecCertificateIsCA`: basicConstraints cA for v3, self-signed for v1 and v2.
    pub fn is_ca(&self) -> bool {
        if self.version >= 3 {
            self.basic_constraints.is_some_and(|(ca, _)| ca)
        } else {
            self.self_signed
        }
    }

    /// Self-issued: subject and issuer are the same (normalized) name.
    pub fn is_self_issued(&self) -> bool {
        self.normalized_subject.is_some() && self.normalized_subject == self.normalized_issuer
    }

    /// Whether `issuer` can be this certificate's parent by name (the memory, keychain
    /// and anchor sources look parents up by normalized issuer).
    pub fn named_issuer(&self, issuer: &AppleCert) -> bool {
        self.normalized_issuer.is_some() && self.normalized_issuer == issuer.normalized_subject
    }

    /// Whether `issuer`'s key verifies this certificate's signature. Signatures the
    /// crypto library here cannot check are taken as good (as the other engines do).
    pub fn signed_by(&self, issuer: &AppleCert) -> bool {
        let Some(algorithm) = self.signature_algorithm else {
            return false;
        };
        let Ok((_, spki)) = SubjectPublicKeyInfo::from_der(&issuer.raw_spki) else {
            return false;
        };
        !matches!(
            signature::verify(algorithm, &self.tbs, &self.signature, &spki),
            Err(signature::Failure::Invalid)
        )
    }

    /// The same certificate: the same DER, or (for an anchor known by key only) the same
    /// subject and key.
    pub fn same(&self, other: &AppleCert) -> bool {
        if !self.bare && !other.bare {
            return self.der == other.der;
        }
        self.normalized_subject == other.normalized_subject && self.raw_spki == other.raw_spki
    }

    /// `SecCertificateIsWeakKey`: RSA under 128 bytes, EC under 20 bytes, or neither.
    pub fn weak_key(&self) -> bool {
        match self.key {
            Key::Rsa(bytes) => bytes < 128,
            Key::Ec(bytes) => bytes < 20,
            Key::Other => true,
        }
    }

    /// `SecCertificateIsAtLeastMinKeySize` with the given RSA and EC minimums in bits.
    pub fn at_least(&self, rsa_bits: usize, ec_bits: usize) -> bool {
        match self.key {
            Key::Rsa(bytes) => bytes >= rsa_bits.div_ceil(8),
            Key::Ec(bytes) => bytes >= ec_bits.div_ceil(8),
            Key::Other => false,
        }
    }

    /// `SecCertificateIsWeakHash`: unknown, MD2, MD4, MD5 or SHA-1.
    pub fn weak_hash(&self) -> bool {
        matches!(
            self.hash,
            SigHash::Unknown | SigHash::Md2 | SigHash::Md4 | SigHash::Md5 | SigHash::Sha1
        )
    }

    /// Whether the EKU extension lists `usage` (`SecPolicyCheckCertExtendedKeyUsage` with
    /// one OID): a certificate without the extension lists nothing.
    pub fn lists_eku(&self, usage: fn(&Ekus) -> bool) -> bool {
        self.ekus.as_ref().is_some_and(usage)
    }
}

fn parse_uncached(der: &[u8]) -> Option<AppleCert> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let version = cert.version().0 + 1;
    if version > 3 {
        return None;
    }
    let key = key_of(cert.public_key());
    let mut apple = AppleCert {
        der: der.to_vec(),
        version,
        raw_spki: cert.public_key().raw.to_vec(),
        normalized_subject: normalize_name(cert.subject()),
        normalized_issuer: normalize_name(cert.issuer()),
        subject_empty: cert.subject().iter_rdn().next().is_none(),
        summary: None,
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
        basic_constraints: None,
        key_cert_sign: None,
        ekus: None,
        subject_key_id: None,
        authority_key_id: None,
        dns_names: Vec::new(),
        ip_addresses: Vec::new(),
        emails: Vec::new(),
        san_critical: false,
        unknown_critical_extension: false,
        ca_issuers: Vec::new(),
        key,
        hash: hash_of(&cert),
        signature_algorithm: SignatureAlgorithm::of(&cert),
        tbs: cert.tbs_certificate.as_ref().to_vec(),
        signature: cert.signature_value.data.to_vec(),
        bare: false,
        self_signed: false,
    };
    for extension in cert.extensions() {
        if !apply_extension(&mut apple, extension) && extension.critical {
            // A known extension that does not parse fails the certificate when critical.
            return None;
        }
    }
    apple.summary = subject_summary(cert.subject(), &apple.emails, &apple.dns_names);
    apple.self_signed = apple.is_self_issued()
        && apple
            .authority_key_id
            .as_ref()
            .is_none_or(|akid| apple.subject_key_id.as_ref() == Some(akid))
        && apple.signed_by(&apple);
    Some(apple)
}

/// The extensions `SecCertificateInitializeExtensionParsers` knows; false when a known
/// one does not parse. Unknown critical ones set `unknown_critical_extension`, except
/// Apple's own arcs and the CCC digital-key OIDs.
fn apply_extension(apple: &mut AppleCert, extension: &X509Extension<'_>) -> bool {
    let parsed = extension.parsed_extension();
    if let ParsedExtension::ParseError { .. } = parsed {
        return !is_known(&extension.oid);
    }
    match parsed {
        ParsedExtension::BasicConstraints(bc) => {
            apple.basic_constraints = Some((bc.ca, bc.path_len_constraint));
        }
        ParsedExtension::KeyUsage(usage) => {
            apple.key_cert_sign = (usage.flags != 0).then_some(usage.key_cert_sign());
        }
        ParsedExtension::ExtendedKeyUsage(eku) => {
            let ms_sgc = oid!(1.3.6 .1 .4 .1 .311 .10 .3 .3);
            let ns_sgc = oid!(2.16.840 .1 .113730 .4 .1);
            let known = [
                eku.any,
                eku.server_auth,
                eku.client_auth,
                eku.code_signing,
                eku.email_protection,
                eku.time_stamping,
                eku.ocsp_signing,
            ];
            apple.ekus = Some(Ekus {
                server_auth: eku.server_auth,
                any: eku.any,
                ms_sgc: eku.other.contains(&ms_sgc),
                ns_sgc: eku.other.contains(&ns_sgc),
                count: known.iter().filter(|&&k| k).count() + eku.other.len(),
            });
        }
        ParsedExtension::SubjectAlternativeName(san) => {
            apple.san_critical = extension.critical;
            for name in &san.general_names {
                match name {
                    GeneralName::DNSName(dns) => apple.dns_names.push(dns.to_string()),
                    GeneralName::IPAddress(ip) => apple.ip_addresses.push(ip.to_vec()),
                    GeneralName::RFC822Name(email) => apple.emails.push(email.to_string()),
                    _ => {}
                }
            }
        }
        ParsedExtension::SubjectKeyIdentifier(id) => {
            apple.subject_key_id = Some(id.0.to_vec());
        }
        ParsedExtension::AuthorityKeyIdentifier(aki) => {
            apple.authority_key_id = aki.key_identifier.as_ref().map(|id| id.0.to_vec());
        }
        ParsedExtension::AuthorityInfoAccess(aia) => {
            let ca_issuers = oid!(1.3.6 .1 .5 .5 .7 .48 .2);
            for description in &aia.accessdescs {
                if description.access_method == ca_issuers {
                    if let GeneralName::URI(uri) = &description.access_location {
                        apple.ca_issuers.push(uri.to_string());
                    }
                }
            }
        }
        _ => {
            if extension.critical && !is_known(&extension.oid) {
                apple.unknown_critical_extension = true;
            }
        }
    }
    true
}

/// Extensions SecCertificate parses (its parser table), or leaves alone when critical
/// (Apple's arcs 1.2.840.113635.100.{6,11,12,13,15}, the CCC digital-key OIDs).
fn is_known(oid: &Oid<'_>) -> bool {
    let known = [
        oid!(2.5.29 .14),
        oid!(2.5.29 .15),
        oid!(2.5.29 .16),
        oid!(2.5.29 .17),
        oid!(2.5.29 .18),
        oid!(2.5.29 .19),
        oid!(2.5.29 .30),
        oid!(2.5.29 .31),
        oid!(2.5.29 .32),
        oid!(2.5.29 .33),
        oid!(2.5.29 .35),
        oid!(2.5.29 .36),
        oid!(2.5.29 .37),
        oid!(2.5.29 .54),
        oid!(1.3.6 .1 .5 .5 .7 .1 .1),
        oid!(1.3.6 .1 .5 .5 .7 .1 .11),
        oid!(2.16.840 .1 .113730 .1 .1),
        oid!(1.2.840 .113533 .7 .65 .0),
        oid!(1.2.840 .113635 .100 .4 .7),
        oid!(1.3.6 .1 .5 .5 .7 .48 .1 .5),
        oid!(1.3.6 .1 .4 .1 .41577 .5 .9),
        oid!(1.3.6 .1 .4 .1 .41577 .5 .8),
        oid!(1.3.6 .1 .4 .1 .41577 .5 .1),
    ];
    if known.contains(oid) {
        return true;
    }
    let id = oid.to_id_string();
    ["6", "11", "12", "13", "15"]
        .iter()
        .any(|arc| id.starts_with(&format!("1.2.840.113635.100.{arc}.")))
}

fn key_of(spki: &SubjectPublicKeyInfo<'_>) -> Key {
    match PublicKey::of(spki) {
        PublicKey::Rsa { bits } => Key::Rsa(bits.div_ceil(8)),
        PublicKey::Ec { curve } => match curve {
            Curve::P192 => Key::Ec(24),
            Curve::P224 => Key::Ec(28),
            Curve::P256 => Key::Ec(32),
            Curve::P384 => Key::Ec(48),
            Curve::P521 => Key::Ec(66),
            Curve::Other => Key::Other,
        },
        _ => Key::Other,
    }
}

fn hash_of(cert: &X509Certificate<'_>) -> SigHash {
    let oid = cert.signature_algorithm.algorithm.to_id_string();
    match oid.as_str() {
        "1.2.840.113549.1.1.2" => SigHash::Md2,
        "1.2.840.113549.1.1.3" => SigHash::Md4,
        "1.2.840.113549.1.1.4" => SigHash::Md5,
        "1.2.840.113549.1.1.5" | "1.2.840.10045.4.1" | "1.2.840.10040.4.3" => SigHash::Sha1,
        "1.2.840.113549.1.1.14" | "1.2.840.10045.4.3.1" | "2.16.840.1.101.3.4.3.1" => {
            SigHash::Sha224
        }
        "1.2.840.113549.1.1.11" | "1.2.840.10045.4.3.2" | "2.16.840.1.101.3.4.3.2" => {
            SigHash::Sha256
        }
        "1.2.840.113549.1.1.12" | "1.2.840.10045.4.3.3" => SigHash::Sha384,
        "1.2.840.113549.1.1.13" | "1.2.840.10045.4.3.4" => SigHash::Sha512,
        _ => match SignatureAlgorithm::of(cert).and_then(|a| a.hash) {
            Some(signature::Hash::Sha256) => SigHash::Sha256,
            Some(signature::Hash::Sha384) => SigHash::Sha384,
            Some(signature::Hash::Sha512) => SigHash::Sha512,
            _ => SigHash::Unknown,
        },
    }
}

/// `createNormalizedX501Name` as a comparison key: every RDN and attribute kept in
/// order with its type and value tag; PrintableString values upper-cased, inner runs of
/// blanks collapsed to one space, leading and trailing blanks dropped. None where Apple
/// gives up (an empty RDN).
fn normalize_name(name: &X509Name<'_>) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for rdn in name.iter_rdn() {
        // Apple gives up on an empty RDN.
        rdn.iter().next()?;
        out.push(0x31);
        for atv in rdn.iter() {
            let oid = atv.attr_type().as_bytes();
            out.extend((oid.len() as u32).to_be_bytes());
            out.extend_from_slice(oid);
            let value = atv.attr_value();
            let tag = value.tag().0;
            out.extend(tag.to_be_bytes());
            let data: Vec<u8> = if tag == 19 {
                printable_normalized(value.as_bytes())
            } else {
                value.as_bytes().to_vec()
            };
            out.extend((data.len() as u32).to_be_bytes());
            out.extend(data);
        }
    }
    Some(out)
}

fn printable_normalized(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len());
    let mut last_blank = false;
    for &ch in value {
        if ch == b' ' || ch == b'\t' {
            if !last_blank && !out.is_empty() {
                out.push(b' ');
            }
            last_blank = true;
        } else {
            last_blank = false;
            out.push(ch.to_ascii_uppercase());
        }
    }
    if out.last() == Some(&b' ') {
        out.pop();
    }
    out
}

/// `SecCertificateCopySubjectSummary`: all values of the most wanted attribute type
/// (CN, then OU, then O, then any other), latest first, comma-separated; "CN
/// (description)" when a description attribute is present; else the first e-mail
/// address, else the first DNS name of the SAN.
fn subject_summary(name: &X509Name<'_>, emails: &[String], dns_names: &[String]) -> Option<String> {
    const CN: u8 = 4;
    const OU: u8 = 3;
    const O: u8 = 2;
    const PRINTABLE: u8 = 1;
    let cn = oid!(2.5.4 .3);
    let ou = oid!(2.5.4 .11);
    let o = oid!(2.5.4 .10);
    let description_oid = oid!(2.5.4 .13);
    let mut best: Option<(u8, String)> = None;
    let mut description: Option<String> = None;
    for atv in name.iter_attributes() {
        let text = atv.as_str().ok().map(str::to_string);
        let kind = if *atv.attr_type() == cn {
            CN
        } else if *atv.attr_type() == ou {
            OU
        } else if *atv.attr_type() == o {
            O
        } else if *atv.attr_type() == description_oid {
            if let Some(text) = &text {
                description = Some(match description {
                    Some(previous) => format!("{text}, {previous}"),
                    None => text.clone(),
                });
            }
            PRINTABLE
        } else {
            PRINTABLE
        };
        let Some(text) = text else { continue };
        best = match best {
            Some((current, summary)) if current == kind => {
                Some((kind, format!("{text}, {summary}")))
            }
            Some((current, summary)) if current > kind => Some((current, summary)),
            _ => Some((kind, text)),
        };
    }
    match (best, description) {
        (Some((CN, summary)), Some(description)) => Some(format!("{summary} ({description})")),
        (Some((_, summary)), _) => Some(summary),
        (None, _) => emails.first().or(dns_names.first()).cloned(),
    }
}

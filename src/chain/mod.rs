//! Certificate facts (x509-parser) and the structure of a presented chain:
//! which certificate is the leaf, which issued which, what is missing, duplicated,
//! unrelated or out of order. Links are proven by signature, not guessed from names.

use rustls_pki_types::CertificateDer;
use serde::Serialize;
use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::oid_registry::Oid;
use x509_parser::prelude::FromDer;

/// Certificates beyond this many in one chain are not analysed: no real server sends
/// more, and signature checks between every pair grow with the square.
pub const MAX_CHAIN_CERTIFICATES: usize = 32;

/// Names listed in one message at most; the rest are counted. A certificate with
/// thousands of names must not turn every message into a wall of text.
pub const MAX_NAMES_LISTED: usize = 10;

/// "a, b, c" — or "a, …, j and 9,990 more" past `MAX_NAMES_LISTED`.
pub fn name_list<S: AsRef<str>>(names: &[S]) -> String {
    let shown: Vec<&str> = names
        .iter()
        .take(MAX_NAMES_LISTED)
        .map(AsRef::as_ref)
        .collect();
    let mut text = shown.join(", ");
    if names.len() > MAX_NAMES_LISTED {
        text.push_str(&format!(" and {} more", names.len() - MAX_NAMES_LISTED));
    }
    text
}

/// One certificate as presented, with the facts reports show.
#[derive(Debug, Clone, Serialize)]
pub struct CertInfo {
    /// Index in the presented chain (0 = first certificate sent / first in the file).
    pub position: usize,
    pub subject: String,
    pub issuer: String,
    pub common_name: Option<String>,
    pub serial: String,
    pub sha256: String,
    pub not_before: String,
    pub not_after: String,
    pub self_signed: bool,
    pub is_ca: bool,
    pub path_len_constraint: Option<u32>,
    /// e.g. "RSA 2048", "ECDSA P-256", "Ed25519".
    pub key: String,
    pub signature_algorithm: String,
    pub dns_names: Vec<String>,
    pub ip_addresses: Vec<String>,
    pub key_usage: Vec<String>,
    /// None when the certificate has no EKU extension (which means "any" to most clients).
    pub extended_key_usage: Option<Vec<String>>,
    pub subject_key_id: Option<String>,
    pub authority_key_id: Option<String>,
    pub ocsp_urls: Vec<String>,
    pub ca_issuers_urls: Vec<String>,
    /// The CRL distribution points' URLs.
    pub crl_urls: Vec<String>,
    /// The TLS Feature extension asks for status_request: OCSP must be stapled.
    pub must_staple: bool,
    pub sct_count: usize,
    pub unknown_critical_extensions: Vec<String>,
    /// Sent by the server (or held by the file), or fetched from an AIA caIssuers URL.
    pub source: CertSource,
    /// The caIssuers URL it was fetched from; None when sent.
    pub url: Option<String>,
    #[serde(skip)]
    pub facts: CertFacts,
}

/// Where a certificate in a report comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CertSource {
    /// Sent by the server, or found in the file inspected.
    Sent,
    /// Fetched from the caIssuers URL of the certificate it issued, as browsers and macOS do.
    Aia,
}

/// Facts the rules need in machine form; not part of the JSON contract.
#[derive(Debug, Clone, Default)]
pub struct CertFacts {
    pub subject_der: Vec<u8>,
    pub issuer_der: Vec<u8>,
    /// The serialNumber's content octets, as OCSP and CRLs name the certificate.
    pub serial_der: Vec<u8>,
    pub not_before: i64,
    pub not_after: i64,
    pub rsa_bits: Option<usize>,
    /// Name of a broken signature hash (SHA-1, MD5), if the certificate uses one.
    pub weak_hash: Option<&'static str>,
    pub has_san_extension: bool,
    pub has_basic_constraints: bool,
    pub eku_present: bool,
    pub eku_server_auth: bool,
    pub eku_any: bool,
    pub spki_der: Vec<u8>,
    /// X.509 version (1 or 3).
    pub version: u32,
    /// keyUsage allows a TLS server key (digitalSignature, keyEncipherment or
    /// keyAgreement), or the extension is absent.
    pub key_usage_allows_tls_server: bool,
    pub key_usage_present: bool,
    pub ku_digital_signature: bool,
    pub ku_key_cert_sign: bool,
}

impl CertInfo {
    pub fn lifetime_seconds(&self) -> i64 {
        self.facts.not_after - self.facts.not_before
    }

    /// The short name people recognise a certificate by, as Apple's messages use it.
    pub fn display_name(&self) -> String {
        self.common_name
            .clone()
            .or_else(|| self.dns_names.first().cloned())
            .unwrap_or_else(|| self.subject.clone())
    }
}

#[derive(Debug, Clone)]
pub struct Cert {
    pub der: CertificateDer<'static>,
    pub info: CertInfo,
    /// Signature checks already done: (issuer SPKI DER, verified). The structure
    /// analysis and every client model ask the same questions; each costs a verify.
    verified: SignatureMemo,
}

/// (issuer SPKI DER, whether it verifies the signature), shared by clones.
type SignatureMemo = std::sync::Arc<std::sync::Mutex<Vec<(Vec<u8>, bool)>>>;

impl Cert {
    pub fn new(der: CertificateDer<'static>, info: CertInfo) -> Self {
        Cert {
            der,
            info,
            verified: Default::default(),
        }
    }

    /// Whether this certificate's signature verifies under the public key `spki_der`.
    pub fn signed_by(&self, spki_der: &[u8]) -> bool {
        let mut memo = self.verified.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, verified)) = memo.iter().find(|(key, _)| key == spki_der) {
            return *verified;
        }
        let verified = X509Certificate::from_der(&self.der)
            .ok()
            .is_some_and(|(_, cert)| {
                x509_parser::x509::SubjectPublicKeyInfo::from_der(spki_der).is_ok_and(
                    |(_, spki)| {
                        // Through the engines' verifier, whose process-wide memory of
                        // verified signatures the engines then find this one in.
                        use crate::verifiers::signature::{self, Failure, SignatureAlgorithm};
                        match SignatureAlgorithm::of(&cert).map(|algorithm| {
                            signature::verify(
                                algorithm,
                                cert.tbs_certificate.as_ref(),
                                &cert.signature_value.data,
                                &spki,
                            )
                        }) {
                            Some(Ok(())) => true,
                            Some(Err(Failure::Invalid)) => false,
                            // What the engines' verifier lacks, x509-parser may check.
                            Some(Err(Failure::Unsupported)) | None => {
                                cert.verify_signature(Some(&spki)).is_ok()
                            }
                        }
                    },
                )
            });
        memo.push((spki_der.to_vec(), verified));
        verified
    }

    /// Records a signature already proven elsewhere (by webpki, along a validated path).
    pub fn remember_signed_by(&self, spki_der: &[u8]) {
        let mut memo = self.verified.lock().unwrap_or_else(|p| p.into_inner());
        if !memo.iter().any(|(key, _)| key == spki_der) {
            memo.push((spki_der.to_vec(), true));
        }
    }

    /// Named as issued by `parent`, and `parent`'s key verifies the signature.
    pub fn issued_by(&self, parent: &Cert) -> bool {
        self.info.facts.issuer_der == parent.info.facts.subject_der
            && self.signed_by(&parent.info.facts.spki_der)
    }
}

/// A certificate that could not be parsed at all.
#[derive(Debug, Clone)]
pub struct Malformed {
    pub position: usize,
    pub error: String,
}

/// Parses the first [`MAX_CHAIN_CERTIFICATES`] certificates into facts (x509-parser);
/// those that do not parse come back as [`Malformed`] with their position.
pub fn parse_certificates(ders: &[CertificateDer<'static>]) -> (Vec<Cert>, Vec<Malformed>) {
    let mut certs = Vec::new();
    let mut malformed = Vec::new();
    for (position, der) in ders.iter().enumerate().take(MAX_CHAIN_CERTIFICATES) {
        match parse_one(position, der) {
            Ok(info) => certs.push(Cert::new(der.clone(), info)),
            Err(error) => malformed.push(Malformed { position, error }),
        }
    }
    (certs, malformed)
}

/// The facts of one certificate at `position`. Remembered for the process by the DER (a
/// fleet's endpoints share intermediates, and `serve` re-reads the same chains): a copy
/// costs a fraction of parsing, fingerprinting and wording it again.
pub fn parse_one(position: usize, der: &[u8]) -> Result<CertInfo, String> {
    static PARSED: crate::verifiers::ParseCache<Result<std::sync::Arc<CertInfo>, String>> =
        crate::verifiers::ParseCache::new();
    let parsed = PARSED.get(der, |der| parse_uncached(der).map(std::sync::Arc::new))?;
    let mut info = CertInfo::clone(&parsed);
    info.position = position;
    Ok(info)
}

fn parse_uncached(der: &[u8]) -> Result<CertInfo, String> {
    let position = 0;
    let (rest, cert) = X509Certificate::from_der(der)
        .map_err(|e| format!("not a valid X.509 certificate: {e}"))?;
    if !rest.is_empty() {
        return Err(format!(
            "{} unexpected bytes after the certificate",
            rest.len()
        ));
    }
    let mut info = CertInfo {
        position,
        subject: name_or_empty(cert.subject().to_string()),
        issuer: name_or_empty(cert.issuer().to_string()),
        common_name: cert
            .subject()
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
            .map(str::to_string),
        serial: hex(cert.raw_serial()),
        sha256: hex(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, der).as_ref()),
        not_before: rfc3339(cert.validity().not_before.timestamp()),
        not_after: rfc3339(cert.validity().not_after.timestamp()),
        self_signed: false,
        is_ca: false,
        path_len_constraint: None,
        key: String::new(),
        signature_algorithm: signature_name(&cert.signature_algorithm.algorithm),
        dns_names: Vec::new(),
        ip_addresses: Vec::new(),
        key_usage: Vec::new(),
        extended_key_usage: None,
        subject_key_id: None,
        authority_key_id: None,
        ocsp_urls: Vec::new(),
        ca_issuers_urls: Vec::new(),
        crl_urls: Vec::new(),
        must_staple: false,
        sct_count: 0,
        unknown_critical_extensions: Vec::new(),
        source: CertSource::Sent,
        url: None,
        facts: CertFacts {
            subject_der: cert.subject().as_raw().to_vec(),
            issuer_der: cert.issuer().as_raw().to_vec(),
            serial_der: cert.raw_serial().to_vec(),
            not_before: cert.validity().not_before.timestamp(),
            not_after: cert.validity().not_after.timestamp(),
            weak_hash: weak_hash(&cert.signature_algorithm.algorithm),
            spki_der: cert.public_key().raw.to_vec(),
            version: cert.version().0 + 1,
            key_usage_allows_tls_server: true,
            ..CertFacts::default()
        },
    };
    let (key, rsa_bits) = describe_key(&cert);
    info.key = key;
    info.facts.rsa_bits = rsa_bits;

    for ext in cert.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::BasicConstraints(bc) => {
                info.facts.has_basic_constraints = true;
                info.is_ca = bc.ca;
                info.path_len_constraint = bc.path_len_constraint;
            }
            ParsedExtension::SubjectAlternativeName(san) => {
                info.facts.has_san_extension = true;
                for name in &san.general_names {
                    match name {
                        GeneralName::DNSName(dns) => info.dns_names.push(dns.to_string()),
                        GeneralName::IPAddress(bytes) => {
                            if let Some(ip) = ip_from_bytes(bytes) {
                                info.ip_addresses.push(ip);
                            }
                        }
                        _ => {}
                    }
                }
            }
            ParsedExtension::KeyUsage(ku) => {
                info.key_usage = ku.to_string().split(", ").map(str::to_string).collect();
                info.facts.key_usage_allows_tls_server =
                    ku.digital_signature() || ku.key_encipherment() || ku.key_agreement();
                info.facts.key_usage_present = true;
                info.facts.ku_digital_signature = ku.digital_signature();
                info.facts.ku_key_cert_sign = ku.key_cert_sign();
            }
            ParsedExtension::ExtendedKeyUsage(eku) => {
                info.facts.eku_present = true;
                info.facts.eku_server_auth = eku.server_auth;
                info.facts.eku_any = eku.any;
                let mut names = Vec::new();
                for (flag, name) in [
                    (eku.any, "any"),
                    (eku.server_auth, "serverAuth"),
                    (eku.client_auth, "clientAuth"),
                    (eku.code_signing, "codeSigning"),
                    (eku.email_protection, "emailProtection"),
                    (eku.time_stamping, "timeStamping"),
                    (eku.ocsp_signing, "OCSPSigning"),
                ] {
                    if flag {
                        names.push(name.to_string());
                    }
                }
                names.extend(eku.other.iter().map(|oid| oid.to_id_string()));
                info.extended_key_usage = Some(names);
            }
            ParsedExtension::SubjectKeyIdentifier(ski) => info.subject_key_id = Some(hex(ski.0)),
            ParsedExtension::AuthorityKeyIdentifier(aki) => {
                info.authority_key_id = aki.key_identifier.as_ref().map(|id| hex(id.0));
            }
            ParsedExtension::AuthorityInfoAccess(aia) => {
                for desc in aia.iter() {
                    let GeneralName::URI(uri) = &desc.access_location else {
                        continue;
                    };
                    match desc.access_method.to_id_string().as_str() {
                        "1.3.6.1.5.5.7.48.1" => info.ocsp_urls.push(uri.to_string()),
                        "1.3.6.1.5.5.7.48.2" => info.ca_issuers_urls.push(uri.to_string()),
                        _ => {}
                    }
                }
            }
            ParsedExtension::CRLDistributionPoints(points) => {
                for point in points.iter() {
                    if let Some(x509_parser::extensions::DistributionPointName::FullName(names)) =
                        &point.distribution_point
                    {
                        info.crl_urls.extend(names.iter().filter_map(|n| match n {
                            GeneralName::URI(uri) => Some(uri.to_string()),
                            _ => None,
                        }));
                    }
                }
            }
            ParsedExtension::SCT(scts) => info.sct_count = scts.len(),
            // TLS Feature (RFC 7633): SEQUENCE OF INTEGER; 5 is status_request.
            _ if ext.oid.to_id_string() == "1.3.6.1.5.5.7.1.24" => {
                info.must_staple = x509_parser::der_parser::parse_der(ext.value)
                    .ok()
                    .and_then(|(_, features)| features.as_sequence().ok().cloned())
                    .is_some_and(|features| features.iter().any(|f| f.as_u32().ok() == Some(5)));
            }
            ParsedExtension::UnsupportedExtension { .. } | ParsedExtension::ParseError { .. }
                if ext.critical =>
            {
                info.unknown_critical_extensions
                    .push(ext.oid.to_id_string());
            }
            _ => {}
        }
    }
    info.self_signed =
        cert.subject().as_raw() == cert.issuer().as_raw() && cert.verify_signature(None).is_ok();
    Ok(info)
}

fn name_or_empty(name: String) -> String {
    if name.is_empty() {
        "(empty subject)".into()
    } else {
        name
    }
}

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    // One allocation, not one per byte: fingerprints and key ids are made for every certificate.
    let mut text = String::with_capacity(bytes.len() * 2);
    for &byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    text
}

pub fn rfc3339(timestamp: i64) -> String {
    OffsetDateTime::from_unix_timestamp(timestamp)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| timestamp.to_string())
}

fn ip_from_bytes(bytes: &[u8]) -> Option<String> {
    match bytes.len() {
        4 => Some(std::net::Ipv4Addr::from(<[u8; 4]>::try_from(bytes).ok()?).to_string()),
        16 => Some(std::net::Ipv6Addr::from(<[u8; 16]>::try_from(bytes).ok()?).to_string()),
        _ => None,
    }
}

fn describe_key(cert: &X509Certificate<'_>) -> (String, Option<usize>) {
    use x509_parser::public_key::PublicKey;
    let spki = cert.public_key();
    let algorithm = spki.algorithm.algorithm.to_id_string();
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => {
            let bits = rsa.key_size();
            (format!("RSA {bits}"), Some(bits))
        }
        Ok(PublicKey::EC(point)) => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|oid| match oid.to_id_string().as_str() {
                    "1.2.840.10045.3.1.7" => "P-256".to_string(),
                    "1.3.132.0.34" => "P-384".to_string(),
                    "1.3.132.0.35" => "P-521".to_string(),
                    other => other.to_string(),
                })
                .unwrap_or_else(|| format!("{} bits", point.key_size()));
            (format!("ECDSA {curve}"), None)
        }
        _ => match algorithm.as_str() {
            "1.3.101.112" => ("Ed25519".into(), None),
            "1.3.101.113" => ("Ed448".into(), None),
            "1.2.840.10040.4.1" => ("DSA".into(), None),
            other => (format!("unknown ({other})"), None),
        },
    }
}

fn signature_name(oid: &Oid<'_>) -> String {
    let registry = x509_parser::objects::oid_registry();
    x509_parser::objects::oid2sn(oid, registry)
        .map(str::to_string)
        .unwrap_or_else(|_| oid.to_id_string())
}

fn weak_hash(oid: &Oid<'_>) -> Option<&'static str> {
    match oid.to_id_string().as_str() {
        "1.2.840.113549.1.1.5" | "1.2.840.10045.4.1" | "1.2.840.10040.4.3" | "1.3.14.3.2.29" => {
            Some("SHA-1")
        }
        "1.2.840.113549.1.1.4" => Some("MD5"),
        "1.2.840.113549.1.1.2" => Some("MD2"),
        _ => None,
    }
}

/// How the presented certificates relate to each other.
#[derive(Debug, Clone, Default)]
pub struct Structure {
    /// Index (into the parsed certificates) of the end-entity certificate.
    pub leaf: usize,
    /// Indices from the leaf upwards, each issued by the next, as far as the sent
    /// certificates go.
    pub path: Vec<usize>,
    /// The last certificate of `path` is self-signed (a root was sent).
    pub top_self_signed: bool,
    /// (duplicate index, index of the first copy).
    pub duplicates: Vec<(usize, usize)>,
    /// Sent certificates that are on no path from the leaf.
    pub unrelated: Vec<usize>,
    /// The path's certificates were not sent leaf first, each followed by its issuer.
    pub out_of_order: bool,
}

/// `leaf_first` is true for a live handshake, where position 0 is the leaf by protocol;
/// files may hold their certificates in any order.
pub fn analyse_structure(certs: &[Cert], leaf_first: bool) -> Structure {
    let mut structure = Structure::default();
    if certs.is_empty() {
        return structure;
    }

    let mut seen: Vec<&[u8]> = Vec::new();
    let mut distinct = Vec::new();
    for (i, cert) in certs.iter().enumerate() {
        if let Some(first) = seen.iter().position(|d| *d == cert.der.as_ref()) {
            structure.duplicates.push((i, distinct[first]));
        } else {
            seen.push(cert.der.as_ref());
            distinct.push(i);
        }
    }

    let links =
        |child: usize, parent: usize| child != parent && certs[child].issued_by(&certs[parent]);

    structure.leaf = if leaf_first {
        0
    } else {
        // The end entity: not a CA and issuing nothing else that was given; else the first.
        distinct
            .iter()
            .copied()
            .find(|&i| !certs[i].info.is_ca && !distinct.iter().any(|&other| links(other, i)))
            .unwrap_or(0)
    };

    let mut path = vec![structure.leaf];
    let mut current = structure.leaf;
    while !certs[current].info.self_signed {
        // Prefer the issuer sent right after the current certificate, then any other.
        let next = distinct
            .iter()
            .copied()
            .filter(|&i| !path.contains(&i) && links(current, i))
            .min_by_key(|&i| (i != current + 1, i));
        match next {
            Some(parent) => {
                path.push(parent);
                current = parent;
            }
            None => break,
        }
    }
    structure.top_self_signed = certs[current].info.self_signed;
    structure.unrelated = distinct
        .iter()
        .copied()
        .filter(|i| !path.contains(i))
        .collect();
    let positions: Vec<usize> = path.iter().map(|&i| certs[i].info.position).collect();
    structure.out_of_order =
        positions[0] != 0 || positions.windows(2).any(|pair| pair[1] < pair[0]);
    structure.path = path;
    structure
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_time_formatting() {
        assert_eq!(hex(&[0, 0xab, 0x10]), "00ab10");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    }
}

//! A certificate as Go's crypto/x509 sees it after `ParseCertificate`: the fields its
//! verifier reads, and the parse errors it would already have returned.

use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::*;

use crate::verifiers::pattern::Pattern;
use crate::verifiers::signature::{PublicKey, SignatureAlgorithm};

/// `ParseCertificate`'s errors (parser.go, x509.go).
pub const MALFORMED: Pattern = Pattern(&["x509: malformed certificate"]);
pub const TRAILING_DATA: Pattern = Pattern(&["x509: trailing data"]);
pub const SIGNATURE_ALGORITHM_MISMATCH: Pattern =
    Pattern(&["x509: inner and outer signature algorithm identifiers don't match"]);
pub const NEGATIVE_SERIAL: Pattern = Pattern(&["x509: negative serial number"]);
pub const UNSUPPORTED_CURVE: Pattern = Pattern(&["x509: unsupported elliptic curve"]);
pub const DUPLICATE_EXTENSION: Pattern = Pattern(&[
    "x509: certificate contains duplicate extension with OID ",
    "",
]);
pub const IP_ADDRESS_LENGTH: Pattern = Pattern(&["x509: cannot parse IP address of length ", ""]);
pub const EMPTY_NAME_CONSTRAINTS: Pattern = Pattern(&["x509: empty name constraints extension"]);
pub const IP_CONSTRAINT_LENGTH: Pattern =
    Pattern(&["x509: IP constraint contained value of length ", ""]);
pub const CRITICAL_SUBJECT_KEY_ID: Pattern =
    Pattern(&["x509: subject key identifier incorrectly marked critical"]);
pub const CRITICAL_AUTHORITY_KEY_ID: Pattern =
    Pattern(&["x509: authority key identifier incorrectly marked critical"]);
pub const CRITICAL_AUTHORITY_INFO_ACCESS: Pattern =
    Pattern(&["x509: authority info access incorrectly marked critical"]);
pub const MALFORMED_EXTENSION: Pattern = Pattern(&["x509: malformed extension"]);

/// Go's error for an extension it recognises but cannot parse, by the extension's OID.
pub const EXTENSION_PARSE_ERRORS: &[(&str, Pattern)] = &[
    ("2.5.29.15", Pattern(&["x509: invalid key usage"])),
    ("2.5.29.19", Pattern(&["x509: invalid basic constraints"])),
    (
        "2.5.29.17",
        Pattern(&["x509: invalid subject alternative names"]),
    ),
    (
        "2.5.29.30",
        Pattern(&["x509: invalid NameConstraints extension"]),
    ),
    ("2.5.29.37", Pattern(&["x509: invalid extended key usages"])),
    (
        "2.5.29.14",
        Pattern(&["x509: invalid subject key identifier"]),
    ),
    (
        "2.5.29.35",
        Pattern(&["x509: invalid authority key identifier"]),
    ),
    (
        "1.3.6.1.5.5.7.1.1",
        Pattern(&["x509: invalid authority info access"]),
    ),
    (
        "2.5.29.31",
        Pattern(&["x509: invalid CRL distribution points"]),
    ),
    (
        "2.5.29.32",
        Pattern(&["x509: invalid certificate policies"]),
    ),
];

/// Every text above but [`EXTENSION_PARSE_ERRORS`], for `why`.
pub const PATTERNS: &[Pattern] = &[
    MALFORMED,
    TRAILING_DATA,
    SIGNATURE_ALGORITHM_MISMATCH,
    NEGATIVE_SERIAL,
    UNSUPPORTED_CURVE,
    DUPLICATE_EXTENSION,
    IP_ADDRESS_LENGTH,
    EMPTY_NAME_CONSTRAINTS,
    IP_CONSTRAINT_LENGTH,
    CRITICAL_SUBJECT_KEY_ID,
    CRITICAL_AUTHORITY_KEY_ID,
    CRITICAL_AUTHORITY_INFO_ACCESS,
    MALFORMED_EXTENSION,
];

/// A SAN entry by kind (the raw order is kept: name constraints walk it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum San {
    Dns(String),
    Email(String),
    Uri(String),
    Ip(Vec<u8>),
    /// otherName, directoryName and the rest: ignored by the verifier.
    Other,
}

/// The name constraints Go understands; `unhandled` when a subtree of another kind was
/// present (then a critical extension stays "unhandled").
#[derive(Debug, Clone, Default)]
pub struct NameConstraints {
    pub permitted_dns: Vec<String>,
    pub excluded_dns: Vec<String>,
    /// (address, mask) pairs of equal length.
    pub permitted_ip: Vec<(Vec<u8>, Vec<u8>)>,
    pub excluded_ip: Vec<(Vec<u8>, Vec<u8>)>,
    pub permitted_email: Vec<String>,
    pub excluded_email: Vec<String>,
    pub permitted_uri: Vec<String>,
    pub excluded_uri: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct GoCert {
    pub der: Vec<u8>,
    pub version: u32,
    pub raw_subject: Vec<u8>,
    pub raw_issuer: Vec<u8>,
    pub raw_spki: Vec<u8>,
    pub common_name: String,
    pub organization: Option<String>,
    pub serial_decimal: String,
    pub not_before: i64,
    pub not_after: i64,
    pub basic_constraints_valid: bool,
    pub is_ca: bool,
    /// -1 when absent, as Go's MaxPathLen.
    pub max_path_len: i64,
    /// None when the keyUsage extension is absent (Go's KeyUsage == 0).
    pub key_usage_cert_sign: Option<bool>,
    /// EKU extension: None when absent.
    pub eku: Option<Eku>,
    pub subject_key_id: Vec<u8>,
    pub authority_key_id: Vec<u8>,
    pub has_san_extension: bool,
    pub raw_san_value: Vec<u8>,
    pub sans: Vec<San>,
    pub name_constraints: Option<NameConstraints>,
    pub unhandled_critical_extensions: usize,
    pub signature_algorithm: Option<SignatureAlgorithm>,
    pub public_key: PublicKey,
    pub tbs: Vec<u8>,
    pub signature: Vec<u8>,
}

#[derive(Debug, Clone, Default)]
pub struct Eku {
    pub any: bool,
    pub server_auth: bool,
    /// Any usage at all (known or unknown): an extension with no entries is "no EKU".
    pub entries: usize,
}

impl GoCert {
    pub fn dns_names(&self) -> impl Iterator<Item = &str> {
        self.sans.iter().filter_map(|san| match san {
            San::Dns(name) => Some(name.as_str()),
            _ => None,
        })
    }

    pub fn ip_addresses(&self) -> impl Iterator<Item = &[u8]> {
        self.sans.iter().filter_map(|san| match san {
            San::Ip(ip) => Some(ip.as_slice()),
            _ => None,
        })
    }

    /// Go's name for a certificate in hints: CN, else the first O, else "serial:N".
    pub fn hint_name(&self) -> String {
        if !self.common_name.is_empty() {
            return self.common_name.clone();
        }
        match &self.organization {
            Some(org) => org.clone(),
            None => format!("serial:{}", self.serial_decimal),
        }
    }
}

static PARSED: crate::verifiers::ParseCache<Result<std::sync::Arc<GoCert>, String>> =
    crate::verifiers::ParseCache::new();

/// Parses `der` as Go's `ParseCertificate` would: the certificate, or Go's error text.
/// Shared: remembered for the process (see `ParseCache`).
pub fn parse(der: &[u8]) -> Result<std::sync::Arc<GoCert>, String> {
    PARSED.get(der, |der| parse_uncached(der).map(std::sync::Arc::new))
}

fn parse_uncached(der: &[u8]) -> Result<GoCert, String> {
    let (rest, cert) = X509Certificate::from_der(der).map_err(|_| MALFORMED.text())?;
    if !rest.is_empty() {
        return Err(TRAILING_DATA.text());
    }
    if cert.tbs_certificate.signature != cert.signature_algorithm {
        return Err(SIGNATURE_ALGORITHM_MISMATCH.text());
    }
    let serial = &cert.tbs_certificate.raw_serial();
    if serial.first().is_some_and(|b| b & 0x80 != 0) {
        return Err(NEGATIVE_SERIAL.text());
    }
    let public_key = PublicKey::of(cert.public_key());
    if let PublicKey::Ec { curve } = public_key {
        use crate::verifiers::signature::Curve;
        if matches!(curve, Curve::P192 | Curve::Other) {
            return Err(UNSUPPORTED_CURVE.text());
        }
    }
    let version = cert.version().0 + 1;
    let mut go = GoCert {
        der: der.to_vec(),
        version,
        raw_subject: cert.subject().as_raw().to_vec(),
        raw_issuer: cert.issuer().as_raw().to_vec(),
        raw_spki: cert.public_key().raw.to_vec(),
        common_name: cert
            .subject()
            .iter_common_name()
            .last()
            .and_then(|cn| cn.as_str().ok())
            .unwrap_or_default()
            .to_string(),
        organization: cert
            .subject()
            .iter_organization()
            .next()
            .and_then(|o| o.as_str().ok())
            .map(str::to_string),
        serial_decimal: cert.serial.to_str_radix(10),
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
        basic_constraints_valid: false,
        is_ca: false,
        max_path_len: -1,
        key_usage_cert_sign: None,
        eku: None,
        subject_key_id: Vec::new(),
        authority_key_id: Vec::new(),
        has_san_extension: false,
        raw_san_value: Vec::new(),
        sans: Vec::new(),
        name_constraints: None,
        unhandled_critical_extensions: 0,
        signature_algorithm: SignatureAlgorithm::of(&cert),
        public_key,
        tbs: cert.tbs_certificate.as_ref().to_vec(),
        signature: cert.signature_value.data.to_vec(),
    };
    // Go reads extensions of v3 certificates only.
    if version != 3 {
        return Ok(go);
    }
    let mut seen: Vec<String> = Vec::new();
    for extension in cert.extensions() {
        let oid = extension.oid.to_id_string();
        if seen.contains(&oid) {
            return Err(DUPLICATE_EXTENSION.fill(&[&format!("{oid:?}")]));
        }
        seen.push(oid);
        let handled = apply_extension(&mut go, extension)?;
        if extension.critical && !handled {
            go.unhandled_critical_extensions += 1;
        }
    }
    Ok(go)
}

/// Reads one extension into `go`; whether Go counts it as handled.
fn apply_extension(go: &mut GoCert, extension: &X509Extension<'_>) -> Result<bool, String> {
    let oid = &extension.oid;
    let critical = extension.critical;
    let parsed = extension.parsed_extension();
    if let ParsedExtension::ParseError { .. } = parsed {
        return Err(parse_error_text(oid));
    }
    Ok(match parsed {
        ParsedExtension::KeyUsage(usage) => {
            go.key_usage_cert_sign = (usage.flags != 0).then_some(usage.key_cert_sign());
            true
        }
        ParsedExtension::BasicConstraints(bc) => {
            go.basic_constraints_valid = true;
            go.is_ca = bc.ca;
            go.max_path_len = bc.path_len_constraint.map_or(-1, i64::from);
            true
        }
        ParsedExtension::SubjectAlternativeName(san) => {
            go.has_san_extension = true;
            go.raw_san_value = extension.value.to_vec();
            for name in &san.general_names {
                go.sans.push(match name {
                    GeneralName::DNSName(dns) => San::Dns(dns.to_string()),
                    GeneralName::RFC822Name(email) => San::Email(email.to_string()),
                    GeneralName::URI(uri) => San::Uri(uri.to_string()),
                    GeneralName::IPAddress(ip) => {
                        if ip.len() != 4 && ip.len() != 16 {
                            return Err(IP_ADDRESS_LENGTH.fill(&[&ip.len().to_string()]));
                        }
                        San::Ip(ip.to_vec())
                    }
                    _ => San::Other,
                });
            }
            // A critical SAN with nothing Go reads stays unhandled.
            !critical || go.sans.iter().any(|s| *s != San::Other)
        }
        ParsedExtension::NameConstraints(nc) => {
            let permitted = nc.permitted_subtrees.as_deref().unwrap_or_default();
            let excluded = nc.excluded_subtrees.as_deref().unwrap_or_default();
            if permitted.is_empty() && excluded.is_empty() {
                return Err(EMPTY_NAME_CONSTRAINTS.text());
            }
            let mut constraints = NameConstraints::default();
            let mut unhandled = false;
            for (subtrees, is_excluded) in [(permitted, false), (excluded, true)] {
                for subtree in subtrees {
                    match &subtree.base {
                        GeneralName::DNSName(dns) => {
                            let dns = dns.to_string();
                            let list = if is_excluded {
                                &mut constraints.excluded_dns
                            } else {
                                &mut constraints.permitted_dns
                            };
                            list.push(dns);
                        }
                        GeneralName::IPAddress(bytes) => {
                            if bytes.len() != 8 && bytes.len() != 32 {
                                return Err(IP_CONSTRAINT_LENGTH.fill(&[&bytes.len().to_string()]));
                            }
                            let (ip, mask) = bytes.split_at(bytes.len() / 2);
                            let list = if is_excluded {
                                &mut constraints.excluded_ip
                            } else {
                                &mut constraints.permitted_ip
                            };
                            list.push((ip.to_vec(), mask.to_vec()));
                        }
                        GeneralName::RFC822Name(email) => {
                            let list = if is_excluded {
                                &mut constraints.excluded_email
                            } else {
                                &mut constraints.permitted_email
                            };
                            list.push(email.to_string());
                        }
                        GeneralName::URI(uri) => {
                            let list = if is_excluded {
                                &mut constraints.excluded_uri
                            } else {
                                &mut constraints.permitted_uri
                            };
                            list.push(uri.to_string());
                        }
                        _ => unhandled = true,
                    }
                }
            }
            go.name_constraints = Some(constraints);
            !(critical && unhandled)
        }
        ParsedExtension::ExtendedKeyUsage(eku) => {
            let known = [
                eku.any,
                eku.server_auth,
                eku.client_auth,
                eku.code_signing,
                eku.email_protection,
                eku.time_stamping,
                eku.ocsp_signing,
            ];
            go.eku = Some(Eku {
                any: eku.any,
                server_auth: eku.server_auth,
                entries: known.iter().filter(|&&k| k).count() + eku.other.len(),
            });
            true
        }
        ParsedExtension::SubjectKeyIdentifier(id) => {
            if critical {
                return Err(CRITICAL_SUBJECT_KEY_ID.text());
            }
            go.subject_key_id = id.0.to_vec();
            true
        }
        ParsedExtension::AuthorityKeyIdentifier(aki) => {
            if critical {
                return Err(CRITICAL_AUTHORITY_KEY_ID.text());
            }
            go.authority_key_id = aki
                .key_identifier
                .as_ref()
                .map(|id| id.0.to_vec())
                .unwrap_or_default();
            true
        }
        ParsedExtension::AuthorityInfoAccess(_) => {
            if critical {
                return Err(CRITICAL_AUTHORITY_INFO_ACCESS.text());
            }
            true
        }
        ParsedExtension::CertificatePolicies(_)
        | ParsedExtension::PolicyMappings(_)
        | ParsedExtension::PolicyConstraints(_)
        | ParsedExtension::InhibitAnyPolicy(_)
        | ParsedExtension::CRLDistributionPoints(_) => true,
        _ => false,
    })
}

/// Go's error for an extension it recognises but cannot parse.
fn parse_error_text(oid: &x509_parser::oid_registry::Oid<'_>) -> String {
    let id = oid.to_id_string();
    EXTENSION_PARSE_ERRORS
        .iter()
        .find(|(known, _)| *known == id)
        .map_or(MALFORMED_EXTENSION, |(_, text)| *text)
        .text()
}

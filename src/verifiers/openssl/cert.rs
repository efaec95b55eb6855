//! A certificate as OpenSSL 3.0 and BoringSSL see it once `x509v3_cache_extensions` has
//! run: the decoded extensions, and for each library its own `ex_flags` (they disagree on
//! what is self-signed, what is invalid and which critical extensions are understood).

use x509_parser::nom::Parser;
use x509_parser::prelude::*;

use super::der::{self, Reader};
use super::key::{Algo, Key, SigInfo};
use super::name::{self, Akid, GeneralName, Name, NameConstraints};
use crate::verifiers::signature::SignatureAlgorithm;

/// Why a verification stopped: the library's error code and the chain depth it names.
/// `queue` is BoringSSL's oldest queued error when it is not CERTIFICATE_VERIFY_FAILED
/// (grpc prints that one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub code: u32,
    pub depth: usize,
    pub queue: Option<&'static str>,
}

pub fn fail<T>(code: u32, depth: usize) -> Result<T, Failure> {
    Err(Failure {
        code,
        depth,
        queue: None,
    })
}

// Key usage bits as `ex_kusage` holds them (the first two bytes of the BIT STRING).
pub const KU_DIGITAL_SIGNATURE: u32 = 0x0080;
pub const KU_KEY_ENCIPHERMENT: u32 = 0x0020;
pub const KU_KEY_AGREEMENT: u32 = 0x0008;
pub const KU_KEY_CERT_SIGN: u32 = 0x0004;
pub const KU_CRL_SIGN: u32 = 0x0002;
pub const KU_TLS: u32 = KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT | KU_KEY_AGREEMENT;
// Extended key usage bits (`ex_xkusage`).
pub const XKU_SSL_SERVER: u32 = 0x01;
pub const XKU_SSL_CLIENT: u32 = 0x02;
pub const XKU_SGC: u32 = 0x10;
pub const XKU_ANYEKU: u32 = 0x100;
// Netscape certificate type bits.
pub const NS_SSL_SERVER: u8 = 0x40;
pub const NS_SSL_CA: u8 = 0x04;
pub const NS_ANY_CA: u8 = 0x07;

mod oid {
    pub const SKID: &[u8] = &[0x55, 0x1d, 0x0e];
    pub const KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x0f];
    pub const SAN: &[u8] = &[0x55, 0x1d, 0x11];
    pub const IAN: &[u8] = &[0x55, 0x1d, 0x12];
    pub const BASIC_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x13];
    pub const NAME_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x1e];
    pub const CRL_DP: &[u8] = &[0x55, 0x1d, 0x1f];
    pub const CERT_POLICIES: &[u8] = &[0x55, 0x1d, 0x20];
    pub const POLICY_MAPPINGS: &[u8] = &[0x55, 0x1d, 0x21];
    pub const AKID: &[u8] = &[0x55, 0x1d, 0x23];
    pub const POLICY_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x24];
    pub const EKU: &[u8] = &[0x55, 0x1d, 0x25];
    pub const INHIBIT_ANY_POLICY: &[u8] = &[0x55, 0x1d, 0x36];
    pub const NS_CERT_TYPE: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x86, 0xf8, 0x42, 0x01, 0x01];
    pub const IP_ADDR_BLOCKS: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x07];
    pub const AS_IDS: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x08];
    pub const PROXY_CERT_INFO: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x0e];
    pub const OCSP_NO_CHECK: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x05];
    pub const SERVER_AUTH: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01];
    pub const CLIENT_AUTH: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02];
    pub const ANY_EKU: &[u8] = &[0x55, 0x1d, 0x25, 0x00];
    pub const MS_SGC: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x0a, 0x03, 0x03];
    pub const NS_SGC: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x86, 0xf8, 0x42, 0x04, 0x01];
}

/// `v3_purp.c X509_supported_extension` (OpenSSL 3.0).
const OPENSSL_SUPPORTED: &[&[u8]] = &[
    oid::NS_CERT_TYPE,
    oid::KEY_USAGE,
    oid::SAN,
    oid::BASIC_CONSTRAINTS,
    oid::CERT_POLICIES,
    oid::CRL_DP,
    oid::EKU,
    oid::IP_ADDR_BLOCKS,
    oid::AS_IDS,
    oid::OCSP_NO_CHECK,
    oid::POLICY_CONSTRAINTS,
    oid::PROXY_CERT_INFO,
    oid::NAME_CONSTRAINTS,
    oid::POLICY_MAPPINGS,
    oid::INHIBIT_ANY_POLICY,
];

/// `v3_purp.cc X509_supported_extension` (BoringSSL): no Netscape type, CRL DP, RFC 3779,
/// OCSP no-check or proxy certificates.
const BORINGSSL_SUPPORTED: &[&[u8]] = &[
    oid::KEY_USAGE,
    oid::SAN,
    oid::BASIC_CONSTRAINTS,
    oid::CERT_POLICIES,
    oid::EKU,
    oid::POLICY_CONSTRAINTS,
    oid::NAME_CONSTRAINTS,
    oid::POLICY_MAPPINGS,
    oid::INHIBIT_ANY_POLICY,
];

/// What `X509_get_ext_d2i` returns for one extension type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded<T> {
    Absent,
    /// Present but not decodable, or present twice (both libraries then return NULL).
    Bad,
    Ok(T),
}

impl<T> Decoded<T> {
    pub fn ok(&self) -> Option<&T> {
        match self {
            Decoded::Ok(value) => Some(value),
            _ => None,
        }
    }

    fn is_bad(&self) -> bool {
        matches!(self, Decoded::Bad)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathLen {
    Negative,
    /// `ASN1_INTEGER_get`, -1 when it does not fit.
    Value(i64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasicConstraints {
    pub ca: bool,
    pub path_len: Option<PathLen>,
}

#[derive(Debug, Clone)]
pub struct Extension {
    pub oid: Vec<u8>,
    pub critical: bool,
}

/// The extensions the verifiers read, decoded once for both libraries.
#[derive(Debug, Clone)]
pub struct Extensions {
    pub list: Vec<Extension>,
    pub basic_constraints: Decoded<BasicConstraints>,
    pub key_usage: Decoded<u32>,
    pub eku: Decoded<u32>,
    pub ns_cert_type: Decoded<u8>,
    pub skid: Decoded<Vec<u8>>,
    pub akid: Decoded<Akid>,
    pub san: Decoded<Vec<GeneralName>>,
    pub name_constraints: Decoded<NameConstraints>,
    pub crl_dp: Decoded<()>,
    pub proxy: Decoded<()>,
    pub san_present: bool,
    pub ian_present: bool,
}

impl Extensions {
    fn decode(list: &[(Vec<u8>, bool, Vec<u8>)]) -> Extensions {
        fn get<T>(
            list: &[(Vec<u8>, bool, Vec<u8>)],
            id: &[u8],
            decode: impl Fn(&[u8]) -> Option<T>,
        ) -> Decoded<T> {
            let mut found = list.iter().filter(|(o, _, _)| o == id);
            match (found.next(), found.next()) {
                (None, _) => Decoded::Absent,
                (Some(_), Some(_)) => Decoded::Bad,
                (Some((_, _, value)), None) => decode(value).map_or(Decoded::Bad, Decoded::Ok),
            }
        }
        Extensions {
            list: list
                .iter()
                .map(|(oid, critical, _)| Extension {
                    oid: oid.clone(),
                    critical: *critical,
                })
                .collect(),
            basic_constraints: get(list, oid::BASIC_CONSTRAINTS, basic_constraints),
            key_usage: get(list, oid::KEY_USAGE, |v| {
                let bits = der::bit_string(der::single(v, der::BIT_STRING)?.content)?;
                let first = bits.first().copied().unwrap_or(0) as u32;
                let second = bits.get(1).copied().unwrap_or(0) as u32;
                Some(first | (second << 8))
            }),
            eku: get(list, oid::EKU, |v| {
                let mut bits = 0;
                for usage in der::sequence(v)? {
                    if usage.tag != der::OID {
                        return None;
                    }
                    bits |= match usage.content {
                        oid::SERVER_AUTH => XKU_SSL_SERVER,
                        oid::CLIENT_AUTH => XKU_SSL_CLIENT,
                        oid::MS_SGC | oid::NS_SGC => XKU_SGC,
                        oid::ANY_EKU => XKU_ANYEKU,
                        _ => 0,
                    };
                }
                Some(bits)
            }),
            ns_cert_type: get(list, oid::NS_CERT_TYPE, |v| {
                let bits = der::bit_string(der::single(v, der::BIT_STRING)?.content)?;
                Some(bits.first().copied().unwrap_or(0))
            }),
            skid: get(list, oid::SKID, |v| {
                Some(der::single(v, der::OCTET_STRING)?.content.to_vec())
            }),
            akid: get(list, oid::AKID, Akid::parse),
            san: get(list, oid::SAN, |v| {
                name::general_names(der::single(v, der::SEQUENCE)?.content)
            }),
            name_constraints: get(list, oid::NAME_CONSTRAINTS, NameConstraints::parse),
            crl_dp: get(list, oid::CRL_DP, |v| {
                der::sequence(v)?
                    .iter()
                    .all(|dp| dp.tag == der::SEQUENCE)
                    .then_some(())
            }),
            proxy: get(list, oid::PROXY_CERT_INFO, |v| {
                der::single(v, der::SEQUENCE).map(|_| ())
            }),
            san_present: list.iter().any(|(o, _, _)| o == oid::SAN),
            ian_present: list.iter().any(|(o, _, _)| o == oid::IAN),
        }
    }
}

fn basic_constraints(value: &[u8]) -> Option<BasicConstraints> {
    let mut reader = Reader::new(der::single(value, der::SEQUENCE)?.content);
    let ca = match reader.read_tag(der::BOOLEAN) {
        Some(b) => b.content.first().is_some_and(|v| *v != 0),
        None => false,
    };
    let path_len = match reader.read_tag(der::INTEGER) {
        None => None,
        Some(i) if i.content.first().is_some_and(|b| b & 0x80 != 0) => Some(PathLen::Negative),
        Some(i) => Some(PathLen::Value(if der::unsigned_bits(i.content) > 63 {
            -1
        } else {
            i.content.iter().fold(0i64, |acc, b| (acc << 8) | *b as i64)
        })),
    };
    reader
        .is_empty()
        .then_some(BasicConstraints { ca, path_len })
}

/// One library's `ex_flags` and cached values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flags {
    pub invalid: bool,
    /// Self-issued: subject equals issuer.
    pub si: bool,
    /// Self-signed, in the library's sense (never a signature check).
    pub ss: bool,
    pub v1: bool,
    pub ca: bool,
    pub bcons: bool,
    pub bcons_critical: bool,
    pub akid_critical: bool,
    pub skid_critical: bool,
    pub san_critical: bool,
    /// A critical extension the library does not support.
    pub critical: bool,
    pub proxy: bool,
    /// -1 when absent.
    pub path_len: i64,
    /// `ex_kusage` when the keyUsage extension is there.
    pub key_usage: Option<u32>,
    pub eku: Option<u32>,
    pub ns_cert_type: Option<u8>,
}

impl Flags {
    pub fn ku_reject(&self, usage: u32) -> bool {
        self.key_usage.is_some_and(|ku| ku & usage == 0)
    }

    pub fn xku_reject(&self, usage: u32) -> bool {
        self.eku.is_some_and(|eku| eku & usage == 0)
    }

    pub fn ns_reject(&self, usage: u8) -> bool {
        self.ns_cert_type.is_some_and(|ns| ns & usage == 0)
    }

    /// `ex_kusage` as the strict checks read it: 0 without the extension.
    pub fn raw_key_usage(&self) -> u32 {
        self.key_usage.unwrap_or(0)
    }
}

/// A validity time: its value and whether OpenSSL's `X509_cmp_time` accepts its format
/// (exactly YYMMDDHHMMSSZ or YYYYMMDDHHMMSSZ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Time {
    pub unix: i64,
    pub openssl_format_ok: bool,
}

#[derive(Debug, Clone)]
pub struct Cert {
    pub der: Vec<u8>,
    /// `X509_get_version`: 0 for v1, 2 for v3.
    pub version: u32,
    pub subject: Name,
    pub issuer: Name,
    pub serial: Vec<u8>,
    pub not_before: Time,
    pub not_after: Time,
    pub key: Key,
    pub spki: Vec<u8>,
    pub tbs: Vec<u8>,
    pub signature: Vec<u8>,
    pub signature_unused_bits: u8,
    /// signatureAlgorithm equals tbsCertificate.signature (`X509_ALGOR_cmp`).
    pub algorithms_match: bool,
    /// The inner (TBS) signature algorithm, which `check_sig_alg_match` reads.
    pub tbs_sig: SigInfo,
    /// The outer signature algorithm, which the security level and verification read.
    pub sig: SigInfo,
    pub signature_algorithm: Option<SignatureAlgorithm>,
    pub ext: Extensions,
    pub openssl: Flags,
    pub boringssl: Flags,
}

impl Cert {
    /// Parses `der`; `None` when it is not a certificate the libraries would load. Shared:
    /// remembered for the process (see `ParseCache`).
    pub fn parse_shared(der: &[u8]) -> Option<std::sync::Arc<Cert>> {
        static PARSED: crate::verifiers::ParseCache<Option<std::sync::Arc<Cert>>> =
            crate::verifiers::ParseCache::new();
        PARSED.get(der, |der| {
            Self::parse_uncached(der).map(std::sync::Arc::new)
        })
    }

    fn parse_uncached(der: &[u8]) -> Option<Cert> {
        let (rest, cert) = X509CertificateParser::new()
            .with_deep_parse_extensions(false)
            .parse(der)
            .ok()?;
        if !rest.is_empty() {
            return None;
        }
        let outer = der::sequence(der)?;
        let [tbs, outer_algorithm, signature] = outer.as_slice() else {
            return None;
        };
        let mut fields = Reader::new(tbs.content);
        let version = match fields.read_tag(0xa0) {
            Some(v) => der::single(v.content, der::INTEGER)?
                .content
                .last()
                .copied()
                .unwrap_or(0) as u32,
            None => 0,
        };
        let serial = fields.read_tag(der::INTEGER)?;
        let tbs_algorithm = fields.read_tag(der::SEQUENCE)?;
        let issuer = fields.read_tag(der::SEQUENCE)?;
        let validity = Reader::new(fields.read_tag(der::SEQUENCE)?.content).all()?;
        let subject = fields.read_tag(der::SEQUENCE)?;
        let spki = fields.read_tag(der::SEQUENCE)?;
        let time = |index: usize, unix: i64| -> Option<Time> {
            let t = validity.get(index)?;
            let expected = match t.tag {
                der::UTC_TIME => 13,
                der::GENERALIZED_TIME => 15,
                _ => 0,
            };
            let format_ok = t.content.len() == expected
                && t.content[..expected - 1].iter().all(u8::is_ascii_digit)
                && t.content[expected - 1] == b'Z';
            Some(Time {
                unix,
                openssl_format_ok: format_ok,
            })
        };
        let list: Vec<(Vec<u8>, bool, Vec<u8>)> = cert
            .extensions()
            .iter()
            .map(|e| (e.oid.as_bytes().to_vec(), e.critical, e.value.to_vec()))
            .collect();
        let (&unused, signature_bytes) = signature.content.split_first()?;
        let mut out = Cert {
            der: der.to_vec(),
            version,
            subject: Name::parse(subject.raw)?,
            issuer: Name::parse(issuer.raw)?,
            serial: serial.content.to_vec(),
            not_before: time(0, cert.validity().not_before.timestamp())?,
            not_after: time(1, cert.validity().not_after.timestamp())?,
            key: Key::parse(spki.raw),
            spki: spki.raw.to_vec(),
            tbs: tbs.raw.to_vec(),
            signature: signature_bytes.to_vec(),
            signature_unused_bits: unused,
            algorithms_match: tbs_algorithm.raw == outer_algorithm.raw,
            tbs_sig: SigInfo::of(tbs_algorithm.raw),
            sig: SigInfo::of(outer_algorithm.raw),
            signature_algorithm: SignatureAlgorithm::of(&cert),
            ext: Extensions::decode(&list),
            openssl: Flags::default(),
            boringssl: Flags::default(),
        };
        out.openssl = out.openssl_flags();
        out.boringssl = out.boringssl_flags();
        Some(out)
    }

    /// `v3_purp.c ossl_x509v3_cache_extensions` (OpenSSL 3.0).
    fn openssl_flags(&self) -> Flags {
        let ext = &self.ext;
        let mut f = Flags {
            v1: self.version == 0,
            path_len: -1,
            ..Flags::default()
        };
        match &ext.basic_constraints {
            Decoded::Ok(bc) => {
                f.ca = bc.ca;
                f.bcons = true;
                match bc.path_len {
                    Some(PathLen::Negative) => f.invalid = true,
                    Some(PathLen::Value(n)) => f.path_len = n,
                    None => {}
                }
            }
            Decoded::Bad => f.invalid = true,
            Decoded::Absent => {}
        }
        match &ext.proxy {
            Decoded::Ok(()) => {
                f.proxy = true;
                if f.ca || ext.san_present || ext.ian_present {
                    f.invalid = true;
                }
            }
            Decoded::Bad => f.invalid = true,
            Decoded::Absent => {}
        }
        match &ext.key_usage {
            Decoded::Ok(ku) => {
                f.key_usage = Some(*ku);
                // "empty key usage" makes the certificate invalid.
                f.invalid |= *ku == 0;
            }
            Decoded::Bad => f.invalid = true,
            Decoded::Absent => {}
        }
        f.eku = ext.eku.ok().copied();
        f.ns_cert_type = ext.ns_cert_type.ok().copied();
        f.invalid |=
            ext.eku.is_bad() || ext.ns_cert_type.is_bad() || ext.skid.is_bad() || ext.akid.is_bad();
        f.si = self.subject.canon == self.issuer.canon;
        f.ss =
            f.si && akid_matches(self, ext.akid.ok()) && openssl_sig_alg_matches(&self.key, self);
        f.invalid |= ext.san.is_bad() || ext.name_constraints.is_bad() || ext.crl_dp.is_bad();
        self.critical_flags(&mut f, OPENSSL_SUPPORTED);
        f
    }

    /// `v3_purp.cc x509v3_cache_extensions` (BoringSSL): a pathLen on a non-CA is invalid,
    /// an empty keyUsage is not, and self-signed also needs keyCertSign (if keyUsage is
    /// there).
    fn boringssl_flags(&self) -> Flags {
        let ext = &self.ext;
        let mut f = Flags {
            v1: self.version == 0,
            path_len: -1,
            ..Flags::default()
        };
        match &ext.basic_constraints {
            Decoded::Ok(bc) => {
                f.ca = bc.ca;
                f.bcons = true;
                match bc.path_len {
                    Some(PathLen::Negative) => {
                        f.invalid = true;
                        f.path_len = 0;
                    }
                    Some(PathLen::Value(_)) if !bc.ca => {
                        f.invalid = true;
                        f.path_len = 0;
                    }
                    Some(PathLen::Value(n)) => f.path_len = n,
                    None => {}
                }
            }
            Decoded::Bad => f.invalid = true,
            Decoded::Absent => {}
        }
        f.key_usage = ext.key_usage.ok().copied();
        f.eku = ext.eku.ok().copied();
        f.invalid |=
            ext.key_usage.is_bad() || ext.eku.is_bad() || ext.skid.is_bad() || ext.akid.is_bad();
        f.si = self.subject.canon == self.issuer.canon;
        f.ss = f.si && akid_matches(self, ext.akid.ok()) && !f.ku_reject(KU_KEY_CERT_SIGN);
        f.invalid |= ext.san.is_bad() || ext.name_constraints.is_bad() || ext.crl_dp.is_bad();
        self.critical_flags(&mut f, BORINGSSL_SUPPORTED);
        f
    }

    /// The loop over critical extensions: it stops at the first unsupported one.
    fn critical_flags(&self, f: &mut Flags, supported: &[&[u8]]) {
        for extension in self.ext.list.iter().filter(|e| e.critical) {
            if !supported.contains(&extension.oid.as_slice()) {
                f.critical = true;
                break;
            }
            match extension.oid.as_slice() {
                oid::BASIC_CONSTRAINTS => f.bcons_critical = true,
                oid::AKID => f.akid_critical = true,
                oid::SKID => f.skid_critical = true,
                oid::SAN => f.san_critical = true,
                _ => {}
            }
        }
    }

    pub fn san(&self) -> Option<&[GeneralName]> {
        self.ext.san.ok().map(Vec::as_slice)
    }

    pub fn name_constraints(&self) -> Option<&NameConstraints> {
        self.ext.name_constraints.ok()
    }

    pub fn same(&self, other: &Cert) -> bool {
        self.der == other.der
    }

    /// Valid at `now` (`ossl_x509_check_cert_time` with depth -1, BoringSSL's time check).
    pub fn valid_at(&self, now: i64) -> bool {
        self.not_before.openssl_format_ok
            && self.not_after.openssl_format_ok
            && self.not_before.unix <= now
            && self.not_after.unix > now
    }
}

/// `X509_check_akid(issuer, akid)`: a present key id, serial or dirName must match.
pub fn akid_matches(issuer: &Cert, akid: Option<&Akid>) -> bool {
    let Some(akid) = akid else {
        return true;
    };
    if let (Some(key_id), Some(skid)) = (&akid.key_id, issuer.ext.skid.ok()) {
        if key_id != skid {
            return false;
        }
    }
    if akid.serial.as_ref().is_some_and(|s| *s != issuer.serial) {
        return false;
    }
    let dir_name = akid.issuer.iter().flatten().find_map(|n| match n {
        GeneralName::Dir(name) => Some(name),
        _ => None,
    });
    dir_name.is_none_or(|n| n.canon == issuer.issuer.canon)
}

/// `v3_purp.c check_sig_alg_match`: the subject's (TBS) signature algorithm names the
/// issuer key's type (RSA keys also sign RSA-PSS).
pub fn openssl_sig_alg_matches(issuer_key: &Key, subject: &Cert) -> bool {
    if issuer_key.openssl_bits.is_none() {
        return false;
    }
    let sig = subject.tbs_sig.algo;
    sig != Algo::Unknown
        && (sig == issuer_key.algo || (issuer_key.algo == Algo::Rsa && sig == Algo::RsaPss))
}

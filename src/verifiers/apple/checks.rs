//! The SSL server policy's checks on one certificate path, as trustd runs them
//! (Security, trust/trustd/SecPolicyServer.c): the leaf checks, the parent checks
//! (`SecPVCParentCertificateChecks`), the path checks (`SecPVCPathChecks`:
//! `SecPolicyCheckIdLinkage`, `SecPolicyCheckBasicCertificateProcessing`, the policy's
//! path callbacks, `SecPolicyCheckSystemTrustedCTRequired`), each failure recorded on the
//! certificate it concerns, and the one failure SecTrust reports
//! (`SecTrustCopyErrorStrings` in OSX/sec/Security/SecTrust.c).

use super::cert::{AppleCert, Ekus};
use crate::verifiers::pattern::Pattern;

/// One policy check (`kSecPolicyCheck*`), with its row of OSX/sec/Security/
/// SecPolicyChecks.list: the failure subtype and the OSStatus it reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    SslHostname,
    TemporalValidity,
    WeakKeySize,
    WeakSignature,
    ExtendedKeyUsage,
    KeyUsage,
    BasicConstraints,
    BasicConstraintsCa,
    BasicConstraintsPathLen,
    AnchorTrusted,
    MissingIntermediate,
    CriticalExtensions,
    IdLinkage,
    NonEmptySubject,
    KeySize,
    SignatureHashAlgorithms,
    ValidityPeriodMaximums,
    ServerAuthEku,
    SystemTrustedCtRequired,
}

/// `SecTrustErrorSubType` (OSX/sec/Security/SecTrustInternal.h), in its order: the
/// lowest value is the one reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Subtype {
    KeySize,
    WeakHash,
    Compliance,
    Trust,
    Usage,
    Name,
    Expired,
}

impl Check {
    /// Every check, in the declaration's order.
    pub const ALL: &'static [Check] = &[
        Check::SslHostname,
        Check::TemporalValidity,
        Check::WeakKeySize,
        Check::WeakSignature,
        Check::ExtendedKeyUsage,
        Check::KeyUsage,
        Check::BasicConstraints,
        Check::BasicConstraintsCa,
        Check::BasicConstraintsPathLen,
        Check::AnchorTrusted,
        Check::MissingIntermediate,
        Check::CriticalExtensions,
        Check::IdLinkage,
        Check::NonEmptySubject,
        Check::KeySize,
        Check::SignatureHashAlgorithms,
        Check::ValidityPeriodMaximums,
        Check::ServerAuthEku,
        Check::SystemTrustedCtRequired,
    ];

    /// The `kSecPolicyCheck` key.
    pub fn name(self) -> &'static str {
        match self {
            Check::SslHostname => "SSLHostname",
            Check::TemporalValidity => "TemporalValidity",
            Check::WeakKeySize => "WeakKeySize",
            Check::WeakSignature => "WeakSignature",
            Check::ExtendedKeyUsage => "ExtendedKeyUsage",
            Check::KeyUsage => "KeyUsage",
            Check::BasicConstraints => "BasicConstraints",
            Check::BasicConstraintsCa => "BasicConstraintsCA",
            Check::BasicConstraintsPathLen => "BasicConstraintsPathLen",
            Check::AnchorTrusted => "AnchorTrusted",
            Check::MissingIntermediate => "MissingIntermediate",
            Check::CriticalExtensions => "CriticalExtensions",
            Check::IdLinkage => "IdLinkage",
            Check::NonEmptySubject => "NonEmptySubject",
            Check::KeySize => "KeySize",
            Check::SignatureHashAlgorithms => "SignatureHashAlgorithms",
            Check::ValidityPeriodMaximums => "ValidityPeriodMaximums",
            Check::ServerAuthEku => "ServerAuthEKU",
            Check::SystemTrustedCtRequired => "SystemTrustedCTRequired",
        }
    }

    pub fn subtype(self) -> Subtype {
        match self {
            Check::SslHostname => Subtype::Name,
            Check::TemporalValidity => Subtype::Expired,
            Check::WeakKeySize | Check::KeySize => Subtype::KeySize,
            Check::WeakSignature | Check::SignatureHashAlgorithms => Subtype::WeakHash,
            Check::ExtendedKeyUsage | Check::KeyUsage | Check::ServerAuthEku => Subtype::Usage,
            Check::AnchorTrusted | Check::MissingIntermediate => Subtype::Trust,
            Check::BasicConstraints
            | Check::BasicConstraintsCa
            | Check::BasicConstraintsPathLen
            | Check::CriticalExtensions
            | Check::IdLinkage
            | Check::NonEmptySubject
            | Check::ValidityPeriodMaximums
            | Check::SystemTrustedCtRequired => Subtype::Compliance,
        }
    }

    /// The OSStatus the check reports (the error's code Go switches on).
    pub fn status(self) -> i32 {
        match self {
            Check::SslHostname => ERR_SEC_HOST_NAME_MISMATCH,
            Check::TemporalValidity => ERR_SEC_CERTIFICATE_EXPIRED,
            Check::WeakKeySize | Check::KeySize => -67735, // errSecUnsupportedKeySize
            Check::WeakSignature | Check::SignatureHashAlgorithms => -67815, // errSecInvalidDigestAlgorithm
            Check::ExtendedKeyUsage | Check::ServerAuthEku => -67609, // errSecInvalidExtendedKeyUsage
            Check::KeyUsage => -67608, // errSecInvalidKeyUsageForPolicy
            Check::BasicConstraints => -67604, // errSecNoBasicConstraints
            Check::BasicConstraintsCa => -67605, // errSecNoBasicConstraintsCA
            Check::BasicConstraintsPathLen => -67611, // errSecPathLengthConstraintExceeded
            Check::AnchorTrusted => ERR_SEC_NOT_TRUSTED,
            Check::MissingIntermediate => -25318, // errSecCreateChainFailed
            Check::CriticalExtensions => -67603,  // errSecUnknownCriticalExtensionFlag
            Check::IdLinkage => -67610,           // errSecInvalidIDLinkage
            Check::NonEmptySubject => -67655,     // errSecInvalidSubjectName
            Check::ValidityPeriodMaximums => -67901, // errSecCertificateValidityPeriodTooLong
            Check::SystemTrustedCtRequired => -67825, // errSecVerifyActionFailed
        }
    }
}

/// The three codes crypto/x509's root_darwin.go turns into Go errors of its own.
pub const ERR_SEC_CERTIFICATE_EXPIRED: i32 = -67818;
pub const ERR_SEC_HOST_NAME_MISMATCH: i32 = -67602;
pub const ERR_SEC_NOT_TRUSTED: i32 = -67843;

impl Subtype {
    /// Every subtype, highest priority first.
    pub const ALL: &'static [Subtype] = &[
        Subtype::KeySize,
        Subtype::WeakHash,
        Subtype::Compliance,
        Subtype::Trust,
        Subtype::Usage,
        Subtype::Name,
        Subtype::Expired,
    ];

    /// The `SEC_TRUST_ERROR_SUBTYPE_*` format (OSX/sec/Security/SecFrameworkStrings.h)
    /// around the certificate's subject summary.
    pub fn pattern(self) -> Pattern {
        match self {
            Subtype::KeySize => Pattern(&[
                "\u{201c}",
                "\u{201d} certificate is using a broken key size",
            ]),
            Subtype::WeakHash => Pattern(&[
                "\u{201c}",
                "\u{201d} certificate is using a broken signature algorithm",
            ]),
            Subtype::Compliance => Pattern(&[
                "\u{201c}",
                "\u{201d} certificate is not standards compliant",
            ]),
            Subtype::Trust => Pattern(&["\u{201c}", "\u{201d} certificate is not trusted"]),
            Subtype::Usage => Pattern(&[
                "\u{201c}",
                "\u{201d} certificate is not permitted for this usage",
            ]),
            Subtype::Name => {
                Pattern(&["\u{201c}", "\u{201d} certificate name does not match input"])
            }
            Subtype::Expired => Pattern(&["\u{201c}", "\u{201d} certificate is expired"]),
        }
    }

    pub fn format(self, summary: &str) -> String {
        self.pattern().fill(&[summary])
    }
}

/// What SecTrust says when the failing certificate has no subject summary at all:
/// `SecCopyErrorMessageString(status)` (SecBase.h's descriptions).
pub fn status_message(status: i32) -> &'static str {
    match status {
        -67602 => "A host name mismatch has occurred.",
        -67818 => "An expired certificate was detected.",
        -67843 => "The trust policy was not trusted.",
        -25318 => "One or more certificates required to validate this certificate cannot be found.",
        -67735 => "The key size is not supported.",
        -67815 => "An invalid digest algorithm was detected.",
        -67609 => "The extended key usage is not valid.",
        -67608 => "The key usage is not valid for the specified policy.",
        -67604 => "No basic constraints were found.",
        -67605 => "No basic CA constraints were found.",
        -67611 => "The path length constraint was exceeded.",
        -67603 => "There is an unknown critical extension flag.",
        -67610 => "The ID linkage is not valid.",
        -67655 => "An invalid certificate subject name was encountered.",
        -67901 => "The validity period in the certificate exceeds the maximum allowed.",
        _ => "A verify action has failed.",
    }
}

/// A failed check on the certificate at `cert` (index in the path, 0 = leaf).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Detail {
    pub check: Check,
    pub cert: usize,
}

/// How a certificate of the path is trusted, if at all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Trust {
    /// In kSecSystemAnchorSource (ships with macOS).
    pub system: bool,
    /// An anchor by user or admin trust settings (kSecLegacyAnchorSource on macOS).
    pub trust_settings: bool,
}

/// One candidate path: certificates leaf first, and how each is trusted.
pub struct PathView<'a> {
    pub certs: Vec<&'a AppleCert>,
    pub trust: Vec<Trust>,
    /// The last certificate is an anchor (of either kind).
    pub anchored: bool,
    /// `SecPolicyCheckCT`'s answer for the leaf, from [`crate::ct::policy::apple`].
    pub ct_policy_met: bool,
}

/// `SecPolicyCheckSystemTrustValidityPeriodMaximums`' dates (CFAbsoluteTime + 978307200).
pub const SEP_2020: i64 = 1_598_918_400;
/// `SecPolicyCheckOtherTrustValidityPeriodMaximums` and `SecPolicyCheckServerAuthEKU`
/// compare notBefore with 583628400.0 "1 July 2019 00:00:00 UTC", which is in fact
/// 2019-06-30 23:00:00 UTC, and strictly (notBefore > it).
pub const JUL_2019_AS_CODED: i64 = 1_561_935_600;
/// `SecPolicyCheckSystemTrustedCTRequired`: leaves issued on or after 2018-10-16.
pub const CT_REQUIRED_FROM: i64 = 1_539_648_000;
const DAY: i64 = 86_400;

/// Every check of the SSL server policy that fails on `path` at `now`, for the host
/// `host` (empty: no host name in the policy).
pub fn failures(path: &PathView<'_>, host: &str, now: i64) -> Vec<Detail> {
    let mut out = Vec::new();
    let n = path.certs.len();
    let mut fail = |check, cert| {
        let detail = Detail { check, cert };
        if !out.contains(&detail) {
            out.push(detail);
        }
    };
    let certs = &path.certs;
    let leaf = certs[0];
    let top = n - 1;
    let root = certs[top];
    let root_trust = path.trust[top];
    let leaf_trust_settings = path.trust[0].trust_settings;

    // Leaf checks (SecPVCLeafChecks with the leaf callbacks).
    if !host.is_empty() && !ssl_hostname_matches(leaf, host) {
        fail(Check::SslHostname, 0);
    }
    if !extended_key_usage_allowed(leaf) {
        fail(Check::ExtendedKeyUsage, 0);
    }

    // Parent checks, on every issuer and the anchor (SecPVCParentCertificateChecks).
    for (ix, cert) in certs.iter().enumerate().skip(1) {
        if cert.version >= 3 {
            match cert.basic_constraints {
                None => fail(Check::BasicConstraints, ix),
                Some((false, _)) => fail(Check::BasicConstraintsCa, ix),
                Some((true, _)) => {}
            }
        } else if ix < top && root.version >= 3 {
            fail(Check::BasicConstraints, ix);
        }
        if cert.key_cert_sign == Some(false) {
            fail(Check::KeyUsage, ix);
        }
    }

    // SecPolicyCheckIdLinkage: each authority key id against its issuer's subject key id.
    for ix in (0..top).rev() {
        if let (Some(parent_skid), Some(akid)) =
            (&certs[ix + 1].subject_key_id, &certs[ix].authority_key_id)
        {
            if parent_skid != akid {
                fail(Check::IdLinkage, ix);
            }
        }
    }

    // SecPolicyCheckBasicCertificateProcessing.
    let processed = if path.anchored {
        n - 1
    } else {
        if root.is_self_signed() {
            fail(Check::AnchorTrusted, top);
        } else {
            fail(Check::MissingIntermediate, top);
        }
        n
    };
    let mut max_path_length = processed as u64;
    if path.anchored {
        if let Some((_, Some(len))) = root.basic_constraints {
            max_path_length = max_path_length.min(u64::from(len));
        }
    }
    for i in 1..=processed {
        let ix = processed - i;
        if i == processed {
            break;
        }
        let cert = certs[ix];
        if !cert.is_self_issued() {
            if max_path_length > 0 {
                max_path_length -= 1;
            } else {
                fail(Check::BasicConstraintsPathLen, ix);
            }
        }
        if let Some((_, Some(len))) = cert.basic_constraints {
            max_path_length = max_path_length.min(u64::from(len));
        }
        if cert.unknown_critical_extension {
            fail(Check::CriticalExtensions, ix);
        }
    }
    if processed > 0 && leaf.unknown_critical_extension {
        fail(Check::CriticalExtensions, 0);
    }

    // The policy's path callbacks, on every certificate of the path.
    for (ix, cert) in certs.iter().enumerate() {
        if !cert.valid_at(now) {
            fail(Check::TemporalValidity, ix);
        }
        if cert.weak_key() {
            fail(Check::WeakKeySize, ix);
        }
        // SecPolicyCheckCertWeakSignature: MD2, MD4, MD5, except on self-signed certificates.
        if matches!(
            cert.hash,
            super::cert::SigHash::Md2 | super::cert::SigHash::Md4 | super::cert::SigHash::Md5
        ) && !cert.is_self_signed()
        {
            fail(Check::WeakSignature, ix);
        }
        if !non_empty_subject(cert) {
            fail(Check::NonEmptySubject, ix);
        }
    }
    // SecPolicyCheckKeySize: RSA 2048, EC 256, except when the leaf is itself trusted.
    if !leaf_trust_settings {
        for (ix, cert) in certs.iter().enumerate() {
            if !cert.at_least(2048, 256) {
                fail(Check::KeySize, ix);
            }
        }
    }
    // SecPolicyCheckSignatureHashAlgorithms: no MD2, MD4, MD5 or SHA-1, except on
    // self-signed certificates and on an anchor trusted by the user.
    let skip_anchor = path.anchored && root_trust.trust_settings;
    for (ix, cert) in certs.iter().enumerate() {
        if skip_anchor && ix == top {
            continue;
        }
        if !cert.is_self_signed()
            && matches!(
                cert.hash,
                super::cert::SigHash::Md2
                    | super::cert::SigHash::Md4
                    | super::cert::SigHash::Md5
                    | super::cert::SigHash::Sha1
            )
        {
            fail(Check::SignatureHashAlgorithms, ix);
        }
    }
    if !validity_period_allowed(leaf, root_trust, leaf_trust_settings) {
        fail(Check::ValidityPeriodMaximums, 0);
    }
    if !server_auth_eku_allowed(certs, root_trust) {
        fail(Check::ServerAuthEku, 0);
    }
    if path.anchored && root_trust.system && ct_required(leaf, now) && !path.ct_policy_met {
        fail(Check::SystemTrustedCtRequired, 0);
    }
    out
}

/// The detail SecTrust reports: the highest-priority subtype, on the lowest certificate
/// index that has it; ties within a certificate go to the check recorded first.
pub fn reported(details: &[Detail]) -> Option<Detail> {
    details
        .iter()
        .copied()
        .min_by_key(|d| (d.check.subtype(), d.cert))
}

/// `SecPolicyCheckCertSSLHostname`: the SAN's DNS names (`SecDNSMatch`), else its IP
/// addresses; the subject's Common Name is never read.
pub fn ssl_hostname_matches(leaf: &AppleCert, host: &str) -> bool {
    if leaf.dns_names.iter().any(|dns| dns_match(host, dns)) {
        return true;
    }
    let candidate = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let Ok(ip) = candidate.parse::<std::net::IpAddr>() else {
        return false;
    };
    let bytes = match ip {
        std::net::IpAddr::V4(v4) => v4.octets().to_vec(),
        std::net::IpAddr::V6(v6) => v6.octets().to_vec(),
    };
    leaf.ip_addresses.contains(&bytes)
}

/// `SecDNSMatch(reference, presented)`: the same number of labels (a trailing dot on the
/// reference dropped), labels equal ignoring case, a `*` only as the whole left-most
/// label of a name of three labels or more. (The public-suffix test Apple adds for
/// names like `*.co.uk` is not modelled.)
pub fn dns_match(reference: &str, presented: &str) -> bool {
    let reference = reference.strip_suffix('.').unwrap_or(reference);
    if reference.is_empty() {
        return false;
    }
    let reference: Vec<&str> = reference.split('.').collect();
    let presented: Vec<&str> = presented.split('.').collect();
    let count = reference.len();
    if count != presented.len() {
        return false;
    }
    for ix in (0..count).rev() {
        let (r, p) = (reference[ix], presented[ix]);
        if p == "*" {
            if ix != 0 || count <= 2 {
                return false;
            }
        } else if p.contains('*') || !r.eq_ignore_ascii_case(p) {
            return false;
        }
    }
    true
}

/// The SSL policy's ExtendedKeyUsage option (`set_ssl_ekus`): no EKU extension, or one
/// listing anyExtendedKeyUsage, serverAuth, or Microsoft's or Netscape's SGC.
fn extended_key_usage_allowed(leaf: &AppleCert) -> bool {
    match &leaf.ekus {
        None => true,
        Some(ekus) => ekus.any || ekus.server_auth || ekus.ms_sgc || ekus.ns_sgc,
    }
}

/// `SecPolicyCheckCertNonEmptySubject`: an empty subject only on a non-CA with a
/// critical subjectAltName.
fn non_empty_subject(cert: &AppleCert) -> bool {
    !cert.subject_empty || (!cert.is_ca() && cert.san_critical)
}

/// `SecPolicyCheckValidityPeriodMaximums` (leaf only): system-trusted roots allow 825
/// days + 1 hour before 2020-09-01, 398 days after; a leaf trusted itself has no
/// maximum; every other path (a user or admin root, or no anchor at all) allows 825 days
/// + 1 hour to leaves issued after 2019-06-30 23:00 UTC.
fn validity_period_allowed(leaf: &AppleCert, root: Trust, leaf_trust_settings: bool) -> bool {
    let lifetime = leaf.not_after.saturating_sub(leaf.not_before);
    if root.system {
        let maximum = if leaf.not_before < SEP_2020 {
            825 * DAY + 3600
        } else {
            398 * DAY
        };
        return lifetime <= maximum;
    }
    if leaf_trust_settings {
        return true;
    }
    leaf.not_before <= JUL_2019_AS_CODED || lifetime <= 825 * DAY + 3600
}

/// `SecPolicyCheckServerAuthEKU`: under a system root the leaf must list serverAuth
/// itself (anyExtendedKeyUsage does not count) and every intermediate with an EKU
/// extension serverAuth or any; under a user or admin root nothing; otherwise the leaf
/// must list serverAuth when issued after 2019-06-30 23:00 UTC.
fn server_auth_eku_allowed(certs: &[&AppleCert], root: Trust) -> bool {
    let leaf = certs[0];
    let server_auth = |e: &Ekus| e.server_auth;
    if root.system {
        let intermediates_ok = certs.len() <= 2
            || certs[1..certs.len() - 1].iter().all(|ca| match &ca.ekus {
                Some(ekus) if ekus.count > 0 => ekus.server_auth || ekus.any,
                _ => true,
            });
        return leaf.lists_eku(server_auth) && intermediates_ok;
    }
    if root.trust_settings {
        return true;
    }
    leaf.not_before <= JUL_2019_AS_CODED || leaf.lists_eku(server_auth)
}

/// `SecPolicyCheckSystemTrustedCTRequired`'s conditions on the leaf: issued on or after
/// 2018-10-16 and valid now.
fn ct_required(leaf: &AppleCert, now: i64) -> bool {
    leaf.not_before >= CT_REQUIRED_FROM && leaf.valid_at(now)
}

/// Whole months from `from` to `to` in UTC (`CFCalendarGetComponentDifference` "M").
pub fn months_between(from: i64, to: i64) -> i64 {
    let (Ok(a), Ok(b)) = (
        time::OffsetDateTime::from_unix_timestamp(from),
        time::OffsetDateTime::from_unix_timestamp(to),
    ) else {
        return i64::MAX;
    };
    let mut months =
        (i64::from(b.year()) - i64::from(a.year())) * 12 + (b.month() as i64 - a.month() as i64);
    let rest = |t: time::OffsetDateTime| (t.day(), t.hour(), t.minute(), t.second());
    if months > 0 && rest(b) < rest(a) {
        months -= 1;
    }
    months
}

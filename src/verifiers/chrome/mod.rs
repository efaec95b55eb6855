//! Chromium's certificate verification on Linux (the Chrome Root Store plus the user's NSS
//! roots), as `CertVerifier` runs it for an HTTPS server: `CertVerifyProcBuiltin`
//! (net/cert/cert_verify_proc_builtin.cc) builds and verifies paths with BoringSSL's `pki/`
//! (`path`; SHA-1 refused outright, no retry with it allowed); `MapPathBuilderErrorsToCertStatus`
//! turns the best path's errors into status flags; `CertVerifyProc::Verify` (net/cert/cert_verify_proc.cc)
//! adds its own checks (signature algorithms, host name, weak keys, SHA-1, validity too
//! long); `MapCertStatusToNetError` (net/cert/cert_status_flags.cc) picks the one net error
//! the interstitial shows. Modelled version: Chromium 156.

mod cert;
mod names;
mod path;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use cert::ChromeCert;
use path::{BuildResult, CertError, Policy, Sources};

use crate::verifiers::signature::{Hash, PublicKey};

/// Chromium's `CertStatus` bits (net/cert/cert_status_flags_list.h), ORed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CertStatus(pub u32);

impl CertStatus {
    pub const COMMON_NAME_INVALID: u32 = 1 << 0;
    pub const DATE_INVALID: u32 = 1 << 1;
    pub const AUTHORITY_INVALID: u32 = 1 << 2;
    pub const INVALID: u32 = 1 << 7;
    pub const WEAK_SIGNATURE_ALGORITHM: u32 = 1 << 8;
    pub const WEAK_KEY: u32 = 1 << 11;
    pub const VALIDITY_TOO_LONG: u32 = 1 << 15;
    pub const SHA1_SIGNATURE_PRESENT: u32 = 1 << 19;
    pub const CERTIFICATE_TRANSPARENCY_REQUIRED: u32 = 1 << 24;

    /// The error flags, in `MapCertStatusToNetError`'s order, with their net errors.
    pub const ERRORS: [(u32, &'static str, &'static str); 8] = [
        (Self::INVALID, "CERT_STATUS_INVALID", "ERR_CERT_INVALID"),
        (
            Self::AUTHORITY_INVALID,
            "CERT_STATUS_AUTHORITY_INVALID",
            "ERR_CERT_AUTHORITY_INVALID",
        ),
        (
            Self::COMMON_NAME_INVALID,
            "CERT_STATUS_COMMON_NAME_INVALID",
            "ERR_CERT_COMMON_NAME_INVALID",
        ),
        (
            Self::CERTIFICATE_TRANSPARENCY_REQUIRED,
            "CERT_STATUS_CERTIFICATE_TRANSPARENCY_REQUIRED",
            "ERR_CERTIFICATE_TRANSPARENCY_REQUIRED",
        ),
        (
            Self::WEAK_SIGNATURE_ALGORITHM,
            "CERT_STATUS_WEAK_SIGNATURE_ALGORITHM",
            "ERR_CERT_WEAK_SIGNATURE_ALGORITHM",
        ),
        (Self::WEAK_KEY, "CERT_STATUS_WEAK_KEY", "ERR_CERT_WEAK_KEY"),
        (
            Self::DATE_INVALID,
            "CERT_STATUS_DATE_INVALID",
            "ERR_CERT_DATE_INVALID",
        ),
        (
            Self::VALIDITY_TOO_LONG,
            "CERT_STATUS_VALIDITY_TOO_LONG",
            "ERR_CERT_VALIDITY_TOO_LONG",
        ),
    ];

    pub fn has(self, flag: u32) -> bool {
        self.0 & flag != 0
    }

    /// `IsCertStatusError`.
    pub fn is_error(self) -> bool {
        Self::ERRORS.iter().any(|(flag, _, _)| self.has(*flag))
    }

    /// `MapCertStatusToNetError`: the most serious error set (the ones certready models;
    /// revocation, pinning and interception are never set here).
    pub fn net_error(self) -> Option<&'static str> {
        Self::ERRORS
            .iter()
            .find(|(flag, _, _)| self.has(*flag))
            .map(|(_, _, error)| *error)
    }

    /// The error flags set, by Chromium's names, most serious first.
    pub fn error_names(self) -> Vec<&'static str> {
        Self::ERRORS
            .iter()
            .filter(|(flag, _, _)| self.has(*flag))
            .map(|(_, name, _)| *name)
            .collect()
    }

    pub fn without(self, flag: u32) -> CertStatus {
        CertStatus(self.0 & !flag)
    }
}

/// The roots Chrome on Linux trusts: the user's NSS roots (full certificates, trusted as CAs
/// with their expiry and constraints enforced, never "known roots") and the Chrome Root Store
/// (known only by subject and key here; "known roots": CT and the 398-day limit apply).
pub struct Roots {
    local: Vec<Arc<ChromeCert>>,
    public: Vec<Arc<ChromeCert>>,
}

impl Roots {
    /// `local`: certificates (DER) in the user's NSS database, trusted for websites (those
    /// Chromium cannot parse are ignored); `public`: (subject, SubjectPublicKeyInfo), each
    /// a full DER SEQUENCE.
    pub fn new<'a>(
        local: impl IntoIterator<Item = &'a [u8]>,
        public: impl IntoIterator<Item = (&'a [u8], &'a [u8])>,
    ) -> Self {
        Roots {
            local: local.into_iter().filter_map(cert::parse).collect(),
            public: public
                .into_iter()
                .filter_map(|(subject, spki)| ChromeCert::anchor(subject, spki).map(Arc::new))
                .collect(),
        }
    }
}

/// Settings a user or certready itself changes.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Chrome's CT policy for known roots (on in Chrome; `IsCtEnabled`).
    pub enforce_ct: bool,
    /// The leaf's SCTs meet `ChromeCTPolicyEnforcer`'s policy, as [`crate::ct`] verified
    /// and counted them (they depend on the issuer's key and a log list: not the
    /// engine's to judge).
    pub ct_policy_met: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            enforce_ct: true,
            ct_policy_met: false,
        }
    }
}

/// An accepted chain.
#[derive(Debug, Clone)]
pub struct Verified {
    /// `is_issued_by_known_root`.
    pub known_root: bool,
    /// Non-error flags (SHA1_SIGNATURE_PRESENT never comes alone: SHA-1 is an error).
    pub status: CertStatus,
}

/// A refused chain: the net error Chrome shows and the flags behind it.
#[derive(Debug, Clone)]
pub struct Refusal {
    /// e.g. `ERR_CERT_AUTHORITY_INVALID` (Chrome prints it as `NET::ERR_CERT_…`).
    pub net_error: &'static str,
    pub status: CertStatus,
    pub known_root: bool,
    /// The certificate (DER) whose issuer path building could not find, when the best
    /// path ends there: the one AIA fetching would complete.
    pub issuer_not_found_for: Option<Vec<u8>>,
}

/// The net errors of Chrome's TLS stack (BoringSSL) that come before any certificate
/// verification (`clients::browser` decides when; `why` recognises them).
pub const ERR_SSL_PROTOCOL_ERROR: &str = "ERR_SSL_PROTOCOL_ERROR";
pub const ERR_SSL_KEY_USAGE_INCOMPATIBLE: &str = "ERR_SSL_KEY_USAGE_INCOMPATIBLE";

/// Chrome requires CT for publicly trusted certificates issued from 2018-05-01.
const CT_CUTOVER: i64 = 1_525_132_800;
/// `base::Days(398)`.
const MAX_VALIDITY_SECONDS: i64 = 398 * 86_400;

/// What Chrome on Linux says about the chain a server sent (`presented`, leaf first) for
/// `host` at `now` (Unix seconds): `Ok` or the net error with its status flags. `aia` holds
/// the certificates fetched from caIssuers URLs; an empty `host` skips the name check.
pub fn verify(
    presented: &[&[u8]],
    roots: &Roots,
    aia: &[&[u8]],
    host: &str,
    now: i64,
    options: Options,
) -> Result<Verified, Refusal> {
    let refuse = |status: CertStatus| Refusal {
        net_error: status.net_error().unwrap_or("ERR_CERT_INVALID"),
        status,
        known_root: false,
        issuer_not_found_for: None,
    };
    let Some(target) = presented.first().and_then(|der| cert::parse(der)) else {
        return Err(refuse(CertStatus(CertStatus::INVALID)));
    };
    let intermediates: Vec<Arc<ChromeCert>> = presented
        .iter()
        .skip(1)
        .filter_map(|der| cert::parse(der))
        .collect();
    let fetched: Vec<Arc<ChromeCert>> = aia.iter().filter_map(|der| cert::parse(der)).collect();
    let sources = Sources {
        public: &roots.public,
        local: &roots.local,
        intermediates: &intermediates,
        aia: &fetched,
    };
    let policy = Policy {
        now,
        ct_compliant: Box::new(move |leaf: &ChromeCert| {
            !options.enforce_ct || ct_compliant(leaf, options.ct_policy_met)
        }),
    };
    // No second attempt with SHA-1 allowed: Chromium 156 refuses a SHA-1 signature as
    // ERR_CERT_INVALID (seen in the differential test), not as a weak one.
    let result = path::build(target.clone(), &sources, &policy);
    let (mut status, known_root, chain, issuer_not_found_for) = assign_verify_result(&result);
    let chain = chain.unwrap_or_else(|| {
        std::iter::once(target.clone())
            .chain(intermediates.iter().cloned())
            .collect()
    });

    // CertVerifyProc::Verify.
    let mut has_sha1 = false;
    if chain.len() > 1 {
        for cert in &chain[..chain.len() - 1] {
            if cert.outer_algorithm_tlv != cert.tbs_algorithm_tlv || cert.algorithm.is_none() {
                status.0 |= CertStatus::INVALID;
            } else if cert.algorithm.and_then(|a| a.hash) == Some(Hash::Sha1) {
                has_sha1 = true;
            }
        }
    }
    if !host.is_empty() && !names::verify_hostname(host, &target.dns_names, &target.ip_addresses) {
        status.0 |= CertStatus::COMMON_NAME_INVALID;
    }
    if chain
        .iter()
        .any(|c| matches!(c.public_key, PublicKey::Rsa { bits } if bits < 1024))
    {
        status.0 |= CertStatus::WEAK_KEY;
    }
    if has_sha1 {
        status.0 |= CertStatus::SHA1_SIGNATURE_PRESENT | CertStatus::WEAK_SIGNATURE_ALGORITHM;
    }
    if known_root && has_too_long_validity(&target) {
        status.0 |= CertStatus::VALIDITY_TOO_LONG;
    }
    match status.net_error() {
        None => Ok(Verified { known_root, status }),
        Some(net_error) => Err(Refusal {
            net_error,
            status,
            known_root,
            issuer_not_found_for,
        }),
    }
}

type Assigned = (
    CertStatus,
    bool,
    Option<Vec<Arc<ChromeCert>>>,
    Option<Vec<u8>>,
);

/// `AssignVerifyResult` with `MapPathBuilderErrorsToCertStatus`: the best path's errors as
/// status flags, whether it ends in a known root, and the chain the later checks see.
fn assign_verify_result(result: &BuildResult) -> Assigned {
    let Some(best) = result.best() else {
        return (CertStatus(CertStatus::AUTHORITY_INVALID), false, None, None);
    };
    let mut status = CertStatus::default();
    let any = |errors: &[CertError]| errors.iter().any(|e| best.has(*e));
    if any(&[CertError::UnacceptablePublicKey]) {
        status.0 |= CertStatus::WEAK_KEY;
    }
    if any(&[
        CertError::ValidityFailedNotAfter,
        CertError::ValidityFailedNotBefore,
    ]) {
        status.0 |= CertStatus::DATE_INVALID;
    }
    if any(&[
        CertError::VerifySignedDataFailed,
        CertError::NoIssuersFound,
        CertError::SubjectDoesNotMatchIssuer,
        CertError::IterationLimitExceeded,
    ]) {
        status.0 |= CertStatus::AUTHORITY_INVALID;
    }
    if any(&[CertError::CtRequirementsNotMet]) {
        status.0 |= CertStatus::CERTIFICATE_TRANSPARENCY_REQUIRED;
    }
    // Any other error: a general one, so that failure shows.
    if !best.errors.is_empty() && !status.is_error() {
        status.0 |= CertStatus::INVALID;
    }
    let issuer_not_found_for = best
        .has(CertError::NoIssuersFound)
        .then(|| best.certs.last().map(|c| c.der.clone()))
        .flatten();
    (
        status,
        best.known_root(),
        Some(best.certs.clone()),
        issuer_not_found_for,
    )
}

/// `CertVerifyProc::HasTooLongValidity`: more than 398 days (or an inverted period).
fn has_too_long_validity(leaf: &ChromeCert) -> bool {
    leaf.not_before > leaf.not_after || leaf.not_after - leaf.not_before > MAX_VALIDITY_SECONDS
}

/// `CheckCertificateTransparency`: certificates issued before the cut-over need no CT;
/// the others meet the policy (`policy_met`, from [`crate::ct::policy::chrome`]).
fn ct_compliant(leaf: &ChromeCert, policy_met: bool) -> bool {
    leaf.not_before < CT_CUTOVER || policy_met
}

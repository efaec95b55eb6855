//! Revocation: whether the issuer of a certificate on the path has revoked it — from the
//! OCSP response the server stapled, the issuer's OCSP responder, or its CRL — and who
//! would notice. Few clients do (notes/revocation.md, from their sources): Go, OpenSSL
//! (requests), grpcio and trustd for private CAs never ask; Chrome honours a stapled
//! "revoked" on an otherwise valid path (NET::ERR_CERT_REVOKED) and its CRLSet, which
//! certready cannot see; Firefox asks the responder and refuses a must-staple certificate
//! without a staple. A responder that is down or slow is at most a warning.
//!
//! Fetching is the check step's (`check::revocation`); everything here is pure.

pub mod crl;
pub mod ocsp;

use serde::Serialize;

use crate::findings::{Finding, FindingId, Severity};

/// The issuer of a certificate, as OCSP and CRLs need it.
#[derive(Debug, Clone)]
pub struct Issuer {
    /// Its subject, DER (the certificate's issuer name).
    pub name_der: Vec<u8>,
    /// Its SubjectPublicKeyInfo, DER.
    pub spki_der: Vec<u8>,
}

/// A status an OCSP response gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CertState {
    Good,
    Revoked,
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SignatureCheck {
    Valid,
    Invalid,
    /// An algorithm or key certready cannot verify.
    Unverifiable,
}

/// What is known of one certificate's revocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RevocationStatus {
    Good,
    Revoked,
    /// Asked, and no usable answer (responder down, unknown, stale, invalid).
    Unknown,
    /// Not asked: no OCSP URL or http CRL, or revocation checking off.
    Unchecked,
}

/// An OCSP answer (stapled or fetched) as judged.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OcspResult {
    /// The responder's URL; null for a stapled response.
    pub url: Option<String>,
    /// Whether an answer came at all (false: the responder could not be reached).
    pub answered: bool,
    pub status: Option<CertState>,
    pub revoked_at: Option<String>,
    pub reason: Option<String>,
    pub this_update: Option<String>,
    #[serde(skip)]
    pub this_update_unix: Option<i64>,
    pub next_update: Option<String>,
    #[serde(skip)]
    pub next_update_unix: Option<i64>,
    pub produced_at: Option<String>,
    pub signature: Option<SignatureCheck>,
    /// "the issuer" or "the delegated responder \"NAME\"".
    pub signer: Option<String>,
    /// Past its nextUpdate.
    pub stale: bool,
    /// Why the answer cannot be used (unreachable, malformed, not about this
    /// certificate, badly signed, from the future).
    pub error: Option<String>,
}

impl OcspResult {
    /// An answer a careful client would act on.
    fn usable(&self) -> bool {
        self.answered
            && self.error.is_none()
            && !self.stale
            && self.signature == Some(SignatureCheck::Valid)
    }

    /// Answered, but not usable: what `ocsp-response-invalid` is about.
    fn invalid(&self) -> bool {
        self.answered && self.error.is_some()
    }

    pub fn unreachable(url: &str, why: String) -> Self {
        OcspResult {
            url: Some(url.to_string()),
            error: Some(why),
            ..OcspResult::default()
        }
    }
}

/// A CRL as judged for one certificate.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CrlResult {
    pub url: String,
    pub answered: bool,
    pub bytes: Option<usize>,
    /// How many serials it lists.
    pub entries: Option<usize>,
    /// This certificate's serial is on it.
    pub listed: bool,
    pub revoked_at: Option<String>,
    pub reason: Option<String>,
    pub this_update: Option<String>,
    pub next_update: Option<String>,
    #[serde(skip)]
    pub next_update_unix: Option<i64>,
    pub signature: Option<SignatureCheck>,
    pub stale: bool,
    /// Larger than certready reads ([`crl::MAX_CRL_BYTES`]).
    pub too_large: bool,
    pub error: Option<String>,
}

impl CrlResult {
    fn usable(&self) -> bool {
        self.answered
            && self.error.is_none()
            && !self.stale
            && self.signature == Some(SignatureCheck::Valid)
    }

    pub fn unreachable(url: &str, why: String, too_large: bool) -> Self {
        CrlResult {
            url: url.to_string(),
            error: Some(why),
            too_large,
            ..CrlResult::default()
        }
    }
}

/// Where a revocation verdict came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    StapledOcsp,
    Ocsp,
    Crl,
}

impl Source {
    pub fn words(self) -> &'static str {
        match self {
            Source::StapledOcsp => "the OCSP response the server stapled",
            Source::Ocsp => "the issuer's OCSP responder",
            Source::Crl => "the issuer's CRL",
        }
    }
}

/// One certificate's revocation, from every source asked.
#[derive(Debug, Clone, Serialize)]
pub struct CertRevocation {
    /// Position in the chain (as `chain[].position`).
    pub position: usize,
    pub status: RevocationStatus,
    pub source: Option<Source>,
    pub revoked_at: Option<String>,
    pub reason: Option<String>,
    /// The certificate asks for a stapled OCSP response (TLS Feature status_request).
    pub must_staple: bool,
    pub stapled: Option<OcspResult>,
    pub ocsp: Option<OcspResult>,
    pub crl: Option<CrlResult>,
}

impl CertRevocation {
    pub fn new(position: usize, must_staple: bool) -> Self {
        CertRevocation {
            position,
            status: RevocationStatus::Unchecked,
            source: None,
            revoked_at: None,
            reason: None,
            must_staple,
            stapled: None,
            ocsp: None,
            crl: None,
        }
    }

    /// The verdict from the usable answers: revoked if any says so, good if any says
    /// good, unknown if something was asked and nothing usable came back.
    pub fn settle(&mut self) {
        let ocsp_answers = [
            (Source::StapledOcsp, self.stapled.as_ref()),
            (Source::Ocsp, self.ocsp.as_ref()),
        ];
        let usable_ocsp = ocsp_answers
            .iter()
            .filter_map(|(source, r)| r.filter(|r| r.usable()).map(|r| (*source, r)));
        let crl = self.crl.as_ref().filter(|c| c.usable());
        let revoked = usable_ocsp
            .clone()
            .find(|(_, r)| r.status == Some(CertState::Revoked))
            .map(|(source, r)| (source, r.revoked_at.clone(), r.reason.clone()))
            .or_else(|| {
                crl.filter(|c| c.listed)
                    .map(|c| (Source::Crl, c.revoked_at.clone(), c.reason.clone()))
            });
        let good = usable_ocsp
            .clone()
            .find(|(_, r)| r.status == Some(CertState::Good))
            .map(|(source, _)| source)
            .or_else(|| crl.filter(|c| !c.listed).map(|_| Source::Crl));
        let asked = self.stapled.is_some() || self.ocsp.is_some() || self.crl.is_some();
        (self.status, self.source) = match (revoked, good) {
            (Some((source, at, reason)), _) => {
                self.revoked_at = at;
                self.reason = reason;
                (RevocationStatus::Revoked, Some(source))
            }
            (None, Some(source)) => (RevocationStatus::Good, Some(source)),
            (None, None) if asked => (RevocationStatus::Unknown, None),
            (None, None) => (RevocationStatus::Unchecked, None),
        };
    }

    /// The earliest nextUpdate of the usable answers: when the verdict should be asked
    /// again (and a cache may keep it until).
    pub fn next_update(&self) -> Option<i64> {
        [
            self.stapled.as_ref().and_then(|r| r.next_update_unix),
            self.ocsp.as_ref().and_then(|r| r.next_update_unix),
            self.crl.as_ref().and_then(|r| r.next_update_unix),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// A correctly signed stapled OCSP response says revoked and is current at `now` as
    /// Chrome counts it: thisUpdate <= now < nextUpdate, no clock skew allowed
    /// (BoringSSL's pki/revocation_util.cc).
    pub fn stapled_revoked(&self, now: i64) -> bool {
        self.stapled.as_ref().is_some_and(|r| {
            r.answered
                && r.error.is_none()
                && r.signature == Some(SignatureCheck::Valid)
                && r.status == Some(CertState::Revoked)
                && r.this_update_unix.is_some_and(|t| t <= now)
                && r.next_update_unix.is_none_or(|n| now < n)
        })
    }

    /// Revoked according to any usable answer.
    pub fn revoked(&self) -> bool {
        self.status == RevocationStatus::Revoked
    }
}

/// Findings from the revocation facts of the path's certificates (the leaf is position
/// `leaf`; must-staple and stapling concern it alone).
pub fn findings(revocations: &[CertRevocation], leaf: usize, out: &mut Vec<Finding>) {
    for r in revocations {
        let position = Some(r.position);
        let what = if r.position == leaf {
            "The server's certificate"
        } else {
            "An issuing certificate on the path"
        };
        if r.status == RevocationStatus::Revoked {
            let reason = r
                .reason
                .as_deref()
                .map(|reason| format!(" ({reason})"))
                .unwrap_or_default();
            let at = r
                .revoked_at
                .as_deref()
                .map(|at| format!(" on {at}"))
                .unwrap_or_default();
            let source = r.source.map(Source::words).unwrap_or("its issuer");
            out.push(Finding::new(
                FindingId::Revoked,
                position,
                format!("{what} was revoked{at}{reason}, according to {source}. Chrome refuses it when the server staples that answer (and when its CRLSet lists it), Firefox when it asks the responder; Go (flytectl on Linux), grpcio, requests and macOS for a private CA do not check, so they still connect."),
            ));
        }
        if r.position == leaf && r.must_staple && r.stapled.is_none() {
            out.push(Finding::new(
                FindingId::OcspMustStapleMissing,
                position,
                "The certificate carries the OCSP must-staple extension (TLS Feature status_request), but the server stapled no OCSP response: Firefox refuses the connection (MOZILLA_PKIX_ERROR_REQUIRED_TLS_FEATURE_MISSING); Chrome, Go, OpenSSL and grpcio do not enforce it.",
            ));
        }
        if let Some(stapled) = &r.stapled {
            if stapled.answered && stapled.error.is_none() && stapled.stale {
                out.push(Finding::new(
                    FindingId::OcspResponseStale,
                    position,
                    format!(
                        "The stapled OCSP response is past its nextUpdate ({}): clients that read staples ignore it{}. The server stopped refreshing it (nginx: ssl_stapling_verify and a reachable responder; a restart refetches).",
                        stapled.next_update.as_deref().unwrap_or("unknown"),
                        if r.must_staple { ", and Firefox refuses a must-staple certificate without a current one" } else { "" }
                    ),
                ));
            }
        }
        for (label, answer) in [
            ("The stapled OCSP response", r.stapled.as_ref()),
            ("The OCSP responder's answer", r.ocsp.as_ref()),
        ] {
            if let Some(answer) = answer.filter(|a| a.invalid()) {
                let from = answer
                    .url
                    .as_deref()
                    .map(|u| format!(" ({u})"))
                    .unwrap_or_default();
                out.push(Finding::new(
                    FindingId::OcspResponseInvalid,
                    position,
                    format!(
                        "{label}{from} cannot be used: {}. Clients that check it treat the status as unknown.",
                        answer.error.as_deref().unwrap_or("invalid")
                    ),
                ));
            }
        }
        if let Some(crl) = r.crl.as_ref().filter(|c| c.too_large) {
            out.push(Finding::new(
                FindingId::CrlTooLarge,
                position,
                format!("The CRL at {} is larger than {} MiB, so certready did not read it; clients that download CRLs per connection will time out or skip it.", crl.url, crl::MAX_CRL_BYTES / (1024 * 1024)),
            ));
        }
        if r.status == RevocationStatus::Unknown {
            let mut why: Vec<String> = Vec::new();
            if let Some(o) = &r.ocsp {
                why.push(format!(
                    "OCSP {}: {}",
                    o.url.as_deref().unwrap_or_default(),
                    o.error.clone().unwrap_or_else(|| describe_unusable(o))
                ));
            }
            if let Some(c) = &r.crl {
                why.push(format!(
                    "CRL {}: {}",
                    c.url,
                    c.error
                        .clone()
                        .unwrap_or_else(|| "stale or unverifiable".into())
                ));
            }
            if let Some(s) = &r.stapled {
                if !s.usable() && s.error.is_none() {
                    why.push(format!("stapled OCSP: {}", describe_unusable(s)));
                }
            }
            out.push(
                Finding::new(
                    FindingId::RevocationUnknown,
                    position,
                    format!(
                        "{what}'s revocation status could not be learnt: {}. Clients that check treat this as soft-fail and connect.",
                        why.join("; ")
                    ),
                )
                .severity(Severity::Warning),
            );
        }
    }
}

fn describe_unusable(answer: &OcspResult) -> String {
    match (answer.status, answer.stale, answer.signature) {
        (_, true, _) => format!(
            "past its nextUpdate ({})",
            answer.next_update.as_deref().unwrap_or("unknown")
        ),
        (_, _, Some(SignatureCheck::Unverifiable)) => {
            "its signature cannot be verified here".into()
        }
        (Some(CertState::Unknown), _, _) => "the responder does not know the certificate".into(),
        _ => "no usable answer".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: CertState) -> OcspResult {
        OcspResult {
            answered: true,
            status: Some(status),
            signature: Some(SignatureCheck::Valid),
            ..OcspResult::default()
        }
    }

    #[test]
    fn revoked_wins_and_unusable_answers_do_not_count() {
        let mut r = CertRevocation::new(0, false);
        r.ocsp = Some(answer(CertState::Good));
        r.crl = Some(CrlResult {
            answered: true,
            listed: true,
            signature: Some(SignatureCheck::Valid),
            ..CrlResult::default()
        });
        r.settle();
        assert_eq!(
            (r.status, r.source),
            (RevocationStatus::Revoked, Some(Source::Crl))
        );

        let mut r = CertRevocation::new(0, false);
        let mut stale = answer(CertState::Revoked);
        stale.stale = true;
        r.stapled = Some(stale);
        r.settle();
        assert_eq!(
            r.status,
            RevocationStatus::Unknown,
            "a stale revoked is not used"
        );

        let mut r = CertRevocation::new(0, false);
        r.ocsp = Some(OcspResult::unreachable("http://x", "cannot connect".into()));
        r.settle();
        assert_eq!(r.status, RevocationStatus::Unknown);
        let mut out = Vec::new();
        findings(&[r], 0, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].id, FindingId::RevocationUnknown);
        assert_eq!(out[0].severity, Severity::Warning, "never critical");

        let mut r = CertRevocation::new(0, false);
        r.settle();
        assert_eq!(r.status, RevocationStatus::Unchecked);
    }
}

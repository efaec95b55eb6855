//! Certificate Transparency: the leaf's SCTs — embedded in the certificate, in the
//! stapled OCSP response, and in the TLS extension (asked for over TLS 1.2 by
//! `probe::tls_scts`, as rustls no longer can) — each verified against a CT log list (log
//! id, key, state, shard), then counted by Chrome's policy and by Apple's (`policy`). Only
//! chains anchored in a public root need CT; a private CA's never do.
//!
//! The clients' engines take the policies' answers (`verifiers::chrome` for the
//! browser, `verifiers::apple` for flytectl on macOS); `findings` says what is wrong.

pub mod log_list;
pub mod policy;
pub mod precert;
pub mod sct;

use serde::Serialize;

use crate::chain::Cert;
use crate::findings::{Finding, FindingId, Severity};
pub use log_list::{LogList, LogState};
pub use policy::{Compliance, PolicyResult};

/// How an SCT reached certready.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SctOrigin {
    /// In the certificate (signed over the precertificate).
    Embedded,
    /// In the stapled OCSP response (signed over the certificate).
    Ocsp,
    /// In the TLS extension of the handshake (signed over the certificate).
    Tls,
}

impl SctOrigin {
    pub fn name(self) -> &'static str {
        match self {
            SctOrigin::Embedded => "embedded",
            SctOrigin::Ocsp => "ocsp",
            SctOrigin::Tls => "tls",
        }
    }
}

/// What verifying one SCT found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SctStatus {
    /// Signed by a log of the list (once or currently qualified) over this certificate.
    Valid,
    /// From a log of the list, but its signature does not verify.
    InvalidSignature,
    /// From a log the list does not have (or has as pending or rejected).
    UnknownLog,
    /// Timestamped after the instant judged (the clients refuse it).
    FutureTimestamp,
    /// Not an SCT certready can read (version, lengths, algorithms).
    Malformed,
    /// The leaf's issuer is unknown: an embedded SCT cannot be checked without its key.
    Unverifiable,
}

/// One SCT of the leaf.
#[derive(Debug, Clone, Serialize)]
pub struct SctInfo {
    pub origin: SctOrigin,
    /// Base64, as log lists write it.
    pub log_id: String,
    /// The log's description, when the list has it.
    pub log: Option<String>,
    pub operator: Option<String>,
    pub log_state: Option<LogState>,
    /// RFC 3339 (null when the SCT does not parse).
    pub timestamp: Option<String>,
    pub status: SctStatus,
}

/// Whether certready asked the server for SCTs in the TLS extension, and what came back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TlsExtensionCheck {
    /// A file, or a chain that needs no CT: not asked.
    NotAsked,
    /// The server sent SCTs in the TLS extension (listed with origin `tls`).
    Delivered,
    /// The server answered over TLS 1.2 without the extension.
    Absent,
    /// The question could not be answered (`tls_extension_note` says why): Chrome's
    /// verdict stays open when the other SCTs do not suffice.
    Unavailable,
}

/// The leaf's Certificate Transparency (JSON `ct`).
#[derive(Debug, Clone, Serialize)]
pub struct CtReport {
    /// The leaf's position in the presented chain.
    pub position: usize,
    /// Anchored in a public root (certready's Mozilla list): Chrome and Apple require CT.
    pub required: bool,
    /// The log list the SCTs were checked against.
    pub log_list: String,
    /// The list is recent enough (70 days, as Chrome) that a log it lacks is unknown to the
    /// clients too.
    pub log_list_current: bool,
    pub scts: Vec<SctInfo>,
    /// Whether SCTs in the TLS extension were asked for, and what came back.
    pub tls_extension: TlsExtensionCheck,
    /// Why the TLS extension could not be asked for, when it could not.
    pub tls_extension_note: Option<String>,
    /// SCTs whose signature verified, from logs of the list.
    pub valid_scts: usize,
    /// Chrome's policy (the browser verdict).
    pub chrome: PolicyResult,
    /// Apple's policy, with the SCTs trustd gets through Go: the embedded ones
    /// (flytectl on macOS).
    pub apple: PolicyResult,
}

impl CtReport {
    /// What the engines take: met, or not known to be unmet.
    pub fn chrome_met(&self) -> bool {
        self.chrome.compliance != Compliance::NotCompliant
    }

    pub fn apple_met(&self) -> bool {
        self.apple.compliance != Compliance::NotCompliant
    }
}

/// What the evaluation needs.
pub struct Input<'a> {
    pub leaf: &'a Cert,
    /// The issuer's SubjectPublicKeyInfo (DER): the key that verifies the leaf.
    pub issuer_spki: Option<&'a [u8]>,
    /// The stapled OCSP response's SCT list for this leaf, TLS-encoded.
    pub ocsp_list: Option<&'a [u8]>,
    /// What asking the server for SCTs in the TLS extension found; None when not asked.
    pub tls: Option<&'a crate::probe::tls_scts::TlsScts>,
    pub logs: &'a LogList,
    pub at: i64,
    pub required: bool,
}

/// The SubjectPublicKeyInfo (DER) that verifies `leaf`'s signature: a certificate at hand
/// named as its issuer, else an anchor of `stores` (every path the clients build goes
/// through that one key: it signed the leaf).
pub fn issuer_spki<'a>(
    leaf: &Cert,
    certs: impl IntoIterator<Item = &'a Cert>,
    stores: &[crate::trust::TrustStore],
) -> Option<Vec<u8>> {
    let named = |subject: &[u8]| subject == leaf.info.facts.issuer_der.as_slice();
    certs
        .into_iter()
        .filter(|c| named(&c.info.facts.subject_der))
        .map(|c| c.info.facts.spki_der.clone())
        .chain(
            crate::trust::sequence_content(&leaf.info.facts.issuer_der)
                .into_iter()
                .flat_map(|wanted| {
                    stores
                        .iter()
                        .flat_map(|s| s.anchors.iter())
                        .filter(move |a| a.subject.as_ref() == wanted)
                        .map(|a| crate::der::sequence(a.subject_public_key_info.as_ref()))
                }),
        )
        .find(|spki| leaf.signed_by(spki))
}

/// The SCT list of a stapled OCSP response about `leaf`, issued by the key `issuer_spki`.
pub fn stapled_list(stapled: &[u8], leaf: &Cert, issuer_spki: &[u8]) -> Option<Vec<u8>> {
    crate::revocation::ocsp::sct_list(
        stapled,
        leaf,
        &crate::revocation::Issuer {
            name_der: leaf.info.facts.issuer_der.clone(),
            spki_der: issuer_spki.to_vec(),
        },
    )
}

/// Verifies the leaf's SCTs and counts them by both policies.
pub fn evaluate(input: &Input<'_>) -> CtReport {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let der = input.leaf.der.as_ref();
    let precert_tbs = precert::tbs_without_scts(der);
    let issuer_key_hash: Option<[u8; 32]> = input.issuer_spki.and_then(|spki| {
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, spki)
            .as_ref()
            .try_into()
            .ok()
    });
    use crate::probe::tls_scts::TlsScts;
    let tls_list = match input.tls {
        Some(TlsScts::Delivered(list)) => Some(list.clone()),
        _ => None,
    };
    let (tls_extension, tls_extension_note) = match input.tls {
        None => (TlsExtensionCheck::NotAsked, None),
        Some(TlsScts::Delivered(_)) => (TlsExtensionCheck::Delivered, None),
        Some(TlsScts::None) => (TlsExtensionCheck::Absent, None),
        Some(TlsScts::Unavailable(why)) => (TlsExtensionCheck::Unavailable, Some(why.clone())),
    };
    let mut found: Vec<(SctOrigin, Result<sct::Sct, Vec<u8>>)> = Vec::new();
    for (origin, list) in [
        (SctOrigin::Embedded, precert::embedded_list(der)),
        (SctOrigin::Ocsp, input.ocsp_list.map(<[u8]>::to_vec)),
        (SctOrigin::Tls, tls_list),
    ] {
        if let Some(list) = list {
            match sct::parse_list(&list) {
                Some(scts) => found.extend(scts.into_iter().map(|s| (origin, s))),
                None => found.push((origin, Err(list))),
            }
        }
    }
    let mut infos = Vec::new();
    let mut verified: Vec<policy::Counted<'_>> = Vec::new();
    // SCTs certready cannot judge, counted as if valid to see whether they could matter.
    let mut doubtful: Vec<policy::Counted<'_>> = Vec::new();
    let mut stand_ins: Vec<(log_list::Log, SctOrigin)> = Vec::new();
    let current = input.logs.timely_at(input.at);
    for (origin, parsed) in &found {
        let Ok(sct) = parsed else {
            infos.push(SctInfo {
                origin: *origin,
                log_id: String::new(),
                log: None,
                operator: None,
                log_state: None,
                timestamp: None,
                status: SctStatus::Malformed,
            });
            continue;
        };
        let log = input.logs.find(&sct.log_id);
        let timestamp = (sct.timestamp / 1000) as i64;
        let entry = match origin {
            SctOrigin::Embedded => match (&precert_tbs, &issuer_key_hash) {
                (Some(tbs), Some(hash)) => Some(sct::Entry::Precertificate {
                    issuer_key_hash: *hash,
                    tbs,
                }),
                _ => None,
            },
            SctOrigin::Ocsp | SctOrigin::Tls => Some(sct::Entry::Certificate(der)),
        };
        let status = if sct.version != 0 {
            SctStatus::Malformed
        } else if !log.is_some_and(|l| l.state.trusted()) {
            SctStatus::UnknownLog
        } else if sct.timestamp > (input.at.max(0) as u64).saturating_mul(1000) {
            SctStatus::FutureTimestamp
        } else {
            match (&entry, log) {
                (Some(entry), Some(log)) if sct::verify(sct, entry, &log.key) => SctStatus::Valid,
                (Some(_), Some(_)) => SctStatus::InvalidSignature,
                _ => SctStatus::Unverifiable,
            }
        };
        match (status, log) {
            (SctStatus::Valid, Some(log)) => verified.push(policy::Counted {
                log,
                origin: *origin,
                timestamp,
            }),
            (SctStatus::UnknownLog, _) if !current => stand_ins.push((stand_in(sct), *origin)),
            (SctStatus::Unverifiable, _) => stand_ins.push((stand_in(sct), *origin)),
            _ => {}
        }
        infos.push(SctInfo {
            origin: *origin,
            log_id: b64.encode(sct.log_id),
            log: log.map(|l| l.description.clone()),
            operator: log.map(|l| l.operator.clone()),
            log_state: log.map(|l| l.state),
            timestamp: Some(crate::chain::rfc3339(timestamp)),
            status,
        });
    }
    let validity = policy::Validity {
        not_before: input.leaf.info.facts.not_before,
        not_after: input.leaf.info.facts.not_after,
    };
    doubtful.extend(verified.iter().copied());
    doubtful.extend(stand_ins.iter().map(|(log, origin)| policy::Counted {
        log,
        origin: *origin,
        timestamp: log.state_since,
    }));
    let judge = |policy: fn(&[policy::Counted<'_>], policy::Validity, i64) -> PolicyResult| {
        let mut result = policy(&verified, validity, input.at);
        if result.compliance == Compliance::NotCompliant
            && !stand_ins.is_empty()
            && policy(&doubtful, validity, input.at).compliance == Compliance::Compliant
        {
            result.compliance = Compliance::Undetermined;
            result.reason = format!(
                "{}; SCTs certready cannot check (logs missing from its list, {}) may make up the difference",
                result.reason,
                input.logs.describe()
            );
        }
        result
    };
    let mut chrome = judge(policy::chrome);
    if chrome.compliance == Compliance::NotCompliant {
        if let Some(why) = &tls_extension_note {
            // Chrome counts SCTs from the TLS extension; certready could not see them.
            chrome.compliance = Compliance::Undetermined;
            chrome.reason = format!(
                "{}; the server may deliver more in the TLS extension, which certready could not ask for ({why})",
                chrome.reason
            );
        }
    }
    CtReport {
        position: input.leaf.info.position,
        required: input.required,
        log_list: input.logs.describe(),
        log_list_current: current,
        valid_scts: verified.len(),
        chrome,
        apple: judge(policy::apple),
        scts: infos,
        tls_extension,
        tls_extension_note,
    }
}

/// An SCT certready cannot check, taken at its word: from a usable, unsharded log of
/// its own operator (never verified against: it has no key).
fn stand_in(sct: &sct::Sct) -> log_list::Log {
    log_list::Log {
        id: sct.log_id,
        key: Vec::new(),
        description: String::new(),
        operator: format!("unknown operator {}", crate::chain::hex(&sct.log_id[..4])),
        state: LogState::Usable,
        state_since: (sct.timestamp / 1000) as i64,
        interval: None,
    }
}

/// The findings a public chain's CT gives: SCTs that do not verify, logs certready does
/// not know, and a policy a client enforces that the certificate fails.
pub fn findings(ct: &CtReport, out: &mut Vec<Finding>) {
    if !ct.required {
        return;
    }
    let position = Some(ct.position);
    let describe = |s: &SctInfo| {
        let log = s.log.clone().unwrap_or_else(|| format!("log {}", s.log_id));
        format!("{} SCT from {log}", s.origin.name())
    };
    let invalid: Vec<String> = ct
        .scts
        .iter()
        .filter_map(|s| match s.status {
            SctStatus::InvalidSignature => {
                Some(format!("{} (its signature does not verify)", describe(s)))
            }
            SctStatus::FutureTimestamp => Some(format!(
                "{} (timestamped {}, in the future)",
                describe(s),
                s.timestamp.as_deref().unwrap_or_default()
            )),
            SctStatus::Malformed => Some(format!("an {} SCT that does not parse", s.origin.name())),
            _ => None,
        })
        .collect();
    if !invalid.is_empty() {
        out.push(Finding::new(
            FindingId::CtSctInvalid,
            position,
            format!(
                "{} of the leaf's SCTs {} not count: {}. Chrome and Apple ignore such SCTs.",
                invalid.len(),
                if invalid.len() == 1 { "does" } else { "do" },
                invalid.join("; ")
            ),
        ));
    }
    let unknown: Vec<&SctInfo> = ct
        .scts
        .iter()
        .filter(|s| s.status == SctStatus::UnknownLog)
        .collect();
    if !unknown.is_empty() {
        let names: Vec<String> = unknown
            .iter()
            .map(|s| match (&s.log, s.log_state) {
                (Some(log), Some(state)) => {
                    format!("{log} ({}, {})", state.name(), s.origin.name())
                }
                _ => format!("{} ({})", s.log_id, s.origin.name()),
            })
            .collect();
        let mut finding = Finding::new(
            FindingId::CtUnknownLog,
            position,
            if ct.log_list_current {
                format!(
                    "{} SCT{} from logs not in the CT log list ({}): {}. Clients do not count them.",
                    names.len(),
                    if names.len() == 1 { " comes" } else { "s come" },
                    ct.log_list,
                    names.join(", ")
                )
            } else {
                format!(
                    "{} SCT{} from logs not in certready's CT log list ({}, more than 70 days older than the instant judged): {}. They may be from logs added since; pass a current list with --ct-log-list to check them.",
                    names.len(),
                    if names.len() == 1 { " comes" } else { "s come" },
                    ct.log_list,
                    names.join(", ")
                )
            },
        );
        if !ct.log_list_current {
            finding.severity = Severity::Info;
        }
        out.push(finding);
    }
    let failing: Vec<String> = [
        ("Chrome", &ct.chrome),
        ("Apple (flytectl on macOS)", &ct.apple),
    ]
    .into_iter()
    .filter(|(_, p)| p.compliance == Compliance::NotCompliant)
    .map(|(who, p)| format!("{who}: {}", p.reason))
    .collect();
    if !failing.is_empty() {
        out.push(Finding::new(
            FindingId::CtInsufficientScts,
            position,
            format!(
                "The leaf does not meet Certificate Transparency policy ({} valid SCT{}). {}.",
                ct.valid_scts,
                if ct.valid_scts == 1 { "" } else { "s" },
                failing.join(". ")
            ),
        ));
    }
}

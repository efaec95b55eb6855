//! Certificate Transparency: the leaf's SCTs — embedded in the certificate, in the
//! stapled OCSP response, and in the TLS extension (asked for over TLS 1.2 by
//! `probe::tls_scts`, as rustls no longer can) — each verified against the CT log lists
//! (log id, key, state, shard), then counted by Chrome's policy against Chrome's list and
//! by Apple's against Apple's (`policy`). Only chains anchored in a public root need CT; a
//! private CA's never do.
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
    /// From a log the list does not have, or has but does not trust: pending, rejected,
    /// without a state, or not a production log (`log_type` test, monitoring_only).
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
    /// The log's description, when a list has it (Chrome's first).
    pub log: Option<String>,
    /// Its current operator.
    pub operator: Option<String>,
    /// Its `log_type` when not a production log ("test", "monitoring_only").
    pub log_type: Option<String>,
    /// Its state in Chrome's list (null when absent, or listed without a state).
    pub log_state: Option<LogState>,
    /// RFC 3339 (null when the SCT does not parse).
    pub timestamp: Option<String>,
    /// What verifying it against Chrome's list found.
    pub status: SctStatus,
    /// Its state in Apple's list.
    pub apple_log_state: Option<LogState>,
    /// What verifying it against Apple's list found.
    pub apple_status: SctStatus,
    /// Why each list does not count it, when it does not (for the findings).
    #[serde(skip)]
    pub not_counted: NotCounted,
}

/// Why a list does not count an SCT from a log it lacks or does not trust.
#[derive(Debug, Clone, Default)]
pub struct NotCounted {
    pub chrome: Option<Unknown>,
    pub apple: Option<Unknown>,
}

#[derive(Debug, Clone)]
pub struct Unknown {
    /// "not in the list", "rejected", "a test log, not a production log", …
    pub reason: String,
    /// The list is older than the instant judged by more than 70 days and the log may
    /// have been added or qualified since.
    pub maybe_newer: bool,
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
    /// The log list the SCTs were checked against for Chrome.
    pub log_list: String,
    /// The list is recent enough (70 days, as Chrome) that a log it lacks is unknown to the
    /// clients too.
    pub log_list_current: bool,
    /// The log list the SCTs were checked against for Apple.
    pub apple_log_list: String,
    /// As `log_list_current`, for Apple's list (dated by its newest entry when it states
    /// no date).
    pub apple_log_list_current: bool,
    pub scts: Vec<SctInfo>,
    /// Whether SCTs in the TLS extension were asked for, and what came back.
    pub tls_extension: TlsExtensionCheck,
    /// Why the TLS extension could not be asked for, when it could not.
    pub tls_extension_note: Option<String>,
    /// SCTs whose signature verified, from logs Chrome's list trusts.
    pub valid_scts: usize,
    /// Chrome's policy (the browser verdict).
    pub chrome: PolicyResult,
    /// Apple's policy over Apple's list, with the SCTs trustd gets through Go: the
    /// embedded ones (flytectl on macOS).
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
    /// Chrome's log list.
    pub logs: &'a LogList,
    /// Apple's log list.
    pub apple_logs: &'a LogList,
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
    let mut chrome = Tally::new(input.logs, input.at);
    let mut apple = Tally::new(input.apple_logs, input.at);
    for (origin, parsed) in &found {
        let Ok(sct) = parsed else {
            infos.push(SctInfo {
                origin: *origin,
                log_id: String::new(),
                log: None,
                operator: None,
                log_type: None,
                log_state: None,
                timestamp: None,
                status: SctStatus::Malformed,
                apple_log_state: None,
                apple_status: SctStatus::Malformed,
                not_counted: NotCounted::default(),
            });
            continue;
        };
        let chrome_log = input.logs.find(&sct.log_id);
        let apple_log = input.apple_logs.find(&sct.log_id);
        // Either list's entry: the id is the key's hash, so their keys are the same.
        let listed = chrome_log.or(apple_log);
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
        // None: no key, or nothing to verify against (the issuer is unknown).
        let signature = match (&entry, listed) {
            (Some(entry), Some(log)) if sct.version == 0 => Some(sct::verify(sct, entry, &log.key)),
            _ => None,
        };
        let seen = Seen {
            sct,
            origin: *origin,
            timestamp,
            signature,
            future: sct.timestamp > (input.at.max(0) as u64).saturating_mul(1000),
        };
        let (status, chrome_unknown) = chrome.add(&seen, chrome_log);
        let (apple_status, apple_unknown) = apple.add(&seen, apple_log);
        infos.push(SctInfo {
            origin: *origin,
            log_id: b64.encode(sct.log_id),
            log: listed.map(|l| l.description.clone()),
            operator: listed.map(|l| l.operator.clone()),
            log_type: listed.and_then(|l| l.log_type.clone()),
            log_state: chrome_log.and_then(|l| l.state),
            timestamp: Some(crate::chain::rfc3339(timestamp)),
            status,
            apple_log_state: apple_log.and_then(|l| l.state),
            apple_status,
            not_counted: NotCounted {
                chrome: chrome_unknown,
                apple: apple_unknown,
            },
        });
    }
    let validity = policy::Validity {
        not_before: input.leaf.info.facts.not_before,
        not_after: input.leaf.info.facts.not_after,
    };
    let mut chrome_result = chrome.judge(policy::chrome, validity);
    if chrome_result.compliance == Compliance::NotCompliant {
        if let Some(why) = &tls_extension_note {
            // Chrome counts SCTs from the TLS extension; certready could not see them.
            chrome_result.compliance = Compliance::Undetermined;
            chrome_result.reason = format!(
                "{}; the server may deliver more in the TLS extension, which certready could not ask for ({why})",
                chrome_result.reason
            );
        }
    }
    CtReport {
        position: input.leaf.info.position,
        required: input.required,
        log_list: input.logs.describe(),
        log_list_current: chrome.current,
        apple_log_list: input.apple_logs.describe(),
        apple_log_list_current: apple.current,
        valid_scts: chrome.verified.len(),
        chrome: chrome_result,
        apple: apple.judge(policy::apple, validity),
        scts: infos,
        tls_extension,
        tls_extension_note,
    }
}

/// One parsed SCT, verified once (the key is the same in every list that has the log).
struct Seen<'s> {
    sct: &'s sct::Sct,
    origin: SctOrigin,
    /// Unix seconds.
    timestamp: i64,
    /// Whether the log's key verifies it; None when it could not be checked.
    signature: Option<bool>,
    future: bool,
}

/// The SCTs as one client's list sees them.
struct Tally<'l> {
    logs: &'l LogList,
    at: i64,
    current: bool,
    verified: Vec<policy::Counted<'l>>,
    /// SCTs certready cannot judge, counted as if valid to see whether they could matter.
    stand_ins: Vec<(log_list::Log, SctOrigin, i64)>,
}

type PolicyFn = fn(&[policy::Counted<'_>], policy::Validity, i64) -> PolicyResult;

impl<'l> Tally<'l> {
    fn new(logs: &'l LogList, at: i64) -> Self {
        Tally {
            logs,
            at,
            current: logs.timely_at(at),
            verified: Vec::new(),
            stand_ins: Vec::new(),
        }
    }

    /// The SCT's status by this list, and why the list does not count it when the log is
    /// missing or untrusted there.
    fn add(
        &mut self,
        seen: &Seen<'_>,
        log: Option<&'l log_list::Log>,
    ) -> (SctStatus, Option<Unknown>) {
        let trusted = log.filter(|l| l.trusted());
        let status = if seen.sct.version != 0 {
            SctStatus::Malformed
        } else if trusted.is_none() {
            SctStatus::UnknownLog
        } else if seen.future {
            SctStatus::FutureTimestamp
        } else {
            match seen.signature {
                Some(true) => SctStatus::Valid,
                Some(false) => SctStatus::InvalidSignature,
                None => SctStatus::Unverifiable,
            }
        };
        let mut unknown = None;
        match (status, trusted) {
            (SctStatus::Valid, Some(log)) => self.verified.push(policy::Counted {
                log,
                origin: seen.origin,
                timestamp: seen.timestamp,
            }),
            (SctStatus::Unverifiable, Some(log)) => {
                self.stand_ins
                    .push((log.clone(), seen.origin, seen.timestamp))
            }
            (SctStatus::UnknownLog, _) => {
                // A log missing from a stale list, or pending there, may count by now,
                // unless its key already shows the SCT forged.
                let maybe_newer = !self.current
                    && seen.signature != Some(false)
                    && log.is_none_or(log_list::Log::may_qualify_later);
                if maybe_newer {
                    self.stand_ins
                        .push((stand_in(seen, log), seen.origin, seen.timestamp));
                }
                unknown = Some(Unknown {
                    reason: match log {
                        None => "not in the list".into(),
                        Some(log) => log.untrusted_reason().unwrap_or_default(),
                    },
                    maybe_newer,
                });
            }
            _ => {}
        }
        (status, unknown)
    }

    /// `policy` over the verified SCTs; undetermined when only SCTs certready cannot judge
    /// would make up the difference.
    fn judge(&self, policy: PolicyFn, validity: policy::Validity) -> PolicyResult {
        let mut result = policy(&self.verified, validity, self.at);
        if result.compliance == Compliance::NotCompliant && !self.stand_ins.is_empty() {
            let doubtful: Vec<policy::Counted<'_>> = self
                .verified
                .iter()
                .copied()
                .chain(
                    self.stand_ins
                        .iter()
                        .map(|(log, origin, timestamp)| policy::Counted {
                            log,
                            origin: *origin,
                            timestamp: *timestamp,
                        }),
                )
                .collect();
            if policy(&doubtful, validity, self.at).compliance == Compliance::Compliant {
                result.compliance = Compliance::Undetermined;
                result.reason = format!(
                    "{}; SCTs certready cannot check (logs missing from its list or pending there, {}) may make up the difference",
                    result.reason,
                    self.logs.describe()
                );
            }
        }
        result
    }
}

/// An SCT certready cannot check, taken at its word: from a usable, unsharded log of its
/// own operator (never verified against: it has no key), or from the pending log the list
/// has, as if it had qualified since.
fn stand_in(seen: &Seen<'_>, listed: Option<&log_list::Log>) -> log_list::Log {
    match listed {
        Some(log) => log_list::Log {
            state: Some(LogState::Usable),
            state_since: seen.timestamp,
            ..log.clone()
        },
        None => log_list::Log {
            id: seen.sct.log_id,
            key: Vec::new(),
            description: String::new(),
            operator: format!(
                "unknown operator {}",
                crate::chain::hex(&seen.sct.log_id[..4])
            ),
            previous_operators: Vec::new(),
            state: Some(LogState::Usable),
            state_since: seen.timestamp,
            interval: None,
            log_type: None,
        },
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
        .filter_map(|s| {
            // Either list's verdict: one may not trust the log the other verified against.
            let status = match s.status {
                SctStatus::InvalidSignature | SctStatus::FutureTimestamp | SctStatus::Malformed => {
                    s.status
                }
                _ => s.apple_status,
            };
            match status {
                SctStatus::InvalidSignature => {
                    Some(format!("{} (its signature does not verify)", describe(s)))
                }
                SctStatus::FutureTimestamp => Some(format!(
                    "{} (timestamped {}, in the future)",
                    describe(s),
                    s.timestamp.as_deref().unwrap_or_default()
                )),
                SctStatus::Malformed => {
                    Some(format!("an {} SCT that does not parse", s.origin.name()))
                }
                _ => None,
            }
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
    let same_list = ct.log_list == ct.apple_log_list;
    let mut maybe_newer = 0;
    let names: Vec<String> = ct
        .scts
        .iter()
        .filter_map(|s| {
            let (chrome, apple) = (&s.not_counted.chrome, &s.not_counted.apple);
            let why = match (chrome, apple) {
                (None, None) => return None,
                (Some(c), Some(a)) if c.reason == a.reason => c.reason.clone(),
                _ => [("Chrome's list", chrome), ("Apple's list", apple)]
                    .into_iter()
                    .filter_map(|(list, u)| u.as_ref().map(|u| format!("{list}: {}", u.reason)))
                    .collect::<Vec<_>>()
                    .join("; "),
            };
            // Informational only when no list is sure about it.
            if [chrome, apple].into_iter().flatten().all(|u| u.maybe_newer) {
                maybe_newer += 1;
            }
            let log = s.log.clone().unwrap_or_else(|| s.log_id.clone());
            Some(format!("{log} ({why}; {})", s.origin.name()))
        })
        .collect();
    if !names.is_empty() {
        let lists = if same_list {
            ct.log_list.clone()
        } else {
            format!("Chrome: {}; Apple: {}", ct.log_list, ct.apple_log_list)
        };
        let mut message = format!(
            "{} SCT{} from logs a client's CT log list lacks or does not trust ({lists}): {}. That client does not count {}.",
            names.len(),
            if names.len() == 1 { " comes" } else { "s come" },
            names.join(", "),
            if names.len() == 1 { "it" } else { "them" },
        );
        if maybe_newer > 0 {
            message.push_str(
                " The list is more than 70 days older than the instant judged: a log it lacks, or has as pending, may have been added or qualified since; pass a current list with --ct-log-list to check them.",
            );
        }
        let mut finding = Finding::new(FindingId::CtUnknownLog, position, message);
        if maybe_newer == names.len() {
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

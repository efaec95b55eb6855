//! The two CT policies, over SCTs already verified (Chrome's against Chrome's log list,
//! Apple's against Apple's):
//!
//! - Chrome's `ChromeCTPolicyEnforcer::CheckCTPolicyCompliance`
//!   (chromium components/certificate_transparency/chrome_ct_policy_enforcer.cc, commit
//!   06cb01009b5e04a403817bcd9477ff710e51d0a4): SCTs delivered by TLS from a log not
//!   retired, plus SCTs from two operators (stapled OCSP SCTs are ignored since Chromium's
//!   CertificateTransparencyIgnoreOcspScts, checked against Chromium 156); or an embedded
//!   SCT from a log not retired, two operators, and embedded SCTs from distinct logs: 2
//!   for a lifetime of 180 days or less, 3 beyond (a retired log's counts if it was retired
//!   after the SCT and after the issuance, the earliest SCT). An SCT's operator is the one
//!   that ran its log at the SCT's timestamp (`GetOperatorForLog`, `previous_operators`).
//! - Apple's `SecPolicyCheckCT` (Security trust/trustd/CertificateTransparency.m,
//!   `verify_tls_ct_policy` and `verify_embedded_sct_policy_v1/_v2`) with the per-operator
//!   limit of Apple's published policy (support.apple.com/103214: at most 1 SCT per
//!   operator counts for 180 days or less, 2 beyond). Go hands trustd neither TLS nor
//!   OCSP SCTs (crypto/x509/root_darwin.go), so for flytectl only embedded SCTs count.

use serde::Serialize;

use super::log_list::{Log, LogState};
use super::SctOrigin;

const DAY: i64 = 86_400;
/// `verify_tls_ct_policy`: 640656000.0, 21 April 2021 00:00:00 UTC.
const APPLE_POLICY_V2_FROM: i64 = 1_618_963_200;

/// Whether a certificate meets a policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Compliance {
    Compliant,
    NotCompliant,
    /// Only SCTs certready cannot judge (a log newer than its list, or no issuer key to
    /// verify with) would make up the difference: the client may accept it.
    Undetermined,
}

/// A policy's answer, and why.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyResult {
    pub compliance: Compliance,
    /// SCTs (distinct logs) the policy counted towards its requirement.
    pub counted: usize,
    /// How many it requires for this certificate.
    pub required: usize,
    pub reason: String,
}

/// A verified SCT as the policies see it.
#[derive(Debug, Clone, Copy)]
pub struct Counted<'a> {
    pub log: &'a Log,
    pub origin: SctOrigin,
    /// Unix seconds.
    pub timestamp: i64,
}

/// The certificate's validity, Unix seconds.
#[derive(Debug, Clone, Copy)]
pub struct Validity {
    pub not_before: i64,
    pub not_after: i64,
}

fn retired_at(log: &Log) -> Option<i64> {
    (log.state == Some(LogState::Retired)).then_some(log.state_since)
}

/// Chrome's policy at `now` over `scts`.
pub fn chrome(scts: &[Counted<'_>], validity: Validity, now: i64) -> PolicyResult {
    // Chromium 156 ignores SCTs in a stapled OCSP response (feature
    // CertificateTransparencyIgnoreOcspScts, on by default: a real headless Chromium refuses
    // a leaf whose only SCTs are stapled, and accepts it with the feature disabled; Chrome's
    // CT policy dropped OCSP delivery in GoogleChrome/CertificateTransparency#64).
    let scts: Vec<Counted<'_>> = scts
        .iter()
        .filter(|c| c.origin != SctOrigin::Ocsp)
        .copied()
        .collect();
    let scts = scts.as_slice();
    let disqualified = |c: &Counted<'_>| retired_at(c.log).filter(|&at| now >= at);
    let issuance = scts
        .iter()
        .filter(|c| disqualified(c).is_none())
        .map(|c| c.timestamp)
        .min()
        .unwrap_or(i64::MAX);
    let mut valid_embedded = false;
    let mut valid_nonembedded = false;
    let mut embedded_logs: Vec<[u8; 32]> = Vec::new();
    let mut operators: Vec<&str> = Vec::new();
    for sct in scts {
        let dq = disqualified(sct);
        if dq.is_some() && sct.origin != SctOrigin::Embedded {
            continue;
        }
        if sct.origin != SctOrigin::Embedded {
            valid_nonembedded = true;
        } else {
            valid_embedded |= dq.is_none();
            let counts = match dq {
                None => true,
                Some(at) => issuance < at && sct.timestamp < at,
            };
            if counts && !embedded_logs.contains(&sct.log.id) {
                embedded_logs.push(sct.log.id);
            }
        }
        // The operator that ran the log when it signed the SCT (GetOperatorForLog).
        let operator = sct.log.operator_at(sct.timestamp);
        if !operators.contains(&operator) {
            operators.push(operator);
        }
    }
    let diverse = operators.len() >= 2;
    let required = if validity.not_after - validity.not_before > 180 * DAY {
        3
    } else {
        2
    };
    let result = |compliance, counted, required, reason: String| PolicyResult {
        compliance,
        counted,
        required,
        reason,
    };
    if valid_nonembedded && diverse {
        return result(
            Compliance::Compliant,
            operators.len(),
            2,
            "SCTs delivered in the TLS extension from two log operators".into(),
        );
    }
    let operators_text = match operators.len() {
        0 => "no log operator".to_string(),
        1 => format!("one log operator ({})", operators[0]),
        n => format!("{n} log operators"),
    };
    if !valid_embedded {
        return result(
            Compliance::NotCompliant,
            embedded_logs.len(),
            required,
            if valid_nonembedded {
                format!("Chrome needs SCTs from two log operators; the valid ones come from {operators_text}")
            } else {
                "Chrome needs at least one valid embedded SCT from a log that is not retired; there is none".into()
            },
        );
    }
    if !diverse {
        return result(
            Compliance::NotCompliant,
            embedded_logs.len(),
            required,
            format!("Chrome needs SCTs from two log operators; the valid ones come from {operators_text}"),
        );
    }
    if embedded_logs.len() >= required {
        return result(
            Compliance::Compliant,
            embedded_logs.len(),
            required,
            format!(
                "{} embedded SCTs from distinct logs of {operators_text} (required: {required})",
                embedded_logs.len()
            ),
        );
    }
    result(
        Compliance::NotCompliant,
        embedded_logs.len(),
        required,
        format!(
            "Chrome needs {required} embedded SCTs from distinct logs for a lifetime {} 180 days; {} valid",
            if required == 3 { "over" } else { "of at most" },
            embedded_logs.len()
        ),
    )
}

/// Apple's policy at `now` over the embedded SCTs among `scts` (through Go, trustd sees
/// no other).
pub fn apple(scts: &[Counted<'_>], validity: Validity, now: i64) -> PolicyResult {
    // getSCTValidatingLog / isSCTValidForLogData: not from the future, not after the log
    // went read-only, the certificate's notAfter within the log's shard.
    let usable = |c: &&Counted<'_>| {
        c.origin == SctOrigin::Embedded
            && c.timestamp <= now
            && !(c.log.state == Some(LogState::Readonly) && c.timestamp > c.log.state_since)
            && c.log
                .interval
                .is_none_or(|(start, end)| validity.not_after >= start && validity.not_after < end)
    };
    // The earliest SCT per log (addValidatingLog).
    let mut logs: Vec<(&Log, i64)> = Vec::new();
    for sct in scts.iter().filter(usable) {
        match logs.iter_mut().find(|(log, _)| log.id == sct.log.id) {
            Some((_, at)) => *at = (*at).min(sct.timestamp),
            None => logs.push((sct.log, sct.timestamp)),
        }
    }
    let current: Vec<&(&Log, i64)> = logs
        .iter()
        .filter(|(log, _)| retired_at(log).is_none())
        .collect();
    let lifetime = validity.not_after - validity.not_before;
    let (required, per_operator) = if validity.not_before < APPLE_POLICY_V2_FROM {
        let months =
            crate::verifiers::apple::months_between(validity.not_before, validity.not_after);
        let required = match months {
            m if m < 15 => 2,
            m if m <= 27 => 3,
            m if m <= 39 => 4,
            _ => 5,
        };
        (required, usize::MAX)
    } else if lifetime <= 180 * DAY {
        (2, 1)
    } else if lifetime <= 825 * DAY {
        (3, 2)
    } else {
        (4, usize::MAX)
    };
    let result = |compliance, counted, reason: String| PolicyResult {
        compliance,
        counted,
        required,
        reason,
    };
    if current.is_empty() {
        return result(
            Compliance::NotCompliant,
            0,
            "Apple needs at least one valid embedded SCT from a log that is not retired (through Go, trustd sees only the embedded ones); there is none".into(),
        );
    }
    let issuance = current.iter().map(|(_, at)| *at).min().unwrap_or(now);
    // Once or currently qualified logs, at most `per_operator` per operator.
    let mut per: Vec<(&str, usize)> = Vec::new();
    let mut counted = 0;
    for (log, at) in &logs {
        let qualified = match retired_at(log) {
            None => true,
            Some(retired) => *at < retired && issuance < retired,
        };
        if !qualified {
            continue;
        }
        let entry = match per.iter_mut().find(|(op, _)| *op == log.operator) {
            Some(entry) => entry,
            None => {
                per.push((&log.operator, 0));
                per.last_mut().expect("just pushed")
            }
        };
        if entry.1 < per_operator {
            entry.1 += 1;
            counted += 1;
        }
    }
    let capped = if per_operator == usize::MAX {
        String::new()
    } else {
        format!(", at most {per_operator} per log operator")
    };
    if counted >= required {
        result(
            Compliance::Compliant,
            counted,
            format!("{counted} embedded SCTs from distinct logs{capped} (required: {required})"),
        )
    } else {
        result(
            Compliance::NotCompliant,
            counted,
            format!(
                "Apple needs {required} embedded SCTs from distinct logs{capped} for this lifetime; {counted} count"
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(n: u8, operator: &str, state: LogState, since: i64) -> Log {
        Log {
            id: [n; 32],
            key: Vec::new(),
            description: format!("log {n}"),
            operator: operator.into(),
            previous_operators: Vec::new(),
            state: Some(state),
            state_since: since,
            interval: None,
            log_type: None,
        }
    }

    const NOW: i64 = 1_800_000_000;
    const ISSUED: i64 = NOW - 10 * DAY;

    fn days(lifetime: i64) -> Validity {
        Validity {
            not_before: ISSUED,
            not_after: ISSUED + lifetime * DAY,
        }
    }

    fn sct(log: &Log, origin: SctOrigin) -> Counted<'_> {
        Counted {
            log,
            origin,
            timestamp: ISSUED,
        }
    }

    #[test]
    fn chrome_counts_distinct_logs_by_lifetime_and_wants_two_operators() {
        let (a1, a2, b1) = (
            log(1, "A", LogState::Usable, 0),
            log(2, "A", LogState::Usable, 0),
            log(3, "B", LogState::Usable, 0),
        );
        let e = SctOrigin::Embedded;
        let of = |scts: &[Counted<'_>], lifetime| chrome(scts, days(lifetime), NOW).compliance;
        assert_eq!(of(&[sct(&a1, e), sct(&b1, e)], 180), Compliance::Compliant);
        assert_eq!(
            of(&[sct(&a1, e), sct(&b1, e)], 181),
            Compliance::NotCompliant
        );
        assert_eq!(
            of(&[sct(&a1, e), sct(&a2, e)], 90),
            Compliance::NotCompliant
        );
        // The same log twice is one.
        assert_eq!(
            of(&[sct(&a1, e), sct(&a1, e), sct(&b1, e)], 181),
            Compliance::NotCompliant
        );
        // SCTs in a stapled OCSP response no longer count (Chromium 156).
        assert_eq!(
            of(&[sct(&a1, e), sct(&b1, SctOrigin::Ocsp)], 90),
            Compliance::NotCompliant
        );
        assert_eq!(
            of(&[sct(&a1, SctOrigin::Ocsp), sct(&b1, SctOrigin::Ocsp)], 90),
            Compliance::NotCompliant
        );
        // A log retired after issuance still counts for embedded SCTs; before, not.
        let late = log(4, "C", LogState::Retired, ISSUED + DAY);
        let early = log(5, "C", LogState::Retired, ISSUED - DAY);
        assert_eq!(
            of(&[sct(&a1, e), sct(&b1, e), sct(&late, e)], 181),
            Compliance::Compliant
        );
        assert_eq!(
            of(&[sct(&a1, e), sct(&b1, e), sct(&early, e)], 181),
            Compliance::NotCompliant
        );
    }

    #[test]
    fn chrome_counts_the_operator_in_effect_at_each_scts_timestamp() {
        let e = SctOrigin::Embedded;
        let a = log(1, "A", LogState::Usable, 0);
        // Log 2 is A's now, but was B's until a day after the SCTs.
        let mut moved = log(2, "A", LogState::Usable, 0);
        moved.previous_operators = vec![("B".into(), ISSUED + DAY)];
        let of = |scts: &[Counted<'_>]| chrome(scts, days(90), NOW);
        let result = of(&[sct(&a, e), sct(&moved, e)]);
        assert_eq!(
            result.compliance,
            Compliance::Compliant,
            "{}",
            result.reason
        );
        // An SCT from the end of B's operation on is A's: one operator.
        let late = Counted {
            timestamp: ISSUED + DAY,
            ..sct(&moved, e)
        };
        let result = of(&[sct(&a, e), late]);
        assert_eq!(result.compliance, Compliance::NotCompliant);
        assert!(
            result.reason.contains("one log operator (A)"),
            "{}",
            result.reason
        );
        // And the other way round: a log that joined A's operator later counted as B's.
        let mut joined = log(3, "A", LogState::Usable, 0);
        joined.previous_operators = vec![("B".into(), ISSUED + DAY)];
        let b = log(4, "B", LogState::Usable, 0);
        assert_eq!(
            of(&[sct(&b, e), sct(&joined, e)]).compliance,
            Compliance::NotCompliant
        );
    }

    #[test]
    fn apple_caps_scts_per_operator_and_counts_embedded_ones_only() {
        let (a1, a2, b1) = (
            log(1, "A", LogState::Usable, 0),
            log(2, "A", LogState::Usable, 0),
            log(3, "B", LogState::Usable, 0),
        );
        let e = SctOrigin::Embedded;
        let of = |scts: &[Counted<'_>], lifetime| {
            let r = apple(scts, days(lifetime), NOW);
            (r.compliance, r.counted, r.required)
        };
        // 180 days or less: one per operator.
        assert_eq!(
            of(&[sct(&a1, e), sct(&a2, e)], 90),
            (Compliance::NotCompliant, 1, 2)
        );
        assert_eq!(
            of(&[sct(&a1, e), sct(&b1, e)], 90),
            (Compliance::Compliant, 2, 2)
        );
        // Beyond: three, two per operator.
        assert_eq!(
            of(&[sct(&a1, e), sct(&a2, e), sct(&b1, e)], 200),
            (Compliance::Compliant, 3, 3)
        );
        // Through Go trustd never sees an OCSP SCT.
        assert_eq!(
            of(&[sct(&a1, e), sct(&b1, SctOrigin::Ocsp)], 90).0,
            Compliance::NotCompliant
        );
        // An SCT after the log went read-only does not count.
        let frozen = log(4, "C", LogState::Readonly, ISSUED - DAY);
        assert_eq!(of(&[sct(&a1, e), sct(&frozen, e)], 90).1, 1);
    }
}

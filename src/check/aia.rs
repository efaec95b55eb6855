//! The AIA step of a check: when no store trusts the sent chain because an issuer is
//! missing, fetch it as browsers and macOS do (`probe::aia`), then tell in the
//! `incomplete-chain` finding which clients that rescues and which it does not.

use crate::chain::{Cert, CertInfo, CertSource};
use crate::clients::{AiaFetched, ClientVerdict};
use crate::findings::{Finding, FindingId};
use crate::probe::aia::{self, AiaOutcome};
use crate::report::PathSummary;
use crate::trust::{self, TrustStore};

use super::Settings;

/// The certificate whose issuer to fetch: the top of the leaf's path, when no store
/// trusts the chain, its issuer is missing (`path.missing_issuer`) and it names a
/// caIssuers URL. None in the common case, a complete chain, which so costs nothing.
pub(super) fn requester<'a>(certs: &'a [Cert], path: &PathSummary) -> Option<&'a Cert> {
    path.missing_issuer.as_ref()?;
    let &top = path.positions.last()?;
    certs
        .iter()
        .find(|c| c.info.position == top)
        .filter(|c| !c.info.ca_issuers_urls.is_empty())
}

/// Fetches the issuers of `top` (see `probe::aia::fetch_issuers`), stopping at one whose
/// issuer is an anchor of `stores`.
pub(super) async fn fetch(top: &Cert, stores: &[TrustStore], settings: &Settings) -> AiaOutcome {
    aia::fetch_issuers(top, &settings.probe, |cert| {
        trust::anchor_named(stores, &cert.info.facts.issuer_der).is_some()
    })
    .await
}

/// `fetch` for a caller without an async runtime (`inspect` reads files synchronously):
/// on a thread of its own, so it works whether or not the caller is inside a runtime.
pub(super) fn fetch_blocking(top: &Cert, stores: &[TrustStore], settings: &Settings) -> AiaOutcome {
    let outcome = std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()?;
                Some(runtime.block_on(fetch(top, stores, settings)))
            })
            .join()
            .ok()
            .flatten()
    });
    outcome.unwrap_or_else(|| AiaOutcome {
        fetched: Vec::new(),
        notes: vec!["could not start the fetch (no async runtime)".into()],
    })
}

/// The fetched issuers as the client models and the report take them, numbered after the
/// `presented` certificates.
pub(super) fn fetched(outcome: Option<&AiaOutcome>, presented: usize) -> Vec<AiaFetched> {
    let Some(outcome) = outcome else {
        return Vec::new();
    };
    outcome
        .fetched
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let mut cert = f.cert.clone();
            cert.info.position = presented + i;
            cert.info.source = CertSource::Aia;
            cert.info.url = Some(f.url.clone());
            AiaFetched {
                cert,
                url: f.url.clone(),
                redirected: f.redirected_to.is_some(),
            }
        })
        .collect()
}

pub(super) fn infos(fetched: &[AiaFetched]) -> Vec<CertInfo> {
    fetched.iter().map(|f| f.cert.info.clone()).collect()
}

/// Adds to the `incomplete-chain` finding what AIA changes: which clients the fetched
/// issuer rescues (they refused without it and accept with it) and which still refuse;
/// why nothing was fetched; or that no client can fetch anything.
pub(super) fn explain_in_finding(
    findings: &mut [Finding],
    top: Option<&Cert>,
    outcome: Option<&AiaOutcome>,
    settings: &Settings,
    without: &[ClientVerdict],
    with: &[ClientVerdict],
) {
    let Some(finding) = findings
        .iter_mut()
        .find(|f| f.id == FindingId::IncompleteChain)
    else {
        return;
    };
    let Some(top) = top else {
        return;
    };
    let text = match (top.info.ca_issuers_urls.first(), outcome) {
        (None, _) => {
            "It names no AIA caIssuers URL, so no client can fetch the issuer: every client refuses.".to_string()
        }
        (Some(_), None) if !settings.aia_fetch => {
            "certready did not fetch it (--no-fetch): browsers and macOS would, and only they could be rescued by it.".to_string()
        }
        (Some(_), None) => return,
        (Some(_), Some(outcome)) if outcome.fetched.is_empty() => format!(
            "certready could not fetch it as browsers and macOS would: {}. No client is rescued.",
            if outcome.notes.is_empty() {
                "nothing usable was served".to_string()
            } else {
                outcome.notes.join("; ")
            }
        ),
        (Some(_), Some(outcome)) => {
            let first = &outcome.fetched[0];
            let rescued: Vec<&ClientVerdict> = with
                .iter()
                .filter(|v| v.accepts && refused(without, v))
                .collect();
            let refusing: Vec<&ClientVerdict> = with.iter().filter(|v| !v.accepts).collect();
            let mut text = format!(
                "certready fetched \"{}\" from {}, as browsers and macOS do: ",
                first.cert.info.subject, first.url
            );
            if rescued.is_empty() {
                text.push_str("it rescues no client");
            } else {
                text.push_str(&format!(
                    "AIA rescues {}: they fetch it and accept",
                    grouped(&rescued)
                ));
            }
            if !refusing.is_empty() {
                text.push_str(&format!("; {} still refuse", grouped(&refusing)));
            }
            text.push('.');
            text
        }
    };
    finding.message.push(' ');
    finding.message.push_str(&text);
}

/// `verdict`'s client and channel refused in `without`.
fn refused(without: &[ClientVerdict], verdict: &ClientVerdict) -> bool {
    without
        .iter()
        .any(|v| v.client == verdict.client && v.channel == verdict.channel && !v.accepts)
}

/// "browser (https), flytectl-macos (grpc, oauth-http)".
fn grouped(verdicts: &[&ClientVerdict]) -> String {
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for verdict in verdicts {
        let client = verdict.client.name();
        match groups.iter_mut().find(|(name, _)| *name == client) {
            Some((_, channels)) => channels.push(verdict.channel.name()),
            None => groups.push((client, vec![verdict.channel.name()])),
        }
    }
    groups
        .iter()
        .map(|(client, channels)| format!("{client} ({})", channels.join(", ")))
        .collect::<Vec<_>>()
        .join(", ")
}

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
use crate::probe::ProbeOptions;

/// At most this many certificates of a path have their issuers fetched (each fetch is
/// bounded by `probe::aia`'s own hop and time limits).
const MAX_REQUESTERS: usize = 3;

/// The certificates whose issuers to fetch, in the order the clients fetch them, when no
/// store trusts the sent chain because an issuer is missing (`path.missing_issuer`): the
/// top of the leaf's path first, then each certificate below it down to the leaf. Browsers
/// and macOS backtrack along a path that fails and fetch every certificate's caIssuers:
/// BoringSSL pki's `CertIssuersIter::GetNextIssuer` asks its async (AIA) source for a
/// certificate once the sent issuers are exhausted, and trustd extends every partial path
/// with `kSecCAIssuerSource` (`SecPathBuilderGetNext`) — so a sent intermediate that leads
/// nowhere does not hide the leaf's own caIssuers URL. Only certificates naming a URL; at
/// most [`MAX_REQUESTERS`]. Empty in the common case, a complete chain, which costs nothing.
pub fn requesters<'a>(certs: &'a [Cert], path: &PathSummary) -> Vec<&'a Cert> {
    let find = |position: usize| certs.iter().find(|c| c.info.position == position);
    // A leaf trusted as an anchor itself: Chromium's path builder takes a trust anchor in
    // the leaf position as unspecified and looks for its issuer all the same, fetching
    // it (differential seed 53).
    let trusted_leaf_alone = match path.positions.as_slice() {
        [leaf] => find(*leaf).is_some_and(|c| !c.info.self_signed),
        _ => false,
    };
    if path.missing_issuer.is_none() && !trusted_leaf_alone {
        return Vec::new();
    }
    path.positions
        .iter()
        .rev()
        .filter_map(|&position| find(position))
        .filter(|c| !c.info.ca_issuers_urls.is_empty())
        .take(MAX_REQUESTERS)
        .collect()
}

/// Fetches the issuers of each of `requesters` in turn (see `probe::aia::fetch_issuers`),
/// stopping once a fetch reaches a certificate whose issuer is an anchor of `stores` (a
/// client would have its path then, and backtrack no further). One outcome: the fetched
/// certificates in order, each once, and every note.
pub async fn fetch_along(
    requesters: &[Cert],
    stores: &[TrustStore],
    options: &ProbeOptions,
) -> AiaOutcome {
    let anchored = |cert: &Cert| trust::anchor_named(stores, &cert.info.facts.issuer_der).is_some();
    let mut outcome = AiaOutcome::default();
    let mut asked: Vec<&str> = Vec::new();
    // The whole step keeps the one-certificate bound, however many are asked.
    let deadline = tokio::time::Instant::now() + options.timeout * aia::MAX_HOPS as u32;
    for requester in requesters {
        let urls = &requester.info.ca_issuers_urls;
        // Two certificates naming the same URL ask it once.
        if urls.iter().all(|url| asked.contains(&url.as_str())) {
            continue;
        }
        asked.extend(urls.iter().map(String::as_str));
        let round = match tokio::time::timeout_at(
            deadline,
            aia::fetch_issuers(requester, options, anchored),
        )
        .await
        {
            Ok(round) => round,
            Err(_) => {
                outcome.notes.push(format!(
                    "the AIA step's {} were spent before the issuer of \"{}\" could be fetched",
                    humantime::format_duration(options.timeout * aia::MAX_HOPS as u32),
                    requester.info.display_name()
                ));
                break;
            }
        };
        let reached_anchor = round.fetched.last().is_some_and(|f| anchored(&f.cert));
        for fetched in round.fetched {
            if !outcome
                .fetched
                .iter()
                .any(|f| f.cert.der == fetched.cert.der)
            {
                outcome.fetched.push(fetched);
            }
        }
        outcome.notes.extend(round.notes);
        if reached_anchor {
            break;
        }
    }
    outcome
}

/// `fetch_along` for a caller without an async runtime (`inspect` reads files
/// synchronously): on a thread of its own, so it works whether or not the caller is inside
/// a runtime.
pub(super) fn fetch_along_blocking(
    requesters: &[Cert],
    stores: &[TrustStore],
    options: &ProbeOptions,
) -> AiaOutcome {
    let outcome = std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()?;
                Some(runtime.block_on(fetch_along(requesters, stores, options)))
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

//! The revocation step of a check: the stapled OCSP response judged for the leaf, then —
//! unless off (`--no-revocation`) — each certificate on the path asked of its issuer's
//! OCSP responder, and of its CRL when OCSP gives no usable answer. Every request is
//! bounded by `--revocation-timeout` and a size limit, the whole step by twice that
//! timeout (the certificates are asked at once), and answers are kept (bounded) until
//! their nextUpdate so that `serve` and fleets do not ask the same responder again.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use crate::chain::Cert;
use crate::probe::http;
use crate::report::PathSummary;
use crate::revocation::{self, crl, ocsp, CertRevocation, CrlResult, Issuer, OcspResult};
use crate::trust::TrustStore;

use super::Settings;

/// How revocation is checked in a run.
#[derive(Debug, Clone)]
pub struct RevocationSettings {
    /// Ask OCSP responders and CRL distribution points (the stapled response is always
    /// judged: it needs no network).
    pub fetch: bool,
    /// Per request.
    pub timeout: Duration,
}

impl Default for RevocationSettings {
    fn default() -> Self {
        RevocationSettings {
            fetch: false,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(4);

/// Answers kept across checks of one process, by request.
const CACHE_CAPACITY: usize = 1024;
/// An answer without a nextUpdate is kept this long.
const CACHE_DEFAULT_SECONDS: i64 = 3600;

#[derive(Clone)]
enum Cached {
    Body(Vec<u8>),
    Failed(String, bool),
}

type Cache = HashMap<(String, Vec<u8>), (i64, Cached)>;

static CACHE: Mutex<Option<Cache>> = Mutex::new(None);

fn cached(url: &str, request: &[u8], now: i64) -> Option<Cached> {
    let cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
    cache
        .as_ref()?
        .get(&(url.to_string(), request.to_vec()))
        .filter(|(until, _)| *until > now)
        .map(|(_, answer)| answer.clone())
}

fn remember(url: &str, request: &[u8], until: i64, answer: Cached) {
    let mut cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
    let cache = cache.get_or_insert_with(HashMap::new);
    if cache.len() >= CACHE_CAPACITY {
        cache.clear();
    }
    cache.insert((url.to_string(), request.to_vec()), (until, answer));
}

/// The certificates of the path with their issuers: each is issued by the next, the
/// last by an anchor of `stores` (self-signed ones are not asked about).
pub(super) fn subjects<'a>(
    certs: &'a [Cert],
    path: &PathSummary,
    stores: &[TrustStore],
) -> Vec<(&'a Cert, Issuer)> {
    let on_path: Vec<&Cert> = path
        .positions
        .iter()
        .filter_map(|p| certs.iter().find(|c| c.info.position == *p))
        .collect();
    let mut out = Vec::new();
    for (i, cert) in on_path.iter().enumerate() {
        if cert.info.self_signed {
            continue;
        }
        let issuer = match on_path.get(i + 1) {
            Some(next) => Some(Issuer {
                name_der: next.info.facts.subject_der.clone(),
                spki_der: next.info.facts.spki_der.clone(),
            }),
            None => anchor_issuer(cert, stores),
        };
        if let Some(issuer) = issuer {
            out.push((*cert, issuer));
        }
    }
    out
}

/// The anchor of `stores` that issued `cert` (its name, and its key verifies the
/// signature).
fn anchor_issuer(cert: &Cert, stores: &[TrustStore]) -> Option<Issuer> {
    let wanted = crate::trust::sequence_content(&cert.info.facts.issuer_der)?;
    stores
        .iter()
        .flat_map(|s| s.anchors.iter())
        .filter(|a| a.subject.as_ref() == wanted)
        .map(|a| Issuer {
            name_der: cert.info.facts.issuer_der.clone(),
            spki_der: crate::der::sequence(a.subject_public_key_info.as_ref()),
        })
        .find(|issuer| cert.signed_by(&issuer.spki_der))
}

/// Judges the stapled response for the leaf and, when fetching is on, asks responders and
/// CRLs; one entry per certificate of the path with a known issuer.
pub(super) async fn check(
    subjects: &[(&Cert, Issuer)],
    leaf_position: usize,
    stapled: Option<&[u8]>,
    settings: &Settings,
) -> Vec<CertRevocation> {
    let now = settings.now();
    let work = subjects.iter().map(|(cert, issuer)| async move {
        let mut r = CertRevocation::new(cert.info.position, cert.info.must_staple);
        if cert.info.position == leaf_position {
            r.stapled = stapled.map(|body| ocsp::evaluate(body, None, cert, issuer, now));
        }
        let stapled_conclusive = r.stapled.as_ref().is_some_and(|s| {
            s.error.is_none() && !s.stale && s.status != Some(revocation::CertState::Unknown)
        });
        if settings.revocation.fetch && !stapled_conclusive {
            ask(&mut r, cert, issuer, settings, now).await;
        }
        r.settle();
        r
    });
    let limit = settings.revocation.timeout * 2 + Duration::from_millis(500);
    match tokio::time::timeout(limit, futures_util::future::join_all(work)).await {
        Ok(all) => all,
        // Unreachable in practice (each request has its own timeout); still bounded.
        Err(_) => subjects
            .iter()
            .map(|(cert, _)| {
                let mut r = CertRevocation::new(cert.info.position, cert.info.must_staple);
                r.ocsp = cert.info.ocsp_urls.first().map(|u| {
                    OcspResult::unreachable(
                        u,
                        format!("timed out after {}", humantime::format_duration(limit)),
                    )
                });
                r.settle();
                r
            })
            .collect(),
    }
}

/// OCSP first (the first http URL); the CRL when OCSP gives no usable answer.
async fn ask(r: &mut CertRevocation, cert: &Cert, issuer: &Issuer, settings: &Settings, now: i64) {
    if let Some(url) = first_http(&cert.info.ocsp_urls) {
        r.ocsp = Some(match ocsp::request(cert, issuer) {
            Ok(request) => {
                match fetch(url, Some(&request), ocsp::MAX_RESPONSE_BYTES, settings, now).await {
                    Ok(body) => ocsp::evaluate(&body, Some(url), cert, issuer, now),
                    Err((why, _)) => OcspResult::unreachable(url, why),
                }
            }
            Err(why) => OcspResult::unreachable(url, format!("cannot build the request: {why}")),
        });
    }
    r.settle();
    if matches!(
        r.status,
        revocation::RevocationStatus::Good | revocation::RevocationStatus::Revoked
    ) {
        return;
    }
    if let Some(url) = first_http(&cert.info.crl_urls) {
        r.crl = Some(
            match fetch(url, None, crl::MAX_CRL_BYTES, settings, now).await {
                Ok(body) => crl::evaluate(&body, url, cert, issuer, now),
                Err((why, too_large)) => CrlResult::unreachable(url, why, too_large),
            },
        );
    }
}

fn first_http(urls: &[String]) -> Option<&str> {
    urls.iter().map(String::as_str).find(|u| {
        u.get(..7)
            .is_some_and(|s| s.eq_ignore_ascii_case("http://"))
    })
}

/// One request (POST of an OCSP request, or GET of a CRL), from the cache when a recent
/// answer is there. Err carries why, and whether the answer was too large.
async fn fetch(
    url: &str,
    ocsp_request: Option<&[u8]>,
    max_bytes: usize,
    settings: &Settings,
    now: i64,
) -> Result<Vec<u8>, (String, bool)> {
    let key = ocsp_request.unwrap_or_default();
    if let Some(answer) = cached(url, key, now) {
        return match answer {
            Cached::Body(body) => Ok(body),
            Cached::Failed(why, too_large) => Err((why, too_large)),
        };
    }
    let timeout = settings.revocation.timeout;
    let request = http::Request {
        url,
        post: ocsp_request.map(|body| ("application/ocsp-request", body.to_vec())),
        max_bytes,
        larger_than_anything: if ocsp_request.is_some() {
            "more than any OCSP response"
        } else {
            "more than certready reads of a CRL"
        },
    };
    let answer = match tokio::time::timeout(
        timeout,
        http::fetch(&request, &settings.probe, timeout),
    )
    .await
    {
        Err(_) => Err(format!(
            "timed out after {}",
            humantime::format_duration(timeout)
        )),
        Ok(answer) => answer.map(|a| a.body),
    };
    match answer {
        Ok(body) => {
            let until = next_update_of(&body, ocsp_request.is_some())
                .unwrap_or(now + CACHE_DEFAULT_SECONDS);
            remember(url, key, until.max(now + 60), Cached::Body(body.clone()));
            Ok(body)
        }
        Err(why) => {
            let too_large = why.contains("larger than");
            // A failure is not remembered long: the responder may be back soon.
            remember(url, key, now + 60, Cached::Failed(why.clone(), too_large));
            Err((why, too_large))
        }
    }
}

/// When an answer stops being current, to keep it in the cache until then.
fn next_update_of(body: &[u8], is_ocsp: bool) -> Option<i64> {
    use x509_parser::prelude::FromDer;
    if is_ocsp {
        ocsp::next_update(body)
    } else {
        x509_parser::revocation_list::CertificateRevocationList::from_der(body)
            .ok()
            .and_then(|(_, crl)| crl.next_update())
            .map(|t| t.timestamp())
    }
}

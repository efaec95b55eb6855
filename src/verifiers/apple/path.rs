//! trustd's path builder (Security, trust/trustd/SecTrustServer.c, `SecPathBuilder*`):
//! parents searched in the anchor sources first, then the parent sources in the order
//! `SecPathBuilderInit` adds them — the certificates sent, the keychains (taken as
//! empty: certready cannot see a Mac's keychain), then the AIA caIssuers source — each
//! source only once the previous ones produced no acceptable path. The first path the
//! policy accepts wins; when none does, the best-scoring path
//! (`SecCertificatePathVCScore`, trust/trustd/SecCertificateServer.c) is the one reported.

use std::sync::Arc;

use super::cert::AppleCert;
use super::checks::{self, Detail, PathView, Trust};

/// `MAX_CHAIN_LENGTH` and `MAX_NUM_CHAINS` of SecTrustServer.c.
const MAX_CHAIN_LENGTH: usize = 15;
const MAX_NUM_CHAINS: usize = 100;
/// `CA_ISSUERS_REQUEST_THRESHOLD` of SecCAIssuerRequest.m: a certificate with this many
/// caIssuers entries or more is not fetched for.
const CA_ISSUERS_REQUEST_THRESHOLD: usize = 10;

/// Where a certificate comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Sent,
    Anchor,
    Aia,
}

/// A certificate trustd can use, with how it is trusted.
pub struct Node {
    pub cert: Arc<AppleCert>,
    pub origin: Origin,
    pub trust: Trust,
}

/// The certificates of one evaluation: sent (leaf first), anchors, fetched over AIA.
pub struct Pool {
    pub nodes: Vec<Node>,
    /// The leaf's SCTs meet Apple's CT policy (see [`super::Options`]).
    pub ct_policy_met: bool,
}

/// The path trustd settles on and what its policy says about it.
pub struct Outcome {
    /// Node indices, leaf first.
    pub path: Vec<usize>,
    /// Empty when the path is accepted.
    pub details: Vec<Detail>,
}

impl Pool {
    /// How `cert` is trusted: by any anchor that is the same certificate (the system
    /// source wins for the policy's purposes, as the checks ask it first).
    fn trust_of(&self, cert: &AppleCert) -> Trust {
        let mut trust = Trust::default();
        for node in self.nodes.iter().filter(|n| n.origin == Origin::Anchor) {
            if node.cert.same(cert) {
                trust.system |= node.trust.system;
                trust.trust_settings |= node.trust.trust_settings;
            }
        }
        trust
    }

    fn is_anchor(&self, cert: &AppleCert) -> bool {
        let trust = self.trust_of(cert);
        trust.system || trust.trust_settings
    }

    fn view(&self, path: &[usize]) -> PathView<'_> {
        let certs: Vec<&AppleCert> = path.iter().map(|&i| &*self.nodes[i].cert).collect();
        let trust: Vec<Trust> = certs.iter().map(|c| self.trust_of(c)).collect();
        let anchored = certs.last().is_some_and(|c| self.is_anchor(c));
        PathView {
            certs,
            trust,
            anchored,
            ct_policy_met: self.ct_policy_met,
        }
    }

    /// The parents of `top` the sources offer, in source order: anchors (trust settings
    /// before the system store, as `SecPathBuilderInit` orders them), then the
    /// certificates sent, then those fetched over AIA when `with_aia` (and only for a
    /// certificate valid at `now` with an http caIssuers URL and fewer than ten
    /// entries: `SecCAIssuerCertificateSourceCopyParents`, `SecCAIssuerCopyParents`,
    /// TrustURLSessionDelegate's http-only fetch).
    fn parents(&self, top: &AppleCert, with_aia: bool, now: i64) -> Vec<usize> {
        let fetchable = top.valid_at(now)
            && top.ca_issuers.len() < CA_ISSUERS_REQUEST_THRESHOLD
            && top.ca_issuers.iter().any(|url| {
                url.get(..7)
                    .is_some_and(|s| s.eq_ignore_ascii_case("http://"))
            });
        let rank = |node: &Node| match node.origin {
            Origin::Anchor if node.trust.trust_settings => Some(0),
            Origin::Anchor => Some(1),
            Origin::Sent => Some(2),
            Origin::Aia if with_aia && fetchable => Some(3),
            Origin::Aia => None,
        };
        let mut parents: Vec<(u8, usize)> = self
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, node)| top.named_issuer(&node.cert))
            .filter_map(|(i, node)| rank(node).map(|r| (r, i)))
            .collect();
        parents.sort_by_key(|&(rank, i)| (rank, i));
        // A certificate both sent and trusted is one parent (found as the anchor).
        let mut unique: Vec<usize> = Vec::new();
        for (_, i) in parents {
            if !unique
                .iter()
                .any(|&u| self.nodes[u].cert.same(&self.nodes[i].cert))
            {
                unique.push(i);
            }
        }
        unique
    }

    /// Every path from the leaf the builder constructs, in the order it meets them:
    /// depth first, each partial path extended through the sources in order. Parents
    /// whose key does not verify the signature below are dropped, a path stops at a
    /// self-signed certificate, and no certificate appears twice.
    fn paths(&self, with_aia: bool, now: i64) -> Vec<Vec<usize>> {
        let mut out = vec![vec![0usize]];
        let mut stack = vec![vec![0usize]];
        while let Some(partial) = stack.pop() {
            let top = &self.nodes[*partial.last().unwrap_or(&0)].cert;
            if partial.len() >= MAX_CHAIN_LENGTH || out.len() > MAX_NUM_CHAINS {
                continue;
            }
            if partial.len() > 1 && top.is_self_signed() {
                continue;
            }
            let mut extended = Vec::new();
            for parent in self.parents(top, with_aia, now) {
                let candidate = &self.nodes[parent].cert;
                if partial.iter().any(|&i| self.nodes[i].cert.same(candidate)) {
                    continue;
                }
                if !top.signed_by(candidate) {
                    continue;
                }
                let mut path = partial.clone();
                path.push(parent);
                if out.contains(&path) {
                    continue;
                }
                out.push(path.clone());
                extended.push(path);
            }
            // Depth first, in source order: the first parent's paths come first.
            stack.extend(extended.into_iter().rev());
        }
        out
    }
}

/// trustd's evaluation: the first accepted path without AIA, else with AIA, else the
/// best-scoring path of all it built, with the policy's failures on it.
pub fn evaluate(pool: &Pool, host: &str, now: i64) -> Outcome {
    let has_aia = pool.nodes.iter().any(|n| n.origin == Origin::Aia);
    let phases: &[bool] = if has_aia { &[false, true] } else { &[false] };
    let mut all = Vec::new();
    for &with_aia in phases {
        all = pool.paths(with_aia, now);
        // Candidates (anchored paths) are validated as they are found.
        for path in all.iter().filter(|p| pool.view(p).anchored) {
            if checks::failures(&pool.view(path), host, now).is_empty() {
                return Outcome {
                    path: path.clone(),
                    details: Vec::new(),
                };
            }
        }
    }
    // Nothing accepted: SecPathBuilderReject kept the best score; anchored paths were
    // scored first, the partial ones last (considerPartials).
    let (anchored, partial): (Vec<&Vec<usize>>, Vec<&Vec<usize>>) =
        all.iter().partition(|p| pool.view(p).anchored);
    let mut best: Option<(i64, &Vec<usize>)> = None;
    for path in anchored.into_iter().chain(partial) {
        let score = score(pool, path, now);
        if best.is_none_or(|(b, _)| score > b) {
            best = Some((score, path));
        }
    }
    let path = best.map_or_else(|| vec![0], |(_, p)| p.clone());
    let details = checks::failures(&pool.view(&path), host, now);
    Outcome { path, details }
}

/// `SecCertificatePathVCScore`: anchored +10000; ending in a self-signed certificate
/// +1000 minus the length, else plus the length; all valid now +100; no weak hash below
/// an anchor +10; no RSA key under 2048 bits or EC key under 224 +10.
fn score(pool: &Pool, path: &[usize], now: i64) -> i64 {
    let view = pool.view(path);
    let count = view.certs.len() as i64;
    let mut score = 0;
    if view.anchored {
        score += 10_000;
    }
    let top = view.certs[view.certs.len() - 1];
    if top.is_self_signed() {
        score += 1_000 - count;
    } else {
        score += count;
    }
    if view.certs.iter().all(|c| c.valid_at(now)) {
        score += 100;
    }
    let hashed = if view.anchored {
        &view.certs[..view.certs.len() - 1]
    } else {
        &view.certs[..]
    };
    if !hashed.iter().any(|c| c.weak_hash()) {
        score += 10;
    }
    if view.certs.iter().all(|c| c.at_least(2048, 224)) {
        score += 10;
    }
    score
}

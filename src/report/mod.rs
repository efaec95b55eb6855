//! The report: everything one target or file produced, as data. Renderers only render.

pub mod recommend;

use serde::Serialize;

use crate::chain::CertInfo;
use crate::clients::ClientVerdict;
use crate::findings::{Finding, Severity};
use crate::probe::{ProbeErrorKind, TlsInfo};
use crate::trust::TrustVerdict;

/// Which fix a recommendation is (JSON's `recommendations[].id`, kebab-case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RecommendationId {
    AddMissingIntermediate,
    UsePublicCa,
    UsePrivateCaCorrectly,
    UseExternalOauthProvider,
    Renew,
    RemoveInsecureSkipVerify,
}

#[derive(Debug, Clone, Serialize)]
pub struct Recommendation {
    pub id: RecommendationId,
    pub title: String,
    pub text: String,
}

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warning,
    Critical,
    /// The check could not be completed.
    Unknown,
}

impl Status {
    /// Monitoring-plugin convention: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
    pub fn exit_code(self) -> i32 {
        match self {
            Status::Ok => 0,
            Status::Warning => 1,
            Status::Critical => 2,
            Status::Unknown => 3,
        }
    }

    /// The status worst findings of these severities give (no findings: OK).
    pub fn from_severities(severities: impl IntoIterator<Item = Severity>) -> Status {
        match severities.into_iter().max() {
            Some(Severity::Critical) => Status::Critical,
            Some(Severity::Warning) => Status::Warning,
            _ => Status::Ok,
        }
    }

    /// The worst of several statuses; UNKNOWN when there are none.
    pub fn worst(statuses: impl IntoIterator<Item = Status>) -> Status {
        statuses.into_iter().max().unwrap_or(Status::Unknown)
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::Warning => "WARNING",
            Status::Critical => "CRITICAL",
            Status::Unknown => "UNKNOWN",
        }
    }
}

/// The path from the leaf to a trust anchor as far as it could be built.
#[derive(Debug, Clone, Serialize, Default)]
pub struct PathSummary {
    /// Positions of the presented certificates, leaf first, each followed by its issuer.
    pub positions: Vec<usize>,
    /// Subject of the anchor the path ends in, when a store trusts it.
    pub anchor: Option<String>,
    /// The store holding that anchor.
    pub anchor_store: Option<String>,
    /// Subject of the issuer that is neither sent nor an anchor.
    pub missing_issuer: Option<String>,
}

/// Everything one target or file produced: the probe's facts, the chain as presented,
/// the path and a trust verdict per store, the findings, each client's verdict and the
/// ordered fixes, with a status (and exit code) settled from the findings. Built by
/// `check::check` / `check::inspect`; renderers only render it; its JSON form is the
/// published schema (docs/json-schema.md).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub target: String,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub status: Status,
    /// What this host is in a Flyte login (`certready flyte`); null elsewhere.
    pub role: Option<String>,
    pub error: Option<String>,
    pub error_kind: Option<ProbeErrorKind>,
    /// The address that was dialled (the proxy's, when tunnelling).
    pub address: Option<String>,
    /// The HTTP CONNECT proxy the probe went through, if any.
    pub proxy: Option<String>,
    /// Wall time of the whole check of this target (probe and analysis).
    pub duration_seconds: Option<f64>,
    pub tls: Option<TlsInfo>,
    pub chain: Vec<CertInfo>,
    /// Issuers fetched from AIA caIssuers URLs when the sent chain lacks one (source "aia").
    pub aia_fetched: Vec<CertInfo>,
    /// Why a caIssuers URL gave nothing usable, or what to know about what it gave.
    pub aia_notes: Vec<String>,
    pub path: PathSummary,
    pub trust: Vec<TrustVerdict>,
    pub findings: Vec<Finding>,
    /// What each client will say, per channel.
    pub clients: Vec<ClientVerdict>,
    /// Each certificate's revocation status (stapled OCSP, responder, CRL); empty when
    /// not checked (files).
    pub revocation: Vec<crate::revocation::CertRevocation>,
    /// The leaf's Certificate Transparency: its SCTs verified against the CT log list,
    /// and Chrome's and Apple's policies; null when there is no leaf.
    pub ct: Option<crate::ct::CtReport>,
    /// What to do, most effective first.
    pub recommendations: Vec<Recommendation>,
}

impl Report {
    pub fn failed(target: String, host: Option<String>, port: Option<u16>, error: String) -> Self {
        Report {
            target,
            host,
            port,
            status: Status::Unknown,
            role: None,
            error: Some(error),
            error_kind: None,
            address: None,
            proxy: None,
            duration_seconds: None,
            tls: None,
            chain: Vec::new(),
            aia_fetched: Vec::new(),
            aia_notes: Vec::new(),
            path: PathSummary::default(),
            trust: Vec::new(),
            findings: Vec::new(),
            clients: Vec::new(),
            revocation: Vec::new(),
            ct: None,
            recommendations: Vec::new(),
        }
    }

    /// Status from the findings, unless the check could not complete.
    pub fn settle_status(&mut self) {
        self.status = if self.error.is_some() {
            Status::Unknown
        } else {
            Status::from_severities(self.findings.iter().map(|f| f.severity))
        };
    }

    pub fn trusted(&self) -> bool {
        self.trust.iter().any(|v| v.trusted)
    }
}

#[derive(Debug, Serialize)]
pub struct Document<'a> {
    pub schema_version: u32,
    pub reports: &'a [Report],
    pub summary: Summary,
}

/// How many reports ended in each status.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub ok: usize,
    pub warning: usize,
    pub critical: usize,
    pub unknown: usize,
}

impl Summary {
    pub fn of(reports: &[Report]) -> Self {
        let mut summary = Summary::default();
        for report in reports {
            match report.status {
                Status::Ok => summary.ok += 1,
                Status::Warning => summary.warning += 1,
                Status::Critical => summary.critical += 1,
                Status::Unknown => summary.unknown += 1,
            }
        }
        summary
    }
}

pub fn worst_exit_code(reports: &[Report]) -> i32 {
    Status::worst(reports.iter().map(|r| r.status)).exit_code()
}

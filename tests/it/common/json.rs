//! Typed mirrors of the JSON documents certready prints, written from docs/json-schema.md
//! and checked against the real output. They are deliberately independent of certready's
//! own `Serialize` types: a test reads the published contract, not the implementation.
//!
//! Strict on purpose, so that schema drift fails loudly instead of yielding `Null`:
//! - `deny_unknown_fields` everywhere: a field added or renamed in the output without
//!   updating the mirror (and the doc) fails to parse;
//! - every `Option` field is `nullable`: certready prints null, it never omits a field
//!   (no `skip_serializing_if` in src/), so a field that disappears fails too;
//! - closed sets the tests compare often (status, severity, auth state) are enums;
//! - `Validate` checks what the doc says of the values (documented ids and kinds, store
//!   and client order, error exactly when unknown or refused, hex fingerprints, RFC 3339
//!   dates, the summary's counts …) on every document a test reads through `Run`.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

/// The schema version these mirrors describe.
pub const SCHEMA_VERSION: u32 = 1;

/// Present but possibly null. Plain `Option` fields would also accept a missing key.
fn nullable<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::deserialize(deserializer)
}

/// `check`, `inspect` and `demo`: `{schema_version, reports, summary}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Document {
    pub schema_version: u32,
    pub reports: Vec<Report>,
    pub summary: Summary,
}

/// How many reports ended in each status.
#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    pub ok: usize,
    pub warning: usize,
    pub critical: usize,
    pub unknown: usize,
}

/// `flyte`: `{schema_version, reports, flyte}` (no summary).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlyteDocument {
    pub schema_version: u32,
    pub reports: Vec<Report>,
    pub flyte: Flyte,
}

/// `lint-config`: `{schema_version, configs}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LintDocument {
    pub schema_version: u32,
    pub configs: Vec<LintConfig>,
}

/// `why`: `{schema_version, input, recognised, closest}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhyDocument {
    pub schema_version: u32,
    pub input: WhyInput,
    pub recognised: Vec<Recognised>,
    pub closest: Vec<Closest>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhyInput {
    pub bytes_read: usize,
    pub truncated: bool,
    pub limit_bytes: usize,
}

/// `recognised[]`: one error text found in the paste.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recognised {
    pub text: String,
    pub known_text: String,
    pub clients: Vec<PrintedBy>,
    #[serde(deserialize_with = "nullable")]
    pub host: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub port: Option<u16>,
    #[serde(deserialize_with = "nullable")]
    pub host_source: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub address: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub certificate_name: Option<String>,
    pub findings: Vec<WhyCause>,
    pub rules_out: Vec<Statement>,
    pub notes: Vec<Statement>,
    pub next: Vec<NextStep>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrintedBy {
    pub client: String,
    pub channel: String,
    pub verifier: String,
    #[serde(deserialize_with = "nullable")]
    pub condition: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhyCause {
    pub id: String,
    pub title: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    #[serde(deserialize_with = "nullable")]
    pub verifier: Option<String>,
    pub text: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NextStep {
    pub command: String,
    pub purpose: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Closest {
    pub known_text: String,
    pub similarity: f64,
    pub clients: Vec<PrintedBy>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warning,
    Critical,
    Unknown,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    Warning,
    Info,
}

/// One target (`check`), file (`inspect`) or host of a login (`flyte`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    pub target: String,
    #[serde(deserialize_with = "nullable")]
    pub host: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub port: Option<u16>,
    pub status: Status,
    #[serde(deserialize_with = "nullable")]
    pub role: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub error: Option<String>,
    /// `dns`, `refused`, `timeout`, … (docs/json-schema.md lists them).
    #[serde(deserialize_with = "nullable")]
    pub error_kind: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub address: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub proxy: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub duration_seconds: Option<f64>,
    #[serde(deserialize_with = "nullable")]
    pub tls: Option<Tls>,
    pub chain: Vec<Cert>,
    /// Issuers fetched from AIA caIssuers URLs (`source` "aia").
    pub aia_fetched: Vec<Cert>,
    /// What the AIA step could not fetch, or should say.
    pub aia_notes: Vec<String>,
    pub path: Path,
    pub trust: Vec<Trust>,
    pub findings: Vec<Finding>,
    pub clients: Vec<ClientVerdict>,
    /// Each certificate's revocation (empty for files).
    pub revocation: Vec<Revocation>,
    /// The leaf's Certificate Transparency (null without a leaf).
    #[serde(deserialize_with = "nullable")]
    pub ct: Option<Ct>,
    pub recommendations: Vec<Recommendation>,
}

/// `ct`: the leaf's SCTs and the two CT policies.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ct {
    pub position: usize,
    pub required: bool,
    pub log_list: String,
    pub log_list_current: bool,
    pub apple_log_list: String,
    pub apple_log_list_current: bool,
    pub scts: Vec<Sct>,
    /// `not-asked`, `delivered`, `absent`, `unavailable`.
    pub tls_extension: String,
    #[serde(deserialize_with = "nullable")]
    pub tls_extension_note: Option<String>,
    pub valid_scts: usize,
    pub chrome: CtPolicy,
    pub apple: CtPolicy,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sct {
    /// `embedded`, `ocsp`, `tls`.
    pub origin: String,
    pub log_id: String,
    #[serde(deserialize_with = "nullable")]
    pub log: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub operator: Option<String>,
    /// `test`, `monitoring_only`; null for a production log.
    #[serde(deserialize_with = "nullable")]
    pub log_type: Option<String>,
    /// `pending`, `qualified`, `usable`, `readonly`, `retired`, `rejected`.
    #[serde(deserialize_with = "nullable")]
    pub log_state: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub timestamp: Option<String>,
    /// `valid`, `invalid-signature`, `unknown-log`, `future-timestamp`, `malformed`,
    /// `unverifiable`.
    pub status: String,
    /// As `log_state`, in Apple's list.
    #[serde(deserialize_with = "nullable")]
    pub apple_log_state: Option<String>,
    /// As `status`, by Apple's list.
    pub apple_status: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CtPolicy {
    /// `compliant`, `not-compliant`, `undetermined`.
    pub compliance: String,
    pub counted: usize,
    pub required: usize,
    pub reason: String,
}

/// `revocation[]`: one certificate of the path.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Revocation {
    pub position: usize,
    /// `good`, `revoked`, `unknown`, `unchecked`.
    pub status: String,
    /// `stapled-ocsp`, `ocsp`, `crl`.
    #[serde(deserialize_with = "nullable")]
    pub source: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub revoked_at: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub reason: Option<String>,
    pub must_staple: bool,
    #[serde(deserialize_with = "nullable")]
    pub stapled: Option<OcspAnswer>,
    #[serde(deserialize_with = "nullable")]
    pub ocsp: Option<OcspAnswer>,
    #[serde(deserialize_with = "nullable")]
    pub crl: Option<CrlAnswer>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OcspAnswer {
    #[serde(deserialize_with = "nullable")]
    pub url: Option<String>,
    pub answered: bool,
    /// `good`, `revoked`, `unknown`.
    #[serde(deserialize_with = "nullable")]
    pub status: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub revoked_at: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub reason: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub this_update: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub next_update: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub produced_at: Option<String>,
    /// `valid`, `invalid`, `unverifiable`.
    #[serde(deserialize_with = "nullable")]
    pub signature: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub signer: Option<String>,
    pub stale: bool,
    #[serde(deserialize_with = "nullable")]
    pub error: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrlAnswer {
    pub url: String,
    pub answered: bool,
    #[serde(deserialize_with = "nullable")]
    pub bytes: Option<usize>,
    #[serde(deserialize_with = "nullable")]
    pub entries: Option<usize>,
    pub listed: bool,
    #[serde(deserialize_with = "nullable")]
    pub revoked_at: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub reason: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub this_update: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub next_update: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub signature: Option<String>,
    pub stale: bool,
    pub too_large: bool,
    #[serde(deserialize_with = "nullable")]
    pub error: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tls {
    pub version: String,
    pub cipher: String,
    #[serde(deserialize_with = "nullable")]
    pub alpn: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub key_exchange: Option<String>,
    pub handshake_ms: u64,
}

/// `chain[]`: one certificate as presented; `aia_fetched[]`: one fetched.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cert {
    pub position: usize,
    pub subject: String,
    pub issuer: String,
    #[serde(deserialize_with = "nullable")]
    pub common_name: Option<String>,
    pub serial: String,
    pub sha256: String,
    pub not_before: String,
    pub not_after: String,
    pub self_signed: bool,
    pub is_ca: bool,
    #[serde(deserialize_with = "nullable")]
    pub path_len_constraint: Option<u32>,
    pub key: String,
    pub signature_algorithm: String,
    pub dns_names: Vec<String>,
    pub ip_addresses: Vec<String>,
    pub key_usage: Vec<String>,
    /// Null when the extension is absent.
    #[serde(deserialize_with = "nullable")]
    pub extended_key_usage: Option<Vec<String>>,
    #[serde(deserialize_with = "nullable")]
    pub subject_key_id: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub authority_key_id: Option<String>,
    pub ocsp_urls: Vec<String>,
    pub ca_issuers_urls: Vec<String>,
    pub crl_urls: Vec<String>,
    pub must_staple: bool,
    pub sct_count: usize,
    pub unknown_critical_extensions: Vec<String>,
    /// `sent` or `aia`.
    pub source: String,
    /// The caIssuers URL it was fetched from; null when sent.
    #[serde(deserialize_with = "nullable")]
    pub url: Option<String>,
}

/// `path`: leaf to anchor, as far as it could be built.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Path {
    pub positions: Vec<usize>,
    #[serde(deserialize_with = "nullable")]
    pub anchor: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub anchor_store: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub missing_issuer: Option<String>,
}

/// `trust[]`: one store's verdict.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trust {
    /// `system`, `mozilla` or `ca-file`.
    pub store: String,
    pub trusted: bool,
    #[serde(deserialize_with = "nullable")]
    pub error: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub anchor: Option<String>,
    pub path: Vec<usize>,
    pub leaf_is_anchor: bool,
}

/// `findings[]` of a report and of `flyte`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    pub id: String,
    pub severity: Severity,
    #[serde(deserialize_with = "nullable")]
    pub certificate: Option<usize>,
    pub message: String,
    pub remediation: String,
}

/// `clients[]`: one client's predicted verdict on one channel.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientVerdict {
    pub client: String,
    pub channel: String,
    pub accepts: bool,
    #[serde(deserialize_with = "nullable")]
    pub error: Option<String>,
    pub causes: Vec<String>,
    #[serde(deserialize_with = "nullable")]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recommendation {
    pub id: String,
    pub title: String,
    pub text: String,
}

/// The `flyte` object of `certready flyte`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flyte {
    pub endpoint: String,
    #[serde(deserialize_with = "nullable")]
    pub grpc_alpn: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub healthcheck: Option<u16>,
    pub auth: Auth,
    #[serde(deserialize_with = "nullable")]
    pub cors: Option<Cors>,
    #[serde(deserialize_with = "nullable")]
    pub grpc_health: Option<GrpcHealth>,
    pub findings: Vec<Finding>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum AuthState {
    On,
    Off,
    Unknown,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Auth {
    pub state: AuthState,
    /// `built-in` or `external`.
    #[serde(deserialize_with = "nullable")]
    pub server: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub metadata: Option<OAuthMetadata>,
    #[serde(deserialize_with = "nullable")]
    pub client: Option<OAuthClient>,
    #[serde(deserialize_with = "nullable")]
    pub error: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuthMetadata {
    #[serde(deserialize_with = "nullable")]
    pub issuer: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub authorization_endpoint: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub token_endpoint: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub jwks_uri: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub device_authorization_endpoint: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuthClient {
    #[serde(deserialize_with = "nullable")]
    pub client_id: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub redirect_uri: Option<String>,
    pub scopes: Vec<String>,
    #[serde(deserialize_with = "nullable")]
    pub authorization_metadata_key: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cors {
    pub origin: String,
    pub url: String,
    #[serde(deserialize_with = "nullable")]
    pub status: Option<u16>,
    #[serde(deserialize_with = "nullable")]
    pub allow_origin: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub allow_headers: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub allow_credentials: Option<String>,
    /// `allowed`, `origin-not-allowed`, `header-not-allowed`, `method-not-allowed`,
    /// `rejected`, `unreachable`.
    pub verdict: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrpcHealth {
    #[serde(deserialize_with = "nullable")]
    pub http_status: Option<u16>,
    #[serde(deserialize_with = "nullable")]
    pub content_type: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub grpc_status: Option<u32>,
    #[serde(deserialize_with = "nullable")]
    pub grpc_message: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub serving: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub error: Option<String>,
}

/// `configs[]` of `lint-config`: one file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LintConfig {
    pub file: String,
    /// `flyteadmin`, `flytectl`, or null when neither.
    #[serde(deserialize_with = "nullable")]
    pub kind: Option<String>,
    pub status: Status,
    #[serde(deserialize_with = "nullable")]
    pub error: Option<String>,
    pub findings: Vec<LintFinding>,
    /// The `inspect` report of server.security.ssl.certificateFile.
    #[serde(deserialize_with = "nullable")]
    pub certificate: Option<Report>,
    /// Manifests: the objects read by kind.
    #[serde(deserialize_with = "nullable")]
    pub objects: Option<ObjectCounts>,
    pub document_errors: Vec<DocumentError>,
    pub certificates: Vec<SecretCertificate>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectCounts {
    pub documents: usize,
    pub linted: std::collections::BTreeMap<String, usize>,
    pub skipped: std::collections::BTreeMap<String, usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentError {
    pub document: usize,
    #[serde(deserialize_with = "nullable")]
    pub line: Option<usize>,
    #[serde(deserialize_with = "nullable")]
    pub column: Option<usize>,
    pub message: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretCertificate {
    pub object: String,
    #[serde(deserialize_with = "nullable")]
    pub host: Option<String>,
    pub referenced_by: Vec<String>,
    #[serde(deserialize_with = "nullable")]
    pub line: Option<usize>,
    pub report: Report,
}

/// A finding with the config key and line concerned.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LintFinding {
    pub id: String,
    pub severity: Severity,
    #[serde(deserialize_with = "nullable")]
    pub certificate: Option<usize>,
    pub message: String,
    pub remediation: String,
    #[serde(deserialize_with = "nullable")]
    pub key: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub line: Option<usize>,
    #[serde(deserialize_with = "nullable")]
    pub object: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub container: Option<String>,
}

/// The finding `id` among `findings`, or a panic naming the ids there are.
fn find<'a>(findings: &'a [Finding], id: &str) -> &'a Finding {
    findings.iter().find(|f| f.id == id).unwrap_or_else(|| {
        let ids: Vec<&str> = findings.iter().map(|f| f.id.as_str()).collect();
        panic!("no finding {id} among {ids:?}")
    })
}

impl Report {
    /// The ids of the findings, in order.
    pub fn finding_ids(&self) -> Vec<&str> {
        self.findings.iter().map(|f| f.id.as_str()).collect()
    }

    pub fn has_finding(&self, id: &str) -> bool {
        self.findings.iter().any(|f| f.id == id)
    }

    /// The first finding `id`; panics when there is none.
    pub fn finding(&self, id: &str) -> &Finding {
        find(&self.findings, id)
    }

    /// The verdict of `client` on `channel`; panics when there is none.
    pub fn client(&self, client: &str, channel: &str) -> &ClientVerdict {
        self.clients
            .iter()
            .find(|c| c.client == client && c.channel == channel)
            .unwrap_or_else(|| panic!("no {client}/{channel} verdict in {:#?}", self.clients))
    }

    /// Whether `store` (`system`, `mozilla`, `ca-file`) trusts the chain; false when absent.
    pub fn trusted_by(&self, store: &str) -> bool {
        self.trust.iter().any(|t| t.store == store && t.trusted)
    }

    pub fn recommendation_ids(&self) -> Vec<&str> {
        self.recommendations.iter().map(|r| r.id.as_str()).collect()
    }
}

impl Flyte {
    pub fn finding_ids(&self) -> Vec<&str> {
        self.findings.iter().map(|f| f.id.as_str()).collect()
    }

    pub fn has_finding(&self, id: &str) -> bool {
        self.findings.iter().any(|f| f.id == id)
    }

    /// The first Flyte finding `id`; panics when there is none.
    pub fn finding(&self, id: &str) -> &Finding {
        find(&self.findings, id)
    }
}

// What docs/json-schema.md says about the values, checked on every document a test reads
// (`Run::doc`, `Run::flyte_doc`, `Run::lint_doc`). Only documented facts are checked.

const ERROR_KINDS: &[&str] = &[
    "dns",
    "refused",
    "unreachable",
    "timeout",
    "reset",
    "closed",
    "plaintext-http",
    "http2-cleartext",
    "not-tls",
    "protocol-version",
    "tls-alert",
    "no-certificate",
    "too-large",
    "proxy",
    "proxy-auth",
    "tls",
    "io",
];
const STORES: &[&str] = &["system", "mozilla", "ca-file"];
/// Every client and channel, in the documented order.
const CLIENTS: &[(&str, &str)] = &[
    ("flytectl-macos", "grpc"),
    ("flytectl-macos", "oauth-http"),
    ("flytectl-linux", "grpc"),
    ("flytectl-linux", "oauth-http"),
    ("pyflyte", "grpc"),
    ("pyflyte", "oauth-http"),
    ("browser", "https"),
];
const RECOMMENDATIONS: &[&str] = &[
    "add-missing-intermediate",
    "use-public-ca",
    "use-private-ca-correctly",
    "use-external-oauth-provider",
    "renew",
    "remove-insecure-skip-verify",
];
const CORS_VERDICTS: &[&str] = &[
    "allowed",
    "origin-not-allowed",
    "header-not-allowed",
    "method-not-allowed",
    "rejected",
    "unreachable",
];
const SERVING: &[&str] = &["SERVING", "NOT_SERVING", "UNKNOWN", "SERVICE_UNKNOWN"];

fn one_of(value: &str, allowed: &[&str], what: &str) {
    assert!(
        allowed.contains(&value),
        "{what} {value:?} is not one of {allowed:?}"
    );
}

fn is_lower_hex(text: &str) -> bool {
    !text.is_empty() && text.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f'))
}

fn is_kebab_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn rfc3339(text: &str, what: &str) {
    let format = &time::format_description::well_known::Rfc3339;
    let parsed = time::OffsetDateTime::parse(text, format);
    assert!(parsed.is_ok(), "{what} {text:?} is not RFC 3339");
}

fn severity_rank(severity: Severity) -> u8 {
    match severity {
        Severity::Critical => 2,
        Severity::Warning => 1,
        Severity::Info => 0,
    }
}

/// A whole document, checked against what docs/json-schema.md says of its values.
pub trait Validate {
    fn validate(&self);
}

impl Validate for Document {
    fn validate(&self) {
        assert_eq!(self.schema_version, SCHEMA_VERSION);
        for report in &self.reports {
            report.validate();
        }
        let count = |status| self.reports.iter().filter(|r| r.status == status).count();
        let expected = Summary {
            ok: count(Status::Ok),
            warning: count(Status::Warning),
            critical: count(Status::Critical),
            unknown: count(Status::Unknown),
        };
        assert_eq!(
            self.summary, expected,
            "summary counts the reports' statuses"
        );
    }
}

impl Validate for FlyteDocument {
    fn validate(&self) {
        assert_eq!(self.schema_version, SCHEMA_VERSION);
        assert!(!self.reports.is_empty(), "admin's report comes first");
        for report in &self.reports {
            report.validate();
            assert!(report.role.is_some(), "every flyte report has a role");
        }
        self.flyte.validate();
    }
}

impl Validate for LintDocument {
    fn validate(&self) {
        assert_eq!(self.schema_version, SCHEMA_VERSION);
        for config in &self.configs {
            config.validate();
        }
    }
}

impl Report {
    fn validate(&self) {
        let context = &self.target;
        assert!(!self.target.is_empty());
        assert_eq!(
            self.status == Status::Unknown,
            self.error.is_some(),
            "{context}: status unknown exactly when error says why"
        );
        if let Some(kind) = &self.error_kind {
            one_of(kind, ERROR_KINDS, "error_kind");
        }
        if let Some(address) = &self.address {
            let parsed = address.parse::<std::net::SocketAddr>();
            assert!(parsed.is_ok(), "{context}: address {address:?}");
        }
        if let Some(proxy) = &self.proxy {
            assert!(
                !proxy.contains('@'),
                "{context}: proxy {proxy:?} without credentials"
            );
        }
        if let Some(seconds) = self.duration_seconds {
            assert!(seconds >= 0.0, "{context}: duration_seconds {seconds}");
            if let Some(tls) = &self.tls {
                let total_ms = seconds * 1000.0;
                assert!(
                    tls.handshake_ms as f64 <= total_ms + 1.0,
                    "{context}: a {} ms handshake within {total_ms} ms",
                    tls.handshake_ms
                );
            }
        }
        if let Some(tls) = &self.tls {
            one_of(&tls.version, &["TLSv1.3", "TLSv1.2"], "tls.version");
            assert!(!tls.cipher.is_empty());
            for value in [&tls.alpn, &tls.key_exchange].into_iter().flatten() {
                assert!(!value.is_empty(), "{context}: empty tls value");
            }
        }
        let positions: Vec<usize> = self.chain.iter().map(|c| c.position).collect();
        assert!(
            positions.windows(2).all(|w| w[0] < w[1]),
            "{context}: chain positions {positions:?} in sending order"
        );
        for cert in &self.chain {
            cert.validate();
            assert_eq!(
                cert.source, "sent",
                "{context}: chain[] holds what was sent"
            );
            assert!(
                cert.url.is_none(),
                "{context}: a sent certificate has no url"
            );
        }
        for (i, cert) in self.aia_fetched.iter().enumerate() {
            cert.validate();
            assert_eq!(cert.source, "aia", "{context}: aia_fetched[].source");
            let url = cert.url.as_deref().unwrap_or_default();
            assert!(
                url.starts_with("http://"),
                "{context}: fetched from {url:?}"
            );
            let first = self.aia_fetched[0].position;
            assert!(
                positions.iter().all(|&p| p < first) && cert.position == first + i,
                "{context}: fetched certificates are numbered after the sent ones"
            );
        }
        for note in &self.aia_notes {
            assert!(!note.is_empty(), "{context}: an empty AIA note");
        }
        for position in &self.path.positions {
            assert!(
                positions.contains(position),
                "{context}: path position {position}"
            );
        }
        assert_eq!(
            self.path.anchor.is_some(),
            self.path.anchor_store.is_some(),
            "{context}: path.anchor and its store"
        );
        if let Some(store) = &self.path.anchor_store {
            one_of(store, STORES, "path.anchor_store");
        }
        if let Some(missing) = &self.path.missing_issuer {
            assert!(!missing.is_empty());
        }
        let stores: Vec<&str> = self.trust.iter().map(|t| t.store.as_str()).collect();
        let order: Vec<&str> = STORES
            .iter()
            .copied()
            .filter(|s| stores.contains(s))
            .collect();
        assert_eq!(
            stores, order,
            "{context}: trust stores in the documented order"
        );
        for trust in &self.trust {
            assert_eq!(
                trust.trusted,
                trust.error.is_none(),
                "{context}: {} store: error exactly when not trusted",
                trust.store
            );
            assert_eq!(
                trust.trusted,
                trust.anchor.is_some(),
                "{context}: anchor when trusted"
            );
            assert!(
                !trust.leaf_is_anchor || trust.trusted,
                "{context}: leaf anchor"
            );
            for position in &trust.path {
                assert!(
                    positions.contains(position),
                    "{context}: trust path {position}"
                );
            }
        }
        let ranks: Vec<u8> = self
            .findings
            .iter()
            .map(|f| severity_rank(f.severity))
            .collect();
        assert!(
            ranks.windows(2).all(|w| w[0] >= w[1]),
            "{context}: findings most severe first: {:?}",
            self.finding_ids()
        );
        for finding in &self.findings {
            finding.validate();
        }
        let pairs: Vec<(&str, &str)> = self
            .clients
            .iter()
            .map(|c| (c.client.as_str(), c.channel.as_str()))
            .collect();
        let order: Vec<(&str, &str)> = CLIENTS
            .iter()
            .copied()
            .filter(|p| pairs.contains(p))
            .collect();
        assert_eq!(
            pairs, order,
            "{context}: documented clients, in order, once each"
        );
        for verdict in &self.clients {
            assert_eq!(
                verdict.accepts,
                verdict.error.is_none(),
                "{context}: {}/{}: error exactly when refused",
                verdict.client,
                verdict.channel
            );
            assert!(verdict.causes.iter().all(|id| is_kebab_id(id)));
            if let Some(note) = &verdict.note {
                assert!(!note.is_empty());
            }
        }
        for r in &self.revocation {
            r.validate(self.chain.len() + self.aia_fetched.len());
        }
        for recommendation in &self.recommendations {
            one_of(&recommendation.id, RECOMMENDATIONS, "recommendations[].id");
            assert!(
                !recommendation.title.is_empty() && !recommendation.title.contains('\n'),
                "{context}: a title is one line: {:?}",
                recommendation.title
            );
            assert!(!recommendation.text.is_empty());
        }
    }
}

impl Revocation {
    fn validate(&self, certificates: usize) {
        let context = format!("revocation of certificate #{}", self.position);
        assert!(
            self.position < certificates,
            "{context}: a certificate of the chain"
        );
        one_of(
            &self.status,
            &["good", "revoked", "unknown", "unchecked"],
            "revocation[].status",
        );
        if let Some(source) = &self.source {
            one_of(
                source,
                &["stapled-ocsp", "ocsp", "crl"],
                "revocation[].source",
            );
        }
        assert_eq!(
            self.source.is_some(),
            matches!(self.status.as_str(), "good" | "revoked"),
            "{context}: a source exactly when decided"
        );
        assert_eq!(
            self.revoked_at.is_some(),
            self.status == "revoked",
            "{context}"
        );
        assert!(
            self.reason.is_none() || self.status == "revoked",
            "{context}: a reason only when revoked"
        );
        assert!(
            !self.must_staple || self.position == 0 || self.stapled.is_none(),
            "{context}: must-staple concerns the leaf's staple"
        );
        for answer in self.stapled.iter().chain(&self.ocsp) {
            answer.validate(&context);
        }
        if let Some(crl) = &self.crl {
            assert!(
                crl.url.starts_with("http://"),
                "{context}: CRL URL {}",
                crl.url
            );
            assert!(
                crl.answered || crl.error.is_some(),
                "{context}: unanswered says why"
            );
            assert!(
                !crl.listed
                    || crl.revoked_at.is_some()
                    || crl.reason.is_some()
                    || crl.entries.is_some()
            );
            for field in [
                &crl.this_update,
                &crl.next_update,
                &crl.signature,
                &crl.reason,
            ] {
                assert!(field.as_ref().is_none_or(|f| !f.is_empty()));
            }
            assert!(!crl.stale || crl.next_update.is_some());
            assert!(!crl.too_large || !crl.answered);
            assert!(crl.bytes.is_none() || crl.answered);
        }
    }
}

impl OcspAnswer {
    fn validate(&self, context: &str) {
        if let Some(url) = &self.url {
            assert!(url.starts_with("http://"), "{context}: OCSP URL {url}");
        }
        assert!(
            self.answered || self.error.is_some(),
            "{context}: unanswered says why"
        );
        if let Some(status) = &self.status {
            one_of(
                status,
                &["good", "revoked", "unknown"],
                "revocation[].*.status",
            );
        }
        if let Some(signature) = &self.signature {
            one_of(
                signature,
                &["valid", "invalid", "unverifiable"],
                "revocation[].*.signature",
            );
        }
        assert_eq!(
            self.revoked_at.is_some(),
            self.status.as_deref() == Some("revoked"),
            "{context}"
        );
        assert!(self.reason.is_none() || self.revoked_at.is_some());
        for time in [&self.this_update, &self.next_update, &self.produced_at] {
            assert!(
                time.as_ref().is_none_or(|t| t.ends_with('Z')),
                "{context}: RFC 3339 UTC"
            );
        }
        assert!(!self.stale || self.next_update.is_some());
        assert!(self.signer.is_none() || self.signature.is_some() || self.error.is_some());
    }
}

impl Cert {
    fn validate(&self) {
        let context = format!("certificate #{}", self.position);
        assert!(
            !self.subject.is_empty() && !self.issuer.is_empty(),
            "{context}"
        );
        if self.self_signed {
            assert_eq!(self.subject, self.issuer, "{context}: self-signed");
        }
        if let Some(cn) = &self.common_name {
            assert!(self.subject.contains("CN="), "{context}: CN {cn:?}");
        }
        assert!(
            is_lower_hex(&self.serial),
            "{context}: serial {}",
            self.serial
        );
        assert!(
            self.sha256.len() == 64 && is_lower_hex(&self.sha256),
            "{context}: sha256 {}",
            self.sha256
        );
        rfc3339(&self.not_before, "not_before");
        rfc3339(&self.not_after, "not_after");
        if self.path_len_constraint.is_some() {
            assert!(self.is_ca, "{context}: a path length on a CA");
        }
        assert!(
            !self.key.is_empty() && !self.signature_algorithm.is_empty(),
            "{context}"
        );
        for ip in &self.ip_addresses {
            assert!(
                ip.parse::<std::net::IpAddr>().is_ok(),
                "{context}: IP {ip:?}"
            );
        }
        let usages = self.extended_key_usage.iter().flatten();
        for text in self.dns_names.iter().chain(&self.key_usage).chain(usages) {
            assert!(!text.is_empty(), "{context}: an empty name or usage");
        }
        for id in [&self.subject_key_id, &self.authority_key_id]
            .into_iter()
            .flatten()
        {
            assert!(is_lower_hex(id), "{context}: key id {id}");
        }
        for url in self
            .ocsp_urls
            .iter()
            .chain(&self.ca_issuers_urls)
            .chain(&self.crl_urls)
        {
            assert!(url.contains("://"), "{context}: URL {url:?}");
        }
        for oid in &self.unknown_critical_extensions {
            let dotted = oid.split('.').all(|arc| arc.parse::<u64>().is_ok());
            assert!(dotted, "{context}: OID {oid:?}");
        }
    }
}

impl Finding {
    fn validate(&self) {
        assert!(is_kebab_id(&self.id), "finding id {:?}", self.id);
        assert!(!self.message.is_empty(), "{}: a message", self.id);
        assert!(!self.remediation.is_empty(), "{}: a remediation", self.id);
        if let Some(position) = self.certificate {
            // Only the first 32 certificates are analysed (too-many-certificates).
            assert!(position < 32, "{}: certificate {position}", self.id);
        }
    }
}

impl Flyte {
    fn validate(&self) {
        assert!(!self.endpoint.is_empty());
        if let Some(alpn) = &self.grpc_alpn {
            assert!(!alpn.is_empty());
        }
        if let Some(status) = self.healthcheck {
            assert!((100..600).contains(&status), "healthcheck {status}");
        }
        let auth = &self.auth;
        if let Some(server) = &auth.server {
            one_of(server, &["built-in", "external"], "auth.server");
        }
        if auth.state == AuthState::Unknown {
            assert!(auth.error.is_some(), "auth unknown: error says why");
        }
        if let Some(metadata) = &auth.metadata {
            let urls = [
                &metadata.issuer,
                &metadata.authorization_endpoint,
                &metadata.token_endpoint,
                &metadata.jwks_uri,
                &metadata.device_authorization_endpoint,
            ];
            for url in urls.into_iter().flatten() {
                assert!(url.contains("://"), "metadata URL {url:?}");
            }
        }
        if let Some(client) = &auth.client {
            let values = [
                &client.client_id,
                &client.redirect_uri,
                &client.authorization_metadata_key,
            ];
            for value in values.into_iter().flatten().chain(&client.scopes) {
                assert!(!value.is_empty(), "an empty client config value");
            }
        }
        if let Some(cors) = &self.cors {
            one_of(&cors.verdict, CORS_VERDICTS, "cors.verdict");
            assert!(
                cors.origin.contains("://") && cors.url.starts_with("https://"),
                "{cors:?}"
            );
            if let Some(status) = cors.status {
                assert!((100..600).contains(&status), "cors.status {status}");
            }
            let headers = [
                &cors.allow_origin,
                &cors.allow_headers,
                &cors.allow_credentials,
            ];
            for value in headers.into_iter().flatten() {
                assert!(!value.is_empty(), "an empty CORS header in {cors:?}");
            }
        }
        if let Some(health) = &self.grpc_health {
            if let Some(serving) = &health.serving {
                one_of(serving, SERVING, "grpc_health.serving");
            }
            if health.http_status.is_none() {
                assert!(
                    health.error.is_some(),
                    "no answer: error says why: {health:?}"
                );
            }
            let texts = [&health.content_type, &health.grpc_message];
            for text in texts.into_iter().flatten() {
                assert!(!text.is_empty(), "{health:?}");
            }
        }
        for finding in &self.findings {
            finding.validate();
        }
    }
}

impl LintConfig {
    fn validate(&self) {
        let context = &self.file;
        assert!(!self.file.is_empty());
        match &self.kind {
            Some(kind) => one_of(
                kind,
                &[
                    "flyteadmin",
                    "flytectl",
                    "flyte-core-values",
                    "flyte-binary-values",
                    "manifests",
                ],
                "configs[].kind",
            ),
            None => assert!(
                self.error.is_some() && self.status == Status::Unknown,
                "{context}: no kind: unknown, and error says why"
            ),
        }
        if self.error.is_some() {
            assert_eq!(
                self.status,
                Status::Unknown,
                "{context}: an error is unknown"
            );
        }
        for lint in &self.findings {
            assert!(is_kebab_id(&lint.id), "{context}: id {:?}", lint.id);
            assert!(!lint.message.is_empty() && !lint.remediation.is_empty());
            if let Some(position) = lint.certificate {
                assert!(
                    position < 32,
                    "{context}: {}: certificate {position}",
                    lint.id
                );
            }
            if let Some(key) = &lint.key {
                assert!(
                    !key.is_empty() && !key.contains(' '),
                    "{context}: key {key:?}"
                );
            }
            if let Some(line) = lint.line {
                assert!(line >= 1, "{context}: lines are 1-based");
            }
        }
        if let Some(report) = &self.certificate {
            report.validate();
        }
    }
}

impl Validate for WhyDocument {
    fn validate(&self) {
        assert_eq!(self.schema_version, SCHEMA_VERSION);
        assert!(self.input.bytes_read <= self.input.limit_bytes);
        assert!(
            self.recognised.is_empty() || self.closest.is_empty(),
            "closest texts only when nothing was recognised"
        );
        let printed_by = |p: &PrintedBy| {
            assert!(
                CLIENTS.contains(&(p.client.as_str(), p.channel.as_str())),
                "{} {}",
                p.client,
                p.channel
            );
            assert!(!p.verifier.is_empty());
            assert!(p.condition.as_deref() != Some(""), "a condition or null");
        };
        for recognised in &self.recognised {
            let context = &recognised.text;
            assert!(!recognised.text.is_empty() && !recognised.text.contains('\n'));
            assert!(!recognised.known_text.is_empty());
            assert!(!recognised.clients.is_empty(), "{context}: who printed it");
            recognised.clients.iter().for_each(printed_by);
            assert!(
                recognised.host_source.is_some() == recognised.host.is_some(),
                "{context}: a host says where it comes from"
            );
            if recognised.port.is_some() {
                assert!(recognised.host.is_some(), "{context}: a port with a host");
            }
            for cause in &recognised.findings {
                assert!(is_kebab_id(&cause.id) && !cause.title.is_empty());
            }
            let ids: Vec<&str> = recognised.findings.iter().map(|f| f.id.as_str()).collect();
            let mut unique = ids.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(unique.len(), ids.len(), "{context}: findings once each");
            for statement in recognised.rules_out.iter().chain(&recognised.notes) {
                assert!(!statement.text.is_empty());
                if let Some(verifier) = &statement.verifier {
                    assert!(
                        recognised.clients.iter().any(|c| &c.verifier == verifier),
                        "{context}: a statement about {verifier}, who did not print it"
                    );
                }
            }
            assert!(!recognised.next.is_empty(), "{context}: a next step");
            for step in &recognised.next {
                assert!(step.command.starts_with("certready "), "{}", step.command);
                assert!(!step.purpose.is_empty());
            }
        }
        for closest in &self.closest {
            assert!((0.0..=1.0).contains(&closest.similarity));
            closest.clients.iter().for_each(printed_by);
        }
        let similarities: Vec<f64> = self.closest.iter().map(|c| c.similarity).collect();
        assert!(
            similarities.windows(2).all(|w| w[0] >= w[1]),
            "closest first: {similarities:?}"
        );
    }
}

/// Parses certready's JSON output as `T` and validates it; on a mismatch, panics with
/// serde's error (the field, line and column), `context` and the text.
pub fn parse<T: DeserializeOwned + Validate>(text: &str, context: &str) -> T {
    let document: T = serde_json::from_str(text).unwrap_or_else(|e| {
        panic!(
            "the JSON does not match the mirror in tests/it/common/json.rs: {e}\n{context}\n{text}"
        )
    });
    document.validate();
    document
}

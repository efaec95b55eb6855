//! Client verdicts: what flytectl (macOS and Linux), pyflyte and a browser will say
//! about the same chain, per channel, with the error text as each client prints it.
//! The rules and texts come from ../shared/reference/client-trust-rules.md (Apple
//! trustd, Go crypto/x509, grpcio/BoringSSL, OpenSSL via Python, Chrome); the Go and
//! Python models are checked against the real clients by tests/client_proof.rs.

use crate::chain::{rfc3339, Cert};
use crate::findings::FindingId;
use crate::rules::{APPLE_825_CUTOVER, DAY, MAX_398_SECONDS, MAX_825_SECONDS, PUBLIC_398_CUTOVER};
use crate::target::Host;
use crate::trust::{self, StoreKind, TrustStore};

mod context;

use context::Refusal;

pub use context::{
    AnchorKind, Channel, ClientContext, ClientName, ClientOptions, ClientVerdict, FlytectlSettings,
};

pub fn evaluate(ctx: &ClientContext<'_>) -> Vec<ClientVerdict> {
    if ctx.certs.is_empty() {
        return Vec::new();
    }
    let wanted =
        |client: ClientName| ctx.options.only.is_empty() || ctx.options.only.contains(&client);
    let mut out = Vec::new();
    if wanted(ClientName::FlytectlMacos) {
        out.push(flytectl_grpc(ctx, ClientName::FlytectlMacos));
        out.push(go_wrapped(
            ctx,
            ClientName::FlytectlMacos,
            Channel::OauthHttp,
            apple_verify(ctx),
        ));
    }
    if wanted(ClientName::FlytectlLinux) {
        out.push(flytectl_grpc(ctx, ClientName::FlytectlLinux));
        let system: Vec<&TrustStore> = ctx.store(StoreKind::System).into_iter().collect();
        let mut verdict = go_wrapped(
            ctx,
            ClientName::FlytectlLinux,
            Channel::OauthHttp,
            go_verify(ctx, &system),
        );
        if !verdict.accepts && ctx.store(StoreKind::CaFile).is_some() {
            verdict.note = Some(
                "flytectl's OAuth client ignores caCertFilePath and insecureSkipVerify: it trusts only the OS store (here: SSL_CERT_FILE/SSL_CERT_DIR or the distribution bundle)."
                    .into(),
            );
        }
        out.push(verdict);
    }
    if wanted(ClientName::Pyflyte) {
        out.push(pyflyte_grpc(ctx));
        out.push(pyflyte_oauth(ctx));
    }
    if wanted(ClientName::Browser) {
        out.push(browser(ctx));
    }
    out
}

// ---------------------------------------------------------------------------------
// Anchor pools and a Go-like chain walk shared by the models.

/// `cert` is itself an anchor of `pool` (same certificate, or same subject and key).
fn pool_contains(pool: &[&TrustStore], cert: &Cert) -> bool {
    let facts = &cert.info.facts;
    let (Some(subject), Some(spki)) = (
        trust::sequence_content(&facts.subject_der),
        trust::sequence_content(&facts.spki_der),
    ) else {
        return false;
    };
    pool.iter().any(|store| {
        store.anchor_certs.contains(&cert.der)
            || store.anchors.iter().any(|a| {
                a.subject.as_ref() == subject && a.subject_public_key_info.as_ref() == spki
            })
    })
}

/// An anchor of `pool` whose name is `cert`'s issuer and whose key verifies its signature.
fn pool_issuer(pool: &[&TrustStore], cert: &Cert) -> Option<String> {
    let issuer = trust::sequence_content(&cert.info.facts.issuer_der)?;
    pool.iter()
        .flat_map(|store| store.anchors.iter())
        .filter(|anchor| anchor.subject.as_ref() == issuer)
        .find(|anchor| cert.signed_by(&trust::anchor_spki_der(anchor)))
        .map(trust::anchor_subject)
}

#[derive(Debug)]
enum Walk {
    /// The leaf itself is an anchor.
    LeafAnchor,
    /// Reached an anchor.
    Anchored,
    /// A candidate issuer failed the verifier's own check of it (Go: expiry, path
    /// length), reported as it is rather than as a hint.
    Invalid(String),
    /// No anchor reachable.
    Untrusted {
        /// Why the verifier refused the issuer it tried last, if it did.
        hint: Option<Hint>,
        /// The last sent certificate's issuer is missing (neither sent nor an anchor).
        missing_issuer: bool,
    },
}

/// A refused issuer, as Go's "possibly because of" hint names it.
#[derive(Debug)]
struct Hint {
    error: String,
    candidate: String,
}

/// What a verifier checks on the issuers the walk tries, beyond "is it an anchor". The
/// defaults check nothing (OpenSSL's and Chrome's walks, Apple's anchor inference).
trait IssuerChecks {
    /// A hint when the verifier refuses `cert`'s signature by the pool anchor `anchor`.
    fn refuse_anchor_signature(&self, _cert: &Cert, _anchor: &str) -> Option<Hint> {
        None
    }

    /// Whether the walk may go on from `cert`, at `step` on the path, to the sent
    /// certificate `issuer` above it.
    fn check_candidate(&self, _step: usize, _cert: &Cert, _issuer: &Cert) -> Candidate {
        Candidate::Accepted
    }
}

/// The walk's only question: is there an anchor.
struct AnchorOnly;

impl IssuerChecks for AnchorOnly {}

/// One candidate issuer, as a verifier judges it.
enum Candidate {
    Accepted,
    /// The issuer's signature on the certificate is refused: the walk ends untrusted.
    Refused(Hint),
    /// The issuer itself is invalid: the walk ends with this error.
    Invalid(String),
}

/// Go's name for a signature algorithm in InsecureAlgorithmError.
fn go_insecure_algorithm(cert: &Cert) -> Option<&'static str> {
    let alg = cert.info.signature_algorithm.to_ascii_lowercase();
    match cert.info.facts.weak_hash? {
        "SHA-1" if alg.contains("ecdsa") => Some("ECDSA-SHA1"),
        "SHA-1" if alg.contains("dsa") && !alg.contains("rsa") => Some("DSA-SHA1"),
        "SHA-1" => Some("SHA1-RSA"),
        "MD5" => Some("MD5-RSA"),
        "MD2" => Some("MD2-RSA"),
        _ => None,
    }
}

fn go_insecure_error(cert: &Cert) -> Option<String> {
    go_insecure_algorithm(cert).map(|alg| {
        let overridable = matches!(alg, "SHA1-RSA" | "ECDSA-SHA1");
        format!(
            "x509: cannot verify signature: insecure algorithm {alg}{}",
            if overridable {
                " (temporarily override with GODEBUG=x509sha1=1)"
            } else {
                ""
            }
        )
    })
}

/// Go's name for a certificate in hints: CN, else the first O, else its serial.
fn go_cert_name(cert: &Cert) -> String {
    if let Some(cn) = cert.info.common_name.as_deref().filter(|cn| !cn.is_empty()) {
        return cn.to_string();
    }
    if let Some(org) = cert
        .info
        .subject
        .split(", ")
        .find_map(|part| part.strip_prefix("O="))
    {
        return org.to_string();
    }
    format!("serial:{}", decimal_from_hex(&cert.info.serial))
}

fn decimal_from_hex(hex: &str) -> String {
    let mut digits: Vec<u8> = vec![0]; // little-endian base-10
    for c in hex.chars() {
        let mut carry = c.to_digit(16).unwrap_or(0);
        for d in digits.iter_mut() {
            let value = u32::from(*d) * 16 + carry;
            *d = (value % 10) as u8;
            carry = value / 10;
        }
        while carry > 0 {
            digits.push((carry % 10) as u8);
            carry /= 10;
        }
    }
    let text: String = digits.iter().rev().map(|d| char::from(b'0' + d)).collect();
    let trimmed = text.trim_start_matches('0');
    if trimmed.is_empty() {
        "0".into()
    } else {
        trimmed.into()
    }
}

/// Go's expiry detail for one certificate at `at`, if it is outside its validity.
fn go_time_error(cert: &Cert, at: i64) -> Option<String> {
    let facts = &cert.info.facts;
    if at < facts.not_before {
        Some(format!(
            "x509: certificate has expired or is not yet valid: current time {} is before {}",
            rfc3339(at),
            cert.info.not_before
        ))
    } else if at > facts.not_after {
        Some(format!(
            "x509: certificate has expired or is not yet valid: current time {} is after {}",
            rfc3339(at),
            cert.info.not_after
        ))
    } else {
        None
    }
}

/// Walks from the leaf up the signature-proven links to an anchor of `pool`.
fn walk(ctx: &ClientContext<'_>, pool: &[&TrustStore]) -> Walk {
    walk_checking(ctx, pool, &AnchorOnly)
}

/// Walks from the leaf up the signature-proven links, as Go's chain builder would,
/// applying the verifier's `checks` to each issuer it tries.
fn walk_checking(
    ctx: &ClientContext<'_>,
    pool: &[&TrustStore],
    checks: &impl IssuerChecks,
) -> Walk {
    let leaf = ctx.leaf();
    if pool_contains(pool, leaf) {
        return Walk::LeafAnchor;
    }
    let path = &ctx.structure.path;
    let mut hint = None;
    for (step, &index) in path.iter().enumerate() {
        let current = &ctx.certs[index];
        if let Some(anchor) = pool_issuer(pool, current) {
            if let Some(refused) = checks.refuse_anchor_signature(current, &anchor) {
                return Walk::Untrusted {
                    hint: Some(refused),
                    missing_issuer: false,
                };
            }
            return Walk::Anchored;
        }
        if step > 0 && pool_contains(pool, current) {
            return Walk::Anchored;
        }
        let Some(&next_index) = path.get(step + 1) else {
            break;
        };
        match checks.check_candidate(step, current, &ctx.certs[next_index]) {
            Candidate::Accepted => {}
            Candidate::Refused(refused) => {
                hint = Some(refused);
                break;
            }
            Candidate::Invalid(error) => return Walk::Invalid(error),
        }
    }
    let top = &ctx.certs[*path.last().unwrap_or(&ctx.structure.leaf)];
    Walk::Untrusted {
        hint,
        missing_issuer: !top.info.self_signed,
    }
}

/// Go's checks on a candidate issuer (crypto/x509's buildChains, CheckSignatureFrom and
/// isValid), judged at `at`.
struct GoIssuerChecks {
    at: i64,
}

impl IssuerChecks for GoIssuerChecks {
    fn refuse_anchor_signature(&self, cert: &Cert, anchor: &str) -> Option<Hint> {
        go_insecure_error(cert).map(|error| Hint {
            error,
            candidate: anchor_common_name(anchor),
        })
    }

    fn check_candidate(&self, step: usize, cert: &Cert, issuer: &Cert) -> Candidate {
        // CheckSignatureFrom fails: Go remembers it as the unknown-authority hint.
        if let Some(error) = go_insecure_error(cert) {
            return Candidate::Refused(Hint {
                error,
                candidate: go_cert_name(issuer),
            });
        }
        let issuer_facts = &issuer.info.facts;
        if !issuer.info.is_ca && (issuer_facts.version == 3 || issuer_facts.has_basic_constraints) {
            return Candidate::Refused(Hint {
                error: "x509: invalid signature: parent certificate cannot sign this kind of certificate".into(),
                candidate: go_cert_name(issuer),
            });
        }
        // The candidate's isValid fails: Go returns that error itself.
        if !issuer.info.unknown_critical_extensions.is_empty() {
            return Candidate::Invalid("x509: unhandled critical extension".into());
        }
        if !issuer.info.is_ca {
            return Candidate::Invalid(
                "x509: certificate is not authorized to sign other certificates".into(),
            );
        }
        if let Some(error) = go_time_error(issuer, self.at) {
            return Candidate::Invalid(error);
        }
        if exceeds_path_len(issuer, step) {
            return Candidate::Invalid(
                "x509: too many intermediates for path length constraint".into(),
            );
        }
        Candidate::Accepted
    }
}

/// `ca` has a pathLenConstraint smaller than the `intermediates_below` it would have.
fn exceeds_path_len(ca: &Cert, intermediates_below: usize) -> bool {
    ca.info
        .path_len_constraint
        .is_some_and(|max| intermediates_below > max as usize)
}

fn anchor_common_name(subject: &str) -> String {
    subject
        .split(", ")
        .find_map(|part| part.strip_prefix("CN="))
        .unwrap_or(subject)
        .to_string()
}

// ---------------------------------------------------------------------------------
// Go crypto/x509 with a given root pool (flytectl on Linux; on macOS with caCertFilePath).

/// Whether `host` is among the leaf's subjectAltName entries (DNS names with wildcards,
/// or IP addresses). Every modelled client matches this way; they differ only in what
/// they say when it fails and whether they fall back to the Common Name.
fn san_matches(leaf: &Cert, host: &Host) -> bool {
    let info = &leaf.info;
    match host {
        Host::Ip(ip) => info.ip_addresses.iter().any(|a| a == &ip.to_string()),
        Host::Name(name) => {
            if info.facts.has_san_extension {
                let server = rustls_pki_types::DnsName::try_from(name.as_str())
                    .ok()
                    .map(|n| rustls_pki_types::ServerName::DnsName(n.to_owned()));
                server.is_some_and(|s| trust::name_matches(leaf, &s).is_ok())
            } else {
                false
            }
        }
    }
}

/// Go's HostnameError text, or None when `host` matches the leaf.
fn go_hostname_error(leaf: &Cert, host: &Host) -> Option<String> {
    if san_matches(leaf, host) {
        return None;
    }
    let info = &leaf.info;
    let host_text = host.to_string();
    if !info.facts.has_san_extension
        && info
            .common_name
            .as_deref()
            .is_some_and(|cn| cn.eq_ignore_ascii_case(&host_text))
    {
        return Some(
            "x509: certificate relies on legacy Common Name field, use SANs instead".into(),
        );
    }
    let valid = match host {
        Host::Ip(_) => {
            if info.ip_addresses.is_empty() {
                return Some(format!(
                    "x509: cannot validate certificate for {host_text} because it doesn't contain any IP SANs"
                ));
            }
            crate::chain::name_list(&info.ip_addresses)
        }
        Host::Name(_) => crate::chain::name_list(&info.dns_names),
    };
    if valid.is_empty() {
        return Some(format!(
            "x509: certificate is not valid for any names, but wanted to match {host_text}"
        ));
    }
    Some(format!(
        "x509: certificate is valid for {valid}, not {host_text}"
    ))
}

const TRUST_CAUSES: &[FindingId] = &[
    FindingId::ChainLoop,
    FindingId::TooManyCertificates,
    FindingId::SelfSignedLeaf,
    FindingId::UntrustedRoot,
    FindingId::IncompleteChain,
    FindingId::IssuerNotCa,
    FindingId::WeakSignatureSha1,
    FindingId::Expired,
    FindingId::NotYetValid,
    FindingId::UntrustedChain,
    FindingId::IngressDefaultCertificate,
];

/// Pure Go verification against `pool`: validity, then host name, then the chain, then EKU.
fn go_verify(ctx: &ClientContext<'_>, pool: &[&TrustStore]) -> Result<(), Refusal> {
    let leaf = ctx.leaf();
    // Verify's very first check.
    if !leaf.info.unknown_critical_extensions.is_empty() {
        return Err(ctx.refusal(
            "x509: unhandled critical extension",
            &[FindingId::UnknownCriticalExtension],
        ));
    }
    if let Some(err) = go_time_error(leaf, ctx.at) {
        return Err(ctx.refusal(err, &[FindingId::Expired, FindingId::NotYetValid]));
    }
    if let Some(host) = ctx.hostname {
        if let Some(err) = go_hostname_error(leaf, host) {
            return Err(ctx.refusal(
                err,
                &[
                    FindingId::HostnameMismatch,
                    FindingId::CnOnly,
                    FindingId::IngressDefaultCertificate,
                ],
            ));
        }
    }
    match walk_checking(ctx, pool, &GoIssuerChecks { at: ctx.at }) {
        Walk::Invalid(err) => Err(ctx.refusal(err, TRUST_CAUSES)),
        Walk::Untrusted { hint, .. } => {
            let mut text = "x509: certificate signed by unknown authority".to_string();
            if let Some(Hint { error, candidate }) = hint {
                text.push_str(&format!(
                    " (possibly because of {error:?} while trying to verify candidate authority certificate {candidate:?})"
                ));
            }
            Err(ctx.refusal(text, TRUST_CAUSES))
        }
        Walk::LeafAnchor | Walk::Anchored => {
            let facts = &leaf.info.facts;
            if facts.eku_present && !facts.eku_server_auth && !facts.eku_any {
                return Err(ctx.refusal(
                    "x509: certificate specifies an incompatible key usage",
                    &[FindingId::MissingServerAuthEku],
                ));
            }
            Ok(())
        }
    }
}

fn go_wrapped(
    ctx: &ClientContext<'_>,
    client: ClientName,
    channel: Channel,
    outcome: Result<(), Refusal>,
) -> ClientVerdict {
    let outcome = outcome.map_err(|refusal| {
        refusal.reworded(|x509| {
            let tls = format!("tls: failed to verify certificate: {x509}");
            match channel {
                Channel::OauthHttp => format!("Post {:?}: {tls}", ctx.token_url()),
                _ => format!("transport: authentication handshake failed: {tls}"),
            }
        })
    });
    ClientVerdict::new(client, channel, outcome, None)
}

/// flytectl's gRPC channel: insecureSkipVerify → no verification; caCertFilePath (or
/// --ca-file, its stand-in) → pure Go against that file only; else the system verifier.
fn flytectl_grpc(ctx: &ClientContext<'_>, client: ClientName) -> ClientVerdict {
    let settings = &ctx.options.flytectl;
    if settings.insecure_skip_verify {
        return ClientVerdict::new(
            client,
            Channel::Grpc,
            Ok(()),
            Some("insecureSkipVerify: true disables all verification on the gRPC channel (anyone on the path can impersonate admin); the OAuth client still verifies and still fails if the certificate is refused".into()),
        );
    }
    let ca_pool: Option<&TrustStore> = ctx
        .options
        .ca_cert_store
        .as_ref()
        .or_else(|| ctx.store(StoreKind::CaFile));
    let (outcome, note) =
        match (ca_pool, client) {
            (Some(store), _) => (
                go_verify(ctx, &[store]),
                Some(format!(
                "gRPC verifies with Go against caCertFilePath only ({}), without the OS store{}",
                store.source,
                if client == ClientName::FlytectlMacos { " and without Apple's rules" } else { "" }
            )),
            ),
            (None, ClientName::FlytectlMacos) => (apple_verify(ctx), None),
            (None, _) => {
                let system: Vec<&TrustStore> = ctx.store(StoreKind::System).into_iter().collect();
                (go_verify(ctx, &system), None)
            }
        };
    let mut verdict = go_wrapped(ctx, client, Channel::Grpc, outcome);
    verdict.note = note;
    verdict
}

// ---------------------------------------------------------------------------------
// Apple trustd (through Go's root_darwin.go mapping).

/// Apple's failure subtypes, in reporting priority (highest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AppleCheck {
    KeySize,
    WeakHash,
    Compliance,
    Trust,
    Usage,
    Name,
    Expired,
}

#[derive(Debug, Clone)]
pub struct AppleFailure {
    pub check: AppleCheck,
    /// Index into the certificates of the one that fails.
    pub cert: usize,
    pub causes: Vec<FindingId>,
    /// Trust failure because an intermediate is missing (errSecCreateChainFailed).
    pub missing_intermediate: bool,
}

/// The anchor kind the Mac would see: given by the user, or inferred from the stores.
pub fn infer_anchor_kind(ctx: &ClientContext<'_>) -> Option<AnchorKind> {
    if let Some(kind) = ctx.options.anchor_kind {
        return Some(kind);
    }
    let trusted = |kind: StoreKind| ctx.trust.iter().any(|v| v.store == kind && v.trusted);
    if ctx.trust.iter().any(|v| v.trusted && v.leaf_is_anchor) {
        Some(AnchorKind::Leaf)
    } else if trusted(StoreKind::Mozilla) {
        Some(AnchorKind::System)
    } else if trusted(StoreKind::CaFile) || trusted(StoreKind::System) {
        Some(AnchorKind::Private)
    } else if let Some(pool) = ctx.store(StoreKind::CaFile) {
        // Untrusted for webpki (e.g. a CA:TRUE leaf) but anchored in the private CA for Apple.
        match walk(ctx, &[pool]) {
            Walk::LeafAnchor => Some(AnchorKind::Leaf),
            Walk::Anchored => Some(AnchorKind::Private),
            Walk::Untrusted { .. } | Walk::Invalid(_) => None,
        }
    } else {
        None
    }
}

/// Every Apple check that fails, unordered. Public for the table-driven tests.
pub fn apple_failures(ctx: &ClientContext<'_>, anchor: Option<AnchorKind>) -> Vec<AppleFailure> {
    let mut failures = Vec::new();
    let leaf_index = ctx.structure.leaf;
    let leaf = ctx.leaf();
    let path = &ctx.structure.path;
    let fail = |check, cert, causes: Vec<FindingId>| AppleFailure {
        check,
        cert,
        causes,
        missing_intermediate: false,
    };
    let root_sent = ctx.structure.top_self_signed && path.len() > 1;
    for (step, &index) in path.iter().enumerate() {
        let cert = &ctx.certs[index];
        if cert.info.facts.rsa_bits.is_some_and(|bits| bits < 2048) {
            failures.push(fail(
                AppleCheck::KeySize,
                index,
                ctx.causes(&[FindingId::WeakRsaKey]),
            ));
        }
        let is_anchor_cert = (root_sent && step == path.len() - 1)
            || (step == 0 && anchor == Some(AnchorKind::Leaf));
        if cert.info.facts.weak_hash.is_some() && !is_anchor_cert {
            failures.push(fail(
                AppleCheck::WeakHash,
                index,
                ctx.causes(&[FindingId::WeakSignatureSha1]),
            ));
        }
        if !cert.info.unknown_critical_extensions.is_empty() {
            failures.push(fail(AppleCheck::Compliance, index, Vec::new()));
        }
        if step > 0 && !cert.info.is_ca {
            failures.push(fail(
                AppleCheck::Compliance,
                index,
                ctx.causes(&[FindingId::IssuerNotCa]),
            ));
        }
        let facts = &cert.info.facts;
        if ctx.at > facts.not_after || ctx.at < facts.not_before {
            failures.push(fail(
                AppleCheck::Expired,
                index,
                ctx.causes(&[FindingId::Expired, FindingId::NotYetValid]),
            ));
        }
    }
    if leaf.info.subject == "(empty subject)" && !leaf.info.facts.has_san_extension {
        failures.push(fail(AppleCheck::Compliance, leaf_index, Vec::new()));
    }

    // Validity maximum (leaf only), by anchor kind.
    let lifetime = leaf.info.lifetime_seconds();
    let not_before = leaf.info.facts.not_before;
    let too_long = match anchor {
        Some(AnchorKind::Leaf) => false,
        Some(AnchorKind::System) => lifetime > apple_system_max_seconds(not_before),
        // Private anchors, and chains with no anchor at all (trustd still applies them).
        Some(AnchorKind::Private) | None => {
            not_before >= APPLE_825_CUTOVER && lifetime > MAX_825_SECONDS
        }
    };
    if too_long {
        failures.push(fail(
            AppleCheck::Compliance,
            leaf_index,
            ctx.causes(&[
                FindingId::ValidityExceeds825Days,
                FindingId::ValidityExceeds398Days,
            ]),
        ));
    }

    // Certificate Transparency: system anchors only.
    if anchor == Some(AnchorKind::System)
        && not_before >= APPLE_CT_CUTOVER
        && ctx.at >= leaf.info.facts.not_before
        && ctx.at <= leaf.info.facts.not_after
    {
        let required = if lifetime <= 180 * DAY { 2 } else { 3 };
        if leaf.info.sct_count < required {
            failures.push(fail(AppleCheck::Compliance, leaf_index, Vec::new()));
        }
    }

    // Trust.
    if anchor.is_none() {
        let top = &ctx.certs[*path.last().unwrap_or(&leaf_index)];
        failures.push(AppleFailure {
            check: AppleCheck::Trust,
            cert: leaf_index,
            causes: ctx.causes(TRUST_CAUSES),
            missing_intermediate: !top.info.self_signed,
        });
    }

    // Server-auth EKU.
    let eku_ok = |cert: &Cert| {
        let f = &cert.info.facts;
        f.eku_present && (f.eku_server_auth || f.eku_any)
    };
    let eku_fails = match anchor {
        Some(AnchorKind::Private) => false,
        Some(AnchorKind::System) => {
            !eku_ok(leaf)
                || path.iter().skip(1).any(|&i| {
                    let f = &ctx.certs[i].info.facts;
                    f.eku_present && !f.eku_server_auth && !f.eku_any
                })
        }
        Some(AnchorKind::Leaf) | None => not_before >= APPLE_825_CUTOVER && !eku_ok(leaf),
    };
    if eku_fails {
        failures.push(fail(
            AppleCheck::Usage,
            leaf_index,
            ctx.causes(&[FindingId::MissingServerAuthEku]),
        ));
    }

    // Host name: SAN only.
    if let Some(host) = ctx.hostname {
        if !san_matches(leaf, host) {
            failures.push(fail(
                AppleCheck::Name,
                leaf_index,
                ctx.causes(&[FindingId::HostnameMismatch, FindingId::CnOnly]),
            ));
        }
    }
    failures
}

/// Apple CT enforcement applies to leaves issued from 2018-10-16.
pub const APPLE_CT_CUTOVER: i64 = 1_539_648_000;
const APPLE_60_MONTHS_CUTOVER: i64 = 1_467_331_200; // 2016-07-01
const APPLE_39_MONTHS_CUTOVER: i64 = 1_519_862_400; // 2018-03-01

fn apple_system_max_seconds(not_before: i64) -> i64 {
    const MONTH: i64 = 2_629_746; // 30.436875 days: the Gregorian mean month
    if not_before < APPLE_60_MONTHS_CUTOVER {
        60 * MONTH
    } else if not_before < APPLE_39_MONTHS_CUTOVER {
        39 * MONTH
    } else if not_before < PUBLIC_398_CUTOVER {
        MAX_825_SECONDS
    } else {
        MAX_398_SECONDS
    }
}

/// The Go error text for Apple's highest-priority failure, or Ok.
fn apple_verify(ctx: &ClientContext<'_>) -> Result<(), Refusal> {
    let anchor = infer_anchor_kind(ctx);
    let mut failures = apple_failures(ctx, anchor);
    failures.sort_by_key(|f| f.check);
    let Some(first) = failures.first() else {
        // After Apple accepts, Go still checks the EKU itself.
        let facts = &ctx.leaf().info.facts;
        if facts.eku_present && !facts.eku_server_auth && !facts.eku_any {
            return Err(ctx.refusal(
                "x509: certificate specifies an incompatible key usage",
                &[FindingId::MissingServerAuthEku],
            ));
        }
        return Ok(());
    };
    Err(Refusal {
        text: apple_text(ctx, first),
        causes: first.causes.clone(),
    })
}

/// Apple's description as Go prints it (root_darwin.go).
pub fn apple_text(ctx: &ClientContext<'_>, failure: &AppleFailure) -> String {
    let cert = &ctx.certs[failure.cert];
    let name = format!("\u{201c}{}\u{201d}", cert.info.display_name());
    match failure.check {
        AppleCheck::KeySize => format!("x509: {name} certificate is using a broken key size"),
        AppleCheck::WeakHash => {
            format!("x509: {name} certificate is using a broken signature algorithm")
        }
        AppleCheck::Compliance => format!("x509: {name} certificate is not standards compliant"),
        AppleCheck::Trust if failure.missing_intermediate => {
            format!("x509: {name} certificate is not trusted")
        }
        AppleCheck::Trust => "x509: certificate signed by unknown authority".into(),
        AppleCheck::Usage => format!("x509: {name} certificate is not permitted for this usage"),
        AppleCheck::Name => ctx
            .hostname
            .and_then(|host| go_hostname_error(ctx.leaf(), host))
            .unwrap_or_else(|| "x509: certificate is not valid for the host name".into()),
        AppleCheck::Expired => {
            let state = if ctx.at < cert.info.facts.not_before {
                "is not yet valid"
            } else {
                "is expired"
            };
            format!("x509: certificate has expired or is not yet valid: {name} certificate {state}")
        }
    }
}

// ---------------------------------------------------------------------------------
// pyflyte: grpcio (BoringSSL) for gRPC, requests/urllib3 (OpenSSL) for OAuth.

/// The verify failure an OpenSSL-family verifier reports first.
/// `boring` selects BoringSSL's wording and its lack of security levels.
fn openssl_verify(
    ctx: &ClientContext<'_>,
    pool: &[&TrustStore],
    boring: bool,
) -> Result<(), Refusal> {
    let leaf = ctx.leaf();
    let self_signed = if boring {
        "self signed certificate"
    } else {
        "self-signed certificate"
    };
    // BoringSSL never takes a certificate whose keyUsage lacks keyCertSign as an issuer,
    // not even of itself: the chain then breaks there.
    let can_issue = |cert: &Cert| {
        !boring || !cert.info.facts.key_usage_present || cert.info.facts.ku_key_cert_sign
    };
    let broken_link = ctx
        .structure
        .path
        .iter()
        .skip(1)
        .any(|&i| !can_issue(&ctx.certs[i]));
    if (leaf.info.self_signed && !can_issue(leaf))
        || (broken_link && !matches!(walk(ctx, pool), Walk::LeafAnchor))
    {
        let anchored_below = ctx
            .structure
            .path
            .iter()
            .take_while(|&&i| can_issue(&ctx.certs[i]) || i == ctx.structure.leaf)
            .any(|&i| pool_issuer(pool, &ctx.certs[i]).is_some());
        if !anchored_below {
            return Err(ctx.refusal("unable to get local issuer certificate", TRUST_CAUSES));
        }
    }
    // 1. Chain building.
    match walk(ctx, pool) {
        Walk::Untrusted { missing_issuer, .. } => {
            let reason = if leaf.info.self_signed {
                self_signed.to_string()
            } else if missing_issuer {
                "unable to get local issuer certificate".to_string()
            } else {
                format!("{self_signed} in certificate chain")
            };
            return Err(ctx.refusal(reason, TRUST_CAUSES));
        }
        Walk::LeafAnchor | Walk::Anchored | Walk::Invalid(_) => {}
    }
    // 2. Extensions, certificate by certificate from the leaf up: CA flag, purpose,
    //    path length.
    let purpose = if boring {
        "unsupported certificate purpose"
    } else {
        "unsuitable certificate purpose"
    };
    for (step, &index) in ctx.structure.path.iter().enumerate() {
        let cert = &ctx.certs[index];
        if !cert.info.unknown_critical_extensions.is_empty() {
            return Err(ctx.refusal(
                "unhandled critical extension",
                &[FindingId::UnknownCriticalExtension],
            ));
        }
        if step > 0 && !cert.info.is_ca {
            return Err(ctx.refusal("invalid CA certificate", &[FindingId::IssuerNotCa]));
        }
        let facts = &cert.info.facts;
        if step == 0
            && ((facts.eku_present && !facts.eku_server_auth && !facts.eku_any)
                || !facts.key_usage_allows_tls_server)
        {
            return Err(ctx.refusal(
                purpose,
                &[
                    FindingId::MissingServerAuthEku,
                    FindingId::IncompatibleKeyUsage,
                ],
            ));
        }
        if step > 1 && exceeds_path_len(cert, step - 1) {
            return Err(ctx.refusal(
                "path length constraint exceeded",
                &[FindingId::UntrustedChain],
            ));
        }
    }
    // 3. Security level 2 (OpenSSL only): key sizes and signature digests.
    if !boring {
        for (step, &index) in ctx.structure.path.iter().enumerate() {
            let cert = &ctx.certs[index];
            if cert.info.facts.rsa_bits.is_some_and(|bits| bits < 2048) {
                let which = if step == 0 {
                    "EE certificate key too weak"
                } else {
                    "CA certificate key too weak"
                };
                return Err(ctx.refusal(which, &[FindingId::WeakRsaKey]));
            }
            let is_root = cert.info.self_signed && step > 0;
            if cert.info.facts.weak_hash.is_some() && !is_root {
                return Err(ctx.refusal(
                    "CA signature digest algorithm too weak",
                    &[FindingId::WeakSignatureSha1],
                ));
            }
        }
    }
    // 4. Host name (OpenSSL checks it in the verifier; grpc checks it after the handshake).
    if !boring {
        if let Some(host) = ctx.hostname {
            // urllib3 2 turns off the Common Name fallback.
            if !san_matches(leaf, host) {
                let what = match host {
                    Host::Ip(_) => "IP address mismatch",
                    Host::Name(_) => "Hostname mismatch",
                };
                return Err(ctx.refusal(
                    format!("{what}, certificate is not valid for '{host}'."),
                    &[FindingId::HostnameMismatch, FindingId::CnOnly],
                ));
            }
        }
    }
    // 5. Signatures and times.
    for &index in &ctx.structure.path {
        let facts = &ctx.certs[index].info.facts;
        if ctx.at > facts.not_after {
            return Err(ctx.refusal("certificate has expired", &[FindingId::Expired]));
        }
        if ctx.at < facts.not_before {
            return Err(ctx.refusal("certificate is not yet valid", &[FindingId::NotYetValid]));
        }
    }
    Ok(())
}

fn pyflyte_grpc(ctx: &ClientContext<'_>) -> ClientVerdict {
    let settings = &ctx.options.flytectl;
    let (pool, note): (Vec<&TrustStore>, Option<String>) = if let Some(store) =
        ctx.options.ca_cert_store.as_ref()
    {
        (
            vec![store],
            Some(format!(
                "grpcio trusts caCertFilePath only ({})",
                store.source
            )),
        )
    } else if let Some(store) = ctx.options.grpc_roots.wait().as_ref() {
        (
            vec![store],
            Some(format!(
                "grpcio trusts GRPC_DEFAULT_SSL_ROOTS_FILE_PATH ({})",
                store.source
            )),
        )
    } else {
        (
            ctx.store(StoreKind::Mozilla).into_iter().collect(),
            Some("grpcio trusts its bundled roots (≈ Mozilla's list), not the OS store, unless GRPC_DEFAULT_SSL_ROOTS_FILE_PATH or caCertFilePath is set".into()),
        )
    };
    let leaf_facts = &ctx.leaf().info.facts;
    let mut outcome = if leaf_facts.key_usage_present && !leaf_facts.ku_digital_signature {
        // BoringSSL checks the key may sign the handshake before it verifies the chain.
        Err(ctx.refusal(
            "Tls handshake failed (TSI_PROTOCOL_FAILURE): SSL_ERROR_SSL: error:1000012e:SSL routines:OPENSSL_internal:KEY_USAGE_BIT_INCORRECT: Invalid certificate verification context",
            &[FindingId::IncompatibleKeyUsage, FindingId::LeafIsCa],
        ))
    } else if settings.insecure_skip_verify {
        // flytekit fetches the server's certificate and trusts exactly that.
        Ok(())
    } else {
        openssl_verify(ctx, &pool, true).map_err(|refusal| {
            // grpcio ≥ 1.5x says "Tls handshake failed"; older releases said "Ssl".
            refusal.reworded(|reason| format!("Tls handshake failed (TSI_PROTOCOL_FAILURE): SSL_ERROR_SSL: error:1000007d:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED: {reason}"))
        })
    };
    if outcome.is_ok() {
        if let Some(host) = ctx.hostname {
            if !grpc_peer_name_matches(ctx.leaf(), host) {
                // Current grpcio; releases before its custom verifier said
                // "Peer name HOST is not in peer certificate".
                outcome = Err(ctx.refusal(
                    "Custom verification check failed with error: UNAUTHENTICATED: Hostname Verification Check failed.",
                    &[FindingId::HostnameMismatch, FindingId::CnOnly],
                ));
            }
        }
    }
    ClientVerdict::new(ClientName::Pyflyte, Channel::Grpc, outcome, note)
}

/// grpc's peer check: SAN DNS/IP entries; the CN only when there is no SAN.
fn grpc_peer_name_matches(leaf: &Cert, host: &Host) -> bool {
    let info = &leaf.info;
    if !info.facts.has_san_extension {
        return info
            .common_name
            .as_deref()
            .is_some_and(|cn| cn.eq_ignore_ascii_case(&host.to_string()));
    }
    san_matches(leaf, host)
}

fn pyflyte_oauth(ctx: &ClientContext<'_>) -> ClientVerdict {
    let settings = &ctx.options.flytectl;
    if settings.insecure_skip_verify {
        return ClientVerdict::new(
            ClientName::Pyflyte,
            Channel::OauthHttp,
            Ok(()),
            Some("insecureSkipVerify makes flytekit's OAuth requests use verify=False".into()),
        );
    }
    let (pool, note): (Vec<&TrustStore>, Option<String>) = match ctx.options.ca_cert_store.as_ref()
    {
        Some(store) => (
            vec![store],
            Some(format!(
                "requests verifies with caCertFilePath ({})",
                store.source
            )),
        ),
        None => (
            ctx.store(StoreKind::Mozilla).into_iter().collect(),
            Some("requests verifies with certifi's bundle (≈ Mozilla's list)".into()),
        ),
    };
    let outcome = openssl_verify(ctx, &pool, false).map_err(|refusal| {
        refusal.reworded(|reason| {
            format!("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: {reason}")
        })
    });
    ClientVerdict::new(ClientName::Pyflyte, Channel::OauthHttp, outcome, note)
}

// ---------------------------------------------------------------------------------
// Chrome.

fn browser(ctx: &ClientContext<'_>) -> ClientVerdict {
    let leaf = ctx.leaf();
    let pool: Vec<&TrustStore> = ctx.stores.iter().collect();
    let mut note = None;
    let publicly_trusted = ctx
        .trust
        .iter()
        .any(|v| v.store == StoreKind::Mozilla && v.trusted);
    // Chrome status flags, checked in the order Chrome maps them to one net error.
    let facts = &leaf.info.facts;
    let invalid = (facts.eku_present && !facts.eku_server_auth && !facts.eku_any)
        || ctx.has(FindingId::MalformedCertificate)
        || ctx.has(FindingId::UnknownCriticalExtension);
    let authority_invalid = match walk(ctx, &pool) {
        Walk::LeafAnchor | Walk::Anchored => false,
        Walk::Untrusted {
            missing_issuer: true,
            ..
        } => {
            let top = &ctx.certs[*ctx.structure.path.last().unwrap_or(&ctx.structure.leaf)];
            match top.info.ca_issuers_urls.first() {
                Some(url) => {
                    note = Some(format!(
                        "Chrome fetches the missing intermediate from {url}; assumed to work if that URL serves it and it chains to a trusted root. Go, grpcio and curl do not fetch it."
                    ));
                    false
                }
                None => true,
            }
        }
        Walk::Untrusted { .. } | Walk::Invalid(_) => true,
    };
    let name_invalid = ctx.hostname.is_some_and(|host| !san_matches(leaf, host));
    let ct_required = publicly_trusted
        && leaf.info.facts.not_before >= CHROME_CT_CUTOVER
        && leaf.info.sct_count
            < if leaf.info.lifetime_seconds() <= 180 * DAY {
                2
            } else {
                3
            };
    let weak_signature = ctx.has(FindingId::WeakSignatureSha1);
    let weak_key = ctx.has(FindingId::WeakRsaKey);
    let date_invalid = ctx.structure.path.iter().any(|&i| {
        let f = &ctx.certs[i].info.facts;
        ctx.at > f.not_after || ctx.at < f.not_before
    });
    let too_long = publicly_trusted
        && leaf.info.facts.not_before >= PUBLIC_398_CUTOVER
        && leaf.info.lifetime_seconds() > MAX_398_SECONDS;
    let outcome = [
        (
            invalid,
            "NET::ERR_CERT_INVALID",
            &[
                FindingId::MissingServerAuthEku,
                FindingId::MalformedCertificate,
                FindingId::UnknownCriticalExtension,
            ][..],
        ),
        (
            authority_invalid,
            "NET::ERR_CERT_AUTHORITY_INVALID",
            TRUST_CAUSES,
        ),
        (
            name_invalid,
            "NET::ERR_CERT_COMMON_NAME_INVALID",
            &[FindingId::HostnameMismatch, FindingId::CnOnly][..],
        ),
        (
            ct_required,
            "NET::ERR_CERTIFICATE_TRANSPARENCY_REQUIRED",
            &[][..],
        ),
        (
            weak_signature,
            "NET::ERR_CERT_WEAK_SIGNATURE_ALGORITHM",
            &[FindingId::WeakSignatureSha1][..],
        ),
        (
            weak_key,
            "NET::ERR_CERT_WEAK_KEY",
            &[FindingId::WeakRsaKey][..],
        ),
        (
            date_invalid,
            "NET::ERR_CERT_DATE_INVALID",
            &[FindingId::Expired, FindingId::NotYetValid][..],
        ),
        (
            too_long,
            "NET::ERR_CERT_VALIDITY_TOO_LONG",
            &[FindingId::ValidityExceeds398Days][..],
        ),
    ]
    .into_iter()
    .find(|(failed, _, _)| *failed)
    .map_or(Ok(()), |(_, text, causes)| Err(ctx.refusal(text, causes)));
    ClientVerdict::new(ClientName::Browser, Channel::Https, outcome, note)
}

/// Chrome requires CT for publicly trusted certificates issued after 2018-04-30.
const CHROME_CT_CUTOVER: i64 = 1_525_132_800;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_serial_names_are_decimal() {
        assert_eq!(decimal_from_hex("00ff"), "255");
        assert_eq!(decimal_from_hex("0100"), "256");
        assert_eq!(decimal_from_hex("0"), "0");
        assert_eq!(
            decimal_from_hex("ffffffffffffffffffff"),
            "1208925819614629174706175"
        );
    }

    #[test]
    fn apple_system_maximums_follow_the_cut_over_dates() {
        assert_eq!(apple_system_max_seconds(PUBLIC_398_CUTOVER), 398 * DAY);
        assert_eq!(
            apple_system_max_seconds(PUBLIC_398_CUTOVER - 1),
            825 * DAY + 3600
        );
        assert!(apple_system_max_seconds(APPLE_39_MONTHS_CUTOVER - 1) > 1180 * DAY);
        assert!(apple_system_max_seconds(APPLE_60_MONTHS_CUTOVER - 1) > 1820 * DAY);
    }
}

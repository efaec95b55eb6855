//! Orchestration: a target or a file in, a report out. `check` and `inspect` share
//! one analysis so a file and a live endpoint with the same chain read the same; `fleet`
//! checks many targets at once for the CLI and `serve`.

pub mod aia;
mod bundle;
pub mod fleet;
mod revocation;

pub use revocation::RevocationSettings;

use std::path::Path;
use std::sync::Arc;

use rustls_pki_types::{CertificateDer, PrivateKeyDer, UnixTime};

use crate::chain::{self, Cert};
use crate::clients::{self, ClientContext, ClientName, ClientOptions, ClientVerdict};
use crate::findings::{Finding, FindingId, Severity};
use crate::input::{self, KeyInput};
use crate::probe::aia::AiaOutcome;
use crate::probe::{self, ProbeOptions};
use crate::report::recommend;
use crate::report::{PathSummary, Recommendation, Report};
use crate::rules::{self, KeyCheck};
use crate::target::{Host, Target};
use crate::trust::background::Background;
use crate::trust::{self, TrustStore, TrustStores};

/// Everything a run shares across targets; built once per process (by the command line's
/// one conversion from arguments, or by a test).
pub struct Settings {
    /// Loaded in the background; the first analysis waits for it.
    pub stores: Arc<Background<TrustStores>>,
    /// Judge validity at this instant (Unix seconds) instead of now.
    pub at: Option<i64>,
    pub warn_days: u32,
    pub probe: ProbeOptions,
    pub clients: ClientOptions,
    /// Fetch a missing intermediate from the AIA caIssuers URL, as browsers and macOS do
    /// (off with --no-fetch). Bounded by `probe.timeout` and `probe::aia`'s limits.
    pub aia_fetch: bool,
    /// OCSP and CRL checks (`check`, `flyte`, `serve`; off with --no-revocation).
    pub revocation: RevocationSettings,
}

impl Settings {
    pub fn now(&self) -> i64 {
        self.at.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or_default()
        })
    }
}

#[derive(Clone)]
pub struct AnalysisInput<'a> {
    pub ders: Vec<CertificateDer<'static>>,
    /// A handshake puts the leaf first; a file may be in any order.
    pub leaf_first: bool,
    pub hostname: Option<&'a Host>,
    /// `host:port`, for the URLs client messages name.
    pub authority: Option<String>,
    /// The OAuth token endpoint, when known.
    pub token_url: Option<String>,
    pub stores: &'a [TrustStore],
    /// A private key to compare with the leaf's public key.
    pub key: Option<&'a PrivateKeyDer<'static>>,
    /// The ALPN protocol the server selected when offered h2 and http/1.1: None when not
    /// probed (a file), Some(None) when it selected none.
    pub alpn: Option<Option<String>>,
    /// The host name as typed, when it differs in form from `hostname` (case, a trailing
    /// dot): the clients' messages echo it.
    pub dialled_host: Option<String>,
    /// What the AIA step fetched; None when it did not run.
    pub aia: Option<&'a AiaOutcome>,
    /// What the revocation step learnt of the path's certificates; None when it did not
    /// run (files) or found nothing to say.
    pub revocation: Option<&'a [crate::revocation::CertRevocation]>,
    /// The OCSP response the server stapled (its SCTs count for CT).
    pub stapled_ocsp: Option<&'a [u8]>,
    /// What asking the server for SCTs in the TLS extension found; None when not asked.
    pub tls_scts: Option<&'a probe::tls_scts::TlsScts>,
    /// Whether the first certificate's key signed the handshake: Some(true) when the
    /// probe's handshake completed (rustls checked the signature with that key); None
    /// when unknown (then `key`, if given, decides, else the order of the chain).
    pub first_signed_handshake: Option<bool>,
}

pub struct Analysis {
    pub certs: Vec<Cert>,
    pub path: PathSummary,
    pub trust: Vec<trust::TrustVerdict>,
    pub findings: Vec<Finding>,
    pub clients: Vec<ClientVerdict>,
    pub recommendations: Vec<Recommendation>,
    /// Why the key could not be compared, when it could not.
    pub key_error: Option<String>,
    /// Issuers fetched from AIA URLs, numbered after the presented certificates.
    pub aia_fetched: Vec<crate::chain::CertInfo>,
    /// What the AIA step could not fetch, or should say.
    pub aia_notes: Vec<String>,
    /// Each certificate's revocation, when the revocation step ran.
    pub revocation: Vec<crate::revocation::CertRevocation>,
    /// The leaf's Certificate Transparency.
    pub ct: Option<crate::ct::CtReport>,
}

/// The whole judgement of one chain: certificates parsed, the chain's structure, a trust
/// verdict per store, findings, each client's verdict and the ordered fixes. `input`
/// carries the chain and what to judge it for; `settings` the instant and client options.
/// The stores in `input` must be loaded (see [`Background::get`]).
pub fn analyse(input: AnalysisInput<'_>, settings: &Settings) -> Analysis {
    let (certs, malformed) = chain::parse_certificates(&input.ders);
    let structure = chain::analyse_structure(&certs, input.leaf_first);
    let at = settings.now();
    let verdicts: Vec<trust::TrustVerdict> = if certs.is_empty() {
        Vec::new()
    } else {
        let time = UnixTime::since_unix_epoch(std::time::Duration::from_secs(at.max(0) as u64));
        input
            .stores
            .iter()
            .map(|store| trust::evaluate(store, &certs, structure.leaf, time))
            .collect()
    };
    let mut key_error = None;
    let key = match (input.key, certs.get(structure.leaf)) {
        (Some(key), Some(leaf)) => match input::key_matches(key, &leaf.info.facts.spki_der) {
            Ok(true) => Some(KeyCheck::Matches),
            Ok(false) => Some(KeyCheck::Mismatch),
            Err(why) => {
                key_error = Some(why);
                None
            }
        },
        _ => None,
    };
    let mut findings = rules::evaluate(&rules::Context {
        presented: input.ders.len(),
        certs: &certs,
        malformed: &malformed,
        structure: &structure,
        stores: input.stores,
        trust: &verdicts,
        hostname: input.hostname,
        at,
        warn_days: settings.warn_days,
        key,
    });
    if settings.clients.flytectl.insecure_skip_verify && !certs.is_empty() {
        let source = settings
            .clients
            .flytectl
            .config_path
            .as_ref()
            .map(|p| format!(" in {}", p.display()))
            .unwrap_or_default();
        findings.push(Finding::new(
            FindingId::InsecureSkipVerifyInUse,
            None,
            format!("admin.insecureSkipVerify is true{source}: flytectl's gRPC channel accepts any certificate, while its OAuth login still verifies and fails the same way."),
        ));
    }
    if let Some(finding) = ca_file_bundle_finding(&settings.clients) {
        findings.push(finding);
    }
    if let (Some(revocations), Some(&leaf)) = (input.revocation, structure.path.first()) {
        crate::revocation::findings(revocations, certs[leaf].info.position, &mut findings);
        findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    }
    let aia_fetched = aia::fetched(input.aia, input.ders.len());
    let ct = certs.get(structure.leaf).map(|leaf| {
        let issuer = crate::ct::issuer_spki(
            leaf,
            certs.iter().chain(aia_fetched.iter().map(|f| &f.cert)),
            input.stores,
        );
        let ocsp_list = match (input.stapled_ocsp, &issuer) {
            (Some(stapled), Some(issuer)) => crate::ct::stapled_list(stapled, leaf, issuer),
            _ => None,
        };
        crate::ct::evaluate(&crate::ct::Input {
            leaf,
            issuer_spki: issuer.as_deref(),
            ocsp_list: ocsp_list.as_deref(),
            tls: input.tls_scts,
            logs: &settings.clients.ct_log_list(),
            apple_logs: &settings.clients.apple_ct_log_list(),
            at,
            required: verdicts
                .iter()
                .any(|v| v.store == trust::StoreKind::Mozilla && v.trusted),
        })
    });
    if let Some(ct) = &ct {
        crate::ct::findings(ct, &mut findings);
        findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    }
    if let Some(finding) = alpn_finding(&input.alpn, &settings.clients) {
        findings.push(finding);
        // Most severe first, as the rules leave them.
        findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    }
    let mut path = PathSummary {
        positions: structure
            .path
            .iter()
            .map(|&i| certs[i].info.position)
            .collect(),
        ..PathSummary::default()
    };
    if let Some(trusted) = verdicts.iter().find(|v| v.trusted) {
        path.positions = trusted.path.clone();
        path.anchor = trusted.anchor.clone();
        path.anchor_store = Some(trusted.store.name().to_string());
    } else if let Some(&top) = structure.path.last() {
        let top = &certs[top];
        if !top.info.self_signed
            && trust::anchor_named(input.stores, &top.info.facts.issuer_der).is_none()
        {
            path.missing_issuer = Some(top.info.issuer.clone());
        }
    }
    let first_signed_handshake = input.first_signed_handshake.or_else(|| {
        let first = certs.get(structure.leaf)?;
        input::key_matches(input.key?, &first.info.facts.spki_der).ok()
    });
    let client_context = ClientContext {
        presented: &input.ders,
        certs: &certs,
        structure: &structure,
        stores: input.stores,
        trust: &verdicts,
        findings: &findings,
        hostname: input.hostname,
        authority: input.authority.clone(),
        token_url: input.token_url.clone(),
        at,
        options: &settings.clients,
        alpn: input.alpn.clone(),
        dialled_host: input.dialled_host.clone(),
        go_outcomes: Default::default(),
        apple_outcome: Default::default(),
        aia_fetched: &aia_fetched,
        revocation: input.revocation.unwrap_or_default(),
        ct: ct.as_ref(),
        first_signed_handshake,
    };
    let client_verdicts = clients::evaluate(&client_context);
    // Which clients the fetched issuers rescue: their verdicts without them.
    let without_aia = (!aia_fetched.is_empty()).then(|| {
        clients::evaluate(&ClientContext {
            aia_fetched: &[],
            // trustd fetches: its answer without the fetched issuers is another one.
            apple_outcome: Default::default(),
            ..client_context
        })
    });
    aia::explain_in_finding(
        &mut findings,
        structure.path.last().map(|&i| &certs[i]),
        input.aia,
        settings,
        without_aia.as_deref().unwrap_or(&client_verdicts),
        &client_verdicts,
    );
    if let Some(finding) = refusal_finding(&findings, &client_verdicts) {
        findings.insert(0, finding);
    }
    let missing_issuer_url = structure
        .path
        .last()
        .and_then(|&top| certs[top].info.ca_issuers_urls.first().cloned());
    let host = input
        .hostname
        .map(|h| h.to_string())
        .unwrap_or_else(|| "HOST".into());
    let recommendations = recommend::recommend(&recommend::Input {
        host: &host,
        findings: &findings,
        clients: &client_verdicts,
        path: &path,
        publicly_trusted: verdicts
            .iter()
            .any(|v| v.store == trust::StoreKind::Mozilla && v.trusted),
        missing_issuer_url: missing_issuer_url.as_deref(),
    });
    Analysis {
        certs,
        path,
        trust: verdicts,
        findings,
        clients: client_verdicts,
        recommendations,
        key_error,
        aia_fetched: aia::infos(&aia_fetched),
        aia_notes: input.aia.map(|o| o.notes.clone()).unwrap_or_default(),
        revocation: input.revocation.map(<[_]>::to_vec).unwrap_or_default(),
        ct,
    }
}

/// `ca-file-bundle` when the flytectl config's caCertFilePath holds several certificates,
/// which flytekit ≤ 1.10.1 cuts to the first. (Several --ca-file flags merge into one
/// store, so only the config's file is judged.)
fn ca_file_bundle_finding(clients: &ClientOptions) -> Option<Finding> {
    let file = clients.ca_cert_store.as_ref()?;
    if file.anchors.len() < 2 {
        return None;
    }
    let first = trust::anchor_subject(&file.anchors[0]);
    Some(Finding::new(
        FindingId::CaFileBundle,
        None,
        format!(
            "The CA file {} holds {} certificates: flytekit 1.10.1 and older trust only the first ({first}).",
            file.source,
            file.anchors.len()
        ),
    ))
}

/// `client-refuses` when a client refuses the chain but no critical finding says why, so
/// the verdict and the exit code never contradict the client table.
fn refusal_finding(findings: &[Finding], verdicts: &[ClientVerdict]) -> Option<Finding> {
    let refusing: Vec<&ClientVerdict> = verdicts.iter().filter(|v| !v.accepts).collect();
    let first = refusing.first()?;
    if findings.iter().any(|f| f.severity == Severity::Critical) {
        return None;
    }
    let names: Vec<String> = refusing
        .iter()
        .map(|v| format!("{} ({})", v.client.name(), v.channel.name()))
        .collect();
    Some(Finding::new(
        FindingId::ClientRefuses,
        None,
        format!(
            "{} refuse{} the chain, for a reason no other finding names: {}",
            names.join(", "),
            if names.len() == 1 { "s" } else { "" },
            first.error.as_deref().unwrap_or_default()
        ),
    ))
}

/// `alpn-no-h2` when the server did not select h2 and a gRPC client's verdict is wanted:
/// flytectl's and pyflyte's gRPC channels refuse such a server.
fn alpn_finding(alpn: &Option<Option<String>>, clients: &ClientOptions) -> Option<Finding> {
    let selected = alpn.as_ref()?;
    if selected.as_deref() == Some("h2") {
        return None;
    }
    let grpc_clients = [
        ClientName::FlytectlMacos,
        ClientName::FlytectlLinux,
        ClientName::Pyflyte,
    ];
    if !clients.only.is_empty() && !grpc_clients.iter().any(|c| clients.only.contains(c)) {
        return None;
    }
    let what = match selected {
        Some(protocol) => format!("selected ALPN {protocol:?} when offered h2 and http/1.1: it refuses an h2-only client (grpc-go: \"remote error: tls: no application protocol\")"),
        None => "selected no ALPN protocol: grpc-go 1.67 and later (flytectl 0.9.6+, Flyte 1.16+) refuse it after the handshake (\"credentials: cannot check peer: missing selected ALPN property\"), and so does grpcio".to_string(),
    };
    Some(Finding::new(
        FindingId::AlpnNoH2,
        None,
        format!("The server {what}. gRPC needs HTTP/2 negotiated with ALPN h2."),
    ))
}

/// Probes one endpoint and analyses what it presented.
pub async fn check(target: &Target, settings: &Settings) -> Report {
    check_with_token_url(target, settings, None).await
}

/// `check`, naming `token_url` in the OAuth clients' messages (the real token endpoint
/// from the OAuth metadata, when this host serves it).
pub async fn check_with_token_url(
    target: &Target,
    settings: &Settings,
    token_url: Option<String>,
) -> Report {
    let started = std::time::Instant::now();
    let mut report = check_inner(target, settings, &settings.probe, token_url).await;
    report.duration_seconds = Some(started.elapsed().as_secs_f64());
    report
}

/// `check`, dialling with `probe_options` instead of `settings.probe`: `serve` pins the
/// addresses its /probe policy approved, so a second DNS answer cannot redirect the probe.
pub async fn check_with_probe_options(
    target: &Target,
    settings: &Settings,
    probe_options: &ProbeOptions,
) -> Report {
    let started = std::time::Instant::now();
    let mut report = check_inner(target, settings, probe_options, None).await;
    report.duration_seconds = Some(started.elapsed().as_secs_f64());
    report
}

async fn check_inner(
    target: &Target,
    settings: &Settings,
    probe_options: &ProbeOptions,
    token_url: Option<String>,
) -> Report {
    let outcome = probe::probe(target, probe_options).await;
    // Loaded while the probe ran; awaited off the runtime's workers if still loading.
    let stores = settings.stores.get().await;
    settings.clients.grpc_roots.get().await;
    let mut report = Report::failed(
        target.input.clone(),
        Some(target.host.to_string()),
        Some(target.port),
        String::new(),
    );
    report.error = None;
    report.address = outcome.address.map(|a| a.to_string());
    report.proxy = outcome.proxy;
    report.tls = outcome.tls;
    if outcome.chain.is_empty() {
        let error = outcome.error.unwrap_or_else(|| probe::ProbeError {
            kind: probe::ProbeErrorKind::NoCertificate,
            message: "the server presented no certificate".into(),
        });
        report.error = Some(error.message);
        report.error_kind = Some(error.kind);
        report.settle_status();
        return report;
    }
    let input = AnalysisInput {
        ders: outcome.chain,
        leaf_first: true,
        hostname: Some(&target.host),
        authority: Some(target.authority()),
        token_url,
        stores: &stores.stores,
        key: None,
        alpn: report.tls.as_ref().map(|tls| tls.alpn.clone()),
        dialled_host: Some(target.dialled_host()),
        aia: None,
        revocation: None,
        stapled_ocsp: outcome.stapled_ocsp.as_deref(),
        tls_scts: None,
        // rustls verified the handshake signature with the first certificate's key.
        first_signed_handshake: outcome.error.is_none().then_some(true),
    };
    let mut analysis = analyse(input.clone(), settings);
    let mut fetched = None;
    if settings.aia_fetch {
        let requesters: Vec<Cert> = aia::requesters(&analysis.certs, &analysis.path)
            .into_iter()
            .cloned()
            .collect();
        if !requesters.is_empty() {
            fetched = Some(aia::fetch_along(&requesters, &stores.stores, &settings.probe).await);
            analysis = analyse(
                AnalysisInput {
                    aia: fetched.as_ref(),
                    ..input.clone()
                },
                settings,
            );
        }
    }
    // Chrome counts SCTs from the TLS extension, which the main probe (rustls) cannot ask
    // for: a second, TLS 1.2 hello asks, only when the chain needs CT at all.
    let tls_scts = match (&analysis.ct, input.ders.first()) {
        (Some(ct), Some(leaf)) if ct.required && outcome.error.is_none() => {
            Some(probe::tls_scts::fetch(target, probe_options, outcome.address, leaf).await)
        }
        _ => None,
    };
    let input = AnalysisInput {
        tls_scts: tls_scts.as_ref(),
        ..input
    };
    if tls_scts.is_some() {
        analysis = analyse(
            AnalysisInput {
                aia: fetched.as_ref(),
                ..input.clone()
            },
            settings,
        );
    }
    let subjects = revocation::subjects(&analysis.certs, &analysis.path, &stores.stores);
    if let Some(&leaf) = analysis.path.positions.first() {
        let revocations =
            revocation::check(&subjects, leaf, outcome.stapled_ocsp.as_deref(), settings).await;
        let mut said = Vec::new();
        crate::revocation::findings(&revocations, leaf, &mut said);
        // Judged again only when revocation has something to say (it seldom has).
        if said.is_empty() {
            analysis.revocation = revocations;
        } else {
            analysis = analyse(
                AnalysisInput {
                    aia: fetched.as_ref(),
                    revocation: Some(&revocations),
                    ..input
                },
                settings,
            );
        }
    }
    fill(&mut report, analysis);
    if let Some(error) = outcome.error {
        // The chain was captured, so it is judged; the failed handshake is a finding.
        report.error_kind = Some(error.kind);
        report.findings.insert(
            0,
            Finding::new(
                FindingId::HandshakeFailed,
                None,
                format!(
                    "The server sent its certificate, then the handshake failed: {}",
                    error.message
                ),
            ),
        );
    }
    report.settle_status();
    report
}

fn fill(report: &mut Report, analysis: Analysis) {
    report.chain = analysis.certs.into_iter().map(|c| c.info).collect();
    report.path = analysis.path;
    report.trust = analysis.trust;
    report.findings = analysis.findings;
    report.clients = analysis.clients;
    report.recommendations = analysis.recommendations;
    report.aia_fetched = analysis.aia_fetched;
    report.aia_notes = analysis.aia_notes;
    report.revocation = analysis.revocation;
    report.ct = analysis.ct;
}

pub struct InspectOptions<'a> {
    pub hostname: Option<&'a Host>,
    /// `--key`: overrides a key found in the file.
    pub key: Option<&'a KeyInput>,
    /// `--chain`: extra certificates, as if appended to each file.
    pub extra_chain: &'a [CertificateDer<'static>],
}

/// Analyses a certificate file (PEM, DER or Kubernetes Secret) without a network.
pub fn inspect(path: &Path, options: &InspectOptions<'_>, settings: &Settings) -> Report {
    let label = path.display().to_string();
    match input::load_bundle(path) {
        Ok(bundle) => inspect_bundle(&label, bundle, options, settings),
        Err(e) => Report::failed(
            label,
            options.hostname.map(|h| h.to_string()),
            None,
            e.to_string(),
        ),
    }
}

/// Analyses certificates already read (a file's, or a Secret's from a manifest stream);
/// `label` names them in the report.
pub fn inspect_bundle(
    label: &str,
    bundle: input::Bundle,
    options: &InspectOptions<'_>,
    settings: &Settings,
) -> Report {
    let label = label.to_string();
    let hostname = options.hostname.map(|h| h.to_string());
    if bundle.key.is_none() && options.key.is_none() && options.extra_chain.is_empty() {
        if let Some(report) = bundle::report(&label, &bundle.certificates, settings.now()) {
            return report;
        }
    }
    let stores = settings
        .stores
        .wait()
        .with_private_anchors(&bundle.ca, &format!("{label} (ca.crt)"));
    let mut ders = bundle.certificates;
    ders.extend(options.extra_chain.iter().cloned());

    let mut key_error = None;
    let key = match options.key.or(bundle.key.as_ref()) {
        Some(KeyInput::Key(key)) => Some(key),
        Some(KeyInput::Unusable(why)) => {
            key_error = Some(why.clone());
            None
        }
        None => None,
    };
    let input = AnalysisInput {
        ders,
        leaf_first: false,
        hostname: options.hostname,
        authority: None,
        token_url: None,
        stores: &stores,
        key,
        alpn: None,
        dialled_host: None,
        aia: None,
        revocation: None,
        stapled_ocsp: None,
        tls_scts: None,
        first_signed_handshake: None,
    };
    let mut analysis = analyse(input.clone(), settings);
    // A file is judged as it will be served: browsers and macOS will fetch what it lacks.
    if settings.aia_fetch {
        let requesters: Vec<Cert> = aia::requesters(&analysis.certs, &analysis.path)
            .into_iter()
            .cloned()
            .collect();
        if !requesters.is_empty() {
            let fetched = aia::fetch_along_blocking(&requesters, &stores, &settings.probe);
            analysis = analyse(
                AnalysisInput {
                    aia: Some(&fetched),
                    ..input
                },
                settings,
            );
        }
    }
    let mut report = Report::failed(label.clone(), hostname, None, String::new());
    report.error = key_error
        .or_else(|| analysis.key_error.clone())
        .map(|why| format!("{label}: cannot check the private key: {why}"));
    fill(&mut report, analysis);
    report.settle_status();
    report
}

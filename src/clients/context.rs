//! The facts every client model reads, and the verdict each returns: which client and
//! channel, accepted or not, the error as the client prints it, and its finding ids.

use std::path::PathBuf;

use serde::Serialize;

use crate::chain::{Cert, Structure};
use crate::findings::{Finding, FindingId};
use crate::target::Host;
use crate::trust::{self, StoreKind, TrustStore, TrustVerdict};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClientName {
    FlytectlMacos,
    FlytectlLinux,
    Pyflyte,
    Browser,
}

impl ClientName {
    pub const ALL: &'static [ClientName] = &[
        ClientName::FlytectlMacos,
        ClientName::FlytectlLinux,
        ClientName::Pyflyte,
        ClientName::Browser,
    ];

    /// What the model stands for, for `--help`.
    pub fn help(self) -> &'static str {
        match self {
            ClientName::FlytectlMacos => {
                "flytectl on macOS (Go's gRPC channel, Apple's trustd for OAuth)"
            }
            ClientName::FlytectlLinux => "flytectl on Linux (Go's crypto/x509)",
            ClientName::Pyflyte => "pyflyte (grpcio/BoringSSL, requests/OpenSSL)",
            ClientName::Browser => "a browser (Chrome's verifier)",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ClientName::FlytectlMacos => "flytectl-macos",
            ClientName::FlytectlLinux => "flytectl-linux",
            ClientName::Pyflyte => "pyflyte",
            ClientName::Browser => "browser",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Channel {
    Grpc,
    OauthHttp,
    Https,
}

impl Channel {
    pub fn name(self) -> &'static str {
        match self {
            Channel::Grpc => "grpc",
            Channel::OauthHttp => "oauth-http",
            Channel::Https => "https",
        }
    }
}

/// How the user's Mac trusts the chain's anchor (Apple applies different rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AnchorKind {
    /// A root that ships with macOS (public Web PKI).
    System,
    /// A root the user or an admin added to the keychain (a company CA).
    Private,
    /// The leaf itself was added as trusted ("Always Trust" on a self-signed certificate).
    Leaf,
}

impl AnchorKind {
    pub const ALL: &'static [AnchorKind] =
        &[AnchorKind::System, AnchorKind::Private, AnchorKind::Leaf];

    pub fn name(self) -> &'static str {
        match self {
            AnchorKind::System => "system",
            AnchorKind::Private => "private",
            AnchorKind::Leaf => "leaf",
        }
    }

    /// What it means, for `--help`.
    pub fn help(self) -> &'static str {
        match self {
            AnchorKind::System => "A root that ships with macOS (public Web PKI)",
            AnchorKind::Private => "A root the user or an admin added to the keychain (a company CA)",
            AnchorKind::Leaf => "The leaf itself was added as trusted (\"Always Trust\" on a self-signed certificate)",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ClientVerdict {
    pub client: ClientName,
    pub channel: Channel,
    pub accepts: bool,
    /// The error as the client prints it; null when it accepts.
    pub error: Option<String>,
    /// Finding ids that cause the refusal.
    pub causes: Vec<FindingId>,
    /// What the verdict assumes or what the user should know.
    pub note: Option<String>,
}

/// flytectl's `admin` settings that change verification.
#[derive(Debug, Clone, Default)]
pub struct FlytectlSettings {
    pub config_path: Option<PathBuf>,
    /// admin.httpProxyURL.
    pub http_proxy_url: Option<String>,
    pub ca_cert_file: Option<PathBuf>,
    pub insecure_skip_verify: bool,
    pub insecure: bool,
}

#[derive(Default)]
pub struct ClientOptions {
    /// Limit output to these clients; empty means all.
    pub only: Vec<ClientName>,
    pub anchor_kind: Option<AnchorKind>,
    pub flytectl: FlytectlSettings,
    /// The anchors in flytectl's caCertFilePath, when the config names one.
    pub ca_cert_store: Option<TrustStore>,
    /// grpcio's roots from GRPC_DEFAULT_SSL_ROOTS_FILE_PATH, when set and readable.
    pub grpc_roots: std::sync::Arc<crate::trust::background::Background<Option<TrustStore>>>,
    /// flytekit's own overrides of the config (pyflyte only; flytectl does not read them):
    /// FLYTE_PLATFORM_CA_CERT_FILE_PATH and FLYTE_PLATFORM_INSECURE_SKIP_VERIFY.
    pub pyflyte_ca_cert_store: Option<TrustStore>,
    pub pyflyte_insecure_skip_verify: Option<bool>,
    /// The CT log list SCTs are verified against (`--ct-log-list`), for Chrome and, unless
    /// `apple_ct_logs` is given, for Apple; None: the embedded snapshots.
    pub ct_logs: Option<std::sync::Arc<crate::ct::LogList>>,
    /// Apple's alone (`--apple-ct-log-list`).
    pub apple_ct_logs: Option<std::sync::Arc<crate::ct::LogList>>,
}

impl ClientOptions {
    /// The CT log list Chrome's policy is judged by.
    pub fn ct_log_list(&self) -> std::sync::Arc<crate::ct::LogList> {
        self.ct_logs
            .clone()
            .unwrap_or_else(crate::ct::LogList::embedded)
    }

    /// The CT log list Apple's policy is judged by: `--apple-ct-log-list`, else the one
    /// `--ct-log-list` gives for both (an air-gapped user may have one file), else Apple's
    /// embedded snapshot.
    pub fn apple_ct_log_list(&self) -> std::sync::Arc<crate::ct::LogList> {
        self.apple_ct_logs
            .clone()
            .or_else(|| self.ct_logs.clone())
            .unwrap_or_else(crate::ct::LogList::embedded_apple)
    }
}

impl ClientOptions {
    /// Options with grpcio's roots taken from GRPC_DEFAULT_SSL_ROOTS_FILE_PATH, as grpcio
    /// does; an unreadable file falls back to the bundled roots, as grpcio does too.
    pub fn from_env() -> Self {
        let path = std::env::var_os("GRPC_DEFAULT_SSL_ROOTS_FILE_PATH").filter(|p| !p.is_empty());
        // Read in the background, like the OS store: it overlaps the probe.
        let grpc_roots =
            std::sync::Arc::new(crate::trust::background::Background::spawn(move || {
                path.and_then(|p| {
                    trust::store_from_file(StoreKind::GrpcRoots, std::path::Path::new(&p)).ok()
                })
            }));
        let pyflyte_ca_cert_store = std::env::var_os("FLYTE_PLATFORM_CA_CERT_FILE_PATH")
            .filter(|p| !p.is_empty())
            .and_then(|p| trust::store_from_file(StoreKind::CaFile, std::path::Path::new(&p)).ok());
        // flytekit reads booleans from the environment as "true"/"1" (case-insensitive).
        let pyflyte_insecure_skip_verify = std::env::var("FLYTE_PLATFORM_INSECURE_SKIP_VERIFY")
            .ok()
            .map(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "1"));
        ClientOptions {
            grpc_roots,
            pyflyte_ca_cert_store,
            pyflyte_insecure_skip_verify,
            ..ClientOptions::default()
        }
    }
}

/// What the models read about one chain: certificates and path, the stores and their
/// verdicts, the findings, the host name, and the instant to judge validity at.
pub struct ClientContext<'a> {
    /// The certificates as sent (or as the file holds them), parsable or not.
    pub presented: &'a [rustls_pki_types::CertificateDer<'static>],
    pub certs: &'a [Cert],
    pub structure: &'a Structure,
    pub stores: &'a [TrustStore],
    pub trust: &'a [TrustVerdict],
    pub findings: &'a [Finding],
    pub hostname: Option<&'a Host>,
    /// `host:port` for the OAuth token URL.
    pub authority: Option<String>,
    /// The token endpoint when known (from OAuth metadata); else assumed on `authority`.
    pub token_url: Option<String>,
    pub at: i64,
    pub options: &'a ClientOptions,
    /// The ALPN protocol the server selected when offered h2 and http/1.1: None when not
    /// probed (a file), Some(None) when it selected none.
    pub alpn: Option<Option<String>>,
    /// The host name as typed (see `AnalysisInput::dialled_host`).
    pub dialled_host: Option<String>,
    /// Whether the first certificate's key signed the handshake, when known (the probe's
    /// handshake completed, or a key was given); None: judged by the chain's order.
    pub first_signed_handshake: Option<bool>,
    /// Go's answers so far, by the roots they were given (see `go::verify`).
    pub go_outcomes: GoOutcomes,
    /// trustd's answer, once asked (flytectl on macOS asks for both channels alike when
    /// no caCertFilePath is set).
    pub apple_outcome: AppleOutcome,
    /// Issuers certready fetched from AIA caIssuers URLs, the first issued by the last sent
    /// certificate (empty when the chain is complete, fetching is off or it failed). Only
    /// the clients that fetch (Chrome, Apple's trustd) may use them.
    pub aia_fetched: &'a [AiaFetched],
    /// What the revocation step learnt (empty when it did not run).
    pub revocation: &'a [crate::revocation::CertRevocation],
    /// The leaf's SCTs, verified and counted by Chrome's and Apple's policies.
    pub ct: Option<&'a crate::ct::CtReport>,
}

/// One issuer fetched from an AIA caIssuers URL.
#[derive(Debug, Clone)]
pub struct AiaFetched {
    pub cert: Cert,
    pub url: String,
    /// The answer came through a redirect: Chrome follows it, Apple does not.
    pub redirected: bool,
}

/// Which client's fetcher (their rules differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fetcher {
    Chrome,
    Apple,
}

/// Go's answers within one analysis, by the roots they were given (see `go::verify`).
#[derive(Default)]
pub struct GoOutcomes(pub(super) std::cell::RefCell<Vec<GoOutcome>>);

/// trustd's answer within one analysis (see `apple::verify`).
#[derive(Default)]
pub struct AppleOutcome(pub(super) std::cell::OnceCell<Result<(), Refusal>>);

/// The roots Go was given (their DER) and what it answered.
pub(super) type GoOutcome = (Vec<Vec<u8>>, Result<(), Refusal>);

impl ClientContext<'_> {
    /// The fetched issuers `fetcher` would have got, in order: all for Chrome; for Apple,
    /// those before the first that came through a redirect (each hop needs the one before).
    pub(super) fn aia_for(&self, fetcher: Fetcher) -> Vec<&Cert> {
        self.aia_fetched
            .iter()
            .take_while(|f| fetcher == Fetcher::Chrome || !f.redirected)
            .map(|f| &f.cert)
            .collect()
    }

    /// The certificate whose key signs the server's handshake: the first sent when the
    /// probe saw it sign (or a given key is its); otherwise the first unless that is a CA
    /// and an end-entity certificate was sent after it (a leaf sent last).
    pub(super) fn server_certificate(&self) -> &Cert {
        let first = self.leaf();
        if self.first_signed_handshake == Some(true) || !first.info.is_ca {
            return first;
        }
        let end_entities: Vec<&Cert> = self
            .certs
            .iter()
            .filter(|c| !c.info.is_ca && self.presented.contains(&c.der))
            .collect();
        // The one the sent CAs issued: an unrelated end-entity certificate in the chain
        // is not the server's (differential seed 61).
        let issued_by_a_sent_ca = |c: &&Cert| {
            self.certs.iter().any(|ca| {
                ca.info.is_ca
                    && self.presented.contains(&ca.der)
                    && ca.info.facts.subject_der == c.info.facts.issuer_der
            })
        };
        end_entities
            .iter()
            .find(|c| issued_by_a_sent_ca(c))
            .or(end_entities.first())
            .copied()
            .unwrap_or(first)
    }

    /// The server's key when BoringSSL (grpcio, Chrome) offers no signature scheme for it
    /// (Ed25519, P-521): the server cannot sign its handshake and aborts it, before any
    /// certificate is checked.
    pub(super) fn server_key_boringssl_cannot_verify(&self) -> Option<&str> {
        let key = self.server_certificate().info.key.as_str();
        matches!(key, "Ed25519" | "ECDSA P-521").then_some(key)
    }

    /// BoringSSL's TLS 1.3 check on the first certificate sent, before verification: a
    /// keyUsage extension without digitalSignature cannot sign the handshake.
    pub(super) fn first_certificate_cannot_sign(&self) -> bool {
        let first = &self.leaf().info.facts;
        first.key_usage_present && !first.ku_digital_signature
    }

    pub(super) fn leaf(&self) -> &Cert {
        &self.certs[self.structure.leaf]
    }

    pub(super) fn store(&self, kind: StoreKind) -> Option<&TrustStore> {
        self.stores.iter().find(|s| s.kind == kind)
    }

    pub(super) fn has(&self, id: FindingId) -> bool {
        crate::findings::has(self.findings, id)
    }

    /// The finding ids among `ids` that this report carries.
    pub(super) fn causes(&self, ids: &[FindingId]) -> Vec<FindingId> {
        ids.iter().copied().filter(|&id| self.has(id)).collect()
    }

    /// A refusal with `text`, caused by those of `ids` that this report carries.
    /// The CA file the Flyte clients are configured with (`admin.caCertFilePath`, which
    /// flytectl and pyflyte both read): the config's, else `--ca-file`, which stands for it.
    pub(super) fn ca_cert_file(&self) -> Option<&TrustStore> {
        self.options
            .ca_cert_store
            .as_ref()
            .or_else(|| self.store(StoreKind::CaFile))
    }

    /// The server name a client is given: the host as typed, else the host; empty when the
    /// chain is judged without one.
    pub(super) fn server_name(&self) -> String {
        self.dialled_host
            .clone()
            .or_else(|| self.hostname.map(Host::to_string))
            .unwrap_or_default()
    }

    /// pyflyte's CA file: FLYTE_PLATFORM_CA_CERT_FILE_PATH, else the shared one.
    pub(super) fn pyflyte_ca_cert_file(&self) -> Option<&TrustStore> {
        self.options
            .pyflyte_ca_cert_store
            .as_ref()
            .or_else(|| self.ca_cert_file())
    }

    /// pyflyte's insecureSkipVerify: FLYTE_PLATFORM_INSECURE_SKIP_VERIFY, else the config's.
    pub(super) fn pyflyte_insecure_skip_verify(&self) -> bool {
        self.options
            .pyflyte_insecure_skip_verify
            .unwrap_or(self.options.flytectl.insecure_skip_verify)
    }

    /// The presented certificates as a server sends them: the leaf first, then the
    /// others in their order (a file may hold its leaf anywhere).
    pub(super) fn presented_leaf_first(&self) -> Vec<&[u8]> {
        let leaf = self.leaf().der.as_ref();
        let mut ders = vec![leaf];
        let mut skipped_leaf = false;
        for der in self.presented {
            if !skipped_leaf && der.as_ref() == leaf {
                skipped_leaf = true;
                continue;
            }
            ders.push(der.as_ref());
        }
        ders
    }

    pub(super) fn refusal(&self, text: impl Into<String>, ids: &[FindingId]) -> Refusal {
        Refusal {
            text: text.into(),
            causes: self.causes(ids),
        }
    }

    pub(super) fn token_url(&self) -> String {
        if let Some(url) = &self.token_url {
            return url.clone();
        }
        let authority = self
            .authority
            .clone()
            .or_else(|| self.hostname.map(|h| h.to_string()))
            .unwrap_or_else(|| "HOST".into());
        format!("https://{authority}/oauth2/token")
    }
}

impl ClientVerdict {
    /// The verdict for `outcome`: accepted, or refused with the refusal's text and causes.
    pub(super) fn new(
        client: ClientName,
        channel: Channel,
        outcome: Result<(), Refusal>,
        note: Option<String>,
    ) -> Self {
        let (accepts, error, causes) = match outcome {
            Ok(()) => (true, None, Vec::new()),
            Err(Refusal { text, causes }) => (false, Some(text), causes),
        };
        ClientVerdict {
            client,
            channel,
            accepts,
            error,
            causes,
            note,
        }
    }
}

/// Why a model refuses the chain: the error as the client reports it, and the finding
/// ids that cause it. Every model returns `Result<(), Refusal>`.
#[derive(Debug, Clone)]
pub(super) struct Refusal {
    pub(super) text: String,
    pub(super) causes: Vec<FindingId>,
}

impl Refusal {
    /// The same refusal in the words of the layer that reports it (e.g. Go's TLS client
    /// around an x509 error).
    pub(super) fn reworded(self, wording: impl FnOnce(String) -> String) -> Refusal {
        Refusal {
            text: wording(self.text),
            causes: self.causes,
        }
    }
}

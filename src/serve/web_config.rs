//! exporter-toolkit's web configuration file — node_exporter's and blackbox_exporter's
//! `--web.config.file` — read for `certready serve --web-config`: TLS with the server's
//! certificate, client certificates, versions, cipher suites and curves; basic auth users
//! with bcrypt hashes; extra response headers. One file format every Prometheus operator
//! already writes, and that `promtool check web-config` checks.
//!
//! Where rustls cannot do what Go's crypto/tls would (TLS 1.0/1.1, CBC and RSA key
//! exchange suites, P-521), loading fails with the reason instead of quietly serving
//! something else. Unknown keys fail with the key and its line, as Go's strict YAML does.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, SupportedKxGroup, WebPkiSupportedAlgorithms};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::WebPkiClientVerifier;
use rustls::{
    DigitallySignedStruct, DistinguishedName, RootCertStore, ServerConfig, SignatureScheme,
    SupportedCipherSuite, SupportedProtocolVersion,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use serde::Deserialize;
use serde_saphyr::Spanned;

/// Files this large are not a web config, a certificate or a key.
const MAX_FILE_BYTES: u64 = 1 << 20;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct WebConfigFile {
    #[serde(default)]
    tls_server_config: Option<TlsSection>,
    #[serde(default)]
    http_server_config: Option<HttpSection>,
    #[serde(default)]
    basic_auth_users: Option<BTreeMap<String, Spanned<String>>>,
    /// exporter-toolkit's token bucket: known, not implemented here (refused by name).
    #[serde(default)]
    rate_limit: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TlsSection {
    cert: Option<String>,
    key: Option<String>,
    client_ca: Option<String>,
    cert_file: Option<String>,
    key_file: Option<String>,
    client_auth_type: Option<Spanned<String>>,
    client_ca_file: Option<String>,
    client_allowed_sans: Option<Vec<String>>,
    min_version: Option<Spanned<String>>,
    max_version: Option<Spanned<String>>,
    cipher_suites: Option<Vec<Spanned<String>>>,
    prefer_server_cipher_suites: Option<bool>,
    curve_preferences: Option<Vec<Spanned<String>>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct HttpSection {
    http2: Option<bool>,
    headers: Option<BTreeMap<String, Spanned<String>>>,
}

/// exporter-toolkit's settable headers, with the values it accepts (None: any).
const HEADERS: &[(&str, Option<&[&str]>)] = &[
    ("Strict-Transport-Security", None),
    ("X-Content-Type-Options", Some(&["nosniff"])),
    ("X-Frame-Options", Some(&["deny", "sameorigin"])),
    ("X-XSS-Protection", None),
    ("Content-Security-Policy", None),
];

/// A loaded web config, ready to serve.
pub struct WebConfig {
    /// None: plain HTTP (the file has no certificate, as in exporter-toolkit).
    pub tls: Option<Arc<ServerConfig>>,
    pub basic_auth: Option<BasicAuthUsers>,
    pub headers: Vec<(http::HeaderName, http::HeaderValue)>,
    /// Every connection must present a certificate from client_ca (RequireAndVerifyClientCert).
    pub verifies_client_certificates: bool,
    /// The files it was built from, each with a hash of the content that was read.
    pub sources: Sources,
}

/// Files read while loading, each with the hash of what was read (or of the read error), so
/// a later poll can tell whether anything changed since — exactly what this load saw.
#[derive(Default, Clone, PartialEq, Eq, Debug)]
pub struct Sources(Vec<(PathBuf, u64)>);

impl Sources {
    fn read(&mut self, path: &Path) -> std::io::Result<Vec<u8>> {
        let result = read_small(path);
        self.0.push((path.to_path_buf(), content_hash(&result)));
        result
    }

    /// True when any file now reads differently from when it was loaded.
    pub fn changed(&self) -> bool {
        self.0
            .iter()
            .any(|(path, hash)| content_hash(&read_small(path)) != *hash)
    }
}

fn read_small(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(std::io::Error::other("larger than 1 MiB"));
    }
    Ok(bytes)
}

fn content_hash(read: &std::io::Result<Vec<u8>>) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    match read {
        Ok(bytes) => bytes.hash(&mut hasher),
        Err(e) => format!("{:?}", e.kind()).hash(&mut hasher),
    }
    hasher.finish()
}

/// A failed load: what went wrong, and the files read so far (watched for a fix).
pub struct LoadError {
    pub message: String,
    pub sources: Sources,
}

/// Users and their bcrypt hashes, with a decoy hash of the same cost for unknown users so
/// the time of an answer does not tell which user names exist.
pub struct BasicAuthUsers {
    users: BTreeMap<String, String>,
    decoy: String,
}

impl BasicAuthUsers {
    /// The hash to verify `user`'s password against, and whether the user exists.
    pub fn hash_for(&self, user: &str) -> (&str, bool) {
        match self.users.get(user) {
            Some(hash) => (hash, true),
            None => (&self.decoy, false),
        }
    }

    /// Blocking (bcrypt): call off the async workers. bcrypt's verify compares in constant
    /// time (subtle's ConstantTimeEq).
    pub fn verify(&self, user: &str, password: &[u8]) -> bool {
        let (hash, known) = self.hash_for(user);
        let matches = bcrypt::verify(password, hash).unwrap_or(false);
        known && matches
    }
}

fn at(location: &serde_saphyr::Location) -> String {
    format!("line {}: ", location.line())
}

/// Reads and builds the web config at `path`. Relative file names are relative to the
/// file's directory, as in exporter-toolkit. Blocking (files, bcrypt).
pub fn load(path: &Path) -> Result<WebConfig, LoadError> {
    let mut sources = Sources::default();
    let result = load_recording(path, &mut sources);
    match result {
        Ok(mut config) => {
            config.sources = sources;
            Ok(config)
        }
        Err(message) => Err(LoadError { message, sources }),
    }
}

fn load_recording(path: &Path, sources: &mut Sources) -> Result<WebConfig, String> {
    let bytes = sources
        .read(path)
        .map_err(|e| format!("cannot read it: {e}"))?;
    let text = String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_string())?;
    let file = parse(&text)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    if file.rate_limit.is_some() {
        // A top-level key starts a line, unindented.
        let line = text
            .lines()
            .position(|l| l.starts_with("rate_limit:"))
            .map(|i| format!("line {}: ", i + 1))
            .unwrap_or_default();
        return Err(format!(
            "{line}rate_limit is not supported by certready serve (remove it; serve already bounds connections and probes in flight)"
        ));
    }
    let http = file.http_server_config.unwrap_or_default();
    let headers = headers(http.headers.unwrap_or_default())?;
    let tls_section = file.tls_server_config.unwrap_or_default();
    let verifies_client_certificates = tls_section
        .client_auth_type
        .as_ref()
        .is_some_and(|t| t.value == "RequireAndVerifyClientCert");
    let tls = tls(&tls_section, dir, http.http2.unwrap_or(true), sources)?;
    let basic_auth = match file.basic_auth_users {
        Some(users) if !users.is_empty() => Some(basic_auth(users)?),
        _ => None,
    };
    Ok(WebConfig {
        tls: tls.map(Arc::new),
        basic_auth,
        headers,
        verifies_client_certificates,
        sources: Sources::default(),
    })
}

fn parse(text: &str) -> Result<WebConfigFile, String> {
    // An empty file (or only comments) is a valid, empty config, as in exporter-toolkit.
    let meaningful = text
        .lines()
        .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#') && l.trim() != "---");
    if !meaningful {
        return Ok(WebConfigFile::default());
    }
    serde_saphyr::from_str(text).map_err(|e| e.to_string())
}

fn headers(
    configured: BTreeMap<String, Spanned<String>>,
) -> Result<Vec<(http::HeaderName, http::HeaderValue)>, String> {
    let mut headers = Vec::new();
    for (name, value) in configured {
        let where_ = at(&value.referenced);
        let Some((_, allowed)) = HEADERS.iter().find(|(known, _)| *known == name) else {
            let names: Vec<&str> = HEADERS.iter().map(|(n, _)| *n).collect();
            return Err(format!(
                "{where_}HTTP header {name:?} can not be configured (one of {})",
                names.join(", ")
            ));
        };
        // Blank means unset.
        if value.value.is_empty() {
            continue;
        }
        if let Some(allowed) = allowed {
            if !allowed.contains(&value.value.as_str()) {
                return Err(format!(
                    "{where_}invalid value {:?} for {name} (one of {})",
                    value.value,
                    allowed.join(", ")
                ));
            }
        }
        let header_value = http::HeaderValue::from_str(&value.value)
            .map_err(|_| format!("{where_}{name}: not a valid header value"))?;
        headers.push((
            http::HeaderName::from_bytes(name.as_bytes()).expect("names in HEADERS are valid"),
            header_value,
        ));
    }
    Ok(headers)
}

fn basic_auth(users: BTreeMap<String, Spanned<String>>) -> Result<BasicAuthUsers, String> {
    let mut cost = bcrypt::DEFAULT_COST;
    let mut hashes = BTreeMap::new();
    for (user, hash) in users {
        let parts: bcrypt::HashParts = hash.value.parse().map_err(|e| {
            format!(
                "{}basic_auth_users: the password of {user:?} is not a bcrypt hash ({e}); make one with htpasswd -nbB USER PASSWORD",
                at(&hash.referenced)
            )
        })?;
        cost = cost.max(parts.get_cost());
        hashes.insert(user, hash.value);
    }
    // Only the cost matters: an unknown user takes as long as a known one.
    let decoy = bcrypt::hash("certready-decoy-password", cost)
        .map_err(|e| format!("basic_auth_users: {e}"))?;
    Ok(BasicAuthUsers {
        users: hashes,
        decoy,
    })
}

/// exporter-toolkit serves TLS when any of these is set (its TLSConfig.IsEnabled).
fn tls_enabled(section: &TlsSection) -> bool {
    [
        &section.cert,
        &section.key,
        &section.client_ca,
        &section.cert_file,
        &section.key_file,
        &section.client_ca_file,
    ]
    .iter()
    .any(|field| field.as_deref().is_some_and(|s| !s.is_empty()))
        || section
            .client_auth_type
            .as_ref()
            .is_some_and(|t| !t.value.is_empty())
}

fn nonempty(field: &Option<String>) -> Option<&str> {
    field.as_deref().filter(|s| !s.is_empty())
}

/// PEM from the inline field or the file field (relative to the config's directory).
fn pem_source(
    inline: &Option<String>,
    file: &Option<String>,
    names: (&str, &str),
    dir: &Path,
    sources: &mut Sources,
) -> Result<Option<(Vec<u8>, String)>, String> {
    match (nonempty(inline), nonempty(file)) {
        (Some(_), Some(_)) => Err(format!(
            "tls_server_config: give {} or {}, not both",
            names.0, names.1
        )),
        (Some(text), None) => Ok(Some((text.as_bytes().to_vec(), names.0.to_string()))),
        (None, Some(file)) => {
            let path = dir.join(file);
            let bytes = sources
                .read(&path)
                .map_err(|e| format!("{} {}: {e}", names.1, path.display()))?;
            Ok(Some((bytes, format!("{} {}", names.1, path.display()))))
        }
        (None, None) => Ok(None),
    }
}

fn certificates(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{what}: not PEM certificates ({e})"))?;
    if certs.is_empty() {
        return Err(format!("{what}: no PEM certificate in it"));
    }
    Ok(certs)
}

fn tls(
    section: &TlsSection,
    dir: &Path,
    http2: bool,
    sources: &mut Sources,
) -> Result<Option<ServerConfig>, String> {
    if !tls_enabled(section) {
        return Ok(None);
    }
    let (cert_pem, cert_what) = pem_source(
        &section.cert,
        &section.cert_file,
        ("cert", "cert_file"),
        dir,
        sources,
    )?
    .ok_or("tls_server_config: missing one of cert or cert_file")?;
    let (key_pem, key_what) = pem_source(
        &section.key,
        &section.key_file,
        ("key", "key_file"),
        dir,
        sources,
    )?
    .ok_or("tls_server_config: missing one of key or key_file")?;
    let chain = certificates(&cert_pem, &cert_what)?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
        format!("{key_what}: no private key (PKCS#8, PKCS#1 or SEC1 PEM) in it ({e})")
    })?;

    let provider = Arc::new(provider(section)?);
    let versions = versions(section)?;
    let verifier = client_verifier(section, dir, sources, &provider)?;
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&versions)
        .map_err(|e| format!("tls_server_config: {e}"))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(|e| format!("{cert_what} and {key_what}: {e}"))?;
    config.ignore_client_order = section.prefer_server_cipher_suites.unwrap_or(true);
    config.alpn_protocols = if http2 {
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    } else {
        vec![b"http/1.1".to_vec()]
    };
    Ok(Some(config))
}

fn version(
    field: &Option<Spanned<String>>,
    name: &str,
    default: &'static SupportedProtocolVersion,
) -> Result<&'static SupportedProtocolVersion, String> {
    let Some(value) = field else {
        return Ok(default);
    };
    match value.value.as_str() {
        "TLS12" => Ok(&rustls::version::TLS12),
        "TLS13" => Ok(&rustls::version::TLS13),
        "TLS10" | "TLS11" => Err(format!(
            "{}{name}: {} is not supported: rustls implements TLS 1.2 and 1.3 only (use TLS12)",
            at(&value.referenced),
            value.value
        )),
        other => Err(format!(
            "{}{name}: unknown TLS version {other:?} (TLS12 or TLS13)",
            at(&value.referenced)
        )),
    }
}

fn versions(section: &TlsSection) -> Result<Vec<&'static SupportedProtocolVersion>, String> {
    let min = version(&section.min_version, "min_version", &rustls::version::TLS12)?;
    let max = version(&section.max_version, "max_version", &rustls::version::TLS13)?;
    let rank = |v: &SupportedProtocolVersion| u16::from(v.version);
    if rank(min) > rank(max) {
        return Err("tls_server_config: min_version is above max_version".into());
    }
    Ok([&rustls::version::TLS12, &rustls::version::TLS13]
        .into_iter()
        .filter(|v| rank(v) >= rank(min) && rank(v) <= rank(max))
        .collect())
}

/// A Go crypto/tls cipher suite name (exporter-toolkit takes Go's names), as rustls sees it.
enum Suite {
    Tls12(SupportedCipherSuite),
    /// Go ignores configured TLS 1.3 suites (all of them are always on); so do we.
    Tls13,
    /// A suite Go offers that rustls does not implement, and why.
    Missing(&'static str),
}

fn go_suite(name: &str) -> Option<Suite> {
    use rustls::crypto::aws_lc_rs::cipher_suite as rs;
    Some(match name {
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" => {
            Suite::Tls12(rs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)
        }
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384" => {
            Suite::Tls12(rs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384)
        }
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" => {
            Suite::Tls12(rs::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)
        }
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" => {
            Suite::Tls12(rs::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384)
        }
        // Go accepts both spellings of the ChaCha20 suites.
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"
        | "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305" => {
            Suite::Tls12(rs::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256)
        }
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256" | "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305" => {
            Suite::Tls12(rs::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256)
        }
        "TLS_AES_128_GCM_SHA256" | "TLS_AES_256_GCM_SHA384" | "TLS_CHACHA20_POLY1305_SHA256" => {
            Suite::Tls13
        }
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"
        | "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"
        | "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"
        | "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA" => {
            Suite::Missing("rustls implements no CBC cipher suite")
        }
        "TLS_RSA_WITH_AES_128_CBC_SHA"
        | "TLS_RSA_WITH_AES_256_CBC_SHA"
        | "TLS_RSA_WITH_AES_128_GCM_SHA256"
        | "TLS_RSA_WITH_AES_256_GCM_SHA384" => {
            Suite::Missing("rustls implements no RSA key exchange (no forward secrecy)")
        }
        _ => return None,
    })
}

/// Go's curve names (exporter-toolkit's list, and Go's hybrid post-quantum group).
fn go_curve(name: &str) -> Option<Result<&'static dyn SupportedKxGroup, &'static str>> {
    use rustls::crypto::aws_lc_rs::kx_group as kx;
    Some(match name {
        "CurveP256" => Ok(kx::SECP256R1),
        "CurveP384" => Ok(kx::SECP384R1),
        "X25519" => Ok(kx::X25519),
        "X25519MLKEM768" => Ok(kx::X25519MLKEM768),
        "CurveP521" => Err("rustls does not implement P-521 key exchange"),
        _ => return None,
    })
}

/// aws-lc-rs (the binary's one provider), narrowed to the configured suites and curves.
fn provider(section: &TlsSection) -> Result<CryptoProvider, String> {
    let mut provider = rustls::crypto::aws_lc_rs::default_provider();
    if let Some(names) = section.cipher_suites.as_ref().filter(|n| !n.is_empty()) {
        let mut tls12 = Vec::new();
        for name in names {
            match go_suite(&name.value) {
                Some(Suite::Tls12(suite)) => tls12.push(suite),
                Some(Suite::Tls13) => {}
                Some(Suite::Missing(why)) => {
                    return Err(format!(
                        "{}cipher_suites: {} is not supported: {why}",
                        at(&name.referenced),
                        name.value
                    ))
                }
                None => {
                    return Err(format!(
                        "{}cipher_suites: unknown cipher suite {:?} (Go crypto/tls names, e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)",
                        at(&name.referenced),
                        name.value
                    ))
                }
            }
        }
        let tls13 = provider
            .cipher_suites
            .iter()
            .filter(|s| matches!(s, SupportedCipherSuite::Tls13(_)))
            .copied();
        provider.cipher_suites = tls13.chain(tls12).collect();
    }
    if let Some(names) = section.curve_preferences.as_ref().filter(|n| !n.is_empty()) {
        let mut groups = Vec::new();
        for name in names {
            match go_curve(&name.value) {
                Some(Ok(group)) => groups.push(group),
                Some(Err(why)) => {
                    return Err(format!(
                        "{}curve_preferences: {} is not supported: {why}",
                        at(&name.referenced),
                        name.value
                    ))
                }
                None => {
                    return Err(format!(
                        "{}curve_preferences: unknown curve {:?} (CurveP256, CurveP384, X25519, X25519MLKEM768)",
                        at(&name.referenced),
                        name.value
                    ))
                }
            }
        }
        provider.kx_groups = groups;
    }
    Ok(provider)
}

fn client_verifier(
    section: &TlsSection,
    dir: &Path,
    sources: &mut Sources,
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<dyn ClientCertVerifier>, String> {
    let ca = pem_source(
        &section.client_ca,
        &section.client_ca_file,
        ("client_ca", "client_ca_file"),
        dir,
        sources,
    )?;
    let (auth_type, where_) = match &section.client_auth_type {
        Some(t) => (t.value.as_str(), at(&t.referenced)),
        None => ("", String::new()),
    };
    let roots = |ca: &Option<(Vec<u8>, String)>| -> Result<Arc<RootCertStore>, String> {
        let Some((pem, what)) = ca else {
            return Err(format!(
                "{where_}client_auth_type {auth_type} needs client_ca_file (or client_ca): the CAs that issue client certificates"
            ));
        };
        let mut store = RootCertStore::empty();
        for cert in certificates(pem, what)? {
            store
                .add(cert)
                .map_err(|e| format!("{what}: not a usable CA certificate ({e})"))?;
        }
        Ok(Arc::new(store))
    };
    let algorithms = provider.signature_verification_algorithms;
    let verifier: Arc<dyn ClientCertVerifier> = match auth_type {
        "" | "NoClientCert" => {
            if ca.is_some() {
                return Err(
                    "tls_server_config: client CAs are configured without a client_auth_type"
                        .into(),
                );
            }
            rustls::server::WebPkiClientVerifier::no_client_auth()
        }
        "RequestClientCert" => Arc::new(AnyClientCertificate {
            mandatory: false,
            algorithms,
        }),
        // "RequireClientCert" is exporter-toolkit's old spelling.
        "RequireAnyClientCert" | "RequireClientCert" => Arc::new(AnyClientCertificate {
            mandatory: true,
            algorithms,
        }),
        "VerifyClientCertIfGiven" => {
            WebPkiClientVerifier::builder_with_provider(roots(&ca)?, provider.clone())
                .allow_unauthenticated()
                .build()
                .map_err(|e| format!("{where_}client certificates: {e}"))?
        }
        "RequireAndVerifyClientCert" => {
            WebPkiClientVerifier::builder_with_provider(roots(&ca)?, provider.clone())
                .build()
                .map_err(|e| format!("{where_}client certificates: {e}"))?
        }
        other => {
            return Err(format!(
                "{where_}invalid client_auth_type {other:?} (NoClientCert, RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven or RequireAndVerifyClientCert)"
            ))
        }
    };
    match &section.client_allowed_sans {
        None => Ok(verifier),
        Some(_) if !matches!(
            auth_type,
            "RequireAnyClientCert" | "RequireClientCert" | "RequireAndVerifyClientCert"
        ) =>
        {
            Err("client_allowed_sans requires client_auth_type to be one of RequireAnyClientCert or RequireAndVerifyClientCert".into())
        }
        Some(allowed) => Ok(Arc::new(AllowedSans {
            inner: verifier,
            allowed: allowed.clone(),
        })),
    }
}

/// Go's RequestClientCert and RequireAnyClientCert: a certificate is asked for (and
/// required by the second), its signature over the handshake checked, its issuer not.
#[derive(Debug)]
struct AnyClientCertificate {
    mandatory: bool,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for AnyClientCertificate {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        self.mandatory
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// exporter-toolkit's client_allowed_sans: after the inner verifier, the client
/// certificate must carry one of these SAN values exactly (DNS, e-mail, IP or URI).
#[derive(Debug)]
struct AllowedSans {
    inner: Arc<dyn ClientCertVerifier>,
    allowed: Vec<String>,
}

fn san_values(der: &[u8]) -> Vec<String> {
    use x509_parser::extensions::GeneralName;
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(der) else {
        return Vec::new();
    };
    let Ok(Some(san)) = cert.subject_alternative_name() else {
        return Vec::new();
    };
    san.value
        .general_names
        .iter()
        .filter_map(|name| match name {
            GeneralName::DNSName(s) | GeneralName::RFC822Name(s) | GeneralName::URI(s) => {
                Some(s.to_string())
            }
            GeneralName::IPAddress(bytes) => match bytes.len() {
                4 => Some(std::net::IpAddr::from(<[u8; 4]>::try_from(*bytes).ok()?).to_string()),
                16 => Some(std::net::IpAddr::from(<[u8; 16]>::try_from(*bytes).ok()?).to_string()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

impl ClientCertVerifier for AllowedSans {
    fn offer_client_auth(&self) -> bool {
        self.inner.offer_client_auth()
    }

    fn client_auth_mandatory(&self) -> bool {
        self.inner.client_auth_mandatory()
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let verified = self
            .inner
            .verify_client_cert(end_entity, intermediates, now)?;
        if san_values(end_entity)
            .iter()
            .any(|value| self.allowed.contains(value))
        {
            Ok(verified)
        } else {
            Err(rustls::Error::General(
                "the client certificate has none of client_allowed_sans".into(),
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str) -> Result<WebConfig, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("web.yml");
        std::fs::write(&path, text).unwrap();
        load(&path).map_err(|e| e.message)
    }

    #[test]
    fn an_empty_file_is_plain_http_without_auth() {
        let config = load_text("# nothing yet\n").unwrap();
        assert!(config.tls.is_none() && config.basic_auth.is_none());
    }

    #[test]
    fn unknown_keys_name_the_key_and_line() {
        let error = load_text("basic_auth_users: {}\ntls_server_config:\n  cert_fil: x\n")
            .err()
            .unwrap();
        assert!(error.contains("cert_fil"), "{error}");
        assert!(error.contains("line 3"), "{error}");
    }

    #[test]
    fn rate_limit_is_refused_by_name_and_line() {
        let error = load_text("basic_auth_users: {}\nrate_limit:\n  interval: 1s\n  burst: 5\n")
            .err()
            .unwrap();
        assert!(
            error.contains("line 2") && error.contains("rate_limit is not supported"),
            "{error}"
        );
    }

    #[test]
    fn go_names_map_to_rustls_suites_or_a_reason() {
        assert!(matches!(
            go_suite("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
            Some(Suite::Tls12(_))
        ));
        assert!(matches!(
            go_suite("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305"),
            Some(Suite::Tls12(_))
        ));
        assert!(matches!(
            go_suite("TLS_AES_128_GCM_SHA256"),
            Some(Suite::Tls13)
        ));
        assert!(matches!(
            go_suite("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"),
            Some(Suite::Missing(_))
        ));
        assert!(go_suite("TLS_RSA_WITH_RC4_128_SHA").is_none());
        assert!(matches!(go_curve("CurveP521"), Some(Err(_))));
        assert!(matches!(go_curve("X25519"), Some(Ok(_))));
    }

    #[test]
    fn headers_follow_exporter_toolkit() {
        let config = load_text(
            "http_server_config:\n  headers:\n    Strict-Transport-Security: max-age=31536000\n    X-Frame-Options: deny\n",
        )
        .unwrap();
        assert_eq!(config.headers.len(), 2);
        let error = load_text("http_server_config:\n  headers:\n    X-Frame-Options: allow\n")
            .err()
            .unwrap();
        assert!(
            error.contains("line 3") && error.contains("deny"),
            "{error}"
        );
        let error = load_text("http_server_config:\n  headers:\n    Server: certready\n")
            .err()
            .unwrap();
        assert!(error.contains("can not be configured"), "{error}");
    }

    #[test]
    fn bcrypt_users_verify_and_unknown_users_do_not() {
        let hash = bcrypt::hash("s3cret", 4)
            .unwrap()
            .replacen("$2b$", "$2y$", 1);
        let config = load_text(&format!("basic_auth_users:\n  prometheus: '{hash}'\n")).unwrap();
        let users = config.basic_auth.unwrap();
        assert!(users.verify("prometheus", b"s3cret"));
        assert!(!users.verify("prometheus", b"wrong"));
        assert!(!users.verify("nobody", b"s3cret"));
        assert!(!users.hash_for("nobody").1);
        let error = load_text("basic_auth_users:\n  prometheus: plain\n")
            .err()
            .unwrap();
        assert!(
            error.contains("line 2") && error.contains("bcrypt"),
            "{error}"
        );
    }
}

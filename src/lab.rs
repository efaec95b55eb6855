//! A small local PKI and loopback TLS servers, used by `certready demo` and by the
//! integration tests, so both exercise the real probe against real handshakes. Public
//! for the tests (tests/it) and the fuzz targets; not an API for other programs.

use std::net::SocketAddr;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::ServerConfig;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::{Duration, OffsetDateTime};
use tokio::net::TcpListener;

use crate::der::tlv;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    EcdsaP256,
    Rsa2048,
}

/// What to put in a certificate. Validity is relative to now, in days.
#[derive(Debug, Clone)]
pub struct Spec {
    pub common_name: String,
    pub organization: Option<String>,
    /// DNS names or IP addresses; empty means no subjectAltName extension at all.
    pub names: Vec<String>,
    /// Days from now to notBefore (negative: in the past).
    pub starts_in_days: i64,
    pub lifetime_days: i64,
    pub ca: bool,
    /// None: no EKU extension.
    pub eku: Option<Vec<ExtendedKeyUsagePurpose>>,
    pub key: KeyKind,
    pub ca_issuers_url: Option<String>,
    /// Add basicConstraints CA:FALSE explicitly on a non-CA.
    pub explicit_not_ca: bool,
    /// pathLenConstraint of a CA.
    pub path_len: Option<u8>,
    /// An absolute notBefore instead of `starts_in_days`.
    pub not_before: Option<OffsetDateTime>,
    /// A lifetime in seconds instead of `lifetime_days` (for exact boundaries).
    pub lifetime_seconds: Option<i64>,
    /// Embedded Certificate Transparency SCTs, signed over the precertificate by this many
    /// of the lab's test CT logs ([`ct_log_list_json`]), one per operator, at notBefore.
    pub sct_count: usize,
    /// An embedded SCT list (TLS-encoded, RFC 6962 §3.3) in place of the fake ones, as the
    /// last extension: the certificate without it is its precertificate's TBS.
    pub sct_list: Option<Vec<u8>>,
    /// Add a keyUsage extension (as CAs and most issuers do); `openssl req -x509` does not.
    pub key_usage: bool,
    /// Add a critical private extension no client knows (OID 1.3.6.1.4.1.55555.1).
    pub unknown_critical_extension: bool,
}

impl Spec {
    /// A well-formed server certificate: SAN, serverAuth, 90 days, ECDSA.
    pub fn leaf(host: &str) -> Self {
        Spec {
            common_name: host.to_string(),
            organization: None,
            names: vec![host.to_string()],
            starts_in_days: -1,
            lifetime_days: 90,
            ca: false,
            eku: Some(vec![ExtendedKeyUsagePurpose::ServerAuth]),
            key: KeyKind::EcdsaP256,
            ca_issuers_url: None,
            explicit_not_ca: false,
            path_len: None,
            not_before: None,
            lifetime_seconds: None,
            sct_count: 0,
            sct_list: None,
            key_usage: true,
            unknown_critical_extension: false,
        }
    }

    /// What `openssl req -x509 -newkey rsa:2048 -days 3650 -subj /CN=HOST` makes (to be
    /// self-signed): CN only, no SAN, no EKU, CA:TRUE, ten years.
    pub fn openssl_req_x509(host: &str) -> Self {
        Spec {
            names: Vec::new(),
            lifetime_days: 3650,
            ca: true,
            eku: None,
            key: KeyKind::Rsa2048,
            key_usage: false,
            ..Spec::leaf(host)
        }
    }

    /// A CA certificate valid for ten years.
    pub fn ca(common_name: &str) -> Self {
        Spec {
            common_name: common_name.to_string(),
            organization: None,
            names: Vec::new(),
            starts_in_days: -1,
            lifetime_days: 3650,
            ca: true,
            eku: None,
            key: KeyKind::EcdsaP256,
            ca_issuers_url: None,
            explicit_not_ca: false,
            path_len: None,
            not_before: None,
            lifetime_seconds: None,
            sct_count: 0,
            sct_list: None,
            key_usage: true,
            unknown_critical_extension: false,
        }
    }

    fn params(&self) -> Result<CertificateParams, rcgen::Error> {
        let mut params = CertificateParams::default();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, self.common_name.as_str());
        if let Some(org) = &self.organization {
            params
                .distinguished_name
                .push(DnType::OrganizationName, org.as_str());
        }
        for name in &self.names {
            params.subject_alt_names.push(match name.parse() {
                Ok(ip) => SanType::IpAddress(ip),
                Err(_) => SanType::DnsName(name.clone().try_into()?),
            });
        }
        let now = OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .unwrap_or_else(|_| OffsetDateTime::now_utc());
        params.not_before = self
            .not_before
            .unwrap_or(now + Duration::days(self.starts_in_days));
        params.not_after = params.not_before
            + match self.lifetime_seconds {
                Some(seconds) => Duration::seconds(seconds),
                None => Duration::days(self.lifetime_days),
            };
        if self.ca {
            params.is_ca = IsCa::Ca(match self.path_len {
                Some(n) => BasicConstraints::Constrained(n),
                None => BasicConstraints::Unconstrained,
            });
            params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        } else {
            if self.explicit_not_ca {
                params.is_ca = IsCa::ExplicitNoCa;
            }
            params.key_usages = vec![
                KeyUsagePurpose::DigitalSignature,
                KeyUsagePurpose::KeyEncipherment,
            ];
        }
        if !self.key_usage {
            params.key_usages.clear();
        }
        if let Some(eku) = &self.eku {
            params.extended_key_usages = eku.clone();
        }
        params.use_authority_key_identifier_extension = true;
        if let Some(url) = &self.ca_issuers_url {
            params
                .custom_extensions
                .push(CustomExtension::from_oid_content(
                    &[1, 3, 6, 1, 5, 5, 7, 1, 1],
                    aia_ca_issuers(url),
                ));
        }
        if self.unknown_critical_extension {
            let mut extension =
                CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 55555, 1], vec![0x05, 0x00]);
            extension.set_criticality(true);
            params.custom_extensions.push(extension);
        }
        if let Some(list) = &self.sct_list {
            params
                .custom_extensions
                .push(CustomExtension::from_oid_content(
                    &[1, 3, 6, 1, 4, 1, 11129, 2, 4, 2],
                    tlv(0x04, list),
                ));
        }
        Ok(params)
    }

    fn key_pair(&self) -> Result<KeyPair, rcgen::Error> {
        match self.key {
            KeyKind::EcdsaP256 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256),
            KeyKind::Rsa2048 => KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256),
        }
    }
}

/// AuthorityInfoAccess with one caIssuers URI, DER-encoded by hand (rcgen has no API).
fn aia_ca_issuers(url: &str) -> Vec<u8> {
    let oid_ca_issuers = [0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x02];
    let mut description = oid_ca_issuers.to_vec();
    description.extend(tlv(0x86, url.as_bytes()));
    tlv(0x30, &tlv(0x30, &description))
}

/// The lab's test CT logs: P-256 keys made once per process, each its own operator
/// ("Lab CT Operator N"), enough for any SCT count Apple's and Chrome's policies ask.
fn lab_ct_logs() -> &'static [KeyPair] {
    static LOGS: std::sync::OnceLock<Vec<KeyPair>> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        (0..6)
            .map(|_| {
                KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
                    .expect("a P-256 key generates")
            })
            .collect()
    })
}

fn log_id(key: &KeyPair) -> [u8; 32] {
    use rcgen::PublicKeyData;
    let digest =
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &key.subject_public_key_info());
    let mut id = [0; 32];
    id.copy_from_slice(digest.as_ref());
    id
}

/// A CT log list (Chrome's v3 schema, made now) of the lab's test logs, for
/// `--ct-log-list` or [`crate::clients::ClientOptions::ct_logs`].
pub fn ct_log_list_json() -> String {
    use base64::Engine;
    use rcgen::PublicKeyData;
    let b64 = base64::engine::general_purpose::STANDARD;
    let operators: Vec<serde_json::Value> = lab_ct_logs()
        .iter()
        .enumerate()
        .map(|(i, key)| {
            serde_json::json!({
                "name": format!("Lab CT Operator {}", i + 1),
                "email": [],
                "logs": [{
                    "description": format!("Lab CT log {}", i + 1),
                    "log_id": b64.encode(log_id(key)),
                    "key": b64.encode(key.subject_public_key_info()),
                    "url": "https://ct.invalid/",
                    "mmd": 86400,
                    "state": { "usable": { "timestamp": "2010-01-01T00:00:00Z" } },
                }],
            })
        })
        .collect();
    let made = OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    serde_json::json!({ "version": "lab", "log_list_timestamp": made, "operators": operators })
        .to_string()
}

/// The lab's test logs as certready reads them.
pub fn ct_log_list() -> Arc<crate::ct::LogList> {
    Arc::new(
        crate::ct::LogList::parse(ct_log_list_json().as_bytes(), "lab CT log list")
            .expect("the lab's log list parses"),
    )
}

/// `count` SCTs (RFC 6962 §3.2) over the precertificate `precert` (the certificate
/// issued without them) by the first `count` lab logs, timestamped `at`.
fn lab_sct_list(precert: &[u8], issuer_spki: &[u8], count: usize, at: i64) -> Vec<u8> {
    use crate::ct::sct;
    use rcgen::SigningKey;
    let tbs = crate::ct::precert::tbs(precert).unwrap_or_default();
    let mut issuer_key_hash = [0; 32];
    issuer_key_hash.copy_from_slice(
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, issuer_spki).as_ref(),
    );
    let scts: Vec<sct::Sct> = lab_ct_logs()
        .iter()
        .cycle()
        .take(count)
        .map(|key| {
            let mut sct = sct::Sct {
                version: 0,
                log_id: log_id(key),
                timestamp: at.max(0) as u64 * 1000,
                extensions: Vec::new(),
                hash: 4,
                signature_algorithm: 3,
                signature: Vec::new(),
            };
            let entry = sct::Entry::Precertificate {
                issuer_key_hash,
                tbs,
            };
            sct.signature = key
                .sign(&sct::signed_data(&sct, &entry))
                .unwrap_or_default();
            sct
        })
        .collect();
    sct::encode_list(&scts)
}

/// `spec` with its SCTs: issued once without them (the precertificate), the lab logs
/// sign that, then issued again with the list (same notBefore, key and serial).
fn with_lab_scts(
    spec: &Spec,
    key: &KeyPair,
    issuer_spki: &[u8],
    issue: impl Fn(&Spec, KeyPair) -> Result<Issued, rcgen::Error>,
) -> Result<Spec, rcgen::Error> {
    let mut spec = spec.clone();
    spec.not_before = Some(spec.params()?.not_before);
    let precert = issue(
        &Spec {
            sct_count: 0,
            ..spec.clone()
        },
        KeyPair::from_pem(&key.serialize_pem())?,
    )?;
    spec.sct_list = Some(lab_sct_list(
        &precert.der,
        issuer_spki,
        spec.sct_count,
        spec.not_before
            .map(OffsetDateTime::unix_timestamp)
            .unwrap_or_default(),
    ));
    Ok(spec)
}

/// A generated certificate with its key and parameters (to issue further certificates).
pub struct Issued {
    pub der: CertificateDer<'static>,
    pub pem: String,
    pub key: KeyPair,
    /// None for certificates loaded from PEM: they can be served but not issue others.
    params: Option<CertificateParams>,
}

impl Issued {
    /// A certificate and key made elsewhere (e.g. by openssl), for serving.
    pub fn from_pem(cert_pem: &str, key_pem: &str) -> Result<Self, rcgen::Error> {
        use rustls_pki_types::pem::PemObject;
        let der = CertificateDer::from_pem_slice(cert_pem.as_bytes())
            .map_err(|_| rcgen::Error::CouldNotParseCertificate)?;
        Ok(Issued {
            der,
            pem: cert_pem.to_string(),
            key: KeyPair::from_pem(key_pem)?,
            params: None,
        })
    }

    pub fn key_der(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.serialize_der()))
    }

    pub fn key_pem(&self) -> String {
        self.key.serialize_pem()
    }

    /// A copy of the key pair (rcgen's KeyPair is not Clone).
    pub fn key_copy(&self) -> KeyPair {
        KeyPair::from_pem(&self.key.serialize_pem()).expect("a key we generated parses")
    }
}

pub fn self_signed(spec: &Spec) -> Result<Issued, rcgen::Error> {
    let key = spec.key_pair()?;
    self_signed_with_key(spec, key)
}

fn self_signed_with_key(spec: &Spec, key: KeyPair) -> Result<Issued, rcgen::Error> {
    if spec.sct_count > 0 && spec.sct_list.is_none() {
        use rcgen::PublicKeyData;
        let spki = key.subject_public_key_info();
        let spec = with_lab_scts(spec, &key, &spki, self_signed_with_key)?;
        return self_signed_with_key(&spec, key);
    }
    let params = spec.params()?;
    let cert = params.self_signed(&key)?;
    Ok(Issued {
        der: cert.der().clone(),
        pem: cert.pem(),
        key,
        params: Some(params),
    })
}

pub fn issue(spec: &Spec, issuer: &Issued) -> Result<Issued, rcgen::Error> {
    issue_with_key(spec, spec.key_pair()?, issuer)
}

/// `issue` for a subject key chosen by the caller (e.g. to cross-sign an existing CA).
pub fn issue_with_key(spec: &Spec, key: KeyPair, issuer: &Issued) -> Result<Issued, rcgen::Error> {
    if spec.sct_count > 0 && spec.sct_list.is_none() {
        use rcgen::PublicKeyData;
        let spki = issuer.key.subject_public_key_info();
        let spec = with_lab_scts(spec, &key, &spki, |s, k| issue_with_key(s, k, issuer))?;
        return issue_with_key(&spec, key, issuer);
    }
    let params = spec.params()?;
    let issuer_params = issuer
        .params
        .as_ref()
        .ok_or(rcgen::Error::CouldNotParseCertificate)?;
    let signer = Issuer::from_params(issuer_params, &issuer.key);
    let cert = params.signed_by(&key, &signer)?;
    Ok(Issued {
        der: cert.der().clone(),
        pem: cert.pem(),
        key,
        params: Some(params),
    })
}

/// A TLS server on 127.0.0.1 that completes handshakes and closes; stops when dropped.
pub struct Server {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Presents one fixed chain whatever the client asks, without checking that the key
/// matches or that the certificates parse: broken servers are what we test against.
#[derive(Debug)]
struct FixedChain(Arc<CertifiedKey>);

impl ResolvesServerCert for FixedChain {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}

/// Serves `chain` (sent exactly as given, even if malformed) with `key`, offering `alpn`,
/// on an ephemeral port of 127.0.0.1.
pub async fn serve(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    alpn: &[&[u8]],
) -> std::io::Result<Server> {
    serve_on(([127, 0, 0, 1], 0).into(), chain, key, alpn).await
}

/// `serve`, stapling the OCSP response `staple` in every handshake.
pub async fn serve_stapling(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    alpn: &[&[u8]],
    staple: Vec<u8>,
) -> std::io::Result<Server> {
    serve_inner(([127, 0, 0, 1], 0).into(), chain, key, alpn, Some(staple)).await
}

/// `serve` on a chosen address (e.g. `[::1]:0`).
pub async fn serve_on(
    bind: SocketAddr,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    alpn: &[&[u8]],
) -> std::io::Result<Server> {
    serve_inner(bind, chain, key, alpn, None).await
}

async fn serve_inner(
    bind: SocketAddr,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    alpn: &[&[u8]],
    staple: Option<Vec<u8>>,
) -> std::io::Result<Server> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let signing_key = provider
        .key_provider
        .load_private_key(key)
        .map_err(std::io::Error::other)?;
    let mut certified = CertifiedKey::new(chain, signing_key);
    certified.ocsp = staple;
    let certified = Arc::new(certified);
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(std::io::Error::other)?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(FixedChain(certified)));
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind(bind).await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                use tokio::io::AsyncWriteExt;
                if let Ok(Ok(mut tls)) = tokio::time::timeout(
                    std::time::Duration::from_secs(10),
                    acceptor.accept(stream),
                )
                .await
                {
                    let _ = tls.shutdown().await;
                }
            });
        }
    });
    Ok(Server { addr, task })
}

/// Serves `body` as a DER certificate (`application/pkix-cert`) to every plain HTTP GET on
/// `listener`: a CA's caIssuers URL for the demo. Stops when dropped.
pub fn serve_certificate(listener: TcpListener, body: Vec<u8>) -> std::io::Result<Server> {
    let addr = listener.local_addr()?;
    let body = Arc::new(body);
    let task = tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                continue;
            };
            let body = body.clone();
            tokio::spawn(async move {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                // Read the request head (bounded), whatever it asks: there is one answer.
                let mut head = Vec::new();
                let mut buffer = [0u8; 1024];
                let read = async {
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
                        match stream.read(&mut buffer).await {
                            Ok(0) | Err(_) => return false,
                            Ok(n) => head.extend_from_slice(&buffer[..n]),
                        }
                    }
                    true
                };
                if !matches!(
                    tokio::time::timeout(std::time::Duration::from_secs(10), read).await,
                    Ok(true)
                ) {
                    return;
                }
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/pkix-cert\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(answer.as_bytes()).await;
                let _ = stream.write_all(&body).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    Ok(Server { addr, task })
}

//! Trust stores and path validation (rustls-webpki): the OS store, Mozilla's public
//! list and the user's private anchors (`--ca-file`), each judged separately.

pub mod background;
mod remembered;
pub mod synthetic;

use std::fmt;
use std::path::{Path, PathBuf};

use rustls_pki_types::{CertificateDer, ServerName, TrustAnchor, UnixTime};
use serde::Serialize;
use webpki::{EndEntityCert, KeyUsage};
use x509_parser::prelude::FromDer;
use x509_parser::x509::X509Name;

use crate::chain::Cert;
use crate::input::{self, InputError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StoreKind {
    /// The operating system's store (what Go on Linux and curl use).
    System,
    /// Mozilla's list as compiled into certready: the stand-in for "publicly trusted".
    Mozilla,
    /// Anchors the user named with `--ca-file` (flytectl's `caCertFilePath`).
    CaFile,
    /// grpcio's roots from GRPC_DEFAULT_SSL_ROOTS_FILE_PATH (client models only).
    GrpcRoots,
}

impl StoreKind {
    pub fn name(self) -> &'static str {
        match self {
            StoreKind::System => "system",
            StoreKind::Mozilla => "mozilla",
            StoreKind::CaFile => "ca-file",
            StoreKind::GrpcRoots => "grpc-roots",
        }
    }
}

impl fmt::Display for StoreKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Clone)]
pub struct TrustStore {
    pub kind: StoreKind,
    pub anchors: Vec<TrustAnchor<'static>>,
    /// The anchors' certificates, where known, so a leaf trusted directly is recognised.
    pub anchor_certs: Vec<CertificateDer<'static>>,
    /// Where the anchors came from, for the report.
    pub source: String,
    /// Problems met while loading (unreadable files in SSL_CERT_DIR and the like).
    pub warnings: Vec<String>,
}

/// All stores a run evaluates; loaded once per process.
pub struct TrustStores {
    pub stores: Vec<TrustStore>,
}

#[derive(Debug, Default, Clone)]
pub struct TrustOptions {
    pub ca_files: Vec<PathBuf>,
    /// Replaces the compiled-in Mozilla list (air-gapped updates, tests).
    pub public_roots: Option<PathBuf>,
}

/// The stores the user named (read at once, so a bad file fails before any probe),
/// waiting for the OS store.
pub struct NamedStores {
    public: TrustStore,
    private: Option<TrustStore>,
}

impl NamedStores {
    /// Adds the OS store (rustls-native-certs: SSL_CERT_FILE/SSL_CERT_DIR or the platform's).
    pub fn with_system(self) -> TrustStores {
        let mut stores = vec![load_system(), self.public];
        stores.extend(self.private);
        TrustStores { stores }
    }
}

impl TrustStores {
    pub fn load(options: &TrustOptions) -> Result<Self, InputError> {
        Ok(Self::load_named(options)?.with_system())
    }

    pub fn load_named(options: &TrustOptions) -> Result<NamedStores, InputError> {
        let public = match &options.public_roots {
            Some(path) => store_from_file(StoreKind::Mozilla, path)?,
            None => TrustStore {
                kind: StoreKind::Mozilla,
                anchors: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
                anchor_certs: Vec::new(),
                source: format!(
                    "Mozilla roots compiled into certready ({} anchors)",
                    webpki_roots::TLS_SERVER_ROOTS.len()
                ),
                warnings: Vec::new(),
            },
        };
        let mut private = None;
        if !options.ca_files.is_empty() {
            let mut ca = TrustStore::empty(StoreKind::CaFile, String::new());
            let mut sources = Vec::new();
            for path in &options.ca_files {
                let file = store_from_file(StoreKind::CaFile, path)?;
                ca.anchors.extend(file.anchors);
                ca.anchor_certs.extend(file.anchor_certs);
                sources.push(path.display().to_string());
            }
            ca.source = sources.join(", ");
            private = Some(ca);
        }
        Ok(NamedStores { public, private })
    }

    pub fn get(&self, kind: StoreKind) -> Option<&TrustStore> {
        self.stores.iter().find(|s| s.kind == kind)
    }

    /// The stores for one analysis, with `extra` private anchors (a Secret's `ca.crt`)
    /// merged into the `ca-file` store.
    pub fn with_private_anchors(
        &self,
        extra: &[CertificateDer<'static>],
        source: &str,
    ) -> Vec<TrustStore> {
        let mut stores = self.stores.clone();
        if extra.is_empty() {
            return stores;
        }
        let position = match stores.iter().position(|s| s.kind == StoreKind::CaFile) {
            Some(position) => position,
            None => {
                stores.push(TrustStore::empty(StoreKind::CaFile, String::new()));
                stores.len() - 1
            }
        };
        let ca = &mut stores[position];
        for der in extra {
            add_anchor(ca, der.clone());
        }
        ca.source = if ca.source.is_empty() {
            source.to_string()
        } else {
            format!("{}, {source}", ca.source)
        };
        stores
    }
}

impl TrustStore {
    fn empty(kind: StoreKind, source: String) -> Self {
        TrustStore {
            kind,
            anchors: Vec::new(),
            anchor_certs: Vec::new(),
            source,
            warnings: Vec::new(),
        }
    }
}

/// Finds an anchor, in any of `stores`, whose subject is `issuer_der` (a full Name).
pub fn anchor_named(stores: &[TrustStore], issuer_der: &[u8]) -> Option<StoreKind> {
    let content = sequence_content(issuer_der)?;
    stores
        .iter()
        .find(|s| s.anchors.iter().any(|a| a.subject.as_ref() == content))
        .map(|s| s.kind)
}

fn load_system() -> TrustStore {
    let result = rustls_native_certs::load_native_certs();
    let mut store = TrustStore::empty(StoreKind::System, system_source());
    store.warnings = result.errors.iter().map(|e| e.to_string()).collect();
    for der in result.certs {
        add_anchor(&mut store, der);
    }
    store
}

fn system_source() -> String {
    let file = std::env::var("SSL_CERT_FILE").ok();
    let dir = std::env::var("SSL_CERT_DIR").ok();
    match (file, dir) {
        (None, None) => "the operating system's certificate store".into(),
        (file, dir) => {
            let mut parts = Vec::new();
            if let Some(f) = file {
                parts.push(format!("SSL_CERT_FILE={f}"));
            }
            if let Some(d) = dir {
                parts.push(format!("SSL_CERT_DIR={d}"));
            }
            parts.join(", ")
        }
    }
}

fn add_anchor(store: &mut TrustStore, der: CertificateDer<'static>) {
    match webpki::anchor_from_trusted_cert(&der) {
        Ok(anchor) => {
            store.anchors.push(anchor.to_owned());
            store.anchor_certs.push(der);
        }
        Err(e) => store
            .warnings
            .push(format!("skipped an anchor that does not parse: {e}")),
    }
}

pub fn store_from_file(kind: StoreKind, path: &Path) -> Result<TrustStore, InputError> {
    let loaded = input::load_certificates_file(path)?;
    let mut store = TrustStore::empty(kind, path.display().to_string());
    for der in loaded {
        add_anchor(&mut store, der);
    }
    if store.anchors.is_empty() {
        return Err(InputError::new(
            path,
            "holds no usable certificate to trust (expected PEM or DER certificates)",
        ));
    }
    Ok(store)
}

/// The content octets of a DER SEQUENCE (webpki keeps anchor subjects without the tag).
pub fn sequence_content(der: &[u8]) -> Option<&[u8]> {
    if der.first() != Some(&0x30) {
        return None;
    }
    let first_len = *der.get(1)?;
    let (len, header) = if first_len < 0x80 {
        (first_len as usize, 2)
    } else {
        let n = (first_len & 0x7f) as usize;
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for b in der.get(2..2 + n)? {
            len = (len << 8) | *b as usize;
        }
        (len, 2 + n)
    };
    der.get(header..header + len)
}

/// An anchor's subject as a full DER Name, comparable with a certificate's issuer.
pub fn anchor_subject_der(anchor: &TrustAnchor<'_>) -> Vec<u8> {
    crate::der::sequence(anchor.subject.as_ref())
}

/// An anchor's SubjectPublicKeyInfo as full DER.
pub fn anchor_spki_der(anchor: &TrustAnchor<'_>) -> Vec<u8> {
    crate::der::sequence(anchor.subject_public_key_info.as_ref())
}

/// Human form of an anchor's subject, e.g. "CN=ISRG Root X1, O=Internet Security Research Group".
pub fn anchor_subject(anchor: &TrustAnchor<'_>) -> String {
    X509Name::from_der(&anchor_subject_der(anchor))
        .map(|(_, name)| name.to_string())
        .unwrap_or_else(|_| "(unparseable subject)".into())
}

/// One store's judgement of the chain.
#[derive(Debug, Clone, Serialize)]
pub struct TrustVerdict {
    pub store: StoreKind,
    pub trusted: bool,
    pub error: Option<String>,
    /// Subject of the anchor the validated path ends in.
    pub anchor: Option<String>,
    /// Positions of the presented certificates on the validated path, leaf first.
    pub path: Vec<usize>,
    /// The leaf itself is the trust anchor (a self-signed certificate trusted directly).
    pub leaf_is_anchor: bool,
    #[serde(skip)]
    pub webpki_error: Option<webpki::Error>,
}

/// Whether `store` trusts the chain whose leaf is `certs[leaf]` at instant `at`
/// (rustls-webpki path building over the presented certificates): the verdict with the
/// path used and the anchor, or webpki's error in words.
pub fn evaluate(store: &TrustStore, certs: &[Cert], leaf: usize, at: UnixTime) -> TrustVerdict {
    let mut verdict = TrustVerdict {
        store: store.kind,
        trusted: false,
        error: None,
        anchor: None,
        path: Vec::new(),
        leaf_is_anchor: false,
        webpki_error: None,
    };
    if store.anchors.is_empty() {
        let mut why = format!("this store is empty ({})", store.source);
        if let Some(warning) = store.warnings.first() {
            why.push_str(&format!(": {warning}"));
        }
        verdict.error = Some(why);
        return verdict;
    }
    let leaf_cert = &certs[leaf];
    // Trusting a leaf directly is legitimate (Go and Apple accept it); webpki cannot
    // express it, and would refuse a self-signed CA:TRUE leaf as its own anchor.
    if store.anchor_certs.iter().any(|a| a == &leaf_cert.der) {
        let facts = &leaf_cert.info.facts;
        verdict.leaf_is_anchor = true;
        verdict.anchor = Some(leaf_cert.info.subject.clone());
        verdict.path = vec![leaf_cert.info.position];
        let now = at.as_secs() as i64;
        if now > facts.not_after {
            verdict.error = Some("the certificate (trusted directly) has expired".into());
        } else if now < facts.not_before {
            verdict.error = Some("the certificate (trusted directly) is not yet valid".into());
        } else {
            verdict.trusted = true;
        }
        return verdict;
    }
    if leaf_cert.info.self_signed {
        // webpki would report a side issue (e.g. CA:TRUE); the real one is simpler.
        verdict.error = Some("self-signed, and this exact certificate is not in this store".into());
        return verdict;
    }
    let end_entity = match EndEntityCert::try_from(&leaf_cert.der) {
        Ok(ee) => ee,
        Err(e) => {
            verdict.error = Some(describe_webpki_error(&e));
            verdict.webpki_error = Some(e);
            return verdict;
        }
    };
    let intermediates: Vec<CertificateDer<'static>> = certs
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != leaf)
        .map(|(_, c)| c.der.clone())
        .collect();
    match end_entity.verify_for_usage(
        remembered::algorithms(),
        &store.anchors,
        &intermediates,
        at,
        KeyUsage::server_auth(),
        None,
        None,
    ) {
        Ok(path) => {
            verdict.trusted = true;
            verdict.anchor = Some(anchor_subject(path.anchor()));
            let mut on_path = vec![leaf_cert];
            for intermediate in path.intermediate_certificates() {
                if let Some(cert) = certs
                    .iter()
                    .find(|c| c.der.as_ref() == intermediate.der().as_ref())
                {
                    on_path.push(cert);
                }
            }
            // webpki proved each signature along the path: the client models need not again.
            for pair in on_path.windows(2) {
                pair[0].remember_signed_by(&pair[1].info.facts.spki_der);
            }
            if let Some(last) = on_path.last() {
                last.remember_signed_by(&anchor_spki_der(path.anchor()));
            }
            verdict.path = on_path.iter().map(|c| c.info.position).collect();
        }
        Err(e) => {
            verdict.error = Some(describe_webpki_error(&e));
            verdict.webpki_error = Some(e);
        }
    }
    verdict
}

pub fn describe_webpki_error(error: &webpki::Error) -> String {
    use webpki::Error as E;
    match error {
        E::UnknownIssuer => "no path to an anchor in this store (unknown issuer)".into(),
        E::CertExpired { .. } => "a certificate on the path has expired".into(),
        E::CertNotValidYet { .. } => "a certificate on the path is not yet valid".into(),
        E::CaUsedAsEndEntity => {
            "the leaf is a CA certificate (basicConstraints CA:TRUE), refused as a server certificate"
                .into()
        }
        E::EndEntityUsedAsCa => "a certificate that is not a CA issued another certificate".into(),
        E::RequiredEkuNotFoundContext(_) => "the leaf's extended key usage does not allow serverAuth".into(),
        E::InvalidSignatureForPublicKey => "a signature on the path does not verify".into(),
        E::UnsupportedSignatureAlgorithmContext(_)
        | E::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => {
            "a certificate on the path is signed with an algorithm that is not accepted (e.g. SHA-1 or a small RSA key)"
                .into()
        }
        E::PathLenConstraintViolated => "a CA's path length constraint is exceeded".into(),
        E::NameConstraintViolation => "a CA's name constraints forbid the leaf's names".into(),
        E::CertDistrusted => "the chain uses a distrusted certificate".into(),
        E::UnsupportedCriticalExtension => "a certificate has a critical extension webpki does not understand".into(),
        E::BadDer | E::BadDerTime => "a certificate is not valid DER".into(),
        E::MaximumPathBuildCallsExceeded
        | E::MaximumPathDepthExceeded
        | E::MaximumSignatureChecksExceeded => {
            "path building gave up: too many candidate certificates".into()
        }
        other => format!("validation failed: {other:?}"),
    }
}

/// webpki's host name check (wildcards per RFC 6125); `Ok` when the leaf covers `name`.
pub fn name_matches(leaf: &Cert, name: &ServerName<'_>) -> Result<(), webpki::Error> {
    EndEntityCert::try_from(&leaf.der)?.verify_is_valid_for_subject_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_content_strips_short_and_long_headers() {
        assert_eq!(sequence_content(&[0x30, 2, 1, 2]), Some(&[1u8, 2][..]));
        let mut long = vec![0x30, 0x81, 0x80];
        long.extend(std::iter::repeat_n(7u8, 0x80));
        assert_eq!(sequence_content(&long).map(<[u8]>::len), Some(0x80));
        assert_eq!(sequence_content(&[0x31, 0]), None);
        assert_eq!(sequence_content(&[0x30, 5, 1]), None);
    }
}

//! Local files: PEM bundles, DER certificates, Kubernetes TLS Secrets (YAML or JSON)
//! and private keys. Every failure names the file and what is wrong with it.

use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine;
use rustls_pki_types::pem::{PemObject, SectionKind};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// Files larger than this are refused before they are read: no certificate bundle,
/// Secret or key comes near it.
pub const MAX_INPUT_BYTES: u64 = 10 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    pub path: Option<PathBuf>,
    pub message: String,
}

impl InputError {
    pub fn new(path: &Path, message: impl Into<String>) -> Self {
        InputError {
            path: Some(path.to_path_buf()),
            message: message.into(),
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(path) => write!(f, "{}: {}", path.display(), self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for InputError {}

/// What a certificate file held.
#[derive(Debug)]
pub struct Bundle {
    /// "PEM", "DER" or "Kubernetes Secret".
    pub format: &'static str,
    pub certificates: Vec<CertificateDer<'static>>,
    /// A Secret's `ca.crt`.
    pub ca: Vec<CertificateDer<'static>>,
    /// A private key found in the file (PEM bundle or the Secret's `tls.key`).
    pub key: Option<KeyInput>,
}

/// A private key as found; never printed.
pub enum KeyInput {
    Key(PrivateKeyDer<'static>),
    /// Present but unusable: encrypted or of a form we cannot read.
    Unusable(String),
}

impl fmt::Debug for KeyInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Key material must never reach output, logs included.
        match self {
            KeyInput::Key(_) => f.write_str("KeyInput::Key(<redacted>)"),
            KeyInput::Unusable(why) => write!(f, "KeyInput::Unusable({why:?})"),
        }
    }
}

pub fn read_limited(path: &Path) -> Result<Vec<u8>, InputError> {
    let meta = std::fs::metadata(path).map_err(|e| InputError::new(path, describe_io(&e)))?;
    if meta.is_dir() {
        return Err(InputError::new(
            path,
            "is a directory; name the certificate file inside it",
        ));
    }
    if meta.len() > MAX_INPUT_BYTES {
        return Err(InputError::new(
            path,
            format!(
                "is {} MiB; certready reads at most {} MiB, far more than any certificate bundle, Secret or key",
                meta.len() / (1024 * 1024),
                MAX_INPUT_BYTES / (1024 * 1024)
            ),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| InputError::new(path, describe_io(&e)))?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(InputError::new(
            path,
            "grew past the size limit while being read",
        ));
    }
    Ok(bytes)
}

fn describe_io(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => format!("cannot read: {error}"),
    }
}

pub fn load_bundle(path: &Path) -> Result<Bundle, InputError> {
    let bytes = read_limited(path)?;
    parse_bundle(path, &bytes)
}

/// Certificates for a trust store file (`--ca-file`, `--public-roots`, `--chain`).
pub fn load_certificates_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, InputError> {
    let bundle = load_bundle(path)?;
    let mut certs = bundle.certificates;
    certs.extend(bundle.ca);
    Ok(certs)
}

pub fn parse_bundle(path: &Path, bytes: &[u8]) -> Result<Bundle, InputError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(InputError::new(path, "is empty"));
    }
    if contains(bytes, b"-----BEGIN ") {
        return parse_pem(path, bytes, "PEM");
    }
    if bytes[0] == 0x30 {
        return parse_der(path, bytes);
    }
    if looks_like_text(bytes) {
        return parse_secret(path, bytes);
    }
    Err(InputError::new(
        path,
        "is not a certificate: no PEM block, not DER, not a Kubernetes Secret",
    ))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn looks_like_text(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes)
        .is_ok_and(|s| !s.chars().any(|c| c.is_control() && !c.is_whitespace()))
}

fn parse_pem(path: &Path, bytes: &[u8], format: &'static str) -> Result<Bundle, InputError> {
    let mut bundle = Bundle {
        format,
        certificates: Vec::new(),
        ca: Vec::new(),
        key: None,
    };
    for section in <(SectionKind, Vec<u8>)>::pem_slice_iter(bytes) {
        let (kind, der) =
            section.map_err(|e| InputError::new(path, format!("has a damaged PEM block: {e}")))?;
        match kind {
            SectionKind::Certificate => bundle.certificates.push(CertificateDer::from(der)),
            SectionKind::PrivateKey => {
                bundle.key = Some(KeyInput::Key(PrivateKeyDer::Pkcs8(der.into())))
            }
            SectionKind::RsaPrivateKey => {
                bundle.key = Some(KeyInput::Key(PrivateKeyDer::Pkcs1(der.into())))
            }
            SectionKind::EcPrivateKey => {
                bundle.key = Some(KeyInput::Key(PrivateKeyDer::Sec1(der.into())))
            }
            _ => {}
        }
    }
    if let Some(why) = encrypted_key(bytes) {
        bundle.key = Some(KeyInput::Unusable(why));
    }
    if bundle.certificates.is_empty() {
        let what = if bundle.key.is_some() {
            "holds a private key but no certificate; pass the certificate (tls.crt), and the key with --key"
        } else if contains(bytes, b"-----BEGIN CERTIFICATE REQUEST") {
            "holds a certificate signing request (CSR), not a certificate"
        } else {
            "has no CERTIFICATE block"
        };
        return Err(InputError::new(path, what));
    }
    Ok(bundle)
}

fn encrypted_key(bytes: &[u8]) -> Option<String> {
    if contains(bytes, b"-----BEGIN ENCRYPTED PRIVATE KEY")
        || contains(bytes, b"Proc-Type: 4,ENCRYPTED")
    {
        Some(
            "the private key is encrypted; decrypt a copy first (openssl pkey -in key.pem -out plain.pem) \
             — certready never asks for passphrases"
                .into(),
        )
    } else {
        None
    }
}

fn parse_der(path: &Path, bytes: &[u8]) -> Result<Bundle, InputError> {
    // PKCS#12 (PFX) starts SEQUENCE { INTEGER 3, ...}; PKCS#8 keys SEQUENCE { INTEGER 0, ...}.
    let inner = der_sequence_body(bytes);
    match inner {
        Some([0x02, 0x01, 0x03, ..]) => {
            return Err(InputError::new(
                path,
                "is a PKCS#12 (.p12/.pfx) bundle; extract the certificates with \
                 `openssl pkcs12 -in FILE -nokeys -out chain.pem` and inspect chain.pem",
            ))
        }
        Some([0x02, 0x01, 0x00, ..]) => {
            return Err(InputError::new(
                path,
                "is a DER private key, not a certificate; pass it with --key",
            ))
        }
        _ => {}
    }
    match crate::chain::parse_one(0, bytes) {
        Ok(_) => Ok(Bundle {
            format: "DER",
            certificates: vec![CertificateDer::from(bytes.to_vec())],
            ca: Vec::new(),
            key: None,
        }),
        Err(why) => Err(InputError::new(path, format!("is DER but {why}"))),
    }
}

fn der_sequence_body(bytes: &[u8]) -> Option<&[u8]> {
    if bytes.first() != Some(&0x30) {
        return None;
    }
    let len_byte = *bytes.get(1)?;
    let header = if len_byte < 0x80 {
        2
    } else {
        2 + (len_byte & 0x7f) as usize
    };
    bytes.get(header..)
}

fn parse_secret(path: &Path, bytes: &[u8]) -> Result<Bundle, InputError> {
    let text = std::str::from_utf8(bytes).unwrap_or_default();
    let value: serde_json::Value = if text.trim_start().starts_with('{') {
        serde_json::from_str(text).map_err(|e| {
            InputError::new(path, format!("is not valid JSON (line {}): {e}", e.line()))
        })?
    } else {
        serde_saphyr::from_str(text).map_err(|e| {
            InputError::new(
                path,
                format!("is not a certificate and not valid YAML: {e}"),
            )
        })?
    };
    let Some(object) = value.as_object() else {
        return Err(InputError::new(
            path,
            "is not a certificate: no PEM block, not DER, and not a Kubernetes Secret",
        ));
    };
    secret_bundle(path, object)
}

/// The certificates, CA and key of a Kubernetes Secret object (`data`, base64, or
/// `stringData`); `path` names it in messages.
pub fn secret_bundle(
    path: &Path,
    object: &serde_json::Map<String, serde_json::Value>,
) -> Result<Bundle, InputError> {
    match object.get("kind").and_then(|k| k.as_str()) {
        Some("Secret") => {}
        Some(other) => {
            return Err(InputError::new(
                path,
                format!("is a Kubernetes {other}, not a Secret; get the TLS Secret with `kubectl get secret NAME -o yaml`"),
            ))
        }
        None if !object.contains_key("data") && !object.contains_key("stringData") => {
            return Err(InputError::new(
                path,
                "is YAML/JSON but not a Kubernetes Secret (no kind: Secret, no data)",
            ))
        }
        None => {}
    }
    let field = |name: &str| -> Result<Option<Vec<u8>>, InputError> {
        if let Some(value) = object.get("data").and_then(|d| d.get(name)) {
            let encoded = value.as_str().unwrap_or_default();
            let cleaned: String = encoded.chars().filter(|c| !c.is_whitespace()).collect();
            return base64::engine::general_purpose::STANDARD
                .decode(cleaned)
                .map(Some)
                .map_err(|e| {
                    InputError::new(path, format!("data[\"{name}\"] is not valid base64: {e}"))
                });
        }
        Ok(object
            .get("stringData")
            .and_then(|d| d.get(name))
            .and_then(|v| v.as_str())
            .map(|s| s.as_bytes().to_vec()))
    };
    let Some(crt) = field("tls.crt")? else {
        return Err(InputError::new(
            path,
            "is a Secret without data[\"tls.crt\"]; is it a TLS Secret (type kubernetes.io/tls)?",
        ));
    };
    let inner = |name: &str, bytes: &[u8]| {
        parse_pem(path, bytes, "Kubernetes Secret")
            .map_err(|e| InputError::new(path, format!("data[\"{name}\"] {}", e.message)))
    };
    let mut bundle = inner("tls.crt", &crt)?;
    if let Some(ca) = field("ca.crt")? {
        bundle.ca = inner("ca.crt", &ca)?.certificates;
    }
    if let Some(key) = field("tls.key")? {
        bundle.key = Some(key_from_pem_bytes(&key).unwrap_or_else(KeyInput::Unusable));
    }
    Ok(bundle)
}

fn key_from_pem_bytes(bytes: &[u8]) -> Result<KeyInput, String> {
    if let Some(why) = encrypted_key(bytes) {
        return Ok(KeyInput::Unusable(why));
    }
    PrivateKeyDer::from_pem_slice(bytes)
        .map(KeyInput::Key)
        .map_err(|_| "holds no PEM private key (PKCS#8, PKCS#1 RSA or SEC1 EC)".to_string())
}

/// `--key FILE`: a PEM (or DER PKCS#8) private key.
pub fn load_key(path: &Path) -> Result<KeyInput, InputError> {
    let bytes = read_limited(path)?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(InputError::new(path, "is empty"));
    }
    if contains(&bytes, b"-----BEGIN ") {
        return key_from_pem_bytes(&bytes).map_err(|why| InputError::new(path, why));
    }
    if bytes[0] == 0x30 {
        return Ok(KeyInput::Key(PrivateKeyDer::Pkcs8(bytes.into())));
    }
    Err(InputError::new(path, "is not a private key (expected PEM)"))
}

/// Whether `key` is the private half of the public key `spki_der`.
/// `Err` says why the question could not be answered.
pub fn key_matches(key: &PrivateKeyDer<'static>, spki_der: &[u8]) -> Result<bool, String> {
    let signing_key = rustls::crypto::aws_lc_rs::sign::any_supported_type(key)
        .map_err(|_| "the private key is of a type or size that cannot be read (supported: RSA, ECDSA P-256/P-384/P-521, Ed25519)".to_string())?;
    let public = signing_key
        .public_key()
        .ok_or_else(|| "the private key's public half cannot be derived".to_string())?;
    Ok(public.as_ref() == spki_der)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_named_not_parsed() {
        let path = Path::new("x.bin");
        let err = parse_bundle(path, &[0xff, 0x00, 0x13]).unwrap_err();
        assert!(err.to_string().contains("is not a certificate"), "{err}");
        assert_eq!(parse_bundle(path, b"  \n").unwrap_err().message, "is empty");
    }

    #[test]
    fn pkcs12_and_der_keys_are_recognised() {
        let path = Path::new("x");
        let pfx = [0x30, 0x05, 0x02, 0x01, 0x03, 0x30, 0x00];
        assert!(parse_bundle(path, &pfx)
            .unwrap_err()
            .message
            .contains("PKCS#12"));
        let key = [0x30, 0x05, 0x02, 0x01, 0x00, 0x30, 0x00];
        assert!(parse_bundle(path, &key)
            .unwrap_err()
            .message
            .contains("private key"));
    }

    #[test]
    fn yaml_that_is_not_a_secret_is_refused() {
        let path = Path::new("cm.yaml");
        let err = parse_bundle(path, b"apiVersion: v1\nkind: ConfigMap\ndata: {}\n").unwrap_err();
        assert!(err.message.contains("ConfigMap"), "{err}");
        let err = parse_bundle(path, b"kind: Secret\ndata:\n  other: eA==\n").unwrap_err();
        assert!(err.message.contains("tls.crt"), "{err}");
    }
}

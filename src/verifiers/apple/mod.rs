//! Apple's trustd as a Go program on macOS meets it (flytectl's OAuth client, and its
//! gRPC channel without caCertFilePath): crypto/tls parses the server's certificates by
//! Go's rules, `Certificate.Verify` with the system roots hands the chain to
//! `SecTrustEvaluateWithError` under `SecPolicyCreateSSL(true, host)`
//! (crypto/x509/root_darwin.go `systemVerify`), and the error trustd reports becomes a Go
//! error; after trustd accepts, Go checks the host name and the extended key usage
//! itself.
//!
//! trustd is re-implemented from Apple's Security sources: the path builder and its
//! certificate sources, AIA included (`path`, trust/trustd/SecTrustServer.c), the SSL
//! server policy's checks (`checks`, trust/trustd/SecPolicyServer.c and
//! OSX/sec/Security/SecPolicy*.c), the certificate as SecCertificate parses it (`cert`),
//! and the choice of the one error SecTrust reports with its text
//! (OSX/sec/Security/SecTrust.c, SecFrameworkStrings.h, SecPolicyChecks.list). Texts are
//! Go 1.24's (root_darwin.go, verify.go) around Apple's descriptions.

mod cert;
mod checks;
mod path;

#[cfg(test)]
mod tests;

use std::sync::Arc;

pub use checks::{
    months_between, status_message, Check, Subtype, ERR_SEC_CERTIFICATE_EXPIRED,
    ERR_SEC_HOST_NAME_MISMATCH, ERR_SEC_NOT_TRUSTED,
};

use crate::verifiers::go;
use crate::verifiers::pattern::Pattern;
use path::{Node, Origin, Pool};

/// Where the Mac's trust in an anchor comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnchorSource {
    /// A root that ships with macOS (kSecSystemAnchorSource).
    System,
    /// User or admin trust settings: a CA (or a leaf) added to the keychain as trusted,
    /// or installed by a profile (kSecLegacyAnchorSource).
    TrustSettings,
}

/// An anchor's certificate, or only its subject and key when that is all a store holds
/// (the compiled-in public roots): then it is taken as a well-formed, valid root.
#[derive(Debug, Clone, Copy)]
pub enum AnchorCert<'a> {
    Der(&'a [u8]),
    /// The contents (without tag and length) of the subject Name and of the
    /// SubjectPublicKeyInfo, as `webpki::TrustAnchor` keeps them.
    Bare {
        subject: &'a [u8],
        spki: &'a [u8],
    },
}

#[derive(Debug, Clone, Copy)]
pub struct Anchor<'a> {
    pub cert: AnchorCert<'a>,
    pub source: AnchorSource,
}

/// Which step refused the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// crypto/tls before verification: a certificate Go cannot parse, an RSA key too large.
    GoParse,
    /// `SecCertificateCreateWithData` refused a certificate Go parsed.
    AppleParse,
    /// trustd refused: the check SecTrust reports, on this certificate of the path it
    /// settled on (0 = the leaf).
    Trustd { check: Check, cert: usize },
    /// Go's `VerifyHostname` after trustd accepted.
    GoHostname,
    /// Go's `checkChainForKeyUsage` after trustd accepted.
    GoKeyUsage,
    /// crypto/tls's check of the leaf's key after verification.
    GoLeafKey,
}

/// A refusal: the step, and the error as `tls.Dial` returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub stage: Stage,
    pub text: String,
}

const VERIFY_PREFIX: &str = go::VERIFY_FAILED.0[0];

/// root_darwin.go's texts: trustd's description (a [`Subtype`]'s text or the status's
/// message) after "x509: ", or as the detail of Go's expiry error; and its own two for a
/// certificate Security cannot create.
pub const DARWIN_ERROR: Pattern = Pattern(&["x509: ", ""]);
pub const DARWIN_EXPIRED: Pattern =
    Pattern(&["x509: certificate has expired or is not yet valid: ", ""]);
pub const INVALID_LEAF: Pattern = Pattern(&["invalid leaf certificate"]);
pub const INVALID_CERTIFICATE: Pattern =
    Pattern(&["SecCertificateCreateWithData: invalid certificate"]);

/// What certready tells trustd besides the certificates.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// The leaf's SCTs meet `SecPolicyCheckCT`, as [`crate::ct`] verified and counted them
    /// (they depend on the issuer's key and a log list: not the engine's to judge).
    pub ct_policy_met: bool,
}

/// What a Go TLS client on macOS says about the chain a server presented (`presented`,
/// leaf first) for `server_name` at `now` (Unix seconds): `anchors` are the Mac's trusted
/// certificates that could matter, `aia` the certificates fetched from the chain's http
/// caIssuers URLs (trustd's last certificate source). Ok, or the error as `tls.Dial`
/// returns it.
pub fn verify(
    presented: &[&[u8]],
    anchors: &[Anchor<'_>],
    aia: &[&[u8]],
    server_name: &str,
    now: i64,
    options: Options,
) -> Result<(), Refusal> {
    let refuse = |stage, text: String| Refusal { stage, text };
    let go_certs = go::parse_presented(presented).map_err(|e| refuse(Stage::GoParse, e))?;
    let Some(go_leaf) = go_certs.first() else {
        return Err(refuse(
            Stage::GoParse,
            "tls: server sent no certificate".into(),
        ));
    };
    let mut pool = pool(presented, anchors, aia)?;
    pool.ct_policy_met = options.ct_policy_met;
    let outcome = path::evaluate(&pool, server_name, now);
    if let Some(detail) = checks::reported(&outcome.details) {
        let failing = &pool.nodes[outcome.path[detail.cert]].cert;
        let subtype = detail.check.subtype();
        let status = detail.check.status();
        // SecTrustCopyErrorStrings: the subtype's format around the certificate's
        // subject summary, else the status's own message.
        let description = match &failing.summary {
            Some(summary) => subtype.format(summary),
            None => checks::status_message(status).to_string(),
        };
        // root_darwin.go: three codes become Go errors, the rest "x509: " + description.
        let x509 = match status {
            ERR_SEC_CERTIFICATE_EXPIRED => DARWIN_EXPIRED.fill(&[&description]),
            ERR_SEC_HOST_NAME_MISMATCH => go::names::hostname_error(go_leaf, server_name),
            ERR_SEC_NOT_TRUSTED => go::UNKNOWN_AUTHORITY.text(),
            _ => DARWIN_ERROR.fill(&[&description]),
        };
        return Err(refuse(
            Stage::Trustd {
                check: detail.check,
                cert: detail.cert,
            },
            format!("{VERIFY_PREFIX}{x509}"),
        ));
    }
    // trustd accepted: Go checks the name and the EKU itself, on the chain trustd built.
    if !server_name.is_empty() {
        if let Some(error) = go::names::verify_hostname(go_leaf, server_name) {
            return Err(refuse(Stage::GoHostname, format!("{VERIFY_PREFIX}{error}")));
        }
    }
    let mut chain = Vec::new();
    for &index in &outcome.path {
        let node = &pool.nodes[index];
        if node.cert.bare {
            continue;
        }
        let parsed = go::cert::parse(&node.cert.der)
            .map_err(|e| refuse(Stage::GoParse, format!("{VERIFY_PREFIX}{e}")))?;
        chain.push(parsed);
    }
    let chain: Vec<&go::cert::GoCert> = chain.iter().map(|c| &**c).collect();
    if !go::chain_allows_server_auth(&chain) {
        return Err(refuse(
            Stage::GoKeyUsage,
            go::VERIFY_FAILED.fill(&[&go::INCOMPATIBLE_KEY_USAGE.text()]),
        ));
    }
    go::check_leaf_key(go_leaf).map_err(|e| refuse(Stage::GoLeafKey, e))
}

/// The certificates trustd gets to use: the leaf and the intermediates Go passes (its
/// CertPool drops repeats), the anchors, and the fetched ones.
fn pool(presented: &[&[u8]], anchors: &[Anchor<'_>], aia: &[&[u8]]) -> Result<Pool, Refusal> {
    let mut nodes = Vec::new();
    for (position, der) in presented.iter().enumerate() {
        if position > 0 && presented[1..position].contains(der) {
            continue;
        }
        let Some(cert) = cert::parse(der) else {
            // root_darwin.go's own texts for a certificate Security refuses to create.
            let text = if position == 0 {
                INVALID_LEAF.text()
            } else {
                INVALID_CERTIFICATE.text()
            };
            return Err(Refusal {
                stage: Stage::AppleParse,
                text: format!("{VERIFY_PREFIX}{text}"),
            });
        };
        nodes.push(node(cert, Origin::Sent, None));
    }
    for anchor in anchors {
        let cert = match anchor.cert {
            AnchorCert::Der(der) => cert::parse(der),
            AnchorCert::Bare { subject, spki } => cert::bare(subject, spki),
        };
        if let Some(cert) = cert {
            nodes.push(node(cert, Origin::Anchor, Some(anchor.source)));
        }
    }
    for der in aia {
        if let Some(cert) = cert::parse(der) {
            nodes.push(node(cert, Origin::Aia, None));
        }
    }
    Ok(Pool {
        nodes,
        ct_policy_met: false,
    })
}

fn node(cert: Arc<cert::AppleCert>, origin: Origin, source: Option<AnchorSource>) -> Node {
    Node {
        cert,
        origin,
        trust: checks::Trust {
            system: source == Some(AnchorSource::System),
            trust_settings: source == Some(AnchorSource::TrustSettings),
        },
    }
}

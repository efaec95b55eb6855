//! Findings are data: a stable kebab-case id, a severity, the certificate position
//! concerned, a message in words and a remediation. The catalogue below is the single
//! source of ids; renderers and docs read it.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub id: &'static str,
    pub severity: Severity,
    /// Position in the presented chain, when the finding concerns one certificate.
    pub certificate: Option<usize>,
    pub message: String,
    pub remediation: String,
}

/// One entry of the catalogue: what an id means and the usual fix.
pub struct FindingKind {
    pub id: &'static str,
    /// The usual severity; a rule may lower it where the context makes it less severe.
    pub severity: Severity,
    pub title: &'static str,
    pub remediation: &'static str,
}

macro_rules! kinds {
    ($($id:literal, $sev:ident, $title:literal, $fix:literal;)*) => {
        pub const CATALOG: &[FindingKind] = &[
            $(FindingKind { id: $id, severity: Severity::$sev, title: $title, remediation: $fix },)*
        ];
    };
}

kinds! {
    "malformed-certificate", Critical, "A presented certificate is not valid X.509",
        "Replace the certificate file on the server: it is damaged or not a certificate (check the PEM you mounted, e.g. the Secret's tls.crt).";
    "self-signed-leaf", Critical, "The server certificate is self-signed",
        "Serve a certificate issued by a CA: a public CA (cert-manager with an ACME issuer) or a private CA whose root your clients trust. Trusting a self-signed leaf directly works only where each client is configured for it.";
    "untrusted-root", Critical, "The chain ends in a root that no evaluated store trusts",
        "Use a certificate from a publicly trusted CA, or distribute this root to every client (macOS keychain, flytectl caCertFilePath, GRPC_DEFAULT_SSL_ROOTS_FILE_PATH) and pass it here with --ca-file.";
    "incomplete-chain", Critical, "An intermediate certificate is missing",
        "Serve the full chain: append the missing intermediate after the leaf in the certificate file (tls.crt). Browsers may fetch it themselves; Go, grpcio, curl and OpenSSL do not.";
    "chain-order", Warning, "Certificates are not sent leaf first, each followed by its issuer",
        "Order the certificate file leaf first, then each issuer in turn (leaf, intermediate, ...). Some clients refuse out-of-order chains.";
    "root-in-chain", Info, "The server sends the root certificate",
        "Leave the self-signed root out of the served chain: clients must already have it, so sending it only costs bytes.";
    "duplicate-certificate", Warning, "A certificate is sent more than once",
        "Remove the repeated certificate from the certificate file.";
    "unrelated-certificate", Warning, "A sent certificate is not part of the leaf's chain",
        "Remove certificates that did not issue the leaf or its issuers; they are usually a stale intermediate left in the bundle.";
    "hostname-mismatch", Critical, "The certificate does not cover the host name",
        "Issue the certificate with the host name in its subjectAltName (DNS name, or IP address for IP targets).";
    "cn-only", Critical, "The certificate has no subjectAltName; its Common Name is ignored",
        "Re-issue with a subjectAltName extension listing every host name (openssl: -addext \"subjectAltName=DNS:host\"). Go since 1.15, Apple and browsers ignore the CN.";
    "expired", Critical, "A certificate has expired",
        "Renew the certificate and redeploy it (for cert-manager: check the Certificate's status and the issuer's events).";
    "not-yet-valid", Critical, "A certificate is not valid yet",
        "Check the issuing system's clock, or wait until notBefore; re-issue with a correct notBefore.";
    "expires-soon", Warning, "A certificate expires soon",
        "Renew the certificate before it expires, and automate renewal (cert-manager renews 30 days before by default).";
    "weak-signature-sha1", Critical, "A certificate is signed with SHA-1 (or MD5)",
        "Re-issue the certificate signed with SHA-256 or better; Go, Apple and browsers refuse SHA-1 signatures.";
    "weak-rsa-key", Critical, "An RSA key is shorter than 2048 bits",
        "Re-issue with an RSA key of at least 2048 bits, or an ECDSA P-256 key.";
    "validity-exceeds-825-days", Critical, "The leaf's lifetime exceeds 825 days",
        "Re-issue the leaf with a lifetime of at most 825 days (398 for publicly trusted certificates); macOS refuses longer ones with \"certificate is not standards compliant\".";
    "validity-exceeds-398-days", Critical, "A publicly trusted leaf's lifetime exceeds 398 days",
        "Re-issue with a lifetime of at most 398 days; Apple and Chrome refuse longer publicly trusted certificates issued since 2020-09-01.";
    "missing-server-auth-eku", Critical, "The leaf does not allow TLS server authentication",
        "Re-issue the leaf with extendedKeyUsage serverAuth (openssl: -addext \"extendedKeyUsage=serverAuth\").";
    "incompatible-key-usage", Critical, "The leaf's keyUsage does not allow a TLS server key",
        "Re-issue the leaf with keyUsage digitalSignature (ECDSA) or digitalSignature, keyEncipherment (RSA); OpenSSL, BoringSSL (grpcio) and browsers refuse it otherwise.";
    "leaf-is-ca", Warning, "The server certificate is a CA certificate",
        "Issue the server certificate with basicConstraints CA:FALSE; several clients (rustls, and Apple for some anchors) refuse CA certificates as servers.";
    "issuer-not-ca", Critical, "An issuing certificate is not a CA",
        "The certificate that signed another must carry basicConstraints CA:TRUE; re-create the intermediate or root as a CA.";
    "ingress-default-certificate", Critical, "The ingress controller's default certificate is served",
        "The ingress has no TLS certificate for this host: add a tls section with a secretName (and the host) to the Ingress, and check that the Secret exists in the Ingress's namespace.";
    "key-mismatch", Critical, "The private key does not belong to the certificate",
        "Deploy the key that was generated with this certificate's request; the server will not start or will fail every handshake.";
    "handshake-failed", Critical, "The TLS handshake failed after the certificate was sent",
        "Read the message: usually the server's private key does not match its certificate, or the key is too weak for TLS signatures.";
    "untrusted-chain", Critical, "No evaluated trust store accepts the chain",
        "Read each store's error in the trust section; fix the chain so that it validates to a trusted root.";
    "insecure-skip-verify-in-use", Warning, "flytectl's insecureSkipVerify is on",
        "Remove admin.insecureSkipVerify: it turns off verification for gRPC only (anyone on the network path can impersonate admin) and does not help the OAuth login, which always verifies. Fix the certificate instead, or point admin.caCertFilePath at your CA.";
    "private-trust-only", Info, "Only the --ca-file anchors trust the chain",
        "Fine for a private CA: every client must be given this CA (macOS keychain for flytectl's OAuth client, admin.caCertFilePath for gRPC, GRPC_DEFAULT_SSL_ROOTS_FILE_PATH for pyflyte).";
    "system-trust-only", Info, "Only this machine's OS store trusts the chain",
        "The root is in this machine's store but not in Mozilla's public list: other machines will not trust it unless the same root is installed there.";
}

pub fn kind(id: &str) -> Option<&'static FindingKind> {
    CATALOG.iter().find(|k| k.id == id)
}

impl Finding {
    /// A finding with the catalogue's severity and remediation.
    pub fn new(id: &'static str, certificate: Option<usize>, message: impl Into<String>) -> Self {
        let kind = kind(id).unwrap_or_else(|| panic!("finding id {id} missing from CATALOG"));
        Finding {
            id,
            severity: kind.severity,
            certificate,
            message: message.into(),
            remediation: kind.remediation.to_string(),
        }
    }

    pub fn severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    pub fn remediation(mut self, remediation: impl Into<String>) -> Self {
        self.remediation = remediation.into();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_kebab_case() {
        let mut ids: Vec<&str> = CATALOG.iter().map(|k| k.id).collect();
        for id in &ids {
            assert!(
                id.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{id}"
            );
        }
        ids.sort();
        let before = ids.len();
        ids.dedup();
        assert_eq!(before, ids.len(), "duplicate finding id");
    }
}

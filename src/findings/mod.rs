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
    pub id: FindingId,
    pub severity: Severity,
    /// Position in the presented chain, when the finding concerns one certificate.
    pub certificate: Option<usize>,
    pub message: String,
    pub remediation: String,
}

/// One entry of the catalogue: what an id means and the usual fix.
pub struct FindingKind {
    pub id: FindingId,
    /// The usual severity; a rule may lower it where the context makes it less severe.
    pub severity: Severity,
    pub title: &'static str,
    pub remediation: &'static str,
    /// The long explanation `--explain` prints: what it means and which clients care.
    pub explanation: &'static str,
}

/// The catalogue is written once, below; this generates from it the [`FindingId`] enum
/// (so the compiler checks every id the code names) and [`CATALOG`], in the same order.
macro_rules! kinds {
    ($($variant:ident = $id:literal, $sev:ident, $title:literal, $fix:literal, $explanation:literal;)*) => {
        /// A finding's stable id: serialised (JSON, metrics, docs) as its kebab-case name,
        /// which is a published contract.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum FindingId {
            $($variant,)*
        }

        impl FindingId {
            /// Every id, in catalogue order.
            pub const ALL: &'static [FindingId] = &[$(FindingId::$variant,)*];

            /// The kebab-case name, as JSON and the docs spell it.
            pub fn name(self) -> &'static str {
                match self {
                    $(FindingId::$variant => $id,)*
                }
            }
        }

        pub const CATALOG: &[FindingKind] = &[
            $(FindingKind {
                id: FindingId::$variant,
                severity: Severity::$sev,
                title: $title,
                remediation: $fix,
                explanation: $explanation,
            },)*
        ];
    };
}

impl FindingId {
    /// The id named `name` (kebab-case), as `--explain` and users write it.
    pub fn from_name(name: &str) -> Option<Self> {
        FindingId::ALL.iter().copied().find(|id| id.name() == name)
    }

    /// The catalogue entry: title, usual severity, fix and explanation.
    pub fn kind(self) -> &'static FindingKind {
        // CATALOG is generated in the enum's order.
        &CATALOG[self as usize]
    }
}

impl std::fmt::Display for FindingId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for FindingId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

kinds! {
    MalformedCertificate = "malformed-certificate", Critical, "A presented certificate is not valid X.509",
        "Replace the certificate file on the server: it is damaged or not a certificate (check the PEM you mounted, e.g. the Secret's tls.crt).",
        "The bytes the server sent (or the file holds) in this position do not parse as an X.509 certificate. Every client aborts the handshake: nothing can be verified. Usually a truncated or double-encoded PEM, or a key pasted where a certificate belongs.";
    SelfSignedLeaf = "self-signed-leaf", Critical, "The server certificate is self-signed",
        "Serve a certificate issued by a CA: a public CA (cert-manager with an ACME issuer) or a private CA whose root your clients trust. Trusting a self-signed leaf directly works only where each client is configured for it.",
        "The server certificate is its own issuer. No trust store contains it, so every client refuses it unless the exact certificate is installed as trusted on each machine (Apple: a leaf anchor; Go: caCertFilePath pointing at it). flytectl on macOS usually reports \"not standards compliant\" instead of \"not trusted\", because Apple ranks its validity rules above trust.";
    UntrustedRoot = "untrusted-root", Critical, "The chain ends in a root that no evaluated store trusts",
        "Use a certificate from a publicly trusted CA, or distribute this root to every client (macOS keychain, flytectl caCertFilePath, GRPC_DEFAULT_SSL_ROOTS_FILE_PATH) and pass it here with --ca-file.",
        "The chain is complete up to a self-signed root, but that root is in none of the evaluated stores. Clients answer \"certificate signed by unknown authority\" (Go), \"self signed certificate in certificate chain\" (OpenSSL, grpcio) or NET::ERR_CERT_AUTHORITY_INVALID.";
    IncompleteChain = "incomplete-chain", Critical, "An intermediate certificate is missing",
        "Serve the full chain: append the missing intermediate after the leaf in the certificate file (tls.crt). Browsers may fetch it themselves; Go, grpcio, curl and OpenSSL do not.",
        "The server sends its leaf (and maybe some intermediates) but not the certificate that issued the last one, and that issuer is no trust anchor. Chrome and macOS (trustd) fetch the missing intermediate from the AIA caIssuers URL and work; Go, grpcio, OpenSSL and curl do not, so \"it works in the browser and on my Mac but fails in CI\". certready fetches it as they do (http only, bounded; not with --no-fetch) and the message says which clients that rescues; when it cannot be fetched, Apple reports \"certificate is not trusted\" through Go.";
    ChainOrder = "chain-order", Warning, "Certificates are not sent leaf first, each followed by its issuer",
        "Order the certificate file leaf first, then each issuer in turn (leaf, intermediate, ...). Some clients refuse out-of-order chains.",
        "TLS requires the leaf first, each certificate followed by the one that issued it. Most modern clients reorder, but some (older Java, embedded TLS stacks, strict proxies) refuse or pick a wrong path.";
    RootInChain = "root-in-chain", Info, "The server sends the root certificate",
        "Leave the self-signed root out of the served chain: clients must already have it, so sending it only costs bytes.",
        "The self-signed root is sent along with the chain. It is harmless but useless: a client trusts a root only if it already has it.";
    DuplicateCertificate = "duplicate-certificate", Warning, "A certificate is sent more than once",
        "Remove the repeated certificate from the certificate file.",
        "The same certificate is sent twice, usually because the bundle was concatenated twice. Harmless to most clients, but a sign the bundle is not what was intended.";
    UnrelatedCertificate = "unrelated-certificate", Warning, "A sent certificate is not part of the leaf's chain",
        "Remove certificates that did not issue the leaf or its issuers; they are usually a stale intermediate left in the bundle.",
        "A certificate in the chain did not issue the leaf or any of its issuers: often a stale intermediate from before a renewal. Strict clients may build a wrong path.";
    HostnameMismatch = "hostname-mismatch", Critical, "The certificate does not cover the host name",
        "Issue the certificate with the host name in its subjectAltName (DNS name, or IP address for IP targets).",
        "The name the client dials is not in the leaf's subjectAltName (DNS names for host names, IP addresses for IP targets). Every client refuses: Go says \"certificate is valid for X, not Y\", Chrome NET::ERR_CERT_COMMON_NAME_INVALID, grpcio \"Peer name ... is not in peer certificate\".";
    CnOnly = "cn-only", Critical, "The certificate has no subjectAltName; its Common Name is ignored",
        "Re-issue with a subjectAltName extension listing every host name (openssl: -addext \"subjectAltName=DNS:host\"). Go since 1.15, Apple and browsers ignore the CN.",
        "The leaf has no subjectAltName extension and names the host only in its Common Name. Go since 1.15, Apple, Chrome and urllib3 2 ignore the CN (Go: \"certificate relies on legacy Common Name field\"); grpcio still falls back to it.";
    Expired = "expired", Critical, "A certificate has expired",
        "Renew the certificate and redeploy it (for cert-manager: check the Certificate's status and the issuer's events).",
        "A certificate on the path is past its notAfter. Every client refuses it; Go prints both times (\"current time ... is after ...\").";
    NotYetValid = "not-yet-valid", Critical, "A certificate is not valid yet",
        "Check the issuing system's clock, or wait until notBefore; re-issue with a correct notBefore.",
        "A certificate on the path is before its notBefore: usually a clock problem on the issuing or the checking machine.";
    ExpiresSoon = "expires-soon", Warning, "A certificate expires soon",
        "Renew the certificate before it expires, and automate renewal (cert-manager renews 30 days before by default).",
        "A certificate on the path expires within --warn-days. Nothing fails yet.";
    WeakSignatureSha1 = "weak-signature-sha1", Critical, "A certificate is signed with SHA-1 (or MD5)",
        "Re-issue the certificate signed with SHA-256 or better; Go, Apple and browsers refuse SHA-1 signatures.",
        "A certificate on the path (not the root, whose signature nobody checks) is signed with SHA-1 or MD5. Go since 1.18, Apple, Chrome and OpenSSL at security level 2 refuse it; grpcio (BoringSSL) still accepts it, so pyflyte's gRPC may work where everything else fails.";
    WeakRsaKey = "weak-rsa-key", Critical, "An RSA key is shorter than 2048 bits",
        "Re-issue with an RSA key of at least 2048 bits, or an ECDSA P-256 key.",
        "An RSA key on the path is shorter than 2048 bits. Apple refuses it (\"is using a broken key size\"), as do OpenSSL at security level 2 and Chrome; Go still accepts 1024-bit keys.";
    ValidityExceeds825Days = "validity-exceeds-825-days", Critical, "The leaf's lifetime exceeds 825 days",
        "Re-issue the leaf with a lifetime of at most 825 days (398 for publicly trusted certificates); macOS refuses longer ones with \"certificate is not standards compliant\".",
        "The leaf was issued on or after 2019-07-01 and lives longer than 825 days plus one hour. Apple refuses such certificates from private CAs and untrusted chains with \"certificate is not standards compliant\" — the message flytectl's OAuth login shows on macOS for a long-lived self-signed certificate. Only a leaf trusted directly escapes the rule.";
    ValidityExceeds398Days = "validity-exceeds-398-days", Critical, "A publicly trusted leaf's lifetime exceeds 398 days",
        "Re-issue with a lifetime of at most 398 days; Apple and Chrome refuse longer publicly trusted certificates issued since 2020-09-01.",
        "A publicly trusted leaf issued on or after 2020-09-01 lives longer than 398 days. Apple (\"not standards compliant\") and Chrome (NET::ERR_CERT_VALIDITY_TOO_LONG) refuse it.";
    MissingServerAuthEku = "missing-server-auth-eku", Critical, "The leaf does not allow TLS server authentication",
        "Re-issue the leaf with extendedKeyUsage serverAuth (openssl: -addext \"extendedKeyUsage=serverAuth\").",
        "The leaf's extendedKeyUsage does not allow TLS server authentication. If the extension lists other purposes only, Go (\"certificate specifies an incompatible key usage\"), OpenSSL and Chrome refuse it. If the extension is absent, most clients accept it but macOS requires serverAuth for public roots and for certificates issued since 2019-07-01 unless their CA is trusted by an explicit setting.";
    IncompatibleKeyUsage = "incompatible-key-usage", Critical, "The leaf's keyUsage does not allow a TLS server key",
        "Re-issue the leaf with keyUsage digitalSignature (ECDSA) or digitalSignature, keyEncipherment (RSA); OpenSSL, BoringSSL (grpcio) and browsers refuse it otherwise.",
        "The leaf has a keyUsage extension without digitalSignature, keyEncipherment or keyAgreement, so its key may not be used for TLS. OpenSSL (\"unsuitable certificate purpose\"), BoringSSL and browsers refuse it; Go does not check.";
    LeafIsCa = "leaf-is-ca", Warning, "The server certificate is a CA certificate",
        "Issue the server certificate with basicConstraints CA:FALSE; several clients (rustls, and Apple for some anchors) refuse CA certificates as servers.",
        "The server certificate says CA:TRUE, as `openssl req -x509` makes by default. Go and OpenSSL accept it; rustls and other webpki-based clients refuse a CA certificate as a server certificate.";
    IssuerNotCa = "issuer-not-ca", Critical, "An issuing certificate is not a CA",
        "The certificate that signed another must carry basicConstraints CA:TRUE; re-create the intermediate or root as a CA.",
        "A certificate that signed another lacks basicConstraints CA:TRUE. Go refuses (\"parent certificate cannot sign this kind of certificate\" inside the unknown-authority hint), OpenSSL says \"invalid CA certificate\".";
    IngressDefaultCertificate = "ingress-default-certificate", Critical, "The ingress controller's default certificate is served",
        "The ingress has no TLS certificate for this host: add a tls section with a secretName (and the host) to the Ingress, and check that the Secret exists in the Ingress's namespace.",
        "ingress-nginx serves its built-in self-signed \"Kubernetes Ingress Controller Fake Certificate\" (O=Acme Co, SAN ingress.local) when no Ingress tls section matches the host or its Secret is missing or invalid. The fix is in the Ingress, not in the clients.";
    KeyMismatch = "key-mismatch", Critical, "The private key does not belong to the certificate",
        "Deploy the key that was generated with this certificate's request; the server will not start or will fail every handshake.",
        "The private key given (--key or the Secret's tls.key) is not the key of the leaf certificate. A server configured this way fails every handshake or refuses to start.";
    HandshakeFailed = "handshake-failed", Critical, "The TLS handshake failed after the certificate was sent",
        "Read the message: usually the server's private key does not match its certificate, or the key is too weak for TLS signatures.",
        "The server sent its certificates, then the TLS handshake failed: usually the server's key does not match its certificate, or the handshake signature uses an algorithm or key size that is refused.";
    UntrustedChain = "untrusted-chain", Critical, "No evaluated trust store accepts the chain",
        "Read each store's error in the trust section; fix the chain so that it validates to a trusted root.",
        "No store accepts the chain, for a reason none of the more specific findings names: a path length or name constraint, a distrusted certificate. The trust section gives each store's reason.";
    InsecureSkipVerifyInUse = "insecure-skip-verify-in-use", Warning, "flytectl's insecureSkipVerify is on",
        "Remove admin.insecureSkipVerify: it turns off verification for gRPC only (anyone on the network path can impersonate admin) and does not help the OAuth login, which always verifies. Fix the certificate instead, or point admin.caCertFilePath at your CA.",
        "flytectl's admin.insecureSkipVerify: true switches off certificate verification for the gRPC channel only. The OAuth login (token exchange, metadata) uses a separate HTTP client that always verifies with the system store, so a refused certificate still breaks `flytectl` login, while gRPC is open to impersonation.";
    PlaintextEndpoint = "plaintext-endpoint", Critical, "flyteadmin's endpoint speaks plaintext",
        "Put TLS in front of admin (an ingress with a certificate) and remove admin.insecure from the flytectl config; admin.insecure: true is only for plaintext ports and sends tokens unencrypted.",
        "The admin endpoint answered in plaintext HTTP or cleartext HTTP/2. flytectl reaches such a port only with admin.insecure: true, which switches TLS off entirely: there is no certificate to check and every token crosses the network in clear. With TLS expected, the handshake fails (grpc: \"first record does not look like a TLS handshake\"; OpenSSL: WRONG_VERSION_NUMBER).";
    InsecureButTls = "insecure-but-tls", Critical, "admin.insecure is true but admin speaks TLS",
        "Remove admin.insecure (or set it to false) in the flytectl config.",
        "admin.insecure: true makes flytectl send plaintext gRPC. The endpoint speaks TLS, so the connection fails before any certificate is looked at.";
    AlpnNoH2 = "alpn-no-h2", Critical, "admin does not negotiate ALPN h2",
        "Serve gRPC over HTTP/2 with ALPN h2: for ingress-nginx set nginx.ingress.kubernetes.io/backend-protocol: \"GRPC\" and keep HTTP/2 enabled; for a cloud load balancer enable HTTP/2 on the listener.",
        "gRPC runs on HTTP/2 and TLS clients announce it with ALPN. grpc-go 1.67 and later (flytectl 0.9.6+, Flyte 1.16+) refuse a TLS server that does not select h2 (\"credentials: cannot check peer: missing selected ALPN property\", switch: GRPC_ENFORCE_ALPN_ENABLED); grpcio offers only h2.";
    OauthMetadataUnreachable = "oauth-metadata-unreachable", Critical, "flyteadmin's OAuth metadata cannot be read",
        "Make /.well-known/oauth-authorization-server reachable through the ingress (HTTP paths to admin's HTTP port) and its certificate trusted; pass your CA with --ca-file or the config's caCertFilePath if it is private.",
        "certready reads /.well-known/oauth-authorization-server over verified HTTPS to learn which hosts the login touches. A TLS failure here usually means admin's own certificate is refused; a 5xx or HTML answer means the ingress does not route the path to admin.";
    AuthDisabled = "auth-disabled", Info, "flyteadmin runs without authentication",
        "Nothing to fix for TLS; enable server.security.useAuth when the deployment needs authentication.",
        "The OAuth metadata endpoint answered 404: flyteadmin's useAuth is off, so a login touches no OAuth host and flytectl needs no token.";
    HealthcheckFailed = "healthcheck-failed", Warning, "GET /healthcheck does not answer 200",
        "Route /healthcheck (and the other HTTP paths) to admin's HTTP port in the ingress.",
        "flyteadmin answers GET /healthcheck with 200 and an empty body. Another answer means the ingress sends HTTP paths elsewhere, which also breaks OAuth metadata and the console.";
    OauthLoginFails = "oauth-login-fails", Critical, "A host in the OAuth login refuses flytectl's TLS check",
        "Fix that host's certificate (see its report), or move the OAuth server to an IdP with a public certificate; insecureSkipVerify does not help: flytectl's OAuth client ignores it.",
        "A flytectl login calls several hosts: admin over gRPC, then the token endpoint over plain HTTPS (admin itself with the built-in server, the IdP with an external one). flytectl's OAuth HTTP client always verifies with the system store and ignores insecureSkipVerify and caCertFilePath, so the login can fail on a host whose gRPC channel works.";
    CorsOriginNotAllowed = "cors-origin-not-allowed", Critical, "flyteadmin's CORS does not allow the console's origin",
        "Add the console's origin to server.security.allowedOrigins and restart flyteadmin.",
        "The console calls admin from its own origin, so the browser sends a CORS preflight first. flyteadmin (gorilla/handlers) answers 200 without Access-Control-Allow-Origin when the origin is not allowed, and the browser then blocks the console's calls.";
    CorsHeaderNotAllowed = "cors-header-not-allowed", Critical, "flyteadmin's CORS does not allow the console's headers",
        "Add flyte-authorization to server.security.allowedHeaders (the flyte-core chart sets only Content-Type) and restart flyteadmin.",
        "flyteadmin answers a preflight that asks for a header it does not allow with 403. The console sends flyte-authorization on every call when auth is on.";
    CorsPreflightRejected = "cors-preflight-rejected", Critical, "The console's CORS preflight is rejected",
        "Check what sits between the browser and admin: flyteadmin answers 400 only to a preflight without Access-Control-Request-Method and 405 only to an unlisted method.",
        "The preflight got an answer flyteadmin's CORS layer gives only to malformed requests, or no answer at all.";
    CorsWildcardWithCredentials = "cors-wildcard-with-credentials", Warning, "CORS allows any origin with credentials",
        "List the console's origin in server.security.allowedOrigins instead of *.",
        "allowedOrigins: [\"*\"] makes flyteadmin answer Access-Control-Allow-Origin: * together with Access-Control-Allow-Credentials: true. Browsers refuse credentialed requests against a wildcard, so the console's cookie-authenticated calls fail.";
    ConfigUnknownKey = "config-unknown-key", Warning, "A config key flyte does not read",
        "Fix the key's spelling (keys are case-sensitive) or remove it.",
        "flyte's config loader ignores keys it does not know, so a misspelt key (allowedOrigin, caCertFile) silently leaves the default in place.";
    CorsOriginMalformed = "cors-origin-malformed", Critical, "An allowedOrigins entry can never match",
        "Write each origin as scheme://host[:port] with no path and no trailing slash, e.g. https://console.example.com.",
        "Browsers send Origin as scheme://host[:port]. flyteadmin compares allowedOrigins entries with it exactly, so an entry with a path or a trailing slash never matches and the console's calls are blocked.";
    RedirectUriShape = "redirect-uri-shape", Warning, "The flytectl client's redirectUri is not flytectl's local callback",
        "Set thirdPartyConfig.flyteClient.redirectUri to http://localhost:53593/callback (flytectl's default PKCE callback).",
        "flytectl's PKCE login opens a browser and listens on http://localhost:PORT/callback for the code. flyteadmin hands this redirectUri to flytectl; another shape makes the login hang or fail after the browser step.";
    ConfigFileMissing = "config-file-missing", Info, "A file the config names is not here",
        "Run lint-config where the files are mounted (or copy them beside the config) to have them checked too.",
        "The config names a certificate or key file that does not exist relative to where lint-config runs, so it could not be checked.";
    EndpointForm = "endpoint-form", Critical, "admin.endpoint is empty, malformed or not in flytectl's form",
        "Write admin.endpoint as dns:///flyte.example.com (or dns:///host:port).",
        "flytectl dials admin.endpoint with gRPC's dns resolver: dns:///host[:port], port 443 by default. flytekit also accepts host:port and strips http(s)://, flytectl does not.";
    AuthTypeInvalid = "auth-type-invalid", Critical, "admin.authType is not a value flytectl knows",
        "Use ClientSecret, Pkce, ExternalCommand or DeviceFlow, spelt exactly so.",
        "flytectl parses authType case-sensitively; an unknown value stops it with a config error before any connection.";
    CaCertFileUnusable = "ca-cert-file-unusable", Critical, "admin.caCertFilePath cannot serve as a trust anchor",
        "Point caCertFilePath at the PEM of the CA that issued admin's certificate (the root, or the issuing CA).",
        "flytectl loads caCertFilePath as the only roots of its gRPC channel. A missing or unreadable file stops the channel; a file with only leaf certificates trusts nothing but that exact certificate.";
    TooManyCertificates = "too-many-certificates", Warning, "The server presents more certificates than any chain needs",
        "Serve only the leaf and its intermediates (usually 2 to 4 certificates).",
        "certready analyses the first 32 certificates a server presents. A chain that long is a misconfigured bundle; clients bound path building (rustls/webpki, OpenSSL's verify depth) and may give up.";
    ChainLoop = "chain-loop", Critical, "The certificates issue each other in a loop",
        "Rebuild the bundle from the leaf's real issuer up to its root; remove the certificate that closes the loop.",
        "Each certificate's issuer is another certificate of the chain, so following issuers never reaches a self-signed root: no client can build a path. Usually two CAs cross-signed each other and both cross-certificates were bundled.";
    UnknownCriticalExtension = "unknown-critical-extension", Critical, "A certificate carries a critical extension no client understands",
        "Re-issue the certificate without that extension, or mark it non-critical.",
        "RFC 5280 makes a client reject a certificate with a critical extension it does not recognise: Go (\"x509: unhandled critical extension\"), OpenSSL and BoringSSL (\"unhandled critical extension\"), Apple (not standards compliant) and browsers all do.";
    GrpcNotRouted = "grpc-not-routed", Critical, "The ingress does not route gRPC to flyteadmin",
        "Route gRPC (/flyteidl.service.*, /grpc.health.v1.Health/*) to admin's gRPC port over HTTP/2; with ingress-nginx, in an Ingress of its own annotated nginx.ingress.kubernetes.io/backend-protocol: \"GRPC\".",
        "certready sends a gRPC health call (POST /grpc.health.v1.Health/Check over HTTP/2) through the ingress, as flytectl's calls go. A gRPC server answers with content-type application/grpc and a grpc-status; an HTML page or a bare HTTP error means the ingress sent the call to an HTTP backend or to none. grpc-go then reports \"unexpected HTTP status code received from server\" for every flytectl command, whatever the certificate.";
    GrpcHealthNotServing = "grpc-health-not-serving", Critical, "admin's gRPC health check fails",
        "Check flyteadmin's pods and logs (kubectl -n flyte logs deploy/flyteadmin) and the ingress's upstream for admin's gRPC port.",
        "The gRPC health call reached a gRPC server (the ingress routes gRPC), but the answer is an error status (e.g. Unavailable when the ingress has no healthy upstream) or a health status other than SERVING. Unimplemented is not reported: it only means no health service is registered.";
    PrivateTrustOnly = "private-trust-only", Info, "Only the --ca-file anchors trust the chain",
        "Fine for a private CA: every client must be given this CA (macOS keychain for flytectl's OAuth client, admin.caCertFilePath for gRPC, GRPC_DEFAULT_SSL_ROOTS_FILE_PATH for pyflyte).",
        "Only the anchors given with --ca-file trust the chain: a private CA. That is legitimate, but every client must be given the CA: the macOS keychain for flytectl's OAuth client, admin.caCertFilePath for its gRPC channel, GRPC_DEFAULT_SSL_ROOTS_FILE_PATH for pyflyte, the OS store for Linux OAuth and curl.";
    SystemTrustOnly = "system-trust-only", Info, "Only this machine's OS store trusts the chain",
        "The root is in this machine's store but not in Mozilla's public list: other machines will not trust it unless the same root is installed there.",
        "This machine's OS store trusts the chain but Mozilla's public list does not: the root was installed locally. Machines without that root (laptops, CI runners, containers) will refuse it.";
    CaFileBundle = "ca-file-bundle", Info, "caCertFilePath holds several certificates; old flytekit reads only the first",
        "Put the one root your ingress chains to first in the file (or alone), or upgrade flytekit past 1.10.1.",
        "flytekit 1.10.1 and older load admin.caCertFilePath with pyOpenSSL's load_certificate, which keeps only the first certificate of a PEM bundle: pyflyte then trusts that one certificate alone, while flytectl (Go) and newer flytekit trust them all. A bundle whose first certificate is not the ingress's root works for flytectl and fails for old pyflyte.";
    ClientRefuses = "client-refuses", Critical, "A client refuses the chain for a reason no other finding names",
        "Read the client's error in the message: it names the check that failed (a name constraint, an extended key usage on an issuer, an issuer's validity...). Fix the certificate it names, or the client's trust configuration.",
        "certready's re-implementations of the clients' verifiers refuse the chain, but none of certready's own rules explains it. The report is CRITICAL anyway, so the verdict and the exit code agree with what the clients will do; the client's own error text says which check failed.";
    TrustBundle = "trust-bundle", Info, "The file is a trust bundle, not a server's chain",
        "Nothing to fix in the bundle itself. To check what a server presents, inspect the file the server serves (its tls.crt or fullchain.pem), or run certready check against it.",
        "The file holds only self-signed CA certificates and no server certificate: a bundle of trust anchors, such as the one SSL_CERT_FILE, flytectl's caCertFilePath or GRPC_DEFAULT_SSL_ROOTS_FILE_PATH names. certready does not judge it as a server chain (its first root would look like a self-signed server certificate); it lists the roots that are expired or weak instead.";
    BundleRootExpired = "bundle-root-expired", Warning, "A root in the trust bundle has expired",
        "Remove the expired root from the bundle, and add its successor if the CA has one: clients ignore an expired anchor, so chains that still end in it fail.",
        "A root certificate in the trust bundle is past its notAfter date. Go, OpenSSL and Apple refuse any chain that ends in an expired root, so the root no longer trusts anything; keeping it only hides that its successor is missing.";
    BundleRootWeak = "bundle-root-weak", Warning, "A root in the trust bundle has a weak key",
        "Replace the root with one that has an RSA key of at least 2048 bits or an ECDSA key, and re-issue the chains below it.",
        "A root certificate in the trust bundle has an RSA key shorter than 2048 bits. Apple and OpenSSL at security level 2 refuse chains that end in it; Go still accepts 1024-bit keys. Public CAs retired such roots years ago.";
    Revoked = "revoked", Critical, "A certificate on the path is revoked",
        "Replace the certificate: get a new one issued (with a new key if the reason is keyCompromise) and deploy it; then make the server staple current OCSP responses.",
        "The issuer has revoked a certificate on the path, according to a current, correctly signed OCSP response (stapled by the server or from the issuer's responder) or CRL. Few clients notice: Chrome refuses it (NET::ERR_CERT_REVOKED) when the server staples the revoked response or its CRLSet lists it, Firefox when its OCSP query says so, macOS for CAs in Apple's revocation database (\"certificate is revoked\"); Go (flytectl), grpcio and requests never check. It must be replaced all the same: whoever holds its key can impersonate the server.";
    OcspMustStapleMissing = "ocsp-must-staple-missing", Warning, "A must-staple certificate is served without a stapled OCSP response",
        "Turn on OCSP stapling on the server (nginx: ssl_stapling on; ssl_stapling_verify on; with a resolver that reaches the responder), or re-issue without the must-staple extension.",
        "The certificate carries the TLS Feature extension with status_request (OCSP must-staple), so it promises a stapled OCSP response in every handshake. The server sent none: Firefox refuses the connection (MOZILLA_PKIX_ERROR_REQUIRED_TLS_FEATURE_MISSING); Chrome, Go, OpenSSL and grpcio do not enforce the extension.";
    OcspResponseStale = "ocsp-response-stale", Warning, "The stapled OCSP response is out of date",
        "Make the server refresh its staple: it must reach the OCSP responder (DNS resolver and egress for nginx's ssl_stapling), or it keeps serving the old response.",
        "The OCSP response the server stapled is past its nextUpdate. Clients that read staples ignore it (and Firefox then asks the responder, or refuses a must-staple certificate).";
    OcspResponseInvalid = "ocsp-response-invalid", Warning, "An OCSP response cannot be used",
        "Check the responder (or the staple the server serves): the response must be about this certificate, signed by its issuer or a delegated responder (extendedKeyUsage OCSPSigning, issued by the issuer), and current.",
        "An OCSP response (stapled or from the responder) is malformed, about another certificate, signed by a key that may not answer for the issuer, badly signed or dated in the future. Clients that check treat the status as unknown.";
    RevocationUnknown = "revocation-unknown", Warning, "The revocation status could not be learnt",
        "Nothing breaks for clients today (they soft-fail); check that the OCSP responder and CRL in the certificate answer from where your clients run, or run with --no-revocation where they cannot be reached.",
        "certready asked the certificate's OCSP responder and/or CRL distribution point and got no usable answer in time (unreachable, slow, unknown, stale or invalid). Every client that checks revocation soft-fails on this, so it is never more than a warning.";
    CrlTooLarge = "crl-too-large", Warning, "A CRL is too large to read",
        "Prefer OCSP (and stapling) for this CA; clients that download CRLs per connection will be slow or skip it.",
        "The CRL at the certificate's distribution point is larger than certready reads (10 MiB). Clients that fetch CRLs on demand either time out or skip it; browsers rely on OCSP or their own revocation lists instead.";
    CtInsufficientScts = "ct-insufficient-scts", Critical, "The leaf does not meet Chrome's or Apple's Certificate Transparency policy",
        "Have the CA log the certificate and embed the SCTs (every public CA does by default): re-issue it from the CA, and serve the certificate as issued, not a re-signed copy.",
        "A certificate chaining to a public root must carry Signed Certificate Timestamps (SCTs) from CT logs the clients trust. Chrome wants embedded SCTs from 2 distinct logs (lifetime up to 180 days) or 3 (beyond), from at least two log operators, or SCTs delivered in the TLS extension from two operators (SCTs in a stapled OCSP response no longer count); it refuses with NET::ERR_CERTIFICATE_TRANSPARENCY_REQUIRED. Apple wants 2 embedded SCTs (up to 180 days, at most one per operator) or 3 (181 to 398 days, at most two per operator); flytectl on macOS gets only the embedded ones through Go and fails with \"certificate is not standards compliant\". certready verifies each SCT's signature against its CT log list before counting it. A private CA's certificates need no SCTs.";
    CtSctInvalid = "ct-sct-invalid", Warning, "An SCT does not verify",
        "Re-issue the certificate from the CA; an SCT whose signature fails usually means the certificate was altered after issuance (re-signed, or built from another precertificate).",
        "An SCT in the certificate or the stapled OCSP response comes from a known CT log but its signature does not verify over this certificate (or it is dated in the future, or does not parse). Clients ignore it; if too few valid SCTs remain, they refuse the certificate (see ct-insufficient-scts).";
    CtUnknownLog = "ct-unknown-log", Warning, "An SCT comes from a CT log not in the log list",
        "Use a CA that logs to logs Chrome and Apple trust; if certready's embedded lists are older than the certificate, pass current ones: --ct-log-list FILE (Google's log_list.json; it judges Apple too) and --apple-ct-log-list FILE (Apple's current_log_list.json).",
        "An SCT names a log that a client's CT log list (Chrome's, or Apple's) does not have, or has but does not trust: pending, rejected, listed without a state (never qualified), or not a production log (a test or monitoring-only log of an all-logs list). That client does not count it; the two lists differ (Cloudflare's Raio logs are rejected in Chrome's and usable in Apple's). When the list is more than 70 days older than the instant judged, a log it lacks or has as pending may have been added or qualified since: the finding is then informational and certready does not claim a refusal it cannot know.";
    ConfigWrongType = "config-wrong-type", Critical, "A key has a value of the wrong type",
        "Give the key the type the chart or program expects (the message says which); `helm template` fails on it, or the value is silently ignored.",
        "A Helm value or a Kubernetes field has the wrong YAML type: a string where a mapping belongs (`tls: true` instead of `tls: {enabled: true}`), a word where a number belongs (`runAsUser: \"zero\"`). Helm's templates fail to render or take the default, and the API server refuses the object; either way what is deployed is not what the file says.";
    IngressNoTls = "ingress-no-tls", Critical, "An Ingress serves Flyte's admin without TLS",
        "Add a tls section to the Ingress with the host and a secretName holding the certificate (flyte-core: common.ingress.tls.enabled and secretName; flyte-binary: ingress.tls), or terminate TLS at the load balancer (e.g. alb.ingress.kubernetes.io/certificate-arn).",
        "An Ingress routes Flyte's admin (gRPC or its HTTP paths) for a host that no tls entry covers. ingress-nginx then serves that host over HTTPS with its built-in \"Kubernetes Ingress Controller Fake Certificate\", which every client refuses; flytectl works only with admin.insecure against port 80, sending tokens in clear.";
    IngressTlsSecretNotFound = "ingress-tls-secret-not-found", Info, "The TLS Secret an Ingress names is not in the stream",
        "Make sure the Secret exists in the Ingress's namespace before rollout (cert-manager creates it from the Certificate), or add it to the manifests to have it checked too.",
        "An Ingress's tls entry names a Secret that the linted files do not contain. It may well live in the cluster (made by cert-manager or by hand), so this is only a note: certready cannot check its certificate. If it is missing at rollout, ingress-nginx serves its fake default certificate for the host.";
    IngressTlsHostNotInCertificate = "ingress-tls-host-not-in-certificate", Critical, "An Ingress host is not covered by its TLS certificate",
        "Re-issue the certificate in the Secret with every Ingress host in its subjectAltName (cert-manager: list them in the Certificate's dnsNames), or point the tls entry at a Secret that covers the host.",
        "An Ingress serves a host with a Secret whose certificate does not name that host in its subjectAltName. Every client refuses it with a name mismatch (Go: \"certificate is valid for X, not Y\"; Chrome: NET::ERR_CERT_COMMON_NAME_INVALID; grpcio: \"Peer name ... is not in peer certificate\").";
    IngressGrpcBackendProtocolMissing = "ingress-grpc-backend-protocol-missing", Critical, "An Ingress routes flyteadmin's gRPC without gRPC to the backend",
        "Route gRPC through an Ingress of its own with nginx.ingress.kubernetes.io/backend-protocol: \"GRPC\" (flyte-core: common.ingress.separateGrpcIngress with separateGrpcIngressAnnotations; flyte-binary: ingress.grpcAnnotations); on AWS ALB set alb.ingress.kubernetes.io/backend-protocol-version: GRPC.",
        "flyteadmin's gRPC paths (/flyteidl.service.*, /grpc.health.v1.Health) are routed by an Ingress that proxies to the backend over HTTP/1.1. ingress-nginx needs nginx.ingress.kubernetes.io/backend-protocol: GRPC (or GRPCS) on the Ingress, which is why the charts put gRPC on a separate Ingress: flytectl and pyflyte then fail with \"Unavailable\" or an HTTP 502/426 status, while the console, on the HTTP paths, works.";
    ContainerRunsAsRoot = "container-runs-as-root", Critical, "A container runs as root",
        "Run the container as a non-root user: set securityContext.runAsUser to a non-zero UID (Flyte's images use 1001 or 65534) and runAsNonRoot: true, at pod or container level.",
        "A container's effective runAsUser (its own securityContext over the pod's, as Kubernetes combines them) is 0. Flyte's security overview asks for non-root containers. With runAsNonRoot: true as well, the kubelet refuses to start it (CreateContainerConfigError), so the rollout hangs.";
    RunAsNonRootNotSet = "run-as-non-root-not-set", Warning, "Nothing guarantees a container runs as non-root",
        "Set securityContext.runAsNonRoot: true (and a non-zero runAsUser) at pod or container level; the kubelet then refuses an image that would run as root.",
        "Neither runAsNonRoot nor a non-zero runAsUser is set for the container, at pod or container level, so the image's USER decides. Flyte's images set a non-root USER, but certready cannot see the image: runAsNonRoot: true makes the kubelet check it.";
    PrivilegeEscalationAllowed = "privilege-escalation-allowed", Warning, "A container may gain more privileges than its process",
        "Set securityContext.allowPrivilegeEscalation: false on the container.",
        "The container's allowPrivilegeEscalation is true or unset (Kubernetes's default is true), so a setuid binary in the image can raise the process's privileges. The restricted Pod Security Standard requires false.";
    PrivilegedContainer = "privileged-container", Critical, "A container is privileged",
        "Remove securityContext.privileged: true; no Flyte component needs it.",
        "A privileged container has every capability and the host's devices: root in it is root on the node. The baseline Pod Security Standard forbids it.";
    CapabilitiesNotDropped = "capabilities-not-dropped", Warning, "A container keeps Linux capabilities it does not need",
        "Set securityContext.capabilities.drop: [\"ALL\"] on the container (add back only what it needs, e.g. NET_BIND_SERVICE).",
        "The container does not drop ALL capabilities, so it keeps the runtime's default set (CHOWN, SETUID, NET_RAW, ...). The restricted Pod Security Standard requires drop: [\"ALL\"].";
    DbWaitRunsAsRoot = "db-wait-runs-as-root", Warning, "The database-wait init container runs as root (Flyte's known exception)",
        "Run the wait as a non-root user: pg_isready is a client and needs no root, so set the init container's securityContext runAsUser to a non-zero UID (e.g. 65534) with runAsNonRoot: true, or drop the init container (flyte-binary: deployment.waitForDB.enabled: false) if the database is up before Flyte starts.",
        "The init container that waits for the database (check-db-ready in older flyte-core charts, wait-for-db in flyte-binary) uses a postgres image, which runs as root unless told otherwise. Flyte's security overview lists it as the one known exception to non-root containers; it is still root in the pod, for a command that does not need it.";
    RunAsUserFixed = "run-as-user-fixed", Info, "A container runs as a fixed UID",
        "On OpenShift, leave runAsUser unset (keep runAsNonRoot: true) so the restricted SCC assigns a UID from the namespace's range; elsewhere nothing to do.",
        "The container's runAsUser is a fixed UID. OpenShift's restricted SCC assigns each namespace a UID range and rejects pods that ask for a UID outside it (\"unable to validate against any security context constraint\"), so a chart's fixed 1001 or 65534 fails there. A warning with --openshift, a note otherwise.";
    ManifestNotAnObject = "manifest-not-an-object", Warning, "A document of the manifest stream is not a Kubernetes object",
        "Give the document apiVersion and kind (and metadata.name), or remove it from the stream.",
        "Every document kubectl applies must name its apiVersion and kind; kubectl apply -f refuses the file (\"error validating data: [apiVersion not set, kind not set]\"). certready skips such a document and says where it is.";
}

/// docs/findings.md, generated from [`CATALOG`] so the documentation cannot drift from
/// the code (tests/it/docs.rs compares the two).
pub fn catalogue_markdown() -> String {
    use std::fmt::Write;
    let mut out = String::from(
        "# Finding catalogue\n\n\
         <!-- Generated from src/findings/mod.rs: `CERTREADY_BLESS=1 cargo test --test it docs` \
         rewrites it. Do not edit by hand. -->\n\n\
         Every finding certready reports has a stable kebab-case id (a contract: JSON's \
         `findings[].id`, Prometheus's `certready_finding{id=...}`), a severity, the position \
         of the certificate concerned, a message and a fix. The severity below is the usual \
         one; a rule may lower it where the context makes the problem less severe (for \
         example a long-lived certificate trusted directly as a leaf anchor). \
         `certready --explain ID` prints an entry in the terminal.\n\n\
         | Id | Severity | What it means |\n|---|---|---|\n",
    );
    for kind in CATALOG {
        let _ = writeln!(
            out,
            "| [`{id}`](#{id}) | {} | {} |",
            kind.severity.name(),
            kind.title,
            id = kind.id
        );
    }
    for kind in CATALOG {
        let _ = write!(
            out,
            "\n## `{}`\n\n**{}** · {}\n\n{}\n\n**Fix:** {}\n",
            kind.id,
            kind.severity.name(),
            kind.title,
            kind.explanation,
            kind.remediation
        );
    }
    out
}

/// Whether `findings` include one with this id.
pub fn has(findings: &[Finding], id: FindingId) -> bool {
    findings.iter().any(|f| f.id == id)
}

impl Finding {
    /// A finding with the catalogue's severity and remediation.
    pub fn new(id: FindingId, certificate: Option<usize>, message: impl Into<String>) -> Self {
        let kind = id.kind();
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
    fn catalogue_follows_the_enum() {
        for (index, kind) in CATALOG.iter().enumerate() {
            assert_eq!(kind.id as usize, index);
            assert_eq!(FindingId::from_name(kind.id.name()), Some(kind.id));
        }
    }

    #[test]
    fn ids_are_unique_kebab_case_of_their_variant() {
        for &id in FindingId::ALL {
            let camel: String = id
                .name()
                .split('-')
                .map(|word| word[..1].to_uppercase() + &word[1..])
                .collect();
            assert_eq!(format!("{id:?}"), camel);
        }
        let mut ids: Vec<&str> = CATALOG.iter().map(|k| k.id.name()).collect();
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

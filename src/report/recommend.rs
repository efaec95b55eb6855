//! Recommendations: from the findings and client verdicts, what to do, in order of
//! what fixes most, with text an operator can act on.

use crate::clients::{Channel, ClientName, ClientVerdict};
use crate::findings::{Finding, FindingId};
use crate::report::{PathSummary, Recommendation, RecommendationId};

pub struct Input<'a> {
    pub host: &'a str,
    pub findings: &'a [Finding],
    pub clients: &'a [ClientVerdict],
    pub path: &'a PathSummary,
    pub publicly_trusted: bool,
    /// AIA caIssuers URL of the certificate whose issuer is missing.
    pub missing_issuer_url: Option<&'a str>,
}

pub fn recommend(input: &Input<'_>) -> Vec<Recommendation> {
    let has = |id: FindingId| crate::findings::has(input.findings, id);
    let refused = input.clients.iter().any(|c| !c.accepts);
    let mut out = Vec::new();
    let host = input.host;

    if let Some(missing) = &input.path.missing_issuer {
        let fetch = match input.missing_issuer_url {
            Some(url) => format!(
                "Its AIA caIssuers URL is {url}:\n  curl -fsSo intermediate.der \\\n    '{url}'\n  openssl x509 -inform DER -in intermediate.der -out intermediate.pem\n"
            ),
            None => "Get it from your CA (the leaf has no AIA caIssuers URL).\n".to_string(),
        };
        out.push(Recommendation {
            id: RecommendationId::AddMissingIntermediate,
            title: format!("Serve the missing intermediate \"{missing}\""),
            text: format!(
                "{fetch}Append it after the leaf and update the Secret the ingress uses:\n  cat tls.crt intermediate.pem > fullchain.pem\n  kubectl create secret tls flyte-tls -n flyte --cert=fullchain.pem \\\n    --key=tls.key --dry-run=client -o yaml | kubectl apply -f -\nThis fixes every client at once; browsers and macOS only worked because they fetch it themselves."
            ),
        });
    }

    let needs_new_certificate = has(FindingId::SelfSignedLeaf)
        || has(FindingId::UntrustedRoot)
        || has(FindingId::IngressDefaultCertificate)
        || has(FindingId::ValidityExceeds825Days)
        || has(FindingId::CnOnly)
        || has(FindingId::WeakSignatureSha1)
        || has(FindingId::WeakRsaKey)
        || has(FindingId::MissingServerAuthEku);
    if refused && !input.publicly_trusted && needs_new_certificate {
        let public_ca = [
            "Every client trusts it with no configuration, and it meets Apple's rules (SAN, serverAuth, ≤ 398 days, SCTs). With cert-manager and Let's Encrypt:",
            "  apiVersion: cert-manager.io/v1",
            "  kind: ClusterIssuer",
            "  metadata:",
            "    name: letsencrypt",
            "  spec:",
            "    acme:",
            "      server: https://acme-v02.api.letsencrypt.org/directory",
            "      email: ops@example.com",
            "      privateKeySecretRef:",
            "        name: letsencrypt-account",
            "      solvers:",
            "        - http01:",
            "            ingress:",
            "              ingressClassName: nginx",
            "and on the Flyte Ingress:",
            "  metadata:",
            "    annotations:",
            "      cert-manager.io/cluster-issuer: letsencrypt",
            "  spec:",
            "    tls:",
            "      - hosts: [HOST]",
            "        secretName: flyte-tls",
        ];
        out.push(Recommendation {
            id: RecommendationId::UsePublicCa,
            title: "Use a certificate from a public CA".into(),
            text: public_ca.join("\n").replace("HOST", host),
        });
        let private_ca = [
            "For every client the leaf must have: subjectAltName DNS:HOST; extendedKeyUsage serverAuth; basicConstraints CA:FALSE; a lifetime of at most 825 days (397 is safe everywhere); an RSA ≥ 2048 or ECDSA P-256 key; a SHA-256 signature. With openssl:",
            "  openssl req -x509 -newkey rsa:4096 -sha256 -days 3650 -nodes \\",
            "    -keyout ca.key -out ca.crt -subj '/CN=Example Flyte CA' \\",
            "    -addext 'basicConstraints=critical,CA:TRUE' \\",
            "    -addext 'keyUsage=critical,keyCertSign,cRLSign'",
            "  openssl req -new -newkey rsa:2048 -nodes -keyout tls.key \\",
            "    -out tls.csr \\",
            "    -subj '/CN=HOST'",
            "  cat > leaf.ext <<'EOF'",
            "  subjectAltName=DNS:HOST",
            "  extendedKeyUsage=serverAuth",
            "  basicConstraints=critical,CA:FALSE",
            "  keyUsage=critical,digitalSignature,keyEncipherment",
            "  EOF",
            "  openssl x509 -req -in tls.csr -CA ca.crt -CAkey ca.key \\",
            "    -CAcreateserial -days 397 -sha256 -extfile leaf.ext -out tls.crt",
            "(or a cert-manager CA Issuer holding ca.crt and ca.key). Then trust ca.crt where each client looks:",
            "- macOS keychain, for flytectl's OAuth client:",
            "  sudo security add-trusted-cert -d -r trustRoot \\",
            "    -k /Library/Keychains/System.keychain ca.crt",
            "- flytectl's gRPC channel, and pyflyte (gRPC and its OAuth requests), in ~/.flyte/config.yaml:",
            "  admin:",
            "    caCertFilePath: /path/to/ca.crt",
            "- or for pyflyte's gRPC alone (grpcio; replaces its bundled roots):",
            "  export GRPC_DEFAULT_SSL_ROOTS_FILE_PATH=/path/to/ca.crt",
            "- flytectl's OAuth client on Linux, and curl: the OS store",
            "  sudo cp ca.crt /usr/local/share/ca-certificates/",
            "  sudo update-ca-certificates",
        ];
        out.push(Recommendation {
            id: RecommendationId::UsePrivateCaCorrectly,
            title: "Or use a private CA correctly".into(),
            text: private_ca.join("\n").replace("HOST", host),
        });
    }

    let macos_oauth_refuses = input.clients.iter().any(|c| {
        c.client == ClientName::FlytectlMacos && c.channel == Channel::OauthHttp && !c.accepts
    });
    if macos_oauth_refuses {
        out.push(Recommendation {
            id: RecommendationId::UseExternalOauthProvider,
            title: "Or move the OAuth server to an external provider".into(),
            text: "With Okta, Google, Keycloak or Azure AD: set auth.appAuth.authServerType: External and auth.appAuth.externalAuthServer.baseUrl in flyteadmin's config. The token endpoint then lives on the IdP's host, whose certificate is public, so the PKCE exchange that fails on macOS no longer touches admin's certificate. It does not fix gRPC: flytectl still talks TLS to admin, so admin's certificate must still be trusted (caCertFilePath) or replaced.".into(),
        });
    }

    if has(FindingId::Expired) || has(FindingId::ExpiresSoon) {
        out.push(Recommendation {
            id: RecommendationId::Renew,
            title: "Renew the certificate".into(),
            text: "Renew it and automate renewal (cert-manager renews 30 days before expiry by default); then restart or reload whatever serves it if it does not watch the Secret.".into(),
        });
    }

    if has(FindingId::InsecureSkipVerifyInUse) {
        out.push(Recommendation {
            id: RecommendationId::RemoveInsecureSkipVerify,
            title: "Remove admin.insecureSkipVerify".into(),
            text: "It only switches off verification on the gRPC channel; the OAuth login still verifies (and still fails), and gRPC becomes open to impersonation. Fix the certificate, or set admin.caCertFilePath to your CA.".into(),
        });
    }
    out
}

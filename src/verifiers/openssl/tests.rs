//! The engines on generated chains (rcgen, shaped as each case needs) and on the
//! openssl-made fixtures in testdata/; expected texts are the ones the real clients print
//! (tests/it/openssl_engine.rs proves a selection of them against Python and grpcio).

use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DnType, ExtendedKeyUsagePurpose,
    GeneralSubtree, IsCa, Issuer, KeyPair, KeyUsagePurpose, NameConstraints, SanType,
};
use time::{Duration, OffsetDateTime};

use super::*;

const PYTHON: Flavor = Flavor::OpenSsl {
    strict_partial: false,
    check_common_name: true,
};
const REQUESTS: Flavor = Flavor::OpenSsl {
    strict_partial: false,
    check_common_name: false,
};
const PYTHON_313: Flavor = Flavor::OpenSsl {
    strict_partial: true,
    check_common_name: true,
};
const GRPC: Flavor = Flavor::BoringSsl {
    partial_chain: true,
};
const GRPC_BUNDLED_ROOTS: Flavor = Flavor::BoringSsl {
    partial_chain: false,
};

/// A generated certificate that can issue others.
struct Node {
    der: Vec<u8>,
    params: CertificateParams,
    key: KeyPair,
}

impl Node {
    fn self_signed(params: CertificateParams) -> Node {
        let key = KeyPair::generate().unwrap();
        let der = params.self_signed(&key).unwrap().der().to_vec();
        Node { der, params, key }
    }

    fn issue(&self, params: CertificateParams) -> Node {
        let key = KeyPair::generate().unwrap();
        let issuer = Issuer::from_params(&self.params, &self.key);
        let der = params.signed_by(&key, &issuer).unwrap().der().to_vec();
        Node { der, params, key }
    }

    fn root(cn: &str) -> Node {
        Node::self_signed(ca(cn))
    }
}

fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

fn base(cn: &str, days: i64) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, cn);
    let start = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap() - Duration::days(1);
    params.not_before = start;
    params.not_after = start + Duration::days(days);
    params.use_authority_key_identifier_extension = true;
    params
}

/// A CA as CAs are usually made: CA:TRUE (critical), keyCertSign and cRLSign, key ids.
fn ca(cn: &str) -> CertificateParams {
    let mut params = base(cn, 3650);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params
}

/// A server certificate: SAN, digitalSignature and keyEncipherment, serverAuth.
fn leaf(host: &str) -> CertificateParams {
    let mut params = base(host, 90);
    params.subject_alt_names = vec![match host.parse() {
        Ok(ip) => SanType::IpAddress(ip),
        Err(_) => SanType::DnsName(host.try_into().unwrap()),
    }];
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params
}

fn outcome(flavor: Flavor, chain: &[&[u8]], roots: &[&[u8]], host: &str) -> Result<(), Outcome> {
    verify(&flavor, chain, roots, host, now())
}

/// What the client prints: "OK" or the outcome's text.
fn says(flavor: Flavor, chain: &[&Node], roots: &[&Node], host: &str) -> String {
    let chain: Vec<&[u8]> = chain.iter().map(|n| n.der.as_slice()).collect();
    let roots: Vec<&[u8]> = roots.iter().map(|n| n.der.as_slice()).collect();
    match outcome(flavor, &chain, &roots, host) {
        Ok(()) => "OK".into(),
        Err(o) => o.text,
    }
}

/// grpcio's text for a handshake that failed verification.
fn tls(reason: &str) -> String {
    format!(
        "Tls handshake failed (TSI_PROTOCOL_FAILURE): SSL_ERROR_SSL: error:1000007d:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED: {reason}: OK"
    )
}

const HOSTNAME_CHECK: &str =
    "Custom verification check failed with error: UNAUTHENTICATED: Hostname Verification Check failed.";

struct Pki {
    root: Node,
    int: Node,
    leaf: Node,
}

fn pki(leaf_params: CertificateParams) -> Pki {
    let root = Node::root("Test Root CA");
    let int = root.issue(ca("Test Issuing CA"));
    let leaf = int.issue(leaf_params);
    Pki { root, int, leaf }
}

#[test]
fn a_correct_chain_passes_every_client() {
    let p = pki(leaf("a.example.com"));
    for flavor in [PYTHON, REQUESTS, PYTHON_313, GRPC, GRPC_BUNDLED_ROOTS] {
        assert_eq!(
            says(flavor, &[&p.leaf, &p.int], &[&p.root], "a.example.com"),
            "OK",
            "{flavor:?}"
        );
    }
    // The intermediate from the store, the server sending the leaf only.
    assert_eq!(
        says(PYTHON, &[&p.leaf], &[&p.root, &p.int], "a.example.com"),
        "OK"
    );
    assert_eq!(
        says(GRPC, &[&p.leaf], &[&p.root, &p.int], "a.example.com"),
        "OK"
    );
}

#[test]
fn missing_intermediate_and_untrusted_roots() {
    let p = pki(leaf("a.example.com"));
    let local = "unable to get local issuer certificate";
    let out = outcome(PYTHON, &[&p.leaf.der], &[&p.root.der], "a.example.com").unwrap_err();
    assert_eq!(
        (out.kind, out.code, out.depth, out.text.as_str()),
        (Kind::Verify, 20, 0, local)
    );
    assert_eq!(
        says(GRPC, &[&p.leaf], &[&p.root], "a.example.com"),
        tls(local)
    );

    let stranger = Node::root("Unrelated Root CA");
    assert_eq!(
        says(PYTHON, &[&p.leaf, &p.int], &[&stranger], "a.example.com"),
        local
    );
    let sent = [&p.leaf, &p.int, &p.root];
    let out = outcome(
        PYTHON,
        &sent.map(|n| n.der.as_slice()),
        &[&stranger.der],
        "a.example.com",
    )
    .unwrap_err();
    assert_eq!(
        (out.code, out.depth, out.text.as_str()),
        (19, 2, "self-signed certificate in certificate chain")
    );
    assert_eq!(
        says(GRPC, &sent, &[&stranger], "a.example.com"),
        tls("self signed certificate in certificate chain")
    );
}

#[test]
fn a_self_signed_leaf_is_self_signed_for_boringssl_only_with_key_cert_sign() {
    let stranger = Node::root("Unrelated Root CA");
    let plain = Node::self_signed(leaf("a.example.com"));
    assert_eq!(
        says(PYTHON, &[&plain], &[&stranger], "a.example.com"),
        "self-signed certificate"
    );
    assert_eq!(
        says(GRPC, &[&plain], &[&stranger], "a.example.com"),
        tls("unable to get local issuer certificate")
    );
    let mut signing = leaf("a.example.com");
    signing.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyCertSign,
    ];
    let signing = Node::self_signed(signing);
    assert_eq!(
        says(GRPC, &[&signing], &[&stranger], "a.example.com"),
        tls("self signed certificate")
    );
    // Trusted directly: both accept; BoringSSL through PARTIAL_CHAIN's exact match only.
    assert_eq!(says(PYTHON, &[&plain], &[&plain], "a.example.com"), "OK");
    assert_eq!(says(GRPC, &[&plain], &[&plain], "a.example.com"), "OK");
    assert_eq!(
        says(GRPC_BUNDLED_ROOTS, &[&plain], &[&plain], "a.example.com"),
        tls("unable to get local issuer certificate")
    );
}

#[test]
fn python_checks_the_host_before_the_dates_grpc_after_the_handshake() {
    let mut expired = leaf("a.example.com");
    expired.not_before = OffsetDateTime::now_utc() - Duration::days(100);
    expired.not_after = OffsetDateTime::now_utc() - Duration::days(10);
    let p = pki(expired);
    let chain = [&p.leaf, &p.int];
    assert_eq!(
        says(PYTHON, &chain, &[&p.root], "b.example.com"),
        "Hostname mismatch, certificate is not valid for 'b.example.com'."
    );
    assert_eq!(
        says(GRPC, &chain, &[&p.root], "b.example.com"),
        tls("certificate has expired")
    );
    let out = outcome(
        PYTHON,
        &chain.map(|n| n.der.as_slice()),
        &[&p.root.der],
        "a.example.com",
    );
    assert_eq!(out.unwrap_err().code, 10);

    let fresh = pki(leaf("a.example.com"));
    let chain = [&fresh.leaf, &fresh.int];
    assert_eq!(
        says(GRPC, &chain, &[&fresh.root], "b.example.com"),
        HOSTNAME_CHECK
    );
    let out = outcome(
        GRPC,
        &chain.map(|n| n.der.as_slice()),
        &[&fresh.root.der],
        "b.example.com",
    );
    assert_eq!(
        out.unwrap_err().grpc_details("ipv4:127.0.0.1:8443"),
        format!("failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:8443: {HOSTNAME_CHECK}")
    );
    assert_eq!(
        says(PYTHON, &chain, &[&fresh.root], "127.0.0.1"),
        "IP address mismatch, certificate is not valid for '127.0.0.1'."
    );
    assert_eq!(
        says(PYTHON, &chain, &[&fresh.root], ".example.com"),
        "server_hostname cannot be an empty string or start with a leading dot."
    );
    let ip = pki(leaf("127.0.0.1"));
    assert_eq!(
        says(PYTHON, &[&ip.leaf, &ip.int], &[&ip.root], "127.0.0.1"),
        "OK"
    );
    assert_eq!(
        says(GRPC, &[&ip.leaf, &ip.int], &[&ip.root], "127.0.0.1"),
        "OK"
    );
}

#[test]
fn an_expired_root_is_reported_at_its_depth() {
    let mut old = ca("Old Root CA");
    old.not_before = OffsetDateTime::now_utc() - Duration::days(100);
    old.not_after = OffsetDateTime::now_utc() - Duration::days(1);
    let root = Node::self_signed(old);
    let int = root.issue(ca("Test Issuing CA"));
    let leaf = int.issue(leaf("a.example.com"));
    let chain = [leaf.der.as_slice(), int.der.as_slice()];
    let out = outcome(PYTHON, &chain, &[&root.der], "a.example.com").unwrap_err();
    assert_eq!((out.code, out.depth), (10, 2));
    let out = outcome(GRPC, &chain, &[&root.der], "a.example.com").unwrap_err();
    assert_eq!((out.code, out.depth), (10, 2));
}

#[test]
fn eku_and_ca_flags_on_the_intermediate() {
    let root = Node::root("Test Root CA");
    let mut client = ca("Client Issuing CA");
    client.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let int = root.issue(client);
    let l = int.issue(leaf("a.example.com"));
    let out = outcome(PYTHON, &[&l.der, &int.der], &[&root.der], "a.example.com").unwrap_err();
    assert_eq!(
        (out.code, out.depth, out.text.as_str()),
        (26, 1, "unsuitable certificate purpose")
    );
    assert_eq!(
        says(GRPC, &[&l, &int], &[&root], "a.example.com"),
        tls("unsupported certificate purpose")
    );

    // A leaf-shaped issuer (CA:FALSE, no keyCertSign): OpenSSL links it and calls it an
    // invalid CA; BoringSSL does not take it for an issuer at all.
    let mut not_ca = leaf("issuer.example.com");
    not_ca.is_ca = IsCa::ExplicitNoCa;
    let not_ca = root.issue(not_ca);
    let under = not_ca.issue(leaf("a.example.com"));
    let out = outcome(
        PYTHON,
        &[&under.der, &not_ca.der],
        &[&root.der],
        "a.example.com",
    )
    .unwrap_err();
    assert_eq!(
        (out.code, out.depth, out.text.as_str()),
        (79, 1, "invalid CA certificate")
    );
    assert_eq!(
        says(GRPC, &[&under, &not_ca], &[&root], "a.example.com"),
        tls("unable to get local issuer certificate")
    );
    // CA:FALSE with keyCertSign: BoringSSL links it, then refuses it (its code is 24).
    let mut signing = ca("Not A CA");
    signing.is_ca = IsCa::ExplicitNoCa;
    let signing = root.issue(signing);
    let under = signing.issue(leaf("a.example.com"));
    let out = outcome(
        GRPC,
        &[&under.der, &signing.der],
        &[&root.der],
        "a.example.com",
    )
    .unwrap_err();
    assert_eq!(
        (out.code, out.depth, out.text),
        (24, 1, tls("invalid CA certificate"))
    );
}

#[test]
fn path_length_counts_for_the_trust_anchor_in_openssl_only() {
    let mut constrained = ca("Constrained Root CA");
    constrained.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    let root = Node::self_signed(constrained);
    let int = root.issue(ca("Test Issuing CA"));
    let l = int.issue(leaf("a.example.com"));
    let out = outcome(PYTHON, &[&l.der, &int.der], &[&root.der], "a.example.com").unwrap_err();
    assert_eq!(
        (out.code, out.depth, out.text.as_str()),
        (25, 2, "path length constraint exceeded")
    );
    assert_eq!(says(GRPC, &[&l, &int], &[&root], "a.example.com"), "OK");

    // Within the sent chain both count it.
    let root = Node::root("Test Root CA");
    let mut zero = ca("Constrained CA");
    zero.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    let zero = root.issue(zero);
    let deep = zero.issue(ca("Too Deep CA"));
    let l = deep.issue(leaf("a.example.com"));
    let chain = [&l, &deep, &zero];
    assert_eq!(
        says(PYTHON, &chain, &[&root], "a.example.com"),
        "path length constraint exceeded"
    );
    assert_eq!(
        says(GRPC, &chain, &[&root], "a.example.com"),
        tls("path length constraint exceeded")
    );
}

#[test]
fn wildcards_and_common_names() {
    let com = pki(leaf("*.com"));
    let chain = [&com.leaf, &com.int];
    assert_eq!(
        says(PYTHON, &chain, &[&com.root], "foo.com"),
        "Hostname mismatch, certificate is not valid for 'foo.com'."
    );
    assert_eq!(says(GRPC, &chain, &[&com.root], "foo.com"), "OK");
    assert_eq!(
        check_call_host(&com.leaf.der, "foo.com:443")
            .unwrap_err()
            .text,
        "call host does not match SSL server name"
    );

    let wild = pki(leaf("*.example.com"));
    let chain = [&wild.leaf, &wild.int];
    for host in ["a.example.com", "A.Example.COM"] {
        assert_eq!(says(PYTHON, &chain, &[&wild.root], host), "OK");
        assert_eq!(says(GRPC, &chain, &[&wild.root], host), "OK");
    }
    for host in ["example.com", "a.b.example.com"] {
        assert_ne!(says(PYTHON, &chain, &[&wild.root], host), "OK");
        assert_eq!(says(GRPC, &chain, &[&wild.root], host), HOSTNAME_CHECK);
    }
    assert_eq!(check_call_host(&wild.leaf.der, "a.example.com"), Ok(()));

    let mut cn_only = leaf("localhost");
    cn_only.subject_alt_names.clear();
    let cn = pki(cn_only);
    let chain = [&cn.leaf, &cn.int];
    assert_eq!(says(PYTHON, &chain, &[&cn.root], "localhost"), "OK");
    assert_eq!(
        says(REQUESTS, &chain, &[&cn.root], "localhost"),
        "Hostname mismatch, certificate is not valid for 'localhost'."
    );
    assert_eq!(says(GRPC, &chain, &[&cn.root], "localhost"), "OK");

    // An IP-only SAN keeps OpenSSL's CN fallback; gRPC's per-call check refuses it.
    let mut ip_san = leaf("localhost");
    ip_san.subject_alt_names = vec![SanType::IpAddress("10.9.9.9".parse().unwrap())];
    let ip = pki(ip_san);
    assert_eq!(
        says(PYTHON, &[&ip.leaf, &ip.int], &[&ip.root], "localhost"),
        "OK"
    );
    assert_eq!(
        says(GRPC, &[&ip.leaf, &ip.int], &[&ip.root], "localhost"),
        "OK"
    );
    assert!(check_call_host(&ip.leaf.der, "localhost").is_err());
}

fn constrained_root(permitted: &[&str], excluded: &[&str]) -> Node {
    let mut params = ca("Constrained Root CA");
    params.name_constraints = Some(NameConstraints {
        permitted_subtrees: permitted
            .iter()
            .map(|d| GeneralSubtree::DnsName(d.to_string()))
            .collect(),
        excluded_subtrees: excluded
            .iter()
            .map(|d| GeneralSubtree::DnsName(d.to_string()))
            .collect(),
    });
    Node::self_signed(params)
}

#[test]
fn name_constraints_permitted_excluded_and_a_cn_only_leaf() {
    let root = constrained_root(&["allowed.test"], &["bad.allowed.test"]);
    let int = root.issue(ca("Test Issuing CA"));
    let check = |host: &str, flavor| {
        let l = int.issue(leaf(host));
        says(flavor, &[&l, &int], &[&root], host)
    };
    assert_eq!(check("x.allowed.test", PYTHON), "OK");
    assert_eq!(check("x.allowed.test", GRPC), "OK");
    assert_eq!(check("other.test", PYTHON), "permitted subtree violation");
    assert_eq!(
        check("other.test", GRPC),
        tls("permitted subtree violation")
    );
    assert_eq!(
        check("x.bad.allowed.test", PYTHON),
        "excluded subtree violation"
    );
    assert_eq!(
        check("x.bad.allowed.test", GRPC),
        tls("excluded subtree violation")
    );

    let mut cn_only = leaf("localhost");
    cn_only.subject_alt_names.clear();
    let l = int.issue(cn_only);
    assert_eq!(says(PYTHON, &[&l, &int], &[&root], "localhost"), "OK");
    assert_eq!(
        says(GRPC, &[&l, &int], &[&root], "localhost"),
        tls("Issuer has name constraints but leaf has no SANs")
    );
    // OpenSSL checks a CN with two labels or more as a DNS name (unless urllib3 says
    // never to look at the subject).
    let mut cn_dns = leaf("www.other.test");
    cn_dns.subject_alt_names.clear();
    let l = int.issue(cn_dns);
    assert_eq!(
        says(PYTHON, &[&l, &int], &[&root], "www.other.test"),
        "permitted subtree violation"
    );
    assert_eq!(
        says(REQUESTS, &[&l, &int], &[&root], "www.other.test"),
        "Hostname mismatch, certificate is not valid for 'www.other.test'."
    );
}

fn testdata(name: &str) -> Vec<u8> {
    use rustls_pki_types::pem::PemObject;
    let pem = std::fs::read(format!("testdata/{name}")).unwrap();
    rustls_pki_types::CertificateDer::from_pem_slice(&pem)
        .unwrap()
        .to_vec()
}

#[test]
fn weak_keys_and_sha1_fail_security_level_2_only() {
    let root = testdata("rsa1024-int-root.pem");
    let int = testdata("rsa1024-int.pem");
    let l = testdata("rsa1024-int-leaf.pem");
    let out = outcome(PYTHON, &[&l, &int], &[&root], "legacy.example.com").unwrap_err();
    assert_eq!(
        (out.code, out.depth, out.text.as_str()),
        (67, 1, "CA certificate key too weak")
    );
    assert_eq!(
        outcome(GRPC, &[&l, &int], &[&root], "legacy.example.com"),
        Ok(())
    );

    let ca = testdata("rsa1024-ca.pem");
    let weak_leaf = testdata("rsa1024-leaf.pem");
    let out = outcome(PYTHON, &[&weak_leaf], &[&ca], "legacy.example.com").unwrap_err();
    assert_eq!(
        (out.code, out.text.as_str()),
        (66, "EE certificate key too weak")
    );
    assert_eq!(
        outcome(GRPC, &[&weak_leaf], &[&ca], "legacy.example.com"),
        Ok(())
    );

    let sha1_ca = testdata("sha1-ca.pem");
    let sha1_leaf = testdata("sha1-leaf.pem");
    let out = outcome(
        PYTHON,
        &[&sha1_leaf, &sha1_ca],
        &[&sha1_ca],
        "legacy.example.com",
    )
    .unwrap_err();
    assert_eq!(
        (out.code, out.depth, out.text.as_str()),
        (68, 0, "CA signature digest algorithm too weak")
    );
    assert_eq!(
        outcome(GRPC, &[&sha1_leaf], &[&sha1_ca], "legacy.example.com"),
        Ok(())
    );
}

#[test]
fn partial_chain_with_the_intermediate_as_the_only_root() {
    let p = pki(leaf("a.example.com"));
    let chain = [&p.leaf, &p.int];
    let out = outcome(
        PYTHON,
        &chain.map(|n| n.der.as_slice()),
        &[&p.int.der],
        "a.example.com",
    )
    .unwrap_err();
    assert_eq!(
        (out.code, out.depth, out.text.as_str()),
        (2, 1, "unable to get issuer certificate")
    );
    assert_eq!(says(PYTHON_313, &chain, &[&p.int], "a.example.com"), "OK");
    assert_eq!(says(GRPC, &chain, &[&p.int], "a.example.com"), "OK");
    assert_eq!(
        says(GRPC_BUNDLED_ROOTS, &chain, &[&p.int], "a.example.com"),
        tls("unable to get issuer certificate")
    );
    // The CA-issued leaf as the only trusted certificate.
    assert_eq!(
        says(PYTHON, &chain, &[&p.leaf], "a.example.com"),
        "unable to get local issuer certificate"
    );
    assert_eq!(says(PYTHON_313, &chain, &[&p.leaf], "a.example.com"), "OK");
    assert_eq!(says(GRPC, &chain, &[&p.leaf], "a.example.com"), "OK");
}

#[test]
fn leaf_key_usage_strict_checks_and_critical_extensions() {
    let mut certsign = leaf("a.example.com");
    certsign.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    // Without basicConstraints keyCertSign makes it a CA by keyUsage (`check_ca` 4),
    // which X509_STRICT refuses on the leaf before its keyUsage check.
    let p = pki(certsign.clone());
    assert_eq!(
        says(PYTHON_313, &[&p.leaf, &p.int], &[&p.root], "a.example.com"),
        "invalid CA certificate"
    );
    certsign.is_ca = IsCa::ExplicitNoCa;
    let p = pki(certsign);
    let chain = [&p.leaf, &p.int];
    assert_eq!(
        says(PYTHON, &chain, &[&p.root], "a.example.com"),
        "unsuitable certificate purpose"
    );
    assert_eq!(
        says(PYTHON_313, &chain, &[&p.root], "a.example.com"),
        "Key usage keyCertSign invalid for non-CA cert"
    );
    let out = outcome(
        GRPC,
        &chain.map(|n| n.der.as_slice()),
        &[&p.root.der],
        "a.example.com",
    )
    .unwrap_err();
    assert_eq!(out.kind, Kind::LeafKeyUsage);
    assert_eq!(
        out.text,
        "Tls handshake failed (TSI_PROTOCOL_FAILURE): SSL_ERROR_SSL: error:1000012e:SSL routines:OPENSSL_internal:KEY_USAGE_BIT_INCORRECT: Invalid certificate verification context: OK"
    );

    // The usual shapes pass the strict checks.
    let p = pki(leaf("a.example.com"));
    assert_eq!(
        says(PYTHON_313, &[&p.leaf, &p.int], &[&p.root], "a.example.com"),
        "OK"
    );

    let mut critical = leaf("a.example.com");
    let mut extension =
        CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 55555, 1], vec![0x05, 0x00]);
    extension.set_criticality(true);
    critical.custom_extensions.push(extension);
    let p = pki(critical);
    let chain = [&p.leaf, &p.int];
    assert_eq!(
        says(PYTHON, &chain, &[&p.root], "a.example.com"),
        "unhandled critical extension"
    );
    assert_eq!(
        says(GRPC, &chain, &[&p.root], "a.example.com"),
        tls("unhandled critical extension")
    );

    // A pathLen on a non-CA leaf: invalid for BoringSSL, a strict-only error for OpenSSL.
    let mut path_len = leaf("a.example.com");
    path_len
        .custom_extensions
        .push(CustomExtension::from_oid_content(
            &[2, 5, 29, 19],
            vec![0x30, 0x03, 0x02, 0x01, 0x00],
        ));
    let p = pki(path_len);
    let chain = [&p.leaf, &p.int];
    assert_eq!(says(PYTHON, &chain, &[&p.root], "a.example.com"), "OK");
    assert_eq!(
        says(PYTHON_313, &chain, &[&p.root], "a.example.com"),
        "Path length invalid for non-CA cert"
    );
    assert_eq!(
        says(GRPC, &chain, &[&p.root], "a.example.com"),
        tls("invalid or inconsistent certificate extension")
    );
}

#[test]
fn a_signature_by_another_key_under_the_same_name() {
    let root = Node::root("Test Root CA");
    let int = root.issue(ca("Test Issuing CA"));
    // Same name, another key, and no AKID to tell them apart.
    let impostor = Node::root("Test Issuing CA");
    let mut params = leaf("a.example.com");
    params.use_authority_key_identifier_extension = false;
    let forged = impostor.issue(params);
    let out = outcome(
        PYTHON,
        &[&forged.der, &int.der],
        &[&root.der],
        "a.example.com",
    )
    .unwrap_err();
    assert_eq!(
        (out.code, out.depth, out.text.as_str()),
        (7, 0, "certificate signature failure")
    );
    assert_eq!(
        says(GRPC, &[&forged, &int], &[&root], "a.example.com"),
        "Tls handshake failed (TSI_PROTOCOL_FAILURE): SSL_ERROR_SSL: error:1a000064:ECDSA routines:OPENSSL_internal:BAD_SIGNATURE: certificate signature failure: OK"
    );
}

#[test]
fn unparsable_certificates_are_their_own_kind() {
    let out = verify(
        &PYTHON,
        &[b"not a certificate"],
        &[],
        "a.example.com",
        now(),
    )
    .unwrap_err();
    assert_eq!(out.kind, Kind::Unparsable);
}

//! The engine on generated chains (rcgen) and the openssl-made fixtures in testdata/: each
//! check, the flags it sets, and which net error wins when several apply.

use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DnType, ExtendedKeyUsagePurpose,
    GeneralSubtree, IsCa, Issuer, KeyPair, KeyUsagePurpose, NameConstraints, SanType,
};
use time::{Duration, OffsetDateTime};

use super::*;

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

    /// (subject, SPKI) as the Chrome Root Store entry for this certificate.
    fn anchor(&self) -> (Vec<u8>, Vec<u8>) {
        let (_, cert) = x509_parser::parse_x509_certificate(&self.der).unwrap();
        (
            cert.subject().as_raw().to_vec(),
            cert.public_key().raw.to_vec(),
        )
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

fn ca(cn: &str) -> CertificateParams {
    let mut params = base(cn, 3650);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params
}

fn leaf(host: &str) -> CertificateParams {
    let mut params = base(host, 90);
    params.subject_alt_names = vec![match host.parse() {
        Ok(ip) => SanType::IpAddress(ip),
        Err(_) => SanType::DnsName(host.try_into().unwrap()),
    }];
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params
}

struct Pki {
    root: Node,
    int: Node,
    leaf: Node,
}

fn pki(leaf_params: CertificateParams) -> Pki {
    let root = Node::self_signed(ca("Chrome Test Root"));
    let int = root.issue(ca("Chrome Test Issuing CA"));
    let leaf = int.issue(leaf_params);
    Pki { root, int, leaf }
}

fn local(roots: &[&Node]) -> Roots {
    Roots::new(roots.iter().map(|n| n.der.as_slice()), [])
}

fn public(roots: &[&Node]) -> Roots {
    let anchors: Vec<(Vec<u8>, Vec<u8>)> = roots.iter().map(|n| n.anchor()).collect();
    Roots::new(
        [],
        anchors
            .iter()
            .map(|(s, k)| (s.as_slice(), k.as_slice()))
            .collect::<Vec<_>>(),
    )
}

/// "OK" or the net error, with the error flags set.
fn says(chain: &[&Node], roots: &Roots, host: &str) -> (String, Vec<&'static str>) {
    says_with(chain, roots, &[], host, Options::default())
}

fn says_with(
    chain: &[&Node],
    roots: &Roots,
    aia: &[&Node],
    host: &str,
    options: Options,
) -> (String, Vec<&'static str>) {
    let chain: Vec<&[u8]> = chain.iter().map(|n| n.der.as_slice()).collect();
    let aia: Vec<&[u8]> = aia.iter().map(|n| n.der.as_slice()).collect();
    match verify(&chain, roots, &aia, host, now(), options) {
        Ok(_) => ("OK".into(), Vec::new()),
        Err(r) => (r.net_error.to_string(), r.status.error_names()),
    }
}

fn error(chain: &[&Node], roots: &Roots, host: &str) -> String {
    says(chain, roots, host).0
}

/// [`error`] for a publicly trusted chain without SCTs, CT left aside.
fn error_no_ct(chain: &[&Node], roots: &Roots, host: &str) -> String {
    let no_ct = Options {
        enforce_ct: false,
        ..Options::default()
    };
    says_with(chain, roots, &[], host, no_ct).0
}

const HOST: &str = "a.example.com";

#[test]
fn a_correct_chain_is_accepted_from_a_local_or_a_public_root() {
    let p = pki(leaf(HOST));
    assert_eq!(error(&[&p.leaf, &p.int], &local(&[&p.root]), HOST), "OK");
    assert_eq!(
        error_no_ct(&[&p.leaf, &p.int], &public(&[&p.root]), HOST),
        "OK"
    );
    // The root sent too, in any order after the leaf.
    assert_eq!(
        error(&[&p.leaf, &p.root, &p.int], &local(&[&p.root]), HOST),
        "OK"
    );
    // Trusting the intermediate alone is enough (it becomes the anchor).
    assert_eq!(error(&[&p.leaf], &local(&[&p.int]), HOST), "OK");
}

#[test]
fn a_missing_intermediate_is_completed_by_aia_and_only_by_aia() {
    let mut params = leaf(HOST);
    params.custom_extensions = vec![aia_extension("http://pki.example.com/int.crt")];
    let p = pki(params);
    let roots = local(&[&p.root]);
    let (text, flags) = says(&[&p.leaf], &roots, HOST);
    assert_eq!(text, "ERR_CERT_AUTHORITY_INVALID");
    assert_eq!(flags, ["CERT_STATUS_AUTHORITY_INVALID"]);
    let refusal = verify(&[&p.leaf.der], &roots, &[], HOST, now(), Options::default()).unwrap_err();
    assert_eq!(
        refusal.issuer_not_found_for.as_deref(),
        Some(&p.leaf.der[..])
    );
    // Fetched from the caIssuers URL.
    assert_eq!(
        says_with(&[&p.leaf], &roots, &[&p.int], HOST, Options::default()).0,
        "OK"
    );
    // Without a caIssuers URL nothing is fetched.
    let p = pki(leaf(HOST));
    assert_eq!(
        says_with(
            &[&p.leaf],
            &local(&[&p.root]),
            &[&p.int],
            HOST,
            Options::default()
        )
        .0,
        "ERR_CERT_AUTHORITY_INVALID"
    );
}

/// An authorityInfoAccess extension with one caIssuers URI.
fn aia_extension(url: &str) -> CustomExtension {
    use crate::verifiers::openssl::der;
    let location = der::encode(0x86, url.as_bytes());
    let mut description = der::encode(der::OID, &[0x2b, 6, 1, 5, 5, 7, 48, 2]);
    description.extend(location);
    let value = der::encode(der::SEQUENCE, &der::encode(der::SEQUENCE, &description));
    CustomExtension::from_oid_content(&[1, 3, 6, 1, 5, 5, 7, 1, 1], value)
}

#[test]
fn host_names_come_from_the_san_only() {
    let p = pki(leaf(HOST));
    let roots = local(&[&p.root]);
    let (text, flags) = says(&[&p.leaf, &p.int], &roots, "b.example.com");
    assert_eq!(text, "ERR_CERT_COMMON_NAME_INVALID");
    assert_eq!(flags, ["CERT_STATUS_COMMON_NAME_INVALID"]);
    // A Common Name alone never matches.
    let mut cn_only = leaf(HOST);
    cn_only.subject_alt_names.clear();
    let p = pki(cn_only);
    assert_eq!(
        error(&[&p.leaf, &p.int], &local(&[&p.root]), HOST),
        "ERR_CERT_COMMON_NAME_INVALID"
    );
    let p = pki(leaf("10.0.0.1"));
    assert_eq!(
        error(&[&p.leaf, &p.int], &local(&[&p.root]), "10.0.0.1"),
        "OK"
    );
    let mut wildcard = leaf(HOST);
    wildcard.subject_alt_names = vec![SanType::DnsName("*.example.com".try_into().unwrap())];
    let p = pki(wildcard);
    assert_eq!(error(&[&p.leaf, &p.int], &local(&[&p.root]), HOST), "OK");
    assert_eq!(
        error(&[&p.leaf, &p.int], &local(&[&p.root]), "example.com"),
        "ERR_CERT_COMMON_NAME_INVALID"
    );
}

#[test]
fn dates_are_checked_on_every_certificate_of_a_verified_path_and_the_local_root() {
    let mut old = leaf(HOST);
    old.not_before = OffsetDateTime::now_utc() - Duration::days(100);
    old.not_after = OffsetDateTime::now_utc() - Duration::days(10);
    let p = pki(old);
    let roots = local(&[&p.root]);
    assert_eq!(
        says(&[&p.leaf, &p.int], &roots, HOST),
        (
            "ERR_CERT_DATE_INVALID".into(),
            vec!["CERT_STATUS_DATE_INVALID"]
        )
    );
    // The name outranks the date.
    let (text, flags) = says(&[&p.leaf, &p.int], &roots, "b.example.com");
    assert_eq!(text, "ERR_CERT_COMMON_NAME_INVALID");
    assert_eq!(
        flags,
        [
            "CERT_STATUS_COMMON_NAME_INVALID",
            "CERT_STATUS_DATE_INVALID"
        ]
    );
    // An expired NSS root is refused too (its expiry is enforced).
    let mut old_root = ca("Old Root");
    old_root.not_before = OffsetDateTime::now_utc() - Duration::days(100);
    old_root.not_after = OffsetDateTime::now_utc() - Duration::days(10);
    let root = Node::self_signed(old_root);
    let l = root.issue(leaf(HOST));
    assert_eq!(
        error(&[&l], &local(&[&root]), HOST),
        "ERR_CERT_DATE_INVALID"
    );
    // ...but a Chrome Root Store anchor is only a name and a key.
    assert_eq!(error_no_ct(&[&l], &public(&[&root]), HOST), "OK");
}

#[test]
fn an_untrusted_path_is_not_verified_so_authority_invalid_comes_alone() {
    let mut old = leaf(HOST);
    old.not_before = OffsetDateTime::now_utc() - Duration::days(100);
    old.not_after = OffsetDateTime::now_utc() - Duration::days(10);
    let self_signed = Node::self_signed(old);
    let other = Node::self_signed(ca("Unrelated Root"));
    let (text, flags) = says(&[&self_signed], &local(&[&other]), "b.example.com");
    assert_eq!(text, "ERR_CERT_AUTHORITY_INVALID");
    // No DATE_INVALID: a partial path is never run through VerifyCertificateChain; the
    // name is CertVerifyProc's own check.
    assert_eq!(
        flags,
        [
            "CERT_STATUS_AUTHORITY_INVALID",
            "CERT_STATUS_COMMON_NAME_INVALID"
        ]
    );
}

#[test]
fn eku_and_ca_errors_are_invalid_only_when_nothing_else_is_set() {
    let mut client_only = leaf(HOST);
    client_only.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let p = pki(client_only.clone());
    assert_eq!(
        says(&[&p.leaf, &p.int], &local(&[&p.root]), HOST),
        ("ERR_CERT_INVALID".into(), vec!["CERT_STATUS_INVALID"])
    );
    // With an expired leaf the EKU error maps to nothing: DATE_INVALID alone.
    client_only.not_before = OffsetDateTime::now_utc() - Duration::days(100);
    client_only.not_after = OffsetDateTime::now_utc() - Duration::days(10);
    let p = pki(client_only);
    assert_eq!(
        says(&[&p.leaf, &p.int], &local(&[&p.root]), HOST),
        (
            "ERR_CERT_DATE_INVALID".into(),
            vec!["CERT_STATUS_DATE_INVALID"]
        )
    );
    // anyExtendedKeyUsage is accepted.
    let mut any = leaf(HOST);
    any.extended_key_usages = vec![ExtendedKeyUsagePurpose::Any];
    let p = pki(any);
    assert_eq!(error(&[&p.leaf, &p.int], &local(&[&p.root]), HOST), "OK");
    // An issuer that is not a CA.
    let root = Node::self_signed(ca("Chrome Test Root"));
    let mut not_ca = leaf("issuer.example.com");
    not_ca.is_ca = IsCa::ExplicitNoCa;
    let issuer = root.issue(not_ca);
    let l = issuer.issue(leaf(HOST));
    assert_eq!(
        error(&[&l, &issuer], &local(&[&root]), HOST),
        "ERR_CERT_INVALID"
    );
    // A path length exceeded.
    let mut constrained = ca("Constrained Root");
    constrained.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    let root = Node::self_signed(constrained);
    let int = root.issue(ca("Chrome Test Issuing CA"));
    let l = int.issue(leaf(HOST));
    assert_eq!(
        error(&[&l, &int], &local(&[&root]), HOST),
        "ERR_CERT_INVALID"
    );
    // Not enforced on a Chrome Root Store anchor.
    assert_eq!(error_no_ct(&[&l, &int], &public(&[&root]), HOST), "OK");
}

#[test]
fn unknown_critical_extensions_and_name_constraints_are_invalid() {
    let mut critical = leaf(HOST);
    let mut extension =
        CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 55555, 1], vec![5, 0]);
    extension.set_criticality(true);
    critical.custom_extensions = vec![extension];
    let p = pki(critical);
    assert_eq!(
        error(&[&p.leaf, &p.int], &local(&[&p.root]), HOST),
        "ERR_CERT_INVALID"
    );

    let mut constrained = ca("Constrained Root");
    constrained.name_constraints = Some(NameConstraints {
        permitted_subtrees: vec![GeneralSubtree::DnsName("example.org".into())],
        excluded_subtrees: vec![],
    });
    let root = Node::self_signed(constrained);
    let int = root.issue(ca("Chrome Test Issuing CA"));
    let inside = int.issue(leaf("a.example.org"));
    let outside = int.issue(leaf(HOST));
    let roots = local(&[&root]);
    assert_eq!(error(&[&inside, &int], &roots, "a.example.org"), "OK");
    assert_eq!(error(&[&outside, &int], &roots, HOST), "ERR_CERT_INVALID");
}

#[test]
fn a_self_signed_leaf_trusted_in_nss_must_look_like_a_ca() {
    // `openssl req -x509`: CA:TRUE, no keyUsage: the anchor constraints pass.
    let mut like_openssl = leaf(HOST);
    like_openssl.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    like_openssl.key_usages.clear();
    let cert = Node::self_signed(like_openssl);
    assert_eq!(error(&[&cert], &local(&[&cert]), HOST), "OK");
    // A leaf profile (keyUsage without keyCertSign) fails them.
    let cert = Node::self_signed(leaf(HOST));
    assert_eq!(error(&[&cert], &local(&[&cert]), HOST), "ERR_CERT_INVALID");
    // Not trusted at all: authority invalid.
    assert_eq!(
        error(&[&cert], &local(&[]), HOST),
        "ERR_CERT_AUTHORITY_INVALID"
    );
}

#[test]
fn known_roots_add_the_398_day_limit_and_ct() {
    let mut long = leaf(HOST);
    long.not_after = long.not_before + Duration::days(399);
    let p = pki(long);
    // Locally trusted: no limit, no CT.
    assert_eq!(error(&[&p.leaf, &p.int], &local(&[&p.root]), HOST), "OK");
    let no_ct = Options {
        enforce_ct: false,
        ..Options::default()
    };
    let (text, _) = says_with(&[&p.leaf, &p.int], &public(&[&p.root]), &[], HOST, no_ct);
    assert_eq!(text, "ERR_CERT_VALIDITY_TOO_LONG");
    // CT outranks the validity; a name mismatch outranks CT.
    let (text, flags) = says(&[&p.leaf, &p.int], &public(&[&p.root]), HOST);
    assert_eq!(text, "ERR_CERTIFICATE_TRANSPARENCY_REQUIRED");
    assert_eq!(
        flags,
        [
            "CERT_STATUS_CERTIFICATE_TRANSPARENCY_REQUIRED",
            "CERT_STATUS_VALIDITY_TOO_LONG"
        ]
    );
    assert_eq!(
        error(&[&p.leaf, &p.int], &public(&[&p.root]), "b.example.com"),
        "ERR_CERT_COMMON_NAME_INVALID"
    );
    // Exactly 398 days is allowed.
    let mut exact = leaf(HOST);
    exact.not_after = exact.not_before + Duration::days(398);
    let p = pki(exact);
    assert_eq!(
        says_with(&[&p.leaf, &p.int], &public(&[&p.root]), &[], HOST, no_ct).0,
        "OK"
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
fn sha1_is_refused_as_invalid_and_1024_bit_rsa_is_accepted() {
    let ca = testdata("sha1-ca.pem");
    let sha1_leaf = testdata("sha1-leaf.pem");
    let roots = Roots::new([ca.as_slice()], []);
    // The fixtures start in the future of their generation; judge them inside.
    let at = 4_102_444_800; // 2100-01-01
    let refusal = verify(
        &[&sha1_leaf],
        &roots,
        &[],
        "legacy.example.com",
        at,
        Options::default(),
    )
    .unwrap_err();
    // Chromium 156 (the differential test): no SHA-1 retry, the path is invalid.
    assert_eq!(refusal.net_error, "ERR_CERT_INVALID");
    assert_eq!(
        refusal.status.error_names(),
        [
            "CERT_STATUS_INVALID",
            "CERT_STATUS_WEAK_SIGNATURE_ALGORITHM"
        ]
    );
    let ca = testdata("rsa1024-ca.pem");
    let weak_leaf = testdata("rsa1024-leaf.pem");
    let roots = Roots::new([ca.as_slice()], []);
    assert!(verify(
        &[&weak_leaf],
        &roots,
        &[],
        "legacy.example.com",
        at,
        Options::default()
    )
    .is_ok());
}

#[test]
fn status_flags_map_to_the_net_error_by_chromium_priority() {
    let all = CertStatus(
        CertStatus::DATE_INVALID
            | CertStatus::WEAK_KEY
            | CertStatus::COMMON_NAME_INVALID
            | CertStatus::AUTHORITY_INVALID,
    );
    assert_eq!(all.net_error(), Some("ERR_CERT_AUTHORITY_INVALID"));
    assert_eq!(
        all.without(CertStatus::AUTHORITY_INVALID).net_error(),
        Some("ERR_CERT_COMMON_NAME_INVALID")
    );
    assert_eq!(
        CertStatus(CertStatus::DATE_INVALID | CertStatus::WEAK_KEY).net_error(),
        Some("ERR_CERT_WEAK_KEY")
    );
    assert_eq!(
        CertStatus(CertStatus::INVALID | CertStatus::AUTHORITY_INVALID).net_error(),
        Some("ERR_CERT_INVALID")
    );
    assert_eq!(
        CertStatus(CertStatus::SHA1_SIGNATURE_PRESENT).net_error(),
        None
    );
}

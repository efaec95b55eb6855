//! The OpenSSL/BoringSSL engine (`certready::verifiers::openssl`) against the real
//! clients: each chain is served on 127.0.0.1, Python's `ssl` on the system OpenSSL 3.0
//! (tests/clients/pyverify.py) and grpcio's BoringSSL (tests/clients/grpcverify.py)
//! connect with the same trust anchors, and the engine's text must equal what each
//! printed. Without python3 or grpcio a half is skipped with a message; under CI=true
//! a missing one fails the test. When a Python 3.13 is there too (pyenv's, say), the
//! same chains also prove the X509_STRICT + PARTIAL_CHAIN flavour; CI has none, so that
//! part is skipped with a message anywhere.

use std::process::Command;
use std::sync::OnceLock;

use crate::common::*;
use certready::lab::Issued;
use certready::verifiers::openssl::{self, Flavor};
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DnType, ExtendedKeyUsagePurpose,
    GeneralSubtree, IsCa, Issuer, KeyPair, KeyUsagePurpose, NameConstraints, SanType,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use time::{Duration, OffsetDateTime};

/// Python 3.11's defaults with urllib3's `hostname_checks_common_name = False`.
const REQUESTS: Flavor = Flavor::OpenSsl {
    strict_partial: false,
    check_common_name: false,
};
/// Plain `ssl.create_default_context()`.
const PYTHON_SSL: Flavor = Flavor::OpenSsl {
    strict_partial: false,
    check_common_name: true,
};
/// grpcio with `root_certificates`.
const GRPC: Flavor = Flavor::BoringSsl {
    partial_chain: true,
};

/// A generated certificate with its key, able to issue others.
struct Node {
    der: Vec<u8>,
    pem: String,
    params: CertificateParams,
    key: KeyPair,
}

impl Node {
    fn self_signed(params: CertificateParams) -> Node {
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Node {
            der: cert.der().to_vec(),
            pem: cert.pem(),
            params,
            key,
        }
    }

    fn issue(&self, params: CertificateParams) -> Node {
        let key = KeyPair::generate().unwrap();
        let cert = params
            .signed_by(&key, &Issuer::from_params(&self.params, &self.key))
            .unwrap();
        Node {
            der: cert.der().to_vec(),
            pem: cert.pem(),
            params,
            key,
        }
    }

    fn served(&self) -> Served {
        Served {
            der: self.der.clone(),
            pem: self.pem.clone(),
            key: Some(self.key.serialize_pem()),
        }
    }
}

/// A certificate as a scenario uses it: DER to serve and verify, PEM for the CA file,
/// and for the leaf its key.
#[derive(Clone)]
struct Served {
    der: Vec<u8>,
    pem: String,
    key: Option<String>,
}

impl Served {
    fn testdata(name: &str, key: Option<&str>) -> Served {
        let pem = std::fs::read_to_string(format!("testdata/{name}")).unwrap();
        Served {
            der: CertificateDer::from_pem_slice(pem.as_bytes())
                .unwrap()
                .to_vec(),
            pem,
            key: key.map(|k| std::fs::read_to_string(format!("testdata/{k}")).unwrap()),
        }
    }
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
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params
}

struct Scenario {
    name: &'static str,
    /// The Certificate message; the first one's key serves it.
    served: Vec<Served>,
    roots: Vec<Served>,
    host: &'static str,
    /// How Python is configured (`REQUESTS` or `PYTHON_SSL`).
    python: Flavor,
}

fn scenario(name: &'static str, served: &[&Node], roots: &[&Node], host: &'static str) -> Scenario {
    Scenario {
        name,
        served: served.iter().map(|n| n.served()).collect(),
        roots: roots.iter().map(|n| n.served()).collect(),
        host,
        python: REQUESTS,
    }
}

fn scenarios() -> Vec<Scenario> {
    let root = Node::self_signed(ca("Engine Root CA"));
    let int = root.issue(ca("Engine Issuing CA"));
    let good = int.issue(leaf("a.example.com"));
    let stranger = Node::self_signed(ca("Unrelated Root CA"));
    let mut list = vec![
        scenario("correct chain", &[&good, &int], &[&root], "a.example.com"),
        scenario("intermediate missing", &[&good], &[&root], "a.example.com"),
        scenario(
            "untrusted root sent",
            &[&good, &int, &root],
            &[&stranger],
            "a.example.com",
        ),
        scenario(
            "host name not in the SAN",
            &[&good, &int],
            &[&root],
            "b.example.com",
        ),
        scenario(
            "an IP address without an IP SAN",
            &[&good, &int],
            &[&root],
            "127.0.0.1",
        ),
        scenario(
            "only the intermediate trusted",
            &[&good, &int],
            &[&int],
            "a.example.com",
        ),
    ];

    let mut no_akid = ca("Engine Issuing CA");
    no_akid.use_authority_key_identifier_extension = false;
    let no_akid = root.issue(no_akid);
    let under_no_akid = no_akid.issue(leaf("a.example.com"));
    list.push(scenario(
        "intermediate without an AKID",
        &[&under_no_akid, &no_akid],
        &[&root],
        "a.example.com",
    ));

    let mut plain = leaf("a.example.com");
    plain.is_ca = IsCa::NoCa;
    let plain = Node::self_signed(plain);
    list.push(scenario(
        "self-signed leaf",
        &[&plain],
        &[&stranger],
        "a.example.com",
    ));
    let mut signing = leaf("a.example.com");
    signing.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyCertSign,
    ];
    let signing = Node::self_signed(signing);
    list.push(scenario(
        "self-signed leaf with keyCertSign",
        &[&signing],
        &[&stranger],
        "a.example.com",
    ));

    let mut expired = leaf("a.example.com");
    expired.not_before = OffsetDateTime::now_utc() - Duration::days(100);
    expired.not_after = OffsetDateTime::now_utc() - Duration::days(10);
    let expired = int.issue(expired);
    list.push(scenario(
        "expired leaf and wrong host",
        &[&expired, &int],
        &[&root],
        "b.example.com",
    ));

    let mut client_ca = ca("Client Issuing CA");
    client_ca.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let client_ca = root.issue(client_ca);
    let under_client = client_ca.issue(leaf("a.example.com"));
    list.push(scenario(
        "intermediate with EKU clientAuth",
        &[&under_client, &client_ca],
        &[&root],
        "a.example.com",
    ));

    let mut constrained = ca("Constrained Root CA");
    constrained.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    let constrained = Node::self_signed(constrained);
    let below = constrained.issue(ca("Engine Issuing CA"));
    let deep = below.issue(leaf("a.example.com"));
    list.push(scenario(
        "pathlen 0 on the trusted root",
        &[&deep, &below],
        &[&constrained],
        "a.example.com",
    ));

    let mut not_ca = ca("Not A CA");
    not_ca.is_ca = IsCa::ExplicitNoCa;
    let not_ca = root.issue(not_ca);
    let under_not_ca = not_ca.issue(leaf("a.example.com"));
    list.push(scenario(
        "intermediate CA:FALSE with keyCertSign",
        &[&under_not_ca, &not_ca],
        &[&root],
        "a.example.com",
    ));

    let wild = int.issue(leaf("*.com"));
    list.push(scenario(
        "wildcard *.com",
        &[&wild, &int],
        &[&root],
        "foo.com",
    ));

    let mut cn_only = leaf("localhost");
    cn_only.subject_alt_names.clear();
    let cn_only = int.issue(cn_only);
    list.push(scenario(
        "CN only (requests)",
        &[&cn_only, &int],
        &[&root],
        "localhost",
    ));
    let mut with_cn = scenario(
        "CN only (plain ssl)",
        &[&cn_only, &int],
        &[&root],
        "localhost",
    );
    with_cn.python = PYTHON_SSL;
    list.push(with_cn);

    let mut nc = ca("Constrained Names Root CA");
    nc.name_constraints = Some(NameConstraints {
        permitted_subtrees: vec![GeneralSubtree::DnsName("allowed.test".into())],
        excluded_subtrees: vec![GeneralSubtree::DnsName("bad.allowed.test".into())],
    });
    let nc_root = Node::self_signed(nc);
    let nc_int = nc_root.issue(ca("Engine Issuing CA"));
    let outside = nc_int.issue(leaf("other.test"));
    list.push(scenario(
        "name outside the permitted subtree",
        &[&outside, &nc_int],
        &[&nc_root],
        "other.test",
    ));
    let excluded = nc_int.issue(leaf("x.bad.allowed.test"));
    list.push(scenario(
        "name in an excluded subtree",
        &[&excluded, &nc_int],
        &[&nc_root],
        "x.bad.allowed.test",
    ));
    let mut nc_cn = leaf("localhost");
    nc_cn.subject_alt_names.clear();
    let nc_cn = nc_int.issue(nc_cn);
    let mut nc_cn = scenario(
        "no SAN under name constraints",
        &[&nc_cn, &nc_int],
        &[&nc_root],
        "localhost",
    );
    nc_cn.python = PYTHON_SSL;
    list.push(nc_cn);

    let mut certsign_leaf = leaf("a.example.com");
    certsign_leaf.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    let certsign_leaf = int.issue(certsign_leaf);
    list.push(scenario(
        "leaf keyUsage keyCertSign only",
        &[&certsign_leaf, &int],
        &[&root],
        "a.example.com",
    ));

    let mut path_len = leaf("a.example.com");
    path_len.is_ca = IsCa::NoCa;
    path_len
        .custom_extensions
        .push(CustomExtension::from_oid_content(
            &[2, 5, 29, 19],
            vec![0x30, 0x03, 0x02, 0x01, 0x00],
        ));
    let path_len = int.issue(path_len);
    list.push(scenario(
        "pathLen on a non-CA leaf",
        &[&path_len, &int],
        &[&root],
        "a.example.com",
    ));

    // The issuer's name with another key and no AKID to tell them apart.
    let impostor = Node::self_signed(ca("Engine Issuing CA"));
    let mut forged = leaf("a.example.com");
    forged.use_authority_key_identifier_extension = false;
    let forged = impostor.issue(forged);
    list.push(scenario(
        "signature by another key",
        &[&forged, &int],
        &[&root],
        "a.example.com",
    ));

    list.push(Scenario {
        name: "RSA-1024 intermediate",
        served: vec![
            Served::testdata("rsa1024-int-leaf.pem", Some("rsa1024-int-leaf.key")),
            Served::testdata("rsa1024-int.pem", None),
        ],
        roots: vec![Served::testdata("rsa1024-int-root.pem", None)],
        host: "legacy.example.com",
        python: REQUESTS,
    });
    list.push(Scenario {
        name: "SHA-1 signed leaf",
        served: vec![
            Served::testdata("sha1-leaf.pem", Some("sha1-leaf.key")),
            Served::testdata("sha1-ca.pem", None),
        ],
        roots: vec![Served::testdata("sha1-ca.pem", None)],
        host: "legacy.example.com",
        python: REQUESTS,
    });
    list
}

fn python_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| python_module_available("ssl", "a python3 with the ssl module"))
}

/// A Python 3.13 (X509_STRICT and PARTIAL_CHAIN by default), if one is installed.
fn python_313() -> Option<Command> {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    let command = || {
        let mut c = Command::new("python3.13");
        // pyenv's shim runs python3.13 only when that version is selected.
        c.env("PYENV_VERSION", "3.13.0");
        c
    };
    let available = *AVAILABLE.get_or_init(|| {
        let ok = command()
            .args(["-c", "import ssl, sys; assert sys.version_info >= (3, 13)"])
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok {
            eprintln!("SKIPPED the Python 3.13 (strict) half: no python3.13");
        }
        ok
    });
    available.then(command)
}

fn grpcio_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| python_module_available("grpc", "pip install grpcio"))
}

fn stdout_of(command: &mut Command, what: &str) -> String {
    let output = command.output().expect("python3 runs");
    let text = String::from_utf8_lossy(&output.stdout).trim().to_string();
    assert!(
        !text.is_empty(),
        "{what} printed nothing: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    text
}

#[test]
fn engine_texts_equal_real_python_and_grpcio() {
    let lab = Lab::new();
    let python = python_available();
    let grpc = grpcio_available();
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let mut mismatches = Vec::new();
    let mut compared = 0;
    for (i, s) in scenarios().into_iter().enumerate() {
        let key_pem = s.served[0].key.clone().expect("the leaf has a key");
        let key = Issued::from_pem(&s.served[0].pem, &key_pem).unwrap();
        let chain: Vec<CertificateDer<'static>> = s
            .served
            .iter()
            .map(|c| CertificateDer::from(c.der.clone()))
            .collect();
        let server = lab.serve_ders(chain, &key);
        let pool = lab.file(
            &format!("engine-roots-{i}.pem"),
            s.roots.iter().map(|r| r.pem.as_str()).collect::<String>(),
        );
        let presented: Vec<&[u8]> = s.served.iter().map(|c| c.der.as_slice()).collect();
        let roots: Vec<&[u8]> = s.roots.iter().map(|c| c.der.as_slice()).collect();

        let mut pythons: Vec<(Command, Flavor)> = Vec::new();
        if python {
            pythons.push((Command::new("python3"), s.python));
        }
        if let (
            Some(python_313),
            Flavor::OpenSsl {
                check_common_name, ..
            },
        ) = (python_313(), s.python)
        {
            let strict = Flavor::OpenSsl {
                strict_partial: true,
                check_common_name,
            };
            pythons.push((python_313, strict));
        }
        for (mut command, flavor) in pythons {
            command
                .arg("tests/clients/pyverify.py")
                .arg("127.0.0.1")
                .arg(server.addr.port().to_string())
                .arg(s.host)
                .arg(&pool);
            if s.python == PYTHON_SSL {
                command.arg("common-name");
            }
            let real = stdout_of(&mut command, "pyverify");
            let predicted = match openssl::verify(&flavor, &presented, &roots, s.host, now) {
                Ok(()) => "OK".to_string(),
                Err(outcome) => outcome.text,
            };
            compared += 1;
            if real != predicted {
                mismatches.push(format!(
                    "[python ssl, {flavor:?}] {}:\n  Python said: {real}\n  engine said: {predicted}",
                    s.name
                ));
            }
        }

        if grpc {
            let real = stdout_of(
                Command::new("python3")
                    .arg("tests/clients/grpcverify.py")
                    .arg(server.addr.to_string())
                    .arg(s.host)
                    .arg(&pool)
                    .env("GRPC_VERBOSITY", "NONE"),
                "grpcverify",
            );
            let predicted = match openssl::verify(&GRPC, &presented, &roots, s.host, now) {
                Ok(()) => "OK".to_string(),
                Err(outcome) => outcome.grpc_details(&format!("ipv4:{}", server.addr)),
            };
            compared += 1;
            if real != predicted {
                mismatches.push(format!(
                    "[grpcio] {}:\n  grpcio said: {real}\n  engine said: {predicted}",
                    s.name
                ));
            }
        }
    }
    if python && grpc {
        assert!(compared >= 40, "every scenario ran against both clients");
    }
    assert!(
        mismatches.is_empty(),
        "the engine differs from the real clients:\n{}",
        mismatches.join("\n")
    );
}

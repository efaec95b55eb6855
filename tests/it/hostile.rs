//! Hostile chains served on loopback: huge, looping, ambiguous, empty, with unknown
//! critical extensions. Each run must end within its timeout, never panic, and say what
//! happened in words.

use std::time::Duration;

use crate::common::*;
use certready::lab::{self, Issued, Spec};

fn check_quick(lab: &Lab, addr: std::net::SocketAddr, extra: &[&str]) -> Run {
    let mut args = vec!["--timeout", "5s"];
    args.extend_from_slice(extra);
    let run = lab.check_json(addr, HOST, &args);
    run.assert_no_panic();
    assert!(
        run.elapsed < Duration::from_secs(10),
        "took {:?}",
        run.elapsed
    );
    run
}

#[test]
fn a_chain_of_100_certificates_is_bounded_and_named() {
    let lab = Lab::new();
    let root = lab::self_signed(&Spec::ca("Deep Root")).unwrap();
    let mut levels: Vec<Issued> = Vec::new();
    for i in 0..99 {
        let parent = levels.last().unwrap_or(&root);
        let next = lab::issue(&Spec::ca(&format!("Level {i}")), parent).unwrap();
        levels.push(next);
    }
    let leaf = lab::issue(&Spec::leaf(HOST), levels.last().unwrap()).unwrap();
    let mut chain = vec![leaf.der.clone()];
    chain.extend(levels.iter().rev().map(|c| c.der.clone()));
    let server = lab.serve_ders(chain, &leaf);
    let root_file = lab.file("root.pem", &root.pem);
    let run = check_quick(&lab, server.addr, &["--ca-file", path_str(&root_file)]);
    let report = run.report();
    let ids = report.finding_ids();
    assert!(ids.contains(&"too-many-certificates"), "{ids:?}");
    assert!(report
        .finding("too-many-certificates")
        .message
        .contains("presents 100 certificates"),);
    assert!(
        !ids.contains(&"incomplete-chain"),
        "no false claim about what was sent: {ids:?}"
    );
    assert_eq!(report.chain.len(), 32);
    assert_eq!(run.code, 2);
}

#[test]
fn a_leaf_with_10000_names_is_refused_in_words() {
    let lab = Lab::new();
    let mut spec = Spec::leaf(HOST);
    spec.names = (0..10_000)
        .map(|i| format!("host{i}.example.com"))
        .collect();
    let big = lab::self_signed(&spec).unwrap();
    let server = lab.serve(&[&big], &big);
    let run = check_quick(&lab, server.addr, &[]);
    let report = run.report();
    assert_eq!(
        report.error_kind.as_deref(),
        Some("too-large"),
        "{report:#?}"
    );
    assert!(report
        .error
        .as_deref()
        .unwrap()
        .contains("larger than 64 KiB"));
    assert_eq!(run.code, 3);
}

#[test]
fn a_60_kib_certificate_keeps_messages_short() {
    let lab = Lab::new();
    let mut spec = Spec::leaf("host0.example.com");
    spec.names = (0..2_900).map(|i| format!("host{i}.example.com")).collect();
    let big = lab::self_signed(&spec).unwrap();
    assert!(big.der.len() > 60_000, "{}", big.der.len());
    let server = lab.serve(&[&big], &big);
    let run = check_quick(&lab, server.addr, &[]);
    let report = run.report();
    let mismatch = report.finding("hostname-mismatch").message.to_string();
    assert!(mismatch.contains("and 2890 more"), "{mismatch}");
    assert!(mismatch.len() < 500, "{}", mismatch.len());
    let linux = report
        .client("flytectl-linux", "grpc")
        .error
        .as_deref()
        .unwrap()
        .to_string();
    // Go itself counts names once there are 100 or more.
    assert!(
        linux.ends_with(
            "x509: certificate is valid for 2900 names, but none matched flyte.example.com"
        ),
        "{linux}"
    );
    assert!(
        run.stdout.len() < 400_000,
        "JSON holds the names once per certificate, not per message"
    );
}

#[test]
fn an_unknown_critical_extension_is_refused_by_every_client() {
    let lab = Lab::new();
    let mut leaf = Spec::leaf(HOST);
    leaf.unknown_critical_extension = true;
    let pki = Pki::with_leaf(leaf);
    let server = lab.serve_pki(&pki);
    let root = pki.root_file(&lab);
    let run = check_quick(&lab, server.addr, &["--ca-file", path_str(&root)]);
    let report = run.report();
    assert!(report
        .finding("unknown-critical-extension")
        .message
        .contains("1.3.6.1.4.1.55555.1"));
    for client in &report.clients {
        assert!(!client.accepts, "{client:#?}");
    }
    assert!(report
        .client("flytectl-linux", "grpc")
        .error
        .as_deref()
        .unwrap()
        .ends_with("x509: unhandled critical extension"));
    assert_eq!(run.code, 2);
}

#[test]
fn an_empty_certificate_list() {
    let lab = Lab::new();
    let key_holder = lab::self_signed(&Spec::leaf(HOST)).unwrap();
    let server = lab.serve_ders(Vec::new(), &key_holder);
    let run = check_quick(&lab, server.addr, &[]);
    let report = run.report();
    assert_eq!(report.error_kind.as_deref(), Some("no-certificate"));
    assert!(report
        .error
        .as_deref()
        .unwrap()
        .contains("without presenting any certificate"));
    assert_eq!(run.code, 3);
}

#[test]
fn a_chain_that_loops_is_bounded_and_named() {
    let lab = Lab::new();
    // A issued by B, B issued by A: B's key signs A, A's key signs B.
    let b_first = lab::self_signed(&Spec::ca("Loop CA B")).unwrap();
    let a = lab::issue(&Spec::ca("Loop CA A"), &b_first).unwrap();
    let b = lab::issue_with_key(&Spec::ca("Loop CA B"), b_first.key_copy(), &a).unwrap();
    let leaf = lab::issue(&Spec::leaf(HOST), &a).unwrap();
    let server = lab.serve(&[&leaf, &a, &b], &leaf);
    let run = check_quick(&lab, server.addr, &[]);
    let report = run.report();
    let ids = report.finding_ids();
    assert!(ids.contains(&"chain-loop"), "{ids:?}");
    assert!(!ids.contains(&"incomplete-chain"), "{ids:?}");
    assert_eq!(run.code, 2);
}

#[test]
fn many_candidate_issuers_stay_bounded() {
    let lab = Lab::new();
    let root = lab::self_signed(&Spec::ca("Test Root CA")).unwrap();
    // 30 intermediates with the same name; only the last one issued the leaf.
    let decoys: Vec<Issued> = (0..29)
        .map(|_| lab::issue(&Spec::ca("Same Name CA"), &root).unwrap())
        .collect();
    let real = lab::issue(&Spec::ca("Same Name CA"), &root).unwrap();
    let leaf = lab::issue(&Spec::leaf(HOST), &real).unwrap();
    let mut chain = vec![leaf.der.clone()];
    chain.extend(decoys.iter().map(|c| c.der.clone()));
    chain.push(real.der.clone());
    let server = lab.serve_ders(chain, &leaf);
    let root_file = lab.file("root.pem", &root.pem);
    let run = check_quick(&lab, server.addr, &["--ca-file", path_str(&root_file)]);
    let report = run.report();
    assert_eq!(
        report.path.positions,
        [0, 30],
        "the signature decides, not the name"
    );
    let unrelated = report
        .finding_ids()
        .iter()
        .filter(|id| **id == "unrelated-certificate")
        .count();
    assert_eq!(unrelated, 29);
}

#[test]
fn a_real_tls_1_1_only_server() {
    // openssl from Debian; TLS 1.1 needs security level 0 in OpenSSL 3.
    if std::process::Command::new("openssl")
        .arg("version")
        .output()
        .is_err()
    {
        eprintln!("SKIPPED: no openssl binary");
        return;
    }
    let lab = Lab::new();
    let cert = lab::self_signed(&Spec::leaf(HOST)).unwrap();
    let cert_file = lab.file("cert.pem", &cert.pem);
    let key_file = lab.file("key.pem", cert.key_pem());
    let port = closed_port();
    let mut server = std::process::Command::new("openssl")
        .args(["s_server", "-quiet", "-accept"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0", "-cert"])
        .arg(&cert_file)
        .arg("-key")
        .arg(&key_file)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until it listens.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err()
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    let target = format!("{HOST}:{port}");
    let resolve = format!("{HOST}:{port}:127.0.0.1");
    let run = lab.run(&[
        "check",
        &target,
        "--resolve",
        &resolve,
        "--timeout",
        "5s",
        "--format",
        "json",
    ]);
    let _ = server.kill();
    let _ = server.wait();
    run.assert_no_panic();
    let report = run.report();
    assert_eq!(
        report.error_kind.as_deref(),
        Some("protocol-version"),
        "{report:#?}"
    );
    assert!(report.error.as_deref().unwrap().contains("1.0/1.1"));
    assert_eq!(run.code, 3);
}

//! `certready check` against live loopback TLS servers: one test per finding, run
//! through the real binary, asserting JSON, exit codes and the words of the message.

use crate::common::*;
use certready::lab::{self, Spec};
use rcgen::ExtendedKeyUsagePurpose;

#[test]
fn correct_private_ca_chain_is_ok_and_says_public_stores_do_not_trust_it() {
    let lab = Lab::new();
    let pki = Pki::new();
    let server = lab.serve_pki(&pki);
    let root = pki.root_file(&lab);
    let run = lab.check_json(server.addr, HOST, &["--ca-file", path_str(&root)]);
    let report = run.report();
    assert_eq!(run.code, 0, "{report:#?}");
    assert_eq!(report.status, Status::Ok);
    assert!(report.trusted_by("ca-file"));
    assert!(!report.trusted_by("system"));
    assert!(!report.trusted_by("mozilla"));
    assert_eq!(report.finding_ids(), ["private-trust-only"]);
    assert_eq!(report.path.positions, [0, 1]);
    assert_eq!(report.path.anchor.as_deref(), Some("CN=Test Root CA"));
    assert_eq!(report.tls.unwrap().alpn.as_deref(), Some("h2"));
    assert_eq!(report.chain[0].dns_names, [HOST]);
}

#[test]
fn system_store_from_ssl_cert_file_is_evaluated() {
    let lab = Lab::new();
    let pki = Pki::new();
    lab.trust_system(&pki.root);
    let server = lab.serve_pki(&pki);
    let run = lab.check_json(server.addr, HOST, &[]);
    let report = run.report();
    assert!(report.trusted_by("system"));
    // flytectl trusts the OS store; pyflyte does not (grpcio's bundled roots, certifi),
    // so the verdict is CRITICAL and says who refuses.
    assert_eq!(run.code, 2, "{report:#?}");
    assert_eq!(
        report.finding_ids(),
        ["client-refuses", "system-trust-only"]
    );
    assert!(report
        .finding("client-refuses")
        .message
        .starts_with("pyflyte (grpc), pyflyte (oauth-http) refuse the chain"));
    assert!(report.client("flytectl-linux", "grpc").accepts);
    // A root added to the OS store is trusted by Chrome on macOS and Windows; Chrome on
    // Linux reads its NSS database instead (/etc/ssl/certs is not read), which the note says.
    let browser = report.client("browser", "https");
    assert!(browser.accepts, "{browser:?}");
    assert!(browser
        .note
        .as_deref()
        .unwrap_or_default()
        .contains("NSS database"));
}

#[test]
fn text_report_draws_the_tree_and_the_verdict() {
    let lab = Lab::new();
    let pki = Pki::new();
    let server = lab.serve_pki(&pki);
    let root = pki.root_file(&lab);
    let run = lab.check(server.addr, HOST, &["--ca-file", path_str(&root)]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stdout.contains("#0 CN=flyte.example.com"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("└─ #1 CN=Test Issuing CA"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("CN=Test Root CA  [trust anchor, ca-file store]"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("Verdict: OK"), "{}", run.stdout);
    assert!(
        !run.stdout.contains('\u{1b}'),
        "no colour when NO_COLOR / not a terminal"
    );
    for line in run.stdout.lines() {
        assert!(line.chars().count() <= 82, "line too wide: {line:?}");
    }
}

#[test]
fn self_signed_ten_year_openssl_style_certificate() {
    let lab = Lab::new();
    let cert = lab::self_signed(&Spec::openssl_req_x509(HOST)).unwrap();
    let server = lab.serve(&[&cert], &cert);
    let run = lab.check_json(server.addr, HOST, &[]);
    let report = run.report();
    assert_eq!(run.code, 2);
    assert_eq!(report.status, Status::Critical);
    let ids = report.finding_ids();
    for id in [
        "self-signed-leaf",
        "cn-only",
        "validity-exceeds-825-days",
        "leaf-is-ca",
        "missing-server-auth-eku",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    // CN matches the host: the problem is the missing SAN, not a mismatch.
    assert!(!ids.contains(&"hostname-mismatch"));
    assert_eq!(
        report.finding("missing-server-auth-eku").severity,
        Severity::Warning
    );
    assert!(report
        .finding("cn-only")
        .message
        .contains("relies on legacy Common Name field"));
    assert!(report.chain[0].self_signed);
    assert_eq!(report.chain[0].key, "RSA 2048");
}

/// The private-CA recipe certready prints, run as printed (openssl, bash), gives a
/// certificate every client model accepts once its root is given: the advice is proven.
#[test]
fn the_private_ca_recipe_works_as_printed() {
    let lab = Lab::new();
    let cert = lab::self_signed(&Spec::openssl_req_x509(HOST)).unwrap();
    let server = lab.serve(&[&cert], &cert);
    let report = lab.check_report(server.addr, HOST, &[]);
    let recipe = report
        .recommendations
        .iter()
        .find(|r| r.id == "use-private-ca-correctly")
        .expect("the private-CA recommendation")
        .text
        .to_string();
    // The commands: the indented lines after "With openssl:", up to the next prose line.
    let script: Vec<&str> = recipe
        .lines()
        .skip_while(|l| !l.ends_with("With openssl:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .map(|l| &l[2..])
        .collect();
    assert!(script.len() > 10, "{recipe}");
    if std::process::Command::new("openssl")
        .arg("version")
        .output()
        .is_err()
    {
        assert!(std::env::var_os("CI").is_none(), "CI must have openssl");
        eprintln!("SKIPPED: openssl not installed");
        return;
    }
    let dir = lab.dir.path().join("recipe");
    std::fs::create_dir(&dir).unwrap();
    let output = std::process::Command::new("bash")
        .args(["-euc", &script.join("\n")])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}\n{}",
        script.join("\n"),
        String::from_utf8_lossy(&output.stderr)
    );
    // Trusted where the recipe goes on to say: the OS store (update-ca-certificates), the
    // Mac's keychain (--ca-file: a private anchor) and the flytectl config it prints.
    std::fs::copy(dir.join("ca.crt"), &lab.system_store).unwrap();
    let yaml: Vec<&str> = recipe
        .lines()
        .skip_while(|l| !l.contains("in ~/.flyte/config.yaml:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .map(|l| &l[2..])
        .collect();
    let config = lab.file(
        "config.yaml",
        yaml.join("\n")
            .replace("/path/to/ca.crt", path_str(&dir.join("ca.crt"))),
    );
    let run = lab.run(&[
        "inspect",
        path_str(&dir.join("tls.crt")),
        "--hostname",
        HOST,
        "--key",
        path_str(&dir.join("tls.key")),
        "--ca-file",
        path_str(&dir.join("ca.crt")),
        "--flytectl-config",
        path_str(&config),
        "--format",
        "json",
    ]);
    let report = run.report();
    assert_eq!(report.status, Status::Ok, "{:#?}", report.findings);
    for verdict in &report.clients {
        assert!(verdict.accepts, "{verdict:#?}");
    }
    assert_eq!(run.code, 0);
}

#[test]
fn self_signed_leaf_trusted_directly_is_only_a_warning() {
    let lab = Lab::new();
    let cert = lab::self_signed(&Spec::leaf(HOST)).unwrap();
    let server = lab.serve(&[&cert], &cert);
    let pinned = lab.file("leaf.pem", &cert.pem);
    let run = lab.check_json(server.addr, HOST, &["--ca-file", path_str(&pinned)]);
    let report = run.report();
    assert!(report.trusted_by("ca-file"), "{report:#?}");
    assert_eq!(
        report.finding("self-signed-leaf").severity,
        Severity::Warning
    );
    // Imported into NSS as a CA, the leaf is an anchor whose constraints Chrome enforces:
    // its keyUsage lacks keyCertSign (trust_store_nss.cc, verify_certificate_chain.cc).
    assert_eq!(
        report.client("browser", "https").error.as_deref(),
        Some("NET::ERR_CERT_INVALID")
    );
    assert_eq!(run.code, 2);
}

#[test]
fn untrusted_root_sent_in_chain() {
    let lab = Lab::new();
    let pki = Pki::new();
    let server = lab.serve(&[&pki.leaf, &pki.intermediate, &pki.root], &pki.leaf);
    let run = lab.check_json(server.addr, HOST, &[]);
    let report = run.report();
    assert_eq!(run.code, 2);
    let untrusted = report.finding("untrusted-root");
    assert_eq!(untrusted.certificate, Some(2));
    assert!(untrusted.message.contains("CN=Test Root CA"));
    assert_eq!(report.finding("root-in-chain").severity, Severity::Info);
}

#[test]
fn root_in_chain_alone_is_info_when_trusted() {
    let lab = Lab::new();
    let pki = Pki::new();
    let server = lab.serve(&[&pki.leaf, &pki.intermediate, &pki.root], &pki.leaf);
    let root = pki.root_file(&lab);
    let run = lab.check_json(server.addr, HOST, &["--ca-file", path_str(&root)]);
    let report = run.report();
    assert_eq!(run.code, 0, "{report:#?}");
    assert!(report.has_finding("root-in-chain"));
}

#[test]
fn incomplete_chain_names_the_missing_issuer_and_its_aia_url() {
    let lab = Lab::new();
    let mut leaf = Spec::leaf(HOST);
    leaf.ca_issuers_url = Some("http://pki.example.com/issuing.crt".into());
    let pki = Pki::with_leaf(leaf);
    let server = lab.serve(&[&pki.leaf], &pki.leaf);
    let root = pki.root_file(&lab);
    // --no-fetch: the URL's host is not on this machine (aia.rs fetches on loopback).
    let run = lab.check_json(
        server.addr,
        HOST,
        &["--ca-file", path_str(&root), "--no-fetch"],
    );
    let report = run.report();
    assert_eq!(run.code, 2);
    let incomplete = report.finding("incomplete-chain");
    let message = &incomplete.message;
    assert!(message.contains("CN=Test Issuing CA"), "{message}");
    assert!(
        message.contains("http://pki.example.com/issuing.crt"),
        "{message}"
    );
    assert!(incomplete
        .remediation
        .contains("http://pki.example.com/issuing.crt"));
    assert_eq!(
        report.path.missing_issuer.as_deref(),
        Some("CN=Test Issuing CA")
    );
    assert_eq!(
        report.chain[0].ca_issuers_urls[0],
        "http://pki.example.com/issuing.crt"
    );
}

#[test]
fn chain_out_of_order_is_flagged_but_still_validates() {
    let lab = Lab::new();
    let pki = Pki::new();
    let server = lab.serve(&[&pki.leaf, &pki.root, &pki.intermediate], &pki.leaf);
    let root = pki.root_file(&lab);
    let run = lab.check_json(server.addr, HOST, &["--ca-file", path_str(&root)]);
    let report = run.report();
    assert!(report.trusted_by("ca-file"));
    assert_eq!(report.finding("chain-order").severity, Severity::Warning);
    assert_eq!(run.code, 1);
}

#[test]
fn duplicate_and_unrelated_certificates() {
    let lab = Lab::new();
    let pki = Pki::new();
    let stranger = lab::self_signed(&Spec::ca("Some Other CA")).unwrap();
    let server = lab.serve(
        &[&pki.leaf, &pki.intermediate, &pki.intermediate, &stranger],
        &pki.leaf,
    );
    let root = pki.root_file(&lab);
    let run = lab.check_json(server.addr, HOST, &["--ca-file", path_str(&root)]);
    let report = run.report();
    assert_eq!(report.finding("duplicate-certificate").certificate, Some(2));
    let unrelated = report.finding("unrelated-certificate");
    assert_eq!(unrelated.certificate, Some(3));
    assert!(unrelated.message.contains("Some Other CA"));
    assert_eq!(run.code, 1);
}

#[test]
fn hostname_mismatch_uses_go_style_words() {
    let lab = Lab::new();
    let pki = Pki::new();
    let server = lab.serve_pki(&pki);
    let root = pki.root_file(&lab);
    let run = lab.check_json(
        server.addr,
        "console.example.com",
        &["--ca-file", path_str(&root)],
    );
    let report = run.report();
    assert_eq!(run.code, 2);
    assert_eq!(
        report.finding("hostname-mismatch").message,
        "The certificate is valid for flyte.example.com, not console.example.com."
    );
}

#[test]
fn ip_target_without_ip_san() {
    let lab = Lab::new();
    let pki = Pki::new();
    let server = lab.serve_pki(&pki);
    let root = pki.root_file(&lab);
    let target = format!("127.0.0.1:{}", server.addr.port());
    let run = lab.run(&[
        "check",
        &target,
        "--ca-file",
        path_str(&root),
        "--format",
        "json",
    ]);
    let message = run
        .report()
        .finding("hostname-mismatch")
        .message
        .to_string();
    assert!(message.contains("doesn't contain any IP SANs"), "{message}");
}

#[test]
fn connect_to_and_sni_keep_the_target_name_for_checks() {
    let lab = Lab::new();
    let pki = Pki::new();
    let server = lab.serve_pki(&pki);
    let root = pki.root_file(&lab);
    let connect = format!("127.0.0.1:{}", server.addr.port());
    let run = lab.run(&[
        "check",
        HOST,
        "--connect-to",
        &connect,
        "--sni",
        "other.example.com",
        "--ca-file",
        path_str(&root),
        "--format",
        "json",
    ]);
    let report = run.report();
    assert_eq!(run.code, 0, "{report:#?}");
    assert_eq!(report.port, Some(443));
    assert_eq!(report.address, Some(connect));
}

#[test]
fn expired_not_yet_valid_and_expiring_soon_follow_at() {
    let lab = Lab::new();
    let pki = Pki::new(); // leaf valid from yesterday for 90 days
    let server = lab.serve_pki(&pki);
    let root = pki.root_file(&lab);
    let root = path_str(&root);
    let not_after = pki_not_after(&lab, server.addr, root);

    let later = (not_after + time::Duration::days(2))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let run = lab.check_json(server.addr, HOST, &["--ca-file", root, "--at", &later]);
    let report = run.report();
    assert_eq!(run.code, 2);
    assert!(report.finding("expired").message.contains("2 days ago"));
    assert!(!report.trusted_by("ca-file"));

    let run = lab.check_json(
        server.addr,
        HOST,
        &["--ca-file", root, "--at", "2001-01-01T00:00:00Z"],
    );
    assert_eq!(run.report().finding("not-yet-valid").certificate, Some(0));
    assert_eq!(run.code, 2);

    let soon = (not_after - time::Duration::days(10))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let run = lab.check_json(server.addr, HOST, &["--ca-file", root, "--at", &soon]);
    let report = run.report();
    assert_eq!(report.finding("expires-soon").severity, Severity::Warning);
    assert_eq!(run.code, 1);

    // --warn-days moves the threshold.
    let run = lab.check_json(
        server.addr,
        HOST,
        &["--ca-file", root, "--at", &soon, "--warn-days", "5"],
    );
    assert_eq!(run.code, 0, "{:#?}", run.report());
}

fn pki_not_after(lab: &Lab, addr: std::net::SocketAddr, root: &str) -> time::OffsetDateTime {
    let report = lab.check_report(addr, HOST, &["--ca-file", root]);
    let text = report.chain[0].not_after.to_string();
    time::OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339).unwrap()
}

#[test]
fn validity_825_day_boundary_for_private_anchors() {
    let lab = Lab::new();
    for (days, expect) in [(825, false), (826, true)] {
        let mut leaf = Spec::leaf(HOST);
        leaf.lifetime_days = days;
        let pki = Pki::with_leaf(leaf);
        let server = lab.serve_pki(&pki);
        let root = pki.root_file(&lab);
        let report = lab.check_report(server.addr, HOST, &["--ca-file", path_str(&root)]);
        assert_eq!(
            report.has_finding("validity-exceeds-825-days"),
            expect,
            "{days} days: {report:#?}"
        );
    }
}

/// trustd's "1 July 2019 00:00:00 UTC" is 583628400.0, i.e. 2019-06-30 23:00:00 UTC, and
/// notBefore must be after it: a leaf issued at 23:30 on June 30 is held to 825 days, one
/// issued at 22:30 is not — by the rule and by the Apple engine alike.
#[test]
fn the_825_day_rule_starts_when_trustd_s_constant_says() {
    use time::macros::datetime;
    let lab = Lab::new();
    let mut root_spec = Spec::ca("Test Root CA");
    root_spec.not_before = Some(datetime!(2019-01-01 00:00 UTC));
    root_spec.lifetime_days = 7300;
    let root = lab::self_signed(&root_spec).unwrap();
    let root_file = lab.file("root.pem", &root.pem);
    for (not_before, expect) in [
        (datetime!(2019-06-30 23:30 UTC), true),
        (datetime!(2019-06-30 22:30 UTC), false),
    ] {
        let mut leaf = Spec::leaf(HOST);
        leaf.not_before = Some(not_before);
        leaf.lifetime_days = 900;
        let leaf = lab::issue(&leaf, &root).unwrap();
        let server = lab.serve(&[&leaf], &leaf);
        let report = lab.check_report(
            server.addr,
            HOST,
            &[
                "--ca-file",
                path_str(&root_file),
                "--at",
                "2019-08-01T00:00:00Z",
                "--no-revocation",
            ],
        );
        assert_eq!(
            report.has_finding("validity-exceeds-825-days"),
            expect,
            "{not_before}: {report:#?}"
        );
        let macos = report.client("flytectl-macos", "oauth-http");
        assert_eq!(!macos.accepts, expect, "{not_before}: {macos:#?}");
    }
}

#[test]
fn validity_398_day_boundary_for_public_roots() {
    let lab = Lab::new();
    for (days, expect) in [(398, false), (399, true)] {
        let mut leaf = Spec::leaf(HOST);
        leaf.lifetime_days = days;
        // A publicly trusted leaf carries SCTs (Apple and Chrome require them).
        leaf.sct_count = 3;
        let pki = Pki::with_leaf(leaf);
        let server = lab.serve_pki(&pki);
        // Stand in for Mozilla's list with our root: the chain is "publicly trusted",
        // and public roots are in the OS store too.
        let public = pki.root_file(&lab);
        lab.trust_system(&pki.root);
        let logs = lab.file("ct-logs.json", certready::lab::ct_log_list_json());
        let run = lab.check_json(
            server.addr,
            HOST,
            &[
                "--public-roots",
                path_str(&public),
                "--ct-log-list",
                path_str(&logs),
            ],
        );
        let report = run.report();
        assert!(report.trusted_by("mozilla"), "{report:#?}");
        let ids = report.finding_ids();
        assert_eq!(
            ids.contains(&"validity-exceeds-398-days"),
            expect,
            "{days}: {ids:?}"
        );
        assert!(!ids.contains(&"validity-exceeds-825-days"));
        assert_eq!(run.code, if expect { 2 } else { 0 }, "{days}: {ids:?}");
    }
}

#[test]
fn missing_server_auth_eku_is_critical_when_eku_excludes_it() {
    let lab = Lab::new();
    let mut leaf = Spec::leaf(HOST);
    leaf.eku = Some(vec![ExtendedKeyUsagePurpose::ClientAuth]);
    let pki = Pki::with_leaf(leaf);
    let server = lab.serve_pki(&pki);
    let root = pki.root_file(&lab);
    let run = lab.check_json(server.addr, HOST, &["--ca-file", path_str(&root)]);
    let report = run.report();
    let eku = report.finding("missing-server-auth-eku");
    assert_eq!(eku.severity, Severity::Critical);
    assert!(eku.message.contains("incompatible key usage"));
    assert!(!report.has_finding("untrusted-chain"));
    assert_eq!(run.code, 2);
}

#[test]
fn leaf_that_is_a_ca_issued_by_a_ca() {
    let lab = Lab::new();
    let mut leaf = Spec::leaf(HOST);
    leaf.ca = true;
    let pki = Pki::with_leaf(leaf);
    let server = lab.serve_pki(&pki);
    let root = pki.root_file(&lab);
    let report = lab.check_report(server.addr, HOST, &["--ca-file", path_str(&root)]);
    assert_eq!(report.finding("leaf-is-ca").certificate, Some(0));
}

#[test]
fn issuer_that_is_not_a_ca() {
    let lab = Lab::new();
    let root = lab::self_signed(&Spec::ca("Test Root CA")).unwrap();
    let mut fake_intermediate = Spec::leaf("intermediate.example.com");
    fake_intermediate.explicit_not_ca = true;
    let intermediate = lab::issue(&fake_intermediate, &root).unwrap();
    let leaf = lab::issue(&Spec::leaf(HOST), &intermediate).unwrap();
    let server = lab.serve(&[&leaf, &intermediate], &leaf);
    let root_file = lab.file("root.pem", &root.pem);
    let run = lab.check_json(server.addr, HOST, &["--ca-file", path_str(&root_file)]);
    let report = run.report();
    let finding = report.finding("issuer-not-ca");
    assert_eq!(finding.certificate, Some(1));
    assert!(finding.message.contains("CA:FALSE"));
    assert_eq!(run.code, 2);
}

#[test]
fn ingress_nginx_default_certificate() {
    let lab = Lab::new();
    let mut spec = Spec::leaf("ingress.local");
    spec.common_name = "Kubernetes Ingress Controller Fake Certificate".into();
    spec.organization = Some("Acme Co".into());
    let cert = lab::self_signed(&spec).unwrap();
    let server = lab.serve(&[&cert], &cert);
    let run = lab.check_json(server.addr, HOST, &[]);
    let report = run.report();
    assert_eq!(run.code, 2);
    let ids = report.finding_ids();
    assert!(ids.contains(&"ingress-default-certificate"), "{ids:?}");
    assert!(ids.contains(&"hostname-mismatch"), "{ids:?}");
}

#[test]
fn path_length_violation_falls_back_to_untrusted_chain() {
    let lab = Lab::new();
    // webpki (like RFC 5280 allows) ignores constraints on anchors: constrain an intermediate.
    let root = lab::self_signed(&Spec::ca("Test Root CA")).unwrap();
    let mut constrained = Spec::ca("Constrained CA");
    constrained.path_len = Some(0);
    let constrained = lab::issue(&constrained, &root).unwrap();
    let too_deep = lab::issue(&Spec::ca("Too Deep CA"), &constrained).unwrap();
    let leaf = lab::issue(&Spec::leaf(HOST), &too_deep).unwrap();
    let server = lab.serve(&[&leaf, &too_deep, &constrained], &leaf);
    let root_file = lab.file("root.pem", &root.pem);
    let run = lab.check_json(server.addr, HOST, &["--ca-file", path_str(&root_file)]);
    let report = run.report();
    let untrusted = report.finding("untrusted-chain");
    assert!(untrusted.message.contains("path length"), "{untrusted:#?}");
    assert_eq!(run.code, 2);
}

#[test]
fn sha1_signed_chain_served_live() {
    let lab = Lab::new();
    let leaf_pem = std::fs::read("testdata/sha1-leaf.pem").unwrap();
    let ca_pem = std::fs::read("testdata/sha1-ca.pem").unwrap();
    let key_pem = std::fs::read("testdata/sha1-leaf.key").unwrap();
    let key = {
        use rustls_pki_types::pem::PemObject;
        rustls_pki_types::PrivateKeyDer::from_pem_slice(&key_pem).unwrap()
    };
    let ders = [&leaf_pem, &ca_pem]
        .iter()
        .map(|pem| {
            use rustls_pki_types::pem::PemObject;
            rustls_pki_types::CertificateDer::from_pem_slice(pem).unwrap()
        })
        .collect();
    let server = lab
        .rt
        .block_on(lab::serve(ders, key, &[b"http/1.1"]))
        .unwrap();
    let ca = lab.file("ca.pem", &ca_pem);
    let run = lab.check_json(
        server.addr,
        "legacy.example.com",
        &["--ca-file", path_str(&ca), "--at", "2030-01-01T00:00:00Z"],
    );
    let report = run.report();
    let sha1 = report.finding("weak-signature-sha1");
    assert_eq!(sha1.certificate, Some(0));
    assert!(!report.trusted_by("ca-file"));
    assert_eq!(report.tls.unwrap().alpn.as_deref(), Some("http/1.1"));
    assert_eq!(run.code, 2);
}

#[test]
fn malformed_certificate_and_failed_handshake() {
    let lab = Lab::new();
    let pki = Pki::new();
    let garbage =
        rustls_pki_types::CertificateDer::from(b"\x30\x03\x02\x01\x00not a certificate".to_vec());
    let server = lab.serve_ders(vec![garbage], &pki.leaf);
    let run = lab.check_json(server.addr, HOST, &[]);
    run.assert_no_panic();
    let report = run.report();
    assert_eq!(report.finding("malformed-certificate").certificate, Some(0));
    assert!(report.has_finding("handshake-failed"));
    assert_eq!(run.code, 2);
}

#[test]
fn server_key_that_does_not_match_its_certificate() {
    let lab = Lab::new();
    let pki = Pki::new();
    let other = lab::self_signed(&Spec::leaf("other.example.com")).unwrap();
    let server = lab.serve(&[&pki.leaf, &pki.intermediate], &other);
    let root = pki.root_file(&lab);
    let run = lab.check_json(server.addr, HOST, &["--ca-file", path_str(&root)]);
    let report = run.report();
    let failed = report.finding("handshake-failed");
    assert!(failed.message.contains("signature"), "{failed:#?}");
    assert_eq!(report.chain.len(), 2);
    assert_eq!(run.code, 2);
}

#[test]
fn several_targets_report_in_order_with_the_worst_exit_code() {
    let lab = Lab::new();
    let pki = Pki::new();
    let good = lab.serve_pki(&pki);
    let root = pki.root_file(&lab);
    let good_target = format!("{HOST}:{}", good.addr.port());
    let resolve = format!("{HOST}:{}:127.0.0.1", good.addr.port());
    let closed = format!("127.0.0.1:{}", closed_port());
    let run = lab.run(&[
        "check",
        &good_target,
        &closed,
        "--resolve",
        &resolve,
        "--ca-file",
        path_str(&root),
        "--format",
        "json",
    ]);
    let doc = run.doc();
    assert_eq!(doc.reports[0].status, Status::Ok);
    assert_eq!(doc.reports[1].status, Status::Unknown);
    assert_eq!(run.code, 3);
}

#[test]
fn an_unreadable_system_store_is_reported_not_silent() {
    let lab = Lab::new();
    let pki = Pki::new();
    let server = lab.serve_pki(&pki);
    let target = format!("{HOST}:{}", server.addr.port());
    let resolve = format!("{HOST}:{}:127.0.0.1", server.addr.port());
    let run = Run::of(
        lab.certready()
            .env("SSL_CERT_FILE", "/nonexistent/bundle.pem")
            .args(["check", &target, "--resolve", &resolve, "--format", "json"]),
    );
    let system = &run.report().trust[0];
    assert_eq!(system.store, "system");
    let error = system.error.as_deref().unwrap();
    assert!(
        error.contains("this store is empty") && error.contains("/nonexistent/bundle.pem"),
        "{error}"
    );
}

//! The client-verdict options through the real binary: --client, --anchor-kind,
//! --flytectl-config (caCertFilePath, insecureSkipVerify, lookup order) and --explain.

use crate::common::*;
use certready::lab::{self, Spec};

/// (client, channel) of each verdict, in order.
fn clients(report: &json::Report) -> Vec<(&str, &str)> {
    report
        .clients
        .iter()
        .map(|c| (c.client.as_str(), c.channel.as_str()))
        .collect()
}

#[test]
fn every_client_and_channel_is_reported_and_client_filters() {
    let lab = Lab::new();
    let pki = Pki::new();
    let server = lab.serve_pki(&pki);
    let root = pki.root_file(&lab);
    let report = lab.check_report(server.addr, HOST, &["--ca-file", path_str(&root)]);
    let all = clients(&report);
    let expected = [
        ("flytectl-macos", "grpc"),
        ("flytectl-macos", "oauth-http"),
        ("flytectl-linux", "grpc"),
        ("flytectl-linux", "oauth-http"),
        ("pyflyte", "grpc"),
        ("pyflyte", "oauth-http"),
        ("browser", "https"),
    ];
    assert_eq!(all, expected);
    // The private CA is given as --ca-file: installed wherever each client looks
    // (caCertFilePath, the keychain, the Linux OS store, the browser), so all accept.
    for (client, channel) in expected {
        assert!(report.client(client, channel).accepts, "{client} {channel}");
    }
    assert!(report
        .finding("private-trust-only")
        .message
        .contains("assume this CA is installed"));

    // The same CA as flytectl's caCertFilePath only: the gRPC channels trust it, the Linux
    // OAuth client does not (it reads the OS store alone).
    let config = lab.file(
        "ca-config.yaml",
        format!(
            "admin:\n  endpoint: dns:///{HOST}\n  caCertFilePath: {}\n",
            root.display()
        ),
    );
    let report = lab.check_report(server.addr, HOST, &["--flytectl-config", path_str(&config)]);
    assert!(report.client("flytectl-linux", "grpc").accepts);
    assert!(report.client("pyflyte", "grpc").accepts);
    assert!(report.client("pyflyte", "oauth-http").accepts);
    let oauth = report.client("flytectl-linux", "oauth-http");
    assert!(!oauth.accepts);
    assert!(oauth
        .note
        .as_deref()
        .unwrap()
        .contains("ignores caCertFilePath"));
    assert!(oauth.error.as_deref().unwrap().ends_with(
        "tls: failed to verify certificate: x509: certificate signed by unknown authority"
    ));
    // Nor is it in the Mac's keychain: Apple's verifier refuses too.
    assert!(!report.client("flytectl-macos", "oauth-http").accepts);

    let only = lab.check_report(
        server.addr,
        HOST,
        &[
            "--ca-file",
            path_str(&root),
            "--client",
            "browser",
            "--client",
            "pyflyte",
        ],
    );
    let names: Vec<&str> = clients(&only).into_iter().map(|(c, _)| c).collect();
    assert_eq!(names, ["pyflyte", "pyflyte", "browser"]);
}

#[test]
fn the_macos_not_standards_compliant_case_and_insecure_skip_verify() {
    let lab = Lab::new();
    let cert = lab::self_signed(&Spec::openssl_req_x509(HOST)).unwrap();
    let server = lab.serve(&[&cert], &cert);
    let config = lab.file(
        "config.yaml",
        format!(
            "admin:\n  endpoint: dns:///{HOST}\n  insecureSkipVerify: true\n  authType: Pkce\n"
        ),
    );
    let report = lab.check_report(server.addr, HOST, &["--flytectl-config", path_str(&config)]);
    // gRPC skips verification, OAuth still fails with Apple's message: flyteorg/flyte#2371.
    assert!(report.client("flytectl-macos", "grpc").accepts);
    let oauth = report.client("flytectl-macos", "oauth-http");
    assert!(!oauth.accepts);
    let port = server.addr.port();
    assert_eq!(
        oauth.error.as_deref(),
        Some(format!("Post \"https://{HOST}:{port}/oauth2/token\": tls: failed to verify certificate: x509: “{HOST}” certificate is not standards compliant").as_str())
    );
    assert_eq!(oauth.causes, ["validity-exceeds-825-days"]);
    let warning = report.finding("insecure-skip-verify-in-use");
    assert_eq!(warning.severity, Severity::Warning);
    assert!(warning.message.contains(path_str(&config)));
    assert_eq!(
        report.recommendation_ids(),
        [
            "use-public-ca",
            "use-private-ca-correctly",
            "use-external-oauth-provider",
            "remove-insecure-skip-verify"
        ]
    );
}

#[test]
fn ca_cert_file_path_from_the_config_and_flytectl_config_env_lookup() {
    let lab = Lab::new();
    let pki = Pki::new();
    let server = lab.serve_pki(&pki);
    let root = pki.root_file(&lab);
    let config = lab.file(
        "cfg.yaml",
        format!("admin:\n  caCertFilePath: {}\n", root.display()),
    );
    let target = format!("{HOST}:{}", server.addr.port());
    let resolve = format!("{HOST}:{}:127.0.0.1", server.addr.port());
    // No path after the flag: flytectl's lookup, $FLYTECTL_CONFIG first.
    let report = Run::of(lab.certready().env("FLYTECTL_CONFIG", &config).args([
        "check",
        &target,
        "--resolve",
        &resolve,
        "--format",
        "json",
        "--flytectl-config",
    ]))
    .report();
    let grpc = report.client("flytectl-linux", "grpc");
    assert!(grpc.accepts, "{grpc:#?}");
    assert!(grpc.note.as_deref().unwrap().contains(path_str(&root)));
    assert!(report.client("pyflyte", "grpc").accepts);

    // A config that names a missing CA file is a usage error.
    let broken = lab.file(
        "broken.yaml",
        "admin:\n  caCertFilePath: /nonexistent/ca.pem\n",
    );
    let run = lab.run(&[
        "check",
        &target,
        "--resolve",
        &resolve,
        "--flytectl-config",
        path_str(&broken),
    ]);
    assert_eq!(run.code, 3);
    assert!(run.stderr.contains("caCertFilePath"), "{}", run.stderr);
}

#[test]
fn anchor_kind_override_changes_the_macos_verdict() {
    let lab = Lab::new();
    let cert = lab::self_signed(&Spec::leaf(HOST)).unwrap();
    let server = lab.serve(&[&cert], &cert);
    let untrusted = lab.check_report(server.addr, HOST, &["--client", "flytectl-macos"]);
    assert_eq!(
        untrusted
            .client("flytectl-macos", "oauth-http")
            .error
            .as_deref()
            .unwrap()
            .rsplit("certificate: ")
            .next()
            .unwrap(),
        // rcgen's self-signed leaf carries an authority key id but no subject key id, so
        // Apple does not count it as self-signed (SecCertificate.c
        // _SecCertificateIsSelfSigned): a missing issuer (errSecCreateChainFailed), which
        // root_darwin.go prints as Apple words it.
        "x509: “flyte.example.com” certificate is not trusted"
    );
    let trusted = lab.check_report(
        server.addr,
        HOST,
        &["--client", "flytectl-macos", "--anchor-kind", "leaf"],
    );
    assert!(trusted.client("flytectl-macos", "oauth-http").accepts);
}

#[test]
fn browser_completes_a_chain_through_aia_where_go_does_not() {
    let lab = Lab::new();
    let aia = aia::aia_server(&lab, vec![]);
    let mut leaf = Spec::leaf(HOST);
    leaf.ca_issuers_url = Some(aia.url("/issuing.crt"));
    let pki = Pki::with_leaf(leaf);
    aia.route(
        "/issuing.crt",
        aia::Answer::Body("application/pkix-cert", pki.intermediate.der.to_vec()),
    );
    let server = lab.serve(&[&pki.leaf], &pki.leaf);
    let root = pki.root_file(&lab);
    let report = lab.check_report(server.addr, HOST, &["--ca-file", path_str(&root)]);
    let browser = report.client("browser", "https");
    assert!(browser.accepts);
    assert!(browser
        .note
        .as_deref()
        .unwrap()
        .contains("Chrome fetches the missing intermediate \"CN=Test Issuing CA\""));
    assert!(!report.client("flytectl-linux", "grpc").accepts);
    assert_eq!(report.recommendations[0].id, "add-missing-intermediate");
}

#[test]
fn text_output_has_the_client_table_and_what_to_do() {
    let lab = Lab::new();
    let cert = lab::self_signed(&Spec::leaf(HOST)).unwrap();
    let server = lab.serve(&[&cert], &cert);
    let run = lab.check(server.addr, HOST, &[]);
    assert!(run.stdout.contains("Clients (predicted)"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("NO flytectl-macos  oauth-http  refuses"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("What to do (most effective first)"),
        "{}",
        run.stdout
    );
    for line in run.stdout.lines() {
        assert!(line.chars().count() <= 80, "line too wide: {line:?}");
    }
}

#[test]
fn explain_prints_the_long_explanation() {
    let lab = Lab::new();
    let run = lab.run(&["--explain", "incomplete-chain"]);
    assert_eq!(run.code, 0);
    // Wrapped to the terminal: compare words, not lines.
    let words = run.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(words.contains("works in the browser"), "{}", run.stdout);
    assert!(run.stdout.contains("Fix:"));
    let run = lab.run(&["--explain", "no-such-id"]);
    assert_eq!(run.code, 3);
    assert!(run.stderr.contains("known ids"));
}

/// flytekit's own environment overrides reach pyflyte only: FLYTE_PLATFORM_CA_CERT_FILE_PATH
/// is its caCertFilePath (flytectl does not read it), FLYTE_PLATFORM_INSECURE_SKIP_VERIFY
/// its insecureSkipVerify.
#[test]
fn flytekit_environment_overrides_reach_pyflyte_only() {
    let lab = Lab::new();
    let pki = Pki::new();
    let server = lab.serve_pki(&pki);
    let root = pki.root_file(&lab);
    let target = format!("{HOST}:{}", server.addr.port());
    let resolve = format!("{HOST}:{}:127.0.0.1", server.addr.port());
    let args = ["check", &target, "--resolve", &resolve, "--format", "json"];
    let with_ca = Run::of(
        lab.certready()
            .args(args)
            .env("FLYTE_PLATFORM_CA_CERT_FILE_PATH", &root),
    )
    .report();
    assert!(with_ca.client("pyflyte", "grpc").accepts);
    assert!(with_ca.client("pyflyte", "oauth-http").accepts);
    assert!(!with_ca.client("flytectl-linux", "grpc").accepts);

    let skip = Run::of(
        lab.certready()
            .args(args)
            .env("FLYTE_PLATFORM_INSECURE_SKIP_VERIFY", "True"),
    )
    .report();
    assert!(skip.client("pyflyte", "grpc").accepts);
    assert!(skip.client("pyflyte", "oauth-http").accepts);
    assert!(!skip.client("flytectl-linux", "grpc").accepts);
}

//! The client-verdict options through the real binary: --client, --anchor-kind,
//! --flytectl-config (caCertFilePath, insecureSkipVerify, lookup order) and --explain.

use crate::common::*;
use certready::lab::{self, Spec};
use serde_json::Value;

fn clients(report: &Value) -> Vec<(String, String, bool)> {
    report["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["client"].as_str().unwrap().to_string(),
                c["channel"].as_str().unwrap().to_string(),
                c["accepts"].as_bool().unwrap(),
            )
        })
        .collect()
}

#[test]
fn every_client_and_channel_is_reported_and_client_filters() {
    let lab = Lab::new();
    let pki = Pki::new();
    let server = lab.serve_pki(&pki);
    let root = pki.root_file(&lab);
    let report = lab
        .check_json(server.addr, HOST, &["--ca-file", path_str(&root)])
        .report();
    let all: Vec<(String, String)> = clients(&report)
        .into_iter()
        .map(|(c, ch, _)| (c, ch))
        .collect();
    let expected = [
        ("flytectl-macos", "grpc"),
        ("flytectl-macos", "oauth-http"),
        ("flytectl-linux", "grpc"),
        ("flytectl-linux", "oauth-http"),
        ("pyflyte", "grpc"),
        ("pyflyte", "oauth-http"),
        ("browser", "https"),
    ];
    assert_eq!(all, expected.map(|(a, b)| (a.to_string(), b.to_string())));
    // The private CA is given as --ca-file (caCertFilePath's stand-in): gRPC works, but the
    // Linux OAuth client only trusts the OS store, which does not hold the CA.
    assert_eq!(verdict(&report, "flytectl-linux", "grpc")["accepts"], true);
    let oauth = verdict(&report, "flytectl-linux", "oauth-http");
    assert_eq!(oauth["accepts"], false);
    assert!(oauth["note"]
        .as_str()
        .unwrap()
        .contains("ignores caCertFilePath"));
    assert!(oauth["error"].as_str().unwrap().ends_with(
        "tls: failed to verify certificate: x509: certificate signed by unknown authority"
    ));
    // macOS: the private CA is assumed to be in the keychain.
    assert_eq!(
        verdict(&report, "flytectl-macos", "oauth-http")["accepts"],
        true
    );

    let only = lab
        .check_json(
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
        )
        .report();
    let names: Vec<String> = clients(&only).into_iter().map(|(c, _, _)| c).collect();
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
    let report = lab
        .check_json(server.addr, HOST, &["--flytectl-config", path_str(&config)])
        .report();
    // gRPC skips verification, OAuth still fails with Apple's message: flyteorg/flyte#2371.
    assert_eq!(verdict(&report, "flytectl-macos", "grpc")["accepts"], true);
    let oauth = verdict(&report, "flytectl-macos", "oauth-http");
    assert_eq!(oauth["accepts"], false);
    let port = server.addr.port();
    assert_eq!(
        oauth["error"],
        format!("Post \"https://{HOST}:{port}/oauth2/token\": tls: failed to verify certificate: x509: “{HOST}” certificate is not standards compliant")
    );
    assert_eq!(
        oauth["causes"],
        serde_json::json!(["validity-exceeds-825-days"])
    );
    let warning = finding(&report, "insecure-skip-verify-in-use");
    assert_eq!(warning["severity"], "warning");
    assert!(warning["message"]
        .as_str()
        .unwrap()
        .contains(path_str(&config)));
    let ids: Vec<&str> = report["recommendations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
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
    let output = lab
        .certready()
        .env("FLYTECTL_CONFIG", &config)
        .args([
            "check",
            &target,
            "--resolve",
            &resolve,
            "--format",
            "json",
            "--flytectl-config",
        ])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&output.stdout).unwrap();
    let report = &doc["reports"][0];
    let grpc = verdict(report, "flytectl-linux", "grpc");
    assert_eq!(grpc["accepts"], true, "{grpc:#}");
    assert!(grpc["note"].as_str().unwrap().contains(path_str(&root)));
    assert_eq!(verdict(report, "pyflyte", "grpc")["accepts"], true);

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
    let untrusted = lab
        .check_json(server.addr, HOST, &["--client", "flytectl-macos"])
        .report();
    assert_eq!(
        verdict(&untrusted, "flytectl-macos", "oauth-http")["error"]
            .as_str()
            .unwrap()
            .rsplit("certificate: ")
            .next()
            .unwrap(),
        "x509: certificate signed by unknown authority"
    );
    let trusted = lab
        .check_json(
            server.addr,
            HOST,
            &["--client", "flytectl-macos", "--anchor-kind", "leaf"],
        )
        .report();
    assert_eq!(
        verdict(&trusted, "flytectl-macos", "oauth-http")["accepts"],
        true
    );
}

#[test]
fn browser_completes_a_chain_through_aia_where_go_does_not() {
    let lab = Lab::new();
    let mut leaf = Spec::leaf(HOST);
    leaf.ca_issuers_url = Some("http://pki.example.com/issuing.crt".into());
    let pki = Pki::with_leaf(leaf);
    let server = lab.serve(&[&pki.leaf], &pki.leaf);
    let root = pki.root_file(&lab);
    let report = lab
        .check_json(server.addr, HOST, &["--ca-file", path_str(&root)])
        .report();
    let browser = verdict(&report, "browser", "https");
    assert_eq!(browser["accepts"], true);
    assert!(browser["note"]
        .as_str()
        .unwrap()
        .contains("http://pki.example.com/issuing.crt"));
    assert_eq!(verdict(&report, "flytectl-linux", "grpc")["accepts"], false);
    assert_eq!(
        report["recommendations"][0]["id"],
        "add-missing-intermediate"
    );
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
    assert!(
        run.stdout.contains("works in the browser"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("Fix:"));
    let run = lab.run(&["--explain", "no-such-id"]);
    assert_eq!(run.code, 3);
    assert!(run.stderr.contains("known ids"));
}

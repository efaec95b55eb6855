//! `certready lint-config` on the sample configs in testdata/flyte/ and on generated
//! ones, through the real binary.

use crate::common::*;
use certready::lab::{self, Spec};

fn lint_json(lab: &Lab, args: &[&str]) -> (json::LintDocument, i32) {
    let mut all = vec!["lint-config", "--format", "json"];
    all.extend_from_slice(args);
    let run = lab.run(&all);
    run.assert_no_panic();
    (run.lint_doc(), run.code)
}

/// (id, key, line) of each finding of the first config.
fn lints(doc: &json::LintDocument) -> Vec<(&str, Option<&str>, Option<usize>)> {
    doc.configs[0]
        .findings
        .iter()
        .map(|f| (f.id.as_str(), f.key.as_deref(), f.line))
        .collect()
}

fn has(doc: &json::LintDocument, id: &str, key: &str, line: usize) -> bool {
    lints(doc).contains(&(id, Some(key), Some(line)))
}

#[test]
fn good_configs_pass() {
    let lab = Lab::new();
    for file in [
        "testdata/flyte/flyteadmin-good.yaml",
        "testdata/flyte/flytectl-good.yaml",
    ] {
        let (doc, code) = lint_json(
            &lab,
            &[file, "--console-origin", "https://console.example.com"],
        );
        assert_eq!(code, 0, "{file}: {doc:#?}");
        assert!(lints(&doc).is_empty());
    }
}

#[test]
fn flyteadmin_config_problems_with_keys_and_lines() {
    let lab = Lab::new();
    let (doc, code) = lint_json(&lab, &["testdata/flyte/flyteadmin-bad.yaml"]);
    assert_eq!(doc.configs[0].kind.as_deref(), Some("flyteadmin"));
    assert!(
        has(
            &doc,
            "config-unknown-key",
            "server.security.allowedOrigin",
            7
        ),
        "{:#?}",
        lints(&doc)
    );
    assert!(has(
        &doc,
        "cors-wildcard-with-credentials",
        "server.security.allowedOrigins",
        9
    ));
    assert!(has(
        &doc,
        "cors-origin-malformed",
        "server.security.allowedOrigins",
        9
    ));
    assert!(has(
        &doc,
        "cors-header-not-allowed",
        "server.security.allowedHeaders",
        13
    ));
    assert!(has(
        &doc,
        "redirect-uri-shape",
        "auth.appAuth.thirdPartyConfig.flyteClient.redirectUri",
        21
    ));
    let messages: Vec<&str> = doc.configs[0]
        .findings
        .iter()
        .map(|f| f.message.as_str())
        .collect();
    assert!(messages
        .iter()
        .any(|m| m.contains("Did you mean `allowedOrigins`?")));
    assert!(messages
        .iter()
        .any(|m| m.contains("\"https://console.example.com/\" ends with a slash")));
    assert!(messages
        .iter()
        .any(|m| m.contains("\"https://console.example.com/console\" has a path")));
    assert_eq!(code, 2);
}

#[test]
fn console_origin_missing_from_allowed_origins() {
    let lab = Lab::new();
    let (doc, code) = lint_json(
        &lab,
        &[
            "testdata/flyte/flyteadmin-good.yaml",
            "--console-origin",
            "https://other.example.com",
        ],
    );
    assert!(
        has(
            &doc,
            "cors-origin-not-allowed",
            "server.security.allowedOrigins",
            9
        ),
        "{:#?}",
        lints(&doc)
    );
    assert_eq!(code, 2);
}

#[test]
fn flytectl_config_problems_with_keys_and_lines() {
    let lab = Lab::new();
    let (doc, code) = lint_json(&lab, &["testdata/flyte/flytectl-bad.yaml"]);
    assert_eq!(doc.configs[0].kind.as_deref(), Some("flytectl"));
    assert!(
        has(&doc, "endpoint-form", "admin.endpoint", 2),
        "{:#?}",
        lints(&doc)
    );
    assert!(has(&doc, "insecure-but-tls", "admin.insecure", 3));
    assert!(has(
        &doc,
        "insecure-skip-verify-in-use",
        "admin.insecureSkipVerify",
        4
    ));
    assert!(has(&doc, "config-unknown-key", "admin.caCertFile", 5));
    assert!(has(
        &doc,
        "ca-cert-file-unusable",
        "admin.caCertFilePath",
        6
    ));
    assert!(has(&doc, "auth-type-invalid", "admin.authType", 7));
    assert_eq!(code, 2);
}

#[test]
fn ca_cert_file_path_with_only_a_leaf_is_a_warning() {
    let lab = Lab::new();
    let pki = Pki::new();
    lab.file("leaf.pem", &pki.leaf.pem);
    let config = lab.file(
        "config.yaml",
        "admin:\n  endpoint: dns:///flyte.example.com\n  caCertFilePath: leaf.pem\n",
    );
    let (doc, code) = lint_json(&lab, &[path_str(&config)]);
    let finding = &doc.configs[0].findings[0];
    assert_eq!(finding.id, "ca-cert-file-unusable");
    assert_eq!(finding.severity, Severity::Warning);
    assert_eq!(code, 1);
    lab.file("root.pem", &pki.root.pem);
    let config = lab.file(
        "config.yaml",
        "admin:\n  endpoint: dns:///flyte.example.com\n  caCertFilePath: root.pem\n",
    );
    assert_eq!(
        lint_json(&lab, &[path_str(&config)]).1,
        0,
        "a relative path is read beside the config"
    );
}

#[test]
fn built_in_auth_server_with_a_certificate_macos_refuses_is_predicted_before_deploy() {
    let lab = Lab::new();
    let cert = lab::self_signed(&Spec::openssl_req_x509(HOST)).unwrap();
    lab.file("tls.crt", &cert.pem);
    lab.file("tls.key", cert.key_pem());
    let config = lab.file(
        "flyteadmin.yaml",
        format!(
            "server:\n  security:\n    secure: true\n    ssl:\n      certificateFile: tls.crt\n      keyFile: tls.key\n    useAuth: true\n    allowedOrigins: [https://{HOST}]\nauth:\n  authorizedUris:\n    - https://{HOST}\n  appAuth:\n    authServerType: Self\n"
        ),
    );
    let (doc, code) = lint_json(&lab, &[path_str(&config)]);
    let config_report = &doc.configs[0];
    assert!(
        has(&doc, "oauth-login-fails", "auth.appAuth.authServerType", 13),
        "{:#?}",
        lints(&doc)
    );
    let message = &config_report
        .findings
        .iter()
        .find(|f| f.id == "oauth-login-fails")
        .unwrap()
        .message;
    assert!(
        message.contains("certificate is not standards compliant"),
        "{message}"
    );
    let certificate = config_report
        .certificate
        .as_ref()
        .expect("the inspect report of certificateFile");
    assert_eq!(
        certificate.role.as_deref(),
        Some("server.security.ssl.certificateFile")
    );
    assert_eq!(
        certificate.host.as_deref(),
        Some(HOST),
        "the name comes from authorizedUris"
    );
    assert!(certificate.has_finding("cn-only"));
    assert!(!certificate.has_finding("key-mismatch"), "keyFile matches");
    assert_eq!(code, 2);
}

#[test]
fn bad_input_is_named_and_unknown() {
    let lab = Lab::new();
    let empty = lab.file("empty.yaml", "");
    let binary = lab.file("binary.yaml", [0xffu8, 0xfe, 0x00, 0x01, 0x80]);
    let huge = lab.dir.path().join("huge.yaml");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(100 * 1024 * 1024)
        .unwrap();
    let dir = lab.dir.path().to_str().unwrap().to_string();
    for (file, words) in [
        (path_str(&binary), "is not UTF-8 text"),
        (path_str(&huge), "at most 10 MiB"),
        (dir.as_str(), "is a directory"),
        ("testdata/flyte/broken.yaml", "line 3 column 12"),
        (
            "testdata/flyte/not-a-config.yaml",
            "has nothing lint-config reads (it holds 1 ConfigMap)",
        ),
        ("/nonexistent/config.yaml", "no such file"),
        (path_str(&empty), "is empty"),
    ] {
        let (doc, code) = lint_json(&lab, &[file]);
        let error = doc.configs[0].error.as_deref().unwrap_or_default();
        assert!(error.contains(words), "{file}: {error}");
        assert!(error.contains(file), "names the file: {error}");
        assert_eq!(code, 3, "{file}");
    }
}

//! `certready inspect`: PEM bundles in any order, DER, Kubernetes Secrets (YAML and
//! JSON), key matching, and every kind of bad file — through the real binary.

use crate::common::*;
use base64::Engine;
use certready::lab::{self, Spec};

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

fn secret_yaml(crt: &str, ca: Option<&str>, key: Option<&str>) -> String {
    let mut yaml = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: flyte-tls\n  namespace: flyte\ntype: kubernetes.io/tls\ndata:\n  tls.crt: {}\n",
        b64(crt)
    );
    if let Some(ca) = ca {
        yaml.push_str(&format!("  ca.crt: {}\n", b64(ca)));
    }
    if let Some(key) = key {
        yaml.push_str(&format!("  tls.key: {}\n", b64(key)));
    }
    yaml
}

#[test]
fn pem_bundle_with_ca_file_and_matching_key() {
    let lab = Lab::new();
    let pki = Pki::new();
    let bundle = lab.file(
        "fullchain.pem",
        format!("{}{}", pki.leaf.pem, pki.intermediate.pem),
    );
    let key = lab.file("tls.key", pki.leaf.key_pem());
    let root = pki.root_file(&lab);
    let run = lab.run(&[
        "inspect",
        path_str(&bundle),
        "--hostname",
        HOST,
        "--key",
        path_str(&key),
        "--ca-file",
        path_str(&root),
        "--format",
        "json",
    ]);
    let report = run.report();
    assert_eq!(run.code, 0, "{report:#?}");
    assert!(report.tls.is_none());
    assert!(report.trusted_by("ca-file"));
    assert!(
        !run.stdout.contains("PRIVATE KEY"),
        "key material must never be printed"
    );
}

#[test]
fn bundle_in_any_order_finds_the_leaf_and_flags_the_order() {
    let lab = Lab::new();
    let pki = Pki::new();
    let bundle = lab.file(
        "reversed.pem",
        format!("{}{}", pki.intermediate.pem, pki.leaf.pem),
    );
    let root = pki.root_file(&lab);
    let run = lab.run(&[
        "inspect",
        path_str(&bundle),
        "--hostname",
        HOST,
        "--ca-file",
        path_str(&root),
        "--format",
        "json",
    ]);
    let report = run.report();
    assert!(report.trusted_by("ca-file"), "{report:#?}");
    assert_eq!(report.path.positions, [1, 0]);
    assert_eq!(report.finding("chain-order").certificate, Some(1));
    assert_eq!(run.code, 1);
}

#[test]
fn mismatched_key_is_critical() {
    let lab = Lab::new();
    let pki = Pki::new();
    let other = lab::self_signed(&Spec::leaf("other.example.com")).unwrap();
    let bundle = lab.file("tls.crt", &pki.leaf.pem);
    let key = lab.file("wrong.key", other.key_pem());
    let run = lab.run(&[
        "inspect",
        path_str(&bundle),
        "--key",
        path_str(&key),
        "--format",
        "json",
    ]);
    let report = run.report();
    assert_eq!(report.finding("key-mismatch").certificate, Some(0));
    assert_eq!(run.code, 2);
    assert!(!run.stdout.contains("PRIVATE KEY"));
}

#[test]
fn der_certificate() {
    let lab = Lab::new();
    let run = lab.run(&[
        "inspect",
        "testdata/sha1-ca.der",
        "--at",
        "2030-01-01T00:00:00Z",
        "--format",
        "json",
    ]);
    let report = run.report();
    assert_eq!(report.chain[0].subject, "CN=Legacy SHA1 Root");
    assert_eq!(report.chain[0].signature_algorithm, "sha1WithRSAEncryption");
    run.assert_no_panic();
}

#[test]
fn sha1_and_small_rsa_keys_from_openssl_fixtures() {
    let lab = Lab::new();
    let at = "2030-01-01T00:00:00Z";
    let run = lab.run(&[
        "inspect",
        "testdata/sha1-leaf.pem",
        "--ca-file",
        "testdata/sha1-ca.pem",
        "--hostname",
        "legacy.example.com",
        "--at",
        at,
        "--format",
        "json",
    ]);
    assert!(run
        .report()
        .finding("weak-signature-sha1")
        .message
        .contains("SHA-1"));
    assert_eq!(run.code, 2);

    let run = lab.run(&[
        "inspect",
        "testdata/rsa1024-leaf.pem",
        "--ca-file",
        "testdata/rsa1024-ca.pem",
        "--at",
        at,
        "--format",
        "json",
    ]);
    let report = run.report();
    assert!(report.finding("weak-rsa-key").message.contains("1024-bit"));
    assert_eq!(report.chain[0].key, "RSA 1024");
    assert_eq!(run.code, 2);
}

#[test]
fn kubernetes_secret_yaml_with_ca_and_key() {
    let lab = Lab::new();
    let pki = Pki::new();
    let chain = format!("{}{}", pki.leaf.pem, pki.intermediate.pem);
    let secret = lab.file(
        "secret.yaml",
        secret_yaml(&chain, Some(&pki.root.pem), Some(&pki.leaf.key_pem())),
    );
    let run = lab.run(&[
        "inspect",
        path_str(&secret),
        "--hostname",
        HOST,
        "--format",
        "json",
    ]);
    let report = run.report();
    assert_eq!(run.code, 0, "{report:#?}");
    assert!(
        report.trusted_by("ca-file"),
        "the Secret's ca.crt is a private anchor"
    );
    assert_eq!(report.chain.len(), 2);
}

#[test]
fn kubernetes_secret_json_with_a_wrong_key() {
    let lab = Lab::new();
    let pki = Pki::new();
    let other = lab::self_signed(&Spec::leaf("other.example.com")).unwrap();
    let secret = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/tls",
        "data": { "tls.crt": b64(&pki.leaf.pem), "tls.key": b64(&other.key_pem()) }
    });
    let path = lab.file("secret.json", secret.to_string());
    let run = lab.run(&["inspect", path_str(&path), "--format", "json"]);
    assert!(run.report().has_finding("key-mismatch"));
    assert_eq!(run.code, 2);
}

#[test]
fn encrypted_key_is_explained_and_unknown() {
    let lab = Lab::new();
    let run = lab.run(&[
        "inspect",
        "testdata/sha1-leaf.pem",
        "--key",
        "testdata/encrypted.key",
        "--at",
        "2030-01-01T00:00:00Z",
        "--format",
        "json",
    ]);
    let report = run.report();
    assert_eq!(run.code, 3);
    assert!(
        report.error.as_deref().unwrap().contains("encrypted"),
        "{report:#?}"
    );
    // The chain is still analysed.
    assert!(report.has_finding("weak-signature-sha1"));
}

fn assert_bad_file(lab: &Lab, path: &str, words: &str) {
    let run = lab.run(&["inspect", path, "--format", "json"]);
    run.assert_no_panic();
    assert_eq!(run.code, 3, "{}", run.stdout);
    let error = run.report().error.as_deref().unwrap().to_string();
    assert!(error.starts_with(path), "names the file first: {error}");
    assert!(error.contains(words), "{words:?} not in {error}");
}

#[test]
fn bad_files_are_named_and_explained() {
    let lab = Lab::new();
    let empty = lab.file("empty.pem", "");
    assert_bad_file(&lab, path_str(&empty), "is empty");
    assert_bad_file(&lab, path_str(lab.dir.path()), "is a directory");
    assert_bad_file(&lab, "/nonexistent/tls.crt", "no such file");
    let binary = lab.file("random.bin", [0x7fu8, 0x45, 0x4c, 0x46, 0, 1, 2, 3, 0xff]);
    assert_bad_file(&lab, path_str(&binary), "is not a certificate");
    let bad_b64 = lab.file(
        "bad.pem",
        "-----BEGIN CERTIFICATE-----\n!!!not base64!!!\n-----END CERTIFICATE-----\n",
    );
    assert_bad_file(&lab, path_str(&bad_b64), "damaged PEM");
    assert_bad_file(
        &lab,
        "testdata/sha1-leaf.key",
        "private key but no certificate",
    );
    assert_bad_file(&lab, "testdata/bundle.p12", "PKCS#12");
    let no_crt = lab.file(
        "secret.yaml",
        "apiVersion: v1\nkind: Secret\ndata:\n  password: aHVudGVyMg==\n",
    );
    assert_bad_file(&lab, path_str(&no_crt), "without data[\"tls.crt\"]");
    let configmap = lab.file(
        "cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\ndata:\n  a: b\n",
    );
    assert_bad_file(&lab, path_str(&configmap), "not a Secret");
}

#[test]
fn huge_file_is_refused_quickly() {
    let lab = Lab::new();
    let path = lab.dir.path().join("huge.pem");
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(100 * 1024 * 1024).unwrap(); // sparse: costs no disk
    let run = lab.run(&["inspect", path_str(&path), "--format", "json"]);
    assert_eq!(run.code, 3);
    let error = run.report().error.as_deref().unwrap().to_string();
    assert!(error.contains("at most 10 MiB"), "{error}");
    assert!(run.elapsed < std::time::Duration::from_secs(5));
}

#[test]
fn one_bad_file_does_not_hide_the_others() {
    let lab = Lab::new();
    let pki = Pki::new();
    let good = lab.file(
        "good.pem",
        format!("{}{}", pki.leaf.pem, pki.intermediate.pem),
    );
    let root = pki.root_file(&lab);
    let run = lab.run(&[
        "inspect",
        path_str(&good),
        "/nonexistent.pem",
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

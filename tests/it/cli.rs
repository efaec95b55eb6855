//! Command-line behaviour: usage errors exit 3 (UNKNOWN), help exits 0, the demo runs
//! without network, and the JSON field names other tools read stay as documented.

use crate::common::*;

#[test]
fn usage_errors_exit_unknown_not_critical() {
    let lab = Lab::new();
    for args in [
        vec!["check"],
        vec!["check", "http://flyte.example.com"],
        vec!["check", "host:0"],
        vec!["check", "flyte.example.com", "--timeout", "soon"],
        vec!["check", "flyte.example.com", "--at", "tomorrow"],
        vec!["check", "flyte.example.com", "--resolve", "nonsense"],
        vec![
            "check",
            "flyte.example.com",
            "--ca-file",
            "/nonexistent/ca.pem",
        ],
        vec!["check", "flyte.example.com", "--bogus-flag"],
        vec!["inspect"],
        vec!["inspect", "x.pem", "--key", "/nonexistent.key"],
    ] {
        let run = lab.run(&args);
        run.assert_no_panic();
        assert_eq!(run.code, 3, "{args:?}: {}", run.stderr);
        assert!(!run.stderr.is_empty(), "{args:?} must say what is wrong");
    }
}

#[test]
fn unparseable_target_message_is_clear() {
    let lab = Lab::new();
    let run = lab.run(&["check", "http://flyte.example.com"]);
    assert!(
        run.stderr.contains("http:// is plaintext"),
        "{}",
        run.stderr
    );
}

#[test]
fn help_and_version_exit_zero() {
    let lab = Lab::new();
    for args in [
        vec!["--help"],
        vec!["check", "--help"],
        vec!["inspect", "--help"],
        vec!["--version"],
    ] {
        let run = lab.run(&args);
        assert_eq!(run.code, 0, "{args:?}");
    }
    let run = lab.run(&["check", "--help"]);
    assert!(run.stdout.contains("--ca-file"));
    assert!(run.stdout.contains("dns:///"));
}

#[test]
fn demo_runs_every_scenario_without_network() {
    let lab = Lab::new();
    let run = lab.run(&["demo"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for text in [
        "Self-signed certificate, valid 10 years",
        "validity-exceeds-825-days",
        "ingress-default-certificate",
        "incomplete-chain",
        "Verdict: OK",
    ] {
        assert!(run.stdout.contains(text), "demo output lacks {text:?}");
    }
    let doc = lab.run(&["demo", "--format", "json"]).doc();
    let statuses: Vec<Status> = doc.reports.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [
            Status::Critical,
            Status::Critical,
            Status::Critical,
            Status::Ok
        ]
    );
}

/// The documented contract (docs/json-schema.md): field names other tools read.
///
/// Deliberately untyped: it reads the key names literally, so it does not depend on the
/// serde attributes of the typed mirror (tests/it/common/json.rs) it double-checks.
#[test]
fn json_field_names_are_stable() {
    let lab = Lab::new();
    let pki = Pki::new();
    let server = lab.serve_pki(&pki);
    let root = pki.root_file(&lab);
    let run = lab.check_json(server.addr, HOST, &["--ca-file", path_str(&root)]);
    let doc = run.json();
    assert_eq!(doc["schema_version"], 1);
    let report = &doc["reports"][0];
    for key in [
        "target", "host", "port", "status", "error", "tls", "chain", "trust", "findings",
    ] {
        assert!(report.get(key).is_some(), "report lacks {key}");
    }
    for key in ["version", "cipher", "alpn"] {
        assert!(report["tls"].get(key).is_some(), "tls lacks {key}");
    }
    for key in [
        "position",
        "subject",
        "issuer",
        "sha256",
        "not_before",
        "not_after",
        "self_signed",
        "is_ca",
        "key",
        "signature_algorithm",
        "dns_names",
        "ip_addresses",
    ] {
        assert!(
            report["chain"][0].get(key).is_some(),
            "chain entry lacks {key}"
        );
    }
    for key in ["store", "trusted", "error"] {
        assert!(
            report["trust"][0].get(key).is_some(),
            "trust entry lacks {key}"
        );
    }
    for key in ["id", "severity", "certificate", "message", "remediation"] {
        assert!(
            report["findings"][0].get(key).is_some(),
            "finding lacks {key}"
        );
    }
    let stores: Vec<&str> = report["trust"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["store"].as_str().unwrap())
        .collect();
    assert_eq!(stores, ["system", "mozilla", "ca-file"]);
}

/// Every finding id the code can emit is documented in the schema doc.
#[test]
fn every_finding_id_is_documented() {
    let doc = std::fs::read_to_string("docs/json-schema.md").unwrap();
    for kind in certready::findings::CATALOG {
        assert!(
            doc.contains(&format!("`{}`", kind.id)),
            "docs/json-schema.md lacks {}",
            kind.id
        );
    }
}

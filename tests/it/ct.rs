//! Certificate Transparency against test CT logs: P-256 log keys listed in a `--ct-log-list`
//! file (two operators), SCTs they sign over the precertificate entry (RFC 6962 §3.2) of a
//! leaf then issued with those SCTs embedded, served on 127.0.0.1 under a root made
//! "public" with `--public-roots`. Valid, too few, a corrupted signature, an unknown log,
//! a log list too old to judge, and a private root that needs no CT.

use base64::Engine;
use certready::ct::{precert, sct};
use certready::lab::{self, Issued, Spec};
use rcgen::{KeyPair, PublicKeyData, SigningKey};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use crate::common::s_server::SServer;
use crate::common::*;

/// A test CT log: its key and operator.
struct TestLog {
    key: KeyPair,
    operator: &'static str,
    name: &'static str,
}

impl TestLog {
    fn new(operator: &'static str, name: &'static str) -> Self {
        TestLog {
            key: KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap(),
            operator,
            name,
        }
    }

    fn id(&self) -> [u8; 32] {
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &self.spki())
            .as_ref()
            .try_into()
            .unwrap()
    }

    fn spki(&self) -> Vec<u8> {
        self.key.subject_public_key_info()
    }

    /// An SCT over the precertificate entry (`tbs`, the issuer's key hash) at `at`.
    fn sign(&self, tbs: &[u8], issuer_key_hash: [u8; 32], at: OffsetDateTime) -> sct::Sct {
        self.sign_entry(
            &sct::Entry::Precertificate {
                issuer_key_hash,
                tbs,
            },
            at,
        )
    }

    /// An SCT over the certificate itself (the entry of an SCT delivered by OCSP or TLS).
    fn sign_certificate(&self, der: &[u8], at: OffsetDateTime) -> sct::Sct {
        self.sign_entry(&sct::Entry::Certificate(der), at)
    }

    fn sign_entry(&self, entry: &sct::Entry<'_>, at: OffsetDateTime) -> sct::Sct {
        let mut sct = sct::Sct {
            version: 0,
            log_id: self.id(),
            timestamp: (at.unix_timestamp() * 1000) as u64,
            extensions: Vec::new(),
            hash: 4,
            signature_algorithm: 3,
            signature: Vec::new(),
        };
        sct.signature = self.key.sign(&sct::signed_data(&sct, entry)).unwrap();
        sct
    }
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap()
}

/// A v3 log list holding `logs`, made at `made`.
fn log_list(logs: &[&TestLog], made: OffsetDateTime) -> String {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut operators: Vec<serde_json::Value> = Vec::new();
    for operator in ["Test Operator A", "Test Operator B"] {
        let entries: Vec<serde_json::Value> = logs
            .iter()
            .filter(|l| l.operator == operator)
            .map(|l| {
                serde_json::json!({
                    "description": l.name,
                    "log_id": b64.encode(l.id()),
                    "key": b64.encode(l.spki()),
                    "url": "https://ct.invalid/",
                    "mmd": 86400,
                    "state": { "usable": { "timestamp": "2024-01-01T00:00:00Z" } },
                })
            })
            .collect();
        operators.push(serde_json::json!({ "name": operator, "email": [], "logs": entries }));
    }
    serde_json::json!({
        "version": "test",
        "log_list_timestamp": rfc3339(made),
        "operators": operators,
    })
    .to_string()
}

/// A root, an intermediate, and a 90-day leaf for HOST embedding the SCTs `sign` makes
/// over its precertificate (`sign` gets the precertificate TBS and the issuer key hash).
struct CtPki {
    root: Issued,
    intermediate: Issued,
    leaf: Issued,
}

fn pki(sign: impl FnOnce(&[u8], [u8; 32]) -> Vec<sct::Sct>) -> CtPki {
    let root = lab::self_signed(&Spec::ca("CT Test Root CA")).unwrap();
    let intermediate = lab::issue(&Spec::ca("CT Test Issuing CA"), &root).unwrap();
    let leaf = leaf_with_scts(&intermediate, sign);
    CtPki {
        root,
        intermediate,
        leaf,
    }
}

/// A 90-day leaf for HOST from `intermediate`, embedding the SCTs `sign` makes over its
/// precertificate.
fn leaf_with_scts(
    intermediate: &Issued,
    sign: impl FnOnce(&[u8], [u8; 32]) -> Vec<sct::Sct>,
) -> Issued {
    let mut spec = Spec::leaf(HOST);
    // Fixed, so that both passes make the same TBS.
    spec.not_before = Some(
        (OffsetDateTime::now_utc() - Duration::days(1))
            .replace_nanosecond(0)
            .unwrap(),
    );
    let precert = lab::issue(&spec, intermediate).unwrap();
    let tbs = precert::tbs(&precert.der).unwrap().to_vec();
    let (_, issuer) = x509_parser::parse_x509_certificate(&intermediate.der).unwrap();
    let issuer_key_hash: [u8; 32] =
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, issuer.public_key().raw)
            .as_ref()
            .try_into()
            .unwrap();
    spec.sct_list = Some(sct::encode_list(&sign(&tbs, issuer_key_hash)));
    let leaf = lab::issue_with_key(&spec, precert.key_copy(), intermediate).unwrap();
    // The final certificate less its SCT list is the precertificate the logs signed.
    assert_eq!(precert::tbs_without_scts(&leaf.der).unwrap(), tbs);
    leaf
}

struct Logs {
    a1: TestLog,
    a2: TestLog,
    b1: TestLog,
    unlisted: TestLog,
}

fn logs() -> Logs {
    Logs {
        a1: TestLog::new("Test Operator A", "Test 'A1' log"),
        a2: TestLog::new("Test Operator A", "Test 'A2' log"),
        b1: TestLog::new("Test Operator B", "Test 'B1' log"),
        unlisted: TestLog::new("Test Operator B", "Test 'Unlisted' log"),
    }
}

fn an_hour_ago() -> OffsetDateTime {
    OffsetDateTime::now_utc() - Duration::hours(1)
}

/// Serves `pki` and checks it with the root as the public list, and the CT log list
/// `list` (JSON). Returns the run.
fn check_public(lab: &Lab, pki: &CtPki, list: &str) -> Run {
    check_public_with(lab, pki, list, &[])
}

/// As `check_public`, with more arguments.
fn check_public_with(lab: &Lab, pki: &CtPki, list: &str, more: &[&str]) -> Run {
    let server = lab.serve(&[&pki.leaf, &pki.intermediate], &pki.leaf);
    let public = lab.file("public-roots.pem", &pki.root.pem);
    let list = lab.file("log_list.json", list);
    // Public roots are in the OS store too.
    lab.trust_system(&pki.root);
    let mut args = vec![
        "--public-roots",
        path_str(&public),
        "--ct-log-list",
        path_str(&list),
        "--no-revocation",
    ];
    args.extend_from_slice(more);
    lab.check_json(server.addr, HOST, &args)
}

/// `list` with `edit` applied to the entry of the log described `name`.
fn edit_log(list: &str, name: &str, edit: impl Fn(&mut serde_json::Value)) -> String {
    let mut list: serde_json::Value = serde_json::from_str(list).unwrap();
    let mut found = false;
    for operator in list["operators"].as_array_mut().unwrap() {
        for log in operator["logs"].as_array_mut().unwrap() {
            if log["description"] == name {
                edit(log);
                found = true;
            }
        }
    }
    assert!(found, "{name} not in the list");
    list.to_string()
}

fn ct_ids(report: &json::Report) -> Vec<&str> {
    report
        .finding_ids()
        .into_iter()
        .filter(|id| id.starts_with("ct-"))
        .collect()
}

#[test]
fn three_valid_scts_from_two_operators_meet_both_policies() {
    let lab = Lab::new();
    let l = logs();
    let pki = pki(|tbs, hash| {
        [&l.a1, &l.b1, &l.a2]
            .iter()
            .map(|log| log.sign(tbs, hash, an_hour_ago()))
            .collect()
    });
    let list = log_list(&[&l.a1, &l.a2, &l.b1], OffsetDateTime::now_utc());
    let run = check_public(&lab, &pki, &list);
    let report = run.report();
    assert!(report.trusted_by("mozilla"), "{report:#?}");
    assert_eq!(ct_ids(&report), Vec::<&str>::new(), "{report:#?}");
    let ct = report.ct.as_ref().unwrap();
    assert!(ct.required && ct.log_list_current);
    assert_eq!(ct.position, 0);
    assert!(
        ct.log_list.contains("log_list.json (version test, "),
        "{}",
        ct.log_list
    );
    assert_eq!(ct.valid_scts, 3);
    assert!(ct
        .scts
        .iter()
        .all(|s| s.status == "valid" && s.origin == "embedded"));
    let first = &ct.scts[0];
    assert_eq!(first.log.as_deref(), Some("Test 'A1' log"));
    assert_eq!(first.operator.as_deref(), Some("Test Operator A"));
    assert_eq!(first.log_state.as_deref(), Some("usable"));
    assert_eq!(
        first.log_id,
        base64::engine::general_purpose::STANDARD.encode(l.a1.id())
    );
    assert!(first.timestamp.is_some());
    assert!(
        ct.chrome.reason.contains("3 embedded SCTs"),
        "{}",
        ct.chrome.reason
    );
    assert_eq!(ct.chrome.compliance, "compliant", "{:?}", ct.chrome);
    // Apple counts one SCT per operator for 180 days or less: A1 and B1.
    assert_eq!(
        (
            ct.apple.compliance.as_str(),
            ct.apple.counted,
            ct.apple.required
        ),
        ("compliant", 2, 2)
    );
    assert!(report.client("browser", "https").accepts, "{report:#?}");
    assert!(
        report.client("flytectl-macos", "oauth-http").accepts,
        "{report:#?}"
    );
    assert_eq!(run.code, 0, "{report:#?}");
}

#[test]
fn one_valid_sct_is_too_few_for_chrome_and_apple() {
    let lab = Lab::new();
    let l = logs();
    let pki = pki(|tbs, hash| vec![l.a1.sign(tbs, hash, an_hour_ago())]);
    let list = log_list(&[&l.a1, &l.a2, &l.b1], OffsetDateTime::now_utc());
    let run = check_public(&lab, &pki, &list);
    let report = run.report();
    assert_eq!(ct_ids(&report), ["ct-insufficient-scts"], "{report:#?}");
    let finding = report.finding("ct-insufficient-scts");
    assert_eq!(finding.severity, Severity::Critical);
    assert!(finding.message.contains("Chrome:"), "{}", finding.message);
    assert!(finding.message.contains("Apple"), "{}", finding.message);
    let browser = report.client("browser", "https");
    assert_eq!(
        browser.error.as_deref(),
        Some("NET::ERR_CERTIFICATE_TRANSPARENCY_REQUIRED")
    );
    assert_eq!(browser.causes, ["ct-insufficient-scts"]);
    let mac = report.client("flytectl-macos", "oauth-http");
    assert!(
        mac.error
            .as_deref()
            .unwrap()
            .ends_with("x509: “flyte.example.com” certificate is not standards compliant"),
        "{mac:?}"
    );
    assert_eq!(mac.causes, ["ct-insufficient-scts"]);
    // Go on Linux knows no CT.
    assert!(report.client("flytectl-linux", "oauth-http").accepts);
    assert_eq!(run.code, 2);
}

#[test]
fn an_sct_with_a_corrupted_signature_does_not_count() {
    let lab = Lab::new();
    let l = logs();
    let pki = pki(|tbs, hash| {
        let mut corrupted = l.a2.sign(tbs, hash, an_hour_ago());
        let last = corrupted.signature.len() - 1;
        corrupted.signature[last] ^= 0x01;
        vec![
            l.a1.sign(tbs, hash, an_hour_ago()),
            l.b1.sign(tbs, hash, an_hour_ago()),
            corrupted,
        ]
    });
    let list = log_list(&[&l.a1, &l.a2, &l.b1], OffsetDateTime::now_utc());
    let run = check_public(&lab, &pki, &list);
    let report = run.report();
    // Two valid SCTs from two operators still meet both policies for 90 days.
    assert_eq!(ct_ids(&report), ["ct-sct-invalid"], "{report:#?}");
    let finding = report.finding("ct-sct-invalid");
    assert_eq!(finding.severity, Severity::Warning);
    assert!(
        finding.message.contains("Test 'A2' log"),
        "{}",
        finding.message
    );
    let ct = report.ct.as_ref().unwrap();
    assert_eq!(ct.valid_scts, 2);
    assert_eq!(ct.scts[2].status, "invalid-signature");
    assert!(report.client("browser", "https").accepts);
    assert_eq!(run.code, 1);
}

#[test]
fn an_sct_from_an_unknown_log_does_not_count() {
    let lab = Lab::new();
    let l = logs();
    let pki = pki(|tbs, hash| {
        vec![
            l.a1.sign(tbs, hash, an_hour_ago()),
            l.unlisted.sign(tbs, hash, an_hour_ago()),
        ]
    });
    let list = log_list(&[&l.a1, &l.a2, &l.b1], OffsetDateTime::now_utc());
    let run = check_public(&lab, &pki, &list);
    let report = run.report();
    assert_eq!(
        ct_ids(&report),
        ["ct-insufficient-scts", "ct-unknown-log"],
        "{report:#?}"
    );
    assert_eq!(report.finding("ct-unknown-log").severity, Severity::Warning);
    let browser = report.client("browser", "https");
    assert_eq!(
        browser.causes,
        ["ct-insufficient-scts", "ct-unknown-log"],
        "{browser:?}"
    );
    assert_eq!(report.ct.as_ref().unwrap().scts[1].status, "unknown-log");
    assert_eq!(run.code, 2);

    // The same with a list made 200 days ago: the log may be newer than the list, so
    // certready claims no refusal and says so.
    let stale = log_list(
        &[&l.a1, &l.a2, &l.b1],
        OffsetDateTime::now_utc() - Duration::days(200),
    );
    let run = check_public(&lab, &pki, &stale);
    let report = run.report();
    assert_eq!(ct_ids(&report), ["ct-unknown-log"], "{report:#?}");
    let finding = report.finding("ct-unknown-log");
    assert_eq!(finding.severity, Severity::Info);
    assert!(
        finding.message.contains("--ct-log-list"),
        "{}",
        finding.message
    );
    let ct = report.ct.as_ref().unwrap();
    assert!(!ct.log_list_current);
    assert_eq!(ct.chrome.compliance, "undetermined");
    assert!(report.client("browser", "https").accepts);
    assert_eq!(run.code, 0, "{report:#?}");
}

#[test]
fn a_test_log_of_an_all_logs_list_is_named_and_not_counted() {
    let lab = Lab::new();
    let l = logs();
    let pki = pki(|tbs, hash| {
        [&l.a1, &l.b1]
            .iter()
            .map(|log| log.sign(tbs, hash, an_hour_ago()))
            .collect()
    });
    // Google's all_logs_list.json form: `is_all_logs`, and a test log without a state.
    let list = log_list(&[&l.a1, &l.b1], OffsetDateTime::now_utc());
    let mut list = edit_log(&list, "Test 'B1' log", |log| {
        log.as_object_mut().unwrap().remove("state");
        log["log_type"] = "test".into();
    });
    list = list.replacen('{', "{\"is_all_logs\":true,", 1);
    let run = check_public(&lab, &pki, &list);
    let report = run.report();
    let ct = report.ct.as_ref().unwrap();
    let b1 = &ct.scts[1];
    assert_eq!(b1.log.as_deref(), Some("Test 'B1' log"));
    assert_eq!(b1.log_type.as_deref(), Some("test"));
    assert_eq!(b1.log_state, None);
    assert_eq!(
        (b1.status.as_str(), b1.apple_status.as_str()),
        ("unknown-log", "unknown-log")
    );
    assert_eq!(ct.valid_scts, 1);
    assert_eq!(ct.chrome.compliance, "not-compliant", "{:?}", ct.chrome);
    let finding = report.finding("ct-unknown-log");
    assert_eq!(finding.severity, Severity::Warning);
    assert!(
        finding
            .message
            .contains("Test 'B1' log (a test log, not a production log; embedded)"),
        "{}",
        finding.message
    );
    assert!(!report.client("browser", "https").accepts, "{report:#?}");
}

#[test]
fn chrome_counts_the_operator_that_ran_the_log_when_it_signed() {
    let lab = Lab::new();
    let l = logs();
    let pki = pki(|tbs, hash| {
        [&l.a1, &l.b1]
            .iter()
            .map(|log| log.sign(tbs, hash, an_hour_ago()))
            .collect()
    });
    let list = log_list(&[&l.a1, &l.b1], OffsetDateTime::now_utc());
    // B1 was operator A's until after its SCT: Chrome sees one operator.
    let handed_over = |end: OffsetDateTime| {
        edit_log(&list, "Test 'B1' log", |log| {
            log["previous_operators"] =
                serde_json::json!([{ "name": "Test Operator A", "end_time": rfc3339(end) }]);
        })
    };
    let later = handed_over(OffsetDateTime::now_utc() + Duration::days(1));
    let report = check_public(&lab, &pki, &later).report();
    let ct = report.ct.as_ref().unwrap();
    assert_eq!(ct.chrome.compliance, "not-compliant", "{:?}", ct.chrome);
    assert!(
        ct.chrome
            .reason
            .contains("one log operator (Test Operator A)"),
        "{}",
        ct.chrome.reason
    );
    assert!(!report.client("browser", "https").accepts);
    // Handed over before the SCT: two operators.
    let earlier = handed_over(an_hour_ago() - Duration::days(1));
    let report = check_public(&lab, &pki, &earlier).report();
    assert_eq!(report.ct.as_ref().unwrap().chrome.compliance, "compliant");
    assert!(report.client("browser", "https").accepts, "{report:#?}");
}

#[test]
fn apple_is_judged_by_its_own_list() {
    let lab = Lab::new();
    let l = logs();
    let pki = pki(|tbs, hash| {
        [&l.a1, &l.b1]
            .iter()
            .map(|log| log.sign(tbs, hash, an_hour_ago()))
            .collect()
    });
    let list = log_list(&[&l.a1, &l.b1], OffsetDateTime::now_utc());
    // Apple's form: no log_list_timestamp, versioned states, tls_only; B1 rejected there.
    let rejected = rfc3339(OffsetDateTime::now_utc() - Duration::days(2));
    let apple = edit_log(&list, "Test 'B1' log", |log| {
        log["state"] =
            serde_json::json!({ "rejected": { "timestamp": rejected, "version": "12" } });
        log["tls_only"] = true.into();
    });
    let mut apple: serde_json::Value = serde_json::from_str(&apple).unwrap();
    let object = apple.as_object_mut().unwrap();
    object.remove("log_list_timestamp");
    object.insert("assetVersion".into(), 32.into());
    object.insert("version".into(), "12".into());
    let apple = lab.file("apple_log_list.json", apple.to_string());
    let run = check_public_with(
        &lab,
        &pki,
        &list,
        &["--apple-ct-log-list", path_str(&apple)],
    );
    let report = run.report();
    let ct = report.ct.as_ref().unwrap();
    assert!(
        ct.apple_log_list
            .contains("apple_log_list.json (version 12, undated, newest entry "),
        "{}",
        ct.apple_log_list
    );
    // Dated by its newest state change, two days ago: current.
    assert!(ct.apple_log_list_current && ct.log_list_current);
    let b1 = &ct.scts[1];
    assert_eq!(
        (b1.status.as_str(), b1.log_state.as_deref()),
        ("valid", Some("usable"))
    );
    assert_eq!(
        (b1.apple_status.as_str(), b1.apple_log_state.as_deref()),
        ("unknown-log", Some("rejected"))
    );
    assert_eq!(ct.chrome.compliance, "compliant", "{:?}", ct.chrome);
    assert_eq!(
        (ct.apple.compliance.as_str(), ct.apple.counted),
        ("not-compliant", 1)
    );
    assert!(report.client("browser", "https").accepts, "{report:#?}");
    assert!(!report.client("flytectl-macos", "oauth-http").accepts);
    let finding = report.finding("ct-unknown-log");
    assert!(
        finding
            .message
            .contains("Test 'B1' log (Apple's list: rejected; embedded)"),
        "{}",
        finding.message
    );
    // Without --apple-ct-log-list, --ct-log-list judges Apple too.
    let report = check_public(&lab, &pki, &list).report();
    let ct = report.ct.as_ref().unwrap();
    assert_eq!(ct.apple_log_list, ct.log_list);
    assert_eq!(ct.apple.compliance, "compliant", "{:?}", ct.apple);
    // A damaged Apple list is a usage error named by its option.
    assert_bad_list_is_a_usage_error(&lab, "--apple-ct-log-list");
}

#[test]
fn a_pending_log_counts_for_nothing_but_may_have_qualified_since_a_stale_list() {
    let lab = Lab::new();
    let l = logs();
    let pki = pki(|tbs, hash| {
        [&l.a1, &l.b1]
            .iter()
            .map(|log| log.sign(tbs, hash, an_hour_ago()))
            .collect()
    });
    let pending = |made| {
        edit_log(&log_list(&[&l.a1, &l.b1], made), "Test 'B1' log", |log| {
            log["state"] =
                serde_json::json!({ "pending": { "timestamp": "2024-01-01T00:00:00Z" } });
        })
    };
    let report = check_public(&lab, &pki, &pending(OffsetDateTime::now_utc())).report();
    let ct = report.ct.as_ref().unwrap();
    assert_eq!(ct.scts[1].log_state.as_deref(), Some("pending"));
    assert_eq!(ct.scts[1].status, "unknown-log");
    assert_eq!(ct.chrome.compliance, "not-compliant", "{:?}", ct.chrome);
    let finding = report.finding("ct-unknown-log");
    assert_eq!(finding.severity, Severity::Warning);
    assert!(
        finding
            .message
            .contains("Test 'B1' log (pending; embedded)"),
        "{}",
        finding.message
    );
    // A list 200 days old: the log may be usable by now, and its key verifies the SCT.
    let stale = pending(OffsetDateTime::now_utc() - Duration::days(200));
    let report = check_public(&lab, &pki, &stale).report();
    let ct = report.ct.as_ref().unwrap();
    assert_eq!(ct.chrome.compliance, "undetermined", "{:?}", ct.chrome);
    assert_eq!(ct.apple.compliance, "undetermined", "{:?}", ct.apple);
    assert_eq!(report.finding("ct-unknown-log").severity, Severity::Info);
    assert!(report.client("browser", "https").accepts, "{report:#?}");
}

#[test]
fn a_private_root_needs_no_ct() {
    let lab = Lab::new();
    let l = logs();
    let pki = pki(|tbs, hash| vec![l.a1.sign(tbs, hash, an_hour_ago())]);
    let server = lab.serve(&[&pki.leaf, &pki.intermediate], &pki.leaf);
    let root = lab.file("root.pem", &pki.root.pem);
    let list = lab.file(
        "log_list.json",
        log_list(&[&l.a1, &l.b1], OffsetDateTime::now_utc()),
    );
    let run = lab.check_json(
        server.addr,
        HOST,
        &[
            "--ca-file",
            path_str(&root),
            "--ct-log-list",
            path_str(&list),
            "--no-revocation",
        ],
    );
    let report = run.report();
    assert_eq!(ct_ids(&report), Vec::<&str>::new(), "{report:#?}");
    let ct = report.ct.as_ref().unwrap();
    assert!(!ct.required);
    assert_eq!(ct.valid_scts, 1);
    assert!(report.client("browser", "https").accepts, "{report:#?}");
    assert!(
        report.client("flytectl-macos", "oauth-http").accepts,
        "{report:#?}"
    );
    assert_eq!(run.code, 0, "{report:#?}");
}

/// A list that is not one, given with `option`, is a usage error (exit 3) naming it.
fn assert_bad_list_is_a_usage_error(lab: &Lab, option: &str) {
    let list = lab.file("bad-list.json", "{\"operators\": 1}");
    let run = lab.run(&["inspect", "testdata/aia-leaf.pem", option, path_str(&list)]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains(option), "{}", run.stderr);
}

#[test]
fn a_bad_log_list_is_a_usage_error() {
    assert_bad_list_is_a_usage_error(&Lab::new(), "--ct-log-list");
}

#[test]
fn text_markdown_and_metrics_report_the_scts() {
    let lab = Lab::new();
    let l = logs();
    let pki = pki(|tbs, hash| vec![l.a1.sign(tbs, hash, an_hour_ago())]);
    let server = lab.serve(&[&pki.leaf, &pki.intermediate], &pki.leaf);
    let public = lab.file("public-roots.pem", &pki.root.pem);
    let list = lab.file(
        "log_list.json",
        log_list(&[&l.a1, &l.b1], OffsetDateTime::now_utc()),
    );
    lab.trust_system(&pki.root);
    let args = |format: &'static str| {
        vec![
            "--public-roots".to_string(),
            path_str(&public).to_string(),
            "--ct-log-list".to_string(),
            path_str(&list).to_string(),
            "--no-revocation".to_string(),
            "--format".to_string(),
            format.to_string(),
        ]
    };
    let run = |format| {
        let args = args(format);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        lab.check(server.addr, HOST, &args)
    };
    let text = run("text").stdout;
    assert!(text.contains("Certificate Transparency"), "{text}");
    assert!(text.contains("#0 1 SCT, 1 valid"), "{text}");
    assert!(text.contains("Chrome: fails its policy"), "{text}");
    let markdown = run("markdown").stdout;
    assert!(markdown.contains("Certificate Transparency:"), "{markdown}");
    let metrics = run("prometheus").stdout;
    let target = format!("{HOST}:{}", server.addr.port());
    assert!(
        metrics.contains(&format!(
            "certready_ct_valid_scts{{target=\"{target}\",position=\"0\"}} 1"
        )),
        "{metrics}"
    );
}

/// A good OCSP response about `leaf`, signed by its issuer, carrying `sct_list` in the
/// SingleResponse's SCT extension (1.3.6.1.4.1.11129.2.4.5) — what a CA's responder
/// returns for certificates issued without embedded SCTs. Built by hand: `openssl ocsp`
/// cannot add the extension.
fn ocsp_with_scts(leaf: &Issued, issuer: &Issued, sct_list: &[u8]) -> Vec<u8> {
    use der::asn1::{BitString, GeneralizedTime, Null, OctetString};
    use der::{Decode, Encode};
    use x509_cert::ext::Extension;
    use x509_cert::serial_number::SerialNumber;
    use x509_cert::spki::AlgorithmIdentifierOwned;
    use x509_ocsp::{
        BasicOcspResponse, CertId, CertStatus, OcspResponse, OcspResponseStatus, ResponderId,
        ResponseBytes, ResponseData, SingleResponse,
    };
    let sha1 = |data: &[u8]| {
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, data)
            .as_ref()
            .to_vec()
    };
    let (_, leaf_cert) = x509_parser::parse_x509_certificate(&leaf.der).unwrap();
    let (_, issuer_cert) = x509_parser::parse_x509_certificate(&issuer.der).unwrap();
    let issuer_key = issuer_cert.public_key().subject_public_key.data.to_vec();
    let time = |t: OffsetDateTime| {
        let since = std::time::Duration::from_secs(t.unix_timestamp() as u64);
        GeneralizedTime::from_unix_duration(since).unwrap().into()
    };
    let now = OffsetDateTime::now_utc() - Duration::minutes(1);
    // The extension's value is the list as an OCTET STRING (RFC 6962 §3.3).
    let extension_value = OctetString::new(sct_list).unwrap().to_der().unwrap();
    let data = ResponseData {
        version: Default::default(),
        responder_id: ResponderId::ByKey(OctetString::new(sha1(&issuer_key)).unwrap()),
        produced_at: time(now),
        responses: vec![SingleResponse {
            cert_id: CertId {
                hash_algorithm: AlgorithmIdentifierOwned {
                    oid: der::oid::ObjectIdentifier::new_unwrap("1.3.14.3.2.26"),
                    parameters: Some(Null.into()),
                },
                issuer_name_hash: OctetString::new(sha1(leaf_cert.issuer().as_raw())).unwrap(),
                issuer_key_hash: OctetString::new(sha1(&issuer_key)).unwrap(),
                serial_number: SerialNumber::new(leaf_cert.raw_serial()).unwrap(),
            },
            cert_status: CertStatus::good(),
            this_update: time(now),
            next_update: Some(time(now + Duration::days(1))),
            single_extensions: Some(vec![Extension {
                extn_id: der::oid::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.11129.2.4.5"),
                critical: false,
                extn_value: OctetString::new(extension_value).unwrap(),
            }]),
        }],
        response_extensions: None,
    };
    let signature = issuer.key.sign(&data.to_der().unwrap()).unwrap();
    let basic = BasicOcspResponse {
        tbs_response_data: data,
        signature_algorithm: AlgorithmIdentifierOwned {
            oid: der::oid::ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2"),
            parameters: None,
        },
        signature: BitString::from_bytes(&signature).unwrap(),
        certs: None,
    };
    let response = OcspResponse {
        response_status: OcspResponseStatus::Successful,
        response_bytes: Some(ResponseBytes {
            response_type: der::oid::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.1"),
            response: OctetString::new(basic.to_der().unwrap()).unwrap(),
        }),
    }
    .to_der()
    .unwrap();
    // It is a response certready's own OCSP judge accepts (signature and CertID).
    assert!(OcspResponse::from_der(&response).is_ok());
    response
}

/// SCTs delivered in the stapled OCSP response, none embedded: certready verifies and
/// reports them, but no client counts them. Chromium 156 ignores them (feature
/// CertificateTransparencyIgnoreOcspScts; `chromium_agrees_on_certificate_transparency`
/// shows it), and Go hands trustd no staple, so for flytectl on macOS the certificate has
/// no SCTs and is "not standards compliant".
#[test]
fn scts_in_a_stapled_ocsp_response_are_verified_but_count_for_no_client() {
    let case = handshake_case();
    let staple = ocsp_with_scts(&case.leaf, &case.intermediate, &case.sct_list);
    let server = case
        .lab
        .rt
        .block_on(lab::serve_stapling(
            vec![case.leaf.der.clone(), case.intermediate.der.clone()],
            case.leaf.key_der(),
            &[b"h2", b"http/1.1"],
            staple,
        ))
        .unwrap();
    let run = case.check(server.addr);
    let report = run.report();
    let ct = report.ct.as_ref().unwrap();
    assert_eq!(ct.valid_scts, 2, "{ct:#?}");
    assert!(
        ct.scts
            .iter()
            .all(|s| s.origin == "ocsp" && s.status == "valid"),
        "{ct:#?}"
    );
    assert_eq!(ct.chrome.compliance, "not-compliant", "{:?}", ct.chrome);
    let browser = report.client("browser", "https");
    assert_eq!(
        browser.error.as_deref(),
        Some("NET::ERR_CERTIFICATE_TRANSPARENCY_REQUIRED"),
        "{report:#?}"
    );
    assert_eq!(
        report.revocation[0].status, "good",
        "the staple is a good OCSP answer too"
    );
    let macos = report.client("flytectl-macos", "oauth-http");
    assert!(!macos.accepts, "{report:#?}");
    assert!(
        macos
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("not standards compliant"),
        "{:?}",
        macos.error
    );
}

/// `openssl s_server` on 127.0.0.1 serving `leaf` and `intermediate`, with `extra`.
fn s_server(lab: &Lab, leaf: &Issued, intermediate: &Issued, extra: &[&str]) -> SServer {
    let cert = lab.file("leaf.pem", &leaf.pem);
    let key = lab.file("leaf.key", leaf.key_pem());
    let chain = lab.file("chain.pem", &intermediate.pem);
    let mut args = vec!["-www", "-cert", path_str(&cert), "-key", path_str(&key)];
    args.extend(["-cert_chain", path_str(&chain)]);
    args.extend_from_slice(extra);
    SServer::start(&args)
}

/// An OpenSSL serverinfo file delivering `sct_list` in the TLS extension (type 18): in a
/// TLS 1.2 ServerHello and in TLS 1.3's Certificate entry — what Apache's mod_ssl_ct or
/// an nginx CT module configure. SERVERINFOV2: a context (ClientHello, TLS 1.2
/// ServerHello, TLS 1.3 Certificate, ignored on resumption), then type, length, data.
fn serverinfo(sct_list: &[u8]) -> String {
    const CONTEXT: u32 = 0x0080 | 0x0100 | 0x1000 | 0x0040;
    let mut block = CONTEXT.to_be_bytes().to_vec();
    block.extend_from_slice(&[0, 18]);
    block.extend_from_slice(&(sct_list.len() as u16).to_be_bytes());
    block.extend_from_slice(sct_list);
    let b64 = base64::engine::general_purpose::STANDARD.encode(&block);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN SERVERINFOV2 FOR signed_certificate_timestamp-----\n{}\n-----END SERVERINFOV2 FOR signed_certificate_timestamp-----\n",
        lines.join("\n")
    )
}

/// A leaf without embedded SCTs, and two SCTs over it from two operators, for delivery in
/// the handshake (stapled OCSP or the TLS extension).
struct HandshakeCase {
    lab: Lab,
    root: Issued,
    intermediate: Issued,
    leaf: Issued,
    sct_list: Vec<u8>,
    list: String,
}

fn handshake_case() -> HandshakeCase {
    let lab = Lab::new();
    let l = logs();
    let root = lab::self_signed(&Spec::ca("CT Handshake Test Root CA")).unwrap();
    let intermediate = lab::issue(&Spec::ca("CT Handshake Test Issuing CA"), &root).unwrap();
    let leaf = lab::issue(&Spec::leaf(HOST), &intermediate).unwrap();
    let scts: Vec<sct::Sct> = [&l.a1, &l.b1]
        .iter()
        .map(|log| log.sign_certificate(&leaf.der, an_hour_ago()))
        .collect();
    HandshakeCase {
        list: log_list(&[&l.a1, &l.a2, &l.b1], OffsetDateTime::now_utc()),
        lab,
        root,
        intermediate,
        leaf,
        sct_list: sct::encode_list(&scts),
    }
}

impl HandshakeCase {
    fn check(&self, server: std::net::SocketAddr) -> Run {
        let public = self.lab.file("public-roots.pem", &self.root.pem);
        let list = self.lab.file("log_list.json", &self.list);
        self.lab.trust_system(&self.root);
        self.lab.check_json(
            server,
            HOST,
            &[
                "--public-roots",
                path_str(&public),
                "--ct-log-list",
                path_str(&list),
                "--no-revocation",
            ],
        )
    }
}

/// SCTs in the TLS extension, none embedded (OpenSSL's serverinfo, over TLS 1.2): the
/// probe asks for them with a second ClientHello; Chrome counts them, flytectl on macOS
/// does not (Go hands trustd no TLS SCTs).
#[test]
fn scts_in_the_tls_extension_count_for_chrome_only() {
    let case = handshake_case();
    let info = case.lab.file("serverinfo.pem", serverinfo(&case.sct_list));
    let server = s_server(
        &case.lab,
        &case.leaf,
        &case.intermediate,
        &["-serverinfo", path_str(&info)],
    );
    let run = case.check(server.addr());
    let report = run.report();
    let ct = report.ct.as_ref().unwrap();
    assert_eq!(ct.tls_extension, "delivered", "{ct:#?}");
    assert_eq!(ct.valid_scts, 2, "{ct:#?}");
    assert!(
        ct.scts
            .iter()
            .all(|s| s.origin == "tls" && s.status == "valid"),
        "{ct:#?}"
    );
    assert_eq!(ct.chrome.compliance, "compliant", "{:?}", ct.chrome);
    assert!(
        ct.chrome.reason.contains("TLS extension"),
        "{:?}",
        ct.chrome
    );
    assert!(report.client("browser", "https").accepts, "{report:#?}");
    assert_eq!(ct.apple.compliance, "not-compliant", "{:?}", ct.apple);
    assert!(!report.client("flytectl-macos", "oauth-http").accepts);
    assert!(ct_ids(&report).contains(&"ct-insufficient-scts"));
}

/// The same server without serverinfo: asked, and nothing came; Chrome fails the leaf.
#[test]
fn a_server_without_tls_scts_is_asked_and_fails_chrome() {
    let case = handshake_case();
    let server = s_server(&case.lab, &case.leaf, &case.intermediate, &[]);
    let report = case.check(server.addr()).report();
    let ct = report.ct.as_ref().unwrap();
    assert_eq!(ct.tls_extension, "absent", "{ct:#?}");
    assert_eq!(ct.tls_extension_note, None);
    assert!(ct.scts.is_empty(), "{ct:#?}");
    assert_eq!(ct.chrome.compliance, "not-compliant", "{:?}", ct.chrome);
    let browser = report.client("browser", "https");
    assert!(!browser.accepts);
    assert!(
        browser
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("ERR_CERTIFICATE_TRANSPARENCY_REQUIRED"),
        "{browser:?}"
    );
}

/// A TLS 1.3-only server cannot be asked (its SCT extension would be encrypted): certready
/// says so, and Chrome's verdict stays open instead of failing on SCTs it could not see.
#[test]
fn a_tls13_only_server_leaves_chrome_undetermined() {
    let case = handshake_case();
    let info = case.lab.file("serverinfo.pem", serverinfo(&case.sct_list));
    let server = s_server(
        &case.lab,
        &case.leaf,
        &case.intermediate,
        &["-tls1_3", "-serverinfo", path_str(&info)],
    );
    let run = case.check(server.addr());
    let report = run.report();
    let ct = report.ct.as_ref().unwrap();
    assert_eq!(ct.tls_extension, "unavailable", "{ct:#?}");
    assert!(
        ct.tls_extension_note
            .as_deref()
            .unwrap_or_default()
            .contains("TLS 1.3"),
        "{ct:#?}"
    );
    assert_eq!(ct.chrome.compliance, "undetermined", "{:?}", ct.chrome);
    // Not known to fail: the browser verdict does not claim a CT error it cannot see.
    assert!(report.client("browser", "https").accepts, "{report:#?}");
    let public = case.lab.file("public-roots.pem", &case.root.pem);
    let list = case.lab.file("log_list.json", &case.list);
    let text = case.lab.check(
        server.addr(),
        HOST,
        &[
            "--public-roots",
            path_str(&public),
            "--ct-log-list",
            path_str(&list),
            "--no-revocation",
        ],
    );
    assert!(
        text.stdout.contains("SCTs in the TLS extension not seen"),
        "{}",
        text.stdout
    );
}

/// The browser verdicts above against a real headless Chromium. Chromium enforces CT only
/// for a root of its Chrome Root Store and counts SCTs only from the logs of its own list;
/// the driver (tests/clients/chromebatch.py, `--public-roots`, `--ct-log-list`) installs
/// both in the profile as the "PKI Metadata" component the component updater would have
/// delivered, so the test root is a known root and the test logs are Chrome's logs. One
/// root and issuing CA for every case (the driver's one browser looks issuers up by name).
#[test]
fn chromium_agrees_on_certificate_transparency() {
    use crate::differential::browser::{agrees, chromium_available, serve_https_stapling};
    use crate::differential::clients::{request_lines, run_batch, Request};
    if !chromium_available() {
        crate::differential::missing(
            "Chromium and certutil",
            "apt-get install chromium libnss3-tools",
        );
        return;
    }
    let lab = Lab::new();
    let l = logs();
    let root = lab::self_signed(&Spec::ca("CT Chromium Test Root CA")).unwrap();
    let intermediate = lab::issue(&Spec::ca("CT Chromium Test Issuing CA"), &root).unwrap();
    let embedded = |logs: &[&TestLog], corrupt: Option<usize>| {
        leaf_with_scts(&intermediate, |tbs, hash| {
            let mut scts: Vec<sct::Sct> = logs
                .iter()
                .map(|log| log.sign(tbs, hash, an_hour_ago()))
                .collect();
            if let Some(n) = corrupt {
                let last = scts[n].signature.len() - 1;
                scts[n].signature[last] ^= 0x01;
            }
            scts
        })
    };
    let three = embedded(&[&l.a1, &l.b1, &l.a2], None);
    let one = embedded(&[&l.a1], None);
    // Counted, the corrupted SCT would make two operators: only a verifier that checks
    // the signature refuses.
    let corrupted = embedded(&[&l.a1, &l.b1], Some(1));
    let none = lab::issue(&Spec::leaf(HOST), &intermediate).unwrap();
    let stapled_leaf = lab::issue(&Spec::leaf(HOST), &intermediate).unwrap();
    let ocsp_scts: Vec<sct::Sct> = [&l.a1, &l.b1]
        .iter()
        .map(|log| log.sign_certificate(&stapled_leaf.der, an_hour_ago()))
        .collect();
    let staple = ocsp_with_scts(&stapled_leaf, &intermediate, &sct::encode_list(&ocsp_scts));
    // SCTs in the TLS extension (OpenSSL serverinfo): Chromium speaks TLS 1.3 and finds
    // them in the Certificate entry; certready asks over TLS 1.2 (both versions), or
    // cannot ask (TLS 1.3 only) and leaves the verdict open.
    let tls_leaf = lab::issue(&Spec::leaf(HOST), &intermediate).unwrap();
    let tls_scts: Vec<sct::Sct> = [&l.a1, &l.b1]
        .iter()
        .map(|log| log.sign_certificate(&tls_leaf.der, an_hour_ago()))
        .collect();
    let info = lab.file("serverinfo.pem", serverinfo(&sct::encode_list(&tls_scts)));
    // Two logs of one operator: too few operators, wherever the SCTs come from.
    let one_operator: Vec<sct::Sct> = [&l.a1, &l.a2]
        .iter()
        .map(|log| log.sign_certificate(&tls_leaf.der, an_hour_ago()))
        .collect();
    let one_operator = lab.file(
        "serverinfo-one-operator.pem",
        serverinfo(&sct::encode_list(&one_operator)),
    );
    let tls_servers = [
        (
            "scts-in-tls-extension",
            s_server(
                &lab,
                &tls_leaf,
                &intermediate,
                &["-serverinfo", path_str(&info)],
            ),
        ),
        (
            "one-operator-in-tls-extension",
            s_server(
                &lab,
                &tls_leaf,
                &intermediate,
                &["-serverinfo", path_str(&one_operator)],
            ),
        ),
        (
            "scts-in-tls-extension-tls13-only",
            s_server(
                &lab,
                &tls_leaf,
                &intermediate,
                &["-tls1_3", "-serverinfo", path_str(&info)],
            ),
        ),
    ];
    // A private root (the user's, not Chrome's) needs no CT.
    let private_root = lab::self_signed(&Spec::ca("CT Chromium Private Root CA")).unwrap();
    let private_leaf = lab::issue(&Spec::leaf(HOST), &private_root).unwrap();

    let public = lab.file("public-roots.pem", &root.pem);
    let list = lab.file(
        "log_list.json",
        log_list(&[&l.a1, &l.a2, &l.b1], OffsetDateTime::now_utc()),
    );
    let no_ca = lab.file("no-ca.pem", "");
    let private_ca = lab.file("private-ca.pem", &private_root.pem);
    lab.trust_system(&root);
    let serve = |leaf: &Issued, issuer: Option<&Issued>, staple: Option<Vec<u8>>| {
        let mut chain = vec![leaf.der.clone()];
        chain.extend(issuer.map(|i| i.der.clone()));
        lab.rt
            .block_on(serve_https_stapling(chain, leaf.key_der(), staple))
            .unwrap()
    };
    // The driver loads the probe until Chromium accepts it, i.e. until the component is
    // in effect; it is not compared.
    let probe = "ready-probe";
    let cases = [
        (probe, serve(&three, Some(&intermediate), None), &no_ca),
        (
            "three-scts-two-operators",
            serve(&three, Some(&intermediate), None),
            &no_ca,
        ),
        ("one-sct", serve(&one, Some(&intermediate), None), &no_ca),
        (
            "corrupted-signature",
            serve(&corrupted, Some(&intermediate), None),
            &no_ca,
        ),
        ("no-scts", serve(&none, Some(&intermediate), None), &no_ca),
        (
            "scts-in-stapled-ocsp",
            serve(&stapled_leaf, Some(&intermediate), Some(staple)),
            &no_ca,
        ),
        (
            "private-root-no-scts",
            serve(&private_leaf, None, None),
            &private_ca,
        ),
    ];
    let targets: Vec<(&str, std::net::SocketAddr, &std::path::PathBuf)> = cases
        .iter()
        .map(|(id, server, ca)| (*id, server.addr, *ca))
        .chain(
            tls_servers
                .iter()
                .map(|(id, server)| (*id, server.addr(), &no_ca)),
        )
        .collect();
    let addrs: Vec<String> = targets.iter().map(|(_, a, _)| a.to_string()).collect();
    let requests: Vec<Request<'_>> = targets
        .iter()
        .zip(&addrs)
        .map(|((id, _, ca_file), addr)| Request {
            id,
            addr: addr.clone(),
            server_name: HOST,
            ca_file,
        })
        .collect();
    let mut chromium = std::process::Command::new("python3");
    chromium.args([
        "tests/clients/chromebatch.py",
        "--public-roots",
        path_str(&public),
        "--ct-log-list",
        path_str(&list),
        "--ready-probe",
        probe,
    ]);
    let answers = run_batch(
        "chromium",
        chromium,
        request_lines(&requests),
        std::time::Duration::from_secs(120),
    )
    .expect("the Chromium driver runs");
    let mut disagreements = Vec::new();
    let mut tls_extension = std::collections::HashMap::new();
    for (id, addr, ca_file) in targets.iter().filter(|(id, _, _)| *id != probe) {
        let mut args = vec![
            "--public-roots",
            path_str(&public),
            "--ct-log-list",
            path_str(&list),
            "--no-revocation",
            "--client",
            "browser",
        ];
        if *ca_file == &private_ca {
            args.extend(["--ca-file", path_str(&private_ca)]);
        }
        let report = lab.check_json(*addr, HOST, &args).report();
        let ct = report.ct.as_ref().unwrap();
        tls_extension.insert(
            *id,
            (ct.tls_extension.clone(), ct.chrome.compliance.clone()),
        );
        let predicted = report.client("browser", "https");
        let said = predicted.error.clone().unwrap_or_else(|| "OK".into());
        let real = &answers[*id].result;
        eprintln!("{id}: Chromium {real}, certready {said}");
        if !agrees(real, predicted.accepts, &said) {
            disagreements.push(format!("{id}: Chromium {real}, certready {said}"));
        }
    }
    assert!(disagreements.is_empty(), "{disagreements:#?}");
    // The comparison can fail: Chromium really enforced CT on the test root and logs.
    assert_eq!(
        answers["one-sct"].result,
        "net::ERR_CERTIFICATE_TRANSPARENCY_REQUIRED"
    );
    assert_eq!(answers["three-scts-two-operators"].result, "OK");
    // Agreement on the TLS-extension cases is not luck: certready saw the SCTs over TLS
    // 1.2, and knew it could not over TLS 1.3 alone.
    assert_eq!(
        tls_extension["scts-in-tls-extension"],
        ("delivered".to_string(), "compliant".to_string())
    );
    assert_eq!(
        tls_extension["one-operator-in-tls-extension"],
        ("delivered".to_string(), "not-compliant".to_string())
    );
    assert_eq!(
        tls_extension["scts-in-tls-extension-tls13-only"],
        ("unavailable".to_string(), "undetermined".to_string())
    );
}

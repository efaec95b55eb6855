//! `inspect` on a trust bundle (many self-signed CAs, no leaf): named as such, with its
//! expired and weak roots listed, instead of a CRITICAL "self-signed server certificate".

use crate::common::json::Status;
use crate::common::*;
use certready::lab::{self, Spec};

#[test]
fn a_bundle_of_roots_is_named_and_its_expired_and_weak_roots_listed() {
    let lab = Lab::new();
    let current = lab::self_signed(&Spec::ca("Current Root")).unwrap();
    let mut old = Spec::ca("Old Root");
    old.starts_in_days = -4000;
    old.lifetime_days = 3650;
    let expired = lab::self_signed(&old).unwrap();
    let weak = std::fs::read_to_string("testdata/rsa1024-root.pem").unwrap();
    let bundle = lab.file(
        "ca-certificates.crt",
        format!("{}{}{weak}", current.pem, expired.pem),
    );
    let run = lab.run(&["inspect", path_str(&bundle), "--format", "json"]);
    let report = run.report();
    assert_eq!(run.code, 1, "{report:#?}");
    assert_eq!(report.status, Status::Warning);
    assert_eq!(
        report.finding_ids(),
        ["bundle-root-expired", "bundle-root-weak", "trust-bundle"],
        "{report:#?}"
    );
    assert_eq!(report.finding("bundle-root-expired").certificate, Some(1));
    assert_eq!(report.finding("bundle-root-weak").certificate, Some(2));
    assert!(report
        .finding("trust-bundle")
        .message
        .contains("holds 3 self-signed CA certificates"));
}

#[test]
fn a_chain_with_a_leaf_is_still_judged_as_a_chain() {
    let lab = Lab::new();
    let pki = Pki::new();
    let file = lab.file(
        "fullchain.pem",
        format!("{}{}{}", pki.leaf.pem, pki.intermediate.pem, pki.root.pem),
    );
    let run = lab.run(&["inspect", path_str(&file), "--format", "json"]);
    let report = run.report();
    assert!(
        !report.finding_ids().contains(&"trust-bundle"),
        "{report:#?}"
    );
    assert!(!report.chain.is_empty());
}

//! Engine unit tests: which of several failures trustd reports and on which certificate,
//! Apple's host-name matching, and the CT month count.

use super::checks::{dns_match, reported, Check, Detail};
use super::*;
use crate::lab::{self, Issued, Spec};

fn detail(check: Check, cert: usize) -> Detail {
    Detail { check, cert }
}

#[test]
fn the_lowest_subtype_wins_whatever_the_certificate() {
    // SecTrustCopyErrorStrings: `simpleErrorSubType > checkmap[...].type` keeps the lowest
    // SecTrustErrorSubType: KeySize < WeakHash < Compliance < Trust < Usage < Name < Expired.
    let details = [
        detail(Check::TemporalValidity, 0),
        detail(Check::SslHostname, 0),
        detail(Check::ServerAuthEku, 0),
        detail(Check::MissingIntermediate, 1),
        detail(Check::ValidityPeriodMaximums, 0),
        detail(Check::SignatureHashAlgorithms, 2),
        detail(Check::KeySize, 1),
    ];
    assert_eq!(reported(&details), Some(detail(Check::KeySize, 1)));
    assert_eq!(
        reported(&details[..6]),
        Some(detail(Check::SignatureHashAlgorithms, 2))
    );
    assert_eq!(
        reported(&details[..5]),
        Some(detail(Check::ValidityPeriodMaximums, 0))
    );
    assert_eq!(
        reported(&details[..4]),
        Some(detail(Check::MissingIntermediate, 1))
    );
    assert_eq!(
        reported(&details[..3]),
        Some(detail(Check::ServerAuthEku, 0))
    );
    assert_eq!(reported(&details[..2]), Some(detail(Check::SslHostname, 0)));
    assert_eq!(reported(&[]), None);
}

#[test]
fn among_equal_subtypes_the_lowest_certificate_is_named() {
    // Certificates are walked from the leaf; an equal subtype does not replace the first.
    let details = [
        detail(Check::CriticalExtensions, 2),
        detail(Check::BasicConstraintsCa, 1),
        detail(Check::ValidityPeriodMaximums, 0),
    ];
    assert_eq!(
        reported(&details),
        Some(detail(Check::ValidityPeriodMaximums, 0))
    );
    // Within one certificate the first recorded stands.
    let same_cert = [
        detail(Check::IdLinkage, 1),
        detail(Check::BasicConstraintsCa, 1),
    ];
    assert_eq!(reported(&same_cert), Some(detail(Check::IdLinkage, 1)));
}

fn private_chain(leaf: Spec, intermediate: Spec) -> (Issued, Issued, Issued) {
    let root = lab::self_signed(&Spec::ca("Unit Root")).unwrap();
    let intermediate = lab::issue(&intermediate, &root).unwrap();
    let leaf = lab::issue(&leaf, &intermediate).unwrap();
    (root, intermediate, leaf)
}

fn run(chain: &(Issued, Issued, Issued), host: &str, at: i64) -> Result<(), Refusal> {
    let (root, intermediate, leaf) = chain;
    let anchors = [Anchor {
        cert: AnchorCert::Der(root.der.as_ref()),
        source: AnchorSource::TrustSettings,
    }];
    verify(
        &[leaf.der.as_ref(), intermediate.der.as_ref()],
        &anchors,
        &[],
        host,
        at,
        Options::default(),
    )
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

#[test]
fn compliance_on_an_intermediate_outranks_the_leaf_expiring() {
    let mut intermediate = Spec::ca("Unit Issuing CA");
    intermediate.unknown_critical_extension = true;
    let chain = private_chain(Spec::leaf("a.example.com"), intermediate);
    let refusal = run(&chain, "a.example.com", now() + 200 * 86_400).unwrap_err();
    assert_eq!(
        refusal.stage,
        Stage::Trustd {
            check: Check::CriticalExtensions,
            cert: 1
        }
    );
    assert_eq!(
        refusal.text,
        "tls: failed to verify certificate: x509: “Unit Issuing CA” certificate is not standards compliant"
    );
}

#[test]
fn usage_outranks_name_and_expiry_and_go_never_sees_its_own_checks() {
    let mut leaf = Spec::leaf("a.example.com");
    leaf.eku = Some(vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth]);
    let chain = private_chain(leaf, Spec::ca("Unit Issuing CA"));
    let refusal = run(&chain, "b.example.com", now() + 200 * 86_400).unwrap_err();
    assert_eq!(
        refusal.stage,
        Stage::Trustd {
            check: Check::ExtendedKeyUsage,
            cert: 0
        }
    );
    // Name alone: root_darwin.go answers with Go's HostnameError, not Apple's words.
    let chain = private_chain(Spec::leaf("a.example.com"), Spec::ca("Unit Issuing CA"));
    let refusal = run(&chain, "b.example.com", now() + 200 * 86_400).unwrap_err();
    assert_eq!(
        refusal.text,
        "tls: failed to verify certificate: x509: certificate is valid for a.example.com, not b.example.com"
    );
    // Expiry alone: CertificateInvalidError around Apple's description.
    let refusal = run(&chain, "a.example.com", now() + 200 * 86_400).unwrap_err();
    assert_eq!(
        refusal.text,
        "tls: failed to verify certificate: x509: certificate has expired or is not yet valid: “a.example.com” certificate is expired"
    );
    assert!(run(&chain, "a.example.com", now()).is_ok());
}

#[test]
fn a_certificate_go_cannot_parse_fails_before_trustd() {
    let chain = private_chain(Spec::leaf("a.example.com"), Spec::ca("Unit Issuing CA"));
    let mut broken = chain.2.der.to_vec();
    broken.truncate(broken.len() / 2);
    let refusal = verify(
        &[&broken],
        &[],
        &[],
        "a.example.com",
        now(),
        Options::default(),
    )
    .unwrap_err();
    assert_eq!(refusal.stage, Stage::GoParse);
    assert!(refusal
        .text
        .starts_with("tls: failed to parse certificate from server: x509:"));
}

#[test]
fn apple_host_names_follow_sec_dns_match() {
    assert!(dns_match("flyte.example.com", "FLYTE.example.com"));
    assert!(dns_match("flyte.example.com.", "flyte.example.com"));
    assert!(dns_match("flyte.example.com", "*.example.com"));
    // A wildcard stands for one whole left-most label only.
    assert!(!dns_match("a.flyte.example.com", "*.example.com"));
    assert!(!dns_match("flyte.example.com", "f*.example.com"));
    assert!(!dns_match("flyte.example.com", "flyte.*.com"));
    // Never before a single-label top-level domain (Go accepts `*.com`).
    assert!(!dns_match("example.com", "*.com"));
    assert!(!dns_match("", "*.com"));
}

#[test]
fn ct_lifetimes_in_months_count_whole_calendar_months() {
    // (Month ends, where CFCalendar may clamp, only matter for leaves issued before
    // 2021-04-21: long expired.)
    use super::checks::months_between;
    let t = |s: &str| {
        time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
            .unwrap()
            .unix_timestamp()
    };
    assert_eq!(
        months_between(t("2020-01-15T00:00:00Z"), t("2021-04-15T00:00:00Z")),
        15
    );
    assert_eq!(
        months_between(t("2020-01-15T12:00:00Z"), t("2021-04-15T11:59:59Z")),
        14
    );
}

#[test]
fn an_anchor_known_only_by_subject_and_key_anchors_like_its_certificate() {
    // The compiled-in public roots are webpki TrustAnchors: subject and SPKI contents.
    let root = lab::self_signed(&Spec::ca("Bare Root")).unwrap();
    let leaf = lab::issue(&Spec::leaf("a.example.com"), &root).unwrap();
    // The SCTs meet Apple's policy (as `ct` counted them).
    let met = Options {
        ct_policy_met: true,
    };
    let anchor = webpki::anchor_from_trusted_cert(&root.der).unwrap();
    let bare = [Anchor {
        cert: AnchorCert::Bare {
            subject: anchor.subject.as_ref(),
            spki: anchor.subject_public_key_info.as_ref(),
        },
        source: AnchorSource::System,
    }];
    assert_eq!(
        verify(
            &[leaf.der.as_ref()],
            &bare,
            &[],
            "a.example.com",
            now(),
            met
        ),
        Ok(())
    );
    // A system root: SCTs short of the policy are a Certificate Transparency failure on
    // the leaf.
    let refusal = verify(
        &[leaf.der.as_ref()],
        &bare,
        &[],
        "a.example.com",
        now(),
        Options::default(),
    )
    .unwrap_err();
    assert_eq!(
        refusal.stage,
        Stage::Trustd {
            check: Check::SystemTrustedCtRequired,
            cert: 0
        }
    );
    // Another key under the same name anchors nothing.
    let impostor = lab::self_signed(&Spec::ca("Bare Root")).unwrap();
    let other = webpki::anchor_from_trusted_cert(&impostor.der).unwrap();
    let wrong = [Anchor {
        cert: AnchorCert::Bare {
            subject: other.subject.as_ref(),
            spki: other.subject_public_key_info.as_ref(),
        },
        source: AnchorSource::System,
    }];
    let refusal = verify(
        &[leaf.der.as_ref()],
        &wrong,
        &[],
        "a.example.com",
        now(),
        met,
    )
    .unwrap_err();
    assert_eq!(
        refusal.stage,
        Stage::Trustd {
            check: Check::MissingIntermediate,
            cert: 0
        }
    );
}

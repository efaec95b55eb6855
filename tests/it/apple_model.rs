//! The macOS engine has no client here to prove it against, so its cases are a table
//! whose expected texts are derived from the sources it re-implements: Apple's trustd
//! (Security as mirrored in apple-open-source/macos: trust/trustd/SecPolicyServer.c,
//! SecTrustServer.c, SecCertificateSource.c, OSX/sec/Security/SecPolicy.c,
//! SecPolicyLeafCallbacks.c, SecPolicyChecks.list, SecTrust.c, SecFrameworkStrings.h) and
//! Go 1.24's crypto/x509/root_darwin.go, which turns trustd's error into the text flytectl
//! prints. Every row names the function its outcome comes from. Short names used below:
//! - `PolicyServer` = Security/trust/trustd/SecPolicyServer.c (commit 0461810 of the mirror)
//! - `LeafCallbacks` = Security/OSX/sec/Security/SecPolicyLeafCallbacks.c
//! - `TrustServer` = Security/trust/trustd/SecTrustServer.c (commit d59de17)
//! - `SecTrust` = Security/OSX/sec/Security/SecTrust.c `SecTrustCopyErrorStrings`, which
//!   reports the lowest `SecTrustErrorSubType` (SecTrustInternal.h), on the lowest
//!   certificate index, as SecFrameworkStrings.h's `SEC_TRUST_ERROR_SUBTYPE_*` text
//! - `darwin` = go1.24.11 src/crypto/x509/root_darwin.go:62-73 (the error mapping) and
//!   :93-114 (Go's own name and EKU checks after trustd accepts)

use std::io::Write;

use certready::check::{analyse, AnalysisInput, Settings};
use certready::clients::{AnchorKind, ClientOptions, ClientVerdict};
use certready::findings::FindingId;
use certready::lab::{self, Issued, Spec};
use certready::probe::ProbeOptions;
use certready::target::Host;
use certready::trust::{StoreKind, TrustOptions, TrustStores};
use certready::verifiers::apple::{self as engine, Anchor, AnchorCert, AnchorSource};
use rcgen::ExtendedKeyUsagePurpose as Eku;
use time::macros::datetime;
use time::OffsetDateTime;

const HOST: &str = "flyte.example.com";
const DAY: i64 = 86_400;

/// How the Mac trusts the chain.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mac {
    /// The root is in the public (system) list.
    System,
    /// The root is a private CA added to the keychain.
    Private,
    /// The (self-signed) leaf itself is trusted.
    Leaf,
    /// A self-signed leaf nothing trusts.
    Untrusted,
    /// Leaf, intermediate and root, and nothing trusts the root.
    UntrustedChain,
}

struct Case {
    name: &'static str,
    /// Where the expected outcome comes from.
    source: &'static str,
    leaf: Spec,
    anchor: Mac,
    /// Serve the intermediate (false: it is missing).
    send_intermediate: bool,
    /// Serve the root too.
    send_root: bool,
    /// Changes to the intermediate's and the root's specs.
    intermediate: fn(&mut Spec),
    root: fn(&mut Spec),
    host: &'static str,
    /// Judge at this instant; None: a day after the leaf's notBefore.
    at: Option<OffsetDateTime>,
    /// --anchor-kind override.
    anchor_kind: Option<AnchorKind>,
    /// Expected x509 text of flytectl-macos/oauth-http; None = accepted.
    expect: Option<&'static str>,
}

fn leaf() -> Spec {
    let mut spec = Spec::leaf(HOST);
    spec.not_before = Some(datetime!(2026-01-10 00:00 UTC));
    spec
}

fn lifetime(mut spec: Spec, seconds: i64) -> Spec {
    spec.lifetime_seconds = Some(seconds);
    spec
}

fn starting(mut spec: Spec, not_before: OffsetDateTime) -> Spec {
    spec.not_before = Some(not_before);
    spec
}

fn scts(mut spec: Spec, count: usize) -> Spec {
    spec.sct_count = count;
    spec
}

fn with(spec: Spec, change: impl FnOnce(&mut Spec)) -> Spec {
    let mut spec = spec;
    change(&mut spec);
    spec
}

fn unchanged(_: &mut Spec) {}

const COMPLIANCE: &str = "x509: “flyte.example.com” certificate is not standards compliant";
const USAGE: &str = "x509: “flyte.example.com” certificate is not permitted for this usage";
const NOT_TRUSTED: &str = "x509: “flyte.example.com” certificate is not trusted";
const UNKNOWN_AUTHORITY: &str = "x509: certificate signed by unknown authority";
const EXPIRED: &str =
    "x509: certificate has expired or is not yet valid: “flyte.example.com” certificate is expired";
const WRONG_NAME: &str =
    "x509: certificate is valid for flyte.example.com, not console.example.com";

fn cases() -> Vec<Case> {
    let base = |name, source, leaf, anchor, expect| Case {
        name,
        source,
        leaf,
        anchor,
        send_intermediate: true,
        send_root: false,
        intermediate: unchanged,
        root: unchanged,
        host: HOST,
        at: None,
        anchor_kind: None,
        expect,
    };
    vec![
        // Validity maximum, private anchor: 825 days + 1 hour for leaves issued after
        // 583628400.0 (which is 2019-06-30 23:00:00 UTC, compared strictly).
        base("private: exactly 825 d + 1 h", "PolicyServer:check_other_trust_ssl_validity_maximums", lifetime(leaf(), 825 * DAY + 3600), Mac::Private, None),
        base("private: 825 d + 1 h + 1 s", "PolicyServer:check_other_trust_ssl_validity_maximums; SecTrust (Compliance)", lifetime(leaf(), 825 * DAY + 3601), Mac::Private, Some(COMPLIANCE)),
        base(
            "private: 900 d, notBefore exactly 2019-06-30 23:00 (not after the cut-over)",
            "PolicyServer:check_other_trust_ssl_validity_maximums (notBefore > jul2019)",
            starting(lifetime(leaf(), 900 * DAY), datetime!(2019-06-30 23:00:00 UTC)),
            Mac::Private,
            None,
        ),
        base(
            "private: 900 d, notBefore 2019-06-30 23:00:01",
            "PolicyServer:check_other_trust_ssl_validity_maximums (jul2019 = 583628400.0)",
            starting(lifetime(leaf(), 900 * DAY), datetime!(2019-06-30 23:00:01 UTC)),
            Mac::Private,
            Some(COMPLIANCE),
        ),
        // Validity maximum, system anchor: 398 days from 2020-09-01, 825 d + 1 h before.
        base("system: exactly 398 d, 3 SCTs", "PolicyServer:check_system_trust_ssl_validity_maximums", scts(lifetime(leaf(), 398 * DAY), 3), Mac::System, None),
        base("system: 398 d + 1 s, 3 SCTs", "PolicyServer:check_system_trust_ssl_validity_maximums", scts(lifetime(leaf(), 398 * DAY + 1), 3), Mac::System, Some(COMPLIANCE)),
        base(
            "system: 399 d, notBefore 1 s before 2020-09-01",
            "PolicyServer:check_system_trust_ssl_validity_maximums (notBefore < sep2020)",
            scts(starting(lifetime(leaf(), 399 * DAY), datetime!(2020-08-31 23:59:59 UTC)), 3),
            Mac::System,
            None,
        ),
        base(
            "system: 399 d, notBefore exactly 2020-09-01",
            "PolicyServer:check_system_trust_ssl_validity_maximums",
            scts(starting(lifetime(leaf(), 399 * DAY), datetime!(2020-09-01 00:00 UTC)), 3),
            Mac::System,
            Some(COMPLIANCE),
        ),
        base(
            "system: 826 d before 2020-09-01",
            "PolicyServer:check_system_trust_ssl_validity_maximums (825 d + 1 h)",
            scts(starting(lifetime(leaf(), 826 * DAY), datetime!(2020-01-01 00:00 UTC)), 4),
            Mac::System,
            Some(COMPLIANCE),
        ),
        // Leaf anchor: no maximum.
        base("leaf anchor: 10 years", "PolicyServer:SecPolicyCheckValidityPeriodMaximums (user-anchored leaf skipped)", lifetime(leaf(), 3650 * DAY), Mac::Leaf, None),
        // Certificate Transparency, system anchors only: ≤ 180 d → 2 SCTs, ≤ 825 d → 3.
        base("system: 90 d, 1 SCT", "PolicyServer:SecPolicyCheckSystemTrustedCTRequired; CertificateTransparency.m:verify_embedded_sct_policy_v2", scts(leaf(), 1), Mac::System, Some(COMPLIANCE)),
        base("system: 90 d, 2 SCTs", "CertificateTransparency.m:verify_embedded_sct_policy_v2", scts(leaf(), 2), Mac::System, None),
        base("system: 181 d, 2 SCTs", "CertificateTransparency.m:verify_embedded_sct_policy_v2", scts(lifetime(leaf(), 181 * DAY), 2), Mac::System, Some(COMPLIANCE)),
        base("system: 181 d, 3 SCTs", "CertificateTransparency.m:verify_embedded_sct_policy_v2", scts(lifetime(leaf(), 181 * DAY), 3), Mac::System, None),
        base("private: no SCTs needed", "PolicyServer:SecPolicyCheckSystemTrustedCTRequired (system anchor source only)", leaf(), Mac::Private, None),
        // Server-auth EKU by anchor kind.
        base("system: no EKU", "PolicyServer:SecPolicyCheckServerAuthEKU; SecTrust (Usage)", with(scts(leaf(), 2), |s| s.eku = None), Mac::System, Some(USAGE)),
        base("system: anyExtendedKeyUsage only", "PolicyServer:SecPolicyCheckServerAuthEKU (the serverAuth OID itself)", with(scts(leaf(), 2), |s| s.eku = Some(vec![Eku::Any])), Mac::System, Some(USAGE)),
        Case {
            intermediate: |s| s.eku = Some(vec![Eku::ClientAuth]),
            ..base("system: an intermediate limited to clientAuth", "PolicyServer:SecPolicyCheckServerAuthEKU (subCAs with an EKU)", scts(leaf(), 2), Mac::System, Some(USAGE))
        },
        base("private: no EKU is fine", "PolicyServer:SecPolicyCheckServerAuthEKU (user/admin anchors skipped)", with(leaf(), |s| s.eku = None), Mac::Private, None),
        base("leaf anchor: no EKU is fine", "PolicyServer:SecPolicyCheckServerAuthEKU (root = the user-anchored leaf: skipped)", with(leaf(), |s| s.eku = None), Mac::Leaf, None),
        base(
            "private: clientAuth-only leaf",
            "SecPolicy.c:set_ssl_ekus; LeafCallbacks:SecPolicyCheckCertExtendedKeyUsage",
            with(leaf(), |s| s.eku = Some(vec![Eku::ClientAuth])),
            Mac::Private,
            Some(USAGE),
        ),
        Case {
            intermediate: |s| s.eku = Some(vec![Eku::ClientAuth]),
            ..base(
                "private: clientAuth-only intermediate passes trustd, then Go refuses",
                "darwin:112 checkChainForKeyUsage on the chain trustd returns",
                leaf(),
                Mac::Private,
                Some("x509: certificate specifies an incompatible key usage"),
            )
        },
        // Host name: SAN only, Go's own HostnameError text.
        Case {
            host: "console.example.com",
            ..base("private: host not in SAN", "LeafCallbacks:SecPolicyCheckCertSSLHostname; darwin:66 HostnameError", leaf(), Mac::Private, Some(WRONG_NAME))
        },
        base(
            "private: CN only",
            "LeafCallbacks:SecPolicyCheckCertSSLHostname (SAN only); darwin:66 HostnameError",
            with(leaf(), |s| s.names.clear()),
            Mac::Private,
            Some("x509: certificate relies on legacy Common Name field, use SANs instead"),
        ),
        Case {
            host: "example.com",
            ..base(
                "private: *.com refused by Apple (Go would take it)",
                "LeafCallbacks:SecDNSMatch (no wildcard before a single-label TLD)",
                with(leaf(), |s| s.names = vec!["*.com".into()]),
                Mac::Private,
                Some("x509: certificate is valid for *.com, not example.com"),
            )
        },
        Case {
            host: "10.0.0.1",
            ..base(
                "private: IP target without IP SAN",
                "LeafCallbacks:SecPolicyCheckCertSSLHostname; darwin:66 HostnameError",
                leaf(),
                Mac::Private,
                Some("x509: cannot validate certificate for 10.0.0.1 because it doesn't contain any IP SANs"),
            )
        },
        // Trust.
        base(
            "untrusted: self-signed leaf without subjectKeyIdentifier",
            "SecCertificate.c:_SecCertificateIsSelfSigned (an AKID needs an equal SKID); PolicyServer:SecPolicyCheckBasicCertificateProcessing (MissingIntermediate, errSecCreateChainFailed)",
            leaf(),
            Mac::Untrusted,
            Some(NOT_TRUSTED),
        ),
        base(
            "untrusted: self-signed CA-style leaf",
            "PolicyServer:SecPolicyCheckBasicCertificateProcessing (AnchorTrusted, errSecNotTrusted); darwin:68 UnknownAuthorityError",
            with(leaf(), |s| s.ca = true),
            Mac::Untrusted,
            Some(UNKNOWN_AUTHORITY),
        ),
        Case {
            send_intermediate: false,
            ..base(
                "private: intermediate missing (no AIA)",
                "PolicyServer:SecPolicyCheckBasicCertificateProcessing (MissingIntermediate on the path's top); SecPolicyChecks.list errSecCreateChainFailed; darwin:70 default",
                leaf(),
                Mac::Private,
                Some(NOT_TRUSTED),
            )
        },
        base(
            "untrusted root not sent: the top of the path is named",
            "PolicyServer:SecPolicyCheckBasicCertificateProcessing (detail at n - 1); SecTrust (summary of that certificate)",
            leaf(),
            Mac::UntrustedChain,
            Some("x509: “Table Issuing CA” certificate is not trusted"),
        ),
        Case {
            send_root: true,
            ..base(
                "untrusted root sent",
                "PolicyServer:SecPolicyCheckBasicCertificateProcessing (AnchorTrusted); darwin:68",
                leaf(),
                Mac::UntrustedChain,
                Some(UNKNOWN_AUTHORITY),
            )
        },
        // Expiry: TemporalValidity on every certificate, "is expired" also before notBefore.
        Case {
            at: Some(datetime!(2026-06-01 00:00 UTC)),
            ..base("private: expired", "PolicyServer:SecPolicyCheckTemporalValidity; darwin:64 CertificateInvalidError{Expired}", leaf(), Mac::Private, Some(EXPIRED))
        },
        Case {
            at: Some(datetime!(2026-01-01 00:00 UTC)),
            ..base("private: not yet valid (Apple words it \"expired\")", "SecFrameworkStrings.h SEC_TRUST_ERROR_SUBTYPE_EXPIRED; darwin:64", leaf(), Mac::Private, Some(EXPIRED))
        },
        Case {
            intermediate: |s| s.lifetime_days = 1,
            at: Some(datetime!(2026-01-12 00:00 UTC)),
            ..base(
                "private: expired intermediate is named",
                "PolicyServer:SecPVCParentCertificateChecks; darwin:64",
                leaf(),
                Mac::Private,
                Some("x509: certificate has expired or is not yet valid: “Table Issuing CA” certificate is expired"),
            )
        },
        // Standards compliance of the path.
        base(
            "private: unknown critical extension on the leaf",
            "PolicyServer:SecPolicyCheckBasicCertificateProcessing (CriticalExtensions)",
            with(leaf(), |s| s.unknown_critical_extension = true),
            Mac::Private,
            Some(COMPLIANCE),
        ),
        Case {
            intermediate: |s| s.ca = false,
            ..base(
                "private: issuer without basicConstraints",
                "PolicyServer:SecPVCParentCertificateChecks (BasicConstraints, v3 without the extension)",
                leaf(),
                Mac::Private,
                Some("x509: “Table Issuing CA” certificate is not standards compliant"),
            )
        },
        Case {
            intermediate: |s| {
                s.ca = false;
                s.explicit_not_ca = true;
            },
            ..base(
                "private: issuer with basicConstraints CA:FALSE",
                "PolicyServer:SecPVCParentCertificateChecks (BasicConstraintsCA)",
                leaf(),
                Mac::Private,
                Some("x509: “Table Issuing CA” certificate is not standards compliant"),
            )
        },
        Case {
            root: |s| s.path_len = Some(0),
            ..base(
                "private: root's pathLenConstraint 0 above an intermediate",
                "PolicyServer:SecPolicyCheckBasicCertificateProcessing (max_path_length from the anchor)",
                leaf(),
                Mac::Private,
                Some("x509: “Table Issuing CA” certificate is not standards compliant"),
            )
        },
        // Priority: Compliance > Trust (the famous 10-year self-signed certificate).
        base(
            "priority: 10-year self-signed reports compliance, not trust",
            "SecTrust (Compliance before Trust); PolicyServer:check_other_trust_ssl_validity_maximums (no anchor is \"other trust\")",
            with(lifetime(leaf(), 3650 * DAY), |s| {
                s.names.clear();
                s.ca = true;
                s.eku = None;
            }),
            Mac::Untrusted,
            Some(COMPLIANCE),
        ),
        // Priority: Trust > Usage > Name > Expired.
        Case {
            host: "console.example.com",
            at: Some(datetime!(2026-06-01 00:00 UTC)),
            ..base(
                "priority: untrusted, no EKU, wrong name, expired → trust",
                "SecTrust (Trust before Usage, Name, Expired)",
                with(leaf(), |s| s.eku = None),
                Mac::Untrusted,
                Some(NOT_TRUSTED),
            )
        },
        Case {
            host: "console.example.com",
            at: Some(datetime!(2026-06-01 00:00 UTC)),
            ..base(
                "priority: clientAuth leaf, wrong name, expired → usage",
                "SecTrust (Usage before Name, Expired)",
                with(leaf(), |s| s.eku = Some(vec![Eku::ClientAuth])),
                Mac::Private,
                Some(USAGE),
            )
        },
        Case {
            host: "console.example.com",
            at: Some(datetime!(2026-06-01 00:00 UTC)),
            ..base(
                "priority: wrong name and expired → name",
                "SecTrust (Name before Expired); darwin:66",
                leaf(),
                Mac::Private,
                Some(WRONG_NAME),
            )
        },
        // --anchor-kind: the user says how the Mac trusts the chain.
        Case {
            anchor_kind: Some(AnchorKind::Leaf),
            ..base("override: --anchor-kind leaf", "PolicyServer:SecPVCIsAnchorPerConstraints (a trusted leaf)", leaf(), Mac::Untrusted, None)
        },
        Case {
            anchor_kind: Some(AnchorKind::System),
            ..base("override: --anchor-kind system needs SCTs", "PolicyServer:SecPolicyCheckSystemTrustedCTRequired", leaf(), Mac::Private, Some(COMPLIANCE))
        },
        Case {
            anchor_kind: Some(AnchorKind::Private),
            send_intermediate: false,
            ..base(
                "override: --anchor-kind private, intermediate missing (no AIA): the leaf is not the anchor",
                "PolicyServer:SecPolicyCheckBasicCertificateProcessing (MissingIntermediate on the path's top)",
                leaf(),
                Mac::UntrustedChain,
                Some(NOT_TRUSTED),
            )
        },
    ]
}

fn temp_pem(pem: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(pem.as_bytes()).unwrap();
    file
}

/// Analyses `served` as a handshake with `host`, with this machine's OS store emptied so
/// that only `trust_pem` (as a private or a public root) decides.
fn analysis(
    served: &[&Issued],
    trust_pem: Option<(&str, StoreKind)>,
    host: &str,
    at: OffsetDateTime,
    anchor_kind: Option<AnchorKind>,
) -> Vec<ClientVerdict> {
    let file = trust_pem.map(|(pem, kind)| (temp_pem(pem), kind));
    let path_of = |wanted: StoreKind| {
        file.iter()
            .find(|(_, kind)| *kind == wanted)
            .map(|(f, _)| f.path().to_path_buf())
    };
    let options = TrustOptions {
        ca_files: path_of(StoreKind::CaFile).into_iter().collect(),
        public_roots: path_of(StoreKind::Mozilla),
    };
    let mut stores = TrustStores::load(&options).unwrap();
    for store in stores
        .stores
        .iter_mut()
        .filter(|s| s.kind == StoreKind::System)
    {
        store.anchors.clear();
        store.anchor_certs.clear();
    }
    let settings = Settings {
        stores: std::sync::Arc::new(stores.into()),
        at: Some(at.unix_timestamp()),
        warn_days: 30,
        probe: ProbeOptions::default(),
        clients: ClientOptions {
            anchor_kind,
            // The lab's SCTs are signed by the lab's CT logs.
            ct_logs: Some(lab::ct_log_list()),
            ..ClientOptions::default()
        },
        aia_fetch: false,
        revocation: Default::default(),
    };
    let hostname = host
        .parse()
        .map(Host::Ip)
        .unwrap_or_else(|_| Host::Name(host.to_string()));
    analyse(
        AnalysisInput {
            ders: served.iter().map(|c| c.der.clone()).collect(),
            leaf_first: true,
            hostname: Some(&hostname),
            authority: Some(format!("{host}:443")),
            token_url: None,
            stores: &settings.stores.wait().stores,
            key: None,
            alpn: None,
            dialled_host: None,
            aia: None,
            revocation: None,
            stapled_ocsp: None,
            tls_scts: None,
            first_signed_handshake: None,
        },
        &settings,
    )
    .clients
}

fn find<'a>(verdicts: &'a [ClientVerdict], channel: &str) -> &'a ClientVerdict {
    verdicts
        .iter()
        .find(|c| c.client.name() == "flytectl-macos" && c.channel.name() == channel)
        .expect("a macOS verdict")
}

/// flytectl-macos/oauth-http's x509 text for this chain, or None when accepted.
fn macos_verdict(
    served: &[&Issued],
    trust_pem: Option<(&str, StoreKind)>,
    host: &str,
    at: OffsetDateTime,
    anchor_kind: Option<AnchorKind>,
) -> Option<String> {
    let verdicts = analysis(served, trust_pem, host, at, anchor_kind);
    x509_text(find(&verdicts, "oauth-http"))
}

/// The x509 part of flytectl-macos/oauth-http's error, or None when it accepts.
fn x509_text(verdict: &ClientVerdict) -> Option<String> {
    verdict.error.as_ref().map(|e| {
        assert!(
            e.starts_with("Post \"https://"),
            "OAuth errors name the token URL: {e}"
        );
        e[e.find("x509:").unwrap()..].to_string()
    })
}

/// A root and an intermediate for the table (the intermediate and root specs changed by
/// the case), and the leaf they issue.
fn table_chain(case: &Case) -> (Issued, Issued, Issued) {
    let mut root_spec = Spec::ca("Table Root CA");
    root_spec.not_before = Some(datetime!(2015-01-01 00:00 UTC));
    root_spec.lifetime_days = 7300;
    (case.root)(&mut root_spec);
    let root = lab::self_signed(&root_spec).unwrap();
    let mut intermediate_spec = Spec::ca("Table Issuing CA");
    intermediate_spec.not_before = case.leaf.not_before.map(|t| t - time::Duration::days(1));
    intermediate_spec.lifetime_days = 3000;
    (case.intermediate)(&mut intermediate_spec);
    let intermediate = lab::issue(&intermediate_spec, &root).unwrap();
    let leaf = lab::issue(&case.leaf, &intermediate).unwrap();
    (root, intermediate, leaf)
}

/// A row of the table, with the verdicts of all clients on its chain.
pub(crate) struct Row {
    pub name: &'static str,
    pub source: &'static str,
    pub expect: Option<&'static str>,
    pub verdicts: Vec<ClientVerdict>,
}

/// Every row of the table, judged.
pub(crate) fn table_verdicts() -> Vec<Row> {
    cases()
        .into_iter()
        .map(|case| {
            let spec = &case.leaf;
            let at = case
                .at
                .unwrap_or_else(|| spec.not_before.unwrap() + time::Duration::days(1));
            let verdicts = match case.anchor {
                Mac::Leaf | Mac::Untrusted => {
                    let cert = lab::self_signed(spec).unwrap();
                    let trust = (case.anchor == Mac::Leaf)
                        .then_some((cert.pem.as_str(), StoreKind::CaFile));
                    analysis(&[&cert], trust, case.host, at, case.anchor_kind)
                }
                Mac::System | Mac::Private | Mac::UntrustedChain => {
                    let (root, intermediate, leaf) = table_chain(&case);
                    let trust = match case.anchor {
                        Mac::System => Some((root.pem.as_str(), StoreKind::Mozilla)),
                        Mac::Private => Some((root.pem.as_str(), StoreKind::CaFile)),
                        _ => None,
                    };
                    let mut served: Vec<&Issued> = vec![&leaf];
                    if case.send_intermediate {
                        served.push(&intermediate);
                    }
                    if case.send_root {
                        served.push(&root);
                    }
                    analysis(&served, trust, case.host, at, case.anchor_kind)
                }
            };
            Row {
                name: case.name,
                source: case.source,
                expect: case.expect,
                verdicts,
            }
        })
        .collect()
}

#[test]
fn apple_rules_table() {
    let mut failures = Vec::new();
    for row in table_verdicts() {
        let verdict = x509_text(find(&row.verdicts, "oauth-http"));
        if verdict.as_deref() != row.expect {
            failures.push(format!(
                "{} ({}):\n  expected {:?}\n  got      {verdict:?}",
                row.name, row.source, row.expect
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn key_size_and_weak_hash_outrank_compliance() {
    let read = |p: &str| std::fs::read_to_string(p).unwrap();
    let at = datetime!(2030-01-01 00:00 UTC);
    let der = |pem: &str| {
        use rustls_pki_types::pem::PemObject;
        rustls_pki_types::CertificateDer::from_pem_slice(pem.as_bytes()).unwrap()
    };
    let fake = |pem: &str| {
        Issued::from_pem(pem, &lab::self_signed(&Spec::leaf("x")).unwrap().key_pem()).unwrap()
    };
    // A 1024-bit leaf living 100 years under a private root: KeySize (PolicyServer:
    // SecPolicyCheckKeySize, RSA 2048) outranks Compliance (the validity maximum) in
    // SecTrust's subtype order.
    let small = fake(&read("testdata/rsa1024-leaf.pem"));
    assert_eq!(small.der, der(&read("testdata/rsa1024-leaf.pem")));
    let verdict = macos_verdict(
        &[&small],
        Some((&read("testdata/rsa1024-ca.pem"), StoreKind::CaFile)),
        "legacy.example.com",
        at,
        None,
    );
    assert_eq!(
        verdict.as_deref(),
        Some("x509: “legacy.example.com” certificate is using a broken key size")
    );
    // A SHA-1 leaf living 100 years: WeakHash (PolicyServer:
    // SecPolicyCheckSignatureHashAlgorithms, SHA-1 refused on a non-self-signed
    // certificate) outranks Compliance.
    let sha1 = fake(&read("testdata/sha1-leaf.pem"));
    let verdict = macos_verdict(
        &[&sha1],
        Some((&read("testdata/sha1-ca.pem"), StoreKind::CaFile)),
        "legacy.example.com",
        at,
        None,
    );
    assert_eq!(
        verdict.as_deref(),
        Some("x509: “legacy.example.com” certificate is using a broken signature algorithm")
    );
}

#[test]
fn grpc_channel_with_ca_cert_file_path_skips_apple_rules() {
    // caCertFilePath makes flytectl's gRPC channel verify with Go only: the 10-year
    // private leaf that macOS refuses for OAuth is accepted over gRPC.
    let mut root_spec = Spec::ca("Table Root CA");
    root_spec.not_before = Some(datetime!(2025-01-01 00:00 UTC));
    let root = lab::self_signed(&root_spec).unwrap();
    let leaf = lab::issue(&lifetime(leaf(), 3650 * DAY), &root).unwrap();
    let verdicts = analysis(
        &[&leaf],
        Some((&root.pem, StoreKind::CaFile)),
        HOST,
        datetime!(2026-02-01 00:00 UTC),
        None,
    );
    let find = |channel: &str| find(&verdicts, channel);
    assert!(find("grpc").accepts, "{:?}", find("grpc"));
    let oauth = find("oauth-http");
    assert!(!oauth.accepts);
    assert_eq!(
        oauth.error.as_deref(),
        Some("Post \"https://flyte.example.com:443/oauth2/token\": tls: failed to verify certificate: x509: “flyte.example.com” certificate is not standards compliant")
    );
    assert_eq!(oauth.causes, [FindingId::ValidityExceeds825Days]);
}

/// A private root, an intermediate and a leaf whose AuthorityInfoAccess names `aia_url`.
fn aia_chain(aia_url: &str, leaf_change: fn(&mut Spec)) -> (Issued, Issued, Issued) {
    let root = lab::self_signed(&Spec::ca("AIA Root CA")).unwrap();
    let intermediate = lab::issue(&Spec::ca("AIA Issuing CA"), &root).unwrap();
    let mut leaf_spec = Spec::leaf(HOST);
    leaf_spec.ca_issuers_url = Some(aia_url.to_string());
    leaf_change(&mut leaf_spec);
    let leaf = lab::issue(&leaf_spec, &intermediate).unwrap();
    (root, intermediate, leaf)
}

/// The engine's x509 text for the leaf alone (its intermediate missing), the root
/// trusted privately, `fetched` what the AIA URLs served.
fn aia_verdict(
    leaf: &Issued,
    root: &Issued,
    fetched: &[&Issued],
    host: &str,
    at: i64,
) -> Option<String> {
    let anchors = [Anchor {
        cert: AnchorCert::Der(root.der.as_ref()),
        source: AnchorSource::TrustSettings,
    }];
    let fetched: Vec<&[u8]> = fetched.iter().map(|c| c.der.as_ref()).collect();
    engine::verify(
        &[leaf.der.as_ref()],
        &anchors,
        &fetched,
        host,
        at,
        engine::Options::default(),
    )
    .err()
    .map(|refusal| refusal.text[refusal.text.find("x509:").unwrap()..].to_string())
}

#[test]
fn aia_fetched_issuers_rescue_an_incomplete_chain_as_trustd_does() {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let http = "http://127.0.0.1:9/aia-issuing-ca.der";
    let (root, intermediate, leaf) = aia_chain(http, |_| {});
    // TrustServer:SecPathBuilderInit adds kSecCAIssuerSource after the certificates sent,
    // the keychains and the anchors: the fetched intermediate completes the path.
    assert_eq!(aia_verdict(&leaf, &root, &[&intermediate], HOST, now), None);
    // Nothing fetched (the URL unreachable): MissingIntermediate on the leaf
    // (PolicyServer:SecPolicyCheckBasicCertificateProcessing, errSecCreateChainFailed,
    // darwin:70 default branch).
    assert_eq!(
        aia_verdict(&leaf, &root, &[], HOST, now).as_deref(),
        Some(NOT_TRUSTED)
    );
    // The URL serves something else: a CA of another name is no parent
    // (SecCAIssuerRequest.m, SecPathBuilderProcessParents), one of the same name with
    // another key fails the signature check (SecPathBuilderIsPartial: kSecPathVerifyFailed).
    let stranger = lab::self_signed(&Spec::ca("Someone Else CA")).unwrap();
    let impostor = lab::self_signed(&Spec::ca("AIA Issuing CA")).unwrap();
    for served in [&stranger, &impostor] {
        assert_eq!(
            aia_verdict(&leaf, &root, &[served], HOST, now).as_deref(),
            Some(NOT_TRUSTED)
        );
    }
    // TrustURLSessionDelegate:fetchNext fetches http URLs only.
    let (root, intermediate, leaf) = aia_chain("https://127.0.0.1:9/ca.der", |_| {});
    assert_eq!(
        aia_verdict(&leaf, &root, &[&intermediate], HOST, now).as_deref(),
        Some(NOT_TRUSTED)
    );
}

#[test]
fn aia_is_not_fetched_for_an_expired_certificate_and_a_rescued_path_reports_its_own_failure() {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let (root, intermediate, leaf) = aia_chain("http://127.0.0.1:9/ca.der", |_| {});
    // SecCertificateSource.c:SecCAIssuerCertificateSourceCopyParents skips expired
    // certificates: the trust failure stands (and outranks the expiry).
    let later = now + 200 * DAY;
    assert_eq!(
        aia_verdict(&leaf, &root, &[&intermediate], HOST, later).as_deref(),
        Some(NOT_TRUSTED)
    );
    // With the issuer fetched, the anchored path scores best (SecCertificatePathVCScore)
    // and its own failure is reported: here the name, through darwin:66 HostnameError.
    assert_eq!(
        aia_verdict(&leaf, &root, &[&intermediate], "console.example.com", now).as_deref(),
        Some(WRONG_NAME)
    );
    assert_eq!(
        aia_verdict(&leaf, &root, &[], "console.example.com", now).as_deref(),
        Some(NOT_TRUSTED)
    );
}

/// A CA's parameters as the rules below need them (the lab's specs cannot express a
/// mismatched key id, an issuer's keyUsage without keyCertSign, or an empty subject).
fn ca_params(common_name: &str) -> rcgen::CertificateParams {
    let now = OffsetDateTime::now_utc();
    let mut params = rcgen::CertificateParams::default();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, common_name);
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
    ];
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(3650);
    params.use_authority_key_identifier_extension = true;
    params
}

fn leaf_params(subject: Option<&str>) -> rcgen::CertificateParams {
    let now = OffsetDateTime::now_utc();
    let mut params = rcgen::CertificateParams::new(vec![HOST.to_string()]).unwrap();
    params.distinguished_name = rcgen::DistinguishedName::new();
    if let Some(cn) = subject {
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, cn);
    }
    params.extended_key_usages = vec![Eku::ServerAuth];
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(90);
    params.use_authority_key_identifier_extension = true;
    params
}

/// The engine's x509 text for leaf + intermediate under a privately trusted root.
fn private_verdict(leaf: &[u8], intermediate: &[u8], root: &[u8]) -> Option<String> {
    let anchors = [Anchor {
        cert: AnchorCert::Der(root),
        source: AnchorSource::TrustSettings,
    }];
    let now = OffsetDateTime::now_utc().unix_timestamp();
    engine::verify(
        &[leaf, intermediate],
        &anchors,
        &[],
        HOST,
        now,
        engine::Options::default(),
    )
    .err()
    .map(|refusal| refusal.text[refusal.text.find("x509:").unwrap()..].to_string())
}

#[test]
fn rules_the_lab_specs_cannot_express() {
    let root_key = rcgen::KeyPair::generate().unwrap();
    let root_params = ca_params("Rule Root CA");
    let root = root_params.self_signed(&root_key).unwrap();
    let root_issuer = rcgen::Issuer::new(root_params, root_key);
    let issue = |params: rcgen::CertificateParams, key: &rcgen::KeyPair, issuer| {
        params.signed_by(key, issuer).unwrap()
    };

    // IdLinkage (PolicyServer:SecPolicyCheckIdLinkage): the leaf's authority key id is not
    // its issuer's subject key id → Compliance on the leaf.
    let int_key = rcgen::KeyPair::generate().unwrap();
    let int_params = ca_params("Rule Issuing CA");
    let intermediate = issue(int_params.clone(), &int_key, &root_issuer);
    let mut lying_params = int_params.clone();
    lying_params.key_identifier_method = rcgen::KeyIdMethod::PreSpecified(vec![7; 20]);
    let lying_issuer = rcgen::Issuer::new(lying_params, int_key);
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = issue(leaf_params(Some(HOST)), &leaf_key, &lying_issuer);
    assert_eq!(
        private_verdict(leaf.der(), intermediate.der(), root.der()).as_deref(),
        Some(COMPLIANCE)
    );

    // KeyUsage (PolicyServer:SecPVCParentCertificateChecks (n)): an issuer whose keyUsage
    // lacks keyCertSign; SecPolicyChecks.list gives it the Usage subtype.
    let int_key = rcgen::KeyPair::generate().unwrap();
    let mut int_params = ca_params("Rule Signing-only CA");
    int_params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    let intermediate = issue(int_params.clone(), &int_key, &root_issuer);
    let int_issuer = rcgen::Issuer::new(int_params, int_key);
    let leaf = issue(leaf_params(Some(HOST)), &leaf_key, &int_issuer);
    assert_eq!(
        private_verdict(leaf.der(), intermediate.der(), root.der()).as_deref(),
        Some("x509: “Rule Signing-only CA” certificate is not permitted for this usage")
    );

    // NonEmptySubject (LeafCallbacks:SecPolicyCheckCertNonEmptySubject): an empty subject
    // is allowed only on a non-CA with a critical subjectAltName (rcgen marks the SAN
    // critical when the subject is empty), so the same leaf flagged CA:TRUE fails; the
    // summary falls back to the SAN's DNS name (SecCertificate.c:SecCertificateCopySubjectSummary).
    let int_key = rcgen::KeyPair::generate().unwrap();
    let int_params = ca_params("Rule Issuing CA");
    let intermediate = issue(int_params.clone(), &int_key, &root_issuer);
    let int_issuer = rcgen::Issuer::new(int_params, int_key);
    let leaf = issue(leaf_params(None), &leaf_key, &int_issuer);
    assert_eq!(
        private_verdict(leaf.der(), intermediate.der(), root.der()),
        None
    );
    let mut ca_leaf = leaf_params(None);
    ca_leaf.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let leaf = issue(ca_leaf, &leaf_key, &int_issuer);
    assert_eq!(
        private_verdict(leaf.der(), intermediate.der(), root.der()).as_deref(),
        Some(COMPLIANCE)
    );
    // The same chain with a subject is accepted (the rows above can fail).
    let leaf = issue(leaf_params(Some(HOST)), &leaf_key, &int_issuer);
    assert_eq!(
        private_verdict(leaf.der(), intermediate.der(), root.der()),
        None
    );
}

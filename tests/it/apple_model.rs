//! The macOS model has no client here, so its cases are a table whose expected outcomes
//! are derived from Apple's trustd rules (its SSL policy's checks and their order): each
//! rule, each anchor kind, the exact 398/825-day boundaries, notBefore on the cut-over
//! dates, and the priority order that picks the one failure Apple reports.

use std::io::Write;

use certready::check::{analyse, AnalysisInput, Settings};
use certready::clients::{AnchorKind, ClientOptions};
use certready::findings::FindingId;
use certready::lab::{self, Issued, Spec};
use certready::probe::ProbeOptions;
use certready::target::Host;
use certready::trust::{StoreKind, TrustOptions, TrustStores};
use time::macros::datetime;
use time::OffsetDateTime;

const HOST: &str = "flyte.example.com";
const DAY: i64 = 86_400;

#[derive(Clone, Copy)]
enum Anchor {
    /// The root is in the public (system) list.
    System,
    /// The root is a private CA added to the keychain.
    Private,
    /// The leaf itself is trusted.
    Leaf,
    /// Nothing trusts it.
    Untrusted,
}

struct Case {
    name: &'static str,
    leaf: Spec,
    anchor: Anchor,
    /// Serve the intermediate (false: it is missing).
    send_intermediate: bool,
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

const COMPLIANCE: &str = "x509: “flyte.example.com” certificate is not standards compliant";
const USAGE: &str = "x509: “flyte.example.com” certificate is not permitted for this usage";
const UNKNOWN_AUTHORITY: &str = "x509: certificate signed by unknown authority";

fn cases() -> Vec<Case> {
    let base = |name, leaf, anchor, expect| Case {
        name,
        leaf,
        anchor,
        send_intermediate: true,
        host: HOST,
        at: None,
        anchor_kind: None,
        expect,
    };
    vec![
        // Validity maximum, private anchor: 825 days + 1 hour, notBefore from 2019-07-01.
        base("private: exactly 825 d + 1 h", lifetime(leaf(), 825 * DAY + 3600), Anchor::Private, None),
        base("private: 825 d + 1 h + 1 s", lifetime(leaf(), 825 * DAY + 3601), Anchor::Private, Some(COMPLIANCE)),
        base(
            "private: 900 d, notBefore 1 s before 2019-07-01",
            starting(lifetime(leaf(), 900 * DAY), datetime!(2019-06-30 23:59:59 UTC)),
            Anchor::Private,
            None,
        ),
        base(
            "private: 900 d, notBefore exactly 2019-07-01",
            starting(lifetime(leaf(), 900 * DAY), datetime!(2019-07-01 00:00 UTC)),
            Anchor::Private,
            Some(COMPLIANCE),
        ),
        // Validity maximum, system anchor: 398 days from 2020-09-01, 825 d + 1 h before.
        base("system: exactly 398 d, 3 SCTs", scts(lifetime(leaf(), 398 * DAY), 3), Anchor::System, None),
        base("system: 398 d + 1 s, 3 SCTs", scts(lifetime(leaf(), 398 * DAY + 1), 3), Anchor::System, Some(COMPLIANCE)),
        base(
            "system: 399 d, notBefore 1 s before 2020-09-01",
            scts(starting(lifetime(leaf(), 399 * DAY), datetime!(2020-08-31 23:59:59 UTC)), 3),
            Anchor::System,
            None,
        ),
        base(
            "system: 399 d, notBefore exactly 2020-09-01",
            scts(starting(lifetime(leaf(), 399 * DAY), datetime!(2020-09-01 00:00 UTC)), 3),
            Anchor::System,
            Some(COMPLIANCE),
        ),
        base(
            "system: 826 d before 2020-09-01",
            scts(starting(lifetime(leaf(), 826 * DAY), datetime!(2020-01-01 00:00 UTC)), 3),
            Anchor::System,
            Some(COMPLIANCE),
        ),
        // Leaf anchor: no maximum.
        base("leaf anchor: 10 years", lifetime(leaf(), 3650 * DAY), Anchor::Leaf, None),
        // Certificate Transparency, system anchors only: ≤ 180 d → 2 SCTs, else 3.
        base("system: 90 d, 1 SCT", scts(leaf(), 1), Anchor::System, Some(COMPLIANCE)),
        base("system: 90 d, 2 SCTs", scts(leaf(), 2), Anchor::System, None),
        base("system: 181 d, 2 SCTs", scts(lifetime(leaf(), 181 * DAY), 2), Anchor::System, Some(COMPLIANCE)),
        base("system: 181 d, 3 SCTs", scts(lifetime(leaf(), 181 * DAY), 3), Anchor::System, None),
        base("private: no SCTs needed", leaf(), Anchor::Private, None),
        // Server-auth EKU by anchor kind.
        base("system: no EKU", with(scts(leaf(), 2), |s| s.eku = None), Anchor::System, Some(USAGE)),
        base("private: no EKU is fine", with(leaf(), |s| s.eku = None), Anchor::Private, None),
        base("leaf anchor: no EKU after 2019-07-01", with(leaf(), |s| s.eku = None), Anchor::Leaf, Some(USAGE)),
        base(
            "leaf anchor: no EKU before 2019-07-01",
            with(starting(lifetime(leaf(), 400 * DAY), datetime!(2019-01-01 00:00 UTC)), |s| s.eku = None),
            Anchor::Leaf,
            None,
        ),
        base(
            "private: clientAuth-only EKU passes Apple, then Go refuses",
            with(leaf(), |s| s.eku = Some(vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth])),
            Anchor::Private,
            Some("x509: certificate specifies an incompatible key usage"),
        ),
        // Host name: SAN only.
        Case {
            host: "console.example.com",
            ..base(
                "private: host not in SAN",
                leaf(),
                Anchor::Private,
                Some("x509: certificate is valid for flyte.example.com, not console.example.com"),
            )
        },
        base(
            "private: CN only",
            with(leaf(), |s| s.names.clear()),
            Anchor::Private,
            Some("x509: certificate relies on legacy Common Name field, use SANs instead"),
        ),
        // Trust.
        base("untrusted: short-lived self-signed", leaf(), Anchor::Untrusted, Some(UNKNOWN_AUTHORITY)),
        Case {
            send_intermediate: false,
            ..base(
                "private: intermediate missing",
                leaf(),
                Anchor::Private,
                Some("x509: “flyte.example.com” certificate is not trusted"),
            )
        },
        // Expiry.
        Case {
            at: Some(datetime!(2026-06-01 00:00 UTC)),
            ..base(
                "private: expired",
                leaf(),
                Anchor::Private,
                Some("x509: certificate has expired or is not yet valid: “flyte.example.com” certificate is expired"),
            )
        },
        // Priority: Compliance > Trust (the famous 10-year self-signed certificate).
        base(
            "priority: 10-year self-signed reports compliance, not trust",
            with(lifetime(leaf(), 3650 * DAY), |s| {
                s.names.clear();
                s.ca = true;
                s.eku = None;
            }),
            Anchor::Untrusted,
            Some(COMPLIANCE),
        ),
        // Priority: Trust > Usage > Name > Expired.
        Case {
            host: "console.example.com",
            at: Some(datetime!(2026-06-01 00:00 UTC)),
            ..base(
                "priority: untrusted, no EKU, wrong name, expired → trust",
                with(leaf(), |s| s.eku = None),
                Anchor::Untrusted,
                Some(UNKNOWN_AUTHORITY),
            )
        },
        Case {
            host: "console.example.com",
            at: Some(datetime!(2026-06-01 00:00 UTC)),
            ..base(
                "priority: leaf anchor, no EKU, wrong name, expired → usage",
                with(leaf(), |s| s.eku = None),
                Anchor::Leaf,
                Some(USAGE),
            )
        },
        Case {
            host: "console.example.com",
            at: Some(datetime!(2026-06-01 00:00 UTC)),
            ..base(
                "priority: wrong name and expired → name",
                leaf(),
                Anchor::Private,
                Some("x509: certificate is valid for flyte.example.com, not console.example.com"),
            )
        },
        // --anchor-kind: the user says the Mac trusts the leaf directly.
        Case {
            anchor_kind: Some(AnchorKind::Leaf),
            ..base("override: --anchor-kind leaf", leaf(), Anchor::Untrusted, None)
        },
        Case {
            anchor_kind: Some(AnchorKind::System),
            ..base("override: --anchor-kind system needs SCTs", leaf(), Anchor::Private, Some(COMPLIANCE))
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
) -> Vec<certready::clients::ClientVerdict> {
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
            ..ClientOptions::default()
        },
        aia_fetch: false,
    };
    let hostname = Host::Name(host.to_string());
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
        },
        &settings,
    )
    .clients
}

fn find<'a>(
    verdicts: &'a [certready::clients::ClientVerdict],
    channel: &str,
) -> &'a certready::clients::ClientVerdict {
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
    find(&verdicts, "oauth-http").error.as_ref().map(|e| {
        assert!(
            e.starts_with("Post \"https://"),
            "OAuth errors name the token URL: {e}"
        );
        e[e.find("x509:").unwrap()..].to_string()
    })
}

#[test]
fn apple_rules_table() {
    let mut failures = Vec::new();
    for case in cases() {
        let spec = &case.leaf;
        let at = case
            .at
            .unwrap_or_else(|| spec.not_before.unwrap() + time::Duration::days(1));
        let verdict = match case.anchor {
            Anchor::Leaf | Anchor::Untrusted => {
                let cert = lab::self_signed(spec).unwrap();
                let trust = matches!(case.anchor, Anchor::Leaf)
                    .then_some((cert.pem.as_str(), StoreKind::CaFile));
                macos_verdict(&[&cert], trust, case.host, at, case.anchor_kind)
            }
            Anchor::System | Anchor::Private => {
                let mut root_spec = Spec::ca("Table Root CA");
                root_spec.not_before = Some(datetime!(2015-01-01 00:00 UTC));
                root_spec.lifetime_days = 7300;
                let root = lab::self_signed(&root_spec).unwrap();
                let mut intermediate_spec = Spec::ca("Table Issuing CA");
                intermediate_spec.not_before = root_spec.not_before;
                intermediate_spec.lifetime_days = 7000;
                let intermediate = lab::issue(&intermediate_spec, &root).unwrap();
                let leaf = lab::issue(spec, &intermediate).unwrap();
                let kind = match case.anchor {
                    Anchor::System => StoreKind::Mozilla,
                    _ => StoreKind::CaFile,
                };
                let served: Vec<&Issued> = if case.send_intermediate {
                    vec![&leaf, &intermediate]
                } else {
                    vec![&leaf]
                };
                macos_verdict(
                    &served,
                    Some((&root.pem, kind)),
                    case.host,
                    at,
                    case.anchor_kind,
                )
            }
        };
        if verdict.as_deref() != case.expect {
            failures.push(format!(
                "{}:\n  expected {:?}\n  got      {:?}",
                case.name, case.expect, verdict
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
    // A 1024-bit leaf living 100 years: KeySize outranks Compliance.
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
    // A SHA-1 leaf living 100 years: WeakHash outranks Compliance.
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

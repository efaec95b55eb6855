//! Properties: target parsing and `why` never panic, target parsing round-trips what
//! it accepts; any order of a valid chain gives the same trust verdict, with chain-order
//! exactly when the order is not leaf first, each followed by its issuer.

use std::io::Write;
use std::sync::OnceLock;

use certready::check::{analyse, AnalysisInput, Settings};
use certready::clients::ClientOptions;
use certready::findings::FindingId;
use certready::lab::{self, Issued, Spec};
use certready::probe::ProbeOptions;
use certready::target::{self, Host};
use certready::trust::{StoreKind, TrustOptions, TrustStores};
use proptest::prelude::*;

proptest! {
    // A paste is analysed whole: fewer cases keep the run short.
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// A paste of known texts' pieces, quotes, blanks, log prefixes and junk: `why`
    /// never panics and answers within its bounds.
    #[test]
    fn explaining_any_paste_never_panics(
        pieces in proptest::collection::vec(
            prop_oneof![
                Just("x509: certificate is valid for ".to_string()),
                Just(", not ".to_string()),
                Just("tls: failed to verify certificate: ".to_string()),
                Just("Post \"https://".to_string()),
                Just("\u{201c}".to_string()),
                Just("\": ".to_string()),
                Just("OPENSSL_internal:".to_string()),
                Just("\n".to_string()),
                Just("2026-11-29T10:00:00Z ERROR ".to_string()),
                "\\PC{0,20}",
            ],
            0..24,
        ),
    ) {
        let text: String = pieces.concat();
        let report = certready::why::explain(&certready::why::Pasted::from_words(&[text]));
        prop_assert!(report.recognised.len() <= 20);
        prop_assert_eq!(report.exit_code() == 0, !report.recognised.is_empty());
        for recognised in &report.recognised {
            prop_assert!(!recognised.text.is_empty() && !recognised.clients.is_empty());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parsing_any_text_never_panics(text in "\\PC{0,80}") {
        let _ = target::parse_target(&text);
        let _ = target::parse_resolve(&text);
        let _ = target::parse_connect_to(&text);
    }

    #[test]
    fn accepted_forms_agree_on_host_and_port(
        labels in proptest::collection::vec("[a-z][a-z0-9-]{0,10}[a-z0-9]", 1..4),
        port in 1u16..,
        path in "(/[a-z0-9]{0,8}){0,3}",
    ) {
        let host = labels.join(".");
        let expected = (host.clone(), port);
        for form in [
            format!("{host}:{port}"),
            format!("https://{host}:{port}{path}"),
            format!("dns:///{host}:{port}"),
            format!("HTTPS://{}:{port}", host.to_uppercase()),
        ] {
            let parsed = target::parse_target(&form).unwrap();
            prop_assert_eq!((parsed.host.to_string(), parsed.port), expected.clone(), "{}", form);
        }
        let bare = target::parse_target(&host).unwrap();
        prop_assert_eq!(bare.port, 443);
    }

    #[test]
    fn ipv6_literals_round_trip(segments in proptest::array::uniform8(any::<u16>()), port in 1u16..) {
        let ip = std::net::Ipv6Addr::from(segments);
        let parsed = target::parse_target(&format!("[{ip}]:{port}")).unwrap();
        prop_assert_eq!(&parsed.host, &Host::Ip(ip.into()));
        prop_assert_eq!(parsed.authority(), format!("[{ip}]:{port}"));
    }
}

struct Fixture {
    /// leaf, intermediate 1, intermediate 2, root
    certs: Vec<Issued>,
    settings: Settings,
    _root_file: tempfile::NamedTempFile,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let root = lab::self_signed(&Spec::ca("Property Root")).unwrap();
        let first = lab::issue(&Spec::ca("Property CA 1"), &root).unwrap();
        let second = lab::issue(&Spec::ca("Property CA 2"), &first).unwrap();
        let leaf = lab::issue(&Spec::leaf("flyte.example.com"), &second).unwrap();
        let mut root_file = tempfile::NamedTempFile::new().unwrap();
        root_file.write_all(root.pem.as_bytes()).unwrap();
        let mut stores = TrustStores::load(&TrustOptions {
            ca_files: vec![root_file.path().to_path_buf()],
            public_roots: None,
        })
        .unwrap();
        for store in stores
            .stores
            .iter_mut()
            .filter(|s| s.kind == StoreKind::System)
        {
            store.anchors.clear();
            store.anchor_certs.clear();
        }
        Fixture {
            certs: vec![leaf, second, first, root],
            settings: Settings {
                stores: std::sync::Arc::new(stores.into()),
                at: None,
                warn_days: 30,
                probe: ProbeOptions::default(),
                clients: ClientOptions::default(),
                aia_fetch: false,
                revocation: Default::default(),
            },
            _root_file: root_file,
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_order_of_a_valid_chain_gives_the_same_verdict(order in Just((0..4usize).collect::<Vec<_>>()).prop_shuffle()) {
        let fixture = fixture();
        let ders = order.iter().map(|&i| fixture.certs[i].der.clone()).collect();
        let host = Host::Name("flyte.example.com".into());
        let analysis = analyse(
            AnalysisInput {
                ders,
                leaf_first: false,
                hostname: Some(&host),
                authority: None,
                token_url: None,
                stores: &fixture.settings.stores.wait().stores,
                key: None,
                alpn: None,
                dialled_host: None,
                aia: None,
                revocation: None,
                stapled_ocsp: None,
                tls_scts: None,
                first_signed_handshake: None,
            },
            &fixture.settings,
        );
        let trusted: Vec<bool> = analysis.trust.iter().map(|v| v.trusted).collect();
        prop_assert_eq!(trusted, vec![false, false, true], "system, mozilla, ca-file");
        // The validated path is leaf, CA 2, CA 1 (then the anchor) whatever the order sent.
        let path_certs: Vec<usize> = analysis.path.positions.iter().map(|&p| order[p]).collect();
        prop_assert_eq!(path_certs, vec![0, 1, 2]);
        prop_assert_eq!(analysis.path.anchor.as_deref(), Some("CN=Property Root"));
        let in_order = order == [0, 1, 2, 3];
        let flagged = analysis.findings.iter().any(|f| f.id == FindingId::ChainOrder);
        prop_assert_eq!(flagged, !in_order, "order {:?}", order);
        let critical = analysis.findings.iter().any(|f| f.severity == certready::findings::Severity::Critical);
        prop_assert!(!critical, "{:?}", analysis.findings.iter().map(|f| f.id).collect::<Vec<_>>());
    }
}

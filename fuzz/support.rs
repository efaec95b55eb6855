//! The bodies of the fuzz targets, shared with tests/it/fuzz_regressions.rs so every crash
//! input kept under testdata/fuzz-regressions/ is replayed by `cargo test`.
#![allow(dead_code)]

use std::path::Path;
use std::sync::OnceLock;

use certready::check::{analyse, AnalysisInput, Settings};
use certready::clients::ClientOptions;
use certready::probe::ProbeOptions;
use certready::target::Host;
use certready::trust::{TrustOptions, TrustStores};
use rustls_pki_types::CertificateDer;

fn settings() -> &'static Settings {
    static SETTINGS: OnceLock<Settings> = OnceLock::new();
    SETTINGS.get_or_init(|| Settings {
        stores: std::sync::Arc::new(
            TrustStores::load(&TrustOptions::default())
                .expect("default stores load")
                .into(),
        ),
        at: Some(1_800_000_000),
        warn_days: 30,
        probe: ProbeOptions::default(),
        clients: ClientOptions::default(),
        aia_fetch: false,
        revocation: Default::default(),
    })
}

/// Splits `data` into certificates: each is a 2-byte big-endian length and that many bytes.
pub fn analyse_chain(data: &[u8]) {
    let mut ders = Vec::new();
    let mut rest = data;
    while rest.len() >= 2 && ders.len() < 40 {
        let len = usize::from(u16::from_be_bytes([rest[0], rest[1]])).min(rest.len() - 2);
        ders.push(CertificateDer::from(rest[2..2 + len].to_vec()));
        rest = &rest[2 + len..];
    }
    if ders.is_empty() {
        ders.push(CertificateDer::from(data.to_vec()));
    }
    let host = Host::Name("flyte.example.com".into());
    for leaf_first in [true, false] {
        let _ = analyse(
            AnalysisInput {
                ders: ders.clone(),
                leaf_first,
                hostname: Some(&host),
                authority: Some("flyte.example.com:443".into()),
                token_url: None,
                stores: &settings().stores.wait().stores,
                key: None,
                alpn: None,
                dialled_host: None,
                aia: None,
                revocation: None,
                stapled_ocsp: None,
                tls_scts: None,
                first_signed_handshake: None,
            },
            settings(),
        );
    }
}

pub fn parse_bundle(data: &[u8]) {
    // What an AIA caIssuers URL serves is read the same untrusted way (DER, PKCS#7, PEM).
    let _ = certready::probe::aia::decode(data);
    if let Ok(bundle) = certready::input::parse_bundle(Path::new("fuzz"), data) {
        let mut ders = bundle.certificates;
        ders.extend(bundle.ca);
        let _ = analyse(
            AnalysisInput {
                ders,
                leaf_first: false,
                hostname: None,
                authority: None,
                token_url: None,
                stores: &settings().stores.wait().stores,
                key: None,
                alpn: None,
                dialled_host: None,
                aia: None,
                revocation: None,
                stapled_ocsp: None,
                tls_scts: None,
                first_signed_handshake: None,
            },
            settings(),
        );
    }
}

pub fn lint_config(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let options = certready::lint::LintOptions {
            console_origin: Some("https://console.example.com".into()),
            openshift: false,
        };
        // A directory that does not exist: file references resolve to nothing.
        let _ = certready::lint::lint_text(
            Path::new("/nonexistent/fuzz.yaml"),
            text,
            &options,
            settings(),
        );
    }
}

pub fn parse_arguments(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = certready::target::parse_target(text);
        let _ = certready::target::parse_resolve(text);
        let _ = certready::target::parse_connect_to(text);
        let _ = certready::probe::proxy::parse_proxy(text);
        let _ = certready::flyte::parse_origin(text);
    }
}

/// Arbitrary bytes pasted into `certready why`: read as stdin is (bounded), explained.
pub fn explain_paste(data: &[u8]) {
    if let Ok(pasted) = certready::why::Pasted::read(data) {
        let report = certready::why::explain(&pasted);
        assert!(report.recognised.len() <= 20);
    }
}

//! `certready why`: every refusal text the client models print is recognised, as coming
//! from the client and channel that printed it, with every finding the model gave it
//! among its candidates (round trip over the differential test's generated chains, the
//! Apple table's rows and Chrome's net errors); and the binary tolerates what pasting
//! does to a text (quotes, wrapping, log prefixes, another host), says when it knows
//! nothing, and stays bounded on a huge paste.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use certready::clients::{ClientOptions, ClientVerdict, FlytectlSettings};
use certready::findings::FindingId;
use certready::trust::background::Background;
use certready::trust::{self, StoreKind, TrustStore};
use certready::why::{self, Pasted};

use crate::common::*;
use crate::differential::generate::{self, Case};

const SEED: u64 = 2026;

fn env_count(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The text as `why` compares it: quotes straight, blanks collapsed.
fn comparable(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{201c}' | '\u{201d}' => '"',
            c => c,
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// `why` on a verdict's error: one text recognised, the whole error, printed by the
/// verdict's client and channel, with the verdict's causes among its findings.
fn round_trip(verdict: &ClientVerdict) -> Result<String, String> {
    let text = verdict.error.as_deref().unwrap_or_default();
    let who = format!("{} {}", verdict.client.name(), verdict.channel.name());
    let report = why::explain(&Pasted::from_words(&[text.to_string()]));
    let [recognised] = report.recognised.as_slice() else {
        return Err(format!(
            "{who}: {} texts recognised in {text:?}: {:?}",
            report.recognised.len(),
            report
                .recognised
                .iter()
                .map(|r| &r.known_text)
                .collect::<Vec<_>>()
        ));
    };
    if comparable(&recognised.text) != comparable(text) {
        return Err(format!(
            "{who}: only {:?} of {text:?} recognised",
            recognised.text
        ));
    }
    if !recognised
        .clients
        .iter()
        .any(|c| c.client == verdict.client && c.channel == verdict.channel)
    {
        return Err(format!(
            "{who} not among the clients of {text:?}: {:?}",
            recognised
                .clients
                .iter()
                .map(|c| format!("{} {}", c.client.name(), c.channel.name()))
                .collect::<Vec<_>>()
        ));
    }
    let missing: Vec<&FindingId> = verdict
        .causes
        .iter()
        .filter(|id| !recognised.findings.iter().any(|f| f.id == **id))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "{who}: {missing:?} caused {text:?} but why lists {:?}",
            recognised
                .findings
                .iter()
                .map(|f| f.id.name())
                .collect::<Vec<_>>()
        ));
    }
    Ok(recognised.known_text.clone())
}

/// How a generated chain is judged: which roots the clients have, ALPN, flytectl's
/// insecureSkipVerify.
#[derive(Clone, Copy, Debug)]
enum Setup {
    /// The case's CA installed everywhere (caCertFilePath, keychain, OS store, NSS).
    Installed,
    /// Nothing trusts it (only the public roots).
    Untrusted,
    /// Installed, and the server selected no ALPN protocol.
    NoAlpn,
    /// Installed, and the server selected http/1.1.
    Http1,
    /// Untrusted, with insecureSkipVerify.
    InsecureSkipVerify,
}

fn setups(index: usize) -> Vec<Setup> {
    let mut setups = vec![Setup::Installed, Setup::Untrusted];
    match index % 8 {
        1 => setups.push(Setup::NoAlpn),
        3 => setups.push(Setup::Http1),
        5 => setups.push(Setup::InsecureSkipVerify),
        _ => {}
    }
    setups
}

fn verdicts(case: &Case, ca: &TrustStore, ca_path: &Path, setup: Setup) -> Vec<ClientVerdict> {
    let installed = !matches!(setup, Setup::Untrusted | Setup::InsecureSkipVerify);
    let mut stores = vec![
        TrustStore {
            kind: StoreKind::System,
            anchors: Vec::new(),
            anchor_certs: Vec::new(),
            source: "an empty SSL_CERT_FILE".into(),
            warnings: Vec::new(),
        },
        TrustStore {
            kind: StoreKind::Mozilla,
            anchors: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            anchor_certs: Vec::new(),
            source: "Mozilla roots compiled into certready".into(),
            warnings: Vec::new(),
        },
    ];
    if installed {
        stores.push(ca.clone());
    }
    let clients = ClientOptions {
        flytectl: FlytectlSettings {
            ca_cert_file: installed.then(|| ca_path.to_path_buf()),
            insecure_skip_verify: matches!(setup, Setup::InsecureSkipVerify),
            ..FlytectlSettings::default()
        },
        ca_cert_store: installed.then(|| ca.clone()),
        grpc_roots: std::sync::Arc::new(Background::ready(None)),
        ..ClientOptions::default()
    };
    let alpn = match setup {
        Setup::NoAlpn => Some(None),
        Setup::Http1 => Some(Some("http/1.1".to_string())),
        _ => None,
    };
    crate::differential::analyse_case(case, 443, &stores, clients, alpn, None)
        .unwrap()
        .clients
}

/// The round trip over the differential test's chains (rcgen-made and openssl-made),
/// each judged by every client under several setups.
#[test]
fn every_refusal_of_the_generated_chains_is_recognised_with_its_causes() {
    let started = Instant::now();
    let count = env_count("CERTREADY_WHY_COUNT", 1000);
    let keys = generate::Keys::generate();
    let mut cases = generate::generate(SEED, count, &keys, "http://127.0.0.1:9");
    let openssl_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("why-openssl");
    cases.extend(crate::differential::openssl_made::generate(
        SEED,
        count / 10,
        &openssl_dir,
    ));
    let dir = tempfile::tempdir().unwrap();
    let mut refusals = 0;
    let mut known: BTreeMap<String, usize> = BTreeMap::new();
    let mut failures: Vec<String> = Vec::new();
    for (index, case) in cases.iter().enumerate() {
        let ca_path = dir.path().join(format!("ca-{index}.pem"));
        std::fs::write(&ca_path, &case.ca_pem).unwrap();
        let ca = trust::store_from_file(StoreKind::CaFile, &ca_path).unwrap();
        for setup in setups(index) {
            for verdict in verdicts(case, &ca, &ca_path, setup) {
                if verdict.accepts {
                    continue;
                }
                refusals += 1;
                match round_trip(&verdict) {
                    Ok(text) => *known.entry(text).or_default() += 1,
                    Err(e) => failures.push(format!(
                        "case {} ({}) {setup:?}: {e}",
                        case.id, case.description
                    )),
                }
            }
        }
    }
    eprintln!(
        "why round trip: {} cases, {refusals} refusals, {} distinct known texts, {:.1}s",
        cases.len(),
        known.len(),
        started.elapsed().as_secs_f64()
    );
    failures.dedup();
    assert!(
        failures.is_empty(),
        "{} of {refusals} refusals not recognised:\n{}",
        failures.len(),
        failures[..failures.len().min(40)].join("\n")
    );
    // The setups reach every client's own wording, wrappers and ALPN included.
    for expected in [
        "x509: certificate signed by unknown authority",
        "x509: “NAME” certificate is not standards compliant",
        "x509: certificate is valid for NAMES, not HOST",
        "ERR_CERT_AUTHORITY_INVALID",
        "ERR_CERT_COMMON_NAME_INVALID",
        "self-signed certificate in certificate chain",
        "x509: certificate has expired or is not yet valid: “NAME” certificate is expired",
        "remote error: tls: no application protocol",
        "Tls handshake failed (TSI_PROTOCOL_FAILURE): SSL_ERROR_SSL: error:XXXXXXXX:…:OPENSSL_internal:REASON: RESULT",
        "Custom verification check failed with error: UNAUTHENTICATED: Hostname Verification Check failed.",
        "Cannot check peer: missing selected ALPN property.",
    ] {
        assert!(
            known.contains_key(expected),
            "{expected:?} never came up: {:?}",
            known.keys().collect::<Vec<_>>()
        );
    }
}

/// The macOS table's rows (tests/it/apple_model.rs): every client's refusal of each.
#[test]
fn the_apple_tables_refusals_are_recognised() {
    let mut failures = Vec::new();
    let mut macos = 0;
    for row in crate::apple_model::table_verdicts() {
        for verdict in row.verdicts.iter().filter(|v| !v.accepts) {
            if verdict.client.name() == "flytectl-macos" {
                macos += 1;
            }
            if let Err(e) = round_trip(verdict) {
                failures.push(format!("{}: {e}", row.name));
            }
        }
    }
    assert!(macos > 20, "the table refuses on macOS: {macos}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Chrome's net errors as its interstitial shows them, and as devtools does.
#[test]
fn chromes_net_errors_are_recognised() {
    let handshake = ["ERR_SSL_KEY_USAGE_INCOMPATIBLE", "ERR_SSL_PROTOCOL_ERROR"];
    let verifier = certready::verifiers::chrome::CertStatus::ERRORS.map(|(_, _, e)| e);
    for net_error in verifier.iter().chain(&handshake) {
        for text in [format!("NET::{net_error}"), format!("net::{net_error}")] {
            let report = why::explain(&Pasted::from_words(std::slice::from_ref(&text)));
            let [recognised] = report.recognised.as_slice() else {
                panic!("{text}: {:?}", report.recognised);
            };
            assert_eq!(recognised.clients.len(), 1, "{text}");
            assert_eq!(recognised.clients[0].client.name(), "browser");
            for id in certready::clients::texts::chrome_causes(net_error)
                .iter()
                .chain(if net_error.contains("KEY_USAGE") {
                    &[FindingId::IncompatibleKeyUsage, FindingId::LeafIsCa][..]
                } else {
                    &[]
                })
            {
                assert!(
                    recognised.findings.iter().any(|f| f.id == *id),
                    "{text}: {id}"
                );
            }
        }
    }
}

/// `certready why --format json` with `text` on stdin.
fn why_json(lab: &Lab, text: &str) -> (Run, json::WhyDocument) {
    let run = Run::of(
        lab.certready()
            .args(["why", "--format", "json"])
            .write_stdin(text.to_string()),
    );
    run.assert_no_panic();
    let doc = run.why_doc();
    (run, doc)
}

const COMPLIANT_OAUTH: &str = "Post \"https://flyte.example.com:443/oauth2/token\": tls: failed to verify certificate: x509: “flyte.example.com” certificate is not standards compliant";

/// A terminal's wrap: cut every 80 characters, inside words too.
fn hard_wrapped(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    chars
        .chunks(80)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn pasted_variants_of_one_text_read_the_same() {
    let lab = Lab::new();
    let soft_wrapped = textwrap::fill(COMPLIANT_OAUTH, 80);
    assert!(soft_wrapped.lines().count() > 1);
    let variants = [
        COMPLIANT_OAUTH.to_string(),
        COMPLIANT_OAUTH.replace(['“', '”'], "\""),
        hard_wrapped(COMPLIANT_OAUTH),
        soft_wrapped,
        format!("2026-11-29T10:00:00Z ERROR {COMPLIANT_OAUTH}"),
        format!("{{\"level\":\"error\",\"ts\":1764410400,\"msg\":\"login failed\",\"error\":{COMPLIANT_OAUTH:?}}}"),
        format!("level=error msg={COMPLIANT_OAUTH:?}"),
        format!("Error: {}\n", hard_wrapped(&format!("2026-11-29T10:00:00Z ERROR {COMPLIANT_OAUTH}"))),
    ];
    for variant in &variants {
        let (run, doc) = why_json(&lab, variant);
        assert_eq!(run.code, 0, "{variant}\n{}", run.stdout);
        let [recognised] = doc.recognised.as_slice() else {
            panic!("{variant}: {:?}", doc.recognised);
        };
        assert_eq!(
            recognised.known_text, "x509: “NAME” certificate is not standards compliant",
            "{variant}"
        );
        assert_eq!(
            (
                recognised.clients[0].client.as_str(),
                recognised.clients[0].channel.as_str()
            ),
            ("flytectl-macos", "oauth-http"),
            "{variant}"
        );
        assert_eq!(
            recognised.clients.len(),
            1,
            "the wrapper says OAuth: {variant}"
        );
        assert_eq!(recognised.host.as_deref(), Some("flyte.example.com"));
        assert_eq!(recognised.port, Some(443));
        assert_eq!(
            recognised.certificate_name.as_deref(),
            Some("flyte.example.com")
        );
        assert_eq!(recognised.findings[0].id, "validity-exceeds-825-days");
        assert_eq!(
            recognised.next[0].command,
            "certready flyte flyte.example.com"
        );
    }
}

#[test]
fn a_different_host_port_ip_and_dates_are_read_from_the_text() {
    let lab = Lab::new();
    let (_, doc) = why_json(
        &lab,
        "Post \"https://login.corp.internal:8443/oauth2/token\": tls: failed to verify certificate: x509: “login.corp.internal” certificate is not standards compliant",
    );
    let recognised = &doc.recognised[0];
    assert_eq!(recognised.host.as_deref(), Some("login.corp.internal"));
    assert_eq!(recognised.port, Some(8443));
    assert_eq!(
        recognised.next[0].command,
        "certready flyte login.corp.internal:8443"
    );

    // grpc-go's wrapping, an IP dialled, the ingress's default certificate named.
    let (_, doc) = why_json(
        &lab,
        "rpc error: code = Unavailable desc = connection error: desc = \"transport: authentication handshake failed: tls: failed to verify certificate: x509: certificate is valid for ingress.local, not 10.1.2.3\"",
    );
    let recognised = &doc.recognised[0];
    assert_eq!(recognised.host.as_deref(), Some("10.1.2.3"));
    assert!(recognised
        .clients
        .iter()
        .all(|c| c.channel == "grpc" && c.client.starts_with("flytectl")));
    assert_eq!(recognised.findings[0].id, "ingress-default-certificate");
    assert!(recognised
        .rules_out
        .iter()
        .any(|s| s.text.contains("leaf is within its validity period")));

    // Other dates: expired or not yet valid, by what the text says.
    for (text, first) in [
        ("x509: certificate has expired or is not yet valid: current time 2031-01-01T00:00:00Z is after 2030-12-31T23:59:59Z", "expired"),
        ("x509: certificate has expired or is not yet valid: current time 2020-01-01T00:00:00Z is before 2020-02-01T00:00:00Z", "not-yet-valid"),
    ] {
        let (_, doc) = why_json(&lab, text);
        assert_eq!(doc.recognised[0].findings[0].id, first, "{text}");
        assert_eq!(doc.recognised[0].host, None);
        assert!(doc.recognised[0].next[0].command.ends_with(" HOST"));
    }

    // grpcio names the address it dialled, not the host.
    let (_, doc) = why_json(
        &lab,
        "failed to connect to all addresses; last error: UNKNOWN: ipv4:10.0.0.5:443: Tls handshake failed (TSI_PROTOCOL_FAILURE): SSL_ERROR_SSL: error:1000007d:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED: self signed certificate in certificate chain: OK",
    );
    let recognised = &doc.recognised[0];
    assert_eq!(recognised.address.as_deref(), Some("10.0.0.5:443"));
    assert_eq!(recognised.clients.len(), 1);
    assert_eq!(recognised.clients[0].client, "pyflyte");
    assert_eq!(recognised.findings[0].id, "untrusted-root");
    assert_eq!(
        recognised.next[0].command,
        "certready flyte HOST --connect-to 10.0.0.5:443"
    );
}

/// The two texts Flyte's troubleshooting page lists.
#[test]
fn flytes_troubleshooting_texts() {
    let lab = Lab::new();
    let (run, doc) = why_json(
        &lab,
        "x509: \"Kubernetes Ingress Controller Fake Certificate\" certificate is not trusted",
    );
    assert_eq!(run.code, 0);
    let recognised = &doc.recognised[0];
    assert_eq!(recognised.clients[0].client, "flytectl-macos");
    assert_eq!(recognised.findings[0].id, "ingress-default-certificate");
    assert_eq!(
        recognised.certificate_name.as_deref(),
        Some("Kubernetes Ingress Controller Fake Certificate")
    );
    assert_eq!(recognised.host, None, "a CN with blanks is no host name");

    let (run, doc) = why_json(&lab, "OPENSSL_internal:WRONG_VERSION_NUMBER");
    assert_eq!(run.code, 0);
    let recognised = &doc.recognised[0];
    assert_eq!(recognised.clients[0].client, "pyflyte");
    assert_eq!(recognised.clients[0].channel, "grpc");
    assert_eq!(recognised.findings[0].id, "plaintext-endpoint");
    assert!(recognised
        .notes
        .iter()
        .any(|s| s.text.contains("did not answer with TLS")));
}

#[test]
fn what_a_text_rules_out_follows_the_clients_order_of_checks() {
    let lab = Lab::new();
    // Go checks the name before the chain.
    let (_, doc) = why_json(
        &lab,
        "transport: authentication handshake failed: tls: failed to verify certificate: x509: certificate signed by unknown authority",
    );
    let go: Vec<&str> = doc.recognised[0]
        .rules_out
        .iter()
        .map(|s| s.text.as_str())
        .collect();
    assert!(
        go.iter().any(|s| s.starts_with("Not a host-name problem")),
        "{go:?}"
    );
    // grpc checks the name after BoringSSL accepted the chain.
    let (_, doc) = why_json(
        &lab,
        "Custom verification check failed with error: UNAUTHENTICATED: Hostname Verification Check failed.",
    );
    let recognised = &doc.recognised[0];
    assert!(recognised
        .rules_out
        .iter()
        .any(|s| s.text.starts_with("Not a trust problem")));
    assert_eq!(recognised.findings[0].id, "hostname-mismatch");
    // Chrome reports the most serious error: a name error means the chain is trusted.
    let (_, doc) = why_json(&lab, "NET::ERR_CERT_COMMON_NAME_INVALID");
    assert!(doc.recognised[0]
        .rules_out
        .iter()
        .any(|s| s.text.contains("ERR_CERT_AUTHORITY_INVALID")));
    // Apple reports one problem: the others may hide behind it.
    let (_, doc) = why_json(
        &lab,
        "x509: “flyte.example.com” certificate is not standards compliant",
    );
    assert!(doc.recognised[0]
        .notes
        .iter()
        .any(|s| s.text.contains("may be wrong too")));
}

#[test]
fn several_lines_several_texts_in_order() {
    let lab = Lab::new();
    let (run, doc) = why_json(
        &lab,
        "$ flytectl get project\nError: Connection Info: [Endpoint: dns:///flyte.example.com:8443, InsecureConnection?: false, AuthMode: Pkce]: rpc error: code = Unavailable desc = connection error: desc = \"transport: authentication handshake failed: credentials: cannot check peer: missing selected ALPN property\"\n\n$ pyflyte run wf.py\n[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer certificate (_ssl.c:1006)\n",
    );
    assert_eq!(run.code, 0);
    let texts: Vec<&str> = doc
        .recognised
        .iter()
        .map(|r| r.known_text.as_str())
        .collect();
    assert_eq!(
        texts,
        [
            "credentials: cannot check peer: missing selected ALPN property",
            "unable to get local issuer certificate"
        ]
    );
    let alpn = &doc.recognised[0];
    assert_eq!(alpn.findings[0].id, "alpn-no-h2");
    assert_eq!(alpn.host.as_deref(), Some("flyte.example.com"));
    assert_eq!(alpn.port, Some(8443));
    let python = &doc.recognised[1];
    assert_eq!(
        (python.clients[0].client.as_str(), python.clients.len()),
        ("pyflyte", 1)
    );
    assert_eq!(python.clients[0].channel, "oauth-http");

    // requests names the host and port around OpenSSL's words.
    let (_, doc) = why_json(
        &lab,
        "requests.exceptions.SSLError: HTTPSConnectionPool(host='idp.example.com', port=8443): Max retries exceeded with url: /oauth2/token (Caused by SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate (_ssl.c:1006)')))",
    );
    let python = &doc.recognised[0];
    assert_eq!(python.host.as_deref(), Some("idp.example.com"));
    assert_eq!(python.port, Some(8443));
    assert_eq!(python.findings[0].id, "self-signed-leaf");
}

#[test]
fn unknown_text_exits_3_with_the_closest_known_texts() {
    let lab = Lab::new();
    let (run, doc) = why_json(&lab, "x509: certificate signed by unknwon authority");
    assert_eq!(run.code, 3);
    assert!(doc.recognised.is_empty());
    assert_eq!(
        doc.closest[0].known_text,
        "x509: certificate signed by unknown authority"
    );
    let run = lab.run(&["why", "the", "printer", "is", "on", "fire"]);
    assert_eq!(run.code, 3);
    assert!(
        run.stdout.contains("no error text certready knows"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("Closest known texts"), "{}", run.stdout);
}

#[test]
fn empty_input_is_a_usage_error() {
    let lab = Lab::new();
    for run in [
        Run::of(lab.certready().args(["why"]).write_stdin("")),
        Run::of(lab.certready().args(["why", "-"]).write_stdin(" \n\t\n")),
        lab.run(&["why", ""]),
    ] {
        assert_eq!(run.code, 3, "{}", run.stdout);
        assert!(run.stderr.contains("no error text"), "{}", run.stderr);
        assert!(run.stdout.is_empty());
    }
    let run = lab.run(&["why", "x509: oops", "--format", "prometheus"]);
    assert_eq!(run.code, 3);
    assert!(run.stderr.contains("possible values"), "{}", run.stderr);
}

/// 10 MB pasted: only the first 64 KiB are read, the answer says so, and it comes fast.
#[test]
fn a_ten_megabyte_paste_is_bounded() {
    let lab = Lab::new();
    let line = "2026-11-29T10:00:00Z INFO flyteadmin: request served in 12ms for project flytesnacks development\n";
    let mut paste = format!("{COMPLIANT_OAUTH}\n");
    while paste.len() < 10_000_000 {
        paste.push_str(line);
    }
    let started = Instant::now();
    let (run, doc) = why_json(&lab, &paste);
    let elapsed = started.elapsed();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(doc.input.truncated);
    assert_eq!(doc.input.bytes_read, doc.input.limit_bytes);
    assert_eq!(doc.recognised.len(), 1);
    assert!(elapsed < Duration::from_secs(20), "{elapsed:?}");

    // The same error ten megabytes over: read once, reported once.
    let repeated = format!("{COMPLIANT_OAUTH}\n").repeat(10_000_000 / COMPLIANT_OAUTH.len());
    let (run, doc) = why_json(&lab, &repeated);
    assert_eq!(run.code, 0);
    assert_eq!(doc.recognised.len(), 1);
    let text = Run::of(lab.certready().arg("why").write_stdin(repeated));
    assert!(
        text.stdout.contains("only the first 64 KiB"),
        "{}",
        text.stdout
    );
}

#[test]
fn text_and_markdown() {
    let lab = Lab::new();
    let run = lab.run(&["why", COMPLIANT_OAUTH]);
    assert_eq!(run.code, 0);
    for expected in [
        "printed by   flytectl-macos oauth-http: Apple's trustd (through Go)",
        "validity-exceeds-825-days",
        "$ certready flyte flyte.example.com",
    ] {
        assert!(run.stdout.contains(expected), "{expected}:\n{}", run.stdout);
    }
    for line in run.stdout.lines() {
        assert!(line.chars().count() <= 80, "{line:?}");
    }
    let run = lab.run(&["why", "--format", "markdown", COMPLIANT_OAUTH]);
    assert_eq!(run.code, 0);
    assert!(run
        .stdout
        .starts_with("# certready why — 1 error text recognised"));
    for expected in [
        "| flytectl-macos | oauth-http |",
        "### Likely causes",
        "1. `validity-exceeds-825-days`",
        "```sh\ncertready flyte flyte.example.com\n```",
    ] {
        assert!(run.stdout.contains(expected), "{expected}:\n{}", run.stdout);
    }
}

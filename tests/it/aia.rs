//! AIA fetching against loopback caIssuers servers: a missing intermediate fetched as DER
//! or PKCS#7 rescues the clients that fetch (Chrome, macOS) and only them; hostile answers
//! (stalls, 100 MB, redirect loops, https, a wrong certificate, garbage) end in a note,
//! never a hang; --no-fetch and a complete chain fetch nothing.

use std::time::Duration;

use crate::common::aia::{aia_server, AiaServer, Answer};
use crate::common::*;
use certready::lab::{self, Issued, Spec};

const DER: &str = "application/pkix-cert";

/// A private PKI whose leaf names `url` as its caIssuers URL.
fn pki_with_aia(url: &str) -> Pki {
    let mut leaf = Spec::leaf(HOST);
    leaf.ca_issuers_url = Some(url.to_string());
    Pki::with_leaf(leaf)
}

/// A PKI whose leaf names `path` on a loopback AIA server answering `answer` (made from
/// the PKI) and `more`; the TLS server sends only the leaf.
fn leaf_only(
    lab: &Lab,
    path: &str,
    answer: impl FnOnce(&Pki) -> Answer,
    more: Vec<(&str, Answer)>,
) -> (Pki, AiaServer, lab::Server) {
    let aia = aia_server(lab, more);
    let pki = pki_with_aia(&aia.url(path));
    aia.route(path, answer(&pki));
    let server = lab.serve(&[&pki.leaf], &pki.leaf);
    (pki, aia, server)
}

fn check(lab: &Lab, server: &lab::Server, extra: &[&str]) -> Run {
    let mut args = vec!["--timeout", "2s"];
    args.extend_from_slice(extra);
    let run = lab.check_json(server.addr, HOST, &args);
    run.assert_no_panic();
    assert!(
        run.elapsed < Duration::from_secs(20),
        "took {:?}",
        run.elapsed
    );
    run
}

#[test]
fn a_missing_intermediate_served_as_der_rescues_browsers_and_macos_only() {
    let lab = Lab::new();
    let (pki, aia, server) = leaf_only(
        &lab,
        "/issuing.crt",
        |pki| Answer::Body(DER, pki.intermediate.der.to_vec()),
        vec![],
    );
    // The root in the OS store: flytectl on macOS then asks trustd on both channels.
    lab.trust_system(&pki.root);
    let run = check(&lab, &server, &[]);
    assert_eq!(
        run.code, 2,
        "the server should still send it: {}",
        run.stdout
    );
    let report = run.report();
    assert_eq!(aia.requests(), ["/issuing.crt"]);
    assert_eq!(report.chain.len(), 1);
    assert_eq!(report.chain[0].source, "sent");
    let fetched = &report.aia_fetched;
    assert_eq!(fetched.len(), 1, "{:?}", report.aia_notes);
    assert_eq!(fetched[0].subject, "CN=Test Issuing CA");
    assert_eq!(fetched[0].source, "aia");
    assert_eq!(
        fetched[0].url.as_deref(),
        Some(aia.url("/issuing.crt").as_str())
    );
    assert_eq!(fetched[0].position, 1);
    assert!(report.aia_notes.is_empty(), "{:?}", report.aia_notes);

    for (client, channel) in [
        ("browser", "https"),
        ("flytectl-macos", "grpc"),
        ("flytectl-macos", "oauth-http"),
    ] {
        let verdict = report.client(client, channel);
        assert!(verdict.accepts, "{client} {channel}: {verdict:?}");
    }
    for (client, channel) in [
        ("flytectl-linux", "grpc"),
        ("flytectl-linux", "oauth-http"),
        ("pyflyte", "oauth-http"),
    ] {
        assert!(
            !report.client(client, channel).accepts,
            "{client} {channel}"
        );
    }
    assert!(report
        .client("browser", "https")
        .note
        .as_deref()
        .unwrap()
        .contains("as certready did"));
    let message = &report.finding("incomplete-chain").message;
    assert!(
        message.contains(
            "AIA rescues flytectl-macos (grpc, oauth-http), browser (https): they fetch it and accept"
        ),
        "{message}"
    );
    assert!(
        message
            .contains("flytectl-linux (grpc, oauth-http), pyflyte (grpc, oauth-http) still refuse"),
        "{message}"
    );
    assert_eq!(report.recommendations[0].id, "add-missing-intermediate");

    // The text report shows what was fetched from where.
    let text = lab.check(server.addr, HOST, &["--timeout", "2s"]);
    assert!(
        text.stdout.contains("Fetched via AIA, not sent"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout
            .contains(&format!("from     {}", aia.url("/issuing.crt"))),
        "{}",
        text.stdout
    );
    let markdown = lab.check(server.addr, HOST, &["--format", "markdown"]);
    assert!(
        markdown.stdout.contains(&format!(
            "(fetched from `{}`, not sent)",
            aia.url("/issuing.crt")
        )),
        "{}",
        markdown.stdout
    );
}

/// openssl's `crl2pkcs7 -nocrl` output (testdata/aia-int.p7c) at a URL on a named host,
/// reached through the run's proxy as the other HTTP requests are.
#[test]
fn a_pkcs7_intermediate_is_fetched_through_the_proxy() {
    let lab = Lab::new();
    let leaf = Issued::from_pem(
        &std::fs::read_to_string("testdata/aia-leaf.pem").unwrap(),
        &std::fs::read_to_string("testdata/aia-leaf.key").unwrap(),
    )
    .unwrap();
    let p7c = std::fs::read("testdata/aia-int.p7c").unwrap();
    // The test server answers the proxy's absolute-form GET itself.
    let proxy = aia_server(
        &lab,
        vec![("/aia-int.p7c", Answer::Body("application/pkcs7-mime", p7c))],
    );
    let server = lab.serve(&[&leaf], &leaf);
    let target = format!("{HOST}:{}", server.addr.port());
    let resolve = format!("{HOST}:{}:127.0.0.1", server.addr.port());
    let run = Run::of(
        lab.certready()
            .env("HTTPS_PROXY", format!("http://{}", proxy.addr))
            .env("NO_PROXY", HOST)
            .args(["check", &target, "--resolve", &resolve, "--format", "json"])
            .args(["--ca-file", "testdata/aia-root.pem", "--timeout", "2s"]),
    );
    let report = run.report();
    assert_eq!(proxy.requests(), ["/aia-int.p7c"], "{:?}", report.aia_notes);
    assert_eq!(report.proxy, None, "the TLS probe itself is exempt");
    assert_eq!(report.aia_fetched.len(), 1, "{:?}", report.aia_notes);
    assert_eq!(report.aia_fetched[0].subject, "CN=AIA Test Issuing CA");
    assert_eq!(
        report.aia_fetched[0].url.as_deref(),
        Some("http://pki.example.com/aia-int.p7c")
    );
    assert!(report.client("browser", "https").accepts);
    assert!(!report.client("pyflyte", "grpc").accepts);
}

#[test]
fn no_fetch_fetches_nothing_and_says_so() {
    let lab = Lab::new();
    let (pki, aia, server) = leaf_only(
        &lab,
        "/issuing.crt",
        |pki| Answer::Body(DER, pki.intermediate.der.to_vec()),
        vec![],
    );
    let root = pki.root_file(&lab);
    let run = check(&lab, &server, &["--ca-file", path_str(&root), "--no-fetch"]);
    let report = run.report();
    assert!(aia.requests().is_empty());
    assert!(report.aia_fetched.is_empty());
    let browser = report.client("browser", "https");
    assert!(!browser.accepts);
    assert!(
        browser
            .note
            .as_deref()
            .unwrap()
            .contains(&aia.url("/issuing.crt")),
        "{browser:?}"
    );
    let message = &report.finding("incomplete-chain").message;
    assert!(
        message.contains("did not fetch it (--no-fetch)"),
        "{message}"
    );
}

#[test]
fn a_complete_chain_fetches_nothing() {
    let lab = Lab::new();
    let aia = aia_server(&lab, vec![]);
    let pki = pki_with_aia(&aia.url("/issuing.crt"));
    aia.route(
        "/issuing.crt",
        Answer::Body(DER, pki.intermediate.der.to_vec()),
    );
    let server = lab.serve_pki(&pki);
    let root = pki.root_file(&lab);
    let run = check(&lab, &server, &["--ca-file", path_str(&root)]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(aia.requests().is_empty());
    let report = run.report();
    assert!(report.aia_fetched.is_empty() && report.aia_notes.is_empty());
}

#[test]
fn two_missing_intermediates_are_fetched_one_after_the_other() {
    let lab = Lab::new();
    let aia = aia_server(&lab, vec![]);
    let url = |path: &str| aia.url(path);
    let root = lab::self_signed(&Spec::ca("Hop Root")).unwrap();
    let mut upper = Spec::ca("Hop Upper CA");
    upper.ca_issuers_url = Some(url("/root.crt"));
    let upper = lab::issue(&upper, &root).unwrap();
    let mut lower = Spec::ca("Hop Lower CA");
    lower.ca_issuers_url = Some(url("/upper.crt"));
    let lower = lab::issue(&lower, &upper).unwrap();
    let mut leaf = Spec::leaf(HOST);
    leaf.ca_issuers_url = Some(url("/lower.crt"));
    let leaf = lab::issue(&leaf, &lower).unwrap();
    aia.route("/lower.crt", Answer::Body(DER, lower.der.to_vec()));
    aia.route("/upper.crt", Answer::Body(DER, upper.der.to_vec()));
    aia.route("/root.crt", Answer::Body(DER, root.der.to_vec()));
    let server = lab.serve(&[&leaf], &leaf);
    let root_file = lab.file("root.pem", &root.pem);
    let report = check(&lab, &server, &["--ca-file", path_str(&root_file)]).report();
    // The upper CA's issuer is the trusted root: no need to fetch the root itself.
    assert_eq!(aia.requests(), ["/lower.crt", "/upper.crt"]);
    let subjects: Vec<&str> = report
        .aia_fetched
        .iter()
        .map(|c| c.subject.as_str())
        .collect();
    assert_eq!(subjects, ["CN=Hop Lower CA", "CN=Hop Upper CA"]);
    assert!(report.client("browser", "https").accepts);
    assert!(report.client("flytectl-macos", "oauth-http").accepts);
}

/// The server sends an intermediate signed by a root nobody trusts (a cross-signed copy)
/// and no caIssuers URL of its own; the leaf's URL serves the same intermediate signed by
/// the trusted root. Chromium backtracks to the leaf and fetches its URL (a real Chromium
/// accepted this chain in the differential test, seed 11 case 1249); so does trustd.
#[test]
fn the_leaf_s_caissuers_url_is_fetched_when_the_sent_intermediate_leads_nowhere() {
    let lab = Lab::new();
    let aia = aia_server(&lab, vec![]);
    let root = lab::self_signed(&Spec::ca("Backtrack Root")).unwrap();
    let cross_root = lab::self_signed(&Spec::ca("Backtrack Cross Root")).unwrap();
    let issuing = lab::issue(&Spec::ca("Backtrack Issuing CA"), &root).unwrap();
    let cross_signed = lab::issue_with_key(
        &Spec::ca("Backtrack Issuing CA"),
        issuing.key_copy(),
        &cross_root,
    )
    .unwrap();
    let mut leaf = Spec::leaf(HOST);
    leaf.ca_issuers_url = Some(aia.url("/issuing.crt"));
    let leaf = lab::issue(&leaf, &issuing).unwrap();
    aia.route("/issuing.crt", Answer::Body(DER, issuing.der.to_vec()));
    let server = lab.serve(&[&leaf, &cross_signed], &leaf);
    let root_file = lab.file("root.pem", &root.pem);
    lab.trust_system(&root);
    let report = check(&lab, &server, &["--ca-file", path_str(&root_file)]).report();
    assert_eq!(aia.requests(), ["/issuing.crt"]);
    assert_eq!(report.aia_fetched.len(), 1, "{:?}", report.aia_notes);
    assert!(report.client("browser", "https").accepts, "{report:#?}");
    assert!(report.client("flytectl-macos", "oauth-http").accepts);
    // Go does not fetch: the sent intermediate's root is unknown to it.
    assert!(!report.client("flytectl-linux", "grpc").accepts);
}

/// A leaf trusted directly (its own certificate in the CA file): Chromium takes a trust
/// anchor in the leaf position as unspecified and still looks for the leaf's issuer,
/// fetching it (in the differential test, seed 53, a real Chromium fetched an Ed25519
/// intermediate there and said ERR_CERT_INVALID) — so certready fetches it too. Go,
/// which does not fetch, still accepts the trusted leaf.
#[test]
fn a_leaf_trusted_directly_still_has_its_issuer_fetched() {
    let lab = Lab::new();
    let (pki, aia, server) = leaf_only(
        &lab,
        "/issuing.crt",
        |pki| Answer::Body(DER, pki.intermediate.der.to_vec()),
        vec![],
    );
    let leaf_file = lab.file("leaf.pem", &pki.leaf.pem);
    let report = check(&lab, &server, &["--ca-file", path_str(&leaf_file)]).report();
    assert_eq!(aia.requests(), ["/issuing.crt"]);
    assert_eq!(report.aia_fetched.len(), 1, "{:?}", report.aia_notes);
    assert!(
        report.client("flytectl-linux", "grpc").accepts,
        "{report:#?}"
    );
    // trustd takes the anchored leaf as it is; the fetched issuer changes nothing there.
    assert!(
        report.client("flytectl-macos", "grpc").accepts,
        "{report:#?}"
    );
}

#[test]
fn an_issuer_reached_through_a_redirect_rescues_chrome_but_not_macos() {
    let lab = Lab::new();
    let (pki, aia, server) = leaf_only(
        &lab,
        "/old.crt",
        |pki| Answer::Body(DER, pki.intermediate.der.to_vec()),
        vec![],
    );
    // The issuer moved: the old URL redirects.
    let moved = aia.url("/old.crt").replace("/old.crt", "/new.crt");
    aia.route("/new.crt", Answer::Body(DER, pki.intermediate.der.to_vec()));
    aia.route("/old.crt", Answer::Redirect(moved));
    let root = pki.root_file(&lab);
    let report = check(&lab, &server, &["--ca-file", path_str(&root)]).report();
    assert_eq!(aia.requests(), ["/old.crt", "/new.crt"]);
    assert_eq!(report.aia_fetched.len(), 1);
    assert!(report.client("browser", "https").accepts);
    assert!(!report.client("flytectl-macos", "oauth-http").accepts);
    assert!(
        report.aia_notes[0].contains("Chrome follows the redirect, macOS does not"),
        "{:?}",
        report.aia_notes
    );
}

/// One hostile answer at the leaf's caIssuers URL: the run ends in time with exit 2 (the
/// chain is still incomplete, not an unknown), nothing fetched, and a note saying why.
fn hostile(path: &str, answer: Answer, more: Vec<(&str, Answer)>, expected: &str) -> Vec<String> {
    let lab = Lab::new();
    let (pki, aia, server) = leaf_only(&lab, path, |_| answer, more);
    let root = pki.root_file(&lab);
    let run = check(&lab, &server, &["--ca-file", path_str(&root)]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    let report = run.report();
    assert!(report.aia_fetched.is_empty());
    assert_eq!(report.aia_notes.len(), 1, "{:?}", report.aia_notes);
    let note = &report.aia_notes[0];
    assert!(note.starts_with(&aia.url(path)), "{note}");
    assert!(note.contains(expected), "{note}");
    assert!(!report.client("browser", "https").accepts);
    let message = &report.finding("incomplete-chain").message;
    assert!(
        message.contains("certready could not fetch it") && message.contains(expected),
        "{message}"
    );
    aia.requests()
}

#[test]
fn a_stalled_caissuers_server_times_out_into_a_note() {
    let started = std::time::Instant::now();
    hostile("/stall.crt", Answer::Stall, vec![], "timed out after 2s");
    assert!(started.elapsed() < Duration::from_secs(15));
}

#[test]
fn a_100_mb_answer_is_cut_at_64_kib() {
    hostile("/huge.crt", Answer::Huge, vec![], "larger than 64 KiB");
    hostile(
        "/endless.crt",
        Answer::Endless,
        vec![],
        "larger than 64 KiB",
    );
}

#[test]
fn a_redirect_loop_ends_with_a_note() {
    let requests = hostile(
        "/a.crt",
        Answer::Redirect("/b.crt".into()),
        vec![("/b.crt", Answer::Redirect("/a.crt".into()))],
        "redirected in a loop",
    );
    assert_eq!(requests, ["/a.crt", "/b.crt"]);
}

#[test]
fn a_redirect_to_https_is_refused() {
    hostile(
        "/moved.crt",
        Answer::Redirect("https://127.0.0.1:1/issuing.crt".into()),
        vec![],
        "not http://",
    );
}

#[test]
fn garbage_and_errors_are_named() {
    hostile(
        "/page.crt",
        Answer::Body("text/html", b"<html>moved</html>".to_vec()),
        vec![],
        "no certificate",
    );
    hostile(
        "/gone.crt",
        Answer::Status(404),
        vec![],
        "answered HTTP 404",
    );
}

#[test]
fn a_certificate_that_is_not_the_issuer_is_not_kept() {
    // Same name as the real issuer, another key: only the signature tells them apart.
    let impostor = lab::self_signed(&Spec::ca("Test Issuing CA")).unwrap();
    hostile(
        "/issuing.crt",
        Answer::Body(DER, impostor.der.to_vec()),
        vec![],
        "served a certificate that is not the issuer",
    );
}

#[test]
fn an_https_caissuers_url_is_not_fetched() {
    let lab = Lab::new();
    let aia = aia_server(&lab, vec![]);
    let url = format!("https://{}/issuing.crt", aia.addr);
    let pki = pki_with_aia(&url);
    let server = lab.serve(&[&pki.leaf], &pki.leaf);
    let root = pki.root_file(&lab);
    let report = check(&lab, &server, &["--ca-file", path_str(&root)]).report();
    assert!(aia.requests().is_empty());
    assert!(
        report.aia_notes[0].contains("only http:// caIssuers URLs are fetched"),
        "{:?}",
        report.aia_notes
    );
}

/// Cloud metadata services answer on link-local addresses; no CA publishes there. A
/// certificate from any server checked (or `serve`d) must not make certready fetch from
/// there: refused before connecting, so the test touches no network.
#[test]
fn a_link_local_caissuers_url_is_not_fetched() {
    let lab = Lab::new();
    let pki = pki_with_aia("http://169.254.169.254/latest/meta-data/");
    let server = lab.serve(&[&pki.leaf], &pki.leaf);
    let root = pki.root_file(&lab);
    let report = check(&lab, &server, &["--ca-file", path_str(&root)]).report();
    assert!(report.aia_fetched.is_empty());
    assert!(
        report.aia_notes[0].contains("169.254.169.254 is a link-local or special address"),
        "{:?}",
        report.aia_notes
    );
}

#[test]
fn a_redirect_to_a_link_local_address_is_refused() {
    hostile(
        "/metadata.crt",
        Answer::Redirect("http://[fe80::1]/latest".into()),
        vec![],
        "is a link-local or special address",
    );
}

/// A file is judged as it will be served: `inspect` fetches too (--no-fetch to stay offline).
#[test]
fn inspect_fetches_what_a_file_lacks() {
    let lab = Lab::new();
    let (pki, aia, _server) = leaf_only(
        &lab,
        "/issuing.crt",
        |pki| Answer::Body(DER, pki.intermediate.der.to_vec()),
        vec![],
    );
    let leaf = lab.file("tls.crt", &pki.leaf.pem);
    let root = pki.root_file(&lab);
    let args = [
        "inspect",
        path_str(&leaf),
        "--hostname",
        HOST,
        "--ca-file",
        path_str(&root),
        "--format",
        "json",
    ];
    let report = lab.run(&args).report();
    assert_eq!(aia.requests(), ["/issuing.crt"]);
    assert_eq!(report.aia_fetched.len(), 1, "{:?}", report.aia_notes);
    assert!(report.client("browser", "https").accepts);

    let mut offline = args.to_vec();
    offline.push("--no-fetch");
    let report = lab.run(&offline).report();
    assert_eq!(aia.requests().len(), 1, "--no-fetch made no request");
    assert!(report.aia_fetched.is_empty());
    assert!(!report.client("browser", "https").accepts);
}

/// A fetched issuer is judged like a sent one: Chrome refuses an expired one.
#[test]
fn an_expired_fetched_intermediate_does_not_rescue_chrome() {
    let lab = Lab::new();
    let aia = aia_server(&lab, vec![]);
    let root = lab::self_signed(&Spec::ca("Test Root CA")).unwrap();
    let mut expired = Spec::ca("Test Issuing CA");
    expired.starts_in_days = -30;
    expired.lifetime_days = 10;
    let intermediate = lab::issue(&expired, &root).unwrap();
    let mut leaf = Spec::leaf(HOST);
    leaf.ca_issuers_url = Some(aia.url("/issuing.crt"));
    let leaf = lab::issue(&leaf, &intermediate).unwrap();
    aia.route("/issuing.crt", Answer::Body(DER, intermediate.der.to_vec()));
    let server = lab.serve(&[&leaf], &leaf);
    let root_file = lab.file("root.pem", &root.pem);
    let report = check(&lab, &server, &["--ca-file", path_str(&root_file)]).report();
    assert_eq!(report.aia_fetched.len(), 1);
    let browser = report.client("browser", "https");
    assert_eq!(browser.error.as_deref(), Some("NET::ERR_CERT_DATE_INVALID"));
    let message = &report.finding("incomplete-chain").message;
    assert!(message.contains("it rescues no client"), "{message}");
}

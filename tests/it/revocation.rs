//! Revocation on loopback: a PKI made by the openssl command, OCSP responses and CRLs it
//! signs (good, revoked, stale, by a delegated responder, by a stranger), served by a
//! loopback HTTP server standing in for the CA, and stapled by `openssl s_server
//! -status_file`. A responder that is down or stalls is at most a warning and never
//! holds the check past its timeout.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::aia::{aia_server, AiaServer, Answer};
use crate::common::s_server::SServer;
use crate::common::*;

const OCSP: &str = "application/ocsp-response";

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A root (and a delegated OCSP responder, and a stranger CA) and a leaf for HOST whose
/// AIA and CRL distribution point name `server`'s /ocsp and /ca.crl.
struct Pki {
    dir: PathBuf,
    serial: String,
}

#[derive(Clone, Copy)]
struct LeafOptions {
    ocsp: bool,
    crl: bool,
    must_staple: bool,
}

const BOTH: LeafOptions = LeafOptions {
    ocsp: true,
    crl: true,
    must_staple: false,
};

impl Pki {
    fn new(lab: &Lab, name: &str, server: &AiaServer, leaf: LeafOptions) -> Pki {
        let dir = lab.dir.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ];
        for (stem, subject) in [
            ("ca", "/CN=Revocation Test Root"),
            ("stranger", "/CN=Stranger Root"),
        ] {
            let mut args = vec!["req", "-x509"];
            args.extend(ec);
            let key = format!("{stem}.key");
            let cert = format!("{stem}.pem");
            args.extend([
                "-keyout",
                &key,
                "-out",
                &cert,
                "-days",
                "3650",
                "-subj",
                subject,
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ]);
            openssl(&dir, &args);
        }
        let mut ext = "subjectAltName=DNS:flyte.example.com\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\nbasicConstraints=critical,CA:FALSE\n".to_string();
        if leaf.ocsp {
            ext.push_str(&format!(
                "authorityInfoAccess=OCSP;URI:{}\n",
                server.url("/ocsp")
            ));
        }
        if leaf.crl {
            ext.push_str(&format!(
                "crlDistributionPoints=URI:{}\n",
                server.url("/ca.crl")
            ));
        }
        if leaf.must_staple {
            ext.push_str("tlsfeature=status_request\n");
        }
        std::fs::write(dir.join("leaf.ext"), ext).unwrap();
        std::fs::write(
            dir.join("responder.ext"),
            "extendedKeyUsage=OCSPSigning\nkeyUsage=critical,digitalSignature\nbasicConstraints=critical,CA:FALSE\n",
        )
        .unwrap();
        for (stem, subject) in [
            ("leaf", "/CN=leaf"),
            ("responder", "/CN=Test OCSP Responder"),
        ] {
            let mut args = vec!["req"];
            args.extend(ec);
            let key = format!("{stem}.key");
            let csr = format!("{stem}.csr");
            args.extend(["-keyout", &key, "-out", &csr, "-subj", subject]);
            openssl(&dir, &args);
            let cert = format!("{stem}.pem");
            let ext = format!("{stem}.ext");
            openssl(
                &dir,
                &[
                    "x509",
                    "-req",
                    "-in",
                    &csr,
                    "-CA",
                    "ca.pem",
                    "-CAkey",
                    "ca.key",
                    "-CAcreateserial",
                    "-out",
                    &cert,
                    "-days",
                    "90",
                    "-sha256",
                    "-extfile",
                    &ext,
                ],
            );
        }
        let serial = Command::new("openssl")
            .current_dir(&dir)
            .args(["x509", "-in", "leaf.pem", "-noout", "-serial"])
            .output()
            .unwrap();
        let serial = String::from_utf8_lossy(&serial.stdout)
            .trim()
            .trim_start_matches("serial=")
            .to_string();
        openssl(
            &dir,
            &[
                "ocsp",
                "-issuer",
                "ca.pem",
                "-cert",
                "leaf.pem",
                "-reqout",
                "req.der",
                "-no_nonce",
            ],
        );
        std::fs::write(
            dir.join("ca.cnf"),
            "[ca]\ndefault_ca = test\n[test]\ndatabase = index.txt\ncrlnumber = crlnumber\ndefault_md = sha256\ndefault_crl_days = 7\n",
        )
        .unwrap();
        std::fs::write(dir.join("crlnumber"), "01\n").unwrap();
        Pki { dir, serial }
    }

    fn path(&self, file: &str) -> String {
        self.dir.join(file).to_str().unwrap().to_string()
    }

    /// The CA's database: the leaf valid, or revoked for keyCompromise.
    fn index(&self, revoked: bool) {
        let line = if revoked {
            format!(
                "R\t301231235959Z\t261101000000Z,keyCompromise\t{}\tunknown\t/CN=leaf\n",
                self.serial
            )
        } else {
            format!("V\t301231235959Z\t\t{}\tunknown\t/CN=leaf\n", self.serial)
        };
        std::fs::write(self.dir.join("index.txt"), line).unwrap();
    }

    /// An OCSP response about the leaf, signed by `signer` (`ca`, `responder`,
    /// `stranger`), current for `minutes` (or a day).
    fn ocsp(&self, revoked: bool, signer: &str, minutes: Option<u32>) -> Vec<u8> {
        self.index(revoked);
        let cert = format!("{signer}.pem");
        let key = format!("{signer}.key");
        let validity = match minutes {
            Some(m) => ["-nmin".to_string(), m.to_string()],
            None => ["-ndays".to_string(), "1".to_string()],
        };
        let mut args = vec![
            "ocsp",
            "-index",
            "index.txt",
            "-rsigner",
            &cert,
            "-rkey",
            &key,
            "-CA",
            "ca.pem",
            "-reqin",
            "req.der",
            "-respout",
            "resp.der",
        ];
        args.extend(validity.iter().map(String::as_str));
        if signer == "responder" {
            args.extend(["-resp_key_id"]);
        }
        openssl(&self.dir, &args);
        std::fs::read(self.dir.join("resp.der")).unwrap()
    }

    /// The responder's answer for a serial its database does not hold: status unknown.
    fn ocsp_unknown(&self) -> Vec<u8> {
        std::fs::write(self.dir.join("index.txt"), "").unwrap();
        openssl(
            &self.dir,
            &[
                "ocsp",
                "-index",
                "index.txt",
                "-rsigner",
                "ca.pem",
                "-rkey",
                "ca.key",
                "-CA",
                "ca.pem",
                "-reqin",
                "req.der",
                "-respout",
                "resp.der",
                "-ndays",
                "1",
            ],
        );
        std::fs::read(self.dir.join("resp.der")).unwrap()
    }

    /// The CA's CRL (DER), listing the leaf when `revoked`.
    fn crl(&self, revoked: bool) -> Vec<u8> {
        self.index(revoked);
        openssl(
            &self.dir,
            &[
                "ca", "-gencrl", "-config", "ca.cnf", "-keyfile", "ca.key", "-cert", "ca.pem",
                "-out", "crl.pem",
            ],
        );
        openssl(
            &self.dir,
            &[
                "crl", "-in", "crl.pem", "-outform", "DER", "-out", "crl.der",
            ],
        );
        std::fs::read(self.dir.join("crl.der")).unwrap()
    }
}

/// `openssl s_server` with the leaf on 127.0.0.1, stapling `staple` when given.
fn s_server(pki: &Pki, staple: Option<&[u8]>) -> SServer {
    s_server_alpn(pki, staple, true)
}

/// `alpn`: offer h2 (as an ingress does for gRPC); without it a browser speaks HTTP/1.1,
/// which is all `-www` answers.
fn s_server_alpn(pki: &Pki, staple: Option<&[u8]>, alpn: bool) -> SServer {
    let mut args = vec![
        "-cert".to_string(),
        pki.path("leaf.pem"),
        "-key".into(),
        pki.path("leaf.key"),
        "-www".into(),
    ];
    if alpn {
        args.extend(["-alpn".into(), "h2,http/1.1".into()]);
    }
    if let Some(staple) = staple {
        // s_server reads the file per handshake: one file per response.
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        staple.hash(&mut hasher);
        let file = pki.dir.join(format!("staple-{:x}.der", hasher.finish()));
        std::fs::write(&file, staple).unwrap();
        args.extend(["-status_file".into(), file.to_str().unwrap().to_string()]);
    }
    SServer::start(&args)
}

fn check(lab: &Lab, pki: &Pki, server: &SServer, extra: &[&str]) -> (json::Report, Run) {
    let target = format!("{HOST}:{}", server.port);
    let resolve = format!("{HOST}:{}:127.0.0.1", server.port);
    let ca = pki.path("ca.pem");
    let mut args = vec![
        "check",
        &target,
        "--resolve",
        &resolve,
        "--ca-file",
        &ca,
        "--format",
        "json",
    ];
    if !extra.contains(&"--revocation-timeout") {
        args.extend(["--revocation-timeout", "2s"]);
    }
    args.extend_from_slice(extra);
    let run = lab.run(&args);
    run.assert_no_panic();
    (run.report(), run)
}

fn ids(report: &json::Report) -> Vec<&str> {
    report.findings.iter().map(|f| f.id.as_str()).collect()
}

fn browser(report: &json::Report) -> &json::ClientVerdict {
    report
        .clients
        .iter()
        .find(|c| c.client == "browser")
        .unwrap()
}

#[test]
fn a_good_answer_from_the_responder() {
    let lab = Lab::new();
    let ca = aia_server(&lab, vec![]);
    let pki = Pki::new(&lab, "good", &ca, BOTH);
    ca.route("/ocsp", Answer::Body(OCSP, pki.ocsp(false, "ca", None)));
    let server = s_server(&pki, None);
    let (report, run) = check(&lab, &pki, &server, &[]);
    let leaf = &report.revocation[0];
    assert_eq!(
        (leaf.status.as_str(), leaf.source.as_deref()),
        ("good", Some("ocsp"))
    );
    let ocsp = leaf.ocsp.as_ref().unwrap();
    assert_eq!(ocsp.signature.as_deref(), Some("valid"));
    assert_eq!(ocsp.signer.as_deref(), Some("the issuer"));
    assert!(leaf.crl.is_none(), "OCSP answered: the CRL is not asked");
    assert_eq!(ca.requests(), ["/ocsp"]);
    assert!(
        !ids(&report)
            .iter()
            .any(|id| id.contains("revo") || id.contains("ocsp")),
        "{:?}",
        ids(&report)
    );
    assert_eq!(run.code, 0, "{:?}", ids(&report));
}

/// The request certready POSTs is answered by OpenSSL's own responder logic (`openssl
/// ocsp -index -reqin`, run on each request as it arrives): a request OpenSSL could not
/// read, or a CertID it could not match to its database, would give no good/revoked
/// answer. (`openssl ocsp -port` would listen on every interface; tests stay on loopback.)
#[test]
fn openssl_s_responder_answers_the_request_certready_sends() {
    let lab = Lab::new();
    let ca = aia_server(&lab, vec![]);
    let pki = Pki::new(&lab, "live", &ca, BOTH);
    let dir = pki.dir.clone();
    let responder = move |request: &[u8]| {
        std::fs::write(dir.join("live-req.der"), request).unwrap();
        let out = Command::new("openssl")
            .current_dir(&dir)
            .args([
                "ocsp",
                "-index",
                "index.txt",
                "-CA",
                "ca.pem",
                "-rsigner",
                "ca.pem",
                "-rkey",
                "ca.key",
                "-reqin",
                "live-req.der",
                "-respout",
                "live-resp.der",
                "-ndays",
                "1",
            ])
            .output()
            .unwrap();
        if !out.status.success() {
            return b"openssl could not answer".to_vec();
        }
        std::fs::read(dir.join("live-resp.der")).unwrap()
    };
    ca.route(
        "/ocsp",
        Answer::Respond(OCSP, std::sync::Arc::new(responder)),
    );
    let server = s_server(&pki, None);
    for (revoked, status) in [(false, "good"), (true, "revoked")] {
        pki.index(revoked);
        let (report, _) = check(&lab, &pki, &server, &["--no-fetch"]);
        let leaf = &report.revocation[0];
        assert_eq!(
            (leaf.status.as_str(), leaf.source.as_deref()),
            (status, Some("ocsp")),
            "{leaf:#?}"
        );
        let ocsp = leaf.ocsp.as_ref().unwrap();
        assert_eq!(ocsp.signature.as_deref(), Some("valid"));
    }
    assert_eq!(ca.requests(), ["/ocsp", "/ocsp"]);
}

#[test]
fn a_revoked_leaf_from_the_responder_and_from_the_crl() {
    let lab = Lab::new();
    let ca = aia_server(&lab, vec![]);
    let pki = Pki::new(&lab, "revoked", &ca, BOTH);
    ca.route("/ocsp", Answer::Body(OCSP, pki.ocsp(true, "ca", None)));
    let server = s_server(&pki, None);
    let (report, run) = check(&lab, &pki, &server, &[]);
    assert_eq!(run.code, 2);
    let revoked = report.findings.iter().find(|f| f.id == "revoked").unwrap();
    assert!(
        revoked.message.contains("keyCompromise"),
        "{}",
        revoked.message
    );
    assert_eq!(
        report.revocation[0].revoked_at.as_deref(),
        Some("2026-11-01T00:00:00Z")
    );
    // Nobody stapled it: Chrome, Go, grpcio and requests still connect.
    assert!(browser(&report).accepts);
    assert!(report
        .clients
        .iter()
        .all(|c| c.accepts || c.client != "flytectl-linux"));

    // The CRL says the same when there is no OCSP URL.
    let ca2 = aia_server(&lab, vec![]);
    let crl_only = LeafOptions {
        ocsp: false,
        ..BOTH
    };
    let pki = Pki::new(&lab, "crl", &ca2, crl_only);
    ca2.route(
        "/ca.crl",
        Answer::Body("application/pkix-crl", pki.crl(true)),
    );
    let server = s_server(&pki, None);
    let (report, run) = check(&lab, &pki, &server, &[]);
    assert_eq!(run.code, 2);
    let leaf = &report.revocation[0];
    assert_eq!(
        (leaf.status.as_str(), leaf.source.as_deref()),
        ("revoked", Some("crl"))
    );
    let crl = leaf.crl.as_ref().unwrap();
    assert!(crl.listed && crl.signature.as_deref() == Some("valid"));
    assert_eq!(crl.entries, Some(1));
    // And not listed: good.
    ca2.route(
        "/ca.crl",
        Answer::Body("application/pkix-crl", pki.crl(false)),
    );
    let (report, _) = check(&lab, &pki, &server, &[]);
    assert_eq!(report.revocation[0].status, "good");
}

#[test]
fn a_stapled_revoked_response_is_what_chrome_refuses() {
    let lab = Lab::new();
    let ca = aia_server(&lab, vec![]);
    let pki = Pki::new(&lab, "stapled", &ca, BOTH);
    let server = s_server(&pki, Some(&pki.ocsp(true, "ca", None)));
    let (report, run) = check(&lab, &pki, &server, &[]);
    assert_eq!(run.code, 2);
    let leaf = &report.revocation[0];
    assert_eq!(
        (leaf.status.as_str(), leaf.source.as_deref()),
        ("revoked", Some("stapled-ocsp"))
    );
    assert!(
        ca.requests().is_empty(),
        "a usable staple: no responder asked"
    );
    let chrome = browser(&report);
    assert!(!chrome.accepts);
    assert_eq!(chrome.error.as_deref(), Some("NET::ERR_CERT_REVOKED"));
    assert_eq!(chrome.causes, ["revoked"]);
    // Go never reads the staple: flytectl connects (its gRPC needs h2, which s_server offers).
    let linux_oauth = report
        .clients
        .iter()
        .find(|c| c.client == "flytectl-linux" && c.channel == "oauth-http")
        .unwrap();
    assert!(linux_oauth.accepts);
}

#[test]
fn a_stale_staple_and_a_delegated_responder() {
    let lab = Lab::new();
    let ca = aia_server(&lab, vec![]);
    let pki = Pki::new(&lab, "stale", &ca, BOTH);
    ca.route(
        "/ocsp",
        Answer::Body(OCSP, pki.ocsp(false, "responder", None)),
    );
    let server = s_server(&pki, Some(&pki.ocsp(true, "ca", Some(30))));
    // An hour on, the staple (30 minutes) is stale; the responder's answer (a day) is not.
    let at = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
    let at = at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let (report, run) = check(&lab, &pki, &server, &["--at", &at]);
    assert!(
        ids(&report).contains(&"ocsp-response-stale"),
        "{:?}",
        ids(&report)
    );
    let leaf = &report.revocation[0];
    assert!(leaf.stapled.as_ref().unwrap().stale);
    assert_eq!(
        (leaf.status.as_str(), leaf.source.as_deref()),
        ("good", Some("ocsp"))
    );
    assert_eq!(
        leaf.ocsp.as_ref().unwrap().signer.as_deref(),
        Some("the delegated responder \"Test OCSP Responder\"")
    );
    assert!(browser(&report).accepts, "Chrome ignores a stale staple");
    assert_eq!(run.code, 1);
}

#[test]
fn answers_that_cannot_be_used() {
    let lab = Lab::new();
    let ca = aia_server(&lab, vec![]);
    let pki = Pki::new(&lab, "invalid", &ca, LeafOptions { crl: false, ..BOTH });
    // Signed by a CA that did not issue the leaf.
    ca.route(
        "/ocsp",
        Answer::Body(OCSP, pki.ocsp(true, "stranger", None)),
    );
    let server = s_server(&pki, None);
    let (report, run) = check(&lab, &pki, &server, &[]);
    assert!(
        ids(&report).contains(&"ocsp-response-invalid"),
        "{:?}",
        ids(&report)
    );
    assert!(ids(&report).contains(&"revocation-unknown"));
    assert!(
        !ids(&report).contains(&"revoked"),
        "an unverified revoked counts for nothing"
    );
    assert_eq!(run.code, 1);
    // "unknown": a valid answer that decides nothing.
    ca.route("/ocsp", Answer::Body(OCSP, pki.ocsp_unknown()));
    let (report, run) = check(&lab, &pki, &server, &[]);
    let leaf = &report.revocation[0];
    assert_eq!(leaf.status, "unknown");
    assert_eq!(
        leaf.ocsp.as_ref().unwrap().status.as_deref(),
        Some("unknown")
    );
    assert!(ids(&report).contains(&"revocation-unknown"));
    assert!(
        !ids(&report).contains(&"ocsp-response-invalid"),
        "valid, only undecided"
    );
    assert_eq!(run.code, 1);
    // Garbage.
    ca.route(
        "/ocsp",
        Answer::Body(OCSP, b"<html>not ocsp</html>".to_vec()),
    );
    let (report, _) = check(&lab, &pki, &server, &[]);
    let error = report.revocation[0]
        .ocsp
        .as_ref()
        .unwrap()
        .error
        .clone()
        .unwrap();
    assert!(error.contains("not an OCSP response"), "{error}");
}

#[test]
fn a_responder_that_is_down_or_stalls_is_a_warning_within_the_timeout() {
    let lab = Lab::new();
    let ca = aia_server(
        &lab,
        vec![("/ocsp", Answer::Stall), ("/ca.crl", Answer::Stall)],
    );
    let pki = Pki::new(&lab, "stall", &ca, BOTH);
    let server = s_server(&pki, None);
    let started = Instant::now();
    let (report, run) = check(&lab, &pki, &server, &["--revocation-timeout", "1s"]);
    let elapsed = started.elapsed();
    assert_eq!(run.code, 1, "never critical: {:?}", ids(&report));
    let unknown = report
        .findings
        .iter()
        .find(|f| f.id == "revocation-unknown")
        .unwrap();
    assert_eq!(unknown.severity, json::Severity::Warning);
    assert!(
        unknown.message.contains("timed out after 1s"),
        "{}",
        unknown.message
    );
    // OCSP then CRL, one second each; the process starts and handshakes in well under 3 s.
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");

    // Down: nothing listens on the port.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let down = AiaServer::at(closed.local_addr().unwrap());
    drop(closed);
    let pki = Pki::new(&lab, "down", &down, BOTH);
    let server = s_server(&pki, None);
    let (report, run) = check(&lab, &pki, &server, &[]);
    assert_eq!(run.code, 1);
    assert_eq!(report.revocation[0].status, "unknown");
    assert!(!report.revocation[0].ocsp.as_ref().unwrap().answered);
}

#[test]
fn must_staple_without_a_staple_and_a_crl_too_large() {
    let lab = Lab::new();
    let ca = aia_server(&lab, vec![("/ca.crl", Answer::Huge)]);
    let must_staple = LeafOptions {
        ocsp: false,
        must_staple: true,
        ..BOTH
    };
    let pki = Pki::new(&lab, "must-staple", &ca, must_staple);
    let server = s_server(&pki, None);
    let (report, _) = check(&lab, &pki, &server, &[]);
    assert!(report.chain[0].must_staple);
    assert!(
        ids(&report).contains(&"ocsp-must-staple-missing"),
        "{:?}",
        ids(&report)
    );
    assert!(
        ids(&report).contains(&"crl-too-large"),
        "{:?}",
        ids(&report)
    );
    assert!(report.revocation[0].crl.as_ref().unwrap().too_large);
}

#[test]
fn no_revocation_asks_nobody_but_still_reads_the_staple() {
    let lab = Lab::new();
    let ca = aia_server(&lab, vec![]);
    let pki = Pki::new(&lab, "off", &ca, BOTH);
    ca.route("/ocsp", Answer::Body(OCSP, pki.ocsp(true, "ca", None)));
    let server = s_server(&pki, None);
    let (report, run) = check(&lab, &pki, &server, &["--no-revocation"]);
    assert!(ca.requests().is_empty());
    assert_eq!(report.revocation[0].status, "unchecked");
    assert_eq!(run.code, 0);
    let stapled = s_server(&pki, Some(&pki.ocsp(true, "ca", None)));
    let (report, _) = check(&lab, &pki, &stapled, &["--no-revocation"]);
    assert_eq!(report.revocation[0].status, "revoked");
    assert!(ca.requests().is_empty());
}

/// The browser verdicts above, against a real headless Chromium (the differential test's
/// driver): a valid stapled "revoked" is refused, even for a name that does not match
/// (REVOKED outranks COMMON_NAME_INVALID); a good staple, a revoked answer only the
/// responder gives, and a staple signed by a stranger are accepted.
#[test]
fn chromium_agrees_on_stapled_revocation() {
    use crate::differential::browser::{agrees, chromium_available};
    use crate::differential::clients::{request_lines, run_batch, Request};
    if !chromium_available() {
        crate::differential::missing(
            "Chromium and certutil",
            "apt-get install chromium libnss3-tools",
        );
        return;
    }
    let lab = Lab::new();
    let ca = aia_server(&lab, vec![]);
    let pki = Pki::new(&lab, "chromium", &ca, BOTH);
    ca.route("/ocsp", Answer::Body(OCSP, pki.ocsp(true, "ca", None)));
    let revoked = pki.ocsp(true, "ca", None);
    let good = pki.ocsp(false, "ca", None);
    let stranger = pki.ocsp(true, "stranger", None);
    let cases: Vec<(&str, SServer, &str)> = vec![
        (
            "stapled-revoked",
            s_server_alpn(&pki, Some(&revoked), false),
            HOST,
        ),
        (
            "stapled-revoked-wrong-name",
            s_server_alpn(&pki, Some(&revoked), false),
            "other.example.com",
        ),
        (
            "stapled-good",
            s_server_alpn(&pki, Some(&good), false),
            HOST,
        ),
        (
            "responder-revoked-no-staple",
            s_server_alpn(&pki, None, false),
            HOST,
        ),
        (
            "stapled-by-a-stranger",
            s_server_alpn(&pki, Some(&stranger), false),
            HOST,
        ),
    ];
    let ca_file = pki.dir.join("ca.pem");
    let addrs: Vec<String> = cases
        .iter()
        .map(|(_, s, _)| format!("127.0.0.1:{}", s.port))
        .collect();
    let requests: Vec<Request<'_>> = cases
        .iter()
        .zip(&addrs)
        .map(|((id, _, name), addr)| Request {
            id,
            addr: addr.clone(),
            server_name: name,
            ca_file: &ca_file,
        })
        .collect();
    let mut chromium = Command::new("python3");
    chromium.arg("tests/clients/chromebatch.py");
    let answers = run_batch(
        "chromium",
        chromium,
        request_lines(&requests),
        Duration::from_secs(120),
    )
    .expect("the Chromium driver runs");
    let mut disagreements = Vec::new();
    for (id, server, name) in &cases {
        let target = format!("{name}:{}", server.port);
        let resolve = format!("{name}:{}:127.0.0.1", server.port);
        let ca = pki.path("ca.pem");
        let run = lab.run(&[
            "check",
            &target,
            "--resolve",
            &resolve,
            "--ca-file",
            &ca,
            "--format",
            "json",
            "--revocation-timeout",
            "2s",
            "--client",
            "browser",
        ]);
        run.assert_no_panic();
        let report = run.report();
        let predicted = browser(&report);
        let real = &answers[*id].result;
        let said = predicted.error.clone().unwrap_or_else(|| "OK".into());
        if !agrees(real, predicted.accepts, &said) {
            disagreements.push(format!("{id}: Chromium {real}, certready {said}"));
        }
    }
    assert!(disagreements.is_empty(), "{disagreements:#?}");
    // The comparison can fail: Chromium really refused the stapled revoked leaf.
    assert_eq!(answers["stapled-revoked"].result, "net::ERR_CERT_REVOKED");
}

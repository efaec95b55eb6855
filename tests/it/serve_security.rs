//! `certready serve` lets in only who belongs: TLS, basic auth and client certificates
//! through an exporter-toolkit web config made here (openssl certificates, a bcrypt hash),
//! checked with curl as the real client; certificates rotated under a running server; the
//! /probe target policy; and the deploy/ example accepted by promtool.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

/// Runs openssl in `dir`, panicking with its stderr on failure.
fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("the openssl command");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

const EC: [&str; 5] = [
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
];

/// A self-signed CA: NAME.pem and NAME.key in `dir`.
fn ca(dir: &Path, name: &str) {
    let (key, pem, subject) = (
        format!("{name}.key"),
        format!("{name}.pem"),
        format!("/CN={name}"),
    );
    let mut args = vec!["req", "-x509"];
    args.extend(EC);
    args.extend([
        "-keyout",
        &key,
        "-out",
        &pem,
        "-days",
        "30",
        "-subj",
        &subject,
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    openssl(dir, &args);
}

/// A leaf issued by CA (`ca.pem`/`ca.key` under `dir`), CN = NAME: NAME.pem, NAME.key.
/// `usage`: serverAuth (for 127.0.0.1) or clientAuth.
fn leaf(dir: &Path, issuer: &str, name: &str, usage: &str) {
    let (key, csr, pem, ext) = (
        format!("{name}.key"),
        format!("{name}.csr"),
        format!("{name}.pem"),
        format!("{name}.ext"),
    );
    let subject = format!("/CN={name}");
    let mut args = vec!["req"];
    args.extend(EC);
    args.extend(["-keyout", &key, "-out", &csr, "-subj", &subject]);
    openssl(dir, &args);
    std::fs::write(
        dir.join(&ext),
        format!(
            "subjectAltName=IP:127.0.0.1,DNS:{name}.test\nextendedKeyUsage={usage}\nkeyUsage=critical,digitalSignature\nbasicConstraints=critical,CA:FALSE\n"
        ),
    )
    .unwrap();
    let (ca_pem, ca_key) = (format!("{issuer}.pem"), format!("{issuer}.key"));
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &ca_pem,
            "-CAkey",
            &ca_key,
            "-set_serial",
            "0x1234abcd",
            "-days",
            "30",
            "-sha256",
            "-extfile",
            &ext,
            "-out",
            &pem,
        ],
    );
}

/// A bcrypt hash in htpasswd's form ($2y$), cost 4 to keep the tests fast.
fn htpasswd_hash(password: &str) -> String {
    bcrypt::hash_with_result(password, 4)
        .unwrap()
        .format_for_version(bcrypt::Version::TwoY)
}

struct Served {
    child: Child,
    port: u16,
    stderr: PathBuf,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Served {
    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    fn url(&self, scheme: &str, path: &str) -> String {
        format!("{scheme}://127.0.0.1:{}{path}", self.port)
    }
}

/// `certready serve` on an ephemeral loopback port, stderr to a file; returns once the
/// port accepts connections (the web config is loaded before the port is bound).
fn start(lab: &Lab, args: &[&str]) -> Served {
    let port = closed_port();
    let listen = format!("127.0.0.1:{port}");
    let stderr = lab.dir.path().join(format!("serve-{port}.err"));
    let child = Command::new(assert_cmd::cargo::cargo_bin("certready"))
        .env("SSL_CERT_FILE", &lab.system_store)
        .env_remove("SSL_CERT_DIR")
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .args(["serve", "--listen", &listen, "--timeout", "3s"])
        .args(args)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap();
    let mut served = Served {
        child,
        port,
        stderr,
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(status) = served.child.try_wait().unwrap() {
            panic!("serve exited with {status}: {}", served.stderr());
        }
        assert!(Instant::now() < deadline, "serve did not come up");
        std::thread::sleep(Duration::from_millis(50));
    }
    served
}

/// What curl saw: the status (0 when no HTTP response came), the HTTP version, headers,
/// body, curl's exit code and its stderr (with -v, the TLS details).
struct Curl {
    status: u16,
    version: String,
    headers: String,
    body: String,
    exit: i32,
    stderr: String,
}

fn curl(url: &str, extra: &[&str]) -> Curl {
    let out = Command::new("curl")
        .env_remove("http_proxy")
        .env_remove("https_proxy")
        .env_remove("HTTPS_PROXY")
        .env_remove("ALL_PROXY")
        .args(["-sS", "-i", "--noproxy", "*", "--max-time", "10"])
        .args(extra)
        .arg(url)
        .output()
        .expect("the curl command");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let (head, body) = stdout.split_once("\r\n\r\n").unwrap_or((&stdout, ""));
    let mut status_line = head.lines().next().unwrap_or_default().split_whitespace();
    let version = status_line.next().unwrap_or_default().to_string();
    let status = status_line.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    Curl {
        status,
        version,
        headers: head.to_ascii_lowercase(),
        body: body.to_string(),
        exit: out.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The CN of the certificate the server presents, as curl -v reports it.
fn served_subject(served: &Served, ca: &Path) -> String {
    let seen = curl(
        &served.url("https", "/healthz"),
        &["-v", "--cacert", path_str(ca)],
    );
    assert_eq!(seen.status, 200, "{}", seen.stderr);
    seen.stderr
        .lines()
        .find_map(|l| l.trim_start_matches(['*', ' ']).strip_prefix("subject: "))
        .unwrap_or_default()
        .to_string()
}

#[test]
fn tls_and_basic_auth_let_in_only_who_belongs() {
    let lab = Lab::new();
    let dir = lab.dir.path();
    ca(dir, "ca");
    leaf(dir, "ca", "server", "serverAuth");
    // Relative names are relative to the web config's directory, as in exporter-toolkit.
    let web = lab.file(
        "web.yml",
        format!(
            "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\nbasic_auth_users:\n  prometheus: '{}'\nhttp_server_config:\n  headers:\n    Strict-Transport-Security: max-age=31536000\n",
            htpasswd_hash("s3cret")
        ),
    );
    let served = start(&lab, &["--web-config", path_str(&web)]);
    let ca = dir.join("ca.pem");
    let tls = ["--cacert", path_str(&ca)];

    // Plain HTTP on the TLS port: refused, with a plain answer saying why.
    let plain = curl(&served.url("http", "/metrics"), &[]);
    assert_eq!(plain.status, 400, "{}{}", plain.headers, plain.stderr);
    assert!(plain.body.contains("HTTPS server"), "{}", plain.body);

    // /healthz stays open for the kubelet; the configured headers are on every answer.
    let health = curl(&served.url("https", "/healthz"), &tls);
    assert_eq!(health.status, 200, "{}", health.stderr);
    assert!(
        health
            .headers
            .contains("strict-transport-security: max-age=31536000"),
        "{}",
        health.headers
    );

    for (path, credentials) in [
        ("/metrics", None),
        ("/metrics", Some("prometheus:wrong")),
        ("/metrics", Some("nobody:s3cret")),
        ("/probe?target=127.0.0.1%3A1", None),
        ("/", None),
    ] {
        let mut args = tls.to_vec();
        if let Some(credentials) = credentials {
            args.extend(["-u", credentials]);
        }
        let denied = curl(&served.url("https", path), &args);
        assert_eq!(
            denied.status, 401,
            "{path} {credentials:?}: {}",
            denied.stderr
        );
        assert!(
            denied.headers.contains("www-authenticate: basic"),
            "{}",
            denied.headers
        );
    }

    let mut args = tls.to_vec();
    args.extend(["-u", "prometheus:s3cret"]);
    let metrics = curl(&served.url("https", "/metrics"), &args);
    assert_eq!(metrics.status, 200, "{}", metrics.stderr);
    assert!(
        metrics
            .body
            .contains("certready_web_config_last_reload_successful 1"),
        "{}",
        metrics.body
    );
    assert!(
        metrics.body.trim_end().ends_with("# EOF"),
        "{}",
        metrics.body
    );
    // Again, over HTTP/2 (offered by ALPN), from the credentials cache.
    args.push("--http2");
    let again = curl(&served.url("https", "/metrics"), &args);
    assert_eq!((again.status, again.version.as_str()), (200, "HTTP/2"));
}

#[test]
fn client_certificates_are_required_when_configured() {
    let lab = Lab::new();
    let dir = lab.dir.path();
    ca(dir, "ca");
    leaf(dir, "ca", "server", "serverAuth");
    ca(dir, "clients");
    leaf(dir, "clients", "prometheus", "clientAuth");
    ca(dir, "elsewhere");
    leaf(dir, "elsewhere", "stranger", "clientAuth");
    let web = lab.file(
        "web.yml",
        "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: clients.pem\n",
    );
    let served = start(&lab, &["--web-config", path_str(&web)]);
    let ca = dir.join("ca.pem");
    let url = served.url("https", "/metrics");
    for tls_max in ["1.3", "1.2"] {
        let base = ["--cacert", path_str(&ca), "--tls-max", tls_max];
        let without = curl(&url, &base);
        assert_eq!(without.status, 0, "TLS {tls_max}: {}", without.headers);
        assert_ne!(without.exit, 0);

        let cert = |name: &str| {
            let mut args = base.to_vec();
            let (pem, key) = (
                dir.join(format!("{name}.pem")),
                dir.join(format!("{name}.key")),
            );
            args.extend(["--cert", path_str(&pem), "--key", path_str(&key)]);
            curl(&url, &args)
        };
        let stranger = cert("stranger");
        assert_eq!(stranger.status, 0, "TLS {tls_max}: {}", stranger.headers);
        assert_ne!(stranger.exit, 0);
        let known = cert("prometheus");
        assert_eq!(known.status, 200, "TLS {tls_max}: {}", known.stderr);
    }
}

/// Swaps `current` to a fresh directory holding `files`, the way the kubelet updates a
/// mounted Secret (a new directory, then one atomic rename of a symlink).
fn publish(root: &Path, generation: u32, files: &[(&str, Vec<u8>)]) {
    let data = root.join(format!("..{generation}"));
    std::fs::create_dir(&data).unwrap();
    for (name, content) in files {
        std::fs::write(data.join(name), content).unwrap();
    }
    let link = root.join("current.new");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(&data, &link).unwrap();
    std::fs::rename(&link, root.join("current")).unwrap();
}

fn metrics_text(served: &Served, ca: &Path) -> String {
    let metrics = curl(
        &served.url("https", "/metrics"),
        &["--cacert", path_str(ca)],
    );
    assert_eq!(metrics.status, 200, "{}", metrics.stderr);
    metrics.body
}

#[test]
fn rotated_certificates_are_picked_up_and_a_broken_rotation_keeps_the_last_good() {
    let lab = Lab::new();
    let dir = lab.dir.path();
    ca(dir, "ca");
    leaf(dir, "ca", "server-a", "serverAuth");
    leaf(dir, "ca", "server-b", "serverAuth");
    let read = |name: &str| std::fs::read(dir.join(name)).unwrap();
    let secret = dir.join("secret");
    std::fs::create_dir(&secret).unwrap();
    publish(
        &secret,
        1,
        &[
            ("tls.crt", read("server-a.pem")),
            ("tls.key", read("server-a.key")),
        ],
    );
    let web = lab.file(
        "web.yml",
        "tls_server_config:\n  cert_file: secret/current/tls.crt\n  key_file: secret/current/tls.key\n",
    );
    let served = start(
        &lab,
        &[
            "--web-config",
            path_str(&web),
            "--web-config-reload-interval",
            "1s",
        ],
    );
    let ca = dir.join("ca.pem");
    assert!(served_subject(&served, &ca).contains("server-a"));

    publish(
        &secret,
        2,
        &[
            ("tls.crt", read("server-b.pem")),
            ("tls.key", read("server-b.key")),
        ],
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while !served_subject(&served, &ca).contains("server-b") {
        assert!(
            Instant::now() < deadline,
            "the rotated certificate was not picked up: {}",
            served.stderr()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(metrics_text(&served, &ca).contains("certready_web_config_last_reload_successful 1"));

    // A broken rotation (the certificate is not PEM): still serving server-b, and saying so.
    publish(
        &secret,
        3,
        &[
            ("tls.crt", b"-----BEGIN CERTIFICATE-----\n%%%\n".to_vec()),
            ("tls.key", read("server-a.key")),
        ],
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while !served
        .stderr()
        .contains("still serving the last good configuration")
    {
        assert!(
            Instant::now() < deadline,
            "no complaint: {}",
            served.stderr()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(served.stderr().contains("tls.crt"), "{}", served.stderr());
    assert!(served_subject(&served, &ca).contains("server-b"));
    assert!(metrics_text(&served, &ca).contains("certready_web_config_last_reload_successful 0"));
    assert!(served.child.id() > 0);
}

#[test]
fn a_web_config_certready_cannot_honour_fails_at_start_with_the_line() {
    let lab = Lab::new();
    let dir = lab.dir.path();
    ca(dir, "ca");
    leaf(dir, "ca", "server", "serverAuth");
    let tls = "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n";
    for (name, extra, expected) in [
        ("typo", "  client_ca_fil: ca.pem\n", vec!["client_ca_fil", "line 4"]),
        ("old-tls", "  min_version: TLS11\n", vec!["line 4", "TLS 1.2 and 1.3 only"]),
        (
            "cbc",
            "  cipher_suites:\n    - TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\n    - TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA\n",
            vec!["line 6", "CBC"],
        ),
        ("p521", "  curve_preferences: [CurveP521]\n", vec!["P-521"]),
    ] {
        let web = lab.file(&format!("{name}.yml"), format!("{tls}{extra}"));
        let out = lab
            .certready()
            .args(["serve", "--listen", "127.0.0.1:0", "--web-config"])
            .arg(&web)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{name}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        for text in expected {
            assert!(stderr.contains(text), "{name}: {text:?} in {stderr}");
        }
    }
}

#[test]
fn probe_refuses_metadata_and_link_local_and_honours_probe_allow() {
    let lab = Lab::new();
    let pki = Pki::new();
    let server = lab.serve_pki(&pki);
    let root = pki.root_file(&lab);
    let port = server.addr.port();

    // No --probe-allow: anything but link-local, metadata and unspecified addresses, whether
    // named directly or through a name that resolves there.
    let resolve_meta = "metadata.example.com:80:169.254.169.254".to_string();
    let open = start(
        &lab,
        &["--resolve", &resolve_meta, "--ca-file", path_str(&root)],
    );
    for (target, reason) in [
        ("169.254.169.254", "metadata"),
        ("metadata.example.com%3A80", "metadata"),
        ("%5Bfd00%3Aec2%3A%3A254%5D%3A80", "metadata"),
        ("%5Bfe80%3A%3A1%5D%3A443", "link-local"),
        ("169.254.1.1%3A443", "link-local"),
        ("0.0.0.0%3A443", "unspecified"),
    ] {
        let refused = curl(&open.url("http", &format!("/probe?target={target}")), &[]);
        assert_eq!(refused.status, 403, "{target}: {}", refused.body);
        let said = if reason == "metadata" {
            "cloud metadata"
        } else {
            reason
        };
        assert!(refused.body.contains(said), "{target}: {}", refused.body);
    }
    let loopback = curl(
        &open.url("http", &format!("/probe?target=127.0.0.1%3A{port}")),
        &[],
    );
    assert_eq!(loopback.status, 200);
    assert!(
        loopback.body.contains("certready_probe_success"),
        "{}",
        loopback.body
    );
    let metrics = curl(&open.url("http", "/metrics"), &[]);
    assert_eq!(metrics.status, 200);
    for line in [
        "certready_probe_refused_total{reason=\"metadata\"} 3",
        "certready_probe_refused_total{reason=\"link-local\"} 2",
        "certready_probe_refused_total{reason=\"unspecified\"} 1",
        "certready_probe_refused_total{reason=\"not-allowed\"} 0",
    ] {
        assert!(metrics.body.contains(line), "{line} in {}", metrics.body);
    }
    drop(open);

    // With --probe-allow: names matching a glob, addresses inside a CIDR, nothing else.
    let resolve_flyte = format!("{HOST}:{port}:127.0.0.1");
    let resolve_far = format!("far.internal:{port}:10.9.9.9");
    let allowed = start(
        &lab,
        &[
            "--probe-allow",
            "*.example.com",
            "--probe-allow",
            "127.0.0.0/8",
            "--resolve",
            &resolve_flyte,
            "--resolve",
            &resolve_far,
            "--resolve",
            &resolve_meta,
            "--ca-file",
            path_str(&root),
        ],
    );
    let probe = |target: &str| {
        curl(
            &allowed.url("http", &format!("/probe?target={target}")),
            &[],
        )
    };
    let by_name = probe(&format!("{HOST}%3A{port}"));
    assert_eq!(by_name.status, 200);
    assert!(
        by_name.body.contains(&format!(
            "certready_probe_success{{target=\"{HOST}:{port}\"}} 1"
        )),
        "{}",
        by_name.body
    );
    assert_eq!(probe(&format!("127.0.0.1%3A{port}")).status, 200);
    for target in [
        "10.1.2.3%3A443".to_string(),
        format!("far.internal%3A{port}"),
        "metadata.example.com%3A80".to_string(),
    ] {
        let refused = probe(&target);
        assert_eq!(refused.status, 403, "{target}: {}", refused.body);
    }
    let metrics = curl(&allowed.url("http", "/metrics"), &[]).body;
    assert!(
        metrics.contains("certready_probe_refused_total{reason=\"not-allowed\"} 2"),
        "{metrics}"
    );
}

#[test]
fn the_deploy_example_passes_promtool_and_certready_serves_it() {
    let example = std::fs::read_to_string("deploy/kubernetes/web-config.yml").unwrap();
    // The Secret in serve.yaml carries the same file.
    let manifests = std::fs::read_to_string("deploy/kubernetes/serve.yaml").unwrap();
    let secret = manifests
        .split("\n---\n")
        .find(|doc| doc.contains("name: certready-web-config"))
        .expect("the web config Secret");
    let secret: serde_json::Value = serde_saphyr::from_str(secret).unwrap();
    assert_eq!(secret["stringData"]["web-config.yml"], example.as_str());

    // Both read cert_file and key_file: give them a pair, named as in the pod.
    let lab = Lab::new();
    let dir = lab.dir.path();
    ca(dir, "ca");
    leaf(dir, "ca", "server", "serverAuth");
    std::fs::copy(dir.join("server.pem"), dir.join("tls.crt")).unwrap();
    std::fs::copy(dir.join("server.key"), dir.join("tls.key")).unwrap();
    let web = lab.file("web-config.yml", &example);
    match Command::new("promtool")
        .args(["check", "web-config"])
        .arg(&web)
        .output()
    {
        Ok(output) => assert!(
            output.status.success(),
            "promtool: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
        Err(_) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must install promtool (Debian's prometheus)"
            );
            eprintln!("SKIPPED promtool: not installed (apt-get install prometheus)");
        }
    }
    let served = start(&lab, &["--web-config", path_str(&web)]);
    let ca = dir.join("ca.pem");
    let health = curl(
        &served.url("https", "/healthz"),
        &["--cacert", path_str(&ca)],
    );
    assert_eq!(health.status, 200, "{}", health.stderr);
    // Nobody knows the example's password: nothing gets in until it is replaced.
    let metrics = curl(
        &served.url("https", "/metrics"),
        &["--cacert", path_str(&ca), "-u", "prometheus:prometheus"],
    );
    assert_eq!(metrics.status, 401);
}

#[test]
fn versions_cipher_suites_and_allowed_sans_are_honoured() {
    let lab = Lab::new();
    let dir = lab.dir.path();
    ca(dir, "ca");
    leaf(dir, "ca", "server", "serverAuth");
    ca(dir, "clients");
    leaf(dir, "clients", "prometheus", "clientAuth");
    leaf(dir, "clients", "intruder", "clientAuth");
    let ca = dir.join("ca.pem");
    let tls = "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n";

    // TLS 1.2 only, one suite: what curl negotiates is that suite, and TLS 1.3 is refused.
    let web = lab.file(
        "tls12.yml",
        format!("{tls}  max_version: TLS12\n  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]\n"),
    );
    let served = start(&lab, &["--web-config", path_str(&web)]);
    let url = served.url("https", "/healthz");
    let seen = curl(&url, &["-v", "--cacert", path_str(&ca)]);
    assert_eq!(seen.status, 200, "{}", seen.stderr);
    assert!(
        seen.stderr
            .contains("TLSv1.2 / ECDHE-ECDSA-AES128-GCM-SHA256"),
        "{}",
        seen.stderr
    );
    let tls13 = curl(&url, &["--cacert", path_str(&ca), "--tlsv1.3"]);
    assert_eq!(tls13.status, 0);
    drop(served);

    // TLS 1.3 only: a TLS 1.2 client is refused.
    let web = lab.file("tls13.yml", format!("{tls}  min_version: TLS13\n"));
    let served = start(&lab, &["--web-config", path_str(&web)]);
    let url = served.url("https", "/healthz");
    let tls12 = curl(&url, &["--cacert", path_str(&ca), "--tls-max", "1.2"]);
    assert_eq!(tls12.status, 0);
    assert_eq!(curl(&url, &["--cacert", path_str(&ca)]).status, 200);
    drop(served);

    // client_allowed_sans: a certificate from the right CA with another name is refused.
    let web = lab.file(
        "sans.yml",
        format!("{tls}  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: clients.pem\n  client_allowed_sans: [prometheus.test]\n"),
    );
    let served = start(&lab, &["--web-config", path_str(&web)]);
    let url = served.url("https", "/metrics");
    let with = |name: &str| {
        let (pem, key) = (
            dir.join(format!("{name}.pem")),
            dir.join(format!("{name}.key")),
        );
        curl(
            &url,
            &[
                "--cacert",
                path_str(&ca),
                "--cert",
                path_str(&pem),
                "--key",
                path_str(&key),
            ],
        )
    };
    assert_eq!(with("prometheus").status, 200);
    assert_eq!(with("intruder").status, 0);
}

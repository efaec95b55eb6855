//! Probe failure modes: each must end within the timeout plus a margin, exit 3
//! (UNKNOWN), name what happened in words, and never panic.

use std::time::Duration;

use crate::common::*;

/// Runs `check` against `addr` as HOST with a short timeout.
fn check_failing(lab: &Lab, addr: std::net::SocketAddr, timeout: &str) -> Run {
    lab.check_json(addr, HOST, &["--timeout", timeout])
}

fn assert_unknown(run: &Run, kind: &str, words: &[&str]) {
    run.assert_no_panic();
    let report = run.report();
    assert_eq!(run.code, 3, "{report:#?}");
    assert_eq!(report.status, Status::Unknown);
    assert_eq!(report.error_kind.as_deref(), Some(kind), "{report:#?}");
    let error = report.error.as_deref().unwrap();
    for word in words {
        assert!(error.contains(word), "{error:?} should mention {word:?}");
    }
}

#[test]
fn silent_server_times_out_within_the_limit() {
    let lab = Lab::new();
    let addr = misbehaving_server(&lab, Misbehaviour::Silent);
    let run = check_failing(&lab, addr, "1s");
    assert_unknown(
        &run,
        "timeout",
        &["timed out after 1s", "never answered the ClientHello"],
    );
    assert!(
        run.elapsed < Duration::from_secs(4),
        "took {:?}",
        run.elapsed
    );
}

#[test]
fn slow_loris_server_times_out_within_the_limit() {
    let lab = Lab::new();
    let addr = misbehaving_server(&lab, Misbehaviour::SlowLoris);
    let run = check_failing(&lab, addr, "2s");
    assert_unknown(
        &run,
        "timeout",
        &["in the middle of the TLS handshake", "stalled"],
    );
    assert!(
        run.elapsed < Duration::from_secs(5),
        "took {:?}",
        run.elapsed
    );
}

#[test]
fn connection_refused() {
    let lab = Lab::new();
    let port = closed_port();
    let target = format!("127.0.0.1:{port}");
    let run = lab.run(&["check", &target, "--format", "json"]);
    assert_unknown(&run, "refused", &["connection refused", "nothing listens"]);
}

#[test]
fn server_closing_at_once() {
    let lab = Lab::new();
    let addr = misbehaving_server(&lab, Misbehaviour::CloseAtOnce);
    let run = check_failing(&lab, addr, "5s");
    assert_unknown(&run, "closed", &["closed the connection without answering"]);
}

#[test]
fn server_resetting_mid_handshake() {
    let lab = Lab::new();
    let addr = misbehaving_server(&lab, Misbehaviour::ResetAfterHello);
    let run = check_failing(&lab, addr, "5s");
    assert_unknown(&run, "reset", &["reset the connection"]);
}

#[test]
fn plaintext_http_server_is_named_with_the_insecure_advice() {
    let lab = Lab::new();
    let addr = misbehaving_server(&lab, Misbehaviour::PlaintextHttp);
    let run = check_failing(&lab, addr, "5s");
    assert_unknown(
        &run,
        "plaintext-http",
        &["plaintext HTTP", "insecure: true"],
    );
}

#[test]
fn h2c_server_is_named() {
    let lab = Lab::new();
    let addr = misbehaving_server(&lab, Misbehaviour::H2c);
    let run = check_failing(&lab, addr, "5s");
    assert_unknown(&run, "http2-cleartext", &["cleartext HTTP/2"]);
}

#[test]
fn garbage_is_reported_with_its_first_bytes() {
    let lab = Lab::new();
    let addr = misbehaving_server(&lab, Misbehaviour::Garbage);
    let run = check_failing(&lab, addr, "5s");
    assert_unknown(&run, "not-tls", &["does not speak TLS", "00 01 02"]);
}

#[test]
fn protocol_version_alert_means_an_old_tls_server() {
    let lab = Lab::new();
    let addr = misbehaving_server(&lab, Misbehaviour::Alert(70));
    let run = check_failing(&lab, addr, "5s");
    assert_unknown(
        &run,
        "protocol-version",
        &["refused TLS 1.2 and TLS 1.3", "1.0/1.1"],
    );
}

#[test]
fn handshake_failure_alert() {
    let lab = Lab::new();
    let addr = misbehaving_server(&lab, Misbehaviour::Alert(40));
    let run = check_failing(&lab, addr, "5s");
    assert_unknown(&run, "tls-alert", &["handshake_failure"]);
}

#[test]
fn names_that_cannot_resolve() {
    // .invalid never resolves (RFC 6761) and is answered without asking a resolver.
    let lab = Lab::new();
    let run = lab.run(&["check", "flyte.invalid", "--format", "json"]);
    assert_unknown(&run, "dns", &["cannot resolve flyte.invalid"]);
}

#[test]
fn text_output_of_a_failure_says_could_not_check() {
    let lab = Lab::new();
    let addr = misbehaving_server(&lab, Misbehaviour::PlaintextHttp);
    let target = format!("127.0.0.1:{}", addr.port());
    let run = lab.run(&["check", &target]);
    assert_eq!(run.code, 3);
    assert!(run.stdout.contains("UNKNOWN"), "{}", run.stdout);
    assert!(run.stdout.contains("could not check:"), "{}", run.stdout);
    assert!(run.stdout.contains("Verdict: UNKNOWN"), "{}", run.stdout);
}

#[test]
fn ipv6_loopback_target() {
    let lab = Lab::new();
    let listener = match std::net::TcpListener::bind("[::1]:0") {
        Ok(listener) => listener,
        Err(_) => return, // no IPv6 on this machine: nothing to test
    };
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let target = format!("[::1]:{port}");
    let run = lab.run(&["check", &target, "--format", "json"]);
    assert_unknown(&run, "refused", &["[::1]"]);
    assert_eq!(run.report().host.as_deref(), Some("::1"));
}

#[test]
fn a_name_with_several_addresses_where_the_first_refuses() {
    // 127.0.0.2 is loopback too, but nothing listens there: the probe must move on.
    let lab = Lab::new();
    let pki = Pki::new();
    let server = lab.serve_pki(&pki);
    let root = pki.root_file(&lab);
    let target = format!("{HOST}:{}", server.addr.port());
    let resolve = format!("{HOST}:{}:127.0.0.2,127.0.0.1", server.addr.port());
    let run = lab.run(&[
        "check",
        &target,
        "--resolve",
        &resolve,
        "--ca-file",
        path_str(&root),
        "--format",
        "json",
    ]);
    let report = run.report();
    assert_eq!(
        report.address,
        Some(format!("127.0.0.1:{}", server.addr.port())),
        "{report:#?}"
    );
    assert_eq!(run.code, 0);

    // All refuse: the message says how many were tried.
    let port = closed_port();
    let target = format!("{HOST}:{port}");
    let resolve = format!("{HOST}:{port}:127.0.0.2,127.0.0.3");
    let run = lab.run(&["check", &target, "--resolve", &resolve, "--format", "json"]);
    assert_unknown(&run, "refused", &["tried 2 addresses"]);
}

#[test]
fn ipv6_loopback_tls_server() {
    let lab = Lab::new();
    let pki = Pki::with_leaf(certready::lab::Spec::leaf("::1"));
    let listener = match std::net::TcpListener::bind("[::1]:0") {
        Ok(listener) => listener,
        Err(_) => return, // no IPv6 on this machine
    };
    drop(listener);
    let server = lab
        .rt
        .block_on(certready::lab::serve_on(
            "[::1]:0".parse().unwrap(),
            vec![pki.leaf.der.clone(), pki.intermediate.der.clone()],
            pki.leaf.key_der(),
            &[b"h2"],
        ))
        .unwrap();
    let root = pki.root_file(&lab);
    let target = format!("[::1]:{}", server.addr.port());
    let run = lab.run(&[
        "check",
        &target,
        "--ca-file",
        path_str(&root),
        "--format",
        "json",
    ]);
    let report = run.report();
    assert_eq!(report.status, Status::Ok, "{report:#?}");
    assert_eq!(report.chain[0].ip_addresses[0], "::1");
}

fn via_proxy(
    lab: &Lab,
    proxy: std::net::SocketAddr,
    target: &str,
    env: &[(&str, String)],
    extra: &[&str],
) -> Run {
    let mut cmd = lab.certready();
    cmd.env("HTTPS_PROXY", format!("http://{proxy}"))
        .env_remove("https_proxy")
        .env_remove("NO_PROXY")
        .env_remove("no_proxy");
    for (key, value) in env {
        cmd.env(key, value);
    }
    let mut args = vec!["check", target, "--timeout", "5s", "--format", "json"];
    args.extend_from_slice(extra);
    let started = std::time::Instant::now();
    let output = cmd.args(&args).output().unwrap();
    let run = Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        elapsed: started.elapsed(),
    };
    run.assert_no_panic();
    run
}

#[test]
fn https_proxy_tunnels_the_probe_and_keeps_the_name() {
    let lab = Lab::new();
    let pki = Pki::new();
    let server = lab.serve_pki(&pki);
    let (proxy, seen) = connect_proxy(&lab, ProxyMode::Tunnel(server.addr));
    let root = pki.root_file(&lab);
    // No --resolve: only the proxy knows where flyte.example.com is.
    let run = via_proxy(
        &lab,
        proxy,
        &format!("{HOST}:443"),
        &[],
        &["--ca-file", path_str(&root)],
    );
    let report = run.report();
    assert_eq!(run.code, 0, "{report:#?}");
    assert_eq!(report.proxy, Some(format!("http://{proxy}")));
    assert_eq!(
        seen.lock().unwrap().as_slice(),
        [format!("CONNECT {HOST}:443 HTTP/1.1")]
    );
}

#[test]
fn proxy_refusal_and_authentication_are_explained() {
    let lab = Lab::new();
    let (refusing, _) = connect_proxy(&lab, ProxyMode::Refuse);
    let run = via_proxy(&lab, refusing, "flyte.example.com", &[], &[]);
    assert_unknown(
        &run,
        "proxy",
        &["refused CONNECT flyte.example.com:443", "403 Forbidden"],
    );

    let pki = Pki::new();
    let server = lab.serve_pki(&pki);
    let expected = "Basic dXNlcjpzM2NyM3QtcHc="; // user:s3cr3t-pw
    let (auth_proxy, _) = connect_proxy(&lab, ProxyMode::RequireAuth(expected.into(), server.addr));
    let run = via_proxy(&lab, auth_proxy, "flyte.example.com", &[], &[]);
    assert_unknown(
        &run,
        "proxy-auth",
        &[
            "requires authentication (407",
            "http://user:password@proxy:3128",
        ],
    );
    let with_credentials = vec![("HTTPS_PROXY", format!("http://user:s3cr3t-pw@{auth_proxy}"))];
    let run = via_proxy(
        &lab,
        auth_proxy,
        "flyte.example.com",
        &with_credentials,
        &[],
    );
    let report = run.report();
    assert!(report.error.is_none(), "{report:#?}");
    assert!(
        !run.stdout.contains("s3cr3t-pw"),
        "credentials never reach the output: {}",
        run.stdout
            .lines()
            .filter(|l| l.contains("s3cr3t-pw"))
            .collect::<Vec<_>>()
            .join("\n")
    );

    let run = via_proxy(
        &lab,
        "127.0.0.1:9".parse().unwrap(),
        "flyte.example.com",
        &[("HTTPS_PROXY", format!("http://127.0.0.1:{}", closed_port()))],
        &[],
    );
    assert_unknown(&run, "proxy", &["cannot connect to the proxy"]);
}

#[test]
fn no_proxy_exempts_hosts() {
    let lab = Lab::new();
    let pki = Pki::new();
    let server = lab.serve_pki(&pki);
    let (refusing, seen) = connect_proxy(&lab, ProxyMode::Refuse);
    let root = pki.root_file(&lab);
    let target = format!("{HOST}:{}", server.addr.port());
    let resolve = format!("{HOST}:{}:127.0.0.1", server.addr.port());
    let run = via_proxy(
        &lab,
        refusing,
        &target,
        &[("NO_PROXY", "localhost,.example.com".into())],
        &["--resolve", &resolve, "--ca-file", path_str(&root)],
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(seen.lock().unwrap().is_empty(), "the proxy was not asked");
}

#[test]
fn flytectl_http_proxy_url_is_used_by_check() {
    let lab = Lab::new();
    let pki = Pki::new();
    let server = lab.serve_pki(&pki);
    let (proxy, seen) = connect_proxy(&lab, ProxyMode::Tunnel(server.addr));
    let root = pki.root_file(&lab);
    let config = lab.file(
        "config.yaml",
        format!("admin:\n  endpoint: dns:///{HOST}\n  httpProxyURL: http://{proxy}\n"),
    );
    let run = lab.run(&[
        "check",
        HOST,
        "--flytectl-config",
        path_str(&config),
        "--ca-file",
        path_str(&root),
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(seen.lock().unwrap().len(), 1);
}

/// Python's http.server takes the ClientHello for an HTTP/0.9 request and answers with a
/// bare HTML error page (no status line): a plaintext HTTP server, named as such.
#[test]
fn python_http_server_answering_html_is_named_plaintext_http() {
    let lab = Lab::new();
    let port = closed_port();
    let mut server = std::process::Command::new("python3")
        .args([
            "-m",
            "http.server",
            "--bind",
            "127.0.0.1",
            &port.to_string(),
        ])
        .current_dir(lab.dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("python3 runs");
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "http.server did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let run = check_failing(&lab, ([127, 0, 0, 1], port).into(), "5s");
    let _ = server.kill();
    let _ = server.wait();
    assert_unknown(
        &run,
        "plaintext-http",
        &["plaintext HTML page", "http://, not https://"],
    );
}

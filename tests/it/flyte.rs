//! `certready flyte` against a fake flyteadmin (and a second loopback "IdP" host), every
//! host pinned to 127.0.0.1 with --resolve.

use crate::common::flyteadmin::{self, Admin, Auth, Grpc};
use crate::common::*;
use certready::lab::{self, Spec};

const IDP: &str = "idp.example.com";

/// The fake admin for HOST, serving the standard private-CA chain.
fn start_admin(lab: &Lab, pki: &Pki, admin: Admin) -> std::net::SocketAddr {
    flyteadmin::start(
        lab,
        HOST,
        vec![pki.leaf.der.clone(), pki.intermediate.der.clone()],
        &pki.leaf,
        admin,
    )
}

fn run_flyte(lab: &Lab, port: u16, extra: &[&str]) -> Run {
    let target = format!("dns:///{HOST}:{port}");
    let resolve = format!("{HOST}:{port}:127.0.0.1");
    let mut args = vec![
        "flyte",
        target.as_str(),
        "--resolve",
        resolve.as_str(),
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    lab.run(&args)
}

#[test]
fn built_in_auth_server_with_a_self_signed_admin_certificate() {
    // flyteorg/flyte#2371: a long-lived self-signed certificate, insecureSkipVerify on.
    let lab = Lab::new();
    let mut spec = Spec::leaf(HOST);
    spec.lifetime_days = 3650;
    let cert = lab::self_signed(&spec).unwrap();
    let addr = flyteadmin::start(&lab, HOST, vec![cert.der.clone()], &cert, Admin::default());
    let pinned = lab.file("admin.pem", &cert.pem);
    let config = lab.file(
        "config.yaml",
        format!("admin:\n  endpoint: dns:///{HOST}:{}\n  insecureSkipVerify: true\n  caCertFilePath: {}\n  authType: Pkce\n", addr.port(), pinned.display()),
    );
    let run = run_flyte(&lab, addr.port(), &["--flytectl-config", path_str(&config)]);
    run.assert_no_panic();
    let doc = run.flyte_doc();
    assert_eq!(doc.flyte.auth.state, AuthState::On, "{:#?}", doc.flyte);
    assert_eq!(doc.flyte.auth.server.as_deref(), Some("built-in"));
    let client = doc.flyte.auth.client.as_ref().unwrap();
    assert_eq!(client.client_id.as_deref(), Some("flytectl"));
    assert_eq!(doc.flyte.healthcheck, Some(200));
    let reports = &doc.reports;
    assert_eq!(reports.len(), 1, "admin is its own OAuth server");
    assert!(reports[0]
        .role
        .as_deref()
        .unwrap()
        .contains("OAuth token endpoint"));
    let login = doc.flyte.finding("oauth-login-fails");
    let message = &login.message;
    let token_url = format!("https://{HOST}:{}/oauth2/token", addr.port());
    assert!(
        message.contains(&format!("POST {token_url} fails on macOS")),
        "{message}"
    );
    assert!(
        message.contains("“flyte.example.com” certificate is not standards compliant"),
        "{message}"
    );
    assert!(
        message.contains("while gRPC works, because insecureSkipVerify"),
        "{message}"
    );
    assert!(doc.flyte.has_finding("insecure-skip-verify-in-use"));
    assert!(!reports[0].has_finding("insecure-skip-verify-in-use"));
    assert_eq!(run.code, 2);
}

#[test]
fn openssl_self_signed_admin_without_trust_assumes_the_built_in_server() {
    let lab = Lab::new();
    let cert = lab::self_signed(&Spec::openssl_req_x509(HOST)).unwrap();
    let addr = flyteadmin::start(&lab, HOST, vec![cert.der.clone()], &cert, Admin::default());
    let doc = run_flyte(&lab, addr.port(), &[]).flyte_doc();
    assert_eq!(doc.flyte.auth.state, AuthState::Unknown);
    let unreachable = doc.flyte.finding("oauth-metadata-unreachable");
    assert!(unreachable.message.contains("TLS"), "{unreachable:#?}");
    let login = doc.flyte.finding("oauth-login-fails");
    assert_eq!(login.severity, Severity::Warning);
    assert!(login
        .message
        .starts_with("If admin runs the built-in authorization server"));
}

#[test]
fn external_idp_with_a_broken_certificate_is_named_as_the_host_that_breaks_login() {
    let lab = Lab::new();
    let pki = Pki::new();
    let idp_cert = lab::self_signed(&Spec::leaf(IDP)).unwrap();
    let idp = lab.serve(&[&idp_cert], &idp_cert);
    let idp_base = format!("https://{IDP}:{}/oauth2/default/v1", idp.addr.port());
    let admin = Admin {
        auth: Auth::External(idp_base.clone()),
        camel_case: true,
        ..Admin::default()
    };
    let addr = start_admin(&lab, &pki, admin);
    let root = pki.root_file(&lab);
    let idp_resolve = format!("{IDP}:{}:127.0.0.1", idp.addr.port());
    let run = run_flyte(
        &lab,
        addr.port(),
        &["--ca-file", path_str(&root), "--resolve", &idp_resolve],
    );
    let doc = run.flyte_doc();
    assert_eq!(
        doc.flyte.auth.server.as_deref(),
        Some("external"),
        "camelCase metadata is understood"
    );
    let reports = &doc.reports;
    assert_eq!(reports.len(), 2, "{:#?}", doc.reports);
    assert_eq!(
        reports[0].status,
        Status::Ok,
        "admin's certificate is fine: {:#?}",
        reports[0].findings
    );
    let idp_report = &reports[1];
    assert_eq!(idp_report.host.as_deref(), Some(IDP));
    let role = idp_report.role.as_deref().unwrap();
    for part in [
        "OAuth token endpoint",
        "OAuth authorization endpoint",
        "OAuth JWKS",
        "OAuth issuer",
    ] {
        assert!(role.contains(part), "{role}");
    }
    let token_url = format!("{idp_base}/token");
    let macos = idp_report.client("flytectl-macos", "oauth-http");
    assert_eq!(
        macos.error.as_deref(),
        // Not self-signed to Apple (an authority key id without a subject key id):
        // errSecCreateChainFailed, worded by Apple (see apple_model.rs).
        Some(format!("Post \"{token_url}\": tls: failed to verify certificate: x509: “{IDP}” certificate is not trusted").as_str())
    );
    let messages: Vec<&str> = doc
        .flyte
        .findings
        .iter()
        .filter(|f| f.id == "oauth-login-fails")
        .map(|f| f.message.as_str())
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains(&format!("POST {token_url} fails on macOS"))),
        "{messages:#?}"
    );
    assert!(
        messages.iter().any(|m| m.contains("authorization endpoint")
            && m.contains("NET::ERR_CERT_AUTHORITY_INVALID")),
        "{messages:#?}"
    );
    assert_eq!(run.code, 2);
}

#[test]
fn auth_off_is_reported_as_such() {
    let lab = Lab::new();
    let pki = Pki::new();
    let admin = Admin {
        auth: Auth::Off,
        ..Admin::default()
    };
    let addr = start_admin(&lab, &pki, admin);
    let root = pki.root_file(&lab);
    let run = run_flyte(&lab, addr.port(), &["--ca-file", path_str(&root)]);
    let doc = run.flyte_doc();
    assert_eq!(doc.flyte.auth.state, AuthState::Off);
    assert_eq!(doc.flyte.finding_ids(), ["auth-disabled"]);
    assert_eq!(doc.reports.len(), 1);
    assert_eq!(run.code, 0);
}

#[test]
fn alpn_without_h2_is_not_ready_for_grpc() {
    let lab = Lab::new();
    let pki = Pki::new();
    let admin = Admin {
        h2: false,
        ..Admin::default()
    };
    let addr = start_admin(&lab, &pki, admin);
    let root = pki.root_file(&lab);
    let run = run_flyte(&lab, addr.port(), &["--ca-file", path_str(&root)]);
    let doc = run.flyte_doc();
    assert_eq!(doc.flyte.grpc_alpn.as_deref(), Some("http/1.1"));
    let alpn = doc.flyte.finding("alpn-no-h2");
    assert!(
        alpn.message.contains("no application protocol"),
        "{}",
        alpn.message
    );
    // The client table agrees: both gRPC channels refuse, with the clients' own words.
    let admin_report = &doc.reports[0];
    let linux = admin_report.client("flytectl-linux", "grpc");
    assert!(!linux.accepts);
    assert!(linux.error.as_deref().unwrap().ends_with(
        "transport: authentication handshake failed: remote error: tls: no application protocol"
    ));
    let pyflyte = admin_report.client("pyflyte", "grpc");
    assert!(!pyflyte.accepts);
    assert!(pyflyte
        .error
        .as_deref()
        .unwrap()
        .contains("TLSV1_ALERT_NO_APPLICATION_PROTOCOL"));
    assert_eq!(run.code, 2);
}

/// The gRPC health call through the ingress: a gRPC answer proves routing; an HTML 404 or a
/// gRPC error is named with what grpc-go (flytectl) prints.
#[test]
fn grpc_health_call_tells_whether_the_ingress_routes_grpc() {
    let lab = Lab::new();
    let pki = Pki::new();
    let root = pki.root_file(&lab);
    let run_with = |grpc: Grpc| {
        let admin = Admin {
            grpc,
            ..Admin::default()
        };
        let addr = start_admin(&lab, &pki, admin);
        let run = run_flyte(&lab, addr.port(), &["--ca-file", path_str(&root)]);
        run.assert_no_panic();
        (run.flyte_doc(), run.code)
    };

    let (doc, code) = run_with(Grpc::Serving);
    let health = doc.flyte.grpc_health.as_ref().unwrap();
    assert_eq!(health.serving.as_deref(), Some("SERVING"), "{health:#?}");
    assert_eq!(health.grpc_status, Some(0));
    assert_eq!(health.http_status, Some(200));
    assert!(
        !doc.flyte
            .finding_ids()
            .iter()
            .any(|id| id.starts_with("grpc-")),
        "{:?}",
        doc.flyte.finding_ids()
    );
    // The private root is given with --ca-file, assumed installed where every client looks.
    assert_eq!(code, 0);

    let (doc, code) = run_with(Grpc::Unrouted);
    let finding = doc.flyte.finding("grpc-not-routed");
    assert_eq!(finding.severity, Severity::Critical);
    let message = &finding.message;
    assert!(
        message.contains("rpc error: code = Unimplemented desc = unexpected HTTP status code received from server: 404 (Not Found); transport: received unexpected content-type \"text/html\""),
        "{message}"
    );
    assert_eq!(doc.flyte.grpc_health.unwrap().grpc_status, None);
    assert_eq!(code, 2);

    let (doc, _) = run_with(Grpc::Unavailable);
    let finding = doc.flyte.finding("grpc-health-not-serving");
    assert_eq!(finding.severity, Severity::Critical);
    let message = &finding.message;
    assert!(
        message.contains("grpc-status 14 (Unavailable)"),
        "{message}"
    );
    assert!(message.contains("no healthy upstream"), "{message}");

    let (doc, _) = run_with(Grpc::NotServing);
    let finding = doc.flyte.finding("grpc-health-not-serving");
    assert_eq!(finding.severity, Severity::Warning);
    assert!(finding.message.contains("NOT_SERVING"));
}

/// Like discovery, the health call never runs over a connection certready cannot verify.
#[test]
fn grpc_health_call_is_not_made_over_an_unverified_connection() {
    let lab = Lab::new();
    let pki = Pki::new();
    let addr = start_admin(&lab, &pki, Admin::default());
    let doc = run_flyte(&lab, addr.port(), &[]).flyte_doc();
    let health = doc.flyte.grpc_health.as_ref().unwrap();
    assert_eq!(health.http_status, None, "{health:#?}");
    assert!(health.error.is_some(), "{health:#?}");
    assert!(!doc
        .flyte
        .finding_ids()
        .iter()
        .any(|id| id.starts_with("grpc-")));
}

#[test]
fn plaintext_admin_gets_the_insecure_advice() {
    let lab = Lab::new();
    let addr = misbehaving_server(&lab, Misbehaviour::PlaintextHttp);
    let run = run_flyte(&lab, addr.port(), &[]);
    let doc = run.flyte_doc();
    let plaintext = doc.flyte.finding("plaintext-endpoint");
    assert!(plaintext.message.contains("admin.insecure: true"));
    assert_eq!(run.code, 3, "admin could not be checked");
}

#[test]
fn insecure_config_against_a_tls_endpoint() {
    let lab = Lab::new();
    let pki = Pki::new();
    let addr = start_admin(&lab, &pki, Admin::default());
    let root = pki.root_file(&lab);
    let config = lab.file(
        "config.yaml",
        format!(
            "admin:\n  endpoint: dns:///{HOST}:{}\n  insecure: true\n",
            addr.port()
        ),
    );
    let doc = run_flyte(
        &lab,
        addr.port(),
        &[
            "--ca-file",
            path_str(&root),
            "--flytectl-config",
            path_str(&config),
        ],
    )
    .flyte_doc();
    assert!(doc.flyte.has_finding("insecure-but-tls"));
}

fn cors_run(admin: Admin, origin: &str) -> (json::FlyteDocument, i32) {
    let lab = Lab::new();
    let pki = Pki::new();
    // A machine set up properly: the company CA is in the OS store, and given with
    // --ca-file, so every client (pyflyte's too) is assumed to trust it.
    lab.trust_system(&pki.root);
    let root = pki.root_file(&lab);
    let addr = start_admin(&lab, &pki, admin);
    let run = run_flyte(
        &lab,
        addr.port(),
        &["--console-origin", origin, "--ca-file", path_str(&root)],
    );
    (run.flyte_doc(), run.code)
}

#[test]
fn cors_allowed() {
    let console = "https://console.example.com";
    let admin = Admin {
        allowed_origins: vec![console.into()],
        ..Admin::default()
    };
    let (doc, code) = cors_run(admin, console);
    let cors = doc.flyte.cors.as_ref().unwrap();
    assert_eq!(cors.verdict, "allowed", "{cors:#?}");
    assert_eq!(cors.allow_origin.as_deref(), Some(console));
    assert_eq!(
        cors.allow_headers.as_deref(),
        Some("Flyte-Authorization,Content-Type")
    );
    assert!(!doc
        .flyte
        .finding_ids()
        .iter()
        .any(|id| id.starts_with("cors-")));
    assert_eq!(code, 0);
}

#[test]
fn cors_origin_refused_with_the_config_fix() {
    let admin = Admin {
        allowed_origins: vec!["https://other.example.com".into()],
        ..Admin::default()
    };
    let (doc, code) = cors_run(admin, "https://console.example.com");
    assert_eq!(
        doc.flyte.cors.as_ref().unwrap().verdict,
        "origin-not-allowed"
    );
    let finding = doc.flyte.finding("cors-origin-not-allowed");
    let fix = &finding.remediation;
    assert!(
        fix.contains("        - https://console.example.com"),
        "{fix}"
    );
    assert!(
        fix.contains("kubectl rollout restart deployment/flyteadmin"),
        "{fix}"
    );
    assert_eq!(code, 2);
}

#[test]
fn cors_header_refused() {
    // The flyte-core chart's default: allowedHeaders: ["Content-Type"].
    let admin = Admin {
        allowed_headers: vec!["Content-Type".into()],
        ..Admin::default()
    };
    let (doc, code) = cors_run(admin, "https://console.example.com");
    assert_eq!(doc.flyte.cors.as_ref().unwrap().status, Some(403));
    let finding = doc.flyte.finding("cors-header-not-allowed");
    assert!(finding.remediation.contains("- flyte-authorization"));
    assert_eq!(code, 2);
}

#[test]
fn cors_wildcard_with_credentials_warns() {
    let (doc, code) = cors_run(Admin::default(), "https://console.example.com");
    assert_eq!(
        doc.flyte.cors.as_ref().unwrap().allow_origin.as_deref(),
        Some("*")
    );
    assert!(doc.flyte.has_finding("cors-wildcard-with-credentials"));
    assert_eq!(code, 1);
}

#[test]
fn endpoint_from_the_flytectl_config_and_text_output() {
    let lab = Lab::new();
    let pki = Pki::new();
    let addr = start_admin(&lab, &pki, Admin::default());
    let config = lab.file(
        "config.yaml",
        format!(
            "admin:\n  endpoint: dns:///{HOST}:{}\n  caCertFilePath: {}\n",
            addr.port(),
            pki.root_file(&lab).display()
        ),
    );
    let resolve = format!("{HOST}:{}:127.0.0.1", addr.port());
    let run = lab.run(&[
        "flyte",
        "--flytectl-config",
        path_str(&config),
        "--resolve",
        &resolve,
    ]);
    assert!(
        run.stdout
            .starts_with(&format!("Flyte login path for {HOST}:{}", addr.port())),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("auth: on, built-in authorization server"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("ALPN: h2 (ready for gRPC)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("gRPC health: SERVING (gRPC is routed to admin)"),
        "{}",
        run.stdout
    );
    for line in run.stdout.lines() {
        assert!(line.chars().count() <= 80, "line too wide: {line:?}");
    }
    let markdown = lab.run(&[
        "flyte",
        "--flytectl-config",
        path_str(&config),
        "--resolve",
        &resolve,
        "--format",
        "markdown",
    ]);
    assert_eq!(markdown.code, run.code);
    for needle in [
        format!(
            "# certready: Flyte login path for {HOST}:{} — ",
            addr.port()
        ),
        "| Host | Role | Status | Verdict |".to_string(),
        "- Auth: on, built-in authorization server".to_string(),
        "- ALPN: h2 (ready for gRPC)".to_string(),
        "- gRPC health: SERVING (gRPC is routed to admin)".to_string(),
        "| Client | Channel | Verdict | What it says |".to_string(),
    ] {
        assert!(
            markdown.stdout.contains(&needle),
            "{needle:?}:\n{}",
            markdown.stdout
        );
    }
    let run = lab.run(&["flyte"]);
    assert_eq!(run.code, 3);
    assert!(run.stderr.contains("admin.endpoint"), "{}", run.stderr);
}

#[test]
fn http_proxy_url_from_the_config_is_used_for_oauth_requests() {
    let lab = Lab::new();
    let pki = Pki::new();
    let addr = start_admin(&lab, &pki, Admin::default());
    let root = pki.root_file(&lab);
    let proxy_port = closed_port();
    let config = lab.file(
        "config.yaml",
        format!(
            "admin:\n  endpoint: dns:///{HOST}:{}\n  httpProxyURL: http://127.0.0.1:{proxy_port}\n",
            addr.port()
        ),
    );
    let doc = run_flyte(
        &lab,
        addr.port(),
        &[
            "--ca-file",
            path_str(&root),
            "--flytectl-config",
            path_str(&config),
        ],
    )
    .flyte_doc();
    // Nothing listens on the proxy port: the OAuth requests fail there, as flytectl's would.
    let unreachable = doc.flyte.finding("oauth-metadata-unreachable");
    assert!(
        unreachable.message.contains("cannot connect"),
        "{unreachable:#?}"
    );
}

#[test]
fn external_command_auth_skips_the_token_exchange() {
    let lab = Lab::new();
    let mut spec = Spec::leaf(HOST);
    spec.lifetime_days = 3650;
    let cert = lab::self_signed(&spec).unwrap();
    let addr = flyteadmin::start(&lab, HOST, vec![cert.der.clone()], &cert, Admin::default());
    let pinned = lab.file("admin.pem", &cert.pem);
    let config = lab.file(
        "config.yaml",
        format!("admin:\n  endpoint: dns:///{HOST}:{}\n  caCertFilePath: {}\n  authType: ExternalCommand\n  command: [get-token]\n", addr.port(), pinned.display()),
    );
    let doc = run_flyte(&lab, addr.port(), &["--flytectl-config", path_str(&config)]).flyte_doc();
    assert!(
        !doc.flyte.has_finding("oauth-login-fails"),
        "{:#?}",
        doc.flyte.findings
    );
}

//! `certready flyte` against a fake flyteadmin (and a second loopback "IdP" host), every
//! host pinned to 127.0.0.1 with --resolve.

use crate::common::flyteadmin::{self, Admin, Auth, Grpc};
use crate::common::*;
use certready::lab::{self, Spec};
use serde_json::Value;

const IDP: &str = "idp.example.com";

fn flyte_findings(doc: &Value) -> Vec<String> {
    doc["flyte"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

fn flyte_finding<'a>(doc: &'a Value, id: &str) -> &'a Value {
    doc["flyte"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no flyte finding {id} in {:#}", doc["flyte"]["findings"]))
}

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
    let doc = run.json();
    assert_eq!(doc["flyte"]["auth"]["state"], "on", "{:#}", doc["flyte"]);
    assert_eq!(doc["flyte"]["auth"]["server"], "built-in");
    assert_eq!(doc["flyte"]["auth"]["client"]["client_id"], "flytectl");
    assert_eq!(doc["flyte"]["healthcheck"], 200);
    let reports = doc["reports"].as_array().unwrap();
    assert_eq!(reports.len(), 1, "admin is its own OAuth server");
    assert!(reports[0]["role"]
        .as_str()
        .unwrap()
        .contains("OAuth token endpoint"));
    let login = flyte_finding(&doc, "oauth-login-fails");
    let message = login["message"].as_str().unwrap();
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
    assert!(flyte_findings(&doc).contains(&"insecure-skip-verify-in-use".to_string()));
    assert!(!finding_ids(&reports[0]).contains(&"insecure-skip-verify-in-use".to_string()));
    assert_eq!(run.code, 2);
}

#[test]
fn openssl_self_signed_admin_without_trust_assumes_the_built_in_server() {
    let lab = Lab::new();
    let cert = lab::self_signed(&Spec::openssl_req_x509(HOST)).unwrap();
    let addr = flyteadmin::start(&lab, HOST, vec![cert.der.clone()], &cert, Admin::default());
    let doc = run_flyte(&lab, addr.port(), &[]).json();
    assert_eq!(doc["flyte"]["auth"]["state"], "unknown");
    let unreachable = flyte_finding(&doc, "oauth-metadata-unreachable");
    assert!(
        unreachable["message"].as_str().unwrap().contains("TLS"),
        "{unreachable:#}"
    );
    let login = flyte_finding(&doc, "oauth-login-fails");
    assert_eq!(login["severity"], "warning");
    assert!(login["message"]
        .as_str()
        .unwrap()
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
    let doc = run.json();
    assert_eq!(
        doc["flyte"]["auth"]["server"], "external",
        "camelCase metadata is understood"
    );
    let reports = doc["reports"].as_array().unwrap();
    assert_eq!(reports.len(), 2, "{:#}", doc["reports"]);
    assert_eq!(
        reports[0]["status"], "ok",
        "admin's certificate is fine: {:#}",
        reports[0]["findings"]
    );
    let idp_report = &reports[1];
    assert_eq!(idp_report["host"], IDP);
    let role = idp_report["role"].as_str().unwrap();
    for part in [
        "OAuth token endpoint",
        "OAuth authorization endpoint",
        "OAuth JWKS",
        "OAuth issuer",
    ] {
        assert!(role.contains(part), "{role}");
    }
    let token_url = format!("{idp_base}/token");
    let macos = verdict(idp_report, "flytectl-macos", "oauth-http");
    assert_eq!(
        macos["error"],
        format!("Post \"{token_url}\": tls: failed to verify certificate: x509: certificate signed by unknown authority")
    );
    let messages: Vec<&str> = doc["flyte"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"] == "oauth-login-fails")
        .map(|f| f["message"].as_str().unwrap())
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
    let doc = run.json();
    assert_eq!(doc["flyte"]["auth"]["state"], "off");
    assert_eq!(flyte_findings(&doc), ["auth-disabled"]);
    assert_eq!(doc["reports"].as_array().unwrap().len(), 1);
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
    let doc = run.json();
    assert_eq!(doc["flyte"]["grpc_alpn"], "http/1.1");
    let alpn = flyte_finding(&doc, "alpn-no-h2");
    assert!(alpn["message"]
        .as_str()
        .unwrap()
        .contains("missing selected ALPN property"));
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
        (run.json(), run.code)
    };

    let (doc, code) = run_with(Grpc::Serving);
    let health = &doc["flyte"]["grpc_health"];
    assert_eq!(health["serving"], "SERVING", "{health:#}");
    assert_eq!(health["grpc_status"], 0);
    assert_eq!(health["http_status"], 200);
    assert!(
        !flyte_findings(&doc)
            .iter()
            .any(|id| id.starts_with("grpc-")),
        "{:?}",
        flyte_findings(&doc)
    );
    // (Critical anyway: the OS store lacks the private root the OAuth clients need.)
    assert_eq!(code, 2);

    let (doc, code) = run_with(Grpc::Unrouted);
    let finding = flyte_finding(&doc, "grpc-not-routed");
    assert_eq!(finding["severity"], "critical");
    let message = finding["message"].as_str().unwrap();
    assert!(
        message.contains("rpc error: code = Unimplemented desc = unexpected HTTP status code received from server: 404 (Not Found); transport: received unexpected content-type \"text/html\""),
        "{message}"
    );
    assert_eq!(
        doc["flyte"]["grpc_health"]["grpc_status"],
        serde_json::Value::Null
    );
    assert_eq!(code, 2);

    let (doc, _) = run_with(Grpc::Unavailable);
    let finding = flyte_finding(&doc, "grpc-health-not-serving");
    assert_eq!(finding["severity"], "critical");
    let message = finding["message"].as_str().unwrap();
    assert!(
        message.contains("grpc-status 14 (Unavailable)"),
        "{message}"
    );
    assert!(message.contains("no healthy upstream"), "{message}");

    let (doc, _) = run_with(Grpc::NotServing);
    let finding = flyte_finding(&doc, "grpc-health-not-serving");
    assert_eq!(finding["severity"], "warning");
    assert!(finding["message"].as_str().unwrap().contains("NOT_SERVING"));
}

/// Like discovery, the health call never runs over a connection certready cannot verify.
#[test]
fn grpc_health_call_is_not_made_over_an_unverified_connection() {
    let lab = Lab::new();
    let pki = Pki::new();
    let addr = start_admin(&lab, &pki, Admin::default());
    let doc = run_flyte(&lab, addr.port(), &[]).json();
    let health = &doc["flyte"]["grpc_health"];
    assert_eq!(health["http_status"], serde_json::Value::Null, "{health:#}");
    assert!(health["error"].as_str().is_some(), "{health:#}");
    assert!(!flyte_findings(&doc)
        .iter()
        .any(|id| id.starts_with("grpc-")));
}

#[test]
fn plaintext_admin_gets_the_insecure_advice() {
    let lab = Lab::new();
    let addr = misbehaving_server(&lab, Misbehaviour::PlaintextHttp);
    let run = run_flyte(&lab, addr.port(), &[]);
    let doc = run.json();
    let plaintext = flyte_finding(&doc, "plaintext-endpoint");
    assert!(plaintext["message"]
        .as_str()
        .unwrap()
        .contains("admin.insecure: true"));
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
    .json();
    assert!(flyte_findings(&doc).contains(&"insecure-but-tls".to_string()));
}

fn cors_run(admin: Admin, origin: &str) -> (Value, i32) {
    let lab = Lab::new();
    let pki = Pki::new();
    // A machine set up properly: the company CA is in the OS store.
    lab.trust_system(&pki.root);
    let addr = start_admin(&lab, &pki, admin);
    let run = run_flyte(&lab, addr.port(), &["--console-origin", origin]);
    (run.json(), run.code)
}

#[test]
fn cors_allowed() {
    let console = "https://console.example.com";
    let admin = Admin {
        allowed_origins: vec![console.into()],
        ..Admin::default()
    };
    let (doc, code) = cors_run(admin, console);
    let cors = &doc["flyte"]["cors"];
    assert_eq!(cors["verdict"], "allowed", "{cors:#}");
    assert_eq!(cors["allow_origin"], console);
    assert_eq!(cors["allow_headers"], "Flyte-Authorization,Content-Type");
    assert!(!flyte_findings(&doc)
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
    assert_eq!(doc["flyte"]["cors"]["verdict"], "origin-not-allowed");
    let finding = flyte_finding(&doc, "cors-origin-not-allowed");
    let fix = finding["remediation"].as_str().unwrap();
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
    assert_eq!(doc["flyte"]["cors"]["status"], 403);
    let finding = flyte_finding(&doc, "cors-header-not-allowed");
    assert!(finding["remediation"]
        .as_str()
        .unwrap()
        .contains("- flyte-authorization"));
    assert_eq!(code, 2);
}

#[test]
fn cors_wildcard_with_credentials_warns() {
    let (doc, code) = cors_run(Admin::default(), "https://console.example.com");
    assert_eq!(doc["flyte"]["cors"]["allow_origin"], "*");
    assert!(flyte_findings(&doc).contains(&"cors-wildcard-with-credentials".to_string()));
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
    .json();
    // Nothing listens on the proxy port: the OAuth requests fail there, as flytectl's would.
    let unreachable = flyte_finding(&doc, "oauth-metadata-unreachable");
    assert!(
        unreachable["message"]
            .as_str()
            .unwrap()
            .contains("cannot connect"),
        "{unreachable:#}"
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
    let doc = run_flyte(&lab, addr.port(), &["--flytectl-config", path_str(&config)]).json();
    assert!(
        !flyte_findings(&doc).contains(&"oauth-login-fails".to_string()),
        "{:#}",
        doc["flyte"]["findings"]
    );
}

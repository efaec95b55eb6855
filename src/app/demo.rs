//! `certready demo`: classic Flyte ingress situations served on 127.0.0.1 inside this
//! process, each checked by the real `check` path. No network, nothing to set up.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::args::{FetchArgs, NetArgs, TrustArgs};
use super::error::Error;
use super::settings::{ProxySource, SettingsArgs};
use crate::check::Settings;
use crate::lab::{self, KeyKind, Spec};
use crate::render::{self, Format};
use crate::report::Report;
use crate::target;

const HOST: &str = "flyte.example.com";

struct Scenario {
    title: &'static str,
    story: &'static str,
    /// The certificates the server sends, leaf first, and the leaf's key.
    served: Vec<rustls_pki_types::CertificateDer<'static>>,
    key: rustls_pki_types::PrivateKeyDer<'static>,
    /// A private root the user would pass with --ca-file.
    ca_pem: Option<String>,
}

/// The scenarios, and the missing intermediate their CA serves at `aia_url`.
fn scenarios(aia_url: &str) -> Result<(Vec<Scenario>, Vec<u8>), rcgen::Error> {
    let mut list = Vec::new();

    // `openssl req -x509 -newkey rsa:2048 -days 3650 -subj /CN=flyte.example.com`
    let selfsigned = lab::self_signed(&Spec::openssl_req_x509(HOST))?;
    list.push(Scenario {
        title: "Self-signed certificate, valid 10 years",
        story:
            "Made with `openssl req -x509 -newkey rsa:2048 -days 3650 -subj /CN=flyte.example.com` \
                and mounted on the ingress. flytectl on macOS fails its OAuth login with \
                \"certificate is not standards compliant\".",
        served: vec![selfsigned.der.clone()],
        key: selfsigned.key_der(),
        ca_pem: None,
    });

    let mut spec = Spec::leaf("ingress.local");
    spec.common_name = crate::rules::INGRESS_FAKE_CN.into();
    spec.organization = Some("Acme Co".into());
    spec.lifetime_days = 365;
    spec.key = KeyKind::Rsa2048;
    let fake = lab::self_signed(&spec)?;
    list.push(Scenario {
        title: "Ingress serving its default certificate",
        story: "The Ingress has no working tls section for this host, so ingress-nginx answers with \
                its built-in fake certificate. flytectl says \
                x509: \"Kubernetes Ingress Controller Fake Certificate\" certificate is not trusted.",
        served: vec![fake.der.clone()],
        key: fake.key_der(),
        ca_pem: None,
    });

    let root = lab::self_signed(&Spec::ca("Example Corp Root CA"))?;
    let mut intermediate_spec = Spec::ca("Example Corp Issuing CA 1");
    intermediate_spec.lifetime_days = 1825;
    let intermediate = lab::issue(&intermediate_spec, &root)?;
    let mut leaf_spec = Spec::leaf(HOST);
    leaf_spec.ca_issuers_url = Some(aia_url.into());
    let leaf = lab::issue(&leaf_spec, &intermediate)?;
    list.push(Scenario {
        title: "Private CA, intermediate missing",
        story:
            "A company CA issued the certificate, but the Secret's tls.crt holds only the leaf. \
                Browsers and macOS (flytectl's OAuth login there) fetch the intermediate from \
                the AIA URL, served here on 127.0.0.1, and work; Go with caCertFilePath, \
                pyflyte and curl fail.",
        served: vec![leaf.der.clone()],
        key: leaf.key_der(),
        ca_pem: Some(root.pem.clone()),
    });
    list.push(Scenario {
        title: "Private CA, used correctly",
        story: "Leaf with the host in its subjectAltName, serverAuth, 90 days, sent with its \
                intermediate; the root is handed to clients (--ca-file here, caCertFilePath in \
                flytectl).",
        served: vec![leaf.der.clone(), intermediate.der.clone()],
        key: leaf.key_der(),
        ca_pem: Some(root.pem.clone()),
    });
    Ok((list, intermediate.der.to_vec()))
}

pub fn run(format: Format) -> Result<i32, Error> {
    let runtime = super::commands::runtime()?;
    // Removed when dropped; its name has a fixed length, so the text wraps the same way.
    let scratch = tempfile::Builder::new()
        .prefix("certready-demo-")
        .tempdir()?;
    runtime.block_on(run_scenarios(format, scratch.path()))
}

async fn run_scenarios(format: Format, scratch: &std::path::Path) -> Result<i32, Error> {
    // The CA's caIssuers URL, on this machine too: the demo fetches as `check` does.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let aia_url = format!("http://{}/issuing-ca-1.crt", listener.local_addr()?);
    let (scenarios, intermediate) = scenarios(&aia_url)
        .map_err(|e| Error::Failed(format!("cannot generate demo certificates: {e}")))?;
    let _aia_server = lab::serve_certificate(listener, intermediate)?;
    let mut reports: Vec<Report> = Vec::new();
    let mut out = anstream::stdout();
    if format == Format::Markdown {
        let _ = writeln!(
            out,
            "# certready demo\n\n{} TLS endpoints on 127.0.0.1, each presenting a situation Flyte \
             operators meet, each checked exactly as `certready check` would check it.\n",
            scenarios.len()
        );
    }
    if format == Format::Text {
        let intro = format!(
            "certready demo: {} TLS endpoints on 127.0.0.1, each presenting a situation Flyte \
             operators meet. Each is checked exactly as `certready check` would check it.",
            scenarios.len()
        );
        let _ = writeln!(out, "{}\n", textwrap::fill(&intro, 80));
    }
    for (i, scenario) in scenarios.into_iter().enumerate() {
        let server = lab::serve(scenario.served, scenario.key, &[b"h2", b"http/1.1"]).await?;
        let port = server.addr.port();
        let target_text = format!("{HOST}:{port}");
        let mut command =
            format!("certready check {target_text} \\\n    --resolve {HOST}:{port}:127.0.0.1");
        let mut ca_files = Vec::new();
        if let Some(pem) = &scenario.ca_pem {
            let path: PathBuf = scratch.join(format!("root-ca-{i}.pem"));
            std::fs::write(&path, pem)?;
            command.push_str(" \\\n    --ca-file root-ca.pem");
            ca_files.push(path);
        }
        // The settings `certready check` builds from the command shown above.
        let resolve = target::parse_resolve(&format!("{HOST}:{port}:127.0.0.1"))
            .map_err(|e| Error::Failed(e.to_string()))?;
        let net = NetArgs {
            timeout: Duration::from_secs(5),
            resolve: vec![resolve],
            connect_to: None,
            sni: None,
        };
        let trust = TrustArgs {
            ca_files,
            public_roots: None,
            ct_log_list: None,
            apple_ct_log_list: None,
        };
        let settings = Arc::new(Settings::from_args(SettingsArgs {
            net: Some(&net),
            trust: &trust,
            clients: None,
            at: None,
            warn_days: 30,
            proxy: ProxySource::Direct,
            fetch: Some(&FetchArgs { no_fetch: false }),
            revocation: None,
        })?);
        let target =
            target::parse_target(&target_text).map_err(|e| Error::Failed(e.to_string()))?;
        let report = crate::check::check(&target, &settings).await;
        drop(server);
        if format == Format::Text {
            let _ = writeln!(out, "━━ {}. {} ━━", i + 1, scenario.title);
            let story = textwrap::fill(scenario.story, 80);
            let _ = writeln!(out, "{story}\n$ {command}\n");
            let _ = write!(
                out,
                "{}",
                render::text::render_text(std::slice::from_ref(&report), settings.now())
            );
            let _ = writeln!(out);
        }
        if format == Format::Markdown {
            let _ = write!(
                out,
                "{}",
                render::markdown::render_scenario(
                    i + 1,
                    scenario.title,
                    scenario.story,
                    &command,
                    &report,
                    settings.now()
                )
            );
        }
        reports.push(report);
    }
    if format == Format::Json {
        let _ = writeln!(out, "{}", render::json::reports(&reports));
    } else if format == Format::Prometheus {
        let _ = write!(out, "{}", render::metrics::render(&reports));
    } else if format == Format::Text {
        let closing = "Point it at your own endpoint: certready check flyte.example.com \
             (add --ca-file if you run a private CA). Exit codes: 0 OK, 1 WARNING, \
             2 CRITICAL, 3 UNKNOWN.";
        let _ = writeln!(out, "{}", textwrap::fill(closing, 80));
    }
    Ok(0)
}

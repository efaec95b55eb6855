//! `certready flyte`: every host a flytectl login touches. Admin's TLS and gRPC
//! readiness, OAuth discovery over HTTPS (reqwest, verified with our own trust stores:
//! never over the unverified capture handshake), a TLS check and client verdicts for
//! each OAuth host, and the console's CORS preflight as flyteadmin answers it.

mod admin;
pub mod config;
mod cors;
mod discovery;
pub mod grpc_health;
mod hosts;
mod http;
mod login;
mod summary;

use std::sync::Arc;

pub use cors::parse_origin;
pub use summary::{
    AuthState, AuthSummary, ClientConfigSummary, CorsResult, CorsVerdict, FlyteRun, FlyteSummary,
    OAuthMetadata,
};

use crate::check::Settings;
use crate::findings::{Finding, FindingId};
use crate::report::Report;
use crate::target::Target;
use config::AuthType;

#[derive(Debug, Default, Clone)]
pub struct FlyteOptions {
    /// The console's origin (scheme://host[:port]) for the CORS preflight.
    pub console_origin: Option<String>,
    /// flytectl's admin.httpProxyURL: its OAuth HTTP requests go through it, so ours do.
    pub http_proxy: Option<String>,
    /// flytectl's admin.authType (ClientSecret by default).
    pub auth_type: Option<AuthType>,
}

/// Checks the Flyte deployment whose admin is `admin`, as flytectl (configured per
/// `settings` and `options`) would use it: admin's TLS, ALPN, healthcheck and gRPC
/// health, OAuth discovery, each OAuth host, the login and the console's CORS. Returns
/// one report per host (admin first) and the Flyte-level summary and findings.
pub async fn run(admin: &Target, settings: Arc<Settings>, options: &FlyteOptions) -> FlyteRun {
    let mut findings = Vec::new();
    let admin_report = admin::check_admin(admin, &settings).await;
    let flytectl = &settings.clients.flytectl;
    admin::connection_findings(admin, &admin_report, flytectl, &mut findings);
    let grpc_alpn = admin::negotiated_alpn(&admin_report);

    // One verified TLS configuration (the trust stores' anchors) for every HTTP request.
    let tls = http::verified_tls(settings.stores.get().await, &settings);
    let client = match tls
        .clone()
        .and_then(|tls| http::client(&settings, tls, options.http_proxy.as_deref()))
    {
        Ok(client) => client,
        Err(error) => return without_http_client(admin, admin_report, error, findings),
    };

    let base = format!("https://{}", admin.authority());
    let tls_up = admin_report.tls.is_some();
    let healthcheck = if tls_up {
        admin::healthcheck(&client, &base, &mut findings).await
    } else {
        None
    };
    let grpc_health = if tls_up && grpc_alpn.as_deref() == Some("h2") {
        Some(admin::grpc_health_call(tls, &settings, admin, &base, &mut findings).await)
    } else {
        None
    };
    let auth = if tls_up {
        discovery::discover(&client, &base, &mut findings).await
    } else {
        discovery::not_attempted(&admin_report)
    };

    let hosts = hosts::check_hosts(admin, admin_report, &auth, &settings).await;
    // With ExternalCommand, flytectl gets its token from a command, not a token endpoint.
    if options.auth_type != Some(AuthType::ExternalCommand) {
        login::login_findings(&hosts, &auth, &settings, &mut findings);
    }
    let reports = hosts::into_reports(hosts);

    let cors = match (&options.console_origin, tls_up) {
        (Some(origin), true) => Some(cors::preflight(&client, &base, origin, &mut findings).await),
        _ => None,
    };
    let summary = FlyteSummary {
        endpoint: admin.authority(),
        grpc_alpn,
        healthcheck,
        auth,
        cors,
        grpc_health,
        findings,
    };
    finish(reports, summary)
}

/// Without an HTTP client nothing past admin's own TLS check can be asked.
fn without_http_client(
    admin: &Target,
    admin_report: Report,
    error: String,
    mut findings: Vec<Finding>,
) -> FlyteRun {
    findings.push(Finding::new(
        FindingId::OauthMetadataUnreachable,
        None,
        format!("cannot build an HTTP client: {error}"),
    ));
    let summary = FlyteSummary {
        endpoint: admin.authority(),
        grpc_alpn: admin::negotiated_alpn(&admin_report),
        healthcheck: None,
        auth: AuthSummary::unknown(error),
        cors: None,
        grpc_health: None,
        findings,
    };
    finish(vec![admin_report], summary)
}

/// The run, with the Flyte findings most severe first.
fn finish(reports: Vec<Report>, mut summary: FlyteSummary) -> FlyteRun {
    summary
        .findings
        .sort_by_key(|f| std::cmp::Reverse(f.severity));
    FlyteRun { reports, summary }
}

/// The exit code of a run: its worst status.
pub fn exit_code(run: &FlyteRun) -> i32 {
    run.status().exit_code()
}

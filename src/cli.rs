//! Command line: raw arguments become validated settings in one place; `main` maps
//! every failure to the monitoring exit codes (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::check::{self, InspectOptions, Settings};
use crate::clients::{AnchorKind, ClientName, ClientOptions};
use crate::flyteconfig;
use crate::input;
use crate::probe::ProbeOptions;
use crate::render;
use crate::report::{self, Report, Status};
use crate::target::{self, Host, Target};
use crate::trust::{self as trust, StoreKind};
use crate::trust::{TrustOptions, TrustStores};

/// What `--help` adds to `-h` for the commands that judge certificates.
macro_rules! exit_codes_and_environment {
    () => {
        "\n\nExit codes (the worst over all targets):\n  \
0 OK        trusted, valid, nothing to warn about (info findings allowed)\n  \
1 WARNING   e.g. expires within --warn-days, chain out of order\n  \
2 CRITICAL  clients will refuse the certificate\n  \
3 UNKNOWN   the check could not complete (DNS, refused, timeout, not TLS,\n              \
unreadable file, bad arguments)\n\n\
Environment:\n  \
SSL_CERT_FILE, SSL_CERT_DIR       the OS (\"system\") store, read as OpenSSL and Go do\n  \
GRPC_DEFAULT_SSL_ROOTS_FILE_PATH  the roots pyflyte's grpcio trusts\n  \
HTTPS_PROXY, NO_PROXY             HTTP CONNECT proxy for the probes\n  \
FLYTECTL_CONFIG                   where --flytectl-config looks first\n  \
NO_COLOR                          no colour (as --color never)"
    };
}

/// The examples each judging command shows in `-h` and `--help`.
macro_rules! check_examples {
    () => {
        "Examples:\n  \
certready check flyte.example.com\n  \
certready check dns:///flyte.example.com:443 --ca-file company-root.pem\n  \
certready check https://flyte.example.com --connect-to 10.0.0.5:443 --format json\n  \
certready check flyte.example.com:8443 --resolve flyte.example.com:8443:127.0.0.1"
    };
}

macro_rules! inspect_examples {
    () => {
        "Examples:\n  \
certready inspect tls.crt --hostname flyte.example.com --key tls.key\n  \
kubectl get secret flyte-tls -o yaml > secret.yaml\n  \
certready inspect secret.yaml --hostname flyte.example.com\n  \
certready inspect fullchain.pem --ca-file company-root.pem --format json"
    };
}

macro_rules! flyte_examples {
    () => {
        "Examples:\n  \
certready flyte flyte.example.com\n  \
certready flyte --flytectl-config    # endpoint and TLS settings from flytectl's config\n  \
certready flyte dns:///flyte.example.com --console-origin https://console.example.com"
    };
}

/// `--version`: the crate version and the one rustls crypto provider compiled in.
pub const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    "\nTLS: rustls 0.23, crypto provider aws-lc-rs (the only one compiled in)",
    "\nCertificate paths: rustls-webpki 0.103; public roots: webpki-roots (Mozilla)"
);

#[derive(Debug, Parser)]
#[command(
    name = "certready",
    version,
    long_version = LONG_VERSION,
    about = "Will this TLS certificate be accepted — by which client, and if not, what to change?",
    long_about = "certready connects to TLS endpoints (or reads certificate files), captures the \
presented chain even when it is untrusted, validates it against the OS store, Mozilla's public \
list and your private CA, and explains every problem with a fix.\n\n\
Exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (the check could not be completed).",
    after_help = "Start with `certready demo` to see a full diagnosis without any network.",
    arg_required_else_help = true
)]
pub struct Cli {
    /// Print the long explanation of a finding id (e.g. validity-exceeds-825-days) and exit.
    #[arg(long, value_name = "ID")]
    pub explain: Option<String>,
    /// When to colour severities: auto (terminals, unless NO_COLOR is set), always, never.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorWhen::Auto, global = true)]
    pub color: ColorWhen,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

impl ColorWhen {
    fn choice(self) -> anstream::ColorChoice {
        match self {
            ColorWhen::Auto => anstream::ColorChoice::Auto,
            ColorWhen::Always => anstream::ColorChoice::Always,
            ColorWhen::Never => anstream::ColorChoice::Never,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Probe live TLS endpoints and diagnose their certificates.
    #[command(
        after_help = check_examples!(),
        after_long_help = concat!(check_examples!(), exit_codes_and_environment!())
    )]
    Check(CheckArgs),
    /// Diagnose certificate files or a Kubernetes TLS Secret before rollout (no network).
    #[command(
        after_help = inspect_examples!(),
        after_long_help = concat!(inspect_examples!(), exit_codes_and_environment!())
    )]
    Inspect(InspectArgs),
    /// Check every host a flytectl login touches: admin, OAuth hosts, gRPC readiness, CORS.
    #[command(
        after_help = flyte_examples!(),
        after_long_help = concat!(flyte_examples!(), exit_codes_and_environment!())
    )]
    Flyte(FlyteArgs),
    /// Serve Prometheus metrics: /metrics for configured targets, /probe?target= on demand.
    #[command(after_help = "Examples:\n  \
certready serve --targets /etc/certready/targets.txt --interval 5m\n  \
certready serve --listen 0.0.0.0:9469         # with Prometheus relabelling to /probe?target=")]
    Serve(ServeArgs),
    /// Lint flyteadmin's server config or a flytectl client config before deploying it.
    #[command(
        name = "lint-config",
        after_help = "Examples:\n  \
certready lint-config flyteadmin-config.yaml --console-origin https://console.example.com\n  \
certready lint-config ~/.flyte/config.yaml"
    )]
    LintConfig(LintArgs),
    /// Start local TLS endpoints with classic Flyte ingress mistakes and check them.
    #[command(after_help = "Examples:\n  \
certready demo\n  \
certready demo --format markdown > demo.md\n  \
certready demo --format json | jq '.reports[].clients[] | select(.accepts == false)'")]
    Demo(DemoArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    #[command(after_help = "Examples:\n  \
certready completions bash > ~/.local/share/bash-completion/completions/certready\n  \
certready completions zsh > \"${fpath[1]}/_certready\"\n  \
certready completions fish > ~/.config/fish/completions/certready.fish\n  \
certready completions powershell >> $PROFILE")]
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), or write one page per command into a directory.
    #[command(after_help = "Examples:\n  \
certready man | man -l -\n  \
certready man --dir /usr/local/share/man/man1")]
    Man {
        /// Write certready.1 and certready-COMMAND.1 into DIR instead of printing certready.1.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For a terminal: 80 columns, colour on severities only.
    Text,
    /// One document with every fact (schema: docs/json-schema.md).
    Json,
    /// Prometheus/OpenMetrics text (check, inspect, flyte, demo).
    Prometheus,
    /// A Markdown report to paste into an incident ticket or a pull request.
    Markdown,
}

#[derive(Debug, Args)]
pub struct NetArgs {
    /// Limit for DNS + connect + handshake per target, and for each HTTP request (e.g. 10s, 500ms).
    #[arg(long, value_name = "DURATION", default_value = "10s")]
    pub timeout: String,
    /// Pin HOST:PORT to ADDR[,ADDR...] for every connection (curl syntax). Repeatable.
    #[arg(long, value_name = "HOST:PORT:ADDR")]
    pub resolve: Vec<String>,
}

#[derive(Debug, Args)]
pub struct TrustArgs {
    /// Also trust the CA certificates in this PEM/DER file (flytectl's caCertFilePath). Repeatable.
    #[arg(long = "ca-file", value_name = "PEM")]
    pub ca_files: Vec<PathBuf>,
    /// Use these roots as the public (Mozilla) list instead of the compiled-in one.
    #[arg(long, value_name = "PEM")]
    pub public_roots: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ClientArgs {
    /// Only show these clients' verdicts. Repeatable.
    #[arg(long = "client", value_enum, value_name = "NAME")]
    pub clients: Vec<ClientName>,
    /// How the user's Mac trusts the root, when certready cannot know
    /// (default: inferred — public root → system, --ca-file root → private).
    #[arg(long, value_enum, value_name = "KIND")]
    pub anchor_kind: Option<AnchorKind>,
    /// Apply admin.caCertFilePath and admin.insecureSkipVerify from flytectl's config
    /// (without PATH: $FLYTECTL_CONFIG, then ~/.flyte/config.yaml, as flytectl looks).
    #[arg(long, value_name = "PATH", num_args = 0..=1)]
    pub flytectl_config: Option<Option<PathBuf>>,
}

#[derive(Debug, Args)]
pub struct JudgeArgs {
    /// Judge validity at this instant instead of now (RFC 3339, e.g. 2027-01-01T00:00:00Z).
    #[arg(long, value_name = "RFC3339")]
    pub at: Option<String>,
    /// Warn when a certificate expires within this many days.
    #[arg(long, value_name = "DAYS", default_value_t = 30)]
    pub warn_days: u32,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// host, host:port, https://host[:port][/path] or dns:///host[:port] (port 443 by default).
    #[arg(value_name = "TARGET", required_unless_present = "targets_file")]
    pub targets: Vec<String>,
    /// Read more targets from FILE, one per line (# comments; "-" for stdin).
    #[arg(long = "targets", value_name = "FILE")]
    pub targets_file: Option<PathBuf>,
    /// Targets probed at once.
    #[arg(long, value_name = "N", default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub concurrency: u32,
    /// Write the output to FILE atomically (temp file + rename), e.g. for node_exporter's textfile collector.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub net: NetArgs,
    /// Dial ADDR:PORT instead, keeping the target's name for SNI and name checks.
    #[arg(long, value_name = "ADDR:PORT")]
    pub connect_to: Option<String>,
    /// Send this SNI name instead of the target's host name.
    #[arg(long, value_name = "NAME")]
    pub sni: Option<String>,
    #[command(flatten)]
    pub trust: TrustArgs,
    #[command(flatten)]
    pub clients: ClientArgs,
    #[command(flatten)]
    pub judge: JudgeArgs,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// PEM bundle (any order), DER certificate, or Kubernetes TLS Secret (YAML or JSON).
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// Check that the certificate is valid for this host name (or IP address).
    #[arg(long, value_name = "NAME")]
    pub hostname: Option<String>,
    /// Check that this private key (PEM) belongs to the leaf. Never printed.
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// Extra intermediate certificates, as if appended to each file. Repeatable.
    #[arg(long, value_name = "PEM")]
    pub chain: Vec<PathBuf>,
    #[command(flatten)]
    pub trust: TrustArgs,
    #[command(flatten)]
    pub clients: ClientArgs,
    #[command(flatten)]
    pub judge: JudgeArgs,
}

#[derive(Debug, Args)]
pub struct FlyteArgs {
    /// flyteadmin's endpoint (default: admin.endpoint from the flytectl config).
    #[arg(value_name = "TARGET")]
    pub target: Option<String>,
    /// The console's origin (https://host[:port]): send the preflight the console sends.
    #[arg(long, value_name = "ORIGIN")]
    pub console_origin: Option<String>,
    #[command(flatten)]
    pub net: NetArgs,
    #[command(flatten)]
    pub trust: TrustArgs,
    #[command(flatten)]
    pub clients: ClientArgs,
    #[command(flatten)]
    pub judge: JudgeArgs,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Targets re-probed for /metrics (more with --targets).
    #[arg(value_name = "TARGET")]
    pub targets: Vec<String>,
    /// Read more targets from FILE, one per line (# comments).
    #[arg(long = "targets", value_name = "FILE")]
    pub targets_file: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:9469")]
    pub listen: std::net::SocketAddr,
    /// Time between the starts of two rounds of probes of the configured targets.
    #[arg(long, value_name = "DURATION", default_value = "60s")]
    pub interval: String,
    /// Configured targets probed at once in a round.
    #[arg(long, value_name = "N", default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub concurrency: u32,
    /// Warn when a certificate expires within this many days.
    #[arg(long, value_name = "DAYS", default_value_t = 30)]
    pub warn_days: u32,
    #[command(flatten)]
    pub net: NetArgs,
    #[command(flatten)]
    pub trust: TrustArgs,
    #[command(flatten)]
    pub clients: ClientArgs,
}

#[derive(Debug, Args)]
pub struct LintArgs {
    /// flyteadmin config (server:, auth:) or flytectl config (admin:), YAML.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// The console's origin: check that flyteadmin's CORS allows it.
    #[arg(long, value_name = "ORIGIN")]
    pub console_origin: Option<String>,
    #[command(flatten)]
    pub trust: TrustArgs,
    #[command(flatten)]
    pub judge: JudgeArgs,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// A failure before any report exists: bad arguments or unreadable settings files.
#[derive(Debug)]
pub struct UsageError(pub String);

impl<E: std::fmt::Display> From<E> for UsageError {
    fn from(error: E) -> Self {
        UsageError(error.to_string())
    }
}

pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                Status::Unknown.exit_code()
            } else {
                0
            };
            let _ = e.print();
            return code;
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(UsageError(message)) => {
            eprintln!("certready: {message}");
            Status::Unknown.exit_code()
        }
    }
}

pub fn runtime() -> Result<tokio::runtime::Runtime, UsageError> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

pub fn run(cli: Cli) -> Result<i32, UsageError> {
    cli.color.choice().write_global();
    if let Some(id) = cli.explain {
        return explain(&id);
    }
    match cli.command {
        Some(Command::Check(args)) => run_check(args),
        Some(Command::Inspect(args)) => run_inspect(args),
        Some(Command::Flyte(args)) => run_flyte(args),
        Some(Command::LintConfig(args)) => run_lint(args),
        Some(Command::Serve(args)) => run_serve(args),
        Some(Command::Demo(args)) => crate::demo::run(args.format),
        Some(Command::Completions { shell }) => {
            let mut command = <Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command, "certready", &mut script);
            write_plain(&String::from_utf8_lossy(&script));
            Ok(0)
        }
        Some(Command::Man { dir }) => man_pages(dir.as_deref()),
        None => Err(UsageError(
            "name a command (check, inspect, demo) or --explain ID".into(),
        )),
    }
}

/// certready(1) on stdout, or one page per command under `dir`.
fn man_pages(dir: Option<&Path>) -> Result<i32, UsageError> {
    let command = <Cli as clap::CommandFactory>::command();
    let Some(dir) = dir else {
        let mut page = Vec::new();
        clap_mangen::Man::new(command).render(&mut page)?;
        write_plain(&String::from_utf8_lossy(&page));
        return Ok(0);
    };
    std::fs::create_dir_all(dir)
        .map_err(|e| UsageError(format!("--dir {}: {e}", dir.display())))?;
    clap_mangen::generate_to(command, dir)
        .map_err(|e| UsageError(format!("--dir {}: {e}", dir.display())))?;
    Ok(0)
}

fn explain(id: &str) -> Result<i32, UsageError> {
    let Some(kind) = crate::findings::kind(id) else {
        let ids: Vec<&str> = crate::findings::CATALOG.iter().map(|k| k.id).collect();
        return Err(UsageError(format!(
            "unknown finding id {id:?}; known ids: {}",
            ids.join(", ")
        )));
    };
    let fill = |text: &str| {
        textwrap::fill(
            text,
            textwrap::Options::new(80)
                .initial_indent("  ")
                .subsequent_indent("  "),
        )
    };
    write_plain(&format!(
        "{} ({}): {}\n\n{}\n\nFix:\n{}\n",
        kind.id,
        kind.severity.name(),
        kind.title,
        fill(kind.explanation),
        fill(kind.remediation)
    ));
    Ok(0)
}

pub fn parse_at(at: &Option<String>) -> Result<Option<i64>, UsageError> {
    let Some(text) = at else { return Ok(None) };
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(|t| Some(t.unix_timestamp()))
        .map_err(|e| {
            UsageError(format!(
                "--at {text:?} is not an RFC 3339 time ({e}); e.g. 2027-01-01T00:00:00Z"
            ))
        })
}

fn client_options(args: &ClientArgs) -> Result<ClientOptions, UsageError> {
    let mut options = ClientOptions::from_env();
    options.only = args.clients.clone();
    options.anchor_kind = args.anchor_kind;
    if let Some(path) = flytectl_config_path(&args.flytectl_config)? {
        options.flytectl = flyteconfig::load(&path)?;
        if let Some(ca) = &options.flytectl.ca_cert_file {
            let store = trust::store_from_file(StoreKind::CaFile, ca).map_err(|e| {
                UsageError(format!("admin.caCertFilePath in {}: {e}", path.display()))
            })?;
            options.ca_cert_store = Some(store);
        }
    }
    Ok(options)
}

fn load_stores(args: &TrustArgs) -> Result<crate::background::Background<TrustStores>, UsageError> {
    let named = TrustStores::load_named(&TrustOptions {
        ca_files: args.ca_files.clone(),
        public_roots: args.public_roots.clone(),
    })
    .map_err(|e| UsageError(e.to_string()))?;
    Ok(crate::background::Background::spawn(move || {
        named.with_system()
    }))
}

/// HTTPS_PROXY / NO_PROXY from the environment, with `proxy_url` taking the proxy's place.
fn proxy_settings(proxy_url: Option<&str>) -> Result<crate::proxy::ProxySettings, UsageError> {
    let mut settings = crate::proxy::ProxySettings::from_env().map_err(UsageError)?;
    if let Some(url) = proxy_url {
        settings.proxy = Some(
            crate::proxy::parse_proxy(url)
                .map_err(|e| UsageError(format!("admin.httpProxyURL: {e}")))?,
        );
    }
    Ok(settings)
}

fn parse_timeout(text: &str) -> Result<std::time::Duration, UsageError> {
    let timeout = humantime::parse_duration(text)
        .map_err(|e| UsageError(format!("--timeout {text:?}: {e} (e.g. 10s, 500ms)")))?;
    if timeout.is_zero() {
        return Err(UsageError("--timeout must be longer than zero".into()));
    }
    Ok(timeout)
}

fn parse_resolves(rules: &[String]) -> Result<Vec<target::ResolveRule>, UsageError> {
    Ok(rules
        .iter()
        .map(|r| target::parse_resolve(r))
        .collect::<Result<Vec<_>, _>>()?)
}

/// The flytectl config path `--flytectl-config [PATH]` names, following flytectl's lookup.
fn flytectl_config_path(given: &Option<Option<PathBuf>>) -> Result<Option<PathBuf>, UsageError> {
    match given {
        None => Ok(None),
        Some(Some(path)) => Ok(Some(path.clone())),
        Some(None) => flyteconfig::locate().map(Some).ok_or_else(|| {
            UsageError("--flytectl-config: no config found ($FLYTECTL_CONFIG is unset and ~/.flyte/config.yaml does not exist); give its path".into())
        }),
    }
}

fn run_flyte(args: FlyteArgs) -> Result<i32, UsageError> {
    let config_path = flytectl_config_path(&args.clients.flytectl_config)?;
    let admin_config = match &config_path {
        Some(path) => flyteconfig::load_endpoint(path)?,
        None => flyteconfig::AdminEndpoint::default(),
    };
    let endpoint = args
        .target
        .clone()
        .or(admin_config.endpoint.clone())
        .ok_or_else(|| {
            UsageError(
                "name flyteadmin's endpoint, or give --flytectl-config with admin.endpoint".into(),
            )
        })?;
    let admin = target::parse_target(&endpoint)?;
    let console_origin = args
        .console_origin
        .as_deref()
        .map(crate::flyte::parse_origin)
        .transpose()
        .map_err(UsageError)?;
    let settings = Arc::new(Settings {
        stores: load_stores(&args.trust)?,
        at: parse_at(&args.judge.at)?,
        warn_days: args.judge.warn_days,
        probe: ProbeOptions {
            timeout: parse_timeout(&args.net.timeout)?,
            resolve: parse_resolves(&args.net.resolve)?,
            // gRPC clients honour HTTPS_PROXY; httpProxyURL is for the OAuth requests.
            proxy: proxy_settings(None)?,
            ..ProbeOptions::default()
        },
        clients: client_options(&args.clients)?,
    });
    let options = crate::flyte::FlyteOptions {
        console_origin,
        http_proxy: admin_config.http_proxy_url,
        auth_type: admin_config.auth_type,
    };
    let run = runtime()?.block_on(crate::flyte::run(&admin, settings.clone(), &options));
    emit_flyte(&run, args.judge.format, settings.now());
    Ok(crate::flyte::exit_code(&run))
}

fn run_serve(args: ServeArgs) -> Result<i32, UsageError> {
    let mut texts = args.targets.clone();
    if let Some(file) = &args.targets_file {
        texts.extend(read_targets_file(file)?);
    }
    let targets = texts
        .iter()
        .map(|t| target::parse_target(t))
        .collect::<Result<Vec<_>, _>>()?;
    let interval = humantime::parse_duration(&args.interval).map_err(|e| {
        UsageError(format!(
            "--interval {:?}: {e} (e.g. 60s, 5m)",
            args.interval
        ))
    })?;
    if interval < std::time::Duration::from_secs(1) {
        return Err(UsageError("--interval must be at least 1s".into()));
    }
    let clients = client_options(&args.clients)?;
    let settings = Arc::new(Settings {
        stores: load_stores(&args.trust)?,
        at: None,
        warn_days: args.warn_days,
        probe: ProbeOptions {
            timeout: parse_timeout(&args.net.timeout)?,
            resolve: parse_resolves(&args.net.resolve)?,
            proxy: proxy_settings(clients.flytectl.http_proxy_url.as_deref())?,
            ..ProbeOptions::default()
        },
        clients,
    });
    let options = crate::serve::ServeOptions {
        listen: args.listen,
        targets,
        interval,
        concurrency: args.concurrency as usize,
    };
    runtime()?
        .block_on(crate::serve::serve(
            options,
            settings,
            crate::serve::shutdown_signal(),
        ))
        .map_err(|e| UsageError(format!("--listen {}: {e}", args.listen)))?;
    Ok(0)
}

fn run_lint(args: LintArgs) -> Result<i32, UsageError> {
    let console_origin = args
        .console_origin
        .as_deref()
        .map(crate::flyte::parse_origin)
        .transpose()
        .map_err(UsageError)?;
    let settings = Settings {
        stores: load_stores(&args.trust)?,
        at: parse_at(&args.judge.at)?,
        warn_days: args.judge.warn_days,
        probe: ProbeOptions::default(),
        clients: ClientOptions::from_env(),
    };
    if args.judge.format == Format::Prometheus {
        return Err(UsageError(
            "lint-config has no metrics: use --format text, json or markdown".into(),
        ));
    }
    let options = crate::lint::LintOptions { console_origin };
    let reports: Vec<crate::lint::LintReport> = args
        .files
        .iter()
        .map(|file| crate::lint::lint_file(file, &options, &settings))
        .collect();
    let format = args.judge.format;
    write_stdout(
        format,
        &match format {
            Format::Json => json_document(serde_json::json!({ "configs": reports })),
            Format::Markdown => crate::markdown::render_lint(&reports, settings.now()),
            Format::Text | Format::Prometheus => render::render_lint(&reports, settings.now()),
        },
    );
    Ok(crate::lint::exit_code(&reports))
}

fn emit_flyte(run: &crate::flyte::FlyteRun, format: Format, now: i64) {
    write_stdout(
        format,
        &match format {
            Format::Json => {
                json_document(serde_json::json!({ "reports": run.reports, "flyte": run.summary }))
            }
            Format::Prometheus => crate::metrics::render(&run.reports),
            Format::Markdown => crate::markdown::render_flyte(run, now),
            Format::Text => render::render_flyte(run, now),
        },
    );
}

fn run_check(args: CheckArgs) -> Result<i32, UsageError> {
    let timeout = parse_timeout(&args.net.timeout)?;
    let resolve = parse_resolves(&args.net.resolve)?;
    let connect_to = args
        .connect_to
        .as_deref()
        .map(target::parse_connect_to)
        .transpose()?;
    let mut texts = args.targets.clone();
    if let Some(file) = &args.targets_file {
        texts.extend(read_targets_file(file)?);
    }
    if texts.is_empty() {
        return Err(UsageError(
            "no targets: name some, or give --targets FILE".into(),
        ));
    }
    let targets = texts
        .iter()
        .map(|t| target::parse_target(t))
        .collect::<Result<Vec<_>, _>>()?;
    let clients = client_options(&args.clients)?;
    // flytectl's httpProxyURL, when the config gives one, else HTTPS_PROXY.
    let proxy = proxy_settings(clients.flytectl.http_proxy_url.as_deref())?;
    let settings = Arc::new(Settings {
        stores: load_stores(&args.trust)?,
        at: parse_at(&args.judge.at)?,
        warn_days: args.judge.warn_days,
        probe: ProbeOptions {
            timeout,
            connect_to,
            resolve,
            sni: args.sni,
            proxy,
        },
        clients,
    });
    let progress = progress_bar(targets.len());
    let concurrency = args.concurrency as usize;
    let reports = runtime()?.block_on(check_all(targets, settings.clone(), concurrency, progress));
    output(
        &reports,
        args.judge.format,
        settings.now(),
        args.output.as_deref(),
    )?;
    Ok(report::worst_exit_code(&reports))
}

/// Checks targets concurrently (at most `concurrency` at once), returning reports in
/// input order; `progress` ticks as each finishes.
pub async fn check_all(
    targets: Vec<Target>,
    settings: Arc<Settings>,
    concurrency: usize,
    progress: Option<indicatif::ProgressBar>,
) -> Vec<Report> {
    let limit = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    let mut tasks = Vec::with_capacity(targets.len());
    for target in targets {
        let settings = settings.clone();
        let limit = limit.clone();
        let progress = progress.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = limit.acquire_owned().await;
            let report = check::check(&target, &settings).await;
            if let Some(progress) = progress {
                progress.inc(1);
            }
            report
        }));
    }
    let mut reports = Vec::with_capacity(tasks.len());
    for task in tasks {
        reports.push(task.await.unwrap_or_else(|e| {
            Report::failed(String::new(), None, None, format!("internal error: {e}"))
        }));
    }
    if let Some(progress) = progress {
        progress.finish_and_clear();
    }
    reports
}

/// Targets from `--targets FILE` ("-": stdin): one per line, blank lines and # comments skipped.
fn read_targets_file(path: &Path) -> Result<Vec<String>, UsageError> {
    let text = if path == Path::new("-") {
        use std::io::Read;
        let mut text = String::new();
        std::io::stdin()
            .take(input::MAX_INPUT_BYTES)
            .read_to_string(&mut text)
            .map_err(|e| UsageError(format!("--targets -: cannot read stdin: {e}")))?;
        text
    } else {
        let bytes = input::read_limited(path).map_err(|e| UsageError(format!("--targets {e}")))?;
        String::from_utf8(bytes)
            .map_err(|_| UsageError(format!("--targets {}: is not UTF-8 text", path.display())))?
    };
    Ok(text
        .lines()
        .map(|line| line.split(" #").next().unwrap_or_default().trim())
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_string)
        .collect())
}

/// A progress bar on stderr for runs of several targets, only when stderr is a terminal.
fn progress_bar(total: usize) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if total < 2 || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(total as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} checked {pos}/{len} targets {wide_bar} {elapsed}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    Some(bar)
}

fn run_inspect(args: InspectArgs) -> Result<i32, UsageError> {
    let hostname = args.hostname.as_deref().map(parse_hostname).transpose()?;
    let key = args.key.as_deref().map(input::load_key).transpose()?;
    let mut extra_chain = Vec::new();
    for path in &args.chain {
        extra_chain.extend(input::load_certificates_file(path)?);
    }
    let settings = Settings {
        stores: load_stores(&args.trust)?,
        at: parse_at(&args.judge.at)?,
        warn_days: args.judge.warn_days,
        probe: ProbeOptions::default(),
        clients: client_options(&args.clients)?,
    };
    let options = InspectOptions {
        hostname: hostname.as_ref(),
        key: key.as_ref(),
        extra_chain: &extra_chain,
    };
    let reports: Vec<Report> = args
        .files
        .iter()
        .map(|file| check::inspect(file, &options, &settings))
        .collect();
    emit(&reports, args.judge.format, settings.now());
    Ok(report::worst_exit_code(&reports))
}

pub fn emit(reports: &[Report], format: Format, now: i64) {
    write_stdout(format, &render_reports(reports, format, now));
}

fn render_reports(reports: &[Report], format: Format, now: i64) -> String {
    match format {
        Format::Json => report::to_json(reports) + "\n",
        Format::Prometheus => crate::metrics::render(reports),
        Format::Markdown => crate::markdown::render_reports(reports, now),
        Format::Text => {
            let mut text = render::render_text(reports, now);
            if reports.len() > 1 {
                let s = report::Summary::of(reports);
                text.push_str(&format!(
                    "\nSummary: {} targets — {} ok, {} warning, {} critical, {} unknown\n",
                    reports.len(),
                    s.ok,
                    s.warning,
                    s.critical,
                    s.unknown
                ));
            }
            text
        }
    }
}

/// Writes the reports to `--output FILE` (atomically) or stdout.
fn output(
    reports: &[Report],
    format: Format,
    now: i64,
    file: Option<&Path>,
) -> Result<(), UsageError> {
    match file {
        None => {
            emit(reports, format, now);
            Ok(())
        }
        Some(path) => {
            let mut text = render_reports(reports, format, now);
            if format == Format::Text {
                // Colour codes never go to files.
                text = anstream::adapter::strip_str(&text).to_string();
            }
            crate::metrics::write_atomically(path, &text)
                .map_err(|e| UsageError(format!("--output {}: {e}", path.display())))
        }
    }
}

/// Writes through anstream, which drops colour off terminals and under NO_COLOR.
/// JSON, Prometheus and Markdown never carry colour, so they skip the scan for escape codes.
/// Write errors (a closed pipe: `| head`) are ignored, as the reader has gone.
fn write_stdout(format: Format, text: &str) {
    use std::io::Write;
    if format == Format::Text {
        let mut stdout = anstream::stdout();
        let _ = stdout.write_all(text.as_bytes());
        let _ = stdout.flush();
    } else {
        write_plain(text);
    }
}

/// Text without colour to stdout; a closed pipe is not an error.
fn write_plain(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

/// A JSON document: `{"schema_version": 1, key: value, …}`.
fn json_document(fields: serde_json::Value) -> String {
    let mut document = serde_json::json!({ "schema_version": report::SCHEMA_VERSION });
    if let (Some(doc), serde_json::Value::Object(extra)) = (document.as_object_mut(), fields) {
        doc.extend(extra);
    }
    serde_json::to_string_pretty(&document).expect("reports serialise") + "\n"
}

/// Parses `--hostname`-like text into a host for name checks.
pub fn parse_hostname(text: &str) -> Result<Host, UsageError> {
    target::split_host_port(text)
        .map(|(host, _)| host)
        .map_err(|e| UsageError(format!("--hostname {text:?}: {e}")))
}

//! The command line as clap sees it: every flag parsed into a typed value here, so a bad
//! value is refused with clap's message before any command runs.

use std::path::PathBuf;
use std::time::Duration;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::check::fleet::Shard;
use crate::clients::{AnchorKind, ClientName};
use crate::render::Format;
use crate::target::{Host, ResolveRule, Target};

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
FLYTE_PLATFORM_CA_CERT_FILE_PATH, FLYTE_PLATFORM_INSECURE_SKIP_VERIFY\n                                    pyflyte's own overrides of caCertFilePath, insecureSkipVerify\n  \
HTTPS_PROXY, NO_PROXY             HTTP CONNECT proxy for the probes and AIA fetches\n  \
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

macro_rules! why_examples {
    () => {
        "Examples:\n  \
certready why 'x509: “flyte.example.com” certificate is not standards compliant'\n  \
certready why NET::ERR_CERT_AUTHORITY_INVALID\n  \
flytectl get project 2>&1 | certready why\n  \
pbpaste | certready why --format markdown        # several lines are fine"
    };
}

/// The formats of the commands that have no metrics.
const DOCUMENT_FORMATS: &[Format] = &[Format::Text, Format::Json, Format::Markdown];
/// `lint-config`'s formats: SARIF for code scanning too.
const LINT_FORMATS: &[Format] = &[Format::Text, Format::Json, Format::Markdown, Format::Sarif];

/// `--version`: the crate version and the one rustls crypto provider compiled in.
pub const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    "\nTLS: rustls 0.23, crypto provider aws-lc-rs (the only one compiled in)",
    "\nCertificate paths: rustls-webpki 0.103; public roots: webpki-roots (Mozilla)",
    "\nCT log lists, embedded: Chrome's all_logs_list.json 85.52 (2026-04-21) and Apple's current_log_list.json 511 (assetVersion 32, newest entry 2026-03-30); --ct-log-list FILE replaces both, --apple-ct-log-list FILE Apple's"
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
    pub fn choice(self) -> anstream::ColorChoice {
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
    /// Diagnose certificate files or a Kubernetes TLS Secret before rollout (offline but for AIA).
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
certready serve --listen 0.0.0.0:9469         # with Prometheus relabelling to /probe?target=\n  \
certready serve --listen 0.0.0.0:9469 --web-config web.yml --probe-allow '*.example.com'")]
    Serve(ServeArgs),
    /// Lint what you deploy: Helm values, rendered manifests, flyteadmin and flytectl configs.
    #[command(
        name = "lint-config",
        after_help = "Examples:\n  \
helm template flyte flyteorg/flyte-core -n flyte -f values.yaml | certready lint-config -\n  \
certready lint-config values.yaml rendered.yaml --format sarif > certready.sarif\n  \
certready lint-config flyteadmin-config.yaml --console-origin https://console.example.com\n  \
certready lint-config ~/.flyte/config.yaml"
    )]
    LintConfig(LintArgs),
    /// Explain a pasted TLS error: which client printed it, what causes it, what to run next.
    #[command(
        after_help = why_examples!(),
        after_long_help = concat!(why_examples!(), "\n\n\
Reads the text from the arguments, or from stdin without any (or with \"-\"), at most\n\
64 KiB. Log prefixes, wrapped lines and curly or straight quotes are fine.\n\n\
Exit codes:\n  \
0        an error text was recognised\n  \
3        none was (the closest known texts are listed), or no text was given")
    )]
    Why(WhyArgs),
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

#[derive(Debug, Args)]
pub struct NetArgs {
    /// Limit for DNS + connect + handshake per target, and for each HTTP request (e.g. 10s, 500ms).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_timeout)]
    pub timeout: Duration,
    /// Pin HOST:PORT to ADDR[,ADDR...] for every connection (curl syntax). Repeatable.
    #[arg(long, value_name = "HOST:PORT:ADDR", value_parser = crate::target::parse_resolve)]
    pub resolve: Vec<ResolveRule>,
    /// Dial ADDR:PORT instead, keeping the target's name for SNI and name checks.
    #[arg(long, value_name = "ADDR:PORT", value_parser = crate::target::parse_connect_to)]
    pub connect_to: Option<(Host, u16)>,
    /// Send this SNI name instead of the target's host name.
    #[arg(long, value_name = "NAME")]
    pub sni: Option<String>,
}

#[derive(Debug, Args)]
pub struct FetchArgs {
    /// Do not fetch a missing intermediate from the AIA caIssuers URL of the last certificate
    /// sent. By default certready fetches it as browsers and macOS do (http:// only, within
    /// --timeout or 10 s, 64 KiB, 3 certificates) and says which clients that rescues.
    #[arg(long)]
    pub no_fetch: bool,
}

#[derive(Debug, Args)]
pub struct RevocationArgs {
    /// Do not ask OCSP responders or CRL distribution points (air-gapped runs). The OCSP
    /// response the server staples is still judged.
    #[arg(long)]
    pub no_revocation: bool,
    /// Time allowed per OCSP or CRL request; a responder that does not answer in time is
    /// at most a warning (revocation-unknown).
    #[arg(long, value_name = "DURATION", default_value = "4s", value_parser = parse_timeout)]
    pub revocation_timeout: std::time::Duration,
}

#[derive(Debug, Args)]
pub struct TrustArgs {
    /// Also trust the CA certificates in this PEM/DER file: a private CA, assumed installed wherever each client looks (caCertFilePath, keychain, OS store, browser). Repeatable.
    #[arg(long = "ca-file", value_name = "PEM")]
    pub ca_files: Vec<PathBuf>,
    /// Use these roots as the public (Mozilla) list instead of the compiled-in one.
    #[arg(long, value_name = "PEM")]
    pub public_roots: Option<PathBuf>,
    /// Verify SCTs against this CT log list instead of the embedded ones (see --version), for Chrome and Apple.
    ///
    /// Chrome's v3 JSON schema: Google's log_list.json or all_logs_list.json, or Apple's
    /// current_log_list.json, copied in for air-gapped updates. Apple's policy uses it too
    /// unless --apple-ct-log-list is given.
    #[arg(long, value_name = "FILE")]
    pub ct_log_list: Option<PathBuf>,
    /// Judge Apple's CT policy (flytectl on macOS) by this log list instead of the embedded Apple one.
    ///
    /// Apple's current_log_list.json (or any list in the v3 schema); it takes precedence
    /// over --ct-log-list for Apple.
    #[arg(long, value_name = "FILE")]
    pub apple_ct_log_list: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ClientArgs {
    /// Only show these clients' verdicts. Repeatable.
    #[arg(long = "client", value_name = "NAME", value_parser = one_of(ClientName::ALL, ClientName::name, ClientName::help))]
    pub clients: Vec<ClientName>,
    /// How the user's Mac trusts the root, when certready cannot know
    /// (default: inferred — public root → system, --ca-file root → private).
    #[arg(long, value_name = "KIND", value_parser = one_of(AnchorKind::ALL, AnchorKind::name, AnchorKind::help))]
    pub anchor_kind: Option<AnchorKind>,
    /// Apply admin.caCertFilePath and admin.insecureSkipVerify from flytectl's config
    /// (without PATH: $FLYTECTL_CONFIG, then ~/.flyte/config.yaml, as flytectl looks).
    #[arg(long, value_name = "PATH", num_args = 0..=1)]
    pub flytectl_config: Option<Option<PathBuf>>,
}

#[derive(Debug, Args)]
pub struct JudgeArgs {
    /// Judge validity at this instant instead of now (RFC 3339, e.g. 2027-01-01T00:00:00Z).
    #[arg(long, value_name = "RFC3339", value_parser = parse_at)]
    pub at: Option<i64>,
    /// Warn when a certificate expires within this many days.
    #[arg(long, value_name = "DAYS", default_value_t = 30)]
    pub warn_days: u32,
    /// Output format.
    #[arg(long, default_value = "text", value_parser = one_of(Format::ALL, Format::name, Format::help))]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// host, host:port, https://host[:port][/path] or dns:///host[:port] (port 443 by default).
    #[arg(value_name = "TARGET", required_unless_present = "targets_file", value_parser = parse_target)]
    pub targets: Vec<Target>,
    /// Read more targets from FILE, one per line (# comments; "-" for stdin), as the run goes.
    #[arg(long = "targets", value_name = "FILE")]
    pub targets_file: Option<PathBuf>,
    /// Targets probed at once. Memory grows with this, not with the number of targets.
    #[arg(long, value_name = "N", default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub concurrency: u32,
    /// Check only this replica's part of the targets: INDEX of COUNT (from 0), split by a
    /// stable hash of each target, so COUNT replicas with the same list cover it once.
    #[arg(long, value_name = "INDEX/COUNT", default_value = "0/1", value_parser = parse_shard)]
    pub shard: Shard,
    /// Write the output to FILE atomically (temp file + rename), e.g. for node_exporter's textfile collector.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub net: NetArgs,
    #[command(flatten)]
    pub fetch: FetchArgs,
    #[command(flatten)]
    pub revocation: RevocationArgs,
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
    #[arg(long, value_name = "NAME", value_parser = parse_hostname)]
    pub hostname: Option<Host>,
    /// Check that this private key (PEM) belongs to the leaf. Never printed.
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// Extra intermediate certificates, as if appended to each file. Repeatable.
    #[arg(long, value_name = "PEM")]
    pub chain: Vec<PathBuf>,
    #[command(flatten)]
    pub trust: TrustArgs,
    #[command(flatten)]
    pub fetch: FetchArgs,
    #[command(flatten)]
    pub clients: ClientArgs,
    #[command(flatten)]
    pub judge: JudgeArgs,
}

#[derive(Debug, Args)]
pub struct FlyteArgs {
    /// flyteadmin's endpoint (default: admin.endpoint from the flytectl config).
    #[arg(value_name = "TARGET", value_parser = parse_target)]
    pub target: Option<Target>,
    /// The console's origin (https://host[:port]): send the preflight the console sends.
    #[arg(long, value_name = "ORIGIN", value_parser = crate::flyte::parse_origin)]
    pub console_origin: Option<String>,
    #[command(flatten)]
    pub net: NetArgs,
    #[command(flatten)]
    pub fetch: FetchArgs,
    #[command(flatten)]
    pub revocation: RevocationArgs,
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
    #[arg(value_name = "TARGET", value_parser = parse_target)]
    pub targets: Vec<Target>,
    /// Read more targets from FILE, one per line (# comments).
    #[arg(long = "targets", value_name = "FILE")]
    pub targets_file: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:9469")]
    pub listen: std::net::SocketAddr,
    /// Time between the starts of two rounds of probes of the configured targets.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_interval)]
    pub interval: Duration,
    /// Configured targets probed at once in a round.
    #[arg(long, value_name = "N", default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub concurrency: u32,
    /// Probe only this replica's part of the configured targets: INDEX of COUNT (from 0; a
    /// StatefulSet's ordinal), split by a stable hash of each target. /probe is not split.
    #[arg(long, value_name = "INDEX/COUNT", default_value = "0/1", value_parser = parse_shard)]
    pub shard: Shard,
    /// Warn when a certificate expires within this many days.
    #[arg(long, value_name = "DAYS", default_value_t = 30)]
    pub warn_days: u32,
    /// TLS, client certificates, basic auth and headers from an exporter-toolkit web config
    /// (node_exporter's --web.config.file format). Re-read, with the files it names, when
    /// they change; a broken change keeps the last good one. /healthz needs no credentials.
    #[arg(long, value_name = "FILE")]
    pub web_config: Option<PathBuf>,
    /// How often --web-config and its certificate, key and CA files are checked for changes.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_interval)]
    pub web_config_reload_interval: Duration,
    /// Let /probe dial only targets matching PATTERN: a host name glob (*.example.com) or a
    /// CIDR (10.0.0.0/8). Repeatable. Without it, any target except link-local, cloud
    /// metadata and unspecified addresses (those only when a CIDR names them).
    #[arg(long, value_name = "PATTERN", value_parser = crate::serve::allow::parse_probe_allow)]
    pub probe_allow: Vec<crate::serve::allow::ProbeAllow>,
    #[command(flatten)]
    pub net: NetArgs,
    #[command(flatten)]
    pub fetch: FetchArgs,
    #[command(flatten)]
    pub revocation: RevocationArgs,
    #[command(flatten)]
    pub trust: TrustArgs,
    #[command(flatten)]
    pub clients: ClientArgs,
}

#[derive(Debug, Args)]
pub struct LintArgs {
    /// A flyteadmin config (server:, auth:), a flytectl config (admin:), flyte-core or
    /// flyte-binary Helm values, or Kubernetes manifests (`helm template` output,
    /// `kubectl get -o yaml`), YAML; told apart by content. "-" reads stdin.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// The console's origin: check that flyteadmin's CORS allows it.
    #[arg(long, value_name = "ORIGIN", value_parser = crate::flyte::parse_origin)]
    pub console_origin: Option<String>,
    /// The cluster is OpenShift: a fixed runAsUser is a warning (the restricted SCC
    /// rejects UIDs outside the namespace's range), not a note.
    #[arg(long)]
    pub openshift: bool,
    #[command(flatten)]
    pub trust: TrustArgs,
    #[command(flatten)]
    pub fetch: FetchArgs,
    /// Judge validity at this instant instead of now (RFC 3339, e.g. 2027-01-01T00:00:00Z).
    #[arg(long, value_name = "RFC3339", value_parser = parse_at)]
    pub at: Option<i64>,
    /// Warn when a certificate expires within this many days.
    #[arg(long, value_name = "DAYS", default_value_t = 30)]
    pub warn_days: u32,
    /// Output format.
    #[arg(long, default_value = "text", value_parser = one_of(LINT_FORMATS, Format::name, Format::help))]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct WhyArgs {
    /// The error text, as the client printed it (quote it; several words are joined).
    /// Without it, or with "-", the text is read from stdin.
    #[arg(value_name = "TEXT")]
    pub text: Vec<String>,
    /// Output format.
    #[arg(long, default_value = "text", value_parser = one_of(DOCUMENT_FORMATS, Format::name, Format::help))]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Output format.
    #[arg(long, default_value = "text", value_parser = one_of(Format::ALL, Format::name, Format::help))]
    pub format: Format,
}

/// A clap parser for one of a library enum's values, with each value's help, so the
/// library's types need not know clap.
fn one_of<T: Copy + Send + Sync + 'static>(
    all: &'static [T],
    name: fn(T) -> &'static str,
    help: fn(T) -> &'static str,
) -> impl TypedValueParser<Value = T> {
    let values = all
        .iter()
        .map(move |&value| clap::builder::PossibleValue::new(name(value)).help(help(value)));
    PossibleValuesParser::new(values).map(move |text: String| {
        *all.iter()
            .find(|&&value| name(value) == text)
            .expect("clap accepts only the listed values")
    })
}

fn parse_timeout(text: &str) -> Result<Duration, String> {
    let timeout = humantime::parse_duration(text).map_err(|e| format!("{e} (e.g. 10s, 500ms)"))?;
    if timeout.is_zero() {
        return Err("must be longer than zero".into());
    }
    Ok(timeout)
}

fn parse_interval(text: &str) -> Result<Duration, String> {
    let interval = humantime::parse_duration(text).map_err(|e| format!("{e} (e.g. 60s, 5m)"))?;
    if interval < Duration::from_secs(1) {
        return Err("must be at least 1s".into());
    }
    Ok(interval)
}

fn parse_at(text: &str) -> Result<i64, String> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|e| format!("not an RFC 3339 time ({e}); e.g. 2027-01-01T00:00:00Z"))
}

fn parse_shard(text: &str) -> Result<Shard, String> {
    Shard::parse(text)
}

fn parse_target(text: &str) -> Result<Target, String> {
    crate::target::parse_target(text).map_err(|e| e.0)
}

/// A host name or IP address for name checks (a port, if given, is ignored).
fn parse_hostname(text: &str) -> Result<Host, String> {
    crate::target::split_host_port(text).map(|(host, _)| host)
}

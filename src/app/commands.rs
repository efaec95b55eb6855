//! The judging commands: each turns its arguments into settings (one conversion, in
//! `settings`), runs the library and renders; the exit code is the worst status.

use std::path::Path;
use std::sync::Arc;

use super::args::{CheckArgs, FlyteArgs, InspectArgs, LintArgs, ServeArgs, WhyArgs};
use super::error::Error;
use super::settings::{flytectl_config_path, ProxySource, SettingsArgs};
use crate::check::{self, InspectOptions, Settings};
use crate::flyte::config as flyteconfig;
use crate::input;
use crate::render;
use crate::report::{self, Report};
use crate::target::{self, Target};

pub fn check(args: CheckArgs) -> Result<i32, Error> {
    let targets = named_and_listed(&args.targets, args.targets_file.as_deref())?;
    if targets.is_empty() {
        return Err(Error::Usage(
            "no targets: name some, or give --targets FILE".into(),
        ));
    }
    let settings = Arc::new(Settings::from_args(SettingsArgs {
        net: Some(&args.net),
        trust: &args.trust,
        clients: Some(&args.clients),
        at: args.judge.at,
        warn_days: args.judge.warn_days,
        proxy: ProxySource::ConfigThenEnvironment,
        fetch: Some(&args.fetch),
        revocation: Some(&args.revocation),
    })?);
    let progress = progress_bar(targets.len());
    let concurrency = args.concurrency as usize;
    let reports = runtime()?.block_on(check::fleet::check_all(
        targets,
        settings.clone(),
        concurrency,
        progress,
    ));
    let format = args.judge.format;
    let text = render::reports(&reports, format, settings.now());
    match &args.output {
        None => render::write_stdout(format, &text),
        Some(path) => render::write_file(path, format, &text)
            .map_err(|e| Error::Failed(format!("--output {}: {e}", path.display())))?,
    }
    Ok(report::worst_exit_code(&reports))
}

pub fn inspect(args: InspectArgs) -> Result<i32, Error> {
    let key = args.key.as_deref().map(input::load_key).transpose()?;
    let mut extra_chain = Vec::new();
    for path in &args.chain {
        extra_chain.extend(input::load_certificates_file(path)?);
    }
    let settings = Settings::from_args(SettingsArgs {
        net: None,
        trust: &args.trust,
        clients: Some(&args.clients),
        at: args.judge.at,
        warn_days: args.judge.warn_days,
        proxy: ProxySource::Environment,
        fetch: Some(&args.fetch),
        revocation: None,
    })?;
    let options = InspectOptions {
        hostname: args.hostname.as_ref(),
        key: key.as_ref(),
        extra_chain: &extra_chain,
    };
    let reports: Vec<Report> = args
        .files
        .iter()
        .map(|file| check::inspect(file, &options, &settings))
        .collect();
    let format = args.judge.format;
    render::write_stdout(format, &render::reports(&reports, format, settings.now()));
    Ok(report::worst_exit_code(&reports))
}

pub fn flyte(args: FlyteArgs) -> Result<i32, Error> {
    let config_path = flytectl_config_path(&args.clients.flytectl_config)?;
    let admin_config = match &config_path {
        Some(path) => flyteconfig::load_endpoint(path)?,
        None => flyteconfig::AdminEndpoint::default(),
    };
    let admin = match (&args.target, &admin_config.endpoint) {
        (Some(target), _) => target.clone(),
        (None, Some(endpoint)) => target::parse_target(endpoint).map_err(|e| {
            Error::Failed(format!(
                "admin.endpoint in {}: {e}",
                config_path.as_deref().unwrap_or(Path::new("")).display()
            ))
        })?,
        (None, None) => {
            return Err(Error::Usage(
                "name flyteadmin's endpoint, or give --flytectl-config with admin.endpoint".into(),
            ))
        }
    };
    let settings = Arc::new(Settings::from_args(SettingsArgs {
        net: Some(&args.net),
        trust: &args.trust,
        clients: Some(&args.clients),
        at: args.judge.at,
        warn_days: args.judge.warn_days,
        // gRPC clients honour HTTPS_PROXY; httpProxyURL is for the OAuth requests.
        proxy: ProxySource::Environment,
        fetch: Some(&args.fetch),
        revocation: Some(&args.revocation),
    })?);
    let options = crate::flyte::FlyteOptions {
        console_origin: args.console_origin.clone(),
        http_proxy: admin_config.http_proxy_url,
        auth_type: admin_config.auth_type,
    };
    let run = runtime()?.block_on(crate::flyte::run(&admin, settings.clone(), &options));
    let format = args.judge.format;
    render::write_stdout(format, &render::flyte(&run, format, settings.now()));
    Ok(crate::flyte::exit_code(&run))
}

pub fn serve(args: ServeArgs) -> Result<i32, Error> {
    let targets = named_and_listed(&args.targets, args.targets_file.as_deref())?;
    let settings = Arc::new(Settings::from_args(SettingsArgs {
        net: Some(&args.net),
        trust: &args.trust,
        clients: Some(&args.clients),
        at: None,
        warn_days: args.warn_days,
        proxy: ProxySource::ConfigThenEnvironment,
        fetch: Some(&args.fetch),
        revocation: Some(&args.revocation),
    })?);
    let web = match &args.web_config {
        Some(path) => {
            let config = crate::serve::web_config::load(path).map_err(|e| {
                Error::Failed(format!("--web-config {}: {}", path.display(), e.message))
            })?;
            Some((path.clone(), config))
        }
        None => None,
    };
    let options = crate::serve::ServeOptions {
        listen: args.listen,
        targets,
        interval: args.interval,
        concurrency: args.concurrency as usize,
        web,
        web_reload_interval: args.web_config_reload_interval,
        probe_allow: args.probe_allow.clone(),
    };
    runtime()?
        .block_on(crate::serve::serve(
            options,
            settings,
            crate::serve::shutdown_signal(),
        ))
        .map_err(|e| Error::Failed(format!("--listen {}: {e}", args.listen)))?;
    Ok(0)
}

pub fn lint(args: LintArgs) -> Result<i32, Error> {
    let format = args.format;
    if args.files.iter().filter(|f| f.as_os_str() == "-").count() > 1 {
        return Err(Error::Usage("stdin (\"-\") can be read only once".into()));
    }
    let settings = Settings::from_args(SettingsArgs {
        net: None,
        trust: &args.trust,
        clients: None,
        at: args.at,
        warn_days: args.warn_days,
        proxy: ProxySource::Environment,
        fetch: Some(&args.fetch),
        revocation: None,
    })?;
    let options = crate::lint::LintOptions {
        console_origin: args.console_origin.clone(),
        openshift: args.openshift,
    };
    let reports: Vec<crate::lint::LintReport> = args
        .files
        .iter()
        .map(|file| crate::lint::lint_file(file, &options, &settings))
        .collect();
    render::write_stdout(format, &render::lint(&reports, format, settings.now()));
    Ok(crate::lint::exit_code(&reports))
}

/// `why`: the text from the arguments or stdin (bounded), explained; exit 0 when it was
/// recognised, 3 when not.
pub fn why(args: WhyArgs) -> Result<i32, Error> {
    let format = args.format;
    let from_stdin = args.text.is_empty() || args.text == ["-"];
    let pasted = if from_stdin {
        use std::io::IsTerminal;
        if std::io::stdin().is_terminal() {
            eprintln!("Paste the error text, then press Ctrl-D (Ctrl-Z Enter on Windows).");
        }
        crate::why::Pasted::read(std::io::stdin().lock())
            .map_err(|e| Error::Failed(format!("cannot read stdin: {e}")))?
    } else {
        crate::why::Pasted::from_words(&args.text)
    };
    if pasted.is_blank() {
        return Err(Error::Usage(
            "no error text: give it as an argument (quoted) or on stdin".into(),
        ));
    }
    let report = crate::why::explain(&pasted);
    render::write_stdout(format, &render::why(&report, format));
    Ok(report.exit_code())
}

/// A multi-threaded runtime for the probes.
pub fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Failed(format!("cannot start the async runtime: {e}")))
}

/// The targets named on the command line, then those of `--targets FILE`.
fn named_and_listed(named: &[Target], file: Option<&Path>) -> Result<Vec<Target>, Error> {
    let mut targets = named.to_vec();
    if let Some(file) = file {
        targets.extend(read_targets_file(file)?);
    }
    Ok(targets)
}

/// Targets from `--targets FILE` ("-": stdin): one per line, blank lines and # comments
/// skipped; a line that is not a target names its line number.
fn read_targets_file(path: &Path) -> Result<Vec<Target>, Error> {
    let text = if path == Path::new("-") {
        use std::io::Read;
        let mut text = String::new();
        std::io::stdin()
            .take(input::MAX_INPUT_BYTES)
            .read_to_string(&mut text)
            .map_err(|e| Error::Failed(format!("--targets -: cannot read stdin: {e}")))?;
        text
    } else {
        let bytes =
            input::read_limited(path).map_err(|e| Error::Failed(format!("--targets {e}")))?;
        String::from_utf8(bytes).map_err(|_| {
            Error::Failed(format!("--targets {}: is not UTF-8 text", path.display()))
        })?
    };
    text.lines()
        .map(|line| line.split(" #").next().unwrap_or_default().trim())
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| target::parse_target(line).map_err(|e| Error::Usage(e.to_string())))
        .collect()
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

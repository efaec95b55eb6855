//! The judging commands: each turns its arguments into settings (one conversion, in
//! `settings`), runs the library and renders; the exit code is the worst status.

use std::path::Path;
use std::sync::Arc;

use super::args::{CheckArgs, FlyteArgs, InspectArgs, LintArgs, ServeArgs, WhyArgs};
use super::error::Error;
use super::settings::{flytectl_config_path, ProxySource, SettingsArgs};
use super::targets::{self, Lines};
use crate::check::fleet::Listed;
use crate::check::{self, InspectOptions, Settings};
use crate::flyte::config as flyteconfig;
use crate::input;
use crate::render;
use crate::report::{self, Report, Status};
use crate::target;
use futures_util::StreamExt;

pub fn check(args: CheckArgs) -> Result<i32, Error> {
    let shard = args.shard;
    let file = args.targets_file.as_deref();
    // A file is read twice, the first time only to count and validate (a line that is not
    // a target fails the run before any probe, and the progress bar knows the total);
    // stdin is read once, as the run goes.
    let counted = match file {
        Some(path) if path != Path::new("-") => Some(Lines::validate(path, shard)?),
        _ => None,
    };
    let named = targets::named_in_shard(&args.targets, shard);
    let mut lines = file.map(|path| Lines::open(path, shard)).transpose()?;
    // Stdin: wait for its first target of this shard (or its end) before writing anything.
    let first = lines.as_mut().and_then(Iterator::next);
    let seen = args.targets.len()
        + match (&counted, &lines) {
            (Some((seen, _)), _) => *seen,
            (None, Some(lines)) => lines.seen(),
            (None, None) => 0,
        };
    if seen == 0 {
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
    let total = counted.map(|(_, in_shard)| named.len() + in_shard);
    let progress = progress_bar(total);
    let concurrency = args.concurrency as usize;
    let listed = futures_util::stream::iter(named.into_iter().map(Listed::Target).chain(first))
        .chain(
            futures_util::stream::iter(lines.map(|lines| targets::read_ahead(lines, concurrency)))
                .flatten(),
        );

    let format = args.judge.format;
    let now = settings.now();
    let output_error = |e: std::io::Error| match &args.output {
        Some(path) => Error::Failed(format!("--output {}: {e}", path.display())),
        None => Error::Failed(format!("cannot write the output: {e}")),
    };
    let output = match &args.output {
        Some(path) => Output::file(path).map_err(output_error)?,
        None => Output::stdout(format),
    };
    let to_stdout = matches!(output, Output::Stdout(_));
    let plain = !to_stdout;
    let mut stream =
        render::stream::Stream::start(format, output, plain, now).map_err(output_error)?;
    if let Some(total) = total {
        stream.expect(total);
    }
    if let Some(dir) = args.output.as_deref().map(output_dir) {
        stream.spool_in(dir);
    }
    let bar = progress.clone();
    let run = runtime()?.block_on(check::fleet::check_stream(
        listed,
        settings,
        concurrency,
        progress,
        move |index, report| render::stream::piece(format, index, report, now),
        |piece| match (&bar, to_stdout) {
            // The bar steps aside while a report goes to the same terminal.
            (Some(bar), true) => bar.suspend(|| stream.write(piece)),
            _ => stream.write(piece),
        },
    ));
    let summary = match run.and_then(|summary| stream.finish(&summary)?.commit().map(|()| summary))
    {
        Ok(summary) => summary,
        // The reader has gone (`| head`): nothing to say, and the run is cut short.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe && args.output.is_none() => {
            return Ok(Status::Unknown.exit_code())
        }
        Err(e) => return Err(output_error(e)),
    };
    Ok(check::fleet::exit_code(&summary))
}

/// Where `check` writes: stdout, or a temporary file renamed over `--output` at the end.
enum Output {
    Stdout(Box<dyn std::io::Write>),
    File {
        temp: std::io::BufWriter<tempfile::NamedTempFile>,
        path: std::path::PathBuf,
    },
}

impl Output {
    /// Text goes through anstream, which drops colour off terminals and under NO_COLOR;
    /// the other formats never carry colour.
    fn stdout(format: render::Format) -> Output {
        if format == render::Format::Text {
            Output::Stdout(Box::new(anstream::stdout().lock()))
        } else {
            Output::Stdout(Box::new(std::io::stdout().lock()))
        }
    }

    /// A temporary file next to `path` (the same file system, so the rename is atomic and
    /// node_exporter's textfile collector never reads half a file).
    fn file(path: &Path) -> std::io::Result<Output> {
        let temp = tempfile::NamedTempFile::new_in(output_dir(path))?;
        Ok(Output::File {
            temp: std::io::BufWriter::with_capacity(256 * 1024, temp),
            path: path.to_path_buf(),
        })
    }

    /// Flushes stdout, or puts the finished file in place.
    fn commit(self) -> std::io::Result<()> {
        match self {
            Output::Stdout(mut out) => out.flush(),
            Output::File { temp, path } => {
                let temp = temp.into_inner().map_err(|e| e.into_error())?;
                temp.as_file().sync_all()?;
                temp.persist(&path).map_err(|e| e.error)?;
                Ok(())
            }
        }
    }
}

/// The directory `--output` is written in.
fn output_dir(path: &Path) -> &Path {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

impl std::io::Write for Output {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        match self {
            Output::Stdout(out) => out.write(bytes),
            Output::File { temp, .. } => temp.write(bytes),
        }
    }

    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Output::Stdout(out) => out.write_all(bytes),
            Output::File { temp, .. } => temp.write_all(bytes),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Output::Stdout(out) => out.flush(),
            // The file is flushed once, when complete.
            Output::File { .. } => Ok(()),
        }
    }
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
    let (targets, listed) =
        targets::all_in_shard(&args.targets, args.targets_file.as_deref(), args.shard)?;
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
        shard: args.shard,
        listed,
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

/// A progress bar on stderr, only when stderr is a terminal: with the total for a list
/// of several targets, a count alone when it is read from stdin.
fn progress_bar(total: Option<usize>) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if total.is_some_and(|n| n < 2) || !std::io::stderr().is_terminal() {
        return None;
    }
    let (bar, template) = match total {
        Some(total) => (
            indicatif::ProgressBar::new(total as u64),
            "{spinner} checked {pos}/{len} targets {wide_bar} {elapsed}",
        ),
        None => (
            indicatif::ProgressBar::new_spinner(),
            "{spinner} checked {pos} targets {elapsed}",
        ),
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(template)
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    Some(bar)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::args::{FetchArgs, TrustArgs};
    use crate::lab::{self, Spec};
    use crate::render::stream::{piece, Stream};
    use crate::render::Format;
    use crate::report::Summary;

    /// Real reports (a good chain, a self-signed leaf, an unreadable file) from `inspect`.
    fn reports() -> (Vec<Report>, i64) {
        let dir = tempfile::tempdir().unwrap();
        let root = lab::self_signed(&Spec::ca("Stream Root")).unwrap();
        let leaf = lab::issue(&Spec::leaf("a.example.com"), &root).unwrap();
        let old = lab::self_signed(&Spec::openssl_req_x509("a.example.com")).unwrap();
        let write = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            path
        };
        let root_file = write("root.pem", &root.pem);
        let files = [
            write("good.pem", &leaf.pem),
            write("old.pem", &old.pem),
            dir.path().join("missing.pem"),
            write("good-again.pem", &leaf.pem),
        ];
        let settings = Settings::from_args(SettingsArgs {
            net: None,
            trust: &TrustArgs {
                ca_files: vec![root_file],
                public_roots: None,
                ct_log_list: None,
                apple_ct_log_list: None,
            },
            clients: None,
            at: None,
            warn_days: 30,
            proxy: ProxySource::Direct,
            fetch: Some(&FetchArgs { no_fetch: true }),
            revocation: None,
        })
        .unwrap();
        let host = crate::target::Host::Name("a.example.com".into());
        let options = InspectOptions {
            hostname: Some(&host),
            key: None,
            extra_chain: &[],
        };
        let reports = files
            .iter()
            .map(|file| check::inspect(file, &options, &settings))
            .collect();
        (reports, settings.now())
    }

    /// What `check` streams is what the whole-run renderers make of the same reports,
    /// byte for byte, in every format, for none, one and several targets.
    #[test]
    fn streamed_output_equals_the_whole_rendering_in_every_format() {
        let (all, now) = reports();
        let statuses: Vec<Status> = all.iter().map(|r| r.status).collect();
        assert!(
            statuses.contains(&Status::Ok) && statuses.contains(&Status::Unknown),
            "{statuses:?}"
        );
        for count in [0, 1, 2, all.len()] {
            let reports = &all[..count];
            for &format in Format::ALL {
                let whole = render::reports(reports, format, now);
                let mut stream = Stream::start(format, Vec::new(), false, now).unwrap();
                for (index, report) in reports.iter().enumerate() {
                    stream
                        .write(piece(format, index, report.clone(), now))
                        .unwrap();
                }
                let streamed = stream.finish(&Summary::of(reports)).unwrap();
                let streamed = String::from_utf8(streamed).unwrap();
                assert_eq!(streamed, whole, "{} of {count}", format.name());
                if format == Format::Json {
                    let doc: serde_json::Value = serde_json::from_str(&streamed).unwrap();
                    assert_eq!(doc["reports"].as_array().unwrap().len(), count);
                }
            }
        }
    }
}

//! The command line, and the only module that knows clap: arguments are parsed into typed
//! values (`args`), converted once into the library's settings (`settings`), and each
//! command (`commands`, `demo`) runs the library and maps the result to the monitoring
//! exit codes (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).

mod args;
mod commands;
mod demo;
mod error;
mod settings;
mod targets;

use std::path::Path;

use clap::Parser;

pub use args::Cli;
use args::Command;
/// `--version`'s text, which names the embedded CT log lists (their tests check it).
#[cfg(test)]
pub(crate) use args::LONG_VERSION;
use error::Error;

use crate::findings::FindingId;
use crate::render::write_plain;
use crate::report::Status;

/// The binary's entry point: the process exit code.
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
        Err(Error::Usage(message)) => {
            let mut command = <Cli as clap::CommandFactory>::command();
            let _ = command
                .error(clap::error::ErrorKind::ValueValidation, message)
                .print();
            Status::Unknown.exit_code()
        }
        Err(Error::Failed(message)) => {
            eprintln!("certready: {message}");
            Status::Unknown.exit_code()
        }
    }
}

fn run(cli: Cli) -> Result<i32, Error> {
    cli.color.choice().write_global();
    if let Some(id) = cli.explain {
        return explain(&id);
    }
    match cli.command {
        Some(Command::Check(args)) => commands::check(args),
        Some(Command::Inspect(args)) => commands::inspect(args),
        Some(Command::Flyte(args)) => commands::flyte(args),
        Some(Command::LintConfig(args)) => commands::lint(args),
        Some(Command::Serve(args)) => commands::serve(args),
        Some(Command::Why(args)) => commands::why(args),
        Some(Command::Demo(args)) => demo::run(args.format),
        Some(Command::Completions { shell }) => {
            let mut command = <Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command, "certready", &mut script);
            write_plain(&String::from_utf8_lossy(&script));
            Ok(0)
        }
        Some(Command::Man { dir }) => man_pages(dir.as_deref()),
        None => Err(Error::Usage(
            "name a command (check, inspect, demo) or --explain ID".into(),
        )),
    }
}

/// certready(1) on stdout, or one page per command under `dir`.
fn man_pages(dir: Option<&Path>) -> Result<i32, Error> {
    let command = <Cli as clap::CommandFactory>::command();
    let Some(dir) = dir else {
        let mut page = Vec::new();
        clap_mangen::Man::new(command).render(&mut page)?;
        write_plain(&String::from_utf8_lossy(&page));
        return Ok(0);
    };
    std::fs::create_dir_all(dir)
        .and_then(|()| clap_mangen::generate_to(command, dir))
        .map_err(|e| Error::Failed(format!("--dir {}: {e}", dir.display())))?;
    Ok(0)
}

fn explain(id: &str) -> Result<i32, Error> {
    let Some(id) = FindingId::from_name(id) else {
        let ids: Vec<&str> = FindingId::ALL.iter().map(|id| id.name()).collect();
        return Err(Error::Usage(format!(
            "unknown finding id {id:?}; known ids: {}",
            ids.join(", ")
        )));
    };
    let kind = id.kind();
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
        id.name(),
        kind.severity.name(),
        kind.title,
        fill(kind.explanation),
        fill(kind.remediation)
    ));
    Ok(0)
}

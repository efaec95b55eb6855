//! The CLI as an installed tool: shell completions that complete, a man page, short and
//! long help with examples, suggestions for mistyped flags, and Markdown reports.

use crate::common::*;

#[test]
fn bash_completion_completes_commands_and_flags() {
    let lab = Lab::new();
    let run = lab.run(&["completions", "bash"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let script = lab.file("certready.bash", &run.stdout);
    // Ask bash itself: load the script and complete `certready ch` and `certready check --ca`.
    let probe = format!(
        "source {}\n\
         COMP_WORDS=(certready ch); COMP_CWORD=1; _certready certready ch certready\n\
         echo \"commands: ${{COMPREPLY[*]}}\"\n\
         COMP_WORDS=(certready check --ca); COMP_CWORD=2; _certready certready --ca check\n\
         echo \"flags: ${{COMPREPLY[*]}}\"\n\
         COMP_WORDS=(certready check --format ''); COMP_CWORD=3; _certready certready '' --format\n\
         echo \"formats: ${{COMPREPLY[*]}}\"\n",
        script.display()
    );
    let output = std::process::Command::new("bash")
        .args(["--norc", "-c", &probe])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("commands: check"), "{text}");
    assert!(text.contains("flags: --ca-file"), "{text}");
    for format in ["text", "json", "prometheus", "markdown"] {
        assert!(
            text.lines()
                .any(|l| l.starts_with("formats:") && l.contains(format)),
            "{text}"
        );
    }
}

#[test]
fn completions_for_every_shell() {
    let lab = Lab::new();
    for (shell, marker) in [
        ("zsh", "#compdef certready"),
        ("fish", "complete -c certready"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let run = lab.run(&["completions", shell]);
        assert_eq!(run.code, 0, "{shell}: {}", run.stderr);
        assert!(run.stdout.contains(marker), "{shell}");
        assert!(run.stdout.contains("lint-config"), "{shell}");
    }
    let run = lab.run(&["completions", "tcsh"]);
    assert_eq!(run.code, 3);
    assert!(run.stderr.contains("possible values"), "{}", run.stderr);
}

#[test]
fn man_page_and_per_command_pages() {
    let lab = Lab::new();
    let run = lab.run(&["man"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains(".TH certready 1"), "{}", run.stdout);
    assert!(run.stdout.contains("Exit codes"));
    let dir = lab.dir.path().join("man1");
    let run = lab.run(&["man", "--dir", dir.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for page in ["certready.1", "certready-check.1", "certready-inspect.1"] {
        let text = std::fs::read_to_string(dir.join(page)).unwrap();
        assert!(text.starts_with(".ie") || text.contains(".TH"), "{page}");
    }
    let check = std::fs::read_to_string(dir.join("certready-check.1")).unwrap();
    assert!(
        check.contains("Examples"),
        "the man page keeps the examples"
    );
}

#[test]
fn short_help_long_help_and_examples_everywhere() {
    let lab = Lab::new();
    for command in [
        "check",
        "inspect",
        "flyte",
        "serve",
        "lint-config",
        "why",
        "demo",
        "completions",
        "man",
    ] {
        let short = lab.run(&[command, "-h"]);
        let long = lab.run(&[command, "--help"]);
        assert_eq!((short.code, long.code), (0, 0), "{command}");
        assert!(short.stdout.contains("Examples:"), "{command} -h");
        assert!(long.stdout.contains("Examples:"), "{command} --help");
        assert!(long.stdout.len() >= short.stdout.len(), "{command}");
    }
    // The judging commands explain exit codes and environment in the long help only.
    for command in ["check", "inspect", "flyte"] {
        let short = lab.run(&[command, "-h"]).stdout;
        let long = lab.run(&[command, "--help"]).stdout;
        assert!(!short.contains("Environment:"), "{command}");
        assert!(long.contains("Exit codes"), "{command}");
        assert!(
            long.contains("GRPC_DEFAULT_SSL_ROOTS_FILE_PATH"),
            "{command}"
        );
    }
}

#[test]
fn mistyped_flags_and_commands_get_a_suggestion() {
    let lab = Lab::new();
    let run = lab.run(&["check", "flyte.example.com", "--timout", "3s"]);
    assert_eq!(run.code, 3);
    assert!(
        run.stderr
            .contains("a similar argument exists: '--timeout'"),
        "{}",
        run.stderr
    );
    let run = lab.run(&["chekc", "flyte.example.com"]);
    assert_eq!(run.code, 3);
    assert!(run.stderr.contains("'check'"), "{}", run.stderr);
}

#[test]
fn help_fits_80_columns() {
    let lab = Lab::new();
    for args in [
        vec!["-h"],
        vec!["check", "-h"],
        vec!["check", "--help"],
        vec!["why", "--help"],
    ] {
        let mut command = lab.certready();
        command.args(&args).env("COLUMNS", "80");
        let output = command.output().unwrap();
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        for line in text.lines() {
            assert!(line.chars().count() <= 80, "{args:?}: {line:?}");
        }
    }
}

/// A Markdown report of an untrusted chain: verdict, tables, findings and the fix.
#[test]
fn markdown_report_for_a_ticket() {
    let lab = Lab::new();
    let pki = Pki::new();
    let server = lab.serve_pki(&pki);
    let target = format!("{HOST}:{}", server.addr.port());
    let resolve = format!("{HOST}:{}:127.0.0.1", server.addr.port());
    let run = lab.check(server.addr, HOST, &["--format", "markdown"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let md = &run.stdout;
    assert!(
        md.starts_with(&format!("# certready: {target} — CRITICAL\n")),
        "{md}"
    );
    for needle in [
        "**Verdict: CRITICAL**",
        "| # | Subject | Issuer | Names | Valid | Key, signature | SHA-256 |",
        "| Store | Verdict |",
        "| Client | Channel | Verdict | What it says |",
        "| flytectl-linux | grpc | **refuses** | `transport: authentication handshake failed",
        "\n## Findings\n",
        "`incomplete-chain`",
        "\n## The fix (most effective first)\n",
    ] {
        assert!(md.contains(needle), "markdown lacks {needle:?}:\n{md}");
    }
    assert!(!md.contains('\u{1b}'));
    // Every table row has as many cells as its header.
    let mut columns = None;
    for line in md.lines() {
        if !line.starts_with('|') {
            columns = None;
            continue;
        }
        let cells = line.replace("\\|", "").matches('|').count();
        match columns {
            None => columns = Some(cells),
            Some(expected) => assert_eq!(cells, expected, "ragged row: {line}"),
        }
    }

    // Several targets: a summary table first; --output writes the same text.
    let out = lab.dir.path().join("report.md");
    let run = lab.run(&[
        "check",
        &target,
        &target,
        "--resolve",
        &resolve,
        "--ca-file",
        path_str(&pki.root_file(&lab)),
        "--format",
        "markdown",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let md = std::fs::read_to_string(&out).unwrap();
    assert!(md.starts_with("# certready: 2 targets — "), "{md}");
    assert!(md.contains("| Target | Status | Verdict |"), "{md}");
    assert_eq!(md.matches(&format!("\n## {target} — ")).count(), 2, "{md}");
}

#[test]
fn markdown_for_inspect_and_lint_config() {
    let lab = Lab::new();
    let pki = Pki::new();
    let bundle = lab.file(
        "fullchain.pem",
        format!("{}{}", pki.leaf.pem, pki.intermediate.pem),
    );
    let run = lab.run(&[
        "inspect",
        path_str(&bundle),
        "--hostname",
        HOST,
        "--ca-file",
        path_str(&pki.root_file(&lab)),
        "--format",
        "markdown",
    ]);
    assert!(run.code <= 1, "{}", run.stderr);
    assert!(run.stdout.starts_with("# certready: "), "{}", run.stdout);
    assert!(
        run.stdout.contains("| ca-file | trusted, anchor"),
        "{}",
        run.stdout
    );

    let run = lab.run(&[
        "lint-config",
        "testdata/flyte/flyteadmin-bad.yaml",
        "--format",
        "markdown",
    ]);
    assert!(
        run.stdout.starts_with("# certready: config lint — "),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("| Severity | Finding | Line | Key |"),
        "{}",
        run.stdout
    );
}

/// Long distinguished names, a long AIA URL, many names and a missing issuer: every line of
/// the text report still fits 80 columns, and no word of those facts is dropped.
#[test]
fn long_names_wrap_within_80_columns_without_losing_facts() {
    use certready::lab::{self, Spec};
    let lab = Lab::new();
    let long_org = "Example Corporation Global Infrastructure Platform Engineering";
    let mut root_spec = Spec::ca("Example Corporation Global Root Certification Authority G2");
    root_spec.organization = Some(long_org.into());
    let root = lab::self_signed(&root_spec).unwrap();
    let mut issuing = Spec::ca("Example Corporation Internal Issuing Certification Authority 7");
    issuing.organization = Some(long_org.into());
    let intermediate = lab::issue(&issuing, &root).unwrap();
    let mut leaf_spec = Spec::leaf("flyte-admin-grpc-and-console.platform.eu-west-1.example.com");
    leaf_spec.organization = Some(long_org.into());
    leaf_spec.names = (0..12)
        .map(|i| format!("service-{i}.platform.eu-west-1.example.com"))
        .collect();
    leaf_spec.lifetime_days = 900;
    leaf_spec.ca_issuers_url = Some(
        "http://pki.platform.eu-west-1.example.com/certificates/issuing/internal-issuing-ca-7.crt"
            .into(),
    );
    let leaf = lab::issue(&leaf_spec, &intermediate).unwrap();
    // Only the leaf: the issuing CA is missing. A long target name too.
    let server = lab.serve(&[&leaf], &leaf);
    let long_host = "flyte-admin-grpc-and-console.platform.eu-west-1.example.com";
    let target = format!("{long_host}:{}", server.addr.port());
    let resolve = format!("{long_host}:{}:127.0.0.1", server.addr.port());
    let mut command = lab.certready();
    command
        .args(["check", &target, "--resolve", &resolve, "--no-fetch"])
        .env("NO_COLOR", "1");
    let output = command.output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    for line in text.lines() {
        // A URL longer than the line is kept whole (copyable) on a line of its own.
        let unbreakable = !line.trim().contains(' ') && line.trim().len() > 60;
        assert!(
            line.chars().count() <= 80 || unbreakable,
            "over 80 columns: {line:?}\n{text}"
        );
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    for fact in [
        "CN=Example Corporation Internal Issuing Certification Authority 7",
        long_org,
        "http://pki.platform.eu-west-1.example.com/certificates/issuing/internal-issuing-ca-7.crt",
    ] {
        for word in fact.split_whitespace() {
            assert!(
                words.iter().any(|w| w.contains(word)),
                "{word:?} of {fact:?} is missing:\n{text}"
            );
        }
    }
    assert!(text.contains("MISSING"), "{text}");
    assert!(text.contains("(+6 more)"), "names are summarised:\n{text}");
}

/// `certready … | head -1`: the reader goes away; certready must not panic on the closed pipe.
#[test]
fn a_closed_pipe_is_not_a_panic() {
    for args in [
        vec!["--explain", "cn-only"],
        vec!["completions", "bash"],
        vec!["man"],
        vec!["demo", "--format", "markdown"],
        vec!["lint-config", "testdata/flyte/flyteadmin-bad.yaml"],
    ] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_certready"))
            .args(&args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Close the read end before certready writes anything.
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(output.status.code().is_some(), "{args:?} died of a signal");
    }
}

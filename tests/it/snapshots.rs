//! Snapshots (insta) of the demo in text, Markdown and JSON, so that any change to what
//! users read shows up in review. The demo generates fresh certificates and ports on every
//! run; filters replace those values (ports, dates, fingerprints, key ids, timings) with
//! placeholders and keep everything else.
//!
//! After an intended change: `cargo insta review`, or `INSTA_UPDATE=always cargo test --test
//! it snapshots` and review the diff of `tests/it/snapshots/`.

use std::process::Command;

use crate::common::json;

fn demo(format: &str, extra_env: &[(&str, &str)]) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_certready"));
    command
        .args(["demo", "--format", format])
        // The demo's trust results must not depend on the machine's stores.
        .env("SSL_CERT_FILE", "testdata/sha1-ca.pem")
        .env_remove("SSL_CERT_DIR")
        .env_remove("GRPC_DEFAULT_SSL_ROOTS_FILE_PATH")
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .env_remove("CLICOLOR_FORCE")
        .env("TMPDIR", "/tmp")
        .env("NO_COLOR", "1");
    for (key, value) in extra_env {
        command.env(key, value);
    }
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "demo --format {format}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The values that differ between runs, each replaced by a placeholder of its kind.
fn redactions() -> Vec<(&'static str, &'static str)> {
    vec![
        (r"\b[0-9a-f]{64}\b", "[SHA256]"),
        // A fingerprint split in halves deep in the text tree.
        (r"\b[0-9a-f]{32}\b", "[SHA256-HALF]"),
        (r"certready-demo-[[:alnum:]]{6}", "certready-demo-[TMP]"),
        (r"\b[0-9a-f]{2}(:[0-9a-f]{2}){7,}\b", "[HEX-ID]"),
        (r#""serial": "[0-9a-f:]+""#, r#""serial": "[SERIAL]""#),
        (
            r#""(subject|authority)_key_id": "[0-9a-f:]+""#,
            r#""${1}_key_id": "[KEY-ID]""#,
        ),
        (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", "[TIME]"),
        (r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC", "[TIME]"),
        (r"\d{4}-\d{2}-\d{2}", "[DATE]"),
        (r"\b\d+ days left\b", "[N] days left"),
        (
            r"(127\.0\.0\.1|flyte\.example\.com):\d{4,5}\b",
            "${1}:[PORT]",
        ),
        (r"handshake \d+ ms", "handshake [MS] ms"),
        (r#""handshake_ms": \d+"#, r#""handshake_ms": [MS]"#),
        (
            r#""duration_seconds": [0-9.e-]+"#,
            r#""duration_seconds": [SECONDS]"#,
        ),
        (r#""port": \d+"#, r#""port": [PORT]"#),
        (
            r#""(not_before|not_after)_unix": \d+"#,
            r#""${1}_unix": [UNIX]"#,
        ),
    ]
}

macro_rules! assert_demo_snapshot {
    ($name:literal, $output:expr) => {
        insta::with_settings!({ filters => redactions(), prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!($name, $output);
        });
    };
}

#[test]
fn demo_text() {
    let text = demo("text", &[]);
    assert!(!text.contains('\u{1b}'), "colour under NO_COLOR");
    assert_demo_snapshot!("demo_text", text);
}

#[test]
fn demo_markdown() {
    assert_demo_snapshot!("demo_markdown", demo("markdown", &[]));
}

#[test]
fn demo_json() {
    let json = demo("json", &[]);
    let document: json::Document = json::parse(&json, "certready demo --format json");
    assert_eq!(document.reports.len(), 4);
    assert_demo_snapshot!("demo_json", json);
}

/// The text fits 80 columns, facts included (fingerprints and URLs are not cut).
#[test]
fn demo_text_fits_80_columns() {
    let text = demo("text", &[]);
    let wide: Vec<&str> = text
        .lines()
        .filter(|line| line.chars().count() > 80)
        .collect();
    assert!(
        wide.is_empty(),
        "lines over 80 columns:\n{}",
        wide.join("\n")
    );
    // Nothing was dropped to get there: every fingerprint appears whole.
    let json = demo("json", &[]);
    let document: json::Document = json::parse(&json, "certready demo --format json");
    for report in &document.reports {
        for cert in &report.chain {
            assert_eq!(cert.sha256.len(), 64);
        }
    }
}

/// Colour marks severity and status only, and only when asked for.
#[test]
fn colour_only_for_severity_and_only_when_wanted() {
    let plain = demo("text", &[]);
    let coloured = {
        let output = Command::new(env!("CARGO_BIN_EXE_certready"))
            .args(["--color", "always", "demo"])
            .env("SSL_CERT_FILE", "testdata/sha1-ca.pem")
            .env_remove("SSL_CERT_DIR")
            .env_remove("NO_COLOR")
            .output()
            .unwrap();
        String::from_utf8(output.stdout).unwrap()
    };
    assert!(
        coloured.contains("\u{1b}[1m\u{1b}[31mCRITICAL\u{1b}[0m")
            || coloured.contains("\u{1b}[1;31mCRITICAL"),
        "CRITICAL is not red: {:?}",
        &coloured[..coloured.len().min(400)]
    );
    let colour = regex::Regex::new("\u{1b}\\[[0-9;]*m").unwrap();
    // Every coloured span is a severity, status or verdict mark.
    let span = regex::Regex::new("\u{1b}\\[[0-9;]*m(?:\u{1b}\\[[0-9;]*m)*([^\u{1b}]*)\u{1b}\\[0m")
        .unwrap();
    for capture in span.captures_iter(&coloured) {
        let word = &capture[1];
        assert!(
            ["OK", "WARNING", "CRITICAL", "UNKNOWN", "INFO", "ok", "NO", "MISSING"].contains(&word)
                || word.starts_with("flyte.example.com:"),
            "coloured text that is not a severity: {word:?}"
        );
    }
    // NO_COLOR wins over CLICOLOR_FORCE (no-color.org); CLICOLOR_FORCE alone colours a pipe.
    let forced = |no_color: bool| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_certready"));
        command
            .args(["demo"])
            .env("SSL_CERT_FILE", "testdata/sha1-ca.pem")
            .env_remove("SSL_CERT_DIR")
            .env("CLICOLOR_FORCE", "1")
            .env_remove("NO_COLOR");
        if no_color {
            command.env("NO_COLOR", "1");
        }
        String::from_utf8(command.output().unwrap().stdout).unwrap()
    };
    assert!(forced(false).contains('\u{1b}'));
    assert!(!forced(true).contains('\u{1b}'));
    // Without the colour codes it is the same text, word for word (timings aside).
    let stripped = colour.replace_all(&coloured, "");
    assert_eq!(
        stripped.lines().count(),
        plain.lines().count(),
        "colour changed the layout"
    );
}

/// lint-config reads only files, so its text and Markdown are snapshotted as they are.
fn lint_all(format: &str) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_certready"))
        .args([
            "lint-config",
            "testdata/flyte/flyteadmin-good.yaml",
            "testdata/flyte/flyteadmin-bad.yaml",
            "testdata/flyte/flytectl-good.yaml",
            "testdata/flyte/flytectl-bad.yaml",
            "testdata/flyte/broken.yaml",
            "testdata/flyte/not-a-config.yaml",
            "--console-origin",
            "https://console.example.com",
            "--format",
            format,
        ])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(3),
        "the broken file makes it UNKNOWN"
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn lint_config_text_and_markdown() {
    let text = lint_all("text");
    for line in text.lines() {
        assert!(line.chars().count() <= 80, "over 80 columns: {line:?}");
    }
    insta::with_settings!({ prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("lint_config_text", text);
        insta::assert_snapshot!("lint_config_markdown", lint_all("markdown"));
    });
}

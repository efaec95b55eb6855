//! Many targets: --targets files and stdin, input order, the summary, --concurrency,
//! --format prometheus and --output (atomic).

use std::io::Write;
use std::process::Stdio;

use crate::common::*;

/// One good endpoint, one expired (judged later with --at), one refused port.
struct Fleet {
    lab: Lab,
    _server: certready::lab::Server,
    good: String,
    refused: String,
    resolve: String,
    root: std::path::PathBuf,
}

fn fleet() -> Fleet {
    let lab = Lab::new();
    let pki = Pki::new();
    let server = lab.serve_pki(&pki);
    let root = pki.root_file(&lab);
    Fleet {
        good: format!("{HOST}:{}", server.addr.port()),
        refused: format!("127.0.0.1:{}", closed_port()),
        resolve: format!("{HOST}:{}:127.0.0.1", server.addr.port()),
        root,
        lab,
        _server: server,
    }
}

#[test]
fn targets_file_with_comments_keeps_input_order_and_summarises() {
    let f = fleet();
    let list = f.lab.file(
        "targets.txt",
        format!(
            "# production\n{}\n\n{}   # the old port\n   \n{}\n",
            f.refused, f.good, f.good
        ),
    );
    let run = f.lab.run(&[
        "check",
        "--targets",
        path_str(&list),
        "--resolve",
        &f.resolve,
        "--ca-file",
        path_str(&f.root),
        "--format",
        "json",
    ]);
    let doc = run.doc();
    let targets: Vec<&str> = doc.reports.iter().map(|r| r.target.as_str()).collect();
    assert_eq!(
        targets,
        [f.refused.as_str(), f.good.as_str(), f.good.as_str()]
    );
    assert_eq!(
        doc.summary,
        json::Summary {
            ok: 2,
            warning: 0,
            critical: 0,
            unknown: 1
        }
    );
    assert_eq!(run.code, 3, "the worst status wins");

    let run = f.lab.run(&[
        "check",
        "--targets",
        path_str(&list),
        "--resolve",
        &f.resolve,
        "--ca-file",
        path_str(&f.root),
    ]);
    assert!(
        run.stdout
            .contains("Summary: 3 targets — 2 ok, 0 warning, 0 critical, 1 unknown"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.is_empty(),
        "no progress bar on a pipe: {}",
        run.stderr
    );
}

#[test]
fn targets_from_stdin_and_positional_together() {
    let f = fleet();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("certready"))
        .env("SSL_CERT_FILE", &f.lab.system_store)
        .env_remove("SSL_CERT_DIR")
        .args([
            "check",
            &f.good,
            "--targets",
            "-",
            "--resolve",
            &f.resolve,
            "--ca-file",
            path_str(&f.root),
            "--format",
            "json",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{}\n", f.refused).as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let doc: json::Document = json::parse(
        &String::from_utf8_lossy(&output.stdout),
        "certready check --targets -",
    );
    assert_eq!(doc.reports.len(), 2);
    assert_eq!(doc.reports[1].target, f.refused);
}

#[test]
fn many_targets_at_bounded_concurrency() {
    let f = fleet();
    let many: Vec<String> = (0..60).map(|_| f.good.clone()).collect();
    let list = f.lab.file("many.txt", many.join("\n"));
    let run = f.lab.run(&[
        "check",
        "--targets",
        path_str(&list),
        "--concurrency",
        "4",
        "--resolve",
        &f.resolve,
        "--ca-file",
        path_str(&f.root),
        "--format",
        "json",
    ]);
    assert_eq!(run.doc().summary.ok, 60);
    assert_eq!(run.code, 0);
    for bad in ["0", "x", "100000"] {
        assert_eq!(
            f.lab.run(&["check", &f.good, "--concurrency", bad]).code,
            3,
            "--concurrency {bad}"
        );
    }
    assert_eq!(
        f.lab.run(&["check", "--targets", "/nonexistent/list"]).code,
        3
    );
}

fn metric_lines<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")))
        .collect()
}

#[test]
fn prometheus_series_survive_an_expired_chain_and_a_failed_probe() {
    let f = fleet();
    // Judge a year from now: the 90-day leaf has expired.
    let later = (time::OffsetDateTime::now_utc() + time::Duration::days(365))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let run = f.lab.run(&[
        "check",
        &f.good,
        &f.refused,
        "--resolve",
        &f.resolve,
        "--ca-file",
        path_str(&f.root),
        "--format",
        "prometheus",
        "--at",
        &later,
    ]);
    let text = &run.stdout;
    assert!(text.ends_with("# EOF\n"), "OpenMetrics text");
    let good = &f.good;
    let refused = &f.refused;
    assert!(
        text.contains(&format!("certready_probe_success{{target=\"{good}\"}} 1")),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "certready_probe_success{{target=\"{refused}\"}} 0"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("certready_status{{target=\"{good}\"}} 2")),
        "expired is critical"
    );
    assert_eq!(
        metric_lines(text, "certready_cert_not_after_timestamp_seconds").len(),
        2,
        "leaf and intermediate"
    );
    assert!(
        metric_lines(text, "certready_chain_earliest_expiry_timestamp_seconds")[0].contains(good)
    );
    assert!(
        text.contains(&format!(
            "certready_finding{{target=\"{good}\",id=\"expired\",severity=\"critical\"}} 1"
        )),
        "{text}"
    );
    assert!(text.contains(&format!("certready_client_accepts{{target=\"{good}\",client=\"flytectl-linux\",channel=\"grpc\"}} 0")));
    assert!(text.contains(&format!(
        "certready_tls_info{{target=\"{good}\",version=\"TLSv1.3\",alpn=\"h2\"}} 1"
    )));
    assert_eq!(
        metric_lines(text, "certready_probe_duration_seconds").len(),
        2
    );
    assert_eq!(run.code, 3);
    // Series come in input order, each family once.
    let success = metric_lines(text, "certready_probe_success");
    assert!(success[0].contains(good) && success[1].contains(refused));
    assert_eq!(
        text.matches("# TYPE certready_probe_success gauge").count(),
        1
    );
    promtool_accepts(text);
}

/// `promtool check metrics` (CI installs Debian's prometheus) parses and lints the text.
fn promtool_accepts(text: &str) {
    let child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install promtool (Debian's prometheus)"
        );
        eprintln!("SKIPPED promtool check metrics: promtool not installed");
        return;
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "promtool check metrics: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn output_is_written_atomically() {
    let f = fleet();
    let out = f.lab.dir.path().join("textfile").join("certready.prom");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    std::fs::write(&out, "old content").unwrap();
    let run = f.lab.run(&[
        "check",
        &f.good,
        "--resolve",
        &f.resolve,
        "--ca-file",
        path_str(&f.root),
        "--format",
        "prometheus",
        "--output",
        path_str(&out),
    ]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.is_empty());
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(written.contains("certready_probe_success"));
    let leftovers: Vec<_> = std::fs::read_dir(out.parent().unwrap()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "no temp file left behind");
    let bad = f.lab.run(&[
        "check",
        &f.good,
        "--resolve",
        &f.resolve,
        "--output",
        "/nonexistent/dir/x.prom",
    ]);
    assert_eq!(bad.code, 3);
    assert!(bad.stderr.contains("--output"), "{}", bad.stderr);
}

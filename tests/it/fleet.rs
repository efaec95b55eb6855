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

/// The targets of a JSON run's reports, in output order.
fn report_targets(run: &Run) -> Vec<String> {
    run.doc().reports.into_iter().map(|r| r.target).collect()
}

/// A target that takes the whole timeout, second in a list longer than the reorder window
/// (32 × concurrency): the reports still come out in input order, none is lost, and the
/// slow one is reported as the timeout it is.
#[test]
fn a_slow_target_early_in_the_list_holds_the_order_and_loses_nothing() {
    let f = fleet();
    let silent = misbehaving_server(&f.lab, Misbehaviour::Silent);
    let slow = format!("127.0.0.1:{}", silent.port());
    let mut list = vec![f.good.clone(), slow.clone()];
    // Other spellings of the good target tell the lines apart; the window at
    // --concurrency 2 is 64 targets, the list 103.
    for i in 0..100 {
        list.push(match i % 3 {
            0 => f.good.clone(),
            1 => format!("dns:///{}", f.good),
            _ => format!("https://{}/{i}", f.good),
        });
    }
    list.push(f.refused.clone());
    let file = f.lab.file("slow.txt", list.join("\n"));
    let started = std::time::Instant::now();
    let run = f.lab.run(&[
        "check",
        "--targets",
        path_str(&file),
        "--concurrency",
        "2",
        "--timeout",
        "1500ms",
        "--resolve",
        &f.resolve,
        "--ca-file",
        path_str(&f.root),
        "--format",
        "json",
    ]);
    assert_eq!(report_targets(&run), list);
    let doc = run.doc();
    let slow_report = &doc.reports[1];
    assert!(
        slow_report
            .error
            .as_deref()
            .is_some_and(|e| e.contains("timed out")),
        "{:?}",
        slow_report.error
    );
    assert_eq!(doc.summary.ok, 101);
    assert_eq!(doc.summary.unknown, 2);
    assert_eq!(run.code, 3);
    assert!(started.elapsed() < std::time::Duration::from_secs(30));

    // Text keeps the order too, report by report.
    let run = f.lab.run(&[
        "check",
        "--targets",
        path_str(&file),
        "--concurrency",
        "2",
        "--timeout",
        "1500ms",
        "--resolve",
        &f.resolve,
        "--ca-file",
        path_str(&f.root),
    ]);
    let headers: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| !l.starts_with(' ') && !l.is_empty() && !l.starts_with("Summary:"))
        .collect();
    assert_eq!(headers.len(), list.len(), "{}", run.stdout);
    for (header, target) in headers.iter().zip(&list) {
        assert!(
            header.starts_with(target.as_str()),
            "{header} is not {target}"
        );
    }
    assert!(run
        .stdout
        .ends_with("Summary: 103 targets — 101 ok, 0 warning, 0 critical, 2 unknown\n"));
}

/// SHA-256 of the target, first 8 bytes big-endian, modulo COUNT: recomputed here as the
/// docs say, so the split cannot change by accident.
fn documented_shard(target: &str, count: u64) -> u64 {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, target.as_bytes());
    u64::from_be_bytes(digest.as_ref()[..8].try_into().unwrap()) % count
}

/// 1 to 8 replicas with the same list: their shards are disjoint, cover every target, and
/// follow the documented hash; stdin and positional targets are split the same way.
#[test]
fn shards_of_one_to_eight_replicas_are_disjoint_and_cover_every_target() {
    let lab = Lab::new();
    // .invalid names fail at once, without a resolver.
    let all: Vec<String> = (0..40).map(|i| format!("host-{i}.invalid:443")).collect();
    let list = lab.file("fleet.txt", all.join("\n"));
    for count in 1..=8u64 {
        let mut covered: Vec<String> = Vec::new();
        for index in 0..count {
            let shard = format!("{index}/{count}");
            let run = lab.run(&[
                "check",
                "--targets",
                path_str(&list),
                "--shard",
                &shard,
                "--format",
                "json",
            ]);
            let part = report_targets(&run);
            for target in &part {
                assert_eq!(
                    documented_shard(target, count),
                    index,
                    "{target} in {shard}"
                );
            }
            // An empty shard is fine: nothing to check, nothing wrong.
            assert_eq!(run.code, if part.is_empty() { 0 } else { 3 }, "{shard}");
            covered.extend(part);
        }
        let before = covered.len();
        covered.sort();
        covered.dedup();
        assert_eq!(before, covered.len(), "shards of {count} overlap");
        let mut expected = all.clone();
        expected.sort();
        assert_eq!(covered, expected, "shards of {count} miss targets");
    }
    // Positional targets fall in the same shard as the same line in a file.
    let run = lab.run(&[
        "check", &all[0], &all[1], &all[2], "--shard", "1/2", "--format", "json",
    ]);
    let expected: Vec<String> = all[..3]
        .iter()
        .filter(|t| documented_shard(t, 2) == 1)
        .cloned()
        .collect();
    assert_eq!(report_targets(&run), expected);
    for bad in ["2/2", "0/0", "1", "x/3"] {
        let run = lab.run(&["check", &all[0], "--shard", bad]);
        assert_eq!(run.code, 3, "--shard {bad}");
        assert!(run.stderr.contains("--shard"), "{}", run.stderr);
    }
}

/// The reader goes away (`| head`): the run ends at once, quietly, with UNKNOWN (it was
/// cut short), in every streamed format.
#[test]
fn a_closed_stdout_ends_the_run_cleanly() {
    use std::io::Read;
    let lab = Lab::new();
    let list: String = (0..20_000).map(|i| format!("host-{i}.invalid\n")).collect();
    let list = lab.file("big.txt", list);
    for format in ["text", "json"] {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("certready"))
            .env("SSL_CERT_FILE", &lab.system_store)
            .args(["check", "--targets", path_str(&list), "--format", format])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let mut first = [0u8; 512];
        stdout.read_exact(&mut first).unwrap();
        drop(stdout);
        let started = std::time::Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(20),
                "{format}: still running after stdout closed"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        assert_eq!(status.code(), Some(3), "{format}: {stderr}");
        assert!(stderr.is_empty(), "{format}: {stderr}");
    }
}

/// `--targets -` is read as the run goes: the first report is out before stdin ends.
#[test]
fn stdin_targets_are_checked_as_they_arrive() {
    use std::io::BufRead;
    let f = fleet();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("certready"))
        .env("SSL_CERT_FILE", &f.lab.system_store)
        .env_remove("SSL_CERT_DIR")
        .args([
            "check",
            "--targets",
            "-",
            "--resolve",
            &f.resolve,
            "--ca-file",
            path_str(&f.root),
            "--color",
            "never",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{}", f.good).unwrap();
    stdin.flush().unwrap();
    let (lines, receive) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            if lines.send(line.unwrap()).is_err() {
                return;
            }
        }
    });
    let first = receive
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("the first report, while stdin is still open");
    assert!(first.starts_with(&f.good), "{first}");
    writeln!(stdin, "{}", f.refused).unwrap();
    drop(stdin);
    let rest: Vec<String> = receive.iter().collect();
    assert!(child.wait().unwrap().code() == Some(3));
    assert!(rest.iter().any(|l| l.starts_with(&f.refused)), "{rest:?}");
    assert!(rest
        .last()
        .is_some_and(|l| l.starts_with("Summary: 2 targets")));
}

/// A line that is not a target: in a file, the run fails before any probe and names the
/// line; from stdin (read as the run goes) it becomes that line's UNKNOWN report.
#[test]
fn a_bad_line_names_its_line_number() {
    let lab = Lab::new();
    let list = lab.file("bad.txt", "# list\nok.invalid\nhttp://plain.example.com\n");
    let run = lab.run(&["check", "--targets", path_str(&list), "--format", "json"]);
    assert_eq!(run.code, 3);
    assert!(run.stdout.is_empty(), "nothing probed: {}", run.stdout);
    assert!(
        run.stderr.contains("bad.txt line 3") && run.stderr.contains("http://"),
        "{}",
        run.stderr
    );

    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("certready"))
        .env("SSL_CERT_FILE", &lab.system_store)
        .args(["check", "--targets", "-", "--format", "json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"ok.invalid\nhttp://plain.example.com\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let doc: json::Document = json::parse(&String::from_utf8_lossy(&output.stdout), "stdin");
    assert_eq!(doc.reports.len(), 2);
    assert_eq!(doc.reports[1].target, "http://plain.example.com");
    assert!(doc.reports[1]
        .error
        .as_deref()
        .is_some_and(|e| e.starts_with("--targets - line 2: cannot use target")));
    assert_eq!(output.status.code(), Some(3));

    // An empty list is still a usage error; so is stdin with only comments.
    let empty = lab.file("empty.txt", "# nothing yet\n\n");
    let run = lab.run(&["check", "--targets", path_str(&empty)]);
    assert_eq!(run.code, 3);
    assert!(run.stderr.contains("no targets"), "{}", run.stderr);
}

//! `certready serve` as a child process: /healthz, /metrics for configured targets,
//! /probe?target= on demand, errors, concurrent scrapes, and SIGTERM.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

struct Served {
    child: Child,
    port: u16,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(lab: &Lab, args: &[&str]) -> Served {
    let port = closed_port();
    let listen = format!("127.0.0.1:{port}");
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("certready"))
        .env("SSL_CERT_FILE", &lab.system_store)
        .env_remove("SSL_CERT_DIR")
        .args([
            "serve",
            "--listen",
            &listen,
            "--interval",
            "1s",
            "--timeout",
            "3s",
        ])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let served = Served { child, port };
    let deadline = Instant::now() + Duration::from_secs(10);
    while get(port, "/healthz").0 != 200 {
        assert!(Instant::now() < deadline, "serve did not come up");
        std::thread::sleep(Duration::from_millis(50));
    }
    served
}

/// A plain HTTP/1.1 GET: (status, body). Status 0 when nothing answers.
fn get(port: u16, path: &str) -> (u16, String) {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return (0, String::new());
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    let _ = write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    );
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn metrics_probe_and_health() {
    let lab = Lab::new();
    let pki = Pki::new();
    let server = lab.serve_pki(&pki);
    let root = pki.root_file(&lab);
    let target = format!("{HOST}:{}", server.addr.port());
    let resolve = format!("{HOST}:{}:127.0.0.1", server.addr.port());
    let refused = format!("127.0.0.1:{}", closed_port());
    let served = start(
        &lab,
        &[
            &target,
            &refused,
            "--resolve",
            &resolve,
            "--ca-file",
            path_str(&root),
        ],
    );

    // The first round may still be running: 503 until it ends, then the series.
    let deadline = Instant::now() + Duration::from_secs(15);
    let metrics = loop {
        let (status, body) = get(served.port, "/metrics");
        if status == 200 {
            break body;
        }
        assert_eq!(status, 503);
        assert!(Instant::now() < deadline, "no metrics after 15 s");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        metrics.contains(&format!("certready_probe_success{{target=\"{target}\"}} 1")),
        "{metrics}"
    );
    assert!(
        metrics.contains(&format!(
            "certready_probe_success{{target=\"{refused}\"}} 0"
        )),
        "{metrics}"
    );
    assert!(metrics.contains("certready_chain_earliest_expiry_timestamp_seconds"));
    assert!(metrics.trim_end().ends_with("# EOF"));

    let (status, body) = get(
        served.port,
        &format!("/probe?target={}", target.replace(':', "%3A")),
    );
    assert_eq!(status, 200);
    assert!(
        body.contains(&format!("certready_status{{target=\"{target}\"}} 0")),
        "{body}"
    );
    assert_eq!(get(served.port, "/probe").0, 400);
    assert_eq!(get(served.port, "/probe?target=http%3A%2F%2Fplain").0, 400);
    assert_eq!(get(served.port, "/nope").0, 404);
}

#[test]
fn concurrent_scrapes_of_one_target_share_a_probe() {
    let lab = Lab::new();
    // A silent server: every probe takes the full 3 s timeout.
    let silent = misbehaving_server(&lab, Misbehaviour::Silent);
    let served = start(&lab, &[]);
    let path = format!("/probe?target=127.0.0.1%3A{}", silent.port());
    let started = Instant::now();
    let scrapes: Vec<_> = (0..8)
        .map(|_| {
            let path = path.clone();
            let port = served.port;
            std::thread::spawn(move || get(port, &path))
        })
        .collect();
    for scrape in scrapes {
        let (status, body) = scrape.join().unwrap();
        assert_eq!(status, 200);
        assert!(body.contains("certready_probe_success"), "{body}");
    }
    // Eight sequential probes would take 24 s; one shared probe takes about 3.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn sigterm_stops_it_gracefully() {
    let lab = Lab::new();
    let mut served = start(&lab, &[]);
    let pid = served.child.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = served.child.try_wait().unwrap() {
            assert!(status.success(), "{status:?}");
            break;
        }
        assert!(Instant::now() < deadline, "still running after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut stderr = String::new();
    served
        .child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(stderr.contains("stopped"), "{stderr}");
}

/// Two replicas with one list and `--shard 0/2`, `--shard 1/2`: each serves its part of
/// the targets on /metrics, and together all of them, once.
#[test]
fn shards_split_the_configured_targets_between_replicas() {
    let lab = Lab::new();
    let all: Vec<String> = (0..12)
        .map(|i| format!("replica-{i}.invalid:443"))
        .collect();
    let list = lab.file("targets.txt", all.join("\n"));
    let mut covered = Vec::new();
    for shard in ["0/2", "1/2"] {
        let served = start(&lab, &["--targets", path_str(&list), "--shard", shard]);
        let deadline = Instant::now() + Duration::from_secs(20);
        let body = loop {
            let (status, body) = get(served.port, "/metrics");
            if status == 200 {
                break body;
            }
            assert!(Instant::now() < deadline, "no first round: {status} {body}");
            std::thread::sleep(Duration::from_millis(100));
        };
        let part: Vec<String> = body
            .lines()
            .filter_map(|l| l.strip_prefix("certready_probe_success{target=\""))
            .map(|l| l.split('"').next().unwrap().to_string())
            .collect();
        assert!(
            !part.is_empty() && part.len() < all.len(),
            "{shard}: {part:?}"
        );
        assert!(body.ends_with("# EOF\n") && body.matches("# EOF").count() == 1);
        covered.extend(part);
    }
    covered.sort();
    let mut expected = all.clone();
    expected.sort();
    assert_eq!(covered, expected);
}

//! Shared test harness: generated chains served on 127.0.0.1 ephemeral ports, raw
//! misbehaving servers, and the real certready binary run against them with a trust
//! environment the test controls (never the machine's).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

pub mod aia;
pub mod flyteadmin;
pub mod json;
pub mod s_server;

pub use json::{AuthState, Severity, Status};

use assert_cmd::Command;
use certready::lab::{self, Issued, Server, Spec};
use rustls_pki_types::CertificateDer;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub const HOST: &str = "flyte.example.com";

/// A runtime whose worker threads keep test servers running while the binary runs.
pub struct Lab {
    pub rt: tokio::runtime::Runtime,
    pub dir: tempfile::TempDir,
    /// The file SSL_CERT_FILE points at: the "system" store, empty unless a test adds to it.
    pub system_store: PathBuf,
}

impl Lab {
    pub fn new() -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let system_store = dir.path().join("system-store.pem");
        std::fs::write(&system_store, "").unwrap();
        Lab {
            rt,
            dir,
            system_store,
        }
    }

    pub fn serve(&self, chain: &[&Issued], key_of: &Issued) -> Server {
        let ders = chain.iter().map(|c| c.der.clone()).collect();
        self.serve_ders(ders, key_of)
    }

    /// Serves a Pki's leaf and intermediate (the usual, correct chain).
    pub fn serve_pki(&self, pki: &Pki) -> Server {
        self.serve(&[&pki.leaf, &pki.intermediate], &pki.leaf)
    }

    pub fn serve_ders(&self, chain: Vec<CertificateDer<'static>>, key_of: &Issued) -> Server {
        self.rt
            .block_on(lab::serve(chain, key_of.key_der(), &[b"h2", b"http/1.1"]))
            .unwrap()
    }

    /// Writes `content` to a file in the test's directory.
    pub fn file(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        path
    }

    pub fn trust_system(&self, cert: &Issued) {
        std::fs::write(&self.system_store, &cert.pem).unwrap();
    }

    /// The real binary with the trust environment pinned to this lab.
    pub fn certready(&self) -> Command {
        let mut cmd = Command::cargo_bin("certready").unwrap();
        cmd.env("SSL_CERT_FILE", &self.system_store)
            .env_remove("SSL_CERT_DIR")
            .env_remove("GRPC_DEFAULT_SSL_ROOTS_FILE_PATH")
            .env_remove("FLYTE_PLATFORM_CA_CERT_FILE_PATH")
            .env_remove("FLYTE_PLATFORM_INSECURE_SKIP_VERIFY")
            .env("NO_COLOR", "1")
            .timeout(Duration::from_secs(60));
        cmd
    }

    /// `certready check host:PORT --resolve host:PORT:127.0.0.1 EXTRA…` for a loopback server.
    pub fn check(&self, addr: SocketAddr, host: &str, extra: &[&str]) -> Run {
        let target = format!("{host}:{}", addr.port());
        let resolve = format!("{host}:{}:127.0.0.1", addr.port());
        let mut args = vec!["check", &target, "--resolve", &resolve];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    /// `check` as above with `--format json`; `Run::report` and `Run::doc` read it typed.
    pub fn check_json(&self, addr: SocketAddr, host: &str, extra: &[&str]) -> Run {
        let mut args = vec!["--format", "json"];
        args.extend_from_slice(extra);
        self.check(addr, host, &args)
    }

    /// The typed report of `check_json`, when the exit code does not matter.
    pub fn check_report(&self, addr: SocketAddr, host: &str, extra: &[&str]) -> json::Report {
        self.check_json(addr, host, extra).report()
    }

    pub fn run(&self, args: &[&str]) -> Run {
        Run::of(self.certready().args(args))
    }
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    /// Runs `command` (e.g. `Lab::certready` with its own environment) to completion.
    pub fn of(command: &mut Command) -> Self {
        let started = Instant::now();
        let output = command.output().unwrap();
        Run::new(output, started.elapsed())
    }

    fn new(output: Output, elapsed: Duration) -> Self {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            elapsed,
        }
    }

    /// stdout as untyped JSON, for the tests that deliberately read raw keys.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr: {}",
                self.stdout, self.stderr
            )
        })
    }

    fn typed<T: serde::de::DeserializeOwned + json::Validate>(&self) -> T {
        json::parse(&self.stdout, &format!("stderr: {}", self.stderr))
    }

    /// The `check`/`inspect`/`demo` document, typed and validated.
    pub fn doc(&self) -> json::Document {
        self.typed()
    }

    /// The first report of a `check`/`inspect` run, typed and validated.
    pub fn report(&self) -> json::Report {
        self.doc()
            .reports
            .into_iter()
            .next()
            .expect("at least one report")
    }

    /// The `certready flyte` document, typed and validated.
    pub fn flyte_doc(&self) -> json::FlyteDocument {
        self.typed()
    }

    /// The `certready why` document, typed and validated.
    pub fn why_doc(&self) -> json::WhyDocument {
        self.typed()
    }

    /// The `certready lint-config` document, typed and validated.
    pub fn lint_doc(&self) -> json::LintDocument {
        self.typed()
    }

    pub fn assert_no_panic(&self) {
        assert!(
            !self.stderr.contains("panicked"),
            "the binary panicked:\n{}",
            self.stderr
        );
    }
}

/// A root, an intermediate and a leaf for HOST: the correct private-CA setup.
pub struct Pki {
    pub root: Issued,
    pub intermediate: Issued,
    pub leaf: Issued,
}

impl Pki {
    pub fn new() -> Self {
        Self::with_leaf(Spec::leaf(HOST))
    }

    pub fn with_leaf(leaf: Spec) -> Self {
        let root = lab::self_signed(&Spec::ca("Test Root CA")).unwrap();
        let intermediate = lab::issue(&Spec::ca("Test Issuing CA"), &root).unwrap();
        let leaf = lab::issue(&leaf, &intermediate).unwrap();
        Pki {
            root,
            intermediate,
            leaf,
        }
    }

    pub fn root_file(&self, lab: &Lab) -> PathBuf {
        lab.file("root.pem", &self.root.pem)
    }
}

pub fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// What a raw (non-TLS) test server does with each connection.
#[derive(Clone, Copy)]
pub enum Misbehaviour {
    /// Accept and never send anything.
    Silent,
    /// Close immediately after accepting.
    CloseAtOnce,
    /// Read the ClientHello, then reset the connection (RST).
    ResetAfterHello,
    /// Answer like a plaintext HTTP/1.1 server.
    PlaintextHttp,
    /// Answer with an HTTP/2 cleartext SETTINGS frame.
    H2c,
    /// Send a fatal TLS alert with this description code.
    Alert(u8),
    /// Send bytes that mean nothing.
    Garbage,
    /// Send one byte per second of a TLS record header, forever.
    SlowLoris,
}

pub fn misbehaving_server(lab: &Lab, behaviour: Misbehaviour) -> SocketAddr {
    lab.rt.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                tokio::spawn(misbehave(stream, behaviour));
            }
        });
        addr
    })
}

async fn misbehave(mut stream: TcpStream, behaviour: Misbehaviour) {
    let mut hello = [0u8; 4096];
    match behaviour {
        Misbehaviour::Silent => {
            tokio::time::sleep(Duration::from_secs(120)).await;
        }
        Misbehaviour::CloseAtOnce => {
            // FIN at once; then drain, since closing with the ClientHello unread would
            // make the kernel send RST instead (that case is ResetAfterHello).
            let _ = stream.shutdown().await;
            let _ = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut hello)).await;
            return;
        }
        Misbehaviour::ResetAfterHello => {
            let _ = stream.read(&mut hello).await;
            // Zero linger makes close send RST instead of FIN.
            let _ = stream.set_zero_linger();
            return;
        }
        Misbehaviour::PlaintextHttp => {
            let _ = stream.read(&mut hello).await;
            let _ = stream
                .write_all(
                    b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                )
                .await;
        }
        Misbehaviour::H2c => {
            let _ = stream.read(&mut hello).await;
            // SETTINGS frame (empty) then GOAWAY, as an h2c server answers junk.
            let _ = stream.write_all(&[0, 0, 0, 4, 0, 0, 0, 0, 0]).await;
            let _ = stream
                .write_all(&[0, 0, 8, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])
                .await;
        }
        Misbehaviour::Alert(code) => {
            let _ = stream.read(&mut hello).await;
            let _ = stream
                .write_all(&[0x15, 0x03, 0x01, 0x00, 0x02, 0x02, code])
                .await;
        }
        Misbehaviour::Garbage => {
            let _ = stream.read(&mut hello).await;
            let _ = stream
                .write_all(b"\x00\x01\x02garbage that is not TLS\xff\xfe")
                .await;
        }
        Misbehaviour::SlowLoris => {
            let _ = stream.read(&mut hello).await;
            for byte in [0x16u8, 0x03, 0x03, 0x40, 0x00].iter().cycle() {
                if stream.write_all(&[*byte]).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
    let _ = stream.shutdown().await;
}

/// A port on 127.0.0.1 with nothing listening.
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// What the test CONNECT proxy does.
#[derive(Clone)]
pub enum ProxyMode {
    /// Tunnel every CONNECT to this upstream address (standing in for DNS).
    Tunnel(SocketAddr),
    /// Answer 403 Forbidden.
    Refuse,
    /// Answer 407 unless Proxy-Authorization equals this value; then tunnel.
    RequireAuth(String, SocketAddr),
}

/// An HTTP CONNECT proxy on 127.0.0.1; returns its address and the CONNECT lines it saw.
pub fn connect_proxy(
    lab: &Lab,
    mode: ProxyMode,
) -> (SocketAddr, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    let addr = lab.rt.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else { continue };
                let mode = mode.clone();
                let log = log.clone();
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") {
                        if client.read(&mut byte).await.unwrap_or(0) == 0 {
                            return;
                        }
                        head.push(byte[0]);
                    }
                    let head = String::from_utf8_lossy(&head).to_string();
                    log.lock().unwrap().push(head.lines().next().unwrap_or_default().to_string());
                    let authorization = head
                        .lines()
                        .find_map(|l| l.strip_prefix("Proxy-Authorization: "))
                        .map(str::to_string);
                    let upstream = match &mode {
                        ProxyMode::Refuse => {
                            let _ = client.write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n").await;
                            return;
                        }
                        ProxyMode::RequireAuth(expected, upstream) => {
                            if authorization.as_deref() != Some(expected.as_str()) {
                                let _ = client
                                    .write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n\r\n")
                                    .await;
                                return;
                            }
                            *upstream
                        }
                        ProxyMode::Tunnel(upstream) => *upstream,
                    };
                    let Ok(mut server) = TcpStream::connect(upstream).await else { return };
                    let _ = client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").await;
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                });
            }
        });
        addr
    });
    (addr, seen)
}

/// Whether `python3` can import `module`. CI installs every client the proofs need, so
/// there a missing one fails the test instead of skipping it (`install` says how).
pub fn python_module_available(module: &str, install: &str) -> bool {
    let ok = std::process::Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must provide python3 with {module} ({install}): the proof cannot be skipped there"
        );
        eprintln!("SKIPPED: python3 cannot import {module} ({install})");
    }
    ok
}

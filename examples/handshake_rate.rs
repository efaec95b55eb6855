//! The baseline for scripts/bench.sh: bare TLS handshakes (same rustls and crypto
//! provider as certready, no verification, no analysis) against the given endpoints at a
//! given concurrency. Prints handshakes per second.
//!
//! cargo run --release --example handshake_rate -- CONCURRENCY HOST:PORT...

use std::sync::Arc;
use std::time::Instant;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::{DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

#[derive(Debug)]
struct AcceptAnything(rustls::crypto::WebPkiSupportedAlgorithms);

impl ServerCertVerifier for AcceptAnything {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(m, c, d, &self.0)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(m, c, d, &self.0)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let concurrency: usize = args
        .next()
        .and_then(|c| c.parse().ok())
        .expect("CONCURRENCY HOST:PORT...");
    let endpoints: Vec<String> = args.collect();
    // HANDSHAKE_CLOSE=1: close with close_notify, as certready's probe does.
    let polite = std::env::var_os("HANDSHAKE_CLOSE").is_some();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let algorithms = provider.signature_verification_algorithms;
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAnything(algorithms)))
        .with_no_client_auth();
    config.resumption = rustls::client::Resumption::disabled();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let limit = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for endpoint in endpoints.clone() {
        let connector = connector.clone();
        let limit = limit.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = limit.acquire_owned().await;
            let tcp = tokio::net::TcpStream::connect(&endpoint).await.ok()?;
            let name = ServerName::try_from("bench.example.com").unwrap();
            let mut tls = connector.connect(name, tcp).await.ok()?;
            if polite {
                use tokio::io::AsyncWriteExt;
                let _ = tls.shutdown().await;
            }
            Some(())
        }));
    }
    let mut ok = 0;
    for task in tasks {
        if let Ok(Some(())) = task.await {
            ok += 1;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{ok} handshakes in {seconds:.3}s = {:.1}/s",
        ok as f64 / seconds
    );
}

//! SCTs delivered in the TLS extension (RFC 6962 §3.3.1). rustls's client stopped asking
//! for them in 0.22, so the main probe cannot see them. This second, minimal connection
//! sends a TLS 1.2 ClientHello with the `signed_certificate_timestamp` extension and reads
//! the server's first flight in the clear (ServerHello, Certificate), then hangs up: no
//! key exchange, nothing but the ClientHello is sent. In TLS 1.3 the list rides in the
//! encrypted Certificate message, out of reach without a full handshake, so a server that
//! speaks only TLS 1.3 leaves the question open (said so, never guessed).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tls_parser::{TlsMessage, TlsMessageHandshake};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{ProbeOptions, ProbeState};
use crate::target::{Host, Target};

/// The first flight is read up to this many bytes (rustls, for the main probe, refuses a
/// handshake message over 64 KiB).
const MAX_FLIGHT: usize = 96 * 1024;

/// What asking for SCTs over TLS 1.2 found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsScts {
    /// The server sent this SCT list (TLS-encoded, as in the extension) with the leaf the
    /// main probe saw.
    Delivered(Vec<u8>),
    /// The server answered over TLS 1.2 with the same leaf and no SCT extension.
    None,
    /// The question could not be answered: why, in words.
    Unavailable(String),
}

/// Asks `target` (at `address`, the one the main probe reached) for the SCT extension,
/// expecting `leaf` (DER) to be the certificate it is about. Bounded by `options.timeout`.
pub async fn fetch(
    target: &Target,
    options: &ProbeOptions,
    address: Option<SocketAddr>,
    leaf: &[u8],
) -> TlsScts {
    match tokio::time::timeout(options.timeout, ask(target, options, address, leaf)).await {
        Ok(answer) => answer,
        Err(_) => TlsScts::Unavailable(format!(
            "the TLS 1.2 handshake asking for SCTs did not finish within {}",
            humantime::format_duration(options.timeout)
        )),
    }
}

async fn ask(
    target: &Target,
    options: &ProbeOptions,
    address: Option<SocketAddr>,
    leaf: &[u8],
) -> TlsScts {
    let state = Arc::new(Mutex::new(ProbeState::new()));
    let mut tcp = match super::dial(target, options, address, &state).await {
        Ok(tcp) => tcp,
        Err(e) => {
            return TlsScts::Unavailable(format!("a second connection failed: {}", e.message))
        }
    };
    let sni = match (&options.sni, &target.host) {
        (Some(sni), _) => Some(sni.as_str()),
        (None, Host::Name(name)) => Some(name.as_str()),
        (None, Host::Ip(_)) => None,
    };
    if let Err(e) = tcp.write_all(&client_hello(sni)).await {
        return TlsScts::Unavailable(format!("sending the TLS 1.2 ClientHello failed: {e}"));
    }
    let mut flight = Flight::default();
    let mut buffer = vec![0u8; 16 * 1024];
    let answer =
        loop {
            match flight.answer(leaf) {
                Some(answer) => break answer,
                None if flight.received >= MAX_FLIGHT => {
                    break TlsScts::Unavailable(format!(
                        "the server's TLS 1.2 first flight exceeds {} KiB",
                        MAX_FLIGHT / 1024
                    ))
                }
                None => {}
            }
            match tcp.read(&mut buffer).await {
                Ok(0) => break TlsScts::Unavailable(
                    "the server closed the connection instead of answering a TLS 1.2 ClientHello"
                        .into(),
                ),
                Ok(n) => flight.push(&buffer[..n]),
                Err(e) => {
                    break TlsScts::Unavailable(format!(
                        "the TLS 1.2 handshake asking for SCTs failed: {e}"
                    ))
                }
            }
        };
    // user_canceled, then hang up: the handshake is abandoned on purpose.
    let _ = tcp.write_all(&[21, 3, 3, 0, 2, 1, 90]).await;
    answer
}

/// The server's bytes so far, split into records and handshake messages.
#[derive(Default)]
struct Flight {
    records: Vec<u8>,
    handshake: Vec<u8>,
    received: usize,
    /// The SCT list of the ServerHello, once it has been read (None inside: no extension).
    server_hello: Option<Option<Vec<u8>>>,
    error: Option<String>,
}

impl Flight {
    fn push(&mut self, bytes: &[u8]) {
        self.received += bytes.len();
        self.records.extend_from_slice(bytes);
        // Whole records move to the handshake buffer; an alert ends the exchange.
        while self.records.len() >= 5 && self.error.is_none() {
            let length = u16::from_be_bytes([self.records[3], self.records[4]]) as usize;
            if self.records.len() < 5 + length {
                break;
            }
            let content_type = self.records[0];
            let body: Vec<u8> = self.records.drain(..5 + length).skip(5).collect();
            match content_type {
                22 => self.handshake.extend_from_slice(&body),
                21 => self.error = Some(alert_text(&body)),
                _ => {
                    self.error = Some(format!(
                        "the server answered a TLS 1.2 ClientHello with a record of type {content_type}, not a handshake"
                    ))
                }
            }
        }
        if self.received == bytes.len() && !matches!(bytes.first(), Some(21 | 22)) {
            self.error = Some("the server's answer to a TLS 1.2 ClientHello is not TLS".into());
        }
    }

    /// The answer, once the bytes so far give one.
    fn answer(&mut self, leaf: &[u8]) -> Option<TlsScts> {
        loop {
            if let Some(error) = &self.error {
                return Some(TlsScts::Unavailable(error.clone()));
            }
            if self.handshake.len() < 4 {
                return None;
            }
            let length =
                u32::from_be_bytes([0, self.handshake[1], self.handshake[2], self.handshake[3]])
                    as usize;
            if self.handshake.len() < 4 + length {
                return None;
            }
            let message: Vec<u8> = self.handshake.drain(..4 + length).collect();
            let parsed = tls_parser::parse_tls_message_handshake(&message);
            let Ok((_, TlsMessage::Handshake(handshake))) = parsed else {
                return Some(TlsScts::Unavailable(format!(
                    "the server's TLS 1.2 handshake message of type {} does not parse",
                    message[0]
                )));
            };
            match (handshake, &self.server_hello) {
                (TlsMessageHandshake::ServerHello(hello), None) => {
                    let Some(list) = sct_extension(hello.ext.unwrap_or_default()) else {
                        return Some(TlsScts::Unavailable(
                            "the server's TLS 1.2 ServerHello extensions do not parse".into(),
                        ));
                    };
                    self.server_hello = Some(list);
                }
                (TlsMessageHandshake::Certificate(certificate), Some(list)) => {
                    let same = certificate
                        .cert_chain
                        .first()
                        .is_some_and(|c| c.data == leaf);
                    return Some(match (same, list) {
                        (false, _) => TlsScts::Unavailable(
                            "over TLS 1.2 the server presents another certificate (its SCTs are not about this leaf)"
                                .into(),
                        ),
                        (true, Some(list)) => TlsScts::Delivered(list.clone()),
                        (true, None) => TlsScts::None,
                    });
                }
                (_, None) => {
                    return Some(TlsScts::Unavailable(
                        "the server did not begin its TLS 1.2 answer with a ServerHello".into(),
                    ))
                }
                // Resumption or a PSK suite: no certificate to tie the SCTs to.
                (_, Some(_)) => {
                    return Some(TlsScts::Unavailable(
                        "the server's TLS 1.2 answer carries no certificate".into(),
                    ))
                }
            }
        }
    }
}

/// The SCT extension's data (the list as sent, with its length) among a ServerHello's
/// extensions: Some(None) without it, None when they do not parse. (tls-parser strips
/// the list's length, which certready's SCT parser checks.)
fn sct_extension(mut extensions: &[u8]) -> Option<Option<Vec<u8>>> {
    while !extensions.is_empty() {
        let kind = u16::from_be_bytes([*extensions.first()?, *extensions.get(1)?]);
        let length = u16::from_be_bytes([*extensions.get(2)?, *extensions.get(3)?]) as usize;
        let data = extensions.get(4..4 + length)?;
        if kind == 18 {
            return Some(Some(data.to_vec()));
        }
        extensions = &extensions[4 + length..];
    }
    Some(None)
}

fn alert_text(body: &[u8]) -> String {
    match body.get(1) {
        // protocol_version: TLS 1.3 only (or older than 1.2 only, which the main probe
        // could not have completed).
        Some(70) => "the server speaks only TLS 1.3, where SCTs ride in the encrypted Certificate message certready's probe cannot ask for".into(),
        Some(40) => "the server refused the TLS 1.2 ClientHello (handshake_failure: TLS 1.3 only, or no cipher suite in common)".into(),
        Some(code) => format!("the server answered a TLS 1.2 ClientHello with alert {code}"),
        None => "the server answered a TLS 1.2 ClientHello with a truncated alert".into(),
    }
}

/// A TLS 1.2 ClientHello asking for SCTs: the cipher suites and groups servers commonly
/// take (the handshake is abandoned after the server's first flight, so none is used).
fn client_hello(sni: Option<&str>) -> Vec<u8> {
    const SUITES: &[u16] = &[
        0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc023, 0xc027, 0xc024, 0xc028, 0xc009,
        0xc013, 0xc00a, 0xc014, 0x009e, 0x009f, 0x009c, 0x009d, 0x003c, 0x003d, 0x002f, 0x0035,
        0x000a, 0x00ff,
    ];
    const GROUPS: &[u16] = &[0x001d, 0x0017, 0x0018, 0x0019, 0x0100];
    const SIGNATURE_SCHEMES: &[u16] = &[
        0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601, 0x0807, 0x0203, 0x0201,
    ];
    fn u16s(values: &[u16]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_be_bytes()).collect()
    }
    fn with_u16_length(body: &[u8]) -> Vec<u8> {
        let mut out = (body.len() as u16).to_be_bytes().to_vec();
        out.extend_from_slice(body);
        out
    }
    fn extension(kind: u16, body: &[u8]) -> Vec<u8> {
        let mut out = kind.to_be_bytes().to_vec();
        out.extend(with_u16_length(body));
        out
    }
    let mut extensions = Vec::new();
    if let Some(name) = sni {
        let mut entry = vec![0u8];
        entry.extend(with_u16_length(name.as_bytes()));
        extensions.extend(extension(0, &with_u16_length(&entry)));
    }
    extensions.extend(extension(10, &with_u16_length(&u16s(GROUPS))));
    extensions.extend(extension(11, &[1, 0]));
    extensions.extend(extension(13, &with_u16_length(&u16s(SIGNATURE_SCHEMES))));
    extensions.extend(extension(18, &[]));
    extensions.extend(extension(23, &[]));

    let mut random = [0u8; 32];
    let _ = aws_lc_rs::rand::fill(&mut random);
    let mut hello = vec![3, 3];
    hello.extend_from_slice(&random);
    hello.push(0); // no session id
    hello.extend(with_u16_length(&u16s(SUITES)));
    hello.extend_from_slice(&[1, 0]); // null compression
    hello.extend(with_u16_length(&extensions));

    let mut handshake = vec![1];
    handshake.extend_from_slice(&(hello.len() as u32).to_be_bytes()[1..]);
    handshake.extend(hello);
    let mut record = vec![22, 3, 1];
    record.extend(with_u16_length(&handshake));
    record
}

#[cfg(test)]
mod tests {
    use super::*;
    use tls_parser::TlsExtension;

    #[test]
    fn the_client_hello_parses_and_asks_for_scts() {
        let hello = client_hello(Some("flyte.example.com"));
        let (rest, record) = tls_parser::parse_tls_plaintext(&hello).expect("a TLS record");
        assert!(rest.is_empty());
        let TlsMessage::Handshake(TlsMessageHandshake::ClientHello(hello)) = &record.msg[0] else {
            panic!("not a ClientHello: {:?}", record.msg);
        };
        let (_, extensions) =
            tls_parser::parse_tls_client_hello_extensions(hello.ext.unwrap()).expect("extensions");
        assert!(extensions
            .iter()
            .any(|e| matches!(e, TlsExtension::SignedCertificateTimestamp(_))));
        assert!(extensions.iter().any(|e| matches!(
            e,
            TlsExtension::SNI(names) if names[0].1 == b"flyte.example.com"
        )));
    }

    #[test]
    fn an_alert_or_plaintext_answers_unavailable() {
        let mut flight = Flight::default();
        flight.push(&[21, 3, 3, 0, 2, 2, 70]);
        assert!(
            matches!(flight.answer(b"leaf"), Some(TlsScts::Unavailable(why)) if why.contains("only TLS 1.3"))
        );
        let mut flight = Flight::default();
        flight.push(b"HTTP/1.1 400 Bad Request\r\n");
        assert!(matches!(
            flight.answer(b"leaf"),
            Some(TlsScts::Unavailable(_))
        ));
        let mut flight = Flight::default();
        flight.push(&[22, 3, 3, 0]);
        assert_eq!(
            flight.answer(b"leaf"),
            None,
            "a partial record waits for more"
        );
    }

    /// A TLS 1.2 first flight: ServerHello with `extensions`, then Certificate with
    /// `leaf`, split across two records at `split`.
    fn flight(extensions: &[u8], leaf: &[u8], split: usize) -> Vec<Vec<u8>> {
        let mut hello = vec![3, 3];
        hello.extend_from_slice(&[7; 32]);
        hello.push(0);
        hello.extend_from_slice(&[0xc0, 0x2f, 0]);
        hello.extend_from_slice(&(extensions.len() as u16).to_be_bytes());
        hello.extend_from_slice(extensions);
        let mut certificate = Vec::new();
        let entry_length = (leaf.len() as u32).to_be_bytes();
        let list_length = (leaf.len() as u32 + 3).to_be_bytes();
        certificate.extend_from_slice(&list_length[1..]);
        certificate.extend_from_slice(&entry_length[1..]);
        certificate.extend_from_slice(leaf);
        let mut messages = Vec::new();
        for (kind, body) in [(2u8, hello), (11, certificate)] {
            messages.push(kind);
            messages.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
            messages.extend(body);
        }
        [&messages[..split], &messages[split..]]
            .iter()
            .map(|part| {
                let mut record = vec![22, 3, 3];
                record.extend_from_slice(&(part.len() as u16).to_be_bytes());
                record.extend_from_slice(part);
                record
            })
            .collect()
    }

    fn answer(records: &[Vec<u8>], leaf: &[u8]) -> Option<TlsScts> {
        let mut flight = Flight::default();
        let bytes: Vec<u8> = records.concat();
        // Byte by byte: every split of records and messages is waited out.
        for byte in bytes {
            if let Some(answer) = flight.answer(leaf) {
                return Some(answer);
            }
            flight.push(&[byte]);
        }
        flight.answer(leaf)
    }

    #[test]
    fn a_server_hello_with_the_extension_delivers_the_list_for_the_same_leaf() {
        let list = [0u8, 4, 0, 2, 0xaa, 0xbb];
        let mut extensions = vec![0xff, 0x01, 0, 1, 0];
        extensions.extend_from_slice(&[0, 18, 0, list.len() as u8]);
        extensions.extend_from_slice(&list);
        let records = flight(&extensions, b"the leaf", 30);
        assert_eq!(
            answer(&records, b"the leaf"),
            Some(TlsScts::Delivered(list.to_vec()))
        );
        assert!(matches!(
            answer(&records, b"another leaf"),
            Some(TlsScts::Unavailable(why)) if why.contains("another certificate")
        ));
        let records = flight(&[0xff, 0x01, 0, 1, 0], b"the leaf", 50);
        assert_eq!(answer(&records, b"the leaf"), Some(TlsScts::None));
        let records = flight(&[0, 18, 0, 9, 1], b"the leaf", 50);
        assert!(matches!(
            answer(&records, b"the leaf"),
            Some(TlsScts::Unavailable(_))
        ));
    }

    /// A server that accepts and never answers, or answers garbage: an answer in words,
    /// within the timeout.
    #[tokio::test]
    async fn a_stalling_or_garbage_server_is_unavailable_within_the_timeout() {
        use std::time::{Duration, Instant};
        for garbage in [None, Some(&b"\x00\x01garbage that is not TLS"[..])] {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(async move {
                let (mut stream, _) = listener.accept().await.unwrap();
                if let Some(bytes) = garbage {
                    let _ = stream.write_all(bytes).await;
                }
                tokio::time::sleep(Duration::from_secs(30)).await;
            });
            let target =
                crate::target::parse_target(&format!("127.0.0.1:{}", addr.port())).unwrap();
            let options = ProbeOptions {
                timeout: Duration::from_millis(300),
                ..ProbeOptions::default()
            };
            let started = Instant::now();
            let answer = fetch(&target, &options, Some(addr), b"leaf").await;
            assert!(started.elapsed() < Duration::from_secs(2));
            let TlsScts::Unavailable(why) = answer else {
                panic!("{answer:?}");
            };
            match garbage {
                None => assert!(why.contains("did not finish within"), "{why}"),
                Some(_) => assert!(
                    why.contains("not TLS") || why.contains("record of type"),
                    "{why}"
                ),
            }
        }
    }
}

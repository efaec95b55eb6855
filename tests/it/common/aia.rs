//! A loopback HTTP server standing in for a CA's caIssuers URLs (and its OCSP responder
//! and CRL distribution point, with answers the openssl command made): each path answers one
//! way (a certificate, a redirect, a stall, an endless body …), and every request is
//! logged so a test can tell whether certready fetched at all.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::Lab;

/// What one path answers.
#[derive(Clone)]
pub enum Answer {
    /// 200 with this body and Content-Type.
    Body(&'static str, Vec<u8>),
    /// 302 to this location (absolute, or a path on this server).
    Redirect(String),
    /// Reads the request, then never answers.
    Stall,
    /// 200 announcing 100 MB and sending zeros until the client gives up.
    Huge,
    /// 200 without a length, sending zeros until the client gives up (chunked).
    Endless,
    /// This status, empty body.
    Status(u16),
    /// 200 with what this function makes of the request's body (e.g. a real OCSP
    /// responder's answer to the request certready sent), with this Content-Type.
    Respond(&'static str, Responder),
}

/// Makes an answer's body from a request's body.
pub type Responder = Arc<dyn Fn(&[u8]) -> Vec<u8> + Send + Sync>;

type Routes = Arc<Mutex<HashMap<String, Answer>>>;

pub struct AiaServer {
    pub addr: SocketAddr,
    /// The request paths, in order.
    pub requests: Arc<Mutex<Vec<String>>>,
    routes: Routes,
}

impl AiaServer {
    /// `http://127.0.0.1:PORT/path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// URLs on `addr`, where nothing need listen (a responder that is down).
    pub fn at(addr: SocketAddr) -> AiaServer {
        AiaServer {
            addr,
            requests: Default::default(),
            routes: Default::default(),
        }
    }

    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }

    /// Answers `path` with `answer` from now on (certificates naming the server's URL
    /// are made once it listens).
    pub fn route(&self, path: &str, answer: Answer) {
        self.routes.lock().unwrap().insert(path.to_string(), answer);
    }
}

/// Serves `routes` (path → answer) on 127.0.0.1; other paths answer 404.
pub fn aia_server(lab: &Lab, routes: Vec<(&str, Answer)>) -> AiaServer {
    let routes: Routes = Arc::new(Mutex::new(
        routes
            .into_iter()
            .map(|(path, answer)| (path.to_string(), answer))
            .collect(),
    ));
    let requests = Arc::new(Mutex::new(Vec::new()));
    let log = requests.clone();
    let table = routes.clone();
    let addr = lab.rt.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                tokio::spawn(answer(stream, table.clone(), log.clone()));
            }
        });
        addr
    });
    AiaServer {
        addr,
        requests,
        routes,
    }
}

async fn answer(mut stream: TcpStream, routes: Routes, log: Arc<Mutex<Vec<String>>>) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await.unwrap_or(0) == 0 || head.len() > 16 * 1024 {
            return;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).to_string();
    // A POST (an OCSP request) is read whole, so that closing does not reset the answer.
    let length = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|n| n.trim().parse::<usize>().unwrap_or(0))
        })
        .unwrap_or(0)
        .min(1024 * 1024);
    let mut body = vec![0u8; length];
    if stream.read_exact(&mut body).await.is_err() {
        return;
    }
    // "GET /path HTTP/1.1", or an absolute URL when sent to a proxy.
    let target = head.split_whitespace().nth(1).unwrap_or_default();
    let path = match target.strip_prefix("http://") {
        Some(rest) => rest.find('/').map_or("/", |i| &rest[i..]).to_string(),
        None => target.to_string(),
    };
    log.lock().unwrap().push(path.clone());
    let zeros = vec![0u8; 64 * 1024];
    let route = routes.lock().unwrap().get(&path).cloned();
    let route = match route {
        Some(Answer::Respond(content_type, respond)) => {
            Some(Answer::Body(content_type, respond(&body)))
        }
        other => other,
    };
    match route {
        Some(Answer::Body(content_type, body)) => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(&body).await;
        }
        Some(Answer::Redirect(location)) => {
            let head = format!(
                "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            let _ = stream.write_all(head.as_bytes()).await;
        }
        Some(Answer::Stall) => {
            tokio::time::sleep(Duration::from_secs(120)).await;
        }
        Some(Answer::Huge) => {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/pkix-cert\r\nContent-Length: 100000000\r\n\r\n";
            if stream.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            for _ in 0..100_000_000 / zeros.len() {
                if stream.write_all(&zeros).await.is_err() {
                    return;
                }
            }
        }
        Some(Answer::Endless) => {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/pkix-cert\r\nTransfer-Encoding: chunked\r\n\r\n";
            if stream.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let chunk_head = format!("{:x}\r\n", zeros.len());
            loop {
                let sent = async {
                    stream.write_all(chunk_head.as_bytes()).await?;
                    stream.write_all(&zeros).await?;
                    stream.write_all(b"\r\n").await
                };
                if sent.await.is_err() {
                    return;
                }
            }
        }
        Some(Answer::Status(code)) => {
            let head =
                format!("HTTP/1.1 {code} Status\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            let _ = stream.write_all(head.as_bytes()).await;
        }
        // Made into a Body above.
        Some(Answer::Respond(..)) | None => {
            let _ = stream
                .write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                )
                .await;
        }
    }
    let _ = stream.shutdown().await;
}

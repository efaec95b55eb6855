//! `openssl s_server` on 127.0.0.1 for tests that need OpenSSL's server features (OCSP
//! stapling from a file, serverinfo extensions, TLS 1.3 only).

use std::io::BufRead;
use std::process::{Child, Command, Stdio};

/// A running `openssl s_server`, killed on drop.
pub struct SServer {
    child: Child,
    pub port: u16,
}

impl SServer {
    /// Starts `openssl s_server -accept 127.0.0.1:0 ARGS…` and waits for its port.
    pub fn start<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Self {
        let mut child = Command::new("openssl")
            .args(["s_server", "-accept", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl s_server");
        // "ACCEPT 127.0.0.1:PORT" on stdout.
        let stdout = child.stdout.take().unwrap();
        let mut lines = std::io::BufReader::new(stdout).lines();
        let port = lines
            .find_map(|l| {
                l.ok()?
                    .strip_prefix("ACCEPT 127.0.0.1:")
                    .and_then(|p| p.trim().parse().ok())
            })
            .expect("s_server's port");
        // Keep draining its output so it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        SServer { child, port }
    }

    pub fn addr(&self) -> std::net::SocketAddr {
        ([127, 0, 0, 1], self.port).into()
    }
}

impl Drop for SServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

//! OpenSSL 3.0's and BoringSSL's certificate verification as pyflyte's two channels run
//! them: Python's `ssl` (and requests/urllib3) on the system OpenSSL 3.0 for the OAuth
//! calls, grpcio's bundled BoringSSL for gRPC. Each library's `X509_verify_cert` is
//! re-implemented in the order of its checks with the first error winning (neither client
//! installs a verify callback), so the prediction is the code and text the client prints.
//!
//! - OpenSSL (`ossl`): the leaf key level, `build_chain` (TRUSTED_FIRST, optionally
//!   PARTIAL_CHAIN), `check_extensions` (per certificate: critical extensions, CA-ness,
//!   X509_STRICT's RFC 5280 checks, purpose, path length), `check_auth_level` (security
//!   level 2: key bits and signature digest bits), `check_id` (Python's host or IP with
//!   NO_PARTIAL_WILDCARDS, NEVER_CHECK_SUBJECT for urllib3), `internal_verify` (top
//!   down) and name constraints.
//! - BoringSSL (`bssl`): no security levels and no strict checks; an issuer must allow
//!   keyCertSign (so must a self-signed certificate); only untrusted certificates get
//!   their extensions checked; BoringSSL's own strings and numbers. Around it, grpcio's
//!   TLS 1.3 leaf keyUsage check before verification and its hostname verifier after.
//!
//! Certificates are read by `cert` (each library's `ex_flags`), names by `name`, host
//! names matched by `host`, name constraints by `ncons`; `text` has the string tables.

mod bssl;
mod cert;
pub(crate) mod der;
mod host;
mod key;
pub(crate) mod name;
mod ncons;
mod ossl;
pub mod text;

#[cfg(test)]
mod tests;

use cert::Cert;
use std::sync::Arc;

use crate::verifiers::pattern::Pattern;

/// Python's `ssl` words the two mismatches itself (_ssl.c fill_and_set_sslerror).
pub const HOSTNAME_MISMATCH: Pattern =
    Pattern(&["Hostname mismatch, certificate is not valid for '", "'."]);
pub const IP_ADDRESS_MISMATCH: Pattern =
    Pattern(&["IP address mismatch, certificate is not valid for '", "'."]);
/// _ssl.c's `ValueError` for the server_hostname itself.
pub const BAD_SERVER_HOSTNAME: Pattern =
    Pattern(&["server_hostname cannot be an empty string or start with a leading dot."]);
/// certready's own words where the clients fail reading the Certificate message.
pub const NO_CERTIFICATE: Pattern = Pattern(&["the server sent no certificate"]);
pub const UNPARSABLE: Pattern = Pattern(&["a certificate the server sent does not parse"]);
/// grpcio's handshake failure: BoringSSL's oldest queued error, the verify result's text
/// and the status of an inner step.
pub const HANDSHAKE_FAILED: Pattern = Pattern(&[
    "Tls handshake failed (TSI_PROTOCOL_FAILURE): SSL_ERROR_SSL: ",
    ": ",
    ": OK",
]);
/// grpc's checks after the handshake: its hostname verifier, the per-call host check.
pub const VERIFIER_FAILED: Pattern = Pattern(&[
    "Custom verification check failed with error: UNAUTHENTICATED: ",
    "",
]);
pub const HOSTNAME_CHECK_FAILED: &str = "Hostname Verification Check failed.";
pub const CALL_HOST_MISMATCH: Pattern = Pattern(&["call host does not match SSL server name"]);
/// grpcio's `details()` around a handshake error: the peer, then the error.
pub const GRPC_DETAILS: Pattern = Pattern(&[
    "failed to connect to all addresses; last error: UNKNOWN: ",
    ": ",
    "",
]);

/// Which client, configured how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// Python `ssl` / requests on OpenSSL 3.0 (Debian 12). Python ≤ 3.12 defaults:
    /// TRUSTED_FIRST only, security level 2. `strict_partial`: Python 3.13+ (and urllib3
    /// on 3.13) add X509_STRICT and PARTIAL_CHAIN. `check_common_name`: Python's
    /// `hostname_checks_common_name` (true for plain `ssl`, false for urllib3/requests).
    OpenSsl {
        strict_partial: bool,
        check_common_name: bool,
    },
    /// grpcio's BoringSSL. `partial_chain`: gRPC sets PARTIAL_CHAIN on a store made from
    /// user-supplied `root_certificates`, not on its bundled roots.
    BoringSsl { partial_chain: bool },
}

/// Where a refusal comes from: each kind reaches the user differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `X509_verify_cert` failed. Python raises `SSLCertVerificationError` (OpenSSL checks
    /// the host name inside, so 62 and 64 are this kind too); grpcio fails the handshake.
    Verify,
    /// BoringSSL refused the TLS 1.3 leaf while parsing it, before any verification: its
    /// keyUsage lacks digitalSignature. The verify result is still the session's initial
    /// "Invalid certificate verification context".
    LeafKeyUsage,
    /// gRPC's hostname verifier, after a successful handshake.
    Hostname,
    /// gRPC's per-call host check (`check_call_host`).
    CallHost,
    /// Python refuses the server_hostname itself (`ValueError`, before connecting).
    BadHostname,
    /// A presented certificate does not parse. The clients then fail while reading the
    /// Certificate message, with texts this engine does not model.
    Unparsable,
}

/// A client's refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub kind: Kind,
    /// The verify result in the library's own numbering (`SSL_get_verify_result`);
    /// 0 where no verify result applies.
    pub code: u32,
    /// `X509_verify_cert_error_string(code)`, or Python's text for a host name or IP
    /// mismatch, or gRPC's status message.
    pub reason: String,
    /// The error depth (0 is the leaf).
    pub depth: usize,
    /// What the client prints: Python's `SSLCertVerificationError.verify_message`; for
    /// grpcio the RPC's details after the `failed to connect to all addresses; last
    /// error: UNKNOWN: ipv4:HOST:PORT: ` prefix (see `grpc_details`).
    pub text: String,
}

impl Outcome {
    /// grpcio's whole `details()` for a failure talking to `peer` (such as
    /// `ipv4:127.0.0.1:8443`); a per-call host failure has no peer prefix.
    pub fn grpc_details(&self, peer: &str) -> String {
        match self.kind {
            Kind::CallHost => self.text.clone(),
            _ => GRPC_DETAILS.fill(&[peer, &self.text]),
        }
    }
}

/// The BoringSSL error grpc prints when verification fails for an ordinary reason.
pub const CERTIFICATE_VERIFY_FAILED: &str =
    "error:1000007d:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED";
pub const KEY_USAGE_BIT_INCORRECT: &str =
    "error:1000012e:SSL routines:OPENSSL_internal:KEY_USAGE_BIT_INCORRECT";
/// `X509_V_ERR_INVALID_CALL` in BoringSSL's numbering: a session's verify result before
/// verification ran.
const BORINGSSL_INVALID_CALL: u32 = 65;

/// What the client says about the chain a server presented.
///
/// `presented`: the Certificate message, leaf first. `roots`: the trust store (the CA
/// file's certificates; ones that do not parse are left out, duplicates count once).
/// `host`: the server_hostname (Python, IDNA-encoded as Python sends it) or the gRPC
/// target host (`grpc.ssl_target_name_override` when set); empty for no host check at all
/// (a file judged without a host name). `now`: Unix seconds.
pub fn verify(
    flavor: &Flavor,
    presented: &[&[u8]],
    roots: &[&[u8]],
    host: &str,
    now: i64,
) -> Result<(), Outcome> {
    let presented = parse_presented(presented)?;
    let mut store: Vec<Arc<Cert>> = Vec::new();
    for root in roots.iter().filter_map(|der| Cert::parse_shared(der)) {
        if !store.iter().any(|c| c.same(&root)) {
            store.push(root);
        }
    }
    match *flavor {
        Flavor::OpenSsl {
            strict_partial,
            check_common_name,
        } => verify_openssl(
            strict_partial,
            check_common_name,
            &presented,
            &store,
            host,
            now,
        ),
        Flavor::BoringSsl { partial_chain } => {
            verify_boringssl(partial_chain, &presented, &store, host, now)
        }
    }
}

fn parse_presented(presented: &[&[u8]]) -> Result<Vec<Arc<Cert>>, Outcome> {
    if presented.is_empty() {
        return Err(unparsable(0, &NO_CERTIFICATE.text()));
    }
    presented
        .iter()
        .enumerate()
        .map(|(i, der)| Cert::parse_shared(der).ok_or_else(|| unparsable(i, &UNPARSABLE.text())))
        .collect()
}

fn unparsable(depth: usize, why: &str) -> Outcome {
    Outcome {
        kind: Kind::Unparsable,
        code: 0,
        reason: why.to_string(),
        depth,
        text: why.to_string(),
    }
}

fn verify_openssl(
    strict_partial: bool,
    check_common_name: bool,
    presented: &[Arc<Cert>],
    store: &[Arc<Cert>],
    host: &str,
    now: i64,
) -> Result<(), Outcome> {
    // _ssl.c _ssl_configure_hostname, before any connection.
    if host.starts_with('.') {
        let text = BAD_SERVER_HOSTNAME.text();
        return Err(Outcome {
            kind: Kind::BadHostname,
            code: 0,
            reason: text.clone(),
            depth: 0,
            text,
        });
    }
    let target = host::Target::of(host);
    let params = ossl::Params {
        strict: strict_partial,
        partial_chain: strict_partial,
        target: (!host.is_empty()).then_some(&target),
        host_flags: host::HostFlags {
            no_partial_wildcards: true,
            never_check_subject: !check_common_name,
        },
    };
    ossl::verify(&params, presented, store, now).map_err(|failure| {
        // _ssl.c fill_and_set_sslerror words the two mismatches itself.
        let reason = match failure.code {
            62 => HOSTNAME_MISMATCH.fill(&[host]),
            64 => IP_ADDRESS_MISMATCH.fill(&[host]),
            code => text::openssl(code).to_string(),
        };
        Outcome {
            kind: Kind::Verify,
            code: failure.code,
            text: reason.clone(),
            reason,
            depth: failure.depth,
        }
    })
}

fn verify_boringssl(
    partial_chain: bool,
    presented: &[Arc<Cert>],
    store: &[Arc<Cert>],
    host: &str,
    now: i64,
) -> Result<(), Outcome> {
    let handshake_failure = |kind, code, depth, queue: &str| {
        let reason = text::boringssl(code).to_string();
        Outcome {
            kind,
            code,
            text: HANDSHAKE_FAILED.fill(&[queue, &reason]),
            reason,
            depth,
        }
    };
    let leaf = &presented[0];
    if !bssl::leaf_key_usage_ok(leaf) {
        return Err(handshake_failure(
            Kind::LeafKeyUsage,
            BORINGSSL_INVALID_CALL,
            0,
            KEY_USAGE_BIT_INCORRECT,
        ));
    }
    bssl::verify(partial_chain, presented, store, now).map_err(|failure| {
        handshake_failure(
            Kind::Verify,
            failure.code,
            failure.depth,
            failure.queue.unwrap_or(CERTIFICATE_VERIFY_FAILED),
        )
    })?;
    if !host.is_empty() && !host::grpc_hostname_verifier(leaf, host) {
        let reason = HOSTNAME_CHECK_FAILED;
        return Err(Outcome {
            kind: Kind::Hostname,
            code: 0,
            reason: reason.into(),
            depth: 0,
            text: VERIFIER_FAILED.fill(&[reason]),
        });
    }
    Ok(())
}

/// grpcio's per-call check of the call's `:authority` against the leaf
/// (`ssl_utils.cc SslCheckCallHost`): every SAN entry, `*.` wildcards only over two or
/// more labels, the CN only without any SAN. gRPC skips it when
/// `grpc.ssl_target_name_override` is set and the authority is the channel's target.
pub fn check_call_host(leaf: &[u8], authority: &str) -> Result<(), Outcome> {
    let leaf = parse_presented(&[leaf])?;
    if host::grpc_call_host_matches(&leaf[0], authority) {
        return Ok(());
    }
    let text = CALL_HOST_MISMATCH.text();
    Err(Outcome {
        kind: Kind::CallHost,
        code: 0,
        reason: text.clone(),
        depth: 0,
        text,
    })
}

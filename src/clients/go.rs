//! Go's crypto/x509 `Verify` with a given root pool, and the errors as Go and its TLS
//! clients print them: flytectl on Linux, and on any OS once caCertFilePath is set.
//! tests/it/client_proof.rs checks these predictions against a real Go client.

use crate::chain::{rfc3339, Cert};
use crate::findings::FindingId;
use crate::target::Host;
use crate::trust::TrustStore;

use super::context::{Channel, ClientContext, ClientName, ClientVerdict, Refusal};
use super::hostname::san_matches;
use super::walk::{
    exceeds_path_len, walk_checking, Candidate, Hint, IssuerChecks, Walk, TRUST_CAUSES,
};

/// Go's `Verify` against `pool` alone: Ok, or the x509 error Go returns first (validity,
/// then host name, then the chain, then the server-auth EKU).
pub(super) fn verify(ctx: &ClientContext<'_>, pool: &[&TrustStore]) -> Result<(), Refusal> {
    let leaf = ctx.leaf();
    // Verify's very first check.
    if !leaf.info.unknown_critical_extensions.is_empty() {
        return Err(ctx.refusal(
            "x509: unhandled critical extension",
            &[FindingId::UnknownCriticalExtension],
        ));
    }
    if let Some(err) = time_error(leaf, ctx.at) {
        return Err(ctx.refusal(err, &[FindingId::Expired, FindingId::NotYetValid]));
    }
    if let Some(host) = ctx.hostname {
        if let Some(err) = hostname_error(leaf, host) {
            return Err(ctx.refusal(
                err,
                &[
                    FindingId::HostnameMismatch,
                    FindingId::CnOnly,
                    FindingId::IngressDefaultCertificate,
                ],
            ));
        }
    }
    match walk_checking(ctx, pool, &GoIssuerChecks { at: ctx.at }) {
        Walk::Invalid(err) => Err(ctx.refusal(err, TRUST_CAUSES)),
        Walk::Untrusted { hint, .. } => {
            let mut text = "x509: certificate signed by unknown authority".to_string();
            if let Some(Hint { error, candidate }) = hint {
                text.push_str(&format!(
                    " (possibly because of {error:?} while trying to verify candidate authority certificate {candidate:?})"
                ));
            }
            Err(ctx.refusal(text, TRUST_CAUSES))
        }
        Walk::LeafAnchor | Walk::Anchored => {
            let facts = &leaf.info.facts;
            if facts.eku_present && !facts.eku_server_auth && !facts.eku_any {
                return Err(ctx.refusal(
                    "x509: certificate specifies an incompatible key usage",
                    &[FindingId::MissingServerAuthEku],
                ));
            }
            Ok(())
        }
    }
}

/// flytectl's verdict on `channel` from an x509 outcome (Go's own, or Apple's as Go maps
/// it): the error wrapped as Go's TLS client and grpc-go or net/http print it.
pub(super) fn verdict(
    ctx: &ClientContext<'_>,
    client: ClientName,
    channel: Channel,
    outcome: Result<(), Refusal>,
) -> ClientVerdict {
    let outcome = outcome.map_err(|refusal| {
        refusal.reworded(|x509| {
            let tls = format!("tls: failed to verify certificate: {x509}");
            match channel {
                Channel::OauthHttp => format!("Post {:?}: {tls}", ctx.token_url()),
                _ => format!("transport: authentication handshake failed: {tls}"),
            }
        })
    });
    ClientVerdict::new(client, channel, outcome, None)
}

/// Go's checks on a candidate issuer (crypto/x509's buildChains, CheckSignatureFrom and
/// isValid), judged at `at`.
struct GoIssuerChecks {
    at: i64,
}

impl IssuerChecks for GoIssuerChecks {
    fn refuse_anchor_signature(&self, cert: &Cert, anchor: &str) -> Option<Hint> {
        insecure_algorithm_error(cert).map(|error| Hint {
            error,
            candidate: anchor_hint_name(anchor),
        })
    }

    fn check_candidate(&self, step: usize, cert: &Cert, issuer: &Cert) -> Candidate {
        // CheckSignatureFrom fails: Go remembers it as the unknown-authority hint.
        if let Some(error) = insecure_algorithm_error(cert) {
            return Candidate::Refused(Hint {
                error,
                candidate: hint_name(issuer),
            });
        }
        let issuer_facts = &issuer.info.facts;
        if !issuer.info.is_ca && (issuer_facts.version == 3 || issuer_facts.has_basic_constraints) {
            return Candidate::Refused(Hint {
                error: "x509: invalid signature: parent certificate cannot sign this kind of certificate".into(),
                candidate: hint_name(issuer),
            });
        }
        // The candidate's isValid fails: Go returns that error itself.
        if !issuer.info.unknown_critical_extensions.is_empty() {
            return Candidate::Invalid("x509: unhandled critical extension".into());
        }
        if !issuer.info.is_ca {
            return Candidate::Invalid(
                "x509: certificate is not authorized to sign other certificates".into(),
            );
        }
        if let Some(error) = time_error(issuer, self.at) {
            return Candidate::Invalid(error);
        }
        if exceeds_path_len(issuer, step) {
            return Candidate::Invalid(
                "x509: too many intermediates for path length constraint".into(),
            );
        }
        Candidate::Accepted
    }
}

/// Go's HostnameError text, or None when `host` matches the leaf.
pub(super) fn hostname_error(leaf: &Cert, host: &Host) -> Option<String> {
    if san_matches(leaf, host) {
        return None;
    }
    let info = &leaf.info;
    let host_text = host.to_string();
    if !info.facts.has_san_extension
        && info
            .common_name
            .as_deref()
            .is_some_and(|cn| cn.eq_ignore_ascii_case(&host_text))
    {
        return Some(
            "x509: certificate relies on legacy Common Name field, use SANs instead".into(),
        );
    }
    let valid = match host {
        Host::Ip(_) => {
            if info.ip_addresses.is_empty() {
                return Some(format!(
                    "x509: cannot validate certificate for {host_text} because it doesn't contain any IP SANs"
                ));
            }
            crate::chain::name_list(&info.ip_addresses)
        }
        Host::Name(_) => crate::chain::name_list(&info.dns_names),
    };
    if valid.is_empty() {
        return Some(format!(
            "x509: certificate is not valid for any names, but wanted to match {host_text}"
        ));
    }
    Some(format!(
        "x509: certificate is valid for {valid}, not {host_text}"
    ))
}

/// Go's expiry detail for one certificate at `at`, if it is outside its validity.
fn time_error(cert: &Cert, at: i64) -> Option<String> {
    let facts = &cert.info.facts;
    if at < facts.not_before {
        Some(format!(
            "x509: certificate has expired or is not yet valid: current time {} is before {}",
            rfc3339(at),
            cert.info.not_before
        ))
    } else if at > facts.not_after {
        Some(format!(
            "x509: certificate has expired or is not yet valid: current time {} is after {}",
            rfc3339(at),
            cert.info.not_after
        ))
    } else {
        None
    }
}

/// Go's name for a signature algorithm in InsecureAlgorithmError.
fn insecure_algorithm(cert: &Cert) -> Option<&'static str> {
    let alg = cert.info.signature_algorithm.to_ascii_lowercase();
    match cert.info.facts.weak_hash? {
        "SHA-1" if alg.contains("ecdsa") => Some("ECDSA-SHA1"),
        "SHA-1" if alg.contains("dsa") && !alg.contains("rsa") => Some("DSA-SHA1"),
        "SHA-1" => Some("SHA1-RSA"),
        "MD5" => Some("MD5-RSA"),
        "MD2" => Some("MD2-RSA"),
        _ => None,
    }
}

/// Go's InsecureAlgorithmError text when `cert` is signed with a hash Go refuses.
fn insecure_algorithm_error(cert: &Cert) -> Option<String> {
    insecure_algorithm(cert).map(|alg| {
        let overridable = matches!(alg, "SHA1-RSA" | "ECDSA-SHA1");
        format!(
            "x509: cannot verify signature: insecure algorithm {alg}{}",
            if overridable {
                " (temporarily override with GODEBUG=x509sha1=1)"
            } else {
                ""
            }
        )
    })
}

/// Go's name for a candidate in its "possibly because of" hint: CN, else the first O,
/// else the serial. Go's own rule, not CertInfo::display_name (Apple's texts, findings).
fn hint_name(cert: &Cert) -> String {
    if let Some(cn) = cert.info.common_name.as_deref().filter(|cn| !cn.is_empty()) {
        return cn.to_string();
    }
    if let Some(org) = subject_attribute(&cert.info.subject, "O") {
        return org.to_string();
    }
    format!("serial:{}", decimal_from_hex(&cert.info.serial))
}

/// `hint_name` for a pool anchor, known only by its subject: its CN, else the subject.
fn anchor_hint_name(subject: &str) -> String {
    subject_attribute(subject, "CN")
        .unwrap_or(subject)
        .to_string()
}

/// The first value of attribute `key` in a subject as x509-parser prints it ("CN=a, O=b").
fn subject_attribute<'a>(subject: &'a str, key: &str) -> Option<&'a str> {
    subject
        .split(", ")
        .find_map(|part| part.strip_prefix(key)?.strip_prefix('='))
}

/// A serial number's hex digits in decimal, as Go prints a big.Int.
fn decimal_from_hex(hex: &str) -> String {
    let mut digits: Vec<u8> = vec![0]; // little-endian base-10
    for c in hex.chars() {
        let mut carry = c.to_digit(16).unwrap_or(0);
        for d in digits.iter_mut() {
            let value = u32::from(*d) * 16 + carry;
            *d = (value % 10) as u8;
            carry = value / 10;
        }
        while carry > 0 {
            digits.push((carry % 10) as u8);
            carry /= 10;
        }
    }
    let text: String = digits.iter().rev().map(|d| char::from(b'0' + d)).collect();
    let trimmed = text.trim_start_matches('0');
    if trimmed.is_empty() {
        "0".into()
    } else {
        trimmed.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_serial_names_are_decimal() {
        assert_eq!(decimal_from_hex("00ff"), "255");
        assert_eq!(decimal_from_hex("0100"), "256");
        assert_eq!(decimal_from_hex("0"), "0");
        assert_eq!(
            decimal_from_hex("ffffffffffffffffffff"),
            "1208925819614629174706175"
        );
    }
}

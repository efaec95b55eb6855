//! CRLs (RFC 5280 5): the list at a certificate's distribution point, read as the
//! clients that use CRLs read it — issued by the certificate's issuer (same name, its key
//! verifies the signature), current, and listing the serial or not.

use x509_parser::prelude::FromDer;
use x509_parser::revocation_list::CertificateRevocationList;

use super::{CrlResult, Issuer, SignatureCheck};
use crate::chain::{rfc3339, Cert};

/// Largest CRL read. Most are kilobytes; some public CAs' run to tens of MiB, which no
/// client downloads per connection: larger ones are reported (`crl-too-large`), not read.
pub const MAX_CRL_BYTES: usize = 10 * 1024 * 1024;

/// Judges the CRL `body` fetched from `url` for `cert`.
pub fn evaluate(body: &[u8], url: &str, cert: &Cert, issuer: &Issuer, now: i64) -> CrlResult {
    let mut result = CrlResult {
        url: url.to_string(),
        answered: true,
        bytes: Some(body.len()),
        ..CrlResult::default()
    };
    if let Err(problem) = judge(body, cert, issuer, now, &mut result) {
        result.error = Some(problem);
    }
    result
}

fn judge(
    body: &[u8],
    cert: &Cert,
    issuer: &Issuer,
    now: i64,
    result: &mut CrlResult,
) -> Result<(), String> {
    // DER, as RFC 5280 asks; some servers send PEM.
    let pem;
    let der = if body.starts_with(b"-----BEGIN") {
        pem = x509_parser::pem::parse_x509_pem(body)
            .map_err(|e| format!("not a CRL (PEM that does not parse: {e})"))?
            .1;
        &pem.contents[..]
    } else {
        body
    };
    let (_, crl) =
        CertificateRevocationList::from_der(der).map_err(|e| format!("not a CRL ({e})"))?;
    if crl.issuer().as_raw() != cert.info.facts.issuer_der.as_slice() {
        return Err(format!(
            "it is the CRL of \"{}\", not of the certificate's issuer",
            crl.issuer()
        ));
    }
    let this_update = crl.last_update().timestamp();
    let next_update = crl.next_update().map(|t| t.timestamp());
    result.this_update = Some(rfc3339(this_update));
    result.next_update = next_update.map(rfc3339);
    result.next_update_unix = next_update;
    result.entries = Some(crl.iter_revoked_certificates().count());
    let (_, spki) = x509_parser::x509::SubjectPublicKeyInfo::from_der(&issuer.spki_der)
        .map_err(|_| "the issuer's key does not parse")?;
    result.signature = Some(match crl.verify_signature(&spki) {
        Ok(()) => SignatureCheck::Valid,
        Err(x509_parser::error::X509Error::SignatureVerificationError) => SignatureCheck::Invalid,
        Err(_) => SignatureCheck::Unverifiable,
    });
    if result.signature == Some(SignatureCheck::Invalid) {
        return Err("its signature does not verify with the issuer's key".into());
    }
    if this_update > now + super::ocsp::CLOCK_SKEW_SECONDS {
        return Err(format!(
            "its thisUpdate ({}) is in the future",
            rfc3339(this_update)
        ));
    }
    result.stale = next_update.is_some_and(|next| next + super::ocsp::CLOCK_SKEW_SECONDS < now);
    if let Some(entry) = crl
        .iter_revoked_certificates()
        .find(|entry| entry.raw_serial() == cert.info.facts.serial_der.as_slice())
    {
        result.listed = true;
        result.revoked_at = Some(rfc3339(entry.revocation_date.timestamp()));
        result.reason = entry
            .reason_code()
            .map(|(_, code)| super::ocsp::reason_name(code.0).to_string());
    }
    Ok(())
}

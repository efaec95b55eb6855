//! AIA fetching: when a server leaves out an intermediate, Chrome and macOS download it
//! from the caIssuers URL in the Authority Information Access extension of the last
//! certificate sent; Go, OpenSSL and grpcio do not ("works in the browser and on my Mac,
//! fails in CI"). certready fetches as they do, bounded, and says what it got from where.
//!
//! What the two fetchers do, from their sources:
//! - Chrome (net/cert/internal/cert_issuer_source_aia.cc, net/cert_net/
//!   cert_net_fetcher_url_request.cc): http:// only, for the URL and for every redirect;
//!   follows redirects (URLRequest's limit, 20); answers other than 200 fail; at most
//!   64 KiB of body; 10 s per fetch; up to 5 URLs per certificate; the body is read as
//!   DER, then a PKCS#7 "certs-only" message, then PEM.
//! - Apple (trustd's SecCAIssuerRequest.m, TrustURLSessionDelegate.m): http:// only;
//!   follows no redirect ("The old code didn't allow re-direction, so we won't either");
//!   up to 3 URLs per certificate; DER, then certs-only CMS, then PEM; keeps only
//!   certificates whose subject is the requester's issuer.

use std::time::Instant;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use x509_parser::asn1_rs::{Any, Class, FromBer, Tag};

use super::{http, ProbeOptions};
use crate::chain::{self, Cert};

/// Largest answer read. Chrome's limit (kMaxResponseSizeInBytesForAia): an intermediate is
/// 1–2 KiB and a PKCS#7 bundle of a few a handful more, so 64 KiB fits every real answer
/// while a hostile or misconfigured server (a 100 MB file) costs nothing.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Certificates fetched one after the other (issuer of the issuer …). Real chains need one,
/// rarely two; three covers a cross-signed root too, and bounds a hostile series of URLs.
pub const MAX_HOPS: usize = 3;

/// caIssuers URLs tried per certificate: Apple's MAX_TASKS (Chrome tries up to 5).
pub const MAX_URLS_PER_CERT: usize = 3;

/// One issuer certificate fetched from a caIssuers URL.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub cert: Cert,
    /// The caIssuers URL the certificate it issued names.
    pub url: String,
    /// Where the answer finally came from, when the URL redirected.
    pub redirected_to: Option<String>,
}

/// What the AIA step fetched, and a line for every URL that gave nothing usable.
#[derive(Debug, Clone, Default)]
pub struct AiaOutcome {
    /// Issuers in the order fetched: the first issued the last sent certificate.
    pub fetched: Vec<Fetched>,
    pub notes: Vec<String>,
}

/// Follows caIssuers URLs up from `top` (the last sent certificate on the leaf's path):
/// fetches its issuer, then that one's while it is not `anchored` (its issuer is a trust
/// anchor) nor self-signed, at most [`MAX_HOPS`] times, each URL once. Every request is
/// bounded by the run's timeout (connect and whole body), the whole step by
/// [`MAX_HOPS`] times it.
pub async fn fetch_issuers(
    top: &Cert,
    options: &ProbeOptions,
    anchored: impl Fn(&Cert) -> bool,
) -> AiaOutcome {
    let mut outcome = AiaOutcome::default();
    let mut tried: Vec<String> = Vec::new();
    let deadline = Instant::now() + options.timeout * MAX_HOPS as u32;
    let mut requester = top.clone();
    for hop in 0..MAX_HOPS {
        if requester.info.ca_issuers_urls.is_empty() {
            if hop > 0 {
                outcome.notes.push(format!(
                    "the fetched \"{}\" names no caIssuers URL for its issuer \"{}\": fetching stops there",
                    requester.info.display_name(),
                    requester.info.issuer
                ));
            }
            break;
        }
        let Some(found) = fetch_issuer_of(
            &requester,
            options,
            deadline,
            &mut tried,
            &mut outcome.notes,
        )
        .await
        else {
            break;
        };
        let known = outcome
            .fetched
            .iter()
            .map(|f| &f.cert.der)
            .chain([&top.der, &requester.der])
            .any(|der| *der == found.cert.der);
        if known {
            outcome.notes.push(format!(
                "{}: served \"{}\", already on the path: a loop of caIssuers URLs",
                found.url, found.cert.info.subject
            ));
            break;
        }
        if let Some(to) = &found.redirected_to {
            outcome.notes.push(format!(
                "{}: redirected to {to}: Chrome follows the redirect, macOS does not",
                found.url
            ));
        }
        let done = found.cert.info.self_signed || anchored(&found.cert);
        requester = found.cert.clone();
        outcome.fetched.push(found);
        if done {
            break;
        }
        if hop + 1 == MAX_HOPS {
            outcome.notes.push(format!(
                "stopped after fetching {MAX_HOPS} certificates: \"{}\" still has no trusted issuer",
                requester.info.subject
            ));
        }
    }
    outcome
}

/// Tries `requester`'s caIssuers URLs in order until one serves its issuer.
async fn fetch_issuer_of(
    requester: &Cert,
    options: &ProbeOptions,
    deadline: Instant,
    tried: &mut Vec<String>,
    notes: &mut Vec<String>,
) -> Option<Fetched> {
    for url in requester
        .info
        .ca_issuers_urls
        .iter()
        .take(MAX_URLS_PER_CERT)
    {
        if tried.contains(url) {
            notes.push(format!("{url}: already fetched once; not again"));
            continue;
        }
        tried.push(url.clone());
        if !url
            .get(..7)
            .is_some_and(|s| s.eq_ignore_ascii_case("http://"))
        {
            notes.push(format!(
                "{url}: not fetched: only http:// caIssuers URLs are fetched, as Chrome and macOS do (fetching over https would need a verified chain to complete one)"
            ));
            continue;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            notes.push(format!(
                "{url}: not fetched: the AIA step's time is used up"
            ));
            break;
        }
        let limit = options.timeout.min(left);
        let request = http::Request::get(
            url,
            MAX_BODY_BYTES,
            "more than any certificate (Chrome's limit)",
        );
        let answer = match tokio::time::timeout(limit, http::fetch(&request, options, limit)).await
        {
            Err(_) => Err(format!(
                "timed out after {}",
                humantime::format_duration(limit)
            )),
            Ok(answer) => answer,
        };
        let answer = match answer {
            Ok(answer) => answer,
            Err(why) => {
                notes.push(format!("{url}: {why}"));
                continue;
            }
        };
        let ders = match decode(&answer.body) {
            Ok(ders) => ders,
            Err(why) => {
                notes.push(format!("{url}: {why}"));
                continue;
            }
        };
        let (certs, _) = chain::parse_certificates(&ders);
        match certs.iter().find(|c| requester.issued_by(c)) {
            Some(issuer) => {
                return Some(Fetched {
                    cert: issuer.clone(),
                    url: url.clone(),
                    redirected_to: answer.redirected_to,
                })
            }
            None => {
                let served: Vec<String> = certs
                    .iter()
                    .map(|c| format!("\"{}\"", c.info.subject))
                    .collect();
                notes.push(format!(
                    "{url}: served a certificate that is not the issuer of \"{}\" ({})",
                    requester.info.display_name(),
                    if served.is_empty() {
                        "none that parses".to_string()
                    } else {
                        chain::name_list(&served)
                    }
                ));
            }
        }
    }
    None
}

/// The certificates in an AIA answer, read as Chrome and Apple do: one DER certificate,
/// else a PKCS#7 "certs-only" message (RFC 5280 4.2.2.1, `application/pkcs7-mime`), else
/// PEM (some CAs serve it, against the RFC).
pub fn decode(body: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    if body.is_empty() {
        return Err("served an empty answer".into());
    }
    if chain::parse_one(0, body).is_ok() {
        return Ok(vec![CertificateDer::from(body.to_vec())]);
    }
    if let Some(certs) = pkcs7_certificates(body).filter(|c| !c.is_empty()) {
        return Ok(certs);
    }
    let pem: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(body)
        .map_while(Result::ok)
        .collect();
    if !pem.is_empty() {
        return Ok(pem);
    }
    Err(format!(
        "served {} bytes that are no certificate (neither DER, PKCS#7 nor PEM)",
        body.len()
    ))
}

/// The certificates of a PKCS#7 / CMS SignedData (RFC 2315 9.1, RFC 5652 5.1), BER or DER:
///
/// ```text
/// ContentInfo ::= SEQUENCE { contentType OID (1.2.840.113549.1.7.2),
///                            content [0] EXPLICIT SignedData }
/// SignedData ::= SEQUENCE { version INTEGER, digestAlgorithms SET,
///                           encapContentInfo SEQUENCE,
///                           certificates [0] IMPLICIT SET OF Certificate OPTIONAL, … }
/// ```
///
/// Read with asn1-rs (already here through x509-parser) rather than a CMS crate: only the
/// certificates are wanted, and a "certs-only" message has nothing else that matters
/// (CRLs, signer infos and inner content are ignored, as Chrome ignores them).
fn pkcs7_certificates(body: &[u8]) -> Option<Vec<CertificateDer<'static>>> {
    const SIGNED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
    let (_, content_info) = Any::from_ber(body).ok()?;
    if content_info.tag() != Tag::Sequence {
        return None;
    }
    let (rest, content_type) = Any::from_ber(content_info.data).ok()?;
    if content_type.tag() != Tag::Oid || content_type.data != SIGNED_DATA {
        return None;
    }
    let (_, explicit) = Any::from_ber(rest).ok()?;
    if explicit.class() != Class::ContextSpecific || explicit.tag() != Tag(0) {
        return None;
    }
    let (_, signed_data) = Any::from_ber(explicit.data).ok()?;
    if signed_data.tag() != Tag::Sequence {
        return None;
    }
    // version, digestAlgorithms, encapContentInfo, then the optional [0] certificates.
    let mut fields = signed_data.data;
    for _ in 0..3 {
        fields = Any::from_ber(fields).ok()?.0;
    }
    let (_, certificates) = Any::from_ber(fields).ok()?;
    if certificates.class() != Class::ContextSpecific || certificates.tag() != Tag(0) {
        // A SignedData without certificates.
        return Some(Vec::new());
    }
    let mut ders = Vec::new();
    let mut items = certificates.data;
    while !items.is_empty() {
        let (rest, _) = Any::from_ber(items).ok()?;
        let element = &items[..items.len() - rest.len()];
        ders.push(CertificateDer::from(element.to_vec()));
        items = rest;
    }
    Some(ders)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::{self, Spec};

    use crate::der::tlv;

    const OID_SIGNED_DATA: [u8; 11] = [
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02,
    ];

    /// A certs-only SignedData as `openssl crl2pkcs7 -nocrl` writes it.
    fn certs_only(certs: &[&[u8]]) -> Vec<u8> {
        let data_oid = tlv(
            0x06,
            &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01],
        );
        let mut signed = tlv(0x02, &[1]);
        signed.extend(tlv(0x31, &[]));
        signed.extend(tlv(0x30, &data_oid));
        signed.extend(tlv(0xa0, &certs.concat()));
        signed.extend(tlv(0x31, &[]));
        let mut info = OID_SIGNED_DATA.to_vec();
        info.extend(tlv(0xa0, &tlv(0x30, &signed)));
        tlv(0x30, &info)
    }

    fn two_certs() -> (Vec<u8>, Vec<u8>) {
        let root = lab::self_signed(&Spec::ca("Unit Root")).unwrap();
        let intermediate = lab::issue(&Spec::ca("Unit Issuing CA"), &root).unwrap();
        (intermediate.der.to_vec(), root.der.to_vec())
    }

    #[test]
    fn reads_der_pkcs7_and_pem() {
        let (intermediate, root) = two_certs();
        assert_eq!(
            decode(&intermediate).unwrap(),
            vec![intermediate.clone().into()]
        );
        let bundle = certs_only(&[&intermediate, &root]);
        let certs = decode(&bundle).unwrap();
        assert_eq!(certs.len(), 2);
        assert_eq!(certs[0].as_ref(), intermediate.as_slice());
        assert_eq!(certs[1].as_ref(), root.as_slice());
        let pem = CertificateDer::from(intermediate.clone());
        let text = format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, pem.as_ref())
        );
        assert_eq!(decode(text.as_bytes()).unwrap(), vec![pem]);
    }

    #[test]
    fn reads_the_pkcs7_openssl_writes() {
        let p7c = include_bytes!("../../testdata/aia-int.p7c");
        let pem = include_bytes!("../../testdata/aia-int.pem");
        let expected = CertificateDer::from_pem_slice(pem).unwrap();
        assert_eq!(decode(p7c).unwrap(), vec![expected]);
    }

    #[test]
    fn reads_pkcs7_with_indefinite_lengths() {
        let (intermediate, _) = two_certs();
        let definite = certs_only(&[&intermediate]);
        // The same message with every constructed wrapper re-encoded in BER's
        // indefinite form (0x80 … 00 00), as some CAs' tools write it.
        let signed_data = {
            let (_, info) = Any::from_ber(&definite).unwrap();
            let (rest, _) = Any::from_ber(info.data).unwrap();
            let (_, explicit) = Any::from_ber(rest).unwrap();
            let (_, sd) = Any::from_ber(explicit.data).unwrap();
            sd.data.to_vec()
        };
        let mut ber = vec![0x30, 0x80];
        ber.extend_from_slice(&OID_SIGNED_DATA);
        ber.extend([0xa0, 0x80, 0x30, 0x80]);
        ber.extend(signed_data);
        ber.extend([0, 0, 0, 0, 0, 0]);
        let certs = decode(&ber).unwrap();
        assert_eq!(certs, vec![CertificateDer::from(intermediate)]);
    }

    #[test]
    fn refuses_garbage_in_words() {
        for body in [
            &b""[..],
            b"<html>404</html>",
            &[0x30, 0x82, 0xff, 0xff, 1, 2, 3],
            &[0x30, 0x03, 0x06, 0x01, 0x00],
            &[0xa0; 40],
        ] {
            let why = decode(body).unwrap_err();
            assert!(why.starts_with("served"), "{why}");
        }
        // A ContentInfo of some other type, and a SignedData without certificates.
        let mut other = certs_only(&[]);
        other[12] = 0x03; // 1.2.840.113549.1.7.3, envelopedData
        assert!(decode(&other).is_err());
        assert!(decode(&certs_only(&[])).is_err());
    }
}

//! OCSP (RFC 6960): the request certready sends an issuer's responder, and the judgement
//! of an answer — stapled in the handshake or fetched — for one certificate: that it is
//! a successful basic response about this very certificate (CertID: issuer name and key
//! hashes, serial), signed by the issuer or by a responder the issuer delegated to
//! (id-kp-OCSPSigning, issued directly by the issuer), and current (thisUpdate not in the
//! future, nextUpdate not past; OpenSSL allows five minutes of clock skew, so do we).

use der::asn1::{Null, OctetString};
use der::{Decode, Encode, Reader};
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::AlgorithmIdentifierOwned;
use x509_ocsp::{
    BasicOcspResponse, CertId, CertStatus, OcspRequest, OcspResponse, OcspResponseStatus, Request,
    ResponderId, TbsRequest,
};
use x509_parser::prelude::FromDer;

use super::{CertState, Issuer, OcspResult, SignatureCheck};
use crate::chain::Cert;
use crate::verifiers::signature::{self, SignatureAlgorithm};

/// Clock skew allowed on thisUpdate and nextUpdate (OpenSSL's MAX_VALIDITY_PERIOD).
pub const CLOCK_SKEW_SECONDS: i64 = 5 * 60;

/// Largest OCSP answer read: a response is a few hundred bytes to a few KiB (with a
/// delegated responder's certificate).
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;

const SHA1: &str = "1.3.14.3.2.26";
const SHA256: &str = "2.16.840.1.101.3.4.2.1";
const BASIC_RESPONSE: &str = "1.3.6.1.5.5.7.48.1.1";
const OCSP_SIGNING: &str = "OCSPSigning";

fn digest(algorithm: &str, data: &[u8]) -> Option<Vec<u8>> {
    let algorithm = match algorithm {
        SHA1 => &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY,
        SHA256 => &aws_lc_rs::digest::SHA256,
        _ => return None,
    };
    Some(aws_lc_rs::digest::digest(algorithm, data).as_ref().to_vec())
}

/// The BIT STRING content of a SubjectPublicKeyInfo: what OCSP's key hashes hash.
fn key_bits(spki_der: &[u8]) -> Option<Vec<u8>> {
    x509_parser::x509::SubjectPublicKeyInfo::from_der(spki_der)
        .ok()
        .map(|(_, spki)| spki.subject_public_key.data.to_vec())
}

/// The DER OCSPRequest for `cert` (CertID with SHA-1, as every responder understands).
pub fn request(cert: &Cert, issuer: &Issuer) -> Result<Vec<u8>, String> {
    let key = key_bits(&issuer.spki_der).ok_or("the issuer's key does not parse")?;
    let name_hash = digest(SHA1, &cert.info.facts.issuer_der).unwrap_or_default();
    let key_hash = digest(SHA1, &key).unwrap_or_default();
    let serial = SerialNumber::new(&cert.info.facts.serial_der).map_err(|e| e.to_string())?;
    let req_cert = CertId {
        hash_algorithm: AlgorithmIdentifierOwned {
            oid: der::oid::ObjectIdentifier::new_unwrap(SHA1),
            parameters: Some(Null.into()),
        },
        issuer_name_hash: OctetString::new(name_hash).map_err(|e| e.to_string())?,
        issuer_key_hash: OctetString::new(key_hash).map_err(|e| e.to_string())?,
        serial_number: serial,
    };
    OcspRequest {
        tbs_request: TbsRequest {
            version: Default::default(),
            requestor_name: None,
            request_list: vec![Request {
                req_cert,
                single_request_extensions: None,
            }],
            request_extensions: None,
        },
        optional_signature: None,
    }
    .to_der()
    .map_err(|e| e.to_string())
}

/// Whether `id` names `cert` issued by `issuer`, hashing as `id` says.
fn names(id: &CertId, cert: &Cert, issuer_key: &[u8]) -> bool {
    let algorithm = id.hash_algorithm.oid.to_string();
    let (Some(name), Some(key)) = (
        digest(&algorithm, &cert.info.facts.issuer_der),
        digest(&algorithm, issuer_key),
    ) else {
        return false;
    };
    id.issuer_name_hash.as_bytes() == name
        && id.issuer_key_hash.as_bytes() == key
        && id.serial_number.as_bytes() == cert.info.facts.serial_der.as_slice()
}

fn time(t: &x509_ocsp::OcspGeneralizedTime) -> i64 {
    t.0.to_unix_duration().as_secs() as i64
}

/// The raw tbsResponseData of a BasicOCSPResponse: the signed bytes, as sent.
fn signed_part(basic_der: &[u8]) -> Option<&[u8]> {
    let mut reader = der::SliceReader::new(basic_der).ok()?;
    let outer = der::Header::decode(&mut reader).ok()?;
    if outer.tag != der::Tag::Sequence {
        return None;
    }
    let start: usize = u32::from(reader.position()) as usize;
    der::asn1::AnyRef::decode(&mut reader).ok()?;
    let end: usize = u32::from(reader.position()) as usize;
    basic_der.get(start..end)
}

/// Judges an OCSP answer about `cert`; `url` is where it came from (None: stapled).
pub fn evaluate(
    body: &[u8],
    url: Option<&str>,
    cert: &Cert,
    issuer: &Issuer,
    now: i64,
) -> OcspResult {
    let mut result = OcspResult {
        url: url.map(str::to_string),
        answered: true,
        ..OcspResult::default()
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
    result: &mut OcspResult,
) -> Result<(), String> {
    let response =
        OcspResponse::from_der(body).map_err(|e| format!("not an OCSP response ({e})"))?;
    if response.response_status != OcspResponseStatus::Successful {
        return Err(format!(
            "the responder answered {:?} instead of a status",
            response.response_status
        ));
    }
    let bytes = response
        .response_bytes
        .ok_or("a successful OCSP answer without a response")?;
    if bytes.response_type.to_string() != BASIC_RESPONSE {
        return Err(format!(
            "an OCSP response of type {}, not a basic response",
            bytes.response_type
        ));
    }
    let basic_der = bytes.response.as_bytes();
    let basic = BasicOcspResponse::from_der(basic_der)
        .map_err(|e| format!("the basic OCSP response does not parse ({e})"))?;
    let data = &basic.tbs_response_data;
    result.produced_at = Some(crate::chain::rfc3339(time(&data.produced_at)));
    let issuer_key = key_bits(&issuer.spki_der).ok_or("the issuer's key does not parse")?;
    let single = data
        .responses
        .iter()
        .find(|r| names(&r.cert_id, cert, &issuer_key))
        .ok_or_else(|| {
            format!(
                "the response is about other certificates ({} answer{}), not serial {}",
                data.responses.len(),
                if data.responses.len() == 1 { "" } else { "s" },
                cert.info.serial
            )
        })?;
    let this_update = time(&single.this_update);
    result.this_update = Some(crate::chain::rfc3339(this_update));
    result.this_update_unix = Some(this_update);
    let next_update = single.next_update.as_ref().map(time);
    result.next_update = next_update.map(crate::chain::rfc3339);
    result.next_update_unix = next_update;
    match &single.cert_status {
        CertStatus::Good(_) => result.status = Some(CertState::Good),
        CertStatus::Revoked(info) => {
            result.status = Some(CertState::Revoked);
            result.revoked_at = Some(crate::chain::rfc3339(time(&info.revocation_time)));
            result.reason = info
                .revocation_reason
                .map(|r| reason_name(r as u8).to_string());
        }
        CertStatus::Unknown(_) => result.status = Some(CertState::Unknown),
    }

    let (signer_spki, signer) = signer(&basic, &data.responder_id, issuer, &issuer_key, now)?;
    result.signer = Some(signer);
    let tbs =
        signed_part(basic_der).ok_or("the basic OCSP response's signed part does not parse")?;
    result.signature = Some(check_signature(
        &basic.signature_algorithm,
        tbs,
        basic.signature.raw_bytes(),
        &signer_spki,
    ));
    if result.signature == Some(SignatureCheck::Invalid) {
        return Err("its signature does not verify".into());
    }
    if this_update > now + CLOCK_SKEW_SECONDS {
        return Err(format!(
            "its thisUpdate ({}) is in the future",
            crate::chain::rfc3339(this_update)
        ));
    }
    result.stale = next_update.is_some_and(|next| next + CLOCK_SKEW_SECONDS < now);
    Ok(())
}

/// The SCT list (1.3.6.1.4.1.11129.2.4.5, TLS-encoded) of the basic response's answer
/// about `cert`, for Certificate Transparency (`crate::ct`); the SCTs' own signatures
/// authenticate them, so the response's is not needed.
pub fn sct_list(body: &[u8], cert: &Cert, issuer: &Issuer) -> Option<Vec<u8>> {
    const SCT_LIST: &str = "1.3.6.1.4.1.11129.2.4.5";
    let bytes = OcspResponse::from_der(body).ok()?.response_bytes?;
    let basic = BasicOcspResponse::from_der(bytes.response.as_bytes()).ok()?;
    let issuer_key = key_bits(&issuer.spki_der)?;
    let single = basic
        .tbs_response_data
        .responses
        .iter()
        .find(|r| names(&r.cert_id, cert, &issuer_key))?;
    let extension = single
        .single_extensions
        .as_ref()?
        .iter()
        .find(|e| e.extn_id.to_string() == SCT_LIST)?;
    OctetString::from_der(extension.extn_value.as_bytes())
        .ok()
        .map(|list| list.as_bytes().to_vec())
}

fn check_signature(
    algorithm: &AlgorithmIdentifierOwned,
    tbs: &[u8],
    signature_bytes: &[u8],
    spki_der: &[u8],
) -> SignatureCheck {
    let Ok(algorithm_der) = algorithm.to_der() else {
        return SignatureCheck::Unverifiable;
    };
    let Some(algorithm) = x509_parser::x509::AlgorithmIdentifier::from_der(&algorithm_der)
        .ok()
        .and_then(|(_, a)| SignatureAlgorithm::of_algorithm(&a))
    else {
        return SignatureCheck::Unverifiable;
    };
    let Ok((_, spki)) = x509_parser::x509::SubjectPublicKeyInfo::from_der(spki_der) else {
        return SignatureCheck::Unverifiable;
    };
    match signature::verify(algorithm, tbs, signature_bytes, &spki) {
        Ok(()) => SignatureCheck::Valid,
        Err(signature::Failure::Invalid) => SignatureCheck::Invalid,
        Err(signature::Failure::Unsupported) => SignatureCheck::Unverifiable,
    }
}

/// Who signed: the issuer itself, or a certificate in the response that the issuer
/// issued for OCSP signing. Returns its SubjectPublicKeyInfo and a description.
fn signer(
    basic: &BasicOcspResponse,
    responder: &ResponderId,
    issuer: &Issuer,
    issuer_key: &[u8],
    now: i64,
) -> Result<(Vec<u8>, String), String> {
    let matches = |name_der: &[u8], key: &[u8]| match responder {
        ResponderId::ByName(name) => name.to_der().is_ok_and(|d| d == name_der),
        ResponderId::ByKey(hash) => digest(SHA1, key).is_some_and(|h| h == hash.as_bytes()),
    };
    if matches(&issuer.name_der, issuer_key) {
        return Ok((issuer.spki_der.clone(), "the issuer".into()));
    }
    for candidate in basic.certs.iter().flatten() {
        let Ok(der) = candidate.to_der() else {
            continue;
        };
        let Ok(info) = crate::chain::parse_one(0, &der) else {
            continue;
        };
        let parsed = Cert::new(der.into(), info);
        let facts = &parsed.info.facts;
        let Some(key) = key_bits(&facts.spki_der) else {
            continue;
        };
        if !matches(&facts.subject_der, &key) {
            continue;
        }
        let name = parsed.info.display_name();
        if facts.issuer_der != issuer.name_der || !parsed.signed_by(&issuer.spki_der) {
            return Err(format!(
                "it is signed by \"{name}\", which the certificate's issuer did not issue"
            ));
        }
        let can_sign_ocsp = parsed
            .info
            .extended_key_usage
            .as_ref()
            .is_some_and(|eku| eku.iter().any(|e| e == OCSP_SIGNING));
        if !can_sign_ocsp {
            return Err(format!(
                "it is signed by \"{name}\", which lacks extendedKeyUsage OCSPSigning, so it may not answer for its issuer"
            ));
        }
        if now < facts.not_before || now > facts.not_after {
            return Err(format!(
                "it is signed by the responder certificate \"{name}\", which is not valid now"
            ));
        }
        return Ok((
            facts.spki_der.clone(),
            format!("the delegated responder \"{name}\""),
        ));
    }
    Err(
        "no certificate in the response matches its responder id, and the issuer did not sign it"
            .into(),
    )
}

/// The earliest nextUpdate of an OCSP answer's single responses (for caching it).
pub fn next_update(body: &[u8]) -> Option<i64> {
    let bytes = OcspResponse::from_der(body).ok()?.response_bytes?;
    let basic = BasicOcspResponse::from_der(bytes.response.as_bytes()).ok()?;
    basic
        .tbs_response_data
        .responses
        .iter()
        .filter_map(|r| r.next_update.as_ref().map(time))
        .min()
}

/// CRLReason (RFC 5280 5.3.1) in words.
pub fn reason_name(code: u8) -> &'static str {
    match code {
        0 => "unspecified",
        1 => "keyCompromise",
        2 => "cACompromise",
        3 => "affiliationChanged",
        4 => "superseded",
        5 => "cessationOfOperation",
        6 => "certificateHold",
        8 => "removeFromCRL",
        9 => "privilegeWithdrawn",
        10 => "aACompromise",
        _ => "unknown reason",
    }
}

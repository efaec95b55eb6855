//! SCTs as RFC 6962 §3.2–3.3 encode them, and the log's signature over them: the
//! TLS-encoded `SignedCertificateTimestampList`, each `SignedCertificateTimestamp` in it,
//! and the `digitally-signed` data the log signed (a precertificate entry for an embedded
//! SCT, the certificate itself for one delivered by TLS or OCSP).

use crate::verifiers::signature::{self, Hash, KeyType, SignatureAlgorithm};

/// One SCT as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sct {
    pub version: u8,
    pub log_id: [u8; 32],
    /// Milliseconds since the Unix epoch.
    pub timestamp: u64,
    pub extensions: Vec<u8>,
    /// TLS HashAlgorithm and SignatureAlgorithm codes (sha256 = 4; rsa = 1, ecdsa = 3).
    pub hash: u8,
    pub signature_algorithm: u8,
    pub signature: Vec<u8>,
}

fn u16_at(data: &[u8], at: usize) -> Option<usize> {
    Some(u16::from_be_bytes([*data.get(at)?, *data.get(at + 1)?]) as usize)
}

/// The SCTs of a `SignedCertificateTimestampList` (opaque, 2-byte length, holding
/// 2-byte-length entries); each entry is `Err` with its raw bytes when it does not
/// parse. `None` when the list itself is malformed.
pub fn parse_list(list: &[u8]) -> Option<Vec<Result<Sct, Vec<u8>>>> {
    let total = u16_at(list, 0)?;
    let body = list.get(2..)?;
    if body.len() != total {
        return None;
    }
    let mut out = Vec::new();
    let mut at = 0;
    while at < body.len() {
        let len = u16_at(body, at)?;
        let raw = body.get(at + 2..at + 2 + len)?;
        out.push(parse(raw).ok_or_else(|| raw.to_vec()));
        at += 2 + len;
    }
    Some(out)
}

/// One SerializedSCT: version, log id, timestamp, extensions, then the signature with
/// nothing after it (Apple's and Chrome's parsers both refuse trailing bytes).
pub fn parse(raw: &[u8]) -> Option<Sct> {
    let version = *raw.first()?;
    let log_id: [u8; 32] = raw.get(1..33)?.try_into().ok()?;
    let timestamp = u64::from_be_bytes(raw.get(33..41)?.try_into().ok()?);
    let ext_len = u16_at(raw, 41)?;
    let extensions = raw.get(43..43 + ext_len)?.to_vec();
    let at = 43 + ext_len;
    let hash = *raw.get(at)?;
    let signature_algorithm = *raw.get(at + 1)?;
    let sig_len = u16_at(raw, at + 2)?;
    let signature = raw.get(at + 4..)?;
    if signature.len() != sig_len {
        return None;
    }
    Some(Sct {
        version,
        log_id,
        timestamp,
        extensions,
        hash,
        signature_algorithm,
        signature: signature.to_vec(),
    })
}

/// What the log signed: an X.509 entry (the whole certificate) or a precertificate entry.
pub enum Entry<'a> {
    Certificate(&'a [u8]),
    Precertificate {
        issuer_key_hash: [u8; 32],
        tbs: &'a [u8],
    },
}

fn push_u24(out: &mut Vec<u8>, len: usize) {
    out.extend_from_slice(&(len as u32).to_be_bytes()[1..]);
}

/// The `digitally-signed` struct of RFC 6962 §3.2: version, signature_type
/// certificate_timestamp (0), timestamp, entry_type (uint16: 0 x509, 1 precert), the
/// entry (a precert: issuer_key_hash then a 3-byte-length TBSCertificate; a certificate:
/// a 3-byte-length ASN.1Cert), then the SCT's extensions with a 2-byte length.
pub fn signed_data(sct: &Sct, entry: &Entry<'_>) -> Vec<u8> {
    let mut out = vec![sct.version, 0];
    out.extend_from_slice(&sct.timestamp.to_be_bytes());
    match entry {
        Entry::Certificate(der) => {
            out.extend_from_slice(&0u16.to_be_bytes());
            push_u24(&mut out, der.len());
            out.extend_from_slice(der);
        }
        Entry::Precertificate {
            issuer_key_hash,
            tbs,
        } => {
            out.extend_from_slice(&1u16.to_be_bytes());
            out.extend_from_slice(issuer_key_hash);
            push_u24(&mut out, tbs.len());
            out.extend_from_slice(tbs);
        }
    }
    out.extend_from_slice(&(sct.extensions.len() as u16).to_be_bytes());
    out.extend_from_slice(&sct.extensions);
    out
}

/// Whether the log key `log_spki` (DER) signed `sct` over `entry`: ECDSA or RSA PKCS#1
/// with SHA-256, the only algorithms RFC 6962 allows logs.
pub fn verify(sct: &Sct, entry: &Entry<'_>, log_spki: &[u8]) -> bool {
    use x509_parser::prelude::FromDer;
    let key = match sct.signature_algorithm {
        1 => KeyType::Rsa,
        3 => KeyType::Ecdsa,
        _ => return false,
    };
    if sct.hash != 4 {
        return false;
    }
    let Ok((_, spki)) = x509_parser::x509::SubjectPublicKeyInfo::from_der(log_spki) else {
        return false;
    };
    let algorithm = SignatureAlgorithm {
        key,
        hash: Some(Hash::Sha256),
    };
    signature::verify(algorithm, &signed_data(sct, entry), &sct.signature, &spki).is_ok()
}

/// Encodes SCTs as RFC 6962 does (for tests and the lab): each SCT serialised, the
/// list with its lengths.
pub fn encode_list(scts: &[Sct]) -> Vec<u8> {
    let mut body = Vec::new();
    for sct in scts {
        let raw = encode(sct);
        body.extend_from_slice(&(raw.len() as u16).to_be_bytes());
        body.extend_from_slice(&raw);
    }
    let mut out = (body.len() as u16).to_be_bytes().to_vec();
    out.extend_from_slice(&body);
    out
}

pub fn encode(sct: &Sct) -> Vec<u8> {
    let mut out = vec![sct.version];
    out.extend_from_slice(&sct.log_id);
    out.extend_from_slice(&sct.timestamp.to_be_bytes());
    out.extend_from_slice(&(sct.extensions.len() as u16).to_be_bytes());
    out.extend_from_slice(&sct.extensions);
    out.push(sct.hash);
    out.push(sct.signature_algorithm);
    out.extend_from_slice(&(sct.signature.len() as u16).to_be_bytes());
    out.extend_from_slice(&sct.signature);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Sct {
        Sct {
            version: 0,
            log_id: [7; 32],
            timestamp: 1_700_000_000_000,
            extensions: vec![],
            hash: 4,
            signature_algorithm: 3,
            signature: vec![0x30, 0x00],
        }
    }

    #[test]
    fn lists_round_trip_and_malformed_ones_are_refused() {
        let list = encode_list(&[sample(), sample()]);
        let parsed = parse_list(&list).unwrap();
        assert_eq!(parsed, vec![Ok(sample()), Ok(sample())]);
        // A wrong outer length, a truncated entry, trailing bytes after a signature.
        let mut wrong = list.clone();
        wrong[1] ^= 1;
        assert!(parse_list(&wrong).is_none());
        assert!(parse_list(&list[..list.len() - 1]).is_none());
        let mut trailing = encode(&sample());
        trailing.push(0);
        assert!(parse(&trailing).is_none());
        assert!(parse(&[0; 10]).is_none());
    }

    #[test]
    fn the_signed_data_follows_rfc_6962() {
        let sct = sample();
        let data = signed_data(
            &sct,
            &Entry::Precertificate {
                issuer_key_hash: [9; 32],
                tbs: &[0x30, 0x00],
            },
        );
        let mut expected = vec![0, 0];
        expected.extend_from_slice(&1_700_000_000_000u64.to_be_bytes());
        expected.extend_from_slice(&[0, 1]);
        expected.extend_from_slice(&[9; 32]);
        expected.extend_from_slice(&[0, 0, 2, 0x30, 0x00, 0, 0]);
        assert_eq!(data, expected);
        let data = signed_data(&sct, &Entry::Certificate(&[1, 2, 3]));
        assert_eq!(&data[10..], &[0, 0, 0, 0, 3, 1, 2, 3, 0, 0]);
    }
}

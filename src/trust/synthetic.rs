//! A certificate standing in for a trust anchor known only by its subject, key and name
//! constraints (the compiled-in Mozilla list): what the engines that want whole
//! certificates (OpenSSL's and BoringSSL's X509_STORE) are given for the roots pyflyte's
//! bundles hold. It is a CA allowed to sign certificates, valid for all time, with the
//! anchor's name constraints; its self-signature is not real, which no verifier notices: a
//! trust anchor's own signature is never checked. What it cannot stand for — a bundled
//! root's real expiry or extensions — is what the Mozilla list does not carry either.

use rustls_pki_types::{CertificateDer, TrustAnchor};

use crate::der::tlv;

const SEQUENCE: u8 = 0x30;

/// The stand-in certificate for `anchor` (DER).
pub fn anchor_certificate(anchor: &TrustAnchor<'_>) -> CertificateDer<'static> {
    let spki = anchor.subject_public_key_info.as_ref();
    let name = tlv(SEQUENCE, anchor.subject.as_ref());
    let algorithm = signature_algorithm(spki);
    let mut extensions = vec![
        // basicConstraints, critical: CA:TRUE.
        extension(&[0x55, 0x1d, 0x13], &tlv(SEQUENCE, &[0x01, 0x01, 0xff])),
        // keyUsage, critical: keyCertSign, cRLSign.
        extension(&[0x55, 0x1d, 0x0f], &[0x03, 0x02, 0x01, 0x06]),
    ];
    if let Some(constraints) = &anchor.name_constraints {
        // nameConstraints, critical (webpki keeps the SEQUENCE's content).
        extensions.push(extension(
            &[0x55, 0x1d, 0x1e],
            &tlv(SEQUENCE, constraints.as_ref()),
        ));
    }
    let tbs = [
        tlv(0xa0, &tlv(0x02, &[2])), // v3
        tlv(0x02, &[1]),             // serial number
        algorithm.clone(),
        name.clone(),
        tlv(
            SEQUENCE,
            &[tlv(0x17, b"700101000000Z"), tlv(0x18, b"99991231235959Z")].concat(),
        ),
        name,
        tlv(SEQUENCE, spki),
        tlv(0xa3, &tlv(SEQUENCE, &extensions.concat())),
    ]
    .concat();
    let certificate = tlv(
        SEQUENCE,
        &[tlv(SEQUENCE, &tbs), algorithm, tlv(0x03, &[0, 0])].concat(),
    );
    CertificateDer::from(certificate)
}

/// A signature algorithm that fits the key, so no verifier sees a key/algorithm mismatch.
fn signature_algorithm(spki: &[u8]) -> Vec<u8> {
    const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
    const SECP384R1: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
    const ED25519: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x70];
    let contains = |needle: &[u8]| spki.windows(needle.len()).any(|w| w == needle);
    let oid: &[u8] = if contains(EC_PUBLIC_KEY) {
        if contains(SECP384R1) {
            &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03] // ecdsa-with-SHA384
        } else {
            &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02] // ecdsa-with-SHA256
        }
    } else if spki.starts_with(&tlv(SEQUENCE, ED25519)) {
        return tlv(SEQUENCE, ED25519);
    } else {
        // sha256WithRSAEncryption, with its NULL parameters.
        return tlv(
            SEQUENCE,
            &[
                tlv(
                    0x06,
                    &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b],
                ),
                vec![0x05, 0x00],
            ]
            .concat(),
        );
    };
    tlv(SEQUENCE, &tlv(0x06, oid))
}

/// A critical extension: `oid` (content octets) and its DER value.
fn extension(oid: &[u8], value: &[u8]) -> Vec<u8> {
    tlv(
        SEQUENCE,
        &[tlv(0x06, oid), vec![0x01, 0x01, 0xff], tlv(0x04, value)].concat(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_compiled_in_root_becomes_a_certificate_with_its_name_and_key() {
        for anchor in webpki_roots::TLS_SERVER_ROOTS {
            let der = anchor_certificate(anchor);
            let (rest, cert) = x509_parser::parse_x509_certificate(&der)
                .unwrap_or_else(|e| panic!("{:?}: {e}", anchor.subject));
            assert!(rest.is_empty());
            assert!(cert.is_ca());
            assert_eq!(cert.subject().as_raw(), &tlv(SEQUENCE, &anchor.subject)[..]);
            assert_eq!(cert.issuer().as_raw(), cert.subject().as_raw());
            assert_eq!(
                cert.public_key().raw,
                &tlv(SEQUENCE, &anchor.subject_public_key_info)[..]
            );
            // webpki reads it back as the same anchor.
            let again = webpki::anchor_from_trusted_cert(&der).unwrap();
            assert_eq!(again.subject, anchor.subject);
            assert_eq!(
                again.subject_public_key_info,
                anchor.subject_public_key_info
            );
            assert_eq!(again.name_constraints, anchor.name_constraints);
        }
    }
}

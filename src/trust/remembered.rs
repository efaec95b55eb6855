//! Signature verification for webpki that remembers the signatures it has verified, for the
//! whole process, in the memory the engines share (`verifiers::signature`). A fleet's
//! endpoints share intermediates (and replicas or wildcard certificates share leaves),
//! each chain is validated against several stores and judged by several engines: a
//! signature proven once need not be verified again. Only successes are remembered, keyed
//! by the algorithm, key, message and signature themselves, so a different input never
//! matches.

use std::sync::LazyLock;

use rustls_pki_types::{AlgorithmIdentifier, InvalidSignature, SignatureVerificationAlgorithm};

use crate::verifiers::signature;

static WRAPPED: LazyLock<Vec<Remembering>> = LazyLock::new(|| {
    rustls::crypto::aws_lc_rs::default_provider()
        .signature_verification_algorithms
        .all
        .iter()
        .map(|&inner| Remembering { inner })
        .collect()
});

static ALGORITHMS: LazyLock<Vec<&'static dyn SignatureVerificationAlgorithm>> =
    LazyLock::new(|| {
        WRAPPED
            .iter()
            .map(|a| a as &dyn SignatureVerificationAlgorithm)
            .collect()
    });

/// aws-lc-rs's algorithms (those rustls uses), remembering successes.
pub fn algorithms() -> &'static [&'static dyn SignatureVerificationAlgorithm] {
    &ALGORITHMS
}

#[derive(Debug)]
struct Remembering {
    inner: &'static dyn SignatureVerificationAlgorithm,
}

impl SignatureVerificationAlgorithm for Remembering {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        let verify = || self.inner.verify_signature(public_key, message, signature);
        match signature::of_alg_id(&self.inner.signature_alg_id()) {
            Some(algorithm) => {
                signature::verify_remembered(algorithm, public_key, message, signature, || {
                    verify().is_ok()
                })
                .then_some(())
                .ok_or(InvalidSignature)
            }
            None => verify(),
        }
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        self.inner.public_key_alg_id()
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        self.inner.signature_alg_id()
    }

    fn fips(&self) -> bool {
        self.inner.fips()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_successes_only_and_tells_inputs_apart() {
        let root = crate::lab::self_signed(&crate::lab::Spec::ca("Remembered Root")).unwrap();
        let leaf = crate::lab::issue(&crate::lab::Spec::leaf("r.example.com"), &root).unwrap();
        let (_, parsed) = x509_parser::parse_x509_certificate(&leaf.der).unwrap();
        let (_, issuer) = x509_parser::parse_x509_certificate(&root.der).unwrap();
        let public_key = issuer.public_key().subject_public_key.data.as_ref();
        let message = parsed.tbs_certificate.as_ref();
        let signature = parsed.signature_value.data.as_ref();
        let algorithm = WRAPPED
            .iter()
            .find(|a| a.verify_signature(public_key, message, signature).is_ok())
            .expect("one algorithm verifies the leaf");
        // Again (now remembered), and a tampered message is still refused.
        assert!(algorithm
            .verify_signature(public_key, message, signature)
            .is_ok());
        let mut tampered = message.to_vec();
        tampered[10] ^= 1;
        for _ in 0..2 {
            assert!(algorithm
                .verify_signature(public_key, &tampered, signature)
                .is_err());
        }
    }
}

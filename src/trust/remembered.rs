//! Signature verification for webpki that remembers the signatures it has verified, for the
//! whole process. A fleet's endpoints share intermediates (and replicas or wildcard
//! certificates share leaves), and each chain is validated against several stores: a
//! signature proven once need not be verified again. Only successes are remembered, keyed
//! by a SHA-256 over the algorithm, key, message and signature, so a different input never
//! matches.

use std::collections::HashSet;
use std::sync::{LazyLock, Mutex};

use rustls_pki_types::{AlgorithmIdentifier, InvalidSignature, SignatureVerificationAlgorithm};

/// Bounds the memory: ~32 bytes per entry, cleared when full.
const CAPACITY: usize = 16_384;

static VERIFIED: LazyLock<Mutex<HashSet<[u8; 32]>>> = LazyLock::new(|| Mutex::new(HashSet::new()));

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

impl Remembering {
    fn key(&self, public_key: &[u8], message: &[u8], signature: &[u8]) -> [u8; 32] {
        let mut context = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        let public_key_alg = self.inner.public_key_alg_id();
        let signature_alg = self.inner.signature_alg_id();
        // Length-prefixed, so no two different inputs hash the same bytes.
        for part in [
            public_key_alg.as_ref(),
            signature_alg.as_ref(),
            public_key,
            message,
            signature,
        ] {
            context.update(&(part.len() as u64).to_be_bytes());
            context.update(part);
        }
        let mut key = [0u8; 32];
        key.copy_from_slice(context.finish().as_ref());
        key
    }
}

impl SignatureVerificationAlgorithm for Remembering {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        let key = self.key(public_key, message, signature);
        let lock = || VERIFIED.lock().unwrap_or_else(|e| e.into_inner());
        if lock().contains(&key) {
            return Ok(());
        }
        self.inner
            .verify_signature(public_key, message, signature)?;
        let mut verified = lock();
        if verified.len() >= CAPACITY {
            verified.clear();
        }
        verified.insert(key);
        Ok(())
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

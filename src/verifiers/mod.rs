//! Re-implementations of the verifiers the clients use — each faithful to its source in
//! the order of its checks and in its texts, so a prediction reads as the client prints
//! it. rustls-webpki stays the judge of the trust stores (`trust`); these say what a
//! given client would answer (`clients` picks the verifier, the roots and the wrapping).

pub mod go;
pub mod openssl;
pub mod signature;

use std::collections::HashMap;
use std::sync::Mutex;

/// Parsed certificates remembered for the process: every engine re-reads the same sent
/// certificates for each client, and a fleet's endpoints share issuers and roots, while
/// parsing costs many times a SHA-256 of the DER it is keyed by. Bounded: cleared when
/// full.
pub(crate) struct ParseCache<T> {
    entries: Mutex<Option<HashMap<[u8; 32], T>>>,
}

const PARSE_CACHE_CAPACITY: usize = 4_096;

impl<T: Clone> ParseCache<T> {
    pub(crate) const fn new() -> Self {
        ParseCache {
            entries: Mutex::new(None),
        }
    }

    /// `parse(der)`, or a copy of what it returned for the same bytes before.
    pub(crate) fn get(&self, der: &[u8], parse: impl FnOnce(&[u8]) -> T) -> T {
        let mut key = [0u8; 32];
        key.copy_from_slice(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, der).as_ref());
        if let Some(hit) = self
            .entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .and_then(|map| map.get(&key))
        {
            return hit.clone();
        }
        let parsed = parse(der);
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let map = entries.get_or_insert_with(HashMap::new);
        if map.len() >= PARSE_CACHE_CAPACITY {
            map.clear();
        }
        map.insert(key, parsed.clone());
        parsed
    }
}

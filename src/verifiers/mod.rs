//! Re-implementations of the verifiers the clients use — each faithful to its source in
//! the order of its checks and in its texts, so a prediction reads as the client prints
//! it. rustls-webpki stays the judge of the trust stores (`trust`); these say what a
//! given client would answer (`clients` picks the verifier, the roots and the wrapping).

pub mod apple;
pub mod chrome;
pub mod go;
pub mod openssl;
pub mod pattern;
pub mod signature;

use std::collections::HashMap;
use std::sync::Mutex;

/// Parsed certificates remembered for the process: every engine re-reads the same sent
/// certificates for each client, and a fleet's endpoints share issuers and roots. Keyed
/// by the DER itself (exact, and cheaper to hash than parsing or a SHA-256). Bounded:
/// cleared when full.
pub(crate) struct ParseCache<T> {
    entries: Mutex<Option<HashMap<Box<[u8]>, T>>>,
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
        if let Some(hit) = self
            .entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .and_then(|map| map.get(der))
        {
            return hit.clone();
        }
        let parsed = parse(der);
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let map = entries.get_or_insert_with(HashMap::new);
        if map.len() >= PARSE_CACHE_CAPACITY {
            map.clear();
        }
        map.insert(der.into(), parsed.clone());
        parsed
    }
}

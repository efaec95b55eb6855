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

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::Mutex;

/// Hashes byte strings by their length and last 64 bytes only: a certificate (and a
/// remembered signature check) ends in its signature, random bytes as distinctive as the
/// whole and far cheaper to hash than a kilobyte; equality still compares every byte. Keyed
/// per process, so crafted inputs cannot be made to collide.
#[derive(Clone)]
pub(crate) struct TailHash(RandomState);

impl TailHash {
    pub(crate) fn new() -> Self {
        TailHash(RandomState::new())
    }
}

impl BuildHasher for TailHash {
    type Hasher = TailHasher;

    fn build_hasher(&self) -> TailHasher {
        TailHasher(self.0.build_hasher())
    }
}

pub(crate) struct TailHasher(std::collections::hash_map::DefaultHasher);

impl Hasher for TailHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.write(&bytes[bytes.len().saturating_sub(64)..]);
    }

    fn write_usize(&mut self, n: usize) {
        self.0.write_usize(n);
    }

    fn finish(&self) -> u64 {
        self.0.finish()
    }
}

/// Values by the DER they were parsed from.
type DerMap<T> = HashMap<Box<[u8]>, T, TailHash>;

/// Parsed certificates remembered for the process: every engine re-reads the same sent
/// certificates for each client, and a fleet's endpoints share issuers and roots. Keyed
/// by the DER itself (exact, and cheaper to hash than parsing or a SHA-256). Bounded:
/// cleared when full.
pub(crate) struct ParseCache<T> {
    entries: Mutex<Option<DerMap<T>>>,
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
        let map = entries.get_or_insert_with(|| HashMap::with_hasher(TailHash::new()));
        if map.len() >= PARSE_CACHE_CAPACITY {
            map.clear();
        }
        map.insert(der.into(), parsed.clone());
        parsed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parse_cache_tells_apart_inputs_with_the_same_tail() {
        let cache: ParseCache<usize> = ParseCache::new();
        let mut a = vec![7u8; 300];
        let b = a.clone();
        a[0] = 1; // same length, same last 64 bytes: same hash, different input
        assert_eq!(cache.get(&a, |_| 1), 1);
        assert_eq!(cache.get(&b, |_| 2), 2);
        assert_eq!(cache.get(&a, |_| 3), 1, "remembered");
        assert_eq!(cache.get(&b, |_| 4), 2, "remembered");
    }
}

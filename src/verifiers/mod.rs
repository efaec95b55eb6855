//! Re-implementations of the verifiers the clients use — each faithful to its source in
//! the order of its checks and in its texts, so a prediction reads as the client prints
//! it. rustls-webpki stays the judge of the trust stores (`trust`); these say what a
//! given client would answer (`clients` picks the verifier, the roots and the wrapping).

pub mod apple;
pub mod chrome;
pub mod go;
pub mod openssl;
pub mod signature;

use std::collections::HashMap;
use std::sync::Mutex;

/// A text a client prints, as its literal pieces: a variable part (a host name, a time,
/// a count…) goes between each two. The engine that prints the text fills it in; `why`
/// reads the pieces to recognise the text in what a user pasted, so the words live in
/// one place. A fixed text is one piece.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pattern(pub &'static [&'static str]);

impl Pattern {
    /// The text with `values` between the pieces, in order.
    pub fn fill(&self, values: &[&str]) -> String {
        debug_assert_eq!(values.len() + 1, self.0.len(), "{:?}", self.0);
        let mut out = String::new();
        for (index, piece) in self.0.iter().enumerate() {
            out.push_str(piece);
            if let Some(value) = values.get(index) {
                out.push_str(value);
            }
        }
        out
    }

    /// A fixed text (one piece).
    pub fn text(&self) -> String {
        self.fill(&[])
    }
}

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

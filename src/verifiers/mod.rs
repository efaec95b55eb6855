//! Re-implementations of the verifiers the clients use — each faithful to its source in
//! the order of its checks and in its texts, so a prediction reads as the client prints
//! it. rustls-webpki stays the judge of the trust stores (`trust`); these say what a
//! given client would answer (`clients` picks the verifier, the roots and the wrapping).

pub mod go;
pub mod openssl;
pub mod signature;

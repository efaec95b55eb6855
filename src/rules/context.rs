//! What the rules judge: the certificates as sent, their structure and trust verdicts,
//! and the time and name they are judged against. Shared by every rule module.

use crate::chain::{Cert, Malformed, Structure};
use crate::target::Host;
use crate::trust::{StoreKind, TrustStore, TrustVerdict};

pub const DAY: i64 = 86_400;
/// Apple: leaves issued after 2019-07-01 may live at most 825 days + 1 h when they chain
/// to a non-system anchor (HT210176). trustd compares notBefore strictly with its
/// "1 July 2019 00:00:00 UTC", which is in fact 2019-06-30 23:00:00 UTC
/// (as `verifiers::apple` has it): the rule follows trustd, not the text.
pub const APPLE_825_AFTER: i64 = 1_561_935_600;
pub const MAX_825_SECONDS: i64 = 825 * DAY + 3_600;
/// Apple and Chrome: publicly trusted leaves issued from 2020-09-01 may live 398 days.
pub const PUBLIC_398_CUTOVER: i64 = 1_598_918_400;
pub const MAX_398_SECONDS: i64 = 398 * DAY;

pub const INGRESS_FAKE_CN: &str = "Kubernetes Ingress Controller Fake Certificate";

/// The outcome of `--key` / a Secret's `tls.key` against the leaf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyCheck {
    Matches,
    Mismatch,
}

pub struct Context<'a> {
    /// How many certificates were presented (more than were analysed, past the limit).
    pub presented: usize,
    pub certs: &'a [Cert],
    pub malformed: &'a [Malformed],
    pub structure: &'a Structure,
    pub stores: &'a [TrustStore],
    pub trust: &'a [TrustVerdict],
    pub hostname: Option<&'a Host>,
    /// The instant validity is judged at (Unix seconds).
    pub at: i64,
    pub warn_days: u32,
    pub key: Option<KeyCheck>,
}

// The accessors below index `certs`: rules call them only when it is not empty.
impl<'a> Context<'a> {
    pub(super) fn leaf(&self) -> &'a Cert {
        &self.certs[self.structure.leaf]
    }

    /// The chain from the leaf up, as far as issuers were sent.
    pub(super) fn path(&self) -> Vec<&'a Cert> {
        self.structure
            .path
            .iter()
            .map(|&i| &self.certs[i])
            .collect()
    }

    /// The last certificate of the path: the root, or where the chain breaks off.
    pub(super) fn top(&self) -> &'a Cert {
        self.path().last().copied().unwrap_or(self.leaf())
    }

    pub(super) fn trusted_by(&self, kind: StoreKind) -> bool {
        self.trust.iter().any(|v| v.store == kind && v.trusted)
    }

    pub(super) fn any_trusted(&self) -> bool {
        self.trust.iter().any(|v| v.trusted)
    }

    /// Some store trusts the leaf itself, as an anchor.
    pub(super) fn leaf_anchored(&self) -> bool {
        self.trust.iter().any(|v| v.trusted && v.leaf_is_anchor)
    }

    /// The evaluated stores by name, for messages.
    pub(super) fn store_names(&self) -> String {
        self.stores
            .iter()
            .map(|s| s.kind.name())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

//! The private key given with the certificate (`--key`, a Secret's `tls.key`).

use super::context::{Context, KeyCheck};
use crate::findings::{Finding, FindingId};

pub(super) fn key_pair_findings(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    match ctx.key {
        Some(KeyCheck::Mismatch) => {
            let leaf = ctx.leaf();
            out.push(Finding::new(
                FindingId::KeyMismatch,
                Some(leaf.info.position),
                format!(
                    "The private key does not match the public key of \"{}\".",
                    leaf.info.display_name()
                ),
            ));
        }
        Some(KeyCheck::Matches) | None => {}
    }
}

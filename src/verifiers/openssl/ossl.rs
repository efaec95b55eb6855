//! OpenSSL 3.0's `X509_verify_cert` (`crypto/x509/x509_vfy.c`) as libssl runs it for a
//! TLS client: purpose and trust "ssl_server", depth 100, TRUSTED_FIRST, no callback (so
//! the first failing check is the result), security level 2, and Python's host or IP.
//! The order is `verify_chain`'s: leaf key level, `build_chain`, `check_extensions`,
//! `check_auth_level`, `check_id`, `internal_verify`, `check_name_constraints`.

use super::cert::{self, fail, Cert, Failure};
use super::host::{self, HostFlags, Target};
use super::name::GeneralName;
use super::ncons::{self, Lib};
use crate::verifiers::signature::{self, Failure as SignatureFailure};
use std::sync::Arc;
use x509_parser::prelude::FromDer;
use x509_parser::x509::SubjectPublicKeyInfo;

/// Level 2 of `minbits_table` {80, 112, 128, 192, 256}.
const MIN_BITS: u32 = 112;
/// The default verify depth (100) plus one: `build_chain`'s `max_depth`.
const MAX_DEPTH: usize = 101;

pub struct Params<'a> {
    /// X509_V_FLAG_X509_STRICT.
    pub strict: bool,
    /// X509_V_FLAG_PARTIAL_CHAIN.
    pub partial_chain: bool,
    pub target: Option<&'a Target>,
    pub host_flags: HostFlags,
}

struct Ctx<'a> {
    p: &'a Params<'a>,
    store: &'a [Arc<Cert>],
    now: i64,
    chain: Vec<&'a Cert>,
    num_untrusted: usize,
}

/// `X509_verify_cert` with `presented` (leaf first, the whole Certificate message as the
/// untrusted set) and `store` (the CA file, duplicates already dropped).
pub fn verify(
    p: &Params<'_>,
    presented: &[Arc<Cert>],
    store: &[Arc<Cert>],
    now: i64,
) -> Result<(), Failure> {
    let leaf = &presented[0];
    // The peer's own key first: "If the peer's public key is too weak, we can stop early."
    if !key_level_ok(leaf) {
        return fail(66, 0);
    }
    let mut ctx = Ctx {
        p,
        store,
        now,
        chain: vec![leaf],
        num_untrusted: 1,
    };
    ctx.build_chain(presented)?;
    ctx.check_extensions()?;
    ctx.check_auth_level()?;
    ctx.check_id()?;
    ctx.internal_verify()?;
    ctx.check_name_constraints()
}

fn key_level_ok(x: &Cert) -> bool {
    x.key.openssl_bits.is_some_and(|bits| bits >= MIN_BITS)
}

/// `ossl_x509_likely_issued(issuer, subject) == X509_V_OK`.
fn likely_issued(issuer: &Cert, subject: &Cert) -> bool {
    issuer.subject.canon == subject.issuer.canon
        && !issuer.openssl.invalid
        && !subject.openssl.invalid
        && cert::akid_matches(issuer, subject.ext.akid.ok())
        && cert::openssl_sig_alg_matches(&issuer.key, subject)
}

/// `X509_self_signed(x, 0) > 0`: an invalid certificate is never self-signed here.
fn self_signed(x: &Cert) -> bool {
    x.openssl.ss && !x.openssl.invalid
}

/// `X509_check_trust(x, X509_TRUST_SSL_SERVER, 0)` without auxiliary trust: a valid
/// self-signed certificate is trusted.
fn trusted(x: &Cert) -> bool {
    self_signed(x)
}

/// `check_ca`: 0 not a CA, 1 CA by basicConstraints, 3 v1 self-signed, 4 keyUsage
/// without basicConstraints, 5 Netscape CA type (0 for an invalid certificate).
fn check_ca(x: &Cert) -> u8 {
    let f = &x.openssl;
    if f.invalid || f.ku_reject(cert::KU_KEY_CERT_SIGN) {
        return 0;
    }
    if f.bcons {
        return u8::from(f.ca);
    }
    if f.v1 && f.ss {
        3
    } else if f.key_usage.is_some() {
        4
    } else if f.ns_cert_type.is_some_and(|ns| ns & cert::NS_ANY_CA != 0) {
        5
    } else {
        0
    }
}

/// `X509_check_purpose(x, X509_PURPOSE_SSL_SERVER, require_ca)`: 1, 0, or -1 for an
/// invalid certificate.
fn check_purpose_ssl_server(x: &Cert, require_ca: bool) -> i8 {
    let f = &x.openssl;
    if f.invalid {
        return -1;
    }
    if f.xku_reject(cert::XKU_SSL_SERVER | cert::XKU_SGC) {
        return 0;
    }
    if require_ca {
        // check_ssl_ca: a CA, and the Netscape SSL CA bit when only the type made it one.
        let ca = check_ca(x);
        return i8::from(
            ca != 0 && (ca != 5 || f.ns_cert_type.unwrap_or(0) & cert::NS_SSL_CA != 0),
        );
    }
    if f.ns_reject(cert::NS_SSL_SERVER) || f.ku_reject(cert::KU_TLS) {
        return 0;
    }
    1
}

impl<'a> Ctx<'a> {
    fn contains(&self, x: &Cert) -> bool {
        self.chain.iter().any(|c| c.same(x))
    }

    /// `X509_STORE_CTX_get1_issuer`: the store's certificates named as `x`'s issuer that
    /// pass `check_issued`, the first valid now, else the one expiring last.
    fn trusted_issuer(&self, x: &Cert) -> Option<&'a Cert> {
        let store: &'a [Arc<Cert>] = self.store;
        pick(
            store.iter().map(|c| &**c).filter(|c| likely_issued(c, x)),
            self.now,
        )
    }

    /// `find_issuer` over the untrusted certificates: not already in the chain (unless `x`
    /// is self-issued and alone), valid now preferred.
    fn untrusted_issuer(&self, untrusted: &[&'a Cert], x: &Cert) -> Option<usize> {
        let candidates = untrusted.iter().enumerate().filter(|(_, c)| {
            likely_issued(c, x) && ((x.openssl.si && self.chain.len() == 1) || !self.contains(c))
        });
        let mut best: Option<(usize, &Cert)> = None;
        for (i, c) in candidates {
            if c.valid_at(self.now) {
                return Some(i);
            }
            if best.is_none_or(|(_, b)| c.not_after.unix > b.not_after.unix) {
                best = Some((i, c));
            }
        }
        best.map(|(i, _)| i)
    }

    /// `check_trust(ctx, num_untrusted)`: whether the certificates from `from` up make the
    /// chain trusted; with PARTIAL_CHAIN any store certificate does, and as a last resort
    /// an exact store copy of the leaf.
    fn check_trust(&mut self, from: usize) -> bool {
        if self.chain[from..].iter().any(|x| trusted(x)) {
            return true;
        }
        if from < self.chain.len() {
            return self.p.partial_chain;
        }
        if self.p.partial_chain {
            let leaf = self.chain[0];
            let store: &'a [Arc<Cert>] = self.store;
            if let Some(copy) = store
                .iter()
                .find(|c| c.subject.canon == leaf.subject.canon && c.same(leaf))
            {
                self.chain[0] = copy;
                self.num_untrusted = 0;
                return true;
            }
        }
        false
    }

    /// `build_chain` with TRUSTED_FIRST (so no alternate chains) and no DANE.
    fn build_chain(&mut self, presented: &'a [Arc<Cert>]) -> Result<(), Failure> {
        let mut untrusted: Vec<&'a Cert> = presented.iter().map(|c| &**c).collect();
        let mut search_untrusted = true;
        let mut search_trusted = true;
        let mut trust = false;
        while search_untrusted || search_trusted {
            if search_trusted {
                let mut num = self.chain.len();
                let curr = self.chain[num - 1];
                let issuer = if num > MAX_DEPTH {
                    None
                } else {
                    self.trusted_issuer(curr)
                };
                if let Some(issuer) = issuer {
                    let mut ok = true;
                    let mut is_self_signed = self_signed(curr);
                    if !is_self_signed {
                        self.chain.push(issuer);
                        is_self_signed = self_signed(issuer);
                    } else if !curr.same(issuer) {
                        // A self-signed look-alike of a trust anchor.
                        ok = false;
                    } else {
                        num -= 1;
                        self.num_untrusted = num;
                        self.chain[num] = issuer;
                    }
                    if ok {
                        search_untrusted = false;
                        trust = self.check_trust(num);
                        if trust {
                            break;
                        }
                        if !is_self_signed {
                            continue;
                        }
                    }
                }
                if !search_untrusted {
                    break;
                }
            }
            if search_untrusted {
                let num = self.chain.len();
                let curr = self.chain[num - 1];
                let found = if self_signed(curr) || num > MAX_DEPTH {
                    None
                } else {
                    self.untrusted_issuer(&untrusted, curr)
                };
                match found {
                    None => {
                        search_untrusted = false;
                        search_trusted = true;
                    }
                    Some(i) => {
                        let issuer = untrusted.remove(i);
                        self.chain.push(issuer);
                        self.num_untrusted += 1;
                    }
                }
            }
        }
        let num = self.chain.len();
        if !trust && num <= MAX_DEPTH && num == self.num_untrusted {
            trust = self.check_trust(num);
        }
        if trust {
            return Ok(());
        }
        if num > MAX_DEPTH {
            return fail(22, num - 1);
        }
        if self_signed(self.chain[num - 1]) {
            return fail(if num == 1 { 18 } else { 19 }, num - 1);
        }
        fail(if self.num_untrusted < num { 2 } else { 20 }, num - 1)
    }

    /// `check_extensions`: every certificate, leaf first, each through its full list.
    fn check_extensions(&self) -> Result<(), Failure> {
        let strict = self.p.strict;
        let num = self.chain.len();
        let mut plen: i64 = 0;
        for (i, x) in self.chain.iter().enumerate() {
            let f = &x.openssl;
            if f.critical {
                return fail(34, i);
            }
            if f.proxy {
                return fail(40, i);
            }
            let ca = check_ca(x);
            if i == 0 {
                if strict && ca != 1 && ca != 0 {
                    return fail(79, i);
                }
            } else if ca == 0 || ((i + 1 < num || strict) && ca != 1) {
                // X509_V_FLAG_X509_STRICT is implicit for intermediate CAs.
                return fail(79, i);
            }
            if num > 1 {
                if x.key.openssl_bits.is_none() {
                    return fail(1, i);
                }
                if x.key.explicit_ec {
                    return fail(94, i);
                }
            }
            if strict && num > 1 {
                self.strict_checks(x, i)?;
            }
            // check_purpose: without auxiliary trust, store certificates are checked too.
            match check_purpose_ssl_server(x, i > 0) {
                1 => {}
                0 => return fail(26, i),
                _ if strict => return fail(26, i),
                _ => {}
            }
            if i > 1 && f.path_len != -1 && plen > f.path_len {
                return fail(25, i);
            }
            if i > 0 && !f.si {
                plen += 1;
            }
        }
        Ok(())
    }

    /// The RFC 5280 checks X509_V_FLAG_X509_STRICT adds, in `check_extensions`' order.
    fn strict_checks(&self, x: &Cert, i: usize) -> Result<(), Failure> {
        let f = &x.openssl;
        let num = self.chain.len();
        let ku = f.raw_key_usage();
        let san = x.san();
        if f.path_len != -1 {
            if !f.ca {
                return fail(80, i);
            }
            if ku & cert::KU_KEY_CERT_SIGN == 0 {
                return fail(81, i);
            }
        }
        if f.ca && f.bcons && !f.bcons_critical {
            return fail(89, i);
        }
        if f.ca {
            if f.key_usage.is_none() {
                return fail(92, i);
            }
        } else if ku & cert::KU_KEY_CERT_SIGN != 0 {
            return fail(82, i);
        }
        if x.issuer.is_empty() {
            return fail(83, i);
        }
        if (f.ca || ku & cert::KU_CRL_SIGN != 0 || san.is_none()) && x.subject.is_empty() {
            return fail(84, i);
        }
        if x.subject.is_empty() && san.is_some() && !f.san_critical {
            return fail(88, i);
        }
        if san.is_some_and(<[_]>::is_empty) {
            return fail(87, i);
        }
        if !x.algorithms_match {
            return fail(78, i);
        }
        if x.ext.akid.ok().is_some() && f.akid_critical {
            return fail(90, i);
        }
        if x.ext.skid.ok().is_some() && f.skid_critical {
            return fail(91, i);
        }
        if x.version >= 2 {
            let key_id = x.ext.akid.ok().and_then(|a| a.key_id.as_ref());
            if i + 1 < num && key_id.is_none() {
                return fail(85, i);
            }
            if f.ca && x.ext.skid.ok().is_none() {
                return fail(86, i);
            }
        } else if !x.ext.list.is_empty() {
            return fail(93, i);
        }
        Ok(())
    }

    /// `check_auth_level`: CA keys (the anchor's too) and every signature but the anchor's.
    fn check_auth_level(&self) -> Result<(), Failure> {
        let num = self.chain.len();
        for (i, x) in self.chain.iter().enumerate() {
            if i > 0 && !key_level_ok(x) {
                return fail(67, i);
            }
            if i + 1 < num && x.sig.secbits.is_none_or(|bits| bits < MIN_BITS) {
                return fail(68, i);
            }
        }
        Ok(())
    }

    /// `check_id`: Python's host name (62) or IP address (64), at depth 0.
    fn check_id(&self) -> Result<(), Failure> {
        let leaf = self.chain[0];
        match self.p.target {
            Some(Target::Name(name))
                if !host::openssl_check_host(leaf, name, self.p.host_flags) =>
            {
                fail(62, 0)
            }
            Some(Target::Ip(ip)) if !host::openssl_check_ip(leaf, ip) => fail(64, 0),
            _ => Ok(()),
        }
    }

    /// `internal_verify`: from the top down, the issuer's keyUsage, the signature and the
    /// validity of each certificate; the top's own signature is never checked.
    fn internal_verify(&self) -> Result<(), Failure> {
        let mut n = self.chain.len() - 1;
        let mut xi = self.chain[n];
        let mut xs = xi;
        let mut same = true;
        if !likely_issued(xi, xi) && !self.p.partial_chain {
            if n == 0 {
                return fail(21, 0);
            }
            n -= 1;
            xs = self.chain[n];
            same = false;
        }
        loop {
            if !same {
                let issuer_depth = n + 1;
                if xi.openssl.ku_reject(cert::KU_KEY_CERT_SIGN) {
                    return fail(32, issuer_depth);
                }
                if xi.key.openssl_bits.is_none() {
                    return fail(6, issuer_depth);
                }
                if !signature_ok(xs, xi) {
                    return fail(7, n);
                }
            }
            check_time(xs, n, self.now)?;
            if n == 0 {
                return Ok(());
            }
            n -= 1;
            xi = xs;
            xs = self.chain[n];
            same = false;
        }
    }

    /// `check_name_constraints`: each certificate (self-issued ones only as the leaf)
    /// against every constraint above it; for the leaf also its CNs when it has no DNS SAN.
    fn check_name_constraints(&self) -> Result<(), Failure> {
        let num = self.chain.len();
        for i in (0..num).rev() {
            let x = self.chain[i];
            if i != 0 && x.openssl.si {
                continue;
            }
            for j in (i + 1..num).rev() {
                let Some(nc) = self.chain[j].name_constraints() else {
                    continue;
                };
                let mut result = ncons::check(x, nc, Lib::OpenSsl);
                let has_dns_san = x
                    .san()
                    .is_some_and(|s| s.iter().any(|n| matches!(n, GeneralName::Dns(_))));
                if result.is_ok()
                    && i == 0
                    && !self.p.host_flags.never_check_subject
                    && !has_dns_san
                {
                    result = ncons::check_common_names(x, nc);
                }
                if let Err(code) = result {
                    return fail(code, i);
                }
            }
        }
        Ok(())
    }
}

/// The first candidate valid at `now`, else the one whose notAfter is latest.
fn pick<'a>(candidates: impl Iterator<Item = &'a Cert>, now: i64) -> Option<&'a Cert> {
    let mut best: Option<&Cert> = None;
    for c in candidates {
        if c.valid_at(now) {
            return Some(c);
        }
        if best.is_none_or(|b| c.not_after.unix > b.not_after.unix) {
            best = Some(c);
        }
    }
    best
}

/// `ossl_x509_check_cert_time` at depth `n`.
fn check_time(x: &Cert, n: usize, now: i64) -> Result<(), Failure> {
    if !x.not_before.openssl_format_ok {
        return fail(13, n);
    }
    if x.not_before.unix > now {
        return fail(9, n);
    }
    if !x.not_after.openssl_format_ok {
        return fail(14, n);
    }
    if x.not_after.unix <= now {
        return fail(10, n);
    }
    Ok(())
}

/// `X509_verify(subject, issuer key)`: matching algorithm fields, a whole-byte signature,
/// and the signature itself. What aws-lc-rs cannot check (MD5, P-224, small RSA with
/// SHA-384) OpenSSL would: such a signature is taken as good, names and key ids having
/// matched already.
fn signature_ok(subject: &Cert, issuer: &Cert) -> bool {
    if !subject.algorithms_match || subject.signature_unused_bits != 0 {
        return false;
    }
    let Some(algorithm) = subject.signature_algorithm else {
        return true;
    };
    let Ok((_, spki)) = SubjectPublicKeyInfo::from_der(&issuer.spki) else {
        return true;
    };
    !matches!(
        signature::verify(algorithm, &subject.tbs, &subject.signature, &spki),
        Err(SignatureFailure::Invalid)
    )
}

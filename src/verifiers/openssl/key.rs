//! Public keys and signature algorithms as the libraries rate them: the key type, the
//! security bits OpenSSL's security level compares (`EVP_PKEY_get_security_bits`,
//! `X509_get_signature_info`), and which keys BoringSSL can decode at all.

use super::der::{self, Reader};

/// A public key or signature algorithm's key type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algo {
    Rsa,
    RsaPss,
    Ec,
    Dsa,
    Ed25519,
    Ed448,
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub algo: Algo,
    /// `EVP_PKEY_get_security_bits`; `None` when OpenSSL cannot decode the key.
    pub openssl_bits: Option<u32>,
    /// Whether BoringSSL decodes it (its curves are P-224, P-256, P-384 and P-521 only).
    pub boringssl_decodes: bool,
    /// An EC key with explicit curve parameters.
    pub explicit_ec: bool,
}

impl Key {
    pub fn parse(spki: &[u8]) -> Key {
        let unknown = Key {
            algo: Algo::Unknown,
            openssl_bits: None,
            boringssl_decodes: false,
            explicit_ec: false,
        };
        let Some(parts) = der::sequence(spki) else {
            return unknown;
        };
        let (Some(algorithm), Some(key)) = (parts.first(), parts.get(1)) else {
            return unknown;
        };
        let Some(algorithm) = Reader::new(algorithm.content).all() else {
            return unknown;
        };
        let Some(oid) = algorithm.first().filter(|o| o.tag == der::OID) else {
            return unknown;
        };
        let params = algorithm.get(1);
        let key_bits = der::bit_string(key.content).unwrap_or_default();
        match oid.content {
            [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01 | 0x0a] => {
                let bits = der::sequence(&key_bits)
                    .and_then(|p| p.first().map(|n| der::unsigned_bits(n.content)));
                Key {
                    algo: if oid.content[8] == 0x01 {
                        Algo::Rsa
                    } else {
                        Algo::RsaPss
                    },
                    openssl_bits: bits.map(rsa_security_bits),
                    // rsa_check_public_key: moduli from 512 to 16384 bits.
                    boringssl_decodes: bits.is_some_and(|b| (512..=16384).contains(&b)),
                    explicit_ec: false,
                }
            }
            [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01] => {
                let (order_bits, boringssl, explicit) = match params {
                    Some(p) if p.tag == der::OID => {
                        let (bits, boringssl) = named_curve(p.content);
                        (bits, boringssl, false)
                    }
                    Some(p) if p.tag == der::SEQUENCE => {
                        // ECParameters: version, fieldID, curve, base, order, cofactor.
                        let order = Reader::new(p.content)
                            .all()
                            .and_then(|f| f.get(4).map(|o| der::unsigned_bits(o.content)));
                        (order, order.is_some(), true)
                    }
                    _ => (None, false, false),
                };
                Key {
                    algo: Algo::Ec,
                    openssl_bits: order_bits.map(ec_security_bits),
                    boringssl_decodes: boringssl,
                    explicit_ec: explicit,
                }
            }
            [0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x01] => {
                let sizes = params
                    .and_then(|p| Reader::new(p.content).all())
                    .and_then(|pqg| match pqg.as_slice() {
                        [p, q, _] => {
                            Some((der::unsigned_bits(p.content), der::unsigned_bits(q.content)))
                        }
                        _ => None,
                    });
                Key {
                    algo: Algo::Dsa,
                    openssl_bits: Some(sizes.map_or(0, |(l, n)| bn_security_bits(l, n))),
                    boringssl_decodes: sizes.is_some(),
                    explicit_ec: false,
                }
            }
            [0x2b, 0x65, 0x70] => Key {
                algo: Algo::Ed25519,
                openssl_bits: Some(128),
                boringssl_decodes: true,
                explicit_ec: false,
            },
            [0x2b, 0x65, 0x71] => Key {
                algo: Algo::Ed448,
                openssl_bits: Some(224),
                boringssl_decodes: false,
                explicit_ec: false,
            },
            _ => unknown,
        }
    }
}

/// A named curve's order size, and whether BoringSSL has the curve.
fn named_curve(oid: &[u8]) -> (Option<u32>, bool) {
    match oid {
        [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x01] => (Some(192), false),
        [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07] => (Some(256), true),
        [0x2b, 0x81, 0x04, 0x00, 0x21] => (Some(224), true),
        [0x2b, 0x81, 0x04, 0x00, 0x22] => (Some(384), true),
        [0x2b, 0x81, 0x04, 0x00, 0x23] => (Some(521), true),
        [0x2b, 0x81, 0x04, 0x00, 0x0a] => (Some(256), false),
        [0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x07] => (Some(256), false),
        [0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x0b] => (Some(384), false),
        [0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x0d] => (Some(512), false),
        _ => (None, false),
    }
}

/// `ec_ameth.c ec_security_bits`, from the group order's size.
fn ec_security_bits(order_bits: u32) -> u32 {
    match order_bits {
        512.. => 256,
        384.. => 192,
        256.. => 128,
        224.. => 112,
        160.. => 80,
        _ => order_bits / 2,
    }
}

/// `bn_lib.c BN_security_bits` for a DSA key with an L-bit p and an N-bit q.
fn bn_security_bits(l: u32, n: u32) -> u32 {
    let secbits = match l {
        15360.. => 256,
        7680.. => 192,
        3072.. => 128,
        2048.. => 112,
        1024.. => 80,
        _ => return 0,
    };
    let bits = n / 2;
    if bits < 80 {
        0
    } else {
        bits.min(secbits)
    }
}

/// `rsa_lib.c ossl_ifc_ffc_compute_security_bits`: the SP 800-56B estimate in OpenSSL's
/// fixed-point arithmetic (RSA-2048 gives 112, RSA-1024 gives 80).
pub fn rsa_security_bits(n: u32) -> u32 {
    const SCALE: u64 = 1 << 18;
    const CBRT_SCALE: u64 = 1 << (2 * 18 / 3);
    const LOG_2: u64 = 0x02c5c8;
    const LOG_E: u64 = 0x05c551;
    const C1_923: u64 = 0x07b126;
    const C4_690: u64 = 0x12c28f;
    fn mul2(a: u64, b: u64) -> u64 {
        a.wrapping_mul(b) / SCALE
    }
    fn icbrt64(mut x: u64) -> u64 {
        let mut r: u64 = 0;
        let mut s: i32 = 63;
        while s >= 0 {
            r <<= 1;
            let b = 3u64.wrapping_mul(r).wrapping_mul(r + 1).wrapping_add(1);
            if (x >> s) >= b {
                x = x.wrapping_sub(b << s);
                r += 1;
            }
            s -= 3;
        }
        r * CBRT_SCALE
    }
    fn ilog_e(mut v: u64) -> u64 {
        let mut r: u64 = 0;
        while v >= 2 * SCALE {
            v >>= 1;
            r += SCALE;
        }
        let mut i = SCALE / 2;
        while i != 0 {
            v = mul2(v, v);
            if v >= 2 * SCALE {
                v >>= 1;
                r += i;
            }
            i /= 2;
        }
        ((r * SCALE) / LOG_E) & 0xffff_ffff
    }
    match n {
        2048 => return 112,
        3072 => return 128,
        4096 => return 152,
        6144 => return 176,
        7680 => return 192,
        8192 => return 200,
        15360 => return 256,
        _ => {}
    }
    if n >= 687737 {
        return 1200;
    }
    if n < 8 {
        return 0;
    }
    let cap = if n <= 7680 {
        192
    } else if n <= 15360 {
        256
    } else {
        1200
    };
    let x = n as u64 * LOG_2;
    let lx = ilog_e(x);
    let y = ((mul2(C1_923, icbrt64(mul2(mul2(x, lx), lx))).wrapping_sub(C4_690)) / LOG_2) as u16;
    let y = (y.wrapping_add(4)) & !7;
    (y as u32).min(cap)
}

/// A signature algorithm: the key type it names and its security bits
/// (`x509_set.c x509_sig_info_init`: SHA-1 63, MD5 39, otherwise half the digest size).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SigInfo {
    pub algo: Algo,
    pub secbits: Option<u32>,
    /// MD4/MD5, which BoringSSL refuses to verify (`algorithm.cc x509_digest_nid_ok`).
    pub md5: bool,
}

impl SigInfo {
    pub fn of(algorithm: &[u8]) -> SigInfo {
        let unknown = SigInfo {
            algo: Algo::Unknown,
            secbits: None,
            md5: false,
        };
        let Some(parts) = der::sequence(algorithm) else {
            return unknown;
        };
        let Some(oid) = parts.first().filter(|o| o.tag == der::OID) else {
            return unknown;
        };
        let (algo, secbits) = match oid.content {
            [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, last] => match last {
                0x04 => (Algo::Rsa, 39),
                0x05 => (Algo::Rsa, 63),
                0x0e => (Algo::Rsa, 112),
                0x0b => (Algo::Rsa, 128),
                0x0c => (Algo::Rsa, 192),
                0x0d => (Algo::Rsa, 256),
                0x0a => (Algo::RsaPss, pss_secbits(parts.get(1))),
                _ => return unknown,
            },
            [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x01] => (Algo::Ec, 63),
            [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, last @ 0x01..=0x04] => {
                (Algo::Ec, [112, 128, 192, 256][(*last - 1) as usize])
            }
            [0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x03] => (Algo::Dsa, 63),
            [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, last @ 0x01..=0x02] => {
                (Algo::Dsa, [112, 128][(*last - 1) as usize])
            }
            [0x2b, 0x65, 0x70] => (Algo::Ed25519, 128),
            [0x2b, 0x65, 0x71] => (Algo::Ed448, 224),
            _ => return unknown,
        };
        SigInfo {
            algo,
            secbits: Some(secbits),
            md5: secbits == 39,
        }
    }
}

/// `rsa_ameth.c rsa_sig_info_set`: the PSS hash's size over 2, SHA-1 (the default) 64.
fn pss_secbits(params: Option<&der::Tlv<'_>>) -> u32 {
    let hash = params
        .and_then(|p| Reader::new(p.content).read_tag(0xa0))
        .and_then(|h| der::sequence(h.content))
        .and_then(|alg| alg.first().map(|o| o.content.to_vec()));
    match hash.as_deref() {
        Some([0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x04]) => 112,
        Some([0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01]) => 128,
        Some([0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02]) => 192,
        Some([0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03]) => 256,
        _ => 64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rsa_security_bits_follow_openssl() {
        assert_eq!(rsa_security_bits(1024), 80);
        assert_eq!(rsa_security_bits(2048), 112);
        assert_eq!(rsa_security_bits(4096), 152);
    }
}

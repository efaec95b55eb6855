//! The precertificate a log signed, rebuilt from the final certificate (RFC 6962 §3.2):
//! its TBSCertificate without the embedded SCT list extension, every other byte as
//! issued, the lengths of the extensions SEQUENCE, its [3] wrapper and the TBS
//! re-encoded minimally.

use crate::der::tlv;
use crate::verifiers::openssl::der::{self, Reader};

/// 1.3.6.1.4.1.11129.2.4.2, the embedded SCT list extension.
pub const SCT_LIST_OID: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x02];

/// The certificate's TBSCertificate, as encoded.
pub fn tbs(cert_der: &[u8]) -> Option<&[u8]> {
    let outer = der::single(cert_der, der::SEQUENCE)?;
    Reader::new(outer.content)
        .read_tag(der::SEQUENCE)
        .map(|t| t.raw)
}

/// The extension's value (the TLS-encoded SCT list inside its OCTET STRING), when the
/// certificate embeds SCTs.
pub fn embedded_list(cert_der: &[u8]) -> Option<Vec<u8>> {
    for extension in extensions(tbs(cert_der)?)? {
        let fields = Reader::new(extension.content).all()?;
        if fields
            .first()
            .is_some_and(|f| f.tag == der::OID && f.content == SCT_LIST_OID)
        {
            let value = fields.last().filter(|f| f.tag == der::OCTET_STRING)?;
            return der::single(value.content, der::OCTET_STRING).map(|t| t.content.to_vec());
        }
    }
    None
}

/// The extensions of a TBSCertificate (`[3] EXPLICIT SEQUENCE OF Extension`).
fn extensions(tbs: &[u8]) -> Option<Vec<der::Tlv<'_>>> {
    let fields = der::sequence(tbs)?;
    let wrapper = fields.iter().find(|f| f.tag == 0xa3)?;
    der::sequence(wrapper.content)
}

/// The TBSCertificate with the SCT list extension removed: what the log signed for the
/// precertificate (whose poison extension the CA left out of the final certificate).
/// `None` when the TBS does not parse or has no SCT list.
pub fn tbs_without_scts(cert_der: &[u8]) -> Option<Vec<u8>> {
    let tbs = tbs(cert_der)?;
    let fields = der::sequence(tbs)?;
    let mut found = false;
    let mut content = Vec::with_capacity(tbs.len());
    for field in &fields {
        if field.tag != 0xa3 {
            content.extend_from_slice(field.raw);
            continue;
        }
        let mut kept = Vec::new();
        for extension in der::sequence(field.content)? {
            let oid = Reader::new(extension.content).read_tag(der::OID)?;
            if oid.content == SCT_LIST_OID {
                found = true;
            } else {
                kept.extend_from_slice(extension.raw);
            }
        }
        // An extensions field left empty is dropped (SIZE (1..MAX) allows no empty one).
        if !kept.is_empty() {
            content.extend(tlv(0xa3, &tlv(der::SEQUENCE, &kept)));
        }
    }
    found.then(|| tlv(der::SEQUENCE, &content))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::{self, Spec};

    /// rcgen writes custom extensions last, so a certificate issued twice from the same
    /// parameters and key, the second time with an SCT list, is the first plus that
    /// extension: removing it must give the first TBS back byte for byte.
    #[test]
    fn removing_the_sct_list_gives_the_precertificate_tbs_back() {
        let root = lab::self_signed(&Spec::ca("CT Test Root")).unwrap();
        let mut spec = Spec::leaf("ct.example.com");
        let precert = lab::issue(&spec, &root).unwrap();
        // A list long enough that the extensions' lengths change encoding width.
        spec.sct_list = Some(vec![0x00; 300]);
        let final_cert = lab::issue_with_key(&spec, precert.key_copy(), &root).unwrap();
        assert_ne!(tbs(&final_cert.der), tbs(&precert.der));
        assert_eq!(
            tbs_without_scts(&final_cert.der).as_deref(),
            tbs(&precert.der)
        );
        assert_eq!(embedded_list(&final_cert.der), Some(vec![0x00; 300]));
        // Without an SCT list there is no precertificate to rebuild.
        assert_eq!(tbs_without_scts(&precert.der), None);
        assert_eq!(embedded_list(&precert.der), None);
        assert_eq!(tbs_without_scts(b"\x30\x03\x02\x01\x00"), None);
    }
}

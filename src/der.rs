//! DER writing, for the few structures certready assembles itself: webpki's name and key
//! contents wrapped back into whole DER, stand-in certificates for trust anchors
//! (`trust::synthetic`), and extensions rcgen has no API for (`lab`, tests).

/// A tag-length-value with DER's minimal length encoding.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let len = content.len();
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

/// A SEQUENCE around `content`.
pub fn sequence(content: &[u8]) -> Vec<u8> {
    tlv(0x30, content)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_are_minimal() {
        assert_eq!(tlv(0x04, &[1, 2]), [0x04, 2, 1, 2]);
        assert_eq!(&tlv(0x04, &[0; 0x80])[..3], [0x04, 0x81, 0x80]);
        assert_eq!(&tlv(0x04, &[0; 0x100])[..4], [0x04, 0x82, 0x01, 0x00]);
        assert_eq!(
            &tlv(0x04, &[0; 0x10000])[..5],
            [0x04, 0x83, 0x01, 0x00, 0x00]
        );
        assert_eq!(sequence(&[]), [0x30, 0]);
    }
}

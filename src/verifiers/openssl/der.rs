//! Just enough DER reading for what OpenSSL and BoringSSL decode themselves: extension
//! values, names, key parameters and the raw validity times. Decoding is done here rather
//! than with x509-parser's typed extensions because the libraries' verdicts hinge on
//! details it smooths over (a negative pathLen, a keyUsage with no bits, a subtree's
//! minimum, the exact string type of a name).

pub const BOOLEAN: u8 = 0x01;
pub const INTEGER: u8 = 0x02;
pub const BIT_STRING: u8 = 0x03;
pub const OCTET_STRING: u8 = 0x04;
pub const OID: u8 = 0x06;
pub const UTF8_STRING: u8 = 0x0c;
pub const IA5_STRING: u8 = 0x16;
pub const UTC_TIME: u8 = 0x17;
pub const GENERALIZED_TIME: u8 = 0x18;
pub const SEQUENCE: u8 = 0x30;
pub const SET: u8 = 0x31;

/// One element: its identifier octet, its contents, and its whole encoding.
#[derive(Debug, Clone, Copy)]
pub struct Tlv<'a> {
    pub tag: u8,
    pub content: &'a [u8],
    pub raw: &'a [u8],
}

/// Reads consecutive elements; `None` as soon as something is not DER it understands
/// (high tag numbers, indefinite or overlong lengths).
pub struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Reader { data }
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn peek_tag(&self) -> Option<u8> {
        self.data.first().copied()
    }

    pub fn read(&mut self) -> Option<Tlv<'a>> {
        let data = self.data;
        let tag = *data.first()?;
        if tag & 0x1f == 0x1f {
            return None;
        }
        let first = *data.get(1)?;
        let (length, header) = if first < 0x80 {
            (first as usize, 2)
        } else {
            let count = (first & 0x7f) as usize;
            if count == 0 || count > 4 {
                return None;
            }
            let bytes = data.get(2..2 + count)?;
            let length = bytes.iter().fold(0usize, |acc, b| (acc << 8) | *b as usize);
            (length, 2 + count)
        };
        let end = header.checked_add(length)?;
        let content = data.get(header..end)?;
        self.data = &data[end..];
        Some(Tlv {
            tag,
            content,
            raw: &data[..end],
        })
    }

    /// The next element if it has `tag`.
    pub fn read_tag(&mut self, tag: u8) -> Option<Tlv<'a>> {
        (self.peek_tag()? == tag).then(|| self.read()).flatten()
    }

    /// Every remaining element, or `None` if one is malformed.
    pub fn all(mut self) -> Option<Vec<Tlv<'a>>> {
        let mut out = Vec::new();
        while !self.is_empty() {
            out.push(self.read()?);
        }
        Some(out)
    }
}

/// `data` as exactly one element with `tag`.
pub fn single(data: &[u8], tag: u8) -> Option<Tlv<'_>> {
    let mut reader = Reader::new(data);
    let tlv = reader.read_tag(tag)?;
    reader.is_empty().then_some(tlv)
}

/// The elements of a SEQUENCE that makes up all of `data`.
pub fn sequence(data: &[u8]) -> Option<Vec<Tlv<'_>>> {
    Reader::new(single(data, SEQUENCE)?.content).all()
}

/// A DER tag-length-value.
pub fn encode(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
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

/// The number of significant bits of an unsigned INTEGER's contents.
pub fn unsigned_bits(content: &[u8]) -> u32 {
    let significant: &[u8] = {
        let skip = content.iter().take_while(|b| **b == 0).count();
        &content[skip..]
    };
    match significant.first() {
        None => 0,
        Some(first) => (significant.len() as u32 - 1) * 8 + (8 - first.leading_zeros()),
    }
}

/// A BIT STRING's data bytes with the unused bits of the last byte cleared, as
/// `c2i_ASN1_BIT_STRING` stores them; `None` when the contents are malformed.
pub fn bit_string(content: &[u8]) -> Option<Vec<u8>> {
    let (&unused, data) = content.split_first()?;
    if unused > 7 || (data.is_empty() && unused != 0) {
        return None;
    }
    let mut data = data.to_vec();
    if let Some(last) = data.last_mut() {
        *last &= 0xffu8 << unused;
    }
    Some(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_round_trip_and_bits_count() {
        let long = vec![7u8; 300];
        let encoded = encode(OCTET_STRING, &long);
        let tlv = single(&encoded, OCTET_STRING).unwrap();
        assert_eq!(tlv.content, long.as_slice());
        assert_eq!(unsigned_bits(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(unsigned_bits(&[0x01]), 1);
        assert_eq!(bit_string(&[0x01, 0xff]).unwrap(), vec![0xfe]);
        assert!(single(&[0x30, 0x80, 0x00, 0x00], SEQUENCE).is_none());
    }
}

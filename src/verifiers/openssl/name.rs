//! Distinguished names and general names as OpenSSL and BoringSSL hold them: names compare
//! by their canonical encoding (`x_name.c x509_name_canon`: string values as UTF-8,
//! ASCII lowercased, spaces trimmed and collapsed), and general names keep their raw bytes
//! because the matchers compare bytes, not text.

use super::der::{self, Reader, Tlv};

pub const OID_COMMON_NAME: &[u8] = &[0x55, 0x04, 0x03];
pub const OID_EMAIL_ADDRESS: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01];

/// One attribute of a name: its type, the string type (universal tag) and value bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    pub oid: Vec<u8>,
    pub tag: u8,
    pub value: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    /// `canon_enc`: equal names have equal bytes; a directoryName constraint is a prefix.
    pub canon: Vec<u8>,
    pub attributes: Vec<Attribute>,
}

impl Name {
    /// Parses a Name SEQUENCE; `None` when OpenSSL's decoder would refuse it (which makes
    /// the whole certificate unreadable).
    pub fn parse(raw: &[u8]) -> Option<Name> {
        let mut attributes = Vec::new();
        let mut canon = Vec::new();
        for rdn in der::sequence(raw)? {
            if rdn.tag != der::SET {
                return None;
            }
            let mut encoded: Vec<Vec<u8>> = Vec::new();
            for atav in Reader::new(rdn.content).all()? {
                let parts = Reader::new(der::single(atav.raw, der::SEQUENCE)?.content).all()?;
                let [oid, value] = parts.as_slice() else {
                    return None;
                };
                if oid.tag != der::OID {
                    return None;
                }
                let canonical = canonical_value(value)?;
                let mut entry = oid.raw.to_vec();
                entry.extend(canonical);
                encoded.push(der::encode(der::SEQUENCE, &entry));
                attributes.push(Attribute {
                    oid: oid.content.to_vec(),
                    tag: value.tag,
                    value: value.content.to_vec(),
                });
            }
            // The canonical SET OF is DER: its members sorted by their encodings.
            encoded.sort();
            canon.extend(der::encode(der::SET, &encoded.concat()));
        }
        Some(Name { canon, attributes })
    }

    pub fn is_empty(&self) -> bool {
        self.attributes.is_empty()
    }

    /// The attributes of one type, in order (`X509_NAME_get_index_by_NID` loops).
    pub fn of_type<'a>(&'a self, oid: &'a [u8]) -> impl Iterator<Item = &'a Attribute> + 'a {
        self.attributes.iter().filter(move |a| a.oid == oid)
    }
}

/// The canonical form of one attribute value (`asn1_string_canon`).
fn canonical_value(value: &Tlv<'_>) -> Option<Vec<u8>> {
    // ASN1_MASK_CANON: UTF8, BMP, Universal, Printable, T61, IA5 and Visible strings.
    if !matches!(value.tag, 0x0c | 0x1e | 0x1c | 0x13 | 0x14 | 0x16 | 0x1a) {
        return Some(value.raw.to_vec());
    }
    let utf8 = to_utf8(value.tag, value.content)?;
    let is_space = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r');
    let start = utf8.iter().position(|b| !is_space(b)).unwrap_or(utf8.len());
    let end = utf8
        .iter()
        .rposition(|b| !is_space(b))
        .map_or(start, |i| i + 1);
    let mut out = Vec::with_capacity(end - start);
    let mut previous_space = false;
    for b in &utf8[start..end] {
        if is_space(b) {
            if !previous_space {
                out.push(b' ');
            }
            previous_space = true;
        } else {
            out.push(b.to_ascii_lowercase());
            previous_space = false;
        }
    }
    Some(der::encode(der::UTF8_STRING, &out))
}

/// `ASN1_STRING_to_UTF8`: the value's characters as UTF-8, `None` for a type that is not
/// a string or contents that do not decode.
pub fn to_utf8(tag: u8, value: &[u8]) -> Option<Vec<u8>> {
    let units: Vec<u32> = match tag {
        0x0c => return std::str::from_utf8(value).ok().map(|_| value.to_vec()),
        // Numeric, Printable, T61, IA5, UTCTime, GeneralizedTime, Visible: one byte each.
        0x12 | 0x13 | 0x14 | 0x16 | 0x17 | 0x18 | 0x1a => value.iter().map(|b| *b as u32).collect(),
        0x1e if value.len().is_multiple_of(2) => value
            .chunks(2)
            .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
            .collect(),
        0x1c if value.len().is_multiple_of(4) => value
            .chunks(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        _ => return None,
    };
    let mut out = Vec::new();
    for unit in units {
        // UTF8_putc: any value up to 0x10FFFF, surrogates included.
        match unit {
            0..=0x7f => out.push(unit as u8),
            0x80..=0x7ff => out.extend([0xc0 | (unit >> 6) as u8, 0x80 | (unit & 0x3f) as u8]),
            0x800..=0xffff => out.extend([
                0xe0 | (unit >> 12) as u8,
                0x80 | ((unit >> 6) & 0x3f) as u8,
                0x80 | (unit & 0x3f) as u8,
            ]),
            0x10000..=0x10ffff => out.extend([
                0xf0 | (unit >> 18) as u8,
                0x80 | ((unit >> 12) & 0x3f) as u8,
                0x80 | ((unit >> 6) & 0x3f) as u8,
                0x80 | (unit & 0x3f) as u8,
            ]),
            _ => return None,
        }
    }
    Some(out)
}

/// A GeneralName by kind, with the bytes the matchers compare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GeneralName {
    Other { type_id: Vec<u8> },
    Email(Vec<u8>),
    Dns(Vec<u8>),
    X400,
    Dir(Name),
    Edi,
    Uri(Vec<u8>),
    Ip(Vec<u8>),
    Rid,
}

impl GeneralName {
    /// The GeneralName CHOICE number (`GEN_OTHERNAME` = 0 … `GEN_RID` = 8).
    pub fn kind(&self) -> u8 {
        match self {
            GeneralName::Other { .. } => 0,
            GeneralName::Email(_) => 1,
            GeneralName::Dns(_) => 2,
            GeneralName::X400 => 3,
            GeneralName::Dir(_) => 4,
            GeneralName::Edi => 5,
            GeneralName::Uri(_) => 6,
            GeneralName::Ip(_) => 7,
            GeneralName::Rid => 8,
        }
    }

    fn parse(tlv: &Tlv<'_>) -> Option<GeneralName> {
        Some(match tlv.tag {
            0xa0 => {
                let mut reader = Reader::new(tlv.content);
                let type_id = reader.read_tag(der::OID)?;
                reader.read_tag(0xa0)?;
                GeneralName::Other {
                    type_id: type_id.content.to_vec(),
                }
            }
            0x81 => GeneralName::Email(tlv.content.to_vec()),
            0x82 => GeneralName::Dns(tlv.content.to_vec()),
            0xa3 => GeneralName::X400,
            0xa4 => GeneralName::Dir(Name::parse(der::single(tlv.content, der::SEQUENCE)?.raw)?),
            0xa5 => GeneralName::Edi,
            0x86 => GeneralName::Uri(tlv.content.to_vec()),
            0x87 => GeneralName::Ip(tlv.content.to_vec()),
            0x88 => GeneralName::Rid,
            _ => return None,
        })
    }
}

/// The contents of a GeneralNames SEQUENCE (or an IMPLICIT one), each name decoded.
pub fn general_names(content: &[u8]) -> Option<Vec<GeneralName>> {
    Reader::new(content)
        .all()?
        .iter()
        .map(GeneralName::parse)
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subtree {
    pub base: GeneralName,
    /// The minimum's INTEGER contents when present (absent means the default, 0).
    pub minimum: Option<Vec<u8>>,
    pub maximum: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NameConstraints {
    pub permitted: Vec<Subtree>,
    pub excluded: Vec<Subtree>,
}

impl NameConstraints {
    pub fn parse(value: &[u8]) -> Option<NameConstraints> {
        let mut constraints = NameConstraints::default();
        let mut reader = Reader::new(der::single(value, der::SEQUENCE)?.content);
        if let Some(permitted) = reader.read_tag(0xa0) {
            constraints.permitted = subtrees(permitted.content)?;
        }
        if let Some(excluded) = reader.read_tag(0xa1) {
            constraints.excluded = subtrees(excluded.content)?;
        }
        reader.is_empty().then_some(constraints)
    }
}

fn subtrees(content: &[u8]) -> Option<Vec<Subtree>> {
    let mut out = Vec::new();
    for subtree in Reader::new(content).all()? {
        if subtree.tag != der::SEQUENCE {
            return None;
        }
        let mut reader = Reader::new(subtree.content);
        let base = GeneralName::parse(&reader.read()?)?;
        let minimum = reader.read_tag(0x80).map(|m| m.content.to_vec());
        let maximum = reader.read_tag(0x81).is_some();
        if !reader.is_empty() {
            return None;
        }
        out.push(Subtree {
            base,
            minimum,
            maximum,
        });
    }
    Some(out)
}

/// An authorityKeyIdentifier's three optional fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Akid {
    pub key_id: Option<Vec<u8>>,
    pub issuer: Option<Vec<GeneralName>>,
    pub serial: Option<Vec<u8>>,
}

impl Akid {
    pub fn parse(value: &[u8]) -> Option<Akid> {
        let mut reader = Reader::new(der::single(value, der::SEQUENCE)?.content);
        let key_id = reader.read_tag(0x80).map(|t| t.content.to_vec());
        let issuer = match reader.read_tag(0xa1) {
            Some(t) => Some(general_names(t.content)?),
            None => None,
        };
        let serial = reader.read_tag(0x82).map(|t| t.content.to_vec());
        reader.is_empty().then_some(Akid {
            key_id,
            issuer,
            serial,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(cn: &[u8], tag: u8) -> Vec<u8> {
        let mut atav = der::encode(der::OID, OID_COMMON_NAME);
        atav.extend(der::encode(tag, cn));
        der::encode(
            der::SEQUENCE,
            &der::encode(der::SET, &der::encode(der::SEQUENCE, &atav)),
        )
    }

    #[test]
    fn names_compare_case_and_space_insensitively_across_string_types() {
        let printable = Name::parse(&name(b"  Test   Root ", 0x13)).unwrap();
        let utf8 = Name::parse(&name(b"test root", 0x0c)).unwrap();
        assert_eq!(printable.canon, utf8.canon);
        let other = Name::parse(&name(b"test root 2", 0x0c)).unwrap();
        assert_ne!(printable.canon, other.canon);
        let bmp = Name::parse(&name(&[0, b'T', 0, b'e', 0, b's', 0, b't'], 0x1e)).unwrap();
        assert_eq!(bmp.canon, Name::parse(&name(b"test", 0x13)).unwrap().canon);
    }
}

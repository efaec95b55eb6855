//! The typed mirror of certready's JSON (tests/it/common/json.rs) against the real output
//! and against docs/json-schema.md: the demo parses into it, it is strict (a field added
//! or dropped fails), and the doc names every field it has.

use std::cell::RefCell;
use std::collections::BTreeSet;

use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, Visitor};

use crate::common::*;

/// Every field the demo prints is in the mirror (`deny_unknown_fields`), every field of
/// the mirror is printed (no `Option` may be missing), and the values are as documented.
#[test]
fn the_demo_json_parses_into_the_mirror() {
    let lab = Lab::new();
    let run = lab.run(&["demo", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc = run.doc();
    assert_eq!(doc.reports.len(), 4);
    assert_eq!(
        doc.summary,
        json::Summary {
            ok: 1,
            warning: 0,
            critical: 3,
            unknown: 0
        }
    );
    // The demo's scenarios fill the optional parts: a handshake, an anchor, a missing
    // issuer, an extended key usage, recommendations.
    assert!(doc.reports.iter().all(|r| r.tls.is_some()));
    assert!(doc.reports.iter().any(|r| r.path.anchor.is_some()));
    assert!(doc.reports.iter().any(|r| r.path.missing_issuer.is_some()));
    let certs = doc.reports.iter().flat_map(|r| &r.chain);
    assert!(certs.clone().any(|c| c.extended_key_usage.is_some()));
    assert!(certs.clone().any(|c| !c.ca_issuers_urls.is_empty()));
    // Generated on the spot: no CA logged them, so no embedded SCTs.
    assert!(certs.clone().all(|c| c.sct_count == 0));
    assert!(doc.reports.iter().any(|r| !r.recommendations.is_empty()));
    // The missing intermediate is fetched from the demo's own caIssuers URL.
    assert!(doc.reports.iter().any(|r| !r.aia_fetched.is_empty()));
}

/// The mirror fails loudly on drift. The demo's JSON is edited as untyped JSON on
/// purpose: that is the drift the mirror must catch.
#[test]
fn the_mirror_refuses_an_added_or_a_missing_field() {
    let lab = Lab::new();
    let run = lab.run(&["demo", "--format", "json"]);
    let original: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert!(serde_json::from_value::<json::Document>(original.clone()).is_ok());

    type Edit = fn(&mut serde_json::Value);
    let edits: [(&str, Edit); 4] = [
        ("a new report field", |doc| {
            doc["reports"][0]["surprise"] = 1.into();
        }),
        ("a null field left out", |doc| {
            doc["reports"][0].as_object_mut().unwrap().remove("role");
        }),
        ("a renamed certificate field", |doc| {
            let cert = doc["reports"][0]["chain"][0].as_object_mut().unwrap();
            let sha256 = cert.remove("sha256").unwrap();
            cert.insert("sha_256".into(), sha256);
        }),
        ("an undocumented status", |doc| {
            doc["reports"][0]["status"] = "fine".into();
        }),
    ];
    for (what, edit) in edits {
        let mut doc = original.clone();
        edit(&mut doc);
        assert!(
            serde_json::from_value::<json::Document>(doc).is_err(),
            "the mirror accepts {what}"
        );
    }
}

/// Every field name of the four mirrored documents appears in docs/json-schema.md, in
/// backticks (the tables, the prose) or as a key of its JSON examples.
#[test]
fn docs_json_schema_names_every_field_of_the_mirror() {
    let doc = std::fs::read_to_string("docs/json-schema.md").unwrap();
    let mut documented = BTreeSet::new();
    let word = regex::Regex::new("[a-z_][a-z0-9_]*").unwrap();
    let code = regex::Regex::new("`[^`\n]+`").unwrap();
    for span in code.find_iter(&doc) {
        documented.extend(word.find_iter(span.as_str()).map(|m| m.as_str()));
    }
    let key = regex::Regex::new(r#""([a-z_][a-z0-9_]*)"\s*:"#).unwrap();
    documented.extend(key.captures_iter(&doc).map(|c| c.get(1).unwrap().as_str()));

    let mut fields = field_names::<json::Document>();
    fields.extend(field_names::<json::FlyteDocument>());
    fields.extend(field_names::<json::LintDocument>());
    fields.extend(field_names::<json::WhyDocument>());
    // The walk reaches nested and optional types, not just the top level.
    for deep in [
        "unknown_critical_extensions",
        "grpc_message",
        "jwks_uri",
        "line",
        "certificate_name",
    ] {
        assert!(fields.contains(deep), "{deep} not found in {fields:?}");
    }
    let undocumented: Vec<&str> = fields
        .iter()
        .copied()
        .filter(|f| !documented.contains(f))
        .collect();
    assert!(
        undocumented.is_empty(),
        "docs/json-schema.md does not name {undocumented:?}"
    );
}

/// The names of every field of `T` and of the types it contains.
fn field_names<T: DeserializeOwned>() -> BTreeSet<&'static str> {
    let seen = RefCell::new(BTreeSet::new());
    T::deserialize(FieldNames(&seen)).expect("the walk reaches every field");
    seen.into_inner()
}

type WalkError = de::value::Error;

/// A `Deserializer` that walks a type instead of data: it offers every struct each of its
/// fields (recording their names), every option `Some`, every sequence one element and
/// every enum its first variant, so that nested types are reached too.
struct FieldNames<'a>(&'a RefCell<BTreeSet<&'static str>>);

impl<'de> de::Deserializer<'de> for FieldNames<'_> {
    type Error = WalkError;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, WalkError> {
        Err(de::Error::custom("a type the walk does not know"))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, WalkError> {
        visitor.visit_bool(false)
    }

    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, WalkError> {
        visitor.visit_u64(0)
    }

    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, WalkError> {
        visitor.visit_u64(0)
    }

    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, WalkError> {
        visitor.visit_u64(0)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, WalkError> {
        visitor.visit_f64(0.0)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, WalkError> {
        visitor.visit_str("")
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, WalkError> {
        visitor.visit_str("")
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, WalkError> {
        visitor.visit_some(self)
    }

    /// Maps keyed by data (counts by kind) have no field names: an empty one.
    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, WalkError> {
        visitor.visit_map(de::value::MapDeserializer::<_, WalkError>::new(
            std::iter::empty::<(&str, u64)>(),
        ))
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, WalkError> {
        visitor.visit_seq(OneElement(Some(self.0)))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, WalkError> {
        self.0.borrow_mut().extend(fields);
        visitor.visit_map(Fields {
            names: fields.iter(),
            seen: self.0,
        })
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, WalkError> {
        visitor.visit_enum(IntoDeserializer::<WalkError>::into_deserializer(
            variants[0],
        ))
    }

    serde::forward_to_deserialize_any! {
        i8 i16 i32 i64 i128 u8 u128 f32 char bytes byte_buf unit unit_struct
        newtype_struct tuple tuple_struct identifier ignored_any
    }
}

/// A struct's fields, each answered by the walk.
struct Fields<'a> {
    names: std::slice::Iter<'static, &'static str>,
    seen: &'a RefCell<BTreeSet<&'static str>>,
}

impl<'de> de::MapAccess<'de> for Fields<'_> {
    type Error = WalkError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, WalkError> {
        self.names
            .next()
            .map(|name| seed.deserialize(IntoDeserializer::<WalkError>::into_deserializer(*name)))
            .transpose()
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, WalkError> {
        seed.deserialize(FieldNames(self.seen))
    }
}

/// A sequence of one element, answered by the walk.
struct OneElement<'a>(Option<&'a RefCell<BTreeSet<&'static str>>>);

impl<'de> de::SeqAccess<'de> for OneElement<'_> {
    type Error = WalkError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, WalkError> {
        self.0
            .take()
            .map(|seen| seed.deserialize(FieldNames(seen)))
            .transpose()
    }
}

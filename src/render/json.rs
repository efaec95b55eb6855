//! JSON output (schema: docs/json-schema.md): every fact of the reports, as data.

use crate::report::{Document, Report, Summary, SCHEMA_VERSION};

/// `{"schema_version", "reports", "summary"}` for `check`, `inspect` and the demo.
pub fn reports(reports: &[Report]) -> String {
    serde_json::to_string_pretty(&Document {
        schema_version: SCHEMA_VERSION,
        reports,
        summary: Summary::of(reports),
    })
    .expect("reports serialise")
}

/// A JSON document: `{"schema_version": 1, key: value, …}`, for `flyte` and `lint-config`.
pub fn document(fields: serde_json::Value) -> String {
    let mut document = serde_json::json!({ "schema_version": SCHEMA_VERSION });
    if let (Some(doc), serde_json::Value::Object(extra)) = (document.as_object_mut(), fields) {
        doc.extend(extra);
    }
    serde_json::to_string_pretty(&document).expect("reports serialise") + "\n"
}

/// `value` pretty-printed as it is at `depth` levels inside a pretty-printed document (two
/// spaces a level, the first line unindented), for documents written piece by piece.
/// Every line break is serde_json's own: strings in JSON never hold a raw one.
pub fn indented<T: serde::Serialize>(value: &T, depth: usize) -> String {
    let text = serde_json::to_string_pretty(value).expect("reports serialise");
    if depth == 0 {
        return text;
    }
    text.replace('\n', &format!("\n{}", "  ".repeat(depth)))
}

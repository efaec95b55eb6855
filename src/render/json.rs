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

//! YAML as the linters read it: every node with the line and column it came from, a
//! multi-document stream split so that one broken document costs only itself, and
//! bounds (depth, nodes, aliases) so hostile input ends in a clear error.

use std::collections::HashMap;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Budget, Options, Spanned};

/// A YAML node and where it starts in the file (1-based).
#[derive(Debug, Clone)]
pub struct Node {
    pub value: Value,
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Clone)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

/// A mapping entry; its key's line is where a finding about the key points.
#[derive(Debug, Clone)]
pub struct Entry {
    pub key: String,
    pub key_line: usize,
    pub value: Node,
}

impl Node {
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }

    pub fn entry(&self, key: &str) -> Option<&Entry> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|e| e.key == key),
            _ => None,
        }
    }

    /// The node at a dotted path of mapping keys (`spec.template.spec`).
    pub fn at(&self, path: &str) -> Option<&Node> {
        path.split('.').try_fold(self, |node, key| node.get(key))
    }

    pub fn entries(&self) -> &[Entry] {
        match &self.value {
            Value::Map(entries) => entries,
            _ => &[],
        }
    }

    pub fn items(&self) -> &[Node] {
        match &self.value {
            Value::Seq(items) => items,
            _ => &[],
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.value {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self.value {
            Value::Int(i) => Some(i),
            _ => None,
        }
    }

    pub fn is_map(&self) -> bool {
        matches!(self.value, Value::Map(_))
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// What kind of value this is, for messages about wrong types.
    pub fn type_name(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) | Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    /// The scalar as text (numbers and booleans as YAML writes them).
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::Str(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            _ => None,
        }
    }

    /// The same data as JSON, for the linters that read a config as a whole.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::Str(s) => J::String(s.clone()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => J::Object(
                entries
                    .iter()
                    .map(|e| (e.key.clone(), e.value.to_json()))
                    .collect(),
            ),
        }
    }

    /// Dotted key path (relative to this node, `prefix` first) → line of that key, for
    /// every mapping key below; list items as `[i]`.
    pub fn key_lines(&self, prefix: &str) -> HashMap<String, usize> {
        let mut lines = HashMap::new();
        self.collect_key_lines(prefix, &mut lines);
        lines
    }

    fn collect_key_lines(&self, path: &str, lines: &mut HashMap<String, usize>) {
        match &self.value {
            Value::Map(entries) => {
                for entry in entries {
                    let key = join(path, &entry.key);
                    lines.entry(key.clone()).or_insert(entry.key_line);
                    entry.value.collect_key_lines(&key, lines);
                }
            }
            Value::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    item.collect_key_lines(&format!("{path}[{i}]"), lines);
                }
            }
            _ => {}
        }
    }

    fn shift_lines(&mut self, by: usize) {
        self.line += by;
        match &mut self.value {
            Value::Map(entries) => {
                for entry in entries {
                    entry.key_line += by;
                    entry.value.shift_lines(by);
                }
            }
            Value::Seq(items) => items.iter_mut().for_each(|item| item.shift_lines(by)),
            _ => {}
        }
    }
}

/// `a.b` + `c` → `a.b.c`; an empty path gives the key alone.
pub fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// A document of a stream that did not parse: where, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DocumentError {
    /// 1-based position of the document in the stream.
    pub document: usize,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl fmt::Display for DocumentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "document {}", self.document)?;
        if let (Some(line), Some(column)) = (self.line, self.column) {
            write!(f, " (line {line}, column {column})")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// One document of a stream: its root node (None when it holds only comments), or why
/// it could not be read.
pub struct Document {
    pub index: usize,
    pub first_line: usize,
    pub root: Result<Option<Node>, DocumentError>,
}

/// Limits for one document: generous for a `kubectl get -o yaml` List of thousands of
/// objects (a 10 MiB file holds well under a million nodes), tight enough that an alias
/// bomb or a 10,000-deep nesting stops at once.
fn options() -> Options {
    let mut budget = Budget::default();
    budget.max_depth = 64;
    budget.max_nodes = 1_000_000;
    budget.max_aliases = 10_000;
    let mut options = Options::default();
    options.budget = Some(budget);
    options
}

/// Splits `text` at its document markers (`---` and `...` at the start of a line, which
/// end a document wherever they appear) and parses each document on its own, so that
/// line numbers stay those of the whole file and a broken document does not hide the
/// others.
pub fn parse_stream(text: &str) -> Vec<Document> {
    let mut documents = Vec::new();
    for (first_line, chunk) in split_documents(text) {
        if is_blank(chunk) {
            continue;
        }
        let index = documents.len() + 1;
        documents.push(Document {
            index,
            first_line,
            root: parse_document(chunk, first_line, index),
        });
    }
    documents
}

/// Parses one document (`text` starts at line `first_line` of its file).
pub fn parse_document(
    text: &str,
    first_line: usize,
    index: usize,
) -> Result<Option<Node>, DocumentError> {
    match serde_saphyr::from_str_with_options::<Option<Node>>(text, options()) {
        Ok(mut root) => {
            if let Some(root) = &mut root {
                root.shift_lines(first_line - 1);
            }
            Ok(root)
        }
        Err(e) => {
            let location = e.location().filter(|l| l.line() > 0);
            Err(DocumentError {
                document: index,
                line: location.map(|l| l.line() as usize + first_line - 1),
                column: location.map(|l| l.column() as usize),
                message: error_message(&e),
            })
        }
    }
}

/// The parser's message without its own "line L column C" and source snippet, which
/// refer to the document rather than the file.
fn error_message(error: &serde_saphyr::Error) -> String {
    let text = error.without_snippet().to_string();
    let text = text.strip_prefix("error: ").unwrap_or(&text);
    let text = match text.split_once(": ") {
        Some((place, rest)) if place.starts_with("line ") => rest,
        _ => text,
    };
    let first = text.lines().next().unwrap_or(text).trim();
    // Positions inside the message are the document's, not the file's: drop them.
    let first = first.split(" at line ").next().unwrap_or(first).trim();
    if first.contains("budget breached") || first.contains("recursion limit") {
        format!("{first} (certready reads at most 64 levels of nesting, 1,000,000 nodes and 10,000 aliases per document)")
    } else {
        first.to_string()
    }
}

/// (first line, text) of each document; a document starts at its `---` line.
fn split_documents(text: &str) -> Vec<(usize, &str)> {
    let mut chunks = Vec::new();
    let mut start = 0;
    let mut start_line = 1;
    let mut offset = 0;
    for (number, line) in text.split_inclusive('\n').enumerate() {
        let line_number = number + 1;
        let bare = line.trim_end_matches(['\n', '\r']);
        if is_marker(bare, "---") && offset > start {
            chunks.push((start_line, &text[start..offset]));
            start = offset;
            start_line = line_number;
        }
        offset += line.len();
        if is_marker(bare, "...") {
            chunks.push((start_line, &text[start..offset]));
            start = offset;
            start_line = line_number + 1;
        }
    }
    if start < text.len() {
        chunks.push((start_line, &text[start..]));
    }
    chunks
}

fn is_marker(line: &str, marker: &str) -> bool {
    line.strip_prefix(marker)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
}

/// Only whitespace, comments, directives and document markers.
fn is_blank(chunk: &str) -> bool {
    chunk.lines().all(|line| {
        let line = line.trim();
        line.is_empty()
            || line.starts_with('#')
            || line.starts_with('%')
            || line == "---"
            || line == "..."
            || (line.starts_with("--- ") && line[4..].trim_start().starts_with('#'))
    })
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<Value>::deserialize(deserializer)?;
        Ok(Node {
            value: spanned.value,
            line: spanned.referenced.line() as usize,
            column: spanned.referenced.column() as usize,
        })
    }
}

/// A mapping key of any scalar type, as text.
struct Key(String);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let node = Node::deserialize(deserializer)?;
        Ok(Key(node.scalar_text().unwrap_or_else(|| {
            match node.value {
                Value::Null => "null".into(),
                _ => format!("<{} key>", node.type_name()),
            }
        })))
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ValueVisitor;
        impl<'de> Visitor<'de> for ValueVisitor {
            type Value = Value;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_unit<E>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_none<E>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
                Value::deserialize(d)
            }
            fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
                Ok(Value::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
                Ok(Value::Int(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
                Ok(i64::try_from(v).map_or(Value::Float(v as f64), Value::Int))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
                Ok(Value::Float(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<Value, E> {
                Ok(Value::Str(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<Value, E> {
                Ok(Value::Str(v))
            }
            fn visit_bytes<E>(self, v: &[u8]) -> Result<Value, E> {
                Ok(Value::Str(String::from_utf8_lossy(v).into_owned()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Node>()? {
                    items.push(item);
                }
                Ok(Value::Seq(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<Spanned<Key>>()? {
                    let value = map.next_value::<Node>()?;
                    entries.push(Entry {
                        key: key.value.0,
                        key_line: key.referenced.line() as usize,
                        value,
                    });
                }
                Ok(Value::Map(entries))
            }
        }
        deserializer.deserialize_any(ValueVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roots(text: &str) -> Vec<Result<Option<Node>, DocumentError>> {
        parse_stream(text).into_iter().map(|d| d.root).collect()
    }

    #[test]
    fn lines_are_those_of_the_whole_stream() {
        let text = "# Source: a\n---\nkind: A\nmetadata:\n  name: a\n---\n# Source: b\nkind: B\nspec:\n  containers:\n    - name: c\n      securityContext:\n        runAsUser: 0\n";
        let docs = roots(text);
        assert_eq!(docs.len(), 2);
        let b = docs[1].as_ref().unwrap().as_ref().unwrap();
        let container = &b.at("spec.containers").unwrap().items()[0];
        let entry = container
            .get("securityContext")
            .unwrap()
            .entry("runAsUser")
            .unwrap();
        assert_eq!(entry.key_line, 13);
        assert_eq!(entry.value.as_i64(), Some(0));
        assert_eq!(
            b.key_lines("")["spec.containers[0].securityContext.runAsUser"],
            13
        );
    }

    #[test]
    fn a_broken_document_costs_only_itself() {
        let text = "kind: A\n---\nkind: B\n  bad: [\n---\nkind: C\n";
        let docs = parse_stream(text);
        assert_eq!(docs.len(), 3);
        assert!(docs[0].root.is_ok());
        let error = docs[1].root.as_ref().unwrap_err();
        assert_eq!(error.document, 2);
        assert_eq!(error.line, Some(4), "{error}");
        assert!(docs[2].root.is_ok());
    }

    #[test]
    fn alias_bombs_and_deep_nesting_end_in_an_error() {
        let mut bomb = String::from("a: &a [x,x,x,x,x,x,x,x,x]\n");
        for (i, c) in ('b'..='i').enumerate() {
            let prev = (b'a' + i as u8) as char;
            bomb.push_str(&format!(
                "{c}: &{c} [{}]\n",
                vec![format!("*{prev}"); 9].join(",")
            ));
        }
        let error = roots(&bomb).remove(0).unwrap_err();
        assert!(error.message.contains("budget"), "{error}");
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        let error = roots(&deep).remove(0).unwrap_err();
        assert!(error.message.contains("nesting"), "{error}");
    }

    #[test]
    fn comments_only_streams_are_empty() {
        assert!(parse_stream("# nothing\n---\n---\n# more\n").is_empty());
        assert!(parse_stream("").is_empty());
    }

    #[test]
    fn markers_inside_block_scalars_need_indentation() {
        let text = "data:\n  a: |\n    ---\n    x: 1\n";
        let docs = roots(text);
        assert_eq!(docs.len(), 1);
        let root = docs[0].as_ref().unwrap().as_ref().unwrap();
        assert_eq!(root.at("data.a").unwrap().as_str(), Some("---\nx: 1\n"));
    }
}

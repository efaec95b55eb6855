//! A Kubernetes object of a manifest stream: its kind, name, namespace and node.

use super::yaml::Node;

/// A Kubernetes object of the stream.
pub(super) struct Object<'a> {
    pub(super) kind: String,
    pub(super) namespace: Option<String>,
    pub(super) name: String,
    /// `Kind/namespace/name`, or `Kind/name` without a namespace.
    pub(super) label: String,
    pub(super) node: &'a Node,
    /// The stream document it came from (1-based).
    pub(super) document: usize,
}

/// Whether `node` is a Kubernetes object (or a List of them).
pub(super) fn is_object(node: &Node) -> bool {
    node.get("apiVersion").and_then(Node::as_str).is_some()
        && node.get("kind").and_then(Node::as_str).is_some()
}

pub(super) fn object<'a>(node: &'a Node, document: usize) -> Option<Object<'a>> {
    if !is_object(node) {
        return None;
    }
    let kind = node.get("kind").and_then(Node::as_str)?.to_string();
    let metadata = node.get("metadata");
    let text = |key: &str| metadata.and_then(|m| m.get(key)).and_then(Node::as_str);
    let name = text("name").unwrap_or("(unnamed)").to_string();
    let namespace = text("namespace").map(str::to_string);
    let label = match &namespace {
        Some(ns) => format!("{kind}/{ns}/{name}"),
        None => format!("{kind}/{name}"),
    };
    Some(Object {
        kind,
        namespace,
        name,
        label,
        node,
        document,
    })
}

//! Collects a config's findings, each with its dotted key and the line of that key in
//! the file (which may hold the config inside Helm values or a ConfigMap).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::report::LintFinding;
use super::yaml::Node;
use crate::findings::{Finding, FindingId};

pub(super) struct Linter<'a> {
    /// Key path (relative to the config) → line in the file.
    lines: HashMap<String, usize>,
    /// Put before a key in findings: where the config sits in the file
    /// (`configmap.adminServer.` in flyte-core values).
    prefix: String,
    /// Per top-level key, a prefix instead (a ConfigMap's data key the section came from).
    top_level_prefixes: HashMap<String, String>,
    object: Option<String>,
    findings: Vec<LintFinding>,
    base_dir: &'a Path,
}

impl<'a> Linter<'a> {
    /// For the config `root`; relative paths in it are read from `base_dir`.
    pub(super) fn new(root: &Node, base_dir: &'a Path) -> Self {
        Self::with_lines(root.key_lines(""), base_dir)
    }

    /// For a config whose key lines are already known.
    pub(super) fn with_lines(lines: HashMap<String, usize>, base_dir: &'a Path) -> Self {
        Linter {
            lines,
            prefix: String::new(),
            top_level_prefixes: HashMap::new(),
            object: None,
            findings: Vec::new(),
            base_dir,
        }
    }

    /// Keys in findings start with `prefix` (e.g. `configmap.adminServer.`).
    pub(super) fn prefixed(mut self, prefix: &str) -> Self {
        self.prefix = prefix.to_string();
        self
    }

    /// Keys under `top` start with `prefix` instead.
    pub(super) fn prefix_top_level(&mut self, top: &str, prefix: String) {
        self.top_level_prefixes.insert(top.to_string(), prefix);
    }

    /// Findings concern this Kubernetes object.
    pub(super) fn in_object(mut self, object: Option<String>) -> Self {
        self.object = object;
        self
    }

    /// `key` as findings name it: where the config sits in the file, then the key.
    fn displayed(&self, key: &str) -> String {
        let top = key.split('.').next().unwrap_or(key);
        let prefix = self.top_level_prefixes.get(top).unwrap_or(&self.prefix);
        format!("{prefix}{key}")
    }

    pub(super) fn push(&mut self, key: &str, finding: Finding) {
        let mut lint = LintFinding::new(finding, Some(self.displayed(key)), None);
        // A key the file leaves out (a default) points at its nearest written parent.
        lint.line = std::iter::successors(Some(key), |k| k.rsplit_once('.').map(|(p, _)| p))
            .find_map(|k| self.lines.get(k).copied());
        lint.object = self.object.clone();
        self.findings.push(lint);
    }

    /// A finding for each key of `value` not in `known`, with the likeliest meant key.
    pub(super) fn unknown_keys(&mut self, section: &str, value: &Value, known: &[&str]) {
        let Some(map) = value.as_object() else { return };
        for key in map.keys() {
            if known.contains(&key.as_str()) {
                continue;
            }
            let suggestion = known
                .iter()
                .map(|k| (strsim::jaro_winkler(k, key), *k))
                .filter(|(score, _)| *score > 0.85)
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .map(|(_, k)| format!(" Did you mean `{k}`?"))
                .unwrap_or_default();
            let path = format!("{section}.{key}");
            let shown = self.displayed(&path);
            self.push(
                &path,
                Finding::new(
                    FindingId::ConfigUnknownKey,
                    None,
                    format!(
                        "`{shown}` is not a key flyte reads, so it is silently ignored.{suggestion}"
                    ),
                ),
            );
        }
    }

    /// A path from the config, relative to the config file's directory when not absolute.
    pub(super) fn resolve(&self, path: &str) -> PathBuf {
        let path = Path::new(path);
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.base_dir.join(path)
        }
    }

    /// The findings, in the order they were found (the report sorts them).
    pub(super) fn into_findings(self) -> Vec<LintFinding> {
        self.findings
    }
}

/// Deep merge, `from` over `into`: how flyteadmin merges its config files, and how Helm
/// lays values over a chart's defaults.
pub(super) fn merge(into: &mut serde_json::Value, from: serde_json::Value) {
    use serde_json::Value;
    match (into, from) {
        (Value::Object(into), Value::Object(from)) => {
            for (key, value) in from {
                match into.get_mut(&key) {
                    Some(existing) if existing.is_object() && value.is_object() => {
                        merge(existing, value)
                    }
                    _ => {
                        into.insert(key, value);
                    }
                }
            }
        }
        (into, from) => *into = from,
    }
}

//! Collects a config's findings, each with its dotted key and, for block-style YAML, the
//! line of that key.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::report::LintFinding;
use crate::findings::{Finding, FindingId};

pub(super) struct Linter<'a> {
    lines: HashMap<String, usize>,
    findings: Vec<LintFinding>,
    base_dir: &'a Path,
}

impl<'a> Linter<'a> {
    /// For config `text`; relative paths in it are read from `base_dir`.
    pub(super) fn new(text: &str, base_dir: &'a Path) -> Self {
        Linter {
            lines: key_lines(text),
            findings: Vec::new(),
            base_dir,
        }
    }

    pub(super) fn push(&mut self, key: &str, finding: Finding) {
        self.findings.push(LintFinding {
            line: self.lines.get(key).copied(),
            key: Some(key.to_string()),
            finding,
        });
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
            self.push(
                &path,
                Finding::new(
                    FindingId::ConfigUnknownKey,
                    None,
                    format!(
                        "`{path}` is not a key flyte reads, so it is silently ignored.{suggestion}"
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

    /// The findings, most severe first, then in file order.
    pub(super) fn into_findings(mut self) -> Vec<LintFinding> {
        self.findings.sort_by_key(|f| {
            (
                std::cmp::Reverse(f.finding.severity),
                f.line.unwrap_or(usize::MAX),
            )
        });
        self.findings
    }
}

/// Dotted key path → line, for block-style YAML.
fn key_lines(text: &str) -> HashMap<String, usize> {
    let mut lines = HashMap::new();
    let mut stack: Vec<(usize, String)> = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with("- ") {
            continue;
        }
        let indent = line.len() - trimmed.len();
        let Some((key, _)) = trimmed.split_once(':') else {
            continue;
        };
        let key = key.trim().trim_matches(['"', '\'']);
        if key.is_empty() || key.contains(' ') {
            continue;
        }
        while stack.last().is_some_and(|(i, _)| *i >= indent) {
            stack.pop();
        }
        stack.push((indent, key.to_string()));
        let path: Vec<&str> = stack.iter().map(|(_, k)| k.as_str()).collect();
        lines.entry(path.join(".")).or_insert(number + 1);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_lines_follow_indentation() {
        let text = "server:\n  httpPort: 8088\n  security:\n    # comment\n    allowCors: true\n    allowedOrigins:\n      - https://a\nauth:\n  appAuth:\n    authServerType: Self\n";
        let lines = key_lines(text);
        assert_eq!(lines["server.security.allowCors"], 5);
        assert_eq!(lines["server.security.allowedOrigins"], 6);
        assert_eq!(lines["auth.appAuth.authServerType"], 10);
    }
}

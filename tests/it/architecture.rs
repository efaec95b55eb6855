//! The source's structure, checked: no import cycle between modules. A module is a file
//! under src/ (`flyte/http.rs` is `flyte::http`, `flyte/mod.rs` is `flyte`); it depends on
//! every module it names through `crate::`, `super::` or a child's name.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn rust_sources(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_sources(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

/// `src/flyte/http.rs` → `flyte::http`; `src/flyte/mod.rs` → `flyte`; lib.rs → "".
fn module_of(file: &Path) -> String {
    let relative = file.strip_prefix("src").unwrap().with_extension("");
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts.join("::")
}

/// The modules a source names, as the longest known module prefix of each path.
fn dependencies(module: &str, text: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let path = regex::Regex::new(r"\b(crate|super|self)((?:::[a-z_][a-z0-9_]*)+)").unwrap();
    // A child module named by its bare name: `fleet::check_all`, `use fleet::X`.
    let bare = regex::Regex::new(r"(?:^|[^:\w])([a-z_][a-z0-9_]*)::").unwrap();
    let parent = module.rsplit_once("::").map_or("", |(p, _)| p);
    let mut found = BTreeSet::new();
    // Unit tests (by convention last in a file, after `#[cfg(test)]`) are not the
    // module's dependencies, and their `super` means the file itself.
    let code = text.split("#[cfg(test)]").next().unwrap_or_default();
    for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
        for capture in bare.captures_iter(line) {
            let child = if module.is_empty() {
                capture[1].to_string()
            } else {
                format!("{module}::{}", &capture[1])
            };
            if modules.contains(&child) {
                found.insert(child);
            }
        }
        for capture in path.captures_iter(line) {
            let base = match &capture[1] {
                "crate" => "",
                "super" => parent,
                _ => module,
            };
            let mut candidate: Vec<&str> = base.split("::").filter(|s| !s.is_empty()).collect();
            let mut best = None;
            for segment in capture[2].split("::").filter(|s| !s.is_empty()) {
                candidate.push(segment);
                let joined = candidate.join("::");
                if modules.contains(&joined) {
                    best = Some(joined);
                }
            }
            let target = best.unwrap_or_else(|| base.to_string());
            if target != module && !target.is_empty() {
                found.insert(target);
            }
        }
    }
    found
}

fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = stack.iter().position(|n| n == node) {
            let mut cycle = stack[start..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, stack, done) {
                return Some(cycle);
            }
        }
        stack.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_sources(Path::new("src"), &mut files);
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(f)).collect();
    files
        .iter()
        .map(|file| {
            let module = module_of(file);
            let text = std::fs::read_to_string(file).unwrap();
            let deps = dependencies(&module, &text, &modules);
            (module, deps)
        })
        .collect()
}

#[test]
fn no_import_cycle_between_modules() {
    let graph = module_graph();
    // The scan must see the pipeline, or this test proves nothing.
    assert!(graph["check"].contains("probe") && graph["check"].contains("trust"));
    assert!(graph["flyte::grpc_health"].contains("flyte::http"));
    assert!(
        graph["clients"].contains("clients::flytectl"),
        "bare child paths"
    );
    if let Some(cycle) = find_cycle(&graph) {
        panic!("import cycle: {}", cycle.join(" → "));
    }
}

#[test]
fn the_cycle_check_can_fail() {
    let mut graph = module_graph();
    graph.get_mut("report").unwrap().insert("check".into());
    assert!(find_cycle(&graph).is_some());
}

#[test]
fn only_the_command_line_knows_clap() {
    let mut files = Vec::new();
    rust_sources(Path::new("src"), &mut files);
    for file in files {
        if file.starts_with("src/app") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(!text.contains("clap"), "{} uses clap", file.display());
    }
}

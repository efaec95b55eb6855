//! Documentation that must not drift from the code: the finding catalogue is generated from
//! `findings::CATALOG`, `--version` names the crates actually locked, and the shipped docs
//! link to files that exist. (Every id the code emits is a `FindingId`, so the compiler
//! checks that it has a catalogue entry.)

/// `CERTREADY_BLESS=1 cargo test --test it docs` rewrites a generated doc instead of failing.
fn assert_generated(path: &str, generated: &str) {
    let on_disk = std::fs::read_to_string(path).unwrap_or_default();
    if on_disk == generated {
        return;
    }
    if std::env::var_os("CERTREADY_BLESS").is_some() {
        std::fs::write(path, generated).unwrap();
        return;
    }
    panic!(
        "{path} is out of date with the code; regenerate it with \
         `CERTREADY_BLESS=1 cargo test --test it docs` and commit the result"
    );
}

#[test]
fn finding_catalogue_is_generated_from_the_code() {
    let generated = certready::findings::catalogue_markdown();
    for kind in certready::findings::CATALOG {
        assert!(generated.contains(&format!("\n## `{}`\n", kind.id)));
        assert!(generated.contains(kind.remediation));
    }
    assert_generated("docs/findings.md", &generated);
}

fn locked_version(krate: &str) -> String {
    let lock = std::fs::read_to_string("Cargo.lock").unwrap();
    let marker = format!("name = \"{krate}\"\nversion = \"");
    let start = lock.find(&marker).unwrap() + marker.len();
    lock[start..].split('"').next().unwrap().to_string()
}

/// `--version` names the rustls and webpki series actually locked, and the one provider.
#[test]
fn version_names_the_locked_tls_crates() {
    let output = assert_cmd::Command::cargo_bin("certready")
        .unwrap()
        .arg("--version")
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.starts_with(&format!("certready {}\n", env!("CARGO_PKG_VERSION"))));
    for krate in ["rustls", "rustls-webpki"] {
        let version = locked_version(krate);
        let series: Vec<&str> = version.split('.').take(2).collect();
        assert!(
            text.contains(&format!("{krate} {}", series.join("."))),
            "--version does not name {krate} {version}: {text}"
        );
    }
    assert!(text.contains("crypto provider aws-lc-rs"), "{text}");
    // The embedded CT log lists' versions and dates, as the data files say.
    let read = |path| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    };
    let chrome = read("src/ct/log_list.json");
    let version = chrome["version"].as_str().unwrap();
    let date = &chrome["log_list_timestamp"].as_str().unwrap()[..10];
    assert!(
        text.contains(&format!("Chrome's all_logs_list.json {version} ({date})")),
        "--version does not name the Chrome CT log list {version} of {date}: {text}"
    );
    // Apple's states no date: its newest state change dates it.
    let apple = read("src/ct/apple_log_list.json");
    let newest = apple["operators"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|o| {
            ["logs", "tiled_logs"]
                .into_iter()
                .flat_map(move |kind| o[kind].as_array().into_iter().flatten())
        })
        .flat_map(|log| log["state"].as_object().unwrap().values())
        .map(|state| state["timestamp"].as_str().unwrap().to_string())
        .max()
        .unwrap();
    let expected = format!(
        "Apple's current_log_list.json {} (assetVersion {}, newest entry {})",
        apple["version"].as_str().unwrap(),
        apple["assetVersion"],
        &newest[..10]
    );
    assert!(
        text.contains(&expected),
        "--version does not say {expected:?}: {text}"
    );
}

/// One rustls crypto provider in the binary: ring (rustls' other provider) is not built.
#[test]
fn ring_is_not_in_the_dependency_tree() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = std::process::Command::new(cargo)
        .args([
            "tree",
            "--locked",
            "--offline",
            "-e",
            "normal",
            "-i",
            "ring",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.stdout.is_empty() && stderr.contains("nothing to print"),
        "ring is in the tree:\n{}{stderr}",
        String::from_utf8_lossy(&output.stdout)
    );
}

/// Relative links in README and docs/ point at files that exist.
#[test]
fn doc_links_resolve() {
    let link = regex::Regex::new(r"\]\(([^)#:]+)(#[^)]*)?\)").unwrap();
    let mut docs = vec![std::path::PathBuf::from("README.md")];
    let mut dirs = vec![std::path::PathBuf::from("docs")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                docs.push(path);
            }
        }
    }
    for doc in docs {
        let text = std::fs::read_to_string(&doc).unwrap();
        let base = doc.parent().unwrap();
        for capture in link.captures_iter(&text) {
            let target = base.join(&capture[1]);
            assert!(
                target.exists(),
                "{} links to {}, which does not exist",
                doc.display(),
                &capture[1]
            );
        }
    }
}

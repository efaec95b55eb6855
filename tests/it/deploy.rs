//! deploy/ is checked without a cluster: every pod runs as non-root with a read-only
//! root filesystem and no capabilities; the image has no shell at run time; the alert
//! rules are valid (promtool, from Debian's prometheus package, which .ci/run installs)
//! and only use metrics certready emits.

use std::process::Command;

use serde_json::Value;

fn documents(path: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    text.split("\n---\n")
        .filter(|doc| {
            doc.lines()
                .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        })
        .map(|doc| serde_saphyr::from_str(doc).unwrap_or_else(|e| panic!("{path}: {e}")))
        .collect()
}

fn pod_specs(doc: &Value) -> Vec<&Value> {
    [
        doc.pointer("/spec/template/spec"),
        doc.pointer("/spec/jobTemplate/spec/template/spec"),
    ]
    .into_iter()
    .flatten()
    .collect()
}

#[test]
fn every_workload_is_hardened() {
    let mut pods = 0;
    for file in [
        "deploy/kubernetes/serve.yaml",
        "deploy/kubernetes/cronjob.yaml",
    ] {
        for doc in documents(file) {
            for spec in pod_specs(&doc) {
                pods += 1;
                let kind = doc["kind"].as_str().unwrap();
                assert_eq!(
                    spec.pointer("/securityContext/runAsNonRoot"),
                    Some(&Value::Bool(true)),
                    "{file} {kind}"
                );
                assert_ne!(
                    spec.pointer("/securityContext/runAsUser"),
                    Some(&Value::from(0)),
                    "{file} {kind}"
                );
                for container in spec["containers"].as_array().unwrap() {
                    let sc = &container["securityContext"];
                    assert_eq!(sc["readOnlyRootFilesystem"], true, "{file} {kind}");
                    assert_eq!(sc["allowPrivilegeEscalation"], false, "{file} {kind}");
                    assert_eq!(sc["runAsNonRoot"], true, "{file} {kind}");
                    assert_eq!(
                        sc["capabilities"]["drop"],
                        serde_json::json!(["ALL"]),
                        "{file} {kind}"
                    );
                }
            }
        }
    }
    assert_eq!(pods, 2, "the Deployment and the CronJob");
}

#[test]
fn the_image_runs_as_non_root_without_a_shell() {
    let dockerfile = std::fs::read_to_string("deploy/Dockerfile").unwrap();
    let stages: Vec<&str> = dockerfile.split("\nFROM ").collect();
    assert!(stages.len() >= 2, "multi-stage");
    let last = stages.last().unwrap();
    assert!(
        last.starts_with("gcr.io/distroless/"),
        "a runtime image without a shell: {last}"
    );
    let user = last
        .lines()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("a USER line");
    assert!(
        !user.starts_with("0") && !user.starts_with("root"),
        "{user}"
    );
    let entrypoint = last
        .lines()
        .find_map(|l| l.strip_prefix("ENTRYPOINT "))
        .expect("an ENTRYPOINT");
    assert!(
        entrypoint.starts_with('['),
        "exec form needs no shell: {entrypoint}"
    );
}

#[test]
fn alert_rules_use_only_emitted_metrics_and_pass_promtool() {
    let rules = std::fs::read_to_string("deploy/prometheus/alerts.yaml").unwrap();
    let emitted = [
        "certready_probe_success",
        "certready_probe_duration_seconds",
        "certready_status",
        "certready_cert_not_after_timestamp_seconds",
        "certready_chain_earliest_expiry_timestamp_seconds",
        "certready_client_accepts",
        "certready_finding",
        "certready_tls_info",
        "certready_ocsp_status",
        "certready_revocation_next_update_timestamp_seconds",
        "certready_web_config_last_reload_successful",
    ];
    // The names must be the ones metrics::render (targets) or serve (its own) registers.
    let source = std::fs::read_to_string("src/render/metrics.rs").unwrap()
        + &std::fs::read_to_string("src/serve/mod.rs").unwrap();
    for name in emitted {
        assert!(
            source.contains(&format!("\"{name}\"")),
            "{name} is not registered in src/render/metrics.rs or src/serve/mod.rs"
        );
    }
    for word in rules.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
        if word.starts_with("certready_") {
            assert!(
                emitted.contains(&word),
                "alerts use {word}, which certready does not emit"
            );
        }
    }
    match Command::new("promtool")
        .args(["check", "rules", "deploy/prometheus/alerts.yaml"])
        .output()
    {
        Ok(output) => assert!(
            output.status.success(),
            "promtool: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
        Err(_) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must install promtool (Debian's prometheus)"
            );
            eprintln!("SKIPPED promtool: not installed (apt-get install prometheus)");
        }
    }
    let scrape: Value =
        serde_saphyr::from_str(&std::fs::read_to_string("deploy/prometheus/scrape.yaml").unwrap())
            .unwrap();
    assert_eq!(scrape["scrape_configs"][1]["metrics_path"], "/probe");
}

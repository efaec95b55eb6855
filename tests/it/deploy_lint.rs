//! `certready lint-config` on what people deploy: flyte-core and flyte-binary Helm values,
//! the streams `helm template` renders (fixtures in testdata/deploy/ mirror the charts'
//! shapes, see its MANIFEST.md), `kubectl get -o yaml` Lists, TLS Secrets made with the
//! openssl command, broken input, and SARIF read back by sarif-tools.

use std::process::Command;

use base64::Engine;

use crate::common::*;

const DEPLOY: &str = "testdata/deploy";

fn lint(lab: &Lab, args: &[&str]) -> (json::LintDocument, i32) {
    let mut all = vec!["lint-config", "--format", "json"];
    all.extend_from_slice(args);
    let run = lab.run(&all);
    run.assert_no_panic();
    (run.lint_doc(), run.code)
}

/// (id, key, line, object, container) of every finding above info.
fn problems(config: &json::LintConfig) -> Vec<(String, String, usize, String, String)> {
    config
        .findings
        .iter()
        .filter(|f| f.severity != json::Severity::Info)
        .map(|f| {
            (
                f.id.clone(),
                f.key.clone().unwrap_or_default(),
                f.line.unwrap_or_default(),
                f.object.clone().unwrap_or_default(),
                f.container.clone().unwrap_or_default(),
            )
        })
        .collect()
}

fn ids(config: &json::LintConfig) -> Vec<&str> {
    config.findings.iter().map(|f| f.id.as_str()).collect()
}

fn row(
    id: &str,
    key: &str,
    line: usize,
    object: &str,
    container: &str,
) -> (String, String, usize, String, String) {
    (id.into(), key.into(), line, object.into(), container.into())
}

/// A CA and a leaf for `names`, made by the openssl command, as a `kubernetes.io/tls`
/// Secret document (tls.crt, tls.key and the CA as ca.crt).
fn openssl_secret(lab: &Lab, name: &str, names: &[&str]) -> String {
    let dir = lab.dir.path();
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .current_dir(dir)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "3650",
        "-subj",
        "/CN=certready test root",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    openssl(&ca);
    let mut csr = vec!["req"];
    csr.extend(ec);
    csr.extend([
        "-keyout", "tls.key", "-out", "leaf.csr", "-subj", "/CN=leaf",
    ]);
    openssl(&csr);
    let san: Vec<String> = names.iter().map(|n| format!("DNS:{n}")).collect();
    lab.file(
        "leaf.ext",
        format!(
            "subjectAltName={}\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\nbasicConstraints=critical,CA:FALSE\n",
            san.join(",")
        ),
    );
    openssl(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "tls.crt",
        "-days",
        "90",
        "-sha256",
        "-extfile",
        "leaf.ext",
    ]);
    let b64 = |file: &str| {
        base64::engine::general_purpose::STANDARD.encode(std::fs::read(dir.join(file)).unwrap())
    };
    format!(
        "---\n# Source: made by the test with openssl\napiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  namespace: flyte\ntype: kubernetes.io/tls\ndata:\n  tls.crt: {}\n  tls.key: {}\n  ca.crt: {}\n",
        b64("tls.crt"),
        b64("tls.key"),
        b64("ca.pem")
    )
}

fn fixture(path: &str) -> String {
    std::fs::read_to_string(format!("{DEPLOY}/{path}")).unwrap()
}

#[test]
fn flyte_core_stream_with_its_secret_is_clean() {
    let lab = Lab::new();
    let stream =
        fixture("flyte-core/rendered-good.yaml") + &openssl_secret(&lab, "flyte-tls", &[HOST]);
    let file = lab.file("rendered.yaml", stream);
    let (doc, code) = lint(
        &lab,
        &[
            path_str(&file),
            "--console-origin",
            "https://flyte.example.com",
        ],
    );
    let config = &doc.configs[0];
    assert_eq!(code, 0, "{:#?}", problems(config));
    assert_eq!(config.kind.as_deref(), Some("manifests"));
    assert!(problems(config).is_empty(), "{:#?}", problems(config));
    // Only notes: the charts' fixed UIDs.
    assert!(
        ids(config).iter().all(|id| *id == "run-as-user-fixed"),
        "{:?}",
        ids(config)
    );
    let objects = config.objects.as_ref().unwrap();
    assert_eq!(objects.linted["Deployment"], 5);
    assert_eq!(objects.linted["Ingress"], 2);
    assert_eq!(objects.linted["Secret"], 1);
    // flyteadmin's config is linted; the console's is not a config certready reads.
    assert_eq!(objects.linted["ConfigMap"], 1);
    assert_eq!(objects.skipped["ConfigMap"], 1);
    assert_eq!(objects.skipped["ServiceAccount"], 2);
    assert_eq!(config.certificates.len(), 1, "one Secret, one host");
    let cert = &config.certificates[0];
    assert_eq!(cert.object, "Secret/flyte/flyte-tls");
    assert_eq!(cert.host.as_deref(), Some(HOST));
    assert_eq!(
        cert.referenced_by,
        ["Ingress/flyte/flyte-core", "Ingress/flyte/flyte-core-grpc"]
    );
    assert_eq!(
        cert.report.status,
        json::Status::Ok,
        "{:#?}",
        cert.report.findings
    );
    assert!(cert.line.is_some());

    // --openshift: the fixed UIDs become warnings.
    let (doc, code) = lint(&lab, &[path_str(&file), "--openshift"]);
    assert_eq!(code, 1);
    assert!(problems(&doc.configs[0])
        .iter()
        .all(|p| p.0 == "run-as-user-fixed"));
}

#[test]
fn a_secret_that_misses_the_ingress_host() {
    let lab = Lab::new();
    let stream = fixture("flyte-core/rendered-good.yaml")
        + &openssl_secret(&lab, "flyte-tls", &["other.example.com"]);
    let file = lab.file("rendered.yaml", stream);
    let (doc, code) = lint(&lab, &[path_str(&file)]);
    let config = &doc.configs[0];
    assert_eq!(code, 2);
    let cert = &config.certificates[0];
    assert!(
        cert.report
            .findings
            .iter()
            .any(|f| f.id == "hostname-mismatch"),
        "{:#?}",
        cert.report.findings
    );
    let mismatches: Vec<_> = problems(config)
        .into_iter()
        .filter(|p| p.0 == "ingress-tls-host-not-in-certificate")
        .collect();
    let objects: Vec<&str> = mismatches.iter().map(|p| p.3.as_str()).collect();
    assert_eq!(
        objects,
        ["Ingress/flyte/flyte-core", "Ingress/flyte/flyte-core-grpc"]
    );
    assert!(mismatches.iter().all(|p| p.1 == "spec.tls[0].hosts[0]"));
}

#[test]
fn a_secret_with_broken_base64_is_unknown_and_the_rest_is_still_linted() {
    let lab = Lab::new();
    let secret = "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: flyte-tls\n  namespace: flyte\ntype: kubernetes.io/tls\ndata:\n  tls.crt: '%%% not base64 %%%'\n  tls.key: ''\n";
    let stream = fixture("findings/privileged-container.yaml") + secret;
    let file = lab.file("stream.yaml", stream);
    let (doc, code) = lint(&lab, &[path_str(&file)]);
    let config = &doc.configs[0];
    assert_eq!(code, 3);
    let error = config.certificates[0].report.error.as_deref().unwrap();
    assert!(error.contains("not valid base64"), "{error}");
    assert!(ids(config).contains(&"privileged-container"));
}

#[test]
fn each_finding_fixture_has_its_one_problem() {
    let lab = Lab::new();
    let spec = "spec.template.spec";
    let cases = [
        (
            "capabilities-not-dropped",
            row(
                "capabilities-not-dropped",
                &format!("{spec}.containers[0].securityContext"),
                25,
                "Deployment/flyte/no-drop",
                "no-drop",
            ),
        ),
        (
            "configmap-cors-origin-malformed",
            row(
                "cors-origin-malformed",
                "data[server.yaml].server.security.allowedOrigins",
                15,
                "ConfigMap/flyte/flyte-admin-config",
                "",
            ),
        ),
        (
            "container-runs-as-root-override",
            row(
                "container-runs-as-root",
                &format!("{spec}.containers[0].securityContext.runAsUser"),
                27,
                "Deployment/flyte/root-override",
                "root-override",
            ),
        ),
        (
            "container-runs-as-root",
            row(
                "container-runs-as-root",
                &format!("{spec}.securityContext.runAsUser"),
                19,
                "Deployment/flyte/root-pod",
                "root-pod",
            ),
        ),
        (
            "cronjob-runs-as-root",
            row(
                "container-runs-as-root",
                "spec.jobTemplate.spec.template.spec.securityContext.runAsUser",
                17,
                "CronJob/flyte/cleanup",
                "cleanup",
            ),
        ),
        (
            "daemonset-no-drop",
            row(
                "capabilities-not-dropped",
                &format!("{spec}.containers[0].securityContext"),
                25,
                "DaemonSet/flyte/log-agent",
                "log-agent",
            ),
        ),
        (
            "ingress-grpc-backend-protocol-missing",
            row(
                "ingress-grpc-backend-protocol-missing",
                "spec.rules[0].http.paths[0].path",
                18,
                "Ingress/flyte/flyte-core-grpc",
                "",
            ),
        ),
        (
            "ingress-no-tls",
            row(
                "ingress-no-tls",
                "spec.rules[0].http.paths[1].path",
                24,
                "Ingress/flyte/flyte-core",
                "",
            ),
        ),
        (
            "privilege-escalation-allowed",
            row(
                "privilege-escalation-allowed",
                &format!("{spec}.containers[0].securityContext.allowPrivilegeEscalation"),
                25,
                "Deployment/flyte/priv-esc",
                "priv-esc",
            ),
        ),
        (
            "privileged-container",
            row(
                "privileged-container",
                &format!("{spec}.containers[0].securityContext.privileged"),
                27,
                "Deployment/flyte/privileged",
                "privileged",
            ),
        ),
        (
            "run-as-non-root-not-set",
            row(
                "run-as-non-root-not-set",
                &format!("{spec}.containers[0]"),
                19,
                "Deployment/flyte/no-nonroot",
                "no-nonroot",
            ),
        ),
        (
            "statefulset-privileged",
            row(
                "privileged-container",
                &format!("{spec}.containers[0].securityContext.privileged"),
                26,
                "StatefulSet/flyte/postgres",
                "postgres",
            ),
        ),
    ];
    for (file, expected) in cases {
        let path = format!("{DEPLOY}/findings/{file}.yaml");
        let (doc, code) = lint(&lab, &[&path]);
        let config = &doc.configs[0];
        assert_eq!(problems(config), std::slice::from_ref(&expected), "{file}");
        let worst = if [
            "container-runs-as-root",
            "privileged-container",
            "ingress-no-tls",
            "ingress-grpc-backend-protocol-missing",
            "cors-origin-malformed",
        ]
        .contains(&expected.0.as_str())
        {
            2
        } else {
            1
        };
        assert_eq!(code, worst, "{file}");
    }
    // The Secret an Ingress names but the stream lacks: a note, not a failure.
    let (doc, code) = lint(
        &lab,
        &[&format!(
            "{DEPLOY}/findings/ingress-tls-secret-not-found.yaml"
        )],
    );
    assert_eq!(code, 0);
    let note = &doc.configs[0].findings[0];
    assert_eq!(
        (note.id.as_str(), note.line),
        ("ingress-tls-secret-not-found", Some(33))
    );
}

#[test]
fn the_database_wait_init_container_is_the_known_exception() {
    let lab = Lab::new();
    let (doc, _) = lint(
        &lab,
        &[&format!(
            "{DEPLOY}/flyte-core/rendered-old-check-db-ready.yaml"
        )],
    );
    let config = &doc.configs[0];
    let wait: Vec<_> = problems(config)
        .into_iter()
        .filter(|p| p.4 == "check-db-ready")
        .collect();
    assert_eq!(
        wait[0],
        row(
            "db-wait-runs-as-root",
            "spec.template.spec.initContainers[0].securityContext.runAsUser",
            41,
            "Deployment/flyte/flyteadmin",
            "check-db-ready"
        )
    );
    assert!(
        !ids(config).contains(&"container-runs-as-root"),
        "not reported as a surprise"
    );
    let finding = config
        .findings
        .iter()
        .find(|f| f.id == "db-wait-runs-as-root")
        .unwrap();
    assert_eq!(finding.severity, json::Severity::Warning);
    assert!(finding.remediation.contains("pg_isready"));

    // flyte-binary renders wait-for-db without a securityContext: the pod's user
    // (65534) applies, so it is not root, but it keeps escalation and capabilities.
    let (doc, code) = lint(
        &lab,
        &[&format!("{DEPLOY}/flyte-binary/rendered-good.yaml")],
    );
    let config = &doc.configs[0];
    assert_eq!(code, 1);
    let mut found: Vec<(String, String)> =
        problems(config).into_iter().map(|p| (p.0, p.4)).collect();
    found.sort();
    assert_eq!(
        found,
        [
            (
                "capabilities-not-dropped".to_string(),
                "wait-for-db".to_string()
            ),
            (
                "privilege-escalation-allowed".to_string(),
                "wait-for-db".to_string()
            ),
        ]
    );
}

#[test]
fn helm_values_of_both_charts() {
    let lab = Lab::new();
    for chart in ["flyte-core", "flyte-binary"] {
        let (doc, code) = lint(
            &lab,
            &[
                &format!("{DEPLOY}/{chart}/values-good.yaml"),
                "--console-origin",
                "https://flyte.example.com",
            ],
        );
        assert_eq!(code, 0, "{chart}: {:#?}", problems(&doc.configs[0]));
        assert_eq!(
            doc.configs[0].kind.as_deref(),
            Some(&*format!("{chart}-values"))
        );
    }
    let (doc, code) = lint(&lab, &[&format!("{DEPLOY}/flyte-core/values-bad.yaml")]);
    assert_eq!(code, 2);
    let mut found: Vec<(String, String, usize)> = problems(&doc.configs[0])
        .into_iter()
        .map(|p| (p.0, p.1, p.2))
        .collect();
    found.sort();
    let expected = [
        (
            "config-unknown-key",
            "configmap.adminServer.server.security.allowedOrigin",
            116,
        ),
        // flyte-core renders it as the pod's securityContext, which has no such field.
        (
            "config-unknown-key",
            "datacatalog.securityContext.allowPrivilegeEscalation",
            51,
        ),
        (
            "container-runs-as-root",
            "flyteadmin.securityContext.runAsUser",
            26,
        ),
        (
            "cors-header-not-allowed",
            "configmap.adminServer.server.security.allowedHeaders",
            118,
        ),
        (
            "cors-origin-malformed",
            "configmap.adminServer.server.security.allowedOrigins",
            114,
        ),
        (
            "ingress-grpc-backend-protocol-missing",
            "common.ingress.separateGrpcIngress",
            82,
        ),
        ("ingress-no-tls", "common.ingress.tls.enabled", 88),
    ];
    assert_eq!(
        found,
        expected.map(|(i, k, l)| (i.to_string(), k.to_string(), l))
    );

    let (doc, code) = lint(&lab, &[&format!("{DEPLOY}/flyte-binary/values-bad.yaml")]);
    assert_eq!(code, 2);
    let mut found: Vec<(String, String)> = problems(&doc.configs[0])
        .into_iter()
        .map(|p| (p.0, p.1))
        .collect();
    found.sort();
    let expected = [
        (
            "cors-header-not-allowed",
            "configuration.inline.server.security.allowedHeaders",
        ),
        (
            "cors-origin-malformed",
            "configuration.inline.server.security.allowedOrigins",
        ),
        ("db-wait-runs-as-root", "deployment.waitForDB"),
        (
            "ingress-grpc-backend-protocol-missing",
            "ingress.grpcAnnotations",
        ),
        ("ingress-no-tls", "ingress.tls"),
        (
            "run-as-non-root-not-set",
            "deployment.podSecurityContext.enabled",
        ),
    ];
    assert_eq!(found, expected.map(|(i, k)| (i.to_string(), k.to_string())));
}

#[test]
fn a_kubectl_list_and_stdin() {
    let lab = Lab::new();
    let text = fixture("kubectl-list.yaml");
    let run = Run::of(
        lab.certready()
            .args(["lint-config", "--format", "json", "-"])
            .write_stdin(text),
    );
    run.assert_no_panic();
    let doc = run.lint_doc();
    let config = &doc.configs[0];
    assert_eq!(run.code, 1);
    let objects = config.objects.as_ref().unwrap();
    assert_eq!(
        (
            objects.documents,
            objects.linted["Deployment"],
            objects.linted["Ingress"]
        ),
        (1, 2, 1)
    );
    let found: Vec<(String, String)> = problems(config).into_iter().map(|p| (p.0, p.4)).collect();
    assert!(
        found.contains(&("capabilities-not-dropped".into(), "flyteconsole".into())),
        "{found:?}"
    );
}

#[test]
fn broken_input_is_reported_never_a_panic() {
    let lab = Lab::new();
    // One bad document of three: the other two are linted, the bad one has its place.
    let (doc, code) = lint(&lab, &[&format!("{DEPLOY}/broken/one-bad-document.yaml")]);
    let config = &doc.configs[0];
    assert_eq!(code, 3);
    let error = &config.document_errors[0];
    assert_eq!(
        (error.document, error.line, error.column),
        (2, Some(40), Some(3)),
        "{error:?}"
    );
    assert!(error.message.contains("expected key"), "{}", error.message);
    assert_eq!(config.objects.as_ref().unwrap().linted["Deployment"], 2);
    assert!(problems(config)
        .iter()
        .any(|p| p.0 == "container-runs-as-root" && p.3 == "Deployment/flyte/root-three"));

    for (file, expected) in [
        ("alias-bomb", "budget"),
        ("deep-nesting", "nesting"),
        ("empty", "is empty"),
    ] {
        let (doc, code) = lint(&lab, &[&format!("{DEPLOY}/broken/{file}.yaml")]);
        assert_eq!(code, 3, "{file}");
        let error = doc.configs[0].error.as_deref().unwrap();
        assert!(error.contains(expected), "{file}: {error}");
    }

    let (doc, code) = lint(&lab, &[&format!("{DEPLOY}/broken/wrong-types.yaml")]);
    assert_eq!(code, 2);
    let keys: Vec<String> = problems(&doc.configs[0])
        .into_iter()
        .filter(|p| p.0 == "config-wrong-type")
        .map(|p| p.1)
        .collect();
    assert_eq!(
        keys,
        [
            "flyteadmin.securityContext.runAsUser",
            "common.ingress.tls",
            "configmap.adminServer.server.security.allowedOrigins"
        ]
    );

    // Just under 10 MiB of Deployments is read in full; over it is refused.
    let one = fixture("findings/privileged-container.yaml");
    let copies = (10 * 1024 * 1024 - 1) / one.len();
    let big = lab.file("big.yaml", one.repeat(copies));
    let (doc, code) = lint(&lab, &[path_str(&big)]);
    assert_eq!(code, 2);
    assert_eq!(
        doc.configs[0].objects.as_ref().unwrap().linted["Deployment"],
        copies
    );
    let bigger = lab.file("bigger.yaml", one.repeat(copies + 2));
    let (doc, code) = lint(&lab, &[path_str(&bigger)]);
    assert_eq!(code, 3);
    assert!(doc.configs[0]
        .error
        .as_deref()
        .unwrap()
        .contains("reads at most"));
}

#[test]
fn sarif_is_read_back_by_sarif_tools() {
    let lab = Lab::new();
    let stream = fixture("flyte-core/rendered-good.yaml")
        + &openssl_secret(&lab, "flyte-tls", &["other.example.com"]);
    let rendered = lab.file("rendered.yaml", stream);
    let values_bad = format!("{DEPLOY}/flyte-core/values-bad.yaml");
    let broken = format!("{DEPLOY}/broken/one-bad-document.yaml");
    let files = [values_bad.as_str(), path_str(&rendered), broken.as_str()];
    let run = lab.run(&[&["lint-config", "--format", "sarif"][..], &files].concat());
    run.assert_no_panic();
    assert_eq!(run.code, 3);
    let sarif_file = lab.file("out.sarif", &run.stdout);

    // What we said, from the JSON of the same run.
    let (doc, _) = lint(&lab, &files);
    let mut expected: Vec<(String, String, String)> = Vec::new();
    for config in &doc.configs {
        let file = config.file.trim_start_matches("./").to_string();
        for f in &config.findings {
            expected.push((
                f.id.clone(),
                file.clone(),
                f.line.map(|l| l.to_string()).unwrap_or_default(),
            ));
        }
        for cert in &config.certificates {
            for f in &cert.report.findings {
                expected.push((
                    f.id.clone(),
                    file.clone(),
                    cert.line.map(|l| l.to_string()).unwrap_or_default(),
                ));
            }
        }
    }
    expected.sort();

    // What sarif-tools (PyPI, an independent SARIF reader) reads from the SARIF.
    let csv = lab.dir.path().join("out.csv");
    let out = Command::new("sarif")
        .args(["csv", "--output"])
        .arg(&csv)
        .arg(&sarif_file)
        .output()
        .expect("sarif-tools' `sarif` command (pip install sarif-tools; .ci/run installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut read = csv_rows(&text);
    assert_eq!(
        read[0],
        [
            "Tool",
            "Severity",
            "Code",
            "Description",
            "Location",
            "Line"
        ]
    );
    let mut found: Vec<(String, String, String)> = read
        .drain(1..)
        .map(|r| (r[2].clone(), r[4].clone(), r[5].clone()))
        .collect();
    found.sort();
    assert_eq!(found, expected);
    assert!(
        found.iter().any(|f| f.0 == "hostname-mismatch"),
        "the Secret's findings are results too"
    );

    // Valid against the OASIS SARIF 2.1.0 schema (testdata/, as shipped in serde-sarif's
    // sources), checked by Python's jsonschema.
    let validate = Command::new("python3")
        .args([
            "-c",
            "import json, sys, jsonschema\n\
             schema = json.load(open(sys.argv[1]))\n\
             jsonschema.Draft7Validator(schema).validate(json.load(open(sys.argv[2])))",
            "testdata/sarif-schema-2.1.0.json",
        ])
        .arg(&sarif_file)
        .output()
        .unwrap();
    assert!(
        validate.status.success(),
        "SARIF schema: {}",
        String::from_utf8_lossy(&validate.stderr)
    );

    // The structure code scanning needs: rules for every result, the broken document
    // as an execution notification.
    let sarif: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let run0 = &sarif["runs"][0];
    let rules: Vec<&str> = run0["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    for result in run0["results"].as_array().unwrap() {
        assert!(rules.contains(&result["ruleId"].as_str().unwrap()));
    }
    let invocation = &run0["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    let note = &invocation["toolExecutionNotifications"][0];
    assert_eq!(
        note["locations"][0]["physicalLocation"]["region"]["startLine"],
        40
    );
}

/// RFC 4180 rows (quoted fields may hold commas, quotes and newlines).
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => row.push(std::mem::take(&mut field)),
            ('\r', false) => {}
            ('\n', false) => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (c, _) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

#[test]
fn certready_s_own_manifests_pass_its_lint() {
    let lab = Lab::new();
    for file in [
        "deploy/kubernetes/serve.yaml",
        "deploy/kubernetes/cronjob.yaml",
    ] {
        let (doc, _) = lint(&lab, &[file]);
        let config = &doc.configs[0];
        assert!(
            config.error.is_none() && config.document_errors.is_empty(),
            "{file}"
        );
        let container_problems: Vec<_> = problems(config)
            .into_iter()
            .filter(|p| !p.4.is_empty())
            .collect();
        assert!(
            container_problems.is_empty(),
            "{file}: {container_problems:#?}"
        );
    }
}

#[test]
fn ingresses_are_judged_together() {
    let lab = Lab::new();
    let ingress = |name: &str, annotations: &str, paths: &str, tls: &str| {
        format!("---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: {name}\n  namespace: flyte\n  annotations:\n{annotations}\nspec:\n  rules:\n    - host: flyte.example.com\n      http:\n        paths:\n{paths}{tls}")
    };
    let path = |p: &str, service: &str, port: u16| {
        format!("          - path: {p}\n            pathType: ImplementationSpecific\n            backend:\n              service:\n                name: {service}\n                port:\n                  number: {port}\n")
    };
    let tls = "  tls:\n    - secretName: flyte-tls\n      hosts:\n        - flyte.example.com\n";
    let http = ingress(
        "http",
        "    kubernetes.io/ingress.class: nginx",
        &path("/.well-known", "flyteadmin", 80),
        tls,
    );
    // TLS for the host comes from the other Ingress: ingress-nginx configures it per host.
    let grpc = ingress(
        "grpc",
        "    kubernetes.io/ingress.class: nginx\n    nginx.ingress.kubernetes.io/backend-protocol: GRPC",
        &path("/flyteidl.service.AdminService", "flyteadmin", 81),
        "",
    );
    // An ALB terminates TLS with its own certificate but speaks HTTP/1.1 to admin.
    let alb = ingress(
        "alb",
        "    alb.ingress.kubernetes.io/certificate-arn: arn:aws:acm:eu-west-1:1:certificate/x",
        &path("/grpc.health.v1.Health", "flyteadmin", 81),
        "",
    )
    .replace(
        "spec:\n  rules:",
        "spec:\n  ingressClassName: alb\n  rules:",
    );
    // Rendered without a namespace (helm template without -n), with a wildcard name.
    let secret =
        openssl_secret(&lab, "flyte-tls", &["*.example.com"]).replace("  namespace: flyte\n", "");
    let file = lab.file("ingresses.yaml", http + &grpc + &alb + &secret);
    let (doc, code) = lint(&lab, &[path_str(&file)]);
    let config = &doc.configs[0];
    assert_eq!(
        problems(config),
        [row(
            "ingress-grpc-backend-protocol-missing",
            "spec.rules[0].http.paths[0].path",
            60,
            "Ingress/flyte/alb",
            ""
        )]
    );
    assert_eq!(code, 2);
    assert!(!ids(config).contains(&"ingress-tls-secret-not-found"));
    let cert = &config.certificates[0];
    assert_eq!(
        (cert.object.as_str(), cert.host.as_deref()),
        ("Secret/flyte-tls", Some(HOST))
    );
    assert_eq!(
        cert.report.status,
        json::Status::Ok,
        "{:#?}",
        cert.report.findings
    );
}

#[test]
fn text_and_markdown_name_the_object_and_container() {
    let lab = Lab::new();
    let file = format!("{DEPLOY}/findings/container-runs-as-root.yaml");
    let text = lab.run(&["lint-config", &file]);
    assert_eq!(text.code, 2);
    // Wrapped at 80 columns: compare with the line breaks folded.
    let folded = text.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        folded.contains("container-runs-as-root line 19: spec.template.spec.securityContext.runAsUser (Deployment/flyte/root-pod, container root-pod)"),
        "{}",
        text.stdout
    );
    assert!(text
        .stdout
        .contains("Linted 1 object in 1 document: 1 Deployment."));
    let markdown = lab.run(&["lint-config", "--format", "markdown", &file]);
    assert!(markdown
        .stdout
        .contains("| Severity | Finding | Line | Object | Container | Key |"));
    assert!(markdown.stdout.contains(
        "| CRITICAL | `container-runs-as-root` | 19 | `Deployment/flyte/root-pod` | `root-pod` |"
    ), "{}", markdown.stdout);
    // SARIF is lint-config's alone.
    let run = lab.run(&["inspect", "x.pem", "--format", "sarif"]);
    assert_eq!(run.code, 3, "a usage error: {}", run.stderr);
    assert!(
        run.stderr.contains("invalid value 'sarif'"),
        "{}",
        run.stderr
    );
}

/// A document (or List item) without apiVersion/kind is named with its line: kubectl
/// would refuse the whole file, so it is a warning, not a silent skip.
#[test]
fn a_document_that_is_not_an_object_is_named() {
    let lab = Lab::new();
    let stream = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: ok, namespace: flyte}
spec:
  template:
    spec:
      securityContext: {runAsNonRoot: true, runAsUser: 1001}
      containers:
      - name: ok
        image: x
        securityContext:
          allowPrivilegeEscalation: false
          capabilities: {drop: [ALL]}
---
metadata:
  name: orphan
spec: {}
---
apiVersion: v1
kind: List
items:
- kind: Service
  metadata: {name: half}
";
    let file = lab.file("stream.yaml", stream);
    let (doc, code) = lint(&lab, &[path_str(&file)]);
    let config = &doc.configs[0];
    assert_eq!(code, 1, "{config:#?}");
    let found: Vec<(String, String, usize)> = problems(config)
        .into_iter()
        .map(|p| (p.0, p.1, p.2))
        .collect();
    assert_eq!(
        found,
        vec![
            ("manifest-not-an-object".into(), "apiVersion".into(), 15),
            ("manifest-not-an-object".into(), "apiVersion".into(), 22),
        ],
        "{config:#?}"
    );
    let messages: Vec<&str> = config.findings.iter().map(|f| f.message.as_str()).collect();
    assert!(messages[0].contains("document 2 (line 15) has no apiVersion and no kind"));
    assert!(messages[1].contains("List/(unnamed).items[0] (line 22) has no apiVersion"));
    assert_eq!(config.objects.as_ref().unwrap().linted["Deployment"], 1);
}

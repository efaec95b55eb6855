//! Container security of workloads: who each container and init container runs as, with
//! the pod's and the container's securityContext combined as Kubernetes combines them
//! (a container's field wins over the pod's), and the database-wait init container that
//! Flyte's security overview names as the known exception.

use super::report::LintFinding;
use super::yaml::{join, Node};
use crate::findings::{Finding, FindingId, Severity};

/// Where the pod spec sits in an object of this kind.
pub(super) fn pod_spec_path(kind: &str) -> Option<&'static str> {
    match kind {
        "Pod" => Some("spec"),
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "ReplicationController"
        | "Job" => Some("spec.template.spec"),
        "CronJob" => Some("spec.jobTemplate.spec.template.spec"),
        _ => None,
    }
}

/// SecurityContext fields a container has and a pod does not.
const CONTAINER_ONLY_FIELDS: &[&str] = &[
    "allowPrivilegeEscalation",
    "privileged",
    "capabilities",
    "readOnlyRootFilesystem",
    "procMount",
];

/// Options that change how strictly UIDs are judged.
#[derive(Debug, Clone, Copy, Default)]
pub struct WorkloadOptions {
    /// OpenShift's restricted SCC rejects fixed UIDs outside the namespace's range.
    pub openshift: bool,
}

/// A securityContext and its dotted path in the object.
#[derive(Clone, Copy)]
struct Context<'a> {
    node: &'a Node,
    path: &'a str,
}

/// A field as set: its value, key path and line.
struct Set<'a> {
    value: &'a Node,
    key: String,
    line: usize,
    /// Set on the pod, inherited by the container.
    from_pod: bool,
}

impl<'a> Context<'a> {
    fn field(&self, name: &str, from_pod: bool) -> Option<Set<'a>> {
        let entry = self.node.entry(name)?;
        (!entry.value.is_null()).then(|| Set {
            value: &entry.value,
            key: join(self.path, name),
            line: entry.key_line,
            from_pod,
        })
    }
}

/// Findings for every container, init container and ephemeral container of the pod
/// spec at `pod_path` of `object`.
pub(super) fn lint_pod_spec(
    object: &str,
    pod: &Node,
    pod_path: &str,
    options: WorkloadOptions,
    out: &mut Vec<LintFinding>,
) {
    let mut sink = Sink {
        object,
        container: None,
        out,
    };
    let pod_context_path = join(pod_path, "securityContext");
    let pod_context = pod.get("securityContext").and_then(|node| {
        sink.expect_map(node, &pod_context_path).then_some(Context {
            node,
            path: &pod_context_path,
        })
    });
    if let Some(pod_context) = pod_context {
        sink.check_types(pod_context);
        sink.container_fields_on_pod(pod_context.node, pod_context.path);
        if let Some(uid) = pod_context.field("runAsUser", true) {
            if uid.value.as_i64().is_some_and(|u| u > 0) {
                sink.fixed_uid(&uid, options);
            }
        }
    }
    for (list, init) in [
        ("initContainers", true),
        ("containers", false),
        ("ephemeralContainers", false),
    ] {
        let Some(containers) = pod.get(list) else {
            continue;
        };
        for (i, container) in containers.items().iter().enumerate() {
            let path = format!("{}[{i}]", join(pod_path, list));
            let name = container
                .get("name")
                .and_then(Node::as_str)
                .unwrap_or("(unnamed)");
            sink.container = Some(name.to_string());
            lint_container(
                &mut sink,
                ContainerRef {
                    node: container,
                    path: &path,
                    init,
                    name,
                },
                pod_context,
                options,
            );
        }
    }
}

struct ContainerRef<'a> {
    node: &'a Node,
    path: &'a str,
    init: bool,
    name: &'a str,
}

impl ContainerRef<'_> {
    /// The init container that waits for the database with a postgres image: Flyte's
    /// known exception (check-db-ready in older flyte-core charts, flyte-binary's
    /// wait-for-db).
    fn waits_for_database(&self) -> bool {
        if !self.init {
            return false;
        }
        let named = ["check-db-ready", "wait-for-db", "wait-for-database"].contains(&self.name);
        let runs_pg_isready = ["command", "args"].iter().any(|key| {
            self.node.get(key).is_some_and(|n| {
                n.items()
                    .iter()
                    .filter_map(Node::as_str)
                    .any(|s| s.contains("pg_isready"))
                    || n.as_str().is_some_and(|s| s.contains("pg_isready"))
            })
        });
        named || runs_pg_isready
    }
}

fn lint_container(
    sink: &mut Sink<'_, '_>,
    container: ContainerRef<'_>,
    pod_context: Option<Context<'_>>,
    options: WorkloadOptions,
) {
    let own_path = join(container.path, "securityContext");
    let own = container.node.get("securityContext").and_then(|node| {
        sink.expect_map(node, &own_path).then_some(Context {
            node,
            path: &own_path,
        })
    });
    if let Some(own) = own {
        sink.check_types(own);
    }
    // The container's field wins; the pod's applies where the container has none.
    let effective = |name: &str| {
        own.and_then(|c| c.field(name, false))
            .or_else(|| pod_context.and_then(|p| p.field(name, true)))
    };
    let run_as_user = effective("runAsUser");
    let uid = run_as_user.as_ref().and_then(|s| s.value.as_i64());
    let non_root = effective("runAsNonRoot")
        .as_ref()
        .and_then(|s| s.value.as_bool())
        == Some(true);
    let (container_key, container_line) = (container.path.to_string(), container.node.line);
    let kind = if container.init {
        "Init container"
    } else {
        "Container"
    };
    let name = container.name;

    if container.waits_for_database() && (uid == Some(0) || (uid.is_none() && !non_root)) {
        let (key, line, how) = match &run_as_user {
            Some(set) if uid == Some(0) => (
                set.key.clone(),
                set.line,
                format!("runAsUser is 0{}", level(set)),
            ),
            _ => (
                container_key.clone(),
                container_line,
                "no runAsUser is set, and the postgres image runs as root".into(),
            ),
        };
        sink.push(
            Finding::new(
                FindingId::DbWaitRunsAsRoot,
                None,
                format!("Init container {name} waits for the database with a postgres image and runs as root: {how}. Flyte's security overview lists it as the known exception to non-root containers."),
            ),
            key,
            line,
        );
    } else if container.waits_for_database() && uid.is_none() && non_root {
        sink.push(
            Finding::new(
                FindingId::DbWaitRunsAsRoot,
                None,
                format!("Init container {name} waits for the database with a postgres image, whose USER is root, under runAsNonRoot: true and without a runAsUser: the kubelet refuses to start it (\"container has runAsNonRoot and image will run as root\"), so the pod never starts."),
            )
            .severity(Severity::Critical),
            container_key.clone(),
            container_line,
        );
    } else if uid == Some(0) {
        let set = run_as_user.as_ref().expect("uid came from it");
        let refused = if non_root {
            " runAsNonRoot is true as well, so the kubelet refuses to start it (CreateContainerConfigError: \"container's runAsUser breaks non-root policy\") and the rollout hangs."
        } else {
            ""
        };
        sink.push(
            Finding::new(
                FindingId::ContainerRunsAsRoot,
                None,
                format!(
                    "{kind} {name} runs as root: runAsUser is 0{}.{refused}",
                    level(set)
                ),
            ),
            set.key.clone(),
            set.line,
        );
    } else if uid.is_none() && !non_root {
        sink.push(
            Finding::new(
                FindingId::RunAsNonRootNotSet,
                None,
                format!("{kind} {name} sets neither runAsNonRoot: true nor a non-zero runAsUser (pod or container level): the image's USER decides, which certready cannot see."),
            ),
            container_key.clone(),
            container_line,
        );
    }
    if let Some(set) = &run_as_user {
        if !set.from_pod && uid.is_some_and(|u| u > 0) {
            sink.fixed_uid(set, options);
        }
    }

    let own_field = |name: &str| own.and_then(|c| c.field(name, false));
    let privileged = own_field("privileged");
    if let Some(set) = privileged
        .as_ref()
        .filter(|s| s.value.as_bool() == Some(true))
    {
        sink.push(
            Finding::new(
                FindingId::PrivilegedContainer,
                None,
                format!(
                    "{kind} {name} is privileged: it has every capability and the node's devices."
                ),
            ),
            set.key.clone(),
            set.line,
        );
    } else {
        match own_field("allowPrivilegeEscalation") {
            Some(set) if set.value.as_bool() == Some(false) => {}
            Some(set) => sink.push(
                Finding::new(
                    FindingId::PrivilegeEscalationAllowed,
                    None,
                    format!("{kind} {name} sets allowPrivilegeEscalation: true."),
                ),
                set.key,
                set.line,
            ),
            None => {
                let (key, line) = own.map_or((container_key.clone(), container_line), |c| {
                    (c.path.to_string(), c.node.line)
                });
                sink.push(
                    Finding::new(
                        FindingId::PrivilegeEscalationAllowed,
                        None,
                        format!("{kind} {name} does not set allowPrivilegeEscalation: false (Kubernetes's default is true)."),
                    ),
                    key,
                    line,
                );
            }
        }
    }

    let capabilities = own.and_then(|c| c.field("capabilities", false));
    let drops_all = capabilities.as_ref().is_some_and(|caps| {
        caps.value.get("drop").is_some_and(|drop| {
            drop.items()
                .iter()
                .filter_map(Node::as_str)
                .any(|c| c.eq_ignore_ascii_case("ALL"))
        })
    });
    if !drops_all {
        let added: Vec<String> = capabilities
            .as_ref()
            .and_then(|caps| caps.value.get("add"))
            .map(|add| add.items().iter().filter_map(Node::scalar_text).collect())
            .unwrap_or_default();
        let added = if added.is_empty() {
            String::new()
        } else {
            format!(" It adds {}.", added.join(", "))
        };
        let (key, line) = match (&capabilities, own) {
            (Some(caps), _) => (caps.key.clone(), caps.line),
            (None, Some(c)) => (c.path.to_string(), c.node.line),
            (None, None) => (container_key, container_line),
        };
        sink.push(
            Finding::new(
                FindingId::CapabilitiesNotDropped,
                None,
                format!("{kind} {name} does not drop ALL capabilities, so it keeps the container runtime's default set.{added}"),
            ),
            key,
            line,
        );
    }
}

/// " (set on the pod)" when the value is inherited.
fn level(set: &Set<'_>) -> &'static str {
    if set.from_pod {
        " (set on the pod)"
    } else {
        ""
    }
}

/// Where findings go, with the object and the container they concern.
pub(super) struct Sink<'o, 'v> {
    pub(super) object: &'o str,
    pub(super) container: Option<String>,
    pub(super) out: &'v mut Vec<LintFinding>,
}

impl Sink<'_, '_> {
    pub(super) fn push(&mut self, finding: Finding, key: String, line: usize) {
        let mut lint = LintFinding::new(finding, Some(key), Some(line));
        lint.object = (!self.object.is_empty()).then(|| self.object.to_string());
        lint.container = self.container.clone();
        self.out.push(lint);
    }

    fn fixed_uid(&mut self, set: &Set<'_>, options: WorkloadOptions) {
        let uid = set.value.as_i64().unwrap_or_default();
        let who = match &self.container {
            Some(name) if !set.from_pod => format!("Container {name}"),
            _ => "The pod".to_string(),
        };
        let finding = Finding::new(
            FindingId::RunAsUserFixed,
            None,
            format!("{who} runs as the fixed UID {uid}: OpenShift's restricted SCC rejects it unless {uid} is in the namespace's UID range."),
        );
        let finding = if options.openshift {
            finding.severity(Severity::Warning)
        } else {
            finding
        };
        self.push(finding, set.key.clone(), set.line);
    }

    /// Fields only a container's securityContext has, set on the pod's: the API server
    /// refuses them (strict field validation) or drops them, so they protect nothing.
    pub(super) fn container_fields_on_pod(&mut self, context: &Node, path: &str) {
        for entry in context.entries() {
            if !CONTAINER_ONLY_FIELDS.contains(&entry.key.as_str()) {
                continue;
            }
            let key = join(path, &entry.key);
            self.push(
                Finding::new(
                    FindingId::ConfigUnknownKey,
                    None,
                    format!("`{key}` is set on the pod, but Kubernetes's PodSecurityContext has no {}: it belongs in each container's securityContext. The API server refuses it (kubectl's strict field validation) or drops it, so it has no effect.", entry.key),
                ),
                key,
                entry.key_line,
            );
        }
    }

    /// A securityContext that is not a mapping is a wrong type (and then not read).
    pub(super) fn expect_map(&mut self, node: &Node, key: &str) -> bool {
        if node.is_map() || node.is_null() {
            return node.is_map();
        }
        self.push(
            Finding::new(
                FindingId::ConfigWrongType,
                None,
                format!(
                    "{key} is {}, not a mapping: the API server refuses the object.",
                    node.type_name()
                ),
            ),
            key.to_string(),
            node.line,
        );
        false
    }

    /// The fields read here, each of the type the API expects.
    fn check_types(&mut self, context: Context<'_>) {
        self.check_field_types(context.node, context.path);
    }

    /// `check_types` for the securityContext `node` at `path` (a manifest's, or a Helm
    /// value the chart renders into one).
    pub(super) fn check_field_types(&mut self, node: &Node, path: &str) {
        for entry in node.entries() {
            let expected = match entry.key.as_str() {
                "runAsUser" | "runAsGroup" | "fsGroup" => "an integer",
                "runAsNonRoot"
                | "privileged"
                | "allowPrivilegeEscalation"
                | "readOnlyRootFilesystem" => "a boolean",
                "capabilities" => "a mapping",
                _ => continue,
            };
            let ok = match expected {
                "an integer" => entry.value.as_i64().is_some(),
                "a boolean" => entry.value.as_bool().is_some(),
                _ => entry.value.is_map(),
            };
            if !ok && !entry.value.is_null() {
                let key = join(path, &entry.key);
                let shown = entry
                    .value
                    .scalar_text()
                    .map(|t| format!(" ({t:?})"))
                    .unwrap_or_default();
                self.push(
                    Finding::new(
                        FindingId::ConfigWrongType,
                        None,
                        format!("{key} is {}{shown}, not {expected}: the API server refuses the object, so nothing is deployed as written.", entry.value.type_name()),
                    ),
                    key,
                    entry.key_line,
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::yaml::parse_document;

    /// (id, severity, key) of the findings for a pod spec written in YAML.
    fn lint(pod: &str) -> Vec<(&'static str, Severity, String)> {
        let node = parse_document(pod, 1, 1).unwrap().unwrap();
        let mut out = Vec::new();
        lint_pod_spec("Pod/p", &node, "spec", WorkloadOptions::default(), &mut out);
        out.into_iter()
            .map(|f| (f.finding.id.name(), f.finding.severity, f.key.unwrap()))
            .collect()
    }

    const HARDENED: &str = "allowPrivilegeEscalation: false\n      capabilities: {drop: [ALL]}";

    #[test]
    fn a_container_field_overrides_the_pod_field() {
        let found = lint(&format!("securityContext: {{runAsUser: 1001, runAsNonRoot: true}}\ncontainers:\n  - name: a\n    securityContext:\n      runAsUser: 0\n      {HARDENED}\n"));
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].0, "run-as-user-fixed");
        assert_eq!(found[1].0, "container-runs-as-root");
        assert_eq!(found[1].2, "spec.containers[0].securityContext.runAsUser");

        let found = lint(&format!("securityContext: {{runAsUser: 0}}\ncontainers:\n  - name: a\n    securityContext:\n      runAsUser: 1000\n      {HARDENED}\n"));
        let ids: Vec<_> = found.iter().map(|f| f.0).collect();
        assert_eq!(ids, ["run-as-user-fixed"], "the pod's 0 is overridden");
    }

    #[test]
    fn nothing_set_means_the_image_decides() {
        let found = lint("containers:\n  - name: a\n    image: x\n");
        let ids: Vec<_> = found.iter().map(|f| f.0).collect();
        assert_eq!(
            ids,
            [
                "run-as-non-root-not-set",
                "privilege-escalation-allowed",
                "capabilities-not-dropped"
            ]
        );
        assert!(found.iter().all(|f| f.2 == "spec.containers[0]"));
    }

    #[test]
    fn container_fields_on_the_pod_have_no_effect() {
        let found = lint(&format!("securityContext: {{runAsNonRoot: true, allowPrivilegeEscalation: false}}\ncontainers:\n  - name: a\n    securityContext:\n      {HARDENED}\n"));
        assert_eq!(
            found,
            [(
                "config-unknown-key",
                Severity::Warning,
                "spec.securityContext.allowPrivilegeEscalation".to_string()
            )]
        );
    }

    #[test]
    fn the_database_wait_is_the_known_exception() {
        let wait = |pod_context: &str| {
            lint(&format!("securityContext: {pod_context}\ninitContainers:\n  - name: wait\n    image: postgres:15-alpine\n    command: [sh, -ec, 'until pg_isready -h db; do sleep 1; done']\n    securityContext:\n      {HARDENED}\ncontainers:\n  - name: a\n    securityContext:\n      runAsUser: 1001\n      {HARDENED}\n"))
        };
        let found = wait("{}");
        assert_eq!(found[0].0, "db-wait-runs-as-root");
        assert_eq!(found[0].1, Severity::Warning);
        // runAsNonRoot without a user: the kubelet refuses the postgres image (root).
        let found = wait("{runAsNonRoot: true}");
        assert_eq!(found[0].0, "db-wait-runs-as-root");
        assert_eq!(found[0].1, Severity::Critical);
        // A user on the pod: not root, nothing to say about the wait.
        let found = wait("{runAsUser: 65534, runAsNonRoot: true}");
        assert!(
            found.iter().all(|f| f.0 == "run-as-user-fixed"),
            "{found:?}"
        );
    }

    #[test]
    fn wrong_types_are_named() {
        let found = lint(&format!("containers:\n  - name: a\n    securityContext:\n      runAsUser: \"zero\"\n      runAsNonRoot: true\n      {HARDENED}\n"));
        assert_eq!(
            found,
            [(
                "config-wrong-type",
                Severity::Critical,
                "spec.containers[0].securityContext.runAsUser".to_string()
            )]
        );
    }
}

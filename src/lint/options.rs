//! What changes how `lint-config` judges.

#[derive(Debug, Default, Clone)]
pub struct LintOptions {
    pub console_origin: Option<String>,
    /// Judge fixed UIDs as OpenShift's restricted SCC does (a warning, not a note).
    pub openshift: bool,
}

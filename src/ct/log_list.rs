//! The CT log list in Chrome's v3 schema (`operators[].logs[]` and `tiled_logs[]`, each
//! with `key`, `log_id`, `state`, `temporal_interval`): the embedded snapshot, or the
//! file `--ct-log-list` names (e.g. Google's log_list.json or Apple's
//! current_log_list.json, same schema, fetched by whoever runs certready air-gapped).
//!
//! The snapshot `log_list.json` beside this file is Chromium's
//! `components/certificate_transparency/data/log_list.json` at commit
//! ddfc423a5364d2d558e304174ba2045e5b0c8227 (list version 50.35, log_list_timestamp
//! 2024-12-11T12:53:46Z), byte for byte (32,052 bytes; every log_id is the SHA-256 of
//! its key, which `parse` checks).

use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};

/// The embedded snapshot's JSON.
const EMBEDDED_JSON: &str = include_str!("log_list.json");
/// How `--version` and the reports name the embedded snapshot.
pub const EMBEDDED_SOURCE: &str = "embedded Chrome log list 50.35 (2024-12-11)";

/// Chrome considers its log data timely for 70 days (`IsLogDataTimely`); past that,
/// certready cannot tell an unknown log from one added since its list was made.
pub const TIMELY_SECONDS: i64 = 70 * 86_400;

/// A log's state (the v3 schema's `state` key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogState {
    Pending,
    Qualified,
    Usable,
    Readonly,
    Retired,
    Rejected,
}

impl LogState {
    pub fn name(self) -> &'static str {
        match self {
            LogState::Pending => "pending",
            LogState::Qualified => "qualified",
            LogState::Usable => "usable",
            LogState::Readonly => "readonly",
            LogState::Retired => "retired",
            LogState::Rejected => "rejected",
        }
    }

    /// Once or currently qualified: the logs Chrome and Apple verify SCTs against
    /// (make_ct_known_logs_list.py drops "pending" and "rejected").
    pub fn trusted(self) -> bool {
        !matches!(self, LogState::Pending | LogState::Rejected)
    }
}

#[derive(Debug, Clone)]
pub struct Log {
    /// SHA-256 of `key`.
    pub id: [u8; 32],
    /// SubjectPublicKeyInfo, DER.
    pub key: Vec<u8>,
    pub description: String,
    pub operator: String,
    pub state: LogState,
    /// When the log entered `state` (Unix seconds).
    pub state_since: i64,
    /// Certificates whose notAfter falls in [start, end) only (a temporal shard).
    pub interval: Option<(i64, i64)>,
}

#[derive(Debug, Clone)]
pub struct LogList {
    /// Where it came from: the embedded snapshot, or the file's path.
    pub source: String,
    pub version: Option<String>,
    /// `log_list_timestamp` (Unix seconds).
    pub timestamp: i64,
    pub logs: Vec<Log>,
}

#[derive(Deserialize)]
struct RawList {
    version: Option<String>,
    log_list_timestamp: String,
    operators: Vec<RawOperator>,
}

#[derive(Deserialize)]
struct RawOperator {
    name: String,
    #[serde(default)]
    logs: Vec<RawLog>,
    #[serde(default)]
    tiled_logs: Vec<RawLog>,
}

#[derive(Deserialize)]
struct RawLog {
    description: Option<String>,
    log_id: String,
    key: String,
    state: Option<std::collections::BTreeMap<String, RawState>>,
    temporal_interval: Option<RawInterval>,
}

#[derive(Deserialize)]
struct RawState {
    timestamp: String,
}

#[derive(Deserialize)]
struct RawInterval {
    start_inclusive: String,
    end_exclusive: String,
}

fn instant(text: &str, what: &str) -> Result<i64, String> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|e| format!("{what}: {text:?} is not an RFC 3339 time ({e})"))
}

impl LogList {
    /// Parses a v3 log list; `source` names it in messages.
    pub fn parse(json: &[u8], source: &str) -> Result<LogList, String> {
        use base64::Engine;
        let raw: RawList = serde_json::from_slice(json)
            .map_err(|e| format!("{source}: not a CT log list in the v3 schema ({e})"))?;
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut logs = Vec::new();
        for operator in raw.operators {
            for log in operator.logs.into_iter().chain(operator.tiled_logs) {
                let name = log
                    .description
                    .clone()
                    .unwrap_or_else(|| log.log_id.clone());
                let key = b64
                    .decode(log.key.trim())
                    .map_err(|e| format!("{source}: log {name}: key is not base64 ({e})"))?;
                let id: [u8; 32] = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &key)
                    .as_ref()
                    .try_into()
                    .map_err(|_| format!("{source}: log {name}: no SHA-256"))?;
                // The id is defined as the key's hash: a mismatch is a damaged list.
                if b64.decode(log.log_id.trim()).ok().as_deref() != Some(&id[..]) {
                    return Err(format!(
                        "{source}: log {name}: log_id is not the SHA-256 of its key"
                    ));
                }
                let (state, state_since) = match log.state.as_ref().and_then(|s| s.iter().next()) {
                    Some((state, at)) => (
                        match state.as_str() {
                            "pending" => LogState::Pending,
                            "qualified" => LogState::Qualified,
                            "usable" => LogState::Usable,
                            "readonly" => LogState::Readonly,
                            "retired" => LogState::Retired,
                            "rejected" => LogState::Rejected,
                            other => {
                                return Err(format!(
                                    "{source}: log {name}: unknown state {other:?}"
                                ))
                            }
                        },
                        instant(&at.timestamp, &format!("{source}: log {name}: state"))?,
                    ),
                    // No state: not (yet) accepted by the list's owner.
                    None => (LogState::Pending, 0),
                };
                let interval = match &log.temporal_interval {
                    Some(i) => Some((
                        instant(&i.start_inclusive, &format!("{source}: log {name}"))?,
                        instant(&i.end_exclusive, &format!("{source}: log {name}"))?,
                    )),
                    None => None,
                };
                logs.push(Log {
                    id,
                    key,
                    description: name,
                    operator: operator.name.clone(),
                    state,
                    state_since,
                    interval,
                });
            }
        }
        Ok(LogList {
            source: source.to_string(),
            version: raw.version,
            timestamp: instant(
                &raw.log_list_timestamp,
                &format!("{source}: log_list_timestamp"),
            )?,
            logs,
        })
    }

    /// Reads a log list file (`--ct-log-list`).
    pub fn from_file(path: &std::path::Path) -> Result<LogList, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        LogList::parse(&bytes, &path.display().to_string())
    }

    /// The snapshot compiled in, parsed once.
    pub fn embedded() -> Arc<LogList> {
        static EMBEDDED: OnceLock<Arc<LogList>> = OnceLock::new();
        EMBEDDED
            .get_or_init(|| {
                Arc::new(
                    LogList::parse(EMBEDDED_JSON.as_bytes(), EMBEDDED_SOURCE)
                        .expect("the embedded log list parses (a unit test checks it)"),
                )
            })
            .clone()
    }

    pub fn find(&self, id: &[u8]) -> Option<&Log> {
        self.logs.iter().find(|log| log.id == id)
    }

    /// Made within 70 days before `at`: a log it does not know is unknown to the clients
    /// too (they update their lists continuously).
    pub fn timely_at(&self, at: i64) -> bool {
        at - self.timestamp < TIMELY_SECONDS
    }

    /// "embedded Chrome log list 50.35 (2024-12-11)" or "FILE (version V, 2026-…)".
    pub fn describe(&self) -> String {
        if self.source == EMBEDDED_SOURCE {
            return self.source.clone();
        }
        let date = crate::chain::rfc3339(self.timestamp);
        match &self.version {
            Some(v) => format!(
                "{} (version {v}, {})",
                self.source,
                &date[..10.min(date.len())]
            ),
            None => format!("{} ({})", self.source, &date[..10.min(date.len())]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_snapshot_parses_with_every_id_its_key_hash() {
        let list = LogList::embedded();
        assert_eq!(list.logs.len(), 48);
        assert_eq!(list.version.as_deref(), Some("50.35"));
        assert_eq!(
            crate::chain::rfc3339(list.timestamp),
            "2024-12-11T12:53:46Z"
        );
        let operators: std::collections::BTreeSet<&str> =
            list.logs.iter().map(|l| l.operator.as_str()).collect();
        assert_eq!(operators.len(), 6, "{operators:?}");
        // --version names the same snapshot (tests/it/cli.rs checks its text).
        assert_eq!(LogList::embedded().describe(), EMBEDDED_SOURCE);
    }

    #[test]
    fn a_log_id_that_is_not_its_key_hash_is_refused() {
        let json = br#"{"log_list_timestamp":"2026-01-01T00:00:00Z","operators":[{"name":"X","logs":[
            {"description":"x","log_id":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","key":"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEKjpni/66DIYrSlGK6Rf+e6F2c/28ZUvDJ79N81+gyimAESAyeNZ++TRgjHWg9TVQnKHTSU0T1TtqDupFnSQTIg==",
             "state":{"usable":{"timestamp":"2024-01-01T00:00:00Z"}}}]}]}"#;
        let error = LogList::parse(json, "t.json").unwrap_err();
        assert!(error.contains("not the SHA-256 of its key"), "{error}");
        assert!(LogList::parse(b"{}", "t.json").is_err());
    }
}

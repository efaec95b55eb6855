//! The CT log lists in Chrome's v3 schema (`operators[].logs[]` and `tiled_logs[]`, each
//! with `key`, `log_id`, `state`, `temporal_interval`, optionally `log_type` and
//! `previous_operators`): the two embedded snapshots, or the files `--ct-log-list` and
//! `--apple-ct-log-list` name. Accepted forms: Google's `log_list.json`, its all-logs
//! variant `all_logs_list.json` (`is_all_logs`; entries without `state`, and `log_type`
//! "test" or "monitoring_only"), and Apple's `current_log_list.json` (no
//! `log_list_timestamp`; states carry a `version`; `tls_only` on tiled logs).
//!
//! The snapshots beside this file, byte for byte, every log_id checked by `parse` to be
//! the SHA-256 of its key:
//! - `log_list.json`: Chrome's `all_logs_list.json` version 85.52, log_list_timestamp
//!   2026-04-21T13:51:46Z (164,808 bytes, sha256 723d8ccc…69261cd), from crtsh/ctloglists
//!   `files/gstatic/v3/all_logs_list.json` at commit
//!   00d89ddba34013c8513560fb3bf694d7793509e9 (crt.sh commits it only after checking
//!   Google's signature over it); 24 operators, 187 logs and 69 tiled logs.
//! - `apple_log_list.json`: Apple's `current_log_list.json` assetVersion 32 (version
//!   "511"; 148,409 bytes, sha256 4f85395c…882f549d5), from crtsh/ctloglists
//!   `files/apple/current_log_list.json` at commit
//!   16643f152c4206e42dbe7c4d86f288a1ba92c5b4; 16 operators, 135 logs and 31 tiled logs.
//!   Apple does not sign it.

use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};

/// The embedded Chrome snapshot's JSON.
const EMBEDDED_JSON: &str = include_str!("log_list.json");
/// How `--version` and the reports name the embedded Chrome snapshot.
pub const EMBEDDED_SOURCE: &str = "embedded Chrome all_logs_list 85.52 (2026-04-21)";
/// The embedded Apple snapshot's JSON.
const EMBEDDED_APPLE_JSON: &str = include_str!("apple_log_list.json");
/// How `--version` and the reports name the embedded Apple snapshot: it states no date,
/// so it is dated by its newest state change.
pub const EMBEDDED_APPLE_SOURCE: &str =
    "embedded Apple current_log_list 511 (assetVersion 32, newest entry 2026-03-30)";

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
    /// The current operator.
    pub operator: String,
    /// Earlier operators, each with the instant its operation ended (Unix seconds),
    /// oldest first.
    pub previous_operators: Vec<(String, i64)>,
    /// None: the list gives none (an all-logs list's never-qualified, test and
    /// monitoring-only logs).
    pub state: Option<LogState>,
    /// When the log entered `state` (Unix seconds; 0 without a state).
    pub state_since: i64,
    /// Certificates whose notAfter falls in [start, end) only (a temporal shard).
    pub interval: Option<(i64, i64)>,
    /// `log_type` when it is not a production log ("test", "monitoring_only"); None for
    /// a production log (the key absent, or "prod").
    pub log_type: Option<String>,
}

impl Log {
    /// A log the clients verify SCTs against: a production log once or currently
    /// qualified. Chrome's compiled list leaves out the others.
    pub fn trusted(&self) -> bool {
        self.log_type.is_none() && self.state.is_some_and(LogState::trusted)
    }

    /// Not trusted by this list, but it may be since (the list being older than the
    /// instant judged): a production log still pending.
    pub fn may_qualify_later(&self) -> bool {
        self.log_type.is_none() && self.state == Some(LogState::Pending)
    }

    /// The operator in effect at `timestamp` (Unix seconds), as Chrome's
    /// `ChromeCTPolicyEnforcer::GetOperatorForLog` picks it: the first previous operator,
    /// oldest first, whose end is after the timestamp, else the current one.
    pub fn operator_at(&self, timestamp: i64) -> &str {
        self.previous_operators
            .iter()
            .find(|(_, end)| timestamp < *end)
            .map_or(self.operator.as_str(), |(name, _)| name.as_str())
    }

    /// Why the clients do not verify SCTs against it, in words; None when they do.
    pub fn untrusted_reason(&self) -> Option<String> {
        if let Some(kind) = &self.log_type {
            return Some(format!(
                "a {} log, not a production log",
                kind.replace('_', "-")
            ));
        }
        match self.state {
            None => Some("no state in the list: never qualified".into()),
            Some(state) if !state.trusted() => Some(state.name().into()),
            Some(_) => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct LogList {
    /// Where it came from: an embedded snapshot, or the file's path.
    pub source: String,
    /// One of the embedded snapshots: `source` is its whole name.
    pub embedded: bool,
    pub version: Option<String>,
    /// When it was made (Unix seconds): `log_list_timestamp`, else (Apple's list states
    /// none) its newest state change, a lower bound; None when it has neither.
    pub timestamp: Option<i64>,
    /// `timestamp` is the list's own `log_list_timestamp`.
    pub timestamp_stated: bool,
    pub logs: Vec<Log>,
}

#[derive(Deserialize)]
struct RawList {
    version: Option<String>,
    log_list_timestamp: Option<String>,
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
    log_type: Option<String>,
    #[serde(default)]
    previous_operators: Vec<RawPreviousOperator>,
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

#[derive(Deserialize)]
struct RawPreviousOperator {
    name: String,
    end_time: String,
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
                        Some(match state.as_str() {
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
                        }),
                        instant(&at.timestamp, &format!("{source}: log {name}: state"))?,
                    ),
                    // An all-logs list's entry no root program accepted.
                    None => (None, 0),
                };
                let interval = match &log.temporal_interval {
                    Some(i) => Some((
                        instant(&i.start_inclusive, &format!("{source}: log {name}"))?,
                        instant(&i.end_exclusive, &format!("{source}: log {name}"))?,
                    )),
                    None => None,
                };
                let mut previous_operators = log
                    .previous_operators
                    .iter()
                    .map(|p| {
                        instant(
                            &p.end_time,
                            &format!("{source}: log {name}: previous operator"),
                        )
                        .map(|end| (p.name.clone(), end))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                // Chrome walks them oldest first (the component's proto lists them newest
                // first and is reversed); the JSON does not promise an order.
                previous_operators.sort_by_key(|(_, end)| *end);
                logs.push(Log {
                    id,
                    key,
                    description: name,
                    operator: operator.name.clone(),
                    previous_operators,
                    state,
                    state_since,
                    interval,
                    log_type: log.log_type.filter(|t| t != "prod"),
                });
            }
        }
        let (timestamp, timestamp_stated) = match &raw.log_list_timestamp {
            Some(text) => (
                Some(instant(text, &format!("{source}: log_list_timestamp"))?),
                true,
            ),
            None => (
                logs.iter()
                    .filter(|l| l.state.is_some())
                    .map(|l| l.state_since)
                    .max(),
                false,
            ),
        };
        Ok(LogList {
            source: source.to_string(),
            embedded: false,
            version: raw.version,
            timestamp,
            timestamp_stated,
            logs,
        })
    }

    /// Reads a log list file (`--ct-log-list`, `--apple-ct-log-list`).
    pub fn from_file(path: &std::path::Path) -> Result<LogList, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        LogList::parse(&bytes, &path.display().to_string())
    }

    fn embedded_one(json: &str, source: &str) -> LogList {
        let mut list = LogList::parse(json.as_bytes(), source)
            .expect("the embedded log lists parse (a unit test checks it)");
        list.embedded = true;
        list
    }

    /// The Chrome snapshot compiled in, parsed once.
    pub fn embedded() -> Arc<LogList> {
        static EMBEDDED: OnceLock<Arc<LogList>> = OnceLock::new();
        EMBEDDED
            .get_or_init(|| Arc::new(LogList::embedded_one(EMBEDDED_JSON, EMBEDDED_SOURCE)))
            .clone()
    }

    /// The Apple snapshot compiled in, parsed once.
    pub fn embedded_apple() -> Arc<LogList> {
        static EMBEDDED: OnceLock<Arc<LogList>> = OnceLock::new();
        EMBEDDED
            .get_or_init(|| {
                Arc::new(LogList::embedded_one(
                    EMBEDDED_APPLE_JSON,
                    EMBEDDED_APPLE_SOURCE,
                ))
            })
            .clone()
    }

    /// The entry with this log id, trusted or not.
    pub fn find(&self, id: &[u8]) -> Option<&Log> {
        self.logs.iter().find(|log| log.id == id)
    }

    /// Made within 70 days before `at`: a log it does not know is unknown to the clients
    /// too (they update their lists continuously). A list with no date is never current.
    pub fn timely_at(&self, at: i64) -> bool {
        self.timestamp
            .is_some_and(|made| at - made < TIMELY_SECONDS)
    }

    /// "embedded Chrome all_logs_list 85.52 (2026-04-21)", "FILE (version V, 2026-…)",
    /// "FILE (version V, undated, newest entry 2026-…)".
    pub fn describe(&self) -> String {
        if self.embedded {
            return self.source.clone();
        }
        let date = match self.timestamp {
            Some(at) => {
                let date = crate::chain::rfc3339(at);
                let day = &date[..10.min(date.len())];
                if self.timestamp_stated {
                    day.to_string()
                } else {
                    format!("undated, newest entry {day}")
                }
            }
            None => "undated".into(),
        };
        match &self.version {
            Some(v) => format!("{} (version {v}, {date})", self.source),
            None => format!("{} ({date})", self.source),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn by_name<'a>(list: &'a LogList, description: &str) -> &'a Log {
        list.logs
            .iter()
            .find(|l| l.description == description)
            .unwrap_or_else(|| panic!("{description} not in {}", list.source))
    }

    fn operators(list: &LogList) -> std::collections::BTreeSet<&str> {
        list.logs.iter().map(|l| l.operator.as_str()).collect()
    }

    fn key_hash(log: &Log) -> [u8; 32] {
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &log.key)
            .as_ref()
            .try_into()
            .unwrap()
    }

    #[test]
    fn the_embedded_chrome_list_is_the_all_logs_list_85_52() {
        let list = LogList::embedded();
        assert_eq!(list.version.as_deref(), Some("85.52"));
        assert_eq!(
            list.timestamp.map(crate::chain::rfc3339).as_deref(),
            Some("2026-04-21T13:51:46Z")
        );
        assert!(list.timestamp_stated);
        // 187 logs and 69 tiled logs of 24 operators.
        assert_eq!(list.logs.len(), 256);
        assert_eq!(operators(&list).len(), 24, "{:?}", operators(&list));
        assert!(list.logs.iter().all(|l| key_hash(l) == l.id));
        // The reports and --version name the same snapshot.
        assert_eq!(list.describe(), EMBEDDED_SOURCE);
        assert!(crate::app::LONG_VERSION
            .contains(EMBEDDED_SOURCE.trim_start_matches("embedded Chrome all_logs_list ")));
        let trusted = list.logs.iter().filter(|l| l.trusted()).count();
        // usable 27 + 21, readonly 4, retired 4.
        assert_eq!(trusted, 56);
        // A static-ct-api (tiled) log is loaded and trusted.
        let sycamore = by_name(&list, "Let's Encrypt 'Sycamore2026h2'");
        assert!(sycamore.trusted());
        assert_eq!(sycamore.state, Some(LogState::Usable));
        // Test and monitoring-only logs are kept, named, and never trusted.
        let solera = by_name(&list, "Google 'Solera2026h2' log");
        assert_eq!(solera.log_type.as_deref(), Some("test"));
        assert_eq!(solera.state, None);
        assert!(!solera.trusted() && !solera.may_qualify_later());
        assert_eq!(
            solera.untrusted_reason().as_deref(),
            Some("a test log, not a production log")
        );
        let coach = by_name(&list, "Google 'CoachAndHorses2027h1' log");
        assert!(!coach.trusted());
        assert!(coach
            .untrusted_reason()
            .unwrap()
            .contains("monitoring-only"));
        // A production log without a state never qualified.
        let submariner = by_name(&list, "Google 'Submariner' log");
        assert!(submariner.log_type.is_none() && !submariner.trusted());
        // Chrome rejected Cloudflare's Raio logs; Google's static logs were pending.
        assert_eq!(
            by_name(&list, "Cloudflare 'Raio2026h2a'").state,
            Some(LogState::Rejected)
        );
        let parcel = by_name(&list, "Google 'ParcelYard2027h1' log");
        assert_eq!(parcel.state, Some(LogState::Pending));
        assert!(parcel.may_qualify_later());
        assert!(by_name(&list, "TrustAsia Luoshu2027").trusted());
    }

    #[test]
    fn the_embedded_apple_list_is_asset_version_32_dated_by_its_newest_entry() {
        let list = LogList::embedded_apple();
        assert_eq!(list.version.as_deref(), Some("511"));
        assert!(!list.timestamp_stated);
        assert_eq!(
            list.timestamp.map(crate::chain::rfc3339).as_deref(),
            Some("2026-03-30T19:10:05Z")
        );
        assert!(EMBEDDED_APPLE_SOURCE.contains("2026-03-30"));
        assert_eq!(list.describe(), EMBEDDED_APPLE_SOURCE);
        assert!(crate::app::LONG_VERSION.contains(
            EMBEDDED_APPLE_SOURCE.trim_start_matches("embedded Apple current_log_list ")
        ));
        assert_eq!(list.logs.len(), 166);
        assert_eq!(operators(&list).len(), 16, "{:?}", operators(&list));
        assert!(list.logs.iter().all(|l| key_hash(l) == l.id));
        assert!(list.logs.iter().all(|l| l.state.is_some()));
        // Where Apple's states differ from Chrome's.
        assert!(by_name(&list, "Cloudflare 'Raio2026h2a' log").trusted());
        assert_eq!(
            by_name(&list, "TrustAsia Luoshu2027").state,
            Some(LogState::Pending)
        );
        // Every Apple log is in Chrome's list under the same key (the id is its hash).
        let chrome = LogList::embedded();
        assert!(list.logs.iter().all(|l| chrome.find(&l.id).is_some()));
    }

    #[test]
    fn an_undated_list_is_dated_by_its_newest_state_and_an_empty_one_never_current() {
        let list = LogList::parse(br#"{"version":"7","operators":[]}"#, "apple.json").unwrap();
        assert_eq!(list.timestamp, None);
        assert!(!list.timely_at(0));
        assert_eq!(list.describe(), "apple.json (version 7, undated)");
        let apple = LogList::parse(EMBEDDED_APPLE_JSON.as_bytes(), "apple.json").unwrap();
        assert_eq!(
            apple.describe(),
            "apple.json (version 511, undated, newest entry 2026-03-30)"
        );
        let made = apple.timestamp.unwrap();
        assert!(apple.timely_at(made + TIMELY_SECONDS - 1));
        assert!(!apple.timely_at(made + TIMELY_SECONDS));
    }

    #[test]
    fn previous_operators_are_read_and_the_one_in_effect_at_a_timestamp_wins() {
        // Listed newest first on purpose: the loader orders them by end.
        let json = br#"{"log_list_timestamp":"2026-01-01T00:00:00Z","operators":[{"name":"Now","logs":[
            {"description":"moved","log_id":"1219ENGn9XfCx+lf1wC/+YLJM1pl4dCzAXMXwMjFaXc=","key":"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEKjpni/66DIYrSlGK6Rf+e6F2c/28ZUvDJ79N81+gyimAESAyeNZ++TRgjHWg9TVQnKHTSU0T1TtqDupFnSQTIg==",
             "state":{"usable":{"timestamp":"2024-01-01T00:00:00Z"}},
             "previous_operators":[{"name":"Second","end_time":"2025-01-01T00:00:00Z"},
                                   {"name":"First","end_time":"2024-06-01T00:00:00Z"}]}]}]}"#;
        let list = LogList::parse(json, "t.json").unwrap();
        let log = &list.logs[0];
        let at = |text| instant(text, "t").unwrap();
        assert_eq!(
            log.previous_operators,
            vec![
                ("First".to_string(), at("2024-06-01T00:00:00Z")),
                ("Second".to_string(), at("2025-01-01T00:00:00Z"))
            ]
        );
        assert_eq!(log.operator_at(at("2024-05-31T23:59:59Z")), "First");
        // An end is exclusive: from it on, the next operator runs the log.
        assert_eq!(log.operator_at(at("2024-06-01T00:00:00Z")), "Second");
        assert_eq!(log.operator_at(at("2025-01-01T00:00:00Z")), "Now");
        assert_eq!(log.operator_at(at("2026-01-01T00:00:00Z")), "Now");
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

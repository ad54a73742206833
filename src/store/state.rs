//! `STORE/state.json`: how far the store is complete for each source it is filled from, and the
//! format version.
//!
//! Graph's watermark is the top-level `watermark` (where every version has kept it); each Log
//! Analytics workspace and each storage-account archive location has its own entry under
//! `sources`, keyed by [`State::workspace_key`] and [`State::archive_key`]. An archive entry
//! also lists every blob imported, with the ETag and size it had, so that a re-run reads only
//! new or changed blobs. A state written before `sources` existed reads as having none.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The store format this version writes; a store with a higher number is refused.
pub const FORMAT: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// The store format version.
    pub format: u32,
    /// Every record logged at or before this time (by `activityDateTime`) has been fetched from
    /// Graph, as far as Graph showed it then; the next fetch starts here minus the overlap.
    pub watermark: Option<DateTime<Utc>>,
    /// The `loggedByService` value an older version fetched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// The `loggedByService` values fetched (none while the store was only imported into).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<String>,
    /// When the state last changed.
    pub updated: DateTime<Utc>,
    /// The other sources: Log Analytics workspaces and archive locations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sources: BTreeMap<String, SourceState>,
    /// The Entra tenant whose audit log the store holds (lowercase): recorded by `fetch` and
    /// `run` from the sign-in, by `import --tenant-id`; a store holds one tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
}

/// How far one source other than Graph has been read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceState {
    /// A workspace: every row with a `TimeGenerated` before this time has been read. An
    /// archive: the newest `Last-Modified` of the blobs imported.
    #[serde(default)]
    pub watermark: Option<DateTime<Utc>>,
    /// An archive: each blob imported (its name in the container) as it was when read.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub blobs: BTreeMap<String, BlobSeen>,
}

/// A blob as it was when it was imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobSeen {
    pub etag: Option<String>,
    pub size: u64,
}

impl State {
    /// A state with nothing read yet.
    pub fn new() -> State {
        State {
            format: FORMAT,
            watermark: None,
            service: None,
            services: Vec::new(),
            updated: Utc::now(),
            sources: BTreeMap::new(),
            tenant_id: None,
        }
    }

    /// Records the store's tenant; a store already recording another tenant is refused.
    pub fn record_tenant(&mut self, tenant: &str) -> Result<(), String> {
        match &self.tenant_id {
            Some(recorded) if !recorded.eq_ignore_ascii_case(tenant) => Err(format!(
                "the store holds tenant {recorded}, not {tenant}: a store holds one tenant; \
                 use another store for {tenant}"
            )),
            _ => {
                self.tenant_id = Some(tenant.to_ascii_lowercase());
                Ok(())
            }
        }
    }

    /// The `sources` key of a Log Analytics workspace.
    pub fn workspace_key(workspace: &str) -> String {
        format!("log-analytics:{}", workspace.to_ascii_lowercase())
    }

    /// The `sources` key of an archive location (`az://ACCOUNT/CONTAINER/PREFIX`).
    pub fn archive_key(location: &str) -> String {
        format!("archive:{location}")
    }
}

impl Default for State {
    fn default() -> Self {
        State::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_without_sources_reads_and_writes_as_before() {
        let old = r#"{"format":1,"watermark":"2026-11-01T00:00:00Z","service":"Self-service Password Management","updated":"2026-11-01T00:00:05Z"}"#;
        let state: State = serde_json::from_str(old).unwrap();
        assert!(state.sources.is_empty());
        assert_eq!(
            serde_json::to_value(&state).unwrap(),
            serde_json::from_str::<serde_json::Value>(old).unwrap()
        );
    }

    #[test]
    fn a_store_holds_one_tenant() {
        let mut state = State::new();
        state.record_tenant("AAAA-1").unwrap();
        state.record_tenant("aaaa-1").unwrap();
        assert_eq!(state.tenant_id.as_deref(), Some("aaaa-1"));
        let refused = state.record_tenant("bbbb-2").unwrap_err();
        assert!(
            refused.contains("aaaa-1") && refused.contains("bbbb-2"),
            "{refused}"
        );
        assert_eq!(state.tenant_id.as_deref(), Some("aaaa-1"));
    }

    #[test]
    fn sources_round_trip() {
        let mut state = State::new();
        let mut archive = SourceState::default();
        archive.blobs.insert(
            "y=2026/m=10/d=01/h=08/m=00/PT1H.json".into(),
            BlobSeen {
                etag: Some("\"0x8DC\"".into()),
                size: 1234,
            },
        );
        state
            .sources
            .insert(State::archive_key("az://acct/c/p"), archive);
        state.sources.insert(
            State::workspace_key("AB-CD"),
            SourceState {
                watermark: Some("2026-11-01T00:00:00Z".parse().unwrap()),
                ..SourceState::default()
            },
        );
        let text = serde_json::to_string(&state).unwrap();
        assert!(text.contains("log-analytics:ab-cd"), "{text}");
        assert_eq!(serde_json::from_str::<State>(&text).unwrap(), state);
    }
}

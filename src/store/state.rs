//! `STORE/state.json`: how far the store is complete (the watermark) and the format version.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The store format this version writes; a store with a higher number is refused.
pub const FORMAT: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// The store format version.
    pub format: u32,
    /// Every record logged at or before this time (by `activityDateTime`) has been fetched, as far
    /// as Graph showed it then; the next fetch starts here minus the overlap.
    pub watermark: Option<DateTime<Utc>>,
    /// The `loggedByService` value an older version fetched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// The `loggedByService` values fetched (none while the store was only imported into).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<String>,
    /// When the state last changed.
    pub updated: DateTime<Utc>,
}

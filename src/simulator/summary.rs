//! `GET /beta/reports/authenticationMethods/userPasswordResetsAndChangesSummary`: Microsoft's
//! daily counts of the simulated tenant, computed from the records it serves, in pages of
//! `summary_page_days` days linked by nextLinks (`$skiptoken` = the first day's index).
//!
//! The simulator's own reading of its records, written apart from ssprlens's model: a day's
//! self-service count is the correlation ids (without an unlock row) whose earliest successful
//! `Reset password (self-service)` row, else earliest success flow row, lies on it; its admin
//! count the successful `Reset password (by admin)` rows, and the successful Core Directory
//! `Reset user password` rows initiated neither by the reset service (`fim_password_service@`,
//! `Sync_`, `Microsoft password reset service`, `Self-service Password Management`) nor within
//! five minutes of a portal reset of the same user. `summary_disagreements` then moves chosen
//! days' numbers, and `summary_numbers_as_strings` writes them as JSON strings (Int64 as
//! Graph may).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde_json::{Value, json};

use super::Shared;
use super::audits::admit;
use super::graph::{GRAPH_JSON, RequestIds};

/// A day's counts: self-service resets, admin resets.
type Counts = (i64, i64);

/// What the report serves: one JSON entry per day with any record, oldest first.
pub(super) struct DailySummary {
    entries: Vec<Value>,
    page_days: usize,
}

/// A field of a record whatever its key's case (exports capitalise some).
fn field<'a>(record: &'a Value, name: &str) -> Option<&'a Value> {
    record
        .as_object()?
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
}

fn text<'a>(record: &'a Value, name: &str) -> Option<&'a str> {
    field(record, name)?.as_str()
}

fn time(record: &Value) -> Option<DateTime<Utc>> {
    text(record, "activityDateTime")
        .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
        .map(|time| time.to_utc())
}

fn succeeded(record: &Value) -> bool {
    text(record, "result").is_some_and(|result| result.eq_ignore_ascii_case("success"))
}

fn activity_is(record: &Value, name: &str) -> bool {
    text(record, "activityDisplayName")
        .is_some_and(|activity| activity.trim().eq_ignore_ascii_case(name))
}

/// The target user's UPN, lowercased.
fn target(record: &Value) -> Option<String> {
    let first = field(record, "targetResources")?.as_array()?.first()?;
    Some(text(first, "userPrincipalName")?.to_lowercase())
}

/// Whether the reset service (or the sync account) initiated a record.
fn by_reset_service(record: &Value) -> bool {
    let Some(by) = field(record, "initiatedBy") else {
        return true;
    };
    let app = by
        .get("app")
        .and_then(|app| app.get("displayName"))
        .and_then(Value::as_str);
    let upn = by
        .get("user")
        .and_then(|user| user.get("userPrincipalName"))
        .and_then(Value::as_str);
    match (app, upn) {
        (Some(app), _) => [
            "microsoft password reset service",
            "self-service password management",
        ]
        .contains(&app.to_lowercase().as_str()),
        (None, Some(upn)) => {
            let upn = upn.to_lowercase();
            upn.starts_with("fim_password_service@") || upn.starts_with("sync_")
        }
        (None, None) => true,
    }
}

impl DailySummary {
    pub fn new(
        records: &[Value],
        disagreements: &[(NaiveDate, i64, i64)],
        as_strings: bool,
        page_days: usize,
    ) -> Self {
        let mut days: BTreeMap<NaiveDate, Counts> = BTreeMap::new();
        let mut unique: HashMap<&str, &Value> = HashMap::new();
        for record in records {
            unique
                .entry(text(record, "id").unwrap_or_default())
                .or_insert(record);
        }
        // Per correlation id: has an unlock row, earliest successful reset row, earliest success flow row.
        let mut resets: HashMap<&str, (bool, Option<DateTime<Utc>>, Option<DateTime<Utc>>)> =
            HashMap::new();
        let mut portal: Vec<(String, DateTime<Utc>)> = Vec::new();
        let mut directory: Vec<&Value> = Vec::new();
        for record in unique.values() {
            let earlier = |kept: Option<DateTime<Utc>>| match (kept, time(record)) {
                (Some(kept), Some(now)) => Some(kept.min(now)),
                (kept, now) => kept.or(now),
            };
            let corr = text(record, "correlationId").unwrap_or_default();
            if activity_is(record, "Unlock user account (self-service)") {
                resets.entry(corr).or_default().0 = true;
            } else if activity_is(record, "Reset password (self-service)") && succeeded(record) {
                let entry = resets.entry(corr).or_default();
                entry.1 = earlier(entry.1);
            } else if activity_is(record, "Self-service password reset flow activity progress")
                && text(record, "resultReason").is_some_and(|reason| {
                    reason
                        .trim()
                        .trim_end_matches('.')
                        .eq_ignore_ascii_case("User successfully reset password")
                })
            {
                let entry = resets.entry(corr).or_default();
                entry.2 = earlier(entry.2);
            } else if activity_is(record, "Reset password (by admin)") {
                if let (Some(user), Some(at)) = (target(record), time(record)) {
                    portal.push((user, at));
                }
                if succeeded(record)
                    && let Some(at) = time(record)
                {
                    days.entry(at.date_naive()).or_default().1 += 1;
                }
            } else if activity_is(record, "Reset user password") && succeeded(record) {
                directory.push(record);
            }
        }
        for (unlock, reset_row, flow_row) in resets.into_values() {
            if let (false, Some(at)) = (unlock, reset_row.or(flow_row)) {
                days.entry(at.date_naive()).or_default().0 += 1;
            }
        }
        for record in directory {
            let (Some(at), user) = (time(record), target(record)) else {
                continue;
            };
            let echo = portal.iter().any(|(upn, when)| {
                Some(upn) == user.as_ref() && (*when - at).abs() <= TimeDelta::minutes(5)
            });
            if !echo && !by_reset_service(record) {
                days.entry(at.date_naive()).or_default().1 += 1;
            }
        }
        for (day, self_service, admin) in disagreements {
            let counts = days.entry(*day).or_default();
            counts.0 += self_service;
            counts.1 += admin;
        }
        let number = |count: i64| {
            if as_strings {
                json!(count.to_string())
            } else {
                json!(count)
            }
        };
        let entries = days
            .into_iter()
            .map(|(day, (self_service, admin))| {
                json!({
                    "id": day.format("%Y%m%d").to_string(),
                    "aggregatedDateTime": format!("{}T00:00:00Z", day.format("%Y-%m-%d")),
                    "passwordResetsSelfServiceCount": number(self_service),
                    "passwordResetsByAdminCount": number(admin),
                    "changePasswordSelfServiceCount": number(0),
                })
            })
            .collect();
        DailySummary {
            entries,
            page_days: page_days.max(1),
        }
    }

    /// The page beginning at entry `start`, with a nextLink if more follow.
    fn page(&self, base_url: &str, start: usize) -> String {
        let end = (start + self.page_days).min(self.entries.len());
        let mut body = json!({
            "@odata.context": "https://graph.microsoft.com/beta/$metadata#reports/authenticationMethods/userPasswordResetsAndChangesSummary",
            "value": self.entries.get(start..end).unwrap_or_default(),
        });
        if end < self.entries.len() {
            body["@odata.nextLink"] = json!(format!("{base_url}{}?$skiptoken={end}", PATH));
        }
        body.to_string()
    }
}

/// Where the report is served.
pub(super) const PATH: &str =
    "/beta/reports/authenticationMethods/userPasswordResetsAndChangesSummary";

pub(super) async fn daily_summary(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let ids = RequestIds::new(&headers, &shared.secrets);
    if let Err(refused) = admit(&shared, &headers, &ids).await {
        return refused;
    }
    let start = url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .find(|(name, _)| name == "$skiptoken")
        .and_then(|(_, value)| value.parse::<usize>().ok())
        .unwrap_or(0);
    shared.stats.update(|stats| stats.pages_served += 1);
    ids.stamp(
        (
            [(CONTENT_TYPE, GRAPH_JSON)],
            shared.summary.page(&shared.base_url, start),
        )
            .into_response(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn counts_follow_the_records_and_the_injected_disagreement() {
        let records = vec![
            json!({"id": "1", "correlationId": "a", "activityDisplayName": "Reset password (self-service)",
                   "result": "success", "activityDateTime": "2026-10-05T23:59:59Z"}),
            json!({"id": "2", "correlationId": "a", "activityDisplayName": "Self-service password reset flow activity progress",
                   "resultReason": "User successfully reset password", "result": "success",
                   "activityDateTime": "2026-10-05T23:59:58Z"}),
            json!({"id": "3", "correlationId": "b", "ActivityDisplayName": "Self-service password reset flow activity progress",
                   "resultReason": "User successfully reset password.", "result": "success",
                   "activityDateTime": "2026-10-06T01:00:00Z"}),
            json!({"id": "4", "correlationId": "c", "activityDisplayName": "Reset password (by admin)", "result": "success",
                   "activityDateTime": "2026-10-06T09:00:00Z", "targetResources": [{"userPrincipalName": "Ann@x"}]}),
            json!({"id": "5", "correlationId": "d", "activityDisplayName": "Reset user password", "result": "success",
                   "activityDateTime": "2026-10-06T09:03:00Z", "targetResources": [{"userPrincipalName": "ann@x"}],
                   "initiatedBy": {"user": {"userPrincipalName": "admin@x"}}}),
            json!({"id": "6", "correlationId": "e", "activityDisplayName": "Reset user password", "result": "success",
                   "activityDateTime": "2026-10-06T10:00:00Z", "targetResources": [{"userPrincipalName": "bob@x"}],
                   "initiatedBy": {"app": {"displayName": "Helpdesk Tool"}}}),
            json!({"id": "7", "correlationId": "f", "activityDisplayName": "Reset user password", "result": "success",
                   "activityDateTime": "2026-10-06T10:00:00Z", "targetResources": [{"userPrincipalName": "cy@x"}],
                   "initiatedBy": {"user": {"userPrincipalName": "fim_password_service@support.onmicrosoft.com"}}}),
        ];
        let summary = DailySummary::new(&records, &[(day("2026-10-06"), 0, 4)], true, 1);
        let first: Value = serde_json::from_str(&summary.page("http://127.0.0.1:1", 0)).unwrap();
        assert_eq!(
            first["value"][0]["aggregatedDateTime"],
            "2026-10-05T00:00:00Z"
        );
        assert_eq!(first["value"][0]["passwordResetsSelfServiceCount"], "1");
        assert_eq!(
            first["@odata.nextLink"],
            format!("http://127.0.0.1:1{PATH}?$skiptoken=1")
        );
        let second: Value = serde_json::from_str(&summary.page("http://127.0.0.1:1", 1)).unwrap();
        assert_eq!(second["value"][0]["passwordResetsSelfServiceCount"], "1");
        // The portal reset and the tool's (the echo and the service's do not count), plus 4 injected.
        assert_eq!(second["value"][0]["passwordResetsByAdminCount"], "6");
        assert!(second.get("@odata.nextLink").is_none());
    }
}

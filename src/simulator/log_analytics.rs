//! `POST /v1/workspaces/{workspace}/query`: the Azure Monitor Logs query API over the tenant's
//! records as a workspace's `AuditLogs` table keeps them.
//!
//! Each directoryAudit becomes one AuditLogs row: PascalCase columns, `TimeGenerated` a little
//! after `ActivityDateTime` (ingestion), the `dynamic` columns (`InitiatedBy`, `TargetResources`,
//! `AdditionalDetails`) as JSON text, a top-level `userAgent` moved into `AdditionalDetails` (the
//! table has no such column), and on every third row the step text in `ResultDescription` with an
//! empty `ResultReason`. Columns come in the table's own order, not the order a query projects.
//!
//! A request goes through the token check (401), the workspace (403 `InsufficientAccessError`
//! when the app lacks access, 404 for another workspace), the shared throttle (429 without
//! `Retry-After`, as the service may), then the query. Of KQL only what ssprlens relies on is
//! read: the `TimeGenerated >= datetime(…)` and `< datetime(…)` bounds, intersected with
//! `timespan`, and the services named as string literals (a row of another service is left out;
//! activities are not filtered, so the client's own check of them is what counts). A result with
//! more rows than the row limit is cut at the limit and answered 200 with a top-level
//! `PartialError`, as the service answers results over its limits. A body without `query` gets an
//! empty 200, as the service answers it.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::Shared;
use super::throttle::Admission;
use super::token::TokenCheck;
use crate::transformer::event::parse_time;

/// The columns served, in the AuditLogs table's order.
const COLUMNS: [(&str, &str); 22] = [
    ("TenantId", "string"),
    ("SourceSystem", "string"),
    ("TimeGenerated", "datetime"),
    ("ResourceId", "string"),
    ("OperationName", "string"),
    ("OperationVersion", "string"),
    ("Category", "string"),
    ("ResultType", "string"),
    ("ResultSignature", "string"),
    ("ResultDescription", "string"),
    ("Identity", "string"),
    ("ActivityDateTime", "datetime"),
    ("ActivityDisplayName", "string"),
    ("AdditionalDetails", "dynamic"),
    ("CorrelationId", "string"),
    ("Id", "string"),
    ("InitiatedBy", "dynamic"),
    ("LoggedByService", "string"),
    ("Result", "string"),
    ("ResultReason", "string"),
    ("TargetResources", "dynamic"),
    ("AADOperationType", "string"),
];

/// How the workspace behaves.
#[derive(Debug, Clone)]
pub struct WorkspaceConfig {
    /// The one workspace id served (compared ignoring case).
    pub id: String,
    /// Rows a result may hold; beyond it the answer is cut and marked `PartialError`.
    pub row_limit: usize,
    /// Every query is refused 403 `InsufficientAccessError` (no Data.Read, no reader role).
    pub forbidden: bool,
}

impl Default for WorkspaceConfig {
    fn default() -> Self {
        WorkspaceConfig {
            id: "00000000-0000-0000-0000-00000000a11d".to_owned(),
            row_limit: 500_000,
            forbidden: false,
        }
    }
}

/// One AuditLogs row, and what the query looks at.
pub(super) struct AuditRow {
    time_generated: DateTime<Utc>,
    service: String,
    cells: Vec<Value>,
}

/// The AuditLogs table of the records (those without a time are not in it), by `TimeGenerated`.
pub(super) fn audit_rows(records: &[Value], tenant_id: &str) -> Vec<AuditRow> {
    let mut rows: Vec<AuditRow> = records
        .iter()
        .enumerate()
        .filter_map(|(index, record)| audit_row(index, record, tenant_id))
        .collect();
    rows.sort_by_key(|row| row.time_generated);
    rows
}

fn audit_row(index: usize, record: &Value, tenant_id: &str) -> Option<AuditRow> {
    let text = |field: &str| {
        record
            .get(field)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let activity_time = parse_time(&text("activityDateTime"))?;
    // Ingestion takes 20 s to 5 min, the same for the same record.
    let time_generated = activity_time + Duration::seconds(20 + (index as i64 * 37) % 280);
    let mut details = record
        .get("additionalDetails")
        .cloned()
        .unwrap_or(Value::Null);
    let user_agent = text("userAgent");
    if !user_agent.is_empty() {
        let mut list = details.as_array().cloned().unwrap_or_default();
        list.insert(0, json!({"key": "User-Agent", "value": user_agent}));
        details = Value::Array(list);
    }
    let dynamic = |value: Value| match value {
        Value::Null => Value::String(String::new()),
        other => Value::String(other.to_string()),
    };
    let (reason, description) = if index % 3 == 0 {
        (String::new(), text("resultReason"))
    } else {
        (text("resultReason"), String::new())
    };
    let activity = text("activityDisplayName");
    let service = text("loggedByService");
    let cells = vec![
        Value::String(tenant_id.to_owned()),
        Value::String("Azure AD".into()),
        Value::String(ticks(time_generated)),
        Value::String(format!("/tenants/{tenant_id}/providers/Microsoft.aadiam")),
        Value::String(activity.clone()),
        Value::String("1.0".into()),
        Value::String(text("category")),
        Value::String(String::new()),
        Value::String(String::new()),
        Value::String(description),
        Value::String(String::new()),
        Value::String(ticks(activity_time)),
        Value::String(activity),
        dynamic(details),
        Value::String(text("correlationId")),
        Value::String(text("id")),
        dynamic(record.get("initiatedBy").cloned().unwrap_or(Value::Null)),
        Value::String(service.clone()),
        Value::String(text("result")),
        Value::String(reason),
        dynamic(
            record
                .get("targetResources")
                .cloned()
                .unwrap_or(Value::Null),
        ),
        Value::String(text("operationType")),
    ];
    Some(AuditRow {
        time_generated,
        service,
        cells,
    })
}

/// A `datetime` cell: 7 fractional digits.
fn ticks(time: DateTime<Utc>) -> String {
    format!(
        "{}.{:07}Z",
        time.format("%Y-%m-%dT%H:%M:%S"),
        time.timestamp_subsec_nanos() / 100
    )
}

pub(super) async fn query(
    State(shared): State<Arc<Shared>>,
    Path(workspace): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    shared.stats.update(|stats| stats.queries += 1);
    let correlation_id = shared.secrets.uuid();
    let error = |status: StatusCode, code: &str, message: &str| {
        let body =
            json!({"error": {"message": message, "code": code, "correlationId": correlation_id}});
        (
            status,
            [(CONTENT_TYPE, "application/json; charset=utf-8")],
            body.to_string(),
        )
            .into_response()
    };
    let now = Instant::now();
    let client_id = match shared.tokens.check(&headers, now) {
        TokenCheck::Valid { client_id } => client_id,
        _ => {
            shared.stats.update(|stats| stats.auth_failures += 1);
            return error(
                StatusCode::UNAUTHORIZED,
                "InvalidTokenError",
                "The provided authentication is not valid for this resource",
            );
        }
    };
    let config = &shared.workspace;
    if !workspace.eq_ignore_ascii_case(&config.id) {
        return error(
            StatusCode::NOT_FOUND,
            "WorkspaceNotFoundError",
            &format!("Workspace {workspace} not found."),
        );
    }
    if config.forbidden {
        return error(
            StatusCode::FORBIDDEN,
            "InsufficientAccessError",
            "The provided credentials have insufficient access to perform the requested operation",
        );
    }
    if let Some(throttle) = &shared.throttle
        && let Admission::Throttled { .. } = throttle.admit(&client_id, now)
    {
        shared.stats.update(|stats| stats.throttled += 1);
        return error(
            StatusCode::TOO_MANY_REQUESTS,
            "ThrottledError",
            "Your request was throttled; retry later.",
        );
    }
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let Some(text) = request.get("query").and_then(Value::as_str) else {
        return (StatusCode::OK, "").into_response();
    };
    let (start, end) = bounds(text, request.get("timespan").and_then(Value::as_str));
    let matching: Vec<&AuditRow> = shared
        .audit_rows
        .iter()
        .filter(|row| start.is_none_or(|start| row.time_generated >= start))
        .filter(|row| end.is_none_or(|end| row.time_generated < end))
        .filter(|row| text.contains(&format!("\"{}\"", row.service)))
        .collect();
    let partial = matching.len() > config.row_limit;
    let served = &matching[..matching.len().min(config.row_limit)];
    shared.stats.update(|stats| {
        stats.rows_served += served.len() as u64;
        stats.partial_answers += u64::from(partial);
    });
    let columns: Vec<Value> = COLUMNS
        .iter()
        .map(|(name, kind)| json!({"name": name, "type": kind}))
        .collect();
    let rows: Vec<&Vec<Value>> = served.iter().map(|row| &row.cells).collect();
    let mut answer =
        json!({"tables": [{"name": "PrimaryResult", "columns": columns, "rows": rows}]});
    if partial {
        answer["error"] = json!({
            "message": "There were some errors when processing your query.",
            "code": "PartialError",
            "correlationId": correlation_id,
            "details": [{
                "code": "EngineError",
                "message": "Query result set has exceeded the internal record count limit",
                "innererror": {"code": "E_QUERY_RESULT_SET_TOO_LARGE", "severity": 2}
            }]
        });
    }
    (
        StatusCode::OK,
        [(CONTENT_TYPE, "application/json; charset=utf-8")],
        answer.to_string(),
    )
        .into_response()
}

/// The time range a query asks for: its `TimeGenerated` bounds intersected with `timespan`.
fn bounds(query: &str, timespan: Option<&str>) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let after = |marker: &str| {
        let at = query.find(marker)? + marker.len();
        let rest = &query[at..];
        parse_time(rest[..rest.find(')')?].trim())
    };
    let (mut start, mut end) = (
        after("TimeGenerated >= datetime("),
        after("TimeGenerated < datetime("),
    );
    if let Some((from, to)) = timespan.and_then(|span| span.split_once('/')) {
        if let Some(from) = parse_time(from.trim()) {
            start = Some(start.map_or(from, |start| start.max(from)));
        }
        if let Some(to) = parse_time(to.trim()) {
            end = Some(end.map_or(to, |end| end.min(to)));
        }
    }
    (start, end)
}

//! Graph's device and Intune endpoints over the [`Fleet`]: `/v1.0/devices`, managed devices,
//! device configurations (one of them without its `omaSettings` in the list), their
//! `deviceStatuses`, the beta settings-catalog policies and their settings (list pages of at
//! most `max_page_size`, `$skiptoken` an offset), and the beta report action
//! `getConfigurationPolicyDevicesReport` (its `Schema` in an order other than the `select`, at
//! most `report_rows_per_page` rows a page). [`IntuneBehaviour`] makes Intune absent, paths
//! forbidden, or the report refused.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Shared;
use super::audits::authorize;
use super::fleet::FleetStatus;
use super::graph::{self, GRAPH_JSON, RequestIds};

/// Intune's status names, by status number.
const STATUS_NAMES: [&str; 8] = [
    "unknown",
    "notApplicable",
    "compliant",
    "remediated",
    "nonCompliant",
    "error",
    "conflict",
    "notAssigned",
];

pub(super) async fn get(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let ids = RequestIds::new(&headers, &shared.secrets);
    shared.stats.update(|stats| stats.requests += 1);
    if let Err(refused) = authorize(&shared, &headers, &ids) {
        return refused;
    }
    if let Some(refused) = refusal(&shared, uri.path(), &ids) {
        return refused;
    }
    let Some(fleet) = &shared.fleet else {
        return not_served(&uri, &ids);
    };
    let segments: Vec<&str> = uri.path().trim_matches('/').split('/').collect();
    let items: Vec<Value> = match segments.as_slice() {
        ["v1.0", "devices"] => fleet.devices.clone(),
        ["v1.0", "deviceManagement", "managedDevices"] => fleet.managed.clone(),
        ["v1.0", "deviceManagement", "deviceConfigurations"] => fleet
            .policies
            .iter()
            .filter(|p| !p.catalog)
            .map(|p| {
                let mut object = p.object.clone();
                if let (true, Some(fields)) = (p.list_omits_settings, object.as_object_mut()) {
                    fields.remove("omaSettings");
                }
                object
            })
            .collect(),
        ["v1.0", "deviceManagement", "deviceConfigurations", id] => {
            return match fleet.policies.iter().find(|p| !p.catalog && p.id == *id) {
                Some(policy) => ids.stamp(
                    ([(CONTENT_TYPE, GRAPH_JSON)], policy.object.to_string()).into_response(),
                ),
                None => not_served(&uri, &ids),
            };
        }
        [
            "v1.0",
            "deviceManagement",
            "deviceConfigurations",
            id,
            "deviceStatuses",
        ] => fleet
            .statuses
            .iter()
            .filter(|status| status.policy == *id)
            .map(device_status)
            .collect(),
        ["beta", "deviceManagement", "configurationPolicies"] => fleet
            .policies
            .iter()
            .filter(|p| p.catalog)
            .map(|p| p.object.clone())
            .collect(),
        [
            "beta",
            "deviceManagement",
            "configurationPolicies",
            id,
            "settings",
        ] => match fleet.policies.iter().find(|p| p.catalog && p.id == *id) {
            Some(policy) => policy.settings.clone(),
            None => return not_served(&uri, &ids),
        },
        _ => return not_served(&uri, &ids),
    };
    let page = list_page(&shared, &uri, &items);
    ids.stamp(([(CONTENT_TYPE, GRAPH_JSON)], page.to_string()).into_response())
}

pub(super) async fn report(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let ids = RequestIds::new(&headers, &shared.secrets);
    shared.stats.update(|stats| stats.requests += 1);
    if let Err(refused) = authorize(&shared, &headers, &ids) {
        return refused;
    }
    if let Some(refused) = refusal(&shared, uri.path(), &ids) {
        return refused;
    }
    let Some(fleet) = &shared.fleet else {
        return not_served(&uri, &ids);
    };
    if shared.intune.refuse_report {
        return graph::error(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "Application is not authorized to perform this operation.",
            &ids,
        );
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or_default();
    let filter = body
        .get("filter")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let Some(policy) = filter
        .split('\'')
        .nth(1)
        .filter(|_| filter.contains("PolicyId eq"))
    else {
        return graph::error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "A PolicyId filter is required.",
            &ids,
        );
    };
    let number = |name: &str| body.get(name).and_then(Value::as_u64).unwrap_or(0) as usize;
    let (skip, mut top) = (number("skip"), number("top").max(1));
    if shared.intune.report_rows_per_page > 0 {
        top = top.min(shared.intune.report_rows_per_page);
    }
    let rows: Vec<&FleetStatus> = fleet
        .statuses
        .iter()
        .filter(|s| s.policy == policy)
        .collect();
    let values: Vec<Value> = rows
        .iter()
        .skip(skip)
        .take(top)
        .map(|s| {
            json!([
                STATUS_NAMES[usize::from(s.code)],
                s.user,
                s.intune_id,
                s.device_name,
                s.code,
                "2026-11-30T08:00:00"
            ])
        })
        .collect();
    let answer = json!({
        "TotalRowCount": rows.len(),
        "Schema": [
            {"Column": "PolicyStatus_loc", "PropertyType": "String"},
            {"Column": "UPN", "PropertyType": "String"},
            {"Column": "IntuneDeviceId", "PropertyType": "String"},
            {"Column": "DeviceName", "PropertyType": "String"},
            {"Column": "PolicyStatus", "PropertyType": "Int32"},
            {"Column": "PspdpuLastModifiedTimeUtc", "PropertyType": "DateTime"}
        ],
        "Values": values,
    });
    ids.stamp(
        (
            [(CONTENT_TYPE, "application/octet-stream")],
            answer.to_string(),
        )
            .into_response(),
    )
}

fn device_status(status: &FleetStatus) -> Value {
    json!({
        "id": format!("{}_{}", status.policy, status.intune_id),
        "deviceDisplayName": status.device_name.to_uppercase(),
        "userName": status.user,
        "userPrincipalName": status.user,
        "status": STATUS_NAMES[usize::from(status.code)],
        "lastReportedDateTime": "2026-11-30T08:00:00Z",
        "complianceGracePeriodExpirationDateTime": "9999-12-31T23:59:59Z",
    })
}

/// One page of a list: `$top` capped at the simulator's page size, `$skiptoken` the offset.
fn list_page(shared: &Shared, uri: &Uri, items: &[Value]) -> Value {
    let (mut top, mut offset) = (shared.paging.max_page_size, 0usize);
    for (key, value) in url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "$top" => {
                top = value
                    .parse()
                    .unwrap_or(top)
                    .clamp(1, shared.paging.max_page_size)
            }
            "$skiptoken" => offset = value.parse().unwrap_or(0),
            _ => {}
        }
    }
    let end = (offset + top).min(items.len());
    let mut page = json!({
        "@odata.context": format!("{}{}", shared.base_url, uri.path()),
        "value": items.get(offset..end).unwrap_or_default(),
    });
    if end < items.len() {
        page["@odata.nextLink"] = json!(format!(
            "{}{}?$top={top}&$skiptoken={end}",
            shared.base_url,
            uri.path()
        ));
    }
    page
}

/// Intune's refusals for a tenant without Intune or an app without the permission.
fn refusal(shared: &Shared, path: &str, ids: &RequestIds) -> Option<Response> {
    let after_version = path
        .trim_start_matches('/')
        .split_once('/')
        .map_or("", |(_, rest)| rest);
    if shared.intune.no_intune && after_version.starts_with("deviceManagement") {
        return Some(graph::error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "Request not applicable to target tenant.",
            ids,
        ));
    }
    shared
        .intune
        .forbidden
        .iter()
        .any(|prefix| after_version.starts_with(prefix.as_str()))
        .then(|| {
            graph::error(
                StatusCode::FORBIDDEN,
                "Authorization_RequestDenied",
                "Insufficient privileges to complete the operation.",
                ids,
            )
        })
}

fn not_served(uri: &Uri, ids: &RequestIds) -> Response {
    graph::error(
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        &format!("The simulator serves no resource at '{}'.", uri.path()),
        ids,
    )
}

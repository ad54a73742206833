//! Per-device statuses of the policies that matter.
//!
//! First choice: the beta report action `POST /beta/deviceManagement/reports/
//! getConfigurationPolicyDevicesReport`, filtered by `PolicyId`. Its answer is
//! `{"TotalRowCount", "Schema": [{"Column"}], "Values": [[...]]}`: cells are read by their
//! `Schema` position, pages advance `skip` by the rows received until `TotalRowCount`, and rows
//! join to devices by `IntuneDeviceId`. Undocumented on its own page: the first refusal (any
//! 4xx) or an answer without the columns switches every policy to the fallback.
//!
//! Fallback: v1.0 `deviceConfigurations/{id}/deviceStatuses` (custom and device-restriction
//! profiles only), whose rows name the device rather than identify it; the transformer joins
//! them. Settings-catalog policies have no fallback: their statuses are then unreadable.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::wire::{field, integer, owned_text, text};
use super::{CONFIGURATION_PERMISSION, IntuneRead, list, refusal, url};
use crate::fetcher::graph::FetchError;
use crate::fetcher::graph::pager::Pager;
use crate::model::reach::{NamedStatus, PolicyKind, PolicyStatuses};

/// Rows per report page (what the Intune portal and community code ask for).
const REPORT_TOP: u64 = 50;

/// `deviceStatuses` status names, in Intune's compliance-status order (0 to 7).
const STATUS_NAMES: [&str; 8] = [
    "unknown",
    "notapplicable",
    "compliant",
    "remediated",
    "noncompliant",
    "error",
    "conflict",
    "notassigned",
];

/// Why the report action cannot be used.
enum Unusable {
    Refused(String),
    Shape(String),
}

pub(super) async fn read_statuses(
    pager: &mut Pager,
    read: &mut IntuneRead,
) -> Result<(), FetchError> {
    let policies: Vec<(String, String, PolicyKind)> = read
        .inventory
        .policies
        .iter()
        .map(|policy| (policy.id.clone(), policy.name.clone(), policy.kind))
        .collect();
    let mut report_usable = true;
    let mut fallback_refused = Vec::new();
    let mut unknown_statuses = 0u64;
    let mut unreadable_rows = 0u64;
    for (id, name, kind) in policies {
        if report_usable {
            match report(pager, &id, &mut unreadable_rows).await? {
                Ok(rows) => {
                    read.inventory
                        .statuses
                        .insert(id, PolicyStatuses::ById(rows));
                    continue;
                }
                Err(unusable) => {
                    report_usable = false;
                    read.warnings.push(match unusable {
                        Unusable::Refused(error) => format!(
                            "Graph refused the beta call POST /beta/deviceManagement/reports/getConfigurationPolicyDevicesReport ({error}; its permission is not documented, {CONFIGURATION_PERMISSION} at least): per-device statuses come from the v1.0 deviceStatuses (joined by device name), and settings-catalog policies' statuses are unknown"
                        ),
                        Unusable::Shape(why) => format!(
                            "the beta report getConfigurationPolicyDevicesReport answered in an unexpected shape ({why}): per-device statuses come from the v1.0 deviceStatuses (joined by device name), and settings-catalog policies' statuses are unknown"
                        ),
                    });
                }
            }
        }
        let statuses = match kind {
            PolicyKind::SettingsCatalog => PolicyStatuses::Unreadable,
            PolicyKind::Custom | PolicyKind::General => {
                let path = [
                    "v1.0",
                    "deviceManagement",
                    "deviceConfigurations",
                    id.as_str(),
                    "deviceStatuses",
                ];
                let first = url(pager, &path, &[])?;
                match refusal(list(pager, first).await)? {
                    Ok(rows) => PolicyStatuses::ByName(
                        rows.iter()
                            .filter_map(|row| {
                                let status = named_status(row, &mut unknown_statuses);
                                unreadable_rows += u64::from(status.is_none());
                                status
                            })
                            .collect(),
                    ),
                    Err(error) => {
                        fallback_refused.push(format!("`{name}` ({error})"));
                        PolicyStatuses::Unreadable
                    }
                }
            }
        };
        read.inventory.statuses.insert(id, statuses);
    }
    if !fallback_refused.is_empty() {
        read.warnings.push(format!(
            "Graph refused GET /v1.0/deviceManagement/deviceConfigurations/{{id}}/deviceStatuses for {} policies (grant {CONFIGURATION_PERMISSION}); their statuses are unknown: {}",
            fallback_refused.len(),
            fallback_refused.join("; ")
        ));
    }
    if unreadable_rows > 0 {
        read.warnings.push(format!(
            "{unreadable_rows} status rows named no device (no IntuneDeviceId in the report, no deviceDisplayName in deviceStatuses) or had a PolicyStatus outside 0 to 7; they were not counted"
        ));
    }
    if unknown_statuses > 0 {
        read.warnings.push(format!(
            "{unknown_statuses} deviceStatuses rows had a status this version does not know; they count as unknown (pending)"
        ));
    }
    Ok(())
}

/// One policy's rows from the report action, or why the action cannot be used; rows that
/// cannot be read are counted in `unreadable_rows`.
async fn report(
    pager: &mut Pager,
    policy_id: &str,
    unreadable_rows: &mut u64,
) -> Result<Result<HashMap<String, Vec<u8>>, Unusable>, FetchError> {
    let action = url(
        pager,
        &[
            "beta",
            "deviceManagement",
            "reports",
            "getConfigurationPolicyDevicesReport",
        ],
        &[],
    )?;
    let mut rows: HashMap<String, Vec<u8>> = HashMap::new();
    let mut skip = 0u64;
    loop {
        let body = json!({
            "select": ["DeviceName", "UPN", "IntuneDeviceId", "PolicyStatus", "PolicyStatus_loc", "PspdpuLastModifiedTimeUtc"],
            "filter": format!("(PolicyId eq '{}')", policy_id.replace('\'', "''")),
            "skip": skip,
            "top": REPORT_TOP,
            "orderBy": [],
        });
        let answer = match refusal(pager.post_json(&action, &body).await)? {
            Ok(answer) => answer,
            Err(error) => return Ok(Err(Unusable::Refused(error.to_string()))),
        };
        let page: Value = serde_json::from_slice(&answer).unwrap_or_default();
        let (device_at, status_at) = match (
            column(&page, "IntuneDeviceId"),
            column(&page, "PolicyStatus"),
        ) {
            (Some(device), Some(status)) => (device, status),
            _ => {
                return Ok(Err(Unusable::Shape(
                    "no IntuneDeviceId or PolicyStatus column in its Schema".into(),
                )));
            }
        };
        let values = match field(&page, "Values") {
            Some(Value::Array(values)) => values.as_slice(),
            _ => &[],
        };
        for row in values {
            let cell = |at: usize| row.as_array().and_then(|cells| cells.get(at));
            let (Some(device), Some(code)) =
                (owned_text(cell(device_at)), status_code(cell(status_at)))
            else {
                *unreadable_rows += 1;
                continue;
            };
            rows.entry(device.to_ascii_lowercase())
                .or_default()
                .push(code);
        }
        skip += values.len() as u64;
        let total = integer(field(&page, "TotalRowCount")).and_then(|n| u64::try_from(n).ok());
        let more = match total {
            Some(total) => skip < total,
            None => values.len() as u64 >= REPORT_TOP,
        };
        if values.is_empty() || !more {
            return Ok(Ok(rows));
        }
    }
}

/// The position of `name` in the answer's `Schema` (ignoring case).
fn column(page: &Value, name: &str) -> Option<usize> {
    match field(page, "Schema")? {
        Value::Array(columns) => columns.iter().position(|column| {
            text(field(column, "Column")).is_some_and(|column| column.eq_ignore_ascii_case(name))
        }),
        _ => None,
    }
}

/// A `PolicyStatus` cell: 0 to 7, as a number or a string holding one.
fn status_code(cell: Option<&Value>) -> Option<u8> {
    integer(cell)
        .and_then(|code| u8::try_from(code).ok())
        .filter(|code| *code <= 7)
}

fn named_status(row: &Value, unknown: &mut u64) -> Option<NamedStatus> {
    let device_name = owned_text(field(row, "deviceDisplayName"))?;
    let status = text(field(row, "status"))
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let code = match STATUS_NAMES.iter().position(|name| *name == status) {
        Some(code) => code as u8,
        None => {
            *unknown += 1;
            0
        }
    };
    Some(NamedStatus {
        device_name,
        user: owned_text(field(row, "userPrincipalName")),
        code,
    })
}

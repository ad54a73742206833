//! Reads the fleet for the sign-in-screen reach from Graph, read-only: Entra devices, Intune's
//! managed devices, the device configurations (v1.0) and settings-catalog policies (beta) that
//! switch the reset link on or off or break it, and each such policy's per-device statuses.
//!
//! Every request goes through one [`Pager`] (one limiter, one retry budget, the same token
//! handling as the audit fetch). What Graph refuses degrades to what can still be known, with one
//! warning per refusal naming the call and the permission it needs:
//! - `/devices` refused: nothing can be known; the run fails naming `Device.Read.All`;
//! - managed devices refused (403) or Intune absent (400/404, "Request not applicable to target
//!   tenant"): every device's policy state is unknown; without Intune nothing more is asked;
//! - a policy list refused: `Inventory::policies_complete` is false;
//! - the beta report action refused (any 4xx) once: every policy's statuses come from the v1.0
//!   `deviceStatuses` instead (settings-catalog policies have none: their statuses are
//!   unreadable); `deviceStatuses` refused: that policy's statuses are unreadable.
//!
//! Failures that are not refusals (retries or budget exhausted, a bad token) end the run.

mod settings;
mod status;
mod wire;

use std::collections::BTreeSet;

use serde_json::Value;
use url::Url;

use super::graph::FetchError;
use super::graph::pager::Pager;
use super::graph::retry::GraphError;
use crate::model::reach::{EntraDevice, Inventory, Link, ManagedDevice, Policy, PolicyKind};
use settings::{Effect, catalog_choices, catalog_effect, general_blockers, oma_effect};
use wire::{field, flag, odata_type, owned_text, text, time};

pub(crate) const DEVICE_PERMISSION: &str = "Device.Read.All";
pub(crate) const MANAGED_PERMISSION: &str = "DeviceManagementManagedDevices.Read.All";
pub(crate) const CONFIGURATION_PERMISSION: &str = "DeviceManagementConfiguration.Read.All";

const DEVICE_FIELDS: &str = "id,deviceId,displayName,operatingSystem,operatingSystemVersion,trustType,accountEnabled,approximateLastSignInDateTime";
const MANAGED_FIELDS: &str =
    "id,azureADDeviceId,deviceName,operatingSystem,osVersion,lastSyncDateTime,userPrincipalName";

/// The inventory, and the warnings to show with it.
pub struct IntuneRead {
    pub inventory: Inventory,
    pub warnings: Vec<String>,
}

/// Reads everything; `page_size` is the `$top` of the device lists.
pub async fn read_inventory(pager: &mut Pager, page_size: u32) -> Result<IntuneRead, FetchError> {
    let mut read = IntuneRead {
        inventory: Inventory {
            intune_readable: true,
            policies_complete: true,
            ..Inventory::default()
        },
        warnings: Vec::new(),
    };
    let devices_url = url(
        pager,
        &["v1.0", "devices"],
        &[("$select", DEVICE_FIELDS), ("$top", &page_size.to_string())],
    )?;
    let devices = list(pager, devices_url).await.map_err(|err| match err {
        FetchError::Refused(error) if error.status == 403 => FetchError::Auth(format!(
            "Graph refused GET /v1.0/devices: {error}; the app needs the application permission {DEVICE_PERMISSION} (admin consent)"
        )),
        other => other,
    })?;
    read.inventory.devices = devices.iter().map(entra_device).collect();

    let managed_url = url(
        pager,
        &["v1.0", "deviceManagement", "managedDevices"],
        &[
            ("$select", MANAGED_FIELDS),
            ("$top", &page_size.min(1000).to_string()),
        ],
    )?;
    match refusal(list(pager, managed_url).await)? {
        Ok(managed) => read.inventory.managed = managed.iter().filter_map(managed_device).collect(),
        Err(error) if error.status == 403 => {
            read.inventory.intune_readable = false;
            read.warnings.push(format!(
                "Graph refused GET /v1.0/deviceManagement/managedDevices ({error}): grant {MANAGED_PERMISSION}; every device's policy state is unknown"
            ));
        }
        Err(error) => {
            read.inventory.intune_readable = false;
            read.inventory.policies_complete = false;
            read.warnings.push(format!(
                "Intune answered GET /v1.0/deviceManagement/managedDevices with {error}: the tenant seems to have no Intune licence; every device's policy state is unknown, and no policy was read"
            ));
            return Ok(read);
        }
    }

    read_configurations(pager, &mut read).await?;
    read_catalog(pager, &mut read).await?;
    status::read_statuses(pager, &mut read).await?;
    Ok(read)
}

/// `Ok(Err(error))` for a refusal the caller degrades on; other failures stay errors.
fn refusal<T>(result: Result<T, FetchError>) -> Result<Result<T, GraphError>, FetchError> {
    match result {
        Ok(value) => Ok(Ok(value)),
        Err(FetchError::Refused(error)) => Ok(Err(error)),
        Err(other) => Err(other),
    }
}

/// `{graph}/{segments...}?{query}`.
fn url(pager: &Pager, segments: &[&str], query: &[(&str, &str)]) -> Result<Url, FetchError> {
    let mut url = pager.graph_url().clone();
    url.path_segments_mut()
        .map_err(|()| FetchError::Setup("--graph-url cannot take a path".into()))?
        .pop_if_empty()
        .extend(segments);
    if !query.is_empty() {
        let encoded: Vec<String> = query
            .iter()
            .map(|(key, value)| {
                let value: String =
                    url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
                format!("{key}={}", value.replace('+', "%20"))
            })
            .collect();
        url.set_query(Some(&encoded.join("&")));
    }
    Ok(url)
}

/// Every item of a list, following `@odata.nextLink` until it is absent.
async fn list(pager: &mut Pager, first: Url) -> Result<Vec<Value>, FetchError> {
    let mut items = Vec::new();
    let mut next = Some(first);
    while let Some(url) = next {
        let (body, link) = pager.get_json(&url).await?;
        let page: Value = serde_json::from_slice(&body).map_err(|err| {
            FetchError::NextLink(format!("a page of {} did not parse: {err}", url.path()))
        })?;
        if let Some(Value::Array(values)) = field(&page, "value") {
            items.extend(values.iter().cloned());
        }
        next = link;
    }
    Ok(items)
}

fn entra_device(object: &Value) -> EntraDevice {
    EntraDevice {
        object_id: owned_text(field(object, "id")).unwrap_or_default(),
        device_id: owned_text(field(object, "deviceId")).map(|id| id.to_ascii_lowercase()),
        name: owned_text(field(object, "displayName")),
        operating_system: owned_text(field(object, "operatingSystem")),
        os_version: owned_text(field(object, "operatingSystemVersion")),
        trust_type: owned_text(field(object, "trustType")),
        account_enabled: flag(field(object, "accountEnabled")),
        last_sign_in: time(field(object, "approximateLastSignInDateTime")),
    }
}

fn managed_device(object: &Value) -> Option<ManagedDevice> {
    Some(ManagedDevice {
        id: owned_text(field(object, "id"))?.to_ascii_lowercase(),
        azure_ad_device_id: owned_text(field(object, "azureADDeviceId")),
        name: owned_text(field(object, "deviceName")),
        user: owned_text(field(object, "userPrincipalName")),
        last_sync: time(field(object, "lastSyncDateTime")),
    })
}

/// A policy from its settings' effects; `None` when nothing in it matters. Masked settings are
/// named in a warning.
fn policy(
    id: String,
    name: String,
    kind: PolicyKind,
    effects: impl IntoIterator<Item = Effect>,
    warnings: &mut Vec<String>,
) -> Option<Policy> {
    let (mut link, mut blockers, mut masked) = (None, BTreeSet::new(), false);
    for effect in effects {
        match effect {
            Effect::Link(Link::Disables) => link = Some(Link::Disables),
            Effect::Link(Link::Enables) => link = link.or(Some(Link::Enables)),
            Effect::Blocks(blocker) => {
                blockers.insert(blocker);
            }
            Effect::Masked => masked = true,
        }
    }
    if masked {
        warnings.push(format!(
            "policy `{name}` ({id}) has a setting of the reset link or a breaking one whose value Intune returns masked: it is not counted"
        ));
    }
    (link.is_some() || !blockers.is_empty()).then(|| Policy {
        id,
        name,
        kind,
        link,
        blockers: blockers.into_iter().collect(),
    })
}

fn id_and_name(object: &Value) -> Option<(String, String)> {
    let id = owned_text(field(object, "id"))?;
    let name = owned_text(field(object, "displayName"))
        .or_else(|| owned_text(field(object, "name")))
        .unwrap_or_else(|| id.clone());
    Some((id, name))
}

/// v1.0 device configurations: custom profiles' OMA settings (fetched one by one when the list
/// leaves them out) and device-restriction properties.
async fn read_configurations(pager: &mut Pager, read: &mut IntuneRead) -> Result<(), FetchError> {
    let path = ["v1.0", "deviceManagement", "deviceConfigurations"];
    let first = url(pager, &path, &[])?;
    let configurations = match refusal(list(pager, first).await)? {
        Ok(configurations) => configurations,
        Err(error) => {
            read.inventory.policies_complete = false;
            read.warnings.push(format!(
                "Graph refused GET /v1.0/deviceManagement/deviceConfigurations ({error}): grant {CONFIGURATION_PERMISSION}; custom and device-restriction profiles are unknown"
            ));
            return Ok(());
        }
    };
    for configuration in &configurations {
        let Some((id, name)) = id_and_name(configuration) else {
            continue;
        };
        let found = match odata_type(configuration).as_str() {
            "windows10customconfiguration" => {
                let settings = match field(configuration, "omaSettings") {
                    Some(Value::Array(settings)) => settings.clone(),
                    _ => {
                        let item = url(pager, &[&path[..], &[id.as_str()][..]].concat(), &[])?;
                        match refusal(pager.get_object(&item).await)? {
                            Ok(full) => match field(
                                &serde_json::from_slice(&full).unwrap_or_default(),
                                "omaSettings",
                            ) {
                                Some(Value::Array(settings)) => settings.clone(),
                                _ => Vec::new(),
                            },
                            Err(error) => {
                                read.inventory.policies_complete = false;
                                read.warnings.push(format!(
                                    "Graph refused GET /v1.0/deviceManagement/deviceConfigurations/{id} ({error}): custom profile `{name}` is unknown"
                                ));
                                continue;
                            }
                        }
                    }
                };
                let effects: Vec<Effect> = settings.iter().filter_map(oma_effect).collect();
                policy(id, name, PolicyKind::Custom, effects, &mut read.warnings)
            }
            "windows10generalconfiguration" => {
                let effects = general_blockers(configuration)
                    .into_iter()
                    .map(Effect::Blocks);
                policy(id, name, PolicyKind::General, effects, &mut read.warnings)
            }
            _ => None,
        };
        read.inventory.policies.extend(found);
    }
    Ok(())
}

/// Beta settings-catalog policies for Windows and their settings.
async fn read_catalog(pager: &mut Pager, read: &mut IntuneRead) -> Result<(), FetchError> {
    let path = ["beta", "deviceManagement", "configurationPolicies"];
    let first = url(pager, &path, &[])?;
    let policies = match refusal(list(pager, first).await)? {
        Ok(policies) => policies,
        Err(error) => {
            read.inventory.policies_complete = false;
            read.warnings.push(format!(
                "Graph refused the beta call GET /beta/deviceManagement/configurationPolicies ({error}): it needs {CONFIGURATION_PERMISSION}; settings-catalog policies are unknown"
            ));
            return Ok(());
        }
    };
    let mut refused = Vec::new();
    for object in &policies {
        let Some((id, name)) = id_and_name(object) else {
            continue;
        };
        let windows = text(field(object, "platforms"))
            .is_none_or(|platforms| platforms.to_ascii_lowercase().contains("windows"));
        if !windows {
            continue;
        }
        let settings_url = url(
            pager,
            &[&path[..], &[id.as_str(), "settings"][..]].concat(),
            &[],
        )?;
        let settings = match refusal(list(pager, settings_url).await)? {
            Ok(settings) => settings,
            Err(error) => {
                read.inventory.policies_complete = false;
                refused.push(format!("`{name}` ({error})"));
                continue;
            }
        };
        let mut choices = Vec::new();
        for setting in &settings {
            catalog_choices(setting, &mut choices);
        }
        let effects: Vec<Effect> = choices.into_iter().filter_map(catalog_effect).collect();
        read.inventory.policies.extend(policy(
            id,
            name,
            PolicyKind::SettingsCatalog,
            effects,
            &mut read.warnings,
        ));
    }
    if !refused.is_empty() {
        read.warnings.push(format!(
            "Graph refused the settings of {} settings-catalog policies (GET /beta/deviceManagement/configurationPolicies/{{id}}/settings): {}",
            refused.len(),
            refused.join("; ")
        ));
    }
    Ok(())
}

//! What a policy's settings do to the sign-in-screen reset link: switch it on or off, or break
//! it (Microsoft's list of limitations), as Graph shows them in three places: custom profiles'
//! OMA-URIs, settings-catalog choice values, and two device-restriction properties.
//!
//! OMA-URIs compare ignoring case, with or without `./Device`. A string or XML value that Intune
//! returns masked (encrypted, empty, asterisks) cannot be judged: the caller is told, and the
//! setting counts as nothing.

use serde_json::Value;

use super::wire::{field, flag, integer, text};
use crate::model::reach::{Blocker, Link};

/// The effect of one setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Effect {
    Link(Link),
    Blocks(Blocker),
    /// A setting that matters, whose value Intune hides.
    Masked,
}

/// The breaking value of an OMA-URI setting.
enum Breaks {
    Integer(i64),
    /// ADMX-backed: `<enabled/>`, perhaps with data elements after it.
    AdmxEnabled,
    /// Any value at all (a shell launcher configuration).
    AnyValue,
}

/// OMA-URIs under `./Vendor/MSFT/` (lower-case) that break the link, and with what value.
const OMA_BLOCKERS: [(&str, Breaks, Blocker); 10] = [
    (
        "policy/config/windowslogon/hidefastuserswitching",
        Breaks::Integer(1),
        Blocker::HideFastUserSwitching,
    ),
    (
        "policy/config/localpoliciessecurityoptions/interactivelogon_donotdisplaylastsignedin",
        Breaks::Integer(1),
        Blocker::DontDisplayLastUser,
    ),
    (
        "policy/config/admx_controlpaneldisplay/cpl_personalization_nolockscreen",
        Breaks::AdmxEnabled,
        Blocker::NoLockScreen,
    ),
    (
        "policy/config/abovelock/allowtoasts",
        Breaks::Integer(0),
        Blocker::LockScreenNotificationsOff,
    ),
    (
        "policy/config/windowslogon/disablelockscreenappnotifications",
        Breaks::AdmxEnabled,
        Blocker::LockScreenNotificationsOff,
    ),
    (
        "policy/config/localpoliciessecurityoptions/interactivelogon_donotrequirectrlaltdel",
        Breaks::Integer(0),
        Blocker::CtrlAltDelRequired,
    ),
    (
        "policy/config/applicationmanagement/blocknonadminuserinstall",
        Breaks::Integer(1),
        Blocker::BlockNonAdminInstall,
    ),
    (
        "policy/config/localpoliciessecurityoptions/useraccountcontrol_runalladministratorsinadminapprovalmode",
        Breaks::Integer(0),
        Blocker::UacOff,
    ),
    (
        "assignedaccess/shelllauncher",
        Breaks::AnyValue,
        Blocker::CustomShell,
    ),
    (
        "policy/config/windowslogon/overrideshellprogram",
        Breaks::Integer(1),
        Blocker::CustomShell,
    ),
];

const OMA_RESET_LINK: &str = "policy/config/authentication/allowaadpasswordreset";

/// Settings-catalog choice values (after `device_vendor_msft_policy_config_`) that break the
/// link.
const CATALOG_BLOCKERS: [(&str, Blocker); 8] = [
    (
        "windowslogon_hidefastuserswitching_1",
        Blocker::HideFastUserSwitching,
    ),
    (
        "localpoliciessecurityoptions_interactivelogon_donotdisplaylastsignedin_1",
        Blocker::DontDisplayLastUser,
    ),
    (
        "abovelock_allowtoasts_0",
        Blocker::LockScreenNotificationsOff,
    ),
    (
        "windowslogon_disablelockscreenappnotifications_1",
        Blocker::LockScreenNotificationsOff,
    ),
    (
        "localpoliciessecurityoptions_interactivelogon_donotrequirectrlaltdel_0",
        Blocker::CtrlAltDelRequired,
    ),
    (
        "applicationmanagement_blocknonadminuserinstall_1",
        Blocker::BlockNonAdminInstall,
    ),
    (
        "localpoliciessecurityoptions_useraccountcontrol_runalladministratorsinadminapprovalmode_0",
        Blocker::UacOff,
    ),
    (
        "admx_controlpaneldisplay_cpl_personalization_nolockscreen_1",
        Blocker::NoLockScreen,
    ),
];

const CATALOG_PREFIX: &str = "device_vendor_msft_policy_config_";
const CATALOG_RESET_LINK: &str = "authentication_allowaadpasswordreset";

/// `windows10GeneralConfiguration` properties that, when true, break the link.
const GENERAL_BLOCKERS: [(&str, Blocker); 2] = [
    (
        "logonBlockFastUserSwitching",
        Blocker::HideFastUserSwitching,
    ),
    (
        "lockScreenBlockToastNotifications",
        Blocker::LockScreenNotificationsOff,
    ),
];

/// `./Device/Vendor/MSFT/X` or `./Vendor/MSFT/X` (any case) → `x`.
fn vendor_path(oma_uri: &str) -> Option<String> {
    let lower = oma_uri.trim().to_ascii_lowercase();
    let rest = lower
        .strip_prefix("./device/")
        .or_else(|| lower.strip_prefix("./"))?;
    rest.strip_prefix("vendor/msft/").map(str::to_owned)
}

/// One `omaSetting` of a custom profile.
pub(crate) fn oma_effect(setting: &Value) -> Option<Effect> {
    let path = vendor_path(text(field(setting, "omaUri"))?)?;
    let value = field(setting, "value");
    let masked = flag(field(setting, "isEncrypted")) == Some(true)
        || text(value).is_some_and(|text| !text.is_empty() && text.chars().all(|c| c == '*'))
        || value.is_none_or(Value::is_null);
    if path == OMA_RESET_LINK {
        return match integer(value) {
            Some(1) => Some(Effect::Link(Link::Enables)),
            Some(0) => Some(Effect::Link(Link::Disables)),
            _ if masked => Some(Effect::Masked),
            _ => None,
        };
    }
    let (_, breaks, blocker) = OMA_BLOCKERS.iter().find(|(uri, _, _)| *uri == path)?;
    let breaking = match breaks {
        Breaks::Integer(bad) => integer(value) == Some(*bad),
        Breaks::AdmxEnabled => text(value).is_some_and(|text| {
            text.trim_start()
                .to_ascii_lowercase()
                .starts_with("<enabled")
        }),
        Breaks::AnyValue => text(value).is_some_and(|text| !text.trim().is_empty()),
    };
    match (breaking, masked) {
        (true, _) => Some(Effect::Blocks(*blocker)),
        (false, true) => Some(Effect::Masked),
        (false, false) => None,
    }
}

/// One settings-catalog choice value (`device_vendor_msft_policy_config_…_1`).
pub(crate) fn catalog_effect(choice: &str) -> Option<Effect> {
    let lower = choice.trim().to_ascii_lowercase();
    let rest = lower.strip_prefix(CATALOG_PREFIX)?;
    if let Some(value) = rest.strip_prefix(CATALOG_RESET_LINK) {
        return match value {
            "_1" => Some(Effect::Link(Link::Enables)),
            "_0" => Some(Effect::Link(Link::Disables)),
            _ => None,
        };
    }
    CATALOG_BLOCKERS
        .iter()
        .find(|(id, _)| *id == rest)
        .map(|(_, blocker)| Effect::Blocks(*blocker))
}

/// Every choice value anywhere in a settings-catalog setting (groups nest their children).
pub(crate) fn catalog_choices<'a>(setting: &'a Value, found: &mut Vec<&'a str>) {
    match setting {
        Value::Object(fields) => {
            for (key, value) in fields {
                if key.eq_ignore_ascii_case("choiceSettingValue")
                    && let Some(choice) = text(field(value, "value"))
                {
                    found.push(choice);
                }
                catalog_choices(value, found);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| catalog_choices(item, found)),
        _ => {}
    }
}

/// The breaking properties a device-restriction profile sets.
pub(crate) fn general_blockers(configuration: &Value) -> Vec<Blocker> {
    GENERAL_BLOCKERS
        .iter()
        .filter(|(property, _)| flag(field(configuration, property)) == Some(true))
        .map(|(_, blocker)| *blocker)
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn oma(uri: &str, value: Value) -> Option<Effect> {
        oma_effect(
            &json!({"@odata.type": "#microsoft.graph.omaSettingInteger", "omaUri": uri, "value": value}),
        )
    }

    #[test]
    fn the_reset_link_uri_in_every_spelling() {
        for uri in [
            "./Vendor/MSFT/Policy/Config/Authentication/AllowAadPasswordReset",
            "./Device/Vendor/MSFT/Policy/Config/Authentication/AllowAadPasswordReset",
            " ./device/vendor/msft/policy/config/authentication/allowaadpasswordreset",
        ] {
            assert_eq!(
                oma(uri, json!(1)),
                Some(Effect::Link(Link::Enables)),
                "{uri}"
            );
            assert_eq!(
                oma(uri, json!("0")),
                Some(Effect::Link(Link::Disables)),
                "{uri}"
            );
            assert_eq!(oma(uri, json!(2)), None, "{uri}");
        }
        assert_eq!(
            oma(
                "./User/Vendor/MSFT/Policy/Config/Authentication/AllowAadPasswordReset",
                json!(1)
            ),
            None
        );
        assert_eq!(
            oma(
                "./Vendor/MSFT/Policy/Config/Authentication/AllowAadPasswordResetX",
                json!(1)
            ),
            None
        );
    }

    #[test]
    fn breaking_values_only() {
        let toasts = "./Device/Vendor/MSFT/Policy/Config/AboveLock/AllowToasts";
        assert_eq!(
            oma(toasts, json!(0)),
            Some(Effect::Blocks(Blocker::LockScreenNotificationsOff))
        );
        assert_eq!(oma(toasts, json!(1)), None);
        let no_lock =
            "./Vendor/MSFT/Policy/Config/ADMX_ControlPanelDisplay/CPL_Personalization_NoLockScreen";
        assert_eq!(
            oma(no_lock, json!("<enabled/>")),
            Some(Effect::Blocks(Blocker::NoLockScreen))
        );
        assert_eq!(oma(no_lock, json!("<disabled/>")), None);
        let shell = "./Vendor/MSFT/AssignedAccess/ShellLauncher";
        assert_eq!(
            oma(shell, json!("<ShellLauncherConfiguration/>")),
            Some(Effect::Blocks(Blocker::CustomShell))
        );
        let masked = json!({"omaUri": shell, "value": null, "isEncrypted": true});
        assert_eq!(oma_effect(&masked), Some(Effect::Masked));
    }

    #[test]
    fn catalog_values() {
        assert_eq!(
            catalog_effect(
                "device_vendor_msft_policy_config_authentication_allowaadpasswordreset_1"
            ),
            Some(Effect::Link(Link::Enables))
        );
        assert_eq!(
            catalog_effect(
                "DEVICE_VENDOR_MSFT_POLICY_CONFIG_AUTHENTICATION_ALLOWAADPASSWORDRESET_0"
            ),
            Some(Effect::Link(Link::Disables))
        );
        assert_eq!(
            catalog_effect("device_vendor_msft_policy_config_abovelock_allowtoasts_0"),
            Some(Effect::Blocks(Blocker::LockScreenNotificationsOff))
        );
        assert_eq!(
            catalog_effect("device_vendor_msft_policy_config_abovelock_allowtoasts_1"),
            None
        );
        let nested = json!({"settingInstance": {"groupSettingCollectionValue": [{"children": [
            {"choiceSettingValue": {"value": "a_1", "children": [{"choiceSettingValue": {"value": "b_0"}}]}}]}]}});
        let mut found = Vec::new();
        catalog_choices(&nested, &mut found);
        assert_eq!(found, ["a_1", "b_0"]);
    }
}

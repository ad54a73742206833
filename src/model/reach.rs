//! The fleet as Graph shows it, for the sign-in-screen reach: Entra devices, Intune's managed
//! devices, the policies that switch the reset link on or off or break it, and each policy's
//! per-device statuses as read. The fetcher fills an [`Inventory`]; the transformer judges it.
//!
//! Ids are kept lower-case (Graph's GUIDs compare ignoring case). Every field a tenant may omit
//! is optional; nothing here decides what a missing value means.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

/// One `/v1.0/devices` object.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EntraDevice {
    /// The directory object id.
    pub object_id: String,
    /// `deviceId`, which Intune calls `azureADDeviceId`.
    pub device_id: Option<String>,
    pub name: Option<String>,
    pub operating_system: Option<String>,
    pub os_version: Option<String>,
    pub trust_type: Option<String>,
    pub account_enabled: Option<bool>,
    pub last_sign_in: Option<DateTime<Utc>>,
}

/// One `/v1.0/deviceManagement/managedDevices` object.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ManagedDevice {
    /// Intune's device id (`IntuneDeviceId` in reports).
    pub id: String,
    pub azure_ad_device_id: Option<String>,
    pub name: Option<String>,
    pub user: Option<String>,
    pub last_sync: Option<DateTime<Utc>>,
}

/// Where a policy was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PolicyKind {
    /// `windows10CustomConfiguration` (OMA-URI settings).
    Custom,
    /// `windows10GeneralConfiguration` (device restrictions).
    General,
    /// A settings-catalog `configurationPolicy` (beta).
    SettingsCatalog,
}

impl PolicyKind {
    pub fn name(self) -> &'static str {
        match self {
            PolicyKind::Custom => "custom",
            PolicyKind::General => "general",
            PolicyKind::SettingsCatalog => "settings_catalog",
        }
    }
}

/// What a policy does to the reset link itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    Enables,
    Disables,
}

/// A setting Microsoft lists as breaking the sign-in-screen reset link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Blocker {
    HideFastUserSwitching,
    DontDisplayLastUser,
    NoLockScreen,
    LockScreenNotificationsOff,
    CtrlAltDelRequired,
    BlockNonAdminInstall,
    UacOff,
    CustomShell,
}

impl Blocker {
    pub const ALL: [Blocker; 8] = [
        Blocker::HideFastUserSwitching,
        Blocker::DontDisplayLastUser,
        Blocker::NoLockScreen,
        Blocker::LockScreenNotificationsOff,
        Blocker::CtrlAltDelRequired,
        Blocker::BlockNonAdminInstall,
        Blocker::UacOff,
        Blocker::CustomShell,
    ];

    /// The name reports use.
    pub fn name(self) -> &'static str {
        match self {
            Blocker::HideFastUserSwitching => "hide_fast_user_switching",
            Blocker::DontDisplayLastUser => "dont_display_last_user",
            Blocker::NoLockScreen => "no_lock_screen",
            Blocker::LockScreenNotificationsOff => "lock_screen_notifications_off",
            Blocker::CtrlAltDelRequired => "ctrl_alt_del_required",
            Blocker::BlockNonAdminInstall => "block_non_admin_install",
            Blocker::UacOff => "uac_off",
            Blocker::CustomShell => "custom_shell",
        }
    }
}

/// A device configuration or configuration policy that matters to the link.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub id: String,
    pub name: String,
    pub kind: PolicyKind,
    /// Whether it switches the link on or off (both settings in one policy: it disables).
    pub link: Option<Link>,
    /// The breaking settings it sets, sorted, each once.
    pub blockers: Vec<Blocker>,
}

/// Where a per-device status was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusSource {
    /// The beta report action `getConfigurationPolicyDevicesReport`, by `IntuneDeviceId`.
    Report,
    /// The v1.0 `deviceStatuses` of a device configuration, by device name (and user).
    DeviceStatuses,
}

impl StatusSource {
    pub fn name(self) -> &'static str {
        match self {
            StatusSource::Report => "report",
            StatusSource::DeviceStatuses => "device_statuses",
        }
    }
}

/// One `deviceStatuses` row: it names the device, it does not identify it.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedStatus {
    pub device_name: String,
    pub user: Option<String>,
    pub code: u8,
}

/// The per-device statuses of one policy, in Intune's compliance-status numbers (0 unknown,
/// 1 not applicable, 2 compliant, 3 remediated, 4 non-compliant, 5 error, 6 conflict,
/// 7 not assigned).
#[derive(Debug, Clone, PartialEq)]
pub enum PolicyStatuses {
    /// From the report action: codes by Intune device id (a device may have a row per user).
    ById(HashMap<String, Vec<u8>>),
    /// From `deviceStatuses`: rows by device name, still to be joined.
    ByName(Vec<NamedStatus>),
    /// Neither source could be read for this policy.
    Unreadable,
}

/// Everything read for the reach, and what could not be read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inventory {
    pub devices: Vec<EntraDevice>,
    pub managed: Vec<ManagedDevice>,
    /// False when Intune's devices could not be read (no licence, no permission): every device's
    /// policy state is then unknown.
    pub intune_readable: bool,
    pub policies: Vec<Policy>,
    /// False when a list of policies could not be read: some policy may decide any device.
    pub policies_complete: bool,
    /// By policy id; a policy without an entry has no status rows.
    pub statuses: HashMap<String, PolicyStatuses>,
}

//! A simulated Intune fleet with its truth: Entra devices of every join type and age, Intune's
//! managed devices (one without an Entra twin, two pairs sharing a name), custom,
//! device-restriction and settings-catalog policies that enable, disable or break the
//! sign-in-screen reset link, and each policy's per-device statuses.
//!
//! Each device carries what the README's definitions make of it, written by hand beside the
//! device (not computed): its reasons for not being eligible, and its policy state, status
//! source and blockers both when the beta report action answers and when it is refused (the
//! fallback to `deviceStatuses`, where the settings-catalog policies' statuses are unknown).

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::{Value, json};

/// What the README's rules make of one device on one path.
#[derive(Debug, Clone, PartialEq)]
pub struct Expected {
    pub state: &'static str,
    pub source: &'static str,
    /// Sorted.
    pub blockers: &'static [&'static str],
}

/// One Windows device of the fleet (or a device the reach must leave out), with its truth.
#[derive(Debug, Clone)]
pub struct FleetDevice {
    pub name: &'static str,
    /// Entra `deviceId`.
    pub device_id: String,
    /// Intune's id, when Intune manages it.
    pub intune_id: Option<String>,
    pub windows: bool,
    pub not_eligible: &'static [&'static str],
    /// When the report action answers.
    pub by_report: Expected,
    /// When it is refused.
    pub by_fallback: Expected,
}

/// A policy's id, kind and what it holds, as served.
#[derive(Debug, Clone)]
pub struct FleetPolicy {
    pub id: &'static str,
    pub name: &'static str,
    /// v1.0 device configuration (custom or general) or beta settings catalog.
    pub catalog: bool,
    /// The Graph object (for the catalog, without its settings).
    pub object: Value,
    /// The list leaves its `omaSettings` out; its own GET has them.
    pub list_omits_settings: bool,
    /// The catalog policy's settings.
    pub settings: Vec<Value>,
}

/// One status row: policy, device (Intune id, name, user), Intune's status number.
#[derive(Debug, Clone)]
pub struct FleetStatus {
    pub policy: &'static str,
    pub intune_id: String,
    pub device_name: String,
    pub user: String,
    pub code: u8,
}

/// Everything the simulator serves for the reach, and its truth.
#[derive(Debug, Clone)]
pub struct Fleet {
    pub devices: Vec<Value>,
    pub managed: Vec<Value>,
    pub policies: Vec<FleetPolicy>,
    pub statuses: Vec<FleetStatus>,
    pub truth: Vec<FleetDevice>,
    /// The masked policy the reach must warn about.
    pub masked_policy: &'static str,
}

/// How the simulated Intune answers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IntuneBehaviour {
    /// 403 for the beta report action (the fallback path).
    pub refuse_report: bool,
    /// 400 "Request not applicable to target tenant" for every Intune endpoint.
    pub no_intune: bool,
    /// 403 for the paths starting with one of these (after the version), such as
    /// `deviceManagement/managedDevices`.
    pub forbidden: Vec<String>,
    /// At most this many rows per report page, whatever `top` asks (0: as asked).
    pub report_rows_per_page: usize,
}

const ENABLE_CUSTOM: &str = "c0000001-0000-4000-8000-000000000001";
const BASELINE: &str = "c0000002-0000-4000-8000-000000000002";
const DISABLE_KIOSK: &str = "c0000003-0000-4000-8000-000000000003";
const RESTRICTIONS: &str = "c0000004-0000-4000-8000-000000000004";
const MASKED_SHELL: &str = "c0000005-0000-4000-8000-000000000005";
const IOS_RESTRICTIONS: &str = "c0000006-0000-4000-8000-000000000006";
const ENABLE_CATALOG: &str = "5c000001-0000-4000-8000-000000000001";
const CATALOG_LAST_USER: &str = "5c000002-0000-4000-8000-000000000002";
const CATALOG_MAC: &str = "5c000003-0000-4000-8000-000000000003";

const SSPR_URI: &str = "./Device/Vendor/MSFT/Policy/Config/Authentication/AllowAadPasswordReset";

fn integer_setting(uri: &str, value: i64) -> Value {
    json!({"@odata.type": "#microsoft.graph.omaSettingInteger", "displayName": uri, "omaUri": uri, "value": value})
}

fn choice(definition: &str, value: &str) -> Value {
    json!({"id": "0", "settingInstance": {
        "@odata.type": "#microsoft.graph.deviceManagementConfigurationChoiceSettingInstance",
        "settingDefinitionId": definition,
        "choiceSettingValue": {"value": value, "children": []}}})
}

fn policies() -> Vec<FleetPolicy> {
    let custom = |id, name, settings: Vec<Value>| FleetPolicy {
        id,
        name,
        catalog: false,
        object: json!({"@odata.type": "#microsoft.graph.windows10CustomConfiguration", "id": id,
            "displayName": name, "omaSettings": settings}),
        list_omits_settings: false,
        settings: Vec::new(),
    };
    let catalog = |id, name, platforms: &str, settings| FleetPolicy {
        id,
        name,
        catalog: true,
        object: json!({"id": id, "name": name, "platforms": platforms, "technologies": "mdm"}),
        list_omits_settings: false,
        settings,
    };
    let kiosk = FleetPolicy {
        list_omits_settings: true,
        ..custom(
            DISABLE_KIOSK,
            "Kiosks: no reset link",
            vec![integer_setting(
                "./vendor/msft/policy/config/authentication/allowaadpasswordreset",
                0,
            )],
        )
    };
    vec![
        custom(
            ENABLE_CUSTOM,
            "SSPR sign-in screen link",
            vec![integer_setting(SSPR_URI, 1)],
        ),
        custom(
            BASELINE,
            "Community baseline",
            vec![
                integer_setting(
                    "./Vendor/MSFT/Policy/Config/Authentication/AllowAadPasswordReset",
                    1,
                ),
                integer_setting(
                    "./Device/Vendor/MSFT/Policy/Config/AboveLock/AllowToasts",
                    0,
                ),
                integer_setting("./Device/Vendor/MSFT/Policy/Config/Browser/AllowCookies", 0),
            ],
        ),
        kiosk,
        FleetPolicy {
            id: RESTRICTIONS,
            name: "Device restrictions",
            catalog: false,
            object: json!({"@odata.type": "#microsoft.graph.windows10GeneralConfiguration", "id": RESTRICTIONS,
                "displayName": "Device restrictions", "logonBlockFastUserSwitching": true,
                "lockScreenBlockToastNotifications": false}),
            list_omits_settings: false,
            settings: Vec::new(),
        },
        custom(
            MASKED_SHELL,
            "Kiosk shell (encrypted)",
            vec![json!({"@odata.type": "#microsoft.graph.omaSettingString",
                "omaUri": "./Vendor/MSFT/AssignedAccess/ShellLauncher", "value": null, "isEncrypted": true})],
        ),
        FleetPolicy {
            id: IOS_RESTRICTIONS,
            name: "iOS restrictions",
            catalog: false,
            object: json!({"@odata.type": "#microsoft.graph.iosGeneralDeviceConfiguration", "id": IOS_RESTRICTIONS,
                "displayName": "iOS restrictions"}),
            list_omits_settings: false,
            settings: Vec::new(),
        },
        catalog(
            ENABLE_CATALOG,
            "SSPR link (settings catalog)",
            "windows10",
            vec![choice(
                "device_vendor_msft_policy_config_authentication_allowaadpasswordreset",
                "device_vendor_msft_policy_config_authentication_allowaadpasswordreset_1",
            )],
        ),
        catalog(
            CATALOG_LAST_USER,
            "Hide last signed-in user",
            "windows10",
            vec![choice(
                "device_vendor_msft_policy_config_localpoliciessecurityoptions_interactivelogon_donotdisplaylastsignedin",
                "device_vendor_msft_policy_config_localpoliciessecurityoptions_interactivelogon_donotdisplaylastsignedin_1",
            )],
        ),
        catalog(CATALOG_MAC, "macOS settings", "macOS", Vec::new()),
    ]
}

/// What a device is, for [`Fleet::sample`].
struct Spec {
    name: &'static str,
    trust: Option<&'static str>,
    os: Option<&'static str>,
    version: &'static str,
    enabled: bool,
    seen_days_ago: Option<i64>,
    /// `None`: not managed by Intune.
    user: Option<&'static str>,
    statuses: &'static [(&'static str, u8)],
    not_eligible: &'static [&'static str],
    by_report: (&'static str, &'static str, &'static [&'static str]),
    by_fallback: (&'static str, &'static str, &'static [&'static str]),
}

const fn spec(
    name: &'static str,
    user: Option<&'static str>,
    statuses: &'static [(&'static str, u8)],
) -> Spec {
    Spec {
        name,
        trust: Some("AzureAd"),
        os: Some("Windows"),
        version: "10.0.19045.3803",
        enabled: true,
        seen_days_ago: Some(2),
        user,
        statuses,
        not_eligible: &[],
        by_report: ("not_targeted", "none", &[]),
        by_fallback: ("unknown", "none", &[]),
    }
}

const NONE: &[&str] = &[];
const TOASTS: &[&str] = &["lock_screen_notifications_off"];

fn specs() -> Vec<Spec> {
    let u = Some;
    vec![
        Spec {
            by_report: ("enabled", "report", NONE),
            by_fallback: ("enabled", "device_statuses", NONE),
            ..spec(
                "PC-ENABLED-CUSTOM",
                u("ada@contoso.test"),
                &[(ENABLE_CUSTOM, 2)],
            )
        },
        Spec {
            trust: Some("ServerAd"),
            version: "10.0.22631.4460",
            by_report: ("enabled", "report", NONE),
            by_fallback: ("unknown", "none", NONE),
            ..spec(
                "PC-ENABLED-CATALOG",
                u("bo@contoso.test"),
                &[(ENABLE_CATALOG, 3)],
            )
        },
        Spec {
            by_report: ("error", "report", NONE),
            by_fallback: ("unknown", "device_statuses", NONE),
            ..spec("PC-ERROR", u("cy@contoso.test"), &[(ENABLE_CUSTOM, 5)])
        },
        Spec {
            by_report: ("error", "report", NONE),
            by_fallback: ("unknown", "device_statuses", NONE),
            ..spec(
                "PC-NONCOMPLIANT",
                u("cy@contoso.test"),
                &[(ENABLE_CUSTOM, 4)],
            )
        },
        Spec {
            by_report: ("conflict", "report", NONE),
            by_fallback: ("unknown", "device_statuses", NONE),
            ..spec(
                "PC-CONFLICT",
                u("di@contoso.test"),
                &[(ENABLE_CUSTOM, 6), (ENABLE_CATALOG, 6)],
            )
        },
        Spec {
            by_report: ("pending", "report", NONE),
            by_fallback: ("unknown", "device_statuses", NONE),
            ..spec("PC-PENDING", u("ed@contoso.test"), &[(ENABLE_CUSTOM, 0)])
        },
        Spec {
            by_report: ("not_targeted", "none", NONE),
            by_fallback: ("unknown", "none", NONE),
            ..spec(
                "PC-NOT-ASSIGNED",
                u("fa@contoso.test"),
                &[(ENABLE_CUSTOM, 7), (BASELINE, 1)],
            )
        },
        spec("PC-NO-STATUS", u("gu@contoso.test"), &[]),
        Spec {
            by_report: ("disabled_by_policy", "report", NONE),
            by_fallback: ("disabled_by_policy", "device_statuses", NONE),
            ..spec(
                "PC-KIOSK",
                u("kiosk@contoso.test"),
                &[(ENABLE_CUSTOM, 2), (DISABLE_KIOSK, 2)],
            )
        },
        Spec {
            by_report: ("unknown", "none", NONE),
            ..spec("PC-UNMANAGED", None, &[])
        },
        Spec {
            by_report: ("enabled", "report", TOASTS),
            by_fallback: ("enabled", "device_statuses", TOASTS),
            ..spec("PC-BASELINE", u("hu@contoso.test"), &[(BASELINE, 2)])
        },
        Spec {
            by_report: ("enabled", "report", &["hide_fast_user_switching"]),
            by_fallback: ("enabled", "device_statuses", &["hide_fast_user_switching"]),
            ..spec(
                "PC-FUS-HIDDEN",
                u("ib@contoso.test"),
                &[(ENABLE_CUSTOM, 2), (RESTRICTIONS, 3)],
            )
        },
        Spec {
            by_report: ("enabled", "report", NONE),
            by_fallback: ("enabled", "device_statuses", NONE),
            ..spec(
                "PC-RESTRICTION-FAILED",
                u("jo@contoso.test"),
                &[(ENABLE_CUSTOM, 2), (RESTRICTIONS, 5)],
            )
        },
        Spec {
            by_report: ("enabled", "report", &["dont_display_last_user"]),
            by_fallback: ("unknown", "none", NONE),
            ..spec(
                "PC-LAST-USER-HIDDEN",
                u("ka@contoso.test"),
                &[(ENABLE_CATALOG, 2), (CATALOG_LAST_USER, 2)],
            )
        },
        Spec {
            by_report: (
                "enabled",
                "report",
                &[
                    "dont_display_last_user",
                    "hide_fast_user_switching",
                    "lock_screen_notifications_off",
                ],
            ),
            by_fallback: (
                "enabled",
                "device_statuses",
                &["hide_fast_user_switching", "lock_screen_notifications_off"],
            ),
            ..spec(
                "PC-EVERY-BLOCKER",
                u("li@contoso.test"),
                &[(BASELINE, 2), (RESTRICTIONS, 2), (CATALOG_LAST_USER, 2)],
            )
        },
        Spec {
            by_report: ("enabled", "report", NONE),
            by_fallback: ("enabled", "device_statuses", NONE),
            ..spec(
                "PC-MASKED-SHELL",
                u("mo@contoso.test"),
                &[(ENABLE_CUSTOM, 2), (MASKED_SHELL, 2)],
            )
        },
        Spec {
            version: "10.0.16299.2166",
            not_eligible: &["too_old"],
            by_report: ("enabled", "report", NONE),
            by_fallback: ("enabled", "device_statuses", NONE),
            ..spec("PC-1709", u("ni@contoso.test"), &[(ENABLE_CUSTOM, 2)])
        },
        Spec {
            version: "10.0.17134.1",
            by_report: ("enabled", "report", NONE),
            by_fallback: ("enabled", "device_statuses", NONE),
            ..spec("PC-1803", u("ni@contoso.test"), &[(ENABLE_CUSTOM, 2)])
        },
        Spec {
            trust: Some("Workplace"),
            not_eligible: &["not_joined"],
            by_report: ("unknown", "none", NONE),
            ..spec("PC-REGISTERED", None, &[])
        },
        Spec {
            enabled: false,
            not_eligible: &["disabled_account"],
            by_report: ("enabled", "report", NONE),
            by_fallback: ("enabled", "device_statuses", NONE),
            ..spec(
                "PC-DISABLED-ACCOUNT",
                u("ol@contoso.test"),
                &[(ENABLE_CUSTOM, 2)],
            )
        },
        Spec {
            seen_days_ago: Some(45),
            not_eligible: &["inactive"],
            by_report: ("enabled", "report", NONE),
            by_fallback: ("enabled", "device_statuses", NONE),
            ..spec("PC-STALE", u("pi@contoso.test"), &[(ENABLE_CUSTOM, 2)])
        },
        Spec {
            seen_days_ago: None,
            not_eligible: &["inactive"],
            by_report: ("unknown", "none", NONE),
            ..spec("PC-NEVER-SEEN", None, &[])
        },
        Spec {
            trust: None,
            version: "6.3.9600",
            seen_days_ago: Some(400),
            by_report: ("unknown", "none", NONE),
            not_eligible: &["too_old", "not_joined", "inactive"],
            ..spec("PC-ANCIENT", None, &[])
        },
        // Two devices named alike with different users: the fallback joins them by user.
        Spec {
            by_report: ("enabled", "report", NONE),
            by_fallback: ("enabled", "device_statuses", NONE),
            ..spec("PC-SHARED", u("qa@contoso.test"), &[(ENABLE_CUSTOM, 2)])
        },
        Spec {
            by_report: ("error", "report", NONE),
            by_fallback: ("unknown", "device_statuses", NONE),
            ..spec("PC-SHARED", u("ru@contoso.test"), &[(ENABLE_CUSTOM, 5)])
        },
        // Two devices named alike with the same user: the fallback cannot tell them apart.
        Spec {
            by_report: ("enabled", "report", NONE),
            by_fallback: ("unknown", "none", NONE),
            ..spec("PC-LAB", u("lab@contoso.test"), &[(ENABLE_CUSTOM, 2)])
        },
        Spec {
            by_report: ("pending", "report", NONE),
            by_fallback: ("unknown", "none", NONE),
            ..spec("PC-LAB", u("lab@contoso.test"), &[(ENABLE_CUSTOM, 0)])
        },
        Spec {
            trust: Some("azuread"),
            os: Some("windows"),
            by_report: ("enabled", "report", NONE),
            by_fallback: ("enabled", "device_statuses", NONE),
            ..spec("pc-lower-case", u("su@contoso.test"), &[(ENABLE_CUSTOM, 2)])
        },
        Spec {
            os: Some("iOS"),
            version: "17.1",
            ..spec("IPHONE-TA", u("ta@contoso.test"), &[])
        },
        Spec {
            os: None,
            ..spec("NO-OS", None, &[])
        },
    ]
}

fn guid(prefix: u32, n: usize) -> String {
    format!("{prefix:08x}-0000-4000-8000-{n:012x}")
}

fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl Fleet {
    /// The sample fleet as seen at `now`.
    pub fn sample(now: DateTime<Utc>) -> Fleet {
        let (mut devices, mut managed, mut statuses, mut truth) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (n, spec) in specs().into_iter().enumerate() {
            let device_id = guid(0xd0, n);
            let seen = spec
                .seen_days_ago
                .map(|days| time(now - Duration::days(days)));
            devices.push(json!({
                "id": guid(0x0b, n), "deviceId": device_id, "displayName": spec.name,
                "operatingSystem": spec.os, "operatingSystemVersion": spec.version, "trustType": spec.trust,
                "accountEnabled": spec.enabled, "approximateLastSignInDateTime": seen,
            }));
            let intune_id = spec.user.map(|user| {
                let id = guid(0x1e, n);
                managed.push(json!({
                    "id": id, "azureADDeviceId": device_id, "deviceName": spec.name,
                    "operatingSystem": spec.os, "osVersion": spec.version,
                    "lastSyncDateTime": time(now - Duration::hours(3)), "userPrincipalName": user,
                }));
                for &(policy, code) in spec.statuses {
                    statuses.push(FleetStatus {
                        policy,
                        intune_id: id.clone(),
                        device_name: spec.name.to_owned(),
                        user: user.to_owned(),
                        code,
                    });
                }
                id
            });
            let expected = |(state, source, blockers)| Expected {
                state,
                source,
                blockers,
            };
            truth.push(FleetDevice {
                name: spec.name,
                device_id,
                intune_id,
                windows: spec.os.is_some_and(|os| os.eq_ignore_ascii_case("windows")),
                not_eligible: spec.not_eligible,
                by_report: expected(spec.by_report),
                by_fallback: expected(spec.by_fallback),
            });
        }
        // A Windows device Intune manages that has no Entra twin: not in the reach.
        managed.push(
            json!({"id": guid(0x1e, 999), "azureADDeviceId": "00000000-0000-0000-0000-000000000000",
            "deviceName": "PC-WORKGROUP", "operatingSystem": "Windows", "osVersion": "10.0.19045.1",
            "lastSyncDateTime": time(now), "userPrincipalName": "ws@contoso.test"}),
        );
        Fleet {
            devices,
            managed,
            policies: policies(),
            statuses,
            truth,
            masked_policy: "Kiosk shell (encrypted)",
        }
    }
}

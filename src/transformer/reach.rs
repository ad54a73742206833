//! Judges an [`Inventory`]: which Windows devices are eligible for the sign-in-screen reset
//! link, what state the policies leave it in on each, which breaking settings apply, and so
//! which devices are ready. Pure: "now" is passed in, nothing is read or printed.
//!
//! The rules are the README's (section "Reach"): a disabling policy applied (status 2 or 3) wins,
//! then an enabling one applied, then error (4, 5), conflict (6), pending (0), else not
//! targeted; a device Intune does not know is `unknown`, and so is one whose state could still be
//! decided by a policy whose statuses (or whose very existence) could not be read. Statuses read
//! by device name are joined here: by name, then by name and user when the name repeats; a row
//! that still matches several devices makes all of them `unknown`.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Duration, Utc};

use crate::model::reach::{
    Blocker, EntraDevice, Inventory, Link, ManagedDevice, Policy, PolicyStatuses, StatusSource,
};

/// Windows 10 1803, the first build that shows the link.
pub const MIN_BUILD: u32 = 17134;

/// What the policies leave the link in on one device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PolicyState {
    Enabled,
    Error,
    Conflict,
    Pending,
    DisabledByPolicy,
    NotTargeted,
    Unknown,
}

impl PolicyState {
    pub fn name(self) -> &'static str {
        match self {
            PolicyState::Enabled => "enabled",
            PolicyState::Error => "error",
            PolicyState::Conflict => "conflict",
            PolicyState::Pending => "pending",
            PolicyState::DisabledByPolicy => "disabled_by_policy",
            PolicyState::NotTargeted => "not_targeted",
            PolicyState::Unknown => "unknown",
        }
    }
}

/// Why a Windows device is not eligible (it may have several reasons).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Ineligible {
    TooOld,
    NotJoined,
    DisabledAccount,
    Inactive,
}

impl Ineligible {
    pub fn name(self) -> &'static str {
        match self {
            Ineligible::TooOld => "too_old",
            Ineligible::NotJoined => "not_joined",
            Ineligible::DisabledAccount => "disabled_account",
            Ineligible::Inactive => "inactive",
        }
    }
}

/// One Windows device, judged.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceReach {
    pub device: EntraDevice,
    /// The Intune record joined to it, if any.
    pub intune_device_id: Option<String>,
    pub ineligible: Vec<Ineligible>,
    pub state: PolicyState,
    pub status_source: Option<StatusSource>,
    /// Sorted by name, each once.
    pub blockers: Vec<Blocker>,
}

impl DeviceReach {
    pub fn eligible(&self) -> bool {
        self.ineligible.is_empty()
    }

    pub fn ready(&self) -> bool {
        self.eligible() && self.state == PolicyState::Enabled && self.blockers.is_empty()
    }
}

/// One policy that sets a breaking setting, and whom it reaches.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockerReach {
    pub blocker: Blocker,
    pub policy: Policy,
    /// False when its per-device statuses could not be read: it is counted against no device.
    pub status_readable: bool,
    /// Eligible devices on which it is applied.
    pub eligible_devices: u64,
}

/// The judgement of a whole inventory.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    /// Windows devices, ordered by name then device id.
    pub devices: Vec<DeviceReach>,
    /// Per breaking setting (in [`Blocker::ALL`] order), each policy setting it.
    pub blockers: Vec<BlockerReach>,
    /// Entra devices left out because they are not Windows, and of those, how many say no
    /// operating system at all.
    pub not_windows: usize,
    pub without_os: usize,
    /// What the reader should know: ambiguous names, unmatched status rows, devices without a
    /// readable build.
    pub warnings: Vec<String>,
}

/// The build of `10.0.19045.3803` (its third number).
pub fn build_number(os_version: &str) -> Option<u32> {
    os_version.trim().split('.').nth(2)?.trim().parse().ok()
}

/// Why `device` is not eligible at `now` with `active_days`; empty when it is.
pub fn ineligible(device: &EntraDevice, now: DateTime<Utc>, active_days: u32) -> Vec<Ineligible> {
    let mut reasons = Vec::new();
    let build = device.os_version.as_deref().and_then(build_number);
    if build.is_none_or(|build| build < MIN_BUILD) {
        reasons.push(Ineligible::TooOld);
    }
    let joined = device.trust_type.as_deref().is_some_and(|trust| {
        trust.trim().eq_ignore_ascii_case("AzureAd")
            || trust.trim().eq_ignore_ascii_case("ServerAd")
    });
    if !joined {
        reasons.push(Ineligible::NotJoined);
    }
    if device.account_enabled != Some(true) {
        reasons.push(Ineligible::DisabledAccount);
    }
    let since = now - Duration::days(i64::from(active_days));
    if device.last_sign_in.is_none_or(|seen| seen < since) {
        reasons.push(Ineligible::Inactive);
    }
    reasons
}

fn is_windows(device: &EntraDevice) -> bool {
    device
        .operating_system
        .as_deref()
        .is_some_and(|os| os.trim().to_ascii_lowercase().starts_with("windows"))
}

/// A usable join key: not empty, not the all-zero GUID Intune gives unregistered devices.
fn join_key(id: Option<&str>) -> Option<String> {
    let id = id?.trim().to_ascii_lowercase();
    let zero = id.chars().all(|c| c == '0' || c == '-');
    (!zero).then_some(id)
}

/// The statuses of every policy by Intune device id, with their source; and the devices a
/// name-joined row could not tell apart.
struct Joined {
    codes: HashMap<String, HashMap<String, (Vec<u8>, StatusSource)>>,
    ambiguous: BTreeSet<String>,
}

fn join_statuses(inventory: &Inventory, warnings: &mut Vec<String>) -> Joined {
    let mut by_name: HashMap<String, Vec<&ManagedDevice>> = HashMap::new();
    for managed in &inventory.managed {
        if let Some(name) = &managed.name {
            by_name
                .entry(name.trim().to_lowercase())
                .or_default()
                .push(managed);
        }
    }
    let mut codes: HashMap<String, HashMap<String, (Vec<u8>, StatusSource)>> = HashMap::new();
    let mut ambiguous_ids = BTreeSet::new();
    let mut ambiguous_names = BTreeSet::new();
    let mut unmatched = BTreeSet::new();
    for (policy, statuses) in &inventory.statuses {
        let policy_codes = codes.entry(policy.clone()).or_default();
        match statuses {
            PolicyStatuses::ById(rows) => {
                for (id, row_codes) in rows {
                    policy_codes
                        .entry(id.to_ascii_lowercase())
                        .or_insert_with(|| (Vec::new(), StatusSource::Report))
                        .0
                        .extend(row_codes);
                }
            }
            PolicyStatuses::ByName(rows) => {
                for row in rows {
                    let name = row.device_name.trim().to_lowercase();
                    let candidates = by_name.get(&name).map(Vec::as_slice).unwrap_or_default();
                    let chosen: Vec<&&ManagedDevice> = match candidates {
                        [] => {
                            unmatched.insert(row.device_name.clone());
                            continue;
                        }
                        [_] => candidates.iter().collect(),
                        _ => candidates
                            .iter()
                            .filter(|managed| {
                                same_user(managed.user.as_deref(), row.user.as_deref())
                            })
                            .collect(),
                    };
                    if let [managed] = chosen.as_slice() {
                        policy_codes
                            .entry(managed.id.to_ascii_lowercase())
                            .or_insert_with(|| (Vec::new(), StatusSource::DeviceStatuses))
                            .0
                            .push(row.code);
                    } else {
                        ambiguous_names.insert(row.device_name.clone());
                        ambiguous_ids.extend(candidates.iter().map(|m| m.id.to_ascii_lowercase()));
                    }
                }
            }
            PolicyStatuses::Unreadable => {}
        }
    }
    if !ambiguous_names.is_empty() {
        warnings.push(format!(
            "deviceStatuses name devices, and these names match several Intune devices even with the user: {} ({} devices; their policy state is unknown)",
            ambiguous_names.into_iter().collect::<Vec<_>>().join(", "),
            ambiguous_ids.len()
        ));
    }
    if !unmatched.is_empty() {
        warnings.push(format!(
            "{} device names in deviceStatuses match no Intune device and were not counted: {}",
            unmatched.len(),
            unmatched.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    Joined {
        codes,
        ambiguous: ambiguous_ids,
    }
}

fn same_user(managed: Option<&str>, row: Option<&str>) -> bool {
    matches!((managed, row), (Some(a), Some(b)) if a.trim().eq_ignore_ascii_case(b.trim()))
}

fn applied(code: u8) -> bool {
    matches!(code, 2 | 3)
}

/// The state the link statuses of one device give, and where its deciding status came from.
fn decide(statuses: &[(Link, u8, StatusSource)]) -> (PolicyState, Option<StatusSource>) {
    let find = |test: &dyn Fn(Link, u8) -> bool| {
        statuses
            .iter()
            .find(|(link, code, _)| test(*link, *code))
            .map(|(_, _, source)| *source)
    };
    let ladder: [(PolicyState, &dyn Fn(Link, u8) -> bool); 5] = [
        (PolicyState::DisabledByPolicy, &|link, code| {
            link == Link::Disables && applied(code)
        }),
        (PolicyState::Enabled, &|link, code| {
            link == Link::Enables && applied(code)
        }),
        (PolicyState::Error, &|_, code| matches!(code, 4 | 5)),
        (PolicyState::Conflict, &|_, code| code == 6),
        (PolicyState::Pending, &|_, code| code == 0),
    ];
    for (state, test) in ladder {
        if let Some(source) = find(test) {
            return (state, Some(source));
        }
    }
    (PolicyState::NotTargeted, None)
}

/// Judges every Windows device of `inventory` at `now`.
pub fn assess(inventory: &Inventory, now: DateTime<Utc>, active_days: u32) -> Assessment {
    let mut warnings = Vec::new();
    let joined = join_statuses(inventory, &mut warnings);
    let mut managed_by_entra: HashMap<String, &ManagedDevice> = HashMap::new();
    for managed in &inventory.managed {
        let Some(key) = join_key(managed.azure_ad_device_id.as_deref()) else {
            continue;
        };
        let newer = managed_by_entra
            .get(&key)
            .is_none_or(|known| managed.last_sync > known.last_sync);
        if newer {
            managed_by_entra.insert(key, managed);
        }
    }
    let unreadable = |policy: &Policy| {
        matches!(
            inventory.statuses.get(&policy.id),
            Some(PolicyStatuses::Unreadable)
        )
    };
    let link_unreadable = !inventory.policies_complete
        || inventory
            .policies
            .iter()
            .any(|policy| policy.link.is_some() && unreadable(policy));
    let codes_on = |policy: &Policy, intune_id: &str| {
        joined
            .codes
            .get(&policy.id)
            .and_then(|devices| devices.get(intune_id))
    };

    let (mut devices, mut not_windows, mut without_os, mut no_build) = (Vec::new(), 0, 0, 0);
    for device in &inventory.devices {
        if !is_windows(device) {
            not_windows += 1;
            without_os += usize::from(device.operating_system.is_none());
            continue;
        }
        no_build += usize::from(
            device
                .os_version
                .as_deref()
                .and_then(build_number)
                .is_none(),
        );
        let managed = join_key(device.device_id.as_deref())
            .and_then(|key| managed_by_entra.get(&key).copied())
            .filter(|_| inventory.intune_readable);
        let intune_id = managed.map(|managed| managed.id.to_ascii_lowercase());
        let (state, status_source, blockers) = match &intune_id {
            Some(id) if !joined.ambiguous.contains(id) => {
                let mut link_statuses = Vec::new();
                let mut blockers = BTreeSet::new();
                for policy in &inventory.policies {
                    let Some((codes, source)) = codes_on(policy, id) else {
                        continue;
                    };
                    if let Some(link) = policy.link {
                        link_statuses.extend(codes.iter().map(|code| (link, *code, *source)));
                    }
                    if codes.iter().copied().any(applied) {
                        blockers.extend(policy.blockers.iter().copied());
                    }
                }
                let (mut state, source) = decide(&link_statuses);
                if link_unreadable
                    && !matches!(state, PolicyState::Enabled | PolicyState::DisabledByPolicy)
                {
                    state = PolicyState::Unknown;
                }
                let mut blockers: Vec<Blocker> = blockers.into_iter().collect();
                blockers.sort_by_key(|blocker| blocker.name());
                (state, source, blockers)
            }
            _ => (PolicyState::Unknown, None, Vec::new()),
        };
        devices.push(DeviceReach {
            device: device.clone(),
            intune_device_id: intune_id,
            ineligible: ineligible(device, now, active_days),
            state,
            status_source,
            blockers,
        });
    }
    devices.sort_by(|a, b| {
        (
            a.device.name.as_deref().map(str::to_lowercase),
            &a.device.device_id,
        )
            .cmp(&(
                b.device.name.as_deref().map(str::to_lowercase),
                &b.device.device_id,
            ))
    });
    if no_build > 0 {
        warnings.push(format!(
            "{no_build} Windows devices have no readable build in operatingSystemVersion; they count as too_old"
        ));
    }

    let mut blockers = Vec::new();
    for blocker in Blocker::ALL {
        for policy in inventory
            .policies
            .iter()
            .filter(|p| p.blockers.contains(&blocker))
        {
            let status_readable = !unreadable(policy);
            let eligible_devices = devices
                .iter()
                .filter(|device| device.eligible())
                .filter(|device| device.blockers.contains(&blocker))
                .filter(|device| {
                    device.intune_device_id.as_deref().is_some_and(|id| {
                        codes_on(policy, id)
                            .is_some_and(|(codes, _)| codes.iter().copied().any(applied))
                    })
                })
                .count() as u64;
            blockers.push(BlockerReach {
                blocker,
                policy: policy.clone(),
                status_readable,
                eligible_devices,
            });
        }
    }
    Assessment {
        devices,
        blockers,
        not_windows,
        without_os,
        warnings,
    }
}

/// The `summary` measures, in the README's order: `windows_devices`, `eligible`, `ready`, the
/// reasons for not being eligible, the policy states of eligible devices other than `enabled`,
/// and `blocked`.
pub fn summary(assessment: &Assessment) -> Vec<(&'static str, u64)> {
    let devices = &assessment.devices;
    let count =
        |test: &dyn Fn(&DeviceReach) -> bool| devices.iter().filter(|d| test(d)).count() as u64;
    let mut rows = vec![
        ("windows_devices", devices.len() as u64),
        ("eligible", count(&|d| d.eligible())),
        ("ready", count(&|d| d.ready())),
    ];
    for reason in [
        Ineligible::TooOld,
        Ineligible::NotJoined,
        Ineligible::DisabledAccount,
        Ineligible::Inactive,
    ] {
        rows.push((reason.name(), count(&|d| d.ineligible.contains(&reason))));
    }
    for (measure, state) in [
        ("policy_unknown", PolicyState::Unknown),
        ("policy_not_targeted", PolicyState::NotTargeted),
        ("policy_pending", PolicyState::Pending),
        ("policy_error", PolicyState::Error),
        ("policy_conflict", PolicyState::Conflict),
        ("policy_disabled", PolicyState::DisabledByPolicy),
    ] {
        rows.push((measure, count(&|d| d.eligible() && d.state == state)));
    }
    rows.push((
        "blocked",
        count(&|d| d.eligible() && d.state == PolicyState::Enabled && !d.blockers.is_empty()),
    ));
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::reach::{NamedStatus, PolicyKind};

    fn now() -> DateTime<Utc> {
        "2026-12-01T12:00:00Z".parse().unwrap()
    }

    fn device(name: &str, n: u32) -> EntraDevice {
        EntraDevice {
            object_id: format!("o{n}"),
            device_id: Some(format!("d{n}")),
            name: Some(name.into()),
            operating_system: Some("Windows".into()),
            os_version: Some("10.0.19045.1".into()),
            trust_type: Some("AzureAd".into()),
            account_enabled: Some(true),
            last_sign_in: Some(now() - Duration::days(1)),
        }
    }

    fn managed(name: &str, n: u32, user: &str) -> ManagedDevice {
        ManagedDevice {
            id: format!("i{n}"),
            azure_ad_device_id: Some(format!("D{n}")),
            name: Some(name.into()),
            user: Some(user.into()),
            last_sync: None,
        }
    }

    fn policy(id: &str, kind: PolicyKind, link: Option<Link>, blockers: Vec<Blocker>) -> Policy {
        Policy {
            id: id.into(),
            name: id.into(),
            kind,
            link,
            blockers,
        }
    }

    #[test]
    fn builds_and_eligibility() {
        assert_eq!(build_number("10.0.17134.1"), Some(17134));
        assert_eq!(build_number("10.0"), None);
        assert_eq!(build_number(" 10.0.22631 "), Some(22631));
        let mut old = device("a", 1);
        old.os_version = Some("10.0.17133.9".into());
        old.trust_type = Some("Workplace".into());
        old.account_enabled = None;
        old.last_sign_in = Some(now() - Duration::days(31));
        assert_eq!(
            ineligible(&old, now(), 30),
            [
                Ineligible::TooOld,
                Ineligible::NotJoined,
                Ineligible::DisabledAccount,
                Ineligible::Inactive
            ]
        );
        assert!(
            ineligible(&old, now(), 31).len() == 3,
            "31 days back is still active"
        );
        let mut hybrid = device("b", 2);
        hybrid.trust_type = Some("serverad".into());
        assert!(ineligible(&hybrid, now(), 30).is_empty());
    }

    #[test]
    fn the_state_ladder() {
        use Link::{Disables, Enables};
        use StatusSource::{DeviceStatuses, Report};
        let cases: [(
            &[(Link, u8, StatusSource)],
            PolicyState,
            Option<StatusSource>,
        ); 8] = [
            (
                &[(Enables, 2, Report), (Disables, 3, DeviceStatuses)],
                PolicyState::DisabledByPolicy,
                Some(DeviceStatuses),
            ),
            (
                &[(Enables, 5, Report), (Enables, 3, DeviceStatuses)],
                PolicyState::Enabled,
                Some(DeviceStatuses),
            ),
            (
                &[(Disables, 4, Report), (Enables, 6, Report)],
                PolicyState::Error,
                Some(Report),
            ),
            (
                &[(Enables, 0, Report), (Enables, 6, Report)],
                PolicyState::Conflict,
                Some(Report),
            ),
            (
                &[(Enables, 1, Report), (Enables, 0, Report)],
                PolicyState::Pending,
                Some(Report),
            ),
            (
                &[(Enables, 1, Report), (Disables, 7, Report)],
                PolicyState::NotTargeted,
                None,
            ),
            (
                &[(Disables, 2, Report)],
                PolicyState::DisabledByPolicy,
                Some(Report),
            ),
            (&[], PolicyState::NotTargeted, None),
        ];
        for (statuses, state, source) in cases {
            assert_eq!(decide(statuses), (state, source), "{statuses:?}");
        }
    }

    #[test]
    fn names_join_by_user_when_repeated_and_ambiguity_makes_unknown() {
        let inventory = Inventory {
            devices: vec![
                device("PC", 1),
                device("PC", 2),
                device("LAB", 3),
                device("LAB", 4),
                device("SOLO", 5),
            ],
            managed: vec![
                managed("PC", 1, "a@x"),
                managed("PC", 2, "b@x"),
                managed("LAB", 3, "l@x"),
                managed("LAB", 4, "l@x"),
                managed("solo", 5, "s@x"),
            ],
            intune_readable: true,
            policies: vec![policy("p", PolicyKind::Custom, Some(Link::Enables), vec![])],
            policies_complete: true,
            statuses: [(
                "p".to_owned(),
                PolicyStatuses::ByName(
                    [
                        ("pc", "B@X", 2),
                        ("PC", "a@x", 0),
                        ("LAB", "l@x", 2),
                        ("SOLO", "nobody", 2),
                        ("GONE", "g@x", 2),
                    ]
                    .map(|(name, user, code)| NamedStatus {
                        device_name: name.into(),
                        user: Some(user.into()),
                        code,
                    })
                    .to_vec(),
                ),
            )]
            .into(),
        };
        let assessment = assess(&inventory, now(), 30);
        let state = |id: &str| {
            let row = assessment
                .devices
                .iter()
                .find(|d| d.device.device_id.as_deref() == Some(id))
                .unwrap();
            (row.state, row.status_source)
        };
        assert_eq!(
            state("d1"),
            (PolicyState::Pending, Some(StatusSource::DeviceStatuses))
        );
        assert_eq!(
            state("d2"),
            (PolicyState::Enabled, Some(StatusSource::DeviceStatuses))
        );
        assert_eq!(state("d3"), (PolicyState::Unknown, None));
        assert_eq!(state("d4"), (PolicyState::Unknown, None));
        // A unique name joins whatever the user.
        assert_eq!(
            state("d5"),
            (PolicyState::Enabled, Some(StatusSource::DeviceStatuses))
        );
        assert_eq!(assessment.warnings.len(), 2, "{:?}", assessment.warnings);
        assert!(assessment.warnings[0].contains("LAB") && assessment.warnings[1].contains("GONE"));
    }

    #[test]
    fn an_unreadable_link_policy_leaves_only_applied_states() {
        let inventory = Inventory {
            devices: vec![device("A", 1), device("B", 2), device("C", 3)],
            managed: vec![
                managed("A", 1, "a"),
                managed("B", 2, "b"),
                managed("C", 3, "c"),
            ],
            intune_readable: true,
            policies: vec![
                policy(
                    "custom",
                    PolicyKind::Custom,
                    Some(Link::Enables),
                    vec![Blocker::UacOff],
                ),
                policy(
                    "catalog",
                    PolicyKind::SettingsCatalog,
                    Some(Link::Disables),
                    vec![],
                ),
            ],
            policies_complete: true,
            statuses: [
                (
                    "custom".to_owned(),
                    PolicyStatuses::ById([("i1".into(), vec![2]), ("i2".into(), vec![5])].into()),
                ),
                ("catalog".to_owned(), PolicyStatuses::Unreadable),
            ]
            .into(),
        };
        let assessment = assess(&inventory, now(), 30);
        let states: Vec<_> = assessment
            .devices
            .iter()
            .map(|d| (d.state, d.status_source, d.blockers.clone()))
            .collect();
        assert_eq!(
            states,
            [
                (
                    PolicyState::Enabled,
                    Some(StatusSource::Report),
                    vec![Blocker::UacOff]
                ),
                (PolicyState::Unknown, Some(StatusSource::Report), vec![]),
                (PolicyState::Unknown, None, vec![]),
            ]
        );
        let measures: std::collections::HashMap<_, _> = summary(&assessment).into_iter().collect();
        assert_eq!(
            (
                measures["eligible"],
                measures["ready"],
                measures["blocked"],
                measures["policy_unknown"]
            ),
            (3, 0, 1, 2)
        );
    }
}

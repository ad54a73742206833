//! `ssprlens reach` against the simulator's Intune fleet: every device's eligibility, policy
//! state, status source, blockers and readiness, the summary and blockers reports, through the
//! beta report action and through the deviceStatuses fallback, paged, and with Intune absent or
//! permissions missing. Every expected value comes from the fleet's hand-written truth
//! (`src/simulator/fleet.rs`), counted here, never from the program's output.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command as Process;

use ssprlens::simulator::{
    BackgroundSimulator, Expected, Fleet, FleetDevice, IntuneBehaviour, SimulatorConfig,
};

use super::common::{
    assert_no_secret, csv_rows, outcome, sign_in_as_the_simulators_app, simulator,
};

/// A simulator serving the sample fleet in pages of 4, the report in pages of 3 rows.
fn fleet_simulator(intune: IntuneBehaviour) -> (BackgroundSimulator, Fleet) {
    let fleet = Fleet::sample(chrono::Utc::now());
    let sim = simulator(SimulatorConfig {
        fleet: Some(fleet.clone()),
        intune: IntuneBehaviour {
            report_rows_per_page: 3,
            ..intune
        },
        max_page_size: 4,
        ..SimulatorConfig::default()
    });
    (sim, fleet)
}

fn reach(sim: &BackgroundSimulator, extra: &[&str]) -> (i32, String, String) {
    let mut command = Process::new(env!("CARGO_BIN_EXE_ssprlens"));
    command
        .current_dir(super::common::root())
        .args([
            "reach",
            "--graph-url",
            &sim.url(),
            "--authority-host",
            &sim.url(),
        ])
        .args(["--throttle", "100/1s", "--page-size", "5"])
        .args(extra);
    sign_in_as_the_simulators_app(&mut command);
    outcome(command)
}

fn reach_ok(sim: &BackgroundSimulator, extra: &[&str]) -> (String, String) {
    let (code, stdout, stderr) = reach(sim, extra);
    assert_eq!(code, 0, "reach {extra:?} failed: {stderr}");
    assert_no_secret(&[&stdout, &stderr], std::path::Path::new("/nonexistent"));
    (stdout, stderr)
}

/// The rows of a CSV report; an empty text (`""`, as polars quotes it) reads as empty.
fn table_rows(csv: &str) -> Vec<BTreeMap<String, String>> {
    csv_rows(&csv.replace("\"\"", ""))
}

fn windows(fleet: &Fleet) -> Vec<&FleetDevice> {
    fleet.truth.iter().filter(|device| device.windows).collect()
}

fn names(list: &str) -> BTreeSet<String> {
    list.split(';')
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The `devices` CSV against the truth of one path: the same devices, each as expected.
fn assert_devices(csv: &str, fleet: &Fleet, path: impl Fn(&FleetDevice) -> &Expected) {
    let rows = table_rows(csv);
    let by_id: BTreeMap<&str, &BTreeMap<String, String>> = rows
        .iter()
        .map(|row| (row["device_id"].as_str(), row))
        .collect();
    let truth = windows(fleet);
    assert_eq!(rows.len(), truth.len(), "one row per Windows device: {csv}");
    assert_eq!(by_id.len(), truth.len(), "device ids are unique");
    for device in truth {
        let row = by_id
            .get(device.device_id.as_str())
            .unwrap_or_else(|| panic!("{} is missing", device.name));
        let expected = path(device);
        let eligible = device.not_eligible.is_empty();
        let ready = eligible && expected.state == "enabled" && expected.blockers.is_empty();
        let context = format!("{} ({}): {row:?}", device.name, device.device_id);
        assert_eq!(row["name"], device.name, "{context}");
        assert_eq!(row["eligible"], eligible.to_string(), "{context}");
        assert_eq!(
            names(&row["not_eligible"]),
            device.not_eligible.iter().map(|s| s.to_string()).collect(),
            "{context}"
        );
        assert_eq!(row["policy_state"], expected.state, "{context}");
        assert_eq!(row["status_source"], expected.source, "{context}");
        assert_eq!(row["blockers"], expected.blockers.join(";"), "{context}");
        assert_eq!(row["ready"], ready.to_string(), "{context}");
    }
}

/// The summary measures the truth of one path gives.
fn expected_summary(
    fleet: &Fleet,
    path: impl Fn(&FleetDevice) -> &Expected,
) -> BTreeMap<String, u64> {
    let truth = windows(fleet);
    let count =
        |test: &dyn Fn(&FleetDevice) -> bool| truth.iter().filter(|d| test(d)).count() as u64;
    let eligible = |d: &FleetDevice| d.not_eligible.is_empty();
    let mut measures = BTreeMap::new();
    measures.insert("windows_devices".to_owned(), truth.len() as u64);
    measures.insert("eligible".to_owned(), count(&eligible));
    measures.insert(
        "ready".to_owned(),
        count(&|d| eligible(d) && path(d).state == "enabled" && path(d).blockers.is_empty()),
    );
    measures.insert(
        "blocked".to_owned(),
        count(&|d| eligible(d) && path(d).state == "enabled" && !path(d).blockers.is_empty()),
    );
    for reason in ["too_old", "not_joined", "disabled_account", "inactive"] {
        measures.insert(
            reason.to_owned(),
            count(&|d| d.not_eligible.contains(&reason)),
        );
    }
    for (measure, state) in [
        ("policy_unknown", "unknown"),
        ("policy_not_targeted", "not_targeted"),
        ("policy_pending", "pending"),
        ("policy_error", "error"),
        ("policy_conflict", "conflict"),
        ("policy_disabled", "disabled_by_policy"),
    ] {
        measures.insert(
            measure.to_owned(),
            count(&|d| eligible(d) && path(d).state == state),
        );
    }
    measures
}

fn summary_of(csv: &str) -> BTreeMap<String, u64> {
    table_rows(csv)
        .into_iter()
        .map(|row| {
            (
                row["measure"].clone(),
                row["devices"].parse().expect("a count"),
            )
        })
        .collect()
}

#[test]
fn every_device_gets_its_true_state_through_the_report_action() {
    let (sim, fleet) = fleet_simulator(IntuneBehaviour::default());
    let (csv, stderr) = reach_ok(&sim, &["--report", "devices", "--format", "csv"]);
    assert_devices(&csv, &fleet, |device| &device.by_report);
    // Every state the README defines occurs in the fleet.
    let states: BTreeSet<&str> = fleet.truth.iter().map(|d| d.by_report.state).collect();
    assert_eq!(states.len(), 7, "{states:?}");
    // The masked setting is named once; the report action needed no fallback.
    assert_eq!(stderr.matches(fleet.masked_policy).count(), 1, "{stderr}");
    assert!(
        !stderr.contains("getConfigurationPolicyDevicesReport"),
        "{stderr}"
    );
}

#[test]
fn the_summary_counts_what_the_truth_counts() {
    let (sim, fleet) = fleet_simulator(IntuneBehaviour::default());
    let (csv, _) = reach_ok(&sim, &["--report", "summary", "--format", "csv"]);
    assert_eq!(csv.lines().next(), Some("measure,devices"));
    let got = summary_of(&csv);
    assert_eq!(got, expected_summary(&fleet, |device| &device.by_report));
    let policy_rows: u64 = got
        .iter()
        .filter(|(m, _)| m.starts_with("policy_"))
        .map(|(_, n)| n)
        .sum();
    assert_eq!(got["eligible"], got["ready"] + got["blocked"] + policy_rows);
}

#[test]
fn a_refused_report_action_falls_back_to_device_statuses_by_name_and_user() {
    let (sim, fleet) = fleet_simulator(IntuneBehaviour {
        refuse_report: true,
        ..IntuneBehaviour::default()
    });
    let (csv, stderr) = reach_ok(&sim, &["--report", "devices", "--format", "csv"]);
    assert_devices(&csv, &fleet, |device| &device.by_fallback);
    assert_eq!(
        stderr
            .matches("getConfigurationPolicyDevicesReport")
            .count(),
        1,
        "{stderr}"
    );
    assert!(
        stderr.contains("PC-LAB"),
        "the ambiguous name is named: {stderr}"
    );
    let (csv, _) = reach_ok(&sim, &["--format", "csv"]);
    assert_eq!(
        summary_of(&csv),
        expected_summary(&fleet, |device| &device.by_fallback)
    );
}

#[test]
fn blockers_list_each_policy_and_the_eligible_devices_it_reaches() {
    let (sim, fleet) = fleet_simulator(IntuneBehaviour::default());
    let (csv, _) = reach_ok(&sim, &["--report", "blockers", "--format", "csv"]);
    let rows = table_rows(&csv);
    let eligible_with = |blocker: &str, path: &dyn Fn(&FleetDevice) -> &Expected| {
        windows(&fleet)
            .into_iter()
            .filter(|d| d.not_eligible.is_empty() && path(d).blockers.contains(&blocker))
            .count()
            .to_string()
    };
    let by_blocker: BTreeMap<&str, &BTreeMap<String, String>> = rows
        .iter()
        .map(|row| (row["blocker"].as_str(), row))
        .collect();
    assert_eq!(
        by_blocker.len(),
        8,
        "every setting of Microsoft's list: {csv}"
    );
    for (blocker, policy) in [
        ("lock_screen_notifications_off", "Community baseline"),
        ("hide_fast_user_switching", "Device restrictions"),
        ("dont_display_last_user", "Hide last signed-in user"),
    ] {
        let row = by_blocker[blocker];
        assert_eq!(row["policy"], policy, "{row:?}");
        assert_eq!(row["status"], "read", "{row:?}");
        assert_eq!(
            row["eligible_devices"],
            eligible_with(blocker, &|d| &d.by_report),
            "{row:?}"
        );
    }
    for unset in [
        "no_lock_screen",
        "ctrl_alt_del_required",
        "block_non_admin_install",
        "uac_off",
        "custom_shell",
    ] {
        assert_eq!(by_blocker[unset]["status"], "not set", "{csv}");
    }
    // Without the report action the catalog policy's statuses are unknown: counted nowhere.
    let (sim, _) = fleet_simulator(IntuneBehaviour {
        refuse_report: true,
        ..IntuneBehaviour::default()
    });
    let (csv, _) = reach_ok(&sim, &["--report", "blockers", "--format", "csv"]);
    let rows = table_rows(&csv);
    let last_user = rows
        .iter()
        .find(|row| row["blocker"] == "dont_display_last_user")
        .unwrap();
    assert_eq!(last_user["status"], "status unknown");
    assert_eq!(last_user["eligible_devices"], "0");
    let toasts = rows
        .iter()
        .find(|row| row["blocker"] == "lock_screen_notifications_off")
        .unwrap();
    assert_eq!(
        toasts["eligible_devices"],
        eligible_with("lock_screen_notifications_off", &|d| &d.by_fallback)
    );
}

#[test]
fn all_writes_the_three_reports() {
    let (sim, fleet) = fleet_simulator(IntuneBehaviour::default());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("reach");
    reach_ok(&sim, &["--all", "--out", out.to_str().unwrap()]);
    let read = |name: &str| std::fs::read_to_string(out.join(name)).unwrap();
    assert_devices(&read("devices.csv"), &fleet, |device| &device.by_report);
    assert_eq!(
        summary_of(&read("summary.csv")),
        expected_summary(&fleet, |d| &d.by_report)
    );
    assert!(read("blockers.csv").starts_with("blocker,policy,"));
    let json_out = dir.path().join("json");
    reach_ok(
        &sim,
        &[
            "--all",
            "--out",
            json_out.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    let devices: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(json_out.join("devices.json")).unwrap())
            .unwrap();
    assert_eq!(devices.as_array().unwrap().len(), windows(&fleet).len());
}

#[test]
fn a_tenant_without_intune_keeps_every_device_as_unknown() {
    let (sim, fleet) = fleet_simulator(IntuneBehaviour {
        no_intune: true,
        ..IntuneBehaviour::default()
    });
    let (csv, stderr) = reach_ok(&sim, &["--report", "devices", "--format", "csv"]);
    let rows = table_rows(&csv);
    assert_eq!(rows.len(), windows(&fleet).len());
    assert!(
        rows.iter()
            .all(|row| row["policy_state"] == "unknown" && row["status_source"] == "none")
    );
    assert_eq!(stderr.matches("Intune licence").count(), 1, "{stderr}");
}

#[test]
fn missing_permissions_are_named_and_degrade() {
    let (sim, fleet) = fleet_simulator(IntuneBehaviour {
        forbidden: vec!["deviceManagement/managedDevices".into()],
        ..IntuneBehaviour::default()
    });
    let (csv, stderr) = reach_ok(&sim, &["--report", "devices", "--format", "csv"]);
    assert_eq!(table_rows(&csv).len(), windows(&fleet).len());
    assert!(
        table_rows(&csv)
            .iter()
            .all(|row| row["policy_state"] == "unknown")
    );
    assert_eq!(
        stderr
            .matches("DeviceManagementManagedDevices.Read.All")
            .count(),
        1,
        "{stderr}"
    );

    // Without the configurations, only what settings-catalog policies decide is known.
    let (sim, fleet) = fleet_simulator(IntuneBehaviour {
        forbidden: vec!["deviceManagement/deviceConfigurations".into()],
        ..IntuneBehaviour::default()
    });
    let (csv, stderr) = reach_ok(&sim, &["--report", "devices", "--format", "csv"]);
    assert!(
        stderr.contains("DeviceManagementConfiguration.Read.All"),
        "{stderr}"
    );
    let rows = table_rows(&csv);
    let catalog_enabled = rows
        .iter()
        .find(|row| row["name"] == "PC-ENABLED-CATALOG")
        .unwrap();
    assert_eq!(catalog_enabled["policy_state"], "enabled");
    let custom_enabled = rows
        .iter()
        .find(|row| row["name"] == "PC-ENABLED-CUSTOM")
        .unwrap();
    assert_eq!(custom_enabled["policy_state"], "unknown");
    assert_eq!(rows.len(), windows(&fleet).len());

    // Without the devices nothing can be known: exit 5, the permission named.
    let (sim, _) = fleet_simulator(IntuneBehaviour {
        forbidden: vec!["devices".into()],
        ..IntuneBehaviour::default()
    });
    let (code, _, stderr) = reach(&sim, &["--format", "csv"]);
    assert_eq!(code, 5, "{stderr}");
    assert!(
        stderr.contains("Device.Read.All") && stderr.contains("request-id"),
        "{stderr}"
    );
}

#[test]
fn the_summary_puts_weekly_sign_in_screen_resets_beside_ready_devices() {
    let (sim, fleet) = fleet_simulator(IntuneBehaviour::default());
    let input = super::common::sample("audit.ndjson");
    let (csv, _) = reach_ok(
        &sim,
        &["--format", "csv", "--input", input.to_str().unwrap()],
    );
    let ready = expected_summary(&fleet, |d| &d.by_report)["ready"];
    // The trend report (golden-tested on its own) counts the same resets per week.
    let trend = super::common::run_ok(&[
        "report",
        "--input",
        input.to_str().unwrap(),
        "--report",
        "trend",
        "--format",
        "csv",
    ]);
    let weekly: BTreeMap<String, String> = table_rows(&trend)
        .into_iter()
        .filter(|row| row["channel"] == "login_screen")
        .map(|row| (row["period"].clone(), row["completed"].clone()))
        .collect();
    let rows: Vec<_> = table_rows(&csv)
        .into_iter()
        .filter(|row| row["measure"] == "login_screen_resets")
        .collect();
    assert_eq!(rows.len(), weekly.len(), "{csv}");
    for row in rows {
        assert_eq!(row["devices"], ready.to_string());
        assert_eq!(row["login_screen_resets"], weekly[&row["week"]], "{row:?}");
    }
}

//! What lets an analyst prove the numbers: both SSPR services fetched (and the fallback when
//! Graph refuses `or`), the `activities` report, helpdesk resets of other tools beside portal
//! echoes, the unknown warning, `calibrate` and `reconcile`. The fixtures are written here and
//! counted by hand (the comments say how); the sample tenant's numbers come from the
//! generator's ground truth.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command as Process;

use chrono::NaiveDate;
use serde_json::{Value, json};
use ssprlens::simulator::{BackgroundSimulator, SimulatorConfig, sample_records};

use super::common::{
    assert_store_equals_source, csv_rows, fetch, outcome, run, run_ok, sample,
    sign_in_as_the_simulators_app, simulator,
};

const SSPR: &str = "Self-service Password Management";
const AUTH_METHODS: &str = "Authentication Methods";
const CORE: &str = "Core Directory";
const FLOW: &str = "Self-service password reset flow activity progress";
const PORTAL: &str = "Reset password (by admin)";
const DIRECTORY_RESET: &str = "Reset user password";

/// Who initiated a row.
#[derive(Clone, Copy)]
enum By<'a> {
    User(&'a str),
    App(&'a str),
}

/// One audit row as Graph writes it.
#[allow(clippy::too_many_arguments)]
fn row(
    id: &str,
    correlation_id: &str,
    time: &str,
    (service, activity): (&str, &str),
    (result, reason): (&str, &str),
    target: &str,
    by: By<'_>,
    client_type: Option<&str>,
) -> String {
    let initiated_by = match by {
        By::User(upn) => {
            json!({"user": {"userPrincipalName": upn, "ipAddress": "198.51.100.7"}, "app": null})
        }
        By::App(name) => json!({"user": null, "app": {"displayName": name}}),
    };
    let details: Vec<Value> = client_type
        .map(|value| json!({"key": "ClientType", "value": value}))
        .into_iter()
        .collect();
    json!({
        "id": id, "correlationId": correlation_id, "activityDateTime": time,
        "loggedByService": service, "activityDisplayName": activity,
        "result": result, "resultReason": reason,
        "initiatedBy": initiated_by,
        "targetResources": [{"type": "User", "userPrincipalName": target, "id": format!("id-{target}")}],
        "additionalDetails": details,
    })
    .to_string()
}

fn write(dir: &Path, name: &str, lines: &[String]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path.to_str().unwrap().to_owned()
}

/// A self-service reset: a start row and, if `completed`, a success flow row a minute later.
fn self_service(
    id: &str,
    user: &str,
    time: &str,
    client_type: Option<&str>,
    completed: bool,
) -> Vec<String> {
    let mut rows = vec![row(
        &format!("{id}-1"),
        id,
        time,
        (SSPR, FLOW),
        ("success", "User submitted their user ID"),
        user,
        By::User(user),
        client_type,
    )];
    if completed {
        let later = time.replace(":00:00Z", ":01:00Z");
        rows.push(row(
            &format!("{id}-2"),
            id,
            &later,
            (SSPR, FLOW),
            ("success", "User successfully reset password"),
            user,
            By::User(user),
            None,
        ));
    }
    rows
}

#[test]
fn both_services_are_read_in_one_query_or_one_query_each_when_graph_refuses_or() {
    for refuse_or in [false, true] {
        let sim = simulator(SimulatorConfig {
            refuse_or,
            ..SimulatorConfig::default()
        });
        let store = tempfile::tempdir().unwrap();
        let (code, _, stderr) = fetch(&sim, store.path(), &[]);
        assert_eq!(code, 0, "{stderr}");
        // Every record of both services and every Core Directory reset, each once; the
        // channels (with the `Authentication Methods` attempts and the tool resets) as the
        // generator made them.
        assert_store_equals_source(store.path());
        assert_eq!(sim.stats().bad_requests, u64::from(refuse_or), "{stderr}");
        assert_eq!(
            stderr.contains("one query per service instead"),
            refuse_or,
            "{stderr}"
        );
    }
}

#[test]
fn a_repeated_service_option_replaces_the_list() {
    let sim = simulator(SimulatorConfig::default());
    let store = tempfile::tempdir().unwrap();
    let (code, _, stderr) = fetch(&sim, store.path(), &["--service", AUTH_METHODS]);
    assert_eq!(code, 0, "{stderr}");
    let events = run_ok(&[
        "report",
        "--store",
        store.path().to_str().unwrap(),
        "--report",
        "activities",
        "--format",
        "csv",
        "--quiet",
    ]);
    let services: std::collections::BTreeSet<String> = csv_rows(&events)
        .into_iter()
        .map(|row| row["service"].clone())
        .collect();
    assert_eq!(
        services.into_iter().collect::<Vec<_>>(),
        [AUTH_METHODS, CORE],
        "{events}"
    );
}

#[test]
fn the_activities_report_counts_every_service_activity_and_result() {
    let dir = tempfile::tempdir().unwrap();
    let mut lines = self_service("a", "ann@x", "2026-10-05T08:00:00Z", Some("Logon"), true);
    lines.extend(self_service(
        "b",
        "bob@x",
        "2026-10-06T09:00:00Z",
        None,
        false,
    ));
    lines.push(row(
        "c-1",
        "c",
        "2026-10-06T10:00:00Z",
        (AUTH_METHODS, "user started password reset"),
        ("success", ""),
        "cy@x",
        By::User("cy@x"),
        None,
    ));
    lines.push(row(
        "d-1",
        "d",
        "2026-10-07T11:00:00Z",
        (AUTH_METHODS, "User passkey recovery"),
        ("failure", "x"),
        "cy@x",
        By::User("cy@x"),
        None,
    ));
    lines.push(row(
        "d-2",
        "d",
        "2026-10-07T11:05:00Z",
        (AUTH_METHODS, "User passkey recovery"),
        ("failure", "x"),
        "cy@x",
        By::User("cy@x"),
        None,
    ));
    // A copy of a-1: one row.
    lines.push(lines[0].clone());
    let input = write(dir.path(), "audit.ndjson", &lines);
    let csv = run_ok(&[
        "report",
        "--input",
        &input,
        "--report",
        "activities",
        "--format",
        "csv",
        "--quiet",
    ]);
    let rows: Vec<Vec<String>> = csv_rows(&csv)
        .into_iter()
        .map(|row| {
            [
                "service",
                "activity",
                "result",
                "rows",
                "correlation_ids",
                "first",
                "last",
                "interpreted",
            ]
            .iter()
            .map(|column| row[*column].clone())
            .collect()
        })
        .collect();
    let want: Vec<Vec<&str>> = vec![
        // a-1, a-2, b-1: three flow rows of two attempts.
        vec![
            SSPR,
            FLOW,
            "success",
            "3",
            "2",
            "2026-10-05T08:00:00Z",
            "2026-10-06T09:00:00Z",
            "true",
        ],
        vec![
            AUTH_METHODS,
            "User passkey recovery",
            "failure",
            "2",
            "1",
            "2026-10-07T11:00:00Z",
            "2026-10-07T11:05:00Z",
            "false",
        ],
        vec![
            AUTH_METHODS,
            "user started password reset",
            "success",
            "1",
            "1",
            "2026-10-06T10:00:00Z",
            "2026-10-06T10:00:00Z",
            "true",
        ],
    ];
    assert_eq!(rows, want, "{csv}");
}

#[test]
fn the_activities_report_of_the_sample_counts_what_its_records_hold() {
    // Counted with plain code from the sample's records, each id once.
    let mut seen = std::collections::HashSet::new();
    let mut want: BTreeMap<(String, String, String), (u64, std::collections::BTreeSet<String>)> =
        BTreeMap::new();
    for record in sample_records() {
        if !seen.insert(record["id"].as_str().unwrap().to_owned()) {
            continue;
        }
        let text = |name: &str| {
            record[name]
                .as_str()
                .filter(|t| !t.trim().is_empty())
                .unwrap_or("none")
                .to_owned()
        };
        let entry = want
            .entry((
                text("loggedByService"),
                text("activityDisplayName"),
                text("result"),
            ))
            .or_default();
        entry.0 += 1;
        if let Some(corr) = record["correlationId"].as_str() {
            entry.1.insert(corr.to_owned());
        }
    }
    let csv = run_ok(&[
        "report",
        "--input",
        sample("audit.ndjson").to_str().unwrap(),
        "--report",
        "activities",
        "--format",
        "csv",
        "--quiet",
    ]);
    let got: BTreeMap<(String, String, String), (u64, u64)> = csv_rows(&csv)
        .into_iter()
        .map(|row| {
            (
                (
                    row["service"].clone(),
                    row["activity"].clone(),
                    row["result"].clone(),
                ),
                (
                    row["rows"].parse().unwrap(),
                    row["correlation_ids"].parse().unwrap(),
                ),
            )
        })
        .collect();
    let want: BTreeMap<(String, String, String), (u64, u64)> = want
        .into_iter()
        .map(|(key, (rows, ids))| (key, (rows, ids.len() as u64)))
        .collect();
    assert_eq!(got, want);
}

/// Helpdesk rows around Ann's portal reset at 09:00 on 2026-10-05 (hand-counted in the test).
fn helpdesk_rows() -> Vec<String> {
    vec![
        row(
            "p1",
            "p1",
            "2026-10-05T09:00:00Z",
            (SSPR, PORTAL),
            ("success", ""),
            "ann@x",
            By::User("admin@x"),
            None,
        ),
        // Its echo, three minutes later, another correlation id: not another reset.
        row(
            "e1",
            "e1",
            "2026-10-05T09:03:00Z",
            (CORE, DIRECTORY_RESET),
            ("success", ""),
            "ANN@x",
            By::User("admin@x"),
            None,
        ),
        // A helpdesk tool's resets: an app's, and a helpdesk user's twenty minutes after the portal's.
        row(
            "t1",
            "t1",
            "2026-10-05T10:00:00Z",
            (CORE, DIRECTORY_RESET),
            ("success", ""),
            "bob@x",
            By::App("Contoso Helpdesk Tool"),
            None,
        ),
        row(
            "t2",
            "t2",
            "2026-10-05T09:20:00Z",
            (CORE, DIRECTORY_RESET),
            ("success", ""),
            "ann@x",
            By::User("helpdesk@x"),
            None,
        ),
        // A failed tool reset: an attempt, not completed.
        row(
            "t3",
            "t3",
            "2026-10-05T11:00:00Z",
            (CORE, DIRECTORY_RESET),
            ("failure", ""),
            "dan@x",
            By::App("Contoso Helpdesk Tool"),
            None,
        ),
        // The reset service's own rows: side effects of self-service resets.
        row(
            "s1",
            "s1",
            "2026-10-05T12:00:00Z",
            (CORE, DIRECTORY_RESET),
            ("success", ""),
            "cy@x",
            By::User("fim_password_service@support.onmicrosoft.com"),
            None,
        ),
        row(
            "s2",
            "s2",
            "2026-10-05T12:00:00Z",
            (CORE, DIRECTORY_RESET),
            ("success", ""),
            "cy@x",
            By::App("Microsoft password reset service"),
            None,
        ),
        row(
            "s3",
            "s3",
            "2026-10-05T12:00:00Z",
            (CORE, DIRECTORY_RESET),
            ("success", ""),
            "cy@x",
            By::User("Sync_DC01_abc@x"),
            None,
        ),
    ]
}

#[test]
fn tool_resets_count_beside_portal_resets_and_echoes_count_once() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "audit.ndjson", &helpdesk_rows());
    let helpdesk = |extra: &[&str]| {
        let mut args = vec![
            "report",
            "--input",
            input.as_str(),
            "--report",
            "helpdesk",
            "--by",
            "month",
            "--format",
            "csv",
            "--quiet",
        ];
        args.extend(extra);
        let csv = run_ok(&args);
        let row = csv_rows(&csv).remove(0);
        [
            "admin_resets",
            "admin_resets_portal",
            "admin_resets_other_tools",
        ]
        .map(|column| row[column].clone())
    };
    // p1; t1 and t2 (t3 failed); e1 echoes p1; s1..s3 are the service's.
    assert_eq!(helpdesk(&[]), ["3", "1", "2"]);
    let channels = csv_rows(&run_ok(&[
        "report", "--input", &input, "--format", "csv", "--quiet",
    ]));
    let admin = channels
        .iter()
        .find(|row| row["channel"] == "admin")
        .unwrap();
    assert_eq!(
        (admin["attempts"].as_str(), admin["completed"].as_str()),
        ("4", "3")
    );
    // A [reset_service] section replaces the list: now the tool's app is the service, and
    // `fim_password_service@` and `Sync_` are not.
    let rules = dir.path().join("rules.toml");
    std::fs::write(
        &rules,
        "[[rule]]\nchannel = \"web\"\nclient_type = [\"web\"]\n[reset_service]\napps = [\"Contoso Helpdesk Tool\"]\nupn_prefixes = []\n",
    )
    .unwrap();
    // p1; t2, s1, s3 (s2's app is no longer the service either).
    assert_eq!(
        helpdesk(&["--channels", rules.to_str().unwrap()]),
        ["5", "1", "4"]
    );
}

#[test]
fn the_same_rows_make_the_same_helpdesk_resets_from_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let lines = helpdesk_rows();
    let store = dir.path().join("store");
    // Two imports: the portal reset and its echo land in different batches.
    for (name, part) in [("one.ndjson", &lines[..1]), ("two.ndjson", &lines[1..])] {
        let input = write(dir.path(), name, part);
        let (code, _, stderr) = run(&[
            "import",
            "--store",
            store.to_str().unwrap(),
            "--input",
            &input,
        ]);
        assert_eq!(code, 0, "{stderr}");
    }
    let csv = run_ok(&[
        "report",
        "--store",
        store.to_str().unwrap(),
        "--report",
        "helpdesk",
        "--by",
        "month",
        "--format",
        "csv",
        "--quiet",
    ]);
    let row = csv_rows(&csv).remove(0);
    assert_eq!(
        [
            "admin_resets",
            "admin_resets_portal",
            "admin_resets_other_tools"
        ]
        .map(|column| row[column].as_str()),
        ["3", "1", "2"]
    );
}

const TEST_USER: &str = "test.user@contoso.example";

/// The tenant of the calibration tests, counted by hand:
/// - the test user's sign-in-screen reset at 09:00 (client type `LockUI_Reset`) and web reset
///   at 14:00 (`HostedUI_Reset`), both completed, on 2026-10-05;
/// - other users: `LockUI_Reset` three times, `HostedUI_Reset` twice, `Mystery` twice, no
///   client type once, `Logon` once (the built-in rules' login screen);
/// - a second test user whose two resets carry the same value, `SameUI`.
/// Self-service attempts: 2 + 9 + 2 = 13. Under the built-in rules `LockUI_Reset`,
/// `HostedUI_Reset`, `Mystery`, `SameUI` and none are unknown: 12 of 13.
fn calibration_rows() -> Vec<String> {
    let mut lines = Vec::new();
    lines.extend(self_service(
        "login",
        TEST_USER,
        "2026-10-05T09:00:00Z",
        Some("LockUI_Reset"),
        true,
    ));
    lines.extend(self_service(
        "web",
        TEST_USER,
        "2026-10-05T14:00:00Z",
        Some("HostedUI_Reset"),
        true,
    ));
    let others = [
        ("o1", Some("LockUI_Reset")),
        ("o2", Some("LockUI_Reset")),
        ("o3", Some("LockUI_Reset")),
        ("o4", Some("HostedUI_Reset")),
        ("o5", Some("HostedUI_Reset")),
        ("o6", Some("Mystery")),
        ("o7", Some("Mystery")),
        ("o8", None),
        ("o9", Some("Logon")),
    ];
    for (n, (id, client_type)) in others.into_iter().enumerate() {
        let time = format!("2026-10-06T{:02}:00:00Z", 8 + n);
        lines.extend(self_service(
            id,
            &format!("{id}@contoso.example"),
            &time,
            client_type,
            n % 2 == 0,
        ));
    }
    lines.extend(self_service(
        "same1",
        "second@contoso.example",
        "2026-10-07T09:00:00Z",
        Some("SameUI"),
        true,
    ));
    lines.extend(self_service(
        "same2",
        "second@contoso.example",
        "2026-10-07T14:00:00Z",
        Some("SameUI"),
        true,
    ));
    lines
}

#[test]
fn calibrate_learns_the_labelled_values_and_counts_every_attempt_with_them() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "audit.ndjson", &calibration_rows());
    let rules = dir.path().join("rules.toml");
    let rules_path = rules.to_str().unwrap();
    let stdout = run_ok(&[
        "calibrate",
        "--input",
        &input,
        "--user",
        "Test.User@Contoso.example",
        // Seven minutes after the sign-in-screen reset began; the web reset in the short form.
        "--login-screen",
        "2026-10-05T09:07:00Z",
        "--web",
        "2026-10-05T13:50",
        "--out",
        rules_path,
    ]);
    // Shares of the 13 self-service attempts: login_screen = 4 LockUI_Reset + 1 Logon, web =
    // 3 HostedUI_Reset, unknown = 2 Mystery + 1 none + 2 SameUI.
    for line in [
        "login_screen            5   38.5 %",
        "web                     3   23.1 %",
        "unknown                 5   38.5 %",
    ] {
        assert!(stdout.contains(line), "{line}\n{stdout}");
    }
    for line in [
        "       2  `Mystery`",
        "       2  `SameUI`",
        "       1  none",
    ] {
        assert!(stdout.contains(line), "{line}\n{stdout}");
    }
    let text = std::fs::read_to_string(&rules).unwrap();
    assert!(
        text.contains("attempt login begun 2026-10-05T09:00:00Z"),
        "{text}"
    );
    assert!(
        text.contains("attempt web begun 2026-10-05T14:00:00Z"),
        "{text}"
    );
    // The file works as --channels: every attempt with the learnt values is in its channel.
    let channels = csv_rows(&run_ok(&[
        "report",
        "--input",
        &input,
        "--channels",
        rules_path,
        "--format",
        "csv",
        "--quiet",
    ]));
    let count = |channel: &str| {
        let row = channels
            .iter()
            .find(|row| row["channel"] == channel)
            .unwrap();
        (row["attempts"].clone(), row["completed"].clone())
    };
    // Completed: the test user's two, others every second (o1, o3, o5, o7, o9), SameUI's two.
    assert_eq!(count("login_screen"), ("5".into(), "4".into())); // login, o1, o3, o9 completed; o2 not
    assert_eq!(count("web"), ("3".into(), "2".into())); // web, o5 completed; o4 not
    assert_eq!(count("unknown"), ("5".into(), "3".into())); // o7, same1, same2 completed
    // Without --out the rules file goes to standard output, the summary to standard error.
    let (code, stdout, stderr) = run(&[
        "calibrate",
        "--input",
        &input,
        "--user",
        TEST_USER,
        "--login-screen",
        "2026-10-05T09:07:00Z",
        "--web",
        "2026-10-05T13:50",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, text);
    assert!(
        stderr.contains("Self-service reset attempts under these rules (13"),
        "{stderr}"
    );
}

#[test]
fn calibrate_refuses_contradictions_and_labels_without_an_attempt() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "audit.ndjson", &calibration_rows());
    let out = dir.path().join("rules.toml");
    let (code, _, stderr) = run(&[
        "calibrate",
        "--input",
        &input,
        "--user",
        "second@contoso.example",
        "--login-screen",
        "2026-10-07T09:00",
        "--web",
        "2026-10-07T14:00",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("refusing to write rules that contradict the labels"),
        "{stderr}"
    );
    assert!(
        stderr.contains("would land in `login_screen`, not `web`"),
        "{stderr}"
    );
    assert!(!out.exists());
    // 40 minutes from any of the test user's attempts: the error lists that day's.
    let (code, _, stderr) = run(&[
        "calibrate",
        "--input",
        &input,
        "--user",
        TEST_USER,
        "--login-screen",
        "2026-10-05T09:41",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("no reset attempt of test.user@contoso.example began within 30 minutes"),
        "{stderr}"
    );
    assert!(
        stderr
            .contains("2026-10-05T09:00:00Z  client type `LockUI_Reset`  user agent none  (login)"),
        "{stderr}"
    );
    assert!(
        stderr
            .contains("2026-10-05T14:00:00Z  client type `HostedUI_Reset`  user agent none  (web)"),
        "{stderr}"
    );
}

#[test]
fn the_unknown_warning_names_the_share_its_values_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "audit.ndjson", &calibration_rows());
    let (code, stdout, stderr) = run(&[
        "report", "--input", &input, "--report", "summary", "--format", "csv",
    ]);
    assert_eq!(code, 0, "{stderr}");
    // 12 of 13 unknown under the built-in rules; most frequent LockUI_Reset (4), HostedUI_Reset (3), then SameUI and Mystery (2 each, by name).
    assert!(
        stderr
            .contains("92.3 % of self-service reset attempts (12 of 13) land in channel `unknown`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("`LockUI_Reset` (4), `HostedUI_Reset` (3), `Mystery` (2)"),
        "{stderr}"
    );
    assert!(stderr.contains("ssprlens calibrate"), "{stderr}");
    let unknown_share = csv_rows(&stdout)
        .into_iter()
        .find(|row| row["metric"] == "unknown_share")
        .unwrap();
    assert!((unknown_share["value"].parse::<f64>().unwrap() - 12.0 / 13.0).abs() < 1e-12);
    let (code, _, stderr) = run(&["report", "--input", &input, "--unknown-warning", "0.95"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("land in channel `unknown`"), "{stderr}");
}

/// `ssprlens reconcile` of the sample tenant against `sim`.
fn reconcile(sim: &BackgroundSimulator, extra: &[&str]) -> (i32, String, String) {
    let (url, input) = (sim.url(), sample("audit.ndjson"));
    let mut command = Process::new(env!("CARGO_BIN_EXE_ssprlens"));
    command
        .args(["reconcile", "--input", input.to_str().unwrap()])
        .args([
            "--graph-url",
            url.as_str(),
            "--authority-host",
            url.as_str(),
            "--throttle",
            "50/1s",
        ])
        .args(extra);
    sign_in_as_the_simulators_app(&mut command);
    outcome(command)
}

#[test]
fn reconcile_marks_exactly_the_day_microsoft_disagrees_on() {
    let day = NaiveDate::from_ymd_opt(2026, 10, 14).unwrap();
    let sim = simulator(SimulatorConfig {
        summary_disagreements: vec![(day, 0, 3)],
        summary_numbers_as_strings: true,
        summary_page_days: 10,
        ..SimulatorConfig::default()
    });
    let (code, stdout, stderr) = reconcile(&sim, &["--format", "csv"]);
    assert_eq!(code, 0, "{stderr}");
    let rows = csv_rows(&stdout);
    assert!(rows.len() > 30, "{stdout}");
    for row in &rows {
        let disagreeing = row["day"] == "2026-10-14";
        assert_eq!(
            row["status"],
            if disagreeing { "check" } else { "ok" },
            "{row:?}"
        );
        assert_eq!(
            row["ours_self_service"], row["microsoft_self_service"],
            "{row:?}"
        );
        if !disagreeing {
            assert_eq!(row["ours_admin"], row["microsoft_admin"], "{row:?}");
        }
    }
    assert!(stderr.contains("1 of "), "{stderr}");
    // The completed self-service resets over all days are the generator's.
    let completed: u64 = rows
        .iter()
        .map(|row| row["ours_self_service"].parse::<u64>().unwrap())
        .sum();
    let truth = super::truth::attempts();
    let want = truth
        .iter()
        .filter(|a| a.kind == "reset" && a.completed)
        .count() as u64;
    assert_eq!(completed, want);
    let (code, _, stderr) = reconcile(&sim, &["--strict", "--format", "json"]);
    assert_eq!(code, 4, "{stderr}");
    let (code, stdout, _) = reconcile(&sim, &["--format", "markdown"]);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("| 2026-10-14 |") && stdout.contains("1 of "),
        "{stdout}"
    );
}

#[test]
fn demo_shows_the_trust_checks() {
    let (code, stdout, stderr) = run(&["demo"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("Our daily counts beside Microsoft's"),
        "{stdout}"
    );
    assert!(stdout.contains("check"), "{stdout}");
    assert!(stderr.contains("land in channel `unknown`"), "{stderr}");
}

/// The sample's records of Core Directory and `Authentication Methods`: what this issue's
/// fetch adds. A guard that the sample exercises every new rule.
#[test]
fn the_sample_has_rows_of_every_new_kind() {
    let records = sample_records();
    let has = |service: &str, activity: &str| {
        records.iter().any(|r| {
            r["loggedByService"] == service
                && r["activityDisplayName"]
                    .as_str()
                    .is_some_and(|a| a.eq_ignore_ascii_case(activity))
        })
    };
    assert!(has(AUTH_METHODS, "User started password reset"));
    assert!(has(AUTH_METHODS, "Admin started password reset"));
    assert!(has(AUTH_METHODS, "User started password change"));
    assert!(has(CORE, DIRECTORY_RESET));
}

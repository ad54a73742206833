//! The analysis reports (funnel, trend, ips, users, helpdesk) on the sample tenant, against
//! numbers computed from the generator's ground truth (`attempts.truth.csv`) with the plain code
//! of `truth.rs`; the README's helpdesk command; periods in other time zones; windows and
//! channel rules.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Duration, NaiveDate};

use super::common::{csv_rows, run, run_ok, sample};
use super::truth::{
    self, Truth, after_hours, final_state, monday, most_resets_in_24h, network, new_for_user,
    step_rank,
};

const SELF_SERVICE_CHANNELS: [&str; 4] = ["login_screen", "web", "other", "unknown"];
const DROP_OFFS: [&str; 9] = [
    "cancelled",
    "blocked",
    "insufficient_methods",
    "not_enabled",
    "onprem_failure",
    "banned_password",
    "contacted_admin",
    "other_failure",
    "no_outcome",
];

fn number(cell: &str) -> f64 {
    cell.parse()
        .unwrap_or_else(|_| panic!("`{cell}` is not a number"))
}

fn assert_close(got: &str, want: f64, what: &str) {
    assert!(
        (number(got) - want).abs() < 1e-9,
        "{what}: got {got}, want {want}"
    );
}

/// Rows of a report CSV keyed by the values of `key` columns.
fn keyed(text: &str, key: &[&str]) -> BTreeMap<Vec<String>, BTreeMap<String, String>> {
    csv_rows(text)
        .into_iter()
        .map(|row| (key.iter().map(|k| row[*k].clone()).collect(), row))
        .collect()
}

/// Checks a funnel CSV against attempts (`channel` → its reset attempts).
fn assert_funnel(csv: &str, by_channel: &BTreeMap<&str, Vec<&Truth>>) {
    let rows = keyed(csv, &["channel"]);
    assert_eq!(
        rows.keys().map(|k| k[0].as_str()).collect::<BTreeSet<_>>(),
        by_channel.keys().copied().collect(),
        "{csv}"
    );
    for (channel, attempts) in by_channel {
        let row = &rows[&vec![channel.to_string()]];
        let reached = |rank| {
            attempts
                .iter()
                .filter(|a| step_rank(&a.max_step) >= rank)
                .count()
        };
        let want = [
            ("attempts", attempts.len()),
            ("shown_options", reached(1)),
            ("verified", reached(2)),
            ("submitted_password", reached(3)),
            ("completed", attempts.iter().filter(|a| a.completed).count()),
        ];
        for (column, count) in want {
            assert_eq!(row[column], count.to_string(), "{channel} {column}\n{csv}");
        }
        assert_eq!(reached(4).to_string(), row["completed"], "{channel}");
        for state in DROP_OFFS {
            let count = attempts
                .iter()
                .filter(|a| !a.completed && final_state(&a.outcome) == state)
                .count();
            assert_eq!(row[state], count.to_string(), "{channel} {state}\n{csv}");
        }
    }
}

fn resets_by_channel<'a>(
    attempts: &'a [Truth],
    channels: &[&'a str],
) -> BTreeMap<&'a str, Vec<&'a Truth>> {
    channels
        .iter()
        .map(|channel| {
            (
                *channel,
                attempts
                    .iter()
                    .filter(|a| a.kind == "reset" && a.channel == *channel)
                    .collect(),
            )
        })
        .collect()
}

/// Checks a trend CSV: every (period, channel) row has the truth's counts, periods given by
/// `period_of`, and every period between the first and last attempt's is there.
fn assert_trend(csv: &str, attempts: &[Truth], period_of: impl Fn(&Truth) -> String) {
    let mut want: BTreeMap<(String, String), (usize, usize)> = BTreeMap::new();
    for attempt in attempts.iter().filter(|a| a.kind != "unlock") {
        let counts = want
            .entry((period_of(attempt), attempt.channel.clone()))
            .or_default();
        counts.0 += 1;
        counts.1 += usize::from(attempt.completed);
    }
    let rows = csv_rows(csv);
    let mut seen = BTreeSet::new();
    for row in &rows {
        let key = (row["period"].clone(), row["channel"].clone());
        let (attempts, completed) = want.get(&key).copied().unwrap_or_default();
        assert_eq!(row["attempts"], attempts.to_string(), "{key:?}");
        assert_eq!(row["completed"], completed.to_string(), "{key:?}");
        seen.insert(key);
    }
    for key in want.keys() {
        assert!(seen.contains(key), "{key:?} missing");
    }
    let periods: BTreeSet<String> = attempts.iter().map(&period_of).collect();
    let listed: BTreeSet<String> = rows.iter().map(|row| row["period"].clone()).collect();
    assert!(listed.is_superset(&periods));
    assert_eq!(
        rows.len(),
        listed.len() * 5,
        "every period has every channel"
    );
}

#[test]
fn the_done_when_command_writes_every_report_with_the_truths_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("reports");
    run_ok(&[
        "report",
        "--input",
        sample("audit.ndjson").to_str().unwrap(),
        "--channels",
        "data/channels.toml",
        "--all",
        "--by",
        "week",
        "--rollout-date",
        "2026-10-15",
        "--deflection",
        "0.8",
        "--cost-helpdesk",
        "60",
        "--cost-self-service",
        "2",
        "--format",
        "csv",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    let mut files: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "channels",
            "client_types",
            "funnel",
            "helpdesk",
            "helpdesk_rollout",
            "ips",
            "summary",
            "trend",
            "unlocks",
            "users"
        ]
        .map(|name| format!("{name}.csv"))
    );
    let read = |name: &str| std::fs::read_to_string(out.join(format!("{name}.csv"))).unwrap();
    let attempts = truth::attempts();

    assert_funnel(
        &read("funnel"),
        &resets_by_channel(&attempts, &SELF_SERVICE_CHANNELS),
    );
    assert_trend(&read("trend"), &attempts, |a| {
        monday(a.first_time.date_naive()).to_string()
    });

    // helpdesk, per week
    let savings_per_reset = 0.8 * (60.0 - 2.0);
    let helpdesk = keyed(&read("helpdesk"), &["period"]);
    let mut total_self_service = 0;
    for (key, row) in &helpdesk {
        let week = |a: &&Truth| monday(a.first_time.date_naive()).to_string() == key[0];
        let count = |keep: &dyn Fn(&Truth) -> bool| {
            attempts.iter().filter(week).filter(|a| keep(a)).count()
        };
        let self_service = count(&|a| a.kind == "reset" && a.completed);
        total_self_service += self_service;
        assert_eq!(
            row["self_service_completed"],
            self_service.to_string(),
            "{key:?}"
        );
        assert_eq!(
            row["login_screen_completed"],
            count(&|a| a.kind == "reset" && a.completed && a.channel == "login_screen").to_string()
        );
        assert_eq!(
            row["admin_resets"],
            count(&|a| a.kind == "admin" && a.completed).to_string()
        );
        assert_eq!(
            row["contacted_admin"],
            count(&|a| a.kind == "reset" && a.outcome == "contacted_admin").to_string()
        );
        assert_close(
            &row["estimated_calls_avoided"],
            self_service as f64 * 0.8,
            "calls",
        );
        assert_close(
            &row["estimated_savings"],
            self_service as f64 * savings_per_reset,
            "savings",
        );
        assert_eq!(
            (row["deflection"].as_str(), row["currency"].as_str()),
            ("0.8", "USD")
        );
    }
    let all_self_service = attempts
        .iter()
        .filter(|a| a.kind == "reset" && a.completed)
        .count();
    assert_eq!(total_self_service, all_self_service);

    // helpdesk_rollout: weekly averages over the days before and from 2026-10-15
    let rollout = NaiveDate::from_ymd_opt(2026, 10, 15).unwrap();
    let first = attempts
        .iter()
        .map(|a| a.first_time.date_naive())
        .min()
        .unwrap();
    let last = attempts
        .iter()
        .map(|a| a.first_time.date_naive())
        .max()
        .unwrap();
    let before_weeks = (rollout - first).num_days() as f64 / 7.0;
    let after_weeks = ((last - rollout).num_days() + 1) as f64 / 7.0;
    let rollout_rows = keyed(&read("helpdesk_rollout"), &["measure"]);
    for (measure, keep) in [
        (
            "admin_resets",
            &(|a: &Truth| a.kind == "admin" && a.completed) as &dyn Fn(&Truth) -> bool,
        ),
        ("self_service_completed", &|a: &Truth| {
            a.kind == "reset" && a.completed
        }),
        ("login_screen_completed", &|a: &Truth| {
            a.kind == "reset" && a.completed && a.channel == "login_screen"
        }),
        ("contacted_admin", &|a: &Truth| {
            a.kind == "reset" && a.outcome == "contacted_admin"
        }),
    ] {
        let row = &rollout_rows[&vec![measure.to_owned()]];
        let before = attempts
            .iter()
            .filter(|a| keep(a) && a.first_time.date_naive() < rollout)
            .count();
        let after = attempts
            .iter()
            .filter(|a| keep(a) && a.first_time.date_naive() >= rollout)
            .count();
        assert_eq!(
            (row["before_total"].as_str(), row["after_total"].as_str()),
            (before.to_string().as_str(), after.to_string().as_str()),
            "{measure}"
        );
        assert_close(
            &row["before_per_week"],
            before as f64 / before_weeks,
            measure,
        );
        assert_close(&row["after_per_week"], after as f64 / after_weeks, measure);
    }

    // users, with the default thresholds and working hours
    let users = keyed(&read("users"), &["user"]);
    let mut want_users = BTreeSet::new();
    let people: BTreeSet<&str> = attempts
        .iter()
        .filter(|a| a.kind != "admin")
        .map(|a| a.user.as_str())
        .collect();
    for user in people {
        let own: Vec<&Truth> = attempts
            .iter()
            .filter(|a| a.kind != "admin" && a.user == user)
            .collect();
        let after = own.iter().filter(|a| after_hours(a.first_time)).count();
        let blocked = own.iter().filter(|a| a.outcome == "blocked").count();
        let methods = own
            .iter()
            .filter(|a| a.outcome == "insufficient_methods")
            .count();
        let most = most_resets_in_24h(&attempts, user);
        if most >= 2 || after + blocked + methods > 0 {
            want_users.insert(user.to_owned());
            let row = &users[&vec![user.to_owned()]];
            for (column, count) in [
                ("attempts", own.len()),
                ("after_hours", after),
                ("blocked", blocked),
                ("insufficient_methods", methods),
                ("most_resets_in_24h", most),
            ] {
                assert_eq!(row[column], count.to_string(), "{user} {column}");
            }
            assert_eq!(row["repeat_resets"], (most >= 2).to_string(), "{user}");
        }
    }
    assert_eq!(
        users.keys().map(|k| k[0].clone()).collect::<BTreeSet<_>>(),
        want_users
    );

    // ips: addresses and networks of self-service attempts, threshold 5 users
    let ips = keyed(&read("ips"), &["scope", "ip"]);
    let new_ips = new_for_user(&attempts);
    let mut flagged_addresses = 0;
    for (scope, key_of) in [
        (
            "address",
            &(|a: &Truth| a.ip.clone()) as &dyn Fn(&Truth) -> String,
        ),
        ("network", &|a: &Truth| network(&a.ip)),
    ] {
        let mut groups: BTreeMap<String, Vec<&Truth>> = BTreeMap::new();
        for attempt in attempts
            .iter()
            .filter(|a| a.kind != "admin" && !a.ip.is_empty())
        {
            groups.entry(key_of(attempt)).or_default().push(attempt);
        }
        assert_eq!(
            ips.keys().filter(|k| k[0] == scope).count(),
            groups.len(),
            "{scope}"
        );
        for (ip, group) in groups {
            let row = &ips[&vec![scope.to_owned(), ip.clone()]];
            let users: BTreeSet<&str> = group.iter().map(|a| a.user.as_str()).collect();
            let new = group
                .iter()
                .filter(|a| new_ips[&a.id] == Some(true))
                .count();
            assert_eq!(row["attempts"], group.len().to_string(), "{ip}");
            assert_eq!(
                row["completed"],
                group.iter().filter(|a| a.completed).count().to_string(),
                "{ip}"
            );
            assert_eq!(row["users"], users.len().to_string(), "{ip}");
            assert_eq!(row["new_for_user"], new.to_string(), "{ip}");
            assert_eq!(row["many_users"], (users.len() >= 5).to_string(), "{ip}");
            flagged_addresses += usize::from(scope == "address" && users.len() >= 5);
        }
    }
    assert!(
        ips.contains_key(&vec!["address".to_owned(), "192.0.2.66".to_owned()]),
        "the burst IP"
    );

    // summary
    let summary = keyed(&read("summary"), &["metric"]);
    let value = |metric: &str| number(&summary[&vec![metric.to_owned()]]["value"]);
    let resets: Vec<&Truth> = attempts.iter().filter(|a| a.kind == "reset").collect();
    assert_eq!(value("attempts"), resets.len() as f64);
    assert_eq!(value("completed"), all_self_service as f64);
    assert_eq!(
        value("admin_resets"),
        attempts
            .iter()
            .filter(|a| a.kind == "admin" && a.completed)
            .count() as f64
    );
    assert_eq!(value("flagged_ips"), flagged_addresses as f64);
    assert_eq!(value("flagged_users"), want_users.len() as f64);
    assert!(
        (value("estimated_savings") - all_self_service as f64 * savings_per_reset).abs() < 1e-6
    );
}

#[test]
fn periods_follow_the_time_zone_and_the_period_length() {
    let input = sample("audit.ndjson");
    let attempts = truth::attempts();
    let trend = |by: &str, tz: &str| {
        run_ok(&[
            "report",
            "--input",
            input.to_str().unwrap(),
            "--report",
            "trend",
            "--by",
            by,
            "--tz",
            tz,
            "--format",
            "csv",
            "--quiet",
        ])
    };
    // Etc/GMT-14 is UTC+14 all year.
    assert_trend(&trend("day", "Etc/GMT-14"), &attempts, |a| {
        (a.first_time + Duration::hours(14))
            .date_naive()
            .to_string()
    });
    // New York: EDT (UTC-4) until 2026-11-01 06:00 UTC, then EST (UTC-5). The attempt at
    // 2026-10-01T00:00:00Z belongs to September there.
    let dst_ends = chrono::DateTime::parse_from_rfc3339("2026-11-01T06:00:00Z")
        .unwrap()
        .to_utc();
    let new_york_month = |a: &Truth| {
        let offset = if a.first_time < dst_ends { 4 } else { 5 };
        let day = (a.first_time - Duration::hours(offset)).date_naive();
        format!("{}-01", &day.to_string()[..7])
    };
    assert!(
        attempts
            .iter()
            .any(|a| a.first_time.to_rfc3339().starts_with("2026-10-01T00:00:00"))
    );
    assert_trend(
        &trend("month", "America/New_York"),
        &attempts,
        new_york_month,
    );
}

#[test]
fn windows_and_channel_rules_apply_to_the_new_reports() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.toml");
    std::fs::write(
        &rules,
        "[[rule]]\nchannel = \"desk\"\nclient_type = [\"logon\", \"credential\"]\n",
    )
    .unwrap();
    let csv = run_ok(&[
        "report",
        "--input",
        sample("audit.ndjson").to_str().unwrap(),
        "--report",
        "funnel",
        "--channels",
        rules.to_str().unwrap(),
        "--since",
        "2026-10-15",
        "--until",
        "2026-10-31",
        "--format",
        "csv",
        "--quiet",
    ]);
    let since = chrono::DateTime::parse_from_rfc3339("2026-10-15T00:00:00Z")
        .unwrap()
        .to_utc();
    let until = chrono::DateTime::parse_from_rfc3339("2026-11-01T00:00:00Z")
        .unwrap()
        .to_utc();
    let attempts: Vec<Truth> = truth::attempts()
        .into_iter()
        .filter(|a| a.first_time >= since && a.first_time < until)
        .map(|a| Truth {
            channel: if a.channel == "login_screen" {
                "desk".into()
            } else {
                "unknown".into()
            },
            ..a
        })
        .collect();
    assert_funnel(&csv, &resets_by_channel(&attempts, &["desk", "unknown"]));
}

#[test]
fn report_flags_are_checked() {
    let input = sample("audit.ndjson");
    let input = input.to_str().unwrap();
    for (flags, want) in [
        (vec!["--tz", "Mars/Olympus"], "not an IANA time zone"),
        (vec!["--rollout-date", "15.10.2026"], "--rollout-date"),
        (vec!["--deflection", "1.5"], "--deflection"),
        (vec!["--cost-helpdesk=-3"], "--cost-helpdesk"),
        (vec!["--working-hours", "9-5"], "working hours"),
        (vec!["--working-days", "weekdays"], "working days"),
        (vec!["--ip-users", "0"], "--ip-users"),
        (vec!["--all"], "--out"),
        (
            vec!["--format", "html", "--query", "queries/funnel.sql"],
            "html",
        ),
    ] {
        let (code, _, stderr) = run(&[&["report", "--input", input][..], &flags].concat());
        assert_eq!(code, 2, "{flags:?}: {stderr}");
        assert!(stderr.contains(want), "{flags:?}: {stderr}");
    }
}

#[test]
fn the_terminal_table_shows_the_assumptions_and_the_rollout_comparison() {
    let table = run_ok(&[
        "report",
        "--input",
        sample("audit.ndjson").to_str().unwrap(),
        "--report",
        "helpdesk",
        "--rollout-date",
        "2026-10-15",
        "--quiet",
    ]);
    for text in [
        "Microsoft's account-recovery cost estimator ($60 per helpdesk recovery",
        "Forrester",
        "($2 per self-service recovery)",
        "deflection 1 (default: every completed self-service reset counts as one call avoided",
        "before_per_week",
        "Login-screen rollout: 2026-10-15",
    ] {
        assert!(table.contains(text), "{text}\n{table}");
    }
    let csv = run_ok(&[
        "report",
        "--input",
        sample("audit.ndjson").to_str().unwrap(),
        "--report",
        "helpdesk",
        "--format",
        "csv",
        "--quiet",
    ]);
    assert!(
        !csv.contains("Forrester") && !csv.contains("before_per_week"),
        "{csv}"
    );
}

/// A report alone computes only what it reads (the new-IP flags only for the reports that read
/// them); `--all` computes everything. Every report must come out the same both ways.
#[test]
fn every_report_alone_equals_its_file_of_all_reports() {
    let input = sample("audit.ndjson");
    let input = input.to_str().unwrap();
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap();
    run_ok(&["report", "--input", input, "--all", "--out", dir, "--quiet"]);
    // `activities` reads every event, so --all leaves it out.
    let mut names: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter_map(|file| file.strip_suffix(".csv").map(str::to_owned))
        .collect();
    names.sort();
    assert_eq!(names.len(), 10, "{names:?}");
    assert!(!names.iter().any(|name| name == "activities"), "{names:?}");
    for name in &names {
        let alone = run_ok(&[
            "report", "--input", input, "--report", name, "--format", "csv", "--quiet",
        ]);
        let of_all = std::fs::read_to_string(out.path().join(format!("{name}.csv"))).unwrap();
        assert_eq!(alone, of_all, "{name}");
    }
    // The flags matter on this input: without them `ips` would differ.
    let ips = std::fs::read_to_string(out.path().join("ips.csv")).unwrap();
    assert!(
        csv_rows(&ips).iter().any(|row| row["new_for_user"] != "0"),
        "{ips}"
    );
}

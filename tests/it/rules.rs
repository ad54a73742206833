//! Channel rules from a file replace the built-in ones.

use super::common::{csv_by_first_column, run, run_ok, sample, truth};

#[test]
fn a_rules_file_replaces_the_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.toml");
    // Everything the built-in rules call login_screen or other becomes `windows`; web stays unmapped.
    std::fs::write(&rules, "[[rule]]\nchannel = \"windows\"\nclient_type = [\"logon\", \"credentialprovider\", \"mobile\", \"app\"]\n").unwrap();
    let csv = run_ok(&[
        "report",
        "--input",
        sample("audit.ndjson").to_str().unwrap(),
        "--channels",
        rules.to_str().unwrap(),
        "--format",
        "csv",
        "--quiet",
    ]);
    let rows = csv_by_first_column(&csv);
    let channels: Vec<&str> = rows.keys().map(String::as_str).collect();
    assert_eq!(channels, ["admin", "unknown", "windows"]);
    let truth = truth();
    let count = |channel: &str| truth["channels"][channel]["attempts"].as_u64().unwrap_or(0);
    assert_eq!(
        rows["windows"]["attempts"],
        (count("login_screen") + count("other")).to_string()
    );
    assert_eq!(
        rows["unknown"]["attempts"],
        (count("web") + count("unknown")).to_string()
    );
}

#[test]
fn invalid_rules_are_a_usage_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.toml");
    std::fs::write(
        &rules,
        "[[rule]]\nchannel = \"admin\"\nclient_type = [\"x\"]\n",
    )
    .unwrap();
    let (code, _, stderr) = run(&[
        "report",
        "--input",
        sample("audit.ndjson").to_str().unwrap(),
        "--channels",
        rules.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("rules.toml") && stderr.contains("reserved"),
        "{stderr}"
    );
}

#[test]
fn the_rules_command_prints_the_builtin_rules() {
    let text = run_ok(&["rules"]);
    assert_eq!(
        text,
        std::fs::read_to_string(super::common::root().join("data/channels.toml")).unwrap()
    );
}

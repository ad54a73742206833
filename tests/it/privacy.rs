//! `--pseudonymize`: no user name, user id, display name or IP address of the input in any report
//! or export, the counts unchanged, and pseudonyms that are the documented HMAC — recomputed here
//! with Python's `hmac` module, an implementation independent of the one ssprlens uses.

use std::collections::BTreeSet;
use std::fs::File;
use std::net::IpAddr;
use std::path::Path;
use std::process::Command as Process;

use polars::prelude::*;
use serde_json::Value;

use ssprlens::simulator::SimulatorConfig;

use super::common::{graph_command_at, run_ok, sample, simulator, ssprlens};

const KEY: &str = "a0f3c1d9e8b7a6f5e4d3c2b1a0987654";
const KEY_VARIABLE: &str = "SSPRLENS_PSEUDONYM_KEY";

/// The people and addresses of the sample tenant, as found in the input and as ssprlens
/// writes addresses (canonical form).
fn identifiers() -> BTreeSet<String> {
    let text = std::fs::read_to_string(sample("audit.ndjson")).unwrap();
    let mut found = BTreeSet::new();
    let mut keep = |value: &Value| {
        if let Some(text) = value.as_str().filter(|text| text.len() >= 4) {
            found.insert(text.to_owned());
            if let Ok(ip) = text.trim().parse::<IpAddr>() {
                found.insert(ip.to_string());
            }
        }
    };
    for line in text.lines() {
        let Ok(record) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let user = &record["initiatedBy"]["user"];
        for field in ["id", "displayName", "userPrincipalName", "ipAddress"] {
            keep(&user[field]);
        }
        for target in record["targetResources"].as_array().into_iter().flatten() {
            for field in ["id", "displayName", "userPrincipalName"] {
                keep(&target[field]);
            }
        }
    }
    assert!(found.len() > 100, "the sample has people: {}", found.len());
    found
}

/// `ssprlens report` on the sample with the key in the environment; insists on success.
fn pseudonymized(args: &[&str]) -> String {
    let output = ssprlens()
        .args([
            "report",
            "--input",
            sample("audit.ndjson").to_str().unwrap(),
        ])
        .args(["--pseudonymize"])
        .args(args)
        .env(KEY_VARIABLE, KEY)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{args:?}: {stderr}");
    assert!(!stderr.contains(KEY), "the key is never shown");
    String::from_utf8(output.stdout).unwrap()
}

/// Every cell of a Parquet file as text, one line per row.
fn parquet_text(path: &Path) -> String {
    let frame = ParquetReader::new(File::open(path).unwrap())
        .finish()
        .unwrap();
    let mut text = String::new();
    for row in 0..frame.height() {
        for column in frame.columns() {
            text.push_str(&column.get(row).unwrap().to_string());
            text.push('\t');
        }
        text.push('\n');
    }
    text
}

/// The pseudonym of `value`, by Python's hmac and hashlib.
fn python_pseudonym(kind: &str, value: &str) -> String {
    let script = "import hmac, hashlib, sys\n\
                  kind, value, key = sys.argv[1:4]\n\
                  mac = hmac.new(key.encode(), kind.encode() + b'\\0' + value.encode(), hashlib.sha256)\n\
                  print(kind + '-' + mac.hexdigest()[:20])";
    let output = Process::new("python3")
        .args(["-c", script, kind, value, KEY])
        .output()
        .expect("python3 runs (the generator check needs it too)");
    assert!(output.status.success());
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

#[test]
fn no_person_or_address_reaches_any_report_or_export() {
    let dir = tempfile::tempdir().unwrap();
    let mut outputs = Vec::new();
    for format in ["csv", "json", "markdown", "html", "parquet"] {
        let out = dir.path().join(format);
        pseudonymized(&["--all", "--out", out.to_str().unwrap(), "--format", format]);
        for entry in std::fs::read_dir(&out).unwrap() {
            let path = entry.unwrap().path();
            let text = match format {
                "parquet" => parquet_text(&path),
                _ => std::fs::read_to_string(&path).unwrap(),
            };
            outputs.push((path, text));
        }
    }
    let query = dir.path().join("everything.sql");
    std::fs::write(
        &query,
        "SELECT e.*, a.* FROM events e LEFT JOIN attempts a ON e.correlation_id = a.attempt_id",
    )
    .unwrap();
    let everything = pseudonymized(&["--query", query.to_str().unwrap(), "--format", "csv"]);
    assert!(everything.lines().count() > 500, "the query saw the events");
    outputs.push((query, everything));
    outputs.push(("terminal".into(), pseudonymized(&["--report", "users"])));
    assert_eq!(outputs.len(), 10 * 4 + 1 + 2);

    let identifiers = identifiers();
    for (path, text) in &outputs {
        for identifier in &identifiers {
            assert!(
                !text.contains(identifier.as_str()),
                "{} shows `{identifier}`",
                path.display()
            );
        }
        assert!(!text.contains(KEY), "{} shows the key", path.display());
    }
}

#[test]
fn the_scheduled_run_pseudonymises_every_report_it_writes() {
    let sim = simulator(SimulatorConfig::default());
    let dir = tempfile::tempdir().unwrap();
    let (store, out) = (dir.path().join("store"), dir.path().join("reports"));
    let output = graph_command_at(
        "run",
        &sim.url(),
        &sim.url(),
        &store,
        &["--out", out.to_str().unwrap(), "--pseudonymize"],
    )
    .env(KEY_VARIABLE, KEY)
    .output()
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let users = std::fs::read_to_string(out.join("users.csv")).unwrap();
    assert!(
        users.contains(&python_pseudonym("user", "anna.tanaka@contoso.example")),
        "{users}"
    );
    let identifiers = identifiers();
    for entry in std::fs::read_dir(&out).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for identifier in &identifiers {
            assert!(
                !text.contains(identifier.as_str()),
                "{} shows `{identifier}`",
                path.display()
            );
        }
    }
}

#[test]
fn pseudonyms_are_the_keyed_hmac_and_the_counts_do_not_change() {
    let users = pseudonymized(&["--report", "users", "--format", "csv"]);
    let anna = python_pseudonym("user", "anna.tanaka@contoso.example");
    assert!(users.contains(&anna), "{anna} not in\n{users}");

    let plain = run_ok(&[
        "report",
        "--input",
        sample("audit.ndjson").to_str().unwrap(),
        "--format",
        "csv",
    ]);
    assert_eq!(pseudonymized(&["--format", "csv"]), plain);

    // The same key in a file gives the same pseudonyms; another key, other ones.
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("key");
    std::fs::write(&key_file, format!("{KEY}\n")).unwrap();
    let from_file = ssprlens()
        .args([
            "report",
            "--input",
            sample("audit.ndjson").to_str().unwrap(),
        ])
        .args(["--report", "users", "--format", "csv", "--pseudonymize"])
        .args(["--pseudonym-key-file", key_file.to_str().unwrap()])
        .env_remove(KEY_VARIABLE)
        .output()
        .unwrap();
    assert!(from_file.status.success());
    assert_eq!(String::from_utf8(from_file.stdout).unwrap(), users);
    let other_key = ssprlens()
        .args([
            "report",
            "--input",
            sample("audit.ndjson").to_str().unwrap(),
        ])
        .args(["--report", "users", "--format", "csv", "--pseudonymize"])
        .env(KEY_VARIABLE, "another key, 16 bytes or more")
        .output()
        .unwrap();
    let other_key = String::from_utf8(other_key.stdout).unwrap();
    assert!(!other_key.contains(&anna));
    assert_eq!(other_key.lines().count(), users.lines().count());
}

#[test]
fn networks_are_kept_only_when_asked() {
    let address = "192.0.2.88";
    let network = "192.0.2.0/24";
    let ips = pseudonymized(&["--report", "ips", "--format", "csv"]);
    assert!(!ips.contains(network) && !ips.contains(address), "{ips}");
    assert!(ips.contains(&python_pseudonym("ip", address)), "{ips}");
    assert!(ips.contains(&python_pseudonym("net", network)), "{ips}");

    let kept = pseudonymized(&["--report", "ips", "--format", "csv", "--keep-networks"]);
    assert!(kept.contains(network), "{kept}");
    assert!(!kept.contains(address), "{kept}");
    assert!(kept.contains(&python_pseudonym("ip", address)), "{kept}");
}

#[test]
fn without_a_good_key_it_refuses_to_run() {
    let input = sample("audit.ndjson");
    let refused = |key: Option<&str>, extra: &[&str]| {
        let mut command = ssprlens();
        command
            .args([
                "report",
                "--input",
                input.to_str().unwrap(),
                "--pseudonymize",
            ])
            .args(extra)
            .env_remove(KEY_VARIABLE);
        if let Some(key) = key {
            command.env(KEY_VARIABLE, key);
        }
        let output = command.output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{extra:?}");
        assert!(output.stdout.is_empty(), "nothing is reported");
        String::from_utf8(output.stderr).unwrap()
    };
    assert!(refused(None, &[]).contains(KEY_VARIABLE));
    let short = refused(Some("guessable"), &[]);
    assert!(short.contains("at least 16"), "{short}");
    assert!(
        !short.contains("guessable"),
        "the key is never shown: {short}"
    );
    let missing = refused(None, &["--pseudonym-key-file", "/nonexistent/key"]);
    assert!(missing.contains("/nonexistent/key"), "{missing}");
}

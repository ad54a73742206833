//! The committed sample tenant is exactly what the generator makes: the truth the other tests
//! compare against can be regenerated and checked by anyone. The benchmark inputs it writes in
//! every line order and schema hold the same records and the same truth.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{DateTime, FixedOffset};
use serde_json::Value;

use super::common::{assert_channels, root, run_ok};

#[test]
fn the_committed_sample_is_what_the_generator_writes() {
    let dir = tempfile::tempdir().unwrap();
    let status = Command::new("python3")
        .arg(root().join("scripts/generate.py"))
        .args(["sample", "--out"])
        .arg(dir.path())
        .status()
        .expect("python3 runs (the generator needs Python 3.11+)");
    assert!(status.success());
    let committed = root().join("data/sample");
    let mut compared = 0;
    for entry in walkdir::WalkDir::new(dir.path()).sort_by_file_name() {
        let entry = entry.unwrap();
        if !entry.file_type().is_file() {
            continue;
        }
        let relative = entry.path().strip_prefix(dir.path()).unwrap();
        let want = std::fs::read(committed.join(relative))
            .unwrap_or_else(|_| panic!("{} is not committed", relative.display()));
        assert!(
            std::fs::read(entry.path()).unwrap() == want,
            "{} differs from the generator's output",
            relative.display()
        );
        compared += 1;
    }
    assert!(compared >= 10, "only {compared} files generated");
}

/// One `scripts/generate.py big` file of 2,000 attempts: its lines and its truth.
fn big_file(dir: &Path, name: &str, options: &[&str]) -> (PathBuf, Vec<String>, Vec<u8>) {
    let (out, truth) = (
        dir.join(format!("{name}.ndjson")),
        dir.join(format!("{name}.json")),
    );
    let status = Command::new("python3")
        .arg(root().join("scripts/generate.py"))
        .args(["big", "--attempts", "2000", "--out"])
        .arg(&out)
        .arg("--truth")
        .arg(&truth)
        .args(options)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("python3 runs (the generator needs Python 3.11+)");
    assert!(status.success(), "generate.py big {options:?}");
    let lines = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    (out, lines, std::fs::read(truth).unwrap())
}

fn sorted(lines: &[String]) -> Vec<&String> {
    let mut sorted: Vec<&String> = lines.iter().collect();
    sorted.sort();
    sorted
}

fn activity_time(line: &str) -> DateTime<FixedOffset> {
    let record: Value = serde_json::from_str(line).unwrap();
    let text = record
        .get("activityDateTime")
        .or(record.get("ActivityDateTime"))
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no activityDateTime: {line}"));
    DateTime::parse_from_rfc3339(text).unwrap()
}

/// How far apart, in lines, consecutive lines of one correlationId are on average.
fn mean_attempt_spread(lines: &[String]) -> f64 {
    let mut last_seen: HashMap<String, usize> = HashMap::new();
    let (mut total, mut pairs) = (0usize, 0usize);
    for (n, line) in lines.iter().enumerate() {
        let record: Value = serde_json::from_str(line).unwrap();
        let Some(correlation) = record
            .get("correlationId")
            .or(record.get("CorrelationId"))
            .and_then(Value::as_str)
        else {
            continue;
        };
        if let Some(before) = last_seen.insert(correlation.to_owned(), n) {
            total += n - before;
            pairs += 1;
        }
    }
    total as f64 / pairs as f64
}

const GRAPH_FIELDS: [&str; 13] = [
    "id",
    "category",
    "correlationId",
    "result",
    "resultReason",
    "activityDisplayName",
    "activityDateTime",
    "loggedByService",
    "operationType",
    "userAgent",
    "initiatedBy",
    "targetResources",
    "additionalDetails",
];
const USER_FIELDS: [&str; 7] = [
    "id",
    "displayName",
    "userPrincipalName",
    "ipAddress",
    "userType",
    "homeTenantId",
    "homeTenantName",
];
const TARGET_FIELDS: [&str; 6] = [
    "id",
    "displayName",
    "type",
    "userPrincipalName",
    "groupType",
    "modifiedProperties",
];
const AUDIT_LOGS_COLUMNS: [&str; 30] = [
    "TenantId",
    "SourceSystem",
    "TimeGenerated",
    "ResourceId",
    "OperationName",
    "OperationVersion",
    "Category",
    "ResultType",
    "ResultSignature",
    "ResultDescription",
    "DurationMs",
    "CorrelationId",
    "Resource",
    "ResourceGroup",
    "ResourceProvider",
    "Identity",
    "Level",
    "Location",
    "AdditionalDetails",
    "Id",
    "InitiatedBy",
    "LoggedByService",
    "Result",
    "ResultReason",
    "TargetResources",
    "AADTenantId",
    "ActivityDisplayName",
    "ActivityDateTime",
    "AADOperationType",
    "Type",
];

/// The top-level keys of a compact JSON line appear in this order (each found where it first
/// occurs; every name here is a top-level key that no nested key spells before it).
fn assert_key_order(line: &str, keys: &[&str]) {
    let at: Vec<usize> = keys
        .iter()
        .map(|key| {
            line.find(&format!("\"{key}\":"))
                .unwrap_or_else(|| panic!("{key} missing: {line}"))
        })
        .collect();
    assert!(at.is_sorted(), "keys out of Graph's order: {line}");
}

/// A full-schema line is a complete Graph directoryAudit (every field, Graph's order, both
/// initiators, complete targets) or a complete AuditLogs row; returns whether it is the latter.
fn assert_full_schema(line: &str) -> bool {
    let record: Value = serde_json::from_str(line).unwrap();
    if record.get("Id").is_some() {
        assert_key_order(line, &AUDIT_LOGS_COLUMNS);
        return true;
    }
    assert_key_order(line, &GRAPH_FIELDS);
    let initiator = record["initiatedBy"].as_object().unwrap();
    assert!(
        initiator.contains_key("app") && initiator.contains_key("user"),
        "{line}"
    );
    if let Some(user) = initiator["user"].as_object() {
        assert!(USER_FIELDS.iter().all(|f| user.contains_key(*f)), "{line}");
    }
    for target in record["targetResources"].as_array().unwrap() {
        let target = target.as_object().unwrap();
        assert!(
            TARGET_FIELDS.iter().all(|f| target.contains_key(*f)),
            "{line}"
        );
    }
    false
}

/// The benchmark inputs: every order, schema and chunk size of one seed and size holds the same
/// records and the same truth; each order is what it says; and ssprlens's channel report on the
/// shuffled full-schema file is the generator's truth.
#[test]
fn every_order_and_schema_of_a_big_file_holds_the_same_records_and_truth() {
    let dir = tempfile::tempdir().unwrap();
    let big = |name: &str, options: &[&str]| big_file(dir.path(), name, options);
    let (_, grouped_lean, truth) = big("grouped-lean", &[]);
    let (_, shuffled_lean, shuffled_lean_truth) = big("shuffled-lean", &["--order", "shuffled"]);
    let full = ["--schema", "full"];
    let (_, grouped, grouped_truth) =
        big("grouped", &[&full[..], &["--order", "grouped"]].concat());
    let (shuffled_path, shuffled, shuffled_truth) =
        big("shuffled", &[&full[..], &["--order", "shuffled"]].concat());
    let (_, time, time_truth) = big("time", &[&full[..], &["--order", "time"]].concat());
    let chunked = ["--chunk-attempts", "700"];
    let (_, time_chunked, time_chunked_truth) = big(
        "time-chunked",
        &[&full[..], &["--order", "time"], &chunked[..]].concat(),
    );
    let (_, shuffled_chunked, shuffled_chunked_truth) = big(
        "shuffled-chunked",
        &[&full[..], &["--order", "shuffled"], &chunked[..]].concat(),
    );

    for other in [
        &shuffled_lean_truth,
        &grouped_truth,
        &shuffled_truth,
        &time_truth,
        &time_chunked_truth,
        &shuffled_chunked_truth,
    ] {
        assert!(*other == truth, "a truth differs from grouped lean's");
    }
    assert_eq!(sorted(&shuffled_lean), sorted(&grouped_lean));
    for lines in [&shuffled, &time, &time_chunked, &shuffled_chunked] {
        assert_eq!(sorted(lines), sorted(&grouped));
    }
    assert_eq!(grouped.len(), grouped_lean.len());
    let audit_logs_rows = grouped
        .iter()
        .filter(|line| assert_full_schema(line))
        .count();
    assert!(
        audit_logs_rows > grouped.len() / 40 && audit_logs_rows < grouped.len() / 10,
        "{audit_logs_rows} AuditLogs rows of {}",
        grouped.len()
    );

    // Newest first: in one chunk throughout, by chunks the time rises only where a chunk ends.
    let rises = |lines: &[String]| {
        let times: Vec<_> = lines.iter().map(|line| activity_time(line)).collect();
        times.windows(2).filter(|pair| pair[1] > pair[0]).count()
    };
    assert_eq!(rises(&time), 0);
    assert!(
        (1..=2).contains(&rises(&time_chunked)),
        "{}",
        rises(&time_chunked)
    );
    // An attempt's lines sit close together when grouped, anywhere when shuffled.
    let (near, far) = (
        mean_attempt_spread(&grouped),
        mean_attempt_spread(&shuffled),
    );
    assert!(near < 300.0, "grouped: {near}");
    assert!(far > shuffled.len() as f64 / 20.0, "shuffled: {far}");
    // Shuffled by chunks of consecutive time (three here): the first lines are all older than the last.
    let tenth = shuffled_chunked.len() / 10;
    let first = shuffled_chunked[..tenth]
        .iter()
        .map(|l| activity_time(l))
        .max();
    let last = shuffled_chunked[shuffled_chunked.len() - tenth..]
        .iter()
        .map(|l| activity_time(l))
        .min();
    assert!(first < last, "{first:?} {last:?}");

    let truth: Value = serde_json::from_slice(&truth).unwrap();
    let report = run_ok(&[
        "report",
        "--input",
        shuffled_path.to_str().unwrap(),
        "--report",
        "channels",
        "--format",
        "csv",
        "-q",
    ]);
    assert_channels(
        &report,
        &truth["channels"],
        &["attempts", "completed", "users", "ips"],
    );
}

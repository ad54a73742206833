//! Every input shape of the sample tenant gives the generator's ground truth; bad input is
//! named, kept and counted, and the rest still counts.

use super::common::{assert_channels, gunzip, run, run_ok, sample, truth};

const ALL_FIELDS: [&str; 4] = ["attempts", "completed", "users", "ips"];

fn channels_of(inputs: &[&str]) -> String {
    let mut args = vec!["report", "--format", "csv", "--quiet"];
    for input in inputs {
        args.extend(["--input", input]);
    }
    run_ok(&args)
}

#[test]
fn every_shape_gives_the_ground_truth() {
    let truth = truth();
    let dir = tempfile::tempdir().unwrap();
    let plain = |name: &str, out: &str| {
        gunzip(&sample(name), dir.path(), out)
            .to_string_lossy()
            .into_owned()
    };
    let shapes = [
        (
            "NDJSON",
            sample("audit.ndjson").to_string_lossy().into_owned(),
        ),
        (
            "NDJSON gzip",
            sample("shapes/audit.ndjson.gz")
                .to_string_lossy()
                .into_owned(),
        ),
        (
            "Graph pages (gzip, a directory)",
            sample("shapes/graph").to_string_lossy().into_owned(),
        ),
        (
            "portal JSON array (gzip)",
            sample("shapes/portal.json.gz")
                .to_string_lossy()
                .into_owned(),
        ),
        (
            "Azure Monitor records (gzip)",
            sample("shapes/monitor.json.gz")
                .to_string_lossy()
                .into_owned(),
        ),
        (
            "portal JSON array",
            plain("shapes/portal.json.gz", "portal.json"),
        ),
        // The content decides the format, not the name.
        (
            "Azure Monitor records named .ndjson",
            plain("shapes/monitor.json.gz", "monitor.ndjson"),
        ),
        (
            "Graph page without .gz",
            plain("shapes/graph/page-0001.json.gz", "page.txt"),
        ),
    ];
    for (shape, path) in &shapes[..7] {
        let (code, csv, stderr) = run(&["report", "--format", "csv", "--input", path]);
        assert_eq!(code, 0, "{shape}: {stderr}");
        assert!(stderr.contains(" 0 rejected"), "{shape}: {stderr}");
        assert_channels(&csv, &truth["channels"], &ALL_FIELDS);
    }
    // One page alone is a subset; it must at least read without rejects.
    let (code, _, stderr) = run(&["report", "--input", &shapes[7].1, "--format", "csv"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains(" 0 rejected"), "{stderr}");
}

#[test]
fn the_same_records_in_every_shape_at_once_count_once() {
    let csv = channels_of(&[
        sample("audit.ndjson").to_str().unwrap(),
        sample("shapes").to_str().unwrap(),
    ]);
    // shapes/ also holds with-errors.ndjson.gz: the same records plus three bad lines.
    assert_channels(&csv, &truth()["channels"], &ALL_FIELDS);
}

#[test]
fn duplicates_are_dropped_and_counted() {
    let truth = truth();
    let (code, _, stderr) = run(&[
        "report",
        "--input",
        sample("audit.ndjson").to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    let want = format!(
        "{} records, {} duplicates dropped, 0 rejected",
        truth["records_total_lines"], truth["duplicate_lines"]
    );
    assert!(stderr.contains(&want), "want `{want}` in {stderr}");
}

#[test]
fn malformed_lines_are_named_kept_and_the_rest_counted() {
    let truth = truth();
    let dir = tempfile::tempdir().unwrap();
    let rejects = dir.path().join("rejects.ndjson");
    let input = sample("shapes/with-errors.ndjson.gz");
    let (code, stdout, stderr) = run(&[
        "report",
        "--input",
        input.to_str().unwrap(),
        "--format",
        "csv",
        "--rejects",
        rejects.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_channels(&stdout, &truth["channels"], &ALL_FIELDS);
    let lines: Vec<u64> = truth["with_errors"]["malformed_lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_u64().unwrap())
        .collect();
    for line in &lines {
        assert!(
            stderr.contains(&format!("with-errors.ndjson.gz:{line}: ")),
            "line {line} not named in:\n{stderr}"
        );
    }
    assert!(
        stderr.contains(&format!("{} rejected", lines.len())),
        "{stderr}"
    );
    // The rejects file holds the bad lines verbatim, one per line.
    let plain = gunzip(&input, dir.path(), "with-errors.ndjson");
    let source: Vec<String> = std::fs::read_to_string(plain)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let kept: Vec<String> = std::fs::read_to_string(&rejects)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let want: Vec<String> = lines
        .iter()
        .map(|line| source[*line as usize - 1].clone())
        .collect();
    assert_eq!(kept, want);
}

#[test]
fn strict_turns_rejects_into_a_failure_that_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("channels.csv");
    let (code, _, stderr) = run(&[
        "report",
        "--input",
        sample("shapes/with-errors.ndjson.gz").to_str().unwrap(),
        "--strict",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("--strict"), "{stderr}");
    assert!(!out.exists());
    let (code, _, _) = run(&[
        "report",
        "--input",
        sample("audit.ndjson").to_str().unwrap(),
        "--strict",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    assert!(out.exists());
}

#[test]
fn bad_files_are_rejects_and_the_other_inputs_still_count() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path.to_string_lossy().into_owned()
    };
    let empty = write("empty.json", b"");
    let text = write("notes.json", b"This is not an export.\nNeither is this.\n");
    let truncated = write(
        "cut.json",
        b"{\"value\": [{\"id\": \"x1\", \"correlationId\": \"zz\", \"activityDisplayName\": \"Res",
    );
    let gzip_garbage = write("broken.json.gz", &[0x1f, 0x8b, 0x08, 0x00, 0x01, 0x02]);
    let good = sample("audit.ndjson");
    let (code, stdout, stderr) = run(&[
        "report",
        "--format",
        "csv",
        "--input",
        &empty,
        "--input",
        &text,
        "--input",
        &truncated,
        "--input",
        &gzip_garbage,
        "--input",
        good.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_channels(&stdout, &truth()["channels"], &ALL_FIELDS);
    for (name, why) in [
        ("empty.json", "empty file"),
        ("notes.json", "not a supported export"),
        ("cut.json:1", "truncated"),
        ("broken.json.gz", ""),
    ] {
        assert!(
            stderr.contains(&format!("rejected {}/{name}", dir.path().display()))
                && stderr.contains(why),
            "{name}: {stderr}"
        );
    }
    assert!(stderr.contains(" 4 rejected"), "{stderr}");
}

#[test]
fn a_missing_path_or_no_record_at_all_fails_with_exit_3() {
    let (code, _, stderr) = run(&["report", "--input", "no/such/export.json"]);
    assert_eq!(code, 3);
    assert!(
        stderr.contains("no/such/export.json") && stderr.contains("no such file"),
        "{stderr}"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junk.ndjson");
    std::fs::write(&path, "junk\n").unwrap();
    let (code, _, stderr) = run(&["report", "--input", path.to_str().unwrap()]);
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("no input held a single audit record"),
        "{stderr}"
    );
}

#[test]
fn since_and_until_select_attempts_by_their_first_row() {
    let truth = truth();
    for window in truth["windows"].as_array().unwrap() {
        let csv = run_ok(&[
            "report",
            "--input",
            sample("audit.ndjson").to_str().unwrap(),
            "--format",
            "csv",
            "--quiet",
            "--since",
            window["since"].as_str().unwrap(),
            "--until",
            window["until"].as_str().unwrap(),
        ]);
        assert_channels(&csv, &window["channels"], &["attempts", "completed"]);
    }
}

#[test]
fn client_types_and_unlocks_match_the_truth() {
    let truth = truth();
    let input = sample("audit.ndjson");
    let csv = run_ok(&[
        "report",
        "--input",
        input.to_str().unwrap(),
        "--report",
        "client_types",
        "--format",
        "json",
        "--quiet",
    ]);
    let rows: serde_json::Value = serde_json::from_str(&csv).unwrap();
    let want = truth["client_types"].as_object().unwrap();
    let mut seen = 0;
    for row in rows.as_array().unwrap() {
        let (value, channel) = (
            row["client_type"].as_str().unwrap(),
            row["channel"].as_str().unwrap(),
        );
        if row["attempts"] == 0 {
            continue; // a client type seen on unlocks only
        }
        let truth_row = &want[value]["by_channel"][channel];
        assert_eq!(row["attempts"], truth_row["attempts"], "{value} {channel}");
        assert_eq!(
            row["completed"], truth_row["completed"],
            "{value} {channel}"
        );
        seen += 1;
    }
    let pairs: usize = want
        .values()
        .map(|v| v["by_channel"].as_object().unwrap().len())
        .sum();
    assert_eq!(seen, pairs);
    let csv = run_ok(&[
        "report",
        "--input",
        input.to_str().unwrap(),
        "--report",
        "unlocks",
        "--format",
        "csv",
        "--quiet",
    ]);
    let (attempts, completed) = csv.lines().skip(1).fold((0, 0), |(a, c), line| {
        let cells: Vec<&str> = line.split(',').collect();
        (
            a + cells[1].parse::<u64>().unwrap(),
            c + cells[2].parse::<u64>().unwrap(),
        )
    });
    assert_eq!(
        (attempts, completed),
        (
            truth["unlocks"]["attempts"].as_u64().unwrap(),
            truth["unlocks"]["completed"].as_u64().unwrap()
        )
    );
}

#[test]
fn the_parallel_attempts_path_equals_the_events_path_on_every_input() {
    // A built-in report reads attempts only (parallel, no events kept); the same SQL given with
    // --query builds the events too (the single-threaded path). Both must agree everywhere.
    let inputs = [
        "data/sample/audit.ndjson",
        "data/sample/shapes/audit.ndjson.gz",
        "data/sample/shapes/with-errors.ndjson.gz",
        "data/sample/shapes/graph",
        "data/sample/shapes/portal.json.gz",
        "data/sample/shapes/monitor.json.gz",
        "tests/fixtures/golden.ndjson",
    ];
    for input in inputs {
        for report in [
            "channels",
            "client_types",
            "unlocks",
            "funnel",
            "trend",
            "ips",
            "users",
            "helpdesk",
            "helpdesk_rollout",
            "summary",
        ] {
            let fast = run_ok(&[
                "report", "--input", input, "--report", report, "--format", "csv", "--quiet",
            ]);
            let query = format!("queries/{report}.sql");
            let (code, slow, stderr) = run(&[
                "report", "--input", input, "--query", &query, "--format", "csv",
            ]);
            assert_eq!(code, 0, "{stderr}");
            assert_eq!(fast, slow, "{input} {report}");
        }
        let (_, _, fast_log) = run(&["report", "--input", input]);
        let (_, _, slow_log) = run(&[
            "report",
            "--input",
            input,
            "--query",
            "queries/channels.sql",
        ]);
        let summary = |log: &str| {
            log.lines()
                .find(|line| line.contains("records,"))
                .map(str::to_owned)
        };
        assert_eq!(summary(&fast_log), summary(&slow_log), "{input}");
    }
}

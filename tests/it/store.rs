//! Export files imported into the history store report like the files themselves.

use super::common::{
    all_reports, assert_channels, channels_from_store, import, run, run_ok, sample, truth,
};

#[test]
fn imported_exports_report_the_ground_truth_and_import_once() {
    let store = tempfile::tempdir().unwrap();
    let store = store.path().join("store");
    let (code, _, stderr) = import(&store, &sample("shapes"));
    // shapes/ holds with-errors.ndjson.gz: its three bad lines are rejects (exit 4), the rest is stored.
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("3 records were rejected"), "{stderr}");
    let (code, _, stderr) = import(&store, &sample("audit.ndjson"));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("imported 0 records"), "{stderr}");
    let csv = channels_from_store(&store);
    assert_channels(
        &csv,
        &truth()["channels"],
        &["attempts", "completed", "users", "ips"],
    );
    let window = &truth()["windows"][0];
    let csv = run_ok(&[
        "report",
        "--store",
        store.to_str().unwrap(),
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

#[test]
fn reports_from_attempt_parts_equal_reports_from_events() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let mut pages: Vec<_> = std::fs::read_dir(sample("shapes/graph"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    pages.sort();
    for page in &pages {
        run_ok(&[
            "import",
            "--store",
            store.to_str().unwrap(),
            "--input",
            page.to_str().unwrap(),
            "--no-compact",
            "--quiet",
        ]);
    }
    // What a report read from the store: (attempt parts, events).
    let read = |store: &std::path::Path| {
        let (code, _, stderr) = run(&["report", "--store", store.to_str().unwrap()]);
        assert_eq!(code, 0, "{stderr}");
        let line = stderr
            .lines()
            .find_map(|line| line.split_once("INFO read "))
            .expect("the store read is logged")
            .1;
        let numbers: Vec<u64> = line
            .split_whitespace()
            .filter_map(|word| word.parse().ok())
            .collect();
        (numbers[0], numbers[1])
    };
    let from_parts = all_reports(&store, &dir.path().join("parts"));
    assert_eq!(from_parts.len(), 10);
    let (parts, events) = read(&store);
    assert!(parts > 0 && events == 0, "{parts} parts, {events} events");
    assert_channels(
        &from_parts
            .iter()
            .find(|(name, _)| name == "channels.csv")
            .unwrap()
            .1,
        &truth()["channels"],
        &["attempts", "completed", "users", "ips"],
    );
    let mut parts_files: Vec<_> = walkdir::WalkDir::new(store.join("parts"))
        .into_iter()
        .map(|entry| entry.unwrap().into_path())
        .filter(|path| path.is_file())
        .collect();
    parts_files.sort();
    assert!(parts_files.len() > 20, "batches of many days");
    for file in parts_files.iter().step_by(2) {
        std::fs::remove_file(file).unwrap();
    }
    assert_eq!(all_reports(&store, &dir.path().join("some")), from_parts);
    let (some_parts, some_events) = read(&store);
    assert!(some_parts < parts && some_events > 0);
    std::fs::remove_dir_all(store.join("parts")).unwrap();
    assert_eq!(all_reports(&store, &dir.path().join("events")), from_parts);
    assert_eq!(read(&store).0, 0);
}

/// Runs ssprlens under `umask 000`, so only ssprlens itself can make a file private.
fn run_with_open_umask(args: &[&str]) -> i32 {
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg("umask 000 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_ssprlens"))
        .args(args)
        .env_remove("SSPRLENS_LOG")
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    status.code().unwrap_or(-1)
}

/// Every directory under `root` (itself included) is 0700 and every file 0600.
fn assert_owner_only(root: &std::path::Path) -> usize {
    use std::os::unix::fs::PermissionsExt;
    let mut checked = 0;
    for entry in walkdir::WalkDir::new(root) {
        let entry = entry.unwrap();
        let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
        let want = if entry.file_type().is_dir() {
            0o700
        } else {
            0o600
        };
        assert_eq!(mode, want, "{} is {mode:o}", entry.path().display());
        checked += 1;
    }
    checked
}

#[test]
fn the_store_exports_and_rejects_are_owner_only_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let rejects = dir.path().join("rejects.ndjson");
    // A rejects file left world-readable by something else is made private too.
    std::fs::write(&rejects, "old").unwrap();
    std::fs::set_permissions(&rejects, std::fs::Permissions::from_mode(0o644)).unwrap();
    let code = run_with_open_umask(&[
        "import",
        "--store",
        store.to_str().unwrap(),
        "--input",
        sample("shapes/with-errors.ndjson.gz").to_str().unwrap(),
        "--rejects",
        rejects.to_str().unwrap(),
    ]);
    assert_eq!(code, 4, "three malformed lines are rejects");
    assert!(assert_owner_only(&store) > 6, "the store has files");
    assert_owner_only(&rejects);

    let reports = dir.path().join("reports");
    let store = store.to_str().unwrap();
    let args = ["report", "--store", store, "--all", "--out"];
    assert_eq!(
        run_with_open_umask(&[&args[..], &[reports.to_str().unwrap()]].concat()),
        0
    );
    assert_eq!(assert_owner_only(&reports), 1 + 10);
    let single = dir.path().join("channels.csv");
    let args = [
        "report",
        "--store",
        store,
        "--out",
        single.to_str().unwrap(),
    ];
    assert_eq!(run_with_open_umask(&args), 0);
    assert_owner_only(&single);
}

#[test]
fn a_store_written_by_a_newer_version_is_refused_not_misread() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let (code, _, stderr) = import(&store, &sample("audit.ndjson"));
    assert_eq!(code, 0, "{stderr}");
    let state_path = store.join("state.json");
    let mut state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&state_path).unwrap()).unwrap();
    state["format"] = serde_json::json!(99);
    std::fs::write(&state_path, state.to_string()).unwrap();
    for (code, stdout, stderr) in [
        run(&["report", "--store", store.to_str().unwrap()]),
        import(&store, &sample("audit.ndjson")),
    ] {
        assert_eq!(code, 1, "{stderr}");
        assert!(stdout.is_empty());
        assert!(
            stderr.contains("written by a newer ssprlens (format 99"),
            "{stderr}"
        );
    }
}

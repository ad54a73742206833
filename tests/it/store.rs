//! Export files imported into the history store report like the files themselves.

use super::common::{assert_channels, run, run_ok, sample, truth};

#[test]
fn imported_exports_report_the_ground_truth_and_import_once() {
    let store = tempfile::tempdir().unwrap();
    let store = store.path().join("store");
    let import = |input: &str| {
        run(&[
            "import",
            "--store",
            store.to_str().unwrap(),
            "--input",
            input,
        ])
    };
    let (code, _, stderr) = import(sample("shapes").to_str().unwrap());
    // shapes/ holds with-errors.ndjson.gz: its three bad lines are rejects (exit 4), the rest is stored.
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("3 records were rejected"), "{stderr}");
    let (code, _, stderr) = import(sample("audit.ndjson").to_str().unwrap());
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("imported 0 records"), "{stderr}");
    let csv = run_ok(&[
        "report",
        "--store",
        store.to_str().unwrap(),
        "--format",
        "csv",
        "--quiet",
    ]);
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

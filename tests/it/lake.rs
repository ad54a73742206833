//! `ssprlens publish`: the sample tenant's store published to Azurite as Delta tables and read
//! back by DuckDB's delta and azure extensions (PyPI wheels pinned in tests/lake/requirements.txt;
//! .ci/run installs them into tests/lake/.venv). Counts are checked against the generator's
//! truth; a re-publish adds exactly the new rows; a publish that dies before its commit leaves
//! the table as it was, and the re-run completes it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command as Process;

use super::azurite::Azurite;
use ssprlens::simulator::SimulatorConfig;

use super::common::{
    assert_channels, channels_from_store, csv_by_first_column, graph_command_at, outcome, root,
    run, sample, simulator, ssprlens, truth,
};

const CONTAINER: &str = "lake";
const LAKE: &str = "az://lake/ssprlens";
const TENANT: &str = "0b2c5f6e-1d3a-4e8f-9a7b-6c5d4e3f2a1b";
const OTHER_TENANT: &str = "9f8e7d6c-5b4a-4392-8170-6e5d4c3b2a19";

/// The Python that has DuckDB and its delta and azure extensions.
fn python() -> PathBuf {
    let python = std::env::var_os("SSPRLENS_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("tests/lake/.venv/bin/python"));
    assert!(
        python.exists(),
        "no Python with DuckDB's delta extension at {}: run `python3 -m venv tests/lake/.venv && \
         tests/lake/.venv/bin/pip install -r tests/lake/requirements.txt` (.ci/run does)",
        python.display()
    );
    python
}

/// Runs a Python script with DuckDB connected to the emulator; returns its standard output.
fn duckdb(azurite: &Azurite, args: &[&str]) -> String {
    let output = Process::new(python())
        .args(args)
        .current_dir(root())
        .env(
            "AZURE_STORAGE_CONNECTION_STRING",
            azurite.connection_string(),
        )
        // The delta extension's own object store finds the emulator by these.
        .env("AZURE_STORAGE_USE_EMULATOR", "true")
        .env("AZURITE_BLOB_STORAGE_URL", &azurite.url)
        .output()
        .expect("python runs");
    assert!(
        output.status.success(),
        "python {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// One SQL query over the lake's tables (views `events`, `attempts`: every tenant) as CSV.
fn lake_query(azurite: &Azurite, sql: &str) -> String {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), sql).unwrap();
    duckdb(
        azurite,
        &[
            "scripts/lake_report.py",
            "--lake",
            LAKE,
            "--sql",
            file.path().to_str().unwrap(),
        ],
    )
}

/// `ssprlens publish --quiet` of `store` to the emulator's lake.
fn publish_command(azurite: &Azurite, store: &Path) -> Process {
    let mut command = Process::new(env!("CARGO_BIN_EXE_ssprlens"));
    command
        .args([
            "publish",
            "--quiet",
            "--store",
            store.to_str().unwrap(),
            "--to",
            LAKE,
        ])
        .env("AZURE_STORAGE_USE_EMULATOR", "true")
        .env("AZURITE_BLOB_STORAGE_URL", &azurite.url)
        .env_remove("AZURE_TENANT_ID")
        .env_remove("SSPRLENS_LOG");
    command
}

fn publish(azurite: &Azurite, store: &Path) -> (i32, String, String) {
    outcome(publish_command(azurite, store))
}

fn publish_ok(azurite: &Azurite, store: &Path) {
    let (code, _, stderr) = publish(azurite, store);
    assert_eq!(code, 0, "publish failed: {stderr}");
}

/// `import` of `input` into `store`, recording `tenant` (`""`: none).
fn import_as(store: &Path, input: &Path, tenant: &str) {
    let mut import = ssprlens();
    import
        .args(["import", "--store", store.to_str().unwrap(), "--input"])
        .arg(input)
        .env_remove("AZURE_TENANT_ID");
    if !tenant.is_empty() {
        import.args(["--tenant-id", tenant]);
    }
    let output = import.output().unwrap();
    assert!(
        matches!(output.status.code(), Some(0 | 4)),
        "import: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The sample's lines split in two: the first `share` of them and the rest, as two files.
fn split_sample(dir: &Path, share: f64) -> (PathBuf, PathBuf) {
    let text = std::fs::read_to_string(sample("audit.ndjson")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let cut = (lines.len() as f64 * share) as usize;
    let (first, second) = (dir.join("first.ndjson"), dir.join("second.ndjson"));
    std::fs::write(&first, lines[..cut].join("\n") + "\n").unwrap();
    std::fs::write(&second, lines[cut..].join("\n") + "\n").unwrap();
    (first, second)
}

/// Rows and distinct ids of a lake table, one tenant.
fn rows_and_ids(azurite: &Azurite, table: &str, id: &str, tenant: &str) -> (u64, u64) {
    let csv = lake_query(
        azurite,
        &format!(
            "SELECT COUNT(*) AS n, COUNT(DISTINCT {id}) AS ids FROM {table} WHERE tenant_id = '{tenant}'"
        ),
    );
    let row: Vec<u64> = csv
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .map(|n| n.parse().unwrap())
        .collect();
    (row[0], row[1])
}

/// Events per UTC day of the store's own Parquet files (read by DuckDB), against the lake's.
fn assert_days_match_store(azurite: &Azurite, store: &Path, tenant: &str) {
    let per_day = |sql: String| -> BTreeMap<String, String> {
        csv_by_first_column(&lake_query(azurite, &sql))
            .into_iter()
            .map(|(day, row)| (day, row["n"].clone()))
            .collect()
    };
    let from_store = per_day(format!(
        "SELECT CAST(date AS VARCHAR) AS day, COUNT(DISTINCT id) AS n FROM read_parquet('{}/events/*/*.parquet', \
         hive_partitioning = true) GROUP BY 1 ORDER BY 1",
        store.display()
    ));
    let from_lake = per_day(format!(
        "SELECT CAST(date AS VARCHAR) AS day, COUNT(*) AS n FROM events WHERE tenant_id = '{tenant}' \
         GROUP BY 1 ORDER BY 1"
    ));
    assert!(!from_store.is_empty());
    assert_eq!(from_lake, from_store);
}

/// The number of data files and of commits of a lake table, from the emulator's listing.
fn files_and_commits(azurite: &Azurite, table: &str) -> (u64, u64) {
    let csv = lake_query(
        azurite,
        &format!(
            "SELECT (SELECT COUNT(*) FROM glob('{LAKE}/{table}/*/*/*.parquet')) AS files, \
                    (SELECT COUNT(*) FROM glob('{LAKE}/{table}/_delta_log/*.json')) AS commits"
        ),
    );
    let row: Vec<u64> = csv
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .map(|n| n.parse().unwrap())
        .collect();
    (row[0], row[1])
}

#[test]
fn the_sample_tenant_published_reads_back_in_duckdb_and_republishing_adds_only_new_rows() {
    let azurite = Azurite::start();
    azurite.create_container(CONTAINER);
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let (first, second) = split_sample(dir.path(), 0.6);

    // A store with no tenant: publish asks for one.
    import_as(&store, &first, "");
    let (code, _, stderr) = publish(&azurite, &store);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--tenant-id"), "{stderr}");
    // The tenant recorded, a different one refused.
    import_as(&store, &first, TENANT);
    let (code, _, stderr) = run(&[
        "import",
        "--store",
        store.to_str().unwrap(),
        "--input",
        first.to_str().unwrap(),
        "--tenant-id",
        OTHER_TENANT,
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(TENANT) && stderr.contains(OTHER_TENANT),
        "{stderr}"
    );

    publish_ok(&azurite, &store);
    assert_days_match_store(&azurite, &store, TENANT);
    let (events_files, events_commits) = files_and_commits(&azurite, "events");
    let (attempt_files, attempt_commits) = files_and_commits(&azurite, "attempts");

    // Nothing new: no data file written, nothing committed.
    publish_ok(&azurite, &store);
    assert_eq!(
        files_and_commits(&azurite, "events"),
        (events_files, events_commits)
    );
    assert_eq!(
        files_and_commits(&azurite, "attempts"),
        (attempt_files, attempt_commits)
    );

    // The rest of the export: exactly the new rows are added, every id once.
    import_as(&store, &second, TENANT);
    publish_ok(&azurite, &store);
    assert_days_match_store(&azurite, &store, TENANT);
    let truth = truth();
    let (rows, ids) = rows_and_ids(&azurite, "events", "id", TENANT);
    assert_eq!(rows, ids, "an event twice in the lake");
    assert_eq!(rows, store_event_count(&store));
    let (attempts, attempt_ids) = rows_and_ids(&azurite, "attempts", "attempt_id", TENANT);
    assert_eq!(attempts, attempt_ids, "an attempt twice in the lake");

    // The channels report of queries/ run by DuckDB on the lake: the generator's truth, and
    // ssprlens's own report of the store.
    let lake_channels = duckdb(
        &azurite,
        &[
            "scripts/lake_report.py",
            "--lake",
            LAKE,
            "--tenant",
            TENANT,
            "channels",
        ],
    );
    assert_channels(
        &lake_channels,
        &truth["channels"],
        &["attempts", "completed", "users", "ips"],
    );
    let ours = csv_by_first_column(&channels_from_store(&store));
    let theirs = csv_by_first_column(&lake_channels);
    for (channel, row) in &ours {
        for field in ["attempts", "completed", "users", "ips"] {
            assert_eq!(theirs[channel][field], row[field], "{channel} {field}");
        }
    }
}

/// The distinct event ids of the store's own Parquet files.
fn store_event_count(store: &Path) -> u64 {
    let stdout = Process::new(python())
        .args([
            "-c",
            "import duckdb, sys; print(duckdb.sql(f\"SELECT COUNT(DISTINCT id) FROM read_parquet('{sys.argv[1]}/events/*/*.parquet')\").fetchone()[0])",
        ])
        .arg(store)
        .output()
        .unwrap()
        .stdout;
    String::from_utf8(stdout).unwrap().trim().parse().unwrap()
}

#[test]
fn a_publish_killed_before_its_commit_leaves_the_table_readable_and_the_rerun_completes_it() {
    let azurite = Azurite::start();
    azurite.create_container(CONTAINER);
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let (first, second) = split_sample(dir.path(), 0.5);
    import_as(&store, &first, TENANT);
    publish_ok(&azurite, &store);
    let before = rows_and_ids(&azurite, "events", "id", TENANT);
    import_as(&store, &second, TENANT);

    // Dies (SIGABRT, no clean-up) after writing the data files of the events table.
    let crashed = publish_command(&azurite, &store)
        .env("SSPRLENS_TEST_DIE_BEFORE_COMMIT", "events")
        .output()
        .unwrap();
    assert!(!crashed.status.success());
    let (files, _) = files_and_commits(&azurite, "events");
    // The table reads as before the crash, its new files unreferenced.
    assert_eq!(rows_and_ids(&azurite, "events", "id", TENANT), before);
    publish_ok(&azurite, &store);
    let (rows, ids) = rows_and_ids(&azurite, "events", "id", TENANT);
    assert_eq!((rows, rows), (ids, store_event_count(&store)));
    assert!(files_and_commits(&azurite, "events").0 > files);
    assert_days_match_store(&azurite, &store, TENANT);
}

#[test]
fn of_two_publishers_of_one_tenant_the_later_commit_is_refused_and_nothing_doubles() {
    let azurite = Azurite::start();
    azurite.create_container(CONTAINER);
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let (first, second) = split_sample(dir.path(), 0.5);
    import_as(&store, &first, TENANT);
    publish_ok(&azurite, &store);
    import_as(&store, &second, TENANT);
    // The first publisher stops between its data files and its commit...
    let release = dir.path().join("release");
    let held = publish_command(&azurite, &store)
        .env(
            "SSPRLENS_TEST_HOLD_BEFORE_COMMIT",
            format!("events:{}", release.display()),
        )
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let marker = dir.path().join("release.held");
    let started = std::time::Instant::now();
    while !marker.exists() {
        assert!(
            started.elapsed().as_secs() < 60,
            "the publisher never reached its commit"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // ...while a second one replaces the same tenant's days.
    publish_ok(&azurite, &store);
    std::fs::write(&release, b"").unwrap();
    let output = held.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(7), "{stderr}");
    assert!(stderr.contains("another publisher"), "{stderr}");
    let (rows, ids) = rows_and_ids(&azurite, "events", "id", TENANT);
    assert_eq!(
        (rows, ids),
        (store_event_count(&store), store_event_count(&store))
    );
    assert_days_match_store(&azurite, &store, TENANT);
}

#[test]
fn tenants_publish_side_by_side_into_one_lake() {
    let azurite = Azurite::start();
    azurite.create_container(CONTAINER);
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = split_sample(dir.path(), 0.5);
    let (one, two) = (dir.path().join("one"), dir.path().join("two"));
    import_as(&one, &first, TENANT);
    import_as(&two, &second, OTHER_TENANT);
    // At the same time: a commit of the other tenant is no conflict.
    let (mut a, mut b) = (
        publish_command(&azurite, &one).spawn().unwrap(),
        publish_command(&azurite, &two).spawn().unwrap(),
    );
    assert!(a.wait().unwrap().success());
    assert!(b.wait().unwrap().success());
    for (tenant, store) in [(TENANT, &one), (OTHER_TENANT, &two)] {
        assert_days_match_store(&azurite, store, tenant);
        let (rows, ids) = rows_and_ids(&azurite, "events", "id", tenant);
        assert_eq!(
            (rows, ids),
            (store_event_count(store), store_event_count(store))
        );
    }
    let tenants = lake_query(
        &azurite,
        "SELECT COUNT(DISTINCT tenant_id) AS n FROM attempts",
    );
    assert_eq!(tenants.lines().nth(1), Some("2"));
}

/// What the lake's columns are, for the engines: typed, and partitioned by tenant and day.
#[test]
fn the_tables_have_the_documented_columns() {
    let azurite = Azurite::start();
    azurite.create_container(CONTAINER);
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    import_as(&store, &sample("audit.ndjson"), TENANT);
    publish_ok(&azurite, &store);
    let columns = lake_query(
        &azurite,
        "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM attempts)",
    );
    let columns: BTreeMap<String, String> = csv_by_first_column(&columns)
        .into_iter()
        .map(|(name, row)| (name, row["column_type"].clone()))
        .collect();
    for (name, kind) in [
        ("tenant_id", "VARCHAR"),
        ("date", "DATE"),
        ("attempt_id", "VARCHAR"),
        ("kind", "VARCHAR"),
        ("channel", "VARCHAR"),
        ("client_type", "VARCHAR"),
        ("user_agent", "VARCHAR"),
        ("completed", "BOOLEAN"),
        ("started", "TIMESTAMP WITH TIME ZONE"),
        ("ended", "TIMESTAMP WITH TIME ZONE"),
        ("user", "VARCHAR"),
        ("ip_address", "VARCHAR"),
        ("rows", "BIGINT"),
        ("furthest_step", "VARCHAR"),
        ("final_state", "VARCHAR"),
        ("ip_network", "VARCHAR"),
        ("new_ip_for_user", "BOOLEAN"),
    ] {
        assert_eq!(
            columns.get(name).map(String::as_str),
            Some(kind),
            "{name}: {columns:?}"
        );
    }
}

#[test]
fn run_publishes_as_the_tenant_it_fetched_from() {
    let azurite = Azurite::start();
    azurite.create_container(CONTAINER);
    let sim = simulator(SimulatorConfig::default());
    let dir = tempfile::tempdir().unwrap();
    let (store, out) = (dir.path().join("store"), dir.path().join("out"));
    let mut command = graph_command_at(
        "run",
        &sim.url(),
        &sim.url(),
        &store,
        &["--out", out.to_str().unwrap(), "--publish", LAKE],
    );
    command
        .env("AZURE_STORAGE_USE_EMULATOR", "true")
        .env("AZURITE_BLOB_STORAGE_URL", &azurite.url);
    let (code, _, stderr) = outcome(command);
    assert!(matches!(code, 0 | 4), "run --publish: {stderr}");
    let tenant = SimulatorConfig::default().tenant_id.to_ascii_lowercase();
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(store.join("state.json")).unwrap()).unwrap();
    assert_eq!(state["tenant_id"].as_str(), Some(tenant.as_str()));
    let lake = csv_by_first_column(&duckdb(
        &azurite,
        &[
            "scripts/lake_report.py",
            "--lake",
            LAKE,
            "--tenant",
            &tenant,
            "channels",
        ],
    ));
    let written = csv_by_first_column(&std::fs::read_to_string(out.join("channels.csv")).unwrap());
    assert!(!written.is_empty());
    for (channel, row) in &written {
        for field in ["attempts", "completed", "users", "ips"] {
            assert_eq!(lake[channel][field], row[field], "{channel} {field}");
        }
    }
}

//! Helpers shared by the integration tests: the binary, the sample tenant and its ground truth,
//! and fetches from a Graph on 127.0.0.1 with the checks of the store they fill.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use flate2::read::MultiGzDecoder;
use serde_json::Value;
use ssprlens::simulator::{
    BackgroundSimulator, SimulatorConfig, sample_records, start_in_background,
};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The sample tenant written by `scripts/generate.py sample`.
pub fn sample(path: &str) -> PathBuf {
    root().join("data/sample").join(path)
}

/// The generator's ground truth for the sample tenant.
pub fn truth() -> Value {
    serde_json::from_slice(&std::fs::read(sample("truth.json")).expect("data/sample/truth.json"))
        .expect("truth.json is JSON")
}

pub fn ssprlens() -> Command {
    let mut command = Command::cargo_bin("ssprlens").expect("the ssprlens binary is built");
    command.env_remove("SSPRLENS_LOG").current_dir(root());
    command
}

/// Runs `ssprlens` and returns (exit code, stdout, stderr).
pub fn run(args: &[&str]) -> (i32, String, String) {
    let output = ssprlens().args(args).output().expect("ssprlens runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// `ssprlens import` of `input` into `store`; returns (exit code, stdout, stderr).
pub fn import(store: &Path, input: &Path) -> (i32, String, String) {
    run(&[
        "import",
        "--store",
        store.to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
    ])
}

/// Runs `ssprlens` and insists on success.
pub fn run_ok(args: &[&str]) -> String {
    let (code, stdout, stderr) = run(args);
    assert_eq!(code, 0, "ssprlens {args:?} failed: {stderr}");
    stdout
}

/// A CSV without quoted commas as rows of cells keyed by the header: first column → row.
pub fn csv_by_first_column(text: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    lines
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            assert_eq!(cells.len(), header.len(), "{line}");
            let row: BTreeMap<String, String> = header
                .iter()
                .zip(&cells)
                .map(|(h, c)| (h.to_string(), c.to_string()))
                .collect();
            (cells[0].to_owned(), row)
        })
        .collect()
}

/// A CSV without quoted commas as rows of cells keyed by the header, in order.
pub fn csv_rows(text: &str) -> Vec<BTreeMap<String, String>> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    lines
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            assert_eq!(cells.len(), header.len(), "{line}");
            header
                .iter()
                .zip(&cells)
                .map(|(h, c)| (h.to_string(), c.to_string()))
                .collect()
        })
        .collect()
}

/// Checks a `channels` CSV against a truth object `{channel: {attempts, completed, ...}}`:
/// every truth channel has its numbers, every other row is zero.
pub fn assert_channels(csv: &str, truth: &Value, fields: &[&str]) {
    let rows = csv_by_first_column(csv);
    let truth = truth.as_object().expect("channels truth is an object");
    for (channel, row) in &rows {
        for field in fields {
            let want = truth
                .get(channel)
                .map_or(0, |numbers| numbers[*field].as_u64().expect("a count"));
            assert_eq!(row[*field], want.to_string(), "{channel} {field}\n{csv}");
        }
    }
    for channel in truth.keys() {
        assert!(
            rows.contains_key(channel),
            "channel {channel} missing\n{csv}"
        );
    }
}

/// Decompresses a gzip file into `dir` under `name`.
pub fn gunzip(path: &Path, dir: &Path, name: &str) -> PathBuf {
    let mut text = Vec::new();
    MultiGzDecoder::new(File::open(path).expect("gz file"))
        .read_to_end(&mut text)
        .expect("gzip");
    let out = dir.join(name);
    File::create(&out)
        .and_then(|mut file| file.write_all(&text))
        .expect("write");
    out
}

/// The client secret every fetch signs in with.
pub const SECRET: &str = "s3cr3t-Value~With.Special_Chars";
/// The window that holds every sample record.
pub const WINDOW: [&str; 4] = [
    "--since",
    "2026-08-01T00:00:00Z",
    "--until",
    "2026-12-01T00:00:00Z",
];

/// The Graph simulator serving the sample tenant to a client with [`SECRET`].
pub fn simulator(config: SimulatorConfig) -> BackgroundSimulator {
    start_in_background(SimulatorConfig {
        records: sample_records(),
        client_secret: SECRET.to_owned(),
        ..config
    })
    .expect("the simulator starts")
}

/// `ssprlens fetch` against `sim` into `store`, with extra arguments; returns (code, stdout, stderr).
pub fn fetch(sim: &BackgroundSimulator, store: &Path, extra: &[&str]) -> (i32, String, String) {
    outcome(fetch_command(sim, store, extra))
}

/// Runs a command to its end; returns (code, stdout, stderr).
pub fn outcome(mut command: Process) -> (i32, String, String) {
    let output = command.output().expect("ssprlens runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

pub fn fetch_command(sim: &BackgroundSimulator, store: &Path, extra: &[&str]) -> Process {
    fetch_command_at(&sim.url(), &sim.url(), store, extra)
}

/// `ssprlens fetch` reading Graph at `graph_url` and signing in at `authority`: see
/// [`graph_command_at`].
pub fn fetch_command_at(graph_url: &str, authority: &str, store: &Path, extra: &[&str]) -> Process {
    graph_command_at("fetch", graph_url, authority, store, extra)
}

/// `ssprlens fetch` or `run` reading Graph at `graph_url` and signing in at `authority` as the
/// simulator's app with [`SECRET`]; by default 50 records a page, 5 requests per 200 ms and the
/// whole [`WINDOW`].
pub fn graph_command_at(
    subcommand: &str,
    graph_url: &str,
    authority: &str,
    store: &Path,
    extra: &[&str],
) -> Process {
    let mut command = Process::new(env!("CARGO_BIN_EXE_ssprlens"));
    command
        .args([
            subcommand,
            "--store",
            store.to_str().unwrap(),
            "--graph-url",
            graph_url,
            "--authority-host",
            authority,
        ])
        .args(extra);
    sign_in_as_the_simulators_app(&mut command);
    for (flag, default) in [("--page-size", "50"), ("--throttle", "5/200ms")] {
        if !extra.contains(&flag) {
            command.args([flag, default]);
        }
    }
    if !extra.contains(&"--since") && !extra.contains(&"--until") {
        command.args(WINDOW);
    }
    command
}

/// Sets a command's environment to sign in as the simulator's app with [`SECRET`], with the
/// default log level.
pub fn sign_in_as_the_simulators_app(command: &mut Process) {
    let defaults = SimulatorConfig::default();
    command
        .env("AZURE_TENANT_ID", &defaults.tenant_id)
        .env("AZURE_CLIENT_ID", &defaults.client_id)
        .env("AZURE_CLIENT_SECRET", SECRET)
        .env_remove("AZURE_AUTHORITY_HOST")
        .env_remove("SSPRLENS_LOG");
}

/// The arguments of a slow fetch (10 records a page).
pub const SLOW: [&str; 4] = ["--page-size", "10", "--throttle", "100/1s"];

/// Starts a slow fetch in the background, its output discarded.
pub fn spawn_slow_fetch(sim: &BackgroundSimulator, store: &Path) -> std::process::Child {
    fetch_command(sim, store, &SLOW)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Waits (a minute at most) until `done` holds.
pub fn wait_until(done: impl Fn() -> bool) {
    let started = Instant::now();
    while !done() && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The `channels` report of a store, as CSV.
pub fn channels_from_store(store: &Path) -> String {
    run_ok(&[
        "report",
        "--store",
        store.to_str().unwrap(),
        "--format",
        "csv",
        "--quiet",
    ])
}

/// Every built-in report of a store, as CSV files by name.
pub fn all_reports(store: &Path, out: &Path) -> Vec<(String, String)> {
    run_ok(&[
        "report",
        "--store",
        store.to_str().unwrap(),
        "--all",
        "--format",
        "csv",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    let mut reports: Vec<(String, String)> = std::fs::read_dir(out)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(path).unwrap())
        })
        .collect();
    reports.sort();
    reports
}

/// Reports from a store read the attempt parts of its batches. Attempts split over batches
/// (Graph pages imported one at a time) merge, and a store whose batches lack parts (written
/// by an older ssprlens), some or all, reports the same from its events.
/// Every file under `dir`, as bytes.
pub fn files_under(dir: &Path) -> Vec<(String, Vec<u8>)> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_file())
        .map(|entry| {
            (
                entry.path().display().to_string(),
                std::fs::read(entry.path()).unwrap(),
            )
        })
        .collect()
}

/// The ids in the raw archive (gzip NDJSON) of batches whose Parquet file committed them.
pub fn raw_ids(store: &Path) -> Vec<String> {
    let mut ids = Vec::new();
    let raw = store.join("raw");
    for (path, bytes) in files_under(&raw) {
        let batch = Path::new(&path).strip_prefix(&raw).unwrap();
        let committed = batch
            .to_string_lossy()
            .strip_suffix(".ndjson.gz")
            .is_some_and(|name| {
                store
                    .join("events")
                    .join(format!("{name}.parquet"))
                    .is_file()
            });
        if !committed {
            continue;
        }
        let mut text = String::new();
        MultiGzDecoder::new(&bytes[..])
            .read_to_string(&mut text)
            .unwrap();
        for line in text.lines() {
            let value: Value =
                serde_json::from_str(line).unwrap_or_else(|_| panic!("{path}: {line}"));
            ids.push(value["id"].as_str().unwrap().to_owned());
        }
    }
    ids.sort();
    ids
}

/// The ids Graph holds for a fetch's queries: the sample's records of the SSPR services
/// (`Self-service Password Management`, `Authentication Methods`) and its Core Directory
/// `Reset user password` rows, each once.
pub fn source_ids() -> Vec<String> {
    let fetched = |record: &Value| {
        let service = record["loggedByService"].as_str().unwrap_or_default();
        ["Self-service Password Management", "Authentication Methods"].contains(&service)
            || service == "Core Directory" && record["activityDisplayName"] == "Reset user password"
    };
    let mut ids: Vec<String> = sample_records()
        .iter()
        .filter(|record| fetched(record))
        .map(|record| record["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

pub fn assert_store_equals_source(store: &Path) {
    assert_channels(
        &channels_from_store(store),
        &truth()["channels"],
        &["attempts", "completed", "users", "ips"],
    );
    assert_eq!(
        raw_ids(store),
        source_ids(),
        "the raw archive holds every record exactly once"
    );
}

/// A store a fetch left part-way: reports read it, and every record it committed is a source
/// record, stored once. Returns how many it holds.
pub fn assert_store_consistent(store: &Path) -> usize {
    channels_from_store(store);
    let stored = raw_ids(store);
    let mut once = stored.clone();
    once.dedup();
    assert_eq!(once, stored, "a record is stored twice");
    let source = source_ids();
    for id in &stored {
        assert!(
            source.binary_search(id).is_ok(),
            "{id} is not a source record"
        );
    }
    stored.len()
}

/// The watermark in the store's state.json, if it has one.
pub fn watermark(store: &Path) -> Option<String> {
    let bytes = match std::fs::read(store.join("state.json")) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return None,
        Err(err) => panic!("state.json: {err}"),
    };
    let state: Value = serde_json::from_slice(&bytes).expect("state.json is JSON");
    state["watermark"].as_str().map(str::to_owned)
}

/// Fails if any of `secrets` is in any of `outputs` or in any file under `dir`.
pub fn assert_none_leaked(secrets: &[&str], outputs: &[&str], dir: &Path) {
    for secret in secrets {
        for text in outputs {
            assert!(!text.contains(secret), "`{secret}` was printed:\n{text}");
        }
        for (path, bytes) in files_under(dir) {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "`{secret}` is in {path}"
            );
        }
    }
}

pub fn assert_no_secret(outputs: &[&str], store: &Path) {
    assert_none_leaked(&[SECRET], outputs, store);
}

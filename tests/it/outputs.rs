//! Output formats: terminal table, CSV, JSON, Markdown, Parquet; files are written whole.

use std::fs::File;

use polars::prelude::*;

use super::common::{run, run_ok, sample, truth};

#[test]
fn parquet_output_reads_back_with_the_truth() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("channels.parquet");
    run_ok(&[
        "report",
        "--input",
        sample("audit.ndjson").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let frame = ParquetReader::new(File::open(&out).unwrap())
        .finish()
        .unwrap();
    let channels = frame.column("channel").unwrap().str().unwrap().clone();
    let attempts = frame
        .column("attempts")
        .unwrap()
        .cast(&DataType::UInt64)
        .unwrap();
    let attempts = attempts.u64().unwrap();
    let truth = truth();
    for (channel, attempts) in channels.iter().zip(attempts.iter()) {
        let want = truth["channels"][channel.unwrap()]["attempts"]
            .as_u64()
            .unwrap_or(0);
        assert_eq!(attempts, Some(want), "{channel:?}");
    }
}

#[test]
fn the_terminal_table_has_a_total_row_and_the_files_do_not() {
    let input = sample("audit.ndjson");
    let table = run_ok(&["report", "--input", input.to_str().unwrap(), "--quiet"]);
    let truth = truth();
    let total: u64 = truth["channels"]
        .as_object()
        .unwrap()
        .values()
        .map(|c| c["attempts"].as_u64().unwrap())
        .sum();
    let total_line = table
        .lines()
        .find(|line| line.contains("total"))
        .expect("a total row");
    assert!(total_line.contains(&format!(" {total} ")), "{total_line}");
    let csv = run_ok(&[
        "report",
        "--input",
        input.to_str().unwrap(),
        "--format",
        "csv",
        "--quiet",
    ]);
    assert!(!csv.contains("total"));
    let markdown = run_ok(&[
        "report",
        "--input",
        input.to_str().unwrap(),
        "--format",
        "markdown",
        "--quiet",
    ]);
    assert!(
        markdown.starts_with("| channel | attempts | completed |"),
        "{markdown}"
    );
}

#[test]
fn a_users_own_query_runs_over_the_tables() {
    let dir = tempfile::tempdir().unwrap();
    let query = dir.path().join("per_kind.sql");
    std::fs::write(
        &query,
        "SELECT kind, COUNT(*) AS n FROM attempts GROUP BY kind ORDER BY kind",
    )
    .unwrap();
    let csv = run_ok(&[
        "report",
        "--input",
        sample("audit.ndjson").to_str().unwrap(),
        "--query",
        query.to_str().unwrap(),
        "--format",
        "csv",
        "--quiet",
    ]);
    let truth = truth();
    let resets: u64 = truth["channels"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(c, _)| *c != "admin")
        .map(|(_, v)| v["attempts"].as_u64().unwrap())
        .sum();
    let want = format!(
        "kind,n\nadmin,{}\nreset,{resets}\nunlock,{}\n",
        truth["channels"]["admin"]["attempts"], truth["unlocks"]["attempts"]
    );
    assert_eq!(csv, want);
    std::fs::write(&query, "SELECT nope FROM nowhere").unwrap();
    let (code, _, stderr) = run(&[
        "report",
        "--input",
        sample("audit.ndjson").to_str().unwrap(),
        "--query",
        query.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(stderr.contains("query `per_kind` failed"), "{stderr}");
}

#[test]
fn usage_errors_exit_2_with_one_clear_line() {
    let input = sample("audit.ndjson");
    let input = input.to_str().unwrap();
    for (args, want) in [
        (
            vec!["report", "--input", input, "--report", "nope"],
            "no report named `nope`",
        ),
        (
            vec![
                "report",
                "--input",
                input,
                "--since",
                "2026-11-02",
                "--until",
                "2026-11-01",
            ],
            "is after --until",
        ),
        (
            vec!["report", "--input", input, "--since", "last tuesday"],
            "is not a time",
        ),
        (
            vec!["report", "--input", input, "--query", "missing.sql"],
            "missing.sql",
        ),
        (vec!["report"], "--input"),
    ] {
        let (code, _, stderr) = run(&args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains(want), "{args:?}: {stderr}");
    }
}

#[test]
fn shell_completions_and_the_manual_page_come_from_the_command_line_definition() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef ssprlens"),
        ("fish", "complete -c ssprlens"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let script = run_ok(&["completions", shell]);
        assert!(script.contains(marker), "{shell}: {script}");
        // Every subcommand and a nested option can be completed.
        for word in ["report", "fetch", "import", "demo", "rollout-date"] {
            assert!(script.contains(word), "{shell} completes no `{word}`");
        }
    }
    let page = run_ok(&["manpage"]);
    assert!(
        page.starts_with(".ie") || page.contains(".TH ssprlens"),
        "{page}"
    );
    assert!(page.contains("report"), "{page}");
    let (code, _, stderr) = run(&["completions", "tcsh"]);
    assert_eq!(code, 2, "{stderr}");
}

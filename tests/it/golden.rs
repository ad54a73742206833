//! Golden tests: every SQL file of `queries/` on a hand-checked fixture.
//!
//! `tests/fixtures/golden.ndjson` holds, by correlation id:
//! - a: login screen (`Client Type` = Logon on its 2nd row; the 1st row's is empty), completed by
//!   both success rows, one of them duplicated, plus a Core Directory side effect; IP 198.51.100.1;
//! - b: web (`clientType` = Web), abandoned; IP 2001:db8::1 (spelled in upper case on one row);
//! - c: client type `=HYPERLINK("x")`, which no rule maps: unknown; banned password, not completed;
//!   no IP;
//! - d: no client type, user agent Mozilla: web by user agent; completed; IP 203.0.113.5;
//! - e: an unlock (client type MobileApp: channel other), successful; IP 203.0.113.5;
//! - f, g: admin resets, success (IP 192.0.2.10) and failure (no IP);
//! - h, i: a block and a password change, which are never attempts.
//!
//! So: 6 resets (login_screen 1, web 2, unknown 1, admin 2), 3 completed (a, d, f), 6 users,
//! 4 distinct IPs; each completed channel holds a third of the completions. The expected CSVs
//! in `tests/golden/` follow from that by hand.

use super::common::{root, run_ok};

#[test]
fn every_query_file_matches_its_golden_output() {
    let mut checked = 0;
    let mut queries: Vec<_> = std::fs::read_dir(root().join("queries"))
        .expect("queries/")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "sql"))
        .collect();
    queries.sort();
    for query in queries {
        let name = query.file_stem().unwrap().to_string_lossy().into_owned();
        let golden = root().join("tests/golden").join(format!("{name}.csv"));
        let want = std::fs::read_to_string(&golden).unwrap_or_else(|_| {
            panic!(
                "queries/{name}.sql has no golden output {}",
                golden.display()
            )
        });
        let got = run_ok(&[
            "report",
            "--input",
            "tests/fixtures/golden.ndjson",
            "--query",
            query.to_str().unwrap(),
            "--format",
            "csv",
        ]);
        assert_eq!(got, want, "queries/{name}.sql");
        checked += 1;
    }
    assert!(checked >= 4, "only {checked} query files found");
}

#[test]
fn built_in_reports_are_the_query_files() {
    for name in ["channels", "client_types", "unlocks"] {
        let builtin = run_ok(&[
            "report",
            "--input",
            "tests/fixtures/golden.ndjson",
            "--report",
            name,
            "--format",
            "csv",
        ]);
        let golden =
            std::fs::read_to_string(root().join("tests/golden").join(format!("{name}.csv")))
                .unwrap();
        assert_eq!(builtin, golden, "{name}");
    }
}

//! Golden tests: every SQL file of `queries/` on a hand-checked fixture.
//!
//! `tests/fixtures/golden.ndjson` holds, by correlation id (times UTC; weeks from Monday
//! 2026-10-05, 10-12 and 10-19; the reports run with `--rollout-date 2026-10-12 --ip-users 4`
//! and otherwise the defaults: weeks in UTC, working hours 08:00-18:00 mon-fri, 2 resets in 24 h):
//! - a: ann, login screen (`Client Type` = Logon on its 2nd row; the 1st row's is empty),
//!   completed by both success rows, one of them duplicated, plus a Core Directory side effect;
//!   IP 198.51.100.1; Mon 10-05 08:00 (in working hours);
//! - b: bob, web (`clientType` = Web), abandoned after its first step: started, cancelled;
//!   IP 2001:db8::1 (spelled in upper case on one row); Tue 10-06 09:00;
//! - c: cid, client type `=HYPERLINK("x")`, which no rule maps: unknown; only a failed reset row
//!   (banned password): submitted_password, banned_password; no IP; Wed 10-07 03:00 (after hours);
//! - d: dan, no client type, user agent Mozilla: web by user agent; completed; IP 203.0.113.5;
//! - e: eve, an unlock (client type MobileApp: channel other), successful; IP 203.0.113.5;
//! - f, g: admin resets Sat 10-10, success (of fay, IP 192.0.2.10) and failure (of gus, no IP);
//! - h, i: a block and a password change, which are never attempts;
//! - j: ann, login screen, Mon 10-12 07:30 (after hours) from 203.0.113.5 (new for ann: her
//!   earlier attempt came from 198.51.100.1), every step (a method without the word "option"),
//!   completed by the flow row alone;
//! - k: ann again, Mon 10-12 20:00 (after hours, same IP: not new), completed by the reset row:
//!   her 2nd completed reset within 24 hours;
//! - l: ben, web, 203.0.113.77, shown options then blocked for 24 hours;
//! - m: cat, unknown (no client type, no user agent), 203.0.113.5, insufficient methods;
//! - n: dee, web (Browser), 2001:db8:0:1::5 (network 2001:db8::/48 like b), verified, then
//!   canceled before submitting a new password;
//! - o: eli, login screen, 198.51.100.1, shown options, then contacted an admin;
//! - p: admin reset of ann, Fri 10-16, 192.0.2.10;
//! - q: fin, other (MobileApp), 198.51.100.1, submitted a password, the reset row failed
//!   on-premises;
//! - r: gil, web, no IP, not enabled;
//! - s: hoa, unknown, 198.51.100.1, `user WAS presented with verification options.` and nothing
//!   after: shown_options, no_outcome;
//! - t: ivo, web, 198.51.100.9, Thu 10-22 23:00 (after hours), a reset row failing with a text no
//!   cause names: submitted_password, other_failure;
//! - u: admin reset of gil, Fri 10-23, 192.0.2.10.
//!
//! So: 18 resets (login_screen 4, web 6, other 1, unknown 3, admin 4), 7 completed (a, d, j, k and
//! three admin resets), 14 users, 7 distinct IPs; the calendar runs 10-05 to 10-23 (19 days: 7
//! before the rollout date, 12 from it). The expected CSVs in `tests/golden/` follow from that by
//! hand.

use super::common::{root, run, run_ok};

/// The built-in reports, as `ssprlens report --report` lists them when asked for one it lacks.
fn report_names() -> Vec<String> {
    let (code, _, stderr) = run(&[
        "report",
        "--input",
        "tests/fixtures/golden.ndjson",
        "--report",
        "?",
    ]);
    assert_eq!(code, 2, "{stderr}");
    let (_, names) = stderr
        .split_once("the reports are: ")
        .unwrap_or_else(|| panic!("no list of reports in: {stderr}"));
    names.trim().split(", ").map(str::to_owned).collect()
}

/// The command line of every golden run, but the report or query.
const GOLDEN_ARGS: [&str; 10] = [
    "report",
    "--input",
    "tests/fixtures/golden.ndjson",
    "--format",
    "csv",
    "--rollout-date",
    "2026-10-12",
    "--ip-users",
    "4",
    "--quiet",
];

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
        let got = run_ok(&[&GOLDEN_ARGS[..], &["--query", query.to_str().unwrap()]].concat());
        assert_eq!(got, want, "queries/{name}.sql");
        checked += 1;
    }
    assert!(checked >= 11, "only {checked} query files found");
}

#[test]
fn built_in_reports_are_the_query_files() {
    let names = report_names();
    assert!(names.len() >= 10, "{names:?}");
    for name in &names {
        let name = name.as_str();
        let builtin = run_ok(&[&GOLDEN_ARGS[..], &["--report", name]].concat());
        let golden =
            std::fs::read_to_string(root().join("tests/golden").join(format!("{name}.csv")))
                .unwrap();
        assert_eq!(builtin, golden, "{name}");
    }
}

//! Compaction of the history store: each day's batches become one, the reports and every
//! record stay as they were, and a compaction killed (SIGKILL) at any step loses nothing and
//! doubles nothing, for readers during the crash and after the next writer's recovery.

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::common::{
    all_reports, assert_channels, channels_from_store, files_under, run, run_ok, sample, ssprlens,
    truth,
};

/// The sample's Graph pages, in order.
fn graph_pages() -> Vec<PathBuf> {
    let mut pages: Vec<_> = std::fs::read_dir(sample("shapes/graph"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    pages.sort();
    pages
}

/// A store of the sample's Graph pages, each imported on its own and left uncompacted: many
/// days hold several batches, some attempts are split over batches.
fn store_of_pages(dir: &Path) -> PathBuf {
    let store = dir.join("store");
    let pages = graph_pages();
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
    store
}

fn copy_store(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Every id in every events file, sorted, repeats kept; and the files per day.
fn event_ids(store: &Path) -> (Vec<String>, Vec<usize>) {
    let (mut ids, mut per_day) = (Vec::new(), Vec::new());
    let mut days: Vec<_> = std::fs::read_dir(store.join("events"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    days.sort();
    for day in days {
        let files: Vec<_> = std::fs::read_dir(&day)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect();
        per_day.push(files.len());
        for file in files {
            let frame = ParquetReader::new(std::fs::File::open(&file).unwrap())
                .finish()
                .unwrap();
            let column = frame.column("id").unwrap().str().unwrap().clone();
            ids.extend(column.iter().map(|id| id.unwrap().to_owned()));
        }
    }
    ids.sort();
    (ids, per_day)
}

/// Files per kind and day of a store: (raw, parts, events) counts of each day.
fn files_per_day(store: &Path) -> Vec<(usize, usize, usize)> {
    let count = |kind: &str, day: &std::ffi::OsStr| {
        std::fs::read_dir(store.join(kind).join(day))
            .map(|entries| entries.count())
            .unwrap_or(0)
    };
    let mut days: Vec<_> = std::fs::read_dir(store.join("events"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    days.sort();
    days.iter()
        .map(|day| (count("raw", day), count("parts", day), count("events", day)))
        .collect()
}

/// Every line of the raw archive, sorted: each gzip file read as the concatenation of its
/// members.
fn raw_lines(store: &Path) -> Vec<String> {
    let mut lines = Vec::new();
    for (_, bytes) in files_under(&store.join("raw")) {
        let mut text = String::new();
        std::io::Read::read_to_string(
            &mut flate2::read::MultiGzDecoder::new(&bytes[..]),
            &mut text,
        )
        .unwrap();
        lines.extend(text.lines().map(str::to_owned));
    }
    lines.sort();
    lines
}

/// How many attempt parts a report of the store read (its log says).
fn parts_read(store: &Path) -> u64 {
    let (code, _, stderr) = run(&["report", "--store", store.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let line = stderr
        .lines()
        .find_map(|line| line.split_once("INFO read "))
        .expect("the store read is logged")
        .1;
    line.split_whitespace().next().unwrap().parse().unwrap()
}

fn no_journal(store: &Path) -> bool {
    std::fs::read_dir(store.join("journal"))
        .map(|mut entries| entries.next().is_none())
        .unwrap_or(true)
}

#[test]
fn compaction_changes_the_files_not_the_records_or_the_reports() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_of_pages(dir.path());
    let (ids, per_day) = event_ids(&store);
    let mut once = ids.clone();
    once.dedup();
    assert_eq!(once, ids, "the import stored each record once");
    assert!(per_day.iter().any(|&files| files > 1), "{per_day:?}");
    let raw = raw_lines(&store);
    let before = all_reports(&store, &dir.path().join("before"));
    let compacted = dir.path().join("compacted");
    copy_store(&store, &compacted);

    let printed = run_ok(&["compact", "--store", compacted.to_str().unwrap()]);
    let several = per_day.iter().filter(|&&files| files > 1).count();
    assert!(
        printed.contains(&format!("compacted {several} days: ")),
        "{printed}"
    );
    let batches: usize = per_day.iter().filter(|&&files| files > 1).sum();
    assert!(
        printed.contains(&format!(": {batches} batches → {several} ")),
        "{printed}"
    );
    assert_eq!(event_ids(&compacted), (ids, vec![1; per_day.len()]));
    assert!(
        files_per_day(&compacted)
            .iter()
            .all(|&(raw, parts, events)| (raw, parts, events) == (1, 1, 1)),
        "{:?}",
        files_per_day(&compacted)
    );
    assert_eq!(raw_lines(&compacted), raw);
    assert!(no_journal(&compacted));
    assert_eq!(all_reports(&compacted, &dir.path().join("after")), before);
    assert_channels(
        &channels_from_store(&compacted),
        &truth()["channels"],
        &["attempts", "completed", "users", "ips"],
    );
    let again = run_ok(&["compact", "--store", compacted.to_str().unwrap()]);
    assert!(again.starts_with("nothing to compact"), "{again}");
    assert_eq!(
        run(&["compact", "--store", compacted.to_str().unwrap(), "--quiet"]).1,
        ""
    );
}

#[test]
fn compact_takes_a_range_of_days_and_refuses_what_it_cannot_do() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_of_pages(dir.path());
    let per_day = files_per_day(&store);
    let mut days: Vec<_> = std::fs::read_dir(store.join("events"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    days.sort();
    let (index, day) = days
        .iter()
        .enumerate()
        .find(|(index, _)| per_day[*index].2 > 1)
        .map(|(index, day)| (index, day.strip_prefix("date=").unwrap().to_owned()))
        .unwrap();
    let printed = run_ok(&[
        "compact",
        "--store",
        store.to_str().unwrap(),
        "--since",
        &day,
        "--until",
        &day,
    ]);
    assert!(printed.starts_with(&format!("{day}: ")), "{printed}");
    assert!(printed.contains("compacted 1 days"), "{printed}");
    let after = files_per_day(&store);
    for (other, (was, is)) in per_day.iter().zip(&after).enumerate() {
        let expected = if other == index { (1, 1, 1) } else { *was };
        assert_eq!(*is, expected, "day {}", days[other]);
    }

    // A store that does not exist stays so (exit 1); a bad day is a usage error (2); a store
    // another writer holds is locked (7), untouched.
    let missing = dir.path().join("missing");
    let (code, _, stderr) = run(&["compact", "--store", missing.to_str().unwrap()]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("no such store"), "{stderr}");
    assert!(!missing.exists());
    let (code, _, stderr) = run(&[
        "compact",
        "--store",
        store.to_str().unwrap(),
        "--since",
        "yesterday-ish",
    ]);
    assert_eq!(code, 2, "{stderr}");
    let lock = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(store.join("lock"))
        .unwrap();
    lock.lock().unwrap();
    let (code, _, stderr) = run(&["compact", "--store", store.to_str().unwrap()]);
    assert_eq!(code, 7, "{stderr}");
    assert_eq!(files_per_day(&store), after);
}

#[test]
fn import_compacts_the_days_it_wrote_into() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let pages = graph_pages();
    for page in &pages {
        let (code, _, stderr) = run(&[
            "import",
            "--store",
            store.to_str().unwrap(),
            "--input",
            page.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{stderr}");
    }
    let (_, per_day) = event_ids(&store);
    assert_eq!(per_day, vec![1; per_day.len()]);
    assert!(no_journal(&store));
    assert_channels(
        &channels_from_store(&store),
        &truth()["channels"],
        &["attempts", "completed", "users", "ips"],
    );
}

/// `ssprlens compact` killed with SIGKILL at each step of its protocol (a hook of test builds
/// names the step; the process kills itself there), on the first day or a later one: a reader
/// of the crashed store (no lock, no recovery) reports as the uncompacted store does, and so
/// does the store once a compaction ran again, each record in it once, one batch a day.
#[test]
fn compaction_killed_at_any_step_loses_nothing_and_doubles_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_of_pages(dir.path());
    let expected = all_reports(&store, &dir.path().join("expected"));
    assert_channels(
        &expected
            .iter()
            .find(|(name, _)| name == "channels.csv")
            .unwrap()
            .1,
        &truth()["channels"],
        &["attempts", "completed", "users", "ips"],
    );
    let (ids, per_day) = event_ids(&store);
    let raw = raw_lines(&store);
    // Reports tolerate a part read twice (parts of one correlation id merge); the count of
    // parts read does not: a reader that read a replaced batch beside its replacement reads
    // more than the uncompacted store holds.
    let uncompacted_parts = parts_read(&store);
    let steps = [
        ("journal", 1),
        ("raw", 1),
        ("parts", 1),
        ("committed", 1),
        ("removing", 1),
        ("removing", 4),
        ("done", 1),
        ("journal", 3),
        ("committed", 3),
    ];
    for (index, (step, nth)) in steps.into_iter().enumerate() {
        let crashed = dir.path().join(format!("crashed-{index}"));
        copy_store(&store, &crashed);
        let output = ssprlens()
            .args(["compact", "--store", crashed.to_str().unwrap()])
            .env("SSPRLENS_CRASH_AT", step)
            .env("SSPRLENS_CRASH_AFTER", nth.to_string())
            .output()
            .unwrap();
        assert_eq!(
            output.status.signal(),
            Some(9),
            "killed at {step} #{nth}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let during = all_reports(&crashed, &dir.path().join(format!("during-{index}")));
        assert_eq!(
            during, expected,
            "a reader of the store killed at {step} #{nth}"
        );
        let read = parts_read(&crashed);
        assert!(
            read <= uncompacted_parts,
            "killed at {step} #{nth}: {read} parts read, {uncompacted_parts} stored before"
        );

        let printed = run_ok(&["compact", "--store", crashed.to_str().unwrap()]);
        assert!(no_journal(&crashed), "{printed}");
        assert_eq!(
            event_ids(&crashed),
            (ids.clone(), vec![1; per_day.len()]),
            "killed at {step} #{nth}"
        );
        assert_eq!(raw_lines(&crashed), raw, "killed at {step} #{nth}");
        let after = all_reports(&crashed, &dir.path().join(format!("after-{index}")));
        assert_eq!(after, expected, "recovered from {step} #{nth}");
    }
}

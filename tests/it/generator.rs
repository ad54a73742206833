//! The committed sample tenant is exactly what the generator makes: the truth the other tests
//! compare against can be regenerated and checked by anyone.

use std::process::Command;

use super::common::root;

#[test]
fn the_committed_sample_is_what_the_generator_writes() {
    let dir = tempfile::tempdir().unwrap();
    let status = Command::new("python3")
        .arg(root().join("scripts/generate.py"))
        .args(["sample", "--out"])
        .arg(dir.path())
        .status()
        .expect("python3 runs (the generator needs Python 3.11+)");
    assert!(status.success());
    let committed = root().join("data/sample");
    let mut compared = 0;
    for entry in walkdir::WalkDir::new(dir.path()).sort_by_file_name() {
        let entry = entry.unwrap();
        if !entry.file_type().is_file() {
            continue;
        }
        let relative = entry.path().strip_prefix(dir.path()).unwrap();
        let want = std::fs::read(committed.join(relative))
            .unwrap_or_else(|_| panic!("{} is not committed", relative.display()));
        assert!(
            std::fs::read(entry.path()).unwrap() == want,
            "{} differs from the generator's output",
            relative.display()
        );
        compared += 1;
    }
    assert!(compared >= 10, "only {compared} files generated");
}

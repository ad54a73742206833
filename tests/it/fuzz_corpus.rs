//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/`) and the inputs of past findings
//! (`fuzz/regressions/<target>/`) through the fuzz targets' own checks, on stable and without
//! libFuzzer: fuzzing runs outside CI, its findings stay fixed inside it.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use ssprlens::fuzz_checks::{Check, TARGETS};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// Runs `check` on every file of `dir`; returns how many ran and the files whose check panicked.
fn replay(dir: &Path, check: Check) -> (usize, Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return (0, Vec::new());
    };
    let mut paths: Vec<PathBuf> = entries.map(|entry| entry.unwrap().path()).collect();
    paths.sort();
    let failed = paths
        .iter()
        .filter(|path| {
            let data = std::fs::read(path).unwrap();
            catch_unwind(AssertUnwindSafe(|| check(&data))).is_err()
        })
        .cloned()
        .collect();
    (paths.len(), failed)
}

#[test]
fn every_corpus_input_passes_its_targets_check() {
    let mut failed = Vec::new();
    for (target, check) in TARGETS {
        let (corpus, corpus_failed) = replay(&fuzz_dir().join("corpus").join(target), check);
        let (_, regressions_failed) = replay(&fuzz_dir().join("regressions").join(target), check);
        assert!(corpus > 0, "fuzz target {target} has no committed corpus");
        failed.extend(corpus_failed);
        failed.extend(regressions_failed);
    }
    assert!(failed.is_empty(), "checks failed on {failed:#?}");
}

#[test]
fn a_panicking_check_fails_the_replay() {
    let dir = fuzz_dir().join("regressions").join("lean_vs_full");
    let (count, failed) = replay(&dir, |data| assert!(data.is_empty(), "not empty"));
    assert!(count > 0);
    assert_eq!(failed.len(), count);
}

#[test]
fn every_check_is_a_fuzz_target() {
    for (target, _) in TARGETS {
        let source = fuzz_dir().join("fuzz_targets").join(format!("{target}.rs"));
        let text = std::fs::read_to_string(&source)
            .unwrap_or_else(|err| panic!("{}: {err}", source.display()));
        assert!(
            text.contains("ssprlens::fuzz_checks::"),
            "{}",
            source.display()
        );
        let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).unwrap();
        assert!(
            manifest.contains(&format!("name = \"{target}\"")),
            "{target}"
        );
    }
}

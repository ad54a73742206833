//! The contributors' guide agrees with the tree: its module map lists every file under `src/`
//! and nothing else.

use std::collections::BTreeSet;

use super::common::root;

#[test]
fn the_module_map_lists_every_module_and_nothing_else() {
    let guide = std::fs::read_to_string(root().join("docs/ARCHITECTURE.md")).unwrap();
    let listed: BTreeSet<String> = guide
        .lines()
        .filter_map(|line| line.strip_prefix("| `src/"))
        .filter_map(|rest| rest.split_once('`'))
        .map(|(path, _)| format!("src/{path}"))
        .collect();
    let present: BTreeSet<String> = walkdir::WalkDir::new(root().join("src"))
        .into_iter()
        .map(Result::unwrap)
        .filter(|entry| entry.path().extension().is_some_and(|ext| ext == "rs"))
        .map(|entry| {
            entry
                .path()
                .strip_prefix(root())
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let missing: Vec<_> = present.difference(&listed).collect();
    let stale: Vec<_> = listed.difference(&present).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "docs/ARCHITECTURE.md's module map is out of date (run python3 scripts/module_map.py): \
         not listed {missing:?}, listed but absent {stale:?}"
    );
}

//! Property tests of attempt building: random rows of a small tenant (the vocabulary Entra
//! writes, few correlation ids so rows collide), read and folded as `ssprlens report` does.
//! Attempts do not depend on record order nor on records read twice (by either reader); folds of parts merge to
//! the whole, and so do the parts tables of stored batches; the parallel reader folds what the sequential one builds; every self-service
//! attempt has exactly one final state and per channel completed ≤ attempts.

use proptest::prelude::*;
use proptest::sample::Index;

use ssprlens::fuzz_checks::attempts::{
    ROW_BYTES, Row, assert_attempt_invariants, attempts_of as attempts_of_events,
    attempts_of_stored_parts, fold_in_parts, fold_lines, ndjson, read_events,
};
use ssprlens::fuzz_checks::{Attempt, ChannelRules};

/// Each property reads files and folds; a few dozen cases keep the suite fast in debug builds.
const CASES: u32 = 32;

fn rows() -> impl Strategy<Value = Vec<Row>> {
    prop::collection::vec(any::<[u8; ROW_BYTES]>().prop_map(Row::from_bytes), 0..40)
}

fn attempts_of(lines: &[String]) -> Vec<Attempt> {
    attempts_of_events(&read_events(lines), &ChannelRules::builtin())
}

/// The rows' lines, and the same lines in another order.
fn lines_and_shuffled() -> impl Strategy<Value = (Vec<String>, Vec<String>)> {
    rows().prop_flat_map(|rows| {
        let lines = ndjson(&rows);
        (Just(lines.clone()), Just(lines).prop_shuffle())
    })
}

/// The rows' lines, and the same lines with some read again, in another order.
fn lines_and_with_duplicates() -> impl Strategy<Value = (Vec<String>, Vec<String>)> {
    (rows(), prop::collection::vec(any::<Index>(), 1..20)).prop_flat_map(|(rows, again)| {
        let lines = ndjson(&rows);
        let mut with_duplicates = lines.clone();
        if !lines.is_empty() {
            with_duplicates.extend(again.iter().map(|index| index.get(&lines).clone()));
        }
        (Just(lines), Just(with_duplicates).prop_shuffle())
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn attempts_do_not_depend_on_record_order((lines, shuffled) in lines_and_shuffled()) {
        prop_assert_eq!(attempts_of(&shuffled), attempts_of(&lines));
    }

    #[test]
    fn records_read_twice_count_once((lines, with_duplicates) in lines_and_with_duplicates()) {
        prop_assert_eq!(attempts_of(&with_duplicates), attempts_of(&lines));
        // The parallel reader's builders recognise the copies themselves.
        prop_assert_eq!(fold_lines(&with_duplicates, &ChannelRules::builtin()), attempts_of(&lines));
    }

    #[test]
    fn folds_of_parts_merge_to_the_whole(rows in rows(), cut in any::<Index>()) {
        let events = read_events(&ndjson(&rows));
        let rules = ChannelRules::builtin();
        let cut = cut.index(events.len() + 1);
        prop_assert_eq!(fold_in_parts(&events, cut, &rules), attempts_of_events(&events, &rules));
    }

    #[test]
    fn parts_of_stored_batches_merge_to_the_whole(rows in rows(), cut in any::<Index>()) {
        let events = read_events(&ndjson(&rows));
        let rules = ChannelRules::builtin();
        let cut = cut.index(events.len() + 1);
        prop_assert_eq!(
            attempts_of_stored_parts(&events, cut, &rules),
            attempts_of_events(&events, &rules)
        );
    }

    #[test]
    fn the_parallel_reader_folds_what_the_sequential_one_builds(rows in rows()) {
        let lines = ndjson(&rows);
        prop_assert_eq!(fold_lines(&lines, &ChannelRules::builtin()), attempts_of(&lines));
    }

    #[test]
    fn every_attempt_has_one_final_state_and_completed_at_most_attempts(rows in rows()) {
        let events = read_events(&ndjson(&rows));
        assert_attempt_invariants(&attempts_of_events(&events, &ChannelRules::builtin()), &events);
    }
}

//! `ssprlens compact`, and the compaction `import`, `fetch` and `run` end with: each chosen
//! day's batches in the store merged into one (see the store's `compact` module).

use std::fmt::Write as _;
use std::time::Instant;

use tracing::{info, warn};

use crate::config::CompactConfig;
use crate::error::Error;
use crate::reporter::export::write_bytes;
use crate::store::{DayCompaction, Store};
use crate::transformer::attempts::attempt_parts;

/// `ssprlens compact`: compacts the chosen days of an existing store and, unless `quiet`,
/// prints what it did, a line per day and the totals.
pub fn compact(config: &CompactConfig, quiet: bool) -> Result<(), Error> {
    // Refuses a store that does not exist instead of creating an empty one.
    Store::open_for_reading(&config.store)?;
    let mut store = Store::open_for_writing(&config.store)?;
    let start = Instant::now();
    let days = store.compact(config.days, &attempt_parts)?;
    if quiet {
        return Ok(());
    }
    let mut text = String::new();
    for day in &days {
        let _ = writeln!(
            text,
            "{}: {} batches → {}, {} attempt parts → {}, {} records",
            day.day,
            day.files_before,
            day.files_after,
            day.parts_before,
            day.parts_after,
            day.records
        );
    }
    let _ = writeln!(
        text,
        "{} in {:.1} s",
        summary(&days),
        start.elapsed().as_secs_f64()
    );
    Ok(write_bytes(text.as_bytes(), None)?)
}

/// What `import`, `fetch` and `run` do last: the days they wrote into compacted where worth it
/// (more than one batch). A failure leaves the store as it was, each record stored once, and
/// is a warning: the next run or `ssprlens compact` tries again.
pub(super) fn compact_touched(store: &mut Store, enabled: bool) {
    if !enabled {
        return;
    }
    let start = Instant::now();
    match store.compact_touched(&attempt_parts) {
        Ok(days) if days.is_empty() => {}
        Ok(days) => info!(
            "{} in {:.1} s",
            summary(&days),
            start.elapsed().as_secs_f64()
        ),
        Err(err) => warn!(
            "compacting the days written into failed ({err}); the store is whole, `ssprlens compact` tries again"
        ),
    }
}

/// One line of totals.
fn summary(days: &[DayCompaction]) -> String {
    if days.is_empty() {
        return "nothing to compact: each day chosen is one batch already".to_owned();
    }
    let total = |count: fn(&DayCompaction) -> usize| days.iter().map(count).sum::<usize>();
    format!(
        "compacted {} days: {} batches → {} (each a raw, a parts and an events file), {} attempt parts → {}",
        days.len(),
        total(|day| day.files_before),
        total(|day| day.files_after),
        total(|day| day.parts_before),
        total(|day| day.parts_after),
    )
}

//! `ssprlens fetch`, `run` and `import`: Graph (or export files) → records → events → store.
//! A fetch from Log Analytics goes to [`super::workspace`], archive locations to
//! [`super::archive`].
//!
//! The window starts at `--since`, else at the store's watermark minus the overlap (events
//! are logged late), else 30 days back. Records already stored are skipped by id. Everything
//! fetched is written before the watermark moves, and only a complete window moves it; an
//! interrupted or failed fetch keeps what it wrote and leaves the watermark, so the next run
//! fetches the rest.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use tracing::{info, warn};

use super::RejectLog;
use super::archive::import_archives;
use super::compact::compact_touched;
use super::fit::warn_if_unknown;
use super::load::{Load, Needs, each_event, load};
pub use super::progress::Progress;
use super::report::write_all_reports;
use crate::config::Source;
use crate::config::{FIRST_FETCH_DAYS, FetchConfig, ImportConfig, RunConfig};
use crate::error::Error;
use crate::fetcher::graph::auth::TokenSource;
use crate::fetcher::graph::pager::{FetchStats, GraphQuery, Pager};
use crate::fetcher::graph::{Cancel, FetchError, http};
use crate::store::{FORMAT, State, Store, StoredRecord};
use crate::transformer::attempts::attempt_parts;
use crate::transformer::event::normalize;
use crate::transformer::window::Window;

/// Records are written to the store every this many pages or records, whichever comes first:
/// an interrupted fetch loses at most that much work, and files stay few.
const FLUSH_PAGES: u32 = 5;
const FLUSH_RECORDS: usize = 10_000;

/// What a fetch did.
#[derive(Debug, Clone)]
pub struct FetchOutcome {
    pub stats: FetchStats,
    /// Records new to the store.
    pub stored: u64,
    /// Records fetched again that the store already had (the overlap).
    pub already_stored: u64,
    pub rejects: u64,
}

/// The progress display for a fetch.
pub fn progress(quiet: bool, text_logs: bool) -> Progress {
    Progress::choose(quiet, text_logs)
}

/// Fetches the window into the store.
pub async fn fetch(
    config: &FetchConfig,
    cancel: Cancel,
    progress: &Progress,
) -> Result<FetchOutcome, Error> {
    if let Some(workspace) = &config.log_analytics {
        return super::workspace::fetch_workspace(config, workspace, cancel, progress).await;
    }
    let mut store = Store::open_for_writing(&config.store)?;
    let state = store.state()?;
    let watermark = state.as_ref().and_then(|state| state.watermark);
    let since = config.since.unwrap_or_else(|| match watermark {
        Some(watermark) => watermark - config.overlap,
        None => config.until - Duration::days(FIRST_FETCH_DAYS),
    });
    let until = config.until;
    info!(
        "fetching {since} .. {until} into {} ({} per page, at most {})",
        config.store.display(),
        config.page_size,
        config.throttle
    );
    let query = GraphQuery {
        graph_url: config.graph_url.clone(),
        services: config.services.clone(),
        since,
        until,
        page_size: config.page_size,
        throttle: config.throttle,
        retry: config.retry,
    };
    let mut known = store.known_ids(
        (since - Duration::days(1)).date_naive(),
        (until + Duration::days(1)).date_naive(),
    )?;
    let client = http::client(config.timeout, config.ca_cert.as_deref()).map_err(Error::Usage)?;
    let tokens = TokenSource::new(config.auth.clone(), client.clone())
        .map_err(|err| Error::Fetch(FetchError::Auth(err)))?;
    let mut pager = Pager::new(&query, client, tokens, cancel)?;
    // The tenant signed in to is the store's: a store of another tenant is refused up front.
    let tenant = pager.tenant().await;
    let mut recorded = state.clone().unwrap_or_default();
    if let Some(tenant) = &tenant {
        recorded.record_tenant(tenant).map_err(Error::Usage)?;
    }
    let mut rejects = RejectLog::open(config.rejects.as_deref())?;
    let mut outcome = FetchOutcome {
        stats: FetchStats::default(),
        stored: 0,
        already_stored: 0,
        rejects: 0,
    };
    let mut batch: Vec<StoredRecord> = Vec::new();
    let mut reached: Option<DateTime<Utc>> = None;
    let result = loop {
        let page = match pager.next_page().await {
            Ok(Some(page)) => page,
            Ok(None) => break Ok(()),
            Err(err) => break Err(err),
        };
        let place = format!("Graph page {}", page.number);
        for reject in page.rejects {
            rejects.reject(&place, reject.index as u64 + 1, &reject.reason, &reject.raw)?;
        }
        for (index, fetched) in page.records.into_iter().enumerate() {
            let event = match normalize(fetched.record) {
                Ok(event) => event,
                Err(reason) => {
                    rejects.reject(&place, index as u64 + 1, &reason, &fetched.raw)?;
                    continue;
                }
            };
            if !known.insert(event.id.clone()) {
                outcome.already_stored += 1;
                continue;
            }
            reached = match (reached, event.time) {
                (Some(reached), Some(time)) => Some(reached.min(time)),
                (reached, time) => reached.or(time),
            };
            outcome.stored += 1;
            batch.push(StoredRecord {
                event,
                raw: fetched.raw,
            });
        }
        if page.number % FLUSH_PAGES == 0 || batch.len() >= FLUSH_RECORDS {
            store.write_batch(&batch, &attempt_parts)?;
            batch.clear();
        }
        progress.update(pager.stats(), outcome.stored, reached);
    };
    // What was fetched is good even when the fetch did not finish: keep it.
    store.write_batch(&batch, &attempt_parts)?;
    progress.finish();
    outcome.rejects = rejects.count();
    rejects.close()?;
    outcome.stats = pager.stats().clone();
    result?;
    let moved = match watermark {
        Some(watermark) if since > watermark => {
            warn!(
                "a gap remains between the watermark {watermark} and --since {since}; the watermark stays"
            );
            watermark
        }
        Some(watermark) => watermark.max(until),
        None => until,
    };
    let mut saved = State {
        format: FORMAT,
        watermark: Some(moved),
        service: None,
        services: config.services.clone(),
        updated: Utc::now(),
        // Re-read: the other sources' entries are kept as they are.
        ..store.state()?.unwrap_or_default()
    };
    saved.tenant_id = recorded.tenant_id;
    store.save_state(&saved)?;
    compact_touched(&mut store, config.compact);
    info!(
        "fetched {} pages, {} records: {} new, {} already stored, {} rejected; waited {:.1}s ({} throttled, {} retries); watermark {moved}",
        outcome.stats.pages,
        outcome.stats.records,
        outcome.stored,
        outcome.already_stored,
        outcome.rejects,
        outcome.stats.waited.as_secs_f64(),
        outcome.stats.throttled,
        outcome.stats.retries
    );
    Ok(outcome)
}

/// `ssprlens import`: export files and archive locations into the store, each record once;
/// Graph's watermark does not move (an archive location keeps its own). Returns the number of
/// rejects.
pub async fn import(config: &ImportConfig) -> Result<u64, Error> {
    let mut store = Store::open_for_writing(&config.store)?;
    let mut state = store.state()?.unwrap_or_default();
    if let Some(tenant) = &config.tenant_id {
        state.record_tenant(tenant).map_err(Error::Usage)?;
    }
    let mut known = store.known_ids(NaiveDate::MIN, NaiveDate::MAX)?;
    let mut rejects = RejectLog::open(config.rejects.as_deref())?;
    let (mut batch, mut stored, mut already) = (Vec::new(), 0u64, 0u64);
    each_event(&config.inputs, &mut rejects, |event, bytes| {
        if !known.insert(event.id.clone()) {
            already += 1;
            return Ok(());
        }
        stored += 1;
        batch.push(StoredRecord {
            event,
            raw: bytes.to_vec(),
        });
        if batch.len() >= FLUSH_RECORDS {
            store.write_batch(&batch, &attempt_parts)?;
            batch.clear();
        }
        Ok(())
    })?;
    store.write_batch(&batch, &attempt_parts)?;
    if let Some(archive) = &config.archive {
        import_archives(archive, &mut store, &mut known, &mut rejects).await?;
    }
    // Re-read: the archives' entries are kept as they are.
    store.save_state(&State {
        updated: Utc::now(),
        tenant_id: state.tenant_id,
        ..store.state()?.unwrap_or_default()
    })?;
    compact_touched(&mut store, config.compact);
    let count = rejects.count();
    rejects.close()?;
    if !config.inputs.is_empty() {
        info!(
            "imported {stored} records into {} ({already} were already stored, {count} rejected)",
            config.store.display()
        );
    }
    Ok(count)
}

/// `ssprlens run`: fetch, then every report from the whole store into the output directory.
pub async fn run(
    config: &RunConfig,
    cancel: Cancel,
    progress: &Progress,
) -> Result<FetchOutcome, Error> {
    let mut outcome = fetch(&config.fetch, cancel, progress).await?;
    if let Some(archive) = &config.archive {
        let mut store = Store::open_for_writing(&config.fetch.store)?;
        let mut known = store.known_ids(NaiveDate::MIN, NaiveDate::MAX)?;
        // The fetch's rejects file is complete: the archive's rejects are named and counted.
        let mut rejects = RejectLog::open(None)?;
        import_archives(archive, &mut store, &mut known, &mut rejects).await?;
        compact_touched(&mut store, config.fetch.compact);
        outcome.rejects += rejects.count();
    }
    let (mut tables, _) = load(&Load {
        source: &Source::Store(config.fetch.store.clone()),
        needs: Needs::Attempts,
        rules: &config.rules,
        window: &Window::default(),
        settings: &config.settings,
        rejects: None,
        strict: false,
    })?;
    warn_if_unknown(&mut tables, config.settings.unknown_warning)?;
    let written = write_all_reports(
        &mut tables,
        &config.out,
        config.rendering,
        &config.settings.params,
    )?;
    info!(
        "wrote {} reports into {}",
        written.len(),
        config.out.display()
    );
    #[cfg(feature = "lake")]
    if let Some(target) = &config.publish {
        super::publish::publish_store(
            &config.fetch.store,
            target,
            None,
            &config.rules,
            &config.settings,
        )
        .await?;
    }
    Ok(outcome)
}

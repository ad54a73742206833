//! `ssprlens fetch --source log-analytics`: a workspace's AuditLogs → records → events → store.
//!
//! The range starts at `--since`, else at the workspace's watermark minus the overlap, else 90
//! days back, and is cut into day windows read one after another. A window whose answer is
//! partial is never stored: it is split in two halves, each asked again, down to a second. Each
//! complete window is written to the store, then the workspace's watermark moves to its end
//! (windows complete in order, so everything before the watermark is in the store); a failed or
//! interrupted fetch keeps every complete window. Rows are checked again on this side (service and
//! activity), decoded as the file readers decode them, kept verbatim, and stored once by id.

use chrono::{DateTime, Duration, Utc};
use tracing::{info, warn};

use super::RejectLog;
use super::compact::compact_touched;
use super::fetch::{FetchOutcome, Progress};
use crate::config::{FIRST_WORKSPACE_DAYS, FetchConfig, Workspace};
use crate::error::Error;
use crate::fetcher::graph::auth::TokenSource;
use crate::fetcher::graph::{Cancel, FetchError, http};
use crate::fetcher::log_analytics::client::LogsClient;
use crate::fetcher::log_analytics::kql::{self, SMALLEST_WINDOW, Window};
use crate::fetcher::record;
use crate::store::{State, Store, StoredRecord};
use crate::transformer::attempts::attempt_parts;
use crate::transformer::event::normalize;

/// Where a fetch from a workspace starts, given the workspace's watermark.
fn start(config: &FetchConfig, watermark: Option<DateTime<Utc>>) -> DateTime<Utc> {
    config.since.unwrap_or_else(|| match watermark {
        Some(watermark) => watermark - config.overlap,
        None => config.until - Duration::days(FIRST_WORKSPACE_DAYS),
    })
}

/// The KQL of the first window, as `--print-query` shows it.
pub fn first_query(config: &FetchConfig) -> String {
    let since = start(config, None);
    let window = kql::day_windows(since, config.until)
        .into_iter()
        .next()
        .unwrap_or(Window {
            start: since,
            end: config.until,
        });
    format!(
        "// timespan: {}\n{}",
        window.timespan(),
        kql::query(&window)
    )
}

pub async fn fetch_workspace(
    config: &FetchConfig,
    workspace: &Workspace,
    cancel: Cancel,
    progress: &Progress,
) -> Result<FetchOutcome, Error> {
    let mut store = Store::open_for_writing(&config.store)?;
    let key = State::workspace_key(&workspace.id);
    let watermark = store
        .state()?
        .and_then(|state| state.sources.get(&key).and_then(|source| source.watermark));
    let since = start(config, watermark);
    let until = config.until;
    // The watermark moves only when this fetch joins on to what the store has.
    let contiguous = watermark.is_none_or(|watermark| since <= watermark);
    if !contiguous {
        warn!(
            "a gap remains between the workspace's watermark {} and --since {since}; the watermark stays",
            watermark.unwrap_or(since)
        );
    }
    info!(
        "fetching workspace {} from {since} to {until} into {} in day windows (at most {})",
        workspace.id,
        config.store.display(),
        config.throttle
    );
    let client = http::client(config.timeout, config.ca_cert.as_deref()).map_err(Error::Usage)?;
    let tokens = TokenSource::new(config.auth.clone(), client.clone())
        .map_err(|err| Error::Fetch(FetchError::Auth(err)))?;
    // The tenant signed in to is the store's: a store of another tenant is refused up front.
    let mut recorded = store.state()?.unwrap_or_default();
    if let Some(tenant) = tokens.tenant().await {
        recorded.record_tenant(&tenant).map_err(Error::Usage)?;
    }
    let mut logs = LogsClient::new(
        &workspace.logs_url,
        &workspace.id,
        client,
        tokens,
        config.throttle,
        config.retry,
        cancel,
    )?;
    let mut known = store.known_ids(
        (since - Duration::days(1)).date_naive(),
        (until + Duration::days(1)).date_naive(),
    )?;
    let mut rejects = RejectLog::open(config.rejects.as_deref())?;
    let mut outcome = FetchOutcome {
        stats: Default::default(),
        stored: 0,
        already_stored: 0,
        rejects: 0,
    };
    let started = std::time::Instant::now();
    let mut unselected = 0u64;
    // Oldest last, so that `pop` takes windows in time order.
    let mut pending: Vec<Window> = kql::day_windows(since, until).into_iter().rev().collect();
    let result = loop {
        let Some(window) = pending.pop() else {
            break Ok(());
        };
        let answer = match logs.query(&window).await {
            Ok(answer) => answer,
            Err(err) => break Err(err),
        };
        if let Some(why) = &answer.partial {
            let Some((first, second)) = window.halves() else {
                break Err(FetchError::QueryRefused(format!(
                    "the answer for {window} is still partial at {}s or less ({why}); \
                     nothing of it was stored",
                    SMALLEST_WINDOW.num_seconds()
                )));
            };
            logs.note_split();
            info!("the answer for {window} is partial ({why}); asking for each half");
            pending.push(second);
            pending.push(first);
            continue;
        }
        let place = format!("Log Analytics {window}");
        for reject in answer.rejects {
            rejects.reject(&place, reject.index as u64 + 1, &reject.reason, &reject.raw)?;
        }
        let mut batch = Vec::new();
        for (index, raw) in answer.rows.into_iter().enumerate() {
            let line = index as u64 + 1;
            let record = match record::decode(&raw) {
                Ok(record) => record,
                Err(reason) => {
                    rejects.reject(&place, line, &reason, &raw)?;
                    continue;
                }
            };
            if !kql::is_selected(
                record.logged_by_service.as_deref(),
                record.activity_display_name.as_deref(),
            ) {
                unselected += 1;
                continue;
            }
            let event = match normalize(record) {
                Ok(event) => event,
                Err(reason) => {
                    rejects.reject(&place, line, &reason, &raw)?;
                    continue;
                }
            };
            if !known.insert(event.id.clone()) {
                outcome.already_stored += 1;
                continue;
            }
            outcome.stored += 1;
            batch.push(StoredRecord { event, raw });
        }
        store.write_batch(&batch, &attempt_parts)?;
        if contiguous {
            let mut state = store.state()?.unwrap_or_default();
            let source = state.sources.entry(key.clone()).or_default();
            source.watermark = Some(source.watermark.map_or(window.end, |w| w.max(window.end)));
            state.updated = Utc::now();
            state.tenant_id.clone_from(&recorded.tenant_id);
            store.save_state(&state)?;
        }
        progress.update(logs.stats(), outcome.stored, Some(window.end));
    };
    progress.finish();
    outcome.rejects = rejects.count();
    rejects.close()?;
    outcome.stats = logs.stats().clone();
    if unselected > 0 {
        info!(
            "{unselected} rows of other services or activities were left out (checked on this side)"
        );
    }
    result?;
    info!(
        "fetched {} windows ({} split) with {} requests in {:.1}s: {} rows, {} new, {} already stored, {} rejected; waited {:.1}s ({} throttled, {} retries)",
        outcome.stats.pages,
        outcome.stats.splits,
        outcome.stats.requests,
        started.elapsed().as_secs_f64(),
        outcome.stats.records,
        outcome.stored,
        outcome.already_stored,
        outcome.rejects,
        outcome.stats.waited.as_secs_f64(),
        outcome.stats.throttled,
        outcome.stats.retries
    );
    compact_touched(&mut store, config.compact);
    Ok(outcome)
}

//! `ssprlens publish` and `run --publish`: the store's events and attempts, loaded as the
//! reports load them (the same channel rules and pseudonyms), cut by day and published to the
//! lake's Delta tables (see [`crate::lake`]).

use std::path::Path;
use std::time::Instant;

use polars::prelude::DataFrame;
use tracing::info;

use super::load::{Load, Needs, load};
use crate::config::{LakeTarget, PublishConfig, ReportSettings, Source};
use crate::error::Error;
use crate::lake::{DayFile, LakeError, day_files, delta_types, publish_table};
use crate::storage::Container;
use crate::store::Store;
use crate::transformer::rules::ChannelRules;
use crate::transformer::window::Window;

/// The columns of the lake's `attempts` table.
const ATTEMPT_COLUMNS: &str = "attempt_id, kind, channel, client_type, user_agent, completed, \
    started, ended, \"user\", ip_address, \"rows\", furthest_step, final_state, ip_network, \
    completed_at, admin_source, new_ip_for_user";

/// Publishes the store's events and attempts to the lake.
pub async fn publish(config: &PublishConfig) -> Result<(), Error> {
    publish_store(
        &config.store,
        &config.target,
        config.tenant_id.as_deref(),
        &config.rules,
        &config.settings,
    )
    .await
}

/// Publishes the store `dir` to `target`: as the tenant the store records, else `tenant_id`;
/// the attempts as `rules` and `settings` (pseudonyms) make them.
pub async fn publish_store(
    dir: &Path,
    target: &LakeTarget,
    tenant_id: Option<&str>,
    rules: &ChannelRules,
    settings: &ReportSettings,
) -> Result<(), Error> {
    let started = Instant::now();
    let state = Store::open_for_reading(dir)?.state()?.unwrap_or_default();
    let tenant = match (state.tenant_id.as_deref(), tenant_id) {
        (Some(recorded), Some(given)) if recorded != given => {
            info!(
                "publishing as tenant {recorded}, which the store records (--tenant-id {given} only signs in to storage)"
            );
            recorded.to_owned()
        }
        (Some(tenant), _) | (None, Some(tenant)) => tenant.to_owned(),
        (None, None) => {
            return Err(Error::Usage(format!(
                "the store {} records no tenant: give --tenant-id (fetch and run record the tenant \
                 they sign in to; import --tenant-id records it for exports)",
                dir.display()
            )));
        }
    };
    let generation = state.updated.timestamp_millis();
    let ((event_sample, event_days), (attempt_sample, attempt_days)) =
        tokio::task::block_in_place(|| tables_by_day(dir, rules, settings))?;
    let container = Container::open(&target.location, &target.access, target.timeout)
        .map_err(LakeError::Usage)?;
    publish_table(
        &container,
        "events",
        &event_sample,
        event_days,
        &tenant,
        generation,
    )
    .await?;
    publish_table(
        &container,
        "attempts",
        &attempt_sample,
        attempt_days,
        &tenant,
        generation,
    )
    .await?;
    info!(
        "published tenant {tenant} to {} in {:.1}s",
        target.location.key(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A table's columns (no rows) and its files by day.
type ByDay = (DataFrame, Vec<DayFile>);

/// The events and attempts tables of the store, by day.
fn tables_by_day(
    dir: &Path,
    rules: &ChannelRules,
    settings: &ReportSettings,
) -> Result<(ByDay, ByDay), Error> {
    let source = Source::Store(dir.to_owned());
    let (mut tables, _) = load(&Load {
        source: &source,
        needs: Needs::Events,
        rules,
        window: &Window::default(),
        settings,
        rejects: None,
        strict: false,
    })?;
    let mut by_day = |name: &str, sql: &str, day_of: &str, id: &str| -> Result<ByDay, Error> {
        let prepared = |err: polars::error::PolarsError| {
            LakeError::Storage(format!("preparing the {name} table: {err}"))
        };
        let frame = delta_types(tables.query(name, sql)?).map_err(prepared)?;
        let files = day_files(&frame, day_of, id).map_err(prepared)?;
        Ok((frame.clear(), files))
    };
    Ok((
        by_day("events", "SELECT * FROM events", "time", "id")?,
        by_day(
            "attempts",
            &format!("SELECT {ATTEMPT_COLUMNS} FROM attempts"),
            "started",
            "attempt_id",
        )?,
    ))
}

//! `ssprlens reach`: Graph (devices, Intune devices, policies, statuses) → the judgement of each
//! Windows device → the `devices`, `summary` and `blockers` reports; with audit data (`--store`
//! or `--input`), the summary adds the weekly sign-in-screen resets beside the ready devices.
//! Every warning the reading or the judgement raises is logged once.

use std::path::{Path, PathBuf};

use polars::prelude::DataFrame;
use tracing::{info, warn};

use super::load::{Load, Needs, load};
use crate::cli::ReachReport;
use crate::config::{ReachConfig, Source};
use crate::error::Error;
use crate::fetcher::graph::auth::TokenSource;
use crate::fetcher::graph::pager::{Connection, Pager};
use crate::fetcher::graph::{Cancel, FetchError, http};
use crate::fetcher::intune::read_inventory;
use crate::reporter::ReportError;
use crate::reporter::export::{self, Format, Output};
use crate::reporter::reach::{ADOPTION_SQL, blockers_frame, devices_frame, summary_frame};
use crate::transformer::reach::{Assessment, assess};
use crate::transformer::rules::ChannelRules;
use crate::transformer::window::Window;

/// What the `blockers` report cannot show, under its table.
const INVISIBLE: &str = "Not visible in Graph, so not counted: Remote Desktop and Hyper-V enhanced sessions, third-party credential providers, 802.1x \"before logon\" networks, registry or Group Policy settings, endpoint-protection profiles.";

/// Reads the tenant and judges every Windows device at `config.now`.
pub async fn assess_tenant(config: &ReachConfig, cancel: Cancel) -> Result<Assessment, Error> {
    let connection = &config.connection;
    let client =
        http::client(connection.timeout, connection.ca_cert.as_deref()).map_err(Error::Usage)?;
    let tokens = TokenSource::new(connection.auth.clone(), client.clone())
        .map_err(|err| Error::Fetch(FetchError::Auth(err)))?;
    let mut pager = Pager::requests(Connection {
        graph_url: connection.graph_url.clone(),
        throttle: config.throttle,
        retry: connection.retry,
        http: client,
        tokens,
        cancel,
    });
    let read = read_inventory(&mut pager, config.page_size).await?;
    let stats = pager.stats();
    info!(
        "read {} devices, {} Intune devices, {} policies that matter with {} requests ({} throttled, {} retries)",
        read.inventory.devices.len(),
        read.inventory.managed.len(),
        read.inventory.policies.len(),
        stats.requests,
        stats.throttled,
        stats.retries
    );
    let assessment = assess(&read.inventory, config.now, config.active_days);
    for warning in read.warnings.iter().chain(&assessment.warnings) {
        warn!("{warning}");
    }
    if assessment.not_windows > 0 {
        info!(
            "{} devices are not Windows and are not counted ({} of them name no operating system)",
            assessment.not_windows, assessment.without_os
        );
    }
    Ok(assessment)
}

/// `ssprlens reach`.
pub async fn reach(config: &ReachConfig, cancel: Cancel) -> Result<(), Error> {
    let adoption = match &config.audit {
        Some(source) => Some(weekly_resets(source, config)?),
        None => None,
    };
    let assessment = assess_tenant(config, cancel).await?;
    match (config.all, config.out.as_deref()) {
        (true, Some(dir)) => {
            crate::fsio::create_private_dir_all(dir).map_err(|source| ReportError::Write {
                target: dir.display().to_string(),
                source,
            })?;
            let mut written: Vec<PathBuf> = Vec::new();
            for report in [
                ReachReport::Devices,
                ReachReport::Summary,
                ReachReport::Blockers,
            ] {
                let path = dir.join(format!("{}.{}", name(report), config.format.extension()));
                write(
                    &assessment,
                    adoption.as_ref(),
                    report,
                    config.format,
                    Some(&path),
                )?;
                written.push(path);
            }
            info!(
                "wrote {} reach reports into {}",
                written.len(),
                dir.display()
            );
        }
        (true, None) => return Err(Error::Usage("--all needs --out DIR".into())),
        (false, out) => write(
            &assessment,
            adoption.as_ref(),
            config.report,
            config.format,
            out,
        )?,
    }
    Ok(())
}

/// The name of a reach report (and of its file with `--all`).
pub fn name(report: ReachReport) -> &'static str {
    match report {
        ReachReport::Devices => "devices",
        ReachReport::Summary => "summary",
        ReachReport::Blockers => "blockers",
    }
}

/// Writes one reach report.
pub fn write(
    assessment: &Assessment,
    adoption: Option<&DataFrame>,
    report: ReachReport,
    format: Format,
    out: Option<&Path>,
) -> Result<(), Error> {
    let table = |source| ReportError::Table {
        table: name(report),
        source,
    };
    let frame = match report {
        ReachReport::Devices => devices_frame(assessment),
        ReachReport::Summary => summary_frame(assessment, adoption),
        ReachReport::Blockers => blockers_frame(assessment),
    }
    .map_err(table)?;
    let mut output = Output::new(frame);
    if report == ReachReport::Blockers {
        output.notes.push(INVISIBLE.to_owned());
    }
    export::write(&output, format, out)?;
    Ok(())
}

/// Completed sign-in-screen resets per week of the audit data, by the built-in channel rules.
fn weekly_resets(source: &Source, config: &ReachConfig) -> Result<DataFrame, Error> {
    let rules = ChannelRules::builtin();
    let (mut tables, _) = load(&Load {
        source,
        needs: Needs::Attempts,
        rules: &rules,
        window: &Window::default(),
        settings: &config.settings,
        rejects: None,
        strict: false,
    })?;
    Ok(tables.query("reach_adoption", ADOPTION_SQL)?)
}

//! `ssprlens demo`: the whole real path — token request, paging, throttling, retries, store,
//! reports — against the built-in Graph simulator on 127.0.0.1, seeded with the sample tenant
//! of `data/sample`; with `--source log-analytics`, against its Log Analytics workspace (day
//! windows, partial answers split, dynamic cells as text, throttling). Nothing leaves the
//! machine, and the output says the data is simulated.

use std::path::PathBuf;
use std::time::Duration;

use azure_core::credentials::Secret;
use tracing::info;

use super::fetch::{Progress, fetch};
use super::report::{read_store, tables, write_all_reports, write_report};
use crate::cli::FetchSource;
use crate::config::{FetchConfig, Query, ReportSettings, Window, Workspace};
use crate::error::Error;
use crate::fetcher::graph::Cancel;
use crate::fetcher::graph::auth::{AuthConfig, AuthMethod};
use crate::fetcher::graph::http::endpoint;
use crate::fetcher::graph::retry::RetryPolicy;
use crate::fetcher::graph::throttle::RateLimit;
use crate::fetcher::log_analytics::logs_scope;
use crate::reporter::export::Format;
use crate::reporter::queries;
use crate::simulator::{Fault, Simulator, SimulatorConfig, Throttle, WorkspaceConfig};
use crate::transformer::rules::ChannelRules;

/// The sample tenant, as NDJSON, built into the binary.
const SAMPLE: &str = include_str!("../../data/sample/audit.ndjson");

/// The demo's throttle: Graph's 5 requests per 10 seconds, ten times faster to keep it short.
const DEMO_THROTTLE: RateLimit = RateLimit {
    requests: 5,
    window: Duration::from_secs(1),
};

/// The sample tenant's records as Graph serves them: top-level keys in Graph's spelling (the
/// sample capitalises some, as Log Analytics exports do).
pub fn sample_records() -> Vec<serde_json::Value> {
    SAMPLE
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .map(graph_spelling)
        .collect()
}

fn graph_spelling(record: serde_json::Value) -> serde_json::Value {
    match record {
        serde_json::Value::Object(fields) => fields
            .into_iter()
            .map(|(key, value)| {
                let mut chars = key.chars();
                let key = match chars.next() {
                    Some(first) => first.to_lowercase().chain(chars).collect(),
                    None => key,
                };
                (key, value)
            })
            .collect(),
        other => other,
    }
}

/// The demo's workspace: rows beyond this many per answer make it partial, so windows split.
const DEMO_ROW_LIMIT: usize = 100;

/// Where the demo keeps its store and writes its reports, and what it fetches from.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// `None`: a temporary directory, removed afterwards.
    pub store: Option<PathBuf>,
    pub out: Option<PathBuf>,
    pub source: FetchSource,
}

pub async fn demo(config: &DemoConfig, cancel: Cancel, progress: &Progress) -> Result<(), Error> {
    let simulated = SimulatorConfig {
        records: sample_records(),
        throttle: Some(Throttle {
            requests: DEMO_THROTTLE.requests,
            window: DEMO_THROTTLE.window,
        }),
        fault_rate: 0.1,
        faults: vec![
            Fault::Status503 { retry_after: true },
            Fault::Status500,
            Fault::TruncatedBody,
        ],
        seed: 7,
        token_lifetime: Duration::from_secs(120),
        workspace: WorkspaceConfig {
            row_limit: DEMO_ROW_LIMIT,
            ..WorkspaceConfig::default()
        },
        ..SimulatorConfig::default()
    };
    let workspace_id = simulated.workspace.id.clone();
    let log_analytics = config.source == FetchSource::LogAnalytics;
    let (tenant, client, secret) = (
        simulated.tenant_id.clone(),
        simulated.client_id.clone(),
        simulated.client_secret.clone(),
    );
    let simulator = Simulator::start(simulated).await.map_err(|err| {
        Error::Usage(format!(
            "cannot start the Graph simulator on 127.0.0.1: {err}"
        ))
    })?;
    if log_analytics {
        println!(
            "SIMULATED DATA: a built-in Log Analytics simulator on {} serves the synthetic sample tenant of \
             data/sample as AuditLogs rows (at most {DEMO_ROW_LIMIT} rows an answer, throttled to 5 requests \
             per second). No tenant is contacted.",
            simulator.url()
        );
    } else {
        println!(
            "SIMULATED DATA: a built-in Graph simulator on {} serves the synthetic sample tenant of data/sample \
             (throttled to 5 requests per second, 10% injected faults). No tenant is contacted.",
            simulator.url()
        );
    }
    let temporary = match &config.store {
        Some(_) => None,
        None => Some(
            tempfile::tempdir()
                .map_err(|err| Error::Usage(format!("cannot make a temporary store: {err}")))?,
        ),
    };
    let store = config.store.clone().unwrap_or_else(|| {
        temporary
            .as_ref()
            .map(|dir| dir.path().to_path_buf())
            .unwrap_or_default()
    });
    let url = endpoint(&simulator.url(), "the simulator").map_err(Error::Usage)?;
    let fetch_config = FetchConfig {
        store: store.clone(),
        graph_url: url.clone(),
        auth: AuthConfig {
            method: AuthMethod::ClientSecret(Secret::new(secret)),
            tenant_id: Some(tenant),
            client_id: Some(client),
            authority: url.clone(),
            scope: if log_analytics {
                logs_scope(&url)
            } else {
                "https://graph.microsoft.com/.default".to_owned()
            },
        },
        service: "Self-service Password Management".to_owned(),
        since: Some("2026-08-01T00:00:00Z".parse().expect("a valid time")),
        until: "2026-12-01T00:00:00Z".parse().expect("a valid time"),
        overlap: chrono::Duration::hours(1),
        page_size: 100,
        throttle: DEMO_THROTTLE,
        retry: RetryPolicy::default(),
        timeout: Duration::from_secs(30),
        ca_cert: None,
        rejects: None,
        log_analytics: log_analytics.then(|| Workspace {
            id: workspace_id,
            logs_url: url,
        }),
        print_query: false,
    };
    let outcome = fetch(&fetch_config, cancel, progress).await;
    let stats = simulator.stats();
    simulator.shutdown().await;
    let outcome = outcome?;
    if log_analytics {
        println!(
            "Fetched {} windows ({} split after a partial answer; {} records, {} new) with {} queries: {} throttled (429), {} tokens issued.",
            outcome.stats.pages,
            outcome.stats.splits,
            outcome.stats.records,
            outcome.stored,
            stats.queries,
            stats.throttled,
            stats.tokens_issued
        );
    } else {
        println!(
            "Fetched {} pages ({} records, {} new) with {} requests: {} throttled (429), {} faults retried, {} tokens issued.",
            outcome.stats.pages,
            outcome.stats.records,
            outcome.stored,
            stats.requests,
            stats.throttled,
            stats.faults_injected,
            stats.tokens_issued
        );
    }
    let rules = ChannelRules::builtin();
    let settings = ReportSettings::default();
    let mut tables = tables(
        read_store(&store, &Window::default())?,
        &rules,
        &Window::default(),
        &settings,
    )?;
    let channels = queries::find("channels").expect("the channels report is built in");
    let query = Query::builtin(channels, &settings.params);
    write_report(&mut tables, &query, Format::Table, None)?;
    if let Some(out) = &config.out {
        let written = write_all_reports(&mut tables, out, Format::Csv, &settings.params)?;
        info!("wrote {} reports into {}", written.len(), out.display());
    }
    match &config.store {
        Some(dir) => println!(
            "The store is in {}: try `ssprlens report --store {} --report client_types`.",
            dir.display(),
            dir.display()
        ),
        None => println!(
            "Next: `ssprlens report --input data/sample/audit.ndjson --report client_types`, or `ssprlens fetch` against your tenant."
        ),
    }
    Ok(())
}

//! `ssprlens demo`: the whole real path — token request, paging, throttling, retries, store,
//! reports — against the built-in Graph simulator on 127.0.0.1, seeded with the sample tenant
//! of `data/sample` and a simulated Intune fleet, whose reach is shown beside the channels.
//! Nothing leaves the machine, and the output says the data is simulated.

use std::path::PathBuf;
use std::time::Duration;

use azure_core::credentials::Secret;
use tracing::info;

use super::fetch::{Progress, fetch};
use super::reach;
use super::report::{read_store, tables, write_all_reports, write_report};
use crate::cli::ReachReport;
use crate::config::{Connection, FetchConfig, Query, ReachConfig, ReportSettings, Source, Window};
use crate::error::Error;
use crate::fetcher::graph::Cancel;
use crate::fetcher::graph::auth::{AuthConfig, AuthMethod};
use crate::fetcher::graph::http::endpoint;
use crate::fetcher::graph::retry::RetryPolicy;
use crate::fetcher::graph::throttle::RateLimit;
use crate::reporter::export::Format;
use crate::reporter::queries;
use crate::reporter::reach::ADOPTION_SQL;
use crate::simulator::{Fault, Fleet, Simulator, SimulatorConfig, Throttle};
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

/// Where the demo keeps its store and writes its reports.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// `None`: a temporary directory, removed afterwards.
    pub store: Option<PathBuf>,
    pub out: Option<PathBuf>,
}

pub async fn demo(config: &DemoConfig, cancel: Cancel, progress: &Progress) -> Result<(), Error> {
    let now = chrono::Utc::now();
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
        fleet: Some(Fleet::sample(now)),
        ..SimulatorConfig::default()
    };
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
    println!(
        "SIMULATED DATA: a built-in Graph simulator on {} serves the synthetic sample tenant of data/sample \
         (throttled to 5 requests per second, 10% injected faults). No tenant is contacted.",
        simulator.url()
    );
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
    let connection = Connection {
        graph_url: url.clone(),
        auth: AuthConfig {
            method: AuthMethod::ClientSecret(Secret::new(secret)),
            tenant_id: Some(tenant),
            client_id: Some(client),
            authority: url,
            scope: "https://graph.microsoft.com/.default".to_owned(),
        },
        retry: RetryPolicy::default(),
        timeout: Duration::from_secs(30),
        ca_cert: None,
    };
    let fetch_config = FetchConfig {
        store: store.clone(),
        graph_url: connection.graph_url.clone(),
        auth: connection.auth.clone(),
        service: "Self-service Password Management".to_owned(),
        since: Some("2026-08-01T00:00:00Z".parse().expect("a valid time")),
        until: "2026-12-01T00:00:00Z".parse().expect("a valid time"),
        overlap: chrono::Duration::hours(1),
        page_size: 100,
        throttle: DEMO_THROTTLE,
        retry: connection.retry,
        timeout: connection.timeout,
        ca_cert: None,
        rejects: None,
    };
    let outcome = fetch(&fetch_config, cancel.clone(), progress).await;
    let stats = simulator.stats();
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(err) => {
            simulator.shutdown().await;
            return Err(err);
        }
    };
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
    let reach_config = ReachConfig {
        connection,
        throttle: DEMO_THROTTLE,
        page_size: 10,
        report: ReachReport::Summary,
        all: false,
        format: Format::Table,
        out: None,
        active_days: 30,
        audit: Some(Source::Store(store.clone())),
        settings: ReportSettings::default(),
        now,
    };
    let assessment = reach::assess_tenant(&reach_config, cancel).await;
    simulator.shutdown().await;
    let assessment = assessment?;
    println!(
        "The simulated fleet's reach (Windows devices that can show \"Reset password\" on the sign-in screen), beside the weekly sign-in-screen resets:"
    );
    let adoption = tables.query("reach_adoption", ADOPTION_SQL)?;
    reach::write(
        &assessment,
        Some(&adoption),
        ReachReport::Summary,
        Format::Table,
        None,
    )?;
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
